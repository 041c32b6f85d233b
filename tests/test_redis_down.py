"""Redis down: the pages degrade, they do not fail.

The cache is pointed at a Redis nobody listens on, at a server that accepts connections
and never answers, or at a `redis-server` the test starts itself and then kills — never
at the shared Redis of the machine, which other tests and sessions use.
"""

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from datetime import date

import pytest
import redis
import time_machine
from django.core.cache import cache
from django.urls import reverse

from liaison import cache as liaison_cache
from liaison import health
from liaison.celery import app as celery_app
from members.models import ImportJob, Member
from pairings import services as pairing_services
from reports import services as report_services
from reports.models import SurveyLink, SurveyResponse
from tests.conftest import IN_CI, open_term
from tests.members.test_worker import members_roster
from visits.models import Visit
from visits.requests.models import Request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_remembered_outage():
    """Each test meets Redis afresh: no outage remembered from the one before."""
    liaison_cache._down_until.clear()
    health._answers.clear()
    yield
    liaison_cache._down_until.clear()
    health._answers.clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def point_the_cache_at(settings, url: str) -> None:
    """The shared cache as production configures it (liaison.settings), on another Redis."""
    settings.CACHES = {"default": liaison_cache.redis_cache(url, socket_timeout=settings.CACHE_SOCKET_TIMEOUT)}


@pytest.fixture
def cache_down(settings):
    """The cache on a port where nothing listens: every connection is refused."""
    point_the_cache_at(settings, f"redis://127.0.0.1:{free_port()}/0")


@pytest.fixture
def own_redis(settings):
    """A `redis-server` of this test's own, the cache pointed at it; the test may kill it."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "needs redis-server on the PATH"
        if IN_CI:
            pytest.fail(message + " — CI=true, so this is a failure, not a skip", pytrace=False)
        pytest.skip(message)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    point_the_cache_at(settings, f"redis://127.0.0.1:{port}/0")
    yield process, client
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


@pytest.fixture
def term(world):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    return term


@pytest.fixture
def link(world, term):
    report_services.survey_links_create(term=term, organisation=world.branch_a, by=world.secretary_a.user)
    return SurveyLink.objects.get(contact=world.contact_a1)


def answer_the_survey(client, link) -> None:
    url = reverse("survey_answer", kwargs={"token": link.token})
    assert client.get(url).status_code == 200
    done = client.post(url, {"rating": "satisfied", "comment": "很耐心"})
    assert done.status_code == 200
    assert SurveyResponse.objects.filter(member=link.member, rating="satisfied").count() == 1
    link.refresh_from_db()
    assert link.answered


def log_a_visit(client, world) -> None:
    client.force_login(world.member_a1.user)
    response = client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]),
        {"happened_on": "2026-10-14", "mode": "talk", "discussed": "学习情况", "help_money": "300"},
    )
    assert response.status_code == 302
    visit = Visit.objects.get(pairing__contact=world.contact_a1)
    assert [item.amount for item in visit.help.all()] == [300]


# The cache itself -------------------------------------------------------------------------


def test_without_redis_the_cache_answers_as_an_empty_cache_and_logs_once(cache_down, caplog):
    with caplog.at_level(logging.WARNING, logger="liaison.cache"):
        assert cache.get("key", "default") == "default"
        cache.set("key", 1)
        assert cache.add("key", 1) is False
        with pytest.raises(ValueError):
            cache.incr("key")
        cache.delete("key")
        assert cache.get_many(["a", "b"]) == {}
    warnings = [record for record in caplog.records if record.name == "liaison.cache"]
    assert len(warnings) == 1  # once per outage, not once per call
    assert "unavailable" in warnings[0].getMessage()


def test_a_redis_that_never_answers_costs_the_short_timeout_then_nothing(settings):
    # A server that accepts connections and never replies: the worst case, a hung or half-dead Redis.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        point_the_cache_at(settings, f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        assert cache.get("key") is None
        first = time.monotonic() - started
        assert first < 10 * settings.CACHE_SOCKET_TIMEOUT  # not the client's default of seconds, or forever
        started = time.monotonic()
        for _ in range(20):
            assert cache.get("key") is None
        assert time.monotonic() - started < settings.CACHE_SOCKET_TIMEOUT  # left alone for a while
    finally:
        silent.close()


# The pages --------------------------------------------------------------------------------


def test_without_redis_the_survey_page_opens_and_counts_the_answer(client, world, link, cache_down, caplog):
    with caplog.at_level(logging.WARNING, logger="liaison.cache"):
        answer_the_survey(client, link)
    assert any("unavailable" in record.getMessage() for record in caplog.records)


@time_machine.travel(date(2026, 10, 15))
def test_without_redis_visits_requests_and_the_dashboard_work(client, world, term, cache_down):
    log_a_visit(client, world)
    response = client.post(
        reverse("requests:request_create"), {"contact": world.contact_a1.pk, "summary": "宿舍漏水", "details": ""}
    )
    assert response.status_code == 302
    assert Request.objects.filter(summary="宿舍漏水").count() == 1
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("reports:dashboard")).status_code == 200


def test_without_redis_an_inline_roster_import_works(client, world, cache_down):
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("members:roster_import"),
        {"kind": "members", "file": _xlsx(members_roster(5))},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.status, job.created_count) == (ImportJob.Status.SUCCEEDED, 5)
    assert Member.objects.filter(name__startswith="工人").count() == 5
    assert client.get(reverse("members:import_detail", args=[job.pk])).status_code == 200


def test_a_redis_stopped_mid_run_leaves_the_survey_at_200_and_a_visit_saved(client, world, term, link, own_redis):
    process, redis_client = own_redis
    survey = reverse("survey_answer", kwargs={"token": link.token})
    assert client.get(survey).status_code == 200
    assert redis_client.dbsize() > 0  # the rate limit counts in this Redis while it runs

    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    started = time.monotonic()
    answer_the_survey(client, link)
    assert time.monotonic() - started < 5  # no waiting on the dead server
    with time_machine.travel(date(2026, 10, 15)):
        log_a_visit(client, world)
        client.force_login(world.secretary_a.user)
        assert client.get(reverse("reports:dashboard")).status_code == 200


# Background work --------------------------------------------------------------------------


def test_pages_that_start_background_work_say_when_the_queue_cannot_be_reached(client, world, term):
    client.force_login(world.secretary_a.user)
    pages = [
        reverse("pairings:board"),
        reverse("reports:evaluation_list"),
        reverse("reports:export"),
        reverse("members:roster_import"),
    ]
    for page in pages:  # tasks run in-process (no broker): nothing to warn about
        assert 'data-testid="background-unavailable"' not in client.get(page).content.decode()
    assert health.background_available()

    eager, broker = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    # A broker nobody listens on.
    celery_app.conf.update(task_always_eager=False, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert not health.background_available()
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200
            assert 'data-testid="background-unavailable"' in response.content.decode(), page
    finally:
        celery_app.conf.update(task_always_eager=eager, broker_url=broker)


def _xlsx(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        "roster.xlsx", content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
