"""Error pages: in the site's layout, translated, with a way back, and never a stack trace.

Django's own handlers serve 400 and 404 (their templates are in templates/). The 403 handler
sends django-ratelimit's `Ratelimited` (a `PermissionDenied`) to the 429 page, wherever it is
raised; the 500 handler renders the layout when it can and a page that needs nothing when it
cannot (the database being down is the usual reason for both the error and the layout failing).
"""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views import defaults
from django_ratelimit.exceptions import Ratelimited

logger = logging.getLogger(__name__)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403 with the refusal's own message; a rate limit is a 429, not a refusal."""
    if isinstance(exception, Ratelimited):
        return too_many_requests(request, exception)
    return defaults.permission_denied(request, exception)


def too_many_requests(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """429, for `Ratelimited` (django-ratelimit's RATELIMIT_VIEW names this view too)."""
    return render(request, "429.html", status=429)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 in the layout (menu and all) if it renders, else a page that needs no database or template."""
    try:
        return render(request, "500.html", status=500)
    except Exception:
        logger.exception("The 500 page could not be rendered in the layout; serving the minimal one.")
        return HttpResponseServerError(_minimal_500_page())


def _minimal_500_page() -> str:
    return format_html(
        '<!doctype html><html lang="{}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{} · {}</title></head>'
        '<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">'
        '<h1>{}</h1><p>{}</p><p><a href="/">{}</a></p></body></html>',
        translation.get_language() or "zh-hans",
        _("Server error"),
        _("Liaison"),
        _("Something went wrong on our side"),
        _("The error has been recorded. Please try again in a few minutes."),
        _("Back to my page"),
    )
