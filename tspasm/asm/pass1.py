"""Pass 1: walk the statements in order — chip sections, symbols, labels, bundle
cycles, and the .data/.output declarations for later."""
from __future__ import annotations

from ..isa.model import Isa
from . import ast
from .diagnostics import Collector
from .expr import ExprError, evaluate


class Pass1:
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
        self.topology: ast.Topology | None = None   # the `.topology` directive, if any
        self._first_chip_stmt: ast.Node | None = None
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
            if self._first_chip_stmt is None and t in _CHIP_STATEMENTS:
                self._first_chip_stmt = node
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
            elif t is ast.Topology:
                self._topology(node)
            elif t is ast.Loc:
                if 0 < node.line < 1 << 32 and 0 <= node.col < 1 << 32:
                    self.loc = (node.path, node.line, node.col)
                else:
                    self.diags.error(node.pos(), f".loc line {node.line} column {node.col} out of range",
                                     "lines are 1..4294967295, columns 0..4294967295")
        self._end_section()

    def _topology(self, node: ast.Topology) -> None:
        """At most one `.topology`, before anything that belongs to a chip."""
        if self.topology is not None:
            path, line, col = self.topology.pos(self.topology.tok).resolve()
            self.diags.error(node.pos(node.tok), "`.topology` given twice",
                             "a program runs on one topology; keep one `.topology`",
                             notes=(f"the first is at {path}:{line}:{col}",))
            return
        first = self._first_chip_stmt
        if first is not None:
            path, line, col = first.pos().resolve()
            self.diags.error(node.pos(node.tok), "`.topology` must come before the first chip section",
                             "move it above the first `.chip`, instruction, label, `.data` and `.output`",
                             notes=(f"the first chip statement is at {path}:{line}:{col}",))
            return
        self.topology = node

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


_CHIP_STATEMENTS = (ast.Bundle, ast.Label, ast.Chip, ast.Data, ast.Output)
_RESERVED = {f"S{n}{d}" for n in range(32) for d in "EW"} | {f"L{n}" for n in range(64)}
