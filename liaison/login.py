"""Signing in: a username longer than any account's is a form error, never a database error.

Django's `AuthenticationForm` shows the username's limit in the widget but does not check it,
so a 300-character name reached `authenticate()` and django-axes wrote it into a 255-character
column (a 500 on PostgreSQL). `LoginForm` checks the length; `axes_username` (AXES_USERNAME_CALLABLE)
cuts what axes records and looks up to the same limit on every login path, the admin's included.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest


def username_max_length() -> int:
    return get_user_model()._meta.get_field("username").max_length or 150


class LoginForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(username_max_length()))


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("username", "")
    return str(username)[: username_max_length()]
