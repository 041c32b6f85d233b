from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from liaison.http import AuthenticatedHttpRequest
from liaison.jobs import BACKGROUND_UNAVAILABLE, job_reap_if_stale, task_send
from liaison.params import int_param, int_params
from members import selectors as member_selectors
from members.models import ContactCategory

from . import selectors, services
from .filters import BoardFilter
from .forms import PairingEndForm, QuotaOverrideForm, TermOpenForm
from .models import MatchingRun, Term
from .tasks import quota_compute_task

MEMBERS_PER_PAGE = 50
CONTACTS_PER_PAGE = 30


def _flash_errors(request: AuthenticatedHttpRequest, errors: list[str]) -> None:
    for message in errors:
        messages.error(request, message)


BOARD_IS_FOR_STAFF = gettext_lazy("Only secretaries, administrators and inspectors can open the quota board.")
MANAGERS_ONLY = gettext_lazy("Only committee administrators and branch secretaries can do this.")


def term_from(request: HttpRequest) -> Term:
    """The term asked for (?term= or a posted term), else the current one, among those the user may see."""
    return selectors.term_get_for_user(user=request.user, term_id=request.GET.get("term") or request.POST.get("term"))


@login_required
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    request.scope.require_staff_role(BOARD_IS_FOR_STAFF)
    term = term_from(request)
    members = selectors.board_members(user=request.user, term=term)
    board_filter = BoardFilter(
        request.GET or None,
        queryset=members,
        term=term,
        organisations=member_selectors.organisation_list(user=request.user).order_by("path"),
    )
    page = Paginator(board_filter.qs, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    buckets = selectors.board_buckets(term=term, members=board_filter.qs)
    rows = [
        (member, [next((s for s in member.term_statuses if (s.contact_category, s.unit) == b), None) for b in buckets])
        for member in page
    ]
    columns = [(ContactCategory(category).label if category else _("Any category"), unit) for category, unit in buckets]
    query = request.GET.copy()
    query.pop("page", None)
    scope = request.scope
    return render(
        request,
        "pairings/board.html",
        {
            "term": term,
            "terms": selectors.term_list(user=request.user),
            "filter": board_filter,
            "page": page,
            "rows": rows,
            "columns": columns,
            "query": query.urlencode(),
            "can_manage": scope.can_manage_any,
            "can_open_term": term.is_current and scope.manages(term.organisation),
            "managed_organisations": member_selectors.organisation_managed_roots(user=request.user),
            "recent_runs": selectors.matching_run_list(user=request.user).filter(term=term)[:5],
        },
    )


@login_required
@require_POST
def board_recompute(request: AuthenticatedHttpRequest) -> HttpResponse:
    request.scope.require_manager(MANAGERS_ONLY)
    term = term_from(request)
    sent = [
        task_send(quota_compute_task, term.pk, organisation.pk)
        for organisation in member_selectors.organisation_managed_roots(user=request.user)
    ]
    if all(sent):
        messages.success(request, _("The quota status is being recomputed."))
    else:
        messages.error(request, BACKGROUND_UNAVAILABLE)
    return redirect(reverse("pairings:board") + f"?term={term.pk}")


@login_required
@require_POST
def matching_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    request.scope.require_manager(MANAGERS_ONLY)
    term = term_from(request)
    organisation = member_selectors.organisation_manageable_get(
        user=request.user, organisation_id=request.POST.get("organisation")
    )
    if organisation is None:
        raise Http404(_("Choose an organisation."))
    run = services.matching_run_create(term=term, organisation=organisation, by=request.user)
    return redirect("pairings:matching_detail", run_id=run.pk)


def _run_or_404(request: AuthenticatedHttpRequest, run_id: int) -> MatchingRun:
    return selectors.matching_run_get_for_user(user=request.user, run_id=run_id)


@login_required
def matching_detail(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    request.scope.require_manager(MANAGERS_ONLY)
    run = _run_or_404(request, run_id)
    job_reap_if_stale(run)  # a run whose worker stopped ends here too, even with no reaper running
    errors: list[str] = []
    if request.method == "POST" and run.is_waiting_for_review:
        if "discard" in request.POST:
            services.matching_run_discard(run=run, by=request.user)
            messages.info(request, _("The proposal was discarded; nothing was paired."))
            return redirect("pairings:board")
        chosen = int_params(request.POST.getlist("proposal"))
        if not chosen:
            errors.append(_("Tick at least one proposed pairing, or discard the proposal."))
        else:
            try:
                created = services.matching_run_accept(run=run, by=request.user, proposal_ids=chosen)
            except ValidationError as error:
                errors.extend(error.messages)
            else:
                messages.success(request, _("%(count)s pairings made.") % {"count": created})
                return redirect(reverse("pairings:board") + f"?term={run.term_id}")
    proposals = run.proposals.select_related("member__organisation", "contact__organisation")
    template = "pairings/_matching_status.html" if request.headers.get("HX-Request") else "pairings/matching.html"
    return render(request, template, {"run": run, "proposals": proposals, "errors": errors})


@login_required
@require_POST
def matching_repeat(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    """Run a failed matching again, for the same term and organisation."""
    request.scope.require_manager(MANAGERS_ONLY)
    run = _run_or_404(request, run_id)
    try:
        again = services.matching_run_repeat(run=run, by=request.user)
    except ValidationError as error:
        _flash_errors(request, error.messages)
        return redirect("pairings:matching_detail", run_id=run.pk)
    return redirect("pairings:matching_detail", run_id=again.pk)


def _managed_member_or_404(request: AuthenticatedHttpRequest, member_id: int):
    scope = request.scope
    member = member_selectors.member_get_for_user(user=request.user, member_id=member_id)
    if not scope.manages(member.organisation):
        raise Http404(_("No such party member."))
    return member


@login_required
def member_pair(request: AuthenticatedHttpRequest, member_id: int) -> HttpResponse:
    request.scope.require_manager(MANAGERS_ONLY)
    member = _managed_member_or_404(request, member_id)
    term = term_from(request)
    if request.method == "POST":
        contact_id = int_param(request.POST.get("contact"))
        contact = (
            member_selectors.contact_list(user=request.user).filter(pk=contact_id).first()
            if contact_id is not None
            else None
        )
        if contact is None or not request.scope.manages(contact.organisation):
            raise Http404(_("No such contact."))
        try:
            services.pairing_create(member=member, contact=contact, term=term, theme=request.POST.get("theme", ""))
        except ValidationError as error:
            _flash_errors(request, error.messages)
        else:
            services.quota_compute(term=term, organisation=member.organisation)
            messages.success(
                request, _("%(member)s is now paired with %(contact)s.") % {"member": member, "contact": contact}
            )
        return redirect(f"{request.path}?term={term.pk}&category={request.POST.get('category', '')}")

    category = request.GET.get("category", "")
    candidates = selectors.pairable_contacts(user=request.user, member=member, term=term)
    if category in ContactCategory.values:
        candidates = candidates.filter(category=category)
    page = Paginator(candidates, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "pairings/member_pair.html",
        {
            "member": member,
            "term": term,
            "targets": selectors.member_targets(member=member, term=term),
            "pairings": selectors.pairing_list(user=request.user).filter(member=member, term=term, status="active"),
            "page": page,
            "category": category,
            "categories": ContactCategory.choices,
            "end_form": PairingEndForm(initial={"ended_on": timezone.localdate()}),
            "override_form": QuotaOverrideForm(),
        },
    )


@login_required
@require_POST
def pairing_end(request: AuthenticatedHttpRequest, pairing_id: int) -> HttpResponse:
    request.scope.require_manager(MANAGERS_ONLY)
    pairing = selectors.pairing_get_for_user(user=request.user, pairing_id=pairing_id)
    if not request.scope.manages(pairing.member.organisation):
        raise Http404
    form = PairingEndForm(request.POST)
    if form.is_valid():
        try:
            services.pairing_end(
                pairing=pairing, ended_on=form.cleaned_data["ended_on"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _flash_errors(request, error.messages)
        else:
            services.quota_compute(term=pairing.term, organisation=pairing.member.organisation)
            messages.success(request, _("The pairing has ended; its history is kept."))
    else:
        _flash_errors(request, [str(message) for errors in form.errors.values() for message in errors])
    return redirect(reverse("pairings:member_pair", args=[pairing.member_id]) + f"?term={pairing.term_id}")


@login_required
@require_POST
def quota_override(request: AuthenticatedHttpRequest, member_id: int) -> HttpResponse:
    request.scope.require_manager(MANAGERS_ONLY)
    member = _managed_member_or_404(request, member_id)
    term = term_from(request)
    form = QuotaOverrideForm(request.POST)
    if form.is_valid():
        services.quota_override_set(term=term, member=member, by=request.user, **form.cleaned_data)
        services.quota_compute(term=term, organisation=member.organisation)
        messages.success(request, _("The quota of %(member)s was adjusted.") % {"member": member})
    else:
        _flash_errors(request, [str(message) for errors in form.errors.values() for message in errors])
    return redirect(reverse("pairings:member_pair", args=[member.pk]) + f"?term={term.pk}")


@login_required
def term_open(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Terms belong to the tree's root: its administrators and the committee secretary open them.
    previous = selectors.term_list(user=request.user).filter(is_current=True).first()
    if previous is None or not request.scope.manages(previous.organisation):
        raise PermissionDenied(_("Only the committee's administrators and secretary open a new term."))
    form = TermOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            term = services.term_open(previous=previous, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(term)s is now the current term.") % {"term": term})
            return redirect(reverse("pairings:board") + f"?term={term.pk}")
    return render(request, "pairings/term_open.html", {"form": form, "previous": previous})
