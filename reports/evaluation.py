"""What each item of the score sheet measures, read for a whole subtree in a fixed number of queries.

One aggregate query per item, whatever the number of members (set-based), then plain
arithmetic in `scoring`. The facts are read "as of" the earlier of today and the
term's last day, so a term that has ended always evaluates to the same result;
while a term is running its results are provisional.

- quota: Σ min(actual, required) / Σ required over the quota job's buckets.
- talk frequency: for each pairing, the contacts the frequency rules asked for by the
  day read and how many were made, exactly as the member's due page reads them
  (`pairings.frequency.pairing_status`: "3 a term" paced over the term, "1 a month" as
  never 30 days without a talk), the strictest rule winning; rate = Σ kept / Σ asked.
- requests: of the requests the member is responsible for whose deadline fell in the
  term (up to the as-of day), the share resolved or explained by the deadline.
- pledges: the mean of the secretary's ratings of the member's pledges for the term's
  year (excellent 1, good 0.8, fair 0.6, poor or not yet evaluated 0).
- satisfaction: (satisfied + basically satisfied) / answers (满意率).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Min, Q
from django.utils import timezone

from members.models import Member, Organisation
from pairings.frequency import pairing_status
from pairings.models import Pairing, QuotaStatus, Term
from pairings.selectors import quota_totals
from visits.pledges.models import Pledge, PledgeRating
from visits.requests.models import Request
from visits.requests.services import ANSWERED_STATES
from visits.selectors import pairing_facts, rules_for_term

from . import scoring
from .models import SATISFIED_RATINGS, ItemKind, SurveyResponse

PLEDGE_RATING_VALUE: dict[str, Decimal] = {
    PledgeRating.EXCELLENT: Decimal("1"),
    PledgeRating.GOOD: Decimal("0.8"),
    PledgeRating.FAIR: Decimal("0.6"),
    PledgeRating.POOR: Decimal("0"),
}


@dataclass
class MemberFacts:
    organisation_id: int
    rates: dict[str, Decimal | None] = field(default_factory=dict)
    survey_answers: int = 0


def as_of(term: Term, today: date | None = None) -> date:
    return min(today or timezone.localdate(), term.ends_on)


def _quota_rates(term: Term, subtree: str) -> dict[int, Decimal | None]:
    rows = (
        QuotaStatus.objects.filter(term=term, member__organisation__path__startswith=subtree)
        .values("member_id")
        .annotate(**quota_totals())
        .order_by()
    )
    return {row["member_id"]: scoring.rate(row["done"], row["required"]) for row in rows}


def frequency_reckoning_day(*, term: Term, ended_on: date | None, today: date | None = None) -> date:
    """The day the evaluation reads a pairing's frequency on: contacts due before it are late.

    While the term runs, today (as the member's due page); once the term or the pairing
    has ended, the day after its last day, so everything due by then is counted.
    """
    day = min(today or timezone.localdate(), term.ends_on + timedelta(days=1))
    if ended_on is not None:
        day = min(day, ended_on + timedelta(days=1))
    return day


def _frequency_rates(term: Term, subtree: str, today: date | None) -> dict[int, Decimal | None]:
    """Σ kept / Σ asked over each member's pairings, as `pairings.frequency.pairing_status` reads them."""
    rules = rules_for_term(term)
    until = as_of(term, today)
    pairings = Pairing.objects.filter(term=term, member__organisation__path__startswith=subtree)
    kept_by_member: dict[int, int] = defaultdict(int)
    asked_by_member: dict[int, int] = defaultdict(int)
    for facts, member_id, _user_id in pairing_facts(pairings, until=until):
        day = frequency_reckoning_day(term=term, ended_on=facts.ended_on, today=today)
        if day <= max(facts.started_on, term.starts_on):
            continue  # not active on any day read
        status = pairing_status(facts, rules, day)
        asked_by_member[member_id] += status.asked
        kept_by_member[member_id] += status.kept
    return {member_id: scoring.rate(kept_by_member[member_id], asked) for member_id, asked in asked_by_member.items()}


def _request_rates(term: Term, subtree: str, until: date) -> dict[int, Decimal | None]:
    rows = (
        Request.objects.filter(
            responsible__organisation__path__startswith=subtree, deadline__range=(term.starts_on, until)
        )
        .annotate(done_at=Min("transitions__at", filter=Q(transitions__to_state__in=ANSWERED_STATES)))
        .values_list("responsible_id", "deadline", "done_at")
        .order_by()
    )
    due: dict[int, int] = defaultdict(int)
    on_time: dict[int, int] = defaultdict(int)
    for member_id, deadline, done_at in rows:
        assert deadline is not None  # deadline__range leaves out requests without one
        due[member_id] += 1
        if done_at is not None and timezone.localdate(done_at) <= deadline:
            on_time[member_id] += 1
    return {member_id: scoring.rate(on_time[member_id], count) for member_id, count in due.items()}


def _pledge_rates(term: Term, subtree: str) -> dict[int, Decimal | None]:
    values: dict[int, list[Decimal]] = defaultdict(list)
    for member_id, rating in (
        Pledge.objects.filter(member__organisation__path__startswith=subtree, year=term.starts_on.year)
        .values_list("member_id", "rating")
        .order_by()
    ):
        values[member_id].append(PLEDGE_RATING_VALUE.get(rating, Decimal(0)))
    return {member_id: scoring.rate(sum(items, Decimal(0)), len(items)) for member_id, items in values.items()}


def _satisfaction(term: Term, subtree: str) -> dict[int, tuple[Decimal | None, int]]:
    rows = (
        SurveyResponse.objects.filter(term=term, member__organisation__path__startswith=subtree)
        .values("member_id")
        .annotate(answers=Count("id"), satisfied=Count("id", filter=Q(rating__in=SATISFIED_RATINGS)))
        .order_by()
    )
    return {row["member_id"]: (scoring.rate(row["satisfied"], row["answers"]), row["answers"]) for row in rows}


def collect_facts(*, term: Term, organisation: Organisation, today: date | None = None) -> dict[int, MemberFacts]:
    """The five rates of every member of the subtree: eight queries in all."""
    until = as_of(term, today)
    members = dict(
        Member.objects.filter(organisation__path__startswith=organisation.path)
        .values_list("id", "organisation_id")
        .order_by()
    )
    subtree = organisation.path
    quota = _quota_rates(term, subtree)
    frequency = _frequency_rates(term, subtree, today)
    requests = _request_rates(term, subtree, until)
    pledges = _pledge_rates(term, subtree)
    satisfaction = _satisfaction(term, subtree)
    facts = {}
    for member_id, organisation_id in members.items():
        satisfaction_rate, answers = satisfaction.get(member_id, (None, 0))
        facts[member_id] = MemberFacts(
            organisation_id=organisation_id,
            rates={
                ItemKind.QUOTA: quota.get(member_id),
                ItemKind.FREQUENCY: frequency.get(member_id),
                ItemKind.REQUESTS: requests.get(member_id),
                ItemKind.PLEDGES: pledges.get(member_id),
                ItemKind.SATISFACTION: satisfaction_rate,
            },
            survey_answers=answers,
        )
    return facts
