"""All-reduce (sum, wrapping int32) across the 8 chips of a node: every chip ends with
the sum of the 8 input vectors (programs/gen_allreduce.py generates the program and its
inputs; the header of allreduce_node.tsp has the algorithm and the cycle arithmetic)."""
import numpy as np

CYCLES = 382
CHIPS = 8


def reference(inputs):
    xs = np.stack([inputs.npy(f"allreduce_node/x_c{c}.npy") for c in range(CHIPS)])
    total = xs.sum(axis=0, dtype=np.int32)        # int32 accumulation wraps, as the VXM adds do
    return {f"sum_c{c}": total for c in range(CHIPS)}
