"""Quota arithmetic: which rule applies to a member, and how pairings count against it.

A *bucket* is (contact category, unit): ("student", "person") counts paired student
contacts; ("", "household") counts paired households of any category. Everything
here works on plain values loaded in a few set-based queries, never per member.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Bucket = tuple[str, str]  # (contact category or "" for any, unit)

# The school rule (a branch's 《党员联系群众制度》): per member per semester,
# 2 activists, 3 staff and 5 students.
DEFAULT_SCHOOL_RULES: tuple[tuple[str, int], ...] = (("activist", 2), ("staff", 3), ("student", 5))


@dataclass(frozen=True)
class RuleRow:
    rule_id: int
    organisation_path: str  # "" for the whole tree
    member_category: str  # "" for any
    member_role_id: int | None
    contact_category: str  # "" for any
    unit: str
    required: int

    @property
    def bucket(self) -> Bucket:
        return (self.contact_category, self.unit)

    @property
    def specificity(self) -> tuple[bool, bool, int, int]:
        # A role beats none, a member category beats none, a deeper organisation beats a
        # shallower one; the id keeps ties deterministic (the later row wins).
        return (self.member_role_id is not None, bool(self.member_category), len(self.organisation_path), self.rule_id)

    def applies_to(self, *, path: str, category: str, role_ids: frozenset[int]) -> bool:
        return (
            path.startswith(self.organisation_path)
            and (not self.member_category or self.member_category == category)
            and (self.member_role_id is None or self.member_role_id in role_ids)
        )


@dataclass(frozen=True)
class MemberProfile:
    member_id: int
    path: str
    category: str
    role_ids: frozenset[int]


def required_by_rules(member: MemberProfile, rules: Iterable[RuleRow]) -> dict[Bucket, int]:
    """For each bucket, the required number from the most specific rule that applies."""
    best: dict[Bucket, RuleRow] = {}
    for rule in rules:
        if not rule.applies_to(path=member.path, category=member.category, role_ids=member.role_ids):
            continue
        current = best.get(rule.bucket)
        if current is None or rule.specificity > current.specificity:
            best[rule.bucket] = rule
    return {bucket: rule.required for bucket, rule in best.items()}


def actual_by_bucket(counts: Mapping[tuple[str, str], int], buckets: Iterable[Bucket]) -> dict[Bucket, int]:
    """Active pairings per bucket, from counts per (contact category, contact kind).

    A bucket with an empty category counts contacts of every category of that kind.
    """
    result: dict[Bucket, int] = {}
    for category, unit in buckets:
        result[(category, unit)] = sum(
            count
            for (contact_category, kind), count in counts.items()
            if kind == unit and (not category or contact_category == category)
        )
    return result


def group_counts(rows: Iterable[tuple[int, str, str, int]]) -> dict[int, dict[tuple[str, str], int]]:
    """(member id, contact category, contact kind, count) rows → counts per member."""
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for member_id, category, kind, count in rows:
        counts[member_id][(category, kind)] = count
    return counts
