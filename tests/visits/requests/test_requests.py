"""Requests and complaints (诉求): the workflow, who may move what, supervision, and the ledger."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from liaison.admin import admin_site
from visits.notifications.models import Notification
from visits.requests.models import Request, RequestSource, RequestState, RequestTransition
from visits.requests.services import (
    TRANSITIONS,
    allowed_transitions,
    request_create,
    request_transition,
    requests_supervise_overdue,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 10, 12)
S = RequestState


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(date(2026, 10, 12), tick=False):
        yield


@pytest.fixture(autouse=True)
def _english(client, settings):
    """Assertions below quote the English messages: pages and services speak English here."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def record(world, *, by=None, organisation=None, summary="宿舍热水供应不稳定", **kwargs):
    return request_create(
        organisation=organisation or world.branch_a,
        source=kwargs.pop("source", RequestSource.RECEPTION_DAY),
        summary=summary,
        by=by or world.secretary_a.user,
        **kwargs,
    )


def assign(world, item, *, to=None, deadline=TODAY + timedelta(days=7), by=None):
    return request_transition(
        request=item,
        to_state=S.ASSIGNED,
        by=by or world.secretary_a.user,
        responsible=to or world.member_a1,
        deadline=deadline,
        comment="请一周内处理",
    )


def move(item, *states, by):
    for state in states:
        item = request_transition(request=item, to_state=state, by=by)
    return item


# The state machine ------------------------------------------------------------------

PATHS_TO_CLOSED = [
    [S.HANDLED_DIRECTLY, S.RESOLVED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED],
    [S.HANDLED_DIRECTLY, S.EXPLAINED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED],
    [S.TRANSFERRED, S.RESOLVED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED],
    [S.TRANSFERRED, S.EXPLAINED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED],
    [S.TRANSFERRED, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED],
    [S.ASSIGNED, S.RESOLVED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED],
    [S.ASSIGNED, S.EXPLAINED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED],
    [S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED],
    [S.ASSIGNED, S.IN_PROGRESS, S.EXPLAINED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED],
]


def test_the_paths_cover_every_allowed_transition():
    covered = {(a, b) for path in PATHS_TO_CLOSED for a, b in zip([S.RECEIVED, *path], path, strict=False)}
    allowed = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert covered == allowed


@pytest.mark.parametrize("path", PATHS_TO_CLOSED, ids=lambda path: "-".join(path))
def test_a_secretary_takes_a_request_along_every_allowed_path_to_closed(world, path):
    item = record(world)
    for state in path:
        assert state in allowed_transitions(item)
        if state == S.ASSIGNED:
            item = assign(world, item)
        else:
            item = request_transition(request=item, to_state=state, by=world.secretary_a.user, comment=state)
    item.refresh_from_db()
    assert item.state == S.CLOSED
    assert allowed_transitions(item) == []
    steps = list(item.transitions.values_list("from_state", "to_state"))
    assert steps == list(zip(["", S.RECEIVED, *path], [S.RECEIVED, *path], strict=False))


def test_an_invalid_transition_is_refused_with_a_clear_message_and_nothing_saved(world):
    item = record(world)
    with pytest.raises(ValidationError) as error:
        request_transition(request=item, to_state=S.CLOSED, by=world.secretary_a.user, comment="直接结案")
    assert error.value.messages == ["A request that is Received cannot go to Closed."]
    item.refresh_from_db()
    assert item.state == S.RECEIVED
    assert item.transitions.count() == 1
    assert item.history.count() == 1


def test_a_closed_request_goes_nowhere(world):
    item = move(
        record(world), S.HANDLED_DIRECTLY, S.RESOLVED, S.FED_BACK, S.RETURN_VISITED, S.CLOSED, by=world.secretary_a.user
    )
    for state in S.values:
        with pytest.raises(ValidationError):
            request_transition(request=item, to_state=state, by=world.secretary_a.user)
    assert item.transitions.count() == 6


def test_an_unknown_state_is_refused(world):
    item = record(world)
    with pytest.raises(ValidationError):
        request_transition(request=item, to_state="forgotten", by=world.secretary_a.user)


def test_assigning_requires_a_responsible_person_and_a_deadline(world):
    item = record(world)
    with pytest.raises(ValidationError) as error:
        request_transition(request=item, to_state=S.ASSIGNED, by=world.secretary_a.user)
    assert len(error.value.messages) == 2
    with pytest.raises(ValidationError):
        request_transition(request=item, to_state=S.ASSIGNED, by=world.secretary_a.user, responsible=world.member_a1)
    with pytest.raises(ValidationError):
        request_transition(request=item, to_state=S.ASSIGNED, by=world.secretary_a.user, deadline=TODAY)
    with pytest.raises(ValidationError, match="past"):
        assign(world, item, deadline=TODAY - timedelta(days=1))
    item.refresh_from_db()
    assert item.state == S.RECEIVED
    assert item.responsible is None
    assert item.transitions.count() == 1
    assert not Notification.objects.exists()


def test_a_secretary_cannot_make_a_member_of_another_branch_responsible(world):
    with pytest.raises(ValidationError):
        assign(world, record(world), to=world.secretary_b)


def test_assigning_notifies_the_responsible_member(world):
    item = assign(world, record(world))
    notification = Notification.objects.get()
    assert notification.user == world.member_a1.user
    assert notification.kind == Notification.Kind.REQUEST_ASSIGNED
    assert item.summary in notification.message
    assert notification.url == reverse("requests:request_detail", args=[item.pk])


def test_the_whole_history_is_recorded_with_who_when_and_comment(world):
    item = assign(world, record(world))
    item = request_transition(request=item, to_state=S.IN_PROGRESS, by=world.member_a1.user, comment="已联系后勤")
    item = request_transition(request=item, to_state=S.RESOLVED, by=world.member_a1.user, comment="已修复")
    item = request_transition(request=item, to_state=S.FED_BACK, by=world.secretary_a.user, comment="已告知本人")
    steps = list(item.transitions.select_related("by"))
    assert [(s.from_state, s.to_state, s.by.username, s.comment) for s in steps] == [
        ("", S.RECEIVED, "secretary_a", ""),
        (S.RECEIVED, S.ASSIGNED, "secretary_a", "请一周内处理"),
        (S.ASSIGNED, S.IN_PROGRESS, "member_a1", "已联系后勤"),
        (S.IN_PROGRESS, S.RESOLVED, "member_a1", "已修复"),
        (S.RESOLVED, S.FED_BACK, "secretary_a", "已告知本人"),
    ]
    assert all(step.at is not None for step in steps)
    assert item.history.count() == 5  # simple-history keeps every version for inspectors


# Who may move a request ---------------------------------------------------------------


def test_the_responsible_member_progresses_their_own_request(world):
    item = assign(world, record(world))
    assert allowed_transitions(item, by=world.member_a1.user) == [S.IN_PROGRESS]
    item = request_transition(request=item, to_state=S.IN_PROGRESS, by=world.member_a1.user)
    assert allowed_transitions(item, by=world.member_a1.user) == [S.RESOLVED, S.EXPLAINED]
    item = request_transition(request=item, to_state=S.EXPLAINED, by=world.member_a1.user, comment="需下学期解决")
    assert item.state == S.EXPLAINED
    assert allowed_transitions(item, by=world.member_a1.user) == []
    with pytest.raises(PermissionDenied):
        request_transition(request=item, to_state=S.FED_BACK, by=world.member_a1.user)


def test_the_responsible_member_cannot_skip_straight_to_resolved(world):
    item = assign(world, record(world))
    with pytest.raises(PermissionDenied):
        request_transition(request=item, to_state=S.RESOLVED, by=world.member_a1.user)
    item.refresh_from_db()
    assert item.state == S.ASSIGNED


def test_a_member_cannot_move_someone_elses_request(world):
    item = assign(world, record(world))
    with pytest.raises(PermissionDenied):
        request_transition(request=item, to_state=S.IN_PROGRESS, by=world.member_a2.user)
    with pytest.raises(PermissionDenied):
        request_transition(request=item, to_state=S.IN_PROGRESS, by=world.inspector)
    with pytest.raises(PermissionDenied):
        request_transition(request=item, to_state=S.IN_PROGRESS, by=world.secretary_b.user)
    assert item.transitions.count() == 2


def test_a_member_gets_403_moving_a_request_they_recorded_but_are_not_responsible_for(client, world):
    item = record(world, by=world.member_a2.user, contact=world.contact_a2, source=RequestSource.VISIT)
    assign(world, item)  # to member_a1
    client.force_login(world.member_a2.user)
    assert client.get(reverse("requests:request_detail", args=[item.pk])).status_code == 200
    response = client.post(reverse("requests:request_transition", args=[item.pk]), {"to_state": S.IN_PROGRESS})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.state == S.ASSIGNED


def test_a_member_gets_404_for_a_request_that_is_not_theirs(client, world):
    item = assign(world, record(world))
    client.force_login(world.member_a2.user)
    assert client.get(reverse("requests:request_detail", args=[item.pk])).status_code == 404


def test_secretary_b_can_neither_see_nor_move_branch_as_requests(client, world):
    item = record(world)
    client.force_login(world.secretary_b.user)
    assert client.get(reverse("requests:request_detail", args=[item.pk])).status_code == 404
    response = client.post(reverse("requests:request_transition", args=[item.pk]), {"to_state": S.HANDLED_DIRECTLY})
    assert response.status_code == 404
    assert item.summary not in client.get(reverse("requests:request_ledger")).content.decode()
    item.refresh_from_db()
    assert item.state == S.RECEIVED


def test_the_inspector_reads_the_ledger_and_history_but_cannot_move_a_request(client, world):
    item = record(world)
    client.force_login(world.inspector)
    assert item.summary in client.get(reverse("requests:request_ledger")).content.decode()
    response = client.get(reverse("requests:request_detail", args=[item.pk]))
    assert response.status_code == 200
    assert response.context["form"] is None
    response = client.post(reverse("requests:request_transition", args=[item.pk]), {"to_state": S.HANDLED_DIRECTLY})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.state == S.RECEIVED


def test_the_inspector_reads_a_request_and_its_steps_in_the_admin_but_cannot_change_them(client, world):
    item = assign(world, record(world))
    client.force_login(world.inspector)
    response = client.get(reverse("admin:requests_request_change", args=[item.pk]))
    assert response.status_code == 200
    assert "请一周内处理" in response.content.decode()
    model_admin = admin_site._registry[Request]
    request = response.wsgi_request
    assert not model_admin.has_change_permission(request, item)
    assert not model_admin.has_delete_permission(request, item)
    history = client.get(reverse("admin:requests_request_history", args=[item.pk]))
    assert history.status_code == 200


def test_the_admin_keeps_state_and_supervision_read_only(client, world):
    item = record(world)
    client.force_login(world.secretary_a.user)
    url = reverse("admin:requests_request_change", args=[item.pk])
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "state" not in form.fields
    assert "supervised_at" not in form.fields
    client.post(
        url,
        {
            "organisation": world.branch_a.pk,
            "source": RequestSource.HOTLINE,
            "summary": "改过的摘要",
            "details": "",
            "state": S.CLOSED,
            "supervised_at": "2026-01-01 00:00",
            "transitions-TOTAL_FORMS": "1",
            "transitions-INITIAL_FORMS": "1",
            "transitions-MIN_NUM_FORMS": "0",
            "transitions-MAX_NUM_FORMS": "1000",
        },
    )
    item.refresh_from_db()
    assert item.summary == "改过的摘要"
    assert item.state == S.RECEIVED
    assert item.supervised_at is None
    client.force_login(world.secretary_b.user)
    assert client.get(url).status_code == 404


# The web pages -----------------------------------------------------------------------


def test_the_detail_page_offers_only_the_allowed_next_states(client, world):
    item = record(world)
    client.force_login(world.secretary_a.user)
    response = client.get(reverse("requests:request_detail", args=[item.pk]))
    offered = [value for value, _label in response.context["form"].fields["to_state"].widget.choices]
    assert offered == [S.HANDLED_DIRECTLY, S.TRANSFERRED, S.ASSIGNED]


def test_an_invalid_post_shows_the_error_and_keeps_the_typed_comment(client, world):
    item = record(world)
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("requests:request_transition", args=[item.pk]), {"to_state": S.CLOSED, "comment": "我写的说明"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "A request that is Received cannot go to Closed." in html
    assert "我写的说明" in html
    assert item.transitions.count() == 1


def test_an_assignment_without_a_deadline_is_refused_and_keeps_the_typed_comment(client, world):
    item = record(world)
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("requests:request_transition", args=[item.pk]),
        {"to_state": S.ASSIGNED, "responsible": world.member_a1.pk, "comment": "请处理"},
    )
    assert response.status_code == 200
    assert "请处理" in response.content.decode()
    assert "Set a deadline for the request." in response.content.decode()
    item.refresh_from_db()
    assert item.state == S.RECEIVED


def test_a_valid_post_moves_the_request_and_redirects(client, world):
    item = record(world)
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("requests:request_transition", args=[item.pk]),
        {
            "to_state": S.ASSIGNED,
            "responsible": world.member_a1.pk,
            "deadline": "2026-10-20",
            "comment": "请跟进",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("requests:request_detail", args=[item.pk])
    item.refresh_from_db()
    assert (item.state, item.responsible, item.deadline) == (S.ASSIGNED, world.member_a1, date(2026, 10, 20))
    client.force_login(world.member_a1.user)
    response = client.post(reverse("requests:request_transition", args=[item.pk]), {"to_state": S.IN_PROGRESS})
    assert response.status_code == 302
    html = client.get(reverse("requests:request_detail", args=[item.pk])).content.decode()
    assert "请跟进" in html


def test_a_secretary_records_a_request_on_the_page(client, world):
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("requests:request_create"),
        {"organisation": world.group_a1.pk, "source": RequestSource.SUGGESTION_BOX, "summary": "食堂价格偏高"},
    )
    assert response.status_code == 302
    item = Request.objects.get()
    assert (item.organisation, item.source, item.state, item.created_by) == (
        world.group_a1,
        RequestSource.SUGGESTION_BOX,
        S.RECEIVED,
        world.secretary_a.user,
    )
    assert list(item.transitions.values_list("from_state", "to_state")) == [("", S.RECEIVED)]


def test_secretary_b_cannot_record_a_request_for_branch_a(client, world):
    client.force_login(world.secretary_b.user)
    response = client.post(
        reverse("requests:request_create"),
        {"organisation": world.branch_a.pk, "source": RequestSource.HOTLINE, "summary": "越权"},
    )
    assert response.status_code == 200  # not one of the organisations offered
    assert not Request.objects.exists()
    with pytest.raises(PermissionDenied):
        record(world, by=world.secretary_b.user)


# Members recording from their liaison work ----------------------------------------------


def test_a_member_records_a_request_raised_by_a_paired_contact(client, world):
    client.force_login(world.member_a1.user)
    response = client.post(
        reverse("requests:request_create"), {"contact": world.contact_a1.pk, "summary": "希望增加自习室开放时间"}
    )
    assert response.status_code == 302
    item = Request.objects.get()
    assert (item.organisation, item.source, item.contact) == (world.branch_a, RequestSource.VISIT, world.contact_a1)
    assert client.get(reverse("requests:request_detail", args=[item.pk])).status_code == 200
    assert item.summary in client.get(reverse("requests:request_ledger")).content.decode()


def test_a_member_cannot_record_a_request_from_an_unpaired_contact(client, world):
    with pytest.raises(PermissionDenied):
        request_create(
            organisation=world.branch_a,
            source=RequestSource.VISIT,
            summary="代人反映",
            contact=world.contact_a2,
            by=world.member_a1.user,
        )
    with pytest.raises(PermissionDenied):
        request_create(
            organisation=world.branch_a, source=RequestSource.VISIT, summary="没有联系人", by=world.member_a1.user
        )
    client.force_login(world.member_a1.user)
    response = client.get(reverse("requests:request_create"), {"contact": world.contact_a2.pk})
    assert response.status_code == 404
    response = client.post(reverse("requests:request_create"), {"contact": world.contact_a2.pk, "summary": "代人反映"})
    assert response.status_code == 200
    assert not Request.objects.exists()


def test_a_member_records_only_visit_requests_for_the_contacts_organisation(world):
    with pytest.raises(ValidationError):
        request_create(
            organisation=world.branch_a,
            source=RequestSource.HOTLINE,
            summary="热线",
            contact=world.contact_a1,
            by=world.member_a1.user,
        )
    with pytest.raises(ValidationError):
        request_create(
            organisation=world.committee,
            source=RequestSource.VISIT,
            summary="报到党委",
            contact=world.contact_a1,
            by=world.member_a1.user,
        )
    assert not Request.objects.exists()


# Supervision when late (督办) ---------------------------------------------------------------


def test_supervision_marks_only_requests_past_their_deadline_and_runs_once(world):
    due_today = assign(world, record(world, summary="今天到期"), deadline=TODAY)
    late = assign(world, record(world, summary="昨天到期"), deadline=TODAY)
    in_progress = request_transition(
        request=assign(world, record(world, summary="进行中"), deadline=TODAY),
        to_state=S.IN_PROGRESS,
        by=world.member_a1.user,
    )
    resolved = move(
        assign(world, record(world, summary="已解决"), deadline=TODAY), S.RESOLVED, by=world.secretary_a.user
    )
    Notification.objects.all().delete()

    assert requests_supervise_overdue(today=TODAY) == 0  # a deadline of today is not late yet

    tomorrow = TODAY + timedelta(days=1)
    Request.objects.filter(pk=due_today.pk).update(deadline=tomorrow)  # still has a day
    assert requests_supervise_overdue(today=tomorrow) == 2
    supervised = set(Request.objects.filter(supervised_at__isnull=False).values_list("summary", flat=True))
    assert supervised == {late.summary, in_progress.summary}
    assert resolved.summary not in supervised

    assert requests_supervise_overdue(today=tomorrow) == 0  # a second run marks nothing
    assert Notification.objects.filter(kind=Notification.Kind.REQUEST_SUPERVISED).count() == 4


def test_supervision_notifies_the_responsible_member_and_the_secretary(world):
    item = assign(world, record(world), deadline=TODAY)
    requests_supervise_overdue(today=TODAY + timedelta(days=1))
    notified = Notification.objects.filter(kind=Notification.Kind.REQUEST_SUPERVISED)
    assert sorted(notified.values_list("user__username", flat=True)) == ["member_a1", "secretary_a"]
    assert all(item.summary in n.message and n.url.endswith(f"/{item.pk}/") for n in notified)


def test_supervision_tells_a_secretary_who_is_also_responsible_only_once(world):
    assign(world, record(world), to=world.secretary_a, deadline=TODAY)
    requests_supervise_overdue(today=TODAY + timedelta(days=1))
    assert Notification.objects.filter(kind=Notification.Kind.REQUEST_SUPERVISED).count() == 1


def test_supervision_runs_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    for index in range(30):
        assign(world, record(world, summary=f"诉求{index}"), deadline=TODAY)
    # 1 savepoint, 2 read the late requests with responsible and secretary, 3 mark them,
    # 4 their history rows, 5 the notifications, 6 release the savepoint.
    with django_assert_max_num_queries(6):
        assert requests_supervise_overdue(today=TODAY + timedelta(days=1)) == 30


def test_resolving_or_explaining_clears_supervision(world):
    first = assign(world, record(world, summary="一"), deadline=TODAY)
    second = assign(world, record(world, summary="二"), deadline=TODAY)
    requests_supervise_overdue(today=TODAY + timedelta(days=1))
    first = request_transition(request=first, to_state=S.IN_PROGRESS, by=world.member_a1.user)
    first.refresh_from_db()
    assert first.supervised_at is not None  # still late while in progress
    first = request_transition(request=first, to_state=S.RESOLVED, by=world.member_a1.user)
    second = request_transition(request=second, to_state=S.EXPLAINED, by=world.secretary_a.user)
    assert first.supervised_at is None
    assert second.supervised_at is None


# The ledger (问题台账) -----------------------------------------------------------------------


def test_the_ledger_filters_by_state_source_organisation_overdue_supervised_responsible_and_text(client, world):
    hot_water = assign(world, record(world, summary="热水"), deadline=TODAY)
    yesterday = TODAY - timedelta(days=1)
    assign(world, record(world, summary="路灯", organisation=world.group_a1), to=world.member_a2)
    record(world, summary="网络", source=RequestSource.HOTLINE)
    record(world, summary="乙支部的事", organisation=world.branch_b, by=world.secretary_b.user)
    client.force_login(world.administrator)
    url = reverse("requests:request_ledger")

    def summaries(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return sorted(item.summary for item in response.context["page"])

    assert summaries() == sorted(["热水", "路灯", "网络", "乙支部的事"])
    assert summaries(state=S.ASSIGNED) == sorted(["热水", "路灯"])
    assert summaries(source=RequestSource.HOTLINE) == ["网络"]
    assert summaries(organisation=world.branch_a.pk) == sorted(["热水", "路灯", "网络"])
    assert summaries(organisation=world.group_a1.pk) == ["路灯"]
    assert summaries(responsible=world.member_a2.pk) == ["路灯"]
    assert summaries(q="网") == ["网络"]
    assert summaries(overdue="on") == []
    assert summaries(supervised="on") == []
    Request.objects.filter(pk=hot_water.pk).update(deadline=yesterday)  # a day later, as far as the ledger knows
    assert summaries(overdue="on") == ["热水"]
    assert summaries(supervised="on") == []
    requests_supervise_overdue(today=TODAY)
    assert summaries(supervised="on") == ["热水"]
    html = client.get(url).content.decode()
    assert "Overdue" in html
    assert "Supervised" in html
    move(hot_water, S.RESOLVED, by=world.secretary_a.user)
    assert summaries(overdue="on") == []
    assert summaries(supervised="on") == []


def test_a_members_ledger_holds_what_they_recorded_or_answer_for(client, world):
    mine = record(
        world, by=world.member_a1.user, contact=world.contact_a1, source=RequestSource.VISIT, summary="我记的"
    )
    assign(world, record(world, summary="交给我的"))
    record(world, summary="别人的")
    client.force_login(world.member_a1.user)
    response = client.get(reverse("requests:request_ledger"))
    assert sorted(item.summary for item in response.context["page"]) == sorted([mine.summary, "交给我的"])
    assert "organisation" not in response.context["filter"].form.fields


def make_requests(world, count):
    """Many requests, straight into the table: the workflow is not what is measured here."""
    user = world.secretary_a.user
    Request.objects.bulk_create(
        Request(
            organisation=world.branch_a if index % 2 else world.group_a1,
            source=RequestSource.HOTLINE,
            summary=f"诉求{index}",
            state=S.ASSIGNED if index % 3 else S.RECEIVED,
            responsible=world.member_a1 if index % 3 else None,
            deadline=TODAY - timedelta(days=index % 5) if index % 3 else None,
            contact=world.contact_a1 if index % 4 == 0 else None,
            created_by=user,
        )
        for index in range(count)
    )


# Queries for one page of the ledger, whatever the number of rows:
# 1 session, 2 user, 3-5 scope (appointments, secretary organisations, member),
# 6 count, 7 the unread notifications in the navigation bar,
# 8 the organisation choices, 9 the responsible-person choices,
# 10 the page with organisation, responsible and contact joined, 11 the second factor
# (liaison.security: whether the user has an authenticator app).
LEDGER_QUERY_BUDGET = 11


@pytest.mark.parametrize("count", [10, 1000])
def test_the_ledger_issues_a_constant_number_of_queries(client, world, count, django_assert_max_num_queries):
    make_requests(world, count)
    client.force_login(world.secretary_a.user)
    with django_assert_max_num_queries(LEDGER_QUERY_BUDGET):
        response = client.get(reverse("requests:request_ledger"), {"state": S.ASSIGNED, "overdue": "on"})
    assert response.status_code == 200
    with django_assert_max_num_queries(LEDGER_QUERY_BUDGET):
        response = client.get(reverse("requests:request_ledger"))
    assert response.context["page"].paginator.count == count
    assert len(response.context["page"]) == min(count, 50)


def test_the_detail_page_issues_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    item = assign(world, record(world))
    for _index in range(20):
        RequestTransition.objects.create(
            request=item, from_state=S.ASSIGNED, to_state=S.ASSIGNED, by=world.administrator
        )
    client.force_login(world.secretary_a.user)
    # 1 session, 2 user, 3-5 scope, 6 the request with its organisation, people and visit,
    # 7 the responsible-person choices, 8 the history with who made each step,
    # 9 the unread notifications in the navigation bar, 10 the second factor (liaison.security).
    with django_assert_max_num_queries(10):
        response = client.get(reverse("requests:request_detail", args=[item.pk]))
    assert response.status_code == 200


def test_the_record_page_opens_for_a_secretary_and_a_member_and_not_for_an_outsider(client, world):
    url = reverse("requests:request_create")
    client.force_login(world.secretary_a.user)
    response = client.get(url, {"contact": world.contact_a1.pk})
    assert response.status_code == 200
    assert response.context["form"].initial["organisation"] == world.branch_a.pk
    client.force_login(world.member_a1.user)
    response = client.get(url)
    assert response.status_code == 200
    assert "organisation" not in response.context["form"].fields
    assert list(response.context["form"].fields["contact"].queryset) == [world.contact_a1]
    client.force_login(world.outsider)
    assert client.get(url).status_code == 403


def test_the_responsible_member_sees_only_their_own_next_steps_on_the_page(client, world):
    item = assign(world, record(world))
    client.force_login(world.member_a1.user)
    form = client.get(reverse("requests:request_detail", args=[item.pk])).context["form"]
    assert [value for value, _label in form.fields["to_state"].widget.choices] == [S.IN_PROGRESS]
    assert "responsible" not in form.fields
