"""How long a session lasts: SESSION_IDLE_TIMEOUT_MINUTES without activity, SESSION_COOKIE_AGE in all.

Two timestamps in the session, set at login: when it began and when the user last did
something. Background polling (the job pages ask for their status every second or two, with
the `X-Liaison-Poll` header, see templates/*/_*_status.html) is not activity: a page left open
on a running import does not keep the session alive. The last activity is written at most
once a minute, so a session is not saved on every request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from django.http import HttpRequest

LOGIN_AT = "liaison_login_at"
SEEN_AT = "liaison_seen_at"
POLL_HEADER = "X-Liaison-Poll"
# The last activity is rewritten only when it is older than this (seconds).
ACTIVITY_RESOLUTION = 60


def _now() -> int:
    return int(timezone.now().timestamp())


def session_start(sender: object, request: HttpRequest, user: object, **kwargs: object) -> None:
    """At login (the `user_logged_in` signal): the session begins now."""
    now = _now()
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


def is_poll(request: HttpRequest) -> bool:
    """A status poll of a job page, which is not the user doing something."""
    return request.headers.get(POLL_HEADER) == "1"


def session_end_reason(request: HttpRequest) -> str | None:
    """Why the authenticated request's session is over (a message for the login page), or None.

    Records the activity of a session that goes on.
    """
    session = request.session
    now = _now()
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        # A session from before these limits: it begins now.
        session[LOGIN_AT] = session[SEEN_AT] = now
        return None
    idle_minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
    if now - seen_at > idle_minutes * 60:
        return ngettext(
            "You were logged out after %(minutes)d minute without activity. Please log in again.",
            "You were logged out after %(minutes)d minutes without activity. Please log in again.",
            idle_minutes,
        ) % {"minutes": idle_minutes}
    if now - login_at > settings.SESSION_COOKIE_AGE:
        hours = max(1, round(settings.SESSION_COOKIE_AGE / 3600))
        return ngettext(
            "You were logged out: a session lasts at most %(hours)d hour. Please log in again.",
            "You were logged out: a session lasts at most %(hours)d hours. Please log in again.",
            hours,
        ) % {"hours": hours}
    if not is_poll(request) and now - seen_at >= ACTIVITY_RESOLUTION:
        session[SEEN_AT] = now
    return None


def page_to_return_to(request: HttpRequest) -> str:
    """The page to come back to after logging in again: this one, or for htmx the page it was sent from."""
    if request.headers.get("HX-Request"):
        current = request.headers.get("HX-Current-URL", "")
        parts = urlsplit(current)
        candidate = parts.path + (f"?{parts.query}" if parts.query else "")
    elif request.method == "GET":
        candidate = request.get_full_path()
    else:
        candidate = ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return ""


def redirect_with_next(request: HttpRequest, to: str, next_url: str) -> HttpResponse:
    """A redirect to `to` (a URL name or path), keeping `next`; an htmx request gets `HX-Redirect`."""
    url = resolve_url(to)
    if next_url:
        url = f"{url}?{urlencode({'next': next_url})}"
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def session_end(request: HttpRequest, reason: str) -> HttpResponse:
    """Log out, say why on the login page, and come back here afterwards."""
    next_url = page_to_return_to(request)
    logout(request)
    messages.info(request, reason)
    return redirect_with_next(request, settings.LOGIN_URL, next_url)
