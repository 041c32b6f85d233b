from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest

if TYPE_CHECKING:
    from members.scoping import Scope


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind @login_required: the user is a real account, their scope set by ScopeMiddleware."""

    user: User
    scope: Scope


def client_ip(request: HttpRequest) -> str:
    """The client's address, as the last of TRUSTED_PROXY_COUNT proxies in front of the app saw it.

    Each proxy appends the address it was reached from to X-Forwarded-For, so behind N
    trusted proxies the client is the N-th entry from the right; whatever lies further left
    the client wrote itself and is ignored. With no trusted proxy (the default), or when the
    header has fewer entries than there are proxies (a request that did not come through
    them) or a malformed one, the address is the connection's own, REMOTE_ADDR. The login
    lockout (AXES_CLIENT_IP_CALLABLE) and the rate limits (RATELIMIT_IP_META_KEY) use it.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
