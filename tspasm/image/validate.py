"""Check a decoded image's tables against the ISA (shapes, slots, types, ranges).

Instruction words themselves are checked when decoded (disassembler, engine)."""
from __future__ import annotations

import numpy as np

from .program import Program


def validate(program: Program, isa) -> None:
    """Raise ValueError naming the first inconsistency."""
    nq = len(isa.queues)
    width = isa.param("geometry.slot_bytes")
    words = isa.param("mem.words")
    lanes = isa.param("geometry.lanes")
    last_slice = isa.param("mem.slices_per_hemisphere") - 1
    max_chips = isa.param("system.max_chips")
    topo = program.topology
    for chip, arr in program.code.items():
        if not 0 <= chip < max_chips:
            raise ValueError(f"chip {chip} out of range")
        if topo is not None and chip >= topo.chips:
            raise ValueError(f"code for chip {chip}, but its topology {topo.name} has chips 0..{topo.chips - 1}")
        if arr.ndim != 3 or arr.shape[1:] != (nq, width):
            raise ValueError(f"code of chip {chip} has shape {arr.shape}, expected (rows, {nq}, {width})")

    def mem_region(what, chip, slot, addr, dtype, rows):
        if not 0 <= chip < max_chips:
            raise ValueError(f"{what}: chip {chip} out of range")
        if topo is not None and chip >= topo.chips:
            raise ValueError(f"{what}: chip {chip}, but the topology {topo.name} has chips 0..{topo.chips - 1}")
        if dtype not in isa.dtype_bytes:
            raise ValueError(f"{what}: unknown type {dtype!r}")
        if not (0 <= slot < nq and isa.queues[slot].unit == "MEM"):
            raise ValueError(f"{what}: slot {slot} is not a MEM slice")
        if isa.queues[slot].index + isa.dtype_bytes[dtype] - 1 > last_slice:
            raise ValueError(f"{what}: byte planes run past the last slice")
        if not (0 <= addr and addr + max(rows, 1) <= words):
            raise ValueError(f"{what}: address {addr} + {rows} rows outside MEM")

    for d in program.data:
        shape = d.shape
        if len(shape) not in (1, 2) or any(s <= 0 for s in shape) or shape[-1] > lanes:
            raise ValueError(f"data segment shape {shape} is not legal")
        mem_region("data segment", d.chip, d.slot, d.addr, d.dtype, shape[0] if len(shape) == 2 else 1)
        if len(d.data) != int(np.prod(shape)) * isa.dtype_bytes[d.dtype]:
            raise ValueError("data segment size does not match its shape and type")
    for o in program.outputs:
        if not isinstance(o.name, str) or not isinstance(o.rows, int) or o.rows < 0:
            raise ValueError("malformed output entry")
        mem_region(f"output {o.name}", o.chip, o.slot, o.addr, o.dtype, o.rows)
    for s in program.symbols:
        if not isinstance(s.name, str) or not isinstance(s.value, int) or s.kind not in ("equ", "label"):
            raise ValueError("malformed symbol entry")
    lines = program.lines
    if len(lines):
        if int(lines["slot"].max()) >= nq:
            raise ValueError("line table names a queue slot past 143")
        for chip in np.unique(lines["chip"]):
            sel = lines[lines["chip"] == chip]
            rows = program.code.get(int(chip))
            if rows is None or int(sel["row"].max()) >= rows.shape[0]:
                raise ValueError(f"line table points past the code of chip {chip}")
