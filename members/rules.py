"""Model and object permissions, from roles (django-rules).

No permission rows are stored: a user's rights follow from their roles, so
appointing or replacing a secretary takes effect at once. Object checks ask
whether the object's organisation lies in the user's subtree.
"""

from typing import Any

import rules

from .models import Organisation
from .scoping import get_scope
from .selectors import account_is_manageable


def _organisation_of(obj: Any) -> Organisation | None:
    if isinstance(obj, Organisation):
        return obj
    if hasattr(obj, "organisation"):
        return obj.organisation
    # A pairing, a pledge or a claim belongs where its member belongs; a visit log, where its pairing does.
    member = getattr(obj, "member", None)
    if member is None and getattr(obj, "pairing", None) is not None:
        member = obj.pairing.member
    return member.organisation if member is not None else None


@rules.predicate
def has_staff_role(user, obj=None) -> bool:
    return get_scope(user).has_staff_role


@rules.predicate
def can_read(user, obj=None) -> bool:
    scope = get_scope(user)
    if obj is None:
        return scope.has_staff_role
    return scope.reads(_organisation_of(obj))


@rules.predicate
def can_manage(user, obj=None) -> bool:
    scope = get_scope(user)
    if obj is None:
        return scope.can_manage_any
    return scope.manages(_organisation_of(obj))


@rules.predicate
def can_administer(user, obj=None) -> bool:
    scope = get_scope(user)
    if obj is None:
        return scope.is_administrator
    return scope.administers(_organisation_of(obj))


@rules.predicate
def can_read_access_log(user, obj=None) -> bool:
    return get_scope(user).can_read_access_log


rules.add_perm("members", has_staff_role)

for model in ("member", "contact"):
    rules.add_perm(f"members.view_{model}", can_read)
    rules.add_perm(f"members.add_{model}", can_manage)
    rules.add_perm(f"members.change_{model}", can_manage)
    # People are never deleted through the site: their logs, evaluations and the access log
    # name them (PROTECT), and a deletion cannot be undone. Leavers are moved or archived.
    rules.add_perm(f"members.delete_{model}", rules.always_deny)

rules.add_perm("members.view_organisation", can_read)
rules.add_perm("members.add_organisation", can_administer)
rules.add_perm("members.change_organisation", can_administer)
rules.add_perm("members.delete_organisation", can_administer)

rules.add_perm("members.view_appointment", can_administer)
rules.add_perm("members.add_appointment", can_administer)
rules.add_perm("members.change_appointment", can_administer)
rules.add_perm("members.delete_appointment", can_administer)

rules.add_perm("members.view_sensitiveaccess", can_read_access_log)


@rules.predicate
def can_manage_accounts(user, obj=None) -> bool:
    # Administrators keep the login accounts of their committee (members.selectors.account_list);
    # an account with an appointment, staff or superuser rights is a superuser's alone.
    scope = get_scope(user)
    if obj is None:
        return scope.is_administrator
    return scope.is_administrator and account_is_manageable(user=user, account=obj)


@rules.predicate
def can_read_account_log(user, obj=None) -> bool:
    return get_scope(user).can_read_access_log


@rules.predicate
def can_lift_lockouts(user, obj=None) -> bool:
    # Committee administrators and superusers; which rows, members.selectors.lockout_usernames_q says.
    return get_scope(user).is_administrator


rules.add_perm("auth", can_manage_accounts)
rules.add_perm("auth.view_user", can_manage_accounts)
rules.add_perm("auth.add_user", can_manage_accounts)
rules.add_perm("auth.change_user", can_manage_accounts)

rules.add_perm("members.view_accountevent", can_read_account_log)

rules.add_perm("axes", can_lift_lockouts)
rules.add_perm("axes.view_accessattempt", can_lift_lockouts)
rules.add_perm("axes.delete_accessattempt", can_lift_lockouts)
rules.add_perm("axes.view_accessfailurelog", can_lift_lockouts)
