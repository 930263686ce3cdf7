"""The golden regression suite: every programs/<name>.tsp with its sidecar
programs/<name>.golden.py (see tspasm/golden.py).  Each program is assembled and
run; its outputs must match the sidecar's numpy reference bit for bit (or to the
sidecar's documented TOLERANCE) and its cycle count must equal CYCLES exactly.
A failure prints a diff and the command that reproduces the run.
`pytest --update-golden` rewrites CYCLES after an intended change."""
from __future__ import annotations

from pathlib import Path

import pytest

from tspasm.errors import TspError
from tspasm.golden import Inputs, compare_outputs, load_sidecar, sidecar_path, update_cycles
from tspasm.runner import load_program, run_program

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "programs"
ALL = sorted(PROGRAMS.glob("*.tsp"))
WITH_SIDECAR = [p for p in ALL if sidecar_path(p).exists()]


def test_every_program_has_a_golden_sidecar():
    missing = [p.name for p in ALL if not sidecar_path(p).exists()]
    assert not missing, f"programs without a <name>.golden.py sidecar: {', '.join(missing)}"


@pytest.mark.parametrize("tsp", WITH_SIDECAR, ids=[p.stem for p in WITH_SIDECAR])
def test_golden(tsp: Path, golden_updates):
    rel = tsp.relative_to(ROOT)
    repro = f"reproduce: tspasm run {rel}"
    side_path = sidecar_path(tsp)
    side = load_sidecar(side_path)
    try:
        loaded = load_program(str(tsp))
        result = run_program(loaded)
    except TspError as exc:
        pytest.fail(f"{rel}: the run failed:\n{exc}\n\n{repro}", pytrace=False)

    problems = []
    if result.stop_reason != "halted":
        problems.append(f"the run stopped with {result.stop_reason}, not halted")
    if hasattr(side, "reference"):
        expected = side.reference(Inputs(tsp, loaded.program))
        problems += compare_outputs(expected, result.outputs, getattr(side, "TOLERANCE", None))
    if hasattr(side, "check"):
        try:
            side.check(result.machine)
        except (AssertionError, NotImplementedError) as exc:
            problems.append(f"check(machine): {type(exc).__name__}: {exc}")
    if result.cycles != side.CYCLES:
        if golden_updates.enabled:
            update_cycles(side_path, result.cycles)
            golden_updates.changed.append(f"{side_path.relative_to(ROOT)}: CYCLES {side.CYCLES} -> {result.cycles}")
        else:
            problems.append(f"cycles: expected {side.CYCLES}, got {result.cycles} on the superlane-0 timeline "
                            f"(pytest --update-golden rewrites {side_path.name} if the change is intended)")
    if problems:
        pytest.fail(f"{rel}:\n" + "\n".join(problems) + f"\n\n{repro}", pytrace=False)


# ---- the comparison itself -------------------------------------------------------------------------

def test_floats_compare_by_bits_and_nan_equals_nan():
    import numpy as np
    want = np.array([0.0, np.nan, 1.5, 2.0], np.float16)
    got = np.array([-0.0, np.float16(np.nan) * -1, 1.5, 2.001], np.float16)
    problems = compare_outputs({"v": want}, {"v": got})
    assert len(problems) == 1
    text = problems[0]
    assert "differs in 2 of 4 elements" in text          # -0.0 vs 0.0 and 2.0 vs 2.001; NaNs match
    assert "0x0000" in text and "0x8000" in text         # bits shown for floats
    assert compare_outputs({"v": want}, {"v": got}, {"rtol": 1e-3, "atol": 0.0}) == []


def test_shape_dtype_and_name_mismatches_are_reported():
    import numpy as np
    problems = compare_outputs({"a": np.zeros(3, np.int8), "b": np.zeros(2, np.int8)},
                               {"a": np.zeros(3, np.int16), "c": np.zeros(1, np.int8)})
    text = "\n".join(problems)
    assert "lacks: b" in text and "lacks: c" in text and "expected int8[3], got int16[3]" in text


def test_update_cycles_rewrites_only_the_cycles_line(tmp_path):
    side = tmp_path / "x.golden.py"
    side.write_text('"""doc CYCLES = 3"""\nCYCLES = 12\nX = "CYCLES = 1"\n')
    update_cycles(side, 99)
    assert side.read_text() == '"""doc CYCLES = 3"""\nCYCLES = 99\nX = "CYCLES = 1"\n'
