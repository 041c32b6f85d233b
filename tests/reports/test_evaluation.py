"""The evaluation: a hand-computed fixture of members, the 80% boundary, re-runs and adjustments."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from members.models import ContactCategory
from pairings import services as pairing_services
from pairings.frequency import PairingFacts, Rule, Standing, pairing_status
from pairings.models import FrequencyRule, QuotaRule
from reports import scoring, services
from reports.models import Evaluation, GradeAdjustment, ItemKind, SurveyResponse
from tests.conftest import open_term
from tests.factories import ContactFactory, MemberFactory
from visits import services as visit_services
from visits.models import Visit
from visits.pledges import services as pledges
from visits.requests import services as requests
from visits.requests.models import RequestSource, RequestState
from visits.services import VisitData

pytestmark = pytest.mark.django_db

AFTER_TERM = date(2027, 2, 1)


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=10)))


def visits(pairing, count):
    for day in range(count):
        Visit.objects.create(
            pairing=pairing,
            happened_on=date(2026, 9, 10 + day),
            mode="talk",
            discussed="谈心",
            created_by=pairing.member.user,
        )


def answer(term, member, *ratings):
    for rating in ratings:
        SurveyResponse.objects.create(term=term, member=member, rating=rating, submitted_on=date(2027, 1, 5))


def assigned_request(world, *, deadline, resolved_on):
    secretary = world.secretary_a.user
    with time_machine.travel(at(date(2026, 10, 1))):
        request = requests.request_create(
            organisation=world.branch_a, source=RequestSource.RECEPTION_DAY, summary="路灯不亮", by=secretary
        )
        request = requests.request_transition(
            request=request,
            to_state=RequestState.ASSIGNED,
            by=secretary,
            responsible=world.member_a1,
            deadline=deadline,
        )
    with time_machine.travel(at(resolved_on)):
        requests.request_transition(request=request, to_state=RequestState.RESOLVED, by=secretary)


@pytest.fixture
def scored_term(world):
    """Two members whose scores were worked out by hand (default sheet: 25/25/15/15/20).

    member_a1: quota 2 of 2 (1.0); talks 3 + 1 of 3 + 3 (0.6667); requests 1 of 2 on time
    (0.5); one pledge rated good (0.8); satisfaction 4 of 5 (0.8, exactly the line).
        25 + 16.6675 + 7.5 + 12 + 16 = 77.1675 of 100 → 77.2, competent, no accountability.
    member_a2: quota 1 of 2 (0.5); talks 3 of 3 (1.0); no requests, no pledge (left out);
    satisfaction 3 of 4 (0.75, below the line).
        (12.5 + 25 + 15) / 70 points = 75.0, competent (the threshold exactly), accountability.
    """
    term = open_term(world)
    QuotaRule.objects.filter(policy__term=term).delete()
    QuotaRule.objects.create(policy=term.policy, contact_category="", unit="person", required=2)
    FrequencyRule.objects.create(policy=term.policy, period="term", minimum=3)
    extra = ContactFactory.create(organisation=world.branch_a)
    first = pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    second = pairing_services.pairing_create(member=world.member_a1, contact=extra, term=term)
    third = pairing_services.pairing_create(member=world.member_a2, contact=world.contact_a2, term=term)
    for pairing in (first, second, third):
        pairing.started_on = term.starts_on
        pairing.save()
    visits(first, 3)
    visits(second, 1)
    visits(third, 3)
    assigned_request(world, deadline=date(2026, 10, 20), resolved_on=date(2026, 10, 18))
    assigned_request(world, deadline=date(2026, 11, 20), resolved_on=date(2026, 11, 25))
    pledge = pledges.pledge_create(member=world.member_a1, by=world.member_a1.user, year=2026, title="帮扶一名学困生")
    pledges.pledge_make_public(pledge=pledge, by=world.member_a1.user, made_public_on=date(2026, 9, 5))
    pledges.pledge_report(pledge=pledge, by=world.member_a1.user, report="已完成")
    pledges.pledge_evaluate(pledge=pledge, by=world.secretary_a.user, rating="good")
    answer(term, world.member_a1, "satisfied", "satisfied", "basically_satisfied", "satisfied", "dissatisfied")
    answer(term, world.member_a2, "satisfied", "dissatisfied", "basically_satisfied", "satisfied")
    return term


def test_scores_and_grades_match_the_hand_computed_fixture(world, scored_term):
    count = services.evaluate(term=scored_term, organisation=world.branch_a, today=AFTER_TERM)

    assert count == 3  # secretary_a is a member of the branch too
    first = Evaluation.objects.get(term=scored_term, member=world.member_a1)
    assert (first.quota_rate, first.frequency_rate, first.requests_rate) == (
        Decimal("1"),
        Decimal("0.6667"),
        Decimal("0.5"),
    )
    assert (first.pledges_rate, first.satisfaction_rate, first.survey_answers) == (Decimal("0.8"), Decimal("0.8"), 5)
    assert first.score == Decimal("77.2")
    assert first.grade == "competent"
    assert first.accountability is False

    second = Evaluation.objects.get(term=scored_term, member=world.member_a2)
    assert (second.quota_rate, second.frequency_rate, second.satisfaction_rate) == (
        Decimal("0.5"),
        Decimal("1"),
        Decimal("0.75"),
    )
    assert second.requests_rate is None and second.pledges_rate is None
    assert second.score == Decimal("75.0")
    assert second.grade == "competent"
    assert second.accountability is True

    # Paired with nobody though the policy asks for two: nothing done, nothing else applies.
    secretary = Evaluation.objects.get(term=scored_term, member=world.secretary_a)
    assert (secretary.quota_rate, secretary.score, secretary.grade) == (Decimal("0"), Decimal("0.0"), "incompetent")


def test_the_evaluation_covers_only_the_subtree_asked_for(world, scored_term):
    services.evaluate(term=scored_term, organisation=world.branch_b, today=AFTER_TERM)

    assert set(Evaluation.objects.values_list("member", flat=True)) == {world.secretary_b.pk}


def test_rerunning_gives_the_same_results_and_keeps_the_adjustment(world, scored_term):
    services.evaluate(term=scored_term, organisation=world.branch_a, today=AFTER_TERM)
    fields = ["member", "score", "computed_grade", "quota_rate", "frequency_rate", "satisfaction_rate"]
    before = list(Evaluation.objects.order_by("member").values_list(*fields))
    evaluation = Evaluation.objects.get(member=world.member_a2)
    services.grade_adjust(
        evaluation=evaluation, to_grade="excellent", reason="群众来信表扬，支部会议同意", by=world.secretary_a.user
    )

    services.evaluate(term=scored_term, organisation=world.branch_a, today=AFTER_TERM)

    assert list(Evaluation.objects.order_by("member").values_list(*fields)) == before
    evaluation.refresh_from_db()
    assert (evaluation.computed_grade, evaluation.grade) == ("competent", "excellent")


def test_a_grade_adjustment_needs_a_reason_and_is_kept_in_history(world, scored_term):
    services.evaluate(term=scored_term, organisation=world.branch_a, today=AFTER_TERM)
    evaluation = Evaluation.objects.get(member=world.member_a1)

    with pytest.raises(ValidationError):
        services.grade_adjust(evaluation=evaluation, to_grade="excellent", reason="  ", by=world.secretary_a.user)
    services.grade_adjust(
        evaluation=evaluation, to_grade="excellent", reason="获评优秀志愿者", by=world.secretary_a.user
    )
    services.grade_adjust(evaluation=evaluation, to_grade="competent", reason="撤回", by=world.secretary_a.user)

    evaluation.refresh_from_db()
    assert evaluation.grade == "competent" and evaluation.adjusted_grade == ""
    assert list(GradeAdjustment.objects.filter(evaluation=evaluation).values_list("from_grade", "to_grade")) == [
        ("competent", "excellent"),
        ("excellent", "competent"),
    ]


def test_only_the_members_secretary_adjusts_a_grade(world, scored_term):
    services.evaluate(term=scored_term, organisation=world.branch_a, today=AFTER_TERM)
    evaluation = Evaluation.objects.get(member=world.member_a1)

    for user in (world.secretary_b.user, world.member_a1.user, world.inspector):
        with pytest.raises(PermissionDenied):
            services.grade_adjust(evaluation=evaluation, to_grade="excellent", reason="x", by=user)


def test_a_closed_term_is_evaluated_from_the_quota_stored_at_closing(world, scored_term):
    pairing_services.term_close(term=scored_term)
    # The next term carries the pairings over and ends them in this one.
    with time_machine.travel(date(2027, 2, 20)):
        pairing_services.term_open(
            previous=scored_term, name="2027春", kind="semester", starts_on=date(2027, 2, 20), ends_on=date(2027, 7, 10)
        )

    services.evaluate(term=scored_term, organisation=world.branch_a, today=date(2027, 3, 1))

    assert Evaluation.objects.get(member=world.member_a1).quota_rate == Decimal("1")


def test_the_evaluation_job_reads_a_fixed_number_of_queries(world, scored_term, django_assert_max_num_queries):
    for index in range(30):
        pairing_services.pairing_create(
            member=world.member_a2,
            contact=ContactFactory.create(organisation=world.branch_a, name=f"群众{index}"),
            term=scored_term,
        )
    services.evaluation_policy_for(scored_term)
    # The quota job (its lock, five reads, the stored rows, an upsert), the policy, its lock and
    # its items, the members, seven aggregates, the days of the visits (talk frequency reads
    # them as the due page does), one upsert, and six savepoints: the same for 3 members or 3,000.
    with django_assert_max_num_queries(27):
        services.evaluate(term=scored_term, organisation=world.committee, today=AFTER_TERM)


# The pure parts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("satisfaction", "flagged"),
    [(Decimal("0.8"), False), (Decimal("0.7999"), True), (Decimal("1"), False), (None, False)],
)
def test_accountability_is_raised_strictly_below_the_threshold(satisfaction, flagged):
    assert scoring.needs_accountability(satisfaction, 80) is flagged


def test_the_threshold_is_configurable(world, scored_term):
    policy = services.evaluation_policy_for(scored_term)
    services.evaluation_policy_save(
        policy=policy,
        points=dict(policy.items.values_list("kind", "points")),
        excellent_from=90,
        competent_from=75,
        basically_competent_from=60,
        satisfaction_threshold=70,
    )

    services.evaluate(term=scored_term, organisation=world.branch_a, today=AFTER_TERM)

    assert not Evaluation.objects.filter(accountability=True).exists()


def test_the_items_must_add_up_to_100_points(world, scored_term):
    policy = services.evaluation_policy_for(scored_term)
    points = dict(policy.items.values_list("kind", "points")) | {ItemKind.SATISFACTION: 30}

    with pytest.raises(ValidationError, match="110"):
        services.evaluation_policy_save(
            policy=policy,
            points=points,
            excellent_from=90,
            competent_from=75,
            basically_competent_from=60,
            satisfaction_threshold=80,
        )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("90.0"), "excellent"),
        (Decimal("89.9"), "competent"),
        (Decimal("75.0"), "competent"),
        (Decimal("74.9"), "basically_competent"),
        (Decimal("60.0"), "basically_competent"),
        (Decimal("59.9"), "incompetent"),
        (None, ""),
    ],
)
def test_grades_follow_the_thresholds(value, expected):
    assert scoring.grade(value, scoring.Thresholds(90, 75, 60)) == expected


def test_frequency_asks_what_the_due_page_asks_and_the_strictest_rule_wins():
    rules = [Rule("", None, "term", 3), Rule("activist", None, "month", 1)]
    after_term = date(2027, 1, 21)

    def status(category, talks, day=after_term):
        facts = PairingFacts(1, category, frozenset(), date(2026, 9, 1), date(2026, 9, 1), date(2027, 1, 20), talks)
        return pairing_status(facts, rules, day)

    # A student paired for the whole term: 3 talks asked, whenever they happen.
    assert (status("student", ()).kept, status("student", ()).asked) == (0, 3)
    late = (date(2027, 1, 10), date(2027, 1, 11), date(2027, 1, 12))
    assert (status("student", late).kept, status("student", late).asked) == (3, 3)
    # An activist: never 30 days without a talk beats three a term. The stretches end on
    # 1 Oct, 31 Oct, 30 Nov and 30 Dec; the next would end after the term.
    assert (status("activist", ()).kept, status("activist", ()).asked) == (0, 4)
    monthly = (date(2026, 9, 20), date(2026, 10, 15), date(2026, 11, 10), date(2026, 12, 5), date(2027, 1, 1))
    assert (status("activist", monthly).kept, status("activist", monthly).asked) == (5, 5)
    # Before the first talk is due nothing is asked, so nothing is late.
    assert status("student", (), day=date(2026, 10, 18)).asked == 0


def _activist_pairing(world, talks=()):
    activist = ContactFactory.create(organisation=world.branch_a, category=ContactCategory.ACTIVIST, name="积极分子甲")
    with time_machine.travel(at(date(2026, 9, 1))):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=activist, term=term)
    for day in talks:
        with time_machine.travel(at(day)):
            visit_services.visit_log(
                user=world.member_a1.user,
                contact=activist,
                data=VisitData(happened_on=day, mode="talk", discussed="谈心"),
            )
    return term, activist


def _due_standing(client, world, activist, day):
    """What the member's due page says of the activist on that day."""
    with time_machine.travel(at(day)):
        client.force_login(world.member_a1.user)  # a session of that day: sessions last 8 hours
        rows = client.get(reverse("visits:due")).context["rows"]
    return next(status.standing for pairing, status in rows if pairing.contact_id == activist.pk)


def _frequency_rate(world, term, day):
    """The talk frequency item of member_a1's evaluation run on that day (the activist is their only pairing)."""
    with time_machine.travel(at(day)):
        services.evaluate(term=term, organisation=world.branch_a, today=day)
    return Evaluation.objects.get(term=term, member=world.member_a1).frequency_rate


FIRST_WEEK = [date(2026, 9, day) for day in range(2, 7)]  # five talks, 2 to 6 September


def test_an_activist_talked_to_only_in_the_first_week_is_overdue_and_below_full_frequency(client, world):
    term, activist = _activist_pairing(world, FIRST_WEEK)
    assert _due_standing(client, world, activist, date(2026, 10, 6)) == Standing.DUE_SOON
    assert _frequency_rate(world, term, date(2026, 10, 6)) == 1
    assert _due_standing(client, world, activist, date(2026, 10, 7)) == Standing.OVERDUE
    assert _frequency_rate(world, term, date(2026, 10, 7)) == Decimal("0.5")
    assert _due_standing(client, world, activist, date(2026, 10, 15)) == Standing.OVERDUE
    assert _frequency_rate(world, term, date(2026, 10, 15)) == Decimal("0.5")


def test_an_activist_talked_to_within_every_month_is_on_track_and_at_full_frequency(client, world):
    term, activist = _activist_pairing(world, [*FIRST_WEEK, date(2026, 10, 3)])
    assert _due_standing(client, world, activist, date(2026, 10, 15)) == Standing.ON_TRACK
    assert _frequency_rate(world, term, date(2026, 10, 15)) == 1


@pytest.mark.parametrize(
    ("talks", "day", "standing", "rate"),
    [
        ([], date(2026, 9, 20), Standing.ON_TRACK, None),  # nothing asked yet
        ([], date(2026, 10, 2), Standing.OVERDUE, Decimal("0")),  # the first month went by without a talk
        ([date(2026, 9, 25)], date(2026, 10, 20), Standing.DUE_SOON, Decimal("1")),  # due by 25 October
        ([date(2026, 9, 25)], date(2026, 10, 26), Standing.OVERDUE, Decimal("0.5")),  # a month and a day on
        # October's stretch was missed (5 Oct) and stays missed; the member is back on track now.
        ([date(2026, 9, 5), date(2026, 10, 20)], date(2026, 10, 25), Standing.ON_TRACK, Decimal("0.6667")),
        (
            [date(2026, 9, 5), date(2026, 10, 2), date(2026, 10, 30)],
            date(2026, 11, 20),
            Standing.ON_TRACK,
            Decimal("1"),
        ),
    ],
)
def test_the_due_page_and_the_evaluation_agree_on_an_activist(client, world, talks, day, standing, rate):
    term, activist = _activist_pairing(world, talks)
    assert _due_standing(client, world, activist, day) == standing
    assert _frequency_rate(world, term, day) == rate


def test_deleting_a_member_never_erases_their_evaluation_or_the_publics_answers(world, term):
    member = MemberFactory.create(organisation=world.branch_a)
    Evaluation.objects.create(term=term, member=member, organisation=world.branch_a, computed_at=timezone.now())
    SurveyResponse.objects.create(term=term, member=member, rating="satisfied", submitted_on=term.starts_on)
    with pytest.raises(ProtectedError):
        member.delete()
    assert Evaluation.objects.filter(member=member).exists()
    assert SurveyResponse.objects.filter(member=member).exists()
