"""The topology a program is assembled for, and what the assembler takes from it.

- Link operands that name the peer chip (`send chip3, S0E`) become the port of
  this chip whose link goes there (binder.py).
- A `sync` may be released by a `transmit` from another chip: the notification
  arrives at a = t + latency and releases the peer's parked queues at the first
  HAC epoch boundary b >= a (docs/engine.md "Chip-to-chip links").  `releases`
  mirrors the engine's order of events exactly (schedule.py uses it).

The topology is the `.topology` directive, `--topology` (Assembler(topology=...)),
or by default the one the runner picks for the program's chips (the smallest
built-in holding them).  The default is resolved only when something needs it,
so programs without chip names or cross-chip syncs never depend on it.
"""
from __future__ import annotations

import bisect
import os
from typing import Callable

from ..errors import TopologyError, UsageError
from ..isa.model import Isa, Queue
from ..topology import Topology, builtin, load_topology
from . import ast
from .diagnostics import Collector
from .source import Pos

DEFAULT_NAMES = ("single", "pair", "node", "rack")


def default_topology(chips, isa: Isa) -> Topology:
    """The smallest built-in holding chips 0..max(chips): the default of the runner
    (tspasm.engine.machine.default_topology; tests/test_links.py keeps them equal)."""
    top = max(chips, default=0)
    t = None
    for name in DEFAULT_NAMES:
        t = builtin(name, isa)
        if top < t.chips:
            return t
    raise UsageError(f"the program uses chip {top}, more than the {t.chips} chips of the largest default "
                     "topology (rack)")


def resolve_spec(spec, isa: Isa) -> Topology | None:
    """A command-line topology: a Topology, a built-in name or a FILE.toml (as the runner reads
    --topology: a name ending in .toml, containing a path separator or naming a file is a file)."""
    if spec is None or isinstance(spec, Topology):
        return spec
    if spec.endswith(".toml") or os.path.sep in spec or os.path.exists(spec):
        return load_topology(spec, isa)
    return builtin(spec, isa)


def same_topology(a: Topology, b: Topology) -> bool:
    return a.chips == b.chips and sorted(a.links) == sorted(b.links)


def epoch_at_or_after(cycle: int, epoch: int) -> int:
    return -(-cycle // epoch) * epoch


class TopologyContext:
    """The program's topology, resolved once, with its diagnostics."""

    def __init__(self, isa: Isa, diags: Collector, cli=None):
        self.isa = isa
        self.diags = diags
        self.cli = resolve_spec(cli, isa)   # a bad --topology raises: it is a command-line error
        self.directive: Topology | None = None
        self._failed = False                # the directive or the default could not be had
        self._default: Topology | None = None
        self._chips: Callable[[], set[int]] = set
        self._ports: dict[int, dict[int, tuple[int, int, int]]] = {}

    # -- choosing the topology ----------------------------------------------
    def set_directive(self, node: ast.Topology) -> None:
        pos = node.pos(node.tok)
        spec = node.spec
        try:
            if node.is_file:
                path = spec if os.path.isabs(spec) else os.path.join(os.path.dirname(node.stmt.path), spec)
                topo = load_topology(path, self.isa)
            else:
                topo = builtin(spec, self.isa)
        except (TopologyError, UsageError) as exc:
            what = f'"{spec}"' if node.is_file else spec
            self.diags.error(pos, f"cannot use topology {what}: {exc}",
                             "" if node.is_file else "write `.topology NAME` with a built-in name, "
                             'or `.topology "FILE.toml"`')
            self._failed = True
            return
        if self.cli is not None and not same_topology(self.cli, topo):
            self.diags.error(pos, f"`.topology {spec}` conflicts with --topology {self.cli.name}",
                             "they name different chips or links; drop one of them, or make them agree")
            self._failed = True
            return
        self.directive = topo

    def set_chips(self, chips: Callable[[], set[int]]) -> None:
        """How to find the program's chips (for the default), computed only if needed."""
        self._chips = chips

    @property
    def explicit(self) -> Topology | None:
        """The topology named by --topology or `.topology` (None: the runner's default)."""
        return self.cli if self.cli is not None else self.directive

    def get(self, pos: Pos | None, why: str) -> Topology | None:
        """The topology; None (after one diagnostic at `pos`) if there is none to be had."""
        if self._failed:
            return None  # already reported: a bad or conflicting `.topology`, or no default
        topo = self.explicit
        if topo is not None:
            return topo
        if self._default is None:
            try:
                self._default = default_topology(self._chips(), self.isa)
            except UsageError as exc:
                self.diags.error(pos, f"{why} needs the topology, and there is no default: {exc}",
                                 "name one: `.topology system:R` or `.topology \"FILE.toml\"` "
                                 "before the first `.chip`, or --topology")
                self._failed = True
                return None
        return self._default

    def ports(self, topo: Topology, chip: int) -> dict[int, tuple[int, int, int]]:
        """Port -> (peer chip, peer port, latency) of `chip` (cached)."""
        hit = self._ports.get(chip)
        if hit is None:
            hit = self._ports[chip] = topo.ports(chip)
        return hit

    # -- link operands that name a chip ---------------------------------------
    def peer_port(self, chip: int, peer: int, queue: Queue, pos: Pos, spec_name: str) -> int | None:
        """The port of `chip` whose link goes to `peer`, checked against the queue's side."""
        from .legality import link_problem

        topo = self.get(pos, f"`{spec_name} chip{peer}`")
        if topo is None:
            return None
        where = f"topology {topo.name}"
        if not 0 <= chip < topo.chips:
            self.diags.error(pos, f"chip {chip} is not in {where} (chips 0..{topo.chips - 1})",
                             "name the port (`L0`..) or a topology that holds this chip")
            return None
        if peer == chip:
            self.diags.error(pos, f"`chip{peer}` is this chip; a link joins two different chips",
                             _linked_hint(chip, self.ports(topo, chip), where))
            return None
        ports = self.ports(topo, chip)
        found = [p for p, (b, _, _) in ports.items() if b == peer]
        if not found:
            extra = f" (chips 0..{topo.chips - 1})" if peer >= topo.chips else ""
            self.diags.error(pos, f"no link joins chip {chip} to chip {peer} in {where}{extra}",
                             _linked_hint(chip, ports, where))
            return None
        if len(found) > 1:
            names = ", ".join(f"L{p}" for p in found)
            drivable = [p for p in found if link_problem(self.isa, queue, p) is None]
            mine = (f"; {queue.name} drives " + " and ".join(f"`L{p}`" for p in drivable)) if drivable else ""
            self.diags.error(pos, f"{len(found)} links join chip {chip} to chip {peer} in {where}: {names}",
                             f"name the port instead: {' or '.join(f'`L{p}`' for p in found)}{mine}")
            return None
        port = found[0]
        problem = link_problem(self.isa, queue, port)
        if problem:
            msg, _ = problem
            side = "west" if port < self.isa.param("c2c.links") // 2 else "east"
            hemi = side[0].upper()
            drivers = [q.name for q in self.isa.queues if q.unit == queue.unit and q.hemi == hemi]
            self.diags.error(pos, f"{msg}, the link to chip {peer}",
                             f"L{port} is on the {side} SXM: issue it from {drivers[0]}..{drivers[-1]}")
            return None
        return port

    # -- transmit releases -------------------------------------------------------
    def releases(self, transmits, syncs_on: set[int]):
        """SyncReleases for the placed `transmit`s (Placed); the topology is looked up only if
        some chip issues `sync` (`syncs_on`), and when it is not to be had a diagnostic says
        why and the result is marked `unavailable`."""
        return SyncReleases(self, transmits, syncs_on)


def _linked_hint(chip: int, ports: dict[int, tuple[int, int, int]], where: str) -> str:
    if not ports:
        return f"chip {chip} has no links in {where}"
    peers = ", ".join(f"{b} (L{p})" for p, (b, _, _) in ports.items())
    return f"chip {chip} is linked to chip{'s' if len(ports) > 1 else ''} {peers}"


class Arrival:
    """A transmit's notification: the `placed` transmit reaches `peer` after `latency` cycles,
    at `arrive`, and releases its parked queues at `release` (the epoch boundary)."""

    __slots__ = ("placed", "peer", "latency", "arrive", "release")

    def __init__(self, placed, peer: int, latency: int, arrive: int, release: int):
        self.placed, self.peer, self.latency = placed, peer, latency
        self.arrive, self.release = arrive, release


class SyncReleases:
    """When a sync is released, exactly as the engine decides it (native/engine/icu.c, c2c.c).

    In a cycle the engine issues the queues in slot order, then processes the flits that
    arrive: a transmit that arrives at a = t + L is processed at the end of cycle a - 1.
    A sync issued at s on chip c:
      - first looks at what it already knows: the earliest notify n of the chip issued
        before it (n < s, or n = s on a lower slot) with n + notify_latency > s, and the
        latest transmit processed before it (a <= s) if its boundary b > s; the earlier of
        those releases it;
      - else it parks, and the first event after it releases it: a notify at n (at n +
        notify_latency) or a transmit processed at a - 1 (at b); a notify comes first when
        n <= a - 1.
    """

    def __init__(self, ctx: TopologyContext, transmits, syncs_on: set[int]):
        isa = ctx.isa
        self.epoch = isa.param("sync.hac_epoch")
        self.notify_latency = isa.param("sync.notify_latency")
        self.arrivals: dict[int, list[Arrival]] = {}
        self._keys: dict[int, list[int]] = {}
        self.unavailable = False
        self.isa_params = {"nominal": isa.param("c2c.link_latency"), "min": isa.param("c2c.link_latency_min"),
                           "max": isa.param("c2c.link_latency_max")}
        if not transmits or not syncs_on:
            return
        topo = None
        for p in transmits:
            if topo is None:
                topo = ctx.get(p.pos, "a `transmit` releasing a `sync`")
                if topo is None:
                    self.unavailable = True
                    return
            if not 0 <= p.chip < topo.chips:
                continue  # the runner refuses the program at load
            link = ctx.ports(topo, p.chip).get(p.values[p.spec.field_index["link"]])
            if link is None:
                continue  # an unwired port: the runner refuses the program at load
            peer, _, latency = link
            a = p.cycle + latency
            self.arrivals.setdefault(peer, []).append(
                Arrival(p, peer, latency, a, epoch_at_or_after(a, self.epoch)))
        for lst in self.arrivals.values():
            lst.sort(key=lambda x: x.arrive)
        self._keys = {c: [x.arrive for x in lst] for c, lst in self.arrivals.items()}

    def jitter_warnings(self, diags: Collector, syncs_on: set[int]) -> None:
        """Warn about each transmit to a chip that issues `sync` whose release boundary moves
        within the link-latency jitter: a link of latency L delivers in L + (min - nominal) ..
        L + (max - nominal) (c2c.link_latency_min/_max around c2c.link_latency, as the
        engine's jitter draws it), and those arrivals straddle an epoch boundary."""
        if not self.arrivals:
            return
        p = self.isa_params
        lo_off, hi_off = p["min"] - p["nominal"], p["max"] - p["nominal"]
        E = self.epoch
        for peer, lst in sorted(self.arrivals.items()):
            if peer not in syncs_on:
                continue
            for x in lst:
                t = x.placed.cycle
                lo, hi = max(x.latency + lo_off, 1), x.latency + hi_off
                first, last = epoch_at_or_after(t + lo, E), epoch_at_or_after(t + hi, E)
                if first == last:
                    continue
                boundary = first  # t + lo <= boundary < t + hi
                late = f"{boundary - lo + 1} or later"
                when = (f"at cycle {boundary - hi} or earlier, or at {late}" if boundary - hi >= 0
                        else f"at cycle {late}")
                diags.warning(
                    x.placed.pos,
                    f"the cycle at which this transmit releases chip {peer} depends on link jitter: "
                    f"it arrives at cycle {x.arrive} (latency {x.latency}) and releases at {x.release}, "
                    f"but with latency {lo}..{hi} it arrives at {t + lo}..{t + hi}, on both sides of "
                    f"the epoch boundary {boundary}",
                    f"issue it {when}, to release at one cycle whatever the jitter "
                    f"(c2c.link_latency_min..max = {p['min']}..{p['max']})")

    def release(self, chip: int, slot: int, s: int, notifies: list[tuple[int, int]]):
        """(cycle, Arrival or None) at which a sync issued at s on (chip, slot) resumes, or None.
        `notifies` are the chip's (cycle, slot) sorted."""
        nl = self.notify_latency
        arrivals = self.arrivals.get(chip, ())
        keys = self._keys.get(chip, ()) if arrivals else ()
        # notifies issued before the sync: cycles s - nl + 1 .. s (the same cycle only on a lower slot)
        i = bisect.bisect_right(notifies, (s - nl, 1 << 30))
        live = None
        j = i
        while j < len(notifies) and notifies[j][0] <= s:
            n, nslot = notifies[j]
            if n < s or nslot < slot:
                live = n + nl
                break
            j += 1
        known = None
        k = bisect.bisect_right(keys, s)  # arrivals processed before the sync: a <= s
        if k and arrivals[k - 1].release > s:
            known = arrivals[k - 1]
        if live is not None or known is not None:
            if known is not None and (live is None or known.release < live):
                return known.release, known
            return live, None
        # parked: the first later event releases it
        nxt = None
        while i < len(notifies):
            n, nslot = notifies[i]
            if n > s or (n == s and nslot > slot):
                nxt = n
                break
            i += 1
        later = arrivals[k] if k < len(arrivals) else None
        if nxt is not None and (later is None or nxt <= later.arrive - 1):
            return nxt + nl, None
        if later is not None:
            return later.release, later
        return None
