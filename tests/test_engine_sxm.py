"""SXM instructions (shift, permute, distribute, rotate, transpose) against numpy,
on both hemispheres' SXMs, plus the permute bijection check.

Each case is one tiny program built from isa/ data: input stream k comes from
slice MEM_<h>(43 - k) of the SXM's own hemisphere (flowing towards the SXM),
read so that every input reaches the SXM in cycle T; output stream k flows back
the other way and is written by slice MEM_<h>k exactly when it arrives there
(T + d_func + hops).  Values are compared as byte planes, bit for bit.
"""
from __future__ import annotations

import numpy as np
import pytest

from tspasm import assemble_text, default_isa
from tspasm.engine import EngineError, Machine

ISA = default_isa()
LANES = ISA.param("geometry.lanes")
SL = ISA.param("geometry.lanes_per_superlane")
T = 30           # the SXM instruction issues here
MAP_BASE = 20    # map streams sit above any source group (transpose: 16 streams)
NP = {"i8": np.int8, "i16": np.int16, "i32": np.int32, "f16": np.float16, "f32": np.float32}
SXM_QUEUES = {"shift": "SHF_{h}0", "permute": "PRM_{h}", "distribute": "DST_{h}0", "rotate": "ROT_{h}",
              "transpose": "TRN_{h}0"}


def pos(name: str) -> int:
    return ISA.queue_by_name[name].pos


def towards(h: str) -> str:
    """Direction of a stream flowing from the hemisphere's MEM towards its SXM."""
    return "W" if h == "W" else "E"


def away(h: str) -> str:
    return "E" if h == "W" else "W"


def sxm_program(h: str, text: str, n_in: int, n_map: int, n_out: int, late: int = 0) -> str:
    """Inputs S0.. (and the map at S20..) towards the SXM, outputs S0.. away from it.
    `late` shifts the write of output stream 0 (negative: too early)."""
    queue = text.split(":")[0]
    p = pos(queue)
    lines = [".chip 0"]
    feeds = [(k, k) for k in range(n_in)] + [(MAP_BASE + k, n_in + k) for k in range(n_map)]
    for stream, k in feeds:
        s = f"MEM_{h}{43 - k}"
        lines.append(f"@{T - 1 - abs(pos(s) - p)} {s}: read 0, S{stream}{towards(h)}")
    lines.append(f"@{T} {text}")
    latency = ISA.by_name[text.split(":")[1].split()[0].split(".")[0]].latency
    for k in range(n_out):
        s = f"MEM_{h}{k}"
        lines.append(f"@{T + latency + abs(pos(s) - p) + (late if k == 0 else 0)} {s}: write 0, S{k}{away(h)}")
    return "\n".join(lines) + "\n"


def run_sxm(h: str, text: str, planes: list[np.ndarray], maps: list[np.ndarray], n_out: int,
            late: int = 0) -> list[np.ndarray]:
    """Byte-plane vectors in, n_out byte-plane vectors out."""
    m = Machine(assemble_text(sxm_program(h, text, len(planes), len(maps), n_out, late)).program)
    for k, v in enumerate(list(planes) + list(maps)):
        m.write_mem(0, f"MEM_{h}{43 - k}", 0, v.view(np.int8), "i8")
    assert m.run().value == "halted"
    return [m.read_mem(0, f"MEM_{h}{k}", 0, 1, "i8")[0].view(np.uint8) for k in range(n_out)]


def to_planes(a: np.ndarray) -> list[np.ndarray]:
    raw = np.ascontiguousarray(a).view(np.uint8).reshape(LANES, a.dtype.itemsize)
    return [np.ascontiguousarray(raw[:, j]) for j in range(a.dtype.itemsize)]


def from_planes(planes: list[np.ndarray], t: str) -> np.ndarray:
    return np.ascontiguousarray(np.stack(planes, axis=-1)).view(NP[t]).reshape(LANES)


def data(t: str, seed: int) -> np.ndarray:
    g = np.random.default_rng(seed)
    return g.integers(0, 256, LANES * np.dtype(NP[t]).itemsize, dtype=np.uint8).view(NP[t])


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.tobytes() == b.tobytes()


# ---- every op against numpy ------------------------------------------------

@pytest.mark.parametrize("h", ["W", "E"])
@pytest.mark.parametrize("t", list(NP))
@pytest.mark.parametrize("direction,n", [("up", 0), ("up", 1), ("up", 17), ("down", 5), ("down", 319),
                                         ("up", 319)])
def test_shift(h, t, direction, n):
    x = data(t, 1 + n)
    q = SXM_QUEUES["shift"].format(h=h)
    out = run_sxm(h, f"{q}: shift.{direction}.{t} S0{towards(h)}, {n} -> S0{away(h)}", to_planes(x), [],
                  len(to_planes(x)))
    want = np.zeros_like(x)
    if direction == "up":
        want[n:] = x[:LANES - n]
    else:
        want[:LANES - n] = x[n:]
    assert same_bits(from_planes(out, t), want)


def map_planes(mp: np.ndarray) -> list[np.ndarray]:
    return to_planes(mp.astype(np.int16))


@pytest.mark.parametrize("h", ["W", "E"])
@pytest.mark.parametrize("t", list(NP))
def test_permute(h, t):
    x = data(t, 7)
    mp = np.random.default_rng(8).permutation(LANES)
    q = SXM_QUEUES["permute"].format(h=h)
    text = f"{q}: permute.{t} S0{towards(h)}, S{MAP_BASE}{towards(h)} -> S0{away(h)}"
    out = run_sxm(h, text, to_planes(x), map_planes(mp), len(to_planes(x)))
    assert same_bits(from_planes(out, t), x[mp])


@pytest.mark.parametrize("bad,message", [
    ("repeat", "permute map is not a bijection (lane 9 repeats 3)"),
    ("range", "permute map is not a bijection (lane 4 maps to 320, outside 0..319)"),
    ("negative", "permute map is not a bijection (lane 4 maps to -2, outside 0..319)"),
])
def test_permute_map_must_be_a_bijection(bad, message):
    mp = np.arange(LANES)
    if bad == "repeat":
        mp[9] = 3
    else:
        mp[4] = LANES if bad == "range" else -2
    text = f"PRM_W: permute.i8 S0W, S{MAP_BASE}W -> S0E"
    with pytest.raises(EngineError) as err:
        run_sxm("W", text, to_planes(data("i8", 1)), map_planes(mp), 1)
    assert err.value.code == "TSP_E_SCHEDULE" and str(err.value).startswith(message)
    assert err.value.queue == "PRM_W" and err.value.cycle == T
    # warn mode: recorded, and the map applied as it is (out-of-range lanes read zero)
    m = Machine(assemble_text(sxm_program("W", text, 1, 2, 1)).program, hazards="warn")
    x = data("i8", 1)
    for k, v in enumerate([x.view(np.uint8)] + map_planes(mp)):
        m.write_mem(0, f"MEM_W{43 - k}", 0, v.view(np.int8), "i8")
    m.run()
    assert [hz.message.split(" [")[0] for hz in m.hazards] == [message]
    got = m.read_mem(0, "MEM_W0", 0, 1, "i8")[0]
    want = np.where((mp >= 0) & (mp < LANES), x[np.clip(mp, 0, LANES - 1)], 0).astype(np.int8)
    assert same_bits(got, want)


@pytest.mark.parametrize("h", ["W", "E"])
@pytest.mark.parametrize("t", list(NP))
def test_distribute(h, t):
    x = data(t, 11)
    g = np.random.default_rng(12)
    mp = g.integers(0, 16, LANES).astype(np.uint8)
    mp[g.random(LANES) < 0.2] = g.integers(16, 256, 1)[0]  # >= 16: zero
    mp[:3] = [16, 255, 15]
    q = SXM_QUEUES["distribute"].format(h=h)
    text = f"{q}: distribute.{t} S0{towards(h)}, S{MAP_BASE}{towards(h)} -> S0{away(h)}"
    out = run_sxm(h, text, to_planes(x), [mp], len(to_planes(x)))
    base = np.arange(LANES) // SL * SL
    want = np.where(mp < SL, x[base + np.minimum(mp, SL - 1)], np.zeros_like(x))
    assert same_bits(from_planes(out, t), want)


@pytest.mark.parametrize("h", ["W", "E"])
@pytest.mark.parametrize("n", ISA.param("sxm.rotate_sizes"))
def test_rotate(h, n):
    ins = [data("i8", 20 + i).view(np.uint8) for i in range(n)]
    q = SXM_QUEUES["rotate"].format(h=h)
    out = run_sxm(h, f"{q}: rotate {n}, S0{towards(h)} -> S0{away(h)}", ins, [], n * n)
    lane = np.arange(LANES)
    for i in range(n):
        for j in range(n):
            src = lane // SL * SL + (lane % SL - j) % SL  # rotated up by j within each superlane
            assert same_bits(out[n * i + j], ins[i][src]), (i, j)


@pytest.mark.parametrize("h", ["W", "E"])
def test_transpose(h):
    k = ISA.param("sxm.transpose_streams")
    ins = [data("i8", 40 + j).view(np.uint8) for j in range(k)]
    q = SXM_QUEUES["transpose"].format(h=h)
    out = run_sxm(h, f"{q}: transpose S0{towards(h)} -> S0{away(h)}", ins, [], k)
    x = np.stack(ins)                                     # x[j, 16s + i]
    blocks = x.reshape(k, LANES // SL, SL)                # [j, s, i]
    want = blocks.transpose(2, 1, 0).reshape(k, LANES)    # out[i, 16s + j] = x[j, 16s + i]
    for i in range(k):
        assert same_bits(out[i], want[i]), i


def test_bad_shift_count_in_a_hand_built_word_is_refused():
    from tspasm.asm.encoding import encode
    from tspasm.image.program import Program
    spec = ISA.by_name["shift"]
    values = [400 if f.name == "lanes" else 0 for f in spec.fields]  # beyond the 0..319 the assembler allows
    word = encode(spec, values)
    code = np.zeros((1, len(ISA.queues), 16), np.uint8)
    code[0, ISA.queue_by_name["SHF_W0"].slot] = np.frombuffer(word.to_bytes(16, "little"), np.uint8)
    with pytest.raises(EngineError) as err:
        Machine(Program(ISA.fingerprint, {0: code})).run()
    assert err.value.code == "TSP_E_IMAGE" and "shift by 400 lanes is outside 0..319" in str(err.value)


# ---- the timing promise -------------------------------------------------------
# A value produced by an instruction issued at cycle t at position i is seen at
# position j at cycle t + d_func + |j - i|, exactly: on time it is there (the op
# tests above write every output on time), one cycle early or late it is not.

SXM_UNITS = {"SHF", "PRM", "DST", "ROT", "TRN"}
TIMING_CASES = {  # name -> (text after the queue, inputs, map streams, outputs), all i8
    "shift": ("shift.up.i8 S0{i}, 3 -> S0{o}", 1, 0, 1),
    "permute": ("permute.i8 S0{i}, S%d{i} -> S0{o}" % MAP_BASE, 1, 2, 1),
    "distribute": ("distribute.i8 S0{i}, S%d{i} -> S0{o}" % MAP_BASE, 1, 1, 1),
    "rotate": ("rotate 3, S0{i} -> S0{o}", 3, 0, 9),
    "transpose": ("transpose S0{i} -> S0{o}", 16, 0, 16),
}


def test_every_sxm_instruction_is_covered():
    names = {i.name for i in ISA.instructions if set(i.units) & SXM_UNITS}
    assert names == set(TIMING_CASES) == set(SXM_QUEUES)


@pytest.mark.parametrize("h", ["W", "E"])
@pytest.mark.parametrize("name", sorted(TIMING_CASES))
@pytest.mark.parametrize("late", [0, -1, 1])
def test_timing_promise(name, h, late):
    text, n_in, n_map, n_out = TIMING_CASES[name]
    q = SXM_QUEUES[name].format(h=h)
    src = sxm_program(h, f"{q}: " + text.format(i=towards(h), o=away(h)), n_in, n_map, n_out, late)
    m = Machine(assemble_text(src).program)
    for k in range(n_in):
        m.write_mem(0, f"MEM_{h}{43 - k}", 0, data("i8", k), "i8")
    for k in range(n_map):  # identity maps: valid for permute and distribute alike
        m.write_mem(0, f"MEM_{h}{43 - n_in - k}", 0,
                    to_planes(np.arange(LANES, dtype=np.int16) % (SL if n_map == 1 else LANES))[k].view(np.int8),
                    "i8")
    consumer = f"MEM_{h}0"
    seen = T + ISA.by_name[name].latency + abs(pos(consumer) - pos(q))
    if late == 0:
        assert m.run().value == "halted"
        assert m.read_mem(0, consumer, 0, 1, "i8").any()  # the value itself arrived
        return
    with pytest.raises(EngineError) as err:
        m.run()
    assert err.value.code == "TSP_E_SCHEDULE" and err.value.queue == consumer
    assert str(err.value).startswith(f"read of S0{away(h)} at position {pos(consumer)}, cycle {seen + late}: "
                                     "no value there")
