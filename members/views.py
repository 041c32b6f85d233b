"""Members' own pages: revealing a contact's personal data and the roster import.

The home page and the contact list and detail pages read pairings, visits and evaluations
too; they live in liaison/views.py, above every app.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from liaison.http import AuthenticatedHttpRequest
from liaison.jobs import job_reap_if_stale

from . import selectors, services
from .forms import RosterUploadForm
from .models import ImportJob
from .roster import RosterKind, build_template

ROSTERS_ARE_FOR_MANAGERS = _("Only committee administrators and branch secretaries can import rosters.")


@login_required
@require_POST
def contact_reveal(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get_for_user(user=request.user, contact_id=contact_id)
    services.contact_reveal(user=request.user, contact=contact)
    template = "members/_contact_personal.html" if request.headers.get("HX-Request") else "members/contact_detail.html"
    return render(request, template, {"contact": contact, "entitled": True, "revealed": True})


@login_required
def roster_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    request.scope.require_manager(ROSTERS_ARE_FOR_MANAGERS)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = services.import_job_create(
            user=request.user,
            kind=form.cleaned_data["kind"],
            filename=upload.name,
            content=form.cleaned_data["content"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
        return redirect("members:import_detail", job_id=job.pk)
    recent = ImportJob.objects.filter(created_by=request.user).defer("content")[:10]
    return render(request, "members/roster_import.html", {"form": form, "recent": recent})


@login_required
def import_detail(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    request.scope.require_manager(ROSTERS_ARE_FOR_MANAGERS)
    job = selectors.import_job_get_for_user(user=request.user, job_id=job_id)
    job_reap_if_stale(job)  # a job whose worker stopped ends here too, even with no reaper running
    template = "members/_import_status.html" if request.headers.get("HX-Request") else "members/import_detail.html"
    return render(request, template, {"job": job, "progress": job.live_progress})


@login_required
def roster_template(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    request.scope.require_manager(ROSTERS_ARE_FOR_MANAGERS)
    if kind not in (RosterKind.MEMBERS, RosterKind.CONTACTS):
        raise Http404
    organisations = selectors.organisation_manageable_list(user=request.user).order_by("path")
    content = build_template(kind=kind, organisations=organisations)
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    filename = "members-roster.xlsx" if kind == RosterKind.MEMBERS else "contacts-roster.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
