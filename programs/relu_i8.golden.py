"""y = max(x, 0) on 4 x 320 int8."""
import numpy as np

CYCLES = 13


def reference(inputs):
    return {"y": np.maximum(inputs.npy("relu_i8/x.npy"), 0).astype(np.int8)}
