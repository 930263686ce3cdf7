"""Program image -> assembly text that reassembles to the same bytes.

With line info (the default) each instruction is printed on its own line after a
`.loc` directive carrying its original file:line:col, so even the line table
round-trips.  `with_loc=False` prints compact bundles instead; the code, data,
outputs and symbols still reassemble identically.
"""
from __future__ import annotations

import math
import os
from collections import defaultdict

import numpy as np

from ..asm.printer import format_instruction
from ..asm.schedule import canonical_gap
from ..isa.model import Isa
from .program import Program
from .timeline import program_timeline


def _fmt_value(v, is_float: bool) -> str:
    if not is_float:
        return str(int(v))
    f = float(v)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return repr(f)


def _fmt_data(arr: np.ndarray) -> str:
    is_float = arr.dtype.kind == "f"
    fmt = (lambda v: f"0x{int(v):0{arr.dtype.itemsize * 2}x}") if arr.dtype.kind == "u" else \
        (lambda v: _fmt_value(v, is_float))
    if arr.ndim == 1:
        return "[" + ", ".join(fmt(v) for v in arr) + "]"
    rows = ["  [" + ", ".join(fmt(v) for v in row) + "]" for row in arr]
    return "[\n" + ",\n".join(rows) + "\n]"


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _recorded_topology(topo, isa: Isa) -> str:
    """The `.topology` line for a topology recorded in the image: a built-in by name; a custom
    one has no file to name, so it becomes a comment saying what --topology must give."""
    from ..topology import builtin_like

    if builtin_like(topo.name, topo.chips, topo.links, isa) is not None:
        return f".topology {topo.name}"
    return (f"; assembled for the custom topology {topo.name!r} ({topo.chips} chips, {len(topo.links)} links); "
            f"reassemble with --topology FILE.toml")


def disassemble(program: Program, isa: Isa, with_loc: bool = True, topology=None) -> str:
    """`topology` (a built-in name, a FILE.toml path or a Topology; default: the one recorded
    in the image, else the runner's default for the program's chips) is needed only to time
    syncs released by transmits; a name or path is also written as a `.topology` directive,
    so that the text reassembles for it, and so is a recorded built-in."""
    out = [f"; disassembled by tspasm; ISA {program.isa_fingerprint[:16]}"]
    topo = topology
    if topology is None and program.topology is not None:
        topo = program.topology
        out.append(_recorded_topology(topo, isa))
    if isinstance(topology, str):
        from ..asm.links import resolve_spec

        topo = resolve_spec(topology, isa)
        is_file = topology.endswith(".toml") or os.path.sep in topology or os.path.exists(topology)
        out.append(f".topology {_quote(os.path.abspath(topology))}" if is_file else f".topology {topo.name}")
    timeline = program_timeline(isa, program.code, topo, chips=program.chips)
    nop_max = (1 << isa.fields["count"].width) - 1
    loc_of: dict[tuple[int, int, int], tuple[str, int, int]] = {}
    for e in program.lines:
        loc_of[(int(e["chip"]), int(e["slot"]), int(e["row"]))] = (
            program.files[int(e["file"])], int(e["line"]), int(e["col"]))
    chips = sorted(set(program.chips) | {s.chip for s in program.symbols} | {o.chip for o in program.outputs})
    for chip in chips:
        out.append("")
        out.append(f".chip {chip}")
        for s in program.symbols:
            if s.chip == chip and s.kind == "equ":
                out.append(f".equ {s.name}, {s.value}")
        for d in program.data:
            if d.chip == chip:
                dt = np.dtype(isa.dtype_numpy[d.dtype]).newbyteorder("<")
                arr = np.frombuffer(d.data, dt).reshape(d.shape)
                bits = ""
                if arr.dtype.kind == "f" and np.isnan(arr).any():
                    # NaN sign and payload survive only as bit patterns
                    arr, bits = arr.view(f"<u{dt.itemsize}"), " bits"
                out.append(f".data {isa.queues[d.slot].name} 0x{d.addr:04x} {d.dtype}{bits} {_fmt_data(arr)}")
        labels = defaultdict(list)
        for s in program.symbols:
            if s.chip == chip and s.kind == "label":
                labels[s.value].append(s.name)
        out.extend(_code_lines(program, isa, chip, timeline.get(chip, []), loc_of, labels, nop_max, with_loc))
    for o in program.outputs:
        rows = f" {o.rows}" if o.rows else ""
        out.append(f".chip {o.chip}")
        out.append(f".output {o.name} = {isa.queues[o.slot].name} 0x{o.addr:04x} {o.dtype}{rows}")
    return "\n".join(out) + "\n"


def _code_lines(program, isa, chip, issued, loc_of, labels, nop_max, with_loc) -> list[str]:
    # Nop runs the assembler would regenerate from the gap are left out.
    by_slot = defaultdict(list)
    for x in issued:
        by_slot[x.slot].append(x)
    skip: set[tuple[int, int]] = set()
    for slot, items in by_slot.items():
        run: list = []
        for x in items:
            if x.spec.control == "wait" and (chip, slot, x.row) not in loc_of:
                run.append(x)
                continue
            if run and [r.values[0] for r in run] == canonical_gap(sum(r.values[0] for r in run), nop_max):
                skip.update((slot, r.row) for r in run)
            run = []
    lines: list[str] = []
    by_cycle = defaultdict(list)
    for x in issued:
        if (x.slot, x.row) not in skip:
            by_cycle[x.cycle].append(x)
    cycles = sorted(by_cycle)
    label_cycles = sorted(labels)
    li = 0
    for c in cycles:
        while li < len(label_cycles) and label_cycles[li] < c:
            lines.extend(_label_alone(labels[label_cycles[li]], label_cycles[li]))
            li += 1
        if li < len(label_cycles) and label_cycles[li] == c:
            lines.extend(f"{n}:" for n in labels[c])
            li += 1
        items = by_cycle[c]
        if with_loc:
            for x in items:
                loc = loc_of.get((chip, x.slot, x.row))
                if loc:
                    lines.append(f".loc {_quote(loc[0])} {loc[1]} {loc[2]}")
                lines.append(f"@{c} {isa.queues[x.slot].name}: {format_instruction(isa, x.spec, x.values)}")
        else:
            body = " | ".join(f"{isa.queues[x.slot].name}: {format_instruction(isa, x.spec, x.values)}"
                              for x in items)
            lines.append(f"@{c} {{ {body} }}")
    while li < len(label_cycles):
        lines.extend(_label_alone(labels[label_cycles[li]], label_cycles[li]))
        li += 1
    return lines


def _label_alone(names: list[str], cycle: int) -> list[str]:
    """A label at a cycle with no instruction: an empty bundle pins it."""
    return [f"{n}:" for n in names] + [f"@{cycle} {{ }}"]
