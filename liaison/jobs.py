"""One base for every background job: its states, its progress, how it ends. No app is imported here.

A job is queued when asked for, running once a worker has claimed it (`job_start`, a
conditional UPDATE, so two workers never both run it), and ends succeeded or failed
(`job_succeed`, `job_fail`). Every write is an UPDATE of the job's own columns, never a
full save that could overwrite what another process wrote meanwhile.

Every job ends, whatever happens to its worker:

- a running job writes `heartbeat_at` at least every JOB_HEARTBEAT_SECONDS (`job_progress`,
  `job_heartbeat`); one silent for JOB_STALE_SECONDS, and one still queued after
  JOB_QUEUED_MAX_SECONDS, is failed with a message by the reaper (`jobs_reap`, a beat task
  every minute, and `job_reap_if_stale` when its page is opened);
- a task delivered again after its worker was killed claims the silent job again from zero
  (`reset_on_claim`); each claim counts an attempt, and every write of a run is fenced by its
  attempt, so a run that was superseded or reaped changes nothing and stops (`JobLost`);
- a job's end is written on a fresh database connection when the job's own connection
  broke; what `cleared_on_end` names (an upload's personal data) is cleared however it ends;
- temporary files go to a directory of the job's own (`job_workdir`), removed on every exit,
  and by the reaper after a kill;
- a job the broker cannot take fails at once with a message (`job_enqueue`), never an orphan.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from celery import Task

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


# What the user reads when a job ended without its worker (in the job's language).
WORKER_STOPPED = _("The background worker stopped before this job finished; run it again.")
NOT_TAKEN = _("No background worker took this job in time; run it again.")
BACKGROUND_UNAVAILABLE = _("Background work is unavailable at the moment; please try again later.")

# The options of every job's Celery task: acknowledged only once it ends, and put back in the
# queue when its worker process dies (the heartbeat and the attempt count keep that safe).
JOB_TASK_OPTIONS: dict[str, Any] = {"bind": True, "acks_late": True, "reject_on_worker_lost": True, "max_retries": 3}


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
    # Written at least every JOB_HEARTBEAT_SECONDS while a worker runs the job.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    # How many times a worker claimed the job (more than one: a worker was lost and it was delivered again).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    # Domain fields set back when a worker claims the job (a run delivered again starts from zero).
    reset_on_claim: ClassVar[dict[str, Any]] = {}
    # Fields cleared however the job ends: succeeded, failed or reaped.
    cleared_on_end: ClassVar[dict[str, Any]] = {}
    # The messages of a job ended by the reaper.
    stopped_message: ClassVar[str | Promise] = WORKER_STOPPED
    not_taken_message: ClassVar[str | Promise] = NOT_TAKEN

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
    def is_failed(self) -> bool:
        return self.status == JobStatus.FAILED

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


class JobLost(Exception):
    """This run no longer holds its job: the reaper failed it, or a later delivery claimed it again."""


def _rows(job: Job) -> models.QuerySet[Any]:
    return type(job)._default_manager.filter(pk=job.pk)


def _own_rows(job: Job) -> models.QuerySet[Any]:
    """The job's row while this run holds it: running, and claimed by this very attempt."""
    return _rows(job).filter(status=JobStatus.RUNNING, attempts=job.attempts)


def _progress_key(job: Job) -> str:
    return f"job-progress:{job._meta.label_lower}:{job.pk}"


PROGRESS_CACHE_SECONDS = 24 * 3600


def job_models() -> list[type[Job]]:
    """Every concrete job model of the project."""
    return [model for model in apps.get_models() if issubclass(model, Job)]


@contextmanager
def job_language(job: Job) -> Iterator[None]:
    """Run (part of) a job in the language of the person who asked for it."""
    with translation.override(job.language or settings.LANGUAGE_CODE):
        yield


# Claiming ------------------------------------------------------------------------------------


def _stale_cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.JOB_STALE_SECONDS)


def _silent(cutoff: datetime) -> Q:
    """Running, without a heartbeat since `cutoff` (a job from before heartbeats: since it started)."""
    return Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=cutoff)
        | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True)
    )


def job_start(job: Job) -> bool:
    """Claim the job for this run: False when another run has it, or it has ended.

    A queued job is claimed; so is a running one whose heartbeat stopped (its worker was
    killed and the task was delivered again), from zero: progress and the fields named in
    `reset_on_claim` are set back, and the attempt is counted. A silent job that was already
    claimed JOB_MAX_ATTEMPTS times is failed instead (it may be what kills its workers).
    """
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | (_silent(_stale_cutoff(now)) & Q(attempts__lt=settings.JOB_MAX_ATTEMPTS))
    values = {
        **type(job).reset_on_claim,
        "status": JobStatus.RUNNING,
        "started_at": now,
        "heartbeat_at": now,
        "progress": 0,
        "attempts": F("attempts") + 1,
    }
    if not _rows(job).filter(claimable).update(**values):
        job_reap_if_stale(job, now=now)
        return False
    for name, value in type(job).reset_on_claim.items():
        setattr(job, name, value)
    job.status, job.started_at, job.heartbeat_at, job.progress = JobStatus.RUNNING, now, now, 0
    job.refresh_from_db(fields=["attempts"])
    job._last_beat = time.monotonic()  # type: ignore[attr-defined]
    _clear_cached_progress(job)
    return True


def job_retry_when_silent(task: Task, job: Job) -> None:
    """A job delivered again while it still looks alive: try again once its heartbeat would be stale.

    Its worker may have been killed a moment ago (the task was put back at once), or may still
    be working (delivered twice). Either way the task comes back when a silent job can be
    claimed again; after `max_retries` it gives up and leaves the job to its run or the reaper.
    """
    if job.status != JobStatus.RUNNING or task.request.is_eager:
        return
    last_sign = job.heartbeat_at or job.started_at
    if last_sign is None:
        return
    wait = (last_sign - _stale_cutoff(timezone.now())).total_seconds()
    if wait < 0:
        return  # already silent: job_start claims it again
    from celery.exceptions import MaxRetriesExceededError

    try:
        raise task.retry(countdown=wait + 1)
    except MaxRetriesExceededError:
        logger.warning("Job %s is still held by another run; leaving it to that run or the reaper", job)


def job_task_run(task: Task, job: JobT, run: Callable[[JobT], Job]) -> str:
    """The body of every job's task: `run` (the job's service) on the job, once it can be claimed.

    A delivery that finds its job still held by another run comes back later
    (`job_retry_when_silent`); a run that lost its job (reaped, or claimed again by a later
    delivery) stops quietly. Returns the job's status.
    """
    job_retry_when_silent(task, job)
    try:
        return run(job).status
    except JobLost:
        logger.warning("Job %s %s: this run lost the job and stopped", job._meta.label, job.pk, exc_info=True)
        return "lost"


# While it runs --------------------------------------------------------------------------------


def job_progress(job: Job, percent: int, **also: Any) -> None:
    """Record how far a running job has come (0–100; never backwards), and that it is alive.

    `also` names domain counters written with it (e.g. the export's `rows_written`). Raises
    JobLost when this run no longer holds the job.
    """
    percent = max(0, min(100, int(percent)))
    job.progress = max(job.progress, percent)
    for name, value in also.items():
        setattr(job, name, value)
    try:  # seen by the status page even while the job's own writes are not committed
        cache.set(_progress_key(job), job.progress, PROGRESS_CACHE_SECONDS)
    except Exception:
        logger.warning("Job progress could not be written to the cache", exc_info=True)
    if getattr(job, "_aside", False):
        job_heartbeat(job)  # inside the job's long transaction: at most every JOB_HEARTBEAT_SECONDS
    else:
        _beat(job, {"progress": Greatest(F("progress"), percent), **also})


def job_heartbeat(job: Job, *, force: bool = False) -> None:
    """Tell the reaper the job is alive; at most every JOB_HEARTBEAT_SECONDS unless forced.

    Cheap enough for every turn of a long loop. Raises JobLost when this run no longer holds the job.
    """
    last = getattr(job, "_last_beat", None)
    if not force and last is not None and time.monotonic() - last < settings.JOB_HEARTBEAT_SECONDS:
        return
    _beat(job, {"progress": Greatest(F("progress"), job.progress)})


def _beat(job: Job, values: dict[str, Any]) -> None:
    now = timezone.now()
    written = _beat_aside(job, now) if getattr(job, "_aside", False) else 0
    if not written:
        written = _own_rows(job).update(heartbeat_at=now, **values)
    if not written:
        raise JobLost(f"{job._meta.label} {job.pk} is no longer held by this run")
    job.heartbeat_at = now
    job._last_beat = time.monotonic()  # type: ignore[attr-defined]


@contextmanager
def job_atomic(job: Job) -> Iterator[None]:
    """One transaction for a job's writes, all or nothing, while the job still beats.

    Inside it, the heartbeat and the progress are written through a connection of their own
    (on PostgreSQL), so the reaper sees them at once and the job's row is never locked by the
    long transaction; nothing else may write the job's row until the block ends.
    """
    job._aside = True  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            yield
    finally:
        job._aside = False  # type: ignore[attr-defined]
        side = getattr(job, "_side", None)
        if side is not None:
            job._side = None  # type: ignore[attr-defined]
            try:
                side.close()
            except Exception:
                logger.warning("The heartbeat's own database connection could not be closed", exc_info=True)


def _beat_aside(job: Job, now: datetime) -> int:
    """The heartbeat written on a second connection, committed at once; 0 when not possible here.

    0 also when the row cannot be seen from outside (the job was created in the same
    transaction, e.g. an import run inside its request): the caller then writes it in the transaction.
    """
    if connection.vendor != "postgresql":
        return 0
    side = getattr(job, "_side", None)
    if side is None:
        side = job._side = connections.create_connection(DEFAULT_DB_ALIAS)  # type: ignore[attr-defined]
    table = side.ops.quote_name(job._meta.db_table)
    with side.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET heartbeat_at = %s, progress = GREATEST(progress, %s) "  # noqa: S608 (a model's own table)
            "WHERE id = %s AND status = %s AND attempts = %s",
            [now, job.progress, job.pk, JobStatus.RUNNING.value, job.attempts],
        )
        return cursor.rowcount


@contextmanager
def job_workdir(job: Job) -> Iterator[Path]:
    """A directory of the job's own for its temporary files, removed however the block ends.

    Whatever a killed run left there is removed first (and by the reaper). In a worker
    process, Python's temporary files (openpyxl's among them) go there too while the job runs:
    a worker process runs one task at a time.
    """
    path = job_workdir_path(job)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    in_worker = _in_worker_process()
    previous = tempfile.tempdir
    if in_worker:
        tempfile.tempdir = str(path)
    try:
        yield path
    finally:
        if in_worker:
            tempfile.tempdir = previous
        shutil.rmtree(path, ignore_errors=True)


def job_workdir_path(job: Job) -> Path:
    """Where the job's temporary files are while it runs."""
    return Path(settings.JOB_TEMP_ROOT) / f"{job._meta.label_lower}-{job.pk}"


def _in_worker_process() -> bool:
    from celery import current_task

    return bool(current_task) and not current_task.request.is_eager  # a proxy: false outside a task


def job_workdirs_sweep() -> int:
    """Remove the directories of jobs that are not running (left by a killed run); returns how many."""
    root = Path(settings.JOB_TEMP_ROOT)
    if not root.is_dir():
        return 0
    models_by_label = {model._meta.label_lower: model for model in job_models()}
    removed = 0
    for path in root.iterdir():
        label, _dash, pk = path.name.rpartition("-")
        model = models_by_label.get(label)
        if model is None or not pk.isdecimal() or not path.is_dir():
            continue
        if not model._default_manager.filter(pk=int(pk), status=JobStatus.RUNNING).exists():
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


# How it ends ---------------------------------------------------------------------------------


def _clear_cached_progress(job: Job) -> None:
    try:
        cache.delete(_progress_key(job))
    except Exception:
        logger.warning("Job progress could not be cleared from the cache", exc_info=True)


def _update_on_a_working_connection(queryset: models.QuerySet[Any], values: dict[str, Any]) -> int:
    """The UPDATE that ends a job; when the job's connection broke under it, again on a new one."""
    try:
        return queryset.update(**values)
    except DatabaseError:
        if connection.in_atomic_block:  # a transaction cannot move to another connection
            raise
        logger.warning("The database connection broke under a job; ending the job on a new one", exc_info=True)
        try:
            connection.close()
        except Exception:
            logger.warning("The broken database connection could not be closed", exc_info=True)
        return queryset.update(**values)  # Django connects again for this query


def _finish(job: Job, status: str, message: str, also: tuple[str, ...]) -> bool:
    now = timezone.now()
    cleared = type(job).cleared_on_end
    values: dict[str, Any] = {name: getattr(job, name) for name in also}
    values.update(cleared, status=status, message=message, finished_at=now)
    if status == JobStatus.SUCCEEDED:
        values["progress"] = 100
    # Fenced by the attempt: a run that was superseded or reaped cannot end the job.
    rows = _rows(job).filter(status__in=UNFINISHED, attempts=job.attempts)
    finished = _update_on_a_working_connection(rows, values)
    if finished:
        _clear_cached_progress(job)
        for name, value in cleared.items():
            setattr(job, name, value)
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


# The reaper ----------------------------------------------------------------------------------


def job_reap_if_stale(job: Job, *, now: datetime | None = None) -> bool:
    """Fail the job if its worker stopped beating, or no worker took it in time; True if it did.

    Called by the reaper for every such job, and by a job's page, so a job ends even when no
    worker (and so no reaper) runs.
    """
    now = now or timezone.now()
    model = type(job)
    for condition, message in (
        (_silent(_stale_cutoff(now)), model.stopped_message),
        (
            Q(status=JobStatus.QUEUED, created_at__lt=now - timedelta(seconds=settings.JOB_QUEUED_MAX_SECONDS)),
            model.not_taken_message,
        ),
    ):
        with job_language(job):
            text = str(message)
        values = {**model.cleared_on_end, "status": JobStatus.FAILED, "message": text, "finished_at": now}
        if _update_on_a_working_connection(_rows(job).filter(condition), values):
            logger.warning("Job %s %s ended by the reaper: %s", job._meta.label, job.pk, text)
            _clear_cached_progress(job)
            shutil.rmtree(job_workdir_path(job), ignore_errors=True)
            for name, value in values.items():
                setattr(job, name, value)
            return True
    return False


def jobs_reap(*, now: datetime | None = None) -> int:
    """Fail every job whose worker stopped beating or that no worker took; returns how many.

    Then remove what killed runs left in JOB_TEMP_ROOT. Run every minute by Celery beat.
    """
    now = now or timezone.now()
    queued_cutoff = now - timedelta(seconds=settings.JOB_QUEUED_MAX_SECONDS)
    reaped = 0
    for model in job_models():
        candidates = model._default_manager.filter(
            _silent(_stale_cutoff(now)) | Q(status=JobStatus.QUEUED, created_at__lt=queued_cutoff)
        ).only("pk", "status", "language", "attempts")
        reaped += sum(job_reap_if_stale(job, now=now) for job in candidates)
    job_workdirs_sweep()
    return reaped


# Handing a job to a worker -------------------------------------------------------------------


def task_send(task: Task, *args: Any) -> bool:
    """Hand a task to the broker; False (and logged) when the broker cannot take it.

    Fails within a few seconds when Redis is down or hangs (the broker's socket timeouts and
    publish retry policy, settings.py). Run eagerly (no broker configured), the task runs here
    and its own errors are raised as usual.
    """
    if task.app.conf.task_always_eager:
        task.apply_async(args)
        return True
    try:
        task.apply_async(args)
    except Exception:  # kombu.exceptions.OperationalError and the like: the broker is unreachable
        logger.exception("The broker refused the task %s%r", task.name, args)
        return False
    return True


def job_enqueue(job: Job, task: Task) -> None:
    """Send the job to a worker once the current transaction commits.

    If the broker cannot take it, the job is failed at once with a message saying background
    work is unavailable: never a 500, never a queued job no worker will see.
    """

    def send() -> None:
        if not task_send(task, job.pk):
            job_fail(job, BACKGROUND_UNAVAILABLE)

    transaction.on_commit(send)
