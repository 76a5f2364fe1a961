/* Kernels for real matrices of order 1 to 4 (f32, f64), the batched
 * small-matrix case (docs/linalg.md, "Small matrices").
 *
 * A batch of 2 x 2 or 4 x 4 problems spends 100-400 ns per item in a LAPACK
 * call (argument and NaN checks, workspace, blocked code paths built for
 * large n). Two kinds of kernel replace it:
 *   - scalar getrf / getrs / solve, one item per call, loops of constant
 *     bounds that the compiler unrolls (any CPU);
 *   - "lanes" kernels (solve, getrf, getrs, eigh, svd, qr) that run
 *     TG_SMALL_W items at once, item w in lane w of AVX-512 vectors.
 * Each reproduces what its LAPACK path reports: the same info codes (NaN
 * arguments, singular pivots) and the same conventions (partial pivoting on
 * the first largest entry, Householder vectors with LAPACK's sign of beta).
 * Results equal LAPACK's to rounding, not bitwise; the scalar and lanes LU
 * equal each other bitwise (no FMA in this file: CMakeLists.txt). */
#include <float.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "linalg/linalg_internal.h"

bool tg__linalg_small(tg_dtype d, int64_t n) { return (d == TG_F64 || d == TG_F32) && n >= 1 && n <= 4; }

/* ---- getrf / getrs on column-major factors --------------------------------
 * The LAPACK pair behind lu_factor, lu_solve, det and the solves that keep
 * their factors. getrf: F (column-major n x n, in place) = P L U, ipiv
 * 1-based as LAPACK's; a zero pivot is reported (the first one's j + 1)
 * and the factorisation goes on, as dgetf2 does; -4 for NaN in A (LAPACKE's
 * check). getrs: trans 'N' solves A X = B, 'T' (or 'C': real) A^T X = B,
 * B column-major n x k in place; -8 for NaN in B. */
#define DEFINE_LU(T, N, TINY)                                                                                   \
    static int getrf_##T##_##N(T *f, int *ipiv) {                                                              \
        T m[N][N];                                                                                             \
        bool nan = false;                                                                                      \
        for (int j = 0; j < N; j++)                                                                            \
            for (int i = 0; i < N; i++) {                                                                      \
                m[i][j] = f[i + j * N];                                                                        \
                nan |= m[i][j] != m[i][j];                                                                     \
            }                                                                                                  \
        if (nan) return -4;                                                                                    \
        int info = 0;                                                                                          \
        for (int j = 0; j < N; j++) {                                                                          \
            int p = j;                                                                                         \
            T big = m[j][j] < 0 ? -m[j][j] : m[j][j];                                                          \
            for (int i = j + 1; i < N; i++) {                                                                  \
                T v = m[i][j] < 0 ? -m[i][j] : m[i][j];                                                        \
                if (v > big) { big = v; p = i; }                                                               \
            }                                                                                                  \
            ipiv[j] = p + 1;                                                                                   \
            if (big != 0) {                                                                                    \
                if (p != j)                                                                                    \
                    for (int c = 0; c < N; c++) { T s = m[j][c]; m[j][c] = m[p][c]; m[p][c] = s; }             \
                if (big >= TINY) {                                                                             \
                    T r = 1 / m[j][j];                                                                         \
                    for (int i = j + 1; i < N; i++) m[i][j] *= r;                                              \
                } else {                                                                                       \
                    for (int i = j + 1; i < N; i++) m[i][j] /= m[j][j];                                        \
                }                                                                                              \
            } else if (!info) {                                                                                \
                info = j + 1;                                                                                  \
            }                                                                                                  \
            for (int i = j + 1; i < N; i++)                                                                    \
                for (int c = j + 1; c < N; c++) m[i][c] -= m[i][j] * m[j][c];                                  \
        }                                                                                                      \
        for (int j = 0; j < N; j++)                                                                            \
            for (int i = 0; i < N; i++) f[i + j * N] = m[i][j];                                                \
        return info;                                                                                           \
    }                                                                                                          \
    static int getrs_##T##_##N(char trans, int64_t k, const T *f, const int *ipiv, T *b) {                    \
        for (int64_t i = 0; i < N * k; i++)                                                                    \
            if (b[i] != b[i]) return -8;                                                                       \
        for (int64_t c = 0; c < k; c++) {                                                                      \
            T *x = b + c * N;                                                                                  \
            if (trans == 'N') {                                                                                \
                for (int j = 0; j < N; j++) {                                                                  \
                    int p = ipiv[j] - 1;                                                                       \
                    if (p != j) { T s = x[j]; x[j] = x[p]; x[p] = s; }                                         \
                }                                                                                              \
                for (int i = 1; i < N; i++)                                                                    \
                    for (int l = 0; l < i; l++) x[i] -= f[i + l * N] * x[l];                                   \
                for (int i = N - 1; i >= 0; i--) {                                                             \
                    for (int l = i + 1; l < N; l++) x[i] -= f[i + l * N] * x[l];                               \
                    x[i] /= f[i + i * N];                                                                      \
                }                                                                                              \
            } else {                                                                                           \
                for (int i = 0; i < N; i++) {                                                                  \
                    for (int l = 0; l < i; l++) x[i] -= f[l + i * N] * x[l];                                   \
                    x[i] /= f[i + i * N];                                                                      \
                }                                                                                              \
                for (int i = N - 2; i >= 0; i--)                                                               \
                    for (int l = i + 1; l < N; l++) x[i] -= f[l + i * N] * x[l];                               \
                for (int j = N - 1; j >= 0; j--) {                                                             \
                    int p = ipiv[j] - 1;                                                                       \
                    if (p != j) { T s = x[j]; x[j] = x[p]; x[p] = s; }                                         \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
        return 0;                                                                                              \
    }
DEFINE_LU(float, 1, FLT_MIN)
DEFINE_LU(float, 2, FLT_MIN)
DEFINE_LU(float, 3, FLT_MIN)
DEFINE_LU(float, 4, FLT_MIN)
DEFINE_LU(double, 1, DBL_MIN)
DEFINE_LU(double, 2, DBL_MIN)
DEFINE_LU(double, 3, DBL_MIN)
DEFINE_LU(double, 4, DBL_MIN)

int tg__small_getrf(tg_dtype d, int n, void *f, int *ipiv) {
    if (d == TG_F64) {
        switch (n) {
        case 1: return getrf_double_1(f, ipiv);
        case 2: return getrf_double_2(f, ipiv);
        case 3: return getrf_double_3(f, ipiv);
        default: return getrf_double_4(f, ipiv);
        }
    }
    switch (n) {
    case 1: return getrf_float_1(f, ipiv);
    case 2: return getrf_float_2(f, ipiv);
    case 3: return getrf_float_3(f, ipiv);
    default: return getrf_float_4(f, ipiv);
    }
}

int tg__small_getrs(tg_dtype d, char trans, int n, int64_t k, const void *f, const int *ipiv, void *b) {
    if (d == TG_F64) {
        switch (n) {
        case 1: return getrs_double_1(trans, k, f, ipiv, b);
        case 2: return getrs_double_2(trans, k, f, ipiv, b);
        case 3: return getrs_double_3(trans, k, f, ipiv, b);
        default: return getrs_double_4(trans, k, f, ipiv, b);
        }
    }
    switch (n) {
    case 1: return getrs_float_1(trans, k, f, ipiv, b);
    case 2: return getrs_float_2(trans, k, f, ipiv, b);
    case 3: return getrs_float_3(trans, k, f, ipiv, b);
    default: return getrs_float_4(trans, k, f, ipiv, b);
    }
}

/* ---- solve ------------------------------------------------------------------
 * As the LAPACK path (solve.c): getrf of A's row-major copy, which is A^T
 * column-major, then getrs('T'). det factors the same copy, so det(A) and
 * A^{-1} share their rounding (their product, the adjugate, stays accurate
 * at nearly singular A). */
int tg__small_solve(tg_dtype d, int n, int64_t k, const void *a, int64_t ars, int64_t acs, const void *b,
                    int64_t brs, int64_t bcs, void *x) {
    int ipiv[4];
    if (d == TG_F64) {
        double f[16], col[4];
        const double *pa = a, *pb = b;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) f[i * n + j] = pa[i * ars + j * acs];
        int info = tg__small_getrf(d, n, f, ipiv);
        for (int64_t c = 0; c < k && !info; c++) {
            for (int i = 0; i < n; i++) col[i] = pb[i * brs + c * bcs];
            info = tg__small_getrs(d, 'T', n, 1, f, ipiv, col);
            for (int i = 0; i < n && !info; i++) ((double *)x)[i * k + c] = col[i];
        }
        return info;
    }
    float f[16], col[4];
    const float *pa = a, *pb = b;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) f[i * n + j] = pa[i * ars + j * acs];
    int info = tg__small_getrf(d, n, f, ipiv);
    for (int64_t c = 0; c < k && !info; c++) {
        for (int i = 0; i < n; i++) col[i] = pb[i * brs + c * bcs];
        info = tg__small_getrs(d, 'T', n, 1, f, ipiv, col);
        for (int i = 0; i < n && !info; i++) ((float *)x)[i * k + c] = col[i];
    }
    return info;
}

/* ---- solve, W items at a time ----------------------------------------------
 * The scalar kernel above runs one chain of dependent divisions and
 * data-dependent pivot branches per item (127 ns for 4 x 4). Here W items
 * sit side by side (structure of arrays, lane w = item w), every step is a
 * loop over the lanes that the compiler turns into vector code, and
 * pivoting is a per-lane select. Lanes do not interact, so an item's
 * result does not depend on its neighbours. */
/* Vectors of TG_SMALL_W lanes (GCC vector extensions; each clone of
 * TG_SIMD_CLONES maps them onto its registers). Comparisons give lane masks
 * of all ones or zeros; SEL picks lanes by mask. */
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
static bool have_v4(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
}
#else
#define SMALL_V4
static bool have_v4(void) { return false; }
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

/* getrf of W matrices (m holds each lane's M = A^T, row i column j): LU in
 * place, piv[j] the row swapped with j at step j. A lane is bad for a NaN
 * or a zero pivot. The arithmetic is the scalar getrf's. */
#define DEFINE_LU_BLOCK(T, N)                                                                                       \
    SMALL_V4 static m_##T lu_block_##T##_##N(v_##T m[N][N], v_##T piv[N]) {                                       \
        v_##T zero = {0};                                                                                          \
        m_##T bad = {0};                                                                                           \
        for (int i = 0; i < N; i++)                                                                                \
            for (int j = 0; j < N; j++) bad |= VISNAN(T, m[i][j]);                                                 \
        for (int j = 0; j < N; j++) {                                                                              \
            v_##T big = VABS(T, m[j][j]);                                                                          \
            piv[j] = zero + (T)j;                                                                                  \
            for (int i = j + 1; i < N; i++) {                                                                      \
                v_##T v = VABS(T, m[i][j]);                                                                        \
                m_##T gt = v > big;                                                                                \
                big = SEL(T, gt, v, big);                                                                          \
                piv[j] = SEL(T, gt, zero + (T)i, piv[j]);                                                          \
            }                                                                                                      \
            bad |= big == 0;                                                                                       \
            for (int i = j + 1; i < N; i++) {                                                                      \
                m_##T s = piv[j] == (T)i;                                                                          \
                for (int c = 0; c < N; c++) {                                                                      \
                    v_##T top = m[j][c], row = m[i][c];                                                            \
                    m[j][c] = SEL(T, s, row, top);                                                                 \
                    m[i][c] = SEL(T, s, top, row);                                                                 \
                }                                                                                                  \
            }                                                                                                      \
            /* getrf's multipliers: by the reciprocal, by division under a tiny pivot */                      \
            v_##T r = 1 / m[j][j];                                                                                 \
            m_##T tiny = big < TINY_##T;                                                                           \
            for (int i = j + 1; i < N; i++) {                                                                      \
                m[i][j] = SEL(T, tiny, m[i][j] / m[j][j], m[i][j] * r);                                            \
                for (int c = j + 1; c < N; c++) m[i][c] -= m[i][j] * m[j][c];                                      \
            }                                                                                                      \
        }                                                                                                          \
        return bad;                                                                                                \
    }

/* getrs on W factorisations, one right-hand side v per lane: trans 'T'
 * solves M^T x = b (A x = b for M = A^T): U^T w = b, L^T z = w, x = P z;
 * 'N' solves M x = b: P^T b, then L, then U. NaN in b marks the lane. */
#define DEFINE_GETRS_BLOCK(T, N)                                                                                    \
    SMALL_V4 static m_##T getrs_block_##T##_##N(char trans, v_##T m[N][N], const v_##T piv[N], v_##T v[N]) {       \
        m_##T bad = {0};                                                                                           \
        for (int i = 0; i < N; i++) bad |= VISNAN(T, v[i]);                                                        \
        if (trans == 'N') {                                                                                        \
            for (int j = 0; j < N; j++)                                                                            \
                for (int i = j + 1; i < N; i++) {                                                                  \
                    m_##T s = piv[j] == (T)i;                                                                      \
                    v_##T top = v[j], row = v[i];                                                                  \
                    v[j] = SEL(T, s, row, top);                                                                    \
                    v[i] = SEL(T, s, top, row);                                                                    \
                }                                                                                                  \
            for (int i = 1; i < N; i++)                                                                            \
                for (int l = 0; l < i; l++) v[i] -= m[i][l] * v[l];                                                \
            for (int i = N - 1; i >= 0; i--) {                                                                     \
                for (int l = i + 1; l < N; l++) v[i] -= m[i][l] * v[l];                                            \
                v[i] /= m[i][i];                                                                                   \
            }                                                                                                      \
            return bad;                                                                                            \
        }                                                                                                          \
        for (int i = 0; i < N; i++) {                                                                              \
            for (int l = 0; l < i; l++) v[i] -= m[l][i] * v[l];                                                    \
            v[i] /= m[i][i];                                                                                       \
        }                                                                                                          \
        for (int i = N - 2; i >= 0; i--)                                                                           \
            for (int l = i + 1; l < N; l++) v[i] -= m[l][i] * v[l];                                                \
        for (int j = N - 1; j >= 0; j--)                                                                           \
            for (int i = j + 1; i < N; i++) {                                                                      \
                m_##T s = piv[j] == (T)i;                                                                          \
                v_##T top = v[j], row = v[i];                                                                      \
                v[j] = SEL(T, s, row, top);                                                                        \
                v[i] = SEL(T, s, top, row);                                                                        \
            }                                                                                                      \
        return bad;                                                                                                \
    }

SMALL_V4 static inline bool any_lane_d(m_double m) {
    bool any = false;
    for (int w = 0; w < TG_SMALL_W; w++) any |= m[w] != 0;
    return any;
}
SMALL_V4 static inline bool any_lane_f(m_float m) {
    bool any = false;
    for (int w = 0; w < TG_SMALL_W; w++) any |= m[w] != 0;
    return any;
}
#define ANY_LANE_double any_lane_d
#define ANY_LANE_float any_lane_f

/* Solve: gathers lane w's A^T (the scalar path's factorisation, to the bit)
 * and its k right-hand sides, factors, solves, and writes X row-major
 * (n x k). A packed batch (consecutive row-major items) is read with
 * constant offsets. */
#define DEFINE_SOLVE_LANES(T, N)                                                                                    \
    DEFINE_LU_BLOCK(T, N)                                                                                          \
    DEFINE_GETRS_BLOCK(T, N)                                                                                       \
    SMALL_V4 static bool solve_lanes_##T##_##N(const tg_small_lanes *L, int64_t k) {                               \
        v_##T m[N][N], y[TG_SMALL_KMAX][N], piv[N];                                                                \
        if (L->packed) {                                                                                           \
            const T *a = L->a[0], *b = L->b[0];                                                                    \
            for (int w = 0; w < TG_SMALL_W; w++)                                                                   \
                for (int i = 0; i < N; i++)                                                                        \
                    for (int j = 0; j < N; j++) m[i][j][w] = a[(w * N + j) * N + i];                               \
            for (int w = 0; w < TG_SMALL_W; w++)                                                                   \
                for (int i = 0; i < N; i++)                                                                        \
                    for (int64_t c = 0; c < k; c++) y[c][i][w] = b[(w * N + i) * k + c];                           \
        } else {                                                                                                   \
            for (int w = 0; w < TG_SMALL_W; w++) {                                                                 \
                const T *a = L->a[w], *b = L->b[w];                                                                \
                for (int i = 0; i < N; i++)                                                                        \
                    for (int j = 0; j < N; j++) m[i][j][w] = a[j * L->ars + i * L->acs];                           \
                for (int64_t c = 0; c < k; c++)                                                                    \
                    for (int i = 0; i < N; i++) y[c][i][w] = b[i * L->brs + c * L->bcs];                           \
            }                                                                                                      \
        }                                                                                                          \
        m_##T bad = lu_block_##T##_##N(m, piv);                                                                    \
        for (int64_t c = 0; c < k; c++) bad |= getrs_block_##T##_##N('T', m, piv, y[c]);                           \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            T *x = L->x[w];                                                                                        \
            for (int i = 0; i < N; i++)                                                                            \
                for (int64_t c = 0; c < k; c++) x[i * k + c] = y[c][i][w];                                         \
        }                                                                                                          \
        return ANY_LANE_##T(bad);                                                                                  \
    }                                                                                                              \
    /* getrf: lane w's A (strides ars, acs) read as M = A^T (a row-major copy \
     * read column-major); F column-major to x[w], 1-based pivots to y[w] */    \
    SMALL_V4 static unsigned getrf_lanes_##T##_##N(const tg_small_lanes *L) {                                      \
        v_##T m[N][N], piv[N];                                                                                     \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            const T *a = L->a[w];                                                                                  \
            for (int i = 0; i < N; i++)                                                                            \
                for (int j = 0; j < N; j++) m[i][j][w] = a[j * L->ars + i * L->acs];                               \
        }                                                                                                          \
        m_##T bad = lu_block_##T##_##N(m, piv);                                                                    \
        unsigned mask = 0;                                                                                         \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            T *f = L->x[w];                                                                                        \
            int *ip = L->y[w];                                                                                     \
            for (int j = 0; j < N; j++) {                                                                          \
                ip[j] = (int)piv[j][w] + 1;                                                                        \
                for (int i = 0; i < N; i++) f[i + j * N] = m[i][j][w];                                             \
            }                                                                                                      \
            mask |= (bad[w] != 0 ? 1u : 0u) << w;                                                                  \
        }                                                                                                          \
        return mask;                                                                                               \
    }                                                                                                              \
    /* getrs, one right-hand side: F column-major at a[w], pivots at b[w],   \
     * x[w] (n contiguous) in place */                                                                             \
    SMALL_V4 static unsigned getrs_lanes_##T##_##N(char trans, const tg_small_lanes *L) {                          \
        v_##T m[N][N], piv[N], v[N];                                                                               \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            const T *f = L->a[w], *x = L->x[w];                                                                    \
            const int *ip = L->b[w];                                                                               \
            for (int j = 0; j < N; j++) {                                                                          \
                piv[j][w] = (T)(ip[j] - 1);                                                                        \
                v[j][w] = x[j];                                                                                    \
                for (int i = 0; i < N; i++) m[i][j][w] = f[i + j * N];                                             \
            }                                                                                                      \
        }                                                                                                          \
        m_##T bad = getrs_block_##T##_##N(trans, m, piv, v);                                                       \
        unsigned mask = 0;                                                                                         \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            T *x = L->x[w];                                                                                        \
            for (int i = 0; i < N; i++) x[i] = v[i][w];                                                            \
            mask |= (bad[w] != 0 ? 1u : 0u) << w;                                                                  \
        }                                                                                                          \
        return mask;                                                                                               \
    }
DEFINE_SOLVE_LANES(float, 1)
DEFINE_SOLVE_LANES(float, 2)
DEFINE_SOLVE_LANES(float, 3)
DEFINE_SOLVE_LANES(float, 4)
DEFINE_SOLVE_LANES(double, 1)
DEFINE_SOLVE_LANES(double, 2)
DEFINE_SOLVE_LANES(double, 3)
DEFINE_SOLVE_LANES(double, 4)

unsigned tg__small_getrf_lanes(tg_dtype d, int n, const tg_small_lanes *L) {
    static unsigned (*const fns[2][4])(const tg_small_lanes *) = {
        {getrf_lanes_float_1, getrf_lanes_float_2, getrf_lanes_float_3, getrf_lanes_float_4},
        {getrf_lanes_double_1, getrf_lanes_double_2, getrf_lanes_double_3, getrf_lanes_double_4}};
    return fns[d == TG_F64][n - 1](L);
}

unsigned tg__small_getrs_lanes(tg_dtype d, int n, char trans, const tg_small_lanes *L) {
    static unsigned (*const fns[2][4])(char, const tg_small_lanes *) = {
        {getrs_lanes_float_1, getrs_lanes_float_2, getrs_lanes_float_3, getrs_lanes_float_4},
        {getrs_lanes_double_1, getrs_lanes_double_2, getrs_lanes_double_3, getrs_lanes_double_4}};
    return fns[d == TG_F64][n - 1](trans == 'N' ? 'N' : 'T', L);
}

bool tg__small_solve_lanes(tg_dtype d, int n, int64_t k, const tg_small_lanes *L) {
    static bool (*const fns[2][4])(const tg_small_lanes *, int64_t) = {
        {solve_lanes_float_1, solve_lanes_float_2, solve_lanes_float_3, solve_lanes_float_4},
        {solve_lanes_double_1, solve_lanes_double_2, solve_lanes_double_3, solve_lanes_double_4}};
    if (k <= TG_SMALL_KMAX && have_v4()) return fns[d == TG_F64][n - 1](L, k);
    bool bad = false;
    for (int w = 0; w < TG_SMALL_W; w++)
        bad |= tg__small_solve(d, n, k, L->a[w], L->ars, L->acs, L->b[w], L->brs, L->bcs, L->x[w]) != 0;
    return bad;
}

bool tg__small_lanes_available(void) { return have_v4(); }

/* ---- eigh: cyclic Jacobi --------------------------------------------------------
 * Each rotation zeroes a[p][q] with the stable form of the 2 x 2 symmetric
 * Schur decomposition (t the smaller root of t^2 + 2 tau t - 1 = 0,
 * tau = (a_qq - a_pp) / (2 a_pq)); sweeps run until the off-diagonal mass of
 * every lane is below (eps |A|_F)^2, which leaves the eigenvalues accurate
 * to a few eps |A|_F as LAPACK's are, or until MAX_SWEEPS (then the lane is
 * reported and its item goes to LAPACK). A sorting network orders w
 * ascending with V's columns. */
#define MAX_SWEEPS 15
#define EPS_double DBL_EPSILON
#define EPS_float FLT_EPSILON
/* compare-exchange pairs putting n <= 4 values in order */
static const int sort_net[4][5][2] = {
    {{0, 0}}, {{0, 1}}, {{0, 1}, {1, 2}, {0, 1}}, {{0, 1}, {2, 3}, {0, 2}, {1, 3}, {1, 2}}};
static const int sort_len[4] = {0, 1, 3, 5};
/* Jacobi rotation pairs in rounds of disjoint pairs ((0,1) with (2,3), ...):
 * the two rotations of a round do not touch each other's angle inputs, so
 * their chains of divisions and square roots overlap. */
static const int jacobi_pairs[4][6][2] = {
    {{0, 0}}, {{0, 1}}, {{0, 1}, {0, 2}, {1, 2}}, {{0, 1}, {2, 3}, {0, 2}, {1, 3}, {0, 3}, {1, 2}}};

/* The smaller root t of t^2 + 2 tau t - 1 = 0, tau = d / e, without
 * forming tau: sign(d) e / (|d| + sqrt(d^2 + e^2)) (sign(0) = +1). */
#define DEFINE_JACOBI_T(T)                                                                                         \
    SMALL_V4 static inline v_##T jacobi_t_##T(v_##T d, v_##T e) {                                                  \
        v_##T t = e / (VABS(T, d) + VSQRT_##T(d * d + e * e));                                                     \
        return SEL(T, d < 0, -t, t);                                                                               \
    }
DEFINE_JACOBI_T(double)
DEFINE_JACOBI_T(float)
#define JACOBI_T(T, d, e) jacobi_t_##T(d, e)

#define DEFINE_EIGH(T, N)                                                                                          \
    SMALL_V4 static unsigned eigh_lanes_##T##_##N(const tg_small_lanes *L, bool upper, bool vectors) {            \
        v_##T a[N][N], v[N][N], zero = {0}, one = zero + 1;                                                       \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            const T *p = L->a[w];                                                                                  \
            for (int i = 0; i < N; i++)                                                                            \
                for (int j = 0; j <= i; j++) {                                                                     \
                    T e = upper ? p[j * L->ars + i * L->acs] : p[i * L->ars + j * L->acs];                         \
                    a[i][j][w] = e;                                                                                \
                    a[j][i][w] = e;                                                                                \
                }                                                                                                  \
        }                                                                                                          \
        m_##T bad = {0};                                                                                           \
        v_##T norm2 = zero;                                                                                        \
        for (int i = 0; i < N; i++)                                                                                \
            for (int j = 0; j < N; j++) {                                                                          \
                bad |= VISNAN(T, a[i][j] - a[i][j]);      /* inf - inf and NaN: not finite */                      \
                norm2 += a[i][j] * a[i][j];                                                                        \
                v[i][j] = i == j ? one : zero;                                                                     \
            }                                                                                                      \
        v_##T tol = norm2 * (EPS_##T * EPS_##T);                                                                   \
        m_##T done = bad;                                                                                          \
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {                                                         \
            v_##T off = zero;                                                                                      \
            for (int p = 0; p < N; p++)                                                                            \
                for (int q = p + 1; q < N; q++) off += a[p][q] * a[p][q];                                          \
            done |= 2 * off <= tol;                                                                                \
            bool all = true;                                                                                       \
            for (int w = 0; w < TG_SMALL_W; w++) all &= done[w] != 0;                                              \
            if (all) break;                                                                                        \
            _Pragma("GCC unroll 6") for (int pr = 0; pr < N * (N - 1) / 2; pr++) {                                                         \
                    int p = jacobi_pairs[N - 1][pr][0], q = jacobi_pairs[N - 1][pr][1];                            \
                    v_##T apq = a[p][q];                                                                           \
                    v_##T t = JACOBI_T(T, a[q][q] - a[p][p], 2 * apq);                                             \
                    t = SEL(T, apq == 0, zero, t);          /* nothing to rotate (also 0 / 0) */                   \
                    v_##T c = VRSQRT_##T(one + t * t), s = t * c;                                                  \
                    a[p][p] -= t * apq;                                                                            \
                    a[q][q] += t * apq;                                                                            \
                    a[p][q] = a[q][p] = zero;                                                                      \
                    for (int r = 0; r < N; r++) {                                                                  \
                        if (r == p || r == q) continue;                                                            \
                        v_##T x = a[r][p], y = a[r][q];                                                            \
                        a[r][p] = a[p][r] = c * x - s * y;                                                         \
                        a[r][q] = a[q][r] = s * x + c * y;                                                         \
                    }                                                                                              \
                    for (int r = 0; r < N; r++) {                                                                  \
                        v_##T x = v[r][p], y = v[r][q];                                                            \
                        v[r][p] = c * x - s * y;                                                                   \
                        v[r][q] = s * x + c * y;                                                                   \
                    }                                                                                              \
                }                                                                                                  \
        }                                                                                                          \
        v_##T ev[N];                                                                                               \
        for (int i = 0; i < N; i++) ev[i] = a[i][i];                                                               \
        for (int k = 0; k < sort_len[N - 1]; k++) {                                                                \
            int i = sort_net[N - 1][k][0], j = sort_net[N - 1][k][1];                                              \
            m_##T sw = ev[i] > ev[j];                                                                              \
            v_##T lo = SEL(T, sw, ev[j], ev[i]), hi = SEL(T, sw, ev[i], ev[j]);                                    \
            ev[i] = lo;                                                                                            \
            ev[j] = hi;                                                                                            \
            for (int r = 0; r < N; r++) {                                                                          \
                v_##T x = v[r][i], y = v[r][j];                                                                    \
                v[r][i] = SEL(T, sw, y, x);                                                                        \
                v[r][j] = SEL(T, sw, x, y);                                                                        \
            }                                                                                                      \
        }                                                                                                          \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            T *wo = L->x[w];                                                                                       \
            for (int i = 0; i < N; i++) wo[i] = ev[i][w];                                                          \
            if (vectors) {                                                                                         \
                T *vo = L->y[w];                                                                                   \
                for (int i = 0; i < N; i++)                                                                        \
                    for (int j = 0; j < N; j++) vo[i * N + j] = v[i][j][w];                                        \
            }                                                                                                      \
        }                                                                                                          \
        unsigned mask = 0;                                                                                         \
        for (int w = 0; w < TG_SMALL_W; w++) mask |= (bad[w] != 0 || done[w] == 0 ? 1u : 0u) << w;                \
        return mask;                                                                                               \
    }
DEFINE_EIGH(float, 1)
DEFINE_EIGH(float, 2)
DEFINE_EIGH(float, 3)
DEFINE_EIGH(float, 4)
DEFINE_EIGH(double, 1)
DEFINE_EIGH(double, 2)
DEFINE_EIGH(double, 3)
DEFINE_EIGH(double, 4)

unsigned tg__small_eigh_lanes(tg_dtype d, int n, bool upper, bool vectors, const tg_small_lanes *L) {
    static unsigned (*const fns[2][4])(const tg_small_lanes *, bool, bool) = {
        {eigh_lanes_float_1, eigh_lanes_float_2, eigh_lanes_float_3, eigh_lanes_float_4},
        {eigh_lanes_double_1, eigh_lanes_double_2, eigh_lanes_double_3, eigh_lanes_double_4}};
    return fns[d == TG_F64][n - 1](L, upper, vectors);
}

/* ---- svd: one-sided Jacobi ------------------------------------------------------
 * Rotations from the right orthogonalise A's columns (Hestenes): for each
 * pair, alpha = |a_p|^2, beta = |a_q|^2, gamma = a_p . a_q and the rotation
 * of the 2 x 2 Gram matrix's Schur form; V accumulates them. A sweep with
 * every |gamma| <= eps sqrt(alpha beta) ends it; then S_j = |a_j| and
 * U_j = a_j / S_j, sorted by S descending. A lane whose smallest S is below
 * n eps S_max (rank deficient: those U columns are not determined) is
 * reported, as are non-finite and unconverged ones. */
/* |ga| > eps sqrt(al be): columns p, q not orthogonal to working accuracy.
 * f64 compares squares (no square root: their throughput bounds a sweep);
 * its lanes keep |A| within SVD_RANGE, so al be cannot overflow or
 * underflow (others go to LAPACK). f32's range would be too narrow for
 * that: it keeps the root. */
#define NOT_ORTHOGONAL_double(ga, al, be) ((ga) * (ga) > (EPS_double * EPS_double) * ((al) * (be)))
#define NOT_ORTHOGONAL_float(ga, al, be) (VABS(float, ga) > EPS_float * VSQRT_float((al) * (be)))
#define SVD_RANGE_HI_double 1e70
#define SVD_RANGE_LO_double 1e-70
#define SVD_RANGE_HI_float 3e38f
#define SVD_RANGE_LO_float 0.0f

#define DEFINE_SVD(T, N)                                                                                           \
    SMALL_V4 static unsigned svd_lanes_##T##_##N(const tg_small_lanes *L, bool vectors, void *const *vh) {         \
        v_##T a[N][N], v[N][N], zero = {0}, one = zero + 1;                                                       \
        m_##T bad = {0};                                                                                           \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            const T *p = L->a[w];                                                                                  \
            for (int i = 0; i < N; i++)                                                                            \
                for (int j = 0; j < N; j++) a[i][j][w] = p[i * L->ars + j * L->acs];                               \
        }                                                                                                          \
        for (int i = 0; i < N; i++)                                                                                \
            for (int j = 0; j < N; j++) {                                                                          \
                v_##T x = VABS(T, a[i][j]);                                                                        \
                bad |= VISNAN(T, a[i][j] - a[i][j]) | (x > SVD_RANGE_HI_##T) |                                     \
                       ((x < SVD_RANGE_LO_##T) & (x != 0));                                                        \
                v[i][j] = i == j ? one : zero;                                                                     \
            }                                                                                                      \
        m_##T done = bad;                                                                                          \
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {                                                         \
            /* converged lanes: every pair orthogonal to eps, checked up front \
             * (the independent dot products of all pairs cost less than the  \
             * chain of a sweep that would rotate by nothing) */              \
            m_##T open = {0};                                                                                      \
            _Pragma("GCC unroll 6") for (int pr = 0; pr < N * (N - 1) / 2; pr++) {                                                         \
                int p = jacobi_pairs[N - 1][pr][0], q = jacobi_pairs[N - 1][pr][1];                                \
                v_##T al = zero, be = zero, ga = zero;                                                             \
                for (int r = 0; r < N; r++) {                                                                      \
                    al += a[r][p] * a[r][p];                                                                       \
                    be += a[r][q] * a[r][q];                                                                       \
                    ga += a[r][p] * a[r][q];                                                                       \
                }                                                                                                  \
                open |= NOT_ORTHOGONAL_##T(ga, al, be);                                                            \
            }                                                                                                      \
            done |= ~open;                                                                                         \
            bool all = true;                                                                                       \
            for (int w = 0; w < TG_SMALL_W; w++) all &= done[w] != 0;                                              \
            if (all) break;                                                                                        \
            _Pragma("GCC unroll 6") for (int pr = 0; pr < N * (N - 1) / 2; pr++) {                                                         \
                    int p = jacobi_pairs[N - 1][pr][0], q = jacobi_pairs[N - 1][pr][1];                            \
                    v_##T al = zero, be = zero, ga = zero;                                                         \
                    for (int r = 0; r < N; r++) {                                                                  \
                        al += a[r][p] * a[r][p];                                                                   \
                        be += a[r][q] * a[r][q];                                                                   \
                        ga += a[r][p] * a[r][q];                                                                   \
                    }                                                                                              \
                    m_##T act = NOT_ORTHOGONAL_##T(ga, al, be);                                                    \
                    v_##T t = JACOBI_T(T, be - al, 2 * ga);                                                        \
                    t = SEL(T, act, t, zero);                                                                      \
                    v_##T c = VRSQRT_##T(one + t * t), s = t * c;                                                  \
                    for (int r = 0; r < N; r++) {                                                                  \
                        v_##T x = a[r][p], y = a[r][q];                                                            \
                        a[r][p] = c * x - s * y;                                                                   \
                        a[r][q] = s * x + c * y;                                                                   \
                    }                                                                                              \
                    if (vectors)                                                                                   \
                        for (int r = 0; r < N; r++) {                                                              \
                            v_##T x = v[r][p], y = v[r][q];                                                        \
                            v[r][p] = c * x - s * y;                                                               \
                            v[r][q] = s * x + c * y;                                                               \
                        }                                                                                          \
                }                                                                                                  \
        }                                                                                                          \
        v_##T sv[N], smax = zero, smin;                                                                            \
        for (int j = 0; j < N; j++) {                                                                              \
            v_##T n2 = zero;                                                                                       \
            for (int r = 0; r < N; r++) n2 += a[r][j] * a[r][j];                                                   \
            sv[j] = VSQRT_##T(n2);                                                                                 \
            smax = SEL(T, sv[j] > smax, sv[j], smax);                                                              \
        }                                                                                                          \
        smin = sv[0];                                                                                              \
        for (int j = 1; j < N; j++) smin = SEL(T, sv[j] < smin, sv[j], smin);                                      \
        if (vectors) bad |= smin <= (N * EPS_##T) * smax;                                                          \
        /* descending: the sorting network with the comparison reversed */                                       \
        for (int k = 0; k < sort_len[N - 1]; k++) {                                                                \
            int i = sort_net[N - 1][k][0], j = sort_net[N - 1][k][1];                                              \
            m_##T sw = sv[i] < sv[j];                                                                              \
            v_##T hi = SEL(T, sw, sv[j], sv[i]), lo = SEL(T, sw, sv[i], sv[j]);                                    \
            sv[i] = hi;                                                                                            \
            sv[j] = lo;                                                                                            \
            if (vectors)                                                                                           \
                for (int r = 0; r < N; r++) {                                                                      \
                    v_##T x = a[r][i], y = a[r][j];                                                                \
                    a[r][i] = SEL(T, sw, y, x);                                                                    \
                    a[r][j] = SEL(T, sw, x, y);                                                                    \
                    x = v[r][i], y = v[r][j];                                                                      \
                    v[r][i] = SEL(T, sw, y, x);                                                                    \
                    v[r][j] = SEL(T, sw, x, y);                                                                    \
                }                                                                                                  \
        }                                                                                                          \
        if (vectors) {                       /* U = A V / S, one division per column */                        \
            for (int j = 0; j < N; j++) {                                                                          \
                v_##T rs = one / sv[j];                                                                            \
                for (int i = 0; i < N; i++) a[i][j] *= rs;                                                         \
            }                                                                                                      \
        }                                                                                                          \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            T *so = L->x[w];                                                                                       \
            for (int i = 0; i < N; i++) so[i] = sv[i][w];                                                          \
            if (vectors) {                                                                                         \
                T *uo = L->y[w], *vo = vh[w];                                                                      \
                for (int i = 0; i < N; i++)                                                                        \
                    for (int j = 0; j < N; j++) {                                                                  \
                        uo[i * N + j] = a[i][j][w];                                                                \
                        vo[i * N + j] = v[j][i][w];                                                                \
                    }                                                                                              \
            }                                                                                                      \
        }                                                                                                          \
        unsigned mask = 0;                                                                                         \
        for (int w = 0; w < TG_SMALL_W; w++) mask |= (bad[w] != 0 || done[w] == 0 ? 1u : 0u) << w;                \
        return mask;                                                                                               \
    }
DEFINE_SVD(float, 1)
DEFINE_SVD(float, 2)
DEFINE_SVD(float, 3)
DEFINE_SVD(float, 4)
DEFINE_SVD(double, 1)
DEFINE_SVD(double, 2)
DEFINE_SVD(double, 3)
DEFINE_SVD(double, 4)

unsigned tg__small_svd_lanes(tg_dtype d, int n, bool vectors, const tg_small_lanes *L, void *const *vh) {
    static unsigned (*const fns[2][4])(const tg_small_lanes *, bool, void *const *) = {
        {svd_lanes_float_1, svd_lanes_float_2, svd_lanes_float_3, svd_lanes_float_4},
        {svd_lanes_double_1, svd_lanes_double_2, svd_lanes_double_3, svd_lanes_double_4}};
    return fns[d == TG_F64][n - 1](L, vectors, vh);
}

/* ---- qr: Householder ------------------------------------------------------------- */
#define SAFE_LO_double 1e-140
#define SAFE_HI_double 1e140
#define SAFE_LO_float 1e-17f
#define SAFE_HI_float 1e17f

#define DEFINE_QR(T, N)                                                                                            \
    SMALL_V4 static unsigned qr_lanes_##T##_##N(const tg_small_lanes *L) {                                         \
        v_##T a[N][N], q[N][N], tau[N], zero = {0}, one = zero + 1;                                                \
        m_##T bad = {0};                                                                                           \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            const T *p = L->a[w];                                                                                  \
            for (int i = 0; i < N; i++)                                                                            \
                for (int j = 0; j < N; j++) a[i][j][w] = p[i * L->ars + j * L->acs];                               \
        }                                                                                                          \
        for (int i = 0; i < N; i++)                                                                                \
            for (int j = 0; j < N; j++) {                                                                          \
                v_##T x = VABS(T, a[i][j]);                                                                        \
                bad |= VISNAN(T, a[i][j] - a[i][j]) | (x > SAFE_HI_##T) | ((x < SAFE_LO_##T) & (x != 0));          \
            }                                                                                                      \
        for (int j = 0; j < N; j++) {                                                                              \
            v_##T x2 = zero;                                                                                       \
            for (int i = j + 1; i < N; i++) x2 += a[i][j] * a[i][j];                                               \
            v_##T alpha = a[j][j], beta = VSQRT_##T(alpha * alpha + x2);                                           \
            beta = SEL(T, alpha < 0, beta, -beta);            /* -sign(alpha) |(alpha, x)|, sign(0) = + */         \
            m_##T refl = x2 != 0;                                                                                  \
            tau[j] = SEL(T, refl, (beta - alpha) / beta, zero);                                                    \
            v_##T scale = SEL(T, refl, one / (alpha - beta), zero);                                                \
            for (int i = j + 1; i < N; i++) a[i][j] *= scale;                                                      \
            a[j][j] = SEL(T, refl, beta, alpha);                                                                   \
            for (int c = j + 1; c < N; c++) {                                                                      \
                v_##T s = a[j][c];                                                                                 \
                for (int i = j + 1; i < N; i++) s += a[i][j] * a[i][c];                                            \
                s *= tau[j];                                                                                       \
                a[j][c] -= s;                                                                                      \
                for (int i = j + 1; i < N; i++) a[i][c] -= a[i][j] * s;                                            \
            }                                                                                                      \
        }                                                                                                          \
        /* Q = H_0 ... H_{n-1} I, applied from the last reflector back */                                         \
        for (int i = 0; i < N; i++)                                                                                \
            for (int c = 0; c < N; c++) q[i][c] = i == c ? one : zero;                                             \
        for (int j = N - 1; j >= 0; j--)                                                                           \
            for (int c = j; c < N; c++) {                                                                          \
                v_##T s = q[j][c];                                                                                 \
                for (int i = j + 1; i < N; i++) s += a[i][j] * q[i][c];                                            \
                s *= tau[j];                                                                                       \
                q[j][c] -= s;                                                                                      \
                for (int i = j + 1; i < N; i++) q[i][c] -= a[i][j] * s;                                            \
            }                                                                                                      \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            T *qo = L->x[w], *ro = L->y[w];                                                                        \
            for (int c = 0; c < N; c++)                                                                            \
                for (int i = 0; i < N; i++) {                                                                      \
                    qo[i + c * N] = q[i][c][w];                                                                    \
                    ro[i + c * N] = i <= c ? a[i][c][w] : 0;                                                       \
                }                                                                                                  \
        }                                                                                                          \
        unsigned mask = 0;                                                                                         \
        for (int w = 0; w < TG_SMALL_W; w++) mask |= (bad[w] != 0 ? 1u : 0u) << w;                                \
        return mask;                                                                                               \
    }
DEFINE_QR(float, 1)
DEFINE_QR(float, 2)
DEFINE_QR(float, 3)
DEFINE_QR(float, 4)
DEFINE_QR(double, 1)
DEFINE_QR(double, 2)
DEFINE_QR(double, 3)
DEFINE_QR(double, 4)

unsigned tg__small_qr_lanes(tg_dtype d, int n, const tg_small_lanes *L) {
    static unsigned (*const fns[2][4])(const tg_small_lanes *) = {
        {qr_lanes_float_1, qr_lanes_float_2, qr_lanes_float_3, qr_lanes_float_4},
        {qr_lanes_double_1, qr_lanes_double_2, qr_lanes_double_3, qr_lanes_double_4}};
    return fns[d == TG_F64][n - 1](L);
}
