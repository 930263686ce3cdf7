"""Recover when each word of a program image issues (chip, queue, row -> cycle).

The same occupancy rules as the assembler's scheduler (tspasm/asm/schedule.py),
replayed over the encoded queue streams in global time order, because a sync's
release depends on notifies issued by other queues of the chip and on transmits
from other chips (which need the topology: the link's peer and latency).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from ..asm.encoding import DecodeError, decode
from ..errors import ImageError
from ..isa.model import InstrSpec, Isa


@dataclass(slots=True)
class Issued:
    chip: int
    slot: int
    row: int
    cycle: int
    spec: InstrSpec
    values: tuple


def queue_words(arr: np.ndarray, slot: int) -> list[int]:
    """The words of one queue up to its filler; anything after the filler is an error."""
    col = arr[:, slot, :]
    nz = np.flatnonzero(col.any(axis=1))
    if len(nz) == 0:
        return []
    n = int(nz[-1]) + 1
    raw = col[:n].tobytes()
    words = [int.from_bytes(raw[i:i + 16], "little") for i in range(0, len(raw), 16)]
    if 0 in words:
        raise DecodeError(f"row {words.index(0)} is the filler word but row {n - 1} still holds an instruction")
    return words


def chip_timeline(isa: Isa, chip: int, arr: np.ndarray) -> list[Issued]:
    """Every word of one chip with its issue cycle, sorted by (cycle, slot); transmits from
    other chips are not seen (program_timeline sees them)."""
    return program_timeline(isa, {chip: arr}, links=False)[chip]


def _decode_chip(isa: Isa, chip: int, arr: np.ndarray) -> dict[int, list[tuple[InstrSpec, tuple]]]:
    decoded: dict[int, list[tuple[InstrSpec, tuple]]] = {}
    for q in isa.queues:
        try:
            words = queue_words(arr, q.slot)
            decoded[q.slot] = [decode(isa, q.unit, w, q) for w in words]
        except DecodeError as exc:
            raise ImageError(f"chip {chip} queue {q.name}: illegal instruction word: {exc}") from None
    return decoded


def program_timeline(isa: Isa, code: dict[int, np.ndarray], topology=None, chips=None,
                     links: bool = True) -> dict[int, list[Issued]]:
    """Every word of every chip with its issue cycle, chip -> list sorted by (cycle, slot).

    A `transmit` releases the syncs of the chip at the other end of its link at the first
    HAC epoch boundary at or after its arrival (docs/engine.md), so when the image has
    both syncs and transmits the replay needs the topology: `topology` (a Topology), or by
    default the one the runner picks for `chips` (default: the chips of `code`).  Events
    come in the engine's order: in a cycle, queue issues by (chip, slot), then arrivals.
    """
    L = isa.param("sync.notify_latency")
    E = isa.param("sync.hac_epoch")
    decoded = {chip: _decode_chip(isa, chip, arr) for chip, arr in code.items()}
    transmit = isa.by_name.get("transmit")
    port_of = transmit.field_index["link"] if transmit is not None else -1
    topo = None
    defaulted = False
    if links and transmit is not None:
        kinds = {spec.control if spec is not transmit else "transmit"
                 for per in decoded.values() for lst in per.values() for spec, _ in lst}
        if "park" in kinds and "transmit" in kinds:
            defaulted = topology is None
            topo = topology if topology is not None else _default(isa, chips if chips is not None else code)
    heap = [(0, 0, chip, slot, 0) for chip, per in decoded.items() for slot, lst in per.items() if lst]
    heapq.heapify(heap)
    out: dict[int, list[Issued]] = {chip: [] for chip in decoded}
    parked: dict[int, list[tuple[int, int]]] = {chip: [] for chip in decoded}  # (slot, next index)
    notifies: dict[int, list[int]] = {chip: [] for chip in decoded}
    sync_release: dict[int, int] = {}  # the boundary of the latest transmit that reached the chip
    prev_cycle: dict[tuple[int, int], int] = {}
    ports: dict[int, dict] = {}
    while heap:
        t, phase, chip, slot, i = heapq.heappop(heap)
        if phase:  # a transmit's notification, processed at the end of cycle t = arrival - 1
            sync_release[chip] = i
            for pslot, pi in parked[chip]:
                heapq.heappush(heap, (i, 0, chip, pslot, pi))
            parked[chip] = []
            continue
        lst = decoded[chip][slot]
        spec, values = lst[i]
        out[chip].append(Issued(chip, slot, i, t, spec, values))
        ctrl = spec.control
        nxt = t + 1
        if ctrl == "wait":
            nxt = t + values[0]
        elif ctrl == "repeat":
            nxt = prev_cycle.get((chip, slot), t - 1) + values[0] * values[1] + 1
        elif ctrl == "epoch":
            nxt = (t // E + 1) * E
        elif ctrl == "delay":
            nxt = t + max(values[0], 1)
        elif ctrl == "release":
            notifies[chip].append(t)
            for pslot, pi in parked[chip]:
                heapq.heappush(heap, (t + L, 0, chip, pslot, pi))
            parked[chip] = []
        elif topo is not None and spec is transmit:
            if chip not in ports:
                ports[chip] = topo.ports(chip) if 0 <= chip < topo.chips else {}
            link = ports[chip].get(values[port_of])
            if link is not None and link[0] in decoded:  # else: nothing to release (or unwired)
                a = t + link[2]
                heapq.heappush(heap, (a - 1, 1, link[0], -1, -(-a // E) * E))
        prev_cycle[(chip, slot)] = t
        if i + 1 >= len(lst):
            continue
        if ctrl == "park":
            live = [n for n in notifies[chip] if n > t - L]
            release = min(live) + L if live else None
            sr = sync_release.get(chip)
            if sr is not None and sr > t and (release is None or sr < release):
                release = sr  # a transmit already arrived
            if release is not None:
                heapq.heappush(heap, (release, 0, chip, slot, i + 1))
            else:
                parked[chip].append((slot, i + 1))
            continue
        heapq.heappush(heap, (nxt, 0, chip, slot, i + 1))
    for chip, waiting in parked.items():
        if waiting:
            names = ", ".join(isa.queues[s].name for s, _ in waiting)
            extra = (f" (in topology {topo.name}, the default for its chips; if the program was assembled "
                     "for another, give it: tspasm disasm --topology)") if defaulted else ""
            raise ImageError(f"chip {chip}: {names} park in sync and no notify or transmit releases them{extra}")
    for lst in out.values():
        lst.sort(key=lambda x: (x.cycle, x.slot))
    return out


def _default(isa: Isa, chips):
    from ..asm.links import default_topology
    from ..errors import UsageError

    try:
        return default_topology(chips, isa)
    except UsageError as exc:
        raise ImageError(f"the image's syncs may be released by transmits from other chips, which "
                         f"needs its topology, and there is no default: {exc}; give it "
                         "(tspasm disasm --topology)") from None
