"""A topology as plain data, for the `.tspo` image's TOPO section (docs/tspo-format.md).

The image records the topology a program was assembled for (`.topology` or
--topology), so that running, checking or disassembling the image needs no
--topology again.  A built-in is recorded with its links too; reading one back
that still matches the built-in of that name gives the built-in itself (with its
symmetries), anything else becomes a custom Topology checked like a TOML file.
"""
from __future__ import annotations

from ..errors import TopologyError
from ..isa.model import Isa
from ..topology import Link, Topology, builtin_like
from .tspo import _int


def to_record(topology: Topology) -> dict:
    return {"name": topology.name, "chips": topology.chips, "chips_per_node": topology.chips_per_node,
            "links": [list(link) for link in topology.links]}


def from_record(rec, isa: Isa) -> Topology:
    """ValueError (the image reader's "malformed section") for anything that is not a legal topology."""
    if not isinstance(rec, dict) or not isinstance(rec.get("name"), str) or not isinstance(rec.get("links"), list):
        raise ValueError("TOPO section is not a topology record")
    chips = _int(rec.get("chips"), "TOPO chips")
    per_node = rec.get("chips_per_node")
    if per_node is not None:
        per_node = _int(per_node, "TOPO chips_per_node")
    links = []
    for i, link in enumerate(rec["links"]):
        if not isinstance(link, list) or len(link) != 5:
            raise ValueError(f"TOPO links[{i}] is not [chip_a, port_a, chip_b, port_b, latency]")
        links.append(Link(*(_int(v, f"TOPO links[{i}]") for v in link)))
    known = builtin_like(rec["name"], chips, links, isa)
    if known is not None:
        return known
    most = isa.param("system.max_chips")
    if not 1 <= chips <= most:
        raise ValueError(f"TOPO chips: {chips} is not a number of chips (1..{most})")
    try:
        return Topology(rec["name"], chips, tuple(links), isa=isa, chips_per_node=per_node)
    except TopologyError as exc:
        raise ValueError(f"TOPO section: {exc}") from None
