"""ASCII diagram of an instruction's 128-bit word, most significant bit on the left.

Drawn the way ISA manuals draw encodings, so a reader can check a hex dump by eye:

     127        54 53  48 ...  7      0
    +------------+------+ ... +--------+
    |     0      | dst  | ... |  0x30  |
    +------------+------+ ... +--------+
"""
from __future__ import annotations

from ..isa.loader import WORD_BITS
from ..isa.model import InstrSpec, Isa


def segments(isa: Isa, spec: InstrSpec) -> list[tuple[int, int, str]]:
    """(hi, lo, label) from bit 127 down to bit 0; bits no field uses are labelled 0."""
    op = isa.fields["opcode"]
    used = [(op.hi, op.lo, f"0x{spec.opcode:02X}")]
    used += [(f.hi, f.lo, f.name) for f in spec.fields]
    used.sort(reverse=True)
    out: list[tuple[int, int, str]] = []
    top = WORD_BITS - 1
    for hi, lo, label in used:
        if hi < top:
            out.append((top, hi + 1, "0"))
        out.append((hi, lo, label))
        top = lo - 1
    if top >= 0:
        out.append((top, 0, "0"))
    return out


def _cell_width(hi: int, lo: int, label: str) -> int:
    numbers = len(str(hi)) if hi == lo else len(str(hi)) + len(str(lo)) + 1
    return max(len(label), numbers) + 2


def diagram(isa: Isa, spec: InstrSpec) -> str:
    segs = segments(isa, spec)
    widths = [_cell_width(*s) for s in segs]
    numbers, labels = [], []
    for (hi, lo, label), w in zip(segs, widths):
        if hi == lo:
            numbers.append(str(hi).center(w))
        else:
            numbers.append(str(hi).ljust(w - len(str(lo))) + str(lo))
        labels.append(label.center(w))
    rule = "+" + "+".join("-" * w for w in widths) + "+"
    return "\n".join([
        " " + " ".join(numbers),
        rule,
        "|" + "|".join(labels) + "|",
        rule,
    ])
