from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True)
def requests_supervise_task() -> int:
    """Nightly: overdue requests are put under supervision (督办) and their owners told."""
    return services.requests_supervise_overdue(today=timezone.localdate())
