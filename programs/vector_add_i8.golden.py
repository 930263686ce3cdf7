"""c = a + b on one int8 vector (wrapping); a and b are the inline .data lists,
the other lanes zero."""
import numpy as np

CYCLES = 11


def reference(inputs):
    c = np.zeros(320, np.int8)
    a, b = inputs.segment("MEM_W2", 0x10), inputs.segment("MEM_W3", 0x10)
    c[: a.size] = a + b  # int8 wraps: 127 + 1 = -128
    return {"c": c}
