from celery import Task, shared_task

from liaison.jobs import JOB_TASK_OPTIONS, job_task_run

from . import services
from .models import EvaluationRun, ExportJob


@shared_task(**JOB_TASK_OPTIONS)
def evaluation_run_task(self: Task, run_id: int) -> str:
    run = EvaluationRun.objects.select_related("term__organisation", "organisation").get(pk=run_id)
    return job_task_run(self, run, lambda run: services.evaluation_run_compute(run=run))


@shared_task(**JOB_TASK_OPTIONS)
def export_job_task(self: Task, job_id: int) -> str:
    job = ExportJob.objects.select_related("user", "term", "organisation").get(pk=job_id)
    return job_task_run(self, job, lambda job: services.export_job_run(job=job))


@shared_task
def exports_clean_up_task() -> int:
    return services.exports_clean_up()
