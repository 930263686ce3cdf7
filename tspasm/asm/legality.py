"""Operand rules beyond field ranges, shared by the binder (diagnostics) and the
decoder (illegal words), so an image can hold exactly what the assembler writes."""
from __future__ import annotations

from ..isa.model import InstrSpec, Isa, Queue


def group_width(isa: Isa, spec: InstrSpec, width_spec, values) -> int:
    """How many streams a stream operand covers, given the instruction's field values."""
    if isinstance(width_spec, int):
        return width_spec
    square = width_spec.endswith("^2")
    name = width_spec[:-2] if square else width_spec
    f = spec.fields[spec.field_index[name]]
    v = values[spec.field_index[name]]
    if f.kind == "dtype":
        w = isa.dtype_bytes[f.values[v]]
    elif f.kind == "choice":
        w = f.values[v]
    else:
        w = v
    return w * w if square else w


def group_problems(isa: Isa, spec: InstrSpec, values) -> list[tuple[str, str, str]]:
    """(field, message, hint) for each stream group that runs past S31 or is misaligned.
    Fixed widths above 1 (lw's 16, acc's 4) must start on a multiple of the width."""
    out = []
    for role in (spec.reads, spec.writes):
        for name, wspec in role.items():
            width = group_width(isa, spec, wspec, values)
            align = wspec if isinstance(wspec, int) and wspec > 1 else 0
            code = values[spec.field_index[name]]
            base = code & 31
            d = "W" if code & 32 else "E"
            if base + width > 32:
                out.append((name, f"{spec.name} needs {width} streams from S{base}{d}, past S31{d}",
                            f"start the group at S{32 - width}{d} or lower"))
            elif align and base % align:
                legal = ", ".join(f"S{b}{d}" for b in range(0, 32, align))
                out.append((name, f"{spec.name} takes an aligned group of {align} streams",
                            f"{name} must be {legal}"))
    return out


def link_problem(isa: Isa, queue: Queue, link: int) -> tuple[str, str] | None:
    """C2C queues drive only their own hemisphere's links."""
    per_hemi = isa.param("c2c.links") // 2
    want = 0 if queue.hemi == "W" else 1
    if link // per_hemi == want:
        return None
    lo = want * per_hemi
    return (f"{queue.name} cannot drive link L{link}",
            f"C2C queues of the {'west' if want == 0 else 'east'} SXM drive links L{lo}..L{lo + per_hemi - 1}")


def word_problem(isa: Isa, spec: InstrSpec, values, queue: Queue | None) -> str | None:
    """The first rule a decoded instruction breaks, or None."""
    for _, message, _ in group_problems(isa, spec, values):
        return message
    if queue is not None:
        for f, v in zip(spec.fields, values):
            if f.kind == "link":
                p = link_problem(isa, queue, v)
                if p:
                    return p[0]
    return None
