"""The one instruction record between binder, encoder, decoder and printer.

An instruction is (spec, values): `values[i]` is the encoded value of
`spec.fields[i]` (stream code, enum index, signed integer ...).  Encoding packs
the values into a little-endian 128-bit word; decoding reverses it and rejects
any word the ISA does not define.
"""
from __future__ import annotations

import functools

from ..isa.model import Field, InstrSpec, Isa
from .legality import word_problem

STREAM_WEST = 32  # bit 5 of a stream field


class DecodeError(ValueError):
    pass


def stream_name(code: int) -> str:
    return f"S{code & 31}{'W' if code & STREAM_WEST else 'E'}"


@functools.lru_cache(maxsize=1)
def stream_codes() -> dict[str, int]:
    out = {}
    for n in range(32):
        out[f"S{n}E"] = n
        out[f"S{n}W"] = n | STREAM_WEST
    return out


def field_raw(f: Field, value: int) -> int:
    """Value -> bits of the field (two's complement for signed fields)."""
    return (value & ((1 << f.width) - 1)) << f.lo


def encode(spec: InstrSpec, values) -> int:
    word = spec.match
    for (lo, mask), v in zip(spec.layout, values):
        word |= (v & mask) << lo
    return word


def value_ok(spec: InstrSpec, f: Field, v: int) -> bool:
    lo, hi = f.value_range()
    if f.kind == "stream":
        return 0 <= v < 64
    if not lo <= v <= hi:
        return False
    allowed = spec.allow.get(f.name)
    return allowed is None or v in allowed


@functools.lru_cache(maxsize=8)
def _decode_table(isa: Isa) -> dict[str, dict[int, InstrSpec]]:
    table: dict[str, dict[int, InstrSpec]] = {}
    for unit, specs in isa.by_unit.items():
        table[unit] = {s.opcode: s for s in specs}
    return table


def decode(isa: Isa, unit: str, word: int, queue=None) -> tuple[InstrSpec, tuple[int, ...]]:
    """Decode one word issued on a queue of `unit` (and, if given, that very queue);
    DecodeError for anything the assembler would not have written there."""
    op_field = isa.fields["opcode"]
    opcode = (word >> op_field.lo) & ((1 << op_field.width) - 1)
    spec = _decode_table(isa)[unit].get(opcode)
    if spec is None:
        raise DecodeError(f"opcode {opcode:#04x} is not an instruction of unit {unit}")
    used = spec.mask
    for f in spec.fields:
        used |= f.mask
    if word & ~used:
        raise DecodeError(f"{spec.name}: reserved bits set ({word & ~used:#x})")
    values = []
    for f in spec.fields:
        raw = (word >> f.lo) & ((1 << f.width) - 1)
        if f.kind == "int" and raw >> (f.width - 1):
            raw -= 1 << f.width
        if not value_ok(spec, f, raw):
            raise DecodeError(f"{spec.name}: field {f.name} holds illegal value {raw}")
        values.append(raw)
    values_t = tuple(values)
    if "sat" in spec.field_index and values_t[spec.field_index["sat"]]:
        if values_t[spec.field_index[spec.saturating_field]] not in spec.saturating:
            raise DecodeError(f"{spec.name}: .sat on a type that does not saturate")
    problem = word_problem(isa, spec, values_t, queue)
    if problem:
        raise DecodeError(problem)
    return spec, values_t
