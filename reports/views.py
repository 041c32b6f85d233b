import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from liaison.http import AuthenticatedHttpRequest
from liaison.jobs import job_reap_if_stale
from liaison.params import int_param
from members import selectors as member_selectors
from pairings import selectors as pairing_selectors
from pairings import services as pairing_services
from pairings.models import Term

from . import selectors, services
from .filters import EvaluationFilter
from .forms import EvaluationPolicyForm, ExportForm, GradeAdjustForm, SurveyAnswerForm
from .ledgers import LedgerKind, build_ledgers
from .models import RATE_FIELDS, ExportJob, ItemKind

EVALUATIONS_PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _managed_organisation_or_404(request: AuthenticatedHttpRequest):
    organisation = member_selectors.organisation_manageable_get(
        user=request.user, organisation_id=request.POST.get("organisation")
    )
    if organisation is None:
        raise Http404(_("Choose an organisation."))
    return organisation


def term_from(request: HttpRequest) -> Term:
    """The term asked for (?term= or a posted term), else the current one, among those the user may see."""
    return pairing_selectors.term_get_for_user(
        user=request.user, term_id=request.GET.get("term") or request.POST.get("term")
    )


def _with_term(url_name: str, term: Term, **kwargs) -> str:
    return reverse(url_name, kwargs=kwargs or None) + f"?term={term.pk}"


# Evaluation ------------------------------------------------------------------------------


def _recent_runs(request: AuthenticatedHttpRequest, term: Term) -> dict:
    runs = list(selectors.evaluation_run_list(user=request.user).filter(term=term)[:5])
    for run in runs:
        if run.is_unfinished:
            job_reap_if_stale(run)  # a run whose worker stopped ends here too, even with no reaper running
    scope = request.scope
    return {
        "runs": runs,
        "running": any(run.is_unfinished for run in runs),
        "repeatable": [run.pk for run in runs if run.is_failed and scope.manages(run.organisation)],
    }


@login_required
def evaluation_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = request.scope
    scope.require_staff_role(_("Only secretaries, administrators and inspectors can see the evaluation."))
    term = term_from(request)
    evaluations = selectors.evaluation_list(user=request.user).filter(term=term)
    evaluation_filter = EvaluationFilter(
        request.GET or None,
        queryset=evaluations,
        organisations=member_selectors.organisation_list(user=request.user).order_by("path"),
    )
    page = Paginator(evaluation_filter.qs, EVALUATIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/evaluation_list.html",
        {
            "term": term,
            "terms": pairing_selectors.term_list(user=request.user),
            "filter": evaluation_filter,
            "page": page,
            "query": query.urlencode(),
            **_recent_runs(request, term),
            "managed_organisations": member_selectors.organisation_managed_roots(user=request.user),
            "can_set_policy": scope.manages(term.organisation),
            "can_close_term": scope.manages(term.organisation) and term.closed_at is None,
        },
    )


@login_required
def evaluation_runs(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The recent runs, polled by the list page while one is running."""
    term = term_from(request)
    return render(request, "reports/_evaluation_runs.html", {**_recent_runs(request, term), "term": term})


@login_required
@require_POST
def evaluation_run(request: AuthenticatedHttpRequest) -> HttpResponse:
    term = term_from(request)
    organisation = _managed_organisation_or_404(request)
    services.evaluation_run_create(term=term, organisation=organisation, by=request.user)
    messages.success(
        request, _("The evaluation of %(organisation)s has started.") % {"organisation": organisation.name}
    )
    return redirect(_with_term("reports:evaluation_list", term))


@login_required
@require_POST
def evaluation_run_repeat(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    """Run a failed evaluation again, for the same term and organisation."""
    run = selectors.evaluation_run_get_for_user(user=request.user, run_id=run_id)
    try:
        services.evaluation_run_repeat(run=run, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("The evaluation of %(organisation)s has started.") % {"organisation": run.organisation.name}
        )
    return redirect(_with_term("reports:evaluation_list", run.term))


@login_required
def evaluation_detail(request: AuthenticatedHttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = selectors.evaluation_get_for_user(user=request.user, evaluation_id=evaluation_id)
    refusal = services.grade_adjust_refusal(evaluation=evaluation, by=request.user)
    can_adjust = refusal is None
    form = GradeAdjustForm(request.POST or None, initial={"to_grade": evaluation.grade})
    if request.method == "POST":
        if refusal is not None:
            raise PermissionDenied(refusal)
        if form.is_valid():
            try:
                services.grade_adjust(evaluation=evaluation, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The grade was adjusted."))
                return redirect("reports:evaluation_detail", evaluation_id=evaluation.pk)
    points = selectors.evaluation_points(term=evaluation.term)
    items = []
    for kind in ItemKind:
        rate = getattr(evaluation, RATE_FIELDS[kind])
        weight = points.get(kind.value, 0)
        items.append(
            {"label": kind.label, "points": weight, "rate": rate, "earned": None if rate is None else weight * rate}
        )
    staff_view = request.scope.has_staff_role
    return render(
        request,
        "reports/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "items": items,
            "form": form,
            "can_adjust": can_adjust,
            "adjustments": selectors.adjustment_list(evaluation=evaluation),
            # What the public said, without who: shown to the secretaries, not to the member.
            "answers": selectors.response_summary(term=evaluation.term, member_id=evaluation.member_id)
            if staff_view
            else None,
            "comments": selectors.response_comments(term=evaluation.term, member_id=evaluation.member_id)
            if staff_view
            else None,
        },
    )


@login_required
def evaluation_policy(request: AuthenticatedHttpRequest) -> HttpResponse:
    term = term_from(request)
    if not request.scope.manages(term.organisation):
        raise PermissionDenied(_("Only the committee's administrators and secretary set the score sheet."))
    policy = services.evaluation_policy_for(term)
    points = dict(policy.items.values_list("kind", "points"))
    form = EvaluationPolicyForm(request.POST or None, instance=policy, points=points)
    if request.method == "POST" and form.is_valid():
        try:
            services.evaluation_policy_save(policy=policy, points=form.points, **form.thresholds)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The score sheet was saved. Run the evaluation again to apply it."))
            return redirect(_with_term("reports:evaluation_list", term))
    return render(request, "reports/evaluation_policy.html", {"form": form, "term": term})


@login_required
@require_POST
def term_close(request: AuthenticatedHttpRequest) -> HttpResponse:
    term = term_from(request)
    if not request.scope.manages(term.organisation):
        raise PermissionDenied(_("Only the committee's administrators and secretary close a term."))
    try:
        pairing_services.term_close(term=term)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("%(term)s is closed. Its logs can no longer change.") % {"term": term})
    return redirect(_with_term("reports:evaluation_list", term))


# Satisfaction survey (the secretary's side) ------------------------------------------------


@login_required
def survey(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = request.scope
    scope.require_staff_role(_("Only secretaries, administrators and inspectors can see the survey."))
    term = term_from(request)
    if request.method == "POST":
        organisation = _managed_organisation_or_404(request)
        try:
            count = services.survey_links_create(term=term, organisation=organisation, by=request.user)
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, _("%(count)d survey links are ready to print.") % {"count": count})
        return redirect(_with_term("reports:survey", term))
    progress = selectors.survey_progress(user=request.user, term=term)
    page = Paginator(progress, EVALUATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/survey.html",
        {
            "term": term,
            "terms": pairing_selectors.term_list(user=request.user),
            "page": page,
            "query": f"term={term.pk}",
            "managed_organisations": member_selectors.organisation_managed_roots(user=request.user),
            "link_days": settings.SURVEY_LINK_DAYS,
        },
    )


@login_required
def survey_print(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Cards to cut out and hand over: the contact's name, a QR code and the short link."""
    request.scope.require_manager(_("Only committee administrators and branch secretaries can print survey links."))
    term = term_from(request)
    links = selectors.survey_links_to_print(user=request.user, term=term)
    organisation_id = int_param(request.GET.get("organisation"))
    if organisation_id is not None:
        organisation = get_object_or_404(
            member_selectors.organisation_manageable_list(user=request.user), pk=organisation_id
        )
        links = links.filter(member__organisation__path__startswith=organisation.path)
    cards = []
    for link in links.order_by("member__organisation__path", "member__name", "contact__name", "id"):
        url = request.build_absolute_uri(reverse("survey_answer", kwargs={"token": link.token}))
        cards.append({"link": link, "url": url, "qr": segno.make(url, error="m").svg_inline(scale=3)})
    return render(request, "reports/survey_print.html", {"term": term, "cards": cards})


# Satisfaction survey (the public's side) ------------------------------------------------------


_CLOSED_STATUS = {"unknown": 404, "expired": 410, "answered": 410, "limited": 429, "thanks": 200}


def _survey_closed(request: HttpRequest, reason: str) -> HttpResponse:
    """The page that ends a survey visit: thanks, or why the link cannot be answered."""
    return render(request, "reports/survey_closed.html", {"reason": reason}, status=_CLOSED_STATUS[reason])


@never_cache
@ratelimit(key="ip", rate=lambda group, request: settings.SURVEY_RATE_LIMIT, block=False)
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The page a QR code opens: no login, one answer, nothing about the contact."""
    if getattr(request, "limited", False):
        return _survey_closed(request, "limited")
    try:
        link = services.survey_link_open(token)
    except services.SurveyLinkError as error:
        return _survey_closed(request, error.reason)
    form = SurveyAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_answer(token=token, **form.cleaned_data)
        except services.SurveyLinkError as error:
            return _survey_closed(request, error.reason)
        return _survey_closed(request, "thanks")
    return render(request, "reports/survey_answer.html", {"form": form, "member": link.member, "term": link.term})


# Ledger exports ------------------------------------------------------------------------------


@login_required
def export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """Choose a ledger; small ones download at once, large ones become a job with a progress bar."""
    scope = request.scope
    scope.require_staff_role(_("Only secretaries, administrators and inspectors export ledgers."))
    term = term_from(request)
    form = ExportForm(
        request.POST or None,
        organisations=member_selectors.organisation_list(user=request.user).order_by("path"),
        may_ask_full=scope.can_manage_any,
    )
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        kind = LedgerKind(form.cleaned_data["kind"])
        full = form.cleaned_data.get("full_personal_data", False)
        if services.export_is_small(user=request.user, term=term, organisation=organisation, kind=kind):
            content = build_ledgers(
                user=request.user, term=term, organisation=organisation, kind=kind, full_personal_data=full
            )
            assert content is not None  # without a path, the bytes are returned
            filename = services.export_filename(term=term, organisation=organisation, kind=kind)
            return _xlsx_response(content, filename)
        job = services.export_job_create(
            user=request.user, term=term, organisation=organisation, kind=kind, full_personal_data=full
        )
        return redirect("reports:export_job", job_id=job.pk)
    return render(
        request,
        "reports/export.html",
        {
            "form": form,
            "term": term,
            "terms": pairing_selectors.term_list(user=request.user),
            "jobs": selectors.export_job_list(user=request.user)[:10],
            "inline_max": settings.EXPORT_INLINE_MAX_ROWS,
        },
    )


def _xlsx_response(content: bytes | FileResponse, filename: str) -> HttpResponseBase:
    response = content if isinstance(content, FileResponse) else HttpResponse(content, content_type=XLSX)
    response["Content-Type"] = XLSX
    disposition = content_disposition_header(as_attachment=True, filename=filename)
    assert disposition is not None  # always one for an attachment
    response["Content-Disposition"] = disposition
    return response


def _job_or_404(request: AuthenticatedHttpRequest, job_id: int):
    return selectors.export_job_get_for_user(user=request.user, job_id=job_id)


@login_required
def export_job(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    job_reap_if_stale(job)  # a job whose worker stopped ends here too, even with no reaper running
    template = "reports/_export_job.html" if request.headers.get("HX-Request") else "reports/export_job.html"
    return render(request, template, {"job": job})


@login_required
@require_POST
def export_job_repeat(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    """Ask again for a failed export: a new job with the same choices."""
    job = _job_or_404(request, job_id)
    try:
        again = services.export_job_repeat(job=job, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("reports:export_job", job_id=job.pk)
    return redirect("reports:export_job", job_id=again.pk)


@login_required
def export_download(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponseBase:
    job = _job_or_404(request, job_id)
    if job.status != ExportJob.Status.SUCCEEDED or not job.file:
        raise Http404(_("This export is not ready."))
    filename = services.export_filename(term=job.term, organisation=job.organisation, kind=LedgerKind(job.kind))
    return _xlsx_response(FileResponse(job.file.open("rb")), filename)
