"""The second factor's pages: verify after the password, set up an app, recovery codes, turn it off."""

from __future__ import annotations

import math
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from liaison.http import AuthenticatedHttpRequest

from . import services
from .forms import CodeForm
from .selectors import (
    recovery_codes_left,
    second_factor_enrolled,
    second_factor_forget,
    second_factor_pending,
    second_factor_required,
)

# Fresh recovery codes wait here for the page that shows them, once.
_NEW_CODES = "liaison_new_recovery_codes"


def _next_url(request: AuthenticatedHttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: `redirect` would read anything else ("-1") as a view's name.
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _refusal(result: services.CodeCheck) -> str:
    if result.locked_until is not None:
        seconds = max(1, math.ceil((result.locked_until - timezone.now()).total_seconds()))
        return ngettext(
            "Too many wrong codes. Wait %(seconds)d second, then try again.",
            "Too many wrong codes. Wait %(seconds)d seconds, then try again.",
            seconds,
        ) % {"seconds": seconds}
    return _("That code is not right. Check that your phone's clock is correct, or use a recovery code.")


def _signed_in_with(request: AuthenticatedHttpRequest, device: object) -> None:
    """The session gave its second factor: remember the device, and change the session's key."""
    otp_login(request, device)
    request.session.cycle_key()
    second_factor_forget(request)


@login_required
def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if second_factor_pending(request) != "verify":
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.second_factor_check(user=request.user, code=form.cleaned_data["code"])
        if result.accepted:
            _signed_in_with(request, result.device)
            if isinstance(result.device, StaticDevice):
                left = recovery_codes_left(request.user)
                messages.warning(
                    request,
                    ngettext(
                        "You used a recovery code; %(left)d is left. Make new ones if you lost your phone.",
                        "You used a recovery code; %(left)d are left. Make new ones if you lost your phone.",
                        left,
                    )
                    % {"left": left},
                )
            return redirect(next_url)
        form.add_error("code", _refusal(result))
    return render(request, "security/verify.html", {"form": form, "next": next_url})


@login_required
def enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), then type its first code."""
    next_url = _next_url(request)
    device = services.totp_enrolment_start(user=request.user)
    form = CodeForm(request.POST or None, recovery=False)
    if request.method == "POST" and form.is_valid():
        result = services.totp_enrolment_confirm(device=device, code=form.cleaned_data["code"])
        if result.accepted:
            codes = services.recovery_codes_generate(user=request.user)
            _signed_in_with(request, result.device)
            request.session[_NEW_CODES] = codes
            messages.success(
                request, _("Two-factor authentication is on. From now on, log in with a code from the app.")
            )
            return redirect(_with_next("twofactor:recovery_codes", next_url))
        form.add_error("code", _refusal(result))
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": next_url,
        # A viewBox and no fixed size, so the stylesheet can size it without cropping.
        "qr": segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=True, title=_("QR code")),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "required": second_factor_required(request.user),
        "replacing": second_factor_enrolled(request.user),
        "issuer": settings.OTP_TOTP_ISSUER,
    }
    return render(request, "security/enrol.html", context)


@login_required
def recovery_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """New recovery codes, shown once; afterwards only how many are left, and a button for new ones."""
    if not second_factor_enrolled(request.user):
        return redirect("twofactor:manage")
    next_url = _next_url(request)
    if request.method == "POST":
        request.session[_NEW_CODES] = services.recovery_codes_generate(user=request.user)
        messages.success(request, _("New recovery codes made: the old ones no longer work."))
        return redirect(_with_next("twofactor:recovery_codes", next_url))
    codes = request.session.pop(_NEW_CODES, None)
    context = {"codes": codes, "left": recovery_codes_left(request.user), "next": next_url}
    return render(request, "security/recovery_codes.html", context)


@login_required
def manage(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {
        "enrolled": second_factor_enrolled(request.user),
        "required": second_factor_required(request.user),
        "left": recovery_codes_left(request.user),
    }
    return render(request, "security/manage.html", context)


@login_required
@require_POST
def remove(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Turn it off: only for those who need no second factor (a secretary who enrolled by choice)."""
    if second_factor_required(request.user):
        raise PermissionDenied(_("Committee administrators and inspectors cannot turn two-factor authentication off."))
    services.second_factor_remove(user=request.user)
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("twofactor:manage")
