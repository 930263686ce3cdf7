"""Specialized binders: one small generated function per mnemonic form.

For a given `opname` (e.g. "add.i32") the suffix values, stream-group widths and
encoding constants are fixed, so binding a well-formed instruction reduces to a
few dictionary lookups, range checks and shifts.  The generated function returns
None for anything unusual (a symbol it cannot resolve, an out-of-range value, a
link or enum operand, a wrong separator); the caller then runs the general
binder, which produces the diagnostic.  Both paths come from the same isa/ data
and the tests compare them.
"""
from __future__ import annotations

from typing import Callable

from ..isa.model import InstrSpec, Isa
from .encoding import stream_codes


def _width(isa: Isa, spec: InstrSpec, wspec, sfx: dict[str, int]) -> int | None:
    if isinstance(wspec, int):
        return wspec
    square = wspec.endswith("^2")
    name = wspec[:-2] if square else wspec
    f = isa.fields[name]
    if name not in sfx or f.kind != "dtype":
        return None  # width depends on an operand: leave it to the general binder
    w = isa.dtype_bytes[f.values[sfx[name]]]
    return w * w if square else w


def compile_binder(isa: Isa, spec: InstrSpec, sfx: dict[str, int]) -> Callable | None:
    """fn(operands, symbols) -> (values, word) or None; None overall if the form needs the slow path."""
    idx = spec.field_index
    const_word = spec.match
    values: list[str] = ["0"] * len(spec.fields)
    for item in spec.suffixes:
        f = spec.fields[idx[item.field]]
        v = sfx.get(item.field, spec.defaults.get(item.field, 0))
        values[idx[item.field]] = str(v)
        const_word |= (v & ((1 << f.width) - 1)) << f.lo
    widths: dict[str, tuple[int, int]] = {}
    for role in (spec.reads, spec.writes):
        for name, wspec in role.items():
            w = _width(isa, spec, wspec, sfx)
            if w is None:
                return None
            widths[name] = (w, w if isinstance(wspec, int) and wspec > 1 else 0)
    body = ["def bind(ops, symbols):", "    n = len(ops)"]
    required = sum(1 for o in spec.operands if not o.optional)
    for count in range(len(spec.operands), required - 1, -1):
        body.append(f"    if n == {count}:")
        vals = list(values)
        word_terms = [str(const_word)]
        names = [f"(s{k}, e{k}, _t{k})" for k in range(count)]
        if count:
            body.append(f"        {', '.join(names)}{',' if count == 1 else ''} = ops")
        for k, item in enumerate(spec.operands):
            f = spec.fields[idx[item.field]]
            if k >= count:
                vals[idx[item.field]] = str(spec.defaults[item.field])
                word_terms.append(str((spec.defaults[item.field] & ((1 << f.width) - 1)) << f.lo))
                continue
            body.append(f"        if s{k} != {item.sep!r}: return None")
            if f.kind == "stream":
                body.append(f"        v{k} = ST.get(e{k}) if e{k}.__class__ is str else None")
                body.append(f"        if v{k} is None: return None")
                if item.field in widths:
                    w, align = widths[item.field]
                    body.append(f"        if (v{k} & 31) + {w} > 32: return None")
                    if align:
                        body.append(f"        if v{k} % {align}: return None")
            elif f.kind in ("uint", "int"):
                lo, hi = f.value_range()
                body.append(f"        v{k} = e{k} if e{k}.__class__ is int else "
                            f"(symbols.get(e{k}) if e{k}.__class__ is str else None)")
                body.append(f"        if v{k} is None or not {lo} <= v{k} <= {hi}: return None")
            else:
                return None  # links, enums, choices: the general binder handles them
            vals[idx[item.field]] = f"v{k}"
            word_terms.append(f"((v{k} & {(1 << f.width) - 1}) << {f.lo})")
        tup = ", ".join(vals) + ("," if len(vals) == 1 else "")
        body.append(f"        return ({tup}), {' | '.join(word_terms)}")
    body.append("    return None")
    namespace = {"ST": stream_codes()}
    exec("\n".join(body), namespace)  # noqa: S102 - source generated from isa/ above
    return namespace["bind"]
