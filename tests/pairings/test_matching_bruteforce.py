"""The matching against brute force: on small cases no assignment beats it."""

import itertools
import random
from collections import Counter

import pytest

from pairings.matching import ContactSlot, MemberNeed, propose, tree_distance

# A small tree: committee 0001, general branches 00010001/00010002, branches below them.
PATHS = ["0001", "00010001", "00010002", "000100010001", "000100010002", "000100020001"]
BUCKET = ("student", "person")


def objective(needs, slots, pairs):
    """(−pairings, total tree distance, balance cost) — smaller is better."""
    shortfall = {need.member_id: need.shortfall for need in needs}
    path_of_member = {need.member_id: need.path for need in needs}
    path_of_contact = {slot.contact_id: slot.path for slot in slots}
    ceiling = max(shortfall.values()) + 1
    counts = Counter(member for member, _contact in pairs)
    balance = sum(
        sum(ceiling - remaining for remaining in range(shortfall[member] - count + 1, shortfall[member] + 1))
        for member, count in counts.items()
    )
    distance = sum(tree_distance(path_of_member[m], path_of_contact[c]) for m, c in pairs)
    return (-len(pairs), distance, balance)


def brute_force_best(needs, slots):
    members = [need.member_id for need in needs]
    shortfall = {need.member_id: need.shortfall for need in needs}
    # Each contact takes a set of distinct members, no more than its capacity.
    choices = [
        [combo for size in range(slot.capacity + 1) for combo in itertools.combinations(members, size)]
        for slot in slots
    ]
    best = None
    for picked in itertools.product(*choices):
        pairs = [(member, slot.contact_id) for slot, combo in zip(slots, picked, strict=True) for member in combo]
        counts = Counter(member for member, _contact in pairs)
        if any(counts[member] > shortfall[member] for member in counts):
            continue
        value = objective(needs, slots, pairs)
        if best is None or value < best:
            best = value
    return best


def random_case(rng, capacities=(1,)):
    needs = [
        MemberNeed(member_id, rng.choice(PATHS[1:]), BUCKET, rng.randint(1, 3))
        for member_id in range(1, rng.randint(1, 4) + 1)
    ]
    slots = [
        ContactSlot(100 + contact_id, rng.choice(PATHS), BUCKET, rng.choice(capacities))
        for contact_id in range(rng.randint(1, 5))
    ]
    return needs, slots


def assert_valid(needs, slots, proposals, already_paired=()):
    shortfall = {(n.member_id, n.bucket): n.shortfall for n in needs}
    capacity = {(s.contact_id, s.bucket): s.capacity for s in slots}
    pairs = [(p.member_id, p.contact_id) for p in proposals]
    assert len(pairs) == len(set(pairs)), "a member got the same contact twice"
    assert not set(pairs) & set(already_paired)
    for (member, bucket), count in Counter((p.member_id, p.bucket) for p in proposals).items():
        assert count <= shortfall[(member, bucket)]
    for (contact, bucket), count in Counter((p.contact_id, p.bucket) for p in proposals).items():
        assert count <= capacity[(contact, bucket)], "a contact over capacity, or matched across buckets"


@pytest.mark.parametrize("seed", range(300))
def test_matching_is_as_good_as_brute_force(seed):
    rng = random.Random(seed)
    needs, slots = random_case(rng)
    proposals = propose(needs, slots)
    assert_valid(needs, slots, proposals)
    pairs = [(p.member_id, p.contact_id) for p in proposals]
    assert objective(needs, slots, pairs) == brute_force_best(needs, slots)


@pytest.mark.parametrize("seed", range(200))
def test_matching_with_shared_contacts_is_as_good_as_brute_force(seed):
    rng = random.Random(10_000 + seed)
    needs, slots = random_case(rng, capacities=(1, 2, 2))
    proposals = propose(needs, slots)
    assert_valid(needs, slots, proposals)
    pairs = [(p.member_id, p.contact_id) for p in proposals]
    assert objective(needs, slots, pairs) == brute_force_best(needs, slots)


def test_shared_contacts_above_the_exact_limit_still_get_valid_proposals(monkeypatch):
    monkeypatch.setattr("pairings.matching.EXACT_PAIRS_LIMIT", 0)
    for seed in range(100):
        rng = random.Random(20_000 + seed)
        needs, slots = random_case(rng, capacities=(1, 2, 3))
        assert_valid(needs, slots, propose(needs, slots))


def test_distance_is_counted_in_tree_edges():
    assert tree_distance("000100010001", "000100010001") == 0
    assert tree_distance("000100010001", "000100010002") == 2
    assert tree_distance("000100010001", "0001") == 2
    assert tree_distance("000100010001", "000100020001") == 4
    assert tree_distance("0001", "0002") == 2


def test_a_member_is_paired_in_their_own_branch_before_elsewhere():
    needs = [MemberNeed(1, "000100010001", BUCKET, 1)]
    slots = [ContactSlot(7, "000100020001", BUCKET, 1), ContactSlot(9, "000100010001", BUCKET, 1)]
    assert [(p.member_id, p.contact_id, p.distance) for p in propose(needs, slots)] == [(1, 9, 0)]


def test_loads_are_kept_even_when_contacts_are_scarce():
    needs = [MemberNeed(1, "000100010001", BUCKET, 3), MemberNeed(2, "000100010001", BUCKET, 3)]
    slots = [ContactSlot(10 + index, "000100010001", BUCKET, 1) for index in range(4)]
    assert Counter(p.member_id for p in propose(needs, slots)) == {1: 2, 2: 2}


def test_buckets_never_mix():
    needs = [MemberNeed(1, "00010001", ("staff", "person"), 2)]
    slots = [ContactSlot(5, "00010001", BUCKET, 1)]
    assert propose(needs, slots) == []


def test_the_same_input_in_any_order_gives_the_same_proposal():
    rng = random.Random(7)
    needs = [MemberNeed(i, rng.choice(PATHS[1:]), BUCKET, rng.randint(1, 4)) for i in range(30)]
    slots = [ContactSlot(100 + i, rng.choice(PATHS), BUCKET, rng.choice((1, 2))) for i in range(60)]
    first = propose(needs, slots)
    shuffled_needs, shuffled_slots = needs[:], slots[:]
    rng.shuffle(shuffled_needs)
    rng.shuffle(shuffled_slots)
    assert propose(shuffled_needs, shuffled_slots) == first


def test_already_paired_pairs_are_never_proposed_again():
    needs = [MemberNeed(1, "00010001", BUCKET, 2)]
    slots = [ContactSlot(5, "00010001", BUCKET, 2), ContactSlot(6, "00010001", BUCKET, 1)]
    proposals = propose(needs, slots, already_paired={(1, 5)})
    assert_valid(needs, slots, proposals, already_paired={(1, 5)})
    assert [(p.member_id, p.contact_id) for p in proposals] == [(1, 6)]


def test_many_members_and_contacts_are_all_matched_within_one_tree():
    rng = random.Random(3)
    branches = [f"0001{g:04d}{b:04d}" for g in range(1, 4) for b in range(1, 21)]
    needs = [MemberNeed(i, rng.choice(branches), BUCKET, 5) for i in range(2000)]
    slots = [ContactSlot(10_000 + i, rng.choice(branches), BUCKET, 1) for i in range(10_000)]
    proposals = propose(needs, slots)
    assert_valid(needs, slots, proposals)
    assert len(proposals) == min(2000 * 5, 10_000)
