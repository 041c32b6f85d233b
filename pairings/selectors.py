"""Scoped reads for terms, pairings, the quota board and matching runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Least
from django.http import Http404
from django.utils.translation import gettext as _

from liaison.params import int_param
from liaison.paths import root_path
from liaison.selectors import object_for_user
from members.models import Contact, Member, Organisation
from members.scoping import get_scope
from members.selectors import organisation_administered_list

from .models import MatchingRun, Pairing, PairingStatus, QuotaPolicy, QuotaStatus, Term

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from .quotas import Bucket


def quota_totals() -> dict[str, Sum]:
    """Aggregates of quota status rows: done = Σ min(actual, required), required = Σ required.

    Completion is done / required: pairing more contacts than one bucket needs does not
    make up for another bucket's shortfall.
    """
    return {"done": Sum(Least("actual", "required", output_field=IntegerField())), "required": Sum("required")}


def pairing_active_for(*, member: Member, contact: Contact) -> Pairing | None:
    """The member's pairing with this contact when they are actively paired (`active_in_open_term`)."""
    return (
        Pairing.objects.active_in_open_term()
        .filter(member=member, contact=contact)
        .select_related("term", "contact__organisation", "member__organisation")
        .first()
    )


def active_contact_ids_for_member(*, member: Member) -> QuerySet:
    """A subquery of the contacts this member is actively paired with (`active_in_open_term`)."""
    return Pairing.objects.active_in_open_term().filter(member=member).values("contact_id")


def paired_contact_ids_for_member(*, member: Member) -> QuerySet:
    """A subquery of the contacts a member may see: every pairing of theirs that has not ended.

    Wider than "actively paired": after a term closes, its pairings stay active until the
    next term carries them over, and the member still reads those contacts and their logs.
    """
    return Pairing.objects.filter(member=member, status=PairingStatus.ACTIVE).values("contact_id")


def paired_contact_condition(member: Member) -> Q:
    """The contacts `members.selectors.contact_list` shows a member: those paired with them (registered in apps.py)."""
    return Q(pk__in=paired_contact_ids_for_member(member=member))


def _tree_roots(user: User | AnonymousUser) -> set[str]:
    scope = get_scope(user)
    paths = set(scope.read_paths)
    if scope.member is not None:
        paths.add(scope.member.organisation.path)
    return {root_path(path) for path in paths}


def term_list(*, user: User | AnonymousUser) -> QuerySet[Term]:
    """Terms of every tree the user works in: a term is set on the tree's root."""
    if get_scope(user).is_superuser:
        return Term.objects.select_related("organisation")
    return Term.objects.filter(organisation__path__in=_tree_roots(user)).select_related("organisation")


def term_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Term]:
    """Terms the user may write against (pair, adjust quotas in): those of the trees where they manage something."""
    scope = get_scope(user)
    if scope.is_superuser:
        return Term.objects.select_related("organisation")
    roots = {root_path(path) for path in scope.manage_paths}
    return Term.objects.filter(organisation__path__in=roots).select_related("organisation")


def term_organisation_choices(*, user: User | AnonymousUser) -> QuerySet[Organisation]:
    """Where the user may set a term: the roots of the trees they administer (a term is set on a tree's root)."""
    return organisation_administered_list(user=user).filter(depth=1)


def policy_manageable_list(*, user: User | AnonymousUser) -> QuerySet[QuotaPolicy]:
    """Policies the user may change (`rules.can_change_term_policy`): those of the terms of trees they administer."""
    scope = get_scope(user)
    return QuotaPolicy.objects.filter(
        scope.subtree_q(scope.administrator_paths, prefix="term__organisation__")
    ).select_related("term")


def current_term(*, user: User | AnonymousUser) -> Term | None:
    return term_list(user=user).filter(is_current=True).order_by("organisation__path").first()


def term_get_for_user(*, user: User | AnonymousUser, term_id: str | None) -> Term:
    """The term asked for among those the user may see, else (no id) the current one; a 404 when there is none."""
    terms = term_list(user=user)
    pk = int_param(term_id)
    term = terms.filter(pk=pk).first() if pk is not None else terms.filter(is_current=True).first()
    if term is None:
        raise Http404(_("There is no current term. A committee administrator opens one."))
    return term


def pairing_list(*, user: User | AnonymousUser) -> QuerySet[Pairing]:
    scope = get_scope(user)
    condition = scope.subtree_q(scope.read_paths, prefix="member__organisation__")
    if scope.member is not None:
        condition |= Q(member=scope.member)
    return Pairing.objects.filter(condition).select_related("member", "contact", "term")


def pairing_get_for_user(*, user: User | AnonymousUser, pairing_id: int) -> Pairing:
    return object_for_user(pairing_list(user=user), _("No such pairing."), pk=pairing_id)


def pairing_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Pairing]:
    """Pairings the user may change: those of the members they manage."""
    scope = get_scope(user)
    return Pairing.objects.filter(scope.subtree_q(scope.manage_paths, prefix="member__organisation__")).select_related(
        "member", "contact", "term"
    )


def member_targets(*, member: Member, term: Term) -> list[QuotaStatus]:
    return list(QuotaStatus.objects.filter(term=term, member=member).order_by("contact_category", "unit"))


def board_buckets(*, term: Term, members: QuerySet[Member]) -> list[Bucket]:
    """The columns of the board: every bucket some member in view has a status for."""
    return sorted(
        set(
            QuotaStatus.objects.filter(term=term, member__in=members.values("pk"))
            .values_list("contact_category", "unit")
            .distinct()
        )
    )


def board_members(*, user: User | AnonymousUser, term: Term) -> QuerySet[Member]:
    """Members the user reads, each with this term's quota statuses prefetched."""
    scope = get_scope(user)
    return (
        Member.objects.filter(scope.subtree_q(scope.read_paths))
        .select_related("organisation")
        .prefetch_related(
            Prefetch("quota_statuses", queryset=QuotaStatus.objects.filter(term=term), to_attr="term_statuses")
        )
        .order_by("organisation__path", "name", "id")
    )


def members_per_contact_limit(*, term: Term) -> int:
    """How many members may share one contact this term (1 when the term has no policy)."""
    return QuotaPolicy.objects.filter(term=term).values_list("max_members_per_contact", flat=True).first() or 1


def pairable_contacts(*, user: User | AnonymousUser, member: Member, term: Term) -> QuerySet[Contact]:
    """Contacts the user manages that still have room this term, the member's own branch first."""
    scope = get_scope(user)
    limit = members_per_contact_limit(term=term)
    return (
        Contact.objects.filter(
            scope.subtree_q(scope.manage_paths), organisation__path__startswith=term.organisation.path
        )
        .annotate(
            paired=Count("pairings", filter=Q(pairings__term=term, pairings__status=PairingStatus.ACTIVE)),
            mine=Count(
                "pairings",
                filter=Q(pairings__term=term, pairings__status=PairingStatus.ACTIVE, pairings__member=member),
            ),
        )
        .filter(paired__lt=limit, mine=0)
        .annotate(
            elsewhere=Case(
                When(organisation_id=member.organisation_id, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("organisation")
        .order_by("elsewhere", "organisation__path", "name", "id")
    )


def matching_run_list(*, user: User | AnonymousUser) -> QuerySet[MatchingRun]:
    scope = get_scope(user)
    return MatchingRun.objects.filter(scope.subtree_q(scope.manage_paths)).select_related(
        "term", "organisation", "created_by"
    )


def matching_run_get_for_user(*, user: User | AnonymousUser, run_id: int) -> MatchingRun:
    return object_for_user(matching_run_list(user=user), _("No such matching run."), pk=run_id)
