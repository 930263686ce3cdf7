"""y = x @ W in int32, exact, with K = 640 split over two planes: x is 8 x 640
int8 (files xa = x[:, :320], xb = x[:, 320:]), W is 640 x 320 int8 rebuilt from
its stream files (wa_s<s> = W[:320][s::16], wb_s<s> = W[320:][s::16])."""
import numpy as np

CYCLES = 92


def reference(inputs):
    w = np.zeros((640, 320), np.int8)
    for s in range(16):
        w[:320][s::16] = inputs.npy(f"matmul_tiled_i8/wa_s{s:02d}.npy")
        w[320:][s::16] = inputs.npy(f"matmul_tiled_i8/wb_s{s:02d}.npy")
    x = np.concatenate([inputs.npy("matmul_tiled_i8/xa.npy"), inputs.npy("matmul_tiled_i8/xb.npy")], axis=1)
    return {"y": (x.astype(np.int64) @ w.astype(np.int64)).astype(np.int32)}
