"""Propose pairings: members short of quota × contacts with room.

Pure Python, no Django, so it can be tested against brute force on small cases.

Objective, per bucket (a bucket is e.g. ("student", "person"); buckets never mix):
1. as many pairings as shortfalls and capacities allow;
2. among those, the least total tree distance between member and contact
   (same branch first, then same general branch, ...);
3. among those, even loads: units go first to the members with the most
   remaining shortfall (minimise sum_m f(a_m), f(a) = sum_{j=1..a} (R - (s_m - j + 1)),
   convex in a, R ≥ the largest shortfall);
4. deterministic: inputs are sorted by id, ties broken by id.

Algorithm: min-cost max-flow on an aggregated graph, so the size depends on the
number of organisations, not on members × contacts:

    source → member group (one per organisation path) → contact group (one per path) → sink

- source → member group: the group's water-filling costs. Members of one
  organisation are interchangeable for distance, so their convex costs merge: the
  k-th unit reduces the largest remaining shortfall r in the group and costs R - r.
  Equal costs are merged into one edge whose capacity is their count.
- member group → contact group: unlimited, cost distance × W with W > R, so
  distance always outweighs balance.
- contact group → sink: the group's total capacity.

Successive shortest paths (Dijkstra with potentials; every cost is non-negative)
give a minimum-cost maximum flow. The flow is then split back: within a member
group by water-filling (largest remaining shortfall, then lowest id), within a
contact group over contacts by id, never giving a member the same contact twice.

Limitation: `already_paired` pairs (possible only when a contact may take several
members) are not in the aggregated graph; a unit that cannot be placed without
repeating a pair is dropped, so the result is always valid but may then fall
short of the optimum.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

STEP = 4


@dataclass(frozen=True)
class MemberNeed:
    member_id: int
    path: str
    bucket: Hashable
    shortfall: int


@dataclass(frozen=True)
class ContactSlot:
    contact_id: int
    path: str
    bucket: Hashable
    capacity: int


@dataclass(frozen=True)
class Proposal:
    member_id: int
    contact_id: int
    bucket: Hashable
    distance: int


def tree_distance(path_a: str, path_b: str, step: int = STEP) -> int:
    """Edges between two nodes of a materialised-path tree."""
    common = 0
    for index in range(0, min(len(path_a), len(path_b)), step):
        if path_a[index : index + step] != path_b[index : index + step]:
            break
        common += 1
    return len(path_a) // step + len(path_b) // step - 2 * common


class _FlowGraph:
    def __init__(self, size: int) -> None:
        self.size = size
        # Each edge: [to, capacity, cost, index of the reverse edge]
        self.edges: list[list[list[int]]] = [[] for _ in range(size)]

    def add(self, source: int, target: int, capacity: int, cost: int) -> list[int]:
        forward = [target, capacity, cost, len(self.edges[target])]
        backward = [source, 0, -cost, len(self.edges[source])]
        self.edges[source].append(forward)
        self.edges[target].append(backward)
        return forward

    def min_cost_max_flow(self, source: int, sink: int) -> None:
        potential = [0] * self.size
        infinity = float("inf")
        while True:
            distance = [infinity] * self.size
            distance[source] = 0
            previous: list[tuple[int, int] | None] = [None] * self.size
            queue = [(0, source)]
            while queue:
                dist, node = heapq.heappop(queue)
                if dist > distance[node]:
                    continue
                for index, (target, capacity, cost, _reverse) in enumerate(self.edges[node]):
                    if capacity <= 0:
                        continue
                    candidate = dist + cost + potential[node] - potential[target]
                    if candidate < distance[target]:
                        distance[target] = candidate
                        previous[target] = (node, index)
                        heapq.heappush(queue, (candidate, target))
            if distance[sink] == infinity:
                return
            for node in range(self.size):
                if distance[node] < infinity:
                    potential[node] += distance[node]
            bottleneck = None
            node = sink
            while node != source:
                parent, index = previous[node]  # type: ignore[misc]
                capacity = self.edges[parent][index][1]
                bottleneck = capacity if bottleneck is None else min(bottleneck, capacity)
                node = parent
            node = sink
            while node != source:
                parent, index = previous[node]  # type: ignore[misc]
                edge = self.edges[parent][index]
                edge[1] -= bottleneck
                self.edges[node][edge[3]][1] += bottleneck
                node = parent


def _water_fill_costs(shortfalls: list[int], ceiling: int) -> list[tuple[int, int]]:
    """(cost, count) pairs: the k-th unit given to the group costs ceiling - (largest remaining shortfall)."""
    counts: dict[int, int] = defaultdict(int)
    for shortfall in shortfalls:
        # A member with shortfall s takes units at remaining r = s, s-1, ..., 1.
        for remaining in range(1, shortfall + 1):
            counts[ceiling - remaining] += 1
    return sorted(counts.items())


def _propose_bucket(
    bucket: Hashable, needs: list[MemberNeed], slots: list[ContactSlot], already_paired: set[tuple[int, int]]
) -> list[Proposal]:
    member_paths = sorted({need.path for need in needs})
    contact_paths = sorted({slot.path for slot in slots})
    ceiling = max(need.shortfall for need in needs) + 1
    weight = ceiling + 1
    source, sink = 0, 1
    member_node = {path: 2 + index for index, path in enumerate(member_paths)}
    contact_node = {path: 2 + len(member_paths) + index for index, path in enumerate(contact_paths)}
    graph = _FlowGraph(2 + len(member_paths) + len(contact_paths))

    needs_by_path: dict[str, list[MemberNeed]] = defaultdict(list)
    for need in needs:
        needs_by_path[need.path].append(need)
    slots_by_path: dict[str, list[ContactSlot]] = defaultdict(list)
    for slot in slots:
        slots_by_path[slot.path].append(slot)

    for path in member_paths:
        for cost, count in _water_fill_costs([need.shortfall for need in needs_by_path[path]], ceiling):
            graph.add(source, member_node[path], count, cost)
    total_need = sum(need.shortfall for need in needs)
    between: dict[tuple[str, str], list[int]] = {}
    for member_path in member_paths:
        for contact_path in contact_paths:
            between[(member_path, contact_path)] = graph.add(
                member_node[member_path],
                contact_node[contact_path],
                total_need,
                tree_distance(member_path, contact_path) * weight,
            )
    for path in contact_paths:
        graph.add(contact_node[path], sink, sum(slot.capacity for slot in slots_by_path[path]), 0)
    graph.min_cost_max_flow(source, sink)

    # Split the flow back to members and contacts.
    remaining_need = {need.member_id: need.shortfall for need in needs}
    remaining_room = {slot.contact_id: slot.capacity for slot in slots}
    taken = set(already_paired)
    proposals: list[Proposal] = []
    # Nearest pairs first, so a member's nearest contacts are settled before farther ones.
    flows = sorted(
        ((tree_distance(m, c), m, c, total_need - edge[1]) for (m, c), edge in between.items() if edge[1] < total_need),
    )
    first_with_room = dict.fromkeys(contact_paths, 0)
    for distance, member_path, contact_path, units in flows:
        members = needs_by_path[member_path]
        contacts = slots_by_path[contact_path]
        for _unit in range(units):
            # Contacts are used in id order: skip the ones already full.
            start = first_with_room[contact_path]
            while start < len(contacts) and remaining_room[contacts[start].contact_id] == 0:
                start += 1
            first_with_room[contact_path] = start
            # Water-filling: the member with the most remaining shortfall, then the lowest id.
            candidates = sorted(
                (need for need in members if remaining_need[need.member_id] > 0),
                key=lambda need: (-remaining_need[need.member_id], need.member_id),
            )
            placed = False
            for need in candidates:
                for slot in contacts[start:]:
                    if remaining_room[slot.contact_id] > 0 and (need.member_id, slot.contact_id) not in taken:
                        proposals.append(Proposal(need.member_id, slot.contact_id, bucket, distance))
                        remaining_need[need.member_id] -= 1
                        remaining_room[slot.contact_id] -= 1
                        taken.add((need.member_id, slot.contact_id))
                        placed = True
                        break
                if placed:
                    break
            if not placed:
                break
    return proposals


def propose(
    needs: Iterable[MemberNeed], slots: Iterable[ContactSlot], already_paired: Iterable[tuple[int, int]] = ()
) -> list[Proposal]:
    """Proposed pairings for every bucket; see the module docstring for what is optimised."""
    needs_by_bucket: dict[Hashable, list[MemberNeed]] = defaultdict(list)
    for need in sorted(needs, key=lambda need: (need.member_id, repr(need.bucket))):
        if need.shortfall > 0:
            needs_by_bucket[need.bucket].append(need)
    slots_by_bucket: dict[Hashable, list[ContactSlot]] = defaultdict(list)
    for slot in sorted(slots, key=lambda slot: (slot.contact_id, repr(slot.bucket))):
        if slot.capacity > 0:
            slots_by_bucket[slot.bucket].append(slot)
    paired = set(already_paired)
    proposals: list[Proposal] = []
    for bucket in sorted(needs_by_bucket, key=repr):
        if slots_by_bucket.get(bucket):
            proposals.extend(_propose_bucket(bucket, needs_by_bucket[bucket], slots_by_bucket[bucket], paired))
    return sorted(proposals, key=lambda p: (repr(p.bucket), p.member_id, p.contact_id))
