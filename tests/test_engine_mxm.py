"""MXM instructions (lw, iw, abc, acc) against exact references, on every plane.

Each case is one program built from isa/ data, shaped like programs/matmul_i8.tsp:
plane q's weight row 16c + s arrives on its stream s (s = 0..15, streams 16..31 for
odd planes) at the c-th lw, from slice MEM_<h>(43 - 16*(q%2) - s), whose
addresses 0..19 hold W_q[s::16]; activations come from MEM_<h>10 (and 11 for the
f16 high bytes) on S0/S1 flowing towards the MXM; acc emits SG4 S0..S3 flowing
away from it, written by MEM_<other hemisphere>0..3.  Every cycle is computed
from the queue positions and the latencies in isa/.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tspasm import assemble_text, default_isa
from tspasm.asm.encoding import encode
from tspasm.engine import EngineError, Machine
from tspasm.image.program import Program

ISA = default_isa()
LANES = ISA.param("geometry.lanes")
ROWS = ISA.param("mxm.plane_rows")
LW = ISA.param("mxm.lw_streams")
SLOTS = ISA.param("mxm.acc_slots")
PLANES = ISA.param("mxm.planes")
LAT = {n: ISA.by_name[n].latency for n in ("read", "lw", "iw", "abc", "acc")}
LWS = ROWS // LW                  # lw per plane load
T_LW = 40                         # first lw
T_IW = T_LW + LWS                 # iw right after the last lw
T_ABC = T_IW + LAT["iw"]          # the first cycle the weights are usable


def pos(name: str) -> int:
    return ISA.queue_by_name[name].pos


def hemi(p: int) -> str:
    return ISA.queue_by_name[f"MXM{p}_W"].hemi


def into(p: int) -> str:
    """Direction of streams flowing from the plane's MEM hemisphere to the MXM."""
    return "W" if hemi(p) == "W" else "E"


def away(p: int) -> str:
    return "E" if into(p) == "W" else "W"


def out_slices(p: int) -> list[str]:
    other = "E" if hemi(p) == "W" else "W"
    return [f"MEM_{other}{j}" for j in range(4)]


def weight_slice(q: int, s: int) -> str:
    return f"MEM_{hemi(q)}{43 - LW * (q % 2) - s}"


def build(p: int, t: str, accs: list[tuple[str, int]], load: tuple[int, ...] | None = None, *,
          late: dict[str, int] | None = None) -> str:
    """Program: load planes `load` (default: p, or the pair for f16), feed len(accs)
    activation rows to plane p from T_ABC, accumulate row r with accs[r] = (mode, slot),
    write row r's result to address r.  `late[name]` shifts every `name` instruction."""
    late = late or {}
    P = pos(f"MXM{p}_W")
    load = load if load is not None else ((p, p + 1) if t == "f16" else (p,))
    acct = "f32" if t == "f16" else "i32"
    lines = [".chip 0"]
    for q in load:
        for s in range(LW):
            sl = weight_slice(q, s)
            c = T_LW - LAT["read"] - abs(pos(sl) - P)
            lines += [f"@{c} {sl}: read 0, S{LW * (q % 2) + s}{into(p)}", f"@{c + 1} {sl}: repeat {LWS - 1}, 1"]
        tl = T_LW + late.get("lw", 0)
        lines += [f"@{tl} MXM{q}_W: lw S{LW * (q % 2)}{into(p)}", f"@{tl + 1} MXM{q}_W: repeat {LWS - 1}, 1",
                  f"@{T_IW + late.get('iw', 0)} MXM{q}_W: iw"]
    for j in range(2 if t == "f16" else 1):
        sl = f"MEM_{hemi(p)}{10 + j}"
        for r in range(len(accs)):
            lines.append(f"@{T_ABC + r - LAT['read'] - abs(pos(sl) - P)} {sl}: read {r}, S{j}{into(p)}")
    for r, (mode, slot) in enumerate(accs):
        ta = T_ABC + r + late.get("abc", 0)
        tc = T_ABC + r + LAT["abc"] + late.get("acc", 0)
        lines += [f"@{ta} MXM{p}_A: abc.{t} S0{into(p)}", f"@{tc} MXM{p}_C: acc.{mode}.{acct} S0{away(p)}, {slot}"]
        for j, sl in enumerate(out_slices(p)):
            tw = T_ABC + r + LAT["abc"] + LAT["acc"] + abs(pos(sl) - P) + late.get("write", 0)
            lines.append(f"@{tw} {sl}: write {r}, S{j}{away(p)}")
    return "\n".join(lines) + "\n"


def machine(p, t, accs, weights: dict[int, np.ndarray], x: np.ndarray, **kw) -> Machine:
    """weights: plane -> (ROWS, LANES) int8; x: (rows, LANES) i8 or f16 activations."""
    m = Machine(assemble_text(build(p, t, accs, tuple(weights), late=kw.pop("late", None))).program, **kw)
    for q, w in weights.items():
        for s in range(LW):
            m.write_mem(0, weight_slice(q, s), 0, w[s::LW], "i8")
    m.write_mem(0, f"MEM_{hemi(p)}10", 0, x, t)
    return m


def result(m: Machine, p: int, rows: int, t: str) -> np.ndarray:
    return m.read_mem(0, out_slices(p)[0], 0, rows, "f32" if t == "f16" else "i32")


def i8(shape, seed):
    return np.random.default_rng(seed).integers(-128, 127, shape, endpoint=True).astype(np.int8)


# ---- int8 ------------------------------------------------------------------

@pytest.mark.parametrize("p", range(PLANES))
def test_int8_matmul_is_exact(p):
    w, x = i8((ROWS, LANES), p), i8((4, LANES), 10 + p)
    w[0], x[0] = -128, -128             # the largest sum: 320 * 128 * 128
    x[1, ::2] = 0
    m = machine(p, "i8", [("set", r) for r in range(4)], {p: w}, x)
    m.run()
    assert np.array_equal(result(m, p, 4, "i8"), (x.astype(np.int64) @ w.astype(np.int64)).astype(np.int32))
    assert m.chip_info(0)["mxm_planes"] == 1  # only the plane used exists


def test_acc_add_mode_int8():
    w, x = i8((ROWS, LANES), 1), i8((5, LANES), 2)
    accs = [("set", 5), ("add", 5), ("add", 5), ("add", 7), ("set", 5)]
    m = machine(0, "i8", accs, {0: w}, x)
    m.run()
    y = x.astype(np.int64) @ w.astype(np.int64)
    want = np.stack([y[0], y[0] + y[1], y[0] + y[1] + y[2], y[3], y[4]]).astype(np.int32)  # slot 7 starts at 0
    assert np.array_equal(result(m, 0, 5, "i8"), want)


def test_acc_add_wraps_in_int32():
    # 2^31 / (320 * 16384) ~ 410 maximal products overflow int32
    n = 420
    w = np.full((ROWS, LANES), -128, np.int8)
    x = np.full((n, LANES), -128, np.int8)
    m = machine(0, "i8", [("set", 0)] + [("add", 0)] * (n - 1), {0: w}, x)
    m.run()
    got = result(m, 0, n, "i8")[:, 0]
    want = ((np.arange(1, n + 1, dtype=np.int64) * 320 * 16384 + 2**31) % 2**32 - 2**31).astype(np.int32)
    assert np.array_equal(got, want) and (got < 0).any()


# ---- fp16 ------------------------------------------------------------------

F16_ROWS = ROWS // 2


def split_f16(w16: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(160, LANES) fp16 weights -> the two planes' int8 arrays (rows 160.. junk)."""
    raw = np.ascontiguousarray(w16.astype(np.float16)).view(np.uint8).reshape(F16_ROWS, LANES, 2)
    lo, hi = i8((ROWS, LANES), seed), i8((ROWS, LANES), seed + 1)
    lo[:F16_ROWS], hi[:F16_ROWS] = raw[:, :, 0].view(np.int8), raw[:, :, 1].view(np.int8)
    return lo, hi


def f16_ref(x: np.ndarray, w16: np.ndarray) -> np.ndarray:
    """Products exact in float64, summed with math.fsum, rounded to float32."""
    xs, ws = x[:, :F16_ROWS].astype(np.float64), w16.astype(np.float64)
    return np.array([[np.float32(math.fsum(xs[r] * ws[:, j])) for j in range(LANES)] for r in range(len(x))],
                    np.float32)


def f16_activations(rows, seed):
    g = np.random.default_rng(seed)
    x = g.uniform(-4, 4, (rows, LANES)).astype(np.float16)
    x[:, F16_ROWS:] = np.float16(np.nan)  # lanes 160.. are not part of the product
    return x


@pytest.mark.parametrize("p", range(0, PLANES, 2))
def test_fp16_matmul_exact_then_rounded_once(p):
    g = np.random.default_rng(p)
    w16 = (g.standard_normal((F16_ROWS, LANES)) * np.exp2(g.integers(-12, 8, (F16_ROWS, LANES)))).astype(np.float16)
    x = f16_activations(3, 5 + p)
    x[0, :F16_ROWS:3] = 0
    lo, hi = split_f16(w16, 50)
    m = machine(p, "f16", [("set", 0), ("set", 1), ("set", 2)], {p: lo, p + 1: hi}, x)
    m.run()
    assert result(m, p, 3, "f16").tobytes() == f16_ref(x, w16).tobytes()


def test_fp16_matmul_full_range_bit_patterns():
    """Every finite fp16 (subnormals to 65504) on both sides: sums span 2^-48 .. 2^36."""
    g = np.random.default_rng(77)

    def finite(shape):
        bits = g.integers(0, 1 << 16, shape, dtype=np.uint16)
        bits[(bits & 0x7C00) == 0x7C00] &= 0xBFFF  # no inf or NaN: clear the top exponent bit
        return bits.view(np.float16)
    w16, x = finite((F16_ROWS, LANES)), finite((2, LANES))
    lo, hi = split_f16(w16, 80)
    m = machine(2, "f16", [("set", 0), ("set", 1)], {2: lo, 3: hi}, x)
    m.run()
    assert result(m, 2, 2, "f16").tobytes() == f16_ref(x, w16).tobytes()


def one_lane_case(terms: list[tuple[float, float]]) -> np.ndarray:
    """Column 0 gets sum x[k] * w[k] over `terms`; returns lane 0 of the fp32 result."""
    x = np.zeros((1, LANES), np.float16)
    w16 = np.zeros((F16_ROWS, LANES), np.float16)
    for k, (a, b) in enumerate(terms):
        x[0, k], w16[k, 0] = a, b
    lo, hi = split_f16(w16, 60)
    m = machine(0, "f16", [("set", 0)], {0: lo, 1: hi}, x)
    m.run()
    return result(m, 0, 1, "f16")[0, 0]


def test_fp16_rounds_once_not_twice():
    # exact sum 2^30 + 2^6 + 2^-48: just above the midpoint between two fp32 neighbours.
    # Rounding to double first (what math.fsum does) loses 2^-48 and then ties to even.
    terms = [(2.0**15, 2.0**15), (8.0, 8.0), (2.0**-24, 2.0**-24)]
    assert one_lane_case(terms) == np.float32(2.0**30 + 2.0**7)
    assert np.float32(math.fsum(a * b for a, b in terms)) == np.float32(2.0**30)  # the double-rounded answer


@pytest.mark.parametrize("terms,want", [
    ([(np.inf, 2.0), (1.0, 1.0)], np.inf),
    ([(np.inf, -2.0), (1.0, 1.0)], -np.inf),
    ([(np.inf, 1.0), (-np.inf, 1.0)], "nan"),
    ([(np.inf, 0.0)], "nan"),
    ([(np.nan, 1.0), (1.0, 1.0)], "nan"),
    ([(3.0, 5.0), (-3.0, 5.0)], 0.0),          # exact zero is +0
    ([(-0.0, 1.0)], 0.0),
])
def test_fp16_special_values(terms, want):
    got = one_lane_case(terms)
    if want == "nan":
        assert np.isnan(got)
    else:
        assert got == want and np.signbit(got) == np.signbit(np.float32(want))


def test_acc_add_mode_f32():
    g = np.random.default_rng(9)
    w16 = g.uniform(-1, 1, (F16_ROWS, LANES)).astype(np.float16)
    x = f16_activations(3, 4)
    lo, hi = split_f16(w16, 70)
    m = machine(0, "f16", [("set", 3), ("add", 3), ("add", 3)], {0: lo, 1: hi}, x)
    m.run()
    y = f16_ref(x, w16)
    want = np.stack([y[0], y[0] + y[1], (y[0] + y[1]) + y[2]])  # float32 adds, one rounding each
    assert result(m, 0, 3, "f16").tobytes() == want.tobytes()


# ---- schedule errors and faults -----------------------------------------------

def expect(src_or_prog, code: str, message: str, **kw) -> EngineError:
    prog = src_or_prog if isinstance(src_or_prog, Program) else assemble_text(src_or_prog).program
    with pytest.raises(EngineError) as err:
        Machine(prog, **kw).run()
    assert err.value.code == code and message in str(err.value), str(err.value)
    return err.value


def test_acc_with_no_product():
    e = expect(".chip 0\n@5 MXM2_C: acc.set.i32 S0W\n", "TSP_E_SCHEDULE",
               f"acc with no product: no abc issued on plane 2 at cycle {5 - LAT['abc']}")
    assert e.queue == "MXM2_C" and e.cycle == 5


@pytest.mark.parametrize("p", [1, 3])
def test_f16_on_an_odd_plane(p):
    src = f".chip 0\n@0 MEM_{hemi(p)}10: read 0, S0{into(p)}\n@0 MEM_{hemi(p)}11: read 0, S1{into(p)}\n" \
          f"@30 MXM{p}_A: abc.f16 S0{into(p)}\n"
    expect(src, "TSP_E_SCHEDULE", "f16 uses plane pair 0+1/2+3; issue on MXM0_A or MXM2_A")


def test_acc_of_the_wrong_type():
    src = build(0, "i8", [("set", 0)]).replace("acc.set.i32", "acc.set.f32")
    m = Machine(assemble_text(src).program)
    with pytest.raises(EngineError, match=r"acc.f32 receives the product of an abc.i8 \(issued at cycle"):
        m.run()


def test_f16_pair_and_odd_plane_share_an_array():
    src = ".chip 0\n@0 { MEM_W10: read 0, S0W | MEM_W11: read 0, S1W }\n" \
          f"@{1 + pos('MEM_W10')} {{ MXM0_A: abc.f16 S0W | MXM1_A: abc.i8 S1W }}\n"
    expect(src, "TSP_E_SCHEDULE", "MXM plane 1 computes twice in cycle")


def test_accumulator_slot_stepping_out_of_range_is_a_fault():
    def word(name, values):
        return np.frombuffer(encode(ISA.by_name[name], values).to_bytes(16, "little"), np.uint8)
    spec = ISA.by_name["acc"]
    values = [{"dtype": list(ISA.dtypes).index("i32"), "slot": SLOTS - 2}.get(f.name, 0) for f in spec.fields]
    code = np.zeros((2, len(ISA.queues), 16), np.uint8)
    slot = ISA.queue_by_name["MXM0_C"].slot
    code[0, slot] = word("acc", values)
    code[1, slot] = word("repeat", (3, 1))
    e = expect(Program(ISA.fingerprint, {0: code}), "TSP_E_FAULT", f"accumulator slot {SLOTS} is outside",
               hazards="warn")  # a fault stops even in warn mode (the missing products only warn)
    assert e.cycle == 2


def test_idle_chips_allocate_no_mxm():
    m = Machine(assemble_text(".chip 0\n@0 MEM_W0: read 0, S0E\n").program)
    m.run()
    assert m.chip_info(0)["mxm_planes"] == 0
    assert not m.mxm_weights(0, 3).any()


def test_lw_wraps_after_a_full_plane():
    # 21 lw: the 21st overwrites rows 0..15 of the buffer
    w = i8((ROWS, LANES), 3)
    src = build(0, "i8", [("set", 0)]).replace(f"MXM0_W: repeat {LWS - 1}, 1", f"MXM0_W: repeat {LWS}, 1")
    src = src.replace(f"@{T_IW} MXM0_W: iw", f"@{T_IW + 1} MXM0_W: iw")
    for s in range(LW):  # the slices' 21st read (address 20) feeds it
        src = src.replace(f"{weight_slice(0, s)}: repeat {LWS - 1}, 1", f"{weight_slice(0, s)}: repeat {LWS}, 1")
    m = Machine(assemble_text(src).program)
    extra = i8((LW, LANES), 4)
    for s in range(LW):
        m.write_mem(0, weight_slice(0, s), 0, np.vstack([w[s::LW], extra[s:s + 1]]), "i8")
    m.run()
    want = w.copy()
    want[:LW] = extra
    assert np.array_equal(m.mxm_weights(0, 0), want)


# ---- the timing promise -------------------------------------------------------
# A value produced by an instruction issued at cycle t at position i is seen at
# position j at cycle t + d_func + |j - i|, exactly: on time works, one cycle early
# is a "no value" schedule error.

MXM_NAMES = sorted(i.name for i in ISA.instructions if any(u.startswith("MXM") for u in i.units))


def test_every_mxm_instruction_is_covered():
    assert MXM_NAMES == ["abc", "acc", "iw", "lw"]


@pytest.mark.parametrize("p", range(PLANES))
def test_timing_lw_reads_the_streams_arriving_at_its_issue(p):
    w, x = i8((ROWS, LANES), p), i8((1, LANES), 1)
    on_time = machine(p, "i8", [("set", 0)], {p: w}, x)
    on_time.run()
    assert np.array_equal(on_time.mxm_weights(0, p), w)
    with pytest.raises(EngineError) as err:
        machine(p, "i8", [("set", 0)], {p: w}, x, late={"lw": -1}).run()
    assert str(err.value).startswith(f"read of S{LW * (p % 2)}{into(p)} at position {pos(f'MXM{p}_W')}, "
                                     f"cycle {T_LW - 1}: no value there")


@pytest.mark.parametrize("p", range(PLANES))
def test_timing_iw_installs_after_its_latency(p):
    w, x = i8((ROWS, LANES), p), i8((1, LANES), 1)
    on_time = machine(p, "i8", [("set", 0)], {p: w}, x)
    on_time.run()
    assert np.array_equal(result(on_time, p, 1, "i8")[0], (x.astype(np.int64) @ w)[0].astype(np.int32))
    # an iw one cycle later: the abc in the iw's own cycle still multiplies by the old array (zeros)
    lines = build(p, "i8", [("set", 0)], late={"iw": 1}).splitlines()
    m = Machine(assemble_text("\n".join(lines)).program)
    for s in range(LW):
        m.write_mem(0, weight_slice(p, s), 0, w[s::LW], "i8")
    m.write_mem(0, f"MEM_{hemi(p)}10", 0, x, "i8")
    m.run()
    assert not result(m, p, 1, "i8").any()          # abc at T_ABC = iw cycle: old weights
    assert np.array_equal(m.mxm_weights(0, p), w)   # and the install happened one cycle later


@pytest.mark.parametrize("p", range(PLANES))
def test_timing_abc_product_reaches_acc_after_its_latency(p):
    w, x = i8((ROWS, LANES), p), i8((1, LANES), 1)
    with pytest.raises(EngineError) as err:
        machine(p, "i8", [("set", 0)], {p: w}, x, late={"acc": -1}).run()
    assert err.value.code == "TSP_E_SCHEDULE"
    assert str(err.value).startswith(f"acc with no product: no abc issued on plane {p} at cycle {T_ABC - 1}")


@pytest.mark.parametrize("p", range(PLANES))
def test_timing_acc_result_is_seen_after_latency_plus_hops(p):
    w, x = i8((ROWS, LANES), p), i8((1, LANES), 1)
    with pytest.raises(EngineError) as err:
        machine(p, "i8", [("set", 0)], {p: w}, x, late={"write": -1}).run()
    sl = out_slices(p)[0]
    t = T_ABC + LAT["abc"] + LAT["acc"] + abs(pos(sl) - pos(f"MXM{p}_C")) - 1
    # the slices at that position write bytes 0 and 1 in the same cycle: either is reported first
    assert re.match(fr"read of S[01]{away(p)} at position {pos(sl)}, cycle {t}: no value there", str(err.value))
