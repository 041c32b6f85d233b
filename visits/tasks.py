import smtplib

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(
    acks_late=True,
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=60,
    retry_kwargs={"max_retries": 5},
)
def email_send_task(subject: str, message: str, recipients: list[str]) -> int:
    """One e-mail, after the change that caused it was committed; retried while the mail server is away."""
    return services.email_send(subject=subject, message=message, recipients=recipients)


@shared_task(acks_late=True)
def reminders_send_task() -> int:
    """Daily: in-app (and email) reminders to members whose contacts are overdue."""
    return services.reminders_send(today=timezone.localdate())
