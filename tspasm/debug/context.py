"""The context view printed at every stop (pwndbg/gef style), as plain text.

Changed values are marked with `*` so tests and `-x` transcripts can see them;
with color=True the marker also turns the line bold red (ANSI), for the REPL.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..asm.encoding import DecodeError, decode
from ..asm.printer import format_instruction
from . import formats

NEAR = 2          # stream positions shown on each side of the focused queue's position
_ACTIVE = ("ready", "repeating")
_RED, _DIM, _BOLD, _OFF = "\x1b[1;31m", "\x1b[2m", "\x1b[1m", "\x1b[0m"


@dataclass(frozen=True)
class Issue:
    queue: str
    row: int
    text: str
    loc: tuple[str, int, int] | None   # file, line, column of the source
    source: str | None                 # that source line, stripped


def instruction_text(session, chip: int, slot: int, row: int, repeat: tuple[int, int] | None = None) -> str:
    """The instruction word at (chip, slot, row) as assembly, decoded from the image; with
    repeat = (k, n), as its k-th re-issue of n (stepped fields advanced, then `[repeat k/n]`)."""
    code = session.asm.program.code.get(chip)
    q = session.isa.queues[slot]
    if code is None or row >= code.shape[0]:
        return "(end of queue)"
    word = int.from_bytes(bytes(code[row, slot, :]), "little")
    if word == 0:
        return "(end of queue)"
    try:
        spec, values = decode(session.isa, q.unit, word, q)
    except DecodeError as exc:  # should not happen for an image the assembler wrote
        return f"(undecodable word: {exc})"
    if repeat is None:
        return format_instruction(session.isa, spec, values)
    k, n = repeat
    return f"{format_instruction(session.isa, spec, spec.stepped(values, k))}  [repeat {k}/{n}]"


def describe(session, chip: int, slot: int, row: int, repeat: tuple[int, int] | None = None) -> Issue:
    p = session.placed_at.get((chip, slot, row))
    loc = p.pos.resolve() if p is not None else None
    src = session.source_line(loc[0], loc[1]) if loc else None
    return Issue(session.isa.queues[slot].name, row, instruction_text(session, chip, slot, row, repeat), loc, src)


def describe_next(session, chip: int, slot: int, q) -> Issue:
    """What queue state `q` issues next: its next word, or the re-issue a repeat has coming."""
    if q.state == "repeating":
        return describe(session, chip, slot, q.repeat_row, q.repeat)
    return describe(session, chip, slot, q.next_row)


def issuing(session, chip: int, cycle: int) -> list[Issue]:
    """Instructions the engine will issue on `chip` at `cycle` (exact: from the engine's queue state)."""
    m = session.machine
    out = []
    for slot in session.used_slots(chip):
        q = m.queue_info(chip, slot)
        if q.state in _ACTIVE and q.next_cycle == cycle:
            out.append(describe_next(session, chip, slot, q))
    return out


def format_issue(i: Issue, color: bool) -> str:
    where = f"{i.loc[0].rsplit('/', 1)[-1]}:{i.loc[1]}" if i.loc else "(inserted by the assembler)"
    line = f"  {i.queue:<8} {i.text:<34} {where}"
    if i.source:
        line += f"   | {i.source}"
    return f"{_DIM}{line}{_OFF}" if color and not i.loc else line


def streams_near(session, chip: int, pos: int) -> dict[tuple[str, int], object]:
    """Every stream value present within NEAR positions of `pos` this cycle."""
    m = session.machine
    out = {}
    for p in range(max(pos - NEAR, 0), pos + NEAR + 1):
        for d in "EW":
            for n in range(32):
                v = m.stream(chip, f"S{n}{d}", p)
                if v is not None:
                    out[(f"S{n}{d}", p)] = v
    return out


def render(session, reason: str, *, color: bool = False) -> str:
    m = session.machine
    cycle, chip = m.cycle, session.chip
    qname = session.isa.queues[session.slot].name
    pos = session.isa.queues[session.slot].pos
    head = f"-- cycle {cycle}  chip {chip}  queue {qname} (position {pos}) -- {reason}"
    lines = [f"{_BOLD}{head}{_OFF}" if color else head]
    now = issuing(session, chip, cycle)
    if now:
        lines.append(f"issuing at cycle {cycle}:")
        lines.extend(format_issue(i, color) for i in now)
    else:
        nxt = session.next_issue_cycle(chip)
        lines.append(f"nothing issues at cycle {cycle}" +
                     (f"; next issue at cycle {nxt}" if nxt is not None else "; every queue is done"))
    values = streams_near(session, chip, pos)
    previous = session.last_streams
    lines.append(f"streams at positions {max(pos - NEAR, 0)}..{pos + NEAR} (i8, first 8 lanes):")
    if not values:
        lines.append("  (none)")
    for (name, p), v in sorted(values.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        old = previous.get((name, p))
        changed = old is None or not (old == v).all()
        text = f"{'*' if changed else ' '} {name + '@' + str(p):<9} {formats.short(v.view('int8'), 'i8')}"
        lines.append(f"{_RED}{text}{_OFF}" if color and changed else text)
    session.last_streams = values
    return "\n".join(lines)
