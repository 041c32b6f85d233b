"""The evaluation pages: who sees and does what, the score sheet form, adjusting, closing the term."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from pairings import services as pairing_services
from reports import services
from reports.models import Evaluation, EvaluationRun, GradeAdjustment
from tests.conftest import open_term
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def term(world):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    return term


@pytest.fixture
def evaluated(world, term):
    services.evaluate(term=term, organisation=world.committee)
    return term


def test_the_secretary_runs_the_evaluation_and_sees_the_results(
    client, world, term, django_capture_on_commit_callbacks
):
    client.force_login(world.secretary_a.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:evaluation_run"), {"term": term.pk, "organisation": world.branch_a.pk})

    run = EvaluationRun.objects.get()
    assert (run.status, run.members_evaluated) == ("succeeded", 3)
    page = client.get(response.url).content.decode()
    assert "甲党员一" in page and "甲书记" in page
    assert "乙书记" not in page


def test_a_secretary_cannot_evaluate_another_branch(client, world, term):
    client.force_login(world.secretary_b.user)

    response = client.post(reverse("reports:evaluation_run"), {"term": term.pk, "organisation": world.branch_a.pk})

    assert response.status_code == 404
    assert not EvaluationRun.objects.exists()


def test_the_list_shows_only_the_subtree(client, world, evaluated):
    client.force_login(world.secretary_b.user)

    page = client.get(reverse("reports:evaluation_list")).content.decode()

    assert "乙书记" in page and "甲党员一" not in page


def test_members_and_outsiders_cannot_open_the_list(client, world, evaluated):
    for user in (world.member_a1.user, world.outsider):
        client.force_login(user)
        assert client.get(reverse("reports:evaluation_list")).status_code == 403


def test_a_member_reads_their_own_result_and_no_one_elses(client, world, evaluated):
    own = Evaluation.objects.get(member=world.member_a1)
    other = Evaluation.objects.get(member=world.member_a2)
    client.force_login(world.member_a1.user)

    assert client.get(reverse("reports:evaluation_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("reports:evaluation_detail", args=[other.pk])).status_code == 404


def test_another_branch_gets_404_on_a_result(client, world, evaluated):
    client.force_login(world.secretary_b.user)
    evaluation = Evaluation.objects.get(member=world.member_a1)

    assert client.get(reverse("reports:evaluation_detail", args=[evaluation.pk])).status_code == 404


def test_the_secretary_adjusts_a_grade_with_a_reason(client, world, evaluated):
    evaluation = Evaluation.objects.get(member=world.member_a1)
    client.force_login(world.secretary_a.user)
    url = reverse("reports:evaluation_detail", args=[evaluation.pk])

    missing = client.post(url, {"to_grade": "excellent", "reason": ""})
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    assert not GradeAdjustment.objects.exists()

    client.post(url, {"to_grade": "excellent", "reason": "抗洪救灾表现突出"})
    page = client.get(url).content.decode()
    assert "抗洪救灾表现突出" in page
    evaluation.refresh_from_db()
    assert evaluation.grade == "excellent"


def test_an_inspector_reads_but_cannot_adjust(client, world, evaluated):
    evaluation = Evaluation.objects.get(member=world.member_a1)
    client.force_login(world.inspector)
    url = reverse("reports:evaluation_detail", args=[evaluation.pk])

    assert client.get(url).status_code == 200
    assert client.post(url, {"to_grade": "excellent", "reason": "x"}).status_code == 403


def test_the_score_sheet_must_add_up_to_100_and_keeps_what_was_typed(client, world, evaluated):
    client.force_login(world.administrator)
    url = reverse("reports:evaluation_policy") + f"?term={evaluated.pk}"
    data = {
        "term": evaluated.pk,
        "points_quota": 40,
        "points_frequency": 25,
        "points_requests": 15,
        "points_pledges": 15,
        "points_satisfaction": 20,
        "excellent_from": 90,
        "competent_from": 75,
        "basically_competent_from": 60,
        "satisfaction_threshold": 85,
    }

    wrong = client.post(url, data)
    assert "add up to 115" in wrong.content.decode()
    assert 'value="40"' in wrong.content.decode()

    client.post(url, data | {"points_quota": 25})
    policy = services.evaluation_policy_for(evaluated)
    policy.refresh_from_db()
    assert policy.satisfaction_threshold == 85


def test_only_the_committee_sets_the_score_sheet(client, world, evaluated):
    client.force_login(world.secretary_a.user)

    assert client.get(reverse("reports:evaluation_policy")).status_code == 403


def test_the_committee_closes_the_term(client, world, term):
    client.force_login(world.secretary_a.user)
    assert client.post(reverse("reports:term_close"), {"term": term.pk}).status_code == 403

    client.force_login(world.administrator)
    client.post(reverse("reports:term_close"), {"term": term.pk})

    term.refresh_from_db()
    assert term.closed_at is not None


def test_the_list_reads_a_fixed_number_of_queries(client, world, term, django_assert_max_num_queries):
    for index in range(60):
        MemberFactory.create(organisation=world.branch_b, name=f"乙党员{index}")
    services.evaluate(term=term, organisation=world.committee)
    client.force_login(world.administrator)

    with django_assert_max_num_queries(16):
        page = client.get(reverse("reports:evaluation_list"))

    assert page.content.decode().count('href="/reports/evaluation/') >= 50


def test_the_admin_lists_results_and_adjustments_in_scope_read_only(client, world, evaluated):
    evaluation = Evaluation.objects.get(member=world.member_a1)
    services.grade_adjust(evaluation=evaluation, to_grade="excellent", reason="表现突出", by=world.secretary_a.user)

    client.force_login(world.inspector)
    assert "表现突出" in client.get("/admin/reports/gradeadjustment/").content.decode()
    assert client.get(f"/admin/reports/evaluation/{evaluation.pk}/change/").status_code == 200
    assert client.post(f"/admin/reports/evaluation/{evaluation.pk}/delete/").status_code == 403

    client.force_login(world.secretary_b.user)
    assert "表现突出" not in client.get("/admin/reports/gradeadjustment/").content.decode()
    assert client.get(f"/admin/reports/evaluation/{evaluation.pk}/change/").status_code == 404


def test_a_member_finds_their_result_on_their_page(client, world, evaluated):
    client.force_login(world.member_a1.user)

    page = client.get(reverse("home")).content.decode()

    evaluation = Evaluation.objects.get(member=world.member_a1)
    assert reverse("reports:evaluation_detail", args=[evaluation.pk]) in page


def test_the_list_filters_by_grade_and_accountability(client, world, evaluated):
    Evaluation.objects.filter(member=world.member_a2).update(accountability=True, adjusted_grade="excellent")
    client.force_login(world.administrator)
    url = reverse("reports:evaluation_list")

    flagged = client.get(url, {"accountability": "yes"}).content.decode()
    excellent = client.get(url, {"grade": "excellent"}).content.decode()

    assert "甲党员二" in flagged and "甲党员一" not in flagged
    assert "甲党员二" in excellent and "甲党员一" not in excellent
