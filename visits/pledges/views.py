"""Pages for pledges, service posts, community registration, and the public board."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from liaison.http import AuthenticatedHttpRequest
from liaison.services import StaleEdit
from members import selectors as member_selectors
from members.models import Member, MemberCategory

from . import selectors, services
from .forms import (
    CommunityRegistrationForm,
    PledgeCreateForm,
    PledgeEvaluateForm,
    PledgeMakePublicForm,
    PledgeProgressForm,
    PledgeReportForm,
    PledgeReviewFilterForm,
    PledgeStepForm,
    ServicePostForm,
)
from .models import CommunityRegistration, Pledge, PledgeState

PLEDGES_PER_PAGE = 50
MEMBERS_PER_PAGE = 50


def _flash_errors(request: HttpRequest, errors: list[str]) -> None:
    for message in errors:
        messages.error(request, message)


def _form_errors(form) -> list[str]:
    return [message for errors in form.errors.values() for message in errors]


def _member_or_403(request: AuthenticatedHttpRequest) -> Member:
    member = request.scope.member
    if member is None:
        raise PermissionDenied(_("Only party members have pledges and posts."))
    return member


STAFF_ONLY = gettext_lazy("Only secretaries, administrators and inspectors can open this page.")
MANAGERS_ONLY = gettext_lazy("Only committee administrators and branch secretaries can do this.")


# Pledges -----------------------------------------------------------------------


@login_required
def pledge_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """My pledges: the member's own, with what to do next on each."""
    scope = request.scope
    if scope.member is None and scope.has_staff_role:
        return redirect("pledges:pledge_review")
    _member_or_403(request)
    return render(
        request,
        "pledges/pledge_list.html",
        {"pledges": selectors.pledge_own_list(user=request.user), "can_review": scope.has_staff_role},
    )


@login_required
def pledge_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    member = _member_or_403(request)
    form = PledgeCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pledge = services.pledge_create(member=member, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your pledge is saved. Make it public when you are ready."))
            return redirect("pledges:pledge_detail", pledge_id=pledge.pk)
    return render(request, "pledges/pledge_form.html", {"form": form})


@login_required
@require_GET
def pledge_detail(request: AuthenticatedHttpRequest, pledge_id: int) -> HttpResponse:
    pledge = selectors.pledge_get_for_user(user=request.user, pledge_id=pledge_id)
    return _render_detail(request, pledge)


STEP_FORMS = {
    "public_form": PledgeMakePublicForm,
    "progress_form": PledgeProgressForm,
    "report_form": PledgeReportForm,
    "evaluate_form": PledgeEvaluateForm,
}


def _render_detail(request: AuthenticatedHttpRequest, pledge: Pledge, kept: dict | None = None) -> HttpResponse:
    """The pledge's page; `kept` is a step form filled with what the user sent, in place of the empty one."""
    scope = request.scope
    is_owner = scope.member is not None and pledge.member_id == scope.member.pk
    can_evaluate = (
        pledge.state == PledgeState.REPORTED
        and services.pledge_evaluate_refusal(pledge=pledge, by=request.user) is None
    )
    forms = {
        name: form_class(initial={"version": pledge.version} if issubclass(form_class, PledgeStepForm) else None)
        for name, form_class in STEP_FORMS.items()
    }
    return render(
        request,
        "pledges/pledge_detail.html",
        {
            "pledge": pledge,
            "progress": pledge.progress.order_by("happened_on", "id"),
            "is_owner": is_owner,
            "can_evaluate": can_evaluate,
            **forms,
            **(kept or {}),
        },
    )


def _own_pledge_or_404(request: AuthenticatedHttpRequest, pledge_id: int) -> Pledge:
    """Only the member changes their pledge: anyone else's looks missing."""
    return selectors.pledge_own_get_for_user(user=request.user, pledge_id=pledge_id)


def _pledge_step(request: AuthenticatedHttpRequest, pledge: Pledge, form, step, success: str) -> HttpResponse:
    if form.is_valid():
        data = dict(form.cleaned_data)
        if isinstance(form, PledgeStepForm):
            data["expected_version"] = data.pop("version")
        try:
            step(pledge=pledge, by=request.user, **data)
        except StaleEdit as error:
            # The pledge moved on since the page was opened: the page as it is now, with what the
            # user wrote kept in their form (sent again, it applies to the pledge as it is now).
            messages.error(request, error.messages[0])
            pledge = selectors.pledge_get_for_user(user=request.user, pledge_id=pledge.pk)
            name = next(name for name, form_class in STEP_FORMS.items() if isinstance(form, form_class))
            kept = type(form)(initial={**form.cleaned_data, "version": pledge.version})
            sent = [
                (form.fields[field].label, dict(getattr(form.fields[field], "choices", ())).get(value, value))
                for field, value in form.cleaned_data.items()
                if field != "version" and value not in ("", None)
            ]
            return _render_detail(request, pledge, {name: kept, "sent": sent})
        except ValidationError as error:
            _flash_errors(request, error.messages)
        else:
            messages.success(request, success)
    else:
        _flash_errors(request, _form_errors(form))
    return redirect("pledges:pledge_detail", pledge_id=pledge.pk)


@login_required
@require_POST
def pledge_make_public(request: AuthenticatedHttpRequest, pledge_id: int) -> HttpResponse:
    pledge = _own_pledge_or_404(request, pledge_id)
    return _pledge_step(
        request,
        pledge,
        PledgeMakePublicForm(request.POST),
        services.pledge_make_public,
        _("Your pledge is now public."),
    )


@login_required
@require_POST
def pledge_progress(request: AuthenticatedHttpRequest, pledge_id: int) -> HttpResponse:
    pledge = _own_pledge_or_404(request, pledge_id)
    return _pledge_step(
        request, pledge, PledgeProgressForm(request.POST), services.pledge_progress_add, _("Progress recorded.")
    )


@login_required
@require_POST
def pledge_report(request: AuthenticatedHttpRequest, pledge_id: int) -> HttpResponse:
    pledge = _own_pledge_or_404(request, pledge_id)
    return _pledge_step(
        request,
        pledge,
        PledgeReportForm(request.POST),
        services.pledge_report,
        _("Your report is sent to your branch secretary."),
    )


@login_required
@require_POST
def pledge_evaluate(request: AuthenticatedHttpRequest, pledge_id: int) -> HttpResponse:
    pledge = selectors.pledge_get_for_user(user=request.user, pledge_id=pledge_id)
    refusal = services.pledge_evaluate_refusal(pledge=pledge, by=request.user)
    if refusal is not None:
        raise PermissionDenied(refusal)
    return _pledge_step(
        request, pledge, PledgeEvaluateForm(request.POST), services.pledge_evaluate, _("The pledge is evaluated.")
    )


@login_required
@require_GET
def pledge_review(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Pledges of the secretary's subtree, reported ones first to evaluate."""
    request.scope.require_staff_role(STAFF_ONLY)
    filter_form = PledgeReviewFilterForm(request.GET or None)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    pledges = selectors.pledge_review_list(
        user=request.user, year=filters.get("year"), state=filters.get("state") or ""
    )
    page = Paginator(pledges, PLEDGES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "pledges/pledge_review.html",
        {"filter_form": filter_form, "page": page, "query": query.urlencode()},
    )


# Service posts -----------------------------------------------------------------


@login_required
@require_GET
def post_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Posts a member may claim: those of their organisation and the ones above it."""
    scope = request.scope
    if scope.member is None and scope.can_manage_any:
        return redirect("pledges:post_manage")
    member = _member_or_403(request)
    return render(
        request,
        "pledges/post_list.html",
        {
            "posts": selectors.post_claimable_list(member=member),
            "can_manage": scope.can_manage_any,
        },
    )


@login_required
@require_POST
def post_claim(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    member = _member_or_403(request)
    post = get_object_or_404(selectors.post_claimable_list(member=member), pk=post_id)
    try:
        services.post_claim(post=post, member=member, by=request.user)
    except ValidationError as error:
        _flash_errors(request, error.messages)
    else:
        messages.success(request, _("You have claimed the post “%(post)s”.") % {"post": post.title})
    return redirect("pledges:post_list")


@login_required
@require_POST
def post_release(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    member = _member_or_403(request)
    claim = get_object_or_404(selectors.post_claim_active_for(member=member), post_id=post_id)
    try:
        services.post_release(claim=claim, by=request.user)
    except ValidationError as error:
        _flash_errors(request, error.messages)
    else:
        messages.success(request, _("You have released the post “%(post)s”.") % {"post": claim.post.title})
    return redirect("pledges:post_list")


@login_required
@require_GET
def post_manage(request: AuthenticatedHttpRequest) -> HttpResponse:
    request.scope.require_manager(MANAGERS_ONLY)
    return render(request, "pledges/post_manage.html", {"posts": selectors.post_managed_list(user=request.user)})


@login_required
def post_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    request.scope.require_manager(MANAGERS_ONLY)
    organisations = member_selectors.organisation_manageable_list(user=request.user).order_by("path")
    form = ServicePostForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            post = services.service_post_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The post “%(post)s” is open for claiming.") % {"post": post.title})
            return redirect("pledges:post_manage")
    return render(request, "pledges/post_form.html", {"form": form})


@login_required
@require_POST
def post_toggle(request: AuthenticatedHttpRequest, post_id: int) -> HttpResponse:
    request.scope.require_manager(MANAGERS_ONLY)
    post = selectors.post_managed_get_for_user(user=request.user, post_id=post_id)
    services.service_post_set_open(post=post, by=request.user, is_open=not post.is_open)
    if post.is_open:
        messages.success(request, _("The post “%(post)s” is open for claiming.") % {"post": post.title})
    else:
        messages.success(request, _("The post “%(post)s” is closed for claiming.") % {"post": post.title})
    return redirect("pledges:post_manage")


# Community registration ------------------------------------------------------------


@login_required
@require_GET
def registration_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """报到销号: who has reported to a community, and the in-service members still to report."""
    request.scope.require_staff_role(STAFF_ONLY)
    scope = request.scope
    unregistered = selectors.member_unregistered_list(user=request.user)
    page = Paginator(unregistered, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    form = None
    if scope.can_manage_any:
        form = CommunityRegistrationForm(
            members=unregistered.filter(scope.subtree_q(scope.manage_paths)),
            communities=selectors.community_choices(),
        )
    return render(
        request,
        "pledges/registration_list.html",
        {
            "registrations": selectors.registration_list(user=request.user),
            "page": page,
            "form": form,
        },
    )


@login_required
@require_POST
def registration_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A secretary records that one of their in-service members has reported."""
    request.scope.require_manager(MANAGERS_ONLY)
    scope = request.scope
    members = member_selectors.member_list(user=request.user).filter(scope.subtree_q(scope.manage_paths))
    form = CommunityRegistrationForm(request.POST, members=members, communities=selectors.community_choices())
    if form.is_valid():
        try:
            registration = services.community_register(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _flash_errors(request, error.messages)
        else:
            messages.success(request, _("%(member)s has reported to %(community)s.") % _names(registration))
    else:
        _flash_errors(request, _form_errors(form))
    return redirect("pledges:registration_list")


def _names(registration: CommunityRegistration) -> dict[str, str]:
    return {"member": registration.member.name, "community": registration.community.name}


@login_required
def registration_mine(request: AuthenticatedHttpRequest) -> HttpResponse:
    """An in-service member reports to their residential community."""
    member = _member_or_403(request)
    registration = CommunityRegistration.objects.filter(member=member).select_related("community").first()
    in_service = member.category == MemberCategory.IN_SERVICE
    form = CommunityRegistrationForm(request.POST or None, communities=selectors.community_choices())
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.community_register(member=member, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(member)s has reported to %(community)s.") % _names(registration))
            return redirect("pledges:registration_mine")
    return render(
        request,
        "pledges/registration_mine.html",
        {"member": member, "registration": registration, "in_service": in_service, "form": form},
    )


# The public board ----------------------------------------------------------------


@require_GET
def public_board(request: HttpRequest, code: str) -> HttpResponse:
    """公示: readable without logging in, only where the organisation has switched it on.

    Names, posts, pledges and their states only: never a contact, never a phone, ID number or address.
    """
    organisation = selectors.public_board_organisation(code=code)
    if organisation is None:
        raise Http404(_("There is no public board here."))
    board = selectors.public_board(organisation=organisation)
    return render(request, "pledges/public_board.html", {"board": board})
