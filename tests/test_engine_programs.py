"""Golden programs (programs/*.tsp) on the engine: outputs bit for bit against
numpy, cycle counts as each program's header states them, and the issue cycle
of every word against the Python replay of the occupancy rules
(tspasm/image/timeline.py).  Programs that need units this engine does not
model yet must stop with a clean TSP_E_UNIMPLEMENTED naming the instruction."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tspasm import assemble_file, default_isa
from tspasm.engine import EngineError, Machine, StopReason
from tspasm.image.timeline import chip_timeline

PROGRAMS = Path(__file__).resolve().parents[1] / "programs"
ISA = default_isa()


def load(name: str) -> np.ndarray:
    return np.load(PROGRAMS / name)


def tiles(table: np.ndarray, maps: np.ndarray, rows: int) -> list[tuple[int, int, int]]:
    """(row, superlane, address) for each map vector: lanes 0-1 of a superlane, little-endian."""
    raw = maps.view(np.uint8).reshape(maps.shape[0], -1)
    return [(r, k, int(raw[r, 16 * k]) + 256 * int(raw[r, 16 * k + 1])) for r in range(rows) for k in range(20)]


def gather_ref() -> dict[str, np.ndarray]:
    table, maps = load("gather/table.npy"), load("gather/map.npy")
    y = np.zeros((4, 320), np.int8)
    for r, k, a in tiles(table, maps, 4):
        y[r, 16 * k:16 * k + 16] = table[a, 16 * k:16 * k + 16]
    return {"y": y}


def scatter_ref() -> dict[str, np.ndarray]:
    src, maps = load("scatter/src.npy"), load("scatter/map.npy")
    y = np.zeros((32, 320), np.int8)
    for r, k, a in tiles(src, maps, 4):
        y[a, 16 * k:16 * k + 16] = src[r, 16 * k:16 * k + 16]
    return {"y": y}


def addmul_ref(t: str):
    def ref():
        a, b = load(f"vector_addmul_{t}/a.npy"), load(f"vector_addmul_{t}/b.npy")
        with np.errstate(all="ignore"):
            return {"sum": a + b, "prod": a * b}
    return ref


def add_i8_ref() -> dict[str, np.ndarray]:
    c = np.zeros(320, np.int8)
    c[:8] = [11, 22, 33, -128, 127, 0, -7, -56]  # the program's own comment
    return {"c": c}


REFERENCES = {
    "vector_add_i8": add_i8_ref,
    **{f"vector_addmul_{t}": addmul_ref(t) for t in ("i8", "i16", "i32", "f16", "f32")},
    "relu_i8": lambda: {"y": np.maximum(load("relu_i8/x.npy"), 0)},
    "gather": gather_ref,
    "scatter": scatter_ref,
}
NOT_YET = {"matmul_i8": "lw", "weight_load_4planes": "lw", "permute": "permute", "shift_reduce": "shift",
           "transpose": "transpose"}


def existing(names) -> list:
    return [pytest.param(n, id=n) if (PROGRAMS / f"{n}.tsp").exists() else
            pytest.param(n, id=n, marks=pytest.mark.skip(reason=f"programs/{n}.tsp not written yet"))
            for n in names]


def stated_cycles(path: Path) -> int | None:
    m = re.search(r"(\d+) cycles on the superlane-0\s*(?:;\s*)?timeline", path.read_text())
    return int(m.group(1)) if m else None


@pytest.mark.parametrize("name", existing(REFERENCES))
def test_golden_program_outputs_and_cycles(name):
    path = PROGRAMS / f"{name}.tsp"
    m = Machine(assemble_file(str(path)).program)
    assert m.run() is StopReason.HALTED
    got, want = m.outputs(), REFERENCES[name]()
    assert set(got) == set(want)
    for key, arr in want.items():
        assert got[key].dtype == arr.dtype and got[key].shape == arr.shape
        assert got[key].tobytes() == arr.tobytes(), f"{name}: output {key} differs"
    expected = stated_cycles(path)
    assert expected is not None, f"{name}.tsp does not state its cycle count"
    assert m.cycle == expected


@pytest.mark.parametrize("name", existing(REFERENCES))
def test_issue_cycles_match_the_timeline_replay(name):
    """Step the engine to every issue cycle of the Python replay and compare, per
    queue, how many words have issued before it."""
    program = assemble_file(str(PROGRAMS / f"{name}.tsp")).program
    m = Machine(program)
    issued = chip_timeline(ISA, 0, program.code[0])
    for c in sorted({i.cycle for i in issued} | {max(i.cycle for i in issued) + 1}):
        m.run(c - m.cycle)
        for q in {i.slot for i in issued}:
            want = sum(1 for i in issued if i.slot == q and i.cycle < c)
            assert m.queue_info(0, q).issued == want, (name, c, ISA.queues[q].name)


@pytest.mark.parametrize("name", existing(NOT_YET))
def test_programs_for_unmodelled_units_stop_cleanly(name):
    m = Machine(assemble_file(str(PROGRAMS / f"{name}.tsp")).program)
    with pytest.raises(EngineError) as err:
        m.run()
    assert err.value.code == "TSP_E_UNIMPLEMENTED"
    assert f"{NOT_YET[name]} is not implemented" in str(err.value)
    assert err.value.location and err.value.location.startswith(str(PROGRAMS))


def test_two_chips_run_side_by_side():
    src = PROGRAMS / "vector_add_i8.tsp"
    text = src.read_text()
    two = text + "\n" + text.replace(".chip 0", ".chip 1").replace(".output c =", ".output c1 =")
    from tspasm import assemble_text
    m = Machine(assemble_text(two, str(src)).program)
    assert m.run() is StopReason.HALTED and m.cycle == 11
    out = m.outputs()
    assert np.array_equal(out["c"], out["c1"]) and out["c"][0] == 11
