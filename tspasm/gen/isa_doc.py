"""docs/isa.md: the TSP-1 ISA reference, generated so it can never disagree with isa/."""
from __future__ import annotations

from pathlib import Path

from ..isa.loader import WORD_BITS
from ..isa.model import Isa
from .c_header import BANNER
from .doc_instructions import bits, cell, family_sections, legal_values
from .toml_notes import key_notes, leading_comment, markdown_block

_HEMI = {"W": "west", "E": "east", "C": "centre"}


def _intro(isa: Isa) -> list[str]:
    streams = isa.param("geometry.streams_per_direction")
    return [
        f"<!-- {BANNER}. Edit isa/*.toml and run `tspasm gen`. -->",
        "",
        f"# {isa.machine.get('name', 'TSP')} instruction set reference",
        "",
        f"> {BANNER}. Edit the TOML files under `isa/` and run `tspasm gen`;",
        "> `tspasm gen --check` (run by the tests) fails while this page is stale.",
        "",
        f"ISA fingerprint: `{isa.fingerprint}`. Program images and the generated C header record it, "
        "so a mismatch between them and isa/ is detected instead of silently misdecoded.",
        "",
        "How to read this page:",
        "",
        f"- Every queue issues at most one instruction per cycle. An instruction is one {WORD_BITS}-bit "
        "word, stored little-endian; its operands are *fields*, named bit ranges listed under "
        "[Fields](#fields). Bits an instruction does not use must be zero, and the all-zero word is "
        "the empty slot of a bundle row (no opcode is 0).",
        f"- A stream operand is written `S<n>E` (eastward) or `S<n>W` (westward), n = 0..{streams - 1}; "
        "its field holds n in bits 0-4 and the direction in bit 5 (1 = W). It names the base of a "
        "stream group: an element of b bytes uses streams base..base+b-1, byte j on stream base+j.",
        "- Timing: an instruction issued at cycle t on a queue at position i produces a value that "
        "is seen at position j at cycle t + d_func + |j - i|, where d_func is the instruction's "
        "latency below and positions are listed under [Queues](#queues).",
        "- Suffixes in `[...]` and operands in a trailing `[...]` group are optional; the table of "
        "each instruction gives the value used when they are left out.",
        "",
    ]


def _fmt(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:_}"  # grouped as in the TOML source
    return str(value)


def _machine(isa: Isa) -> list[str]:
    notes = key_notes(Path(isa.root) / "machine.toml")
    out = ["## Machine parameters", "", "From `isa/machine.toml`. [paper] = from the public papers, "
           "[ours] = a TSP-1 decision.", "",
           "| Parameter | Value | Source | Note |", "|---|---|---|---|"]
    for section, table in isa.machine.items():
        if section == "dtypes":
            continue
        items = table.items() if isinstance(table, dict) else [(None, table)]
        for key, value in items:
            name = section if key is None else f"{section}.{key}"
            tag, note = notes.get(name, ("", ""))
            out.append(f"| `{name}` | {cell(_fmt(value))} | {tag} | {cell(note)} |")
    out += ["", "### Element types", "",
            "The dtype code is what a dtype field holds; the byte count is also the width of the "
            "stream group an element travels on.", "",
            "| Type | Code | Bytes (streams) | numpy |", "|---|---|---|---|"]
    for code, name in enumerate(isa.dtypes):
        out.append(f"| `{name}` | {code} | {isa.dtype_bytes[name]} | `{isa.dtype_numpy[name]}` |")
    return out + [""]


def _units(isa: Isa) -> list[str]:
    out = ["## Units", "", "Each queue issues the instructions of one unit, plus the ICU "
           "instructions, which are legal on every queue.", "",
           "| Unit | Queues | Instructions |", "|---|---|---|"]
    for unit in isa.units:
        names = [f"[{i.name}](#{i.name})" for i in isa.by_unit[unit] if "*" not in i.units]
        out.append(f"| {unit} | {len(isa.queues_of(unit))} | {', '.join(names)} |")
    every = [f"[{i.name}](#{i.name})" for i in isa.instructions if "*" in i.units]
    out.append(f"| every queue (ICU) | {len(isa.queues)} | {', '.join(every)} |")
    return out + [""]


def _queues(isa: Isa) -> list[str]:
    out = ["## Queues", "", "The slot of a queue is its index in a bundle row of "
           f"{len(isa.queues)} instruction words, west to east. Position = stream-register position "
           f"(0..{isa.param('geometry.positions') - 1}); data moves one position per cycle.", ""]
    out += markdown_block(leading_comment(Path(isa.root) / "queues.toml"))
    out += ["| Slot | Name | Unit | Position | Hemisphere | Index (slice, ALU, unit or plane) |",
            "|---|---|---|---|---|---|"]
    for q in isa.queues:
        out.append(f"| {q.slot} | `{q.name}` | {q.unit} | {q.pos} | {_HEMI.get(q.hemi, q.hemi)} "
                   f"| {q.index} |")
    return out + [""]


def _fields(isa: Isa) -> list[str]:
    out = ["## Fields", "", f"Bit ranges of the {WORD_BITS}-bit instruction word (`isa/fields.toml`). "
           "Fields may share bits when no instruction uses both.", ""]
    out += markdown_block(leading_comment(Path(isa.root) / "fields.toml"))
    out += ["| Field | Bits | Width | Kind | Values / range | Used by | Meaning |",
            "|---|---|---|---|---|---|---|"]
    for f in isa.fields.values():
        if f.kind == "opcode":
            values, users = "per instruction, see below", "all"
        else:
            values = legal_values(isa, f)
            users = ", ".join(i.name for i in isa.instructions if f.name in i.field_index) or "-"
        out.append(f"| `{f.name}` | {bits(f)} | {f.width} | {f.kind} | {cell(values)} "
                   f"| {cell(users)} | {cell(f.doc)} |")
    return out + [""]


def _index(isa: Isa) -> list[str]:
    out = ["## Instruction index", "",
           "| Instruction | Units | Opcode | d_func | Description |", "|---|---|---|---|---|"]
    for i in isa.instructions:
        units = "every queue" if "*" in i.units else ", ".join(i.units)
        out.append(f"| [{i.name}](#{i.name}) | {units} | `0x{i.opcode:02X}` | {i.latency} "
                   f"| {cell(i.description)} |")
    return out + [""]


def make_isa_doc(isa: Isa) -> str:
    """The whole text of docs/isa.md; deterministic (no dates, no paths outside isa/)."""
    lines = (_intro(isa) + _machine(isa) + _units(isa) + _queues(isa) + _fields(isa)
             + _index(isa) + family_sections(isa))
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
