"""Issues of one cycle run in (chip, slot) order, however and whenever they were queued.

The calendar (native/engine/events.c) keeps a cycle's issues in two sorted runs: issues
queued cycles ahead (after a `nop`) and the later flood of next-cycle re-issues.  The
order shows in the warn-mode hazard log: every queue below reads a stream with no
value in it, and the log lists them in the order they issued."""
from __future__ import annotations

import pytest

from tspasm import assemble_text, default_isa
from tspasm.engine import Machine, StopReason

T = 40
# The 16 VXM ALUs in slot order (the order of isa/queues.toml: VXM0, VXM4, VXM8, ...)
VXM = [q.name for q in default_isa().queues if q.unit == "VXM"]


def program(early: list[int], flood: list[int], chips: int = 1) -> str:
    """On every chip: the `early` VXM ALUs (indices into VXM, the slot order) wait in a
    `nop` from cycle 0 and issue at T (queued at cycle 0), the `flood` ones repeat from
    cycle 30 (queued at T - 1)."""
    out = []
    for chip in range(chips):
        out.append(f".chip {chip}")
        for k in early:
            out += [f"@0 {VXM[k]}: nop {T}", f"@{T} {VXM[k]}: add.i8 S1E, S2E -> S3E"]
        for k in flood:
            out += [f"@30 {VXM[k]}: add.i8 S1E, S2E -> S3E", f"@31 {VXM[k]}: repeat 20, 1"]
    return "\n".join(out) + "\n"


def issue_order(text: str, steady: bool) -> list[tuple[int, str]]:
    m = Machine(assemble_text(text, "order.tsp").program, hazards="warn")
    m.steady_runs = steady
    assert m.run() is StopReason.HALTED
    order: list[tuple[int, str]] = []
    for h in m.hazards:
        if h.cycle == T and (h.chip, h.queue) not in order:
            order.append((h.chip, h.queue))
    return order


@pytest.mark.parametrize("steady", [True, False], ids=["steady", "event-loop"])
@pytest.mark.parametrize("early,flood", [
    ([8, 9, 10, 11, 12, 13, 14, 15], [0, 1, 2, 3, 4, 5, 6, 7]),   # flood below every early issue
    ([0, 2, 4, 6, 8, 10, 12, 14], [1, 3, 5, 7, 9, 11, 13, 15]),   # interleaved
    ([3, 12], [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15]),
])
def test_issues_of_one_cycle_run_in_slot_order(early, flood, steady):
    order = issue_order(program(early, flood), steady)
    assert order == [(0, q) for q in VXM]


def test_on_two_chips_chip_order_comes_first():
    order = issue_order(program([8, 9, 10, 11], [0, 1, 2, 3], chips=2), True)
    assert order == [(c, VXM[k]) for c in (0, 1) for k in (0, 1, 2, 3, 8, 9, 10, 11)]
