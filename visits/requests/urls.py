from django.urls import path

from . import views as request_views

app_name = "requests"

urlpatterns = [
    path("requests/", request_views.request_ledger, name="request_ledger"),
    path("requests/new/", request_views.request_create, name="request_create"),
    path("requests/<int:request_id>/", request_views.request_detail, name="request_detail"),
    path("requests/<int:request_id>/move/", request_views.request_transition, name="request_transition"),
]
