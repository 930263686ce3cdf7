"""C2C links and multi-chip sync in the engine (native/engine/c2c.c has the rules):
send/receive timing at the link latency, bandwidth, FIFO empty/overflow, unwired ports,
transmit releasing a sync at an epoch boundary, snapshots of link state, --topology."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine_helpers import trace
from tspasm import UsageError, assemble_text
from tspasm.asm.encoding import encode
from tspasm.cli.main import main
from tspasm.engine import EngineError, Machine, StopReason
from tspasm.isa import default_isa
from tspasm.topology import builtin

ISA = default_isa()
LAT = ISA.param("c2c.link_latency")
LAT_MAX = ISA.param("c2c.link_latency_max")
FLIT = ISA.param("c2c.link_cycles_per_vector")
DEPTH = ISA.param("c2c.rx_fifo_depth")
EPOCH = ISA.param("sync.hac_epoch")
PINGPONG = Path(__file__).resolve().parents[1] / "programs" / "pingpong_2chip.tsp"
DATA0 = ".data MEM_W43 0 i8 [5, -7, 127]\n"


def machine(chip0: str, chip1: str = "", **kw) -> Machine:
    kw.setdefault("topology", builtin("pair"))
    return Machine(assemble_text(f".chip 0\n{DATA0}{chip0}\n.chip 1\n{chip1}\n").program, **kw)


def with_sync(program, chip: int, queue: str):
    """The assembler refuses a sync no notify releases; put one in place of the first
    `nop 1` of the queue (a transmit from the other chip is what releases it)."""
    slot = ISA.queue_by_name[queue].slot
    nop = np.frombuffer(encode(ISA.by_name["nop"], (1,)).to_bytes(16, "little"), np.uint8)
    sync = np.frombuffer(encode(ISA.by_name["sync"], ()).to_bytes(16, "little"), np.uint8)
    code = program.code[chip]
    row = next(r for r in range(code.shape[0]) if np.array_equal(code[r, slot], nop))
    code[row, slot] = sync
    return program


def sends(cycles) -> str:
    """chip 0 reads address 0 onto S0W two cycles before each cycle and sends it on L0 then."""
    return "".join(f"@{c - 2} MEM_W43: read 0, S0W\n@{c} C2C_W0: send L0, S0W\n" for c in cycles)


def test_default_topologies_and_links():
    m = machine(sends([2]))
    assert m.link_info(0, 0) == {"peer_chip": 1, "peer_port": 0, "latency": LAT, "tx_free": 0, "fifo": 0,
                                 "in_flight": 0, "sent": 0, "received": 0}
    assert m.link_info(0, 1) is None
    assert Machine(assemble_text(f".chip 0\n{sends([2])}\n.chip 1\n@0 MEM_W0: nop 1\n").program
                   ).topology.name == "pair"
    one = Machine(assemble_text(".chip 0\n@0 MEM_W0: nop 1\n").program)
    assert one.topology.name == "single" and one.link_info(0, 0) is None
    assert Machine(assemble_text(".chip 5\n@0 MEM_W0: nop 1\n").program).topology.name == "node"
    assert Machine(assemble_text(".chip 9\n@0 MEM_W0: nop 1\n").program).topology.name == "rack"
    with pytest.raises(UsageError, match="chip 72.*--topology system:R"):
        Machine(assemble_text(".chip 72\n@0 MEM_W0: nop 1\n").program)
    with pytest.raises(UsageError, match="uses chip 1 but topology single has only chips 0..0"):
        Machine(assemble_text(PINGPONG.read_text(), str(PINGPONG)).program, topology=builtin("single"))


@pytest.mark.parametrize("late", [0, 5])
def test_vector_is_receivable_exactly_at_the_link_latency(late):
    at = 2 + LAT + late
    m = machine(sends([2]), f"@{at} C2C_W0: receive L0, S1E\n@{at + 2} MEM_W43: write 0x10, S1E\n")
    m.run(until=at)
    assert m.link_info(1, 0)["fifo"] == 1 and m.link_info(0, 0)["tx_free"] == 2 + FLIT
    m.run()
    assert m.stop_reason is StopReason.HALTED and m.cycle == at + 3
    assert list(m.read_mem(1, "MEM_W43", 0x10)[0, :4]) == [5, -7, 127, 0]
    assert m.link_info(1, 0)["received"] == 1 and m.link_info(0, 0)["sent"] == 1


def test_receive_one_cycle_early_is_an_empty_fifo():
    m = machine(sends([2]), f"@{2 + LAT - 1} C2C_W0: receive L0, S1E\n")
    with pytest.raises(EngineError) as err:
        m.run()
    assert err.value.code == "TSP_E_SCHEDULE" and err.value.chip == 1 and err.value.cycle == 2 + LAT - 1
    assert f"receive on chip 1 L0: FIFO empty (next vector arrives at cycle {2 + LAT})" in str(err.value)


def test_receive_with_nothing_in_flight():
    m = machine("@0 MEM_W0: nop 1", "@7 C2C_W0: receive L0, S1E\n")
    with pytest.raises(EngineError, match=r"receive on chip 1 L0: FIFO empty \(nothing in flight\)"):
        m.run()


def test_warn_mode_receives_zeros_from_an_empty_fifo():
    m = machine("@0 MEM_W0: nop 1", "@7 C2C_W0: receive L0, S1E\n@9 MEM_W43: write 0x10, S1E\n",
                hazards="warn")
    m.run()
    assert m.hazard_count == 1 and not m.read_mem(1, "MEM_W43", 0x10).any()


def test_link_bandwidth():
    ok = machine(sends([2, 2 + FLIT]))
    ok.run()
    assert ok.link_info(1, 0)["fifo"] == 2
    m = machine(sends([2, 2 + FLIT - 1]))
    with pytest.raises(EngineError) as err:
        m.run()
    assert err.value.code == "TSP_E_SCHEDULE" and err.value.queue == "C2C_W0"
    assert (f"link L0 of chip 0 oversubscribed: previous vector still on the wire until cycle {2 + FLIT - 1}"
            in str(err.value))


def test_fifo_overflow():
    cycles = [2 + k * FLIT for k in range(DEPTH + 1)]
    full = machine(sends(cycles[:-1]))
    full.run()
    assert full.link_info(1, 0)["fifo"] == DEPTH
    m = machine(sends(cycles))
    with pytest.raises(EngineError) as err:
        m.run()
    assert "FIFO overflow on chip 1 L0" in str(err.value) and err.value.code == "TSP_E_SCHEDULE"
    assert err.value.cycle == cycles[-1] + LAT and err.value.chip == 0  # points at the send
    # a receive in the cycle before the arrival makes room: no overflow
    late = machine(sends(cycles), f"@{cycles[-1] + LAT - 1} C2C_W0: receive L0, S1E\n")
    late.run()
    assert late.link_info(1, 0)["fifo"] == DEPTH and late.link_info(1, 0)["received"] == 1


def test_unwired_port_is_refused_at_load():
    with pytest.raises(EngineError) as err:
        machine("@0 MEM_W43: read 0, S0W\n@2 C2C_W0: send L3, S0W\n")
    assert err.value.code == "TSP_E_IMAGE" and "chip 0 L3 has no link in this topology (send uses it)" \
        in str(err.value)
    assert err.value.queue == "C2C_W0" and err.value.location.endswith(":4:4")
    with pytest.raises(EngineError, match="chip 1 L9 has no link"):
        machine("", "@0 C2C_E0: hac L9\n")
    with pytest.raises(EngineError, match="chip 0 L0 has no link"):  # one chip: the single topology
        Machine(assemble_text(".chip 0\n@0 C2C_W1: transmit L0\n").program)


def test_unwired_check_errors_through_the_cli(capsys, tmp_path):
    src = tmp_path / "u.tsp"
    src.write_text("@0 MEM_W43: read 0, S0W\n@2 C2C_W0: send L0, S0W\n")
    code = main(["check", str(src)])
    _, err = capsys.readouterr()
    assert code == 1 and err.startswith(f"{src}:2:4: error: chip 0 L0 has no link in this topology")


def transmit_case(t: int, sync_at: int) -> Machine:
    src = f".chip 0\n@{t} C2C_W0: transmit L0\n.chip 1\n@{sync_at} MEM_W0: nop 1\n@+1 MEM_W0: nop 1\n"
    return Machine(with_sync(assemble_text(src).program, 1, "MEM_W0"))


@pytest.mark.parametrize("t,sync_at", [(10, 0), (10, 240), (EPOCH - LAT, 3), (EPOCH - LAT + 1, 300)])
def test_transmit_releases_a_sync_at_the_first_epoch_boundary_after_arrival(t, sync_at):
    arrive = t + LAT
    boundary = -(-arrive // EPOCH) * EPOCH
    m = transmit_case(t, sync_at)
    m.run(until=arrive - 1)
    assert m.queue_info(1, "MEM_W0").state == ("parked" if sync_at < arrive - 1 else "ready")
    m.run()
    q = m.queue_info(1, "MEM_W0")
    assert q.state == "done" and m.cycle == boundary + 1
    assert m.chip_info(0)["transmits"] == 1


def test_a_sync_at_the_boundary_itself_is_not_released():
    m = transmit_case(10, EPOCH)
    with pytest.raises(EngineError) as err:
        m.run()
    assert err.value.code == "TSP_E_DEADLOCK"


def test_transmit_takes_link_bandwidth():
    m = machine("@0 C2C_W0: transmit L0\n" + sends([FLIT - 1]))
    with pytest.raises(EngineError, match="oversubscribed"):
        m.run()


def test_hac_and_sac_are_accounted():
    m = machine("@0 C2C_W0: hac L0\n@1 C2C_W0: sac 12", "@0 C2C_W0: sac 3\n")
    m.run()
    assert m.stop_reason is StopReason.HALTED and m.cycle == 2
    assert (m.chip_info(0)["hacs"], m.chip_info(0)["sacs"], m.chip_info(0)["sac_offset"]) == (1, 1, 12)
    assert m.chip_info(1)["sacs"] == 1 and m.link_info(0, 0)["sent"] == 0


def test_snapshot_holds_flits_fifos_and_notifications():
    """Vectors in flight and waiting in a FIFO, a link still busy, a pending transmit release."""
    cycles = [2 + k * FLIT for k in range(3)]
    chip1 = "".join(f"@{c + LAT + 30} C2C_W1: receive L0, S{k}E\n" for k, c in enumerate(cycles))
    chip1 += "@0 MEM_W0: nop 1\n@+1 MEM_W0: nop 1\n"
    chip0 = sends(cycles) + "@100 C2C_W1: transmit L0\n"
    prog = with_sync(assemble_text(f".chip 0\n{DATA0}{chip0}\n.chip 1\n{chip1}\n").program, 1, "MEM_W0")
    ref = Machine(prog)
    hashes = trace(ref)
    end = ref.cycle
    for c in (cycles[1] + 1, cycles[0] + LAT + 1, cycles[2] + LAT, 100 + LAT + 1, end - 1):
        m = Machine(prog)
        m.run(until=c)
        snap = m.snapshot()
        fresh = Machine(prog)
        fresh.restore(snap)
        assert fresh.state_hash() == hashes[c]
        assert [fresh.link_info(ch, 0) for ch in (0, 1)] == [m.link_info(ch, 0) for ch in (0, 1)]
        assert trace(fresh) == {k: v for k, v in hashes.items() if k >= c}
    mid = Machine(prog)
    mid.run(until=cycles[2] + LAT)
    # 3 arrived, 1 received; the transmit's notification is still on the wire
    assert mid.link_info(1, 0)["fifo"] == 2 and mid.link_info(1, 0)["in_flight"] == 1


def test_pingpong_runs_and_reports(capsys):
    m = Machine(assemble_text(PINGPONG.read_text(), str(PINGPONG)).program)
    assert m.run() is StopReason.HALTED and m.cycle == 2 + LAT_MAX + 50 + LAT_MAX + 3  # jitter-proof
    assert m.memory_bytes() > 0
    code = main(["run", str(PINGPONG), "--topology", "node"])
    out, _ = capsys.readouterr()
    assert code == 0 and "chips: 0, 1 of topology node; engine memory" in out


@pytest.mark.parametrize("cmd", ["run", "check"])
def test_too_small_topology_is_an_error(capsys, cmd):
    code = main([cmd, str(PINGPONG), "--topology", "single"])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert "uses chip 1 but topology single has only chips 0..0" in err


def test_custom_topology_without_the_used_port(capsys, tmp_path):
    topo = tmp_path / "t.toml"
    topo.write_text("chips = 2\n[[links]]\na = [0, 1]\nb = [1, 1]\n")
    code = main(["run", str(PINGPONG), "--topology", str(topo)])
    _, err = capsys.readouterr()
    assert code == 1 and "chip 0 L0 has no link in this topology (send uses it)" in err


def test_debugger_info_links():
    from tspasm import assemble_file
    from tspasm.debug.session import Session
    s = Session(assemble_file(str(PINGPONG)))
    s.machine.run(until=100)
    lines = s.execute("info links").splitlines()
    assert lines[0].startswith(f"chip 0 L0 -> chip 1 L0: latency {LAT}, fifo 0, in flight 0, sent 1")
    assert lines[1].startswith(f"chip 1 L0 -> chip 0 L0: latency {LAT}, fifo 0, in flight 1, sent 0")


def test_snapshot_is_refused_on_another_topology(tmp_path):
    prog = assemble_text(PINGPONG.read_text(), str(PINGPONG)).program
    m = Machine(prog)
    m.run(until=100)
    with pytest.raises(EngineError, match="number of chips"):
        Machine(prog, topology=builtin("node")).restore(m.snapshot())
    from tspasm.topology import load_topology
    topo = tmp_path / "t.toml"
    topo.write_text("chips = 2\n[[links]]\na = [0, 0]\nb = [1, 0]\nlatency = 300\n")
    with pytest.raises(EngineError, match="another topology with the same number of chips"):
        Machine(prog, topology=load_topology(topo)).restore(m.snapshot())
