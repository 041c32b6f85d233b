"""The roster import through a real Celery worker process, on Redis and PostgreSQL."""

import io
import re

import pytest
from django.urls import reverse
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from members import services
from members.models import ImportJob, Member
from tests.conftest import wait_for
from tests.factories import make_id_number

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def members_roster(rows: int) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.append(["Name", "Gender", "Organisation code", "Category", "Membership status", "ID number", "Phone"])
    for index in range(rows):
        sheet.append(
            [f"工人{index}", "male", "A", "faculty", "full", make_id_number(90000 + index), f"1370000{index:04d}"]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_large_roster_is_imported_by_a_celery_worker(world_committed, celery_worker, settings):
    settings.ROSTER_IMPORT_INLINE_MAX_ROWS = 20
    job = services.import_job_create(
        user=world_committed.secretary_a.user, kind="members", filename="big.xlsx", content=members_roster(60)
    )
    # Queued, not run here: the web process returned at once.
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.QUEUED

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout=90)
    assert job.status == ImportJob.Status.SUCCEEDED, job.problems
    assert job.created_count == 60
    assert Member.objects.filter(name__startswith="工人", organisation=world_committed.branch_a).count() == 60


def test_the_progress_of_a_running_import_is_seen_before_it_commits(world_committed, celery_worker, settings, client):
    """The rows are written in one transaction; the status page still moves past 'parsed'."""
    settings.ROSTER_IMPORT_INLINE_MAX_ROWS = 20
    client.force_login(world_committed.secretary_a.user)
    job = services.import_job_create(
        user=world_committed.secretary_a.user, kind="members", filename="big.xlsx", content=members_roster(400)
    )
    url = reverse("members:import_detail", args=[job.pk])
    seen: set[int] = set()

    def finished():
        page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        found = re.search(r'aria-valuenow="(\d+)"', page)
        if found:
            seen.add(int(found.group(1)))
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout=120, every=0.05)
    assert job.status == ImportJob.Status.SUCCEEDED, job.problems
    assert any(10 < percent < 100 for percent in seen), sorted(seen)
