"""Generated golden programs are not stale: running each generator in programs/ into a
temporary directory reproduces the committed .tsp byte for byte, and the same input
files (same names, dtypes, shapes and values).  After editing a generator, rerun it
(the command is in the first line of the .tsp it writes) and commit what it writes."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tspasm.golden import load_sidecar

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "programs"

# generator command (arguments after the script) -> the programs it writes
GENERATED = [
    (["gen_allreduce.py", "node"], ["allreduce_node"]),
    (["gen_allreduce.py", "rack"], ["allreduce_rack"]),
    (["gen_mlp_2chip.py"], ["mlp_2chip"]),
]


@pytest.mark.parametrize("cmd, names", GENERATED, ids=[" ".join(c) for c, _ in GENERATED])
def test_generator_reproduces_the_committed_program(cmd, names, tmp_path):
    script, *args = cmd
    run = subprocess.run([sys.executable, str(PROGRAMS / script), *args, "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, f"{' '.join(cmd)} failed:\n{run.stdout}\n{run.stderr}"
    regen = f"python programs/{' '.join(cmd)}"
    for name in names:
        got = (tmp_path / f"{name}.tsp").read_bytes()
        want = (PROGRAMS / f"{name}.tsp").read_bytes()
        assert got.splitlines()[0] == want.splitlines()[0], f"{name}.tsp: first line differs"
        assert f"`{regen}`".encode() in want.splitlines()[0], f"{name}.tsp does not name `{regen}`"
        assert got == want, f"programs/{name}.tsp is stale: rerun `{regen}`"
        new = sorted(p.name for p in (tmp_path / name).iterdir())
        old = sorted(p.name for p in (PROGRAMS / name).iterdir())
        assert new == old, f"programs/{name}/ holds other files than `{regen}` writes"
        for fname in new:
            a, b = np.load(tmp_path / name / fname), np.load(PROGRAMS / name / fname)
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), \
                f"programs/{name}/{fname} is stale: rerun `{regen}`"


@pytest.mark.parametrize("name", [n for _, names in GENERATED for n in names])
def test_header_states_the_pinned_cycle_count(name):
    """The generator computes the cycle count it writes into the header; the sidecar pins
    the engine's.  They must agree."""
    text = (PROGRAMS / f"{name}.tsp").read_text(encoding="utf-8")
    m = re.search(r"(\d+)(?:\s|;)+cycles(?:\s|;)+on(?:\s|;)+the(?:\s|;)+superlane-0(?:\s|;)+timeline", text)
    assert m, f"{name}.tsp does not state its cycle count"
    assert int(m.group(1)) == load_sidecar(PROGRAMS / f"{name}.golden.py").CYCLES
