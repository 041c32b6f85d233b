"""The 100-point score sheet as pure functions over plain values.

Each item earns its points times a rate between 0 and 1. An item that does not apply
to a member (rate None: no requests to answer for, no pledge, no survey answer yet)
is left out, and the score is scaled to the items that do apply, so a member is not
marked down for what they were never asked to do:

    score = 100 × Σ points·rate / Σ points      (over the applicable items)

Everything is Decimal, rounded half up (rates to 4 places, the score to 1), so the same
facts always give the same score on every database and machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

RATE_PLACES = Decimal("0.0001")
SCORE_PLACES = Decimal("0.1")
HUNDRED = Decimal(100)


def rate(done: int | Decimal, out_of: int | Decimal) -> Decimal | None:
    """done / out_of, to 4 places; None when there was nothing to do."""
    if not out_of:
        return None
    return (Decimal(done) / Decimal(out_of)).quantize(RATE_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class Thresholds:
    excellent_from: int
    competent_from: int
    basically_competent_from: int


def score(rates: Mapping[str, Decimal | None], points: Mapping[str, int]) -> Decimal | None:
    """The score out of 100, or None when no item with points applies."""
    earned = Decimal(0)
    possible = 0
    for kind, weight in points.items():
        value = rates.get(kind)
        if value is None or weight == 0:
            continue
        earned += weight * value
        possible += weight
    if not possible:
        return None
    return (earned * HUNDRED / possible).quantize(SCORE_PLACES, ROUND_HALF_UP)


def grade(value: Decimal | None, thresholds: Thresholds) -> str:
    if value is None:
        return ""
    if value >= thresholds.excellent_from:
        return "excellent"
    if value >= thresholds.competent_from:
        return "competent"
    if value >= thresholds.basically_competent_from:
        return "basically_competent"
    return "incompetent"


def needs_accountability(satisfaction: Decimal | None, threshold_percent: int) -> bool:
    """Satisfaction strictly below the threshold (80% by default) raises the flag (问责)."""
    return satisfaction is not None and satisfaction * HUNDRED < threshold_percent
