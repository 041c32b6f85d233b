"""Reading numbers from requests: the one place that decides what an id in a URL or a form is.

`str.isdigit()` says yes to "²" and "١" (and `int()` then fails or reads another script's
digits), and a 40-digit number overflows every integer column. `int_param` accepts ASCII
digits only, within a range every primary key and page number fits, and answers None for
anything else, so a view treats hostile input as "not given" or "not found", never a 500.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# The largest id a PostgreSQL bigint (and SQLite's INTEGER) holds.
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def int_param(value: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """`value` as an int when it is plain ASCII digits within [minimum, maximum], else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None


def int_params(values: list[str], **bounds: int) -> list[int]:
    """The well-formed ids among `values` (e.g. `request.POST.getlist("proposal")`); the rest are dropped."""
    return [number for number in (int_param(value, **bounds) for value in values) if number is not None]


# The longest search text a filter takes (a name, a unit, a few words of a request): longer
# input is a form error, never a LIKE pattern the database refuses.
SEARCH_MAX_LENGTH = 100


# The longest free text a person types into one box (a visit's notes, a request's details, a
# pledge's report): about ten pages of Chinese. Model fields and form fields both use it.
LONG_TEXT_MAX = 5000

# Dates of the work itself (visits, terms, deadlines, pledges): from 2000 to ten years ahead.
# A date outside is a typing slip ("20226-10-01", "9999-12-31"), refused with this range.
EARLIEST_WORK_DATE = date(2000, 1, 1)
WORK_YEARS_AHEAD = 10


def latest_work_date() -> date:
    today = timezone.localdate()
    return today.replace(
        year=today.year + WORK_YEARS_AHEAD, day=28 if (today.month, today.day) == (2, 29) else today.day
    )


def check_work_date(value: date | None) -> None:
    """Refuse a work date outside [EARLIEST_WORK_DATE, WORK_YEARS_AHEAD years from today], saying the range."""
    if value is None:
        return
    latest = latest_work_date()
    if not EARLIEST_WORK_DATE <= value <= latest:
        raise ValidationError(
            _("Enter a date between %(earliest)s and %(latest)s.")
            % {"earliest": EARLIEST_WORK_DATE.isoformat(), "latest": latest.isoformat()},
            code="date_out_of_range",
        )
