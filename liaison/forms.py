"""Form fields every app shares. No app is imported here.

- `WorkDateField`, `LongTextField`: a work date within range, a text box capped (liaison.params).

- `IdempotencyKeyField`: a hidden random token rendered in every form that creates something
  (a visit log, a request, a pledge, a roster import). A double tap or a resent form
  posts the same token twice; the service finds the object the first post made
  (`liaison.services.create_once`) instead of making a second one.
- `VersionField`: the hidden version of the row an edit form was opened on; the service
  refuses the edit when the row has changed since (`liaison.services.version_claim`).
"""

from __future__ import annotations

import secrets
from datetime import date

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .params import LONG_TEXT_MAX, check_work_date

DATE_INPUT = {"format": "%Y-%m-%d", "attrs": {"type": "date"}}
IDEMPOTENCY_KEY_LENGTH = 64
FORM_DAMAGED = _("This form is damaged: reload the page and fill it in again.")


def new_idempotency_key() -> str:
    """A fresh token for one rendering of a form (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


class IdempotencyKeyField(forms.CharField):
    """Hidden; a new token each time an unbound form is made. Optional: without one, nothing is deduplicated."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", IDEMPOTENCY_KEY_LENGTH)
        kwargs.setdefault("initial", new_idempotency_key)
        kwargs.setdefault("validators", [RegexValidator(r"^[A-Za-z0-9_-]*\Z", FORM_DAMAGED)])
        kwargs.setdefault("error_messages", {"max_length": FORM_DAMAGED})
        super().__init__(**kwargs)


class VersionField(forms.IntegerField):
    """Hidden: the version of the row when the form was opened. Optional: without one, no check is made."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**31 - 1)
        super().__init__(**kwargs)


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
