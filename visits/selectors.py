"""Scoped reads for visit logs and the member's due list."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from members.models import LeadershipRole, Member
from members.scoping import get_scope
from members.selectors import role_ids_by_member
from pairings.frequency import DEFAULT_RULES, PairingFacts, Rule, Status, pairing_status
from pairings.models import FrequencyRule, Pairing, Term

from .models import Visit, VisitPhoto

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


def visit_manageable_list(*, user: User | AnonymousUser) -> QuerySet[Visit]:
    """Logs of the members the user manages: those they may link a request to when writing."""
    scope = get_scope(user)
    return Visit.objects.filter(
        scope.subtree_q(scope.manage_paths, prefix="pairing__member__organisation__")
    ).select_related("pairing__member", "pairing__contact")


def visit_get(*, user: User | AnonymousUser, visit_id: int) -> Visit | None:
    return visit_list(user=user).filter(pk=visit_id).first()


def visit_photo_get(*, user: User | AnonymousUser, visit_id: int, photo_id: int) -> VisitPhoto | None:
    """A photo of a visit the user may read: the visit detail page's own rule (`visit_list`)."""
    return VisitPhoto.objects.filter(pk=photo_id, visit_id=visit_id, visit__in=visit_list(user=user)).first()


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
