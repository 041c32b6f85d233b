from celery import shared_task

from .models import ImportJob
from .services import import_job_run


@shared_task(acks_late=True)
def import_roster_task(job_id: int) -> str:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    return import_job_run(job=job).status
