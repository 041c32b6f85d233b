"""The middleware of sign-in security; settings.MIDDLEWARE says where each one sits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.cache import add_never_cache_headers

from .selectors import second_factor_pending
from .sessions import page_to_return_to, redirect_with_next, session_end, session_end_reason

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponseBase


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and the rest of `never_cache`) on every page answered to a logged-in user.

    Pages with revealed personal data must not stay in the browser's cache or a proxy's. Static
    files never get here: whitenoise answers them earlier, with their long cache lifetime.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path_info.startswith(settings.STATIC_URL):
            add_never_cache_headers(response)
        return response


class SessionTimeoutMiddleware:
    """Ends a session idle for SESSION_IDLE_TIMEOUT_MINUTES or older than SESSION_COOKIE_AGE.

    The rule is `liaison.security.sessions.session_end_reason`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            reason = session_end_reason(request)
            if reason is not None:
                return session_end(request, reason)
        return self.get_response(request)


# What a session that still owes its second factor may open.
_OPEN_WHILE_PENDING = {
    "verify": {"twofactor:verify", "logout", "set_language"},
    "enrol": {"twofactor:enrol", "logout", "set_language"},
}


class SecondFactorMiddleware:
    """Holds a session that owes its second factor on the verify (or enrol) page.

    After the password, someone with an authenticator app or recovery codes can open only the
    page asking for a code; someone who needs a second factor (members.scoping.Scope.
    requires_second_factor) and has none, only the page setting one up. Everything else, the
    admin included, sends them there and back afterwards. Logging out and changing the language
    stay open; static files never get here. `request.second_factor_pending` tells the layout to
    show no menu meanwhile.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.second_factor_pending = second_factor_pending(request)  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: object, view_args: object, view_kwargs: object
    ) -> HttpResponseBase | None:
        pending = second_factor_pending(request)
        if pending is None:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in _OPEN_WHILE_PENDING[pending]:
            return None
        return redirect_with_next(request, f"twofactor:{pending}", page_to_return_to(request))
