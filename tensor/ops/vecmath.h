/* Branch-free float math the compiler can vectorise (glibc's scalar expf
 * cannot be; the library builds with -fno-trapping-math so the selects
 * below become blends). Accuracy: within 2 ulp (measured: see tests/test_vecmath.c) of the correctly rounded result over
 * the whole range, subnormal results included; inf/NaN handled. */
#ifndef TG_VECMATH_H
#define TG_VECMATH_H

#include <stdint.h>
#include <string.h>

static inline float tg_as_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }

/* exp(x) = 2^n * exp(r), n = round(x / ln2), |r| <= ln2 / 2; exp(r) by its
 * degree-7 Taylor polynomial (truncation 5e-9 relative). 2^n is applied in
 * two halves so results down to the subnormal range stay exact. */
static inline float tg_expf_vec(float x) {
    const float magic = 12582912.0f;                    /* 1.5 * 2^23: rounds to integer */
    float xc = x > 88.8f ? 88.8f : x;
    xc = xc < -104.0f ? -104.0f : xc;
    xc = x != x ? 0.0f : xc;                            /* NaN: keep the integer path defined */
    float t = xc * 1.44269504f + magic;
    float nf = t - magic;
    float r = xc - nf * 0.693145752f;                   /* ln2 split in two for exactness */
    r = r - nf * 1.42860677e-6f;
    /* Estrin's scheme: a shorter dependency chain than Horner's */
    float r2 = r * r, r4 = r2 * r2;
    float p01 = 1.0f + r, p23 = 0.5f + r * (1.0f / 6.0f);
    float p45 = 1.0f / 24.0f + r * (1.0f / 120.0f), p67 = 1.0f / 720.0f + r * (1.0f / 5040.0f);
    float p = (p01 + r2 * p23) + r4 * (p45 + r2 * p67);
    int32_t n = (int32_t)nf, n1 = n >> 1, n2 = n - n1;
    float y = p * tg_as_float((int32_t)((uint32_t)(n1 + 127) << 23)) * tg_as_float((int32_t)((uint32_t)(n2 + 127) << 23));
    y = x > 88.72283f ? __builtin_inff() : y;
    return x != x ? x : y;
}

#endif
