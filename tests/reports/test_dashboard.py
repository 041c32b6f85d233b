"""The dashboard: hand-computed figures, drill-down committee → branch → member, scope, query counts."""

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from pairings import services as pairing_services
from pairings.models import QuotaRule
from reports import services as report_services
from reports.dashboard import SOLVED_STATES, dashboard_get
from reports.models import Evaluation, SurveyResponse
from tests.conftest import browser_log_in, open_term
from tests.factories import ContactFactory, MemberFactory, OrganisationFactory
from visits.models import Visit, VisitHelp
from visits.requests import services as requests
from visits.requests.models import RequestSource, RequestState
from visits.services import HelpGiven, VisitData, visit_log

pytestmark = pytest.mark.django_db

TODAY = date(2026, 10, 15)


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=10)))


def dashboard_url(organisation=None, term=None) -> str:
    query = []
    if organisation is not None:
        query.append(f"organisation={organisation.pk}")
    if term is not None:
        query.append(f"term={term.pk}")
    return reverse("reports:dashboard") + ("?" + "&".join(query) if query else "")


def get(client, url):
    with time_machine.travel(at(TODAY)):
        return client.get(url)


@pytest.fixture
def term(world):
    """Every member must pair with 2 contacts of any category (the school rule is replaced)."""
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
    QuotaRule.objects.filter(policy__term=term).delete()
    QuotaRule.objects.create(policy=term.policy, contact_category="", unit="person", required=2)
    return term


def answer(term, member, *ratings):
    for rating in ratings:
        SurveyResponse.objects.create(term=term, member=member, rating=rating, submitted_on=date(2026, 10, 1))


def record_request(world, *, on, organisation=None, summary="路灯不亮"):
    with time_machine.travel(at(on)):
        return requests.request_create(
            organisation=organisation or world.branch_a,
            source=RequestSource.RECEPTION_DAY,
            summary=summary,
            by=world.administrator,
        )


def move(world, request, *states, on, **kwargs):
    with time_machine.travel(at(on)):
        for state in states:
            request = requests.request_transition(request=request, to_state=state, by=world.administrator, **kwargs)
            kwargs = {}
    return request


@pytest.fixture
def figures(world, term):
    """A small term whose figures were worked out by hand.

    Contacts: a1 and a2 in branch A, two more in group A1, contact_b in branch B.
    Pairings: member_a1 with a1 and both group contacts (3 for a quota of 2), member_a2 with a2.
        coverage: committee 4 of 5 (80%); branch A 4 of 4; branch B 0 of 1.
    Quota (2 each for secretary_a, member_a1, member_a2, secretary_b):
        min(3, 2) + 1 + 0 + 0 = 3 of 8 (37.5%); branch A 3 of 6 (50%); branch B 0 of 2.
    Visits: member_a1 on 09-03 (money 100) and 10-14 (money 200.50, goods worth 80);
        member_a2 on 10-10 (encouragement): 3 visits, money 300.50, goods 80.00.
    Survey: member_a1 satisfied, basically satisfied, dissatisfied; member_a2 satisfied;
        secretary_b dissatisfied: committee 3 of 5 (60%); branch A 3 of 4 (75%); B 0 of 1.
    Requests (recorded in the term unless said): in A, one assigned to member_a1 due 10-10 and
        still assigned (open, overdue); one assigned to member_a2 due 10-20, resolved and fed back
        (solved); in B one received (open, no deadline); in A one recorded before the term (left out).
        → open 2, overdue 1, solved 1.
    """
    extra_1 = ContactFactory.create(name="组内一", organisation=world.group_a1)
    extra_2 = ContactFactory.create(name="组内二", organisation=world.group_a1)
    with time_machine.travel(date(2026, 9, 1)):
        for member, contact in (
            (world.member_a1, world.contact_a1),
            (world.member_a1, extra_1),
            (world.member_a1, extra_2),
            (world.member_a2, world.contact_a2),
        ):
            pairing_services.pairing_create(member=member, contact=contact, term=term)
    pairing_services.quota_compute(term=term, organisation=world.committee)

    with time_machine.travel(at(TODAY)):
        visit_log(
            user=world.member_a1.user,
            contact=world.contact_a1,
            data=VisitData(
                happened_on=date(2026, 9, 3),
                mode="home_visit",
                discussed="学业",
                help=[HelpGiven(kind="money", amount=Decimal("100"))],
            ),
        )
        visit_log(
            user=world.member_a1.user,
            contact=world.contact_a1,
            data=VisitData(
                happened_on=date(2026, 10, 14),
                mode="talk",
                discussed="生活",
                help=[
                    HelpGiven(kind="money", amount=Decimal("200.50")),
                    HelpGiven(kind="goods", description="大米两袋", amount=Decimal("80")),
                ],
            ),
        )
        visit_log(
            user=world.member_a2.user,
            contact=world.contact_a2,
            data=VisitData(
                happened_on=date(2026, 10, 10),
                mode="talk",
                discussed="工作",
                help=[HelpGiven(kind="encouragement")],
            ),
        )

    answer(term, world.member_a1, "satisfied", "basically_satisfied", "dissatisfied")
    answer(term, world.member_a2, "satisfied")
    answer(term, world.secretary_b, "dissatisfied")

    late = record_request(world, on=date(2026, 9, 20))
    move(
        world,
        late,
        RequestState.ASSIGNED,
        on=date(2026, 9, 20),
        responsible=world.member_a1,
        deadline=date(2026, 10, 10),
    )
    solved = record_request(world, on=date(2026, 10, 1), summary="助学金")
    move(
        world,
        solved,
        RequestState.ASSIGNED,
        on=date(2026, 10, 1),
        responsible=world.member_a2,
        deadline=date(2026, 10, 20),
    )
    move(world, solved, RequestState.RESOLVED, RequestState.FED_BACK, on=date(2026, 10, 12))
    record_request(world, on=date(2026, 10, 2), organisation=world.branch_b, summary="宿舍漏水")
    record_request(world, on=date(2026, 8, 20), summary="上学期的诉求")
    return term


def read(world, organisation, term, user=None):
    return dashboard_get(user=user or world.administrator, organisation=organisation, term=term, today=TODAY)


# Figures -------------------------------------------------------------------------------------


def test_headline_figures_match_the_hand_computed_fixture(world, figures):
    totals = read(world, world.committee, figures).totals

    assert (totals.members, totals.contacts, totals.covered) == (4, 5, 4)
    assert totals.coverage == Decimal("0.8")
    assert (totals.quota_done, totals.quota_required, totals.quota_completion) == (3, 8, Decimal("0.375"))
    assert totals.visits == 3
    assert (totals.money, totals.goods) == (Decimal("300.50"), Decimal("80.00"))
    assert (totals.requests_open, totals.requests_overdue, totals.requests_solved) == (2, 1, 1)
    assert (totals.answers, totals.satisfied, totals.satisfaction) == (5, 3, Decimal("0.6"))


def test_each_child_has_its_own_figures_and_they_add_up_to_the_headline(world, figures):
    dashboard = read(world, world.general, figures)

    rows = {row.organisation.code: row.figures for row in dashboard.organisation_rows}
    assert list(rows) == ["A", "B"]
    a, b = rows["A"], rows["B"]
    assert (a.members, a.contacts, a.coverage, a.quota_completion) == (3, 4, Decimal("1"), Decimal("0.5"))
    assert (b.members, b.contacts, b.coverage, b.quota_completion) == (1, 1, Decimal("0"), Decimal("0"))
    assert (a.visits, a.money, a.goods, a.satisfaction) == (3, Decimal("300.50"), Decimal("80.00"), Decimal("0.75"))
    assert (b.visits, b.money, b.satisfaction) == (0, Decimal("0"), Decimal("0"))
    assert (a.requests_open, a.requests_overdue, a.requests_solved) == (1, 1, 1)
    assert (b.requests_open, b.requests_overdue, b.requests_solved) == (1, 0, 0)
    assert dashboard.totals.members == a.members + b.members


def test_a_branch_with_a_group_shows_the_group_and_what_sits_directly_in_the_branch(world, figures):
    dashboard = read(world, world.branch_a, figures)

    group, direct = dashboard.organisation_rows
    assert (group.organisation, group.is_direct) == (world.group_a1, False)
    assert (group.figures.members, group.figures.contacts, group.figures.quota_completion) == (1, 2, Decimal("1"))
    assert (direct.organisation, direct.is_direct) == (world.branch_a, True)
    assert (direct.figures.members, direct.figures.contacts, direct.figures.quota_completion) == (2, 2, Decimal("0.25"))
    assert [row.name for row in dashboard.members] == ["甲书记", "甲党员二"]


def test_member_rows_show_quota_visits_requests_solved_help_and_satisfaction(world, figures):
    report_services.evaluate(term=figures, organisation=world.committee, today=TODAY)

    group = read(world, world.group_a1, figures)
    branch = read(world, world.branch_a, figures)

    (first,) = group.members
    assert first.name == "甲党员一"
    assert (first.figures.quota_completion, first.figures.visits, first.figures.requests_solved) == (Decimal("1"), 2, 0)
    assert first.figures.help_total == Decimal("380.50")
    assert (first.figures.answers, first.figures.satisfaction) == (3, Decimal("0.6667"))
    evaluation = Evaluation.objects.get(member=world.member_a1)
    assert (first.evaluation_id, first.score, first.grade) == (evaluation.pk, evaluation.score, evaluation.grade)
    second = next(row for row in branch.members if row.member_id == world.member_a2.pk)
    assert (second.figures.quota_completion, second.figures.visits, second.figures.requests_solved) == (
        Decimal("0.5"),
        1,
        1,
    )
    assert (second.figures.help_total, second.figures.answers, second.figures.satisfaction) == (0, 1, Decimal("1"))


def test_grades_count_the_adjusted_grade_over_the_computed_one(world, figures):
    report_services.evaluate(term=figures, organisation=world.committee, today=TODAY)
    evaluation = Evaluation.objects.get(member=world.member_a1)
    evaluation.adjusted_grade = "excellent" if evaluation.computed_grade != "excellent" else "competent"
    evaluation.save(update_fields=["adjusted_grade"])

    grades = {grade: count for grade, _label, count in read(world, world.committee, figures).grades}

    expected: dict[str, int] = {}
    for final in (e.adjusted_grade or e.computed_grade for e in Evaluation.objects.all()):
        expected[final] = expected.get(final, 0) + 1
    assert grades == expected
    assert sum(grades.values()) == 4


def test_solved_means_answered_or_any_later_state():
    assert set(SOLVED_STATES) == {"resolved", "explained", "fed_back", "return_visited", "closed"}


def test_talks_are_counted_per_week_from_the_term_start_up_to_today(world, figures):
    weeks = read(world, world.committee, figures).weeks

    assert weeks[0] == (date(2026, 9, 1), 1)  # 09-03
    assert len(weeks) == 7  # 09-01 … 10-15: weeks starting 09-01, 09-08, … 10-13
    assert weeks[5] == (date(2026, 10, 6), 1)  # 10-10
    assert weeks[6] == (date(2026, 10, 13), 1)  # 10-14
    assert sum(count for _week, count in weeks) == 3


def test_requests_by_state_count_only_the_terms_requests(world, figures):
    states = {state: count for state, _label, count in read(world, world.committee, figures).requests_by_state}

    assert states == {"received": 1, "assigned": 1, "fed_back": 1}


# The page ------------------------------------------------------------------------------------


def test_the_page_shows_the_figures_and_passes_the_chart_data_as_json(client, world, figures):
    client.force_login(world.administrator)

    response = get(client, dashboard_url(world.general))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="coverage">80.0%' in page
    assert 'data-testid="quota">37.5%' in page
    assert 'data-testid="money">300.50' in page
    assert 'data-testid="goods">80.00' in page
    assert 'data-testid="satisfaction">60.0%' in page
    assert 'data-testid="requests-overdue">1' in page
    assert "vendor/chartjs/chart.umd.min.js" in page
    data = json.loads(page.split('<script id="dashboard-data" type="application/json">')[1].split("</script>")[0])
    assert data["children"]["labels"] == ["甲党支部", "乙党支部"]
    assert data["children"]["datasets"][0]["values"] == [100.0, 0.0]
    assert data["children"]["datasets"][1]["values"] == [50.0, 0.0]
    assert sum(data["weeks"]["values"]) == 3


def test_the_page_is_in_chinese_by_default(client, world, figures):
    client.cookies.pop("django_language")
    client.force_login(world.administrator)

    page = get(client, dashboard_url()).content.decode()

    assert "联系对象" in page and "Contacts" not in page


def test_drill_down_from_the_committee_to_the_members(client, world, figures):
    report_services.evaluate(term=figures, organisation=world.committee, today=TODAY)
    client.force_login(world.administrator)
    link = 'href="{}"'

    committee = get(client, dashboard_url()).content.decode()
    assert link.format(dashboard_url(world.general, figures).replace("&", "&amp;")) in committee

    general = get(client, dashboard_url(world.general, figures)).content.decode()
    assert link.format(dashboard_url(world.branch_a, figures).replace("&", "&amp;")) in general
    assert link.format(dashboard_url(world.branch_b, figures).replace("&", "&amp;")) in general
    assert link.format(dashboard_url(world.committee, figures).replace("&", "&amp;")) in general  # breadcrumb

    branch_a = get(client, dashboard_url(world.branch_a, figures)).content.decode()
    assert link.format(dashboard_url(world.group_a1, figures).replace("&", "&amp;")) in branch_a
    assert "Directly in 甲党支部" in branch_a

    group = get(client, dashboard_url(world.group_a1, figures)).content.decode()
    evaluation = Evaluation.objects.get(member=world.member_a1)
    assert link.format(reverse("reports:evaluation_detail", args=[evaluation.pk])) in group
    assert 'data-testid="member-rows"' in group

    branch_b = get(client, dashboard_url(world.branch_b, figures)).content.decode()
    assert "乙书记" in branch_b and 'data-testid="children"' not in branch_b


# Who may see what ----------------------------------------------------------------------------


def test_members_and_outsiders_cannot_open_the_dashboard(client, world, figures):
    for user in (world.member_a1.user, world.outsider):
        client.force_login(user)
        assert get(client, dashboard_url()).status_code == 403


def test_a_secretary_cannot_open_another_branchs_dashboard(client, world, figures):
    client.force_login(world.secretary_b.user)

    assert get(client, dashboard_url(world.branch_a)).status_code == 404
    assert get(client, dashboard_url(world.general)).status_code == 404


def test_a_secretary_sees_only_their_branch(client, world, figures):
    client.force_login(world.secretary_b.user)

    response = get(client, dashboard_url())

    page = response.content.decode()
    assert response.context["organisation"] == world.branch_b
    assert 'data-testid="members">1<' in page and 'data-testid="contacts">1<' in page
    assert 'data-testid="money">0.00' in page
    assert "甲党员一" not in page and "甲党支部" not in page
    assert "教工党总支" not in page  # no breadcrumb to what the secretary cannot read


def test_the_inspector_reads_the_whole_committee(client, world, figures):
    client.force_login(world.inspector)

    response = get(client, dashboard_url())

    assert response.status_code == 200
    assert response.context["organisation"] == world.committee
    assert response.context["dashboard"].totals.contacts == 5


def test_an_unknown_organisation_is_not_found(client, world, figures):
    client.force_login(world.administrator)

    assert get(client, reverse("reports:dashboard") + "?organisation=abc").status_code == 404
    assert get(client, reverse("reports:dashboard") + "?organisation=999999").status_code == 404


# Queries -------------------------------------------------------------------------------------

# Queries for one dashboard, whatever the number of children or members:
# 1 session, 2 user, 3-5 scope (appointments, secretary organisations, member), 6 the term,
# 7 the organisation, 8 its children; grouped by child: 9 members, 10 contacts with coverage,
# 11 quota, 12 visits with help, 13 survey answers, 14 requests by state; for the members
# attached directly: 15 who they are, 16-18 quota, visits with help, answers, 19 requests
# solved, 20 evaluations; 21 grades, 22 visits per day, 23 the satisfaction line,
# 24 the breadcrumb, 25 unread notifications, 26 the terms to switch to, 27 the second factor
# (liaison.security: the session's device).
DASHBOARD_QUERY_BUDGET = 27


def busy_child(world, term, parent, index):
    """An organisation under `parent` with a member, a paired contact, a visit, an answer and a request."""
    branch = OrganisationFactory.create(parent=parent)
    member = MemberFactory.create(organisation=branch)
    contact = ContactFactory.create(organisation=branch)
    pairing = pairing_services.pairing_create(member=member, contact=contact, term=term)
    visit = Visit.objects.create(
        pairing=pairing, happened_on=date(2026, 9, 10), mode="talk", discussed="谈心", created_by=world.administrator
    )
    VisitHelp.objects.create(visit=visit, kind="money", amount=Decimal(index + 1))
    answer(term, member, "satisfied")
    record_request(world, on=date(2026, 9, 15), organisation=branch)
    return branch


@pytest.mark.parametrize("count", [3, 30])
def test_a_node_with_many_children_costs_a_constant_number_of_queries(
    client, world, term, count, django_assert_max_num_queries
):
    with time_machine.travel(date(2026, 9, 1)):
        for index in range(count):
            busy_child(world, term, world.general, index)
    report_services.evaluate(term=term, organisation=world.committee, today=TODAY)
    client.force_login(world.administrator)

    with django_assert_max_num_queries(DASHBOARD_QUERY_BUDGET):
        response = get(client, dashboard_url(world.general, term))

    assert len(response.context["dashboard"].children) == count + 2
    assert response.context["dashboard"].totals.visits == count


@pytest.mark.parametrize("count", [5, 60])
def test_a_branch_with_many_members_costs_a_constant_number_of_queries(
    client, world, term, count, django_assert_max_num_queries
):
    with time_machine.travel(date(2026, 9, 1)):
        for _index in range(count):
            member = MemberFactory.create(organisation=world.branch_b)
            contact = ContactFactory.create(organisation=world.branch_b)
            pairing = pairing_services.pairing_create(member=member, contact=contact, term=term)
            Visit.objects.create(
                pairing=pairing,
                happened_on=date(2026, 9, 10),
                mode="talk",
                discussed="谈心",
                created_by=world.administrator,
            )
            answer(term, member, "satisfied")
    report_services.evaluate(term=term, organisation=world.committee, today=TODAY)
    client.force_login(world.administrator)

    with django_assert_max_num_queries(DASHBOARD_QUERY_BUDGET):
        response = get(client, dashboard_url(world.branch_b, term))

    rows = response.context["dashboard"].members
    assert len(rows) == count + 1  # and secretary_b
    assert all(row.evaluation_id for row in rows)


# In a browser ----------------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}


@pytest.mark.browser
def test_the_charts_draw_from_the_vendored_chartjs_on_a_phone(browser, live_server, world_committed):
    world = world_committed
    term = open_term(world)
    for member, contact in ((world.member_a1, world.contact_a1), (world.member_a2, world.contact_a2)):
        pairing = pairing_services.pairing_create(member=member, contact=contact, term=term, started_on=term.starts_on)
        Visit.objects.create(
            pairing=pairing, happened_on=term.starts_on, mode="talk", discussed="谈心", created_by=member.user
        )
    pairing_services.quota_compute(term=term, organisation=world.committee)
    requests.request_create(
        organisation=world.branch_a, source=RequestSource.HOTLINE, summary="路灯不亮", by=world.administrator
    )
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            errors.append(response.url)
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    browser_log_in(page, live_server.url, "administrator", "a-long-test-password-42", secrets={})
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}{dashboard_url(world.general, term)}")

    for chart in ("chart-weeks", "chart-states", "chart-children"):
        assert page.evaluate(f"Chart.getChart('{chart}') !== undefined"), chart
    assert page.evaluate("Chart.getChart('chart-children').data.datasets[0].data") == [100, 0]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert errors == []
    context.close()
