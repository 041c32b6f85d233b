"""Visit and talk logs, the edit window, frequency rules and reminders."""

import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from members.models import ContactCategory, LeadershipRole
from pairings import services as pairing_services
from pairings.frequency import PairingFacts, Rule, Standing, pairing_status
from tests.conftest import open_term
from tests.factories import ContactFactory
from visits import services
from visits.models import Visit, VisitPhoto
from visits.notifications.models import Notification
from visits.services import VisitData

pytestmark = pytest.mark.django_db

TODAY = date(2026, 10, 15)


@pytest.fixture
def term(world):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    return term


def visit_form(**overrides):
    return {"happened_on": "2026-10-14", "mode": "talk", "discussed": "学习情况和生活困难", **overrides}


def log(world, term, happened_on=date(2026, 10, 14), **kwargs):
    return services.visit_log(
        user=world.member_a1.user,
        contact=world.contact_a1,
        data=VisitData(happened_on=happened_on, mode=kwargs.pop("mode", "talk"), discussed="谈心", **kwargs),
    )


@time_machine.travel(TODAY)
def test_member_logs_a_talk_from_the_contact_page_with_help_given(client, world, term):
    client.force_login(world.member_a1.user)
    page = client.get(reverse("members:contact_detail", args=[world.contact_a1.pk]))
    assert reverse("visits:visit_create", args=[world.contact_a1.pk]) in page.content.decode()
    response = client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]),
        visit_form(help_money="500", help_goods="冬衣两件", help_goods_value="300", help_policy="on"),
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.pairing.member, visit.mode, visit.created_by) == (world.member_a1, "talk", world.member_a1.user)
    help_given = {(item.kind, item.description, item.amount) for item in visit.help.all()}
    assert help_given == {("money", "", 500), ("goods", "冬衣两件", 300), ("policy", "", None)}


@time_machine.travel(TODAY)
def test_a_form_error_keeps_what_was_typed(client, world, term):
    client.force_login(world.member_a1.user)
    response = client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]),
        visit_form(discussed="已经写了很多内容", situation="security", situation_details=""),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "已经写了很多内容" in html
    assert not Visit.objects.exists()


@time_machine.travel(TODAY)
def test_a_visit_cannot_be_dated_in_the_future(client, world, term):
    client.force_login(world.member_a1.user)
    response = client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]), visit_form(happened_on="2026-10-16")
    )
    assert response.status_code == 200
    assert not Visit.objects.exists()


@time_machine.travel(TODAY)
def test_member_cannot_log_a_visit_for_a_contact_not_paired_with_them(client, world, term):
    client.force_login(world.member_a2.user)
    assert client.get(reverse("visits:visit_create", args=[world.contact_a1.pk])).status_code == 404
    client.force_login(world.secretary_a.user)  # sees the contact, is not paired with it
    response = client.post(reverse("visits:visit_create", args=[world.contact_a1.pk]), visit_form())
    assert response.status_code == 403
    assert not Visit.objects.exists()


@time_machine.travel(TODAY)
def test_member_cannot_read_or_change_another_members_log(client, world, term):
    visit = log(world, term)
    client.force_login(world.member_a2.user)
    assert client.get(reverse("visits:visit_detail", args=[visit.pk])).status_code == 404
    assert client.post(reverse("visits:visit_edit", args=[visit.pk]), visit_form()).status_code == 404
    client.force_login(world.secretary_b.user)
    assert client.get(reverse("visits:visit_detail", args=[visit.pk])).status_code == 404
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("visits:visit_detail", args=[visit.pk])).status_code == 200
    assert client.post(reverse("visits:visit_edit", args=[visit.pk]), visit_form()).status_code == 403


def test_the_author_may_edit_through_the_seventh_day_and_not_on_the_eighth(client, world, term):
    with time_machine.travel(date(2026, 10, 1)):
        visit = log(world, term, happened_on=date(2026, 10, 1))
    client.force_login(world.member_a1.user)
    with time_machine.travel(date(2026, 10, 8)):
        response = client.post(
            reverse("visits:visit_edit", args=[visit.pk]), visit_form(happened_on="2026-10-01", discussed="补充内容")
        )
        assert response.status_code == 302
    with time_machine.travel(date(2026, 10, 9)):
        response = client.post(
            reverse("visits:visit_edit", args=[visit.pk]), visit_form(happened_on="2026-10-01", discussed="再改")
        )
        assert response.status_code == 403
    visit.refresh_from_db()
    assert visit.discussed == "补充内容"
    assert [record.discussed for record in visit.history.order_by("history_date")] == ["谈心", "补充内容"]


@time_machine.travel(TODAY)
def test_a_log_of_a_closed_term_cannot_be_changed(client, world, term):
    visit = log(world, term)
    term.closed_at = timezone.now()
    term.save()
    client.force_login(world.member_a1.user)
    assert client.post(reverse("visits:visit_edit", args=[visit.pk]), visit_form(discussed="x")).status_code == 403


@time_machine.travel(TODAY)
def test_a_security_incident_notifies_the_branch_secretary_at_once(world, term):
    log(world, term, situation="security", situation_details="楼道消防通道被堵")
    notification = Notification.objects.get()
    assert notification.user == world.secretary_a.user
    assert notification.kind == Notification.Kind.URGENT_SITUATION
    log(world, term, situation="sentiment", situation_details="对食堂价格有意见")
    assert Notification.objects.count() == 1


def png(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


@time_machine.travel(TODAY)
def test_photos_must_be_images(client, world, term, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.member_a1.user)
    fake = SimpleUploadedFile("photo.png", b"not an image", content_type="image/png")
    response = client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]), {**visit_form(), "photos": [fake]}
    )
    assert response.status_code == 200
    assert not Visit.objects.exists()
    real = SimpleUploadedFile("photo.png", png(), content_type="image/png")
    response = client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]), {**visit_form(), "photos": [real]}
    )
    assert response.status_code == 302
    assert VisitPhoto.objects.count() == 1


@time_machine.travel(TODAY)
def test_photos_over_the_size_limit_are_refused(client, world, term, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.VISIT_PHOTO_MAX_BYTES = 100
    client.force_login(world.member_a1.user)
    big = SimpleUploadedFile("big.png", png((64, 64)), content_type="image/png")
    response = client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]), {**visit_form(), "photos": [big]}
    )
    assert response.status_code == 200
    assert not Visit.objects.exists()


# Frequency rules ---------------------------------------------------------------------------------

TERM_RULE = Rule("", None, "term", 3)
MONTHLY_ACTIVISTS = Rule("activist", None, "month", 1)


def facts(category="student", count=0, last=None, roles=frozenset(), talks=None):
    """`count` talks, all on the day `last`, unless the days are given."""
    talks = tuple(talks) if talks is not None else (last,) * count if last else ()
    return PairingFacts(1, category, roles, date(2026, 9, 1), date(2026, 9, 1), date(2027, 1, 20), talks)


def test_the_third_talk_meets_the_term_rule():
    today = date(2027, 1, 15)  # five days before the term ends
    two = pairing_status(facts(count=2, last=date(2026, 12, 1)), [TERM_RULE], today)
    three = pairing_status(facts(count=3, last=date(2026, 12, 1)), [TERM_RULE], today)
    assert (two.standing, two.due_on) == (Standing.DUE_SOON, date(2027, 1, 20))
    assert (three.standing, three.due_on, three.done, three.required) == (Standing.ON_TRACK, None, 3, 3)


def test_talks_are_paced_over_the_term():
    # 141 days, 3 talks: the first is due after 47 days, on 18 October.
    assert pairing_status(facts(), [TERM_RULE], date(2026, 10, 18)).standing == Standing.DUE_SOON
    assert pairing_status(facts(), [TERM_RULE], date(2026, 10, 19)).standing == Standing.OVERDUE


def test_an_activist_is_overdue_on_the_31st_day_after_the_last_talk():
    last = date(2026, 10, 1)
    rules = [TERM_RULE, MONTHLY_ACTIVISTS]
    on_30th = pairing_status(facts("activist", 3, last), rules, last + timedelta(days=30))
    on_31st = pairing_status(facts("activist", 3, last), rules, last + timedelta(days=31))
    assert on_30th.standing == Standing.DUE_SOON
    assert on_31st.standing == Standing.OVERDUE
    # A student contact has no monthly rule.
    assert pairing_status(facts("student", 3, last), rules, last + timedelta(days=31)).standing == Standing.ON_TRACK


def test_leaders_see_students_weekly():
    weekly = Rule("student", 7, "week", 1)
    last = date(2026, 10, 1)
    assert pairing_status(facts("student", 3, last, frozenset({7})), [weekly], date(2026, 10, 9)).standing == (
        Standing.OVERDUE
    )
    assert pairing_status(facts("student", 3, last, frozenset()), [weekly], date(2026, 10, 9)).standing == (
        Standing.ON_TRACK
    )


def test_due_page_lists_overdue_contacts_first(client, world, term):
    activist = ContactFactory.create(organisation=world.branch_a, category=ContactCategory.ACTIVIST, name="积极分子甲")
    with time_machine.travel(date(2026, 9, 1)):
        pairing_services.pairing_create(member=world.member_a1, contact=activist, term=term)
    with time_machine.travel(date(2026, 9, 2)):
        log(world, term, happened_on=date(2026, 9, 2))
    with time_machine.travel(date(2026, 10, 20)):
        client.force_login(world.member_a1.user)  # a session of that day: sessions last 8 hours
        response = client.get(reverse("visits:due"))
    rows = response.context["rows"]
    assert rows[0][0].contact.name == "积极分子甲"
    assert rows[0][1].standing == Standing.OVERDUE


def test_due_page_issues_a_constant_number_of_queries(client, world, term, django_assert_max_num_queries):
    with time_machine.travel(date(2026, 9, 1)):
        for _index in range(1000):
            contact = ContactFactory.create(organisation=world.branch_a)
            pairing_services.pairing_create(member=world.member_a1, contact=contact, term=term)
    client.force_login(world.member_a1.user)
    # session, user, scope x3, pairings, facts, visit days, roles, rules, leadership roles (default rule),
    # unread notifications, the second factor (liaison.security)
    with time_machine.travel(TODAY), django_assert_max_num_queries(13):
        response = client.get(reverse("visits:due"))
    assert len(response.context["rows"]) == 1001


def test_due_page_is_for_members(client, world, term):
    client.force_login(world.inspector)
    assert client.get(reverse("visits:due")).status_code == 403


def test_the_policy_can_replace_the_default_frequency_rules(world, term):
    from pairings.models import FrequencyRule
    from visits.selectors import rules_for_term

    assert {(rule.contact_category, rule.period, rule.minimum) for rule in rules_for_term(term)} == {
        ("", "term", 3),
        ("activist", "month", 1),
        ("student", "week", 1),
    }
    leader = LeadershipRole.objects.get(code="leading_cadre")
    assert [rule.member_role_id for rule in rules_for_term(term) if rule.period == "week"] == [leader.pk]
    FrequencyRule.objects.create(policy=term.policy, period="term", minimum=4)
    assert [(rule.period, rule.minimum) for rule in rules_for_term(term)] == [("term", 4)]


def test_daily_reminders_tell_members_falling_behind_once_a_day(world, term):
    with time_machine.travel(date(2026, 12, 20)):
        assert services.reminders_send(today=date(2026, 12, 20)) == 1
        assert services.reminders_send(today=date(2026, 12, 20)) == 0
    notification = Notification.objects.get()
    assert (notification.user, notification.kind) == (world.member_a1.user, Notification.Kind.FALLING_BEHIND)


@time_machine.travel(TODAY)
def test_a_talk_logged_with_a_request_puts_it_in_the_ledger(client, world, term):
    from visits.requests.models import Request

    client.force_login(world.member_a1.user)
    client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]),
        visit_form(views_and_requests="宿舍热水不稳定", request_summary="宿舍热水供应不稳定"),
    )
    request = Request.objects.get()
    assert (request.summary, request.source, request.contact, request.state) == (
        "宿舍热水供应不稳定",
        "visit",
        world.contact_a1,
        "received",
    )
    assert request.visit == Visit.objects.get()
    client.force_login(world.secretary_a.user)
    assert "宿舍热水供应不稳定" in client.get(reverse("requests:request_ledger")).content.decode()


@time_machine.travel(TODAY)
def test_inspector_reads_a_logs_history_in_the_admin_and_cannot_change_it(client, world, term):
    visit = log(world, term)
    client.force_login(world.inspector)
    history = client.get(reverse("admin:visits_visit_history", args=[visit.pk]))
    assert history.status_code == 200
    assert [record.discussed for record in history.context["page_obj"]] == ["谈心"]
    response = client.post(reverse("admin:visits_visit_change", args=[visit.pk]), {"discussed": "改"})
    assert response.status_code == 403
    client.force_login(world.secretary_b.user)
    assert client.get(reverse("admin:visits_visit_history", args=[visit.pk])).status_code in (403, 404)


@time_machine.travel(TODAY)
def test_the_log_visit_button_and_the_visit_form_agree_while_the_term_is_open(client, world, term):
    client.force_login(world.member_a1.user)
    page = client.get(reverse("members:contact_detail", args=[world.contact_a1.pk]))
    assert 'data-testid="log-visit"' in page.content.decode()
    assert client.get(reverse("visits:visit_create", args=[world.contact_a1.pk])).status_code == 200


@time_machine.travel(TODAY)
def test_after_the_term_closes_the_contact_page_offers_no_log_visit_and_the_form_is_refused(client, world, term):
    pairing_services.term_close(term=term)
    client.force_login(world.member_a1.user)
    page = client.get(reverse("members:contact_detail", args=[world.contact_a1.pk]))
    assert page.status_code == 200
    assert 'data-testid="log-visit"' not in page.content.decode()
    assert client.get(reverse("visits:visit_create", args=[world.contact_a1.pk])).status_code == 403
