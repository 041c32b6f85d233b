"""Scoped reads for pledges, service posts, community registrations and the public board."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from liaison.selectors import object_for_user
from members.models import Member, MemberCategory, Organisation
from members.scoping import get_scope

from .models import CommunityRegistration, Pledge, PledgeProgress, PledgeState, PostClaim, ServicePost
from .services import line_paths

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# States the public may see: a pledge is public from 亮诺 on.
PUBLIC_PLEDGE_STATES = (PledgeState.PUBLIC, PledgeState.REPORTED, PledgeState.EVALUATED)


# Pledges -----------------------------------------------------------------------


def pledge_list(*, user: User | AnonymousUser) -> QuerySet[Pledge]:
    """Pledges the user may read: their own, and every pledge in the subtrees they read."""
    scope = get_scope(user)
    condition = scope.subtree_q(scope.read_paths, prefix="member__organisation__")
    if scope.member is not None:
        condition |= Q(member=scope.member)
    return Pledge.objects.filter(condition).select_related("member__organisation", "evaluated_by")


def pledge_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Pledge]:
    """Pledges of the members the user manages: those they may correct."""
    scope = get_scope(user)
    return Pledge.objects.filter(scope.subtree_q(scope.manage_paths, prefix="member__organisation__")).select_related(
        "member__organisation"
    )


def pledge_own_list(*, user: User | AnonymousUser) -> QuerySet[Pledge]:
    """The user's own pledges, the only ones they may change."""
    member = get_scope(user).member
    if member is None:
        return Pledge.objects.none()
    return (
        Pledge.objects.filter(member=member)
        .select_related("member__organisation", "evaluated_by")
        .prefetch_related(Prefetch("progress", queryset=PledgeProgress.objects.order_by("happened_on", "id")))
    )


def pledge_review_list(*, user: User | AnonymousUser, year: int | None = None, state: str = "") -> QuerySet[Pledge]:
    """Pledges of members in the subtrees the user reads, for secretaries and inspectors."""
    scope = get_scope(user)
    if not scope.has_staff_role:
        return Pledge.objects.none()
    queryset = (
        Pledge.objects.filter(scope.subtree_q(scope.read_paths, prefix="member__organisation__"))
        .select_related("member__organisation")
        .annotate(progress_count=Count("progress"))
        .order_by("-year", "member__organisation__path", "member__name", "id")
    )
    if year is not None:
        queryset = queryset.filter(year=year)
    if state in PledgeState.values:
        queryset = queryset.filter(state=state)
    return queryset


# Service posts -----------------------------------------------------------------


def pledge_get_for_user(*, user: User | AnonymousUser, pledge_id: int) -> Pledge:
    return object_for_user(pledge_list(user=user), _("No such pledge."), pk=pledge_id)


def pledge_own_get_for_user(*, user: User | AnonymousUser, pledge_id: int) -> Pledge:
    """Only the member changes their pledge: anyone else's looks missing."""
    return object_for_user(pledge_own_list(user=user), _("No such pledge."), pk=pledge_id)


def _with_places(queryset: QuerySet[ServicePost]) -> QuerySet[ServicePost]:
    return queryset.select_related("organisation").annotate(
        taken=Count("claims", filter=Q(claims__released_on__isnull=True))
    )


def post_claimable_list(*, member: Member) -> QuerySet[ServicePost]:
    """Posts of the member's organisation and those above it, with places taken and the member's own claim."""
    mine = PostClaim.objects.filter(post=OuterRef("pk"), member=member, released_on__isnull=True)
    return (
        _with_places(ServicePost.objects.filter(organisation__path__in=line_paths(member.organisation)))
        .annotate(claimed_by_me=Exists(mine))
        .order_by("organisation__path", "title")
    )


def post_claim_active_for(*, member: Member) -> QuerySet[PostClaim]:
    return PostClaim.objects.filter(member=member, released_on__isnull=True).select_related("post__organisation")


def post_managed_list(*, user: User | AnonymousUser) -> QuerySet[ServicePost]:
    """Posts of the organisations the user runs, with who holds them now."""
    scope = get_scope(user)
    if not scope.can_manage_any:
        return ServicePost.objects.none()
    active = PostClaim.objects.filter(released_on__isnull=True).select_related("member").order_by("claimed_on", "id")
    return (
        _with_places(ServicePost.objects.filter(scope.subtree_q(scope.manage_paths)))
        .prefetch_related(Prefetch("claims", queryset=active, to_attr="active_claims"))
        .order_by("organisation__path", "title")
    )


def post_managed_get_for_user(*, user: User | AnonymousUser, post_id: int) -> ServicePost:
    return object_for_user(post_managed_list(user=user), _("No such service post."), pk=post_id)


def post_list(*, user: User | AnonymousUser) -> QuerySet[ServicePost]:
    """Every post the user may see: those in the subtrees they read and those they may claim."""
    scope = get_scope(user)
    condition = scope.subtree_q(scope.read_paths)
    if scope.member is not None:
        condition |= Q(organisation__path__in=line_paths(scope.member.organisation))
    return ServicePost.objects.filter(condition).select_related("organisation")


# Community registration ------------------------------------------------------------


def registration_list(*, user: User | AnonymousUser) -> QuerySet[CommunityRegistration]:
    scope = get_scope(user)
    if not scope.has_staff_role:
        return CommunityRegistration.objects.none()
    return (
        CommunityRegistration.objects.filter(scope.subtree_q(scope.read_paths, prefix="member__organisation__"))
        .select_related("member__organisation", "community")
        .order_by("member__organisation__path", "member__name", "id")
    )


def member_unregistered_list(*, user: User | AnonymousUser) -> QuerySet[Member]:
    """报到销号: in-service members of the user's subtrees who have not yet reported to a community."""
    scope = get_scope(user)
    if not scope.has_staff_role:
        return Member.objects.none()
    return (
        Member.objects.filter(
            scope.subtree_q(scope.read_paths),
            category=MemberCategory.IN_SERVICE,
            community_registration__isnull=True,
        )
        .select_related("organisation")
        .order_by("organisation__path", "name", "id")
    )


def member_registrable_list(*, user: User | AnonymousUser) -> QuerySet[Member]:
    """In-service members the user manages: those they may report to a community."""
    scope = get_scope(user)
    return Member.objects.filter(
        scope.subtree_q(scope.manage_paths), category=MemberCategory.IN_SERVICE
    ).select_related("organisation")


def community_choices() -> QuerySet[Organisation]:
    """Organisations a member may report to; organisation names are not personal data."""
    return Organisation.objects.order_by("path")


# The public board ----------------------------------------------------------------


@dataclass(frozen=True)
class PublicBoard:
    organisation: Organisation
    registrations: list[CommunityRegistration]
    claims: list[PostClaim]
    pledges: list[Pledge]


def public_board_organisation(*, code: str) -> Organisation | None:
    return Organisation.objects.filter(code=code, public_board_enabled=True).only("name", "code", "path").first()


def public_board(*, organisation: Organisation) -> PublicBoard:
    """What the board shows for the organisation's subtree, in three queries.

    Only names, titles, dates and states are loaded (`only`): no phone, ID number or
    address of anyone ever reaches the template, and contacts are not queried at all.
    """
    path = organisation.path
    registrations = (
        CommunityRegistration.objects.filter(
            Q(member__organisation__path__startswith=path) | Q(community__path__startswith=path)
        )
        .select_related("member", "community")
        .only("registered_on", "member__name", "community__name")
        .order_by("community__name", "member__name", "id")
    )
    claims = (
        PostClaim.objects.filter(post__organisation__path__startswith=path, released_on__isnull=True)
        .select_related("post__organisation", "member")
        .only("claimed_on", "post__title", "post__duties", "post__organisation__name", "member__name")
        .order_by("post__organisation__path", "post__title", "member__name", "id")
    )
    pledges = (
        Pledge.objects.filter(member__organisation__path__startswith=path, state__in=PUBLIC_PLEDGE_STATES)
        .select_related("member")
        .only("year", "title", "state", "rating", "made_public_on", "member__name")
        .order_by("-year", "member__name", "id")
    )
    return PublicBoard(
        organisation=organisation, registrations=list(registrations), claims=list(claims), pledges=list(pledges)
    )
