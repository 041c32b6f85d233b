"""Quota policies, overrides and the stored quota status."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from members.models import ContactCategory, ContactKind, LeadershipRole, MemberCategory
from pairings import services
from pairings.models import Pairing, PairingStatus, QuotaOverride, QuotaRule, QuotaStatus, Term, TermKind
from tests.conftest import open_term
from tests.factories import ContactFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def term(world):
    # Opened from a branch on purpose: a term belongs to the tree's root.
    return open_term(world, organisation=world.branch_a)


def statuses(term, member) -> dict[tuple[str, str], tuple[int, int, int]]:
    return {
        (status.contact_category, status.unit): (status.required, status.actual, status.shortfall)
        for status in QuotaStatus.objects.filter(term=term, member=member)
    }


def test_a_new_term_belongs_to_the_tree_root_and_carries_the_school_rule(world, term):
    assert term.organisation == world.committee
    rules = {(rule.contact_category, rule.unit, rule.required) for rule in term.policy.rules.all()}
    assert rules == {("activist", "person", 2), ("staff", "person", 3), ("student", "person", 5)}
    assert not Term.objects.filter(pk=world.term.pk, is_current=True).exists(), "only one current term per tree"


def test_quota_job_stores_required_actual_and_shortfall_per_category(world, term):
    services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    services.pairing_create(member=world.member_a1, contact=world.contact_a2, term=term)
    services.quota_compute(term=term, organisation=world.committee)
    assert statuses(term, world.member_a1) == {
        ("activist", "person"): (2, 0, 2),
        ("staff", "person"): (3, 1, 2),
        ("student", "person"): (5, 1, 4),
    }
    assert statuses(term, world.member_a2)[("student", "person")] == (5, 0, 5)


def test_quota_job_issues_a_fixed_number_of_queries_whatever_the_number_of_members(
    world, term, django_assert_max_num_queries
):
    for _index in range(60):
        MemberFactory.create(organisation=world.branch_a)
    # the term's lock, rules, members, roles, overrides, pairings aggregate, the stored rows, the upsert
    # (two batches on SQLite's 999 variables), + savepoint bookkeeping
    with django_assert_max_num_queries(11):
        created = services.quota_compute(term=term, organisation=world.committee)
    assert created == (60 + 4) * 3
    # Run again with nothing changed: the stored rows are read and left alone, nothing is written.
    with django_assert_max_num_queries(9):
        assert services.quota_compute(term=term, organisation=world.committee) == (60 + 4) * 3


def test_the_most_specific_rule_wins(world, term):
    policy = term.policy
    student_members = QuotaRule.objects.create(
        policy=policy, member_category=MemberCategory.STUDENT, contact_category="student", required=2
    )
    secretaries = QuotaRule.objects.create(
        policy=policy,
        member_role=LeadershipRole.objects.get(code="branch_secretary"),
        contact_category="student",
        required=8,
    )
    QuotaRule.objects.create(policy=policy, organisation=world.branch_b, contact_category="staff", required=1)
    student = MemberFactory.create(organisation=world.branch_a, category=MemberCategory.STUDENT)
    world.secretary_a.roles.add(LeadershipRole.objects.get(code="branch_secretary"))
    services.quota_compute(term=term, organisation=world.committee)
    assert statuses(term, student)[("student", "person")][0] == student_members.required
    assert statuses(term, world.secretary_a)[("student", "person")][0] == secretaries.required
    assert statuses(term, world.secretary_b)[("staff", "person")][0] == 1
    assert statuses(term, world.member_a1)[("staff", "person")][0] == 3


def test_a_household_policy_counts_households_of_any_category(world):
    yearly = services.term_create(
        organisation=world.committee,
        name="2027年度",
        kind=TermKind.YEAR,
        # After the personas' autumn term: terms of one tree do not overlap.
        starts_on=date(2027, 1, 21),
        ends_on=date(2027, 12, 31),
        default_rules=False,
    )
    QuotaRule.objects.create(
        policy=yearly.policy,
        member_category=MemberCategory.CADRE,
        contact_category="",
        unit=ContactKind.HOUSEHOLD,
        required=15,
    )
    cadre = MemberFactory.create(organisation=world.branch_a, category=MemberCategory.CADRE)
    for category in (ContactCategory.CITIZEN_IN_DIFFICULTY, ContactCategory.NON_PARTY):
        household = ContactFactory.create(organisation=world.branch_a, category=category, kind=ContactKind.HOUSEHOLD)
        services.pairing_create(member=cadre, contact=household, term=yearly)
    person = ContactFactory.create(organisation=world.branch_a, category=ContactCategory.CITIZEN_IN_DIFFICULTY)
    services.pairing_create(member=cadre, contact=person, term=yearly)
    services.quota_compute(term=yearly, organisation=world.committee)
    assert statuses(yearly, cadre) == {("", "household"): (15, 2, 13)}
    assert statuses(yearly, world.member_a1) == {}


def test_an_override_replaces_the_rule_for_that_member_and_is_flagged(world, term):
    services.quota_override_set(
        term=term,
        member=world.member_a1,
        contact_category="student",
        unit="person",
        required=1,
        reason="长期出差",
        by=world.secretary_a.user,
    )
    services.quota_compute(term=term, organisation=world.committee)
    status = QuotaStatus.objects.get(term=term, member=world.member_a1, contact_category="student")
    assert (status.required, status.overridden) == (1, True)
    assert statuses(term, world.member_a2)[("student", "person")][0] == 5


def test_an_override_needs_a_reason_and_a_secretary_of_that_member(world, term):
    with pytest.raises(ValidationError):
        services.quota_override_set(
            term=term,
            member=world.member_a1,
            contact_category="student",
            unit="person",
            required=1,
            reason=" ",
            by=world.secretary_a.user,
        )
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.quota_override_set(
            term=term,
            member=world.member_a1,
            contact_category="student",
            unit="person",
            required=1,
            reason="x",
            by=world.secretary_b.user,
        )
    assert not QuotaOverride.objects.exists()


def test_a_contact_cannot_take_more_members_than_the_policy_allows(world, term):
    services.pairing_create(member=world.member_a1, contact=world.contact_b, term=term)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        services.pairing_create(member=world.member_a2, contact=world.contact_b, term=term)
    assert error.value.messages == [f"{world.contact_b.name}已有 1 名结对党员，已达到本学期指标方案允许的上限。"]
    assert Pairing.objects.filter(term=term, contact=world.contact_b).count() == 1
    term.policy.max_members_per_contact = 2
    term.policy.save()
    services.pairing_create(member=world.member_a2, contact=world.contact_b, term=term)


def test_the_same_pair_cannot_be_active_twice_in_a_term(world, term):
    term.policy.max_members_per_contact = 3
    term.policy.save()
    services.pairing_create(member=world.member_a1, contact=world.contact_b, term=term)
    with pytest.raises(ValidationError):
        services.pairing_create(member=world.member_a1, contact=world.contact_b, term=term)
    assert Pairing.objects.filter(term=term, member=world.member_a1, contact=world.contact_b).count() == 1


def test_ending_a_pairing_keeps_its_history_and_frees_the_contact(world, term):
    pairing = services.pairing_create(
        member=world.member_a1, contact=world.contact_b, term=term, started_on=date(2026, 9, 2)
    )
    with pytest.raises(ValidationError):
        services.pairing_end(pairing=pairing, ended_on=date(2026, 10, 1), reason="")
    services.pairing_end(pairing=pairing, ended_on=date(2026, 10, 1), reason="毕业离校")
    pairing.refresh_from_db()
    assert (pairing.status, pairing.end_reason) == (PairingStatus.ENDED, "毕业离校")
    assert pairing.history.count() == 2
    services.pairing_create(member=world.member_a2, contact=world.contact_b, term=term)


def test_opening_a_term_carries_pairs_over_and_copies_the_policy(world, term):
    term.policy.max_members_per_contact = 2
    term.policy.save()
    QuotaRule.objects.create(policy=term.policy, contact_category="non_party", required=1)
    old = services.pairing_create(
        member=world.member_a1, contact=world.contact_b, term=term, started_on=date(2026, 9, 2)
    )
    new_term = services.term_open(
        previous=term, name="2027春", kind=TermKind.SEMESTER, starts_on=date(2027, 2, 20), ends_on=date(2027, 7, 10)
    )
    old.refresh_from_db()
    term.refresh_from_db()
    assert (old.status, old.ended_on) == (PairingStatus.ENDED, date(2027, 1, 20))
    assert not term.is_current and new_term.is_current
    carried = Pairing.objects.get(term=new_term)
    assert (carried.member, carried.contact, carried.started_on) == (
        world.member_a1,
        world.contact_b,
        date(2027, 2, 20),
    )
    assert new_term.policy.max_members_per_contact == 2
    assert new_term.policy.rules.count() == 4


def test_opening_a_term_copies_the_policys_frequency_rules_too(world, term):
    from pairings.models import FrequencyRule
    from visits.selectors import rules_for_term

    leader = LeadershipRole.objects.get(code="leading_cadre")
    FrequencyRule.objects.create(policy=term.policy, period="term", minimum=4)
    FrequencyRule.objects.create(
        policy=term.policy, contact_category="student", member_role=leader, period="week", minimum=2
    )
    new_term = services.term_open(
        previous=term, name="2027春", kind=TermKind.SEMESTER, starts_on=date(2027, 2, 20), ends_on=date(2027, 7, 10)
    )
    rows = {
        (rule.contact_category, rule.member_role_id, rule.period, rule.minimum) for rule in rules_for_term(new_term)
    }
    assert rows == {("", None, "term", 4), ("student", leader.pk, "week", 2)}
    assert FrequencyRule.objects.filter(policy=new_term.policy).count() == 2
    assert FrequencyRule.objects.filter(policy=term.policy).count() == 2


def test_a_term_must_end_after_it_starts(world):
    with pytest.raises(ValidationError):
        services.term_create(
            organisation=world.committee,
            name="错",
            kind=TermKind.SEMESTER,
            starts_on=date(2026, 9, 1),
            ends_on=date(2026, 8, 1),
        )


def test_a_policy_cannot_hold_the_same_rule_twice(world, term):
    duplicate = QuotaRule(policy=term.policy, contact_category="student", unit="person", required=9)
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    role = LeadershipRole.objects.get(code="branch_secretary")
    QuotaRule.objects.create(policy=term.policy, member_role=role, contact_category="student", required=8)
    with pytest.raises(ValidationError):
        QuotaRule(policy=term.policy, member_role=role, contact_category="student", required=7).full_clean()
