"""Jobs that end: the heartbeat and the reaper, claiming a silent job again, per-job temporary files,
"run again", and a broker that cannot take a job.

These run on SQLite with Celery eager; tests/test_job_faults.py does the same to real workers.
"""

import io
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from celery import Celery
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from openpyxl import Workbook

from liaison import jobs
from liaison.celery import app as celery_app
from liaison.jobs import (
    BACKGROUND_UNAVAILABLE,
    Job,
    JobLost,
    JobStatus,
    job_heartbeat,
    job_progress,
    job_reap_if_stale,
    job_start,
    job_succeed,
    job_workdir_path,
    jobs_reap,
)
from members.models import ImportJob
from pairings import matching
from pairings.models import MatchingRun
from reports import services as report_services
from reports.ledgers import LedgerKind
from reports.models import EvaluationRun, ExportJob
from reports.tasks import export_job_task
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@dataclass
class Kind:
    """One kind of job: how to make one, and the page that shows it."""

    name: str
    make: Callable[..., Job]
    page: Callable[[Job], str]


def _import(world, term) -> ImportJob:
    return ImportJob.objects.create(
        kind=ImportJob.Kind.MEMBERS, filename="roster.xlsx", content=b"personal data", created_by=world.secretary_a.user
    )


def _matching(world, term) -> MatchingRun:
    return MatchingRun.objects.create(term=term, organisation=world.branch_a, created_by=world.secretary_a.user)


def _evaluation(world, term) -> EvaluationRun:
    return EvaluationRun.objects.create(term=term, organisation=world.branch_a, created_by=world.secretary_a.user)


def _export(world, term) -> ExportJob:
    return ExportJob.objects.create(
        user=world.secretary_a.user, term=term, organisation=world.branch_a, kind="visits", rows_total=3
    )


KINDS = [
    Kind("import", _import, lambda job: reverse("members:import_detail", args=[job.pk])),
    Kind("matching", _matching, lambda job: reverse("pairings:matching_detail", args=[job.pk])),
    Kind("evaluation", _evaluation, lambda job: reverse("reports:evaluation_runs") + f"?term={job.term_id}"),  # type: ignore[attr-defined]
    Kind("export", _export, lambda job: reverse("reports:export_job", args=[job.pk])),
]


def later(seconds: float):
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False)


# The heartbeat and the reaper ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_running_job_whose_worker_stopped_is_failed_by_the_reaper_and_its_page_stops_polling(
    kind, client, world, term, settings
):
    with translation.override("en"):
        job = kind.make(world, term)
    assert job_start(job)
    client.force_login(world.secretary_a.user)
    assert "hx-trigger" in client.get(kind.page(job), HTTP_HX_REQUEST="true").content.decode()

    with later(settings.JOB_STALE_SECONDS - 1):
        assert jobs_reap() == 0  # still within the timeout
    with later(settings.JOB_STALE_SECONDS + 1):
        assert jobs_reap() == 1

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    with translation.override("en"):
        assert job.message == str(type(job).stopped_message)
    assert "run it again" in job.message or "upload the file again" in job.message
    page = client.get(kind.page(job), HTTP_HX_REQUEST="true").content.decode()
    assert escape(job.message) in page
    assert "hx-trigger" not in page
    assert 'data-testid="run-again"' in page


def test_a_job_that_keeps_beating_is_left_alone(world, term, settings):
    job = _export(world, term)
    job_start(job)
    for step in range(1, 6):  # well past the timeout in all, never silent for long
        with later(step * settings.JOB_STALE_SECONDS / 2):
            job_heartbeat(job, force=True)
            assert jobs_reap() == 0
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING


def test_progress_is_a_heartbeat(world, term, settings):
    job = _export(world, term)
    job_start(job)
    with later(settings.JOB_STALE_SECONDS - 1):
        job_progress(job, 10, rows_written=1)
    with later(settings.JOB_STALE_SECONDS + 1):
        assert jobs_reap() == 0
    job.refresh_from_db()
    assert (job.status, job.progress, job.rows_written) == (JobStatus.RUNNING, 10, 1)


def test_the_heartbeat_is_written_at_most_every_few_seconds_unless_forced(world, term, settings):
    job = _export(world, term)
    job_start(job)
    started = job.heartbeat_at
    with later(30):
        job_heartbeat(job)  # a beat within JOB_HEARTBEAT_SECONDS (of the worker's own clock) is not written
        job.refresh_from_db()
        assert job.heartbeat_at == started
        settings.JOB_HEARTBEAT_SECONDS = 0
        job_heartbeat(job)
        job.refresh_from_db()
        assert job.heartbeat_at == timezone.now()


def test_a_queued_job_no_worker_took_is_failed_after_the_longer_timeout(client, world, term, settings):
    job = _matching(world, term)
    with later(settings.JOB_STALE_SECONDS + 1):
        assert jobs_reap() == 0  # queued is not silent: the queue may be long
    with later(settings.JOB_QUEUED_MAX_SECONDS + 1):
        assert jobs_reap() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == str(jobs.NOT_TAKEN)


def test_reaping_an_import_deletes_the_uploaded_roster(world, term, settings):
    job = _import(world, term)
    job_start(job)
    with later(settings.JOB_STALE_SECONDS + 1):
        jobs_reap()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert bytes(job.content) == b""


def test_a_job_page_ends_a_silent_job_even_when_no_reaper_runs(client, world, term, settings):
    job = _export(world, term)
    job_start(job)
    client.force_login(world.secretary_a.user)
    with later(settings.JOB_STALE_SECONDS + 1):
        page = client.get(reverse("reports:export_job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in page and escape(str(jobs.WORKER_STOPPED)) in page
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


def test_the_reaper_is_on_the_beat_schedule(settings):
    schedules = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedules["liaison.jobs.reap"] <= 60
    assert "liaison.jobs.reap" in celery_app.tasks


# Claimed again after a worker was lost ---------------------------------------------------------


def test_a_run_delivered_again_claims_the_silent_job_and_counts_from_zero(world, term, settings):
    job = _export(world, term)
    first = ExportJob.objects.get(pk=job.pk)
    assert job_start(first)
    job_progress(first, 40, rows_written=11)  # then its worker was killed

    second = ExportJob.objects.get(pk=job.pk)
    assert not job_start(second)  # its heartbeat is fresh: the first run may still be working
    with later(settings.JOB_STALE_SECONDS + 1):
        assert job_start(second)
    job.refresh_from_db()
    assert (job.status, job.rows_written, job.progress, job.attempts) == (JobStatus.RUNNING, 0, 0, 2)

    # The first run, should it wake up, can write nothing more.
    with pytest.raises(JobLost):
        job_progress(first, 50, rows_written=12)
    assert job_succeed(first) is False
    job.refresh_from_db()
    assert (job.status, job.rows_written) == (JobStatus.RUNNING, 0)


def test_a_redelivered_export_finishes_with_the_right_count(world, term, settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path
    job = report_services.export_job_create(
        user=world.secretary_a.user,
        term=term,
        organisation=world.branch_a,
        kind=LedgerKind.ROSTER,
        full_personal_data=False,
    )  # not sent yet: the on-commit callback does not run in this test
    killed = ExportJob.objects.get(pk=job.pk)
    job_start(killed)
    job_progress(killed, 60, rows_written=job.rows_total + 7)

    with later(settings.JOB_STALE_SECONDS + 1):
        export_job_task.delay(job.pk)  # the same message, delivered again

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.rows_written == job.rows_total == 3
    assert job.attempts == 2


def test_a_silent_job_claimed_too_often_is_failed_instead_of_run_again(world, term, settings):
    job = _evaluation(world, term)
    job_start(job)
    EvaluationRun.objects.filter(pk=job.pk).update(attempts=settings.JOB_MAX_ATTEMPTS)
    with later(settings.JOB_STALE_SECONDS + 1):
        assert not job_start(EvaluationRun.objects.get(pk=job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == str(jobs.WORKER_STOPPED)


def test_a_finished_job_is_never_claimed_again(world, term, settings):
    job = _evaluation(world, term)
    job_start(job)
    job_succeed(job)
    with later(settings.JOB_QUEUED_MAX_SECONDS + settings.JOB_STALE_SECONDS):
        assert not job_start(EvaluationRun.objects.get(pk=job.pk))
        assert not job_reap_if_stale(job)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED


# Temporary files --------------------------------------------------------------------------------


def test_the_export_writes_in_a_directory_of_its_own_removed_when_it_succeeds_or_fails(
    world, term, settings, tmp_path, monkeypatch
):
    settings.EXPORT_ROOT = tmp_path / "exports"
    seen: list[Path] = []
    real = report_services.build_ledgers

    def watched(**kwargs):
        seen.append(Path(kwargs["path"]))
        return real(**kwargs)

    monkeypatch.setattr(report_services, "build_ledgers", watched)
    job = _export(world, term)
    report_services.export_job_run(job=job)
    assert job.status == JobStatus.SUCCEEDED
    assert seen[0].parent == job_workdir_path(job)
    assert seen[0].parent.parent == Path(settings.JOB_TEMP_ROOT)
    assert not seen[0].parent.exists()

    def broken(**kwargs):
        Path(kwargs["path"]).write_bytes(b"half a workbook")
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(report_services, "build_ledgers", broken)
    failing = _export(world, term)
    with pytest.raises(RuntimeError):
        report_services.export_job_run(job=failing)
    assert failing.status == JobStatus.FAILED
    assert not job_workdir_path(failing).exists()
    kept = sorted(path.name for path in Path(settings.EXPORT_ROOT).rglob("*.xlsx"))
    assert kept == [Path(job.file.name).name]  # the failed run kept no file


def test_the_reaper_removes_what_a_killed_run_left_and_keeps_what_a_running_job_uses(world, term, settings):
    killed, running = _export(world, term), _export(world, term)
    for job in (killed, running):
        job_start(job)
        job_workdir_path(job).mkdir(parents=True)
        (job_workdir_path(job) / "openpyxl.tmp").write_bytes(b"rows")
    with later(settings.JOB_STALE_SECONDS + 1):
        job_heartbeat(running, force=True)
        jobs_reap()
    assert not job_workdir_path(killed).exists()
    assert (job_workdir_path(running) / "openpyxl.tmp").exists()


def test_matching_and_evaluation_beat_during_their_long_phases(world, term):
    ticks: list[int] = []
    needs = [matching.MemberNeed(member, "0001", ("student", "person"), 2) for member in range(1, 30)]
    slots = [matching.ContactSlot(100 + contact, "0001", ("student", "person"), 1) for contact in range(40)]
    matching.propose(needs, slots, tick=lambda: ticks.append(1))
    assert len(ticks) >= 2  # each bucket and each round of the solver

    ticks.clear()
    report_services.evaluate(term=term, organisation=world.branch_a, tick=lambda: ticks.append(1))
    assert len(ticks) >= 3


# Run again ---------------------------------------------------------------------------------------


def _failed(kind: Kind, world, term) -> Job:
    job = kind.make(world, term)
    if isinstance(job, ExportJob):
        ExportJob.objects.filter(pk=job.pk).update(full_personal_data=True, kind="pack")
        job.refresh_from_db()
    job_start(job)
    jobs.job_fail(job, jobs.WORKER_STOPPED)
    return job


def test_a_failed_matching_is_run_again_as_a_new_run_for_the_same_subtree(
    client, world, term, django_capture_on_commit_callbacks
):
    failed = _failed(KINDS[1], world, term)
    client.force_login(world.secretary_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pairings:matching_repeat", args=[failed.pk]))
    again = MatchingRun.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("pairings:matching_detail", args=[again.pk])
    assert (again.term_id, again.organisation_id, again.created_by_id) == (
        term.pk,
        world.branch_a.pk,
        world.secretary_a.user.pk,
    )
    assert again.is_waiting_for_review  # it ran (eagerly here)
    failed.refresh_from_db()
    assert failed.status == JobStatus.FAILED  # the failed one stays on record


def test_a_failed_evaluation_is_run_again(client, world, term, django_capture_on_commit_callbacks):
    failed = _failed(KINDS[2], world, term)
    client.force_login(world.secretary_a.user)
    page = client.get(reverse("reports:evaluation_runs") + f"?term={term.pk}").content.decode()
    assert reverse("reports:evaluation_run_repeat", args=[failed.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:evaluation_run_repeat", args=[failed.pk]))
    assert response.status_code == 302
    again = EvaluationRun.objects.exclude(pk=failed.pk).get()
    assert (again.organisation_id, again.status, again.members_evaluated) == (world.branch_a.pk, "succeeded", 3)


def test_a_failed_export_is_asked_for_again_with_the_same_choices(
    client, world, term, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.EXPORT_ROOT = tmp_path
    failed = _failed(KINDS[3], world, term)
    client.force_login(world.secretary_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:export_job_repeat", args=[failed.pk]))
    again = ExportJob.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("reports:export_job", args=[again.pk])
    assert (again.user_id, again.term_id, again.organisation_id, again.kind, again.full_personal_data) == (
        world.secretary_a.user.pk,
        term.pk,
        world.branch_a.pk,
        "pack",
        True,
    )
    assert again.status == JobStatus.SUCCEEDED


def test_a_failed_import_asks_for_the_file_again(client, world, term):
    failed = _failed(KINDS[0], world, term)
    assert isinstance(failed, ImportJob)
    client.force_login(world.secretary_a.user)
    page = client.get(reverse("members:import_detail", args=[failed.pk])).content.decode()
    assert 'data-testid="run-again"' in page and reverse("members:roster_import") in page
    failed.refresh_from_db()
    assert bytes(failed.content) == b""  # nothing left to run again with: the upload was deleted


@pytest.mark.parametrize(
    ("url_name", "kind"), [("pairings:matching_repeat", KINDS[1]), ("reports:export_job_repeat", KINDS[3])]
)
def test_run_again_is_scoped_like_the_job(client, world, term, url_name, kind):
    failed = _failed(kind, world, term)
    for user in (world.secretary_b.user, world.member_a1.user, world.outsider):
        client.force_login(user)
        assert client.post(reverse(url_name, args=[failed.pk])).status_code in (403, 404)
    assert type(failed)._default_manager.count() == 1


def test_an_evaluation_of_another_branch_cannot_be_run_again(client, world, term):
    failed = _failed(KINDS[2], world, term)
    client.force_login(world.secretary_b.user)
    assert client.post(reverse("reports:evaluation_run_repeat", args=[failed.pk])).status_code in (403, 404)
    client.force_login(world.inspector)  # sees the run, manages nothing
    page = client.get(reverse("reports:evaluation_runs") + f"?term={term.pk}").content.decode()
    assert reverse("reports:evaluation_run_repeat", args=[failed.pk]) not in page
    assert client.post(reverse("reports:evaluation_run_repeat", args=[failed.pk])).status_code == 403
    assert EvaluationRun.objects.count() == 1


def test_only_a_failed_job_is_run_again(client, world, term):
    run = _matching(world, term)
    client.force_login(world.secretary_a.user)
    response = client.post(reverse("pairings:matching_repeat", args=[run.pk]), follow=True)
    assert response.status_code == 200
    assert "Only a failed matching can be run again." in response.content.decode()
    assert MatchingRun.objects.count() == 1


# A broker that cannot take the job ----------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free, and nothing listens on it once the probe is closed


@pytest.fixture
def broker_down():
    """Celery as in production (not eager), its broker a Redis that is not there."""
    app = Celery("liaison-broker-down")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=f"redis://127.0.0.1:{closed_port()}/0", task_always_eager=False)
    app.set_current()
    yield app
    celery_app.set_current()


def members_roster(rows: int) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Name", "Gender", "Organisation code", "Category", "Membership status", "ID number", "Phone"])
    for index in range(rows):
        sheet.append([f"工人{index}", "male", "A", "faculty", "full", make_id_number(95000 + index), ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _start_matching(client, world, term):
    return client.post(reverse("pairings:matching_start"), {"term": term.pk, "organisation": world.branch_a.pk})


def _start_evaluation(client, world, term):
    return client.post(reverse("reports:evaluation_run"), {"term": term.pk, "organisation": world.branch_a.pk})


def _start_export(client, world, term):
    return client.post(reverse("reports:export"), {"term": term.pk, "organisation": world.branch_a.pk, "kind": "pack"})


def _start_import(client, world, term):
    upload = SimpleUploadedFile("big.xlsx", members_roster(8))
    return client.post(reverse("members:roster_import"), {"kind": "members", "file": upload})


@pytest.mark.parametrize(
    ("start", "model"),
    [
        (_start_matching, MatchingRun),
        (_start_evaluation, EvaluationRun),
        (_start_export, ExportJob),
        (_start_import, ImportJob),
    ],
    ids=["matching", "evaluation", "export", "import"],
)
def test_a_job_the_broker_cannot_take_fails_with_a_message_on_a_normal_page(
    client, world, term, settings, broker_down, django_capture_on_commit_callbacks, start, model
):
    settings.EXPORT_INLINE_MAX_ROWS = 0
    settings.ROSTER_IMPORT_INLINE_MAX_ROWS = 2
    client.force_login(world.secretary_a.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, world, term)

    assert response.status_code == 302
    job = model.objects.get()
    assert job.status == JobStatus.FAILED  # no orphan left "queued"
    assert job.message == "Background work is unavailable at the moment; please try again later."
    if isinstance(job, ImportJob):
        assert bytes(job.content) == b""
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert escape(job.message) in page.content.decode()
    assert "hx-trigger" not in page.content.decode()


def test_recomputing_the_board_without_a_broker_says_so(client, world, term, broker_down):
    client.force_login(world.secretary_a.user)
    response = client.post(reverse("pairings:board_recompute"), {"term": term.pk}, follow=True)
    assert response.status_code == 200
    assert escape(str(BACKGROUND_UNAVAILABLE)) in response.content.decode()
