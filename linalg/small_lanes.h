/* The vector vocabulary of linalg's lanes kernels (small.c: LU and solves;
 * small_decomp.c: eigh, svd, qr): TG_SMALL_W batch items side by side, item
 * w in lane w of each vector, every step a vector operation, pivots and
 * sorts per-lane selects. Lanes do not interact, so an item's result does
 * not depend on its neighbours. Both files are built without FMA
 * contraction (CMakeLists.txt). */
#ifndef TG_LINALG_SMALL_LANES_H
#define TG_LINALG_SMALL_LANES_H

#include <float.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <math.h>
#include <stdbool.h>

#include "linalg/linalg_internal.h"

/* Vectors of TG_SMALL_W lanes (GCC vector extensions). Comparisons give
 * lane masks of all ones or zeros; SEL picks lanes by mask. */
typedef double v_double __attribute__((vector_size(TG_SMALL_W * sizeof(double))));
typedef float v_float __attribute__((vector_size(TG_SMALL_W * sizeof(float))));
/* the element types GCC gives a comparison's result (long, not long long) */
typedef long m_double __attribute__((vector_size(TG_SMALL_W * sizeof(long))));
typedef int m_float __attribute__((vector_size(TG_SMALL_W * sizeof(int))));
/* The lanes kernels are built for AVX-512 (x86-64-v4: eight f64 lanes in
 * one register, compares into lane masks) and used where the CPU has it;
 * elsewhere each lane runs the scalar kernel. Not target_clones: GCC 12
 * lowers these vector compares to scalar code in cloned functions, and in
 * vectors wider than the target's registers. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SMALL_V4 __attribute__((target("arch=x86-64-v4")))
static inline bool have_v4(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
}
#else
#define SMALL_V4
static inline bool have_v4(void) { return false; }
#endif
/* Lane-wise square roots (the vector extensions have no operator for it). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VSQRT_double(x) ((v_double)_mm512_sqrt_pd((__m512d)(x)))
#define VSQRT_float(x) ((v_float)_mm256_sqrt_ps((__m256)(x)))
#else
#define VSQRT_double(x) vsqrt_double(x)
#define VSQRT_float(x) vsqrt_float(x)
static inline v_double vsqrt_double(v_double x) {
    for (int w = 0; w < TG_SMALL_W; w++) x[w] = sqrt(x[w]);
    return x;
}
static inline v_float vsqrt_float(v_float x) {
    for (int w = 0; w < TG_SMALL_W; w++) x[w] = sqrtf(x[w]);
    return x;
}
#endif
/* Lane-wise 1 / sqrt(x) for x in [1, 2] (the rotations' 1 + t^2): AVX-512's
 * 14-bit estimate and Newton steps (two for f64, one for f32), a third of
 * the latency of a square root and a division. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VRSQRT_double(x) vrsqrt_double(x)
#define VRSQRT_float(x) vrsqrt_float(x)
#define NEWTON_RSQRT(y, x) ((y) * (1.5 - 0.5 * (x) * (y) * (y)))
SMALL_V4 static inline v_double vrsqrt_double(v_double x) {
    v_double y = (v_double)_mm512_rsqrt14_pd((__m512d)x);
    y = NEWTON_RSQRT(y, x);
    return NEWTON_RSQRT(y, x);
}
SMALL_V4 static inline v_float vrsqrt_float(v_float x) {
    v_float y = (v_float)_mm256_rsqrt14_ps((__m256)x);
    return y * (1.5f - 0.5f * x * y * y);
}
/* The 8 x 8 transpose of the doubles in r[0..7] (one row each), in place:
 * 24 shuffles. small.c (packed batches into lanes), small8.c (a matrix's
 * rows and columns) and common.c (transposing copies) share it. */
SMALL_V4 static inline void tg__transpose8x8_pd(__m512d *r) {
    __m512d t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) {
        u[4 * h + 0] = _mm512_shuffle_f64x2(t[4 * h + 0], t[4 * h + 2], 0x88);
        u[4 * h + 1] = _mm512_shuffle_f64x2(t[4 * h + 1], t[4 * h + 3], 0x88);
        u[4 * h + 2] = _mm512_shuffle_f64x2(t[4 * h + 0], t[4 * h + 2], 0xdd);
        u[4 * h + 3] = _mm512_shuffle_f64x2(t[4 * h + 1], t[4 * h + 3], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f64x2(u[i], u[i + 4], 0x88);
        r[i + 4] = _mm512_shuffle_f64x2(u[i], u[i + 4], 0xdd);
    }
}
#else
#define VRSQRT_double(x) (1 / VSQRT_double(x))
#define VRSQRT_float(x) (1 / VSQRT_float(x))
#endif
#define SEL(T, M, A, B) ((v_##T)(((m_##T)(A) & (M)) | ((m_##T)(B) & ~(M))))
#define VABS(T, V) SEL(T, (V) < 0, -(V), V)
/* NaN lanes, from the bits: GCC scalarises the vector form of x != x. */
#define VISNAN(T, V) ((((m_##T)(V)) & ABS_BITS_##T) > INF_BITS_##T)
#define ABS_BITS_double 0x7fffffffffffffffL
#define INF_BITS_double 0x7ff0000000000000L
#define ABS_BITS_float 0x7fffffff
#define INF_BITS_float 0x7f800000
#define TINY_double DBL_MIN
#define TINY_float FLT_MIN
/* bit w set for each lane w of m that is set */
#define DEFINE_LANE_MASK(T)                                                                     \
    SMALL_V4 static inline unsigned lane_mask_##T(m_##T m) {                                    \
        unsigned mask = 0;                                                                      \
        for (int w = 0; w < TG_SMALL_W; w++) mask |= (m[w] != 0 ? 1u : 0u) << w;                \
        return mask;                                                                            \
    }
DEFINE_LANE_MASK(double)
DEFINE_LANE_MASK(float)
#define LANE_MASK_double lane_mask_double
#define LANE_MASK_float lane_mask_float
/* M(T, N) for every dtype and order the kernels take */
#define SMALL_FOR_EACH(M) \
    M(float, 1) M(float, 2) M(float, 3) M(float, 4) M(double, 1) M(double, 2) M(double, 3) M(double, 4)

#endif
