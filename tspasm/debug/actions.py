"""The debugger commands that set points or look at state (no motion): break, watch, x, print, info, ...

A mixin of Session (session.py), split out only to keep each module short.
"""
from __future__ import annotations

from . import context, formats, links
from .formats import DebugError
from .points import Breakpoint, Watchpoint

WATCH_USAGE = "usage: watch [chip:]SLICE ADDR [rows] | Sn(E|W)@POS | link [chip:]Ln"


class Actions:
    # ---- breakpoints and watchpoints ---------------------------------------------

    def _new_number(self) -> int:
        self._number += 1
        return self._number

    def _parse_break(self, args: list[str], temporary: bool) -> Breakpoint:
        if not args:
            raise DebugError("usage: break <cycle> | file:line | LABEL | queue NAME | error")
        n = self._number + 1
        if args[0] == "error":
            return Breakpoint(n, "error", "any schedule error", temporary=temporary)
        if args[0] == "queue":
            if len(args) != 2:
                raise DebugError("usage: break queue [chip:]NAME")
            chip, name = formats.split_chip(args[1], self.chip)
            slot = self.queue_slot(name)
            return Breakpoint(n, "queue", f"each issue on {chip}:{name}", chip=self.check_chip(chip),
                              slot=slot, temporary=temporary)
        if len(args) != 1:
            raise DebugError("break takes one location")
        text = args[0]
        if text[0].isdigit() and ":" not in text:
            cycle = formats.parse_int(text, "the cycle")
            return Breakpoint(n, "cycle", f"cycle {cycle}", cycles=(cycle,), temporary=temporary)
        path, sep, line = text.rpartition(":")
        if sep and line.isdigit():
            return self._line_break(n, path, int(line), temporary)
        labels = [s for s in self.asm.program.symbols if s.kind == "label" and s.name == text]
        if labels:
            cycles = tuple(sorted({s.value for s in labels}))
            return Breakpoint(n, "cycle", f"label {text} (cycle {', '.join(map(str, cycles))})",
                              cycles=cycles, temporary=temporary)
        raise DebugError(f"{text!r} is not a cycle, file:line or label")

    def _line_break(self, n: int, path: str, line: int, temporary: bool) -> Breakpoint:
        def same(p: str) -> bool:
            return p == path or p.endswith("/" + path) or path.endswith("/" + p)
        hits = [p for (f, ln), ps in self._by_line.items() if ln == line and same(f) for p in ps]
        if not hits:
            raise DebugError(f"no instruction on {path}:{line}")
        cycles = tuple(sorted({p.cycle for p in hits}))
        where = f"{hits[0].pos.resolve()[0]}:{line}"
        return Breakpoint(n, "line", f"{where} (cycle {', '.join(map(str, cycles))})",
                          cycles=cycles, temporary=temporary)

    def cmd_break(self, word, args, temporary: bool = False) -> str:
        bp = self._parse_break(args, temporary)
        self._new_number()
        self.points[bp.number] = bp
        return f"{'temporary ' if temporary else ''}breakpoint {bp.number}: {bp.what}"

    def cmd_tbreak(self, word, args) -> str:
        return self.cmd_break(word, args, temporary=True)

    def cmd_delete(self, word, args) -> str:
        if not args:
            n = len(self.points)
            self.points.clear()
            return f"deleted {n} breakpoint{'s' if n != 1 else ''}/watchpoints"
        for a in args:
            k = formats.parse_int(a, "the breakpoint number")
            if k not in self.points:
                raise DebugError(f"no breakpoint or watchpoint number {k}")
            del self.points[k]
        return f"deleted {' '.join(args)}"

    def cmd_watch(self, word, args) -> str:
        if not args:
            raise DebugError(WATCH_USAGE)
        n = self._number + 1
        head = formats.split_chip(args[0], self.chip)[1].upper()
        if args[0].lower() == "link":
            if len(args) != 2:
                raise DebugError("usage: watch link [chip:]Ln   (like L0 or 1:L0; info links lists them)")
            chip, port = links.parse_port(self.machine, args[1], self.chip)
            w = Watchpoint(n, "link", f"link {chip}:L{port}{links.peer(self.machine, chip, port)}", chip,
                           port=port)
        elif head.startswith("C2C") or links.is_port(head):
            # a port or C2C queue where a MEM slice belongs: say how links are watched
            like = args[0] if links.is_port(head) else "L0"
            raise DebugError(f"C2C links are watched with `watch link [chip:]Ln`, like `watch link {like}`")
        elif "@" in args[0]:
            ref = formats.parse_stream(args[0], self.chip)
            self.check_chip(ref.chip)
            w = Watchpoint(n, "stream", f"{ref.chip}:{ref.name}@{ref.pos}", ref.chip, stream=ref.name, pos=ref.pos)
        else:
            if len(args) not in (2, 3):
                raise DebugError("usage: watch [chip:]SLICE ADDR [rows]")
            chip, name = formats.split_chip(args[0], self.chip)
            self.check_chip(chip)
            q = self.isa.queue_by_name.get(name)
            if q is None or q.unit != "MEM":
                raise DebugError(f"{name!r} is not a MEM slice (like MEM_W2 or MEM_E0)")
            addr = formats.parse_int(args[1], "the address")
            rows = formats.parse_int(args[2], "the row count") if len(args) == 3 else 1
            what = f"{chip}:{name} 0x{addr:04x}" + (f" ({rows} words)" if rows > 1 else "")
            w = Watchpoint(n, "mem", what, chip, slice=name, addr=addr, rows=rows)
        w.reset(self.machine)  # also validates the address now, not at the first step
        self._new_number()
        self.points[n] = w
        return f"watchpoint {n}: {w.what}"

    def cmd_display(self, word, args) -> str:
        if not args:
            if not self.displays:
                return "no display expressions"
            return "\n".join(f"{n}: {e} =\n{self._evaluate(e)}" for n, e in sorted(self.displays.items()))
        expr = " ".join(args)
        out = self._evaluate(expr)  # refuse a bad expression now
        if out.lstrip().startswith("<"):
            raise DebugError(out.strip()[1:-1])
        self._display_number += 1
        self.displays[self._display_number] = expr
        return f"{self._display_number}: {expr} =\n{out}"

    def cmd_undisplay(self, word, args) -> str:
        if not args:
            self.displays.clear()
            return "removed every display"
        for a in args:
            if self.displays.pop(formats.parse_int(a, "the display number"), None) is None:
                raise DebugError(f"no display number {a}")
        return f"removed display {' '.join(args)}"

    # ---- looking at values -----------------------------------------------------------

    def cmd_x(self, word, args) -> str:
        n, type_ = formats.parse_xfmt(word)
        if len(args) != 2:
            raise DebugError("usage: x/<n><type> [chip:]SLICE ADDR")
        chip, name = formats.split_chip(args[0], self.chip)
        self.check_chip(chip)
        addr = formats.parse_int(args[1], "the address")
        dtype = "i8" if type_ == "x" else type_
        values = self.machine.read_mem(chip, name, addr, n, dtype)
        if type_ == "x":
            values = values.view("uint8")
        out = []
        for r in range(n):
            out.append(f"{chip}:{name} 0x{addr + r:04x} ({type_}):")
            out.append(formats.lanes(values[r], type_))
        return "\n".join(out)

    def read_stream(self, ref: formats.StreamRef):
        nbytes = {"i8": 1, "x": 1, "i16": 2, "f16": 2, "i32": 4, "f32": 4}[ref.type]
        if ref.number + nbytes > 32:
            raise DebugError(f"a {ref.type} on {ref.name} would need streams past S31")
        planes = [self.machine.stream(ref.chip, f"S{ref.number + j}{ref.direction}", ref.pos)
                  for j in range(nbytes)]
        if all(p is None for p in planes):
            return None
        lanes = len(next(p for p in planes if p is not None))
        import numpy as np
        planes = [p if p is not None else np.zeros(lanes, np.uint8) for p in planes]
        return formats.stream_value(planes, ref.type)

    def cmd_print(self, word, args) -> str:
        if len(args) != 1:
            raise DebugError("usage: print [chip:]Sn(E|W)@POS[/type]")
        ref = formats.parse_stream(args[0], self.chip)
        self.check_chip(ref.chip)
        v = self.read_stream(ref)
        head = f"{ref}/{ref.type} at cycle {self.machine.cycle}"
        if v is None:
            return f"{head}: nothing on the stream"
        return f"{head}:\n{formats.lanes(v, ref.type)}"

    # ---- info and focus ---------------------------------------------------------------

    def cmd_info(self, word, args) -> str:
        if not args:
            raise DebugError("usage: info breakpoints|display|queues [all]|hash|links|stats|chip")
        what = args[0]
        if "breakpoints".startswith(what) or "watchpoints".startswith(what):
            if not self.points:
                return "no breakpoints or watchpoints"
            return "\n".join(f"{p.describe()}  hits {p.hits}" for _, p in sorted(self.points.items()))
        if "display".startswith(what):
            return self.cmd_display("display", [])
        if "queues".startswith(what):
            return self._info_queues(len(args) > 1 and args[1] == "all")
        if what == "hash":
            return f"cycle {self.machine.cycle} state hash 0x{self.machine.state_hash():016x}"
        if what == "links":
            return links.info_links(self.machine)
        if what == "stats":
            return " ".join(f"{k}={v}" for k, v in self.machine.stats().items())
        if what == "chip":
            info = self.machine.chip_info(self.chip)
            return f"chip {self.chip}: " + " ".join(f"{k}={v}" for k, v in info.items())
        raise DebugError(f"unknown info subcommand {what!r}")

    def _info_queues(self, show_all: bool) -> str:
        m = self.machine
        rows = []
        for slot in self.used_slots(self.chip):
            q = m.queue_info(self.chip, slot)
            active = q.state in ("ready", "repeating", "parked")
            if not (active or show_all):
                continue
            name = self.isa.queues[slot].name
            if active:
                i = context.describe_next(self, self.chip, slot, q)
                at = "parked" if q.next_cycle is None else f"@{q.next_cycle}"
                src = f"{i.loc[0].rsplit('/', 1)[-1]}:{i.loc[1]}" if i.loc else "(inserted)"
                rows.append(f"  {name:<8} {q.state:<9} next {at:<7} {i.text:<34} {src:<20} "
                            f"busy-until {q.busy_until}")
            else:
                rows.append(f"  {name:<8} {q.state:<9} {q.issued} issued, busy-until {q.busy_until}")
        if not rows:
            return f"chip {self.chip}: no queue has anything left to issue" + ("" if show_all else
                                                                             " (info queues all)")
        return f"chip {self.chip} queues at cycle {m.cycle}:\n" + "\n".join(rows)

    def cmd_chip(self, word, args) -> str:
        if args:
            self.chip = self.check_chip(formats.parse_int(args[0], "the chip"))
            if self.slot not in self.used_slots(self.chip):
                self.slot = self._first_slot(self.chip)
        return f"focused chip {self.chip}, queue {self.isa.queues[self.slot].name}"

    def cmd_queue(self, word, args) -> str:
        if not args:
            return f"focused queue {self.chip}:{self.isa.queues[self.slot].name}"
        chip, name = formats.split_chip(args[0], self.chip)
        self.chip = self.check_chip(chip)
        self.slot = self.queue_slot(name)
        q = self.isa.queues[self.slot]
        return f"focused queue {self.chip}:{q.name} (position {q.pos})"

    def cmd_list(self, word, args) -> str:
        marks: set[tuple[str, int]] = set()
        if args:
            path, _, line = args[0].rpartition(":")
            if not path or not line.isdigit():
                raise DebugError("usage: list [file:line]")
            center = int(line)
            match = [f for f, _ in self._by_line if f == path or f.endswith("/" + path)]
            path = match[0] if match else path
        else:
            cycle = self.machine.cycle
            issues = context.issuing(self, self.chip, cycle)
            if not issues:
                nxt = self.next_issue_cycle(self.chip)
                issues = context.issuing(self, self.chip, nxt) if nxt is not None else []
            marks = {(i.loc[0], i.loc[1]) for i in issues if i.loc}
            if not marks:
                raise DebugError("no instruction issues now or later on this chip")
            path, center = min(marks)
        lines = self.source_lines(path)
        if lines is None:
            raise DebugError(f"cannot read {path}")
        lo, hi = max(center - 5, 1), min(center + 5, len(lines))
        shown = lines
        if getattr(self, "color", False):  # the REPL: highlight with the .tsp lexer
            from pygments import highlight
            from pygments.formatters import TerminalFormatter
            from .lexer import TspLexer
            shown = highlight("\n".join(lines), TspLexer(), TerminalFormatter()).splitlines()
        return "\n".join(f"{'>' if (path, n) in marks else ' '} {n:4d}  {shown[n - 1]}" for n in range(lo, hi + 1))

    def cmd_context(self, word, args) -> str:
        return self._stop(self.stop_reason)

    def cmd_help(self, word, args) -> str:
        if not args:
            return self.registry.help()
        try:
            return self.registry.help(args[0])
        except KeyError:
            raise DebugError(f"no command {args[0]!r}") from None

    def cmd_quit(self, word, args) -> str:
        from .session import Quit
        raise Quit()
