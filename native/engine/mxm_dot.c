/* MXM arithmetic: the dot products of one activation vector with the installed
 * weights (reference-model.md 3, mxm.toml).
 *
 * int8: exact int32 (|sum| <= 320 * 128 * 128 < 2^31, so nothing wraps).
 * fp16: every fp16 is m * 2^e with an integer |m| < 2^11 and e >= -24, so a
 * product of two is an integer multiple of 2^-48 below 2^80, and a sum of 160 of
 * them is below 2^88: summed exactly in i128 and rounded once to binary32
 * (round to nearest, ties to even).  No finite sum overflows binary32
 * (160 * 65504^2 < 2^40) or is subnormal there (>= 2^-48), so the rounding is to
 * 24 significant bits and nothing else.  Choices the model makes (documented):
 *   - an exact sum of zero is +0 (as math.fsum), whatever the signs of the terms;
 *   - a NaN operand gives a NaN: the first one in k order (activation before
 *     weight), moved to binary32 by its payload bits and quieted;
 *   - otherwise 0 x inf, or +inf and -inf products together, give the default
 *     NaN 0x7FC00000; otherwise any inf product gives that inf.
 */
#include <math.h>
#include <string.h>

#include "fp.h"
#include "mxm.h"

/* GCC and Clang both have 128-bit integers; __extension__ keeps -pedantic quiet. */
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

#define F32_QNAN 0x7FC00000u
#define F32_QUIET 0x00400000u

void tsp_mxm_dot_i8(const uint8_t x[MXM_ROWS], const int8_t (*w)[MXM_COLS], uint32_t y[MXM_COLS])
{
    int32_t sum[MXM_COLS] = {0};
    unsigned k, j;
    for (k = 0; k < MXM_ROWS; k++) {
        int32_t xk = (int8_t)x[k];
        if (xk == 0)
            continue;  /* most of the cost of a sparse activation disappears */
        for (j = 0; j < MXM_COLS; j++)
            sum[j] += xk * w[k][j];
    }
    for (j = 0; j < MXM_COLS; j++)
        y[j] = (uint32_t)sum[j];
}

/* ---- fp16 ---- */

typedef struct {
    int special;               /* 0 finite, 1 inf, 2 NaN */
    int neg;
    uint32_t m;                /* finite: value = m * 2^(e) */
    int e;
    uint16_t bits;
} f16v;

static f16v decode(uint16_t h)
{
    f16v v;
    unsigned exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    v.neg = h >> 15;
    v.bits = h;
    v.special = exp == 0x1F ? (man ? 2 : 1) : 0;
    v.m = exp ? (man | 0x400u) : man;  /* a subnormal has no implicit bit ... */
    v.e = exp ? (int)exp - 25 : -24;   /* ... and the exponent of exp = 1 */
    return v;
}

static uint32_t f16_nan_to_f32(uint16_t h)
{
    return ((uint32_t)(h & 0x8000u) << 16) | 0x7F800000u | ((uint32_t)(h & 0x3FFu) << 13) | F32_QUIET;
}

/* One output lane's running state. */
typedef struct {
    i128 sum;              /* in units of 2^-48 */
    uint32_t nan;              /* first NaN operand, as binary32 bits (0: none) */
    uint8_t pinf, ninf, invalid;
} lane;

static void term(lane *l, const f16v *x, uint16_t wbits)
{
    f16v w;
    if (l->nan)
        return;  /* a NaN already decided this lane */
    w = decode(wbits);
    if (x->special == 2 || w.special == 2) {
        l->nan = f16_nan_to_f32(x->special == 2 ? x->bits : w.bits);
        return;
    }
    if (x->special || w.special) {
        if ((x->special ? w.m : x->m) == 0)
            l->invalid = 1;  /* 0 x inf */
        else if (x->neg ^ w.neg)
            l->ninf = 1;
        else
            l->pinf = 1;
        return;
    }
    if (x->m && w.m) {
        i128 p = (i128)((uint64_t)x->m * w.m) << (x->e + w.e + 48);
        l->sum += (x->neg ^ w.neg) ? -p : p;
    }
}

static unsigned bit_length(u128 v)
{
    uint64_t hi = (uint64_t)(v >> 64), lo = (uint64_t)v;
    if (hi)
        return 128u - (unsigned)__builtin_clzll(hi);
    return lo ? 64u - (unsigned)__builtin_clzll(lo) : 0u;
}

/* sum * 2^-48 rounded once to binary32. */
static uint32_t round_f32(i128 sum)
{
    u128 mag = sum < 0 ? -(u128)sum : (u128)sum;
    unsigned len = bit_length(mag), shift = len > 24 ? len - 24 : 0;
    uint64_t q;
    float f;
    if (mag == 0)
        return 0;  /* +0 */
    q = (uint64_t)(mag >> shift);
    if (shift) {
        u128 rem = mag & (((u128)1 << shift) - 1);
        u128 half = (u128)1 << (shift - 1);
        if (rem > half || (rem == half && (q & 1)))
            q++;  /* may reach 2^24: still exact in binary32 */
    }
    /* q <= 2^24 and the scale is a power of two in range: both steps are exact. */
    f = (float)ldexp((double)q, (int)shift - 48);
    return tsp_f32_bits(sum < 0 ? -f : f);
}

static uint32_t finish(const lane *l)
{
    if (l->nan)
        return l->nan;
    if (l->invalid || (l->pinf && l->ninf))
        return F32_QNAN;
    if (l->pinf || l->ninf)
        return l->pinf ? 0x7F800000u : 0xFF800000u;
    return round_f32(l->sum);
}

void tsp_mxm_dot_f16(const uint8_t xlo[MXM_ROWS], const uint8_t xhi[MXM_ROWS], const int8_t (*wlo)[MXM_COLS],
                     const int8_t (*whi)[MXM_COLS], uint32_t y[MXM_COLS])
{
    lane lanes[MXM_COLS];
    unsigned k, j;
    memset(lanes, 0, sizeof lanes);
    for (k = 0; k < MXM_F16_ROWS; k++) {
        /* no shortcut for a zero activation: 0 x inf and 0 x NaN still count */
        f16v x = decode((uint16_t)(xlo[k] | (xhi[k] << 8)));
        for (j = 0; j < MXM_COLS; j++)
            term(&lanes[j], &x, (uint16_t)((uint8_t)wlo[k][j] | ((uint8_t)whi[k][j] << 8)));
    }
    for (j = 0; j < MXM_COLS; j++)
        y[j] = finish(&lanes[j]);
}

uint32_t tsp_mxm_add_f32(uint32_t a, uint32_t b)
{
    int a_nan = (a & 0x7FFFFFFFu) > 0x7F800000u, b_nan = (b & 0x7FFFFFFFu) > 0x7F800000u;
    if (a_nan || b_nan)  /* the accumulator's NaN first, quieted: no host NaN rules */
        return (a_nan ? a : b) | F32_QUIET;
    if ((a & 0x7FFFFFFFu) == 0x7F800000u && (b & 0x7FFFFFFFu) == 0x7F800000u && a != b)
        return F32_QNAN;   /* inf - inf */
    return tsp_f32_bits(tsp_f32_from_bits(a) + tsp_f32_from_bits(b));
}
