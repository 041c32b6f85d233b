from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/reveal/", views.contact_reveal, name="contact_reveal"),
    path("roster/import/", views.roster_import, name="roster_import"),
    path("roster/import/<int:job_id>/", views.import_detail, name="import_detail"),
    path("roster/template/<str:kind>.xlsx", views.roster_template, name="roster_template"),
]
