"""Help given is money and goods: every change is kept (who, when, from, to), and mail waits for the commit."""

import smtplib
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from pairings import services as pairing_services
from tests.conftest import open_term
from visits import services
from visits.models import VisitHelp
from visits.services import HelpGiven, VisitData

pytestmark = pytest.mark.django_db


@pytest.fixture
def term(world):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    return term


def _data(*help_given: HelpGiven, **kwargs) -> VisitData:
    return VisitData(
        happened_on=date(2026, 10, 14), mode="home_visit", discussed="生活困难", help=list(help_given), **kwargs
    )


def _log(world, *help_given: HelpGiven, **kwargs):
    return services.visit_log(user=world.member_a1.user, contact=world.contact_a1, data=_data(*help_given, **kwargs))


def test_changing_the_aid_of_a_log_keeps_the_old_amount_in_its_history(client, world, term):
    visit = _log(world, HelpGiven("money", amount=Decimal("300")), HelpGiven("goods", "棉被", Decimal("80")))
    money = visit.help.get(kind="money")

    with time_machine.travel("2026-10-15 11:00 +0800"):
        services.visit_update(
            user=world.member_a1.user, visit=visit, data=_data(HelpGiven("money", amount=Decimal("2000")))
        )

    kept = visit.help.get(kind="money")
    assert kept.pk == money.pk and kept.amount == Decimal("2000")  # updated in place, not recreated
    assert not visit.help.filter(kind="goods").exists()
    amounts = [record.amount for record in VisitHelp.history.filter(id=money.pk).order_by("history_date")]
    assert amounts == [Decimal("300"), Decimal("2000")]

    client.force_login(world.secretary_a.user)
    page = client.get(reverse("visits:visit_detail", args=[visit.pk])).content.decode()
    table = page[page.index('data-testid="help-history"') :]
    assert "¥300.00" in table and "¥2000.00" in table
    assert "棉被 · ¥80.00" in table  # the goods, removed: their last value before "—"
    assert world.member_a1.user.get_username() in table or world.member_a1.user.get_full_name() in table


def test_an_edit_that_leaves_the_help_as_it_was_adds_no_version(world, term):
    visit = _log(world, HelpGiven("money", amount=Decimal("300")))
    services.visit_update(
        user=world.member_a1.user, visit=visit, data=_data(HelpGiven("money", amount=Decimal("300.00")))
    )
    assert VisitHelp.history.filter(visit_id=visit.pk).count() == 1


def test_the_help_history_is_for_staff_and_not_on_the_members_own_page(client, world, term):
    visit = _log(world, HelpGiven("money", amount=Decimal("300")))
    client.force_login(world.member_a1.user)
    page = client.get(reverse("visits:visit_detail", args=[visit.pk])).content.decode()
    assert 'data-testid="help-history"' not in page


def test_the_secretary_is_mailed_only_once_the_urgent_log_is_committed(
    world, term, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.secretary_a.user.email = "secretary@example.edu.cn"
    world.secretary_a.user.save()
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        _log(world, situation="security", situation_details="消防通道被堵")
        assert mail.outbox == []  # nothing leaves inside the member's transaction
    assert len(waiting) == 1 and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        _log(world, situation="security", situation_details="消防通道又被堵")
    assert [message.to for message in mail.outbox] == [["secretary@example.edu.cn"]]


class _BrokenMailServer:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")


def test_a_mail_server_that_fails_does_not_undo_the_members_log(
    world, term, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.visits.test_help_history._BrokenMailServer"
    world.secretary_a.user.email = "secretary@example.edu.cn"
    world.secretary_a.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        visit = _log(world, situation="security", situation_details="消防通道被堵")
    visit.refresh_from_db()
    assert visit.situation == "security"
    assert world.secretary_a.user.notifications.count() == 1  # the in-app notice stands
