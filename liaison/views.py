"""Pages that read across the apps: the home page and the contact pages, which show pairings,
visits and evaluations next to the people of members. They sit above every app, so members
stays at the bottom (it imports no other app).
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from members import selectors as member_selectors
from members.filters import ContactFilter
from pairings.selectors import current_term, member_targets, pairing_active_for
from reports.selectors import evaluation_list
from visits.selectors import visit_list

from .http import AuthenticatedHttpRequest

CONTACTS_PER_PAGE = 50


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = request.scope
    context: dict[str, object] = {
        "scope": scope,
        "member": scope.member,
        "managed_organisations": member_selectors.organisation_managed_roots(user=request.user),
        "contact_count": member_selectors.contact_list(user=request.user).count(),
    }
    if scope.has_staff_role:
        context["member_count"] = member_selectors.member_list(user=request.user).count()
    context.update(_term_targets(request))
    if scope.member is not None:
        context["evaluation"] = (
            evaluation_list(user=request.user).filter(member=scope.member).order_by("-term__starts_on").first()
        )
    return render(request, "home.html", context)


def _term_targets(request: AuthenticatedHttpRequest) -> dict:
    """The current term and, for a member, their quota targets in it."""
    term = current_term(user=request.user)
    member = request.scope.member
    targets = member_targets(member=member, term=term) if term is not None and member is not None else []
    return {"term": term, "targets": targets}


@login_required
def contact_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    queryset = member_selectors.contact_list(user=request.user)
    contact_filter = ContactFilter(request.GET or None, queryset=queryset, request_user=request.user)
    page = Paginator(contact_filter.qs, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "members/contact_list.html",
        {
            "filter": contact_filter,
            "page": page,
            "query": query.urlencode(),
            "scope": request.scope,
            **_term_targets(request),
        },
    )


@login_required
def contact_detail(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    contact = member_selectors.contact_get_for_user(user=request.user, contact_id=contact_id)
    member = request.scope.member
    return render(
        request,
        "members/contact_detail.html",
        {
            "contact": contact,
            "entitled": member_selectors.contact_is_entitled(user=request.user, contact=contact),
            "revealed": False,
            "can_log": member is not None and pairing_active_for(member=member, contact=contact) is not None,
            "visits": visit_list(user=request.user).filter(pairing__contact=contact)[:20],
        },
    )
