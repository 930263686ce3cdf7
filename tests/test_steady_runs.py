"""Steady repeat runs (native/engine/steady.c) against the event loop.

Queues re-issuing under `repeat n, 1` run outside the event queue, with every
other event merged in between them in the event loop's order.  That must be
invisible: the same program with steady runs on and off gives the
same state hash at every point where a run can stop, the same counters, outputs,
queue states, hazard log and errors.  Each test also checks that the steady
path really ran (or, where it must not, that it did not)."""
from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tspasm import assemble_text
from tspasm.engine import EngineError, Machine, StopReason
from tspasm.runner import load_program, make_machine

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = sorted((ROOT / "programs").glob("*.tsp"))


def _bench():
    spec = importlib.util.spec_from_file_location("engine_throughput", ROOT / "benchmarks" / "engine_throughput.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def streaming(cycles: int, block: int):
    """The benchmark's streaming kernel (20 MEM reads -> 16 VXM ALUs -> 4 MEM writes a
    cycle), with repeat blocks of `block` re-issues so that runs end and restart."""
    bench = _bench()
    bench.MEM_WORDS = block
    text, ops = bench.streaming_program(cycles)
    return assemble_text(text, "<streaming>").program, ops, bench


def loaded_machine(program, steady: bool, hazards: str = "stop", data=None) -> Machine:
    m = Machine(program, hazards=hazards)
    m.steady_runs = steady
    for name, rows in (data or {}).items():
        m.write_mem(0, name, 0, rows)
    return m


def state(m: Machine, chips=(0,)) -> tuple:
    queues = tuple((c, q, m.queue_info(c, q)) for c in chips for q in range(144))
    return m.cycle, m.state_hash(), m.stats(), queues, [h.message for h in m.hazards]


def stop_error(program, steady: bool) -> tuple[tuple, int]:
    """Run to the error the program must stop with: (what it says and where, the
    machine state then), and how many re-issues ran as steady runs."""
    m = loaded_machine(program, steady)
    with pytest.raises(EngineError) as exc:
        m.run()
    e = exc.value
    return (str(e), e.code, e.cycle, e.queue, e.row, state(m)), m.steady_reissues()


def stream_data(seed: int = 5, rows: int = 64):
    rng = np.random.default_rng(seed)
    return {f"MEM_W{i}": rng.integers(-128, 128, (rows, 320), dtype=np.int8) for i in range(20)}


def test_streaming_kernel_is_identical_at_every_chunk_boundary():
    program, ops, _ = streaming(700, 64)
    data = stream_data()
    on, off = loaded_machine(program, True, data=data), loaded_machine(program, False, data=data)
    # a prime chunk stops runs at cycles that fall everywhere inside and across them
    while True:
        a, b = on.step(37), off.step(37)
        assert a == b
        assert state(on) == state(off), f"machines differ after cycle {on.cycle}"
        if a is StopReason.HALTED:
            break
    assert off.steady_reissues() == 0
    assert on.steady_reissues() > ops // 3, "many re-issues should have run as steady runs"
    assert on.stats()["executed"] == off.stats()["executed"] >= ops
    for c in range(4):
        assert np.array_equal(on.read_mem(0, f"MEM_E{c}", 0, 64), off.read_mem(0, f"MEM_E{c}", 0, 64))


def test_streaming_kernel_result_matches_numpy_with_steady_runs():
    program, _, bench = streaming(640, 64)
    data = stream_data(9)
    m = loaded_machine(program, True, data=data)
    assert m.run() is StopReason.HALTED
    assert m.steady_reissues() > 0
    for c in range(bench.CHAINS):
        want = data[f"MEM_W{5 * c}"]
        for r in range(4):
            want = bench._i8_op(bench._rank_op(c, r), want, data[f"MEM_W{5 * c + 1 + r}"])
        assert np.array_equal(m.read_mem(0, f"MEM_E{c}", 0, 64), want)


def test_one_cycle_steps_match_the_event_loop_cycle_by_cycle():
    program, _, _ = streaming(120, 64)
    on, off = loaded_machine(program, True, data=stream_data()), loaded_machine(program, False, data=stream_data())
    while True:
        a, b = on.step(1), off.step(1)
        assert a == b and state(on) == state(off), f"machines differ after cycle {on.cycle}"
        if a is StopReason.HALTED:
            break
    assert on.steady_reissues() > 0 and off.steady_reissues() == 0


@pytest.mark.parametrize("tsp", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_programs_are_identical_both_ways(tsp):
    loaded = load_program(str(tsp))
    runs = []
    for steady in (True, False):
        m = make_machine(loaded.program, loaded=loaded)
        m.steady_runs = steady
        assert m.run() is StopReason.HALTED
        chips = sorted(set(loaded.program.code))
        runs.append((state(m, chips), {k: v.tobytes() for k, v in m.outputs().items()}))
    assert runs[0] == runs[1]


# Two MEM slices at one position (MEM_W0 and MEM_W1 sit at position 23) stream onto
# S0E in the same cycles: every cycle of their repeats clashes, and the clash
# reports (events) land in between the re-issues of the queues around them.
CLASH = """
.chip 0
@0 MEM_W0: read 0, S0E, 1
@1 MEM_W0: repeat 59, 1
@0 MEM_W1: read 0, S0E, 1
@1 MEM_W1: repeat 59, 1
@0 MEM_W2: read 0, S2E, 1
@1 MEM_W2: repeat 79, 1
@0 MEM_W5: read 0, S5E, 1
@1 MEM_W5: repeat 79, 1
@0 MEM_E7: read 0, S7W, 1
@1 MEM_E7: repeat 79, 1
@60 MEM_W1: read 0, S1E, 1
@61 MEM_W1: repeat 30, 1
"""


def test_clashes_inside_steady_cycles_are_logged_identically():
    program = assemble_text(CLASH, "<clash>").program
    on, off = loaded_machine(program, True, "warn"), loaded_machine(program, False, "warn")
    assert on.run() is off.run() is StopReason.HALTED
    assert state(on) == state(off)
    assert len(on.hazards) == 60 and "two writes to S0E" in on.hazards[0].message
    assert on.steady_reissues() > 0


def test_a_clash_stops_both_ways_at_the_same_place():
    program = assemble_text(CLASH, "<clash>").program
    (on, _), (off, _) = stop_error(program, True), stop_error(program, False)
    assert on == off
    assert "two writes to S0E" in on[0]


# A VXM ALU keeps reading S0E after the MEM read feeding it has stopped: the reads
# of its last re-issues find no value (a hazard inside a steady run), and a read
# whose address steps past the end of MEM faults inside one.
STARVED = """
.chip 0
@0 MEM_W0: read 0, S0E, 1
@1 MEM_W0: repeat 99, 1
@0 MEM_W1: read 0, S1E, 1
@1 MEM_W1: repeat 149, 1
@24 VXM0: add.i8 S0E, S1E -> S2E
@25 VXM0: repeat 120, 1
"""

FAULT = """
.chip 0
@0 MEM_W0: read {addr}, S0E, 1
@1 MEM_W0: repeat 200, 1
@0 MEM_W2: read 0, S2E, 1
@1 MEM_W2: repeat 200, 1
@0 MEM_E3: read 0, S3W, 1
@1 MEM_E3: repeat 200, 1
"""


def fault_program():
    """FAULT with MEM_W0 reading from 8100: its address steps past 8191 at the 92nd
    re-issue.  The assembler refuses that program, so the read word is patched into
    the image of the same program reading from 0 (same rows, same layout)."""
    far = assemble_text(FAULT.format(addr=8100).replace("repeat 200", "repeat 90", 1), "<fault>").program
    ok = assemble_text(FAULT.format(addr=0), "<fault>").program
    code = ok.code[0].copy()
    code[0] = far.code[0][0]
    return replace(ok, code={0: code})


def test_missing_values_inside_steady_runs_warn_identically():
    program = assemble_text(STARVED, "<starved>").program
    on, off = loaded_machine(program, True, "warn"), loaded_machine(program, False, "warn")
    assert on.run() is off.run() is StopReason.HALTED
    assert state(on) == state(off)
    assert on.hazards and all("no value there" in h.message for h in on.hazards)
    assert on.steady_reissues() > 0


@pytest.mark.parametrize("make", [lambda: assemble_text(STARVED, "<starved>").program, fault_program],
                         ids=["no-value", "address-fault"])
def test_errors_inside_steady_runs_stop_identically(make):
    program = make()
    (on, steady), (off, none) = stop_error(program, True), stop_error(program, False)
    assert on == off
    assert on[1] in ("TSP_E_SCHEDULE", "TSP_E_FAULT")
    assert steady > 0 and none == 0, "the error should come inside a steady run"


def test_snapshot_inside_a_steady_run_continues_identically():
    program, _, _ = streaming(500, 64)
    data = stream_data()
    straight = loaded_machine(program, True, data=data)
    straight.run()
    m = loaded_machine(program, True, data=data)
    m.run(max_cycles=211)
    assert m.steady_reissues() > 0
    snap = m.snapshot()
    other = loaded_machine(program, True)
    other.restore(snap)
    other.run()
    assert state(other) == state(straight)


def test_steady_runs_setting_survives_a_restore():
    program, _, _ = streaming(300, 64)
    m = loaded_machine(program, False, data=stream_data())
    m.run(max_cycles=100)
    m.restore(m.snapshot())
    assert m.steady_runs is False
    m.run()
    assert m.steady_reissues() == 0


# A `send` repeated every cycle oversubscribes its link (a warning in warn mode),
# and each re-issue puts a flit in flight: events added from inside a steady run,
# which the run itself must land at their cycles.
FLITS = """
.chip 0
@0 MEM_W43: read 0, S0W, 1
@1 MEM_W43: repeat 99, 1
@0 MEM_W42: read 0, S1W, 1
@1 MEM_W42: repeat 99, 1
@0 MEM_E0: read 0, S2E, 1
@1 MEM_E0: repeat 99, 1
@2 C2C_W0: send L0, S0W
@3 C2C_W0: repeat 60, 1
.chip 1
@0 MEM_W43: read 0, S0W, 1
@1 MEM_W43: repeat 99, 1
"""


def test_events_added_inside_a_steady_cycle_hand_it_back_identically():
    program = assemble_text(FLITS, "<flits>").program
    runs = []
    for steady in (True, False):
        m = Machine(program, hazards="warn")
        m.steady_runs = steady
        chunks = 0
        while m.run(max_cycles=41) is not StopReason.HALTED:
            chunks += 1
        runs.append((state(m, (0, 1)), m.steady_reissues() > 0))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1] and not runs[1][1]
    assert any("oversubscribed" in msg for msg in runs[0][0][4])


# Two chips streaming under `repeat` while a vector crosses the link between them, and
# chip 1 lines up with the HAC epoch (`deskew`) in the middle: under clock drift and link
# jitter the steady path must still give the event loop's state.
TWO_CHIPS = """
.chip 0
@0 MEM_W43: read 0, S0W, 1
@1 MEM_W43: repeat 299, 1
@0 MEM_W42: read 0, S1W, 1
@1 MEM_W42: repeat 299, 1
@2 C2C_W0: send chip1, S0W
@0 MEM_E0: read 0, S2E, 1
@1 MEM_E0: repeat 299, 1
.chip 1
@0 MEM_W43: read 0, S0W, 1
@1 MEM_W43: repeat 299, 1
@0 MEM_E0: read 0, S2E, 1
@1 MEM_E0: repeat 199, 1
@201 MEM_E0: deskew
@{recv} C2C_W0: receive chip0, S1E
"""


@pytest.mark.parametrize("seed", [1, 7])
def test_two_chips_under_drift_and_jitter_are_identical_both_ways(seed):
    from tspasm.engine import ClockModel

    text = TWO_CHIPS.replace("{recv}", str(2 + 228))
    program = assemble_text(text, "<two>").program
    runs = []
    for steady in (True, False):
        m = Machine(program, clocks=ClockModel(seed=seed, drift_ppm=50, jitter=True))
        m.steady_runs = steady
        while m.run(max_cycles=97) is not StopReason.HALTED:
            pass
        runs.append((state(m, (0, 1)), m.steady_reissues()))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1] > 0 and runs[1][1] == 0
