import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liaison.settings")

app = Celery("liaison")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="liaison.jobs.reap")
def jobs_reap_task() -> int:
    """Every minute (beat): fail the jobs whose worker stopped, remove what killed runs left behind."""
    from liaison.jobs import jobs_reap

    return jobs_reap()
