"""Writes for terms, quota policies, pairings, the quota job and the matching job."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liaison.jobs import JobLost, job_enqueue, job_fail, job_heartbeat, job_start, job_succeed
from liaison.params import check_work_date
from liaison.paths import root_path
from members.models import Contact, ContactKind, Member, Organisation
from members.scoping import get_scope
from members.selectors import role_ids_by_member

from . import matching
from .models import (
    FrequencyRule,
    MatchingRun,
    Pairing,
    PairingStatus,
    ProposedPairing,
    QuotaOverride,
    QuotaPolicy,
    QuotaRule,
    QuotaStatus,
    Term,
)
from .quotas import DEFAULT_SCHOOL_RULES, MemberProfile, RuleRow, actual_by_bucket, group_counts, required_by_rules
from .selectors import members_per_contact_limit

if TYPE_CHECKING:
    from django.contrib.auth.models import User

BATCH_SIZE = 2000


# Terms and policies ------------------------------------------------------------


def _tree_root(organisation: Organisation) -> Organisation:
    return Organisation.objects.get(path=root_path(organisation.path))


TERM_LONGEST_DAYS = 366


def check_term_dates(*, organisation: Organisation, starts_on: date, ends_on: date, term: Term | None = None) -> None:
    """A term lasts at most a year, within the working dates, and overlaps no other term of its tree."""
    check_work_date(starts_on)
    check_work_date(ends_on)
    if ends_on <= starts_on:
        raise ValidationError({"ends_on": _("A term ends after it starts.")})
    if (ends_on - starts_on).days > TERM_LONGEST_DAYS:
        raise ValidationError({"ends_on": _("A term lasts at most a year.")})
    others = Term.objects.filter(organisation=_tree_root(organisation), starts_on__lte=ends_on, ends_on__gte=starts_on)
    if term is not None and term.pk is not None:
        others = others.exclude(pk=term.pk)
    overlapping = others.order_by("starts_on").first()
    if overlapping is not None:
        raise ValidationError(
            _("These dates overlap %(term)s (%(starts_on)s to %(ends_on)s) in the same organisation tree.")
            % {"term": overlapping.name, "starts_on": overlapping.starts_on, "ends_on": overlapping.ends_on}
        )


@transaction.atomic
def term_create(
    *,
    organisation: Organisation,
    name: str,
    kind: str,
    starts_on: date,
    ends_on: date,
    is_current: bool = False,
    default_rules: bool = True,
) -> Term:
    """A new term for the organisation's tree, with the school rule as its policy unless told otherwise."""
    root = _tree_root(organisation)
    check_term_dates(organisation=root, starts_on=starts_on, ends_on=ends_on)
    if is_current:
        Term.objects.filter(organisation=root, is_current=True).update(is_current=False)
    term = Term(organisation=root, name=name, kind=kind, starts_on=starts_on, ends_on=ends_on, is_current=is_current)
    term.full_clean()
    term.save()
    policy = QuotaPolicy.objects.create(term=term)
    if default_rules:
        _add_default_rules(policy)
    return term


def _add_default_rules(policy: QuotaPolicy) -> None:
    QuotaRule.objects.bulk_create(
        QuotaRule(policy=policy, contact_category=category, unit=ContactKind.PERSON, required=required)
        for category, required in DEFAULT_SCHOOL_RULES
    )


@transaction.atomic
def term_open(
    *,
    previous: Term,
    name: str,
    kind: str,
    starts_on: date,
    ends_on: date,
    carry_over: bool = True,
) -> Term:
    """Open the next term: copy the policy, make it current, and carry active pairings over."""
    if starts_on <= previous.starts_on:
        raise ValidationError(_("The new term must start after the previous one."))
    term = term_create(
        organisation=previous.organisation,
        name=name,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        is_current=True,
        default_rules=False,
    )
    policy_copy(source=previous, target=term)
    previous.refresh_from_db(fields=["closed_at"])
    if previous.closed_at is None:
        term_close(term=previous)
    if carry_over:
        pairings_carry_over(source=previous, target=term)
    return term


@transaction.atomic
def term_close(*, term: Term) -> Term:
    """Close a term: its quota status is computed one last time, and its logs can no longer change.

    The evaluation reads the quota figures stored here, since the pairings of a closed
    term end when the next term carries them over.
    """
    term = Term.objects.select_for_update().select_related("organisation").get(pk=term.pk)
    if term.closed_at is not None:
        raise ValidationError(_("%(term)s is already closed.") % {"term": term})
    quota_compute(term=term, organisation=term.organisation)
    term.closed_at = timezone.now()
    term.save(update_fields=["closed_at"])
    return term


@transaction.atomic
def policy_copy(*, source: Term, target: Term) -> QuotaPolicy:
    """The target term gets the source term's whole policy: quota rules and frequency rules."""
    old = QuotaPolicy.objects.filter(term=source).first()
    policy = target.policy
    if old is None:  # a term made without a policy: start from the school rule
        _add_default_rules(policy)
        return policy
    policy.max_members_per_contact = old.max_members_per_contact
    policy.save(update_fields=["max_members_per_contact"])
    QuotaRule.objects.bulk_create(
        QuotaRule(
            policy=policy,
            organisation_id=rule.organisation_id,
            member_category=rule.member_category,
            member_role_id=rule.member_role_id,
            contact_category=rule.contact_category,
            unit=rule.unit,
            required=rule.required,
        )
        for rule in old.rules.all()
    )
    _frequency_rules_copy(source=old, target=policy)
    return policy


def _frequency_rules_copy(*, source: QuotaPolicy, target: QuotaPolicy) -> None:
    """The policy's frequency rules come along with its quota rules: they are one policy."""
    FrequencyRule.objects.bulk_create(
        FrequencyRule(
            policy=target,
            contact_category=rule.contact_category,
            member_role_id=rule.member_role_id,
            period=rule.period,
            minimum=rule.minimum,
        )
        for rule in FrequencyRule.objects.filter(policy=source)
    )


@transaction.atomic
def quota_override_set(
    *, term: Term, member: Member, contact_category: str, unit: str, required: int, reason: str, by: User
) -> QuotaOverride:
    if not get_scope(by).manages(member.organisation):
        raise PermissionDenied(_("You can only adjust quotas of members in your organisation."))
    # Lock the member: of two adjustments of one bucket sent at once, the second updates the first's row.
    Member.objects.select_for_update(no_key=True).filter(pk=member.pk).values_list("pk").first()
    override = QuotaOverride.objects.filter(
        term=term, member=member, contact_category=contact_category, unit=unit
    ).first() or QuotaOverride(term=term, member=member, contact_category=contact_category, unit=unit)
    override.required = required
    override.reason = reason.strip()
    override.full_clean()
    override.save()
    return override


# Pairings ----------------------------------------------------------------------


def check_member_in_term_tree(*, member: Member, term: Term) -> None:
    """A member is paired, and their quota adjusted, only in a term of their own tree."""
    if not member.organisation.path.startswith(term.organisation.path):
        raise ValidationError(_("This member is not in the organisation tree of the term."))


def _check_pairable(*, member: Member, contact: Contact, term: Term) -> None:
    check_member_in_term_tree(member=member, term=term)
    if not contact.organisation.path.startswith(term.organisation.path):
        raise ValidationError(_("This contact is not in the organisation tree of the term."))


def pairing_validate(*, member: Member, contact: Contact, term: Term) -> None:
    """Every rule a new pairing must meet; raises a translated ValidationError."""
    _check_pairable(member=member, contact=contact, term=term)
    active = Pairing.objects.filter(contact=contact, term=term, status=PairingStatus.ACTIVE)
    if active.filter(member=member).exists():
        raise ValidationError(
            _("%(member)s is already paired with %(contact)s this term.") % {"member": member, "contact": contact}
        )
    limit = members_per_contact_limit(term=term)
    if active.count() >= limit:
        raise ValidationError(
            _("%(contact)s already has %(count)s paired member(s), the most this term's policy allows.")
            % {"contact": contact, "count": limit}
        )


@transaction.atomic
def pairing_create(
    *, member: Member, contact: Contact, term: Term, started_on: date | None = None, theme: str = ""
) -> Pairing:
    """Pair a member with a contact for the term, within the policy's limit of members per contact."""
    # Lock the contact so two secretaries cannot both take its last place.
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    pairing_validate(member=member, contact=contact, term=term)
    pairing = Pairing(
        member=member,
        contact=contact,
        term=term,
        started_on=started_on or max(term.starts_on, timezone.localdate()),
        theme=theme,
    )
    pairing.full_clean()
    pairing.save()
    return pairing


@transaction.atomic
def pairing_end(*, pairing: Pairing, ended_on: date, reason: str) -> Pairing:
    if pairing.status != PairingStatus.ACTIVE:
        raise ValidationError(_("This pairing has already ended."))
    if not reason.strip():
        raise ValidationError({"end_reason": _("Say why the pairing ends.")})
    if ended_on < pairing.started_on:
        raise ValidationError({"ended_on": _("A pairing cannot end before it started.")})
    pairing.status = PairingStatus.ENDED
    pairing.ended_on = ended_on
    pairing.end_reason = reason.strip()
    pairing.full_clean()
    pairing.save(update_fields=["status", "ended_on", "end_reason"])
    return pairing


@transaction.atomic
def pairings_carry_over(*, source: Term, target: Term) -> int:
    """End the source term's active pairings (history kept) and start the same pairs in the target term."""
    active = list(Pairing.objects.filter(term=source, status=PairingStatus.ACTIVE))
    ended_on = min(source.ends_on, target.starts_on - timedelta(days=1))
    reason = _("Carried over to %(term)s") % {"term": target.name}
    for pairing in active:
        pairing.status = PairingStatus.ENDED
        pairing.ended_on = max(ended_on, pairing.started_on)
        pairing.end_reason = reason
    Pairing.objects.bulk_update(active, ["status", "ended_on", "end_reason"], batch_size=BATCH_SIZE)
    Pairing.objects.bulk_create(
        (
            Pairing(
                member_id=p.member_id, contact_id=p.contact_id, term=target, theme=p.theme, started_on=target.starts_on
            )
            for p in active
        ),
        batch_size=BATCH_SIZE,
    )
    return len(active)


# The quota job -----------------------------------------------------------------


def _rules_of(term: Term) -> list[RuleRow]:
    return [
        RuleRow(
            rule_id=rule["id"],
            organisation_path=rule["organisation__path"] or "",
            member_category=rule["member_category"],
            member_role_id=rule["member_role_id"],
            contact_category=rule["contact_category"],
            unit=rule["unit"],
            required=rule["required"],
        )
        for rule in QuotaRule.objects.filter(policy__term=term).values(
            "id", "organisation__path", "member_category", "member_role_id", "contact_category", "unit", "required"
        )
    ]


def _member_profiles(organisation: Organisation) -> list[MemberProfile]:
    members = Member.objects.filter(organisation__path__startswith=organisation.path)
    roles = role_ids_by_member(members)
    return [
        MemberProfile(member_id=member_id, path=path, category=category, role_ids=roles[member_id])
        for member_id, path, category in members.values_list("id", "organisation__path", "category").order_by("id")
    ]


def term_lock(term: Term) -> None:
    """Hold the term's row until the transaction ends: the quota jobs of one term run one at a time.

    `FOR NO KEY UPDATE` (PostgreSQL; SQLite writes one at a time anyway): it waits only for
    another holder, never for the inserts that merely reference the term (pairings, statuses).
    """
    Term.objects.select_for_update(no_key=True).filter(pk=term.pk).values_list("pk").first()


QUOTA_STATUS_KEY = ("term", "member", "contact_category", "unit")  # the quota_status_unique constraint
QUOTA_STATUS_VALUES = ("required", "actual", "shortfall", "overridden", "computed_at")


@transaction.atomic
def quota_compute(*, term: Term, organisation: Organisation) -> int:
    """Required vs actual per member and bucket for a subtree, stored in QuotaStatus.

    Runs one at a time per term (`term_lock`, taken before anything is read, so each run
    reads what the one before it committed): two quota changes at once both succeed, one
    after the other. A fixed number of queries whatever the number of members: the lock,
    rules, members, roles, overrides, one aggregate of active pairings and the stored rows;
    then one upsert of the rows that are new or changed (`INSERT … ON CONFLICT DO UPDATE`
    on `quota_status_unique`) and one delete of those no longer needed. Unchanged rows
    are left alone (`computed_at` is when a row last changed). Returns the number of rows.
    """
    term_lock(term)
    rules = _rules_of(term)
    profiles = _member_profiles(organisation)
    overrides: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for member_id, category, unit, required_count in QuotaOverride.objects.filter(
        term=term, member__organisation__path__startswith=organisation.path
    ).values_list("member_id", "contact_category", "unit", "required"):
        overrides[member_id][(category, unit)] = required_count
    counts = group_counts(
        Pairing.objects.filter(
            term=term, status=PairingStatus.ACTIVE, member__organisation__path__startswith=organisation.path
        )
        .values_list("member_id", "contact__category", "contact__kind")
        .annotate(count=Count("id"))
        .order_by()
    )
    stored: dict[tuple[int, str, str], tuple[int, tuple[int, int, int, bool]]] = {
        (member_id, category, unit): (pk, (required_count, actual_count, shortfall, overridden))
        for pk, member_id, category, unit, required_count, actual_count, shortfall, overridden in (
            QuotaStatus.objects.filter(term=term, member__organisation__path__startswith=organisation.path).values_list(
                "pk", "member_id", "contact_category", "unit", *QUOTA_STATUS_VALUES[:-1]
            )
        )
    }

    now = timezone.now()
    wanted: set[tuple[int, str, str]] = set()
    changed = []
    for profile in profiles:
        required = required_by_rules(profile, rules) | overrides.get(profile.member_id, {})
        actual = actual_by_bucket(counts.get(profile.member_id, {}), required.keys())
        for (category, unit), needed in required.items():
            if needed == 0 and actual[(category, unit)] == 0:
                continue
            key = (profile.member_id, category, unit)
            got = actual[(category, unit)]
            values = (needed, got, max(needed - got, 0), (category, unit) in overrides.get(profile.member_id, {}))
            wanted.add(key)
            if key in stored and stored[key][1] == values:
                continue
            changed.append(
                QuotaStatus(
                    term=term,
                    member_id=profile.member_id,
                    contact_category=category,
                    unit=unit,
                    required=needed,
                    actual=got,
                    shortfall=values[2],
                    overridden=values[3],
                    computed_at=now,
                )
            )
    QuotaStatus.objects.bulk_create(
        changed,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=QUOTA_STATUS_KEY,
        update_fields=QUOTA_STATUS_VALUES,
    )
    gone = [pk for key, (pk, _values) in stored.items() if key not in wanted]
    for start in range(0, len(gone), BATCH_SIZE):
        QuotaStatus.objects.filter(pk__in=gone[start : start + BATCH_SIZE]).delete()
    return len(wanted)


# The matching job --------------------------------------------------------------


@transaction.atomic
def matching_run_create(*, term: Term, organisation: Organisation, by: User) -> MatchingRun:
    if not get_scope(by).manages(organisation):
        raise PermissionDenied(_("You can only run the matching for your own organisation."))
    run = MatchingRun.objects.create(term=term, organisation=organisation, created_by=by)
    from .tasks import matching_run_task

    job_enqueue(run, matching_run_task)
    return run


def matching_run_repeat(*, run: MatchingRun, by: User) -> MatchingRun:
    """Run a failed matching again: a new run for the same term and subtree (the failed one stays on record)."""
    if not run.is_failed:
        raise ValidationError(_("Only a failed matching can be run again."))
    return matching_run_create(term=run.term, organisation=run.organisation, by=by)


MATCHING_FAILED = gettext_lazy("The matching failed. Please run it again; if it fails again, tell the administrator.")


def matching_run_compute(*, run: MatchingRun) -> MatchingRun:
    """Propose pairings for the subtree's members short of quota and its contacts with room.

    A run that raises is recorded as failed with a message (its page stops waiting and says
    so), then the error goes on to the worker's log, as every job does (`liaison.jobs.job_fail`).
    """
    if not job_start(run):  # another worker has it, or it already ran
        run.refresh_from_db()
        return run
    try:
        proposals = _matching_proposals(run)
        job_heartbeat(run, force=True)
        with transaction.atomic():  # the proposal and the job's success, together or not at all
            ProposedPairing.objects.filter(run=run).delete()
            ProposedPairing.objects.bulk_create(
                (
                    ProposedPairing(run=run, member_id=p.member_id, contact_id=p.contact_id, distance=p.distance)
                    for p in proposals
                ),
                batch_size=BATCH_SIZE,
            )
            if not job_succeed(run):
                raise JobLost(f"matching run {run.pk} was ended elsewhere")  # keep no proposal
    except Exception:
        job_fail(run, MATCHING_FAILED)
        raise
    return run


def _matching_proposals(run: MatchingRun) -> list[matching.Proposal]:
    term, organisation = run.term, run.organisation
    quota_compute(term=term, organisation=organisation)
    job_heartbeat(run)
    limit = members_per_contact_limit(term=term)

    needs_by_pass: dict[bool, list[matching.MemberNeed]] = {True: [], False: []}
    for member_id, path, category, unit, shortfall in QuotaStatus.objects.filter(
        term=term, member__organisation__path__startswith=organisation.path, shortfall__gt=0
    ).values_list("member_id", "member__organisation__path", "contact_category", "unit", "shortfall"):
        # Buckets for a named category are filled first; "any category" buckets take what is left.
        needs_by_pass[bool(category)].append(matching.MemberNeed(member_id, path, (category, unit), shortfall))

    paired_counts = dict(
        Pairing.objects.filter(
            term=term, status=PairingStatus.ACTIVE, contact__organisation__path__startswith=organisation.path
        )
        .values_list("contact_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    already_paired = (
        set(
            Pairing.objects.filter(
                term=term, status=PairingStatus.ACTIVE, contact__organisation__path__startswith=organisation.path
            ).values_list("member_id", "contact_id")
        )
        if limit > 1
        else set()
    )
    room: dict[int, int] = {}
    contacts: list[tuple[int, str, str, str]] = []
    for contact_id, path, category, kind in Contact.objects.filter(
        organisation__path__startswith=organisation.path
    ).values_list("id", "organisation__path", "category", "kind"):
        free = limit - paired_counts.get(contact_id, 0)
        if free > 0:
            room[contact_id] = free
            contacts.append((contact_id, path, category, kind))

    proposals: list[matching.Proposal] = []
    for specific in (True, False):
        needs = needs_by_pass[specific]
        if not needs:
            continue
        slots = [
            matching.ContactSlot(contact_id, path, (category if specific else "", kind), room[contact_id])
            for contact_id, path, category, kind in contacts
            if room[contact_id] > 0
        ]
        job_heartbeat(run)
        made = matching.propose(needs, slots, already_paired=already_paired, tick=lambda: job_heartbeat(run))
        for proposal in made:
            room[proposal.contact_id] -= 1
            already_paired.add((proposal.member_id, proposal.contact_id))
        proposals.extend(made)
    return proposals


@transaction.atomic
def matching_run_accept(*, run: MatchingRun, by: User, proposal_ids: list[int] | None = None) -> int:
    """Pair the accepted proposals (all when `proposal_ids` is None); all or nothing."""
    if not get_scope(by).manages(run.organisation):
        raise PermissionDenied(_("You can only accept proposals for your own organisation."))
    if not run.is_waiting_for_review:
        raise ValidationError(_("This proposal has already been reviewed."))
    proposals = run.proposals.select_related("member__organisation", "contact__organisation")
    if proposal_ids is not None:
        proposals = proposals.filter(pk__in=proposal_ids)
    problems = []
    created = 0
    for proposal in proposals:
        try:
            pairing_create(member=proposal.member, contact=proposal.contact, term=run.term)
            created += 1
        except ValidationError as error:
            problems.extend(error.messages)
    if problems:
        raise ValidationError(problems)
    run.review = MatchingRun.Review.ACCEPTED
    run.reviewed_at = timezone.now()
    run.save(update_fields=["review", "reviewed_at"])
    quota_compute(term=run.term, organisation=run.organisation)
    return created


@transaction.atomic
def matching_run_discard(*, run: MatchingRun, by: User) -> MatchingRun:
    if not get_scope(by).manages(run.organisation):
        raise PermissionDenied(_("You can only discard proposals for your own organisation."))
    run.review = MatchingRun.Review.DISCARDED
    run.reviewed_at = timezone.now()
    run.save(update_fields=["review", "reviewed_at"])
    return run
