"""The `Topology` record: chips, and links between numbered C2C ports of those chips.

A chip has `c2c.links` ports (link numbers L0..L15 of the ISA); links 0..7 sit on the
west SXM and 8..15 on the east one (isa/machine.toml [c2c]).  A link joins port
`port_a` of `chip_a` to port `port_b` of `chip_b` and delivers a vector `latency`
cycles after it is sent.  Every port carries at most one link.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

from ..errors import TopologyError
from ..isa import default_isa
from ..isa.model import Isa


class Link(NamedTuple):
    """One bidirectional chip-to-chip link."""

    chip_a: int
    port_a: int
    chip_b: int
    port_b: int
    latency: int


def port_hemisphere(port: int, isa: Isa | None = None) -> str:
    """"W" or "E": the half of the chip whose SXM drives `port` (links 0-7 west, 8-15 east)."""
    links = (isa or default_isa()).param("c2c.links")
    if not 0 <= port < links:
        raise TopologyError(f"port {port} is not a link of the chip (0..{links - 1})")
    return "W" if port < links // 2 else "E"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_links(chips: int, links: Sequence[Link], isa: Isa,
                where: Callable[[int], str] = lambda i: f"links[{i}]") -> None:
    """Raise TopologyError unless every link names existing chips and real, unshared ports.

    `where(i)` names link i in the message (a TOML key path such as `links[3]`, possibly
    with a file and line in front).
    """
    max_chips = isa.param("system.max_chips")
    if not _is_int(chips) or not 1 <= chips <= max_chips:
        raise TopologyError(f"chips: {chips!r} is not a chip count (1..{max_chips})")
    nports = isa.param("c2c.links")
    used: dict[tuple[int, int], int] = {}
    for i, link in enumerate(links):
        for side, chip, port in (("a", link.chip_a, link.port_a), ("b", link.chip_b, link.port_b)):
            if not _is_int(chip) or not 0 <= chip < chips:
                raise TopologyError(f"{where(i)}.{side}: chip {chip!r} does not exist "
                                    f"(chips are 0..{chips - 1})")
            if not _is_int(port) or not 0 <= port < nports:
                raise TopologyError(f"{where(i)}.{side}: port {port!r} is not a link of the chip "
                                    f"(ports are 0..{nports - 1})")
            other = used.get((chip, port))
            if other is not None:
                raise TopologyError(f"{where(i)}.{side}: chip {chip} port {port} is already used "
                                    f"by {where(other)}")
            used[(chip, port)] = i
        if link.chip_a == link.chip_b:
            raise TopologyError(f"{where(i)}: joins chip {link.chip_a} to itself")
        if not _is_int(link.latency) or link.latency < 1:
            raise TopologyError(f"{where(i)}.latency: {link.latency!r} is not a positive number "
                                "of cycles")


@dataclass(frozen=True, eq=False)
class Topology:
    """Chips 0..chips-1 and the links between them.

    `symmetries` are chip permutations the builder claims to be automorphisms of the
    link graph; the metrics verify each claim before using it to skip equivalent BFS
    sources (see tspasm.topology.metrics).
    """

    name: str
    chips: int
    links: tuple[Link, ...]
    symmetries: tuple[tuple[int, ...], ...] = ()
    isa: Isa | None = field(default=None, repr=False)
    chips_per_node: int | None = None  # chips n*C..n*C+C-1 form node n (built-ins only)

    def __post_init__(self) -> None:
        check_links(self.chips, self.links, self.isa or default_isa())
        if self.chips_per_node is not None and self.chips % self.chips_per_node:
            raise TopologyError(f"{self.name}: {self.chips} chips do not split into nodes of "
                                f"{self.chips_per_node}")

    def ports(self, chip: int) -> dict[int, tuple[int, int, int]]:
        """Port -> (peer chip, peer port, latency) for the links of `chip`."""
        out = {}
        for a, pa, b, pb, lat in self.links:
            if a == chip:
                out[pa] = (b, pb, lat)
            if b == chip:
                out[pb] = (a, pa, lat)
        return dict(sorted(out.items()))

    def degrees(self) -> list[int]:
        """Number of links on each chip."""
        deg = [0] * self.chips
        for a, _, b, _, _ in self.links:
            deg[a] += 1
            deg[b] += 1
        return deg

    def adjacency(self) -> list[list[int]]:
        """Distinct neighbour chips of each chip (parallel links collapse to one edge)."""
        adj: list[set[int]] = [set() for _ in range(self.chips)]
        for a, _, b, _, _ in self.links:
            adj[a].add(b)
            adj[b].add(a)
        return [sorted(s) for s in adj]
