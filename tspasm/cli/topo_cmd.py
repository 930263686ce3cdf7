"""`tspasm topo NAME|FILE.toml [--json]`: chips, links, diameter and hop histogram of a topology."""
from __future__ import annotations

import json
import os
import re

from ..topology import builtin, load_topology, metrics

_BUILTIN = re.compile(r"single|pair|node|rack|system(:.*)?")


def register(sub) -> None:
    p = sub.add_parser(
        "topo", help="describe a multi-chip topology: chips, links, diameter, hop histogram",
        description="Describe a built-in topology (single, pair, node, rack, system:R with "
                    "R = 1..145) or a custom one from a TOML file (docs/topology.md).")
    p.add_argument("topology", metavar="NAME|FILE.toml",
                   help="single, pair, node, rack, system:R, or a topology TOML file")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object: {"chips", "links", "diameter", "hops", ...}')
    p.set_defaults(func=run)


def run(args) -> int:
    name = args.topology
    if _BUILTIN.fullmatch(name) or not (name.lower().endswith(".toml") or os.path.exists(name)):
        topo = builtin(name)  # UsageError (exit 2) listing the legal names
    else:
        topo = load_topology(name)  # TopologyError (exit 1) with file, line and key path
    m = metrics(topo)
    if args.json:
        print(json.dumps({"topology": topo.name, **m.as_json()}))
        return 0
    diameter = "disconnected" if m.diameter is None else _hops(m.diameter)
    if m.node_diameter is not None and m.diameter is not None:
        diameter += (f" (as the 2022 paper counts: {_hops(m.node_diameter)} between nodes, a node one "
                     f"router, + a local hop at each end; {_hops(m.chip_diameter)} chip to chip)")
    lines = [f"topology  {topo.name}", f"chips     {m.chips}", f"links     {m.links}",
             f"diameter  {diameter}"]
    lines.append("hops      unordered chip pairs at each distance")
    width = max([len(str(n)) for n in m.hops.values()] + [1])
    lines += [f"  {d:>3}    {n:>{width}}" for d, n in m.hops.items()]
    if m.unreachable:
        lines.append(f"  none   {m.unreachable:>{width}}  (no path)")
    print("\n".join(lines))
    return 0


def _hops(n: int) -> str:
    return f"{n} hop" if n == 1 else f"{n} hops"
