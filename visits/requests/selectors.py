"""Scoped reads for requests (诉求) and their history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from liaison.paths import ancestor_paths
from liaison.selectors import object_for_user
from members.models import Member
from members.scoping import get_scope

from .models import Request, RequestTransition
from .services import OPEN_STATES

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from visits.models import Visit


def _visibility(user: User | AnonymousUser) -> Q:
    """Managers and inspectors read their subtree; a member reads what they recorded or answer for."""
    scope = get_scope(user)
    condition = scope.subtree_q(scope.read_paths)
    if user.is_authenticated:
        condition |= Q(created_by=user)
    if scope.member is not None:
        condition |= Q(responsible=scope.member)
    return condition


def request_list(*, user: User | AnonymousUser, filters: dict[str, Any] | None = None) -> QuerySet[Request]:
    """Requests the user may read, with what the ledger shows, in a fixed number of queries."""
    from .filters import RequestFilter

    queryset = (
        Request.objects.filter(_visibility(user))
        .select_related("organisation", "responsible", "contact")
        .annotate(
            is_overdue=ExpressionWrapper(
                Q(deadline__lt=timezone.localdate(), state__in=OPEN_STATES), output_field=BooleanField()
            )
        )
    )
    if filters is not None:
        queryset = RequestFilter(filters, queryset=queryset, request_user=user).qs
    return queryset


def request_get_for_user(*, user: User | AnonymousUser, request_id: int) -> Request:
    requests = request_list(user=user).select_related("created_by", "visit")
    return object_for_user(requests, _("No such request."), pk=request_id)


def request_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Request]:
    """Requests of the organisations the user manages: those they may change."""
    scope = get_scope(user)
    return Request.objects.filter(scope.subtree_q(scope.manage_paths)).select_related("organisation")


def request_transition_list(*, request: Request) -> QuerySet[RequestTransition]:
    """The request's whole history, oldest first; the caller has already read the request."""
    return request.transitions.select_related("by").order_by("at", "id")


def responsible_choices(*, user: User | AnonymousUser, request: Request) -> QuerySet[Member]:
    """Members the user may make responsible for the request: those they manage, in its line of the tree.

    That is the request's organisation, the organisations under it, and those above it
    (a branch secretary may take on a group's request).
    """
    scope = get_scope(user)
    path = request.organisation.path
    ancestors = ancestor_paths(path)
    return (
        Member.objects.filter(scope.subtree_q(scope.manage_paths))
        .filter(Q(organisation__path__startswith=path) | Q(organisation__path__in=ancestors))
        .select_related("organisation")
        .order_by("organisation__path", "name", "id")
    )


def visit_for_request_link(*, user: User | AnonymousUser, visit_id: int) -> Visit | None:
    """A visit log the user may link a request to: their own, or one in a subtree they manage.

    The model is reached through Request.visit: visits (the visit log) builds on requests,
    so requests does not import it.
    """
    visit_model = cast("type[Visit]", Request._meta.get_field("visit").related_model)
    visit = (
        visit_model._default_manager.select_related("pairing__member", "pairing__contact__organisation")
        .filter(pk=visit_id)
        .first()
    )
    scope = get_scope(user)
    if visit is None or not (
        scope.manages(visit.pairing.contact.organisation)
        or (scope.member is not None and visit.pairing.member_id == scope.member.pk)
    ):
        return None
    return visit
