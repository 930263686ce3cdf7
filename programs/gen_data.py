"""Regenerate the .npy inputs of the golden programs (fixed seeds, so the files
are reproducible byte for byte):  python programs/gen_data.py

Each program keeps its inputs in programs/<program>/ and loads them with
`.data SLICE ADDR TYPE "<program>/<file>.npy"`.  The layout of every file (which
slice it goes to and why) is explained in the header of the program's .tsp.
"""
from __future__ import annotations

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LANES = 320


def save(program: str, name: str, arr: np.ndarray) -> None:
    d = os.path.join(HERE, program)
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(arr))


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def vector_addmul() -> None:
    rows = 4
    for seed, t in enumerate(("i8", "i16", "i32", "f16", "f32"), start=100):
        g = rng(seed)
        dt = np.dtype({"i8": "<i1", "i16": "<i2", "i32": "<i4", "f16": "<f2", "f32": "<f4"}[t])
        if dt.kind == "i":
            info = np.iinfo(dt)  # full range: add and mul must wrap
            a = g.integers(info.min, info.max, (rows, LANES), endpoint=True).astype(dt)
            b = g.integers(info.min, info.max, (rows, LANES), endpoint=True).astype(dt)
        else:
            a = g.uniform(-8.0, 8.0, (rows, LANES)).astype(dt)
            b = g.uniform(-8.0, 8.0, (rows, LANES)).astype(dt)
        save(f"vector_addmul_{t}", "a", a)
        save(f"vector_addmul_{t}", "b", b)


def relu() -> None:
    g = rng(200)
    save("relu_i8", "x", g.integers(-128, 127, (4, LANES), endpoint=True).astype(np.int8))


def weight_load() -> None:
    # Plane p's weights W_p (320 x 320 int8).  Row 16*c + s arrives on the plane's
    # stream s at the c-th lw, so the slice feeding stream s holds W_p[s::16].
    g = rng(300)
    for p in range(4):
        w = g.integers(-128, 127, (320, 320), endpoint=True).astype(np.int8)
        for s in range(16):
            save("weight_load_4planes", f"p{p}_s{s:02d}", w[s::16])


def matmul() -> None:
    g = rng(400)
    w = g.integers(-128, 127, (320, 320), endpoint=True).astype(np.int8)
    for s in range(16):
        save("matmul_i8", f"w_s{s:02d}", w[s::16])
    save("matmul_i8", "x", g.integers(-128, 127, (8, LANES), endpoint=True).astype(np.int8))


def transpose() -> None:
    # Input stream j (j = 0..15) carries two vectors: rows j of two 16 x 320 blocks.
    g = rng(500)
    blocks = g.integers(-128, 127, (2, 16, LANES), endpoint=True).astype(np.int8)
    for j in range(16):
        save("transpose", f"in{j:02d}", blocks[:, j, :])


def permute() -> None:
    g = rng(600)
    save("permute", "src", g.integers(-128, 127, (4, LANES), endpoint=True).astype(np.int8))
    save("permute", "map", g.permutation(LANES).astype(np.int16))


def _map_vectors(addrs: np.ndarray) -> np.ndarray:
    """(rows, 20) addresses -> (rows, 320) int8 map vectors: lanes 16k, 16k+1 of
    superlane k hold its address little-endian, the other lanes are zero."""
    rows = addrs.shape[0]
    m = np.zeros((rows, LANES), np.uint8)
    m[:, 0::16] = addrs & 0xFF
    m[:, 1::16] = addrs >> 8
    return m.view(np.int8)


def gather() -> None:
    g = rng(700)
    table_rows = 64
    save("gather", "table", g.integers(-128, 127, (table_rows, LANES), endpoint=True).astype(np.int8))
    save("gather", "map", _map_vectors(g.integers(0, table_rows, (4, 20))))


def scatter() -> None:
    g = rng(800)
    rows, region = 4, 32
    save("scatter", "src", g.integers(-128, 127, (rows, LANES), endpoint=True).astype(np.int8))
    # Per superlane, the four scatters hit four different rows of the 32-row region.
    addrs = np.stack([g.choice(region, rows, replace=False) for _ in range(20)], axis=1)
    save("scatter", "map", _map_vectors(addrs))


def shift_reduce() -> None:
    g = rng(900)
    save("shift_reduce", "x", g.integers(-1000, 1000, (4, LANES), endpoint=True).astype(np.int32))


def matmul_f16() -> None:
    # W (160 x 320 fp16) on the plane pair 0+1: the low byte of W row 16c + s goes
    # to plane 0 on stream s at lw c, the high byte to plane 1 on stream 16 + s, so
    # one f16 file per s: w_s<s> = W[s::16] (10 x 320).  x is 8 rows of 160 fp16.
    g = rng(1000)
    w = g.uniform(-2.0, 2.0, (160, LANES)).astype(np.float16)
    for s in range(16):
        save("matmul_f16", f"w_s{s:02d}", w[s::16])
    save("matmul_f16", "x", g.uniform(-2.0, 2.0, (8, 160)).astype(np.float16))


def matmul_tiled() -> None:
    # W (640 x 320 int8): rows 0..319 on plane 0 (west), rows 320..639 on plane 2
    # (east), each split by stream as in matmul_i8; x (8 x 640) split the same way.
    g = rng(1100)
    w = g.integers(-128, 127, (640, LANES), endpoint=True).astype(np.int8)
    for s in range(16):
        save("matmul_tiled_i8", f"wa_s{s:02d}", w[:320][s::16])
        save("matmul_tiled_i8", f"wb_s{s:02d}", w[320:][s::16])
    x = g.integers(-128, 127, (8, 640), endpoint=True).astype(np.int8)
    save("matmul_tiled_i8", "xa", x[:, :320])
    save("matmul_tiled_i8", "xb", x[:, 320:])


def identity_map() -> np.ndarray:
    # distribute map that leaves every lane where it is (lane i takes lane i % 16
    # of its own superlane)
    return (np.arange(LANES) % 16).astype(np.int8)


def softmax() -> None:
    g = rng(1200)
    x = np.stack([
        g.uniform(-8.0, 8.0, LANES),        # mixed signs
        g.uniform(-30.0, -10.0, LANES),     # all negative: the max is negative
        g.uniform(40.0, 90.0, LANES),       # exp would overflow without the max
        g.normal(0.0, 1.0, LANES),
    ]).astype(np.float32)
    save("softmax", "x", x)
    save("softmax", "idmap", identity_map())


def layernorm() -> None:
    g = rng(1300)
    x = np.stack([
        g.normal(0.0, 1.0, LANES),
        g.normal(5.0, 3.0, LANES),
        g.uniform(-100.0, 100.0, LANES),
        g.normal(-2.0, 0.01, LANES),        # tiny variance: eps matters
    ]).astype(np.float32)
    save("layernorm", "x", x)
    save("layernorm", "idmap", identity_map())
    save("layernorm", "inv_n", np.full(LANES, 1.0 / LANES, np.float32))   # f32(1/320)
    save("layernorm", "eps", np.full(LANES, 1e-5, np.float32))
    save("layernorm", "gamma", g.uniform(0.5, 1.5, LANES).astype(np.float32))
    save("layernorm", "beta", g.uniform(-0.5, 0.5, LANES).astype(np.float32))


def pingpong() -> None:
    g = rng(1300)
    save("pingpong_2chip", "x", g.integers(-128, 127, LANES, endpoint=True).astype(np.int8))
    save("pingpong_2chip", "ones", np.ones(LANES, np.int8))


if __name__ == "__main__":
    vector_addmul()
    relu()
    weight_load()
    matmul()
    transpose()
    permute()
    gather()
    scatter()
    shift_reduce()
    matmul_f16()
    matmul_tiled()
    softmax()
    layernorm()
    pingpong()
