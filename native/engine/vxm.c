/* VXM instructions: stream groups in, element operation, stream group out.
 *
 * An operand of type T is a stream group as wide as T: byte j of every element
 * travels on stream base + j.  The ALU reads its groups arriving at its
 * position this cycle and its result leaves that position d_func cycles later.
 * Which types an operation takes mirrors `allow` in isa/instructions/vxm.toml;
 * a word outside it is a malformed program, reported, never guessed at. */
#include <string.h>

#include "vxm.h"

#define INT_TYPES ((1u << TSP_DTYPE_I8) | (1u << TSP_DTYPE_I16) | (1u << TSP_DTYPE_I32))
#define FLOAT_TYPES ((1u << TSP_DTYPE_F16) | (1u << TSP_DTYPE_F32))
#define ALL_TYPES (INT_TYPES | FLOAT_TYPES)

static const struct {
    uint8_t arity;             /* 1: a; 2: a, b; 3: m, a, b */
    uint8_t types;             /* legal operand types */
    uint8_t sat;               /* .sat exists (for integer results) */
} vops[V_NUM_OPS] = {
    [V_MOV] = {1, ALL_TYPES, 0},   [V_NEG] = {1, ALL_TYPES, 1},    [V_ABS] = {1, ALL_TYPES, 1},
    [V_NOT] = {1, INT_TYPES, 0},   [V_RELU] = {1, ALL_TYPES, 0},   [V_EXP] = {1, FLOAT_TYPES, 0},
    [V_TANH] = {1, FLOAT_TYPES, 0}, [V_RSQRT] = {1, FLOAT_TYPES, 0}, [V_MASK] = {1, ALL_TYPES, 0},
    [V_CONVERT] = {1, ALL_TYPES, 1}, [V_ADD] = {2, ALL_TYPES, 1},  [V_SUB] = {2, ALL_TYPES, 1},
    [V_MUL] = {2, ALL_TYPES, 1},   [V_MIN] = {2, ALL_TYPES, 0},    [V_MAX] = {2, ALL_TYPES, 0},
    [V_AND] = {2, INT_TYPES, 0},   [V_OR] = {2, INT_TYPES, 0},     [V_XOR] = {2, INT_TYPES, 0},
    [V_SHL] = {2, INT_TYPES, 1},   [V_SHR] = {2, INT_TYPES, 0},    [V_CMP] = {2, ALL_TYPES, 0},
    [V_SELECT] = {3, ALL_TYPES, 0},
};

static const char *const dtype_names[TSP_NUM_DTYPES] = {
#define TSP_DECLARE_DTYPE(name, code, bytes) [code] = #name,
#include "tsp_isa.h"
#undef TSP_DECLARE_DTYPE
};

static int is_int(unsigned dtype)
{
    return (INT_TYPES >> dtype) & 1u;
}

/* Read the group of `bytes` streams named by `field` and assemble elements. */
static int load(tsp_ctx *cx, const tsp_insn *in, int field, unsigned bytes, uint32_t out[TSP_LANES])
{
    unsigned base, j, l;
    int rc = tsp_group(cx, in, field, bytes, &base);
    if (rc != TSP_OK)
        return rc;
    for (j = 0; j < bytes; j++) {
        const uint8_t *v = tsp_in(cx, in, base + j, &rc);
        if (!v)
            return rc;
        if (j == 0)  /* assign, then OR in: two simple loops the compiler vectorizes */
            for (l = 0; l < TSP_LANES; l++)
                out[l] = v[l];
        else
            for (l = 0; l < TSP_LANES; l++)
                out[l] |= (uint32_t)v[l] << (8 * j);
    }
    return TSP_OK;
}

/* The single stream of a one-byte operand (NULL and *rc set on a hazard). */
static const uint8_t *in_plane(tsp_ctx *cx, const tsp_insn *in, int field, int *rc)
{
    unsigned base;
    if ((*rc = tsp_group(cx, in, field, 1, &base)) != TSP_OK)
        return NULL;
    return tsp_in(cx, in, base, rc);
}

static int store(tsp_ctx *cx, const tsp_insn *in, unsigned bytes, const uint32_t res[TSP_LANES])
{
    uint8_t plane[TSP_VECTOR_BYTES];
    unsigned base, j, l;
    int rc = tsp_group(cx, in, TSP_F_dst, bytes, &base);
    for (j = 0; rc == TSP_OK && j < bytes; j++) {
        for (l = 0; l < TSP_LANES; l++)
            plane[l] = (uint8_t)(res[l] >> (8 * j));
        rc = tsp_out(cx, in, base + j, plane);
    }
    return rc;
}

/* i8 -> i8: the operands are the stream vectors themselves (one plane each), so
 * the byte kernel reads them in place and writes straight into the stream
 * store; same reads, same order (m, a, b) and same hazards as the general path. */
static int vxm_i8(tsp_ctx *cx, const tsp_insn *in, const tsp_vxm_args *v)
{
    const uint8_t *a, *b = tsp_zero_vector, *m = tsp_zero_vector;
    uint8_t *res;
    unsigned base;
    int rc;
    if (vops[v->op].arity == 3 && !(m = in_plane(cx, in, TSP_F_m, &rc)))
        return rc;
    if (!(a = in_plane(cx, in, TSP_F_a, &rc)))
        return rc;
    if (vops[v->op].arity >= 2 && !(b = in_plane(cx, in, TSP_F_b, &rc)))
        return rc;
    if (!tsp_vxm_i8_has(v->op))
        return tsp_fail(cx, in, TSP_E_IMAGE, "%s has no i8 form", in->op->name);  /* vops[] rejects it first */
    if ((rc = tsp_group(cx, in, TSP_F_dst, 1, &base)) != TSP_OK)
        return rc;
    if (in->op->latency == 0) {  /* none in this ISA: the result would share the operands' diagonal */
        uint8_t tmp[TSP_VECTOR_BYTES];
        tsp_vxm_i8(v->op, v->sat, v->cond, a, b, m, tmp);
        return tsp_out(cx, in, base, tmp);
    }
    /* computed straight into the stream store: another diagonal than the operands' */
    if ((rc = tsp_out_buf(cx, in, base, &res)) != TSP_OK)
        return rc;
    tsp_vxm_i8(v->op, v->sat, v->cond, a, b, m, res);
    return TSP_OK;
}

static int vxm(tsp_ctx *cx, const tsp_insn *in, tsp_vop op)
{
    uint32_t a[TSP_LANES], b[TSP_LANES], m[TSP_LANES], out[TSP_LANES];
    tsp_vxm_args v;
    unsigned bytes;
    int rc;
    memset(&v, 0, sizeof v);
    v.op = op;
    v.dtype = (unsigned)tsp_field(in, TSP_F_dtype);
    if (v.dtype == TSP_DTYPE_I8 && op != V_CONVERT && op != V_CMP && ((vops[op].types >> TSP_DTYPE_I8) & 1u)) {
        /* the streaming case, which passes every check below: straight to the byte kernel */
        v.to = v.dtype;
        v.sat = vops[op].sat ? (int)tsp_field(in, TSP_F_sat) : 0;
        return vxm_i8(cx, in, &v);
    }
    v.to = op == V_CONVERT ? (unsigned)tsp_field(in, TSP_F_to) : v.dtype;
    v.sat = vops[op].sat ? (int)tsp_field(in, TSP_F_sat) : 0;
    v.cond = op == V_CMP ? (unsigned)tsp_field(in, TSP_F_cond) : 0;
    if (v.dtype >= TSP_NUM_DTYPES || v.to >= TSP_NUM_DTYPES)
        return tsp_fail(cx, in, TSP_E_IMAGE, "element type code %u is not a type", v.dtype);
    if (!((vops[op].types >> v.dtype) & 1u))
        return tsp_fail(cx, in, TSP_E_IMAGE, "%s is not defined for %s", in->op->name, dtype_names[v.dtype]);
    if (v.sat && !is_int(v.to))
        return tsp_fail(cx, in, TSP_E_IMAGE, ".sat is not defined for %s results", dtype_names[v.to]);
    if (op == V_CMP && v.cond > TSP_COND_GE)
        return tsp_fail(cx, in, TSP_E_IMAGE, "comparison code %u is not a condition", v.cond);
    bytes = (unsigned)tsp_dtype_bytes(v.dtype);
    if (v.dtype == TSP_DTYPE_I8 && op != V_CONVERT)
        return vxm_i8(cx, in, &v);
    memset(b, 0, sizeof b);  /* unary operations never look at b or m, but keep them defined */
    memset(m, 0, sizeof m);
    if (vops[op].arity == 3 && (rc = load(cx, in, TSP_F_m, bytes, m)) != TSP_OK)
        return rc;
    if ((rc = load(cx, in, TSP_F_a, bytes, a)) != TSP_OK)
        return rc;
    if (vops[op].arity >= 2 && (rc = load(cx, in, TSP_F_b, bytes, b)) != TSP_OK)
        return rc;
    v.a = a;
    v.b = b;
    v.m = m;
    tsp_vxm_compute(&v, out);
    return store(cx, in, (unsigned)tsp_dtype_bytes(v.to), out);
}

#define VXM_EXEC(name, OP) \
    int tsp_exec_##name(tsp_ctx *cx, const tsp_insn *in) { return vxm(cx, in, OP); }

VXM_EXEC(mov, V_MOV)
VXM_EXEC(neg, V_NEG)
VXM_EXEC(abs, V_ABS)
VXM_EXEC(not, V_NOT)
VXM_EXEC(relu, V_RELU)
VXM_EXEC(exp, V_EXP)
VXM_EXEC(tanh, V_TANH)
VXM_EXEC(rsqrt, V_RSQRT)
VXM_EXEC(mask, V_MASK)
VXM_EXEC(convert, V_CONVERT)
VXM_EXEC(add, V_ADD)
VXM_EXEC(sub, V_SUB)
VXM_EXEC(mul, V_MUL)
VXM_EXEC(min, V_MIN)
VXM_EXEC(max, V_MAX)
VXM_EXEC(and, V_AND)
VXM_EXEC(or, V_OR)
VXM_EXEC(xor, V_XOR)
VXM_EXEC(shl, V_SHL)
VXM_EXEC(shr, V_SHR)
VXM_EXEC(cmp, V_CMP)
VXM_EXEC(select, V_SELECT)
