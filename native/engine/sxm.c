/* SXM instructions: shift, permute, distribute, rotate, transpose
 * (reference-model.md 3, sxm.toml).
 *
 * An SXM queue sits at its hemisphere's SXM position; like every unit it reads
 * the streams (either direction, as each stream field says) arriving there in its
 * issue cycle, and its results leave that position d_func cycles later.  The
 * SXM keeps no state between instructions.  Elements travel in byte planes
 * (byte j on stream base + j), and every operation here moves whole elements
 * between lanes, so it applies the same lane movement to each byte plane.
 * A permute map that is not a bijection is a schedule error (it comes from the
 * program's data, but like every schedule error it stops the run by default);
 * in warn mode the map is applied as it is, lanes out of range reading zero. */
#include <string.h>

#include "engine.h"

#define SL TSP_GEOMETRY_LANES_PER_SUPERLANE
#define MAX_OUT TSP_STREAMS

#if TSP_SXM_TRANSPOSE_STREAMS != SL
#error "transpose is 16 x 16 per superlane: transpose_streams must equal lanes_per_superlane"
#endif

typedef uint8_t vec[TSP_VECTOR_BYTES];

/* The n streams of the group named by `field`, as they arrive here now. */
static int inputs(tsp_ctx *cx, const tsp_insn *in, int field, unsigned n, const uint8_t **v)
{
    unsigned base, i;
    int rc = tsp_group(cx, in, field, n, &base);
    for (i = 0; rc == TSP_OK && i < n; i++)
        if (!(v[i] = tsp_in(cx, in, base + i, &rc)))
            return rc;
    return rc;
}

/* out[0..n-1] onto the group named by dst, leaving here after d_func. */
static int outputs(tsp_ctx *cx, const tsp_insn *in, unsigned n, vec *out)
{
    unsigned base, i;
    int rc = tsp_group(cx, in, TSP_F_dst, n, &base);
    for (i = 0; rc == TSP_OK && i < n; i++)
        rc = tsp_out(cx, in, base + i, out[i]);
    return rc;
}

static int width(tsp_ctx *cx, const tsp_insn *in, unsigned *bytes)
{
    unsigned dtype = (unsigned)tsp_field(in, TSP_F_dtype);
    int b = tsp_dtype_bytes(dtype);
    if (b <= 0)
        return tsp_fail(cx, in, TSP_E_IMAGE, "element type code %u is not a type", dtype);
    *bytes = (unsigned)b;
    return TSP_OK;
}

/* ---- shift ---- */

int tsp_exec_shift(tsp_ctx *cx, const tsp_insn *in)
{
    const uint8_t *v[MAX_OUT];
    vec out[MAX_OUT];
    unsigned bytes = 0, j, n = (unsigned)tsp_field(in, TSP_F_lanes);
    int down = tsp_field(in, TSP_F_dir) == TSP_DIR_DOWN;
    int rc = width(cx, in, &bytes);
    if (rc != TSP_OK)
        return rc;
    if (n >= TSP_LANES)
        return tsp_fail(cx, in, TSP_E_IMAGE, "shift by %u lanes is outside 0..%d", n, TSP_LANES - 1);
    if ((rc = inputs(cx, in, TSP_F_src, bytes, v)) != TSP_OK)
        return rc;
    for (j = 0; j < bytes; j++) {
        memset(out[j], 0, sizeof out[j]);
        if (down)  /* lane i takes lane i + n */
            memcpy(out[j], v[j] + n, TSP_LANES - n);
        else       /* lane i takes lane i - n */
            memcpy(out[j] + n, v[j], TSP_LANES - n);
    }
    return outputs(cx, in, bytes, out);
}

/* ---- permute ---- */

/* The map as lane indices, checked to be a bijection of 0..lanes-1; -1 marks a
 * lane out of range (warn mode reads it as zero). */
static int permutation(tsp_ctx *cx, const tsp_insn *in, const uint8_t *lo, const uint8_t *hi,
                       int idx[TSP_LANES])
{
    int first[TSP_LANES];  /* the first lane that maps to j, or -1 */
    unsigned i;
    int rc = TSP_OK;
    memset(first, -1, sizeof first);
    for (i = 0; i < TSP_LANES; i++) {
        int j = (int16_t)(uint16_t)(lo[i] | (hi[i] << 8));
        idx[i] = j >= 0 && j < TSP_LANES ? j : -1;
        if (rc != TSP_OK)
            continue;  /* report the first fault only */
        if (idx[i] < 0)
            rc = tsp_hazard(cx, in, "permute map is not a bijection (lane %u maps to %d, outside 0..%d)", i, j,
                            TSP_LANES - 1);
        else if (first[j] >= 0)
            rc = tsp_hazard(cx, in, "permute map is not a bijection (lane %u repeats %d)", i, j);
        else
            first[j] = (int)i;
    }
    return rc;
}

int tsp_exec_permute(tsp_ctx *cx, const tsp_insn *in)
{
    const uint8_t *v[MAX_OUT], *map[TSP_DTYPE_I16_BYTES];
    vec out[MAX_OUT];
    int idx[TSP_LANES];
    unsigned bytes = 0, i, j;
    int rc = width(cx, in, &bytes);
    if (rc != TSP_OK || (rc = inputs(cx, in, TSP_F_src, bytes, v)) != TSP_OK ||
        (rc = inputs(cx, in, TSP_F_map, TSP_DTYPE_I16_BYTES, map)) != TSP_OK ||
        (rc = permutation(cx, in, map[0], map[1], idx)) != TSP_OK)
        return rc;
    for (j = 0; j < bytes; j++)
        for (i = 0; i < TSP_LANES; i++)
            out[j][i] = idx[i] >= 0 ? v[j][idx[i]] : 0;
    return outputs(cx, in, bytes, out);
}

/* ---- distribute ---- */

int tsp_exec_distribute(tsp_ctx *cx, const tsp_insn *in)
{
    const uint8_t *v[MAX_OUT], *map;
    vec out[MAX_OUT];
    unsigned bytes = 0, i, j;
    int rc = width(cx, in, &bytes);
    if (rc != TSP_OK || (rc = inputs(cx, in, TSP_F_src, bytes, v)) != TSP_OK ||
        (rc = inputs(cx, in, TSP_F_map, 1, &map)) != TSP_OK)
        return rc;
    for (j = 0; j < bytes; j++) {
        for (i = 0; i < TSP_LANES; i++) {
            unsigned base = i - i % SL;  /* the superlane's first lane */
            out[j][i] = map[i] < SL ? v[j][base + map[i]] : 0;
        }
    }
    return outputs(cx, in, bytes, out);
}

/* ---- rotate ---- */

int tsp_exec_rotate(tsp_ctx *cx, const tsp_insn *in)
{
    static const unsigned sizes[TSP_FIELD_N_COUNT] = TSP_FIELD_N_VALUES_INIT;
    const uint8_t *v[MAX_OUT];
    vec out[MAX_OUT];
    unsigned code = (unsigned)tsp_field(in, TSP_F_n), n, i, j, l;
    int rc;
    if (code >= TSP_FIELD_N_COUNT)
        return tsp_fail(cx, in, TSP_E_IMAGE, "rotate size code %u is not a size", code);
    n = sizes[code];
    if (n * n > MAX_OUT)
        return tsp_fail(cx, in, TSP_E_IMAGE, "rotate %u needs %u output streams", n, n * n);
    if ((rc = inputs(cx, in, TSP_F_src, n, v)) != TSP_OK)
        return rc;
    /* stream dst + n*i + j = input i rotated up by j lanes within each superlane */
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            for (l = 0; l < TSP_LANES; l++)
                out[n * i + j][l] = v[i][l - l % SL + (l % SL + SL - j % SL) % SL];
    return outputs(cx, in, n * n, out);
}

/* ---- transpose ---- */

int tsp_exec_transpose(tsp_ctx *cx, const tsp_insn *in)
{
    const uint8_t *v[TSP_SXM_TRANSPOSE_STREAMS];
    vec out[TSP_SXM_TRANSPOSE_STREAMS];
    unsigned i, j, s;
    int rc = inputs(cx, in, TSP_F_src, TSP_SXM_TRANSPOSE_STREAMS, v);
    if (rc != TSP_OK)
        return rc;
    /* in each superlane s, lane 16s + j of output i is lane 16s + i of input j */
    for (s = 0; s < TSP_SUPERLANES; s++)
        for (i = 0; i < TSP_SXM_TRANSPOSE_STREAMS; i++)
            for (j = 0; j < TSP_SXM_TRANSPOSE_STREAMS; j++)
                out[i][s * SL + j] = v[j][s * SL + i];
    return outputs(cx, in, TSP_SXM_TRANSPOSE_STREAMS, out);
}
