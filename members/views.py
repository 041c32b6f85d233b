from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liaison.http import AuthenticatedHttpRequest
from pairings.selectors import current_term, member_targets, pairing_active_for
from reports.selectors import evaluation_list
from visits.selectors import visit_list

from . import selectors, services
from .filters import ContactFilter
from .forms import RosterUploadForm
from .models import ImportJob
from .roster import RosterKind, build_template
from .scoping import get_scope

CONTACTS_PER_PAGE = 50


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = get_scope(request.user)
    context: dict[str, object] = {
        "scope": scope,
        "member": scope.member,
        "managed_organisations": selectors.organisation_managed_roots(user=request.user),
        "contact_count": selectors.contact_list(user=request.user).count(),
    }
    if scope.has_staff_role:
        context["member_count"] = selectors.member_list(user=request.user).count()
    context.update(_term_targets(request))
    if scope.member is not None:
        context["evaluation"] = (
            evaluation_list(user=request.user).filter(member=scope.member).order_by("-term__starts_on").first()
        )
    return render(request, "members/home.html", context)


def _term_targets(request: AuthenticatedHttpRequest) -> dict:
    """The current term and, for a member, their quota targets in it."""
    term = current_term(user=request.user)
    member = get_scope(request.user).member
    targets = member_targets(member=member, term=term) if term is not None and member is not None else []
    return {"term": term, "targets": targets}


@login_required
def contact_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    queryset = selectors.contact_list(user=request.user)
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
            "scope": get_scope(request.user),
            **_term_targets(request),
        },
    )


def _contact_or_404(request: AuthenticatedHttpRequest, contact_id: int):
    contact = selectors.contact_get(user=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404(_("No such contact."))
    return contact


@login_required
def contact_detail(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact_or_404(request, contact_id)
    scope = get_scope(request.user)
    return render(
        request,
        "members/contact_detail.html",
        {
            "contact": contact,
            "entitled": selectors.contact_is_entitled(user=request.user, contact=contact),
            "revealed": False,
            "can_log": scope.member is not None
            and pairing_active_for(member=scope.member, contact=contact) is not None,
            "visits": visit_list(user=request.user).filter(pairing__contact=contact)[:20],
        },
    )


@login_required
@require_POST
def contact_reveal(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact_or_404(request, contact_id)
    services.contact_reveal(user=request.user, contact=contact)
    template = "members/_contact_personal.html" if request.headers.get("HX-Request") else "members/contact_detail.html"
    return render(request, template, {"contact": contact, "entitled": True, "revealed": True})


def _require_manager(request: AuthenticatedHttpRequest) -> None:
    if not get_scope(request.user).can_manage_any:
        raise PermissionDenied(_("Only committee administrators and branch secretaries can import rosters."))


@login_required
def roster_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_manager(request)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = services.import_job_create(
            user=request.user, kind=form.cleaned_data["kind"], filename=upload.name, content=upload.read()
        )
        return redirect("members:import_detail", job_id=job.pk)
    recent = ImportJob.objects.filter(created_by=request.user).defer("content")[:10]
    return render(request, "members/roster_import.html", {"form": form, "recent": recent})


@login_required
def import_detail(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    _require_manager(request)
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=job_id, created_by=request.user)
    template = "members/_import_status.html" if request.headers.get("HX-Request") else "members/import_detail.html"
    return render(request, template, {"job": job, "progress": services.import_progress(job)})


@login_required
def roster_template(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    _require_manager(request)
    if kind not in (RosterKind.MEMBERS, RosterKind.CONTACTS):
        raise Http404
    organisations = selectors.organisation_manageable_list(user=request.user).order_by("path")
    content = build_template(kind=kind, organisations=organisations)
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    filename = "members-roster.xlsx" if kind == RosterKind.MEMBERS else "contacts-roster.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
