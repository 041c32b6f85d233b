from datetime import date, datetime, time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from liaison.demo.builder import demo_semester
from members.models import Contact, Member, Organisation, OrganisationKind
from pairings.models import QuotaStatus, Term
from reports.models import Evaluation
from visits.models import Visit
from visits.pledges.models import Pledge
from visits.requests.models import Request

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
    assert "admin and inspector set up two-factor authentication at their first login" in out
    members = Member.objects.count()
    call_command("seed_demo")
    assert "already" in capsys.readouterr().out
    assert Member.objects.count() == members


@pytest.mark.parametrize(
    ("today", "term_name"),
    [
        (date(2027, 9, 1), "2027—2028学年第一学期"),
        (date(2028, 1, 31), "2027—2028学年第一学期"),
        (date(2028, 2, 1), "2027—2028学年第二学期"),
        (date(2028, 7, 20), "2027—2028学年第二学期"),
    ],
)
def test_the_demo_term_is_the_semester_around_the_day_it_is_built(today, term_name):
    name, starts_on, ends_on = demo_semester(today)
    assert name == term_name
    assert starts_on <= today <= ends_on


def test_seed_demo_builds_on_the_first_day_of_a_term():
    today = date(2027, 9, 1)
    with time_machine.travel(datetime.combine(today, time(9), tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        call_command("seed_demo", stdout=StringIO())
    term = Term.objects.get(is_current=True)
    assert (term.starts_on, term.ends_on) == (today, date(2028, 1, 31))
    assert not Visit.objects.filter(happened_on__gt=today).exists()
    assert Visit.objects.filter(pairing__member__user__username="member").count() >= 3
