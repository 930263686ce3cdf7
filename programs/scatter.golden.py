"""y[a(r, k), 16k:16k+16] = src[r, 16k:16k+16] into a 32-row region that starts zero,
a(r, k) = map[r, 16k] + 256 * map[r, 16k + 1]."""
import numpy as np

CYCLES = 6


def reference(inputs):
    src, maps = inputs.npy("scatter/src.npy"), inputs.npy("scatter/map.npy")
    raw = maps.view(np.uint8)
    y = np.zeros((32, 320), np.int8)
    for r in range(4):
        for k in range(20):
            a = int(raw[r, 16 * k]) + 256 * int(raw[r, 16 * k + 1])
            y[a, 16 * k:16 * k + 16] = src[r, 16 * k:16 * k + 16]
    return {"y": y}
