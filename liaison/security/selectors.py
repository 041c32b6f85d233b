"""Reads of the second factor: who needs one, who has one, and whether this session gave it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from members.scoping import get_scope

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest

# What the request's answer was, kept on the request: the middleware and the admin both ask.
_REQUEST_ATTRIBUTE = "_liaison_second_factor"


def second_factor_required(user: User | AnonymousUser) -> bool:
    """Superusers, committee administrators and inspectors (members.scoping.Scope.requires_second_factor)."""
    return get_scope(user).requires_second_factor


def second_factor_enrolled(user: User) -> bool:
    """The user has a confirmed authenticator app (TOTP)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_pending(request: HttpRequest) -> str | None:
    """What the logged-in user must do before using the site: "verify", "enrol", or nothing (None).

    "verify": they have an authenticator app and this session has not given a code (from it, or
    a recovery code); "enrol": they need one and have none. Anonymous users and sessions that gave
    it owe nothing; nor do users who need none and have none (members, most secretaries).
    """
    if hasattr(request, _REQUEST_ATTRIBUTE):
        return getattr(request, _REQUEST_ATTRIBUTE)
    user = request.user
    pending: str | None = None
    # `is_verified` comes from django_otp.middleware.OTPMiddleware.
    if user.is_authenticated and not getattr(user, "is_verified", lambda: False)():
        if second_factor_enrolled(user):  # one query, for sessions without a second factor only
            pending = "verify"
        elif second_factor_required(user):
            pending = "enrol"
    setattr(request, _REQUEST_ATTRIBUTE, pending)
    return pending


def second_factor_forget(request: HttpRequest) -> None:
    """Drop the request's kept answer, after the session gave its second factor."""
    if hasattr(request, _REQUEST_ATTRIBUTE):
        delattr(request, _REQUEST_ATTRIBUTE)
