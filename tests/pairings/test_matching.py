"""pairings.matching: tree distance, optimality against brute force, locality, balance, determinism, scale."""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import Hashable, Iterator
from collections.abc import Set as AbstractSet

import pytest

from pairings import matching
from pairings.matching import ContactSlot, MemberNeed, Proposal, propose, tree_distance

# A small tree of depth 3: committee 0001, general branches 00010001/00010002, branches below them.
PATHS = ["0001", "00010001", "00010002", "000100010001", "000100010002", "000100020001"]
STUDENTS = ("student", "person")
STAFF = ("staff", "person")

Objective = tuple[int, int, int]


# Helpers ---------------------------------------------------------------------


def objective(needs: list[MemberNeed], slots: list[ContactSlot], pairs: list[tuple[int, int]]) -> Objective:
    """(−pairings, total tree distance, balance cost) of one bucket's pairs; smaller is better.

    Balance cost: sum over members of f(a) = sum_{j=1..a} (R − (s − j + 1)), R the largest shortfall.
    """
    shortfall = {need.member_id: need.shortfall for need in needs}
    member_path = {need.member_id: need.path for need in needs}
    contact_path = {slot.contact_id: slot.path for slot in slots}
    ceiling = max(shortfall.values())
    counts = Counter(member for member, _contact in pairs)
    balance = sum(
        ceiling - (shortfall[member] - j + 1) for member, count in counts.items() for j in range(1, count + 1)
    )
    distance = sum(tree_distance(member_path[member], contact_path[contact]) for member, contact in pairs)
    return (-len(pairs), distance, balance)


def all_assignments(
    needs: list[MemberNeed], slots: list[ContactSlot], already_paired: AbstractSet[tuple[int, int]]
) -> Iterator[list[tuple[int, int]]]:
    """Every valid assignment of one bucket: each contact takes a set of distinct members, no more than its
    capacity; no member gets more than their shortfall; no pair from `already_paired`."""
    remaining = {need.member_id: need.shortfall for need in needs}
    members = sorted(remaining)
    pairs: list[tuple[int, int]] = []

    def choose(index: int) -> Iterator[list[tuple[int, int]]]:
        if index == len(slots):
            yield list(pairs)
            return
        contact = slots[index].contact_id
        allowed = [member for member in members if (member, contact) not in already_paired]
        for size in range(min(slots[index].capacity, len(allowed)) + 1):
            for combo in itertools.combinations(allowed, size):
                if all(remaining[member] > 0 for member in combo):
                    for member in combo:
                        remaining[member] -= 1
                        pairs.append((member, contact))
                    yield from choose(index + 1)
                    for member in combo:
                        remaining[member] += 1
                        pairs.pop()

    yield from choose(0)


def by_bucket(
    needs: list[MemberNeed], slots: list[ContactSlot]
) -> dict[Hashable, tuple[list[MemberNeed], list[ContactSlot]]]:
    buckets = {need.bucket for need in needs} | {slot.bucket for slot in slots}
    return {
        bucket: ([n for n in needs if n.bucket == bucket], [s for s in slots if s.bucket == bucket])
        for bucket in buckets
    }


def best_objectives(
    needs: list[MemberNeed], slots: list[ContactSlot], already_paired: AbstractSet[tuple[int, int]] = frozenset()
) -> dict[Hashable, Objective]:
    """The brute-force optimum of every bucket that has both needs and slots."""
    best = {}
    for bucket, (bucket_needs, bucket_slots) in by_bucket(needs, slots).items():
        if bucket_needs and bucket_slots:
            assignments = all_assignments(bucket_needs, bucket_slots, already_paired)
            best[bucket] = min(objective(bucket_needs, bucket_slots, pairs) for pairs in assignments)
    return best


def proposal_objectives(
    needs: list[MemberNeed], slots: list[ContactSlot], proposals: list[Proposal]
) -> dict[Hashable, Objective]:
    return {
        bucket: objective(bucket_needs, bucket_slots, pairs_of([p for p in proposals if p.bucket == bucket]))
        for bucket, (bucket_needs, bucket_slots) in by_bucket(needs, slots).items()
        if bucket_needs and bucket_slots
    }


def assert_valid(
    needs: list[MemberNeed],
    slots: list[ContactSlot],
    proposals: list[Proposal],
    already_paired: AbstractSet[tuple[int, int]] = frozenset(),
) -> None:
    need_of = {(need.member_id, need.bucket): need for need in needs}
    slot_of = {slot.contact_id: slot for slot in slots}
    pairs = [(p.member_id, p.contact_id) for p in proposals]
    assert len(pairs) == len(set(pairs)), "a member got the same contact twice"
    assert not set(pairs) & already_paired, "an already paired pair was proposed again"
    for p in proposals:
        assert (p.member_id, p.bucket) in need_of, "a member got a contact outside their buckets"
        assert slot_of[p.contact_id].bucket == p.bucket, "a contact was matched across buckets"
        assert p.distance == tree_distance(need_of[(p.member_id, p.bucket)].path, slot_of[p.contact_id].path)
    for (member, bucket), count in Counter((p.member_id, p.bucket) for p in proposals).items():
        assert count <= need_of[(member, bucket)].shortfall, "a member got more than their shortfall"
    for contact, count in Counter(p.contact_id for p in proposals).items():
        assert count <= slot_of[contact].capacity, "a contact got more members than its capacity"
    assert proposals == sorted(proposals, key=lambda p: (repr(p.bucket), p.member_id, p.contact_id))


def assert_maximal(
    needs: list[MemberNeed],
    slots: list[ContactSlot],
    proposals: list[Proposal],
    already_paired: AbstractSet[tuple[int, int]] = frozenset(),
) -> None:
    """No allowed pair could be added: no member still short could take a contact still with room."""
    given = Counter((p.member_id, p.bucket) for p in proposals)
    used = Counter(p.contact_id for p in proposals)
    pairs = {(p.member_id, p.contact_id) for p in proposals} | already_paired
    for need in needs:
        for slot in slots:
            assert not (
                need.bucket == slot.bucket
                and given[(need.member_id, need.bucket)] < need.shortfall
                and used[slot.contact_id] < slot.capacity
                and (need.member_id, slot.contact_id) not in pairs
            ), f"member {need.member_id} and contact {slot.contact_id} could still be paired"


def random_case(rng: random.Random, capacities: tuple[int, ...] = (1, 2)) -> tuple[list[MemberNeed], list[ContactSlot]]:
    """≤ 4 members (shortfall 1–3 in 1–2 buckets), ≤ 5 contacts, anywhere in the small tree."""
    buckets = [STUDENTS, STAFF][: rng.randint(1, 2)]
    needs = []
    for member_id in range(1, rng.randint(1, 4) + 1):
        path = rng.choice(PATHS)
        member_buckets = [bucket for bucket in buckets if rng.random() < 0.7] or [rng.choice(buckets)]
        needs += [MemberNeed(member_id, path, bucket, rng.randint(1, 3)) for bucket in member_buckets]
    slots = [
        ContactSlot(100 + index, rng.choice(PATHS), rng.choice(buckets), rng.choice(capacities))
        for index in range(rng.randint(1, 5))
    ]
    return needs, slots


def random_already_paired(
    rng: random.Random, needs: list[MemberNeed], slots: list[ContactSlot]
) -> set[tuple[int, int]]:
    return {
        (need.member_id, slot.contact_id)
        for need in needs
        for slot in slots
        if need.bucket == slot.bucket and rng.random() < 0.3
    }


def pairs_of(proposals: list[Proposal]) -> list[tuple[int, int]]:
    return [(p.member_id, p.contact_id) for p in proposals]


# Tree distance ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path_a", "path_b", "expected"),
    [
        ("000100010001", "000100010001", 0),  # the same branch
        ("000100010001", "000100010002", 2),  # sibling branches
        ("000100010001", "00010001", 1),  # a branch and its general branch
        ("000100010001", "0001", 2),  # a branch and its committee, two levels up
        ("000100010001", "000100020001", 4),  # branches under different general branches
        ("00010001", "000100020001", 3),  # a general branch and a branch under another one
        ("0001", "0002", 2),  # two committees meet at the (virtual) root
        ("", "000100010001", 3),  # the root and a branch
    ],
)
def test_tree_distance_counts_the_edges_between_two_organisations(path_a, path_b, expected):
    assert tree_distance(path_a, path_b) == expected
    assert tree_distance(path_b, path_a) == expected


def test_tree_distance_takes_the_step_width():
    assert tree_distance("aabbcc", "aabbdd", step=2) == 2
    assert tree_distance("aabbcc", "aa", step=2) == 2


# Optimality against brute force ----------------------------------------------


@pytest.mark.parametrize("seed", range(320))
def test_no_valid_assignment_beats_the_proposal(seed):
    rng = random.Random(seed)
    needs, slots = random_case(rng)
    proposals = propose(needs, slots)
    assert_valid(needs, slots, proposals)
    assert proposal_objectives(needs, slots, proposals) == best_objectives(needs, slots)


@pytest.mark.parametrize("seed", range(150))
def test_no_assignment_avoiding_already_paired_pairs_beats_the_proposal(seed):
    rng = random.Random(50_000 + seed)
    needs, slots = random_case(rng)
    already_paired = random_already_paired(rng, needs, slots)
    proposals = propose(needs, slots, already_paired=already_paired)
    assert_valid(needs, slots, proposals, already_paired)
    assert proposal_objectives(needs, slots, proposals) == best_objectives(needs, slots, already_paired)


@pytest.mark.parametrize("seed", range(150))
def test_above_the_exact_limit_already_paired_pairs_still_give_a_valid_maximal_proposal(seed, monkeypatch):
    monkeypatch.setattr(matching, "EXACT_PAIRS_LIMIT", 0)
    rng = random.Random(80_000 + seed)
    needs, slots = random_case(rng, capacities=(1, 2, 3))
    already_paired = random_already_paired(rng, needs, slots)
    proposals = propose(needs, slots, already_paired=already_paired)
    assert_valid(needs, slots, proposals, already_paired)
    assert_maximal(needs, slots, proposals, already_paired)


def test_the_brute_force_sees_every_assignment():
    needs = [MemberNeed(1, "0001", STUDENTS, 2), MemberNeed(2, "0001", STUDENTS, 1)]
    slots = [ContactSlot(10, "0001", STUDENTS, 2), ContactSlot(11, "0001", STUDENTS, 1)]
    assignments = {frozenset(pairs) for pairs in all_assignments(needs, slots, set())}
    # 10 takes ∅, {1}, {2} or {1, 2}; 11 takes ∅, {1} or {2}; member 2 takes at most one.
    assert len(assignments) == 4 * 3 - 2
    assert frozenset({(1, 10), (1, 11)}) in assignments
    assert frozenset({(2, 10), (2, 11)}) not in assignments


# Behaviour -------------------------------------------------------------------


def test_a_member_is_paired_in_their_own_branch_before_across_branches():
    needs = [MemberNeed(1, "000100010001", STUDENTS, 1)]
    slots = [
        ContactSlot(7, "000100020001", STUDENTS, 1),
        ContactSlot(8, "000100010002", STUDENTS, 1),
        ContactSlot(9, "000100010001", STUDENTS, 1),
    ]
    assert [(p.member_id, p.contact_id, p.distance) for p in propose(needs, slots)] == [(1, 9, 0)]


def test_a_member_is_paired_under_their_own_general_branch_before_elsewhere():
    needs = [MemberNeed(1, "000100010001", STUDENTS, 1)]
    slots = [ContactSlot(7, "000100020001", STUDENTS, 1), ContactSlot(8, "000100010002", STUDENTS, 1)]
    assert [(p.contact_id, p.distance) for p in propose(needs, slots)] == [(8, 2)]


def test_the_nearest_contact_goes_to_the_member_who_has_no_other():
    # Both members could take contact 9 in branch A, but only member 1 can reach contact 7 at distance 2.
    needs = [MemberNeed(1, "000100010001", STUDENTS, 1), MemberNeed(2, "000100010001", STUDENTS, 1)]
    slots = [ContactSlot(9, "000100010001", STUDENTS, 1), ContactSlot(7, "000100010002", STUDENTS, 1)]
    proposals = propose(needs, slots)
    assert len(proposals) == 2
    assert sum(p.distance for p in proposals) == 2


def test_two_members_short_by_three_share_four_contacts_two_and_two():
    needs = [MemberNeed(1, "000100010001", STUDENTS, 3), MemberNeed(2, "000100010001", STUDENTS, 3)]
    slots = [ContactSlot(10 + index, "000100010001", STUDENTS, 1) for index in range(4)]
    assert Counter(p.member_id for p in propose(needs, slots)) == {1: 2, 2: 2}


def test_units_go_first_to_the_member_with_the_most_remaining_shortfall():
    needs = [MemberNeed(1, "000100010001", STUDENTS, 1), MemberNeed(2, "000100010001", STUDENTS, 4)]
    slots = [ContactSlot(10 + index, "000100010001", STUDENTS, 1) for index in range(3)]
    # Member 2 takes units at remaining shortfall 4, 3 and 2, all above member 1's 1.
    assert Counter(p.member_id for p in propose(needs, slots)) == {2: 3}


def test_between_members_equally_short_the_odd_unit_goes_to_the_lowest_id():
    needs = [MemberNeed(member, "000100010001", STUDENTS, 2) for member in (4, 3, 9)]
    slots = [ContactSlot(10, "000100010001", STUDENTS, 1), ContactSlot(11, "000100010002", STUDENTS, 1)]
    slots += [ContactSlot(20 + index, "000100020001", STUDENTS, 1) for index in range(2)]
    assert Counter(p.member_id for p in propose(needs, slots)) == {3: 2, 4: 1, 9: 1}


def test_a_shared_contact_is_never_given_twice_to_one_member():
    needs = [MemberNeed(1, "000100010001", STUDENTS, 2)]
    slots = [ContactSlot(5, "000100010001", STUDENTS, 2), ContactSlot(6, "000100020001", STUDENTS, 1)]
    assert [(p.contact_id, p.distance) for p in propose(needs, slots)] == [(5, 0), (6, 4)]


def test_a_shared_contact_goes_to_two_members_rather_than_twice_to_one():
    needs = [MemberNeed(1, "000100010001", STUDENTS, 3), MemberNeed(2, "000100010001", STUDENTS, 1)]
    slots = [ContactSlot(5, "000100010001", STUDENTS, 2)]
    assert pairs_of(propose(needs, slots)) == [(1, 5), (2, 5)]


def test_buckets_never_mix():
    needs = [MemberNeed(1, "00010001", STAFF, 2), MemberNeed(2, "00010001", STUDENTS, 1)]
    slots = [ContactSlot(5, "00010001", STUDENTS, 2), ContactSlot(6, "00010002", STAFF, 1)]
    assert [(p.member_id, p.contact_id, p.bucket) for p in propose(needs, slots)] == [
        (1, 6, STAFF),
        (2, 5, STUDENTS),
    ]


def test_already_paired_pairs_are_never_proposed_again():
    needs = [MemberNeed(1, "00010001", STUDENTS, 2)]
    slots = [ContactSlot(5, "00010001", STUDENTS, 2), ContactSlot(6, "00010001", STUDENTS, 1)]
    assert pairs_of(propose(needs, slots, already_paired={(1, 5)})) == [(1, 6)]


def test_needs_and_slots_with_nothing_left_are_ignored():
    needs = [MemberNeed(1, "00010001", STUDENTS, 0), MemberNeed(2, "00010001", STUDENTS, 1)]
    slots = [ContactSlot(5, "00010001", STUDENTS, 0), ContactSlot(6, "00010001", STUDENTS, 1)]
    assert pairs_of(propose(needs, slots)) == [(2, 6)]


def test_a_member_twice_in_one_bucket_or_a_contact_twice_is_refused():
    with pytest.raises(ValueError, match="member 1"):
        propose([MemberNeed(1, "0001", STUDENTS, 1), MemberNeed(1, "0001", STUDENTS, 2)], [])
    with pytest.raises(ValueError, match="contact 5"):
        propose([], [ContactSlot(5, "0001", STUDENTS, 1), ContactSlot(5, "0001", STAFF, 1)])


def test_the_same_input_in_any_order_gives_the_same_proposal():
    rng = random.Random(7)
    needs = [
        MemberNeed(i, rng.choice(PATHS), bucket, rng.randint(1, 4))
        for i in range(40)
        for bucket in (STUDENTS, STAFF)
        if rng.random() < 0.7
    ]
    slots = [
        ContactSlot(100 + i, rng.choice(PATHS), rng.choice((STUDENTS, STAFF)), rng.choice((1, 2))) for i in range(90)
    ]
    already_paired = {(rng.randrange(40), 100 + rng.randrange(90)) for _ in range(30)}
    first = propose(needs, slots, already_paired)
    assert_valid(needs, slots, first, already_paired)
    for _ in range(5):
        shuffled_needs, shuffled_slots, shuffled_pairs = needs[:], slots[:], list(already_paired)
        rng.shuffle(shuffled_needs)
        rng.shuffle(shuffled_slots)
        rng.shuffle(shuffled_pairs)
        assert propose(iter(shuffled_needs), iter(shuffled_slots), iter(shuffled_pairs)) == first


def test_thousands_of_members_and_contacts_in_one_tree_are_all_matched():
    rng = random.Random(3)
    branches = [f"0001{general:04d}{branch:04d}" for general in range(1, 7) for branch in range(1, 11)]
    needs = [MemberNeed(i, rng.choice(branches), rng.choice((STUDENTS, STAFF)), 5) for i in range(2_000)]
    slots = [
        ContactSlot(10_000 + i, rng.choice(branches), rng.choice((STUDENTS, STAFF)), 1 if rng.random() < 0.9 else 2)
        for i in range(10_000)
    ]
    started = time.perf_counter()
    proposals = propose(needs, slots)
    print(f"\nmatching 2,000 members × 10,000 contacts on 60 branches: {time.perf_counter() - started:.2f} s")
    assert_valid(needs, slots, proposals)
    for bucket in (STUDENTS, STAFF):
        shortfall = sum(need.shortfall for need in needs if need.bucket == bucket)
        capacity = sum(slot.capacity for slot in slots if slot.bucket == bucket)
        assert sum(1 for p in proposals if p.bucket == bucket) == min(shortfall, capacity)
