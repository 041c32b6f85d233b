import pytest
from django.core.management import call_command

from members.models import Contact, Member, Organisation, OrganisationKind
from pairings.models import QuotaStatus, Term
from reports.models import Evaluation
from visits.models import Pledge, Request, Visit

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_university_committee_once(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert Organisation.objects.filter(kind=OrganisationKind.GENERAL_BRANCH).count() == 2
    assert Organisation.objects.filter(kind=OrganisationKind.BRANCH).count() >= 6
    assert Member.objects.count() >= 60
    assert Contact.objects.count() >= 600
    assert Term.objects.get(is_current=True).pairings.exists()
    assert QuotaStatus.objects.exists()
    assert Visit.objects.exists() and Request.objects.exists() and Pledge.objects.exists()
    # The first evaluation has run, with survey answers behind it, so the dashboard has figures.
    assert Evaluation.objects.count() == Member.objects.count()
    assert Evaluation.objects.filter(satisfaction_rate__isnull=False).exists()
    assert len(set(Evaluation.objects.values_list("computed_grade", flat=True))) >= 3
    for login in ("admin", "secretary", "member", "inspector"):
        assert login in out
    members = Member.objects.count()
    call_command("seed_demo")
    assert "already" in capsys.readouterr().out
    assert Member.objects.count() == members
