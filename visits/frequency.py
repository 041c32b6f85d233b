"""How often a member must be in touch with each paired contact, and where each pairing stands.

Pure functions over plain values, so the member's "due this week" page and the daily
reminder job work from one aggregate query (visits per pairing: count and last date).

A rule asks for at least `minimum` contacts per period with every contact it applies
to (by contact category and member role; empty matches all). All applicable rules
hold at once: an activist contact falls under "3 a term" and "1 a month". A policy
without frequency rules uses the school rule below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum

PERIOD_DAYS = {"week": 7, "month": 30}
DUE_SOON_DAYS = 7


@dataclass(frozen=True)
class Rule:
    contact_category: str  # "" for any
    member_role_id: int | None
    period: str  # "term", "month" or "week"
    minimum: int

    def applies(self, *, contact_category: str, role_ids: frozenset[int]) -> bool:
        return (not self.contact_category or self.contact_category == contact_category) and (
            self.member_role_id is None or self.member_role_id in role_ids
        )


# 《党员联系群众制度》: at least 3 talks per contact a semester; activists at least monthly;
# leading cadres weekly with their student contacts (the role id is filled in at run time).
DEFAULT_RULES: tuple[tuple[str, str | None, str, int], ...] = (
    ("", None, "term", 3),
    ("activist", None, "month", 1),
    ("student", "leading_cadre", "week", 1),
)


class Standing(IntEnum):
    ON_TRACK = 0
    DUE_SOON = 1
    OVERDUE = 2

    @property
    def code(self) -> str:
        return ("on_track", "due_soon", "overdue")[self.value]


@dataclass(frozen=True)
class PairingFacts:
    pairing_id: int
    contact_category: str
    role_ids: frozenset[int]
    started_on: date
    term_starts_on: date
    term_ends_on: date
    visit_count: int
    last_visit_on: date | None


@dataclass(frozen=True)
class Status:
    standing: Standing
    due_on: date | None  # the next date by which a contact is due; None when nothing is due this term
    done: int
    required: int  # for the term rule(s), the highest minimum


def _due_date(rule: Rule, facts: PairingFacts) -> date | None:
    start = max(facts.started_on, facts.term_starts_on)
    if rule.period == "term":
        if facts.visit_count >= rule.minimum:
            return None
        # Spread over the term: the k-th contact is due k/minimum of the way through.
        length = (facts.term_ends_on - start).days
        return start + timedelta(days=length * (facts.visit_count + 1) // rule.minimum)
    interval = timedelta(days=PERIOD_DAYS[rule.period] // rule.minimum)
    return (facts.last_visit_on or start) + interval


def pairing_status(facts: PairingFacts, rules: Iterable[Rule], today: date) -> Status:
    due_dates = []
    required = 0
    for rule in rules:
        if not rule.applies(contact_category=facts.contact_category, role_ids=facts.role_ids):
            continue
        if rule.period == "term":
            required = max(required, rule.minimum)
        due = _due_date(rule, facts)
        if due is not None:
            due_dates.append(min(due, facts.term_ends_on))
    due_on = min(due_dates, default=None)
    if due_on is None:
        standing = Standing.ON_TRACK
    elif due_on < today:
        standing = Standing.OVERDUE
    elif due_on <= today + timedelta(days=DUE_SOON_DAYS):
        standing = Standing.DUE_SOON
    else:
        standing = Standing.ON_TRACK
    return Status(standing=standing, due_on=due_on, done=facts.visit_count, required=required)
