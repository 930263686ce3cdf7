"""Golden programs: sidecar references, bit-exact comparison, readable diffs.

Every `programs/<name>.tsp` has a sidecar `programs/<name>.golden.py` defining

    CYCLES = <int>                      # pinned length on the superlane-0 timeline
    def reference(inputs) -> dict[str, np.ndarray]   # expected .output regions (numpy)
    TOLERANCE = {"rtol": r, "atol": a}  # optional; default: bit for bit
    def check(machine) -> None          # optional: inspect state that is not an .output
                                        # (raise AssertionError with a message)

`inputs` is an `Inputs`: `inputs.npy("relu_i8/x.npy")` loads a file next to the
program, `inputs.segment("MEM_W2", 0x10)` returns the tensor a `.data` directive
placed there (as the assembler encoded it, inline lists included).

tests/test_golden.py runs every program through this module; `pytest
--update-golden` rewrites the `CYCLES =` line of a sidecar after an intended change.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import numpy as np

from .image.program import Program
from .isa import default_isa

SIDE_SUFFIX = ".golden.py"
_CYCLES_RE = re.compile(r"^CYCLES\s*=\s*\d+", re.M)


class Inputs:
    """A program's input tensors, for a sidecar's reference()."""

    def __init__(self, program_path: str | Path, program: Program):
        self.path = Path(program_path)
        self.dir = self.path.parent
        self.program = program

    def npy(self, relpath: str) -> np.ndarray:
        """An .npy file, relative to the program's directory (as `.data` paths are)."""
        return np.load(self.dir / relpath, allow_pickle=False)

    def segment(self, slice_name: str, addr: int = 0, chip: int = 0) -> np.ndarray:
        """The `.data` tensor placed at (chip, slice, addr): shape (n,) or (rows, n)."""
        isa = default_isa()
        q = isa.queue_by_name.get(slice_name)
        if q is None:
            raise KeyError(f"no queue named {slice_name!r}")
        for seg in self.program.data:
            if seg.chip == chip and seg.slot == q.slot and seg.addr == addr:
                dt = np.dtype(isa.dtype_numpy[seg.dtype]).newbyteorder("<")
                return np.frombuffer(seg.data, dtype=dt).reshape(seg.shape).copy()
        raise KeyError(f"{self.path.name}: no .data at chip {chip} {slice_name} address {addr:#x}")


def shift_down(v: np.ndarray, n: int) -> np.ndarray:
    """SXM `shift.down` on rows of lanes: lane i takes lane i + n, zeros shifted in."""
    out = np.zeros_like(v)
    out[..., : v.shape[-1] - n] = v[..., n:]
    return out


def shift_up(v: np.ndarray, n: int) -> np.ndarray:
    """SXM `shift.up` on rows of lanes: lane i takes lane i - n, zeros shifted in."""
    out = np.zeros_like(v)
    out[..., n:] = v[..., : v.shape[-1] - n]
    return out


def sidecar_path(tsp: str | Path) -> Path:
    tsp = Path(tsp)
    return tsp.with_name(tsp.stem + SIDE_SUFFIX)


def load_sidecar(path: str | Path) -> ModuleType:
    path = Path(path)
    name = "golden_" + re.sub(r"\W", "_", path.name[: -len(SIDE_SUFFIX)])
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not isinstance(getattr(module, "CYCLES", None), int):
        raise ValueError(f"{path}: defines no `CYCLES = <int>`")
    if not hasattr(module, "reference") and not hasattr(module, "check"):
        raise ValueError(f"{path}: defines neither reference(inputs) nor check(machine)")
    return module


def update_cycles(path: str | Path, cycles: int) -> None:
    """Rewrite the `CYCLES = N` line of a sidecar in place (the rest untouched)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new, n = _CYCLES_RE.subn(f"CYCLES = {cycles}", text, count=1)
    if n != 1:
        raise ValueError(f"{path}: no `CYCLES = <int>` line to update")
    path.write_text(new, encoding="utf-8")


# ---- comparison --------------------------------------------------------------------------------------

def _tolerance_for(tolerance, name: str) -> dict | None:
    if not tolerance:
        return None
    if set(tolerance) <= {"rtol", "atol"}:
        return dict(tolerance)
    return tolerance.get(name)


def mismatches(expected: np.ndarray, got: np.ndarray, tol: dict | None = None) -> np.ndarray:
    """Boolean mask of differing elements.  Floats compare by their bits (so -0.0 and
    0.0 differ), except that any NaN equals any NaN (payloads are not compared);
    with `tol`, floats compare with np.isclose(rtol, atol, equal_nan=True)."""
    if expected.dtype.kind == "f":
        if tol is not None:
            with np.errstate(all="ignore"):
                return ~np.isclose(got, expected, rtol=tol.get("rtol", 0.0), atol=tol.get("atol", 0.0),
                                   equal_nan=True)
        ui = np.dtype(f"<u{expected.dtype.itemsize}")
        same_bits = expected.view(ui) == got.view(ui)
        return ~(same_bits | (np.isnan(expected) & np.isnan(got)))
    return expected != got


def _fmt(v, arr: np.ndarray) -> str:
    if arr.dtype.kind == "f":
        bits = int(np.asarray(v, arr.dtype).view(f"<u{arr.dtype.itemsize}"))
        return f"{v!r} (0x{bits:0{2 * arr.dtype.itemsize}x})"
    return str(v)


def compare_outputs(expected: dict[str, np.ndarray], got: dict[str, np.ndarray], tolerance=None,
                    shown: int = 10) -> list[str]:
    """Problems, each a readable paragraph; empty when everything matches."""
    problems = []
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing:
        problems.append(f"outputs the reference expects but the program lacks: {', '.join(missing)}")
    if extra:
        problems.append(f"outputs the program has but the reference lacks: {', '.join(extra)}")
    for name in sorted(set(expected) & set(got)):
        want, have = np.asarray(expected[name]), np.asarray(got[name])
        if want.dtype != have.dtype or want.shape != have.shape:
            problems.append(f"output `{name}`: expected {want.dtype}{list(want.shape)}, "
                            f"got {have.dtype}{list(have.shape)}")
            continue
        bad = mismatches(want, have, _tolerance_for(tolerance, name))
        n = int(bad.sum())
        if not n:
            continue
        idx = np.argwhere(bad)[:shown]
        lines = [f"output `{name}` differs in {n} of {want.size} elements "
                 f"({want.dtype}{list(want.shape)}); first {len(idx)}:",
                 f"  {'index':<14} {'expected':<28} got"]
        for i in idx:
            t = tuple(int(k) for k in i)
            key = t[0] if len(t) == 1 else t
            lines.append(f"  {str(key):<14} {_fmt(want[t], want):<28} {_fmt(have[t], have)}")
        problems.append("\n".join(lines))
    return problems


# ---- engine state that is not an .output ----------------------------------------------------------------

def installed_weights(machine, chip: int, plane: int) -> np.ndarray:
    """The 320 x 320 int8 weights installed in an MXM plane, through whatever the
    engine offers: Machine.mxm_weights(chip, plane) if it exists, else the C call
    tsp_mxm_weights_read.  NotImplementedError when neither exists."""
    fn = getattr(machine, "mxm_weights", None)
    if fn is not None:
        return np.asarray(fn(chip, plane))
    from .engine._native import ffi, lib
    if not hasattr(lib, "tsp_mxm_weights_read"):
        raise NotImplementedError("the engine has no API to read installed MXM weights "
                                  "(Machine.mxm_weights / tsp_mxm_weights_read)")
    out = np.empty((320, 320), np.int8)
    rc = lib.tsp_mxm_weights_read(machine._h, chip, plane, ffi.cast("int8_t *", ffi.from_buffer(out)))
    if rc != lib.TSP_OK:
        raise RuntimeError(f"tsp_mxm_weights_read(chip {chip}, plane {plane}) failed with status {rc}")
    return out


__all__ = ["Inputs", "compare_outputs", "installed_weights", "load_sidecar", "mismatches", "sidecar_path",
           "update_cycles"]
