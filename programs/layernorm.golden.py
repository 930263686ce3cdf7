"""Layer norm of four f32 rows of 320 lanes, repeating the machine's steps and
roundings exactly (see layernorm.tsp): all-reduce sums by rotated windows (f32
adds in the machine's order, per lane), mean = sum * f32(1/320), d = x - mean,
var = sum(d*d) * f32(1/320), r = rsqrt(var + eps) computed in double and rounded
once to f32, y = (d * r) * gamma + beta, every f32 operation rounded."""
import numpy as np

from tspasm.golden import shift_down, shift_up

CYCLES = 1063
LANES = 320


down, up = shift_down, shift_up  # the SXM shifts (tspasm.golden)


def allreduce_sum(u):
    v = u
    for n in (1, 2, 4, 5, 10, 20, 40, 80, 160):  # (v rotated by n) + v
        r = u if n == 4 else v                   # the third step rotates u itself
        v = (down(r, n) + up(r, LANES - n)) + v
    return v


def reference(inputs):
    x = inputs.npy("layernorm/x.npy")
    inv_n, eps = inputs.npy("layernorm/inv_n.npy"), inputs.npy("layernorm/eps.npy")
    gamma, beta = inputs.npy("layernorm/gamma.npy"), inputs.npy("layernorm/beta.npy")
    mean = allreduce_sum(x) * inv_n
    d = x - mean
    var = allreduce_sum(d * d) * inv_n
    r = (1.0 / np.sqrt((var + eps).astype(np.float64))).astype(np.float32)
    return {"y": ((d * r) * gamma) + beta}
