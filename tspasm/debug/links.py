"""C2C links in the debugger: naming a port ([chip:]Ln), `info links`, and what a link watchpoint reads.

A link watchpoint reads the four counters of Machine.link_info that change when a
vector moves - sent, received, FIFO fill, in flight - and not tx_free, which is a
future cycle (it moves with every send, so it would add no stop of its own).
"""
from __future__ import annotations

import re

from .formats import DebugError

# (key of Machine.link_info, how a stop message names it)
FIELDS = (("sent", "sent"), ("received", "received"), ("fifo", "fifo"), ("in_flight", "in flight"))
_PORT = re.compile(r"^(?:(\d+):)?L(\d+)$", re.IGNORECASE)


def is_port(text: str) -> bool:
    return _PORT.match(text) is not None


def program_chips(machine) -> list[int]:
    """Chips with code or data: the ones `info links` lists and a link watch may name."""
    return sorted(set(machine.program.chips) | set(machine.program.code))


def wired_ports(machine, chip: int) -> list[int]:
    return [p for p in range(machine.isa.param("c2c.links")) if machine.link_info(chip, p) is not None]


def port_names(machine, focus: int) -> list[str]:
    """Completion candidates: Ln for the focused chip's wired ports, chip:Ln for every program chip's."""
    names = [f"L{p}" for p in wired_ports(machine, focus)] if focus in program_chips(machine) else []
    return names + [f"{c}:L{p}" for c in program_chips(machine) for p in wired_ports(machine, c)]


def parse_port(machine, text: str, focus: int) -> tuple[int, int]:
    """'L0' (focused chip) or '1:L0' -> (chip, port) of a wired port; else a one-line error naming the legal ones."""
    m = _PORT.match(text)
    if not m:
        raise DebugError(f"{text!r} is not a C2C port; write Ln or chip:Ln, like L0 or 1:L0")
    chip = int(m.group(1)) if m.group(1) is not None else focus
    port = int(m.group(2))
    chips = {c: wired_ports(machine, c) for c in program_chips(machine)}
    legal = {c: ports for c, ports in chips.items() if ports}
    if not legal:
        raise DebugError(f"no C2C links on this machine (topology {machine.topology.name})")
    if chip not in legal:
        raise DebugError(f"chip {chip} has no C2C link to watch (chips with links: "
                         f"{' '.join(map(str, legal))})")
    if port not in legal[chip]:
        raise DebugError(f"chip {chip} L{port} is not wired in topology {machine.topology.name} "
                         f"(wired ports of chip {chip}: {' '.join(f'L{p}' for p in legal[chip])})")
    return chip, port


def read(machine, chip: int, port: int) -> tuple[int, ...] | None:
    info = machine.link_info(chip, port)
    return None if info is None else tuple(info[k] for k, _ in FIELDS)


def change_lines(old: tuple[int, ...] | None, new: tuple[int, ...] | None) -> list[str]:
    """'sent 0 -> 1' for each counter that differs."""
    if old is None or new is None:
        return [f"{'(unwired)' if old is None else old} -> {'(unwired)' if new is None else new}"]
    return [f"{label} {a} -> {b}" for (_, label), a, b in zip(FIELDS, old, new) if a != b]


def peer(machine, chip: int, port: int) -> str:
    info = machine.link_info(chip, port)
    return "" if info is None else f" (to chip {info['peer_chip']} L{info['peer_port']})"


def info_links(machine) -> str:
    """Wired ports of the program's chips: peer, FIFO, flits in flight, bandwidth state."""
    rows = []
    for chip in program_chips(machine):
        for port in wired_ports(machine, chip):
            info = machine.link_info(chip, port)
            rows.append(f"chip {chip} L{port} -> chip {info['peer_chip']} L{info['peer_port']}: "
                        f"latency {info['latency']}, fifo {info['fifo']}, in flight {info['in_flight']}, "
                        f"sent {info['sent']}, received {info['received']}, link free at cycle "
                        f"{info['tx_free']}")
    if not rows:
        return f"no C2C links on this machine (topology {machine.topology.name})"
    return "\n".join(rows)
