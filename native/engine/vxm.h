/* The VXM element operations, shared by the stream plumbing (vxm.c) and the
 * arithmetic (vxm_ops.c). */
#ifndef TSP_VXM_H
#define TSP_VXM_H

#include "engine.h"

typedef enum {
    V_MOV, V_NEG, V_ABS, V_NOT, V_RELU, V_EXP, V_TANH, V_RSQRT, V_MASK, V_CONVERT,
    V_ADD, V_SUB, V_MUL, V_MIN, V_MAX, V_AND, V_OR, V_XOR, V_SHL, V_SHR, V_CMP, V_SELECT,
    V_NUM_OPS
} tsp_vop;

/* One VXM instruction's operands, each lane an element's raw bits. */
typedef struct {
    tsp_vop op;
    unsigned dtype;            /* operand type (TSP_DTYPE_*) */
    unsigned to;               /* result type: dtype, except for convert */
    int sat;                   /* integer results saturate instead of wrapping */
    unsigned cond;             /* TSP_COND_* for cmp */
    const uint32_t *a, *b, *m;
} tsp_vxm_args;

/* out[l] = op(a[l], b[l], m[l]) for every lane. */
void tsp_vxm_compute(const tsp_vxm_args *v, uint32_t out[TSP_LANES]);

/* The same for one-byte integers (i8 in, i8 out: every op but exp, tanh, rsqrt
 * and convert), straight on the 320-byte stream vectors: 16 or 32 lanes per SIMD
 * instruction instead of one 32-bit lane at a time.  Returns 0 when the
 * operation has no byte kernel (the caller then takes tsp_vxm_compute). */
static inline int tsp_vxm_i8_has(tsp_vop op)
{
    return op != V_EXP && op != V_TANH && op != V_RSQRT && op != V_CONVERT && op < V_NUM_OPS;
}
int tsp_vxm_i8(tsp_vop op, int sat, unsigned cond, const uint8_t *a, const uint8_t *b, const uint8_t *m,
               uint8_t out[TSP_LANES]);

#endif /* TSP_VXM_H */
