"""The quota job and the matching job through a real Celery worker process, on Redis and PostgreSQL."""

import pytest

from pairings import services
from pairings.models import MatchingRun, QuotaStatus
from pairings.tasks import quota_compute_task
from tests.conftest import open_term, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_quota_and_matching_jobs_run_on_a_celery_worker(world_committed, celery_worker):
    world = world_committed
    term = open_term(world)
    quota_compute_task.delay(term.pk, world.committee.pk)
    wait_for(lambda: QuotaStatus.objects.filter(term=term).count() == 4 * 3, timeout=90)

    run = services.matching_run_create(term=term, organisation=world.branch_a, by=world.secretary_a.user)
    assert MatchingRun.objects.get(pk=run.pk).status == MatchingRun.Status.QUEUED

    def proposed():
        run.refresh_from_db()
        return run.status == MatchingRun.Status.SUCCEEDED

    wait_for(proposed, timeout=90)
    assert run.proposals.count() == 2
