"""Breakpoints and watchpoints: what they watch, which cycles could fire them, and the check.

Evaluation is in Python between engine runs: the session runs the engine to the
next candidate cycle (from the assembler's schedule or the engine's queue state)
and asks each point whether it fires.  Watchpoints have no candidates, so a run
with one steps a cycle at a time.  Moving the checks into the C engine is the
intended end state.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from . import formats, links

_ACTIVE = ("ready", "repeating")


@dataclass
class Breakpoint:
    number: int
    kind: str                       # "cycle", "line", "queue", "error"
    what: str                       # as the user wrote it, normalized
    chip: int | None = None
    cycles: tuple[int, ...] = ()    # sorted static stop cycles (cycle and line breakpoints)
    slot: int | None = None         # queue breakpoints
    temporary: bool = False
    hits: int = 0

    def candidate(self, machine, cur: int) -> int | None:
        """The earliest cycle > cur at which this could fire (None: unknown or never)."""
        if self.kind in ("cycle", "line"):
            i = bisect.bisect_right(self.cycles, cur)
            return self.cycles[i] if i < len(self.cycles) else None
        if self.kind == "queue":
            q = machine.queue_info(self.chip, self.slot)
            if q.state not in _ACTIVE or q.next_cycle is None:
                return None
            # At or before cur: the engine has not refreshed its plan yet; look again next cycle.
            return q.next_cycle if q.next_cycle > cur else cur + 1
        return None

    def fires(self, machine, now: int, new_hazards: list) -> bool:
        if self.kind in ("cycle", "line"):
            i = bisect.bisect_left(self.cycles, now)
            return i < len(self.cycles) and self.cycles[i] == now
        if self.kind == "queue":
            q = machine.queue_info(self.chip, self.slot)
            return q.state in _ACTIVE and q.next_cycle == now
        if self.kind == "error":
            return bool(new_hazards)
        return False

    def describe(self) -> str:
        temp = " (temporary)" if self.temporary else ""
        return f"breakpoint {self.number}: {self.what}{temp}"


@dataclass
class Watchpoint:
    number: int
    kind: str                       # "mem", "stream" or "link"
    what: str
    chip: int
    slice: str | None = None
    addr: int = 0
    rows: int = 1
    stream: str | None = None       # e.g. "S3E"
    pos: int = 0
    port: int = 0                   # link watchpoints: L<port> of chip
    temporary: bool = False
    hits: int = 0
    last: np.ndarray | tuple | None = field(default=None, repr=False)

    def read(self, machine) -> np.ndarray | tuple | None:
        if self.kind == "mem":
            return machine.read_mem(self.chip, self.slice, self.addr, self.rows, "i8")
        if self.kind == "link":
            return links.read(machine, self.chip, self.port)
        return machine.stream(self.chip, self.stream, self.pos)

    def reset(self, machine) -> None:
        """Take the current value as the baseline (after a jump in time)."""
        self.last = self.read(machine)

    def changed(self, machine) -> tuple | None:
        """(old, new) if the value differs from the baseline (and move the baseline), else None."""
        new = self.read(machine)
        old = self.last
        if old is None or new is None:
            same = old is None and new is None
        else:
            same = np.array_equal(old, new) if isinstance(new, np.ndarray) else old == new
        if same:
            return None
        self.last = new
        return old, new

    def change_note(self, old, new) -> str:
        """The lines a stop prints for a change: old/new values (MEM, stream) or counter moves (link)."""
        if self.kind == "link":
            return "\n".join([self.describe(), *("  " + ln for ln in links.change_lines(old, new))])
        return (f"{self.describe()}\n  old: {formats.short(_i8(old), 'i8')}"
                f"\n  new: {formats.short(_i8(new), 'i8')}")

    def describe(self) -> str:
        return f"watchpoint {self.number}: {self.what}"


def _i8(a):
    return None if a is None else a.reshape(-1).view("int8")
