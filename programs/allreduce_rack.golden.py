"""All-reduce (sum, wrapping int32) across the 72 chips of a rack: every chip ends with
the sum of the 72 input vectors (programs/gen_allreduce.py generates the program and its
inputs; the header of allreduce_rack.tsp has the three phases and the cycle arithmetic)."""
import numpy as np

CYCLES = 1050
CHIPS = 72


def reference(inputs):
    xs = np.stack([inputs.npy(f"allreduce_rack/x_c{c:02d}.npy") for c in range(CHIPS)])
    total = xs.sum(axis=0, dtype=np.int32)        # int32 accumulation wraps, as the VXM adds do
    return {f"sum_c{c:02d}": total for c in range(CHIPS)}
