"""Writes for requests and complaints (诉求): record, move through the workflow, supervise when late.

The workflow is an explicit state machine; every move is one row of RequestTransition
(who, when, from, to, comment), so the whole history of a request can be read back.

    received ──┬─> handled_directly (直办) ──┬─> resolved ──┐
               ├─> transferred (转办) ───────┤              ├─> fed_back (反馈) ─> return_visited (回访) ─> closed
               │        └─> assigned         └─> explained ─┘
               └─> assigned (交办) ─> in_progress ─> resolved | explained
                        └──────────────────────────> resolved | explained

- Assigning needs a responsible party member and a deadline; the member is notified.
- Supervision when late (督办) is not a state: the nightly `requests_supervise_overdue`
  marks assigned or in-progress requests past their deadline (`supervised_at`) and
  notifies the responsible member and the organisation's secretary. Resolving or
  explaining the request clears the mark.
- "Explained" is for requests that cannot be solved now (reasonable but not lawful,
  or not yet possible): the person is told why, then fed back and return-visited
  like a resolved one.

Who may move a request: a manager (committee administrator or secretary) of the
request's organisation may make any allowed move; the responsible member may move
their own request assigned → in progress → resolved or explained, and nothing else.
Closing is the check that the work is done, so the responsible person never closes their
own request, and a secretary's own is closed by the level above (`request_close_refusal`).
Inspectors read, and never move.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from liaison.services import create_once, version_claim
from members.models import Contact, Member, Organisation
from members.scoping import get_scope
from members.selectors import ReviewRefusal, review_refusal
from pairings.selectors import pairing_active_for
from visits.notifications.models import Notification
from visits.notifications.services import MESSAGE_LENGTH, Notice, notifications_send

from .models import Request, RequestSource, RequestState, RequestTransition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    # Only named: visits (the visit log) builds on requests, so requests does not import it.
    from visits.models import Visit

S = RequestState

TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.RECEIVED: (S.HANDLED_DIRECTLY, S.TRANSFERRED, S.ASSIGNED),
    S.HANDLED_DIRECTLY: (S.RESOLVED, S.EXPLAINED),
    S.TRANSFERRED: (S.ASSIGNED, S.RESOLVED, S.EXPLAINED),
    S.ASSIGNED: (S.IN_PROGRESS, S.RESOLVED, S.EXPLAINED),
    S.IN_PROGRESS: (S.RESOLVED, S.EXPLAINED),
    S.RESOLVED: (S.FED_BACK,),
    S.EXPLAINED: (S.FED_BACK,),
    S.FED_BACK: (S.RETURN_VISITED,),
    S.RETURN_VISITED: (S.CLOSED,),
    S.CLOSED: (),
}

# The moves the responsible member may make on their own request.
RESPONSIBLE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.ASSIGNED: (S.IN_PROGRESS,),
    S.IN_PROGRESS: (S.RESOLVED, S.EXPLAINED),
}

# Work under way, with someone responsible and a deadline: these can fall late.
SUPERVISED_STATES: tuple[str, ...] = (S.ASSIGNED, S.IN_PROGRESS)
# Not yet resolved or explained: a passed deadline makes these overdue in the ledger.
OPEN_STATES: tuple[str, ...] = (S.RECEIVED, S.HANDLED_DIRECTLY, S.TRANSFERRED, S.ASSIGNED, S.IN_PROGRESS)
# Reaching one of these ends supervision.
ANSWERED_STATES: tuple[str, ...] = (S.RESOLVED, S.EXPLAINED)


def _answered_or_beyond() -> tuple[str, ...]:
    """ANSWERED_STATES and every state the workflow can reach from them, in the workflow's order."""
    reached = set(ANSWERED_STATES)
    frontier = list(ANSWERED_STATES)
    while frontier:
        for state in TRANSITIONS[frontier.pop()]:
            if state not in reached:
                reached.add(state)
                frontier.append(state)
    return tuple(state for state in RequestState.values if state in reached)


# Counted as problems solved (已解决): resolved or explained, then fed back, return-visited, closed.
SOLVED_STATES = _answered_or_beyond()


def _is_responsible(request: Request, by: User) -> bool:
    member = get_scope(by).member
    return member is not None and request.responsible_id is not None and request.responsible_id == member.pk


def request_close_refusal(*, request: Request, by: User) -> str | None:
    """Why `by` may not close this request (None when the workflow's other rules decide).

    Closing (after the return visit) is where the request is checked as done; nobody checks
    their own work. The person responsible for the request does not close it, and when that
    person runs the request's organisation (its secretary, or a secretary above), the level
    above closes it: the parent organisation's secretary or an administrator over it
    (members.selectors.review_refusal). A request with nobody responsible is closed by its
    organisation's managers.
    """
    if request.responsible_id is None or request.responsible is None:
        return None
    refusal = review_refusal(user=by, member=request.responsible, organisation=request.organisation)
    if refusal is ReviewRefusal.OWN_WORK:
        return _("You are responsible for this request: someone above you closes it.")
    if refusal is ReviewRefusal.NEEDS_LEVEL_ABOVE:
        return _(
            "The person responsible for this request runs the organisation: it is closed by the level above "
            "(the secretary or an administrator of the organisation above)."
        )
    return None


def allowed_transitions(request: Request, *, by: User | None = None) -> list[str]:
    """The states the request may go to next; with `by`, only those that user may choose."""
    states = list(TRANSITIONS[request.state])
    if by is not None and S.CLOSED in states and request_close_refusal(request=request, by=by) is not None:
        states.remove(S.CLOSED)
    if by is None or get_scope(by).manages(request.organisation):
        return states
    if _is_responsible(request, by):
        return [state for state in states if state in RESPONSIBLE_TRANSITIONS.get(request.state, ())]
    return []


def request_can_transition(*, request: Request, by: User) -> bool:
    """May this user move the request at all (whatever its state)?"""
    return get_scope(by).manages(request.organisation) or _is_responsible(request, by)


def _detail_url(request: Request) -> str:
    return reverse("requests:request_detail", args=[request.pk])


# Recording -------------------------------------------------------------------------


def _check_may_create(
    *, by: User, organisation: Organisation, source: str, contact: Contact | None, visit: Visit | None
) -> None:
    scope = get_scope(by)
    if scope.manages(organisation):
        return
    # A member records what a contact they are paired with raised during their liaison work.
    if scope.member is None or contact is None:
        raise PermissionDenied(_("Only secretaries and administrators can record requests for this organisation."))
    if pairing_active_for(member=scope.member, contact=contact) is None:
        raise PermissionDenied(_("You can only record requests raised by contacts you are paired with."))
    if source != RequestSource.VISIT:
        raise ValidationError(_("A request you record from your liaison work is one raised in a visit."))
    if organisation.pk != contact.organisation_id:
        raise ValidationError(_("The request belongs to the contact's own organisation."))
    if visit is not None and visit.pairing.member_id != scope.member.pk:
        raise PermissionDenied(_("You can only link a request to your own visit logs."))


@transaction.atomic
def request_create(
    *,
    organisation: Organisation,
    source: str,
    summary: str,
    details: str = "",
    contact: Contact | None = None,
    visit: Visit | None = None,
    by: User,
    idempotency_key: str = "",
) -> Request:
    """Record a request as received, with the first step of its history.

    The form's idempotency key makes a second post of the same form return the first
    request instead of recording it twice (`liaison.services.create_once`).
    """
    if visit is not None:
        visit_contact = visit.pairing.contact
        if contact is None:
            contact = visit_contact
        elif contact.pk != visit_contact.pk:
            raise ValidationError(_("The visit log is about another contact."))
    if contact is not None and not contact.organisation.path.startswith(organisation.path):
        raise ValidationError(_("The contact does not belong to this organisation."))
    _check_may_create(by=by, organisation=organisation, source=source, contact=contact, visit=visit)

    def create() -> Request:
        request = Request(
            organisation=organisation,
            source=source,
            summary=summary,
            details=details,
            contact=contact,
            visit=visit,
            state=RequestState.RECEIVED,
            created_by=by,
            idempotency_key=idempotency_key,
        )
        request.full_clean()
        request.save()
        RequestTransition.objects.create(request=request, from_state="", to_state=RequestState.RECEIVED, by=by)
        return request

    return create_once(existing=Request.objects.filter(created_by=by), key=idempotency_key, create=create)


# Moving through the workflow -------------------------------------------------------


def _check_assignment(*, by: User, responsible: Member | None, deadline: date | None) -> None:
    errors = []
    if responsible is None:
        errors.append(_("Choose the party member responsible for the request."))
    elif not get_scope(by).manages(responsible.organisation):
        errors.append(_("You can only make a party member of an organisation you manage responsible."))
    if deadline is None:
        errors.append(_("Set a deadline for the request."))
    elif deadline < timezone.localdate():
        errors.append(_("The deadline cannot be in the past."))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def request_transition(
    *,
    request: Request,
    to_state: str,
    by: User,
    comment: str = "",
    responsible: Member | None = None,
    deadline: date | None = None,
    expected_version: int | None = None,
) -> Request:
    """Move the request one step, if the workflow and the user's role allow it; record the step.

    `expected_version` is the version of the request when its page was opened: if it has
    moved since, the step is refused (`liaison.services.StaleEdit`), not taken from the
    wrong state.
    """
    # Lock the row: two people moving the same request at once must not both succeed.
    current = (
        Request.objects.select_for_update(of=("self",)).select_related("organisation", "responsible").get(pk=request.pk)
    )
    if not request_can_transition(request=current, by=by):
        raise PermissionDenied(_("You cannot move this request."))
    version_claim(current, expected_version)
    if to_state not in RequestState.values:
        raise ValidationError(_("There is no state called “%(state)s”.") % {"state": to_state})
    if to_state not in TRANSITIONS[current.state]:
        raise ValidationError(
            _("A request that is %(state)s cannot go to %(target)s.")
            % {"state": RequestState(current.state).label, "target": RequestState(to_state).label}
        )
    if to_state == S.CLOSED:
        refusal = request_close_refusal(request=current, by=by)
        if refusal is not None:
            raise PermissionDenied(refusal)
    if to_state not in allowed_transitions(current, by=by):
        raise PermissionDenied(
            _("Only a secretary or administrator can move a request that is %(state)s to %(target)s.")
            % {"state": RequestState(current.state).label, "target": RequestState(to_state).label}
        )

    from_state = current.state
    changed = ["state", "updated_at"]
    current.state = to_state
    if to_state == RequestState.ASSIGNED:
        _check_assignment(by=by, responsible=responsible, deadline=deadline)
        current.responsible = responsible
        current.deadline = deadline
        current.supervised_at = None
        changed += ["responsible", "deadline", "supervised_at"]
    elif responsible is not None or deadline is not None:
        raise ValidationError(_("A responsible person and a deadline are set only when assigning the request."))
    if to_state in ANSWERED_STATES and current.supervised_at is not None:
        current.supervised_at = None
        changed.append("supervised_at")
    current.full_clean()
    current.save(update_fields=changed)
    RequestTransition.objects.create(request=current, from_state=from_state, to_state=to_state, by=by, comment=comment)

    if to_state == RequestState.ASSIGNED and responsible is not None and responsible.user_id is not None:
        message = _("Request assigned to you, due %(deadline)s: %(summary)s") % {
            "deadline": deadline,
            "summary": current.summary,
        }
        notifications_send(
            notices=[
                Notice(
                    responsible.user_id,
                    Notification.Kind.REQUEST_ASSIGNED,
                    message[:MESSAGE_LENGTH],
                    _detail_url(current),
                )
            ]
        )
    return current


# Supervision (督办) -----------------------------------------------------------------


def requests_supervise_overdue(*, today: date) -> int:
    """Mark assigned and in-progress requests past their deadline as supervised, and tell those concerned.

    Nightly, from a Celery task. A deadline of today is not late yet. A request is
    supervised once: later runs skip it until it is assigned again. Runs in a fixed
    number of queries whatever the number of requests: one locked read, one update,
    one insert of history rows and one of notifications (batched when very large).
    """
    now = timezone.now()
    with transaction.atomic():
        overdue = list(
            Request.objects.filter(state__in=SUPERVISED_STATES, deadline__lt=today, supervised_at__isnull=True)
            .select_related("responsible", "organisation__secretary")
            # Another worker on the same night skips what this one holds (PostgreSQL; SQLite ignores it).
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
        )
        if not overdue:
            return 0
        Request.objects.filter(pk__in=[request.pk for request in overdue]).update(supervised_at=now, updated_at=now)
        for request in overdue:
            request.supervised_at = now
            request.updated_at = now
        Request.history.bulk_history_create(overdue, update=True, default_change_reason="supervised")

        notifications = []
        for request in overdue:
            secretary = request.organisation.secretary
            recipients = {request.responsible.user_id if request.responsible else None}
            recipients.add(secretary.user_id if secretary is not None else None)
            recipients.discard(None)
            message = _("Overdue since %(deadline)s, now supervised: %(summary)s") % {
                "deadline": request.deadline,
                "summary": request.summary,
            }
            url = _detail_url(request)
            notifications += [
                Notice(user_id, Notification.Kind.REQUEST_SUPERVISED, message[:MESSAGE_LENGTH], url)
                for user_id in sorted(cast(set[int], recipients))  # None was discarded
            ]
        notifications_send(notices=notifications)
    return len(overdue)
