"""Races: two of the same thing at once, and forms sent twice or opened on an old version.

The `postgres` tests really run in parallel: two threads, each with its own database
connection, lined up by a barrier, against committed data (`world_committed`). The
others (a form sent twice in a row, an edit opened before someone else's save) run on
any database.
"""

import re
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client
from django.urls import reverse

from members.models import ImportJob, Member
from pairings import services as pairing_services
from pairings.models import QuotaStatus
from reports import services as report_services
from reports.models import Evaluation, EvaluationRun
from tests.conftest import open_term
from tests.factories import MemberFactory
from tests.members.test_worker import members_roster
from visits import services as visit_services
from visits.models import Visit, VisitHelp
from visits.pledges import services as pledge_services
from visits.pledges.models import Pledge, PledgeState
from visits.requests import services as request_services
from visits.requests.models import Request, RequestTransition
from visits.services import VisitData

TODAY = date(2026, 10, 15)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in parallel threads, released together; their results, or the first error raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:  # reported below, in the test's thread
            errors[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a call never returned (a deadlock?)"
    for error in errors:
        if error is not None:
            raise error
    return results


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def key_in(html: str) -> str:
    """The idempotency key the page's form carries (a hidden input)."""
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert found, "the form carries no idempotency key"
    return found.group(1)


def version_in(html: str) -> int:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "the form carries no version"
    return int(found.group(1))


def quota_table(term) -> set[tuple]:
    return set(
        QuotaStatus.objects.filter(term=term).values_list(
            "member_id", "contact_category", "unit", "required", "actual", "shortfall", "overridden"
        )
    )


def visit_form(**overrides) -> dict[str, str]:
    return {"happened_on": "2026-10-14", "mode": "talk", "discussed": "学习情况和生活困难", **overrides}


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


def paired_term(world):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
        pairing_services.pairing_create(member=world.member_a2, contact=world.contact_a2, term=term)
    return term


# In parallel, on PostgreSQL ---------------------------------------------------------------


@pytest.mark.postgres
def test_two_quota_changes_at_once_both_succeed_and_the_table_is_right(world_committed):
    world = world_committed
    term = paired_term(world)
    for index in range(60):  # enough rows that the two jobs overlap
        MemberFactory.create(organisation=world.group_a1 if index % 2 else world.branch_a)
    clients = [logged_in(world.secretary_a.user), logged_in(world.secretary_a.user)]

    def adjust(client: Client, member: Member, required: int) -> Callable[[], int]:
        url = reverse("pairings:quota_override", args=[member.pk])
        data = {"term": term.pk, "contact_category": "", "unit": "person", "required": required, "reason": "病假"}
        return lambda: client.post(url, data).status_code

    # member_a1 is in group A1, member_a2 in branch A: the two recomputed subtrees overlap.
    for required in range(1, 7):
        statuses = at_once(
            adjust(clients[0], world.member_a1, required), adjust(clients[1], world.member_a2, required + 10)
        )
        assert statuses == [302, 302]

    table = quota_table(term)
    assert (world.member_a1.pk, "", "person", 6, 1, 5, True) in table  # any category: its one contact counts
    assert (world.member_a2.pk, "", "person", 16, 1, 15, True) in table
    pairing_services.quota_compute(term=term, organisation=world.branch_a)
    assert quota_table(term) == table  # what one job alone computes for the branch


@pytest.mark.postgres
def test_two_evaluation_runs_of_one_subtree_at_once_make_one_run_that_succeeds(world_committed):
    world = world_committed
    term = paired_term(world)

    def start() -> int:
        return report_services.evaluation_run_create(
            term=term, organisation=world.branch_a, by=world.secretary_a.user
        ).pk

    for _round in range(3):
        EvaluationRun.objects.all().delete()
        first, second = at_once(start, start)
        assert first == second
        run = EvaluationRun.objects.get()
        assert run.status == EvaluationRun.Status.SUCCEEDED, run.message
    assert Evaluation.objects.filter(term=term, organisation__path__startswith=world.branch_a.path).exists()


@pytest.mark.postgres
def test_evaluations_of_overlapping_subtrees_at_once_both_succeed(world_committed):
    world = world_committed
    term = paired_term(world)
    for index in range(40):
        MemberFactory.create(organisation=world.branch_a if index % 2 else world.branch_b)

    def evaluate(organisation) -> Callable[[], int]:
        return lambda: report_services.evaluate(term=term, organisation=organisation)

    members = Member.objects.count()
    for _round in range(4):
        whole, branch = at_once(evaluate(world.committee), evaluate(world.branch_a))
        assert whole == members
        assert branch == Member.objects.filter(organisation__path__startswith=world.branch_a.path).count()
    assert Evaluation.objects.filter(term=term).count() == members


@pytest.mark.postgres
@time_machine.travel(TODAY)
def test_a_double_tap_on_the_visit_form_makes_one_log_and_gives_the_help_once(world_committed):
    world = world_committed
    paired_term(world)
    clients = [logged_in(world.member_a1.user), logged_in(world.member_a1.user)]
    url = reverse("visits:visit_create", args=[world.contact_a1.pk])
    data = visit_form(
        help_money="300", request_summary="宿舍漏水", idempotency_key=key_in(clients[0].get(url).content.decode())
    )

    statuses = at_once(*(lambda client=client: client.post(url, data).status_code for client in clients))

    assert statuses == [302, 302]
    visit = Visit.objects.get()
    assert [help.amount for help in VisitHelp.objects.filter(kind="money")] == [300]
    assert Request.objects.filter(visit=visit).count() == 1


@pytest.mark.postgres
@time_machine.travel(TODAY)
def test_two_edits_of_one_log_at_once_one_is_saved_and_the_other_is_told(world_committed, english):
    world = world_committed
    term = paired_term(world)
    visit = visit_services.visit_log(
        user=world.member_a1.user,
        contact=world.contact_a1,
        data=VisitData(happened_on=date(2026, 10, 14), mode="talk", discussed="谈心"),
    )
    assert term.pk == visit.pairing.term_id
    clients = [logged_in(world.member_a1.user), logged_in(world.member_a1.user)]
    url = reverse("visits:visit_edit", args=[visit.pk])
    version = version_in(clients[0].get(url).content.decode())

    responses = at_once(
        *(
            lambda client=client, text=text: client.post(url, visit_form(discussed=text, version=version))
            for client, text in zip(clients, ["第一次修改", "第二次修改"], strict=True)
        )
    )

    assert sorted(response.status_code for response in responses) == [200, 302]
    saved = next(response for response in responses if response.status_code == 302)
    refused = next(response for response in responses if response.status_code == 200)
    assert "was changed after you opened this page" in refused.content.decode()
    visit.refresh_from_db()
    assert visit.version == version + 1
    assert visit.discussed == ("第一次修改" if saved is responses[0] else "第二次修改")


@pytest.mark.postgres
def test_the_same_roster_file_uploaded_twice_at_once_imports_each_person_once(world_committed):
    world = world_committed
    clients = [logged_in(world.secretary_a.user), logged_in(world.secretary_a.user)]
    content = members_roster(8)

    def upload(client: Client) -> Callable[[], int]:
        # Two tabs: two renderings of the form, two different keys.
        key = key_in(client.get(reverse("members:roster_import")).content.decode())
        file = SimpleUploadedFile("roster.xlsx", content, content_type=XLSX)
        data = {"kind": "members", "file": file, "idempotency_key": key}
        return lambda: client.post(reverse("members:roster_import"), data).status_code

    assert at_once(upload(clients[0]), upload(clients[1])) == [302, 302]

    jobs = list(ImportJob.objects.order_by("finished_at"))
    assert [job.status for job in jobs] == [ImportJob.Status.SUCCEEDED] * 2
    assert [(job.created_count, job.updated_count) for job in jobs] == [(8, 0), (0, 0)]
    assert Member.objects.filter(name__startswith="工人").count() == 8


# Sent twice, on any database ---------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(TODAY)
def test_the_visit_form_sent_twice_makes_one_log_and_gives_the_help_once(client, world):
    paired_term(world)
    client.force_login(world.member_a1.user)
    url = reverse("visits:visit_create", args=[world.contact_a1.pk])
    data = visit_form(
        help_money="300", request_summary="宿舍漏水", idempotency_key=key_in(client.get(url).content.decode())
    )

    first, second = client.post(url, data), client.post(url, data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert first.url == second.url
    visit = Visit.objects.get()
    assert [(help.kind, help.amount) for help in visit.help.all()] == [("money", 300)]
    assert Request.objects.filter(visit=visit).count() == 1
    # A new rendering of the form is a new log.
    data["idempotency_key"] = key_in(client.get(url).content.decode())
    assert client.post(url, data).status_code == 302
    assert Visit.objects.count() == 2


@pytest.mark.django_db
@time_machine.travel(TODAY)
def test_the_request_form_sent_twice_records_one_request(client, world):
    paired_term(world)
    client.force_login(world.secretary_a.user)
    url = reverse("requests:request_create")
    data = {
        "organisation": world.branch_a.pk,
        "contact": "",
        "source": "hotline",
        "summary": "路灯不亮",
        "details": "",
        "idempotency_key": key_in(client.get(url).content.decode()),
    }
    first, second = client.post(url, data), client.post(url, data)
    assert (first.status_code, second.status_code) == (302, 302)
    assert first.url == second.url
    request = Request.objects.get(summary="路灯不亮")
    assert RequestTransition.objects.filter(request=request).count() == 1


@pytest.mark.django_db
def test_the_pledge_form_sent_twice_makes_one_pledge(client, world):
    client.force_login(world.member_a1.user)
    url = reverse("pledges:pledge_create")
    data = {
        "year": 2026,
        "title": "义务辅导",
        "description": "",
        "idempotency_key": key_in(client.get(url).content.decode()),
    }
    first, second = client.post(url, data), client.post(url, data)
    assert (first.status_code, second.status_code) == (302, 302)
    assert first.url == second.url
    assert Pledge.objects.filter(member=world.member_a1).count() == 1


@pytest.mark.django_db
def test_the_roster_form_sent_twice_makes_one_import(client, world):
    client.force_login(world.secretary_a.user)
    url = reverse("members:roster_import")
    key = key_in(client.get(url).content.decode())
    responses = [
        client.post(
            url,
            {
                "kind": "members",
                "file": SimpleUploadedFile("roster.xlsx", members_roster(3), content_type=XLSX),
                "idempotency_key": key,
            },
        )
        for _ in range(2)
    ]
    assert [response.status_code for response in responses] == [302, 302]
    assert responses[0].url == responses[1].url
    job = ImportJob.objects.get()
    assert (job.status, job.created_count) == (ImportJob.Status.SUCCEEDED, 3)


@pytest.mark.django_db
def test_a_key_that_is_not_a_token_is_refused_without_a_500(client, world):
    client.force_login(world.member_a1.user)
    url = reverse("pledges:pledge_create")
    for key in ("x" * 65, "<script>", "\x00"):
        response = client.post(url, {"year": 2026, "title": "义务辅导", "idempotency_key": key})
        assert response.status_code == 200
    assert not Pledge.objects.exists()


# Opened on an old version, on any database -------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(TODAY)
def test_an_edit_opened_before_another_save_is_refused_and_keeps_the_input(client, world, english):
    paired_term(world)
    visit = visit_services.visit_log(
        user=world.member_a1.user,
        contact=world.contact_a1,
        data=VisitData(happened_on=date(2026, 10, 14), mode="talk", discussed="谈心"),
    )
    client.force_login(world.member_a1.user)
    url = reverse("visits:visit_edit", args=[visit.pk])
    opened = version_in(client.get(url).content.decode())
    # Saved meanwhile, from another tab.
    assert client.post(url, visit_form(discussed="另一页的修改", version=opened)).status_code == 302

    stale = client.post(url, visit_form(discussed="这一页的修改", help_money="300", version=opened))

    assert stale.status_code == 200
    html = stale.content.decode()
    assert "This visit log was changed after you opened this page" in html
    assert "这一页的修改" in html and 'value="300"' in html  # the member's input is still there
    assert reverse("visits:visit_detail", args=[visit.pk]) in html
    visit.refresh_from_db()
    assert (visit.discussed, visit.help.count()) == ("另一页的修改", 0)
    # Sent again from the page as it now stands, it is saved.
    assert version_in(html) == opened + 1
    assert client.post(url, visit_form(discussed="这一页的修改", version=version_in(html))).status_code == 302
    visit.refresh_from_db()
    assert (visit.discussed, visit.version) == ("这一页的修改", opened + 2)


@pytest.mark.django_db
@time_machine.travel(TODAY)
def test_a_request_step_opened_before_another_step_is_refused_and_keeps_the_comment(client, world, english):
    paired_term(world)
    item = request_services.request_create(
        organisation=world.branch_a, source="hotline", summary="路灯不亮", by=world.secretary_a.user
    )
    client.force_login(world.secretary_a.user)
    opened = version_in(client.get(reverse("requests:request_detail", args=[item.pk])).content.decode())
    request_services.request_transition(
        request=item, to_state="handled_directly", by=world.administrator, expected_version=opened
    )

    response = client.post(
        reverse("requests:request_transition", args=[item.pk]),
        {"to_state": "transferred", "comment": "转交后勤处", "version": opened},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "This request was changed after you opened this page" in html
    assert "转交后勤处" in html
    item.refresh_from_db()
    assert item.state == "handled_directly"
    assert RequestTransition.objects.filter(request=item).count() == 2


@pytest.mark.django_db
def test_a_pledge_evaluated_meanwhile_refuses_the_second_evaluation_and_shows_what_was_sent(client, world, english):
    member = world.member_a1
    pledge = pledge_services.pledge_create(member=member, by=member.user, year=2026, title="义务辅导")
    pledge = pledge_services.pledge_make_public(pledge=pledge, by=member.user)
    pledge = pledge_services.pledge_report(pledge=pledge, by=member.user, report="辅导二十次")
    client.force_login(world.secretary_a.user)
    opened = version_in(client.get(reverse("pledges:pledge_detail", args=[pledge.pk])).content.decode())
    pledge_services.pledge_evaluate(pledge=pledge, by=world.administrator, rating="fair", expected_version=opened)

    response = client.post(
        reverse("pledges:pledge_evaluate", args=[pledge.pk]),
        {"rating": "good", "evaluation": "认真负责", "version": opened},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "This pledge was changed after you opened this page" in html
    assert "认真负责" in html
    pledge.refresh_from_db()
    assert (pledge.state, pledge.rating, pledge.evaluated_by) == (PledgeState.EVALUATED, "fair", world.administrator)


@pytest.mark.django_db
def test_an_edit_without_a_version_is_still_checked_by_the_workflow(world):
    # Callers with no form (the shell, other services) pass no version: the edit is made, the version moves on.
    member = world.member_a1
    pledge = pledge_services.pledge_create(member=member, by=member.user, year=2026, title="义务辅导")
    assert pledge.version == 1
    pledge = pledge_services.pledge_make_public(pledge=pledge, by=member.user)
    assert pledge.version == 2
    assert Pledge.objects.get(pk=pledge.pk).version == 2


@pytest.mark.django_db
def test_a_quota_job_updates_rows_in_place_and_removes_only_those_no_longer_needed(world):
    term = paired_term(world)

    def rows() -> dict[tuple, tuple]:
        stored = QuotaStatus.objects.filter(term=term).values_list(
            "pk", "member_id", "contact_category", "unit", "required", "overridden"
        )
        return {(member, category, unit): (pk, required, flag) for pk, member, category, unit, required, flag in stored}

    pairing_services.quota_compute(term=term, organisation=world.committee)
    before = rows()
    for category, required in (("activist", 0), ("student", 4)):
        pairing_services.quota_override_set(
            term=term,
            member=world.member_a2,
            contact_category=category,
            unit="person",
            required=required,
            reason="病假",
            by=world.secretary_a.user,
        )
    pairing_services.quota_compute(term=term, organisation=world.branch_a)
    after = rows()

    a2 = world.member_a2.pk
    assert (a2, "activist", "person") not in after  # nothing required, nothing paired: no row
    assert after[(a2, "student", "person")] == (before[(a2, "student", "person")][0], 4, True)  # the same row
    assert {key: value for key, value in after.items() if key[0] != a2} == {
        key: value for key, value in before.items() if key[0] != a2
    }
