"""softmax along the 320 lanes of four f32 rows, repeating the machine's steps and
roundings exactly (see softmax.tsp): m = all-reduce max by rotations; e =
exp(x - m) with exp in double rounded once to f32; s = all-reduce sum by
rotated windows (f32 adds in the machine's order, per lane); y =
e * rsqrt(s)^2 with rsqrt in double rounded once and f32 muls."""
import math

import numpy as np

from tspasm.golden import shift_down, shift_up

CYCLES = 1042
LANES = 320


down, up = shift_down, shift_up  # the SXM shifts (tspasm.golden)


def fmax(a, b):   # IEEE maximum as the VXM does it (no NaNs here; -0 < +0)
    return np.where(a > b, a, np.where(b > a, b, np.where(np.signbit(a), b, a)))


def f32_exp(v):   # exp computed in double, rounded once to f32
    return np.array([[math.exp(float(t)) for t in row] for row in v]).astype(np.float32)


def f32_rsqrt(v):
    return (1.0 / np.sqrt(v.astype(np.float64))).astype(np.float32)


def reference(inputs):
    x = inputs.npy("softmax/x.npy")
    v = x
    for k in range(9):                          # max: rotate by n = 2^k, max with v
        n = 1 << k
        v = fmax(down(v, n) + up(v, LANES - n), v)
    m = v
    e = f32_exp(x - m)
    v = e
    for n in (1, 2, 4, 5, 10, 20, 40, 80, 160):  # sum: (v rotated by n) + v
        r = e if n == 4 else v                   # the third step rotates e itself
        v = (down(r, n) + up(r, LANES - n)) + v
    t = f32_rsqrt(v)
    y = e * (t * t)
    return {"y": y, "e": e}
