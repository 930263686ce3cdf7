/* IEEE-754 binary16 and binary32 conversions, bit-exact and host-independent.
 *
 * binary16 is done with integer code rather than _Float16: the result must not
 * depend on whether the compiler or CPU has half-precision support, and
 * double -> half must round once (double -> float -> half could round twice).
 * NaNs keep the top bits of their payload, as numpy does, so results compare
 * bit for bit with numpy.  Static inline: these run once per lane. */
#ifndef TSP_FP_H
#define TSP_FP_H

#include <float.h>
#include <stdint.h>
#include <string.h>

/* float arithmetic must round each operation to binary32 (no x87 excess precision). */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "the engine needs FLT_EVAL_METHOD == 0 (SSE2 or another strict binary32 unit)"
#endif

static inline float tsp_f32_from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static inline uint32_t tsp_f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static inline double tsp_f16_to_f64(uint16_t h)
{
    uint64_t sign = (uint64_t)(h >> 15) << 63;
    unsigned exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    uint64_t bits;
    double d;
    if (exp == 0) {  /* zero or subnormal: man * 2^-24, exact (a power-of-two scale) */
        d = (double)man * (1.0 / 16777216.0);
        return sign ? -d : d;
    }
    if (exp == 0x1F)  /* inf or NaN: payload moves to the top of the double's */
        bits = sign | (0x7FFULL << 52) | ((uint64_t)man << 42);
    else
        bits = sign | ((uint64_t)(exp - 15 + 1023) << 52) | ((uint64_t)man << 42);
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* sig / 2^s rounded to nearest, ties to even (s in 1..63), without branches:
 * adding half - 1 plus the kept lsb carries exactly when the rest is above half,
 * or at half with an odd lsb. */
static inline uint64_t round_shift(uint64_t sig, unsigned s)
{
    return (sig + ((1ULL << (s - 1)) - 1) + ((sig >> s) & 1)) >> s;
}

static inline uint16_t tsp_f64_to_f16(double d)
{
    uint64_t b, man, sig;
    uint16_t sign;
    int e;
    unsigned s, base;
    memcpy(&b, &d, sizeof b);
    sign = (uint16_t)((b >> 48) & 0x8000);
    e = (int)((b >> 52) & 0x7FF);
    man = b & ((1ULL << 52) - 1);
    if (e == 0x7FF) {
        if (man == 0)
            return sign | 0x7C00;
        uint16_t nan = (uint16_t)(0x7C00 + (man >> 42));
        return sign | (nan == 0x7C00 ? 0x7C01 : nan);  /* stays a NaN */
    }
    if (e == 0)  /* double subnormals are far below half's smallest subnormal */
        return sign;
    e -= 1023;
    if (e >= 16)
        return sign | 0x7C00;
    sig = man | (1ULL << 52);
    if (e >= -14) {          /* a normal half: keep 10 fraction bits */
        s = 42;
        base = (unsigned)(e + 14) << 10;   /* the implicit bit in sig adds the last 1 */
    } else {                 /* a subnormal half: units of 2^-24 */
        s = (unsigned)(42 + (-14 - e));
        base = 0;
        if (s >= 64)
            return sign;
    }
    /* A carry out of the fraction moves into the exponent, up to infinity. */
    return sign | (uint16_t)(base + round_shift(sig, s));
}

static inline uint16_t tsp_f32_to_f16(uint32_t f)
{
    if ((f & 0x7F800000u) == 0x7F800000u && (f & 0x007FFFFFu)) {
        /* NaN: handled on the bits, so a signalling NaN is not quieted by the host */
        uint16_t nan = (uint16_t)(0x7C00 + ((f & 0x007FFFFFu) >> 13));
        return (uint16_t)((f >> 16) & 0x8000) | (nan == 0x7C00 ? 0x7C01 : nan);
    }
    return tsp_f64_to_f16((double)tsp_f32_from_bits(f));  /* float -> double is exact */
}

#endif /* TSP_FP_H */
