/* VXM arithmetic on raw element bits (reference-model.md 3, vxm.toml).
 *
 * Integers: computed exactly in int64 (every i32 sum, product or shift fits),
 * then wrapped to the element width, or clamped with .sat.  Shift counts are b
 * modulo the width; shr is arithmetic.
 * Floats: IEEE-754 with round-to-nearest-even.  f32 uses binary32 arithmetic;
 * f16 is computed in double, where a sum or product of two halves is exact, and
 * rounded once to binary16.  exp, tanh and rsqrt are computed in double and
 * rounded once to the element type.
 * Choices the model makes (documented, and tested):
 *   min/max    IEEE 754-2019 minimum/maximum: a NaN operand gives that NaN (a's
 *              first), and -0 < +0.
 *   relu       NaN stays NaN; every other non-positive input gives +0.
 *   mask, cmp  all ones (every bit of the element) for true, zero for false.
 *   select     picks a where any bit of m's element is set.
 *   convert    float -> int rounds to nearest even and saturates (NaN -> 0);
 *              int -> int wraps unless .sat.
 * Each operation has its own loop over the lanes (the switch is outside it), so
 * the per-lane work is a few inlined instructions.
 */
#include <math.h>

#include "fp.h"
#include "vxm.h"

#define EACH_LANE(expr) \
    do { \
        for (l = 0; l < TSP_LANES; l++) { \
            uint32_t ra = v->a[l], rb = v->b[l]; \
            (void)rb; \
            out[l] = (expr); \
        } \
    } while (0)

/* An element type's constants, computed once per instruction rather than per lane. */
typedef struct {
    unsigned bits;
    uint32_t ones;
    int64_t min, max;
} itype;

static itype itype_of(unsigned dtype)
{
    itype t;
    t.bits = 8u * (unsigned)tsp_dtype_bytes(dtype);
    t.ones = t.bits >= 32 ? 0xFFFFFFFFu : (1u << t.bits) - 1;
    t.min = -((int64_t)1 << (t.bits - 1));
    t.max = ((int64_t)1 << (t.bits - 1)) - 1;
    return t;
}

static int is_float(unsigned dtype)
{
    return dtype == TSP_DTYPE_F16 || dtype == TSP_DTYPE_F32;
}

static inline int64_t sx(uint32_t raw, const itype *t)
{
    int64_t v = (int64_t)(raw & t->ones);
    return (v >> (t->bits - 1)) & 1 ? v - ((int64_t)1 << t->bits) : v;
}

static inline uint32_t fit(int64_t v, const itype *t, int sat)
{
    if (sat)
        v = v < t->min ? t->min : v > t->max ? t->max : v;
    return (uint32_t)((uint64_t)v & t->ones);
}

static inline int64_t shr(int64_t x, unsigned s)
{
    return x < 0 ? ~(~x >> s) : x >> s;  /* arithmetic, without implementation-defined >> */
}

static inline int holds(unsigned cond, int lt, int eq, int gt)
{
    switch (cond) {
    case TSP_COND_EQ: return eq;
    case TSP_COND_NE: return !eq;
    case TSP_COND_LT: return lt;
    case TSP_COND_LE: return lt || eq;
    case TSP_COND_GT: return gt;
    default: return gt || eq;  /* TSP_COND_GE */
    }
}

static void int_ops(const tsp_vxm_args *v, const itype *t, uint32_t out[TSP_LANES])
{
    unsigned l, w = t->bits - 1;
    int sat = v->sat;
    switch (v->op) {
    case V_MOV: EACH_LANE(ra); break;
    case V_NEG: EACH_LANE(fit(-sx(ra, t), t, sat)); break;
    case V_ABS: EACH_LANE(fit(sx(ra, t) < 0 ? -sx(ra, t) : sx(ra, t), t, sat)); break;
    case V_NOT: EACH_LANE(~ra & t->ones); break;
    case V_RELU: EACH_LANE(sx(ra, t) > 0 ? ra : 0); break;
    case V_MASK: EACH_LANE(sx(ra, t) != 0 ? t->ones : 0); break;
    case V_ADD: EACH_LANE(fit(sx(ra, t) + sx(rb, t), t, sat)); break;
    case V_SUB: EACH_LANE(fit(sx(ra, t) - sx(rb, t), t, sat)); break;
    case V_MUL: EACH_LANE(fit(sx(ra, t) * sx(rb, t), t, sat)); break;
    case V_MIN: EACH_LANE(sx(ra, t) < sx(rb, t) ? ra : rb); break;
    case V_MAX: EACH_LANE(sx(ra, t) > sx(rb, t) ? ra : rb); break;
    case V_AND: EACH_LANE(ra & rb); break;
    case V_OR: EACH_LANE(ra | rb); break;
    case V_XOR: EACH_LANE(ra ^ rb); break;
    case V_SHL: EACH_LANE(fit(sx(ra, t) * ((int64_t)1 << (rb & w)), t, sat)); break;
    case V_SHR: EACH_LANE(fit(shr(sx(ra, t), rb & w), t, 0)); break;
    case V_CMP:
        EACH_LANE(holds(v->cond, sx(ra, t) < sx(rb, t), ra == rb, sx(ra, t) > sx(rb, t)) ? t->ones : 0);
        break;
    default: break;  /* exp, tanh, rsqrt: rejected for integers before we get here */
    }
}

/* A float element as a double (exact for both types) and back with one rounding. */
static inline double fval(uint32_t raw, int f16)
{
    return f16 ? tsp_f16_to_f64((uint16_t)raw) : (double)tsp_f32_from_bits(raw);
}

static inline uint32_t fround(double d, int f16)
{
    return f16 ? tsp_f64_to_f16(d) : tsp_f32_bits((float)d);
}

static inline uint32_t fminmax(uint32_t ra, uint32_t rb, int f16, uint32_t sign, int want_max)
{
    double x = fval(ra, f16), y = fval(rb, f16);
    if (isnan(x))
        return ra;
    if (isnan(y))
        return rb;
    if (x == y)  /* equal values have equal bits, except +0 and -0 */
        return want_max ? ((ra & sign) ? rb : ra) : ((ra & sign) ? ra : rb);
    return ((x < y) != want_max) ? ra : rb;
}

/* f32 arithmetic in binary32 (one rounding per operation); f16 exact in double, rounded once. */
static inline uint32_t farith(tsp_vop op, uint32_t ra, uint32_t rb, int f16)
{
    if (f16) {
        double x = tsp_f16_to_f64((uint16_t)ra), y = tsp_f16_to_f64((uint16_t)rb);
        return tsp_f64_to_f16(op == V_ADD ? x + y : op == V_SUB ? x - y : x * y);
    } else {
        float x = tsp_f32_from_bits(ra), y = tsp_f32_from_bits(rb);
        return tsp_f32_bits(op == V_ADD ? x + y : op == V_SUB ? x - y : x * y);
    }
}

static void float_ops(const tsp_vxm_args *v, uint32_t ones, uint32_t out[TSP_LANES])
{
    int f16 = v->dtype == TSP_DTYPE_F16;
    uint32_t sign = f16 ? 0x8000u : 0x80000000u;
    unsigned l;
    switch (v->op) {
    case V_MOV: EACH_LANE(ra); break;
    case V_NEG: EACH_LANE(ra ^ sign); break;
    case V_ABS: EACH_LANE(ra & ~sign); break;
    case V_RELU: EACH_LANE(isnan(fval(ra, f16)) || fval(ra, f16) > 0 ? ra : 0); break;
    case V_MASK: EACH_LANE(fval(ra, f16) != 0 ? ones : 0); break;
    case V_EXP: EACH_LANE(fround(exp(fval(ra, f16)), f16)); break;
    case V_TANH: EACH_LANE(fround(tanh(fval(ra, f16)), f16)); break;
    case V_RSQRT: EACH_LANE(fround(1.0 / sqrt(fval(ra, f16)), f16)); break;
    case V_ADD: EACH_LANE(farith(V_ADD, ra, rb, f16)); break;
    case V_SUB: EACH_LANE(farith(V_SUB, ra, rb, f16)); break;
    case V_MUL: EACH_LANE(farith(V_MUL, ra, rb, f16)); break;
    case V_MIN: EACH_LANE(fminmax(ra, rb, f16, sign, 0)); break;
    case V_MAX: EACH_LANE(fminmax(ra, rb, f16, sign, 1)); break;
    case V_CMP:
        EACH_LANE(holds(v->cond, fval(ra, f16) < fval(rb, f16), fval(ra, f16) == fval(rb, f16),
                        fval(ra, f16) > fval(rb, f16)) ? ones : 0);
        break;
    default: break;  /* not, and, or, xor, shifts: rejected for floats before we get here */
    }
}

static uint32_t convert(const tsp_vxm_args *v, const itype *from_t, const itype *to_t, uint32_t ra)
{
    unsigned from = v->dtype, to = v->to;
    if (from == to)
        return ra;
    if (!is_float(from) && !is_float(to))
        return fit(sx(ra, from_t), to_t, v->sat);
    if (!is_float(from))  /* an i32 is exact in double, so this is one rounding */
        return fround((double)sx(ra, from_t), to == TSP_DTYPE_F16);
    if (!is_float(to)) {
        double x = fval(ra, from == TSP_DTYPE_F16);
        if (isnan(x))
            return 0;
        x = nearbyint(x);  /* ties to even in the default rounding mode */
        if (x <= (double)to_t->min)
            return fit(to_t->min, to_t, 0);
        if (x >= (double)to_t->max)
            return fit(to_t->max, to_t, 0);
        return fit((int64_t)x, to_t, 0);
    }
    if (from == TSP_DTYPE_F32)
        return tsp_f32_to_f16(ra);
    /* f16 -> f32 is exact; a NaN is moved on its bits so it is never quieted */
    if ((ra & 0x7C00u) == 0x7C00u && (ra & 0x3FFu))
        return ((ra & 0x8000u) << 16) | 0x7F800000u | ((ra & 0x3FFu) << 13);
    return tsp_f32_bits((float)tsp_f16_to_f64((uint16_t)ra));
}

void tsp_vxm_compute(const tsp_vxm_args *v, uint32_t out[TSP_LANES])
{
    itype t = itype_of(v->dtype), to = itype_of(v->to);  /* ones and bits are right for floats too */
    unsigned l;
    if (v->op == V_SELECT)
        EACH_LANE(v->m[l] ? ra : rb);
    else if (v->op == V_CONVERT)
        EACH_LANE(convert(v, &t, &to, ra));
    else if (is_float(v->dtype))
        float_ops(v, t.ones, out);
    else
        int_ops(v, &t, out);
}

/* ---- i8 on bytes ----
 *
 * The streaming hot path: every lane is one byte of the stream vector itself, so
 * there is nothing to assemble or split.  Each case is one loop over plain
 * int8_t/uint8_t arrays with no calls and no branches the compiler cannot turn
 * into selects, which GCC and Clang vectorize (paddb, pmaxsb, packsswb, ...).
 * Wrapping results are computed in uint8_t (unsigned wrap is defined), saturating
 * ones in int, which holds every i8 sum, difference, product and shift by < 8
 * before the clamp.  Results are bit-identical to int_ops() above (the tests in
 * tests/test_engine_vxm.py run every op through this path). */

#define I8_LOOP(expr) \
    do { \
        for (l = 0; l < TSP_LANES; l++) { \
            int x = (int8_t)a[l], y = (int8_t)b[l]; \
            (void)x; (void)y; \
            out[l] = (uint8_t)(expr); \
        } \
    } while (0)

static inline int clamp_i8(int v)
{
    return v < -128 ? -128 : v > 127 ? 127 : v;
}

/* x >> s with the sign copied in, without implementation-defined >> of a negative. */
static inline int asr_i8(int x, unsigned s)
{
    return x < 0 ? ~(~x >> s) : x >> s;
}

#if defined(__SSE4_1__)
#include <smmintrin.h>
/* The common byte operations as one SSE instruction per 16 lanes (TSP_LANES is
 * a multiple of 16): paddb/psubb wrap, paddsb/psubsb clamp to -128..127,
 * pminsb/pmaxsb compare signed - each exactly the loop below it computes. */
#define SSE_LOOP(OP) \
    do { \
        _Pragma("GCC unroll 20") \
        for (l = 0; l < TSP_LANES; l += 16) \
            _mm_storeu_si128((__m128i *)(out + l), OP(_mm_loadu_si128((const __m128i *)(a + l)), \
                                                      _mm_loadu_si128((const __m128i *)(b + l)))); \
    } while (0)
_Static_assert(TSP_LANES % 16 == 0, "lanes in whole SSE registers");
#endif

/* The same byte operations 32 lanes at a time where the CPU has AVX2 (chosen
 * at run time, not at build time: the wheel must run on any x86-64-v2 CPU).
 * vpaddb/vpaddsb/vpsubb/vpsubsb/vpminsb/vpmaxsb/vpand/vpor/vpxor compute
 * exactly what their SSE forms above do, per byte. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && TSP_LANES % 32 == 0
#include <immintrin.h>
#define TSP_HAVE_AVX2_PATH 1
#define AVX2_LOOP(OP) \
    do { \
        _Pragma("GCC unroll 10") \
        for (l = 0; l < TSP_LANES; l += 32) \
            _mm256_storeu_si256((__m256i *)(out + l), OP(_mm256_loadu_si256((const __m256i *)(a + l)), \
                                                         _mm256_loadu_si256((const __m256i *)(b + l)))); \
    } while (0)

__attribute__((target("avx2"))) static int i8_avx2(tsp_vop op, int sat, const uint8_t *restrict a,
                                                   const uint8_t *restrict b, uint8_t *restrict out)
{
    unsigned l;
    switch (op) {
    case V_ADD: if (sat) AVX2_LOOP(_mm256_adds_epi8); else AVX2_LOOP(_mm256_add_epi8); return 1;
    case V_SUB: if (sat) AVX2_LOOP(_mm256_subs_epi8); else AVX2_LOOP(_mm256_sub_epi8); return 1;
    case V_MIN: AVX2_LOOP(_mm256_min_epi8); return 1;
    case V_MAX: AVX2_LOOP(_mm256_max_epi8); return 1;
    case V_AND: AVX2_LOOP(_mm256_and_si256); return 1;
    case V_OR: AVX2_LOOP(_mm256_or_si256); return 1;
    case V_XOR: AVX2_LOOP(_mm256_xor_si256); return 1;
    default: return 0;
    }
}

#endif

int tsp_vxm_i8(tsp_vop op, int sat, unsigned cond, const uint8_t *restrict a, const uint8_t *restrict b,
               const uint8_t *restrict m, uint8_t out[restrict TSP_LANES])
{
    unsigned l;
#if defined(TSP_HAVE_AVX2_PATH)
    if (__builtin_cpu_supports("avx2") && i8_avx2(op, sat, a, b, out))  /* a flag libgcc sets at load */
        return 1;
#endif
#if defined(__SSE4_1__)
    switch (op) {
    case V_ADD: if (sat) SSE_LOOP(_mm_adds_epi8); else SSE_LOOP(_mm_add_epi8); return 1;
    case V_SUB: if (sat) SSE_LOOP(_mm_subs_epi8); else SSE_LOOP(_mm_sub_epi8); return 1;
    case V_MIN: SSE_LOOP(_mm_min_epi8); return 1;
    case V_MAX: SSE_LOOP(_mm_max_epi8); return 1;
    case V_AND: SSE_LOOP(_mm_and_si128); return 1;
    case V_OR: SSE_LOOP(_mm_or_si128); return 1;
    case V_XOR: SSE_LOOP(_mm_xor_si128); return 1;
    default: break;
    }
#endif
    switch (op) {
    case V_MOV: memcpy(out, a, TSP_LANES); return 1;
    case V_NEG: if (sat) I8_LOOP(clamp_i8(-x)); else I8_LOOP(-x); return 1;
    case V_ABS: if (sat) I8_LOOP(clamp_i8(x < 0 ? -x : x)); else I8_LOOP(x < 0 ? -x : x); return 1;
    case V_NOT: I8_LOOP(~x); return 1;
    case V_RELU: I8_LOOP(x > 0 ? x : 0); return 1;
    case V_MASK: I8_LOOP(x != 0 ? 0xFF : 0); return 1;
    case V_ADD: if (sat) I8_LOOP(clamp_i8(x + y)); else I8_LOOP(x + y); return 1;
    case V_SUB: if (sat) I8_LOOP(clamp_i8(x - y)); else I8_LOOP(x - y); return 1;
    case V_MUL: if (sat) I8_LOOP(clamp_i8(x * y)); else I8_LOOP(x * y); return 1;
    case V_MIN: I8_LOOP(x < y ? x : y); return 1;
    case V_MAX: I8_LOOP(x > y ? x : y); return 1;
    case V_AND: I8_LOOP(x & y); return 1;
    case V_OR: I8_LOOP(x | y); return 1;
    case V_XOR: I8_LOOP(x ^ y); return 1;
    /* shift counts are b modulo the width (8): as int_ops, x * 2^s saturates */
    case V_SHL: if (sat) I8_LOOP(clamp_i8(x * (1 << (b[l] & 7)))); else I8_LOOP((unsigned)x << (b[l] & 7)); return 1;
    case V_SHR: I8_LOOP(asr_i8(x, b[l] & 7u)); return 1;
    case V_CMP:  /* the condition is fixed per instruction: one loop each */
        switch (cond) {
        case TSP_COND_EQ: I8_LOOP(x == y ? 0xFF : 0); break;
        case TSP_COND_NE: I8_LOOP(x != y ? 0xFF : 0); break;
        case TSP_COND_LT: I8_LOOP(x < y ? 0xFF : 0); break;
        case TSP_COND_LE: I8_LOOP(x <= y ? 0xFF : 0); break;
        case TSP_COND_GT: I8_LOOP(x > y ? 0xFF : 0); break;
        default: I8_LOOP(x >= y ? 0xFF : 0); break;  /* TSP_COND_GE */
        }
        return 1;
    case V_SELECT: for (l = 0; l < TSP_LANES; l++) out[l] = m[l] ? a[l] : b[l]; return 1;
    default: return 0;  /* exp, tanh, rsqrt (floats only), convert: the general path */
    }
}
