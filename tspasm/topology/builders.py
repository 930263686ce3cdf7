"""The built-in topologies: single, pair, node, rack and system:R.

Shapes come from isa/machine.toml [topology], the port count and the latency from
[c2c].  With the shipped numbers (8 chips per node, 7 local + 4 global links per chip,
9 nodes per rack, 2 links per node pair, 1 link per rack pair, 145 racks at most):

Chip numbers.  system:R numbers its chips rack-major: chip = 72*rack + 8*node + k, where
k = 0..7 is the chip's place in its node; rack and node use the same numbering with
rack = 0 (and node = 0).

Ports (docs/topology.md has the table):
  0..6   local links (west SXM): local port p of chip k goes to node-mate p if p < k, else
         p + 1, so both ends of the k-j link use port "index of the peer among the other 7".
  7      unused (west)
  8, 9   intra-rack global links (east SXM), copy 0 and copy 1 of the doubled node-pair link
  10, 11 inter-rack global links (east SXM)
  12..15 unused (east)
So a chip uses at most 11 of its 16 links, the 7 local + 4 global the paper describes.

Rack (node pairs).  Seen from node n, node m sits at offset d = (m - n) mod 9, 1..8.
Node n's end of copy c of the n-m link is chip d-1 (c = 0) or chip 8-d (c = 1), port 8+c.
Node m sees offset 9-d, so copy 0 joins chip d-1 of n to chip 8-d of m and copy 1 joins
chip 8-d of n to chip d-1 of m.  As d runs over 1..8 each chip of a node gets exactly one
copy-0 end and one copy-1 end: 2 intra-rack global links per chip, 16 per node, 144 per rack.

System (rack pairs).  Seen from rack r, rack s sits at offset e = (s - r) mod R, 1..R-1.
Rack r's end of the r-s link is exit slot q = e - 1 of rack r: chip-in-rack q mod 72, port
10 + q // 72.  Rack s uses its slot R-1-e.  Each rack has 72 * 2 = 144 exit slots and needs
R - 1 of them, which is why R <= 145 (= 1 + 144): at R = 145 every chip uses all 4 global
ports.  Slot q mod 72 spreads the exits of the first 72 offsets over all 72 chips before
any chip gets a second one.

Every assignment depends only on offsets (d, e), never on absolute node or rack numbers,
which is what makes "rotate every node of a rack by one" and "rotate every rack of a system
by one" automorphisms; the builders record them for the metrics.
"""
from __future__ import annotations

import re

from ..errors import TopologyError, UsageError
from ..isa import default_isa
from ..isa.model import Isa
from .model import Link, Topology

BUILTIN_NAMES = ("single", "pair", "node", "rack", "system:R")


def _shape(isa: Isa) -> dict[str, int]:
    p = isa.param
    s = {
        "ports": p("c2c.links"), "latency": p("c2c.link_latency"),
        "C": p("topology.chips_per_node"), "L": p("topology.local_links"),
        "G": p("topology.global_links"), "N": p("topology.nodes_per_rack"),
        "P": p("topology.links_per_node_pair"), "Q": p("topology.links_per_rack_pair"),
        "Rmax": p("topology.max_racks"),
    }
    s["east"] = s["ports"] // 2            # first east port: links 0-7 west, 8-15 east
    s["intra"] = -(-s["P"] * (s["N"] - 1) // s["C"])   # intra-rack global ports per chip
    s["inter"] = s["G"] - s["intra"]                    # inter-rack global ports per chip
    s["rack"] = s["C"] * s["N"]                         # chips per rack
    if s["L"] > s["east"] or s["G"] > s["ports"] - s["east"] or s["inter"] < 0:
        raise TopologyError(f"isa/machine.toml [topology]: {s['L']} local and {s['G']} global "
                            f"links do not fit the {s['ports']} ports of a chip")
    return s


def _local_links(base: int, s: dict[str, int]) -> list[Link]:
    """A fully connected node of C chips numbered base..base+C-1, local ports 0..C-2."""
    out = []
    for k in range(s["C"]):
        for j in range(k + 1, s["C"]):
            # chip k reaches j through port j-1 (j > k); chip j reaches k through port k (k < j)
            out.append(Link(base + k, j - 1, base + j, k, s["latency"]))
    return out


def _rack_links(base: int, s: dict[str, int]) -> list[Link]:
    C, N, P = s["C"], s["N"], s["P"]
    out = []
    for n in range(N):
        out += _local_links(base + n * C, s)

    def end(node: int, d: int, c: int) -> tuple[int, int]:
        # slot of (offset d, copy c); odd copies run the offsets backwards (see module doc)
        slot = c * (N - 1) + ((d - 1) if c % 2 == 0 else (N - 1 - d))
        return base + node * C + slot % C, s["east"] + slot // C

    for n in range(N):
        for m in range(n + 1, N):
            d = (m - n) % N
            for c in range(P):
                (a, pa), (b, pb) = end(n, d, c), end(m, N - d, c)
                out.append(Link(a, pa, b, pb, s["latency"]))
    return out


def _exit(rack: int, slot: int, s: dict[str, int]) -> tuple[int, int]:
    """Chip and port of inter-rack exit slot `slot` of `rack`."""
    chip = rack * s["rack"] + slot % s["rack"]
    return chip, s["east"] + s["intra"] + slot // s["rack"]


def _rotation(chips: int, block: int, span: int) -> tuple[int, ...]:
    """The permutation that moves every block of `block` chips one block on, modulo `span` blocks
    (within each group of span*block chips)."""
    group = block * span
    return tuple((i // group) * group + (i % group + block) % group for i in range(chips))


def single(isa: Isa | None = None) -> Topology:
    isa = isa or default_isa()
    return Topology("single", 1, (), (), isa)


def pair(isa: Isa | None = None) -> Topology:
    isa = isa or default_isa()
    s = _shape(isa)
    return Topology("pair", 2, (Link(0, 0, 1, 0, s["latency"]),), ((1, 0),), isa)


def node(isa: Isa | None = None) -> Topology:
    isa = isa or default_isa()
    s = _shape(isa)
    return Topology("node", s["C"], tuple(_local_links(0, s)), (_rotation(s["C"], 1, s["C"]),),
                    isa, s["C"])


def rack(isa: Isa | None = None) -> Topology:
    isa = isa or default_isa()
    s = _shape(isa)
    return Topology("rack", s["rack"], tuple(_rack_links(0, s)),
                    (_rotation(s["rack"], s["C"], s["N"]),), isa, s["C"])


def system(racks: int, isa: Isa | None = None) -> Topology:
    isa = isa or default_isa()
    s = _shape(isa)
    R, Q = racks, s["Q"]
    if not 1 <= R <= s["Rmax"]:
        raise UsageError(f"system:{R}: the number of racks must be 1..{s['Rmax']}")
    if Q * (R - 1) > s["rack"] * s["inter"]:
        raise TopologyError(f"system:{R}: {Q * (R - 1)} inter-rack links per rack exceed the "
                            f"{s['rack'] * s['inter']} free global ports of a rack")
    links: list[Link] = []
    for r in range(R):
        links += _rack_links(r * s["rack"], s)
    for r in range(R):
        for t in range(r + 1, R):
            e = (t - r) % R
            for q in range(Q):
                a, pa = _exit(r, (e - 1) * Q + q, s)
                b, pb = _exit(t, (R - e - 1) * Q + q, s)
                links.append(Link(a, pa, b, pb, s["latency"]))
    chips = R * s["rack"]
    return Topology(f"system:{R}", chips, tuple(links), (_rotation(chips, s["rack"], R),), isa,
                    s["C"])


_SYSTEM = re.compile(r"system:(\d+)")


def builtin(name: str, isa: Isa | None = None) -> Topology:
    """A built-in topology by name; UsageError (listing the legal names) for anything else."""
    isa = isa or default_isa()
    simple = {"single": single, "pair": pair, "node": node, "rack": rack}
    if name in simple:
        return simple[name](isa)
    m = _SYSTEM.fullmatch(name)
    rmax = isa.param("topology.max_racks")
    if m and 1 <= int(m.group(1)) <= rmax:
        return system(int(m.group(1)), isa)
    raise UsageError(f"unknown topology {name!r}; the built-in topologies are single, pair, node, "
                     f"rack and system:R with R = 1..{rmax} (or give a FILE.toml)")


def builtin_like(name: str, chips: int, links, isa: Isa | None = None) -> Topology | None:
    """The built-in topology called `name` if it has exactly these chips and links, else None
    (a custom topology that happens to reuse a built-in's name)."""
    try:
        known = builtin(name, isa)
    except UsageError:
        return None
    return known if known.chips == chips and tuple(known.links) == tuple(links) else None
