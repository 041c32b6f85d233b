"""Scoped reads. Every queryset a view or the admin shows starts here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from liaison.params import int_param
from liaison.selectors import object_for_user

from .models import Contact, ContactReason, ImportJob, Member, Organisation, SensitiveAccess
from .scoping import Scope, get_scope

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def organisation_list(*, user: User | AnonymousUser) -> QuerySet[Organisation]:
    scope = get_scope(user)
    return Organisation.objects.filter(scope.subtree_q(scope.read_paths, prefix="")).select_related("secretary")


def organisation_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Organisation]:
    scope = get_scope(user)
    return Organisation.objects.filter(scope.subtree_q(scope.manage_paths, prefix=""))


def organisation_managed_roots(*, user: User | AnonymousUser) -> QuerySet[Organisation]:
    """The organisations at the top of each subtree the user manages: where whole-subtree actions start."""
    return organisation_manageable_list(user=user).filter(path__in=get_scope(user).manage_paths)


def organisation_read_roots(*, user: User | AnonymousUser) -> QuerySet[Organisation]:
    """The organisations at the top of each subtree the user may read: where the admin's tree starts."""
    scope = get_scope(user)
    if scope.is_superuser:
        return Organisation.objects.get_root_nodes().select_related("secretary")
    return organisation_list(user=user).filter(path__in=scope.read_paths)


def organisation_manageable_get(
    *, user: User | AnonymousUser, organisation_id: str | int | None
) -> Organisation | None:
    """An organisation the user manages, from a submitted id; None for anything else, malformed ids included."""
    pk = int_param(organisation_id)
    if pk is None:
        return None
    return organisation_manageable_list(user=user).filter(pk=pk).first()


def member_list(*, user: User | AnonymousUser) -> QuerySet[Member]:
    scope = get_scope(user)
    condition = scope.subtree_q(scope.read_paths)
    if scope.member is not None:
        condition |= Q(pk=scope.member.pk)
    return Member.objects.filter(condition).select_related("organisation", "user").prefetch_related("roles")


def member_get_for_user(*, user: User | AnonymousUser, member_id: int) -> Member:
    return object_for_user(member_list(user=user), _("No such party member."), pk=member_id)


def import_job_get_for_user(*, user: User | AnonymousUser, job_id: int) -> ImportJob:
    """A roster import is its author's alone (the file held personal data)."""
    jobs = ImportJob.objects.defer("content")
    jobs = jobs.filter(created_by_id=user.pk) if user.is_authenticated else jobs.none()
    return object_for_user(jobs, _("No such import."), pk=job_id)


def role_ids_by_member(members: QuerySet[Member] | Iterable[int]) -> defaultdict[int, frozenset[int]]:
    """Each member's leadership role ids, in one query (members without a role get an empty set)."""
    roles: defaultdict[int, set[int]] = defaultdict(set)
    rows = Member.roles.through.objects.filter(member__in=members).values_list("member_id", "leadershiprole_id")
    for member_id, role_id in rows:
        roles[member_id].add(role_id)
    return defaultdict(frozenset, {member_id: frozenset(ids) for member_id, ids in roles.items()})


# Which contacts a member (not a secretary, not an inspector) sees is not members' rule: a
# member sees the contacts paired with them, and pairings own that. An app above registers
# the condition here (pairings/apps.py), so that members imports nothing from above it.
_member_contact_conditions: list[Callable[[Member], Q]] = []


def contact_visibility_register(condition: Callable[[Member], Q]) -> None:
    """Let a member also see the contacts `condition(member)` matches (an app's `ready()` calls this)."""
    if condition not in _member_contact_conditions:
        _member_contact_conditions.append(condition)


def _contact_visibility(scope: Scope) -> Q:
    condition = scope.subtree_q(scope.read_paths)
    if scope.member is not None:
        for member_condition in _member_contact_conditions:
            condition |= member_condition(scope.member)
    return condition


def contact_list(*, user: User | AnonymousUser) -> QuerySet[Contact]:
    """Contacts the user may see, with what list pages show, in a fixed number of queries."""
    scope = get_scope(user)
    return (
        Contact.objects.filter(_contact_visibility(scope))
        .select_related("organisation")
        .prefetch_related(Prefetch("reasons", queryset=ContactReason.objects.order_by("id")))
    )


def contact_get_for_user(*, user: User | AnonymousUser, contact_id: int) -> Contact:
    """The contact, if the user may see it; else a 404 (out of scope and missing look the same)."""
    return object_for_user(contact_list(user=user), _("No such contact."), pk=contact_id)


def contact_is_entitled(*, user: User | AnonymousUser, contact: Contact) -> bool:
    """May this user see the contact's phone, ID number and address in full?"""
    return get_scope(user).manages(contact.organisation)


def member_is_entitled(*, user: User | AnonymousUser, member: Member) -> bool:
    scope = get_scope(user)
    return scope.manages(member.organisation) or (scope.member is not None and scope.member.pk == member.pk)


def sensitive_access_list(*, user: User | AnonymousUser) -> QuerySet[SensitiveAccess]:
    """The access log: administrators and inspectors read it for their subtree."""
    scope = get_scope(user)
    paths = scope.access_log_paths
    if not scope.can_read_access_log:
        return SensitiveAccess.objects.none()
    return SensitiveAccess.objects.filter(
        scope.subtree_q(paths, prefix="contact__organisation__")
        | scope.subtree_q(paths, prefix="member__organisation__")
    ).select_related("user", "contact", "member")
