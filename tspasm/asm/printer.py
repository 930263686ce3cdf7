"""Instruction record -> assembly text, driven by the syntax template in isa/."""
from __future__ import annotations

from ..isa.model import Field, InstrSpec, Isa
from .encoding import stream_name

_HEX_FIELDS = {"addr": 4, "waddr": 4, "mask": 5}


def format_operand(isa: Isa, f: Field, v: int) -> str:
    if f.kind == "stream":
        return stream_name(v)
    if f.kind == "link":
        return f"L{v}"
    if f.kind in ("enum", "choice"):
        return str(f.values[v])
    if f.name in _HEX_FIELDS:
        return f"0x{v:0{_HEX_FIELDS[f.name]}x}"
    return str(v)


def format_instruction(isa: Isa, spec: InstrSpec, values) -> str:
    idx = spec.field_index
    parts = [spec.name]
    for s in spec.suffixes:
        f = spec.fields[idx[s.field]]
        v = values[idx[s.field]]
        if f.kind == "flag":
            if v:
                parts.append(f.name)
        else:
            parts.append(str(f.values[v]))
    text = ".".join(parts)
    ops = spec.operands
    if any(o.optional for o in ops):
        optional = [o for o in ops if o.optional]
        if all(values[idx[o.field]] == spec.defaults[o.field] for o in optional):
            ops = tuple(o for o in ops if not o.optional)
    out = []
    for o in ops:
        f = spec.fields[idx[o.field]]
        s = format_operand(isa, f, values[idx[o.field]])
        if o.sep is None:
            out.append(s)
        elif o.sep == ",":
            out.append(", " + s)
        else:
            out.append(" -> " + s)
    return text + (" " + "".join(out) if out else "")
