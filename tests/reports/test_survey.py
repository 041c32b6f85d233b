"""The public satisfaction survey: links, one answer each, expiry, rate limit, anonymity."""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from pairings import services as pairing_services
from reports import services
from reports.models import SurveyLink, SurveyResponse
from tests.conftest import open_term

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


@pytest.fixture
def term(world):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
        pairing_services.pairing_create(member=world.member_a2, contact=world.contact_a2, term=term)
    return term


@pytest.fixture
def links(world, term):
    with time_machine.travel(TODAY):
        services.survey_links_create(term=term, organisation=world.branch_a, by=world.secretary_a.user)
    return {link.contact_id: link for link in SurveyLink.objects.filter(term=term)}


def answer_url(link):
    return reverse("survey_answer", kwargs={"token": link.token})


def test_each_active_pairing_gets_one_unguessable_link_and_a_rerun_adds_none(world, term, links):
    assert set(links) == {world.contact_a1.pk, world.contact_a2.pk}
    tokens = [link.token for link in links.values()]
    assert len(set(tokens)) == 2 and all(len(token) >= 32 for token in tokens)
    # Valid for 30 days after the term ends.
    assert timezone.localdate(links[world.contact_a1.pk].expires_at) == term.ends_on + timedelta(days=30)

    with time_machine.travel(TODAY):
        assert services.survey_links_create(term=term, organisation=world.branch_a, by=world.secretary_a.user) == 0
    assert SurveyLink.objects.count() == 2


def test_a_link_opens_without_login_and_answers_once(client, world, links):
    link = links[world.contact_a1.pk]

    page = client.get(answer_url(link))
    assert page.status_code == 200
    assert "甲党员一" in page.content.decode()
    assert "张同学" not in page.content.decode() and "138" not in page.content.decode()

    done = client.post(answer_url(link), {"rating": "satisfied", "comment": "很耐心"})
    assert done.status_code == 200 and "Thank you" in done.content.decode()

    again = client.post(answer_url(link), {"rating": "dissatisfied"})
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert list(SurveyResponse.objects.values_list("member", "rating", "comment")) == [
        (world.member_a1.pk, "satisfied", "很耐心")
    ]


def test_a_form_error_keeps_the_comment(client, world, links):
    page = client.post(answer_url(links[world.contact_a1.pk]), {"comment": "路灯修好了"})

    assert page.status_code == 200
    assert "路灯修好了" in page.content.decode()
    assert "This field is required" in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_wrong_token_gets_a_clear_page(client, links):
    page = client.get(reverse("survey_answer", kwargs={"token": "not-a-real-token"}))

    assert page.status_code == 404
    assert "This link is not valid" in page.content.decode()


def test_an_expired_link_gets_a_clear_page_and_takes_no_answer(client, world, links):
    link = links[world.contact_a1.pk]
    with time_machine.travel(link.expires_at + timedelta(minutes=1)):
        page = client.get(answer_url(link))
        posted = client.post(answer_url(link), {"rating": "satisfied"})

    assert page.status_code == 410 and "expired" in page.content.decode()
    assert posted.status_code == 410
    assert not SurveyResponse.objects.exists()


def test_an_expired_unanswered_link_is_renewed_with_a_new_token(world, term, links):
    old = links[world.contact_a1.pk]
    with time_machine.travel(old.expires_at + timedelta(days=1)):
        # The term is long over by then; a re-sent survey is for the same closed-out term.
        assert services.survey_links_create(term=term, organisation=world.branch_a, by=world.secretary_a.user) == 2
    old_token = old.token
    old.refresh_from_db()
    assert old.token != old_token and old.expires_at > timezone.now()


def test_answers_are_anonymous(client, world, links):
    client.post(answer_url(links[world.contact_a1.pk]), {"rating": "dissatisfied", "comment": "没来过"})

    # The answer holds no link, no contact and no time of day...
    fields = {field.name for field in SurveyResponse._meta.get_fields()}
    assert fields == {"id", "term", "member", "rating", "comment", "submitted_on"}
    # ...and the secretary's survey page shows counts per member, never which contact answered.
    client.force_login(world.secretary_a.user)
    page = client.get(reverse("reports:survey")).content.decode()
    assert "张同学" not in page and "李老师" not in page
    assert "甲党员一" in page


def test_the_member_sees_no_answers_about_themselves(client, world, term, links):
    client.post(answer_url(links[world.contact_a1.pk]), {"rating": "dissatisfied", "comment": "没来过"})
    services.evaluate(term=term, organisation=world.branch_a)
    from reports.models import Evaluation

    evaluation = Evaluation.objects.get(member=world.member_a1)
    client.force_login(world.member_a1.user)
    page = client.get(reverse("reports:evaluation_detail", args=[evaluation.pk]))

    assert page.status_code == 200
    assert "没来过" not in page.content.decode()


def test_the_public_page_is_rate_limited(client, settings, world, links):
    settings.SURVEY_RATE_LIMIT = "5/m"
    url = reverse("survey_answer", kwargs={"token": "guess"})

    statuses = [client.get(url).status_code for _ in range(7)]

    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]
    # A real link from the same address is refused too while the limit holds.
    assert client.get(answer_url(links[world.contact_a1.pk])).status_code == 429


def test_print_cards_carry_a_qr_code_and_leave_out_answered_links(client, world, links):
    client.post(answer_url(links[world.contact_a2.pk]), {"rating": "satisfied"})
    client.force_login(world.secretary_a.user)

    page = client.get(reverse("reports:survey_print")).content.decode()

    assert page.count("<svg") == 1
    assert links[world.contact_a1.pk].token in page
    assert links[world.contact_a2.pk].token not in page


def test_links_and_cards_are_for_the_branch_secretary_only(client, world, links):
    for user in (world.secretary_b.user, world.inspector, world.member_a1.user):
        client.force_login(user)
        page = client.get(reverse("reports:survey_print"))
        assert links[world.contact_a1.pk].token not in page.content.decode()
    client.force_login(world.member_a1.user)
    assert client.get(reverse("reports:survey_print")).status_code == 403
    assert client.get(reverse("reports:survey")).status_code == 403
    client.force_login(world.secretary_b.user)
    response = client.post(reverse("reports:survey"), {"organisation": world.branch_a.pk})
    assert response.status_code == 404


def test_the_survey_goes_out_after_the_term_closes_even_to_pairings_carried_over(client, world, term):
    pairing_services.term_close(term=term)
    with time_machine.travel(date(2027, 2, 20)):
        pairing_services.term_open(
            previous=term, name="2027春", kind="semester", starts_on=date(2027, 2, 20), ends_on=date(2027, 7, 10)
        )
    with time_machine.travel(date(2027, 2, 21)):
        client.force_login(world.secretary_a.user)
        client.post(reverse("reports:survey"), {"term": term.pk, "organisation": world.branch_a.pk})

    assert set(SurveyLink.objects.filter(term=term).values_list("contact", flat=True)) == {
        world.contact_a1.pk,
        world.contact_a2.pk,
    }


def test_answers_feed_the_evaluation(client, world, term, links):
    client.post(answer_url(links[world.contact_a1.pk]), {"rating": "basically_satisfied"})
    client.post(answer_url(links[world.contact_a2.pk]), {"rating": "dissatisfied"})

    services.evaluate(term=term, organisation=world.branch_a)

    from reports.models import Evaluation

    results = dict(Evaluation.objects.values_list("member", "accountability"))
    assert results[world.member_a1.pk] is False
    assert results[world.member_a2.pk] is True


def test_a_malformed_organisation_is_a_404_not_an_error(client, world, term):
    client.force_login(world.secretary_a.user)

    assert client.post(reverse("reports:survey"), {"organisation": "x"}).status_code == 404
    assert client.post(reverse("reports:evaluation_run"), {"organisation": ""}).status_code == 404
