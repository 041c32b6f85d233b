"""The quota board, pairing from it, the matching review, opening a term: and who may do each."""

import pytest
from django.urls import reverse

from members.models import ContactCategory
from pairings import matching, services
from pairings.models import MatchingRun, Pairing, PairingStatus, QuotaStatus, Term
from tests.conftest import open_term
from tests.factories import ContactFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def term(world):
    term = open_term(world)
    services.quota_compute(term=term, organisation=world.committee)
    return term


def test_secretary_board_lists_their_members_with_shortfalls_and_not_other_branches(client, world, term):
    client.force_login(world.secretary_a.user)
    response = client.get(reverse("pairings:board"))
    html = response.content.decode()
    assert response.status_code == 200
    assert world.member_a1.name in html and world.member_a2.name in html
    assert world.secretary_b.name not in html
    assert "0 / 5" in html


def test_board_filters_by_shortfall_in_a_category(client, world, term):
    for _index in range(5):
        contact = ContactFactory.create(organisation=world.branch_a, category=ContactCategory.STUDENT)
        services.pairing_create(member=world.member_a1, contact=contact, term=term)
    services.quota_compute(term=term, organisation=world.committee)
    client.force_login(world.secretary_a.user)
    response = client.get(reverse("pairings:board"), {"short_in": "student"})
    names = [member.name for member, _cells in response.context["rows"]]
    assert world.member_a2.name in names
    assert world.member_a1.name not in names


def test_board_issues_a_constant_number_of_queries(client, world, term, django_assert_max_num_queries):
    for _index in range(120):
        MemberFactory.create(organisation=world.branch_a)
    services.quota_compute(term=term, organisation=world.committee)
    client.force_login(world.administrator)
    # session, user, scope x3, terms x2, organisations (filter), count, buckets, page,
    # prefetched statuses, managed organisations, recent runs, term list for the selector,
    # unread notifications
    with django_assert_max_num_queries(17):
        response = client.get(reverse("pairings:board"))
    assert len(response.context["rows"]) == 50


@pytest.mark.parametrize("persona", ["member_a1", "outsider"])
def test_members_and_outsiders_cannot_open_the_board(client, world, term, persona):
    user = getattr(world, persona)
    client.force_login(getattr(user, "user", user))
    assert client.get(reverse("pairings:board")).status_code == 403


def test_inspector_reads_the_board_but_cannot_pair_or_run_matching(client, world, term):
    client.force_login(world.inspector)
    assert client.get(reverse("pairings:board")).status_code == 200
    assert client.get(reverse("pairings:member_pair", args=[world.member_a1.pk])).status_code == 403
    response = client.post(reverse("pairings:matching_start"), {"term": term.pk, "organisation": world.branch_a.pk})
    assert response.status_code == 403
    assert not MatchingRun.objects.exists()


def test_secretary_pairs_a_member_from_the_board(client, world, term):
    client.force_login(world.secretary_a.user)
    page = client.get(reverse("pairings:member_pair", args=[world.member_a2.pk]), {"category": "student"})
    candidates = list(page.context["page"])
    assert world.contact_a1 in candidates  # not yet paired in this new term
    assert world.contact_b not in candidates  # another branch
    client.post(
        reverse("pairings:member_pair", args=[world.member_a2.pk]),
        {"term": term.pk, "contact": world.contact_a1.pk},
    )
    assert Pairing.objects.filter(term=term, member=world.member_a2, contact=world.contact_a1, status="active").exists()
    status = QuotaStatus.objects.get(term=term, member=world.member_a2, contact_category="student")
    assert (status.actual, status.shortfall) == (1, 4)


def test_pairing_a_contact_already_taken_shows_a_clear_error_and_saves_nothing(client, world, term):
    services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("pairings:member_pair", args=[world.member_a2.pk]),
        {"term": term.pk, "contact": world.contact_a1.pk},
        follow=True,
    )
    assert "张同学" in response.content.decode()
    assert not Pairing.objects.filter(term=term, member=world.member_a2).exists()


def test_secretary_b_cannot_pair_or_end_in_branch_a(client, world, term):
    pairing = services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    client.force_login(world.secretary_b.user)
    assert client.get(reverse("pairings:member_pair", args=[world.member_a1.pk])).status_code == 404
    response = client.post(
        reverse("pairings:member_pair", args=[world.secretary_b.pk]), {"term": term.pk, "contact": world.contact_a2.pk}
    )
    assert response.status_code == 404
    ended = client.post(reverse("pairings:pairing_end", args=[pairing.pk]), {"ended_on": "2026-10-01", "reason": "x"})
    assert ended.status_code == 404
    pairing.refresh_from_db()
    assert pairing.status == PairingStatus.ACTIVE


def test_secretary_ends_a_pairing_with_a_reason(client, world, term):
    pairing = services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    client.force_login(world.secretary_a.user)
    client.post(reverse("pairings:pairing_end", args=[pairing.pk]), {"ended_on": "2026-12-01", "reason": "转学"})
    pairing.refresh_from_db()
    assert (pairing.status, pairing.end_reason) == (PairingStatus.ENDED, "转学")


def test_matching_proposes_and_nothing_is_paired_until_the_secretary_accepts(
    client, world, term, django_capture_on_commit_callbacks
):
    client.force_login(world.secretary_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pairings:matching_start"), {"term": term.pk, "organisation": world.branch_a.pk})
    run = MatchingRun.objects.get()
    assert response["Location"] == reverse("pairings:matching_detail", args=[run.pk])
    run.refresh_from_db()
    assert run.is_waiting_for_review  # Celery runs eagerly in tests
    proposals = list(run.proposals.all())
    assert {(p.member_id, p.contact_id) for p in proposals} <= {
        (m.pk, c.pk)
        for m in (world.member_a1, world.member_a2, world.secretary_a)
        for c in (world.contact_a1, world.contact_a2)
    }
    assert len(proposals) == 2
    assert not Pairing.objects.filter(term=term).exists()

    chosen = proposals[0]
    client.post(reverse("pairings:matching_detail", args=[run.pk]), {"proposal": [chosen.pk], "accept": "1"})
    run.refresh_from_db()
    assert (run.status, run.review) == (MatchingRun.Status.SUCCEEDED, MatchingRun.Review.ACCEPTED)
    assert list(Pairing.objects.filter(term=term).values_list("member_id", "contact_id")) == [
        (chosen.member_id, chosen.contact_id)
    ]


def test_matching_of_secretary_a_is_hidden_from_secretary_b(client, world, term):
    run = services.matching_run_create(term=term, organisation=world.branch_a, by=world.secretary_a.user)
    client.force_login(world.secretary_b.user)
    assert client.get(reverse("pairings:matching_detail", args=[run.pk])).status_code == 404
    response = client.post(reverse("pairings:matching_start"), {"term": term.pk, "organisation": world.branch_a.pk})
    assert response.status_code == 404


def test_a_discarded_proposal_pairs_nobody(client, world, term, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.matching_run_create(term=term, organisation=world.branch_a, by=world.secretary_a.user)
    client.force_login(world.secretary_a.user)
    client.post(reverse("pairings:matching_detail", args=[run.pk]), {"discard": "1"})
    run.refresh_from_db()
    assert (run.status, run.review) == (MatchingRun.Status.SUCCEEDED, MatchingRun.Review.DISCARDED)
    assert not Pairing.objects.filter(term=term).exists()


def test_a_matching_run_that_raises_is_failed_and_its_page_stops_polling_and_says_so(
    client, world, term, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("the algorithm broke")

    monkeypatch.setattr(matching, "propose", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        run = services.matching_run_create(term=term, organisation=world.branch_a, by=world.secretary_a.user)
    run = MatchingRun.objects.get()
    assert run.status == MatchingRun.Status.FAILED
    assert run.finished_at is not None
    assert not run.proposals.exists()
    client.force_login(world.secretary_a.user)
    for headers in ({}, {"HX-Request": "true"}):
        page = client.get(reverse("pairings:matching_detail", args=[run.pk]), headers=headers).content.decode()
        assert "hx-trigger" not in page
        assert 'data-testid="matching-failed"' in page
        assert "The matching failed" in page or "匹配失败" in page


def test_administrator_opens_a_new_term_and_secretaries_cannot(client, world, term):
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("pairings:term_open")).status_code == 403
    client.force_login(world.administrator)
    response = client.post(
        reverse("pairings:term_open"),
        {"name": "2027春", "kind": "semester", "starts_on": "2027-02-20", "ends_on": "2027-07-10", "carry_over": "on"},
    )
    assert response.status_code == 302
    assert Term.objects.get(is_current=True).name == "2027春"


def test_opening_a_term_with_bad_dates_keeps_what_was_typed(client, world, term):
    client.force_login(world.administrator)
    response = client.post(
        reverse("pairings:term_open"),
        {"name": "2027春", "kind": "semester", "starts_on": "2027-02-20", "ends_on": "2027-01-10"},
    )
    assert response.status_code == 200
    assert 'value="2027春"' in response.content.decode()
    assert Term.objects.get(is_current=True) == term


def test_member_sees_their_targets_for_the_term(client, world, term):
    services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    services.quota_compute(term=term, organisation=world.committee)
    client.force_login(world.member_a1.user)
    html = client.get(reverse("members:contact_list")).content.decode()
    assert "1/5" in html
    assert world.contact_a1.name in html


def test_admin_pairing_add_respects_the_policy_limit(client, world, term):
    services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("admin:pairings_pairing_add"),
        {
            "member": world.member_a2.pk,
            "contact": world.contact_a1.pk,
            "term": term.pk,
            "theme": "",
            "started_on": "2026-09-10",
        },
    )
    assert response.status_code == 200
    assert Pairing.objects.filter(term=term, contact=world.contact_a1).count() == 1
