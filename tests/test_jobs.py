"""The one Job base: a conditional start, progress that only moves forward, a failure the user reads."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from liaison.jobs import Job, JobStatus, job_fail, job_progress, job_start, job_succeed
from members import services as member_services
from members.models import ImportJob
from pairings import matching
from pairings import services as pairing_services
from pairings.models import MatchingRun
from reports import services as report_services
from reports.models import EvaluationRun, ExportJob
from tests.conftest import open_term


def _export(world, term) -> ExportJob:
    return ExportJob.objects.create(
        user=world.secretary_a.user, term=term, organisation=world.branch_a, kind="visits", rows_total=10
    )


@pytest.mark.django_db
def test_only_one_of_two_starts_wins(world, term):
    job = _export(world, term)
    first, second = ExportJob.objects.get(pk=job.pk), ExportJob.objects.get(pk=job.pk)
    assert (first.status, second.status) == (JobStatus.QUEUED, JobStatus.QUEUED)

    assert job_start(first) is True
    assert job_start(second) is False
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.started_at is not None
    assert second.status == JobStatus.QUEUED  # the loser's copy was not told it runs


@pytest.mark.django_db
def test_progress_never_goes_backwards_nor_above_100(world, term):
    job = _export(world, term)
    job_start(job)
    job_progress(job, 40)
    job_progress(job, 30)
    job.refresh_from_db()
    assert job.progress == 40
    job_progress(job, 250)
    job.refresh_from_db()
    assert job.progress == 100
    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.filter(pk=job.pk).update(progress=101)


@pytest.mark.django_db
def test_a_finished_job_stays_finished(world, term):
    job = _export(world, term)
    job_start(job)
    assert job_succeed(job) is True
    assert job_fail(job, "too late") is False
    job.refresh_from_db()
    assert (job.status, job.progress, job.message) == (JobStatus.SUCCEEDED, 100, "")
    assert job.is_finished and not job.is_running


@dataclass
class Kind:
    """How to make one kind of job fail for real, and where its status partial is."""

    name: str
    make: Callable[..., tuple[Job, Callable[[], object], str]]


def _import(world, term, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the parser broke")

    monkeypatch.setattr(member_services, "parse_roster", broken)
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.MEMBERS, filename="roster.xlsx", content=b"x", created_by=world.secretary_a.user
    )
    return job, lambda: member_services.import_job_run(job=job), reverse("members:import_detail", args=[job.pk])


def _matching(world, term, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the algorithm broke")

    monkeypatch.setattr(matching, "propose", broken)
    run = MatchingRun.objects.create(term=term, organisation=world.branch_a, created_by=world.secretary_a.user)
    return (
        run,
        lambda: pairing_services.matching_run_compute(run=run),
        reverse("pairings:matching_detail", args=[run.pk]),
    )


def _evaluation(world, term, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the evaluation broke")

    monkeypatch.setattr(report_services, "evaluate", broken)
    run = EvaluationRun.objects.create(term=term, organisation=world.branch_a, created_by=world.secretary_a.user)
    url = reverse("reports:evaluation_runs") + f"?term={term.pk}"
    return run, lambda: report_services.evaluation_run_compute(run=run), url


def _export_job(world, term, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the ledger broke")

    monkeypatch.setattr(report_services, "build_ledgers", broken)
    job = _export(world, term)
    return job, lambda: report_services.export_job_run(job=job), reverse("reports:export_job", args=[job.pk])


KINDS = [
    Kind("import", _import),
    Kind("matching", _matching),
    Kind("evaluation", _evaluation),
    Kind("export", _export_job),
]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_failed_job_shows_its_message_and_stops_polling(kind, client, world, term, monkeypatch):
    job, run, url = kind.make(world, term, monkeypatch)
    client.force_login(world.secretary_a.user)
    polling = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" in polling  # queued: the page waits

    with pytest.raises(RuntimeError):
        run()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert job.message
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert escape(job.message) in page
    assert 'data-testid="job-failed"' in page
    assert "hx-trigger" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_failure_is_told_in_the_language_of_the_page_that_asked(kind, world, term, monkeypatch):
    with translation.override("en"):  # asked for from the English page
        job, run, _url = kind.make(world, term, monkeypatch)
    assert job.language == "en"
    with translation.override("zh-hans"), pytest.raises(RuntimeError):  # the worker's own language
        run()
    job.refresh_from_db()
    with translation.override("en"):
        english = {str(message) for message in FAILURE_MESSAGES}
    assert job.message in english


FAILURE_MESSAGES = [
    member_services.IMPORT_FAILED,
    pairing_services.MATCHING_FAILED,
    report_services.EVALUATION_FAILED,
    report_services.EXPORT_FAILED,
]


@pytest.mark.django_db
def test_the_problems_of_a_roster_are_listed_in_the_language_of_the_uploader(world):
    with translation.override("en"):
        job = member_services.import_job_create(
            user=world.secretary_a.user, kind="members", filename="r.xlsx", content=b"not a workbook"
        )
    job.refresh_from_db()  # the small file ran at once, in the uploader's language
    assert job.status == JobStatus.FAILED
    with translation.override("zh-hans"):  # run again by a worker in Chinese: still English
        job.status, job.problems = JobStatus.QUEUED, []
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, content=b"not a workbook")
        member_services.import_job_run(job=job)
    job.refresh_from_db()
    problem = job.problems[0]["message"]
    assert problem.isascii() and problem, problem


@pytest.mark.django_db
def test_the_status_page_shows_progress_made_inside_an_uncommitted_transaction(client, world):
    """The roster import writes in one transaction; its progress is read from the shared cache."""
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.MEMBERS, filename="roster.xlsx", content=b"x", created_by=world.secretary_a.user
    )
    job_start(job)
    with transaction.atomic():
        job_progress(job, 55)
        # What another connection would read: the row as it was before this transaction.
        ImportJob.objects.filter(pk=job.pk).update(progress=10)
        client.force_login(world.secretary_a.user)
        page = client.get(reverse("members:import_detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert 'aria-valuenow="55"' in page.content.decode()
    job.refresh_from_db()
    job_succeed(job)
    assert job.live_progress == 100


# The data migrations: old statuses mapped onto the Job ones --------------------------------


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_maps_old_export_and_evaluation_statuses(world_committed):
    world = world_committed
    term = open_term(world)
    ids = {"user_id": world.secretary_a.user.pk, "term_id": term.pk, "organisation_id": world.branch_a.pk}
    try:
        old = _migrate([("reports", "0002_export_job")])
        Export = old.get_model("reports", "ExportJob")
        Evaluation = old.get_model("reports", "EvaluationRun")
        exports = {
            status: Export.objects.create(kind="visits", status=status, **ids).pk
            for status in ("running", "done", "failed")
        }
        evaluations = {
            status: Evaluation.objects.create(
                term_id=term.pk,
                organisation_id=world.branch_a.pk,
                created_by_id=world.secretary_a.user.pk,
                status=status,
            ).pk
            for status in ("running", "done", "failed")
        }
    finally:
        _migrate_to_latest()

    expected = {"running": ("running", 0), "done": ("succeeded", 100), "failed": ("failed", 0)}
    for model, rows in ((ExportJob, exports), (EvaluationRun, evaluations)):
        for old_status, pk in rows.items():
            job = model.objects.get(pk=pk)
            assert (job.status, job.progress) == expected[old_status], (model, old_status)


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_maps_old_matching_and_import_statuses(world_committed):
    world = world_committed
    term = open_term(world)
    user_id = world.secretary_a.user.pk
    try:
        old = _migrate(
            [
                ("members", "0004_historicalorganisation_public_board_enabled_and_more"),
                ("pairings", "0007_frequencyrule"),
            ]
        )
        Run = old.get_model("pairings", "MatchingRun")
        Import = old.get_model("members", "ImportJob")
        runs = {
            status: Run.objects.create(
                term_id=term.pk, organisation_id=world.branch_a.pk, created_by_id=user_id, status=status
            ).pk
            for status in ("running", "proposed", "accepted", "discarded", "failed")
        }
        imports = {
            status: Import.objects.create(
                kind="members", filename="r.xlsx", content=b"", created_by_id=user_id, status=status
            ).pk
            for status in ("pending", "running", "succeeded", "failed")
        }
    finally:
        _migrate_to_latest()

    expected_runs = {
        "running": ("running", ""),
        "proposed": ("succeeded", ""),
        "accepted": ("succeeded", "accepted"),
        "discarded": ("succeeded", "discarded"),
        "failed": ("failed", ""),
    }
    for old_status, pk in runs.items():
        run = MatchingRun.objects.get(pk=pk)
        assert (run.status, run.review) == expected_runs[old_status], old_status
    assert MatchingRun.objects.get(pk=runs["proposed"]).is_waiting_for_review
    expected_imports = {"pending": "queued", "running": "running", "succeeded": "succeeded", "failed": "failed"}
    for old_status, pk in imports.items():
        assert ImportJob.objects.get(pk=pk).status == expected_imports[old_status], old_status
