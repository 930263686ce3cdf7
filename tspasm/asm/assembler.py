"""Assembler passes: parse (with .include) -> symbols and cycles -> bind ->
place and compress -> program image.  All errors of the input are collected and
raised together, sorted, as one AssemblyError."""
from __future__ import annotations

import gc
import os
from collections import defaultdict
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np

from ..image.program import LINE_DTYPE, DataSegment, OutputRegion, Program, Symbol
from ..isa import default_isa
from ..isa.model import Isa
from . import ast
from .binder import Binder
from .data import DataError, inline_array, npy_array, number_array, resolve_npy
from .diagnostics import AssemblyError, Collector, Diagnostic
from .expr import ExprError, evaluate
from .parser import Parser
from .schedule import Placed, Scheduler

MAX_INCLUDE_DEPTH = 32


@dataclass
class Assembly:
    """The result of assembling: the image plus what listings and checks need."""

    isa: Isa
    program: Program
    placed: list[Placed] = field(default_factory=list)


class _Pass1:
    """Walks statements in order: chip sections, symbols, cycles, data, outputs."""

    def __init__(self, isa: Isa, diags: Collector):
        self.isa = isa
        self.diags = diags
        self.symbols: dict[str, int] = {}
        self.symbol_info: dict[str, tuple[str, int, ast.Node]] = {}
        self.chip = 0
        self.cursor: dict[int, int] = {}
        self.pending_labels: list[ast.Label] = []
        self.instrs: list[tuple[int, int, ast.Instr, tuple | None]] = []
        self.data: list[tuple[int, ast.Data]] = []
        self.outputs: list[tuple[int, ast.Output]] = []
        self.loc: tuple | None = None
        self.max_chips = isa.param("system.max_chips")
        self.max_cycle = isa.param("system.max_cycle")

    def define(self, name: str, value: int, kind: str, node: ast.Node, tok: int) -> None:
        if name in self.symbol_info:
            _, _, first = self.symbol_info[name]
            path, line, col = first.pos(getattr(first, "tok", -1)).resolve()
            self.diags.error(node.pos(tok), f"symbol `{name}` is already defined",
                             notes=(f"first defined at {path}:{line}:{col}",))
            return
        if name in self.isa.queue_by_name or name in _RESERVED:
            self.diags.error(node.pos(tok), f"`{name}` is a reserved name and cannot be a symbol")
            return
        self.symbols[name] = value
        self.symbol_info[name] = (kind, self.chip, node)

    def _eval(self, expr, node: ast.Node, tok: int) -> int | None:
        try:
            return evaluate(expr, self.symbols)
        except ExprError as exc:
            self.diags.error(node.pos(tok), str(exc), exc.hint)
            return None

    def _flush_labels(self, cycle: int) -> None:
        for lab in self.pending_labels:
            self.define(lab.name, cycle, "label", lab, lab.tok)
        self.pending_labels = []

    def run(self, nodes: list[ast.Node]) -> None:
        instrs = self.instrs
        for node in nodes:
            t = type(node)
            if t is ast.Bundle:
                cycle = self._cycle(node)
                if cycle is None:
                    continue
                if self.pending_labels:
                    self._flush_labels(cycle)
                chip = self.chip
                for ins in node.instrs:
                    instrs.append((chip, cycle, ins, self.loc))
                    self.loc = None
            elif t is ast.Label:
                self.pending_labels.append(node)
            elif t is ast.Equ:
                v = self._eval(node.expr, node, node.tok)
                if v is not None:
                    self.define(node.name, v, "equ", node, node.tok)
            elif t is ast.Chip:
                self._end_section()
                v = self._eval(node.expr, node, node.tok)
                if v is not None:
                    if 0 <= v < self.max_chips:
                        self.chip = v
                    else:
                        self.diags.error(node.pos(node.tok), f"chip {v} out of range",
                                         f"chips are 0..{self.max_chips - 1}")
            elif t is ast.Data:
                self.data.append((self.chip, node))
            elif t is ast.Output:
                self.outputs.append((self.chip, node))
            elif t is ast.Loc:
                if 0 < node.line < 1 << 32 and 0 <= node.col < 1 << 32:
                    self.loc = (node.path, node.line, node.col)
                else:
                    self.diags.error(node.pos(), f".loc line {node.line} column {node.col} out of range",
                                     "lines are 1..4294967295, columns 0..4294967295")
        self._end_section()

    def _end_section(self) -> None:
        if self.pending_labels:
            last = self.cursor.get(self.chip)
            self._flush_labels(0 if last is None else last + 1)

    def _cycle(self, node: ast.Bundle) -> int | None:
        last = self.cursor.get(self.chip)
        if node.cycle is None:
            cycle = 0 if last is None else last + 1
        else:
            kind, expr, tok = node.cycle
            if type(expr) is int and 0 <= expr <= self.max_cycle:
                v = expr
            else:
                v = self._eval(expr, node, tok)
            if v is None:
                return None
            cycle = v if kind == "abs" else (0 if last is None else last) + v
            if not 0 <= cycle <= self.max_cycle:
                self.diags.error(node.pos(tok), f"cycle {cycle} out of range",
                                 f"cycles are 0..{self.max_cycle}")
                return None
        self.cursor[self.chip] = cycle
        return cycle


_RESERVED = {f"S{n}{d}" for n in range(32) for d in "EW"} | {f"L{n}" for n in range(64)}


class Assembler:
    def __init__(self, isa: Isa | None = None, memoize: bool = True):
        self.isa = isa or default_isa()
        self.diags = Collector()
        self.parser = Parser(self.diags, memoize=memoize)

    # -- reading sources ----------------------------------------------------
    def _read(self, path: str, pos=None) -> str | None:
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
            reason = getattr(exc, "strerror", None) or str(exc)
            self._file_error(path, pos, f"cannot read `{path!r}`: {reason}" if "\0" in path
                             else f"cannot read `{path}`: {reason}")
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._file_error(path, pos, f"`{path}` is not UTF-8 text (byte {exc.start})")
            return None

    def _file_error(self, path: str, pos, message: str) -> None:
        """At the .include that named the file, or at the file itself."""
        if pos is not None:
            self.diags.error(pos, message)
        else:
            self.diags.add(Diagnostic(path, 0, 0, message))

    def _expand(self, nodes: list[ast.Node], path: str, stack: list[str]) -> list[ast.Node]:
        out: list[ast.Node] = []
        for node in nodes:
            if type(node) is not ast.Include:
                out.append(node)
                continue
            if "\0" in node.path:
                self.diags.error(node.pos(node.tok), "an .include path cannot contain a NUL character")
                continue
            target = node.path if os.path.isabs(node.path) else \
                os.path.join(os.path.dirname(path), node.path)
            real = os.path.realpath(target)
            if real in stack:
                self.diags.error(node.pos(node.tok), f"`{node.path}` includes itself",
                                 "remove the circular .include")
                continue
            if len(stack) >= MAX_INCLUDE_DEPTH:
                self.diags.error(node.pos(node.tok), "includes nested too deeply")
                continue
            text = self._read(target, node.pos(node.tok))
            if text is None:
                continue
            inner = self.parser.parse_text(text, target)
            out.extend(self._expand(inner, target, stack + [real]))
        return out

    # -- the passes -----------------------------------------------------------
    def assemble_text(self, text: str, path: str = "<input>") -> Assembly:
        # The passes allocate millions of small acyclic objects; the cyclic garbage
        # collector would rescan them over and over (quadratic in program size).
        enabled = gc.isenabled()
        gc.disable()
        try:
            nodes = self.parser.parse_text(text, path)
            nodes = self._expand(nodes, path, [os.path.realpath(path)])
            return self._assemble(nodes)
        finally:
            if enabled:
                gc.enable()

    def assemble_file(self, path: str) -> Assembly:
        text = self._read(path)
        if text is None:
            self.diags.raise_if_any()
        return self.assemble_text(text, path)

    def _assemble(self, nodes: list[ast.Node]) -> Assembly:
        isa = self.isa
        p1 = _Pass1(isa, self.diags)
        p1.run(nodes)
        binder = Binder(isa, self.diags)
        symbols = p1.symbols
        placed: list[Placed] = []
        per_queue: dict[tuple[int, int], list[Placed]] = defaultdict(list)
        notifies: dict[int, list[int]] = defaultdict(list)
        bind = binder.bind
        for order, (chip, cycle, node, loc) in enumerate(p1.instrs):
            r = bind(node, symbols)
            if r is None:
                continue
            queue, spec, values, word = r
            p = Placed(chip, queue.slot, cycle, spec, values, word, node.stmt, node.qtok, order, loc)
            placed.append(p)
            per_queue[(chip, queue.slot)].append(p)
            if spec.control == "release":
                notifies[chip].append(cycle)
        for lst in notifies.values():
            lst.sort()
        sched = Scheduler(isa, self.diags)
        streams: dict[tuple[int, int], list[int]] = {}
        by_cycle = attrgetter("cycle")  # stable: ties keep source order
        in_row_order: list[Placed] = []
        for key in sorted(per_queue):
            items = per_queue[key]
            items.sort(key=by_cycle)
            streams[key] = sched.queue_stream(items, notifies.get(key[0], []))
            in_row_order.extend(items)
        data_pairs = [(seg, d) for chip, d in p1.data if (seg := self._data(chip, d, symbols))]
        self._check_overlaps(data_pairs)
        data = [seg for seg, _ in data_pairs]
        out_pairs = [(o, d) for chip, d in p1.outputs if (o := self._output(chip, d, symbols))]
        self._check_output_names(out_pairs)
        outputs = [o for o, _ in out_pairs]
        self.diags.raise_if_any()
        program = Program(isa.fingerprint, self._rows(streams), data, outputs,
                          [Symbol(n, v, p1.symbol_info[n][0], p1.symbol_info[n][1])
                           for n, v in symbols.items()])
        program.files, program.lines = _line_table(in_row_order, isa)
        program.canonicalize()
        placed.sort(key=attrgetter("chip", "cycle", "slot"))
        return Assembly(isa, program, placed)

    def _rows(self, streams: dict[tuple[int, int], list[int]]) -> dict[int, np.ndarray]:
        nslots = len(self.isa.queues)
        width = self.isa.param("geometry.slot_bytes")
        by_chip: dict[int, dict[int, list[int]]] = defaultdict(dict)
        for (chip, slot), words in streams.items():
            by_chip[chip][slot] = words
        code = {}
        for chip, slots in by_chip.items():
            nrows = max(len(w) for w in slots.values())
            arr = np.zeros((nrows, nslots, width), np.uint8)
            for slot, words in slots.items():
                if words:
                    raw = b"".join(w.to_bytes(width, "little") for w in words)
                    arr[:len(words), slot, :] = np.frombuffer(raw, np.uint8).reshape(-1, width)
            code[chip] = arr
        return code

    # -- data and outputs -------------------------------------------------------
    def _mem_slice(self, node, name: str, tok: int, nbytes: int):
        q = self.isa.queue_by_name.get(name)
        if q is None or q.unit != "MEM":
            from .binder import _close
            self.diags.error(node.pos(tok), f"`{name}` is not a MEM slice",
                             _close(name, [x.name for x in self.isa.queues if x.unit == "MEM"]) or
                             "MEM slices are MEM_W0..MEM_W43 and MEM_E0..MEM_E43")
            return None
        last = self.isa.param("mem.slices_per_hemisphere") - 1
        if q.index + nbytes - 1 > last:
            self.diags.error(node.pos(tok), f"{nbytes}-byte elements at {name} need slices "
                             f"{name}..MEM_{q.hemi}{q.index + nbytes - 1}",
                             f"byte plane j lives in slice index + j; start at MEM_{q.hemi}{last - nbytes + 1} "
                             "or lower")
            return None
        return q

    def _addr(self, node, expr, tok, symbols, rows: int):
        try:
            addr = evaluate(expr, symbols)
        except ExprError as exc:
            self.diags.error(node.pos(tok), str(exc), exc.hint)
            return None
        words = self.isa.param("mem.words")
        if not 0 <= addr or addr + max(rows, 1) > words:
            self.diags.error(node.pos(tok), f"address {addr} with {max(rows, 1)} vector(s) "
                             f"does not fit in MEM", f"addresses are 0..{words - 1}")
            return None
        return addr

    def _dtype(self, node, name: str, tok: int):
        if name not in self.isa.dtype_bytes:
            self.diags.error(node.pos(tok), f"unknown element type `{name}`",
                             "types are " + ", ".join(self.isa.dtypes))
            return None
        return np.dtype(self.isa.dtype_numpy[name]).newbyteorder("<")

    def _data(self, chip: int, node: ast.Data, symbols) -> DataSegment | None:
        dtype = self._dtype(node, node.dtype, node.dtok)
        if dtype is None:
            return None
        lanes = self.isa.param("geometry.lanes")
        try:
            if isinstance(node.values, str):
                if node.bits:
                    raise DataError("`bits` applies to inline values, not to a .npy file", node.vtok)
                arr = npy_array(resolve_npy(node.values, node.stmt.path), dtype)
            elif isinstance(node.values, ast.NumberList):
                arr = number_array(node.values.numbers, dtype, node.bits)
            else:
                arr = inline_array(node.values, dtype, node.bits)
        except DataError as exc:
            self.diags.error(node.pos(exc.tok if exc.tok >= 0 else node.vtok), str(exc), exc.hint)
            return None
        if arr.ndim not in (1, 2) or arr.shape[-1] > lanes or arr.size == 0:
            self.diags.error(node.pos(node.vtok), f"data of shape {arr.shape} does not fit",
                             f"give one vector of up to {lanes} elements, or rows of up to {lanes}")
            return None
        rows = arr.shape[0] if arr.ndim == 2 else 1
        q = self._mem_slice(node, node.slice, node.stok, dtype.itemsize)
        addr = self._addr(node, node.addr, node.atok, symbols, rows)
        if q is None or addr is None:
            return None
        return DataSegment(chip, q.slot, addr, node.dtype, tuple(arr.shape),
                           np.ascontiguousarray(arr, dtype).tobytes())

    def _check_overlaps(self, pairs: list[tuple[DataSegment, ast.Data]]) -> None:
        by_node = {id(s): n for s, n in pairs}
        spans: dict[tuple[int, str, int], list] = defaultdict(list)
        for seg, _ in pairs:
            q = self.isa.queues[seg.slot]
            rows = seg.shape[0] if len(seg.shape) == 2 else 1
            for j in range(self.isa.dtype_bytes[seg.dtype]):
                spans[(seg.chip, q.hemi, q.index + j)].append((seg.addr, seg.addr + rows, seg))
        for key, lst in spans.items():
            lst.sort(key=lambda t: t[0])
            reach = lst[0]  # the interval reaching furthest so far: every later overlap meets it
            for b0, b1, s1 in lst[1:]:
                a0, a1, s0 = reach
                if b1 > a1:
                    reach = (b0, b1, s1)
                if b0 < a1:
                    n0, n1 = by_node.get(id(s0)), by_node.get(id(s1))
                    if n1 is None or n0 is None:
                        continue
                    path, line, col = n0.pos(n0.stok).resolve()
                    self.diags.error(n1.pos(n1.atok), f".data overlaps earlier .data in "
                                     f"MEM_{key[1]}{key[2]} at address {b0}",
                                     notes=(f"the other .data is at {path}:{line}:{col}",))

    def _check_output_names(self, pairs: list[tuple[OutputRegion, ast.Output]]) -> None:
        seen: dict[str, ast.Output] = {}
        for o, node in pairs:
            first = seen.get(o.name)
            if first is not None:
                path, line, col = first.pos(first.stok).resolve()
                self.diags.error(node.pos(node.stok), f"output `{o.name}` is declared twice",
                                 "give each .output its own name: `.output NAME = SLICE ADDR TYPE`",
                                 notes=(f"first declared at {path}:{line}:{col}",))
            else:
                seen[o.name] = node

    def _output(self, chip: int, node: ast.Output, symbols) -> OutputRegion | None:
        dtype = self._dtype(node, node.dtype, node.dtok)
        rows = 0
        if node.rows is not None:
            try:
                rows = evaluate(node.rows, symbols)
            except ExprError as exc:
                self.diags.error(node.pos(node.rtok), str(exc), exc.hint)
                return None
            if rows < 1:
                self.diags.error(node.pos(node.rtok), f"an output needs at least 1 row, got {rows}")
                return None
        if dtype is None:
            return None
        q = self._mem_slice(node, node.slice, node.stok, dtype.itemsize)
        addr = self._addr(node, node.addr, node.atok, symbols, rows)
        if q is None or addr is None:
            return None
        name = node.name or f"{node.slice}_{addr:04x}" + (f"_chip{chip}" if chip else "")
        return OutputRegion(name, chip, q.slot, addr, node.dtype, rows)


def _queue_column(p: Placed, qname: str) -> tuple[str, int, int]:
    """file:line:col of the queue name that issues p (fast path: a str.find on one line)."""
    stmt = p.stmt
    text = stmt.text
    at = text.find(qname)
    if at >= 0 and "\n" not in text and text.find(qname, at + 1) < 0:
        end = at + len(qname)
        if (at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_")) and \
                (end == len(text) or not (text[end].isalnum() or text[end] == "_")):
            return stmt.path, stmt.line, at + 1
    return p.pos.resolve()


def _line_table(placed_sorted: list[Placed], isa: Isa) -> tuple[list[str], np.ndarray]:
    """Line table rows for placed instructions already in (chip, slot, row) order."""
    files: dict[str, int] = {}
    names = [q.name for q in isa.queues]
    entries = []
    append = entries.append
    for p in placed_sorted:
        if p.row < 0:
            continue
        path, ln, cl = p.loc if p.loc is not None else _queue_column(p, names[p.slot])
        idx = files.get(path)
        if idx is None:
            idx = files[path] = len(files)
        append((p.chip, p.slot, p.row, idx, ln, cl))
    return list(files), np.array(entries, LINE_DTYPE) if entries else np.zeros(0, LINE_DTYPE)


def assemble_text(text: str, path: str = "<input>", isa: Isa | None = None, memoize: bool = True) -> Assembly:
    return Assembler(isa, memoize).assemble_text(text, path)


def assemble_file(path: str, isa: Isa | None = None) -> Assembly:
    return Assembler(isa).assemble_file(path)


__all__ = ["Assembly", "AssemblyError", "assemble_file", "assemble_text"]
