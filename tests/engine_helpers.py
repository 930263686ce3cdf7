"""Helpers shared by the engine test files."""
from __future__ import annotations

from tspasm.engine import Machine, StopReason


def trace(m: Machine) -> dict[int, int]:
    """State hash after every cycle until the program halts."""
    out = {m.cycle: m.state_hash()}
    while m.step(1) is not StopReason.HALTED:
        out[m.cycle] = m.state_hash()
    out[m.cycle] = m.state_hash()
    return out
