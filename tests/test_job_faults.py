"""Faults tried on real processes: a worker killed mid-job, a database backend terminated mid-job,
a broker that is stopped or hangs. Every job ends; none stays "running" with its page polling.

The worker is held mid-job by a lock on a table it reads next (taken on a connection of the
test's own), so each fault lands at a known point and each test is bounded.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from celery import Celery
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from openpyxl import load_workbook

from liaison.celery import app as celery_app
from liaison.jobs import BACKGROUND_UNAVAILABLE, Job, JobStatus, job_enqueue, job_workdir_path, jobs_reap
from pairings import services as pairing_services
from pairings.models import MatchingRun
from pairings.tasks import matching_run_task
from reports import services as report_services
from reports.ledgers import LedgerKind, ledger_row_count
from reports.models import ExportJob
from reports.tasks import export_job_task
from tests.conftest import open_term, wait_for
from tests.reports.test_export import make_term

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def export_root(tmp_path, settings, monkeypatch):
    settings.EXPORT_ROOT = tmp_path / "exports"
    monkeypatch.setenv("EXPORT_ROOT", str(settings.EXPORT_ROOT))  # for the worker processes
    return settings.EXPORT_ROOT


@contextmanager
def table_locked(table: str) -> Iterator[int]:
    """Hold an exclusive lock on a table from a connection of the test's own; yields its backend pid."""
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    side.set_autocommit(False)
    try:
        with side.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {side.ops.quote_name(table)} IN ACCESS EXCLUSIVE MODE")
            cursor.execute("SELECT pg_backend_pid()")
            yield cursor.fetchone()[0]
        side.rollback()
    finally:
        side.close()


def backends_waiting_for_a_lock(*, besides: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND pid NOT IN (pg_backend_pid(), %s)",
            [besides],
        )
        return [pid for (pid,) in cursor.fetchall()]


def pack_rows(world, term) -> int:
    """Counted before a table is locked (the count reads every ledger's table)."""
    return ledger_row_count(user=world.secretary_a.user, term=term, organisation=world.branch_a, kind=LedgerKind.PACK)


def queue_export(world, term, total: int) -> ExportJob:
    """A review-pack export asked for in English, sent to the worker: the roster sheet first, then the visit logs."""
    with translation.override("en"):
        job = ExportJob.objects.create(
            user=world.secretary_a.user, term=term, organisation=world.branch_a, kind="pack", rows_total=total
        )
    job_enqueue(job, export_job_task)  # no transaction here: sent at once
    return job


def fresh(job: Job) -> Job:
    job.refresh_from_db()
    return job


def assert_the_page_says_it_failed(client, world, url: str, message: str) -> str:
    client.force_login(world.secretary_a.user)
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert escape(message) in page
    assert "hx-trigger" not in page  # the page stopped polling
    return page


@pytest.fixture
def no_unacked_messages():
    """A killed worker leaves its message "unacked" in Redis; remove it so no later worker restores it."""
    yield
    import redis

    redis.Redis.from_url(settings.REDIS_URL).delete("unacked", "unacked_index")


def test_a_worker_killed_mid_export_leaves_a_job_the_reaper_fails(
    client, world_committed, export_root, celery_worker, no_unacked_messages
):
    world = world_committed
    term = make_term(world)
    total = pack_rows(world, term)
    with table_locked("visits_visit") as holder:
        job = queue_export(world, term, total)
        wait_for(lambda: backends_waiting_for_a_lock(besides=holder), timeout=60, every=0.1)
        # Mid-job: claimed, the roster sheet written to the job's own directory, the visit logs next.
        assert (fresh(job).status, job.rows_written) == (JobStatus.RUNNING, 3)
        leftovers = list(job_workdir_path(job).iterdir())
        assert leftovers, "the worker writes its temporary files in the job's directory"
        os.kill(celery_worker.pid, signal.SIGKILL)
        celery_worker.wait(timeout=10)

    assert fresh(job).status == JobStatus.RUNNING  # nothing will end it but the reaper
    assert job.heartbeat_at is not None
    with time_machine.travel(job.heartbeat_at + timedelta(seconds=settings.JOB_STALE_SECONDS + 1), tick=False):
        assert jobs_reap() == 1
        page = assert_the_page_says_it_failed(
            client,
            world,
            reverse("reports:export_job", args=[job.pk]),
            "The background worker stopped before this job finished; run it again.",
        )
    assert fresh(job).status == JobStatus.FAILED
    assert 'data-testid="run-again"' in page
    assert not job_workdir_path(job).exists(), "the killed run's temporary files are removed"


def test_a_worker_process_killed_mid_export_is_delivered_again_and_completes_with_the_right_count(
    celery_workers, world_committed, export_root
):
    world = world_committed
    term = make_term(world)
    worker = celery_workers("--pool=prefork", "--concurrency=1", JOB_STALE_SECONDS="3", JOB_HEARTBEAT_SECONDS="1")
    total = pack_rows(world, term)
    with table_locked("visits_visit") as holder:
        job = queue_export(world, term, total)
        wait_for(lambda: backends_waiting_for_a_lock(besides=holder), timeout=60, every=0.1)
        assert (fresh(job).status, job.rows_written, job.attempts) == (JobStatus.RUNNING, 3, 1)
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        assert len(children) == 1
        os.kill(int(children[0]), signal.SIGKILL)  # the pool process running the task; the worker lives on

    # Put back in the queue (reject_on_worker_lost), taken again once the silent job may be claimed.
    wait_for(lambda: fresh(job).is_finished, timeout=60, every=0.2)
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert job.attempts == 2
    assert job.rows_written == job.rows_total  # counted from zero, not 3 + rows_total
    assert len(load_workbook(job.file.path).sheetnames) == 5  # the whole review pack
    assert not job_workdir_path(job).exists()


def test_a_database_backend_terminated_mid_export_fails_the_job_on_a_new_connection(
    client, world_committed, export_root, celery_worker
):
    world = world_committed
    term = make_term(world)
    total = pack_rows(world, term)
    with table_locked("visits_visit") as holder:
        job = queue_export(world, term, total)
        waiting = wait_for(lambda: backends_waiting_for_a_lock(besides=holder), timeout=60, every=0.1)
        with connection.cursor() as cursor:
            for pid in waiting:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    wait_for(lambda: fresh(job).is_finished, timeout=30, every=0.2)
    assert job.status == JobStatus.FAILED
    with translation.override("en"):
        message = str(report_services.EXPORT_FAILED)
    assert job.message == message
    assert_the_page_says_it_failed(client, world, reverse("reports:export_job", args=[job.pk]), message)
    assert not job_workdir_path(job).exists()
    assert celery_worker.poll() is None  # the worker lives on, and takes the next job
    again = queue_export(world, term, total)
    wait_for(lambda: fresh(again).is_finished, timeout=60, every=0.2)
    assert again.status == JobStatus.SUCCEEDED


def test_a_database_backend_terminated_mid_matching_fails_the_run_on_a_new_connection(
    client, world_committed, celery_worker
):
    world = world_committed
    term = open_term(world)
    with table_locked("pairings_quotastatus") as holder:
        with translation.override("en"):
            run = MatchingRun.objects.create(term=term, organisation=world.branch_a, created_by=world.secretary_a.user)
        job_enqueue(run, matching_run_task)
        waiting = wait_for(lambda: backends_waiting_for_a_lock(besides=holder), timeout=60, every=0.1)
        with connection.cursor() as cursor:
            for pid in waiting:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    wait_for(lambda: fresh(run).is_finished, timeout=30, every=0.2)
    assert run.status == JobStatus.FAILED
    with translation.override("en"):
        message = str(pairing_services.MATCHING_FAILED)
    assert run.message == message
    assert_the_page_says_it_failed(client, world, reverse("pairings:matching_detail", args=[run.pk]), message)


# A broker of the test's own -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis() -> Iterator[tuple[subprocess.Popen, str]]:
    """A redis-server of this test alone (never the shared one), and a Celery app whose broker it is."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_for(answers, timeout=20, every=0.1)
    app = Celery("liaison-own-redis")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=url, task_always_eager=False)
    app.set_current()
    try:
        yield process, url
    finally:
        celery_app.set_current()
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_starting_a_job_while_the_broker_is_stopped_or_hung_fails_it_fast_with_a_message(
    client, world, own_redis, django_capture_on_commit_callbacks, fault
):
    process, _url = own_redis
    if fault == "stopped":
        process.terminate()
        process.wait(timeout=10)
    else:
        process.send_signal(signal.SIGSTOP)  # accepts connections, answers nothing
    term = open_term(world)
    client.force_login(world.secretary_a.user)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pairings:matching_start"), {"term": term.pk, "organisation": world.branch_a.pk})
    elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert elapsed < 15, f"the request waited {elapsed:.1f} s for the broker"
    run = MatchingRun.objects.get()
    assert run.status == JobStatus.FAILED
    assert run.message == "Background work is unavailable at the moment; please try again later."
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert escape(str(BACKGROUND_UNAVAILABLE)) in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_inside_a_long_job_transaction_the_heartbeat_is_seen_at_once_and_the_row_is_never_locked(world_committed):
    from liaison.jobs import job_atomic, job_heartbeat, job_start
    from members.models import ImportJob, Member

    job = ImportJob.objects.create(
        kind=ImportJob.Kind.MEMBERS, filename="roster.xlsx", content=b"x", created_by=world_committed.secretary_a.user
    )
    assert job_start(job)
    outside = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with job_atomic(job):
            Member.objects.filter(pk=world_committed.member_a1.pk).update(name="改名")  # the job's own writes
            with time_machine.travel(timezone.now() + timedelta(seconds=100), tick=False):
                job_heartbeat(job, force=True)
                beat = timezone.now()
            with outside.cursor() as cursor:
                cursor.execute("SELECT heartbeat_at FROM members_importjob WHERE id = %s", [job.pk])
                assert cursor.fetchone()[0] == beat  # seen before the job's transaction commits
                cursor.execute("SET lock_timeout = '2s'")
                # What the reaper does: an UPDATE of the job's row, not blocked by the running job.
                cursor.execute("UPDATE members_importjob SET progress = progress WHERE id = %s", [job.pk])
    finally:
        outside.close()
    assert Member.objects.get(pk=world_committed.member_a1.pk).name == "改名"
