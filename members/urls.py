from django.urls import path

from . import views

app_name = "members"

# The contact list and detail pages are in this namespace too (members:contact_list,
# members:contact_detail), but they read other apps: liaison/urls.py adds them from liaison/views.py.
urlpatterns = [
    path("contacts/<int:contact_id>/reveal/", views.contact_reveal, name="contact_reveal"),
    path("roster/import/", views.roster_import, name="roster_import"),
    path("roster/import/<int:job_id>/", views.import_detail, name="import_detail"),
    path("roster/template/<str:kind>.xlsx", views.roster_template, name="roster_template"),
]
