"""The engine's timing model: stream hazards, faults, bank ports, queue
occupancy (nop, repeat, sync/notify, deskew) and event-driven time."""
from __future__ import annotations

import time

import numpy as np
import pytest

from tspasm import assemble_text, default_isa
from tspasm.asm.encoding import encode
from tspasm.image.program import Program
from tspasm.engine import EngineError, Machine, StopReason

ISA = default_isa()
LANES = ISA.param("geometry.lanes")
NOTIFY_LATENCY = ISA.param("sync.notify_latency")
EPOCH = ISA.param("sync.hac_epoch")


def machine(src: str, **kw) -> Machine:
    return Machine(assemble_text(".chip 0\n" + src).program, **kw)


def image(queues: dict[str, list[tuple[str, tuple]]]) -> Program:
    """A program built word by word, for what the assembler rightly refuses to emit."""
    words = {ISA.queue_by_name[q].slot: [encode(ISA.by_name[n], v) for n, v in ws] for q, ws in queues.items()}
    rows = max(len(w) for w in words.values())
    code = np.zeros((rows, len(ISA.queues), 16), np.uint8)
    for slot, ws in words.items():
        for r, w in enumerate(ws):
            code[r, slot] = np.frombuffer(w.to_bytes(16, "little"), np.uint8)
    return Program(ISA.fingerprint, {0: code})


# ---- schedule errors -------------------------------------------------------

def test_read_of_a_missing_value_is_a_schedule_error():
    m = machine("@5 VXM0: add.i8 S3E, S2E -> S4E\n")
    with pytest.raises(EngineError) as err:
        m.run()
    e = err.value
    assert e.code == "TSP_E_SCHEDULE"
    assert str(e).startswith("read of S3E at position 24, cycle 5: no value there")
    assert (e.chip, e.cycle, e.queue, e.row) == (0, 5, "VXM0", 1)
    assert "VXM0 `add`" in str(e) and e.location == "<input>:2:4"


def test_a_value_is_gone_once_it_passed():
    # read at 0 on position 22 is seen at VXM0 (24) at cycle 3 only
    m = machine("@0 MEM_W2: read 0, S1E\n@0 MEM_W3: read 0, S2E\n@4 VXM0: add.i8 S1E, S2E -> S3E\n")
    with pytest.raises(EngineError, match="read of S1E at position 24, cycle 4: no value there"):
        m.run()


def test_two_writers_in_one_cycle_name_both():
    m = machine("@0 { MEM_W2: read 0, S1E | MEM_W3: read 0, S1E }\n")  # both at position 22
    with pytest.raises(EngineError) as err:
        m.run()
    e = err.value
    assert e.code == "TSP_E_SCHEDULE"
    assert "two writes to S1E leaving position 22 at cycle 1" in str(e)
    assert "MEM_W3 `read` row 0 (issued at cycle 0)" in str(e)
    assert "MEM_W2 `read` row 0 (issued at cycle 0)" in str(e)
    assert {e.queue, e.other_queue} == {"MEM_W2", "MEM_W3"}
    assert e.location and e.other_location


def test_a_downstream_write_replaces_the_value_flowing_through():
    # MEM_W2 (22) puts 7 on S1E leaving at cycle 1; it passes 23 at cycle 2, where MEM_W0
    # puts 9 on S1E.  Position 28 sees the nearer write, at 1 + 6 = 2 + 5 = 7.
    m = machine("@0 MEM_W2: read 0, S1E\n@1 MEM_W0: read 1, S1E\n@7 MEM_E0: write 1, S1E\n")
    m.write_mem(0, "MEM_W2", 0, [7], "i8")
    m.write_mem(0, "MEM_W0", 1, [9], "i8")
    m.run()
    assert m.read_mem(0, "MEM_E0", 1, 1, "i8")[0, 0] == 9
    # without the second write, the first value flows on to 28
    m = machine("@0 MEM_W2: read 0, S1E\n@7 MEM_E0: write 1, S1E\n")
    m.write_mem(0, "MEM_W2", 0, [7], "i8")
    m.run()
    assert m.read_mem(0, "MEM_E0", 1, 1, "i8")[0, 0] == 7


def test_warn_mode_collects_hazards_and_carries_on():
    m = machine("@0 { MEM_W2: read 0, S1E | MEM_W3: read 0, S1E }\n"
                "@5 VXM0: add.i8 S5E, S6E -> S3E\n@12 MEM_E0: write 0, S3E\n", hazards="warn")
    assert m.run() is StopReason.HALTED and m.cycle == 13
    msgs = [h.message for h in m.hazards]
    assert len(msgs) == 3 and m.hazard_count == 3
    assert msgs[0].startswith("two writes to S1E")
    assert msgs[1].startswith("read of S5E at position 24, cycle 5")
    assert m.hazards[1].location == "<input>:3:4"
    assert not m.read_mem(0, "MEM_E0", 0, 1, "i8").any()  # missing values read as zero


def test_bank_ports_read_and_write_must_use_different_banks():
    bank = 1 << ISA.param("mem.bank_address_bit")
    ok = machine(f"@0 MEM_W2: read 0, S1E\n@2 MEM_W1: rw 5, S2E, {bank + 9}, S1E\n")
    ok.run()
    bad = machine("@0 MEM_W2: read 0, S1E\n@2 MEM_W1: rw 5, S2E, 9, S1E\n")
    with pytest.raises(EngineError, match="MEM_W1 reads address 5 and writes address 9 in the same bank"):
        bad.run()


# ---- faults ----------------------------------------------------------------

def test_gather_address_outside_mem_is_a_fault():
    m = machine("@0 MEM_W2: read 0, S1E\n@2 MEM_W0: gather S2E, S1E\n")
    words = ISA.param("mem.words")
    mp = np.zeros(LANES, np.uint8)
    mp[48:50] = list((words + 5).to_bytes(2, "little"))  # lanes 0-1 of superlane 3
    m.write_mem(0, "MEM_W2", 0, mp.view(np.int8), "i8")
    with pytest.raises(EngineError) as err:
        m.run()
    assert err.value.code == "TSP_E_FAULT"
    assert f"address {words + 5} in superlane 3 of the map is outside MEM" in str(err.value)


def test_repeat_stepping_out_of_mem_is_a_fault():
    # The assembler refuses this statically; the engine must still fault cleanly.
    prog = image({"MEM_W0": [("read", (8190, 1, 1)), ("repeat", (3, 1))]})
    with pytest.raises(EngineError) as err:
        Machine(prog).run()
    assert err.value.code == "TSP_E_FAULT" and err.value.cycle == 2
    assert "address 8192 is outside MEM (0..8191)" in str(err.value) and "repeat 2" in str(err.value)


# ---- time ------------------------------------------------------------------

def test_a_billion_idle_cycles_cost_nothing():
    start = time.perf_counter()
    m = machine("@0 MEM_W0: nop 1000000000\n")
    assert m.run() is StopReason.HALTED
    assert m.cycle == 1_000_000_000
    m = machine("@1000000000 MEM_W2: read 0, S1E\n@1000000003 VXM0: mov.i8 S1E -> S2E\n")
    assert m.run() is StopReason.HALTED
    assert m.cycle == 1_000_000_003 + 3 + 1  # the mov's result leaves VXM0 three cycles later
    assert m.stats()["events"] < 10
    assert time.perf_counter() - start < 1.0


def test_step_and_cycle_limits():
    m = machine("@0 MEM_W0: nop 100\n")
    assert m.step(10) is StopReason.CYCLE_LIMIT and m.cycle == 10
    assert m.run(max_cycles=50) is StopReason.CYCLE_LIMIT and m.cycle == 60
    assert m.run() is StopReason.HALTED and m.cycle == 100
    assert m.step(5) is StopReason.HALTED and m.cycle == 100


def test_repeat_steps_addresses_both_ways():
    m = machine("@0 MEM_W2: read 0, S1E, 2\n@1 MEM_W2: repeat 3, 1\n"
                "@7 MEM_E0: write 10, S1E, -1\n@8 MEM_E0: repeat 3, 1\n")
    m.write_mem(0, "MEM_W2", 0, np.arange(1, 9, dtype=np.int8)[:, None] * np.ones(LANES, np.int8), "i8")
    m.run()
    got = m.read_mem(0, "MEM_E0", 7, 4, "i8")[:, 0]
    assert list(got) == [7, 5, 3, 1]  # rows 6, 4, 2, 0 written to 7, 8, 9, 10
    assert m.cycle == 11


def test_repeat_with_a_delay_reissues_every_d_cycles():
    m = machine("@0 MEM_W2: read 0, S1E\n@1 MEM_W2: repeat 3, 2\n"
                "@7 MEM_E0: write 0, S1E\n@8 MEM_E0: repeat 3, 2\n")
    m.write_mem(0, "MEM_W2", 0, np.arange(1, 5, dtype=np.int8)[:, None] * np.ones(LANES, np.int8), "i8")
    assert m.run(9) is StopReason.CYCLE_LIMIT
    q = m.queue_info(0, "MEM_E0")
    assert (q.state, q.next_cycle, q.executed) == ("repeating", 9, 2)  # re-issues at 9, 11, 13
    m.run()
    assert list(m.read_mem(0, "MEM_E0", 0, 4, "i8")[:, 0]) == [1, 2, 3, 4]
    assert m.cycle == 14


def test_repeat_must_follow_the_unit_instruction():
    prog = image({"MEM_W0": [("nop", (1,)), ("repeat", (3, 1))]})
    with pytest.raises(EngineError, match="repeat must issue the cycle after the unit instruction"):
        Machine(prog).run()


def test_sync_waits_for_notify_plus_latency():
    n = 5
    m = machine(f"@0 MEM_W2: sync\n@{n} VXM4: notify\n@{n + NOTIFY_LATENCY} MEM_W2: read 0, S1E\n"
                f"@{n + NOTIFY_LATENCY + 3} VXM0: mov.i8 S1E -> S2E\n")
    m.run(n)
    assert m.queue_info(0, "MEM_W2").state == "parked"
    m.run(1)  # the notify issues at n
    q = m.queue_info(0, "MEM_W2")
    assert (q.state, q.next_cycle, q.busy_until) == ("ready", n + NOTIFY_LATENCY, n + NOTIFY_LATENCY - 1)
    m.run()  # the read at n + L is exactly on time for the mov (no missing value)
    assert m.chip_info(0)["notifies"] == 1


def test_a_sync_after_a_recent_notify_is_released_by_it():
    n = 5
    m = machine(f"@{n} VXM4: notify\n@{n + NOTIFY_LATENCY - 1} MEM_W2: sync\n"
                f"@{n + NOTIFY_LATENCY} MEM_W2: nop 1\n")
    m.run()  # MEM_W2's words: nop (the gap), sync, nop 1 issued at n + L
    assert m.queue_info(0, "MEM_W2").issued == 3 and m.cycle == n + NOTIFY_LATENCY + 1


def test_sync_with_no_notify_is_a_deadlock():
    prog = image({"MEM_W0": [("sync", ()), ("nop", (1,))], "VXM0": [("nop", (7,))]})
    with pytest.raises(EngineError) as err:
        Machine(prog).run()
    assert err.value.code == "TSP_E_DEADLOCK"
    assert "MEM_W0 park in sync and no notify releases them" in str(err.value)


@pytest.mark.parametrize("start", [0, 3, EPOCH - 1, EPOCH])
def test_deskew_waits_for_the_next_epoch(start):
    m = machine(f"@{start} MEM_W0: deskew\n")
    m.run()
    assert m.cycle == (start // EPOCH + 1) * EPOCH


def test_config_and_ifetch_are_accounted():
    m = machine("@0 MEM_W0: config 0x3\n@1 MEM_W0: ifetch 12\n@0 VXM0: runtime_deskew 9\n")
    m.run()
    info = m.chip_info(0)
    assert info["config_mask"] == 3 and info["ifetch_words"] == 12 and m.cycle == 9


def test_c2c_on_an_unwired_port_is_refused_at_load():
    with pytest.raises(EngineError) as err:  # one chip: the single topology, no links at all
        machine("@0 MEM_W43: read 0, S0W\n@2 C2C_W0: send L0, S0W\n")
    assert err.value.code == "TSP_E_IMAGE" and err.value.queue == "C2C_W0"
    assert "chip 0 L0 has no link in this topology (send uses it)" in str(err.value)


def test_icu_timing_matches_the_python_replay():
    """nop, repeat, sync/notify, deskew and runtime_deskew on several queues: the
    engine issues every word in the cycle tspasm/image/timeline.py says."""
    from tspasm.image.timeline import chip_timeline
    src = (f"@0 MEM_W0: sync\n@2 MEM_W1: sync\n@3 VXM4: notify\n@{3 + NOTIFY_LATENCY} MEM_W0: nop 3\n"
           f"@{3 + NOTIFY_LATENCY} MEM_W1: deskew\n@{EPOCH} MEM_W1: read 0, S1E\n@{EPOCH + 1} MEM_W1: repeat 5, 3\n"
           f"@{3 + NOTIFY_LATENCY + 3} MEM_W0: runtime_deskew 17\n@40 VXM4: sync\n@41 VXM8: notify\n"
           f"@{41 + NOTIFY_LATENCY} VXM4: config 0x5\n@{EPOCH + 30} MEM_W0: ifetch 2\n")
    program = assemble_text(".chip 0\n" + src).program
    issued = chip_timeline(ISA, 0, program.code[0])
    m = Machine(program)
    for c in sorted({i.cycle for i in issued}) + [max(i.cycle for i in issued) + 1]:
        m.run(c - m.cycle)
        for q in {i.slot for i in issued}:
            assert m.queue_info(0, q).issued == sum(1 for i in issued if i.slot == q and i.cycle < c), \
                (c, ISA.queues[q].name)
    assert m.run() is StopReason.HALTED
