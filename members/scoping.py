"""Who may see and change what: the four roles and the subtrees they reach.

- committee administrator: an Appointment(role=administrator) over a subtree;
  reads and writes everything there, and sees personal data in full;
- branch secretary: the member named `Organisation.secretary`; reads and writes
  that organisation's subtree and sees personal data in full there;
- inspector: an Appointment(role=inspector); reads everything in the subtree,
  changes nothing, sees personal data masked;
- member: their own record and the contacts paired with them.

Every selector builds its filter from a `Scope`, and every django-rules predicate, admin
page and view asks the same `Scope` methods (`reads`, `manages`, `administers`, ...), so
the pages, the admin and the permissions cannot drift apart. The scope is computed once
per request: `request.scope` (liaison.middleware.ScopeMiddleware), and `get_scope(user)`
keeps it on the user object, so a rule or the admin asking again costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from liaison.paths import in_subtrees, outermost, subtree_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.utils.functional import Promise

    from .models import Member, Organisation

_CACHE_ATTRIBUTE = "_liaison_scope"


@dataclass(frozen=True)
class Scope:
    user_id: int | None = None
    is_superuser: bool = False
    administrator_paths: tuple[str, ...] = ()
    secretary_paths: tuple[str, ...] = ()
    inspector_paths: tuple[str, ...] = ()
    member: Member | None = field(default=None, compare=False)

    @property
    def manage_paths(self) -> tuple[str, ...]:
        """Subtrees where this user may change data and see personal data in full."""
        return outermost(set(self.administrator_paths) | set(self.secretary_paths))

    @property
    def read_paths(self) -> tuple[str, ...]:
        """Subtrees this user may read in full (every record, masked or not)."""
        return outermost(set(self.manage_paths) | set(self.inspector_paths))

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or bool(self.administrator_paths)

    @property
    def is_secretary(self) -> bool:
        return bool(self.secretary_paths)

    @property
    def is_inspector(self) -> bool:
        return bool(self.inspector_paths)

    @property
    def has_staff_role(self) -> bool:
        """May use the admin site and the secretaries' pages."""
        return self.is_superuser or bool(self.read_paths)

    @property
    def requires_second_factor(self) -> bool:
        """Superusers, committee administrators and inspectors log in with a second factor (TOTP).

        Secretaries may enrol (liaison.security); once they have, they are asked for it too.
        """
        return self.is_superuser or bool(self.administrator_paths) or bool(self.inspector_paths)

    @property
    def can_manage_any(self) -> bool:
        return self.is_superuser or bool(self.manage_paths)

    @property
    def access_log_paths(self) -> tuple[str, ...]:
        """Subtrees whose access log (who opened whose personal data) this user reads."""
        return self.administrator_paths + self.inspector_paths

    @property
    def can_read_access_log(self) -> bool:
        return self.is_superuser or bool(self.access_log_paths)

    def require_staff_role(self, message: str | Promise) -> None:
        """Refuse (403 with `message`) anyone without a staff role: the pages for secretaries and inspectors."""
        if not self.has_staff_role:
            raise PermissionDenied(message)

    def require_manager(self, message: str | Promise) -> None:
        """Refuse (403 with `message`) anyone who manages no subtree: the pages that change data."""
        if not self.can_manage_any:
            raise PermissionDenied(message)

    def _covers(self, paths: tuple[str, ...], organisation: Organisation | None) -> bool:
        if self.is_superuser:
            return True
        if organisation is None:
            return False
        return in_subtrees(organisation.path, paths)

    def manages(self, organisation: Organisation | None) -> bool:
        return self._covers(self.manage_paths, organisation)

    def reads(self, organisation: Organisation | None) -> bool:
        return self._covers(self.read_paths, organisation)

    def administers(self, organisation: Organisation | None) -> bool:
        return self._covers(outermost(set(self.administrator_paths)), organisation)

    def subtree_q(self, paths: tuple[str, ...], prefix: str = "organisation__") -> Q:
        """A filter matching rows whose organisation lies in one of `paths`."""
        if self.is_superuser:
            return Q()
        return subtree_q(paths, field=f"{prefix}path")


def get_scope(user: User | AnonymousUser) -> Scope:
    """The user's scope, computed with three small queries and kept on the user object.

    Memoised per user object: within one request (one `request.user`) the middleware, the
    views, the admin and the django-rules predicates all get the same Scope. An anonymous
    or inactive user's empty scope costs no query and is not kept.
    """
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        return Scope()

    from .models import Appointment, Member, Organisation

    administrator_paths: set[str] = set()
    inspector_paths: set[str] = set()
    for role, path in Appointment.objects.filter(user=user).values_list("role", "organisation__path"):
        if role == Appointment.Role.ADMINISTRATOR:
            administrator_paths.add(path)
        else:
            inspector_paths.add(path)
    secretary_paths = set(Organisation.objects.filter(secretary__user=user).values_list("path", flat=True))
    member = Member.objects.select_related("organisation").filter(user=user).first()

    scope = Scope(
        user_id=user.pk,
        is_superuser=user.is_superuser,
        administrator_paths=outermost(administrator_paths),
        secretary_paths=outermost(secretary_paths),
        inspector_paths=outermost(inspector_paths),
        member=member,
    )
    setattr(user, _CACHE_ATTRIBUTE, scope)
    return scope


def forget_scope(user: User) -> None:
    """Drop the cached scope, after the user's roles changed."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)
