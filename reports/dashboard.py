"""The dashboard's figures for one organisation's subtree and one term, in a fixed number of queries.

Each figure is one grouped query, whatever the number of children or members:

- by child organisation: every child of a node has a path of the same length
  (`len(node.path) + Organisation.steplen`), so `Substr(path, 1, that length)` names the
  child a row lies under. Rows of the node itself have a shorter path and so group under
  the node's own path: the "directly in" bucket. The headline is the sum of all groups.
- by member: the members attached directly to the node (all of a branch or group without
  children), grouped on the member's id.

Definitions (as the evaluation and the ledgers use them):

- coverage: the subtree's contacts with an active pairing this term / all its contacts;
- quota completion: Σ min(actual, required) / Σ required over the quota job's rows;
- visits and help: visit logs of the term's pairings, by the member's organisation;
  money is the sum of "money" help, goods the declared value of "goods" help;
- requests: those recorded during the term, by the request's organisation; open is a state
  of `OPEN_STATES`, overdue an open one past its deadline, solved one that reached
  `ANSWERED_STATES` or any state after them (fed back, return-visited, closed);
- satisfaction: (satisfied + basically satisfied) / answers of the term's survey (满意率);
- grades: adjusted grade if a secretary set one, else the computed grade.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from liaison.paths import ancestor_paths
from members.models import Contact, Member, Organisation
from members.scoping import get_scope
from members.selectors import organisation_list
from pairings.models import Pairing, PairingStatus, QuotaStatus, Term
from pairings.selectors import quota_totals
from visits.models import HelpKind, Visit
from visits.requests.models import Request, RequestState
from visits.requests.services import OPEN_STATES, SOLVED_STATES

from . import scoring
from .models import SATISFIED_RATINGS, Evaluation, EvaluationPolicy, Grade, SurveyResponse, effective_grade

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

ZERO = Decimal(0)
DEFAULT_SATISFACTION_THRESHOLD = EvaluationPolicy._meta.get_field("satisfaction_threshold").default


@dataclass
class Figures:
    """The key figures of one group (a child organisation, a member, or the whole subtree)."""

    members: int = 0
    contacts: int = 0
    covered: int = 0
    quota_done: int = 0
    quota_required: int = 0
    visits: int = 0
    requests_open: int = 0
    requests_overdue: int = 0
    requests_solved: int = 0
    money: Decimal = ZERO
    goods: Decimal = ZERO
    answers: int = 0
    satisfied: int = 0

    def add(self, other: Figures) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    @property
    def coverage(self) -> Decimal | None:
        return scoring.rate(self.covered, self.contacts)

    @property
    def quota_completion(self) -> Decimal | None:
        return scoring.rate(self.quota_done, self.quota_required)

    @property
    def satisfaction(self) -> Decimal | None:
        return scoring.rate(self.satisfied, self.answers)

    @property
    def help_total(self) -> Decimal:
        return self.money + self.goods

    @property
    def is_empty(self) -> bool:
        return self == Figures()


@dataclass
class ChildRow:
    organisation: Organisation
    figures: Figures
    # The row of the node's own members and contacts, not of a child.
    is_direct: bool = False


@dataclass
class MemberRow:
    member_id: int
    name: str
    figures: Figures
    evaluation_id: int | None = None
    score: Decimal | None = None
    grade: str = ""

    @property
    def grade_label(self) -> str:
        return str(Grade(self.grade).label) if self.grade else ""


@dataclass
class Dashboard:
    organisation: Organisation
    term: Term
    until: date
    totals: Figures
    children: list[ChildRow]
    # The node's own members and contacts, when it also has children (else None).
    direct: Figures | None
    members: list[MemberRow]
    requests_by_state: list[tuple[str, str, int]]
    grades: list[tuple[str, str, int]]
    weeks: list[tuple[date, int]]
    satisfaction_threshold: int = DEFAULT_SATISFACTION_THRESHOLD
    breadcrumbs: list[Organisation] = field(default_factory=list)

    @property
    def organisation_rows(self) -> list[ChildRow]:
        """The children, then what sits directly in the organisation, if anything does."""
        rows = list(self.children)
        if self.direct is not None and not self.direct.is_empty:
            rows.append(ChildRow(self.organisation, self.direct, is_direct=True))
        return rows

    @property
    def satisfaction_line(self) -> Decimal:
        """The threshold as a rate: satisfaction below it triggers accountability (问责)."""
        return Decimal(self.satisfaction_threshold) / 100


# Grouping ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grouping:
    """Rows under `organisation`, grouped by child organisation, or by member directly in it."""

    organisation: Organisation
    by_member: bool = False

    @property
    def key_length(self) -> int:
        return len(self.organisation.path) + Organisation.steplen

    def within(self, member: str) -> Q:
        """Rows whose member (reached through the lookup `member`) is in the groups."""
        if self.by_member:
            return Q(**{f"{member}__organisation": self.organisation})
        return Q(**{f"{member}__organisation__path__startswith": self.organisation.path})

    def key(self, member: str) -> Any:
        if self.by_member:
            return F(member)
        return Substr(f"{member}__organisation__path", 1, self.key_length)


def _grouped(queryset: QuerySet, key: Any, **aggregates: Any) -> dict[Any, dict[str, Any]]:
    """One GROUP BY query: {group: {aggregate: value}}. `.order_by()` keeps default orderings out of the GROUP BY."""
    rows = queryset.annotate(group=key).values("group").annotate(**aggregates).order_by()
    return {row.pop("group"): row for row in rows}


def _figures(groups: dict[Any, Figures], key: Any) -> Figures:
    if key not in groups:
        groups[key] = Figures()
    return groups[key]


# Member-based figures: quota, visits and help, satisfaction --------------------------------


def _add_member_based(groups: dict[Any, Figures], term: Term, grouping: _Grouping) -> None:
    quota = _grouped(
        QuotaStatus.objects.filter(grouping.within("member"), term=term),
        grouping.key("member"),
        **quota_totals(),
    )
    for key, row in quota.items():
        figures = _figures(groups, key)
        figures.quota_done = row["done"] or 0
        figures.quota_required = row["required"] or 0

    # One row per visit and help item (LEFT JOIN): visits counted distinct, help amounts summed once each.
    visits = _grouped(
        Visit.objects.filter(grouping.within("pairing__member"), pairing__term=term),
        grouping.key("pairing__member"),
        visits=Count("id", distinct=True),
        money=Sum("help__amount", filter=Q(help__kind=HelpKind.MONEY)),
        goods=Sum("help__amount", filter=Q(help__kind=HelpKind.GOODS)),
    )
    for key, row in visits.items():
        figures = _figures(groups, key)
        figures.visits = row["visits"]
        figures.money = row["money"] or ZERO
        figures.goods = row["goods"] or ZERO

    answers = _grouped(
        SurveyResponse.objects.filter(grouping.within("member"), term=term),
        grouping.key("member"),
        answers=Count("id"),
        satisfied=Count("id", filter=Q(rating__in=SATISFIED_RATINGS)),
    )
    for key, row in answers.items():
        figures = _figures(groups, key)
        figures.answers = row["answers"]
        figures.satisfied = row["satisfied"]


def _term_requests(term: Term) -> QuerySet[Request]:
    return Request.objects.filter(created_at__date__range=(term.starts_on, term.ends_on))


# By child organisation ------------------------------------------------------------------------


def _organisation_figures(
    term: Term, organisation: Organisation, today: date
) -> tuple[dict[str, Figures], Counter[str]]:
    """Figures keyed by child path (or the node's own path), and the subtree's requests by state."""
    grouping = _Grouping(organisation)
    length = grouping.key_length
    subtree = Q(organisation__path__startswith=organisation.path)
    own_key = Substr("organisation__path", 1, length)
    groups: dict[str, Figures] = {}

    for key, row in _grouped(Member.objects.filter(subtree), own_key, count=Count("id")).items():
        _figures(groups, key).members = row["count"]

    paired = Pairing.objects.filter(contact=OuterRef("pk"), term=term, status=PairingStatus.ACTIVE)
    contacts = _grouped(
        Contact.objects.filter(subtree).annotate(is_covered=Exists(paired)),
        own_key,
        count=Count("id"),
        covered=Count("id", filter=Q(is_covered=True)),
    )
    for key, row in contacts.items():
        figures = _figures(groups, key)
        figures.contacts = row["count"]
        figures.covered = row["covered"]

    _add_member_based(groups, term, grouping)

    by_state: Counter[str] = Counter()
    rows = (
        _term_requests(term)
        .filter(subtree)
        .annotate(group=own_key)
        .values("group", "state")
        .annotate(count=Count("id"), overdue=Count("id", filter=Q(deadline__lt=today, state__in=OPEN_STATES)))
        .order_by()
    )
    for row in rows:
        figures = _figures(groups, row["group"])
        by_state[row["state"]] += row["count"]
        if row["state"] in OPEN_STATES:
            figures.requests_open += row["count"]
        if row["state"] in SOLVED_STATES:
            figures.requests_solved += row["count"]
        figures.requests_overdue += row["overdue"]
    return groups, by_state


# By member ------------------------------------------------------------------------------------


def _member_rows(term: Term, organisation: Organisation) -> list[MemberRow]:
    """One row per member attached directly to the organisation: six queries, or one when there is none."""
    members = list(Member.objects.filter(organisation=organisation).values_list("id", "name").order_by("name", "id"))
    if not members:
        return []
    grouping = _Grouping(organisation, by_member=True)
    groups: dict[int, Figures] = {}
    _add_member_based(groups, term, grouping)
    solved = _grouped(
        _term_requests(term).filter(grouping.within("responsible"), state__in=SOLVED_STATES),
        grouping.key("responsible"),
        count=Count("id"),
    )
    for key, row in solved.items():
        _figures(groups, key).requests_solved = row["count"]
    evaluations = {
        row["member_id"]: row
        for row in Evaluation.objects.filter(term=term, member__organisation=organisation).values(
            "id", "member_id", "score", grade=effective_grade()
        )
    }
    rows = []
    for member_id, name in members:
        evaluation = evaluations.get(member_id)
        rows.append(
            MemberRow(
                member_id=member_id,
                name=name,
                figures=groups.get(member_id, Figures()),
                evaluation_id=evaluation["id"] if evaluation else None,
                score=evaluation["score"] if evaluation else None,
                grade=evaluation["grade"] if evaluation else "",
            )
        )
    return rows


# The whole page -------------------------------------------------------------------------------


def _grades(term: Term, organisation: Organisation) -> list[tuple[str, str, int]]:
    counts = dict(
        Evaluation.objects.filter(term=term, member__organisation__path__startswith=organisation.path)
        .annotate(final_grade=effective_grade())
        .exclude(final_grade="")
        .values_list("final_grade")
        .annotate(count=Count("id"))
        .order_by()
    )
    return [(grade.value, str(grade.label), counts[grade.value]) for grade in Grade if counts.get(grade.value)]


def _weeks(term: Term, organisation: Organisation, until: date) -> list[tuple[date, int]]:
    """Visits per week from the term's first day (week 1 = days 1-7) up to `until`."""
    if until < term.starts_on:
        return []
    per_week = [0] * ((until - term.starts_on).days // 7 + 1)
    for happened_on, count in (
        Visit.objects.filter(
            pairing__term=term,
            pairing__member__organisation__path__startswith=organisation.path,
            happened_on__range=(term.starts_on, until),
        )
        .values_list("happened_on")
        .annotate(count=Count("id"))
        .order_by()
    ):
        per_week[(happened_on - term.starts_on).days // 7] += count
    return [(term.starts_on + timedelta(weeks=index), count) for index, count in enumerate(per_week)]


def _satisfaction_threshold(term: Term) -> int:
    threshold = EvaluationPolicy.objects.filter(term=term).values_list("satisfaction_threshold", flat=True).first()
    return DEFAULT_SATISFACTION_THRESHOLD if threshold is None else threshold


def dashboard_get(*, user: User | AnonymousUser, organisation: Organisation, term: Term, today: date) -> Dashboard:
    """Everything the dashboard shows for the organisation's subtree in the term.

    Seventeen queries at most, whatever the number of children or members: the children,
    six figures grouped by child, up to six for the rows of the members attached directly to
    the organisation, the grades, the visits per day, the satisfaction line and the breadcrumb.
    """
    if not get_scope(user).reads(organisation):
        raise PermissionDenied(_("You cannot read this organisation's figures."))
    until = min(today, term.ends_on)
    # Read from the tree itself rather than `numchild`, which a stale instance may have wrong.
    children = list(
        Organisation.objects.filter(depth=organisation.depth + 1, path__startswith=organisation.path).order_by("path")
    )
    groups, by_state = _organisation_figures(term, organisation, today)

    totals = Figures()
    for figures in groups.values():
        totals.add(figures)
    child_rows = [ChildRow(child, groups.get(child.path, Figures())) for child in children]
    direct = None
    if children:
        direct = groups.get(organisation.path, Figures())
    return Dashboard(
        organisation=organisation,
        term=term,
        until=until,
        totals=totals,
        children=child_rows,
        direct=direct,
        members=_member_rows(term, organisation),
        requests_by_state=[
            (state.value, str(state.label), by_state[state.value]) for state in RequestState if by_state[state.value]
        ],
        grades=_grades(term, organisation),
        weeks=_weeks(term, organisation, until),
        satisfaction_threshold=_satisfaction_threshold(term),
        breadcrumbs=breadcrumb_list(user=user, organisation=organisation),
    )


def breadcrumb_list(*, user: User | AnonymousUser, organisation: Organisation) -> list[Organisation]:
    """The organisation's ancestors the user may read, root first: one query (none at a root)."""
    paths = ancestor_paths(organisation.path)
    if not paths:
        return []
    return list(organisation_list(user=user).filter(path__in=paths).order_by("path"))
