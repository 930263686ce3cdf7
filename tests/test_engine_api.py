"""The engine's Python API and C boundary: memory in all five types across
byte planes, outputs, state hash, lazy allocation, inspection, bad images and
bad arguments (errors, never crashes), and the ISA fingerprint handshake."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tspasm import UsageError, assemble_file, assemble_text, default_isa
from tspasm.engine import COMPILED_FINGERPRINT, EngineBuildError, EngineError, Machine, StopReason
from tspasm.engine._native import check_fingerprint, check_sources, ffi, lib
from tspasm.engine._sources import source_hash
from tspasm.image.program import Program

REPO = Path(__file__).resolve().parents[1]
ISA = default_isa()
LANES = ISA.param("geometry.lanes")
ADD = REPO / "programs" / "vector_add_i8.tsp"
TYPES = {"i8": np.int8, "i16": np.int16, "i32": np.int32, "f16": np.float16, "f32": np.float32}


def idle(**kw) -> Machine:
    return Machine(assemble_text(".chip 0\n@0 MEM_W0: nop 1\n").program, **kw)


# ---- memory ----------------------------------------------------------------

@pytest.mark.parametrize("t", TYPES)
def test_write_then_read_mem_in_every_type(t):
    m = idle()
    g = np.random.default_rng(1)
    vals = g.standard_normal((3, LANES)).astype(TYPES[t]) if t[0] == "f" else \
        g.integers(-100, 100, (3, LANES)).astype(TYPES[t])
    m.write_mem(0, "MEM_E4", 100, vals, t)
    back = m.read_mem(0, "MEM_E4", 100, 3, t)
    assert back.dtype == np.dtype(TYPES[t]) and back.tobytes() == vals.tobytes()


def test_byte_planes_live_in_consecutive_slices():
    m = idle()
    vals = np.arange(LANES, dtype=np.int32) * 0x01020304
    m.write_mem(0, "MEM_W8", 7, vals, "i32")
    raw = vals.view(np.uint8).reshape(LANES, 4)
    for j in range(4):  # byte j of every element is in MEM_W(8 + j), same address
        plane = m.read_mem(0, f"MEM_W{8 + j}", 7, 1, "i8")[0].view(np.uint8)
        assert np.array_equal(plane, raw[:, j])


def test_short_rows_are_zero_padded_and_outputs_have_their_shape():
    m = Machine(assemble_file(str(ADD)).program)
    m.run()
    assert m.outputs()["c"].shape == (LANES,)
    m.write_mem(0, "MEM_E0", 0x40, [1, 2, 3], "i16")
    row = m.read_mem(0, "MEM_E0", 0x40, 1, "i16")[0]
    assert list(row[:4]) == [1, 2, 3, 0] and not row[3:].any()


def test_memory_arguments_are_checked():
    m = idle()
    with pytest.raises(UsageError, match="not a MEM slice"):
        m.read_mem(0, "VXM0", 0, 1, "i8")
    with pytest.raises(UsageError, match="MEM_W42..MEM_W45"):
        m.write_mem(0, "MEM_W42", 0, [1], "f32")
    with pytest.raises(UsageError, match="unknown element type"):
        m.read_mem(0, "MEM_W0", 0, 1, "u8")
    with pytest.raises(EngineError) as err:
        m.read_mem(0, "MEM_W0", ISA.param("mem.words") - 1, 2, "i8")
    assert err.value.code == "TSP_E_ARG"
    with pytest.raises(EngineError):
        m.read_mem(5, "MEM_W0", 0, 1, "i8")  # no chip 5


# ---- run state -------------------------------------------------------------

def test_state_hash_is_deterministic_and_sees_memory():
    a, b = (Machine(assemble_file(str(ADD)).program) for _ in range(2))
    assert a.state_hash() == b.state_hash()
    a.step(5)
    b.step(5)
    assert a.state_hash() == b.state_hash()
    before = a.state_hash()
    a.write_mem(0, "MEM_E9", 0, np.zeros(LANES, np.int8), "i8")  # allocates, changes nothing
    assert a.state_hash() == before
    a.write_mem(0, "MEM_E9", 0, [1], "i8")
    assert a.state_hash() != before
    b.run()
    assert b.state_hash() != before


def test_streams_in_flight_are_visible():
    m = Machine(assemble_file(str(ADD)).program)
    m.run(3)  # the reads of cycle 0 arrive at VXM0 (position 24) in cycle 3
    s1 = m.stream(0, "S1E", 24)
    assert s1 is not None and list(s1[:3].view(np.int8)) == [1, 2, 3]
    assert m.stream(0, "S1E", 22) is None  # the writer's own position never sees it
    with pytest.raises(UsageError):
        m.stream(0, "X1", 3)


def test_idle_chips_cost_nothing():
    m = Machine(assemble_file(str(ADD)).program, chips=64)
    m.run()
    assert m.chip_info(0)["mem_slices"] == 3  # a, b and the result
    assert m.chip_info(63) == {"config_mask": (1 << ISA.param("geometry.superlanes")) - 1,
                               "ifetch_words": 0, "notifies": 0, "mem_slices": 0,
                               "mxm_planes": 0, "transmits": 0, "hacs": 0, "sacs": 0, "sac_offset": 0,
                               "drift_ppb": 0, "skew": 0}


def test_closed_machine_raises():
    m = idle()
    m.close()
    with pytest.raises(EngineError, match="closed"):
        m.run()


def test_hazard_mode_is_checked():
    with pytest.raises(UsageError):
        idle(hazards="ignore")


# ---- bad images ------------------------------------------------------------

def _code_with(slot: int, *words: int) -> Program:
    code = np.zeros((len(words), len(ISA.queues), 16), np.uint8)
    for r, w in enumerate(words):
        code[r, slot] = np.frombuffer(w.to_bytes(16, "little"), np.uint8)
    return Program(ISA.fingerprint, {0: code})


def test_illegal_words_are_rejected_at_load():
    nop1 = ISA.by_name["nop"].opcode | (1 << 64)
    with pytest.raises(EngineError, match=r"illegal word: nop sets bits outside its fields") as err:
        Machine(_code_with(3, nop1 | (1 << 127)))
    assert err.value.code == "TSP_E_IMAGE" and err.value.queue == "MXM1_W" and err.value.row == 0
    with pytest.raises(EngineError, match="illegal word: add cannot issue on MEM_W0"):
        Machine(_code_with(ISA.queue_by_name["MEM_W0"].slot, ISA.by_name["add"].opcode))
    with pytest.raises(EngineError, match="opcode 0xFF is not an instruction"):
        Machine(_code_with(0, 0xFF))
    with pytest.raises(EngineError, match="row 2 holds an instruction after the all-zero word"):
        Machine(_code_with(0, nop1, 0, nop1))


def test_program_for_another_isa_is_refused():
    program = assemble_file(str(ADD)).program
    program.isa_fingerprint = "0" * 64
    with pytest.raises(EngineError, match="reassemble the program") as err:
        Machine(program)
    assert err.value.code == "TSP_E_IMAGE"


def test_c_api_rejects_null_and_out_of_range_arguments():
    stop = ffi.new("int *")
    assert lib.tsp_run(ffi.NULL, 1, stop) == lib.TSP_E_ARG
    assert lib.tsp_create(0, ffi.new("tsp_machine **")) == lib.TSP_E_ARG
    out = ffi.new("tsp_machine **")
    assert lib.tsp_create(1, out) == lib.TSP_OK
    m = ffi.gc(out[0], lib.tsp_destroy)
    assert lib.tsp_load_queue(m, 1, 0, ffi.NULL, 0) == lib.TSP_E_ARG
    assert lib.tsp_load_queue(m, 0, len(ISA.queues), ffi.NULL, 0) == lib.TSP_E_ARG
    assert lib.tsp_mem_write(m, 0, 0, 0, 1, ffi.new("uint8_t[]", LANES)) == lib.TSP_E_ARG  # MXM0_W is no slice
    assert lib.tsp_set_hazard_mode(m, 7) == lib.TSP_E_ARG
    assert lib.tsp_run(m, 10, stop) == lib.TSP_OK and stop[0] == lib.TSP_STOP_HALTED
    assert lib.tsp_load_queue(m, 0, 0, ffi.NULL, 0) == lib.TSP_E_STATE  # after the run started
    assert "after the run started" in ffi.string(lib.tsp_last_error(m)).decode()
    assert ffi.string(lib.tsp_strerror(lib.TSP_E_SCHEDULE)) == b"schedule error"
    assert ffi.string(lib.tsp_strerror(999)) == b"unknown status"


# ---- the ISA handshake -----------------------------------------------------

def test_compiled_fingerprint_matches_isa():
    assert COMPILED_FINGERPRINT == ISA.fingerprint


def test_fingerprint_mismatch_says_how_to_fix_it():
    with pytest.raises(EngineBuildError, match=r"reinstall: pip install \.") as err:
        check_fingerprint("a" * 64, "b" * 64)
    assert isinstance(err.value, ImportError)


def test_extension_built_from_other_c_sources_is_refused_in_a_checkout():
    on_disk = source_hash(REPO)
    assert on_disk is not None  # this test runs from a checkout
    assert ffi.string(lib.tsp_engine_source_hash()).decode() == on_disk
    with pytest.raises(EngineBuildError, match=r"rebuild it: pip install -e \."):
        check_sources("0" * 64, on_disk)
    check_sources("0" * 64, None)  # an installed wheel has no sources next to it: nothing to compare


def test_stale_extension_fails_at_import():
    code = ("import tspasm.isa as isa\n"
            "real = isa.default_isa()\n"
            "class Fake:\n"
            "    fingerprint = 'f' * 64\n"
            "isa.default_isa = lambda: Fake()\n"
            "try:\n"
            "    import tspasm.engine\n"
            "except ImportError as e:\n"
            "    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert "refused:" in out.stdout and "reinstall: pip install ." in out.stdout


def test_stop_reasons_are_returned():
    m = Machine(assemble_file(str(ADD)).program)
    assert m.step(1) is StopReason.CYCLE_LIMIT
    assert m.run() is StopReason.HALTED
