"""Propose pairings: members short of quota × contacts with room.

Pure Python, no Django, so it can be checked against brute force on small cases.

Objective
---------
Per bucket (a bucket is e.g. ("student", "person")); buckets never mix: a need in
bucket X is only filled by contacts in bucket X, and each bucket is solved on its own.

1. As many pairings as the shortfalls and capacities allow.
2. Among those, the least total tree distance between member and contact (same branch
   first, then same general branch, ...).
3. Among those, even loads: the least sum over members of f(a_m), a_m being the
   pairings member m gets and f(a) = sum_{j=1..a} (R - (s_m - j + 1)), s_m its
   shortfall, R ≥ the largest shortfall. f is convex: each unit goes to a member with
   the most remaining shortfall (water-filling).
4. Deterministic: the same input in any order gives the same output. Inputs are sorted
   by id; the output is sorted by (repr(bucket), member_id, contact_id).

A member never gets the same contact twice, nor a pair in `already_paired`.

Algorithm
---------
A min-cost max-flow on an aggregated graph, one per bucket, whose size depends on the
number of organisations (and distinct shortfalls and capacities), never on
members × contacts:

    source → member class → member group ─→ contact class → sink
                         └──── direct edge ───↗   (only where needed, see below)

- A member group is the members at one organisation path; it is split into member
  classes, the members of that path with the same shortfall s. Members of a class are
  interchangeable, so the class's convex cost is water-filling over its n members:
  source → class has one edge per remaining shortfall r = s..1, capacity n, cost R - r.
  (Merged over a group's classes this is "one edge per distinct cost, capacity = the
  members with shortfall ≥ r"; the classes only matter for the direct edges below.)
- member class → member group: unlimited, cost 0.
- member group → contact class: unlimited, cost W × tree distance with W = R. A
  simple residual cycle changes the balance by at most R - 1 per unit, so one unit of
  distance always outweighs any change in balance: the min-cost max-flow is exactly
  the lexicographic optimum (1, 2, 3). All costs are non-negative integers.
- A contact class is the contacts at one path with the same capacity c;
  contact class → sink has capacity |C| × c.

Shared contacts (capacity ≥ 2). A member cannot take the same contact twice, so a
member class M can take at most |M| × |C| units from a contact class C. That limit
already follows from the class totals unless |C| < s_M and |M| < c_C (a shared
contact in a tiny group); for such pairs every class of M's path reaches C by a
direct edge instead of through the group (capacity |M| × |C| where the limit binds,
unlimited otherwise). With this the aggregate is exact: any flow splits into a valid
assignment with the same count, distance and balance (below), and any valid
assignment gives a flow at least as good.

Solver: successive shortest paths with Dijkstra on potential-reduced costs. After each
Dijkstra every shortest augmenting path is pushed (Dinic blocking flows on the edges of
zero reduced cost, each augmentation by its path bottleneck), then Dijkstra runs again;
the number of Dijkstra runs is bounded by the distinct path costs, (max distance + 1)
× R. When no augmenting path is left the flow is maximum and of least cost.

Splitting the flow back (deterministic). The flow through a member group is matched
to its classes and contact classes in sorted order. Each member class deals the units
it receives from each contact class round-robin over its members (sorted by id, the
dealing position carried from one contact class to the next), so every member of a
class ends within one unit of the others (optimal for the convex cost, extra units to
the lowest ids) and takes at most ceil(x / |M|) ≤ |C| units from a contact class.
(Between members of one path with different shortfalls that tie on remaining
shortfall, the flow picks, deterministically but not necessarily the lowest id.)
Each contact class hands out its contacts round-robin (by id, position carried over):
a member's units from one contact class go to consecutive, hence distinct, contacts,
and no contact exceeds ceil(load / |C|) ≤ its capacity.

already_paired
--------------
A forbidden pair is only relevant when its member and contact are both in the bucket.
Then the members and contacts of such pairs become singleton classes and a forbidden
pair gets no edge, which keeps the graph exact; that is done while the refined graph
has at most EXACT_PAIRS_LIMIT class-to-class edges. Above the limit (many forbidden
pairs in a large bucket) the plain aggregate is used, which does not see the
forbidden pairs and may over-estimate: contacts are then handed out skipping forbidden
and repeated pairs, units that cannot be placed are dropped, and the members still
short are offered the nearest allowed contacts with room, most remaining shortfall
first. The result is always valid and maximal (no allowed pair could be added); it
is optimal whenever nothing had to be dropped (the relaxed optimum was then reached),
otherwise not necessarily.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

STEP = 4
# The graph with forbidden pairs made exact (singleton classes) is used up to this many
# class-to-class edges per bucket; beyond it, the plain aggregate with repair.
EXACT_PAIRS_LIMIT = 200_000


# Called now and then during a long solve (the job's heartbeat); it may raise to stop the solve.
Tick = Callable[[], object] | None


@dataclass(frozen=True)
class MemberNeed:
    member_id: int
    path: str  # organisation path of the member
    bucket: Hashable
    shortfall: int  # > 0; needs with shortfall ≤ 0 are ignored


@dataclass(frozen=True)
class ContactSlot:
    contact_id: int
    path: str  # organisation path of the contact
    bucket: Hashable
    capacity: int  # > 0; slots with capacity ≤ 0 are ignored


@dataclass(frozen=True)
class Proposal:
    member_id: int
    contact_id: int
    bucket: Hashable
    distance: int


def tree_distance(path_a: str, path_b: str, step: int = STEP) -> int:
    """Edges between two nodes of a materialised-path tree.

    depth(a) + depth(b) - 2 × depth(lowest common ancestor), depth = len(path) // step.
    Paths in different trees meet at a virtual root of depth 0.
    """
    depth_a, depth_b = len(path_a) // step, len(path_b) // step
    common = 0
    while common < min(depth_a, depth_b):
        start = common * step
        if path_a[start : start + step] != path_b[start : start + step]:
            break
        common += 1
    return depth_a + depth_b - 2 * common


class _Network:
    """A flow network; edge e and its reverse e ^ 1 are stored side by side."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.adjacency: list[list[int]] = [[] for _ in range(size)]
        self.head: list[int] = []
        self.capacity: list[int] = []
        self.cost: list[int] = []

    def add_edge(self, tail: int, head: int, capacity: int, cost: int) -> int:
        edge = len(self.head)
        self.head += (head, tail)
        self.capacity += (capacity, 0)
        self.cost += (cost, -cost)
        self.adjacency[tail].append(edge)
        self.adjacency[head].append(edge + 1)
        return edge

    def flow(self, edge: int) -> int:
        return self.capacity[edge ^ 1]

    def min_cost_max_flow(self, source: int, sink: int, tick: Tick = None) -> int:
        """Successive shortest paths; every shortest path found by one Dijkstra is pushed."""
        potential = [0] * self.size  # valid at the start: every cost is non-negative
        total = 0
        while True:
            if tick is not None:
                tick()
            distance = self._dijkstra(source, potential)
            reach = distance[sink]
            if reach is None:
                return total
            for node, value in enumerate(distance):
                potential[node] += reach if value is None or value > reach else value
            while True:
                level = self._levels(source, sink, potential)
                if level[sink] < 0:
                    break
                position = [0] * self.size
                while pushed := self._augment(source, sink, level, position, potential):
                    total += pushed

    def _dijkstra(self, source: int, potential: list[int]) -> list[int | None]:
        head, capacity, cost, adjacency = self.head, self.capacity, self.cost, self.adjacency
        distance: list[int | None] = [None] * self.size
        distance[source] = 0
        queue = [(0, source)]
        while queue:
            dist, node = heapq.heappop(queue)
            if dist != distance[node]:
                continue
            base = dist + potential[node]
            for edge in adjacency[node]:
                if capacity[edge] > 0:
                    target = head[edge]
                    candidate = base + cost[edge] - potential[target]
                    known = distance[target]
                    if known is None or candidate < known:
                        distance[target] = candidate
                        heapq.heappush(queue, (candidate, target))
        return distance

    def _levels(self, source: int, sink: int, potential: list[int]) -> list[int]:
        """BFS levels over the edges with room and zero reduced cost."""
        head, capacity, cost, adjacency = self.head, self.capacity, self.cost, self.adjacency
        level = [-1] * self.size
        level[source] = 0
        queue = deque([source])
        while queue:
            node = queue.popleft()
            if node == sink:
                break
            reduced_base = potential[node]
            for edge in adjacency[node]:
                if capacity[edge] > 0:
                    target = head[edge]
                    if level[target] < 0 and cost[edge] + reduced_base == potential[target]:
                        level[target] = level[node] + 1
                        queue.append(target)
        return level

    def _augment(self, source: int, sink: int, level: list[int], position: list[int], potential: list[int]) -> int:
        """One augmenting path in the level graph (iterative DFS with current-edge pointers)."""
        head, capacity, cost, adjacency = self.head, self.capacity, self.cost, self.adjacency
        route: list[int] = []
        node = source
        while True:
            if node == sink:
                pushed = min(capacity[edge] for edge in route)
                for edge in route:
                    capacity[edge] -= pushed
                    capacity[edge ^ 1] += pushed
                return pushed
            edges = adjacency[node]
            index = position[node]
            next_level = level[node] + 1
            base = potential[node]
            while index < len(edges):
                edge = edges[index]
                target = head[edge]
                if capacity[edge] > 0 and level[target] == next_level and cost[edge] + base == potential[target]:
                    break
                index += 1
            position[node] = index
            if index < len(edges):
                route.append(edges[index])
                node = head[edges[index]]
            elif not route:
                return 0
            else:
                level[node] = -1  # a dead end for the rest of this blocking flow
                node = head[route.pop() ^ 1]
                position[node] += 1


# Per member path: the (member class, edge) pairs into its group node and the
# (contact class, edge) pairs out of it.
_GroupEdges = dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]]
# (member class, contact class, edge) for the edges that bypass the group node.
_DirectEdges = list[tuple[int, int, int]]


@dataclass(frozen=True)
class _Class:
    path: str
    size: int  # the shortfall of each member, or the capacity of each contact
    ids: tuple[int, ...]  # sorted


def _classes(items: list[tuple[int, str, int]], singletons: set[int]) -> list[_Class]:
    """(id, path, size) grouped by (path, size); ids in `singletons` get a class of their own."""
    grouped: dict[tuple[str, int], list[int]] = defaultdict(list)
    alone: list[_Class] = []
    for item_id, path, size in items:
        if item_id in singletons:
            alone.append(_Class(path, size, (item_id,)))
        else:
            grouped[(path, size)].append(item_id)
    classes = [_Class(path, size, tuple(sorted(ids))) for (path, size), ids in grouped.items()] + alone
    return sorted(classes, key=lambda cls: (cls.path, cls.size, cls.ids))


def _deal(total: int, count: int, start: int) -> tuple[list[int], int]:
    """`total` units dealt round-robin to `count` holders from position `start`: (units each, next start)."""
    base, extra = divmod(total, count)
    units = [base] * count
    for offset in range(extra):
        units[(start + offset) % count] += 1
    return units, (start + extra) % count


class _BucketSolver:
    def __init__(
        self,
        bucket: Hashable,
        needs: list[MemberNeed],
        slots: list[ContactSlot],
        forbidden: set[tuple[int, int]],
        tick: Tick = None,
    ) -> None:
        self.tick = tick
        self.bucket = bucket
        self.needs = needs
        self.slots = slots
        self.forbidden = forbidden
        self.member_path = {need.member_id: need.path for need in needs}
        self.shortfall = {need.member_id: need.shortfall for need in needs}
        self.contact_path = {slot.contact_id: slot.path for slot in slots}
        self.room = {slot.contact_id: slot.capacity for slot in slots}
        self.distances: dict[tuple[str, str], int] = {}

    def distance(self, member_path: str, contact_path: str) -> int:
        key = (member_path, contact_path)
        value = self.distances.get(key)
        if value is None:
            value = self.distances[key] = tree_distance(member_path, contact_path)
        return value

    def solve(self) -> list[Proposal]:
        member_items = [(need.member_id, need.path, need.shortfall) for need in self.needs]
        contact_items = [(slot.contact_id, slot.path, slot.capacity) for slot in self.slots]
        relevant = {(m, c) for m, c in self.forbidden if m in self.member_path and c in self.contact_path}
        built: tuple[_Network, _GroupEdges, _DirectEdges] | None = None
        if relevant:
            members = _classes(member_items, {m for m, _c in relevant})
            contacts = _classes(contact_items, {c for _m, c in relevant})
            built = self._build(members, contacts, relevant, EXACT_PAIRS_LIMIT)
        if built is None:
            members, contacts = _classes(member_items, set()), _classes(contact_items, set())
            built = self._build(members, contacts, set(), None)
            assert built is not None  # without a limit the network is always built
        network, group_edges, direct_edges = built
        network.min_cost_max_flow(0, 1, self.tick)
        return self._split(network, members, contacts, group_edges, direct_edges)

    def _build(
        self, members: list[_Class], contacts: list[_Class], relevant: set[tuple[int, int]], limit: int | None
    ) -> tuple[_Network, _GroupEdges, _DirectEdges] | None:
        """The aggregated network, or None when it would have more than `limit` class-to-class edges."""
        classes_at: dict[str, list[int]] = defaultdict(list)
        for index, cls in enumerate(members):
            classes_at[cls.path].append(index)
        paths = sorted(classes_at)
        if limit is not None and len(paths) * len(contacts) > limit:
            return None
        ceiling = max(cls.size for cls in members)  # R
        weight = ceiling  # W: larger than any balance marginal (at most R - 1)
        # More than any flow can carry: the smaller of total shortfall and total capacity.
        unlimited = min(sum(cls.size * len(cls.ids) for cls in classes) for classes in (members, contacts))
        first_group = 2 + len(members)
        first_contact = first_group + len(paths)
        network = _Network(first_contact + len(contacts))
        source, sink = 0, 1
        # Only shared contacts in classes smaller than R, or contacts in forbidden pairs, may limit a pair.
        forbidden_contacts = {contact for _member, contact in relevant}
        may_limit = [
            (contact.size > 1 and len(contact.ids) < ceiling) or not forbidden_contacts.isdisjoint(contact.ids)
            for contact in contacts
        ]
        no_limits: dict[str, list[int | None]] = {path: [None] * len(classes_at[path]) for path in paths}
        group_edges: _GroupEdges = {}
        direct_edges: _DirectEdges = []
        edges = 0
        for group, path in enumerate(paths, start=first_group):
            into: list[tuple[int, int]] = []
            for index in classes_at[path]:
                cls = members[index]
                for remaining in range(cls.size, 0, -1):
                    network.add_edge(source, 2 + index, len(cls.ids), ceiling - remaining)
                into.append((index, network.add_edge(2 + index, group, unlimited, 0)))
            out: list[tuple[int, int]] = []
            for target, contact in enumerate(contacts):
                cost = weight * self.distance(path, contact.path)
                if may_limit[target]:
                    limits = [self._pair_limit(members[index], contact, relevant) for index in classes_at[path]]
                else:
                    limits = no_limits[path]
                if all(pair_limit is None for pair_limit in limits):
                    out.append((target, network.add_edge(group, first_contact + target, unlimited, cost)))
                    edges += 1
                else:
                    for index, pair_limit in zip(classes_at[path], limits, strict=True):
                        if pair_limit is None or pair_limit > 0:
                            capacity = unlimited if pair_limit is None else pair_limit
                            edge = network.add_edge(2 + index, first_contact + target, capacity, cost)
                            direct_edges.append((index, target, edge))
                            edges += 1
                if limit is not None and edges > limit:
                    return None
            group_edges[path] = (into, out)
        for target, contact in enumerate(contacts):
            network.add_edge(first_contact + target, sink, len(contact.ids) * contact.size, 0)
        return network, group_edges, direct_edges

    @staticmethod
    def _pair_limit(member: _Class, contact: _Class, relevant: set[tuple[int, int]]) -> int | None:
        """Most units member class → contact class can carry, or None when the class totals already imply it."""
        if len(member.ids) == 1 and len(contact.ids) == 1 and (member.ids[0], contact.ids[0]) in relevant:
            return 0
        if len(contact.ids) < member.size and len(member.ids) < contact.size:
            return len(member.ids) * len(contact.ids)
        return None

    def _split(
        self,
        network: _Network,
        members: list[_Class],
        contacts: list[_Class],
        group_edges: _GroupEdges,
        direct_edges: _DirectEdges,
    ) -> list[Proposal]:
        # Units per (member class, contact class).
        units: dict[tuple[int, int], int] = defaultdict(int)
        for index, target, edge in direct_edges:
            if network.flow(edge):
                units[(index, target)] += network.flow(edge)
        for into, out in group_edges.values():
            supply = [(index, network.flow(edge)) for index, edge in into if network.flow(edge)]
            demand = [(target, network.flow(edge)) for target, edge in out if network.flow(edge)]
            # Any split is valid here: pairs through a group have no limit of their own.
            i = j = 0
            while i < len(supply) and j < len(demand):
                amount = min(supply[i][1], demand[j][1])
                units[(supply[i][0], demand[j][0])] += amount
                supply[i] = (supply[i][0], supply[i][1] - amount)
                demand[j] = (demand[j][0], demand[j][1] - amount)
                i += supply[i][1] == 0
                j += demand[j][1] == 0

        # Each member class deals its units round-robin over its members.
        targets_of: dict[int, list[int]] = defaultdict(list)
        for index, target in sorted(units):
            targets_of[index].append(target)
        takers: dict[int, list[tuple[int, int]]] = defaultdict(list)  # contact class → (member, units)
        for index in sorted(targets_of):
            ids, start = members[index].ids, 0
            for target in targets_of[index]:
                dealt, start = _deal(units[(index, target)], len(ids), start)
                takers[target].extend((member, count) for member, count in zip(ids, dealt, strict=True) if count)

        # Each contact class hands out its contacts round-robin.
        room = dict(self.room)
        got: dict[int, set[int]] = defaultdict(set)
        proposals: list[Proposal] = []
        dropped = 0
        for target in sorted(takers):
            ids = contacts[target].ids
            position = 0
            for member, count in takers[target]:
                distance = self.distance(self.member_path[member], contacts[target].path)
                scanned = 0
                while count and scanned < len(ids):
                    contact = ids[position]
                    position = (position + 1) % len(ids)
                    scanned += 1
                    if room[contact] > 0 and contact not in got[member] and (member, contact) not in self.forbidden:
                        room[contact] -= 1
                        got[member].add(contact)
                        proposals.append(Proposal(member, contact, self.bucket, distance))
                        count -= 1
                dropped += count
        if dropped:
            proposals += self._repair(room, got)
        return proposals

    def _repair(self, room: dict[int, int], got: dict[int, set[int]]) -> list[Proposal]:
        """Offer the members still short the nearest allowed contacts with room (only after dropped units)."""
        with_room: dict[str, list[int]] = defaultdict(list)
        for contact_id in sorted(room):
            if room[contact_id] > 0:
                with_room[self.contact_path[contact_id]].append(contact_id)
        waiting = [
            (len(got[member]) - self.shortfall[member], member)
            for member in sorted(self.shortfall)
            if len(got[member]) < self.shortfall[member]
        ]
        heapq.heapify(waiting)
        proposals: list[Proposal] = []
        while waiting and with_room:
            negative_remaining, member = heapq.heappop(waiting)
            member_path = self.member_path[member]
            for contact_path in sorted(with_room, key=lambda path: (self.distance(member_path, path), path)):
                contact = next(
                    (
                        contact
                        for contact in with_room[contact_path]
                        if room[contact] > 0 and contact not in got[member] and (member, contact) not in self.forbidden
                    ),
                    None,
                )
                if contact is None:
                    continue
                room[contact] -= 1
                got[member].add(contact)
                proposals.append(Proposal(member, contact, self.bucket, self.distance(member_path, contact_path)))
                if room[contact] == 0:
                    with_room[contact_path].remove(contact)
                    if not with_room[contact_path]:
                        del with_room[contact_path]
                if negative_remaining + 1 < 0:
                    heapq.heappush(waiting, (negative_remaining + 1, member))
                break
        return proposals


def propose(
    needs: Iterable[MemberNeed],
    slots: Iterable[ContactSlot],
    already_paired: Iterable[tuple[int, int]] = (),
    tick: Tick = None,
) -> list[Proposal]:
    """Proposed pairings for every bucket; see the module docstring for what is optimised and how.

    Raises ValueError when a member has two needs in one bucket or a contact appears twice.
    `tick` is called before each bucket and each shortest-path round (a job's heartbeat).
    """
    needs_by_bucket: dict[Hashable, list[MemberNeed]] = defaultdict(list)
    seen_needs: set[tuple[int, Hashable]] = set()
    for need in sorted(needs, key=lambda need: (need.member_id, repr(need.bucket))):
        if (need.member_id, need.bucket) in seen_needs:
            raise ValueError(f"member {need.member_id} has two needs in bucket {need.bucket!r}")
        seen_needs.add((need.member_id, need.bucket))
        if need.shortfall > 0:
            needs_by_bucket[need.bucket].append(need)
    slots_by_bucket: dict[Hashable, list[ContactSlot]] = defaultdict(list)
    seen_contacts: set[int] = set()
    for slot in sorted(slots, key=lambda slot: slot.contact_id):
        if slot.contact_id in seen_contacts:
            raise ValueError(f"contact {slot.contact_id} appears twice")
        seen_contacts.add(slot.contact_id)
        if slot.capacity > 0:
            slots_by_bucket[slot.bucket].append(slot)
    forbidden = set(already_paired)
    proposals: list[Proposal] = []
    for bucket in sorted(needs_by_bucket, key=repr):
        if tick is not None:
            tick()
        if slots_by_bucket.get(bucket):
            solver = _BucketSolver(bucket, needs_by_bucket[bucket], slots_by_bucket[bucket], forbidden, tick)
            proposals += solver.solve()
    return sorted(proposals, key=lambda p: (repr(p.bucket), p.member_id, p.contact_id))
