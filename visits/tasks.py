from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True)
def reminders_send_task() -> int:
    """Daily: in-app (and email) reminders to members whose contacts are overdue."""
    return services.reminders_send(today=timezone.localdate())
