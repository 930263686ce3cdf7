"""Golden programs (programs/*.tsp) on the engine: outputs bit for bit against
numpy, cycle counts as each program's header states them, and the issue cycle
of every word against the Python replay of the occupancy rules
(tspasm/image/timeline.py).  weight_load_4planes has no .output: its result is
the weights installed in the four MXM planes."""
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


def planes_of(program: str, name) -> np.ndarray:
    """A 320 x 320 weight matrix from its 16 files: the file feeding stream s holds rows s::16."""
    w = np.zeros((320, 320), np.int8)
    for s in range(16):
        w[s::16] = load(f"{program}/{name(s)}.npy")
    return w


def matmul_ref() -> dict[str, np.ndarray]:
    w = planes_of("matmul_i8", lambda s: f"w_s{s:02d}")
    x = load("matmul_i8/x.npy")
    return {"y": (x.astype(np.int64) @ w.astype(np.int64)).astype(np.int32)}


def transpose_ref() -> dict[str, np.ndarray]:
    x = np.stack([load(f"transpose/in{j:02d}.npy") for j in range(16)], axis=1)  # (block, j, lane)
    b = x.reshape(2, 16, 20, 16)                       # [block, j, superlane, i]
    y = b.transpose(0, 3, 2, 1).reshape(2, 16, 320)    # [block, i, 16 * superlane + j]
    return {f"t{i:02d}": np.ascontiguousarray(y[:, i]) for i in range(16)}


def permute_ref() -> dict[str, np.ndarray]:
    return {"y": load("permute/src.npy")[:, load("permute/map.npy")]}


def shift_reduce_ref() -> dict[str, np.ndarray]:
    v = load("shift_reduce/x.npy").astype(np.int64)
    for n in (256, 128, 64, 32, 16, 8, 4, 2, 1):
        shifted = np.zeros_like(v)
        shifted[:, :320 - n] = v[:, n:]  # shift.down fills with zeros
        v = v + shifted
    return {"y": ((v + 2**31) % 2**32 - 2**31).astype(np.int32)}


REFERENCES = {
    "vector_add_i8": add_i8_ref,
    **{f"vector_addmul_{t}": addmul_ref(t) for t in ("i8", "i16", "i32", "f16", "f32")},
    "relu_i8": lambda: {"y": np.maximum(load("relu_i8/x.npy"), 0)},
    "gather": gather_ref,
    "scatter": scatter_ref,
    "matmul_i8": matmul_ref,
    "transpose": transpose_ref,
    "permute": permute_ref,
    "shift_reduce": shift_reduce_ref,
}


def existing(names) -> list:
    return [pytest.param(n, id=n) if (PROGRAMS / f"{n}.tsp").exists() else
            pytest.param(n, id=n, marks=pytest.mark.skip(reason=f"programs/{n}.tsp not written yet"))
            for n in names]


def stated_cycles(path: Path) -> int | None:
    # the phrase may wrap onto the next comment line anywhere
    m = re.search(r"(\d+)(?:\s|;)+cycles(?:\s|;)+on(?:\s|;)+the(?:\s|;)+superlane-0(?:\s|;)+timeline",
                  path.read_text())
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


@pytest.mark.parametrize("name", existing(list(REFERENCES) + ["weight_load_4planes"]))
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


@pytest.mark.parametrize("name", existing(["weight_load_4planes"]))
def test_weight_load_installs_all_four_planes_in_39_cycles(name):
    path = PROGRAMS / f"{name}.tsp"
    m = Machine(assemble_file(str(path)).program)
    assert m.run() is StopReason.HALTED
    assert m.cycle == stated_cycles(path) == 39
    for p in range(4):
        want = planes_of(name, lambda s, p=p: f"p{p}_s{s:02d}")
        assert np.array_equal(m.mxm_weights(0, p), want), f"plane {p}"


def test_two_chips_run_side_by_side():
    src = PROGRAMS / "vector_add_i8.tsp"
    text = src.read_text()
    two = text + "\n" + text.replace(".chip 0", ".chip 1").replace(".output c =", ".output c1 =")
    from tspasm import assemble_text
    m = Machine(assemble_text(two, str(src)).program)
    assert m.run() is StopReason.HALTED and m.cycle == 11
    out = m.outputs()
    assert np.array_equal(out["c"], out["c1"]) and out["c"][0] == 11
