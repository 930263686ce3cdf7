"""Snapshots of the whole machine, and the Python API of the engine (issue: Machine API)."""
from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import tspasm
from engine_helpers import trace
from tspasm import UsageError, assemble_file, assemble_text
from tspasm.engine import EngineError, Machine, Snapshot, StopReason

PROGRAMS = Path(__file__).resolve().parents[1] / "programs"
GOLDENS = ["matmul_i8", "weight_load_4planes", "vector_addmul_f32", "transpose", "gather", "shift_reduce"]


def program(name: str):
    return assemble_file(str(PROGRAMS / f"{name}.tsp")).program


@pytest.mark.parametrize("name", GOLDENS)
def test_restore_continues_bit_identically(name):
    prog = program(name)
    ref = Machine(prog)
    hashes = trace(ref)
    end = ref.cycle
    expected = {k: v.copy() for k, v in ref.outputs().items()}
    for c in sorted({1, end // 3, end // 2, end - 1}):
        m = Machine(prog)
        m.run(until=c)
        snap = m.snapshot()
        assert snap.cycle == c
        # in a fresh machine of the same program ...
        fresh = Machine(prog)
        fresh.restore(snap)
        assert fresh.cycle == c and fresh.state_hash() == hashes[c]
        assert trace(fresh) == {k: v for k, v in hashes.items() if k >= c}
        for k, v in fresh.outputs().items():
            np.testing.assert_array_equal(v, expected[k])
        # ... and in the same machine after it ran on to the end
        m.run()
        m.restore(snap)
        assert m.cycle == c and m.state_hash() == hashes[c]
        m.run()
        assert m.cycle == end and m.state_hash() == hashes[end]


def test_snapshot_holds_mxm_state_in_flight():
    prog = program("matmul_i8")
    ref = Machine(prog)
    hashes = trace(ref)
    m = Machine(prog)
    for c in range(1, ref.cycle):
        m.run(until=c)
        if m.chip_info(0)["mxm_planes"]:
            break
    w = m.mxm_weights(0, 0)
    snap = m.snapshot()
    other = Machine(prog)
    other.restore(snap)
    np.testing.assert_array_equal(other.mxm_weights(0, 0), w)
    assert other.chip_info(0) == m.chip_info(0)
    assert trace(other) == {k: v for k, v in hashes.items() if k >= m.cycle}


def test_snapshot_pickles_and_keeps_hazard_log():
    m = Machine(assemble_text(".chip 0\n@5 VXM0: add.i8 S3E, S2E -> S4E\n").program, hazards="warn")
    m.run()
    assert m.hazard_count == 2  # both operands are missing
    snap = pickle.loads(pickle.dumps(m.snapshot()))
    assert isinstance(snap, Snapshot) and snap.nbytes == len(snap.data)
    other = Machine(m.program, hazards="warn")
    other.restore(snap)
    assert other.hazards == m.hazards and other.state_hash() == m.state_hash()
    assert other.stats() == m.stats()


def test_corrupt_or_foreign_snapshots_are_errors_and_leave_the_machine_alone():
    prog = program("matmul_i8")
    m = Machine(prog)
    m.run(until=30)
    snap = m.snapshot()
    m.run(until=40)
    before = m.state_hash()
    data = bytearray(snap.data)
    bad = []
    for i in (0, 9, 20, 100, len(data) // 2, len(data) - 1):  # magic, version, ISA id, ..., payload
        flipped = bytearray(data)
        flipped[i] ^= 0x5A
        bad.append(bytes(flipped))
    bad += [bytes(data[: len(data) // 2]), b"", b"TSPSNAP\0", bytes(data) + b"\0"]
    for blob in bad:
        with pytest.raises(EngineError) as err:
            m.restore(replace(snap, data=blob))
        assert err.value.code == "TSP_E_SNAPSHOT"
        assert "snapshot" in str(err.value)
    assert m.cycle == 40 and m.state_hash() == before
    with pytest.raises(EngineError, match="another program"):
        Machine(program("gather")).restore(snap)
    with pytest.raises(UsageError):
        m.restore(snap.data)
    m.restore(snap)  # the good one still loads
    assert m.cycle == 30


def test_c_api_checks_its_arguments():
    from tspasm.engine._native import ffi, lib
    m = Machine(program("gather"))
    size = ffi.new("uint64_t *")
    assert lib.tsp_snapshot_size(ffi.NULL, size) == lib.TSP_E_ARG
    assert lib.tsp_snapshot_size(m._h, size) == lib.TSP_OK
    small = ffi.new("uint8_t[]", 16)
    assert lib.tsp_snapshot_save(m._h, small, 16) == lib.TSP_E_ARG
    assert lib.tsp_snapshot_load(m._h, ffi.NULL, 0) == lib.TSP_E_SNAPSHOT
    two = Machine(program("gather"), chips=2)
    with pytest.raises(EngineError, match="number of chips"):
        two.restore(m.snapshot())


# ---- the rest of the Python API ------------------------------------------------

def test_machine_is_exported_lazily_from_the_package():
    assert tspasm.Machine is Machine and tspasm.Snapshot is Snapshot and tspasm.StopReason is StopReason
    import subprocess
    import sys
    code = "import sys, tspasm; assert 'tspasm.engine' not in sys.modules; tspasm.Machine; " \
           "assert 'tspasm.engine' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_run_until_a_cycle_and_stop_reason():
    m = Machine(program("matmul_i8"))
    assert m.stop_reason is None
    assert m.run(until=10) is StopReason.CYCLE_LIMIT and m.cycle == 10
    assert m.run(until=5) is StopReason.CYCLE_LIMIT and m.cycle == 10  # not backwards
    assert m.run(max_cycles=3, until=20) is StopReason.CYCLE_LIMIT and m.cycle == 13
    assert m.step(2) is StopReason.CYCLE_LIMIT and m.cycle == 15
    assert m.run(until=10**9) is StopReason.HALTED and m.stop_reason is StopReason.HALTED
    with pytest.raises(UsageError):
        m.run(until=-1)


@pytest.mark.parametrize("dtype", ["i8", "i16", "i32", "f16", "f32"])
def test_streams_read_and_write_in_every_type(dtype):
    m = Machine(program("gather"))
    dt = np.dtype(m.isa.dtype_numpy[dtype])
    values = (np.arange(320) - 100).astype(dt)
    assert m.read_stream(0, "S4E", 10, dtype) is None
    m.write_stream(0, "S4E", 10, values, dtype)
    np.testing.assert_array_equal(m.read_stream(0, "S4E", 10, dtype), values)
    m.step(3)  # it flows on east, one position a cycle
    np.testing.assert_array_equal(m.read_stream(0, "S4E", 13, dtype), values)
    assert m.read_stream(0, "S4E", 10, dtype) is None
    m.write_stream(0, "S2W", 30, values[:7], dtype)  # short vectors are zero padded
    got = m.read_stream(0, "S2W", 30, dtype)
    np.testing.assert_array_equal(got[:7], values[:7])
    assert not got[7:].any()


def test_stream_writes_at_the_upstream_edge_are_refused():
    m = Machine(program("gather"))
    with pytest.raises(EngineError, match="upstream"):
        m.write_stream(0, "S0E", 0, [1])
    with pytest.raises(EngineError, match="upstream"):
        m.write_stream(0, "S0W", m.isa.param("geometry.positions") - 1, [1])
    with pytest.raises(UsageError):
        m.write_stream(0, "S31E", 3, [1], "i16")  # needs S31E and S32E


@pytest.mark.parametrize("dtype", ["i8", "i16", "i32", "f16", "f32"])
def test_mem_read_and_write_in_every_type(dtype):
    m = Machine(program("gather"))
    dt = np.dtype(m.isa.dtype_numpy[dtype])
    values = (np.arange(2 * 320).reshape(2, 320) % 97 - 40).astype(dt)
    m.write_mem(0, "MEM_W10", 7, values, dtype)
    np.testing.assert_array_equal(m.read_mem(0, "MEM_W10", 7, 2, dtype), values)
    h = m.state_hash()
    other = Machine(m.program)
    other.restore(m.snapshot())
    np.testing.assert_array_equal(other.read_mem(0, "MEM_W10", 7, 2, dtype), values)
    assert other.state_hash() == h


def test_queue_state_survives_a_snapshot():
    m = Machine(program("matmul_i8"))
    m.run(until=20)
    other = Machine(m.program)
    other.restore(m.snapshot())
    for q in m.isa.queues:
        assert other.queue_info(0, q.slot) == m.queue_info(0, q.slot)
