"""Chip count, link count, diameter and hop histogram of a topology.

Distances are hop counts (links crossed) on the chip graph; latency plays no part.  The
histogram counts UNORDERED pairs of distinct chips at each distance, so its values sum to
chips * (chips - 1) / 2.

Speed.  A breadth-first search from every chip costs chips * (chips + links): about 10^9
steps for system:145 (10,440 chips).  Instead we search from one chip per equivalence
class.  Why the classes are right: a permutation g of the chips that maps the link graph
onto itself (an automorphism) preserves hop distance, dist(g x, g y) = dist(x, y), so x
and g x see the same multiset of distances.  The classes are the orbits of the group the
builder's `symmetries` generate (found by union-find over i ~ g(i)); every chip of an orbit
has the same distance profile, so one search per orbit, weighted by the orbit's size,
gives the exact all-pairs histogram.  We do not trust the builder: each generator is first
checked to be a permutation that maps the set of chip pairs joined by a link exactly onto
itself, in O(links); a claim that fails is an internal error.  For system:R the generator
"every rack moves one rack on" works because every link is placed by the offset between its
racks (or nodes), never by absolute rack numbers, leaving 72 classes (the chips of rack 0)
of R chips each: 72 searches of ~10^5 steps each.

Diameters.  For built-ins the metrics also give the diameter of the node graph (each node of
8 chips contracted to one vertex, the paper's "node as one 32-port virtual router").  The
paper's "at most 5 hops across 10,440 chips (2 in the source rack + 1 global + 2 in the
destination)" is that count plus one local hop at each end, and `diameter` reports it (the
number the papers promise); `chip_diameter` is the strict chip-to-chip count, which
the same wiring cannot bring below 7 (docs/topology.md, "Diameter").
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .model import Topology


@dataclass(frozen=True)
class Metrics:
    chips: int
    links: int
    chip_diameter: int | None  # chip-to-chip hops; None when some chips cannot reach each other
    hops: dict[int, int]  # distance -> number of unordered chip pairs at that distance
    unreachable: int  # unordered pairs with no path
    classes: int  # BFS sources actually searched
    node_diameter: int | None = None  # hops between nodes, each node one virtual router

    @property
    def diameter(self) -> int | None:
        """Hops as the 2022 paper counts them: with nodes, one local hop at each end plus the
        hops between nodes (a node is one virtual router), so node 1, rack 3, system 5; without
        nodes (single, pair, custom), the chip-to-chip diameter."""
        if self.node_diameter is None or self.chip_diameter is None:
            return self.chip_diameter
        return self.node_diameter + 2 if self.node_diameter else min(self.chip_diameter, 1)

    def as_json(self) -> dict:
        return {"chips": self.chips, "links": self.links, "diameter": self.diameter,
                "chip_diameter": self.chip_diameter, "node_diameter": self.node_diameter,
                "hops": {str(d): n for d, n in sorted(self.hops.items())},
                "pairs": "unordered", "unreachable": self.unreachable}


def _norm(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _check_symmetry(name: str, n: int, edges: set[tuple[int, int]], perm) -> None:
    if len(perm) != n or sorted(perm) != list(range(n)):
        raise AssertionError(f"{name}: a claimed symmetry is not a permutation")
    for a, b in edges:
        if _norm(perm[a], perm[b]) not in edges:
            raise AssertionError(f"{name}: a claimed symmetry breaks the link {a}-{b}")


def _orbits(name: str, n: int, edges: set[tuple[int, int]], perms) -> list[tuple[int, int]]:
    """(representative, orbit size) under the group the verified `perms` generate."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for perm in perms:
        _check_symmetry(name, n, edges, perm)
        for i, j in enumerate(perm):
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return sorted(Counter(find(i) for i in range(n)).items())


def _bfs(adj: list[list[int]], src: int) -> Counter:
    """Number of vertices at each distance >= 1 from `src`."""
    dist = [-1] * len(adj)
    dist[src] = 0
    frontier = [src]
    counts: Counter = Counter()
    d = 0
    while frontier:
        d += 1
        nxt = []
        for u in frontier:
            for v in adj[u]:
                if dist[v] < 0:
                    dist[v] = d
                    nxt.append(v)
        if nxt:
            counts[d] = len(nxt)
        frontier = nxt
    return counts


def _graph(name: str, n: int, edges: set[tuple[int, int]], perms):
    """(unordered hop histogram, unreachable pairs, diameter or None, sources searched)."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    reps = _orbits(name, n, edges, perms)
    ordered: Counter = Counter()
    for rep, weight in reps:
        for d, k in _bfs(adj, rep).items():
            ordered[d] += k * weight
    hops = {d: ordered[d] // 2 for d in sorted(ordered)}  # each unordered pair counted twice
    unreachable = n * (n - 1) // 2 - sum(hops.values())
    diameter = (max(hops) if hops else 0) if unreachable == 0 else None
    return hops, unreachable, diameter, len(reps)


def metrics(topo: Topology, use_symmetry: bool = True) -> Metrics:
    """All-pairs hop statistics; `use_symmetry=False` searches from every chip (for checking)."""
    perms = topo.symmetries if use_symmetry else ()
    edges = {_norm(a, b) for a, _, b, _, _ in topo.links}
    hops, unreachable, diameter, searched = _graph(topo.name, topo.chips, edges, perms)
    node_diameter = None
    size = topo.chips_per_node
    if size:
        # The node graph: node n = chips n*size..; a link between two nodes is one edge.  A
        # chip symmetry that moves whole nodes induces a node symmetry (checked again there).
        nodes = topo.chips // size
        node_edges = {_norm(a // size, b // size) for a, b in edges if a // size != b // size}
        node_perms = [tuple(p[i * size] // size for i in range(nodes)) for p in perms]
        node_diameter = _graph(topo.name, nodes, node_edges, node_perms)[2]
    return Metrics(topo.chips, len(topo.links), diameter, hops, unreachable, searched,
                   node_diameter)
