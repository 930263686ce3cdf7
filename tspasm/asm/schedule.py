"""Placement: every instruction at (chip, queue, cycle); queue occupancy checks;
NOP compression into per-queue instruction streams.

A queue issues one word per cycle.  How long a word keeps its queue busy:
  plain instruction      its issue cycle only
  nop n                  n cycles
  repeat n, d            until the last re-issue: cycle(previous) + n*d; it must
                         issue the cycle after the instruction it repeats
  sync                   until released by a notify on the same chip (a notify at
                         cycle t releases syncs issued before t + notify_latency at
                         t + notify_latency) or by a transmit from another chip (at
                         the first HAC epoch boundary at or after its arrival); when
                         both could, the engine's order of events decides
                         (links.SyncReleases)
  deskew                 until the next HAC epoch boundary
  runtime_deskew t       t cycles (clock drift is the engine's business)
Gaps between words become `nop` words, so a queue's stream is dense.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

from ..isa.model import InstrSpec, Isa
from .diagnostics import Collector
from .encoding import encode
from .source import Pos, Statement


@dataclass(slots=True)
class Placed:
    chip: int
    slot: int
    cycle: int
    spec: InstrSpec
    values: tuple
    word: int
    stmt: Statement
    tok: int
    order: int
    loc: tuple | None = None  # (file, line, col) from a .loc directive
    row: int = -1
    busy_until: int = -1

    @property
    def pos(self) -> Pos:
        """Where the instruction's queue name stands in the source."""
        return Pos(self.stmt, self.tok)


def _describe(isa: Isa, p: Placed) -> str:
    from .printer import format_instruction
    return f"`{format_instruction(isa, p.spec, p.values)}` at cycle {p.cycle}"


class Scheduler:
    def __init__(self, isa: Isa, diags: Collector, releases=None):
        self.isa = isa
        self.diags = diags
        self.releases = releases  # links.SyncReleases: transmits from other chips
        self.nop = isa.by_name["nop"]
        self.nop_max = (1 << isa.fields["count"].width) - 1
        self.notify_latency = isa.param("sync.notify_latency")
        self.epoch = isa.param("sync.hac_epoch")
        self._nop_words: dict[int, int] = {}

    def _where(self, p: Placed) -> str:
        path, line, col = p.pos.resolve()
        return f"{path}:{line}:{col}"

    def busy_end(self, p: Placed, prev: Placed | None, notifies: list[tuple[int, int]]) -> int:
        ctrl = p.spec.control
        if ctrl is None:
            return p.cycle
        v = p.values
        if ctrl == "wait":
            return p.cycle + v[0] - 1
        if ctrl == "repeat":
            return prev.cycle + v[0] * v[1] if prev is not None else p.cycle
        if ctrl == "park":
            if self.releases is not None:
                hit = self.releases.release(p.chip, p.slot, p.cycle, notifies)
            else:
                i = bisect.bisect_left(notifies, (p.cycle - self.notify_latency + 1, -1))
                hit = (notifies[i][0] + self.notify_latency, None) if i < len(notifies) else None
            if hit is None:
                if self.releases is None or not self.releases.unavailable:
                    self.diags.error(
                        p.pos, f"sync at cycle {p.cycle} is never released",
                        f"no notify on chip {p.chip} and no transmit to chip {p.chip} releases it; "
                        f"a notify at cycle t releases queues parked before t + {self.notify_latency}, "
                        f"a transmit arriving at cycle a those parked before the first multiple of "
                        f"{self.epoch} at or after a")
                return p.cycle
            return hit[0] - 1
        if ctrl == "epoch":
            return (p.cycle // self.epoch + 1) * self.epoch - 1
        if ctrl == "delay":
            return p.cycle + max(v[0], 1) - 1
        return p.cycle

    def _steps_fit(self, rep: Placed, prev: Placed) -> bool:
        """Every field a repeat steps must stay in range up to the last re-issue."""
        spec = prev.spec
        n = rep.values[0]
        final = spec.stepped(prev.values, n)
        for name, step in spec.steps.items():
            f = spec.field(name)
            s = prev.values[spec.field_index[step]] if isinstance(step, str) else step
            first = prev.values[spec.field_index[name]]
            last = final[spec.field_index[name]]
            lo, hi = f.value_range()
            if not lo <= last <= hi:
                self.diags.error(rep.pos, f"repeat {n} steps {name} of {_describe(self.isa, prev)} "
                                 f"to {last}, outside {lo}..{hi}",
                                 _repeat_hint(first, s, lo, hi))
                return False
        return True

    def queue_stream(self, items: list[Placed], notifies: list[tuple[int, int]]) -> list[int]:
        """Check one queue's instructions (sorted by cycle) and return its words.
        `notifies` are the (cycle, slot) of the chip's notifies, sorted."""
        isa = self.isa
        words: list[int] = []
        free = 0
        prev: Placed | None = None
        nop = self.nop
        nop_words = self._nop_words
        append = words.append
        for p in items:
            cycle = p.cycle
            ctrl = p.spec.control
            if ctrl is None and cycle >= free and (prev is None or cycle != prev.cycle):
                # the common case: a unit instruction on an idle queue
                gap = cycle - free
                if gap:
                    while gap > 0:
                        n = min(gap, self.nop_max)
                        w = nop_words.get(n)
                        if w is None:
                            w = nop_words[n] = encode(nop, (n,))
                        append(w)
                        gap -= n
                p.row = len(words)
                append(p.word)
                p.busy_until = cycle
                free = cycle + 1
                prev = p
                continue
            if prev is not None and p.cycle == prev.cycle:
                self.diags.error(p.pos, f"two instructions on {isa.queues[p.slot].name} in cycle {p.cycle}",
                                 "a queue issues one instruction per cycle; move one to another cycle "
                                 "or another queue", notes=(f"the other is {_describe(isa, prev)} "
                                                            f"({self._where(prev)})",))
                continue
            if p.spec.control == "repeat":
                if prev is None or prev.cycle != p.cycle - 1 or "*" in prev.spec.units:
                    what = "nothing" if prev is None else _describe(isa, prev)
                    self.diags.error(p.pos, "repeat must issue the cycle after the unit instruction it repeats",
                                     f"the previous instruction on {isa.queues[p.slot].name} is {what}")
                    continue
                if prev.spec.steps and not self._steps_fit(p, prev):
                    continue
            elif p.cycle < free:
                self.diags.error(p.pos, f"{isa.queues[p.slot].name} is still busy in cycle {p.cycle}",
                                 f"issue at cycle {free} or later",
                                 notes=(f"{_describe(isa, prev)} ({self._where(prev)}) keeps it busy "
                                        f"until cycle {free - 1}",))
                continue
            gap = p.cycle - free
            while gap > 0:
                n = min(gap, self.nop_max)
                w = nop_words.get(n)
                if w is None:
                    w = nop_words[n] = encode(nop, (n,))
                words.append(w)
                gap -= n
            p.row = len(words)
            words.append(p.word)
            end = self.busy_end(p, prev, notifies)
            p.busy_until = end
            free = end + 1
            prev = p
        return words


def _repeat_hint(first: int, step: int, lo: int, hi: int) -> str:
    most = (hi - first) // step if step > 0 else (first - lo) // -step
    if most < 1:
        return f"from {first} with step {step} even one repeat leaves {lo}..{hi}"
    return f"repeat at most {most} time{'s' if most != 1 else ''} from {first} with step {step}"


def canonical_gap(gap: int, nop_max: int) -> list[int]:
    """The nop counts the scheduler emits for an idle gap (the disassembler relies on it)."""
    out = []
    while gap > 0:
        n = min(gap, nop_max)
        out.append(n)
        gap -= n
    return out
