from celery import shared_task

from . import services
from .models import EvaluationRun, ExportJob


@shared_task(acks_late=True)
def evaluation_run_task(run_id: int) -> int:
    run = EvaluationRun.objects.select_related("term__organisation", "organisation").get(pk=run_id)
    return services.evaluation_run_compute(run=run).members_evaluated


@shared_task(acks_late=True)
def export_job_task(job_id: int) -> str:
    job = ExportJob.objects.select_related("user", "term", "organisation").get(pk=job_id)
    return services.export_job_run(job=job).status


@shared_task
def exports_clean_up_task() -> int:
    return services.exports_clean_up()
