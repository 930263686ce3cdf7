"""The debugger: machine state, breakpoints, time travel and the commands, without any terminal.

`Session(assembly).execute("step 3")` returns the text the REPL would print, so
tests, `tspasm debug -x` and the REPL share one code path.  This module must not
import prompt_toolkit.

Reverse execution is snapshot + deterministic replay: running forward keeps a
snapshot every SNAP_EVERY cycles (and at every stop), so going back to cycle N
restores the nearest snapshot at or before N and replays the rest - cost bounded
by SNAP_EVERY cycles, not N.  At most SNAP_BYTES of snapshots are kept; past that
every other one is dropped (the interval doubles), so memory stays bounded on a
long program and the replay distance grows only logarithmically.
"""
from __future__ import annotations

import shlex
from collections import defaultdict
from pathlib import Path

from ..engine.errors import EngineError
from ..engine.machine import Machine, StopReason
from ..errors import TspError
from ..runner import Loaded, make_machine
from . import context, formats
from .commands import Registry
from .formats import DebugError
from .actions import Actions
from .points import Breakpoint, Watchpoint

CHUNK = 10_000   # cycles per engine call in a long run: how often Ctrl-C is noticed
SNAP_EVERY = 1_000          # cycles between the snapshots time travel restores from
SNAP_BYTES = 256 << 20      # bound on the memory those snapshots take


class Quit(Exception):
    """`quit`: the REPL leaves its loop."""


class Session(Actions):
    def __init__(self, assembly, *, sources: dict[str, str] | None = None, topology=None,
                 path: str | None = None, clocks=None):
        """topology: as `tspasm run --topology` takes it (a name, FILE.toml, a Topology or None for
        the smallest built-in holding the program's chips); path: the program, for diagnostics;
        clocks: a ClockModel (seeded drift and jitter; replays keep the same seed)."""
        self.clocks = clocks
        self.asm = assembly
        self.isa = assembly.isa
        self.registry = Registry()
        self._sources = dict(sources or {})
        self.placed_at = {(p.chip, p.slot, p.row): p for p in assembly.placed if p.row >= 0}
        self._by_line: dict[tuple[str, int], list] = defaultdict(list)
        for p in assembly.placed:
            path, line, _ = p.pos.resolve()
            self._by_line[(path, line)].append(p)
        self._slots = {chip: sorted(int(s) for s in (code.any(axis=(0, 2)).nonzero()[0]))
                       for chip, code in assembly.program.code.items()}
        chips = sorted(assembly.program.code) or [0]
        self.chip = chips[0]
        self.slot = self._first_slot(self.chip)
        self.points: dict[int, Breakpoint | Watchpoint] = {}
        self.displays: dict[int, str] = {}
        self._number = 0
        self._display_number = 0
        self.last_streams: dict = {}
        self.stop_reason = "start of program"
        self.fault: str | None = None     # an engine error stopped the machine here
        self.halted = False
        self.interrupt = False            # set from the REPL's Ctrl-C handler, polled between chunks
        self.failed = False               # the last command was an error (for `debug -x` exit status)
        self._loaded = Loaded(path or next(iter(assembly.program.files), "<program>"), assembly.program,
                              assembly)
        self.topology = topology
        self.machine = self._new_machine()
        self.topology = self.machine.topology   # resolved once: every replay runs on the same links
        self._hazards_seen = 0
        self._snaps: dict[int, tuple] = {}   # cycle -> (Snapshot, halted)
        self._snap_every = SNAP_EVERY

    # ---- helpers used by context and inspect -----------------------------------------

    def _new_machine(self) -> Machine:
        # Built by runner.make_machine, as `tspasm run` builds it, so --topology resolves the same way and
        # a program the topology cannot hold fails with run's diagnostic (RunError) or UsageError.
        # warn mode: a schedule error is recorded and the run goes on, so `break error` can stop on it.
        return make_machine(self.asm.program, "warn", self.topology, self._loaded, self.clocks)

    def _keep_snapshot(self, force: bool = False) -> None:
        """Remember the machine now if the last kept snapshot is SNAP_EVERY cycles back (or force)."""
        m = self.machine
        if self.fault or m.cycle in self._snaps:
            return
        last = max((c for c in self._snaps if c <= m.cycle), default=0)
        if not force and m.cycle - last < self._snap_every:
            return
        self._snaps[m.cycle] = (m.snapshot(), self.halted)
        while sum(s.nbytes for s, _ in self._snaps.values()) > SNAP_BYTES and len(self._snaps) > 1:
            self._snap_every *= 2
            for i, c in enumerate(sorted(self._snaps)):
                if i % 2:
                    del self._snaps[c]

    def _restore_before(self, cycle: int) -> None:
        """Put the machine at the latest snapshot at or before `cycle` (cycle 0: a fresh machine)."""
        best = max((c for c in self._snaps if c <= cycle), default=None)
        if best is None:
            self.machine.close()
            self.machine = self._new_machine()
            self.halted = False
        else:
            snap, self.halted = self._snaps[best]
            self.machine.restore(snap)
        self.fault = None
        self._hazards_seen = self.machine.hazard_count

    def _first_slot(self, chip: int) -> int:
        slots = self._slots.get(chip) or [0]
        return min(slots, key=lambda s: min((p.cycle for p in self.asm.placed
                                             if p.chip == chip and p.slot == s), default=0))

    def used_slots(self, chip: int) -> list[int]:
        return self._slots.get(chip, [])

    def source_line(self, path: str, line: int) -> str | None:
        lines = self.source_lines(path)
        return lines[line - 1].strip() if lines and 0 < line <= len(lines) else None

    def source_lines(self, path: str) -> list[str] | None:
        if path not in self._sources:
            try:
                self._sources[path] = Path(path).read_text(encoding="utf-8")
            except OSError:
                self._sources[path] = None
        text = self._sources[path]
        return text.splitlines() if text is not None else None

    def next_issue_cycle(self, chip: int) -> int | None:
        cycles = [q.next_cycle for s in self.used_slots(chip)
                  if (q := self.machine.queue_info(chip, s)).state in ("ready", "repeating")
                  and q.next_cycle is not None]
        return min(cycles, default=None)

    def queue_slot(self, name: str) -> int:
        q = self.isa.queue_by_name.get(name)
        if q is None:
            raise DebugError(f"no queue named {name!r} (queues look like MEM_W2, VXM0, MXM0_W)")
        return q.slot

    def check_chip(self, chip: int) -> int:
        if chip not in self.asm.program.code and chip != 0:
            raise DebugError(f"chip {chip} has no code in this program (chips: "
                             f"{' '.join(map(str, sorted(self.asm.program.code)))})")
        return chip

    # ---- the command loop ----------------------------------------------------------

    def execute(self, line: str) -> str:
        """Run one command line and return its output; user errors come back as one line."""
        self.failed = False
        line = line.strip()
        if not line or line.startswith("#"):
            return ""
        word, _, rest = line.partition(" ")
        base = word.split("/", 1)[0]
        cmd = self.registry.lookup(base)
        if cmd is None:
            self.failed = True
            return f"error: unknown command {base!r} (type `help` for the list)"
        try:
            args = shlex.split(rest)
        except ValueError as exc:
            self.failed = True
            return f"error: {exc}"
        try:
            return getattr(self, cmd.handler)(word, args)
        except Quit:
            raise
        except (DebugError, TspError) as exc:
            self.failed = True
            return "error: " + str(exc).splitlines()[0]

    # ---- running ---------------------------------------------------------------------

    def _stop(self, reason: str, notes: list[str] | None = None) -> str:
        self.stop_reason = reason
        self._keep_snapshot(force=True)
        parts = list(notes or [])
        parts.append(context.render(self, reason, color=getattr(self, "color", False)))
        for n, expr in sorted(self.displays.items()):
            parts.append(f"{n}: {expr} =\n{self._evaluate(expr)}")
        return "\n".join(parts)

    def _evaluate(self, expr: str) -> str:
        word, _, rest = expr.partition(" ")
        try:
            if word.startswith("x"):
                return self.cmd_x(word, rest.split())
            return self.cmd_print("print", [expr])
        except (DebugError, TspError) as exc:
            return f"  <{str(exc).splitlines()[0]}>"

    def _require_running(self) -> None:
        if self.fault:
            raise DebugError(f"the machine stopped with an engine error at cycle {self.machine.cycle}; "
                             "go back with reverse-step or goto")

    def _advance(self, limit: int | None = None, next_slot: int | None = None,
                 collect: list | None = None) -> tuple[str, list[str]]:
        """Run forward until a point fires, the limit, the end, an error or Ctrl-C.

        collect: instead of stopping at a point, record (cycle, reason) and go on (reverse-continue)."""
        m = self.machine
        notes: list[str] = []
        breaks = [p for p in self.points.values() if isinstance(p, Breakpoint)]
        watches = [p for p in self.points.values() if isinstance(p, Watchpoint)]
        for w in watches:
            w.reset(m)
        if self.halted:
            return "the program has halted", notes
        while True:
            cur = m.cycle
            if self.interrupt:
                self.interrupt = False
                return "interrupted", notes
            if limit is not None and cur >= limit:
                return f"reached cycle {limit}", notes
            target = cur + (1 if watches else CHUNK)
            if limit is not None:
                target = min(target, limit)
            for b in breaks:
                c = b.candidate(m, cur)
                if c is not None:
                    target = min(target, c)
            if next_slot is not None:
                q = m.queue_info(self.chip, next_slot)
                if q.next_cycle is not None:
                    target = min(target, q.next_cycle if q.next_cycle > cur else cur + 1)
            try:
                stop = m.run(target - cur)
            except EngineError as exc:
                self.fault = str(exc).splitlines()[0]
                return f"engine error: {self.fault}", notes
            now = m.cycle
            self._keep_snapshot()
            hazards = m.hazards[self._hazards_seen:] if m.hazard_count > self._hazards_seen else []
            self._hazards_seen += len(hazards)
            if hazards and collect is None and any(b.kind == "error" for b in breaks):
                # The engine reports hazards after a whole chunk: replay to just after the first one.
                first = min(h.cycle for h in hazards)
                hazards = [h for h in hazards if h.cycle == first]
                if first + 1 < now:
                    self.goto(first + 1)
                    m, now = self.machine, self.machine.cycle
                    stop = None
            for h in hazards:
                where = f" ({h.location})" if h.location else ""
                notes.append(f"schedule error at cycle {h.cycle} on chip {h.chip}: {h.message}{where}")
            fired = [b for b in breaks if b.fires(m, now, hazards)]
            changes = [(w, ch) for w in watches if (ch := w.changed(m)) is not None]
            if fired or changes:
                reasons = [b.describe() for b in fired] + [w.describe() + " changed" for w, _ in changes]
                if collect is not None:
                    collect.append((now, ", ".join(reasons)))
                else:
                    for b in fired:
                        b.hits += 1
                        if b.temporary:
                            del self.points[b.number]
                    for w, (old, new) in changes:
                        w.hits += 1
                        notes.append(w.change_note(old, new))
                    return ", ".join(reasons), notes
            if next_slot is not None:
                q = m.queue_info(self.chip, next_slot)
                if q.state in ("ready", "repeating") and q.next_cycle == now:
                    return f"{self.isa.queues[next_slot].name} issues next", notes
            if stop is StopReason.HALTED:
                self.halted = True
                return f"program halted at cycle {now}", notes
            if now == cur:  # defensive: the engine made no progress and did not say it halted
                self.halted = True
                return f"program halted at cycle {now}", notes

    def goto(self, cycle: int) -> None:
        """Put the machine at `cycle` (or the end of the program if that comes first)."""
        if cycle < 0:
            raise DebugError("cycles start at 0")
        if cycle < self.machine.cycle or self.fault:
            self._restore_before(cycle)
        m = self.machine
        while cycle > m.cycle and not self.halted and not self.fault:
            # in SNAP_EVERY steps, so a long jump leaves snapshots to come back to
            step = min(cycle - m.cycle, self._snap_every)
            try:
                if m.run(step) is StopReason.HALTED:
                    self.halted = True
            except EngineError as exc:
                self.fault = str(exc).splitlines()[0]
            self._keep_snapshot()
        self._hazards_seen = m.hazard_count

    # ---- motion commands -------------------------------------------------------------

    def _count(self, args: list[str], default: int = 1) -> int:
        n = formats.parse_int(args[0], "the count") if args else default
        if n < 1:
            raise DebugError("the count must be at least 1")
        return n

    def cmd_step(self, word, args) -> str:
        self._require_running()
        n = self._count(args)
        reason, notes = self._advance(limit=self.machine.cycle + n)
        if reason.startswith("reached cycle"):
            reason = f"stepped {n} cycle{'s' if n != 1 else ''}"
        return self._stop(reason, notes)

    def cmd_next(self, word, args) -> str:
        self._require_running()
        q = self.machine.queue_info(self.chip, self.slot)
        if q.state not in ("ready", "repeating"):
            raise DebugError(f"{self.isa.queues[self.slot].name} has nothing left to issue ({q.state})")
        reason, notes = self._advance(next_slot=self.slot)
        return self._stop(reason, notes)

    def cmd_continue(self, word, args) -> str:
        self._require_running()
        reason, notes = self._advance()
        return self._stop(reason, notes)

    def cmd_until(self, word, args) -> str:
        self._require_running()
        if len(args) != 1:
            raise DebugError("usage: until <cycle>")
        target = formats.parse_int(args[0], "the cycle")
        if target <= self.machine.cycle:
            raise DebugError(f"cycle {target} is not ahead of cycle {self.machine.cycle} "
                             "(use goto or reverse-step to go back)")
        reason, notes = self._advance(limit=target)
        return self._stop(reason, notes)

    def cmd_goto(self, word, args) -> str:
        if len(args) != 1:
            raise DebugError("usage: goto <cycle>")
        target = formats.parse_int(args[0], "the cycle")
        self.goto(target)
        now = self.machine.cycle
        reason = f"at cycle {target}" if now == target else f"program halted at cycle {now}"
        return self._stop(reason)

    def cmd_reverse_step(self, word, args) -> str:
        n = self._count(args)
        cur = self.machine.cycle
        if cur == 0:
            raise DebugError("already at cycle 0")
        self.goto(max(cur - n, 0))
        return self._stop(f"reverse-stepped to cycle {self.machine.cycle}")

    def cmd_reverse_continue(self, word, args) -> str:
        cur = self.machine.cycle
        if cur == 0:
            raise DebugError("already at cycle 0")
        # Scan backwards one snapshot interval at a time: replay [start, end] collecting the
        # stops, and take the last one; an empty interval moves the scan one snapshot back.
        hits: list[tuple[int, str]] = []
        end = cur - 1
        while not hits and end > 0:
            start = max((c for c in self._snaps if c < end), default=0)
            self._restore_before(start)
            if self.machine.cycle < end:
                self._advance(limit=end, collect=hits)
            end = start
        target, reason = hits[-1] if hits else (0, "start of program (no earlier stop)")
        self.goto(target)
        return self._stop(reason)
