"""The dashboard for secretaries, the committee and inspectors: committee → branch → member."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liaison.http import AuthenticatedHttpRequest
from liaison.params import int_param
from liaison.paths import root_path
from members import selectors as member_selectors
from members.models import Organisation
from pairings import selectors as pairing_selectors
from pairings.models import Term

from .dashboard import Dashboard, dashboard_get
from .views import term_from

TALKS_LABEL = _("Visits and talks")
COVERAGE_LABEL = _("Coverage")
QUOTA_LABEL = _("Quota completion")


def _organisation_from(request: AuthenticatedHttpRequest, term: Term) -> Organisation:
    """The organisation asked for (?organisation=), else the user's topmost readable one in the term's tree."""
    readable = member_selectors.organisation_list(user=request.user)
    organisation_id = request.GET.get("organisation")
    if organisation_id:
        pk = int_param(organisation_id)
        organisation = (
            readable.filter(pk=pk, path__startswith=term.organisation.path).first() if pk is not None else None
        )
    else:
        organisation = readable.filter(path__startswith=term.organisation.path).order_by("depth", "path").first()
    if organisation is None:
        raise Http404(_("There is no such organisation among those you can read in this term's tree."))
    return organisation


def _percent(rate) -> float | None:
    return None if rate is None else round(float(rate) * 100, 1)


def _chart_data(dashboard: Dashboard) -> dict:
    """Plain values for the charts, passed to the page with `json_script`."""
    return {
        "weeks": {
            "label": str(TALKS_LABEL),
            "labels": [week.isoformat() for week, _count in dashboard.weeks],
            "values": [count for _week, count in dashboard.weeks],
        },
        "states": {
            "codes": [state for state, _label, _count in dashboard.requests_by_state],
            "labels": [label for _state, label, _count in dashboard.requests_by_state],
            "values": [count for _state, _label, count in dashboard.requests_by_state],
        },
        "children": {
            "labels": [row.organisation.name for row in dashboard.children],
            "datasets": [
                {
                    "label": str(COVERAGE_LABEL),
                    "values": [_percent(row.figures.coverage) for row in dashboard.children],
                },
                {
                    "label": str(QUOTA_LABEL),
                    "values": [_percent(row.figures.quota_completion) for row in dashboard.children],
                },
            ],
        },
    }


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    request.scope.require_staff_role(_("Only secretaries, administrators and inspectors can open the dashboard."))
    term = term_from(request)
    organisation = _organisation_from(request, term)
    figures = dashboard_get(user=request.user, organisation=organisation, term=term, today=timezone.localdate())
    return render(
        request,
        "reports/dashboard.html",
        {
            "term": term,
            # Only the terms of this organisation's tree: switching keeps the organisation.
            "terms": pairing_selectors.term_list(user=request.user).filter(
                organisation__path=root_path(organisation.path)
            ),
            "organisation": organisation,
            "dashboard": figures,
            "chart_data": _chart_data(figures),
        },
    )
