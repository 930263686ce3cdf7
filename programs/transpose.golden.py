"""Two 16 x 320 int8 blocks X_b (row j = input stream j = transpose/in<j>.npy[b])
transposed 16 x 16 per superlane: Y_b[i, 16k + j] = X_b[j, 16k + i].  Output t<i>
holds output stream i for both blocks: t<i>[b] = Y_b[i]."""
import numpy as np

CYCLES = 31


def reference(inputs):
    x = np.stack([inputs.npy(f"transpose/in{j:02d}.npy") for j in range(16)], axis=1)  # (2, 16, 320)
    tiles = x.reshape(2, 16, 20, 16)                    # [b, j, k, i]
    y = tiles.transpose(0, 3, 2, 1).reshape(2, 16, 320)  # [b, i, k, j]
    return {f"t{i:02d}": np.ascontiguousarray(y[:, i, :]) for i in range(16)}
