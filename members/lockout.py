"""Login lockout (django-axes): a name at an address, and an address that sprays many names.

django-axes counts failed logins per (login name, client address) — AXES_LOCKOUT_PARAMETERS —
and locks that pair after AXES_FAILURE_LIMIT failures within AXES_COOLOFF_TIME. Someone
guessing a secretary's password from their own address locks only themselves out: the
secretary, elsewhere, still logs in. What django-axes cannot say with one limit is "and an
address that fails on many names is a password spray": its parameter sets all share the one
limit, and 5 failures per address would lock a whole campus behind one exit address. This
handler adds that second, larger limit (LOCKOUT_ADDRESS_FAILURE_LIMIT, 0 to switch it off):
once the failures from one address within the cool-off reach it, every login from that
address is refused until the cool-off passes or an administrator lifts it.

The client address is `liaison.http.client_ip` (AXES_CLIENT_IP_CALLABLE), which reads it
behind TRUSTED_PROXY_COUNT proxies; without that, every login would come from the proxy and
a lockout of (secretary, proxy) would lock the secretary out everywhere.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import render

ADDRESS_LOCKED = "liaison_address_locked"  # set on the request when the address itself is locked


def address_failures(request) -> int:
    """Failed logins from the request's address within the cool-off, whatever the names tried."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    total = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return total or 0


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler, with the per-address limit on top of the per-(name, address) one."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        limit = settings.LOCKOUT_ADDRESS_FAILURE_LIMIT
        if limit > 0 and address_failures(request) >= limit:
            setattr(request, ADDRESS_LOCKED, True)
            return max(failures, get_failure_limit(request, credentials))
        return failures


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """The locked-out page (AXES_LOCKOUT_CALLABLE): in the layout, translated, 429, saying for how long."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off is not None else None
    context = {"minutes": minutes, "address_locked": getattr(request, ADDRESS_LOCKED, False)}
    return render(
        request, "registration/locked_out.html", context, status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
    )
