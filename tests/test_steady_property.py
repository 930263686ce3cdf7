"""Property: any program runs to the same state with steady repeat runs on and off.

Random single-chip programs of MEM reads and writes and VXM ops under `repeat n, d`
(mostly d = 1, so steady runs start and stop often), with `nop` gaps, run in warn
mode (their stream timing is random, so they read missing values and clash) and are
compared at random chunk boundaries: state hash, counters, every queue's state, the
hazard log.  Hypothesis shrinks any difference to a small program."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tspasm import assemble_text
from tspasm.engine import Machine, StopReason

QUEUES = [f"MEM_W{i}" for i in range(12)] + [f"MEM_E{i}" for i in range(6)] + [f"VXM{i}" for i in range(8)]
STREAMS = [f"S{n}{d}" for n in range(6) for d in "EW"]


@st.composite
def queue_text(draw, queue: str) -> list[str]:
    """A queue's blocks, back to back: an instruction, usually a repeat of it, a gap."""
    lines, cycle = [], draw(st.integers(0, 20))
    for _ in range(draw(st.integers(1, 4))):
        if queue.startswith("VXM"):
            op = draw(st.sampled_from(["add.i8", "max.i8", "xor.i8", "sub.i8.sat"]))
            a, b, c = (draw(st.sampled_from(STREAMS)) for _ in range(3))
            insn = f"{op} {a}, {b} -> {c}"
        else:
            verb = draw(st.sampled_from(["read", "read", "write"]))
            insn = f"{verb} {draw(st.integers(0, 100))}, {draw(st.sampled_from(STREAMS))}, {draw(st.integers(0, 2))}"
        lines.append(f"@{cycle} {queue}: {insn}")
        end = cycle
        if draw(st.integers(0, 4)):
            n, d = draw(st.integers(1, 40)), draw(st.sampled_from([1, 1, 1, 2, 3]))
            lines.append(f"@{cycle + 1} {queue}: repeat {n}, {d}")
            end = cycle + n * d
        cycle = end + 1 + draw(st.integers(0, 6))
    return lines


@st.composite
def programs(draw) -> str:
    queues = draw(st.lists(st.sampled_from(QUEUES), min_size=1, max_size=10, unique=True))
    lines = [".chip 0"]
    for q in queues:
        lines += draw(queue_text(q))
    return "\n".join(lines) + "\n"


def state(m: Machine) -> tuple:
    return (m.cycle, m.state_hash(), m.stats(), tuple(m.queue_info(0, s) for s in range(144)),
            [h.message for h in m.hazards])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=programs(), chunk=st.integers(1, 60))
def test_steady_runs_change_nothing(text, chunk):
    program = assemble_text(text, "<random>").program
    on, off = Machine(program, hazards="warn"), Machine(program, hazards="warn")
    off.steady_runs = False
    for _ in range(10_000):
        a, b = on.run(max_cycles=chunk), off.run(max_cycles=chunk)
        assert a == b
        assert state(on) == state(off)
        if a is StopReason.HALTED:
            break
    assert off.steady_reissues() == 0
