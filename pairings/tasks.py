from celery import Task, shared_task

from liaison.jobs import JOB_TASK_OPTIONS, job_task_run
from members.models import Organisation

from . import services
from .models import MatchingRun, Term


@shared_task(acks_late=True)
def quota_compute_task(term_id: int, organisation_id: int) -> int:
    term = Term.objects.select_related("organisation").get(pk=term_id)
    organisation = Organisation.objects.get(pk=organisation_id)
    return services.quota_compute(term=term, organisation=organisation)


@shared_task(acks_late=True)
def quota_compute_current_terms_task() -> int:
    """Nightly: refresh the stored quota status of every current term."""
    total = 0
    for term in Term.objects.filter(is_current=True, closed_at__isnull=True).select_related("organisation"):
        total += services.quota_compute(term=term, organisation=term.organisation)
    return total


@shared_task(**JOB_TASK_OPTIONS)
def matching_run_task(self: Task, run_id: int) -> str:
    run = MatchingRun.objects.select_related("term__organisation", "organisation").get(pk=run_id)
    return job_task_run(self, run, lambda run: services.matching_run_compute(run=run))
