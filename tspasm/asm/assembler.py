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

from ..image.program import Program, Symbol
from ..isa import default_isa
from ..isa.model import Isa
from . import ast
from .binder import Binder
from .data_place import DataPlacer
from .diagnostics import AssemblyError, Collector, Diagnostic
from .line_table import line_table
from .links import TopologyContext
from .parser import Parser
from .pass1 import Pass1
from .schedule import Placed, Scheduler

MAX_INCLUDE_DEPTH = 32
FREEZE_AT = 50_000  # statements: see assemble_text


@dataclass
class Assembly:
    """The result of assembling: the image plus what listings and checks need."""

    isa: Isa
    program: Program
    placed: list[Placed] = field(default_factory=list)
    topology: object | None = None   # the Topology named by `.topology` / --topology; None: the default
    warnings: list[Diagnostic] = field(default_factory=list)


class Assembler:
    """`topology`: the --topology of the command line (a built-in name, a FILE.toml or a
    Topology); a `.topology` directive naming another one is an error."""

    def __init__(self, isa: Isa | None = None, memoize: bool = True, topology=None):
        self.isa = isa or default_isa()
        self.diags = Collector()
        self.parser = Parser(self.diags, memoize=memoize)
        self.placer = DataPlacer(self.isa, self.diags)
        self.links = TopologyContext(self.isa, self.diags, topology)

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
        nodes: list = []
        try:
            nodes = self.parser.parse_text(text, path)
            nodes = self._expand(nodes, path, [os.path.realpath(path)])
            return self._assemble(nodes)
        finally:
            if len(nodes) >= FREEZE_AT:
                # Those objects are alive (the Assembly holds them) and acyclic (refcounting
                # frees them): leave them out of every future collection instead of letting
                # the next ones walk them all (0.6 s per 300,000 lines, at the next
                # allocation-heavy step such as writing the image, and again at exit).
                # Only for big programs, so that a process assembling many small ones
                # (the tests, the debugger) keeps its collector's full reach.
                gc.freeze()
            if enabled:
                gc.enable()

    def assemble_file(self, path: str) -> Assembly:
        text = self._read(path)
        if text is None:
            self.diags.raise_if_any()
        return self.assemble_text(text, path)

    def _assemble(self, nodes: list[ast.Node]) -> Assembly:
        isa = self.isa
        p1 = Pass1(isa, self.diags)
        p1.run(nodes)
        links = self.links
        if p1.topology is not None:
            links.set_directive(p1.topology)
        links.set_chips(lambda: {c for c, *_ in p1.instrs} | {c for c, _ in p1.data})
        binder = Binder(isa, self.diags, links)
        symbols = p1.symbols
        placed: list[Placed] = []
        per_queue: dict[tuple[int, int], list[Placed]] = defaultdict(list)
        notifies: dict[int, list[tuple[int, int]]] = defaultdict(list)
        transmits: list[Placed] = []
        syncs_on: set[int] = set()
        bind = binder.bind
        transmit = isa.by_name.get("transmit")
        for order, (chip, cycle, node, loc) in enumerate(p1.instrs):
            r = bind(node, symbols, chip)
            if r is None:
                continue
            queue, spec, values, word = r
            p = Placed(chip, queue.slot, cycle, spec, values, word, node.stmt, node.qtok, order, loc)
            placed.append(p)
            per_queue[(chip, queue.slot)].append(p)
            ctrl = spec.control
            if ctrl is not None:
                if ctrl == "release":
                    notifies[chip].append((cycle, queue.slot))
                elif ctrl == "park":
                    syncs_on.add(chip)
            elif spec is transmit:
                transmits.append(p)
        for lst in notifies.values():
            lst.sort()
        releases = links.releases(transmits, syncs_on)
        releases.jitter_warnings(self.diags, syncs_on)
        sched = Scheduler(isa, self.diags, releases)
        streams: dict[tuple[int, int], list[int]] = {}
        by_cycle = attrgetter("cycle")  # stable: ties keep source order
        in_row_order: list[Placed] = []
        for key in sorted(per_queue):
            items = per_queue[key]
            items.sort(key=by_cycle)
            streams[key] = sched.queue_stream(items, notifies.get(key[0], []))
            in_row_order.extend(items)
        data_pairs = [(seg, d) for chip, d in p1.data if (seg := self.placer._data(chip, d, symbols))]
        self.placer._check_overlaps(data_pairs)
        data = [seg for seg, _ in data_pairs]
        out_pairs = [(o, d) for chip, d in p1.outputs if (o := self.placer._output(chip, d, symbols))]
        self.placer._check_output_names(out_pairs)
        outputs = [o for o, _ in out_pairs]
        self.diags.raise_if_any()
        program = Program(isa.fingerprint, self._rows(streams), data, outputs,
                          [Symbol(n, v, p1.symbol_info[n][0], p1.symbol_info[n][1])
                           for n, v in symbols.items()])
        program.files, program.lines = line_table(in_row_order, isa)
        program.topology = links.explicit
        program.canonicalize()
        placed.sort(key=attrgetter("chip", "cycle", "slot"))
        return Assembly(isa, program, placed, links.explicit,
                        sorted(set(self.diags.warnings), key=Diagnostic.sort_key))

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


def assemble_text(text: str, path: str = "<input>", isa: Isa | None = None, memoize: bool = True,
                  topology=None) -> Assembly:
    return Assembler(isa, memoize, topology).assemble_text(text, path)


def assemble_file(path: str, isa: Isa | None = None, topology=None) -> Assembly:
    return Assembler(isa, topology=topology).assemble_file(path)


__all__ = ["Assembly", "AssemblyError", "assemble_file", "assemble_text"]
