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

The aggregate is exact when each contact takes one member (the default policy).
When a contact may take several members, it cannot see that a member must not take
the same contact twice (nor a pair in `already_paired`). Such buckets are solved on
the member-level graph (one edge per allowed member–contact pair), which is exact,
up to EXACT_PAIRS_LIMIT pairs; above it the aggregate is used and units it cannot
place are offered the nearest contacts still with room: valid, not always optimal.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

STEP = 4
# Up to this many member × contact pairs, shared contacts are matched on the exact
# member-level graph; beyond it, on the aggregate with the fallback described above.
EXACT_PAIRS_LIMIT = 200_000


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
        self.forward: list[list[bool]] = [[] for _ in range(size)]

    def add(self, source: int, target: int, capacity: int, cost: int) -> list[int]:
        forward = [target, capacity, cost, len(self.edges[target])]
        backward = [source, 0, -cost, len(self.edges[source])]
        self.edges[source].append(forward)
        self.forward[source].append(True)
        self.edges[target].append(backward)
        self.forward[target].append(False)
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


def _ancestors(path: str) -> list[str]:
    """The path itself and every ancestor, nearest first."""
    return [path[:length] for length in range(len(path), 0, -STEP)]


def _propose_bucket(
    bucket: Hashable, needs: list[MemberNeed], slots: list[ContactSlot], already_paired: set[tuple[int, int]]
) -> list[Proposal]:
    needs_by_path: dict[str, list[MemberNeed]] = defaultdict(list)
    for need in needs:
        needs_by_path[need.path].append(need)
    slots_by_path: dict[str, list[ContactSlot]] = defaultdict(list)
    for slot in slots:
        slots_by_path[slot.path].append(slot)

    # Every organisation on the way between a member and a contact: flow climbs the
    # tree from the member ("up" layer), turns at their lowest common ancestor and
    # descends to the contact ("down" layer), one distance unit per tree edge.
    nodes = sorted({ancestor for path in [*needs_by_path, *slots_by_path] for ancestor in _ancestors(path)})
    up = {path: 2 + 2 * index for index, path in enumerate(nodes)}
    down = {path: 3 + 2 * index for index, path in enumerate(nodes)}
    source, sink = 0, 1
    graph = _FlowGraph(2 + 2 * len(nodes))
    ceiling = max(need.shortfall for need in needs) + 1
    weight = ceiling + 1  # one tree edge always outweighs any difference in balance
    unlimited = sum(need.shortfall for need in needs)

    from_source: dict[str, list[list[int]]] = defaultdict(list)
    for path, members in sorted(needs_by_path.items()):
        for cost, count in _water_fill_costs([need.shortfall for need in members], ceiling):
            from_source[path].append(graph.add(source, up[path], count, cost))
    for path in nodes:
        graph.add(up[path], down[path], unlimited, 0)
        parent = path[:-STEP]
        if parent:
            graph.add(up[path], up[parent], unlimited, weight)
            graph.add(down[parent], down[path], unlimited, weight)
    for path, contacts in sorted(slots_by_path.items()):
        graph.add(down[path], sink, sum(slot.capacity for slot in contacts), 0)
    graph.min_cost_max_flow(source, sink)

    units_between = _decompose(graph, source, sink, up, down)

    # Split the flow back to members and contacts.
    remaining_room = {slot.contact_id: slot.capacity for slot in slots}
    taken = set(already_paired)
    proposals: list[Proposal] = []
    first_with_room = dict.fromkeys(slots_by_path, 0)
    # Per member group, a heap of (-remaining shortfall, member id): water-filling order.
    waiting = {path: [(-need.shortfall, need.member_id) for need in members] for path, members in needs_by_path.items()}
    for heap in waiting.values():
        heapq.heapify(heap)
    # Nearest pairs first, so a member's nearest contacts are settled before farther ones.
    for (distance, member_path, contact_path), units in sorted(units_between.items()):
        heap = waiting[member_path]
        contacts = slots_by_path[contact_path]
        for _unit in range(units):
            # Contacts are used in id order: skip the ones already full.
            start = first_with_room[contact_path]
            while start < len(contacts) and remaining_room[contacts[start].contact_id] == 0:
                start += 1
            first_with_room[contact_path] = start
            passed_over = []
            placed = False
            while heap and not placed:
                negative_remaining, member_id = heapq.heappop(heap)
                for slot in contacts[start:]:
                    if remaining_room[slot.contact_id] > 0 and (member_id, slot.contact_id) not in taken:
                        proposals.append(Proposal(member_id, slot.contact_id, bucket, distance))
                        remaining_room[slot.contact_id] -= 1
                        taken.add((member_id, slot.contact_id))
                        if negative_remaining + 1 < 0:
                            heapq.heappush(heap, (negative_remaining + 1, member_id))
                        placed = True
                        break
                else:
                    passed_over.append((negative_remaining, member_id))
            for entry in passed_over:
                heapq.heappush(heap, entry)
            if not placed:
                break
    # Units the aggregate could not place without repeating a pair (only possible when a
    # contact takes several members) are offered the nearest contacts still with room.
    for member_path, heap in sorted(waiting.items()):
        while heap:
            negative_remaining, member_id = heapq.heappop(heap)
            for slot in sorted(
                (
                    slot
                    for slot in slots
                    if remaining_room[slot.contact_id] > 0 and (member_id, slot.contact_id) not in taken
                ),
                key=lambda slot: (tree_distance(member_path, slot.path), slot.contact_id),
            )[:-negative_remaining]:
                proposals.append(Proposal(member_id, slot.contact_id, bucket, tree_distance(member_path, slot.path)))
                remaining_room[slot.contact_id] -= 1
                taken.add((member_id, slot.contact_id))
    return proposals


def _propose_bucket_exactly(
    bucket: Hashable, needs: list[MemberNeed], slots: list[ContactSlot], already_paired: set[tuple[int, int]]
) -> list[Proposal]:
    """The same objective on the member-level graph: one edge per allowed member–contact pair."""
    ceiling = max(need.shortfall for need in needs) + 1
    weight = ceiling + 1
    source, sink = 0, 1
    member_node = {need.member_id: 2 + index for index, need in enumerate(needs)}
    contact_node = {slot.contact_id: 2 + len(needs) + index for index, slot in enumerate(slots)}
    graph = _FlowGraph(2 + len(needs) + len(slots))
    for need in needs:
        for remaining in range(need.shortfall, 0, -1):
            graph.add(source, member_node[need.member_id], 1, ceiling - remaining)
    pair_edges = []
    for need in needs:
        for slot in slots:
            if (need.member_id, slot.contact_id) in already_paired:
                continue
            distance = tree_distance(need.path, slot.path)
            edge = graph.add(member_node[need.member_id], contact_node[slot.contact_id], 1, distance * weight)
            pair_edges.append((need.member_id, slot.contact_id, distance, edge))
    for slot in slots:
        graph.add(contact_node[slot.contact_id], sink, slot.capacity, 0)
    graph.min_cost_max_flow(source, sink)
    chosen = [
        Proposal(member_id, contact_id, bucket, distance)
        for member_id, contact_id, distance, edge in pair_edges
        if edge[1] == 0
    ]
    already_paired.update((proposal.member_id, proposal.contact_id) for proposal in chosen)
    return chosen


def _decompose(
    graph: _FlowGraph, source: int, sink: int, up: dict[str, int], down: dict[str, int]
) -> dict[tuple[int, str, str], int]:
    """Split the flow into source→member group→…→contact group→sink paths.

    Returns units per (distance, member path, contact path). Any decomposition of a
    minimum-cost flow routes each unit through the pair's lowest common ancestor, so the
    number of tree edges on a path is the pair's tree distance.
    """
    path_of = {node: path for path, node in up.items()} | {node: path for path, node in down.items()}
    # Flow still to take apart on each forward edge: what was used of its capacity.
    remaining: dict[tuple[int, int], int] = {}
    for node, edges in enumerate(graph.edges):
        for index, edge in enumerate(edges):
            target, _capacity, _cost, reverse = edge
            used = graph.edges[target][reverse][1] if graph.forward[node][index] else 0
            if used > 0:
                remaining[(node, index)] = used
    result: dict[tuple[int, str, str], int] = defaultdict(int)
    while True:
        # Follow edges that still carry flow from the source to the sink.
        route: list[tuple[int, int]] = []
        node = source
        while node != sink:
            step = next(
                ((node, index) for index in range(len(graph.edges[node])) if remaining.get((node, index), 0) > 0), None
            )
            if step is None:
                break
            route.append(step)
            node = graph.edges[step[0]][step[1]][0]
        if node != sink or not route:
            return result
        amount = min(remaining[step] for step in route)
        for step in route:
            remaining[step] -= amount
        member_path = path_of[graph.edges[route[0][0]][route[0][1]][0]]
        contact_path = path_of[route[-1][0]]
        tree_edges = sum(1 for step in route if graph.edges[step[0]][step[1]][2] > 0 and step[0] != source)
        result[(tree_edges, member_path, contact_path)] += amount


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
        bucket_needs, bucket_slots = needs_by_bucket[bucket], slots_by_bucket.get(bucket)
        if not bucket_slots:
            continue
        shared = paired or any(slot.capacity > 1 for slot in bucket_slots)
        if shared and len(bucket_needs) * len(bucket_slots) <= EXACT_PAIRS_LIMIT:
            proposals.extend(_propose_bucket_exactly(bucket, bucket_needs, bucket_slots, paired))
        else:
            proposals.extend(_propose_bucket(bucket, bucket_needs, bucket_slots, paired))
    return sorted(proposals, key=lambda p: (repr(p.bucket), p.member_id, p.contact_id))
