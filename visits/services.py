"""Writes for visit logs and frequency reminders (notifications are sent through visits.notifications)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from liaison.paths import ancestor_paths
from liaison.services import create_once, model_update, version_claim
from members.models import Contact, Member
from members.scoping import get_scope
from pairings.frequency import Standing, pairing_status
from pairings.models import Pairing, Term
from pairings.selectors import pairing_active_for
from visits.notifications.models import Notification
from visits.notifications.selectors import notified_user_ids
from visits.notifications.services import Notice, notifications_send
from visits.requests.models import RequestSource
from visits.requests.services import request_create

from .models import URGENT_SITUATIONS, Visit, VisitHelp, VisitPhoto
from .photos import photos_prepare
from .selectors import pairing_facts, rules_for_term

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


@dataclass
class HelpGiven:
    kind: str
    description: str = ""
    amount: Decimal | None = None


@dataclass
class VisitData:
    happened_on: date
    mode: str
    discussed: str
    place: str = ""
    duration_minutes: int | None = None
    views_and_requests: str = ""
    follow_up: str = ""
    situation: str = ""
    situation_details: str = ""
    help: list[HelpGiven] = field(default_factory=list)
    # A request raised in the visit, to be followed up in the problem ledger.
    request_summary: str = ""


def _member_of(user: User) -> Member:
    member = get_scope(user).member
    if member is None:
        raise PermissionDenied(_("Only party members log visits."))
    return member


def active_pairing_for(*, user: User, contact: Contact) -> Pairing:
    """The user's active pairing with this contact in a current, open term, or PermissionDenied."""
    pairing = pairing_active_for(member=_member_of(user), contact=contact)
    if pairing is None:
        raise PermissionDenied(_("You can only log visits with contacts paired with you this term."))
    return pairing


def _check_dates(data: VisitData, term: Term) -> None:
    if data.happened_on > timezone.localdate():
        raise ValidationError({"happened_on": _("A visit cannot be logged for a day that has not come yet.")})
    if not term.starts_on <= data.happened_on <= term.ends_on:
        raise ValidationError({"happened_on": _("The date must fall within the term %(term)s.") % {"term": term}})


def _save_help(visit: Visit, help_given: list[HelpGiven]) -> None:
    """Make the log's help what was sent: a kind kept is updated in place, so its history
    says who changed the amount from what to what; a kind added is created, one left out deleted.
    Each write goes through `save`/`delete`, which django-simple-history records."""
    existing = {row.kind: row for row in visit.help.all()}
    sent = {item.kind: item for item in help_given}
    for kind, row in existing.items():
        if kind not in sent:
            row.delete()
    for kind, item in sent.items():
        row = existing.get(kind) or VisitHelp(visit=visit, kind=kind)
        description, amount = item.description.strip(), item.amount
        if row.pk is not None and (row.description, row.amount) == (description, amount):
            continue  # unchanged: no new version
        row.description, row.amount = description, amount
        row.full_clean(exclude=["visit"], validate_constraints=False)
        row.save()


@transaction.atomic
def visit_log(
    *,
    user: User,
    contact: Contact,
    data: VisitData,
    photos: Sequence[UploadedFile] = (),
    idempotency_key: str = "",
) -> Visit:
    """Log a visit or talk with a paired contact; urgent situations go to the branch secretary at once.

    Photos are checked and re-encoded without metadata (visits/photos.py) before anything is saved.
    The form's idempotency key makes a double tap return the first log: no second log, no
    second help given, no second request (`liaison.services.create_once`).
    """
    pairing = active_pairing_for(user=user, contact=contact)
    return create_once(
        existing=Visit.objects.filter(created_by=user),
        key=idempotency_key,
        create=lambda: _visit_create(
            user=user, contact=contact, pairing=pairing, data=data, photos=photos, idempotency_key=idempotency_key
        ),
    )


def _visit_create(
    *,
    user: User,
    contact: Contact,
    pairing: Pairing,
    data: VisitData,
    photos: Sequence[UploadedFile],
    idempotency_key: str,
) -> Visit:
    _check_dates(data, pairing.term)
    prepared = photos_prepare(list(photos))
    visit = Visit(
        pairing=pairing,
        happened_on=data.happened_on,
        mode=data.mode,
        place=data.place.strip(),
        duration_minutes=data.duration_minutes,
        discussed=data.discussed.strip(),
        views_and_requests=data.views_and_requests.strip(),
        follow_up=data.follow_up.strip(),
        situation=data.situation,
        situation_details=data.situation_details.strip(),
        created_by=user,
        idempotency_key=idempotency_key,
    )
    visit.full_clean()
    visit.save()
    _save_help(visit, data.help)
    if visit.situation in URGENT_SITUATIONS:
        _notify_urgent_situation(visit)
    if data.request_summary.strip():
        request_create(
            organisation=contact.organisation,
            source=RequestSource.VISIT,
            summary=data.request_summary.strip(),
            details=visit.views_and_requests,
            contact=contact,
            visit=visit,
            by=user,
        )
    _save_photos(visit, prepared)
    return visit


def _save_photos(visit: Visit, photos: list[ContentFile]) -> None:
    """Last, so nothing after it can fail; a file written for a row that is not saved is removed."""
    written: list[VisitPhoto] = []
    try:
        for photo in photos:
            row = VisitPhoto(visit=visit)
            row.image.save(photo.name, photo, save=False)
            written.append(row)
            row.save()
    except BaseException:
        for row in written:
            row.image.delete(save=False)
        raise


def visit_editable_until(visit: Visit) -> date:
    return timezone.localtime(visit.created_at).date() + timedelta(days=settings.VISIT_EDIT_DAYS)


def check_visit_editable(*, user: User, visit: Visit) -> None:
    if visit.pairing.term.closed_at is not None:
        raise PermissionDenied(_("The term is closed: its logs can no longer be changed."))
    if visit.created_by_id != user.pk:
        raise PermissionDenied(_("Only the member who logged a visit can change it."))
    if timezone.localdate() > visit_editable_until(visit):
        raise PermissionDenied(
            _("A visit log can be changed for %(days)s days after it was logged.") % {"days": settings.VISIT_EDIT_DAYS}
        )


@transaction.atomic
def visit_update(*, user: User, visit: Visit, data: VisitData, expected_version: int | None = None) -> Visit:
    """Change a log within the edit window; every version is kept in its history.

    `expected_version` is the version the edit form was opened on: if the log has been
    saved since, the edit is refused (`liaison.services.StaleEdit`) instead of silently
    overwriting the other change.
    """
    check_visit_editable(user=user, visit=visit)
    _check_dates(data, visit.pairing.term)
    version_claim(visit, expected_version)
    fields = {
        "happened_on": data.happened_on,
        "mode": data.mode,
        "place": data.place.strip(),
        "duration_minutes": data.duration_minutes,
        "discussed": data.discussed.strip(),
        "views_and_requests": data.views_and_requests.strip(),
        "follow_up": data.follow_up.strip(),
        "situation": data.situation,
        "situation_details": data.situation_details.strip(),
    }
    was_urgent = visit.situation in URGENT_SITUATIONS
    model_update(instance=visit, fields=fields, data=fields)
    _save_help(visit, data.help)
    if visit.situation in URGENT_SITUATIONS and not was_urgent:
        _notify_urgent_situation(visit)
    return visit


def _secretaries_of(member: Member) -> list[User]:
    """The secretaries of the member's organisation and of every organisation above it."""
    from members.models import Organisation

    paths = ancestor_paths(member.organisation.path, include_self=True)
    return [
        organisation.secretary.user  # type: ignore[union-attr, misc]  # secretary__user__isnull=False: both are set
        for organisation in Organisation.objects.filter(path__in=paths, secretary__user__isnull=False)
        .select_related("secretary__user")
        .order_by("-depth")
    ]


def _notify_urgent_situation(visit: Visit) -> None:
    member = visit.pairing.member
    secretaries = _secretaries_of(member)[:1]  # the nearest secretary answers first
    message = _("%(member)s reported a %(situation)s while visiting %(contact)s on %(date)s.") % {
        "member": member.name,
        "situation": visit.get_situation_display(),
        "contact": visit.pairing.contact.name,
        "date": visit.happened_on,
    }
    url = reverse("visits:visit_detail", args=[visit.pk])
    notifications_send(
        notices=[Notice(user.pk, Notification.Kind.URGENT_SITUATION, message, url) for user in secretaries]
    )
    _email(secretaries, message)


def _email(users: list[User], message: str) -> None:
    """Mail leaves once the change is committed, from the worker: a slow or failing mail
    server never holds nor undoes the member's save (the in-app notice is already there)."""
    recipients = [user.email for user in users if user.email]
    if not recipients or settings.EMAIL_BACKEND == "django.core.mail.backends.dummy.EmailBackend":
        return
    subject = _("Liaison")

    def enqueue() -> None:
        from .tasks import email_send_task

        try:
            email_send_task.delay(subject, message, recipients)
        except Exception:  # no broker: the notice in the app still reaches them
            logger.warning("An e-mail could not be queued; the in-app notification stands", exc_info=True)

    transaction.on_commit(enqueue)


def email_send(*, subject: str, message: str, recipients: list[str]) -> int:
    return send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, recipients)


@transaction.atomic
def reminders_send(*, today: date) -> int:
    """Daily: tell each member with overdue contacts, once a day, in a fixed number of queries."""
    overdue: dict[int, int] = defaultdict(int)
    users: dict[int, int] = {}
    for term in Term.objects.filter(is_current=True, closed_at__isnull=True):
        rules = rules_for_term(term)
        for facts, member_id, user_id in pairing_facts(
            Pairing.objects.active_in_open_term().filter(term=term, member__user__isnull=False)
        ):
            if pairing_status(facts, rules, today).standing == Standing.OVERDUE:
                overdue[member_id] += 1
                assert user_id is not None  # member__user__isnull=False
                users[member_id] = user_id
    already = notified_user_ids(kind=Notification.Kind.FALLING_BEHIND, on=today, user_ids=users.values())
    url = reverse("visits:due")
    notifications = notifications_send(
        notices=[
            Notice(
                users[member_id],
                Notification.Kind.FALLING_BEHIND,
                _("%(count)s of your contacts are overdue for a visit or talk.") % {"count": count},
                url,
            )
            for member_id, count in sorted(overdue.items())
            if users[member_id] not in already
        ]
    )
    from django.contrib.auth import get_user_model

    recipients = get_user_model().objects.filter(pk__in=[n.user_id for n in notifications]).exclude(email="")
    for user in recipients:
        _email([user], _("Some of your contacts are overdue for a visit or talk."))
    return len(notifications)
