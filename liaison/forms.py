"""Form fields every app shares (the ground floor: no app is imported here)."""

from __future__ import annotations

from datetime import date

from django import forms

from .params import LONG_TEXT_MAX, check_work_date

DATE_INPUT = {"format": "%Y-%m-%d", "attrs": {"type": "date"}}


class WorkDateField(forms.DateField):
    """A date of the work (a visit, a term, a deadline), within `liaison.params.check_work_date`'s range."""

    def validate(self, value: date | None) -> None:
        super().validate(value)
        check_work_date(value)


class LongTextField(forms.CharField):
    """A text box capped at `LONG_TEXT_MAX` characters, with the count in the error message."""

    def __init__(self, *, max_length: int = LONG_TEXT_MAX, **kwargs) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(max_length=max_length, **kwargs)
