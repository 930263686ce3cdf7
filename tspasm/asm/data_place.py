"""`.data` and `.output` declarations -> DataSegment / OutputRegion, with every
check (slice, byte planes, addresses, types, overlaps, duplicate names)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..image.program import DataSegment, OutputRegion
from ..isa.model import Isa
from . import ast
from .binder import suggest
from .data import DataError, inline_array, npy_array, number_array, resolve_npy
from .diagnostics import Collector
from .expr import ExprError, evaluate


class DataPlacer:
    def __init__(self, isa: Isa, diags: Collector):
        self.isa = isa
        self.diags = diags

    def _mem_slice(self, node, name: str, tok: int, nbytes: int):
        q = self.isa.queue_by_name.get(name)
        if q is None or q.unit != "MEM":
            self.diags.error(node.pos(tok), f"`{name}` is not a MEM slice",
                             suggest(name, [x.name for x in self.isa.queues if x.unit == "MEM"]) or
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
