from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from liaison.http import AuthenticatedHttpRequest
from members import selectors as member_selectors
from members.scoping import get_scope

from . import selectors, services
from .forms import VisitForm

NOTIFICATIONS_PER_PAGE = 30


def _add_errors(form: VisitForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
def visit_create(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    contact = member_selectors.contact_get(user=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404(_("No such contact."))
    pairing = services.active_pairing_for(user=request.user, contact=contact)  # 403 when not paired
    form = VisitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.visit_log(
                user=request.user, contact=contact, data=form.visit_data(), photos=form.cleaned_data["photos"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Logged: %(mode)s with %(contact)s.")
                % {
                    "mode": visit.get_mode_display(),
                    "contact": contact.name,
                },
            )
            return redirect("members:contact_detail", contact_id=contact.pk)
    return render(request, "visits/visit_form.html", {"form": form, "contact": contact, "pairing": pairing})


@login_required
def visit_detail(request: AuthenticatedHttpRequest, visit_id: int) -> HttpResponse:
    visit = selectors.visit_get(user=request.user, visit_id=visit_id)
    if visit is None:
        raise Http404(_("No such visit log."))
    try:
        services.check_visit_editable(user=request.user, visit=visit)
        editable = True
    except PermissionDenied:
        editable = False
    history = visit.history.select_related("history_user").all() if get_scope(request.user).has_staff_role else []
    return render(request, "visits/visit_detail.html", {"visit": visit, "editable": editable, "history": history})


@login_required
def visit_edit(request: AuthenticatedHttpRequest, visit_id: int) -> HttpResponse:
    visit = selectors.visit_get(user=request.user, visit_id=visit_id)
    if visit is None:
        raise Http404(_("No such visit log."))
    services.check_visit_editable(user=request.user, visit=visit)
    form = VisitForm(request.POST or None, initial=VisitForm.initial_from(visit))
    del form.fields["photos"], form.fields["request_summary"]  # added with the log, followed up in the ledger
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_update(user=request.user, visit=visit, data=form.visit_data())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The visit log was updated."))
            return redirect("visits:visit_detail", visit_id=visit.pk)
    return render(request, "visits/visit_form.html", {"form": form, "contact": visit.pairing.contact, "visit": visit})


@login_required
def due_this_week(request: AuthenticatedHttpRequest) -> HttpResponse:
    member = get_scope(request.user).member
    if member is None:
        raise PermissionDenied(_("This page lists a party member's own contacts."))
    today = timezone.localdate()
    rows = selectors.member_due_list(member=member, today=today)
    return render(request, "visits/due.html", {"rows": rows, "today": today})


@login_required
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        return redirect("visits:notifications")
    page = Paginator(selectors.notification_list(user=request.user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "visits/notifications.html", {"page": page, "query": ""})
