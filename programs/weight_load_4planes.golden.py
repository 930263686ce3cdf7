"""No .output: the result is the weights installed in the four MXM planes of chip 0,
plane p = W_p rebuilt from its 16 stream files (p<p>_s<s>.npy = W_p[s::16])."""
from pathlib import Path

import numpy as np

from tspasm.golden import installed_weights

CYCLES = 39
HERE = Path(__file__).resolve().parent


def expected_plane(p):
    w = np.zeros((320, 320), np.int8)
    for s in range(16):
        w[s::16] = np.load(HERE / "weight_load_4planes" / f"p{p}_s{s:02d}.npy")
    return w


def check(machine):
    for p in range(4):
        got, want = installed_weights(machine, 0, p), expected_plane(p)
        bad = np.argwhere(got != want)
        assert not len(bad), (f"plane {p}: {len(bad)} of {want.size} weights differ; first at "
                              f"{tuple(int(i) for i in bad[0])}: expected {want[tuple(bad[0])]}, "
                              f"got {got[tuple(bad[0])]}")
