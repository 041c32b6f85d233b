from django.urls import path

from . import views

app_name = "visits"

urlpatterns = [
    path("due/", views.due_this_week, name="due"),
    path("contacts/<int:contact_id>/log/", views.visit_create, name="visit_create"),
    path("logs/<int:visit_id>/", views.visit_detail, name="visit_detail"),
    path("logs/<int:visit_id>/edit/", views.visit_edit, name="visit_edit"),
    path("logs/<int:visit_id>/photos/<int:photo_id>/", views.visit_photo, name="visit_photo"),
]
