"""Scoped reads for visit logs and the member's due list."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from liaison.selectors import object_for_user
from members.models import LeadershipRole, Member
from members.scoping import get_scope
from members.selectors import role_ids_by_member
from pairings.frequency import DEFAULT_RULES, PairingFacts, Rule, Status, pairing_status
from pairings.models import FrequencyRule, Pairing, Term

from .models import HelpKind, Visit, VisitHelp, VisitPhoto

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def visit_list(*, user: User | AnonymousUser) -> QuerySet[Visit]:
    """Logs the user may read: their own, or everything in the subtrees they read."""
    scope = get_scope(user)
    condition = scope.subtree_q(scope.read_paths, prefix="pairing__member__organisation__")
    if scope.member is not None:
        condition |= Q(pairing__member=scope.member)
    return (
        Visit.objects.filter(condition)
        .select_related("pairing__member__organisation", "pairing__contact", "pairing__term", "created_by")
        .prefetch_related("help", "photos", "requests")
    )


def visit_get_for_user(*, user: User | AnonymousUser, visit_id: int) -> Visit:
    return object_for_user(visit_list(user=user), _("No such visit log."), pk=visit_id)


def visit_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Visit]:
    """Logs of the members the user manages: those they may link a request to when writing."""
    scope = get_scope(user)
    return Visit.objects.filter(
        scope.subtree_q(scope.manage_paths, prefix="pairing__member__organisation__")
    ).select_related("pairing__member", "pairing__contact")


def visit_photo_get_for_user(*, user: User | AnonymousUser, visit_id: int, photo_id: int) -> VisitPhoto:
    """A photo of a visit the user may read: the visit detail page's own rule (`visit_list`)."""
    photos = VisitPhoto.objects.filter(visit__in=visit_list(user=user))
    return object_for_user(photos, _("No such photo."), pk=photo_id, visit_id=visit_id)


def rules_for_term(term: Term) -> list[Rule]:
    """The term's frequency rules, or the school rule when its policy has none."""
    rows = list(
        FrequencyRule.objects.filter(policy__term=term).values_list(
            "contact_category", "member_role_id", "period", "minimum"
        )
    )
    if rows:
        return [Rule(category, role_id, period, minimum) for category, role_id, period, minimum in rows]
    role_ids = dict(LeadershipRole.objects.values_list("code", "id"))
    return [
        Rule(category, role_ids.get(role) if role else None, period, minimum)
        for category, role, period, minimum in DEFAULT_RULES
    ]


def pairing_facts(
    pairings: QuerySet[Pairing], *, until: date | None = None
) -> Iterator[tuple[PairingFacts, int, int | None]]:
    """(facts, member id, user id) per pairing, in three queries: the pairings, the days of
    their visits (up to `until` when given), and the members' roles."""
    rows = list(
        pairings.values_list(
            "id",
            "member_id",
            "member__user_id",
            "contact__category",
            "started_on",
            "term__starts_on",
            "term__ends_on",
            "ended_on",
        ).order_by()
    )
    visits = Visit.objects.filter(pairing__in=pairings.values("pk"))
    if until is not None:
        visits = visits.filter(happened_on__lte=until)
    talks: dict[int, list[date]] = defaultdict(list)
    for pairing_id, happened_on in visits.values_list("pairing_id", "happened_on").order_by("happened_on", "id"):
        talks[pairing_id].append(happened_on)
    roles = role_ids_by_member({row[1] for row in rows})
    for pairing_id, member_id, user_id, category, started_on, starts_on, ends_on, ended_on in rows:
        facts = PairingFacts(
            pairing_id=pairing_id,
            contact_category=category,
            role_ids=roles[member_id],
            started_on=started_on,
            term_starts_on=starts_on,
            term_ends_on=ends_on,
            talks=tuple(talks[pairing_id]),
            ended_on=ended_on,
        )
        yield facts, member_id, user_id


def member_due_list(*, member: Member, today: date) -> list[tuple[Pairing, Status]]:
    """The pairings the member is actively paired in, most urgent first, with their standing."""
    pairings = Pairing.objects.active_in_open_term().filter(member=member).select_related("contact", "term")
    by_id = {pairing.pk: pairing for pairing in pairings}
    if not by_id:
        return []
    rules_by_term: dict[int, list[Rule]] = {}
    result = []
    for facts, _member_id, _user_id in pairing_facts(Pairing.objects.filter(pk__in=by_id)):
        pairing = by_id[facts.pairing_id]
        if pairing.term_id not in rules_by_term:
            rules_by_term[pairing.term_id] = rules_for_term(pairing.term)
        result.append((pairing, pairing_status(facts, rules_by_term[pairing.term_id], today)))
    return sorted(
        result,
        key=lambda item: (-item[1].standing, item[1].due_on or today.replace(year=9999), item[0].contact.name),
    )


@dataclass(frozen=True)
class HelpChange:
    """One change of a log's help: who, when, which kind, and its value before and after."""

    at: datetime
    by: str
    kind: str
    before: str
    after: str


def _help_value(record: Any) -> str:
    parts = [record.description] if record.description else []
    if record.amount is not None and (record.amount or record.kind == HelpKind.MONEY):
        parts.append(f"¥{record.amount}")
    return " · ".join(parts) or "✓"


def visit_help_history(*, visit: Visit) -> list[HelpChange]:
    """Every version of the log's help, oldest first, in one query (read beside the log's history)."""
    records = VisitHelp.history.filter(visit_id=visit.pk).select_related("history_user").order_by("history_date")
    labels = dict(HelpKind.choices)
    last: dict[str, str] = {}
    changes = []
    for record in records:
        before = last.get(record.kind, "")
        after = "" if record.history_type == "-" else _help_value(record)
        last[record.kind] = after
        user = record.history_user
        changes.append(
            HelpChange(
                at=record.history_date,
                by=(user.get_full_name() or user.get_username()) if user else "—",
                kind=str(labels.get(record.kind, record.kind)),
                before=before,
                after=after,
            )
        )
    return changes
