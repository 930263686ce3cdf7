"""sum = a + b and prod = a * b elementwise on 4 x 320 i32 (integers wrap; floats are
IEEE-754 with round to nearest even, which numpy's i32 arithmetic gives exactly)."""
import numpy as np

CYCLES = 19


def reference(inputs):
    a, b = inputs.npy("vector_addmul_i32/a.npy"), inputs.npy("vector_addmul_i32/b.npy")
    with np.errstate(all="ignore"):
        return {"sum": a + b, "prod": a * b}
