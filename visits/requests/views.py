"""Pages for requests (诉求): the problem ledger (问题台账), recording a request, and its workflow."""

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liaison.http import AuthenticatedHttpRequest
from liaison.params import int_param
from liaison.services import StaleEdit
from members import selectors as member_selectors
from members.models import Contact
from pairings.selectors import active_contact_ids_for_member

from . import selectors, services
from .filters import RequestFilter
from .forms import RequestCreateForm, RequestTransitionForm
from .models import Request, RequestSource

if TYPE_CHECKING:
    from visits.models import Visit

REQUESTS_PER_PAGE = 50


def _add_errors(form, error: ValidationError) -> None:
    """Show a service's refusal on the form: on its field when the form has one, else above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _int_param(request: AuthenticatedHttpRequest, name: str) -> int | None:
    return int_param(request.GET.get(name) or request.POST.get(name))


def _request_or_404(request: AuthenticatedHttpRequest, request_id: int) -> Request:
    return selectors.request_get_for_user(user=request.user, request_id=request_id)


@login_required
def request_ledger(request: AuthenticatedHttpRequest) -> HttpResponse:
    request_filter = RequestFilter(
        request.GET or None, queryset=selectors.request_list(user=request.user), request_user=request.user
    )
    page = Paginator(request_filter.qs, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    scope = request.scope
    return render(
        request,
        "requests/request_ledger.html",
        {
            "filter": request_filter,
            "page": page,
            "query": query.urlencode(),
            "scope": scope,
            "can_record": scope.can_manage_any or scope.member is not None,
        },
    )


def _visit_or_404(request: AuthenticatedHttpRequest, visit_id: int) -> "Visit":
    """A visit log the user may link a request to: their own, or one in a subtree they manage."""
    visit = selectors.visit_for_request_link(user=request.user, visit_id=visit_id)
    if visit is None:
        raise Http404(_("No such visit log."))
    return visit


def _contact_choices(request: AuthenticatedHttpRequest, contact_id: int | None) -> QuerySet[Contact]:
    """The preset contact if there is one, else the contacts the user is paired with (a short list)."""
    contacts = member_selectors.contact_list(user=request.user)
    if contact_id is not None:
        return contacts.filter(pk=contact_id)
    member = request.scope.member
    if member is None:
        return contacts.none()
    return contacts.filter(pk__in=active_contact_ids_for_member(member=member)).order_by("name", "id")


@login_required
def request_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = request.scope
    if not scope.can_manage_any and scope.member is None:
        raise PermissionDenied(_("Only secretaries, administrators and party members can record requests."))
    visit = None
    visit_id = _int_param(request, "visit")
    if visit_id is not None:
        visit = _visit_or_404(request, visit_id)
    # A link from a contact's page presets the contact (GET); on POST it is an ordinary field.
    contact_id = visit.pairing.contact_id if visit is not None else int_param(request.GET.get("contact"))
    contacts = _contact_choices(request, contact_id)
    if contact_id is not None and not contacts.exists():
        raise Http404(_("No such contact."))

    organisations = None
    initial: dict = {"contact": contact_id}
    if scope.can_manage_any:
        organisations = member_selectors.organisation_manageable_list(user=request.user).order_by("path")
        preset_contact = contacts.first() if contact_id is not None else None
        initial["organisation"] = preset_contact.organisation_id if preset_contact is not None else None
    form = RequestCreateForm(
        request.POST or None,
        organisations=organisations,
        contacts=contacts,
        contact_required=not scope.can_manage_any,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        contact = data["contact"]
        try:
            created = services.request_create(
                organisation=data["organisation"] if organisations is not None else contact.organisation,
                source=data.get("source") or RequestSource.VISIT,
                summary=data["summary"],
                details=data["details"],
                contact=contact,
                visit=visit,
                by=request.user,
                idempotency_key=data["idempotency_key"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The request was recorded."))
            return redirect("requests:request_detail", request_id=created.pk)
    return render(request, "requests/request_create.html", {"form": form, "visit": visit})


def _transition_form(request: AuthenticatedHttpRequest, obj: Request, data=None) -> RequestTransitionForm | None:
    if not services.request_can_transition(request=obj, by=request.user):
        return None
    states = services.allowed_transitions(obj, by=request.user)
    if not states:
        return None
    manages = request.scope.manages(obj.organisation)
    return RequestTransitionForm(
        data,
        states=states,
        responsible_choices=selectors.responsible_choices(user=request.user, request=obj) if manages else None,
        initial={"version": obj.version},
    )


def _render_detail(request: AuthenticatedHttpRequest, obj: Request, form: RequestTransitionForm | None) -> HttpResponse:
    return render(
        request,
        "requests/request_detail.html",
        {
            "item": obj,
            "transitions": selectors.request_transition_list(request=obj),
            "form": form,
        },
    )


@login_required
def request_detail(request: AuthenticatedHttpRequest, request_id: int) -> HttpResponse:
    obj = _request_or_404(request, request_id)
    return _render_detail(request, obj, _transition_form(request, obj))


@login_required
@require_POST
def request_transition(request: AuthenticatedHttpRequest, request_id: int) -> HttpResponse:
    obj = _request_or_404(request, request_id)
    if not services.request_can_transition(request=obj, by=request.user):
        raise PermissionDenied(_("You cannot move this request."))
    form = _transition_form(request, obj, request.POST)
    if form is None:  # nothing left that this user may do with it (closing their own, say)
        refusal = services.request_close_refusal(request=obj, by=request.user)
        raise PermissionDenied(refusal or _("You cannot move this request any further."))
    if form.is_valid():
        data = form.cleaned_data
        try:
            moved = services.request_transition(
                request=obj,
                to_state=data["to_state"],
                by=request.user,
                comment=data["comment"],
                responsible=data.get("responsible"),
                deadline=data.get("deadline"),
                expected_version=data["version"],
            )
        except StaleEdit as error:
            # The request as it is now, with the step the user asked for still filled in.
            obj = _request_or_404(request, request_id)
            posted = request.POST.copy()
            posted["version"] = str(obj.version)
            form = _transition_form(request, obj, posted)
            if form is None:
                messages.error(request, error.messages[0])
                return _render_detail(request, obj, None)
            form.is_valid()
            _add_errors(form, error)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Request moved to: %(state)s.") % {"state": moved.get_state_display()})
            return redirect("requests:request_detail", request_id=obj.pk)
    return _render_detail(request, obj, form)
