"""Recover when each word of a program image issues (chip, queue, row -> cycle).

The same occupancy rules as the assembler's scheduler (tspasm/asm/schedule.py),
replayed over the encoded queue streams in global time order, because a sync's
release depends on notifies issued by other queues of the chip.
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
    """Every word of one chip with its issue cycle, sorted by (cycle, slot)."""
    L = isa.param("sync.notify_latency")
    E = isa.param("sync.hac_epoch")
    decoded: dict[int, list[tuple[InstrSpec, tuple]]] = {}
    for q in isa.queues:
        try:
            words = queue_words(arr, q.slot)
            decoded[q.slot] = [decode(isa, q.unit, w, q) for w in words]
        except DecodeError as exc:
            raise ImageError(f"chip {chip} queue {q.name}: illegal instruction word: {exc}") from None
    out: list[Issued] = []
    heap = [(0, slot, 0) for slot, lst in decoded.items() if lst]  # (cycle, slot, index)
    heapq.heapify(heap)
    parked: list[tuple[int, int]] = []  # (slot, next index)
    notifies: list[int] = []
    prev_cycle: dict[int, int] = {}
    while heap:
        t, slot, i = heapq.heappop(heap)
        spec, values = decoded[slot][i]
        out.append(Issued(chip, slot, i, t, spec, values))
        ctrl = spec.control
        nxt = t + 1
        if ctrl == "wait":
            nxt = t + values[0]
        elif ctrl == "repeat":
            nxt = prev_cycle.get(slot, t - 1) + values[0] * values[1] + 1
        elif ctrl == "epoch":
            nxt = (t // E + 1) * E
        elif ctrl == "delay":
            nxt = t + max(values[0], 1)
        elif ctrl == "release":
            notifies.append(t)
            for pslot, pi in parked:
                heapq.heappush(heap, (t + L, pslot, pi))
            parked = []
        prev_cycle[slot] = t
        if i + 1 >= len(decoded[slot]):
            continue
        if ctrl == "park":
            live = [n for n in notifies if n > t - L]
            if live:
                heapq.heappush(heap, (min(live) + L, slot, i + 1))
            else:
                parked.append((slot, i + 1))
            continue
        heapq.heappush(heap, (nxt, slot, i + 1))
    if parked:
        names = ", ".join(isa.queues[s].name for s, _ in parked)
        raise ImageError(f"chip {chip}: {names} park in sync and no notify releases them")
    out.sort(key=lambda x: (x.cycle, x.slot))
    return out
