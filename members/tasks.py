from celery import Task, shared_task

from liaison.jobs import JOB_TASK_OPTIONS, job_task_run

from .models import ImportJob
from .services import import_job_run


@shared_task(**JOB_TASK_OPTIONS)
def import_roster_task(self: Task, job_id: int) -> str:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    return job_task_run(self, job, lambda job: import_job_run(job=job))
