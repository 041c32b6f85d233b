"""Scoped reads. Every queryset a view or the admin shows starts here."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from liaison.params import int_param
from liaison.paths import outermost, subtree_q
from liaison.selectors import object_for_user

from .models import AccountEvent, Appointment, Contact, ContactReason, ImportJob, Member, Organisation, SensitiveAccess
from .scoping import Scope, get_scope

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def organisation_list(*, user: User | AnonymousUser) -> QuerySet[Organisation]:
    scope = get_scope(user)
    return Organisation.objects.filter(scope.subtree_q(scope.read_paths, prefix="")).select_related("secretary")


def organisation_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Organisation]:
    scope = get_scope(user)
    return Organisation.objects.filter(scope.subtree_q(scope.manage_paths, prefix=""))


def organisation_administered_list(*, user: User | AnonymousUser) -> QuerySet[Organisation]:
    """Organisations in the subtrees the user administers: where they may add, move or appoint."""
    scope = get_scope(user)
    return Organisation.objects.filter(scope.subtree_q(scope.administrator_paths, prefix=""))


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


def member_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Member]:
    """Members the user may change, and so pick when writing: those of the subtrees they manage."""
    scope = get_scope(user)
    return Member.objects.filter(scope.subtree_q(scope.manage_paths)).select_related("organisation")


def user_linkable_list(*, user: User | AnonymousUser) -> QuerySet[User]:
    """Login accounts an administrator may link to a member or appoint: none tied to anyone outside their subtrees.

    That leaves accounts linked to nobody yet and those of their own members and appointees;
    never a superuser's, never an inspector's (only a superuser handles those). Others link none.
    """
    from django.contrib.auth.models import User as UserModel

    scope = get_scope(user)
    if scope.is_superuser:
        return UserModel.objects.all()
    if not scope.is_administrator:
        return UserModel.objects.none()
    paths = scope.administrator_paths
    outside_members = Member.objects.exclude(subtree_q(paths)).filter(user__isnull=False).values("user_id")
    outside_appointments = Appointment.objects.exclude(subtree_q(paths)).values("user_id")
    inspectors = Appointment.objects.filter(role=Appointment.Role.INSPECTOR).values("user_id")
    return (
        UserModel.objects.filter(is_superuser=False)
        .exclude(pk__in=outside_members)
        .exclude(pk__in=outside_appointments)
        .exclude(pk__in=inspectors)
    )


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


def contact_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Contact]:
    """Contacts the user may change, and so pick when writing: those of the subtrees they manage."""
    scope = get_scope(user)
    return Contact.objects.filter(scope.subtree_q(scope.manage_paths)).select_related("organisation")


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


# Reviewing someone's work ----------------------------------------------------------------


class ReviewRefusal(enum.Enum):
    """Why a user may not review (adjust, rate, close) a person's work; each caller words it its own way."""

    NOT_MANAGER = "not_manager"  # they do not manage where the work was done
    OWN_WORK = "own_work"  # it is their own
    NEEDS_LEVEL_ABOVE = "needs_level_above"  # the person runs the organisation: the level above reviews it


def review_refusal(*, user: User | AnonymousUser, member: Member, organisation: Organisation) -> ReviewRefusal | None:
    """May `user` review the work `member` did in `organisation`? None when they may, else why not.

    Nobody reviews their own work. A member's work is reviewed by whoever manages its
    organisation; but when the member runs that organisation (is the secretary of it, or of
    one above it), only the level above may: someone who manages it from a subtree strictly
    above the highest organisation the member runs there — the parent organisation's
    secretary, or an administrator over it. Superusers stand above everyone but themselves.
    """
    scope = get_scope(user)
    if (scope.member is not None and scope.member.pk == member.pk) or (
        member.user_id is not None and member.user_id == scope.user_id
    ):
        return ReviewRefusal.OWN_WORK
    if not scope.manages(organisation):
        return ReviewRefusal.NOT_MANAGER
    if scope.is_superuser:
        return None
    runs = [
        path
        for path in Organisation.objects.filter(secretary=member).values_list("path", flat=True)
        if organisation.path.startswith(path)
    ]
    if not runs:
        return None
    highest = min(runs, key=len)
    if any(highest.startswith(root) and root != highest for root in scope.manage_paths):
        return None
    return ReviewRefusal.NEEDS_LEVEL_ABOVE


# Login accounts --------------------------------------------------------------------------


def account_list(*, user: User | AnonymousUser) -> QuerySet[User]:
    """The login accounts `user` may manage (open, reset the password of, deactivate).

    A superuser: every account. A committee administrator: the accounts of the party
    members in their subtree, and the accounts an administrator of it created that are not
    linked to anyone yet — never an account that holds an appointment (administrators and
    inspectors), a staff flag or superuser rights: those are a superuser's to manage, and so
    an administrator never manages their own account here either. Anyone else: none.
    """
    users = get_user_model().objects.all()
    scope = get_scope(user)
    if scope.is_superuser:
        return users
    if not scope.administrator_paths:
        return users.none()
    paths = outermost(scope.administrator_paths)
    in_subtree = subtree_q(paths, field="member__organisation__path")
    created = AccountEvent.objects.filter(subtree_q(paths), kind=AccountEvent.Kind.CREATED, account__isnull=False)
    created_here = Q(member__isnull=True, pk__in=created.values("account_id"))
    return (
        users.filter(in_subtree | created_here)
        .filter(is_superuser=False, is_staff=False)
        .exclude(pk__in=Appointment.objects.values("user_id"))
    )


def group_grantable_list(*, user: User | AnonymousUser) -> QuerySet[Group]:
    """The groups an account manager may give: a superuser any, anyone else only those they hold."""
    if get_scope(user).is_superuser:
        return Group.objects.all()
    if not user.is_authenticated:
        return Group.objects.none()
    return Group.objects.filter(user=user)


def account_is_manageable(*, user: User | AnonymousUser, account: User) -> bool:
    if get_scope(user).is_superuser:
        return True
    return account_list(user=user).filter(pk=account.pk).exists()


def account_home(account: User | None) -> Organisation | None:
    """Where an account belongs: its member's organisation, else its (highest) appointment's."""
    if account is None or account.pk is None:
        return None
    member = Member.objects.select_related("organisation").filter(user=account).first()
    if member is not None:
        return member.organisation
    appointment = (
        Appointment.objects.filter(user=account).select_related("organisation").order_by("organisation__path").first()
    )
    return appointment.organisation if appointment is not None else None


def account_event_list(*, user: User | AnonymousUser) -> QuerySet[AccountEvent]:
    """The account log: administrators and inspectors read it for their subtree, superusers all of it."""
    scope = get_scope(user)
    if not scope.can_read_access_log:
        return AccountEvent.objects.none()
    return AccountEvent.objects.filter(scope.subtree_q(scope.access_log_paths)).select_related(
        "by", "account", "organisation"
    )


def lockout_usernames_q(*, user: User | AnonymousUser) -> Q:
    """Which login failures (django-axes rows, by their `username`) `user` may see and lift.

    Administrators: those on accounts they manage, and those on names that are no account
    at all (a spray from an address their people may share); superusers: every one. The
    failures on an inspector's, an administrator's or another committee's account are not
    theirs to see.
    """
    scope = get_scope(user)
    if scope.is_superuser:
        return Q()
    if not scope.administrator_paths:
        return Q(pk__in=[])
    users = get_user_model().objects
    return (
        Q(username__in=account_list(user=user).values("username"))
        | Q(username__isnull=True)
        | ~Q(username__in=users.values("username"))
    )
