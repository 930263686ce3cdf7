"""Assembly listing: source line -> chip/queue/cycle -> encoding."""
from __future__ import annotations

from .assembler import Assembly
from .printer import format_instruction


def make_listing(assembly: Assembly) -> str:
    isa = assembly.isa
    out = [f"; tspasm listing; ISA {isa.fingerprint[:16]}",
           f"; {'source':<28} {'chip':>4} {'queue':<8} {'cycle':>8} {'row':>6}  encoding (128-bit, hex)  instruction"]
    for p in assembly.placed:
        path, line, col = p.pos.resolve()
        where = f"{path}:{line}:{col}"
        if len(where) > 28:
            where = "…" + where[-27:]
        out.append(f"  {where:<28} {p.chip:>4} {isa.queues[p.slot].name:<8} {p.cycle:>8} {p.row:>6}  "
                   f"{p.word:032x}  {format_instruction(isa, p.spec, p.values)}")
    prog = assembly.program
    for chip in sorted(prog.code):
        out.append(f"; chip {chip}: {prog.code[chip].shape[0]} rows x {prog.code[chip].shape[1]} slots")
    return "\n".join(out) + "\n"
