"""Scoped reads for evaluations and the satisfaction survey."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from liaison.selectors import object_for_user
from members.scoping import get_scope

from .models import (
    SATISFIED_RATINGS,
    Evaluation,
    EvaluationItem,
    EvaluationRun,
    ExportJob,
    GradeAdjustment,
    SurveyLink,
    SurveyResponse,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from pairings.models import Term


def evaluation_list(*, user: User | AnonymousUser) -> QuerySet[Evaluation]:
    """Results in the subtrees the user reads, and a member's own."""
    scope = get_scope(user)
    condition = scope.subtree_q(scope.read_paths)
    if scope.member is not None:
        condition |= Q(member=scope.member)
    return Evaluation.objects.filter(condition).select_related("member", "organisation", "term")


def evaluation_get_for_user(*, user: User | AnonymousUser, evaluation_id: int) -> Evaluation:
    return object_for_user(evaluation_list(user=user), _("There is no such evaluation."), pk=evaluation_id)


def evaluation_points(*, term: Term) -> dict[str, int]:
    """What each item of the term's score sheet is worth (empty before the first evaluation)."""
    return dict(EvaluationItem.objects.filter(policy__term=term).values_list("kind", "points"))


def adjustment_list(*, evaluation: Evaluation) -> QuerySet[GradeAdjustment]:
    return evaluation.adjustments.select_related("by")


def evaluation_run_list(*, user: User | AnonymousUser) -> QuerySet[EvaluationRun]:
    scope = get_scope(user)
    return EvaluationRun.objects.filter(scope.subtree_q(scope.read_paths)).select_related("organisation", "term")


def survey_link_list(*, user: User | AnonymousUser) -> QuerySet[SurveyLink]:
    """Links are keys to answer with: only the managers of the member's organisation see them."""
    scope = get_scope(user)
    return SurveyLink.objects.filter(
        scope.subtree_q(scope.manage_paths, prefix="member__organisation__")
    ).select_related("member__organisation", "contact", "term")


def survey_links_to_print(*, user: User | AnonymousUser, term: Term) -> QuerySet[SurveyLink]:
    return survey_link_list(user=user).filter(term=term, answered=False, expires_at__gt=timezone.now())


def survey_progress(*, user: User | AnonymousUser, term: Term) -> QuerySet:
    """Per member: links sent, links answered, and how the answers came out (counts only)."""
    scope = get_scope(user)
    links = (
        SurveyLink.objects.filter(term=term)
        .filter(scope.subtree_q(scope.read_paths, prefix="member__organisation__"))
        .values("member_id", "member__name", "member__organisation__name")
        .annotate(sent=Count("id"), answered=Count("id", filter=Q(answered=True)))
        .order_by("member__organisation__path", "member__name", "member_id")
    )
    return links


def response_summary(*, term: Term, member_id: int) -> dict[str, int]:
    counts = dict(
        SurveyResponse.objects.filter(term=term, member_id=member_id)
        .values_list("rating")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts["total"] = sum(counts.values())
    counts["satisfied_total"] = sum(counts.get(rating, 0) for rating in SATISFIED_RATINGS)
    return counts


def response_comments(*, term: Term, member_id: int) -> list[tuple[str, str]]:
    """The comments left for a member, as (rating label, comment), in an order that says nothing of arrival."""
    responses = SurveyResponse.objects.filter(term=term, member_id=member_id).exclude(comment="")
    return [(response.get_rating_display(), response.comment) for response in responses.order_by("rating", "comment")]


def export_job_list(*, user: User | AnonymousUser) -> QuerySet[ExportJob]:
    """A user's own exports only: the files hold what that user was entitled to see."""
    if not user.is_authenticated:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(user=user).select_related("term", "organisation")


def export_job_get_for_user(*, user: User | AnonymousUser, job_id: int) -> ExportJob:
    return object_for_user(export_job_list(user=user), _("No such export."), pk=job_id)
