"""Ledger exports from the web: a small one downloads at once, a large one is a job with a download link."""

import io
import os
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from members.models import SensitiveAccess
from pairings import services as pairing_services
from reports import services
from reports.ledgers import LedgerKind
from reports.models import ExportJob
from tests.conftest import open_term, wait_for
from visits import services as visit_services
from visits.services import VisitData

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def export_root(tmp_path, settings, monkeypatch):
    settings.EXPORT_ROOT = tmp_path
    monkeypatch.setenv("EXPORT_ROOT", str(tmp_path))  # for a worker process
    return tmp_path


def make_term(world):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    with time_machine.travel(date(2026, 10, 15)):
        for day in range(3):
            visit_services.visit_log(
                user=world.member_a1.user,
                contact=world.contact_a1,
                data=VisitData(happened_on=date(2026, 10, 10 + day), mode="talk", discussed="谈心"),
            )
    return term


@pytest.fixture
def term(world):
    return make_term(world)


def post_export(client, term, organisation, kind="pack", **extra):
    return client.post(
        reverse("reports:export"), {"term": term.pk, "organisation": organisation.pk, "kind": kind, **extra}
    )


def test_a_small_export_downloads_at_once(client, world, term, export_root):
    client.force_login(world.secretary_a.user)

    response = post_export(client, term, world.branch_a)

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Roster and quotas", "Visit logs", "Requests", "Pledges", "Evaluation sheet"]
    assert workbook["Visit logs"].max_row == 4
    assert not ExportJob.objects.exists()


def test_full_phones_are_exported_only_when_asked_and_logged(client, world, term, export_root):
    client.force_login(world.secretary_a.user)

    response = post_export(client, term, world.branch_a, kind="visits", full_personal_data="on")

    sheet = load_workbook(io.BytesIO(response.content))["Visit logs"]
    assert sheet["F2"].value == "13812345678"
    assert SensitiveAccess.objects.filter(action="export", contact=world.contact_a1).count() == 1


def test_an_inspector_is_not_offered_full_phones(client, world, term, export_root):
    client.force_login(world.inspector)

    page = client.get(reverse("reports:export")).content.decode()
    response = post_export(client, term, world.committee, kind="visits", full_personal_data="on")

    assert "full_personal_data" not in page
    assert load_workbook(io.BytesIO(response.content))["Visit logs"]["F2"].value == "138****5678"


def test_a_large_export_becomes_a_job_with_progress_and_a_download_link(
    client, settings, world, term, export_root, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_MAX_ROWS = 2
    client.force_login(world.secretary_a.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_export(client, term, world.branch_a, kind="visits")

    job = ExportJob.objects.get()
    assert job.language == "en"
    assert response.url == reverse("reports:export_job", args=[job.pk])
    assert (job.status, job.rows_total, job.rows_written) == ("succeeded", 3, 3)
    page = client.get(response.url).content.decode()
    assert reverse("reports:export_download", args=[job.pk]) in page
    download = client.get(reverse("reports:export_download", args=[job.pk]))
    assert download["Content-Type"] == XLSX
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook["Visit logs"].max_row == 4
    # Kept outside MEDIA_ROOT, under a random name.
    assert job.file.path.startswith(str(export_root))


def test_a_running_job_shows_its_progress(client, world, term, export_root):
    job = ExportJob.objects.create(
        user=world.secretary_a.user, term=term, organisation=world.branch_a, kind="visits", rows_total=400
    )
    ExportJob.objects.filter(pk=job.pk).update(rows_written=100)
    client.force_login(world.secretary_a.user)

    page = client.get(reverse("reports:export_job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()

    assert "25%" in page and 'hx-trigger="every 1s"' in page
    assert client.get(reverse("reports:export_download", args=[job.pk])).status_code == 404


def test_another_user_cannot_see_or_download_a_job(
    client, settings, world, term, export_root, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_MAX_ROWS = 0
    client.force_login(world.secretary_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        post_export(client, term, world.branch_a, kind="visits")
    job = ExportJob.objects.get()

    for user in (world.administrator, world.secretary_b.user, world.member_a1.user):
        client.force_login(user)
        assert client.get(reverse("reports:export_job", args=[job.pk])).status_code == 404
        assert client.get(reverse("reports:export_download", args=[job.pk])).status_code == 404


def test_a_secretary_cannot_export_another_branch(client, world, term, export_root):
    client.force_login(world.secretary_b.user)

    response = post_export(client, term, world.branch_a)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Select a valid choice" in response.content.decode()


def test_members_and_outsiders_cannot_export(client, world, term, export_root):
    for user in (world.member_a1.user, world.outsider):
        client.force_login(user)
        assert client.get(reverse("reports:export")).status_code == 403
        assert post_export(client, term, world.branch_a).status_code == 403


def test_old_exports_are_cleaned_up(world, term, export_root, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.export_job_create(
            user=world.secretary_a.user,
            term=term,
            organisation=world.branch_a,
            kind=LedgerKind.VISITS,
            full_personal_data=False,
        )
    job.refresh_from_db()
    path = job.file.path

    assert services.exports_clean_up(now=timezone.now() + timedelta(days=settings.EXPORT_KEEP_DAYS - 1)) == 0
    assert services.exports_clean_up(now=timezone.now() + timedelta(days=settings.EXPORT_KEEP_DAYS + 1)) == 1
    assert not ExportJob.objects.exists()
    assert not os.path.exists(path)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_large_export_runs_on_a_celery_worker(client, export_root, world_committed, celery_worker):
    world = world_committed
    term = make_term(world)

    with translation.override("zh-hans"):
        job = services.export_job_create(
            user=world.secretary_a.user,
            term=term,
            organisation=world.branch_a,
            kind=LedgerKind.PACK,
            full_personal_data=False,
        )

    def done():
        job.refresh_from_db()
        return job.status == ExportJob.Status.SUCCEEDED

    wait_for(done, timeout=90)
    # Written by the worker in the language the export was asked in.
    assert load_workbook(job.file.path).sheetnames[-1] == "考核评议表"
