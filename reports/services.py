"""Writes for the evaluation (policy, the job, grade adjustments) and the satisfaction survey."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liaison.jobs import (
    UNFINISHED,
    JobLost,
    job_atomic,
    job_enqueue,
    job_fail,
    job_heartbeat,
    job_language,
    job_progress,
    job_start,
    job_succeed,
    job_workdir,
)
from members.models import Organisation
from members.scoping import get_scope
from members.selectors import ReviewRefusal, review_refusal
from pairings.models import Pairing, Term
from pairings.services import quota_compute

from . import scoring
from .evaluation import collect_facts
from .ledgers import LEDGER_LABELS, LedgerKind, build_ledgers, ledger_row_count
from .models import (
    Evaluation,
    EvaluationItem,
    EvaluationPolicy,
    EvaluationRun,
    ExportJob,
    Grade,
    GradeAdjustment,
    ItemKind,
    SurveyLink,
    SurveyResponse,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

BATCH_SIZE = 1000
# A sheet that weighs the public's view and the quota most, as the sources do.
DEFAULT_POINTS = {
    ItemKind.QUOTA: 25,
    ItemKind.FREQUENCY: 25,
    ItemKind.REQUESTS: 15,
    ItemKind.PLEDGES: 15,
    ItemKind.SATISFACTION: 20,
}
TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters


# Policy ----------------------------------------------------------------------------------


@transaction.atomic
def evaluation_policy_for(term: Term) -> EvaluationPolicy:
    """The term's score sheet, made with the default items the first time it is asked for."""
    policy, created = EvaluationPolicy.objects.get_or_create(term=term)
    if created:
        EvaluationItem.objects.bulk_create(
            EvaluationItem(policy=policy, kind=kind, points=points) for kind, points in DEFAULT_POINTS.items()
        )
    return policy


def check_points(points: Mapping[str, int]) -> None:
    total = sum(points.values())
    if total != 100:
        raise ValidationError(
            _("The items must add up to 100 points; they add up to %(total)d.") % {"total": total}, code="points"
        )


@transaction.atomic
def evaluation_policy_save(
    *,
    policy: EvaluationPolicy,
    points: Mapping[str, int],
    excellent_from: int,
    competent_from: int,
    basically_competent_from: int,
    satisfaction_threshold: int,
) -> EvaluationPolicy:
    check_points(points)
    if not basically_competent_from <= competent_from <= excellent_from <= 100:
        raise ValidationError(_("The grade thresholds must rise from basically competent to excellent."))
    policy.excellent_from = excellent_from
    policy.competent_from = competent_from
    policy.basically_competent_from = basically_competent_from
    policy.satisfaction_threshold = satisfaction_threshold
    policy.full_clean()
    policy.save()
    for kind, value in points.items():
        EvaluationItem.objects.update_or_create(policy=policy, kind=kind, defaults={"points": value})
    return policy


# The evaluation job ----------------------------------------------------------------------


def evaluate(
    *,
    term: Term,
    organisation: Organisation,
    today: date | None = None,
    tick: Callable[[], object] = lambda: None,
) -> int:
    """Score every member of the subtree for the term and store the results; returns the count.

    Re-runnable: each run overwrites the computed fields of the same rows and leaves the
    secretaries' adjustments alone. The quota status is refreshed first while the term
    is running (in its own transaction, `quota_compute`); once it has closed, the figures
    stored at closing are used. Evaluations of one term run one at a time, whatever their
    subtrees: each holds the term's score sheet row (`FOR NO KEY UPDATE`) until it commits.
    `tick` is called between the steps (the job's heartbeat).
    """
    if term.closed_at is None and term.is_current:
        quota_compute(term=term, organisation=organisation)
        tick()
    with transaction.atomic():
        return _evaluate(term=term, organisation=organisation, today=today, tick=tick)


def _evaluate(*, term: Term, organisation: Organisation, today: date | None, tick: Callable[[], object]) -> int:
    policy = evaluation_policy_for(term)
    EvaluationPolicy.objects.select_for_update(no_key=True).filter(pk=policy.pk).values_list("pk").first()
    points = dict(policy.items.values_list("kind", "points"))
    thresholds = scoring.Thresholds(policy.excellent_from, policy.competent_from, policy.basically_competent_from)
    now = timezone.now()
    rows = []
    facts_by_member = collect_facts(term=term, organisation=organisation, today=today)
    tick()
    for done, (member_id, facts) in enumerate(facts_by_member.items()):
        if done % BATCH_SIZE == 0:
            tick()
        score = scoring.score(facts.rates, points)
        rows.append(
            Evaluation(
                term=term,
                member_id=member_id,
                organisation_id=facts.organisation_id,
                quota_rate=facts.rates[ItemKind.QUOTA],
                frequency_rate=facts.rates[ItemKind.FREQUENCY],
                requests_rate=facts.rates[ItemKind.REQUESTS],
                pledges_rate=facts.rates[ItemKind.PLEDGES],
                satisfaction_rate=facts.rates[ItemKind.SATISFACTION],
                survey_answers=facts.survey_answers,
                score=score,
                computed_grade=scoring.grade(score, thresholds),
                accountability=scoring.needs_accountability(
                    facts.rates[ItemKind.SATISFACTION], policy.satisfaction_threshold
                ),
                computed_at=now,
            )
        )
    tick()
    Evaluation.objects.bulk_create(
        rows,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["term", "member"],
        update_fields=[
            "organisation",
            "quota_rate",
            "frequency_rate",
            "requests_rate",
            "pledges_rate",
            "satisfaction_rate",
            "survey_answers",
            "score",
            "computed_grade",
            "accountability",
            "computed_at",
        ],
    )
    return len(rows)


@transaction.atomic
def evaluation_run_create(*, term: Term, organisation: Organisation, by: User) -> EvaluationRun:
    """Start the evaluation of a subtree, or return the run already queued or running for it.

    One unfinished run per term and subtree is a constraint (`evaluation_run_one_unfinished`):
    asked twice at once, the second insert waits for the first to commit, is refused, and
    the first run is returned.
    """
    if not get_scope(by).manages(organisation):
        raise PermissionDenied(_("You can only run the evaluation for your own organisation."))
    unfinished = EvaluationRun.objects.filter(term=term, organisation=organisation, status__in=UNFINISHED)
    run = unfinished.first()
    if run is not None:
        return run
    try:
        with transaction.atomic():
            run = EvaluationRun.objects.create(term=term, organisation=organisation, created_by=by)
    except IntegrityError:
        # Refused for the run just asked for by someone else, which may even have finished since.
        run = EvaluationRun.objects.filter(term=term, organisation=organisation).order_by("-created_at", "-id").first()
        if run is None:
            raise
        return run
    from .tasks import evaluation_run_task

    job_enqueue(run, evaluation_run_task)
    return run


def evaluation_run_repeat(*, run: EvaluationRun, by: User) -> EvaluationRun:
    """Run a failed evaluation again: a new run for the same term and subtree (the failed one stays on record)."""
    if not run.is_failed:
        raise ValidationError(_("Only a failed evaluation can be run again."))
    return evaluation_run_create(term=run.term, organisation=run.organisation, by=by)


EVALUATION_FAILED = gettext_lazy(
    "The evaluation failed. Please run it again; if it fails again, tell the administrator."
)
EXPORT_FAILED = gettext_lazy("The export failed. Please try again; if it fails again, tell the administrator.")


def evaluation_run_compute(*, run: EvaluationRun) -> EvaluationRun:
    """Evaluate the run's subtree; a run that raises is failed with a message, then re-raised."""
    if not job_start(run):  # another worker has it, or it already ran
        run.refresh_from_db()
        return run
    try:
        # The scores and the job's success are committed together, or neither.
        with job_atomic(run):
            run.members_evaluated = evaluate(
                term=run.term, organisation=run.organisation, tick=lambda: job_heartbeat(run)
            )
            if not job_succeed(run, "members_evaluated"):
                raise JobLost(f"evaluation run {run.pk} was ended elsewhere")  # keep no score of it
    except Exception:
        job_fail(run, EVALUATION_FAILED)
        raise
    return run


def grade_adjust_refusal(*, evaluation: Evaluation, by: User) -> str | None:
    """Why `by` may not adjust this grade (None when they may): no one adjusts their own.

    The member's secretary (or an administrator over the branch) adjusts a grade; a
    secretary's own grade is adjusted by the level above — the parent organisation's
    secretary or an administrator over it (members.selectors.review_refusal).
    """
    refusal = review_refusal(user=by, member=evaluation.member, organisation=evaluation.organisation)
    if refusal is None:
        return None
    if refusal is ReviewRefusal.OWN_WORK:
        return _("You cannot adjust your own grade.")
    if refusal is ReviewRefusal.NEEDS_LEVEL_ABOVE:
        return _(
            "This member runs the organisation: their grade is adjusted by the level above "
            "(the secretary or an administrator of the organisation above)."
        )
    return _("Only the member's secretary can adjust the grade.")


@transaction.atomic
def grade_adjust(*, evaluation: Evaluation, to_grade: str, reason: str, by: User) -> GradeAdjustment:
    """The secretary's change of grade; every change is kept with who, when and why."""
    refusal = grade_adjust_refusal(evaluation=evaluation, by=by)
    if refusal is not None:
        raise PermissionDenied(refusal)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the adjustment.")})
    if to_grade not in Grade.values:
        raise ValidationError({"to_grade": _("Choose a grade.")})
    evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    adjustment = GradeAdjustment.objects.create(
        evaluation=evaluation, from_grade=evaluation.grade, to_grade=to_grade, reason=reason, by=by
    )
    # Back to the computed grade is not an adjustment any more, but stays in the history.
    evaluation.adjusted_grade = "" if to_grade == evaluation.computed_grade else to_grade
    evaluation.save(update_fields=["adjusted_grade"])
    return adjustment


# Satisfaction survey ---------------------------------------------------------------------


def survey_link_expiry(term: Term, today: date) -> date:
    return max(today, term.ends_on) + timedelta(days=settings.SURVEY_LINK_DAYS)


@transaction.atomic
def survey_links_create(*, term: Term, organisation: Organisation, by: User, today: date | None = None) -> int:
    """One link per member–contact pair of the subtree this term; a pair that has one keeps it.

    Ended pairings count too: the survey asks about the term's service, and usually goes
    out once the term is over (closing a term freezes its logs, not its survey). An
    expired link that was never answered gets a fresh token and date. Returns the number
    of links made or renewed.
    """
    if not get_scope(by).manages(organisation):
        raise PermissionDenied(_("You can only survey your own organisation's contacts."))
    today = today or timezone.localdate()
    expires_at = timezone.make_aware(datetime.combine(survey_link_expiry(term, today), time.max))
    pairs = set(
        Pairing.objects.filter(term=term, member__organisation__path__startswith=organisation.path).values_list(
            "member_id", "contact_id"
        )
    )
    existing = {
        (link.member_id, link.contact_id): link
        for link in SurveyLink.objects.filter(term=term, member__organisation__path__startswith=organisation.path)
    }
    now = timezone.now()
    renewed = [link for link in existing.values() if not link.answered and link.expires_at <= now]
    for link in renewed:
        link.token = secrets.token_urlsafe(TOKEN_BYTES)
        link.expires_at = expires_at
    SurveyLink.objects.bulk_update(renewed, ["token", "expires_at"], batch_size=BATCH_SIZE)
    new = [
        SurveyLink(
            term=term,
            member_id=member_id,
            contact_id=contact_id,
            token=secrets.token_urlsafe(TOKEN_BYTES),
            expires_at=expires_at,
            created_by=by,
        )
        for member_id, contact_id in sorted(pairs - existing.keys())
    ]
    SurveyLink.objects.bulk_create(new, batch_size=BATCH_SIZE)
    return len(new) + len(renewed)


class SurveyLinkError(Exception):
    """Why a link cannot be answered: "unknown", "expired" or "answered"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def survey_link_open(token: str) -> SurveyLink:
    """The link a token opens, or SurveyLinkError saying why it cannot be answered."""
    link = SurveyLink.objects.select_related("member", "term").filter(token=token).first()
    if link is None:
        raise SurveyLinkError("unknown")
    if link.answered:
        raise SurveyLinkError("answered")
    if link.expires_at <= timezone.now():
        raise SurveyLinkError("expired")
    return link


@transaction.atomic
def survey_answer(*, token: str, rating: str, comment: str = "") -> SurveyResponse:
    """Record one answer and spend the link, atomically: a link answers once, even under a race."""
    link = survey_link_open(token)
    spent = SurveyLink.objects.filter(pk=link.pk, answered=False, expires_at__gt=timezone.now()).update(answered=True)
    if spent != 1:
        raise SurveyLinkError("answered")
    response = SurveyResponse(
        term=link.term,
        member=link.member,
        rating=rating,
        comment=comment.strip(),
        submitted_on=timezone.localdate(),
    )
    response.full_clean()
    response.save()
    return response


# Ledger exports ------------------------------------------------------------------------------


def export_is_small(*, user: User, term: Term, organisation: Organisation, kind: LedgerKind) -> bool:
    rows = ledger_row_count(user=user, term=term, organisation=organisation, kind=kind)
    return rows <= settings.EXPORT_INLINE_MAX_ROWS


def export_filename(*, term: Term, organisation: Organisation, kind: LedgerKind) -> str:
    return f"{organisation.name}-{term.name}-{LEDGER_LABELS[kind]}.xlsx"


@transaction.atomic
def export_job_create(
    *, user: User, term: Term, organisation: Organisation, kind: LedgerKind, full_personal_data: bool
) -> ExportJob:
    if not get_scope(user).reads(organisation):
        raise PermissionDenied(_("You may not export this organisation's ledgers."))
    job = ExportJob.objects.create(
        user=user,
        term=term,
        organisation=organisation,
        kind=kind,
        full_personal_data=full_personal_data,
        rows_total=ledger_row_count(user=user, term=term, organisation=organisation, kind=kind),
    )
    from .tasks import export_job_task

    job_enqueue(job, export_job_task)
    return job


def export_job_repeat(*, job: ExportJob, user: User) -> ExportJob:
    """Ask for a failed export again: a new job with the same ledger, term, subtree and choice of phones."""
    if not job.is_failed:
        raise ValidationError(_("Only a failed export can be asked for again."))
    return export_job_create(
        user=user,
        term=job.term,
        organisation=job.organisation,
        kind=LedgerKind(job.kind),
        full_personal_data=job.full_personal_data,
    )


def export_job_run(*, job: ExportJob) -> ExportJob:
    """Stream the ledgers to a temporary file, then keep it as the job's file."""
    if not job_start(job):  # another worker has it, or it already ran
        job.refresh_from_db()
        return job

    def advance(rows: int) -> None:
        written = job.rows_written + rows
        percent = min(99, written * 100 // job.rows_total) if job.rows_total else 0
        job_progress(job, percent, rows_written=written)  # also the job's heartbeat

    try:
        # The workbook is built in the job's own directory, removed however the job ends.
        with job_workdir(job) as workdir, job_language(job):
            path = workdir / "ledgers.xlsx"
            build_ledgers(
                user=job.user,
                term=job.term,
                organisation=job.organisation,
                kind=LedgerKind(job.kind),
                full_personal_data=job.full_personal_data,
                path=path,
                progress=advance,
            )
            job_heartbeat(job, force=True)
            with path.open("rb") as handle:
                # A random name: the file is reached only through the owner's download view.
                job.file.save(f"{secrets.token_hex(16)}.xlsx", File(handle), save=False)
        if not job_succeed(job, "file", "rows_written"):
            raise JobLost(f"export {job.pk} was ended elsewhere")
    except Exception:
        if job.file and not ExportJob.objects.filter(pk=job.pk, file=job.file.name).exists():
            job.file.delete(save=False)  # a file no job row names would never be cleaned up
        job_fail(job, EXPORT_FAILED)
        raise
    return job


def exports_clean_up(*, now: datetime | None = None) -> int:
    """Delete export files and jobs older than EXPORT_KEEP_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EXPORT_KEEP_DAYS)
    old = list(ExportJob.objects.filter(created_at__lt=cutoff))
    for job in old:
        if job.file:
            job.file.delete(save=False)
    ExportJob.objects.filter(pk__in=[job.pk for job in old]).delete()
    return len(old)
