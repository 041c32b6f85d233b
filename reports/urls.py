from django.urls import path

from . import dashboard_urls, views

app_name = "reports"

urlpatterns = [
    path("evaluation/", views.evaluation_list, name="evaluation_list"),
    path("evaluation/runs/", views.evaluation_runs, name="evaluation_runs"),
    path("evaluation/run/", views.evaluation_run, name="evaluation_run"),
    path("evaluation/runs/<int:run_id>/again/", views.evaluation_run_repeat, name="evaluation_run_repeat"),
    path("evaluation/policy/", views.evaluation_policy, name="evaluation_policy"),
    path("evaluation/<int:evaluation_id>/", views.evaluation_detail, name="evaluation_detail"),
    path("terms/close/", views.term_close, name="term_close"),
    path("survey/", views.survey, name="survey"),
    path("survey/print/", views.survey_print, name="survey_print"),
    path("export/", views.export, name="export"),
    path("export/<int:job_id>/", views.export_job, name="export_job"),
    path("export/<int:job_id>/download/", views.export_download, name="export_download"),
    path("export/<int:job_id>/again/", views.export_job_repeat, name="export_job_repeat"),
    *dashboard_urls.urlpatterns,
]
