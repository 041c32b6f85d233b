"""One base for every background job: its states, its progress, how it ends. No app is imported here.

A job is queued when asked for, running once a worker has claimed it (`job_start`, a
conditional UPDATE, so two workers never both run it), and ends succeeded or failed
(`job_succeed`, `job_fail`). Every write is an UPDATE of the job's own columns, never a
full save that could overwrite what another process wrote meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("job status", "Queued")
    RUNNING = "running", pgettext_lazy("job status", "Running")
    SUCCEEDED = "succeeded", pgettext_lazy("job status", "Succeeded")
    FAILED = "failed", pgettext_lazy("job status", "Failed")


UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


def current_language() -> str:
    """The language of the page the job was asked from (the default outside a request)."""
    return translation.get_language() or settings.LANGUAGE_CODE


class Job(models.Model):
    """The columns every background job has; each concrete job adds its own domain fields."""

    status = models.CharField(_("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    # What the user is told when the job failed, written in the job's language.
    message = models.TextField(_("message"), blank=True)
    # The worker writes messages, problems and files in the language of the page the job was asked from.
    language = models.CharField(_("language"), max_length=10, default=current_language)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="%(app_label)s_%(class)s_progress_max"),
        ]

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_running(self) -> bool:
        return self.status == JobStatus.RUNNING

    @property
    def is_unfinished(self) -> bool:
        """Queued or running: its status page keeps polling."""
        return self.status in UNFINISHED

    @property
    def live_progress(self) -> int:
        """How far the job has come, as its status page shows it.

        A job that writes in one transaction (the roster import) cannot show its progress
        through its own row until it commits, so `job_progress` also puts it in the shared
        cache, where the status page reads it while the job runs.
        """
        if not self.is_running:
            return self.progress
        try:
            seen = cache.get(_progress_key(self))
        except Exception:  # no cache (Redis down): the row's progress is still right, only later
            logger.warning("Job progress could not be read from the cache", exc_info=True)
            seen = None
        return max(self.progress, seen or 0)


JobT = TypeVar("JobT", bound=Job)


def _rows(job: Job) -> models.QuerySet[Any]:
    return type(job)._default_manager.filter(pk=job.pk)


def _progress_key(job: Job) -> str:
    return f"job-progress:{job._meta.label_lower}:{job.pk}"


PROGRESS_CACHE_SECONDS = 24 * 3600


@contextmanager
def job_language(job: Job) -> Iterator[None]:
    """Run (part of) a job in the language of the person who asked for it."""
    with translation.override(job.language or settings.LANGUAGE_CODE):
        yield


def job_start(job: Job) -> bool:
    """Queued → running, for one worker only: False when another one (or an earlier run) has it."""
    now = timezone.now()
    started = _rows(job).filter(status=JobStatus.QUEUED).update(status=JobStatus.RUNNING, started_at=now)
    if started:
        job.status, job.started_at = JobStatus.RUNNING, now
    return bool(started)


def job_progress(job: Job, percent: int) -> None:
    """Record how far a running job has come (0–100); progress never goes backwards."""
    percent = max(0, min(100, int(percent)))
    _rows(job).filter(status=JobStatus.RUNNING, progress__lt=percent).update(progress=percent)
    job.progress = max(job.progress, percent)
    try:  # seen by the status page even while the job's own writes are not committed
        cache.set(_progress_key(job), job.progress, PROGRESS_CACHE_SECONDS)
    except Exception:
        logger.warning("Job progress could not be written to the cache", exc_info=True)


def _finish(job: Job, status: str, message: str, also: tuple[str, ...]) -> bool:
    now = timezone.now()
    values: dict[str, Any] = {name: getattr(job, name) for name in also}
    values.update(status=status, message=message, finished_at=now)
    if status == JobStatus.SUCCEEDED:
        values["progress"] = 100
    finished = _rows(job).filter(status__in=UNFINISHED).update(**values)
    if finished:
        try:
            cache.delete(_progress_key(job))
        except Exception:
            logger.warning("Job progress could not be cleared from the cache", exc_info=True)
        job.status, job.message, job.finished_at = status, message, now
        job.progress = values.get("progress", job.progress)
    return bool(finished)


def job_succeed(job: Job, *also: str) -> bool:
    """Running → succeeded, writing the domain fields named in `also` from the instance."""
    return _finish(job, JobStatus.SUCCEEDED, "", also)


def job_fail(job: Job, message: str | Promise, *also: str) -> bool:
    """Queued or running → failed, with the message the user will read, in the job's language."""
    with job_language(job):
        text = str(message)
    return _finish(job, JobStatus.FAILED, text, also)
