"""Every VXM instruction in every type it takes, against numpy, bit for bit.

Each case is a small program: the operands stream from MEM_W slices (one byte
plane per slice, byte j on stream base + j) into VXM0 so that every plane
arrives in the same cycle, four rows one cycle apart (`repeat 3, 1`), and the
result is written to MEM_E0.. .  The inputs are written with Machine.write_mem
and the result read back with read_mem, which also exercises the byte planes.
"""
from __future__ import annotations

import numpy as np
import pytest

from tspasm import assemble_text, default_isa
from tspasm.engine import Machine

ISA = default_isa()
LANES = ISA.param("geometry.lanes")
ROWS = 4
T_VXM = 8  # VXM0 issues here; every operand plane is read so it arrives now
NP = {"i8": np.int8, "i16": np.int16, "i32": np.int32, "f16": np.float16, "f32": np.float32}
UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32}
INTS, FLOATS = ("i8", "i16", "i32"), ("f16", "f32")


def mem_pos(index: int) -> int:
    return ISA.queue_by_name[f"MEM_W{index}"].pos


def program(text: str, t_in: str, t_out: str, latency: int, operands: int) -> str:
    """Operand k byte j: slice MEM_W(4k + j) -> stream S(4k + j)E; result byte j: S(12 + j)E -> MEM_Ej."""
    vxm_pos = ISA.queue_by_name["VXM0"].pos
    lines = [".chip 0"]
    for k in range(operands):
        for j in range(ISA.dtype_bytes[t_in]):
            i = 4 * k + j
            c = T_VXM - 1 - (vxm_pos - mem_pos(i))  # read latency 1, then one hop per position
            lines += [f"@{c} MEM_W{i}: read 0, S{i}E", f"@{c + 1} MEM_W{i}: repeat {ROWS - 1}, 1"]
    lines += [f"@{T_VXM} VXM0: {text}", f"@{T_VXM + 1} VXM0: repeat {ROWS - 1}, 1"]
    for j in range(ISA.dtype_bytes[t_out]):
        pos = ISA.queue_by_name[f"MEM_E{j}"].pos
        c = T_VXM + latency + (pos - vxm_pos)
        lines += [f"@{c} MEM_E{j}: write 0, S{12 + j}E", f"@{c + 1} MEM_E{j}: repeat {ROWS - 1}, 1"]
    return "\n".join(lines) + "\n"


def run_vxm(text: str, t_in: str, t_out: str, *inputs: np.ndarray) -> np.ndarray:
    name = text.split(".")[0]
    src = program(text, t_in, t_out, ISA.by_name[name].latency, len(inputs))
    m = Machine(assemble_text(src).program)
    for k, arr in enumerate(inputs):
        m.write_mem(0, f"MEM_W{4 * k}", 0, arr, t_in)
    assert m.run().value == "halted"
    return m.read_mem(0, "MEM_E0", 0, ROWS, t_out)


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(UINT[a.dtype.itemsize])


def assert_bits(got: np.ndarray, want: np.ndarray) -> None:
    want = np.asarray(want).astype(got.dtype, copy=False)
    diff = np.flatnonzero(bits(got).ravel() != bits(want).ravel())
    assert diff.size == 0, (f"{diff.size} lanes differ, first at {np.unravel_index(diff[0], got.shape)}: "
                            f"got {got.ravel()[diff[0]]!r} want {want.ravel()[diff[0]]!r}")


def data(t: str, seed: int) -> np.ndarray:
    g = np.random.default_rng(seed)
    dt = np.dtype(NP[t])
    if t in INTS:
        info = np.iinfo(dt)
        a = g.integers(info.min, info.max, (ROWS, LANES), endpoint=True, dtype=np.int64).astype(dt)
        a[0, :6] = [info.min, info.max, 0, -1, 1, info.min + 1]  # the edges of wrap and saturation
        return a
    a = g.uniform(-8, 8, (ROWS, LANES)).astype(dt)
    fi = np.finfo(dt)
    a[0, :8] = [np.inf, -np.inf, fi.max, -fi.max, fi.smallest_subnormal, -fi.tiny, 1.0, 0.5]
    return a


def sat(x: np.ndarray, t: str) -> np.ndarray:
    info = np.iinfo(NP[t])
    return np.clip(x, info.min, info.max).astype(NP[t])


def wrap(x: np.ndarray, t: str) -> np.ndarray:
    return x.astype(np.int64).astype(NP[t])


def mask_of(cond: np.ndarray, t: str) -> np.ndarray:
    width = np.dtype(NP[t]).itemsize
    raw = np.where(cond, (1 << 8 * width) - 1, 0).astype(UINT[width])
    return raw.view(NP[t])


# ---- integer operations ----------------------------------------------------

def int_ref(op: str, t: str, a: np.ndarray, b: np.ndarray, saturate: bool) -> np.ndarray:
    x, y = a.astype(np.int64), b.astype(np.int64)
    w = 8 * np.dtype(NP[t]).itemsize
    fit = sat if saturate else wrap
    s = y & (w - 1)
    return {
        "mov": lambda: a, "neg": lambda: fit(-x, t), "abs": lambda: fit(np.abs(x), t),
        "not": lambda: ~a, "relu": lambda: np.maximum(a, 0), "mask": lambda: mask_of(a != 0, t),
        "add": lambda: fit(x + y, t), "sub": lambda: fit(x - y, t), "mul": lambda: fit(x * y, t),
        "min": lambda: np.minimum(a, b), "max": lambda: np.maximum(a, b),
        "and": lambda: a & b, "or": lambda: a | b, "xor": lambda: a ^ b,
        "shl": lambda: fit(x * (np.int64(1) << s), t), "shr": lambda: wrap(x >> s, t),
    }[op]()


UNARY_INT = ["mov", "neg", "abs", "not", "relu", "mask"]
BINARY_INT = ["add", "sub", "mul", "min", "max", "and", "or", "xor", "shl", "shr"]
SATURATING = ["neg", "abs", "add", "sub", "mul", "shl"]


@pytest.mark.parametrize("t", INTS)
@pytest.mark.parametrize("op", UNARY_INT + BINARY_INT)
def test_integer_ops_wrap(op, t):
    a, b = data(t, 1), data(t, 2)
    text = f"{op}.{t} S0E -> S12E" if op in UNARY_INT else f"{op}.{t} S0E, S4E -> S12E"
    got = run_vxm(text, t, t, *((a,) if op in UNARY_INT else (a, b)))
    assert_bits(got, int_ref(op, t, a, b, saturate=False))


@pytest.mark.parametrize("t", INTS)
@pytest.mark.parametrize("op", SATURATING)
def test_integer_ops_saturate(op, t):
    a, b = data(t, 3), data(t, 4)
    text = f"{op}.{t}.sat S0E -> S12E" if op in UNARY_INT else f"{op}.{t}.sat S0E, S4E -> S12E"
    got = run_vxm(text, t, t, *((a,) if op in UNARY_INT else (a, b)))
    assert_bits(got, int_ref(op, t, a, b, saturate=True))


# ---- floating point --------------------------------------------------------

def float_ref(op: str, t: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dt = NP[t]
    x = a.astype(np.float64)
    with np.errstate(all="ignore"):
        return {
            "mov": lambda: a, "neg": lambda: -a, "abs": lambda: np.abs(a),
            "relu": lambda: np.where(np.isnan(a) | (a > 0), a, dt(0)),
            "mask": lambda: mask_of(a != 0, t),
            "exp": lambda: np.exp(x).astype(dt), "tanh": lambda: np.tanh(x).astype(dt),
            "rsqrt": lambda: (1.0 / np.sqrt(x)).astype(dt),
            "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
            "min": lambda: np.minimum(a, b), "max": lambda: np.maximum(a, b),
        }[op]()


UNARY_FLOAT = ["mov", "neg", "abs", "relu", "mask", "exp", "tanh", "rsqrt"]
BINARY_FLOAT = ["add", "sub", "mul", "min", "max"]


@pytest.mark.parametrize("t", FLOATS)
@pytest.mark.parametrize("op", UNARY_FLOAT + BINARY_FLOAT)
def test_float_ops_round_to_nearest_even(op, t):
    a, b = data(t, 5), data(t, 6)
    if op == "rsqrt":
        a = np.abs(a)  # 1/sqrt of a negative is a NaN whose sign bit is the host's choice
    got = run_vxm(f"{op}.{t} S0E -> S12E" if op in UNARY_FLOAT else f"{op}.{t} S0E, S4E -> S12E",
                  t, t, *((a,) if op in UNARY_FLOAT else (a, b)))
    assert_bits(got, float_ref(op, t, a, b))


@pytest.mark.parametrize("t", FLOATS)
def test_float_min_max_follow_ieee_2019(t):
    dt = NP[t]
    a = np.zeros((ROWS, LANES), dt)
    b = np.zeros((ROWS, LANES), dt)
    a[0, :4] = [0.0, -0.0, np.nan, 1.0]
    b[0, :4] = [-0.0, 0.0, 1.0, np.nan]
    lo = run_vxm(f"min.{t} S0E, S4E -> S12E", t, t, a, b)
    hi = run_vxm(f"max.{t} S0E, S4E -> S12E", t, t, a, b)
    assert list(np.signbit(lo[0, :2])) == [True, True]     # -0 < +0
    assert list(np.signbit(hi[0, :2])) == [False, False]
    assert np.isnan(lo[0, 2]) and np.isnan(lo[0, 3]) and np.isnan(hi[0, 2]) and np.isnan(hi[0, 3])


@pytest.mark.parametrize("t", INTS + FLOATS)
@pytest.mark.parametrize("cond", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_cmp(cond, t):
    a, b = data(t, 7), data(t, 8)
    b[1] = a[1]  # make equality happen
    if t in FLOATS:
        a[2, :3] = np.nan
    want = {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[cond]
    assert_bits(run_vxm(f"cmp.{cond}.{t} S0E, S4E -> S12E", t, t, a, b), mask_of(want, t))


@pytest.mark.parametrize("t", INTS + FLOATS)
def test_select(t):
    a, b = data(t, 9), data(t, 10)
    g = np.random.default_rng(11)
    width = np.dtype(NP[t]).itemsize
    m = np.where(g.random((ROWS, LANES)) < 0.5, 0, g.integers(1, 255, (ROWS, LANES))).astype(UINT[width])
    m = (m << (8 * (width - 1))).astype(UINT[width]).view(NP[t])  # only the top byte set: any bit counts
    got = run_vxm(f"select.{t} S8E, S0E, S4E -> S12E", t, t, a, b, m)
    assert_bits(got, np.where(bits(m) != 0, a, b))


# ---- conversions -----------------------------------------------------------

def convert_ref(a: np.ndarray, frm: str, to: str, saturate: bool) -> np.ndarray:
    with np.errstate(over="ignore"):  # float -> narrower float overflows to inf, as it should
        return _convert_ref(a, frm, to, saturate)


def _convert_ref(a: np.ndarray, frm: str, to: str, saturate: bool) -> np.ndarray:
    if frm == to:
        return a
    if frm in INTS and to in INTS:
        return (sat if saturate else wrap)(a.astype(np.int64), to)
    if frm in INTS:  # one rounding from the exact integer
        return a.astype(np.float64).astype(NP[to])
    if to in INTS:
        x = np.rint(a.astype(np.float64))
        x = np.where(np.isnan(x), 0, x)
        info = np.iinfo(NP[to])
        return np.clip(x, info.min, info.max).astype(NP[to])
    return a.astype(NP[to])


@pytest.mark.parametrize("frm", INTS + FLOATS)
@pytest.mark.parametrize("to", INTS + FLOATS)
def test_convert(frm, to):
    a = data(frm, 12)
    if frm in FLOATS:
        a[1, :6] = [0.5, 1.5, 2.5, -0.5, -2.5, np.nan]  # ties go to even; NaN gives 0
    got = run_vxm(f"convert.{frm}.{to} S0E -> S12E", frm, to, a)
    assert_bits(got, convert_ref(a, frm, to, saturate=False))


@pytest.mark.parametrize("frm", INTS)
@pytest.mark.parametrize("to", INTS)
def test_convert_saturating(frm, to):
    a = data(frm, 13)
    got = run_vxm(f"convert.{frm}.{to}.sat S0E -> S12E", frm, to, a)
    assert_bits(got, convert_ref(a, frm, to, saturate=True))


def test_every_f16_survives_f16_to_f32_to_f16():
    """All 65,536 half bit patterns (NaN payloads included), 205 rows through convert."""
    halves = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    rows = -(-halves.size // LANES)
    pad = np.zeros(rows * LANES, np.uint16)
    pad[:halves.size] = halves
    # MEM_W1, MEM_W0 at 23 -> VXM1 at 25 (0 + 1 + 2 = 3) -> VXM2 at 26 (3 + 3 + 1 = 7)
    # -> MEM_E0, MEM_E1 at 28 (7 + 3 + 2 = 12)
    src = ".chip 0\n@0 MEM_W1: read 0, S0E\n@0 MEM_W0: read 0, S1E\n" \
          f"@1 MEM_W1: repeat {rows - 1}, 1\n@1 MEM_W0: repeat {rows - 1}, 1\n" \
          "@3 VXM1: convert.f16.f32 S0E -> S4E\n" \
          f"@4 VXM1: repeat {rows - 1}, 1\n@7 VXM2: convert.f32.f16 S4E -> S8E\n" \
          f"@8 VXM2: repeat {rows - 1}, 1\n" \
          "@12 MEM_E0: write 0, S8E\n@12 MEM_E1: write 0, S9E\n" \
          f"@13 MEM_E0: repeat {rows - 1}, 1\n@13 MEM_E1: repeat {rows - 1}, 1\n"
    m = Machine(assemble_text(src).program)
    # S0E carries byte 0 from MEM_W1 (position 23) and S1E byte 1 from MEM_W0 (also 23)
    raw = pad.reshape(rows, LANES).view(np.uint8).reshape(rows, LANES, 2)
    m.write_mem(0, "MEM_W1", 0, raw[:, :, 0].view(np.int8), "i8")
    m.write_mem(0, "MEM_W0", 0, raw[:, :, 1].view(np.int8), "i8")
    m.run()
    back = m.read_mem(0, "MEM_E0", 0, rows, "f16").view(np.uint16).ravel()[:halves.size]
    assert np.array_equal(back, halves)
