"""Nine steps v <- v + shift.down(v, n), n = 256, 128, ..., 1 (lane i takes lane i + n,
zeros shifted in above lane 319), int32 wrapping; lane 0 of y = sum of the row."""
import numpy as np

CYCLES = 448


def reference(inputs):
    v = inputs.npy("shift_reduce/x.npy").astype(np.int32)
    for n in (256, 128, 64, 32, 16, 8, 4, 2, 1):
        shifted = np.zeros_like(v)
        shifted[:, : 320 - n] = v[:, n:]
        v = (v.astype(np.int64) + shifted).astype(np.int32)  # wraps like the hardware
    return {"y": v}
