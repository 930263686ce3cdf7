"""Bind a parsed instruction to the ISA: queue, mnemonic, suffixes, operands.

Every check reports where the problem is and what would be legal there.
"""
from __future__ import annotations

import difflib
import re

from ..isa.model import Field, InstrSpec, Isa, Queue
from . import ast
from .diagnostics import Collector
from .encoding import encode, stream_codes
from .expr import ExprError, evaluate
from .fastbind import compile_binder
from .parser import parse_int
from .legality import group_problems, link_problem

_GROUP = re.compile(r"SG(\d+)_(\d+)([EW])$")
_LINK = re.compile(r"L(\d+)$")
_PEER = re.compile(r"chip(\d+)$")


def suggest(word: str, options, n: int = 3) -> str:
    found = difflib.get_close_matches(word, list(options), n=n, cutoff=0.6)
    return ("did you mean " + " or ".join(f"`{f}`" for f in found) + "?") if found else ""


def _ranges(names: list[str]) -> str:
    """MEM_W0 MEM_W1 ... -> MEM_W0..MEM_W43 (compact, for hints)."""
    groups: dict[str, list[int]] = {}
    order: list[str] = []
    for n in names:
        m = re.match(r"(.*?)(\d+)$", n)
        key, num = (m.group(1), int(m.group(2))) if m else (n, -1)
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append(num)
    out = []
    for key in order:
        nums = sorted(groups[key])
        if nums == [-1]:
            out.append(key)
        elif len(nums) > 2 and nums == list(range(nums[0], nums[-1] + 1)):
            out.append(f"{key}{nums[0]}..{key}{nums[-1]}")
        else:
            out.extend(f"{key}{x}" for x in nums)
    return ", ".join(out)


class Binder:
    """Binds instructions of one program; caches mnemonic lookups."""

    def __init__(self, isa: Isa, diags: Collector, links=None):
        self.isa = isa
        self.diags = diags
        self.links = links            # links.TopologyContext, for link operands naming a chip
        self._chip = 0                # the chip section of the instruction being bound
        self._chip_dependent = False  # it named a chip: its result is not memoized
        self.streams = stream_codes()
        self._mnemonics: dict[str, tuple] = {}
        self._plans: dict[str, tuple] = {}
        self._memo: dict[tuple, tuple] = {}
        self._fast_fns: dict[str, tuple] = {}

    # -- mnemonic ---------------------------------------------------------
    def mnemonic(self, opname: str):
        """opname -> (spec, {field: value}) or (None, message, hint)."""
        hit = self._mnemonics.get(opname)
        if hit is None:
            hit = self._mnemonics[opname] = self._resolve_mnemonic(opname)
        return hit

    def _resolve_mnemonic(self, opname: str):
        base, *suffixes = opname.split(".")
        spec = self.isa.by_name.get(base)
        if spec is None:
            return (None, f"unknown instruction `{base}`", suggest(base, self.isa.by_name) or
                    "see docs/isa.md for the instruction list")
        values: dict[str, int] = {}
        items = list(spec.suffixes)
        form = spec.syntax.split(" ")[0]
        i = 0
        for sfx in suffixes:
            while i < len(items):
                item = items[i]
                f = self.isa.fields[item.field]
                i += 1
                if f.kind == "flag":
                    if sfx == f.name:
                        values[f.name] = 1
                        break
                    continue  # optional flag absent
                if sfx in f.values:
                    code = f.values.index(sfx)
                    allowed = spec.allow.get(f.name)
                    if allowed is not None and code not in allowed:
                        legal = ", ".join(f.values[c] for c in sorted(allowed))
                        return (None, f"`{base}` has no .{sfx} form", f"{f.name} may be {legal}")
                    values[f.name] = code
                    break
                legal = self._legal_values(spec, f)
                what = f.doc or f.name
                article = "an" if what[:1] in "aeiou" else "a"
                return (None, f"`.{sfx}` is not {article} {what} of `{base}`",
                        f"write {form}; {f.name} is one of {legal}")
            else:
                return (None, f"`{opname}` has too many suffixes", f"write {form}")
        for item in items:
            if not item.optional and item.field not in values:
                f = self.isa.fields[item.field]
                return (None, f"`{opname}` needs a .{item.field} suffix",
                        f"write {form}; {f.name} is one of {self._legal_values(spec, f)}")
        if "sat" in values and values["sat"]:
            t = values.get(spec.saturating_field)
            if t not in spec.saturating:
                legal = ", ".join(self.isa.dtypes[c] for c in sorted(spec.saturating))
                return (None, f"`.sat` does not apply to `{opname}`",
                        f"saturation applies to {legal} results")
        return (spec, values)

    def _legal_values(self, spec: InstrSpec, f: Field) -> str:
        allowed = spec.allow.get(f.name)
        vals = [v for i, v in enumerate(f.values) if allowed is None or i in allowed]
        return ", ".join(str(v) for v in vals)

    # -- whole instruction --------------------------------------------------
    def bind(self, node: ast.Instr, symbols, chip: int = 0) -> tuple[Queue, InstrSpec, tuple, int] | None:
        """Bind one instruction of chip `chip`.  Binding is a pure function of (queue,
        mnemonic, operands) once the symbols are fixed, so successful results are memoized
        (except for link operands naming a chip, which depend on the chip too);
        failures are not, so every faulty instruction reports its own position."""
        # Token indices are part of the key: equal for equal statement shapes, and cheap.
        key = (node.queue, node.opname, node.operands)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        result = self._fast(node, symbols)
        if result is not None:
            self._memo[key] = result
            return result
        errors = len(self.diags.items)
        self._chip, self._chip_dependent = chip, False
        result = self._bind(node, symbols)
        if result is not None and len(self.diags.items) == errors and len(self._memo) < 1 << 20 \
                and not self._chip_dependent:
            self._memo[key] = result
        return result

    def _fast(self, node: ast.Instr, symbols):
        """The specialized path (fastbind.py); None means: use the general binder."""
        queue = self.isa.queue_by_name.get(node.queue)
        if queue is None:
            return None
        try:
            fn, spec = self._fast_fns[node.opname]
        except KeyError:
            hit = self.mnemonic(node.opname)
            fn, spec = (compile_binder(self.isa, hit[0], hit[1]), hit[0]) if hit[0] is not None else (None, None)
            self._fast_fns[node.opname] = (fn, spec)
        if fn is None or not spec.legal_on(queue.unit):
            return None
        r = fn(node.operands, symbols)
        if r is None:
            return None
        return queue, spec, r[0], r[1]

    def _bind(self, node: ast.Instr, symbols) -> tuple[Queue, InstrSpec, tuple, int] | None:
        isa = self.isa
        queue = isa.queue_by_name.get(node.queue)
        if queue is None:
            self.diags.error(node.pos(node.qtok), f"unknown queue `{node.queue}`",
                             suggest(node.queue.upper(), isa.queue_by_name) or
                             "queues are " + _ranges([q.name for q in isa.queues]))
            return None
        hit = self.mnemonic(node.opname)
        if hit[0] is None:
            self.diags.error(node.pos(node.optok), hit[1], hit[2])
            return None
        spec, sfx_values = hit
        if not spec.legal_on(queue.unit):
            units = " or ".join(spec.units)
            legal_here = [s.name for s in isa.by_unit[queue.unit] if "*" not in s.units]
            on = _ranges([q.name for q in isa.queues if q.unit in spec.units])
            self.diags.error(
                node.pos(node.qtok),
                f"{queue.name} cannot issue {node.opname} (a {units} instruction)",
                f"{node.opname} issues on {on}; {queue.name} is a {queue.unit} queue and issues "
                f"{', '.join(legal_here)} (and nop, repeat, sync, notify, ... on every queue)")
            return None
        values = self._operands(node, spec, queue, symbols)
        if values is None:
            return None
        for name, v in sfx_values.items():
            values[spec.field_index[name]] = v
        for item in spec.suffixes:
            if item.optional and item.field not in sfx_values:
                values[spec.field_index[item.field]] = spec.defaults.get(item.field, 0)
        if not self._groups(node, spec, values):
            return None
        vals = tuple(values)
        return queue, spec, vals, encode(spec, vals)

    def _plan(self, spec: InstrSpec):
        """Per-instruction tables for the hot path, built once."""
        plan = self._plans.get(spec.name)
        if plan is None:
            ops = []
            for item in spec.operands:
                i = spec.field_index[item.field]
                f = spec.fields[i]
                ops.append((i, f, item.sep, f.kind, f.value_range()))
            required = sum(1 for o in spec.operands if not o.optional)
            plan = self._plans[spec.name] = (tuple(ops), required)
        return plan

    def _operands(self, node: ast.Instr, spec: InstrSpec, queue: Queue, symbols) -> list | None:
        ops, required = self._plan(spec)
        given = node.operands
        n = len(given)
        if not required <= n <= len(ops):
            form = spec.syntax
            want = f"{required}" if required == len(ops) else f"{required} to {len(ops)}"
            pos = node.pos(given[len(ops)][2] if n > len(ops) else node.optok)
            self.diags.error(pos, f"{spec.name} takes {want} operand{'s' if len(ops) != 1 else ''}, "
                             f"got {n}", f"write {form}")
            return None
        values: list = [0] * len(spec.fields)
        ok = True
        streams = self.streams
        for (i, f, want_sep, kind, (lo, hi)), (sep, expr, tok) in zip(ops, given):
            if sep != want_sep:
                want = "',' " if want_sep == "," else "'->' "
                self.diags.error(node.pos(tok), f"expected {want}before operand {f.name}",
                                 f"write {spec.syntax}")
                ok = False
                continue
            if kind == "stream":
                code = streams.get(expr) if type(expr) is str else None
                if code is not None:
                    values[i] = code
                    continue
            elif type(expr) is int and lo <= expr <= hi and (kind == "uint" or kind == "int"):
                values[i] = expr
                continue
            v = self._operand(node, spec, queue, f, expr, tok, symbols)
            if v is None:
                ok = False
            else:
                values[i] = v
        for i, f, *_ in ops[n:]:
            values[i] = spec.defaults[f.name]
        return values if ok else None

    def _operand(self, node, spec, queue, f: Field, expr, tok, symbols):
        """The general (slow, diagnosing) path for one operand."""
        pos = node.pos(tok)
        if f.kind == "stream":
            if isinstance(expr, str):
                code = self.streams.get(expr)
                if code is not None:
                    return code
                m = _GROUP.match(expr)
                if m:
                    return self._group(node, spec, f, parse_int(m.group(1)), parse_int(m.group(2)),
                                       m.group(3), tok)
            self.diags.error(pos, f"operand {f.name} of {spec.name} must be a stream, got `{_show(expr)}`",
                             "streams are S0E..S31E (eastward) and S0W..S31W (westward); "
                             "groups SG2_0E.., SG4_0E..")
            return None
        if f.kind == "link":
            m = _LINK.match(expr) if isinstance(expr, str) else None
            peer = _PEER.match(expr) if isinstance(expr, str) and not m else None
            if peer and self.links is not None:
                self._chip_dependent = True
                return self.links.peer_port(self._chip, parse_int(peer.group(1)), queue, pos, spec.name)
            if not m or parse_int(m.group(1)) >= (f.limit or 16):
                self.diags.error(pos, f"operand {f.name} of {spec.name} must be a link L0..L{(f.limit or 16) - 1}, "
                                 f"got `{_show(expr)}`", "or name the chip the link goes to: `chip3`")
                return None
            link = parse_int(m.group(1))
            problem = link_problem(self.isa, queue, link)
            if problem:
                self.diags.error(pos, *problem)
                return None
            return link
        if f.kind == "enum":
            if isinstance(expr, str) and expr in f.values:
                return f.values.index(expr)
            self.diags.error(pos, f"operand {f.name} of {spec.name} must be one of "
                             f"{', '.join(f.values)}, got `{_show(expr)}`")
            return None
        try:
            value = evaluate(expr, symbols)
        except ExprError as exc:
            self.diags.error(pos, str(exc), exc.hint)
            return None
        if f.kind == "choice":
            if value in f.values:
                return f.values.index(value)
            self.diags.error(pos, f"operand {f.name} of {spec.name} must be one of "
                             f"{', '.join(str(v) for v in f.values)}, got {value}")
            return None
        lo, hi = f.value_range()
        if not lo <= value <= hi:
            self.diags.error(pos, f"{f.doc or f.name} {value} out of range for {spec.name}",
                             f"{f.name} must be in {lo}..{hi}")
            return None
        return value

    def _group(self, node, spec, f, size, index, direction, tok):
        code = size * index
        if size not in (1, 2, 4, 8, 16) or code + size > 32:
            self.diags.error(node.pos(tok), f"no stream group SG{_num(size)}_{_num(index)}{direction}",
                             "groups are SG<size>_<index><E|W> with size 1, 2, 4, 8 or 16 "
                             "covering streams size*index .. size*index+size-1 < 32")
            return None
        return code | (32 if direction == "W" else 0)

    def _groups(self, node, spec: InstrSpec, values: list) -> bool:
        problems = group_problems(self.isa, spec, values)
        for name, message, hint in problems:
            tok = next((t for (s_, e, t), o in zip(node.operands, spec.operands) if o.field == name),
                       node.optok)
            self.diags.error(node.pos(tok), message, hint)
        return not problems


def _num(v: int) -> str:
    """An integer for a message, even one with more digits than str() allows."""
    return str(v) if abs(v) < 10 ** 30 else ("-" if v < 0 else "") + "a very large number"


def _show(expr) -> str:
    if isinstance(expr, (int, str)):
        return str(expr)
    return "expression"
