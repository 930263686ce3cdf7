/* MXM instructions: lw, iw, abc, acc (reference-model.md 3, mxm.toml).
 *
 * Plane p has three queues: MXMp_W (lw, iw), MXMp_A (abc) and MXMp_C (acc), all
 * at the MXM's position, reading the streams arriving there and writing onto the
 * registers leaving it like every other unit (planes 0, 1 at the west edge take
 * westward streams; planes 2, 3 at the east edge take eastward ones; an acc whose
 * dst runs off the edge is legal, the value just falls off).
 *   lw    appends 16 stream vectors as the next 16 rows of the plane's buffer
 *         (the row pointer wraps at plane_rows).
 *   iw    installs the whole buffer (rows not rewritten since the last iw keep
 *         their old values) and resets the row pointer; the array changes
 *         d_func(iw) cycles later, so an abc in the iw's own cycle uses the old one.
 *   abc   multiplies an activation vector by the installed array; the product
 *         reaches the accumulator stage d_func(abc) cycles later, for that one
 *         cycle.  .f16 uses the pair (p, p+1) and is issued on the even plane.
 *   acc   combines the product arriving this cycle into an accumulator slot
 *         (set or add) and emits the slot as an SG4 group.
 * Before any iw the array is zero; accumulators start at zero.
 * Schedule errors (data-independent, so `tspasm check` can find them too):
 * acc with no product, acc of the wrong type, abc.f16 on an odd plane, two
 * abc on one array in one cycle, iw while an install is pending. */
#include <stdlib.h>
#include <string.h>

#include "mxm.h"

static int plane_of(tsp_ctx *cx, const tsp_insn *in, unsigned *p)
{
    int idx = tsp_queue_index(cx->slot);
    if (idx < 0 || idx >= TSP_MXM_PLANES)
        return tsp_fail(cx, in, TSP_E_IMAGE, "%s drives no MXM plane", tsp_queue_name(cx->slot));
    *p = (unsigned)idx;
    return TSP_OK;
}

static tsp_mxm_plane *plane_get(tsp_ctx *cx, const tsp_insn *in, unsigned p, int *rc)
{
    tsp_mxm_plane *pl = cx->chip->mxm[p];
    unsigned i;
    *rc = TSP_OK;
    if (pl)
        return pl;
    if (!(pl = calloc(1, sizeof *pl))) {
        *rc = tsp_fail(cx, in, TSP_E_NOMEM, "no memory for MXM plane %u", p);
        return NULL;
    }
    pl->install_at = TSP_NO_CYCLE;
    pl->busy_at = TSP_NO_CYCLE;
    for (i = 0; i < MXM_INFLIGHT; i++)
        pl->inflight[i].arrives = TSP_NO_CYCLE;
    cx->chip->mxm[p] = pl;
    return pl;
}

/* Which array is installed in cycle t. */
static int active_at(const tsp_mxm_plane *p, uint64_t t)
{
    return p->install_at != TSP_NO_CYCLE && t >= p->install_at ? !p->active : p->active;
}

const int8_t (*tsp_mxm_weights(tsp_mxm_plane *p, uint64_t t))[MXM_COLS]
{
    return (const int8_t (*)[MXM_COLS])p->arr[active_at(p, t)];
}

/* ---- lw, iw ---- */

int tsp_exec_lw(tsp_ctx *cx, const tsp_insn *in)
{
    unsigned p = 0, base, i;
    tsp_mxm_plane *pl;
    int rc = plane_of(cx, in, &p);
    if (rc != TSP_OK || (rc = tsp_group(cx, in, TSP_F_src, TSP_MXM_LW_STREAMS, &base)) != TSP_OK)
        return rc;
    if (!(pl = plane_get(cx, in, p, &rc)))
        return rc;
    for (i = 0; i < TSP_MXM_LW_STREAMS; i++) {
        const uint8_t *v = tsp_in(cx, in, base + i, &rc);
        if (!v)
            return rc;
        memcpy(pl->buf[(pl->buf_next + i) % MXM_ROWS], v, MXM_COLS);
    }
    pl->buf_next = (pl->buf_next + TSP_MXM_LW_STREAMS) % MXM_ROWS;
    return TSP_OK;
}

int tsp_exec_iw(tsp_ctx *cx, const tsp_insn *in)
{
    unsigned p = 0;
    tsp_mxm_plane *pl;
    int rc = plane_of(cx, in, &p);
    if (rc != TSP_OK || !(pl = plane_get(cx, in, p, &rc)))
        return rc;
    if (pl->install_at != TSP_NO_CYCLE && cx->cycle >= pl->install_at) {
        pl->active = !pl->active;  /* the previous iw has landed */
        pl->install_at = TSP_NO_CYCLE;
    }
    if (pl->install_at != TSP_NO_CYCLE)
        return tsp_hazard(cx, in, "iw on plane %u while the previous iw is still installing (until cycle %llu)",
                          p, (unsigned long long)pl->install_at);
    memcpy(pl->arr[!pl->active], pl->buf, sizeof pl->buf);
    pl->install_at = cx->cycle + in->op->latency;
    pl->buf_next = 0;
    return TSP_OK;
}

/* ---- abc ---- */

/* Claim plane q's array for this cycle: one abc per array per cycle. */
static int claim(tsp_ctx *cx, const tsp_insn *in, tsp_mxm_plane *pl, unsigned q)
{
    if (pl->busy_at == cx->cycle)
        return tsp_hazard(cx, in, "MXM plane %u computes twice in cycle %llu (an abc.f16 on plane %u "
                          "uses planes %u and %u)", q, (unsigned long long)cx->cycle, q & ~1u, q & ~1u,
                          (q & ~1u) + 1);
    pl->busy_at = cx->cycle;
    return TSP_OK;
}

static mxm_product *product_slot(tsp_mxm_plane *pl, uint64_t arrives)
{
    return &pl->inflight[arrives % MXM_INFLIGHT];
}

static int abc_i8(tsp_ctx *cx, const tsp_insn *in, tsp_mxm_plane *pl, mxm_product *out)
{
    unsigned base;
    const uint8_t *x;
    int rc = tsp_group(cx, in, TSP_F_src, TSP_DTYPE_I8_BYTES, &base);
    if (rc != TSP_OK || !(x = tsp_in(cx, in, base, &rc)))
        return rc;
    tsp_mxm_dot_i8(x, tsp_mxm_weights(pl, cx->cycle), out->y);
    return TSP_OK;
}

static int abc_f16(tsp_ctx *cx, const tsp_insn *in, tsp_mxm_plane *lo, tsp_mxm_plane *hi, mxm_product *out)
{
    unsigned base;
    const uint8_t *xlo, *xhi;
    int rc = tsp_group(cx, in, TSP_F_src, TSP_DTYPE_F16_BYTES, &base);
    if (rc != TSP_OK || !(xlo = tsp_in(cx, in, base, &rc)) || !(xhi = tsp_in(cx, in, base + 1, &rc)))
        return rc;
    tsp_mxm_dot_f16(xlo, xhi, tsp_mxm_weights(lo, cx->cycle), tsp_mxm_weights(hi, cx->cycle), out->y);
    return TSP_OK;
}

int tsp_exec_abc(tsp_ctx *cx, const tsp_insn *in)
{
    unsigned p = 0, dtype = (unsigned)tsp_field(in, TSP_F_dtype);
    uint64_t arrives = cx->cycle + in->op->latency;
    tsp_mxm_plane *pl, *hi = NULL;
    mxm_product *out;
    int rc = plane_of(cx, in, &p);
    if (rc != TSP_OK)
        return rc;
    if (dtype != TSP_DTYPE_I8 && dtype != TSP_DTYPE_F16)
        return tsp_fail(cx, in, TSP_E_IMAGE, "abc takes i8 or f16, not element type code %u", dtype);
    if (dtype == TSP_DTYPE_F16 && (p % 2 || p + 1 >= TSP_MXM_PLANES))
        return tsp_hazard(cx, in, "f16 uses plane pair 0+1/2+3; issue on MXM0_A or MXM2_A");
    if (!(pl = plane_get(cx, in, p, &rc)) || (rc = claim(cx, in, pl, p)) != TSP_OK)
        return rc;
    if (dtype == TSP_DTYPE_F16 &&
        (!(hi = plane_get(cx, in, p + 1, &rc)) || (rc = claim(cx, in, hi, p + 1)) != TSP_OK))
        return rc;
    out = product_slot(pl, arrives);
    rc = dtype == TSP_DTYPE_F16 ? abc_f16(cx, in, pl, hi, out) : abc_i8(cx, in, pl, out);
    if (rc != TSP_OK)
        return rc;
    out->arrives = arrives;
    out->issued = cx->cycle;
    out->dtype = (uint8_t)dtype;
    return TSP_OK;
}

/* ---- acc ---- */

/* The product at the accumulator stage now; NULL (after a hazard) if none. */
static const mxm_product *arriving(tsp_ctx *cx, const tsp_insn *in, tsp_mxm_plane *pl, unsigned p,
                                   unsigned dtype, int *rc)
{
    const mxm_product *pr = product_slot(pl, cx->cycle);
    unsigned want = dtype == TSP_DTYPE_F32 ? TSP_DTYPE_F16 : TSP_DTYPE_I8;
    *rc = TSP_OK;
    if (pr->arrives != cx->cycle) {
        *rc = tsp_hazard(cx, in, "acc with no product: no abc issued on plane %u at cycle %lld "
                         "(abc results reach the accumulator %u cycles later)", p,
                         (long long)cx->cycle - TSP_LAT_ABC, TSP_LAT_ABC);
        return NULL;
    }
    if (pr->dtype != want)
        *rc = tsp_hazard(cx, in, "acc.%s receives the product of an abc.%s (issued at cycle %llu)",
                         dtype == TSP_DTYPE_F32 ? "f32" : "i32", pr->dtype == TSP_DTYPE_F16 ? "f16" : "i8",
                         (unsigned long long)pr->issued);
    return pr;  /* warn mode: the bits as they are */
}

static int acc_slot(tsp_ctx *cx, const tsp_insn *in, tsp_mxm_plane *pl, uint32_t **out)
{
    int64_t s = tsp_field(in, TSP_F_slot);  /* stepped by repeat: may leave the range */
    if (s < 0 || s >= TSP_MXM_ACC_SLOTS)
        return tsp_fail(cx, in, TSP_E_FAULT, "accumulator slot %lld is outside 0..%d", (long long)s,
                        TSP_MXM_ACC_SLOTS - 1);
    if (!pl->acc[s] && !(pl->acc[s] = calloc(MXM_COLS, sizeof(uint32_t))))
        return tsp_fail(cx, in, TSP_E_NOMEM, "no memory for an accumulator");
    *out = pl->acc[s];
    return TSP_OK;
}

static int emit(tsp_ctx *cx, const tsp_insn *in, unsigned bytes, const uint32_t *v)
{
    uint8_t plane[TSP_VECTOR_BYTES];
    unsigned base, j, l;
    int rc = tsp_group(cx, in, TSP_F_dst, bytes, &base);
    for (j = 0; rc == TSP_OK && j < bytes; j++) {
        for (l = 0; l < TSP_LANES; l++)
            plane[l] = (uint8_t)(v[l] >> (8 * j));
        rc = tsp_out(cx, in, base + j, plane);
    }
    return rc;
}

int tsp_exec_acc(tsp_ctx *cx, const tsp_insn *in)
{
    static const uint32_t none[MXM_COLS];
    unsigned p = 0, l, dtype = (unsigned)tsp_field(in, TSP_F_dtype);
    int add = tsp_field(in, TSP_F_mode) == TSP_MODE_ADD;
    const mxm_product *pr;
    const uint32_t *y;
    tsp_mxm_plane *pl;
    uint32_t *slot = NULL;
    int rc = plane_of(cx, in, &p);
    if (rc != TSP_OK)
        return rc;
    if (dtype != TSP_DTYPE_I32 && dtype != TSP_DTYPE_F32)
        return tsp_fail(cx, in, TSP_E_IMAGE, "acc takes i32 or f32, not element type code %u", dtype);
    if (!(pl = plane_get(cx, in, p, &rc)) || (rc = acc_slot(cx, in, pl, &slot)) != TSP_OK)
        return rc;
    pr = arriving(cx, in, pl, p, dtype, &rc);
    if (rc != TSP_OK)
        return rc;
    y = pr ? pr->y : none;  /* warn mode reads a missing product as zeros */
    for (l = 0; l < MXM_COLS; l++) {
        if (!add)
            slot[l] = y[l];
        else
            slot[l] = dtype == TSP_DTYPE_F32 ? tsp_mxm_add_f32(slot[l], y[l]) : slot[l] + y[l];  /* wraps */
    }
    return emit(cx, in, (unsigned)tsp_dtype_bytes(dtype), slot);
}

/* ---- lifetime, hashing, host access ---- */

void tsp_mxm_free(tsp_chip *c)
{
    unsigned p, s;
    for (p = 0; p < TSP_MXM_PLANES; p++) {
        if (!c->mxm[p])
            continue;
        for (s = 0; s < TSP_MXM_ACC_SLOTS; s++)
            free(c->mxm[p]->acc[s]);
        free(c->mxm[p]);
        c->mxm[p] = NULL;
    }
}

uint64_t tsp_mxm_hash(const tsp_chip *c, uint64_t now, uint64_t h)
{
    unsigned p, s;
    for (p = 0; p < TSP_MXM_PLANES; p++) {
        const tsp_mxm_plane *pl = c->mxm[p];
        if (!pl)
            continue;
        h = tsp_hash_u64(h, ((uint64_t)p << 32) | pl->buf_next);
        h = tsp_hash_bytes(h, pl->buf, sizeof pl->buf);
        h = tsp_hash_bytes(h, pl->arr[active_at(pl, now)], sizeof pl->arr[0]);
        if (pl->install_at != TSP_NO_CYCLE && now < pl->install_at) {
            h = tsp_hash_u64(h, pl->install_at);
            h = tsp_hash_bytes(h, pl->arr[!pl->active], sizeof pl->arr[0]);
        }
        for (s = 0; s < MXM_INFLIGHT; s++) {
            const mxm_product *pr = &pl->inflight[s];
            if (pr->arrives == TSP_NO_CYCLE || pr->arrives < now)
                continue;
            h = tsp_hash_u64(h, pr->arrives ^ ((uint64_t)pr->dtype << 56));
            h = tsp_hash_bytes(h, pr->y, sizeof pr->y);
        }
        for (s = 0; s < TSP_MXM_ACC_SLOTS; s++)
            if (pl->acc[s])
                h = tsp_hash_bytes(tsp_hash_u64(h, s), pl->acc[s], MXM_COLS * sizeof(uint32_t));
    }
    return h;
}

int tsp_mxm_weights_read(const tsp_machine *m, uint32_t chip, uint32_t plane, int8_t *out)
{
    const tsp_mxm_plane *pl;
    if (!m || chip >= m->nchips || plane >= TSP_MXM_PLANES || !out)
        return TSP_E_ARG;
    pl = m->chips[chip] ? m->chips[chip]->mxm[plane] : NULL;
    if (pl)
        memcpy(out, pl->arr[active_at(pl, m->cycle)], sizeof pl->arr[0]);
    else
        memset(out, 0, sizeof pl->arr[0]);
    return TSP_OK;
}
