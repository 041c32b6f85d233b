"""How often a member must be in touch with each paired contact, and where each pairing stands.

Pure functions over plain values. `pairing_status` is the one reading of the rules: the
member's "due this week" page, the daily reminder job and the evaluation's talk
frequency item all call it, so they cannot disagree.

A rule asks for at least `minimum` contacts per period with every contact it applies
to (by contact category and member role; empty matches all). All applicable rules
hold at once: an activist contact falls under "3 a term" and "1 a month". A policy
without frequency rules uses the school rule below.

How a rule is read (`rule_progress`):
- "N a term": the k-th talk is due k/N of the way through the pairing's part of the
  term; talks count whenever they happen (a late talk catches up).
- "N a month" / "N a week": never more than period/N days (30/N, 7/N) without a talk,
  counted from the pairing's start, then from each talk. Talks bunched together do not
  carry over: five talks in the first week of September leave October uncovered. Each
  stretch that ended without a talk is a contact missed, and stays missed. A stretch
  that would end after the term is not due this term.
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
    talks: tuple[date, ...]  # the days of the pairing's visits and talks, oldest first
    ended_on: date | None = None

    @property
    def visit_count(self) -> int:
        return len(self.talks)


@dataclass(frozen=True)
class Status:
    standing: Standing
    due_on: date | None  # the next date by which a contact is due; None when nothing is due this term
    done: int  # talks so far
    required: int  # for the term rule(s), the highest minimum
    # For the evaluation: of the contacts the strictest applicable rule has asked for up to
    # the day, how many were made (kept <= asked; both 0 when nothing is asked yet).
    kept: int = 0
    asked: int = 0


@dataclass(frozen=True)
class RuleProgress:
    due_on: date | None  # when the next contact is (or was, if overdue) due; None when none is due this term
    kept: int  # contacts asked for and made
    asked: int  # contacts asked for by the day: made, or due before it


def rule_progress(rule: Rule, facts: PairingFacts, today: date) -> RuleProgress:
    """Where one rule stands for one pairing on `today` (a contact due before `today` is late)."""
    start = max(facts.started_on, facts.term_starts_on)
    talks = [talk for talk in facts.talks if talk >= start]
    if rule.period == "term":
        # Spread over the term: the k-th contact is due k/minimum of the way through.
        length = (facts.term_ends_on - start).days
        deadlines = [start + timedelta(days=length * k // rule.minimum) for k in range(1, rule.minimum + 1)]
        count = len(talks)
        passed = sum(1 for deadline in deadlines if deadline < today)
        asked = max(min(count, rule.minimum), passed)
        due_on = deadlines[count] if count < rule.minimum else None
        return RuleProgress(due_on=due_on, kept=min(count, asked), asked=asked)
    interval = timedelta(days=max(1, PERIOD_DAYS[rule.period] // rule.minimum))
    kept = asked = 0
    anchor, index, late_since = start, 0, None
    while True:
        deadline = anchor + interval
        if deadline > facts.term_ends_on:  # the next stretch ends after the term: not due this term
            return RuleProgress(due_on=late_since, kept=kept, asked=asked)
        if index < len(talks) and talks[index] <= deadline:
            while index < len(talks) and talks[index] <= deadline:
                index += 1
            kept += 1
            asked += 1
            anchor, late_since = talks[index - 1], None
        elif deadline < today:
            asked += 1
            late_since = late_since or deadline
            anchor = deadline
        else:
            return RuleProgress(due_on=late_since or deadline, kept=kept, asked=asked)


def pairing_status(facts: PairingFacts, rules: Iterable[Rule], today: date) -> Status:
    """Where a pairing stands on `today` under every applicable rule; the strictest rule sets the rate."""
    due_dates = []
    required = 0
    kept = asked = 0
    for rule in rules:
        if not rule.applies(contact_category=facts.contact_category, role_ids=facts.role_ids):
            continue
        if rule.period == "term":
            required = max(required, rule.minimum)
        progress = rule_progress(rule, facts, today)
        if progress.due_on is not None:
            due_dates.append(progress.due_on)
        # The strictest rule: the most contacts missed, then the most asked for.
        if (progress.asked - progress.kept, progress.asked) > (asked - kept, asked):
            kept, asked = progress.kept, progress.asked
    due_on = min(due_dates, default=None)
    if due_on is None:
        standing = Standing.ON_TRACK
    elif due_on < today:
        standing = Standing.OVERDUE
    elif due_on <= today + timedelta(days=DUE_SOON_DAYS):
        standing = Standing.DUE_SOON
    else:
        standing = Standing.ON_TRACK
    return Status(standing=standing, due_on=due_on, done=facts.visit_count, required=required, kept=kept, asked=asked)
