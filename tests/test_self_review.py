"""No self-review: nobody adjusts their own grade, rates their own pledge or closes their own request.

A secretary's own work is reviewed by the level above: the secretary of the organisation
above, or an administrator over it. The pages do not offer what would be refused, and a
POST that tries anyway is refused with a message that says why.
"""

from datetime import date

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from members import services as member_services
from pairings import services as pairing_services
from reports import services as report_services
from reports.models import Evaluation, GradeAdjustment
from tests.conftest import open_term
from tests.factories import MemberFactory, UserFactory
from visits.pledges import services as pledge_services
from visits.pledges.models import PledgeState
from visits.requests import services as request_services
from visits.requests.models import RequestState

pytestmark = pytest.mark.django_db

TODAY = date(2026, 10, 15)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def general_secretary(world):
    """The general branch's secretary: a member of branch B who runs the general branch above A and B."""
    member = MemberFactory.create(name="总支书记", organisation=world.branch_b)
    member.user = UserFactory.create(username="secretary_g")
    member.save()
    member_services.organisation_set_secretary(organisation=world.general, secretary=member)
    return member


# Grades ------------------------------------------------------------------------------------


@pytest.fixture
def evaluated(world, general_secretary):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    report_services.evaluate(term=term, organisation=world.committee)
    return term


def adjust(client: Client, evaluation: Evaluation):
    url = reverse("reports:evaluation_detail", args=[evaluation.pk])
    return client.post(url, {"to_grade": "excellent", "reason": "表现突出"})


def adjust_offered(client: Client, evaluation: Evaluation) -> bool:
    page = client.get(reverse("reports:evaluation_detail", args=[evaluation.pk]))
    assert page.status_code == 200
    return "Adjust the grade" in page.content.decode()


def test_a_secretary_cannot_adjust_their_own_grade(world, evaluated):
    own = Evaluation.objects.get(member=world.secretary_a)
    client = login(world.secretary_a.user)

    assert not adjust_offered(client, own)
    response = adjust(client, own)

    assert response.status_code == 403
    assert "You cannot adjust your own grade." in response.content.decode()
    assert not GradeAdjustment.objects.exists()


def test_a_secretarys_grade_is_adjusted_by_the_level_above(world, evaluated, general_secretary):
    own = Evaluation.objects.get(member=world.secretary_a)

    for user in (general_secretary.user, world.administrator):
        client = login(user)
        assert adjust_offered(client, own)
        assert adjust(client, own).status_code == 302
    assert GradeAdjustment.objects.filter(evaluation=own).count() == 2


def test_the_branch_below_does_not_adjust_the_grade_of_the_secretary_above(world, evaluated, general_secretary):
    """The general branch's secretary is a member of branch B; branch B's secretary is below them."""
    theirs = Evaluation.objects.get(member=general_secretary)
    client = login(world.secretary_b.user)

    assert not adjust_offered(client, theirs)
    response = adjust(client, theirs)

    assert response.status_code == 403
    assert "adjusted by the level above" in response.content.decode()
    assert adjust(login(world.administrator), theirs).status_code == 302


def test_a_secretary_still_adjusts_the_grade_of_a_member_of_their_branch(world, evaluated):
    evaluation = Evaluation.objects.get(member=world.member_a1)
    client = login(world.secretary_a.user)

    assert adjust_offered(client, evaluation)
    assert adjust(client, evaluation).status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.grade == "excellent"


def test_the_admin_offers_no_way_to_adjust_a_grade(world, evaluated):
    own = Evaluation.objects.get(member=world.secretary_a)
    client = login(world.secretary_a.user)
    url = reverse("admin:reports_evaluation_change", args=[own.pk])

    client.post(url, {"adjusted_grade": "excellent", "_save": "Save"})

    own.refresh_from_db()
    assert own.adjusted_grade == ""


# Pledges -----------------------------------------------------------------------------------


def reported_pledge(member):
    with time_machine.travel(TODAY, tick=False):
        pledge = pledge_services.pledge_create(member=member, by=member.user, year=2026, title="每月理发")
        pledge = pledge_services.pledge_make_public(pledge=pledge, by=member.user, made_public_on=TODAY)
        return pledge_services.pledge_report(pledge=pledge, by=member.user, report="理发十二次。")


def rate(client: Client, pledge):
    return client.post(reverse("pledges:pledge_evaluate", args=[pledge.pk]), {"rating": "excellent"})


def rating_offered(client: Client, pledge) -> bool:
    page = client.get(reverse("pledges:pledge_detail", args=[pledge.pk])).content.decode()
    return reverse("pledges:pledge_evaluate", args=[pledge.pk]) in page


def test_a_secretary_cannot_rate_their_own_pledge_on_the_page_or_in_the_admin(world):
    pledge = reported_pledge(world.secretary_a)
    client = login(world.secretary_a.user)

    assert not rating_offered(client, pledge)
    response = rate(client, pledge)
    assert response.status_code == 403
    assert "You cannot evaluate your own pledge." in response.content.decode()

    client.post(
        reverse("admin:pledges_pledge_change", args=[pledge.pk]),
        {"title": pledge.title, "description": "", "rating": "excellent", "_save": "Save"},
    )
    pledge.refresh_from_db()
    assert (pledge.state, pledge.rating) == (PledgeState.REPORTED, "")


def test_the_pledge_of_the_secretary_above_is_rated_by_the_level_above(world, general_secretary):
    pledge = reported_pledge(general_secretary)

    assert not rating_offered(login(world.secretary_b.user), pledge)
    assert rate(login(world.secretary_b.user), pledge).status_code == 403
    assert rating_offered(login(world.administrator), pledge)
    assert rate(login(world.administrator), pledge).status_code == 302
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.EVALUATED


# Requests ----------------------------------------------------------------------------------


def request_up_to_the_return_visit(world, responsible):
    """A request of branch A, assigned to `responsible`, resolved, fed back and return-visited."""
    by = world.administrator
    request = request_services.request_create(
        organisation=world.branch_a, source="reception_day", summary="路灯不亮", by=by
    )
    request_services.request_transition(
        request=request, to_state="assigned", by=by, responsible=responsible, deadline=date(2026, 10, 30)
    )
    for state in ("in_progress", "resolved", "fed_back", "return_visited"):
        request_services.request_transition(request=request, to_state=state, by=by)
    return request


def close(client: Client, request):
    return client.post(reverse("requests:request_transition", args=[request.pk]), {"to_state": "closed"})


def closing_offered(client: Client, request) -> bool:
    page = client.get(reverse("requests:request_detail", args=[request.pk])).content.decode()
    return 'value="closed"' in page


def test_a_secretary_does_not_close_a_request_they_are_responsible_for(world):
    request = request_up_to_the_return_visit(world, responsible=world.secretary_a)
    client = login(world.secretary_a.user)

    assert not closing_offered(client, request)
    response = close(client, request)

    assert response.status_code == 403
    assert "You are responsible for this request" in response.content.decode()
    request.refresh_from_db()
    assert request.state == RequestState.RETURN_VISITED


def test_the_level_above_closes_the_secretarys_request(world, general_secretary):
    request = request_up_to_the_return_visit(world, responsible=world.secretary_a)
    client = login(general_secretary.user)

    assert closing_offered(client, request)
    assert close(client, request).status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED


def test_the_secretary_closes_a_request_a_member_of_the_branch_was_responsible_for(world):
    request = request_up_to_the_return_visit(world, responsible=world.member_a1)
    client = login(world.secretary_a.user)

    assert closing_offered(client, request)
    assert close(client, request).status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED


def test_the_branch_below_does_not_close_a_request_of_the_secretary_above(world, general_secretary):
    by = world.administrator
    request = request_services.request_create(organisation=world.branch_b, source="hotline", summary="噪音扰民", by=by)
    request_services.request_transition(
        request=request, to_state="assigned", by=by, responsible=general_secretary, deadline=date(2026, 10, 30)
    )
    for state in ("resolved", "fed_back", "return_visited"):
        request_services.request_transition(request=request, to_state=state, by=by)

    assert not closing_offered(login(world.secretary_b.user), request)
    response = close(login(world.secretary_b.user), request)

    assert response.status_code == 403
    assert "closed by the level above" in response.content.decode()
    assert close(login(world.administrator), request).status_code == 302
