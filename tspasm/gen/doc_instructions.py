"""The per-instruction part of docs/isa.md: operands, streams, timing, encoding."""
from __future__ import annotations

from pathlib import Path

from ..isa.model import Field, InstrSpec, Isa
from .encoding_diagram import diagram
from .toml_notes import leading_comment, markdown_block


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def bits(f: Field) -> str:
    return str(f.lo) if f.lo == f.hi else f"{f.hi}..{f.lo}"


def _names(f: Field, codes) -> list[str]:
    return [str(f.values[c]) for c in sorted(codes)]


def legal_values(isa: Isa, f: Field, spec: InstrSpec | None = None) -> str:
    """What an operand may be, narrowed by the instruction's allow list."""
    allow = spec.allow.get(f.name) if spec is not None else None
    if f.kind in ("enum", "dtype", "choice"):
        codes = allow if allow is not None else range(len(f.values))
        return ", ".join(_names(f, codes))
    if allow is not None:
        return ", ".join(map(str, sorted(allow)))
    if f.kind == "stream":
        n = isa.param("geometry.streams_per_direction")
        return f"S0E..S{n - 1}E, S0W..S{n - 1}W"
    if f.kind == "flag":
        if spec is not None and spec.saturating and f.name == "sat":
            fd = spec.field(spec.saturating_field)
            return f"`.{f.name}`, only when {fd.name} is {', '.join(_names(fd, spec.saturating))}"
        return f"`.{f.name}` or nothing"
    lo, hi = f.value_range()
    if f.kind == "link":
        return f"L{lo}..L{hi}"
    return f"{lo}..{hi}"


def default_text(spec: InstrSpec, f: Field) -> str:
    if f.name not in spec.defaults:
        return "required"
    code = spec.defaults[f.name]
    if f.kind == "flag":
        return "absent" if code == 0 else "present"
    if f.kind in ("enum", "dtype", "choice"):
        return str(f.values[code])
    return str(code)


def width_text(isa: Isa, spec: InstrSpec, width) -> str:
    """A stream-group width: a number, a type field (bytes per element) or n / n^2."""
    if isinstance(width, int):
        return f"{width} stream{'s' if width != 1 else ''}"
    squared = width.endswith("^2")
    f = spec.field(width[:-2] if squared else width)
    codes = spec.allow.get(f.name, range(len(f.values)))
    if f.kind == "dtype":
        by_bytes: dict[int, list[str]] = {}
        for name in _names(f, codes):
            by_bytes.setdefault(isa.dtype_bytes[name], []).append(name)
        opts = [f"{b} ({', '.join(ns)})" for b, ns in sorted(by_bytes.items())]
        return f"one stream per byte of `{f.name}`: " + ", ".join(opts)
    if f.kind == "choice":
        vals = [int(v) ** 2 if squared else int(v) for v in _names(f, codes)]
        how = f"`{f.name}`\u00b2" if squared else f"`{f.name}`"
        return f"{how} streams: " + " or ".join(map(str, vals))
    return f"`{width}` streams"


def _operand_rows(isa: Isa, spec: InstrSpec) -> list[str]:
    rows = ["| In syntax | Field | Bits | Kind | Legal values | Default |", "|---|---|---|---|---|---|"]
    items = [(f"[.{{{s.field}}}]" if s.optional else f".{{{s.field}}}", s.field) for s in spec.suffixes]
    items += [(f"[{{{o.field}}}]" if o.optional else f"{{{o.field}}}", o.field) for o in spec.operands]
    for shown, name in items:
        f = spec.field(name)
        kind = f.kind
        if name in spec.reads or name in spec.writes:
            kind += ", " + " and ".join(r for r, m in (("read", spec.reads), ("written", spec.writes))
                                         if name in m)
        rows.append(f"| `{shown}` | {name} | {bits(f)} | {kind} | {cell(legal_values(isa, f, spec))} "
                    f"| {cell(default_text(spec, f))} |")
    return rows


def _units_text(isa: Isa, spec: InstrSpec) -> str:
    if "*" in spec.units:
        return f"every queue (all {len(isa.queues)})"
    return ", ".join(f"{u} ({len(isa.queues_of(u))} queues)" for u in spec.units)


def instruction_section(isa: Isa, spec: InstrSpec) -> list[str]:
    out = [f"### {spec.name}", "", cell(spec.description), "", "```text", spec.syntax, "```", ""]
    out.append(f"- **Legal on:** {_units_text(isa, spec)}")
    out.append(f"- **Opcode:** `0x{spec.opcode:02X}` (bits 7..0)")
    lat = spec.latency
    out.append(f"- **Latency (d_func):** {lat} cycle{'s' if lat != 1 else ''}")
    out.append(f"- **Control:** {spec.control or 'none (issues and moves on)'}")
    for role, table in (("Reads", spec.reads), ("Writes", spec.writes)):
        if table:
            groups = "; ".join(f"`{n}`: {width_text(isa, spec, w)}" for n, w in table.items())
            out.append(f"- **{role}:** {groups}")
    if spec.steps:
        steps = "; ".join(f"`{f}` += `{s}`" if isinstance(s, str) else f"`{f}` += {s}"
                          for f, s in spec.steps.items())
        out.append(f"- **Each repeat:** {steps}")
    out.append("")
    if spec.fields:
        out += _operand_rows(isa, spec) + [""]
    out += ["Encoding (unused bits must be 0):", "", "```text", diagram(isa, spec), "```", ""]
    return out


def family_sections(isa: Isa) -> list[str]:
    """Instructions grouped by the isa/instructions/ file that defines them."""
    out: list[str] = []
    by_file: dict[str, list[InstrSpec]] = {}
    for spec in isa.instructions:
        by_file.setdefault(spec.source, []).append(spec)
    for source, specs in by_file.items():
        name = Path(source).stem
        out += [f"## {name.upper()} instructions", "", f"Defined in `{source}`.", ""]
        out += markdown_block(leading_comment(Path(isa.root) / "instructions" / Path(source).name))
        for spec in specs:
            out += instruction_section(isa, spec)
    return out
