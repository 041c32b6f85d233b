from celery import shared_task

from . import services
from .models import EvaluationRun


@shared_task(acks_late=True)
def evaluation_run_task(run_id: int) -> int:
    run = EvaluationRun.objects.select_related("term__organisation", "organisation").get(pk=run_id)
    return services.evaluation_run_compute(run=run).members_evaluated
