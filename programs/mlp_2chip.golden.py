"""2-layer int8 MLP pipelined across two chips (programs/gen_mlp_2chip.py generates the
program and its inputs; the header of mlp_2chip.tsp has the pipeline and the cycle
arithmetic):  h = relu(sat_i8((x @ W1 + b1) >> 10)) on chip 0,  y = h @ W2 + b2 on chip 1."""
import numpy as np

CYCLES = 761
SHIFT = 10


def weights(inputs, tag):
    """The 320 x 320 matrix from its 16 files: the file feeding stream s holds rows s::16."""
    w = np.zeros((320, 320), np.int64)
    for s in range(16):
        w[s::16] = inputs.npy(f"mlp_2chip/{tag}_s{s:02d}.npy")
    return w


def wrap32(v):
    return ((v + 2**31) % 2**32 - 2**31).astype(np.int32)   # int32 add/acc wrap (never needed here)


def reference(inputs):
    x = inputs.npy("mlp_2chip/x.npy").astype(np.int64)
    b1 = inputs.npy("mlp_2chip/b1.npy").astype(np.int64)
    b2 = inputs.npy("mlp_2chip/b2.npy").astype(np.int64)
    assert (inputs.npy("mlp_2chip/shift.npy") == SHIFT).all()
    z1 = wrap32(x @ weights(inputs, "w1") + b1)
    h = np.maximum(np.clip(z1 >> SHIFT, -128, 127), 0).astype(np.int8)   # shr (arithmetic), sat, relu
    y = wrap32(h.astype(np.int64) @ weights(inputs, "w2") + b2)
    return {"h": h, "y": y}
