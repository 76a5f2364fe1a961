/* Kernels for real matrices of order 1 to 4 (f32, f64), the batched
 * small-matrix case (docs/linalg.md, "Small matrices").
 *
 * A batch of 2 x 2 or 4 x 4 problems spends 100-400 ns per item in a LAPACK
 * call (argument and NaN checks, workspace, blocked code paths built for
 * large n). Two kinds of kernel replace it:
 *   - scalar getrf / getrs / solve, one item per call, loops of constant
 *     bounds that the compiler unrolls (any CPU);
 *   - "lanes" kernels (solve, getrf, getrs here; eigh, svd, qr in
 *     small_decomp.c) that run TG_SMALL_W items at once, item w in lane w
 *     of AVX-512 vectors (small_lanes.h).
 * Each reproduces what its LAPACK path reports: the same info codes (NaN
 * arguments, singular pivots) and the same conventions (partial pivoting on
 * the first largest entry, Householder vectors with LAPACK's sign of beta).
 * Results equal LAPACK's to rounding, not bitwise; the scalar and lanes LU
 * equal each other bitwise (no FMA in these files: CMakeLists.txt). */
#include <string.h>

#include "linalg/small_lanes.h"

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
#define DEFINE_SMALL_SOLVE(T)                                                                                   \
    static int small_solve_##T(tg_dtype d, int n, int64_t k, const T *a, int64_t ars, int64_t acs, const T *b,  \
                               int64_t brs, int64_t bcs, T *x) {                                                \
        int ipiv[4];                                                                                            \
        T f[16], col[4];                                                                                        \
        for (int i = 0; i < n; i++)                                                                             \
            for (int j = 0; j < n; j++) f[i * n + j] = a[i * ars + j * acs];                                    \
        int info = tg__small_getrf(d, n, f, ipiv);                                                              \
        for (int64_t c = 0; c < k && !info; c++) {                                                              \
            for (int i = 0; i < n; i++) col[i] = b[i * brs + c * bcs];                                          \
            info = tg__small_getrs(d, 'T', n, 1, f, ipiv, col);                                                 \
            for (int i = 0; i < n && !info; i++) x[i * k + c] = col[i];                                         \
        }                                                                                                       \
        return info;                                                                                            \
    }
DEFINE_SMALL_SOLVE(float)
DEFINE_SMALL_SOLVE(double)

int tg__small_solve(tg_dtype d, int n, int64_t k, const void *a, int64_t ars, int64_t acs, const void *b,
                    int64_t brs, int64_t bcs, void *x) {
    if (d == TG_F64) return small_solve_double(d, n, k, a, ars, acs, b, brs, bcs, x);
    return small_solve_float(d, n, k, a, ars, acs, b, brs, bcs, x);
}

/* ---- solve, W items at a time ----------------------------------------------
 * The scalar kernel above runs one chain of dependent divisions and
 * data-dependent pivot branches per item (127 ns for 4 x 4); the lanes
 * (small_lanes.h) run TG_SMALL_W of them side by side. */

/* getrf of W matrices (m holds each lane's M = A^T, row i column j): LU in
 * place, piv[j] the row swapped with j at step j. A lane is bad for a NaN
 * or a zero pivot. The arithmetic is the scalar getrf's. */
#define DEFINE_LU_BLOCK(T, N)                                                                                       \
    SMALL_V4 static inline __attribute__((always_inline)) m_##T lu_block_##T##_##N(v_##T m[N][N], v_##T piv[N]) {                                       \
        v_##T zero = {0};                                                                                          \
        m_##T bad = {0};                                                                                           \
        _Pragma("GCC unroll 8") for (int i = 0; i < N; i++)                                                                                \
            _Pragma("GCC unroll 8") for (int j = 0; j < N; j++) bad |= VISNAN(T, m[i][j]);                                                 \
        _Pragma("GCC unroll 8") for (int j = 0; j < N; j++) {                                                                              \
            v_##T big = VABS(T, m[j][j]);                                                                          \
            piv[j] = zero + (T)j;                                                                                  \
            _Pragma("GCC unroll 8") for (int i = j + 1; i < N; i++) {                                                                      \
                v_##T v = VABS(T, m[i][j]);                                                                        \
                m_##T gt = v > big;                                                                                \
                big = SEL(T, gt, v, big);                                                                          \
                piv[j] = SEL(T, gt, zero + (T)i, piv[j]);                                                          \
            }                                                                                                      \
            bad |= big == 0;                                                                                       \
            _Pragma("GCC unroll 8") for (int i = j + 1; i < N; i++) {                                                                      \
                m_##T s = piv[j] == (T)i;                                                                          \
                _Pragma("GCC unroll 8") for (int c = 0; c < N; c++) {                                                                      \
                    v_##T top = m[j][c], row = m[i][c];                                                            \
                    m[j][c] = SEL(T, s, row, top);                                                                 \
                    m[i][c] = SEL(T, s, top, row);                                                                 \
                }                                                                                                  \
            }                                                                                                      \
            /* getrf's multipliers: by the reciprocal, by division under a tiny   \
             * pivot (divided only when some lane has one: a division costs    \
             * 16 cycles of the divider, the whole block's LU about 40) */        \
            if (j == N - 1) break;                                                                                 \
            v_##T r = 1 / m[j][j];                                                                                 \
            m_##T tiny = big < TINY_##T;                                                                           \
            bool any_tiny = ANY_LANE_##T(tiny);                                                                    \
            _Pragma("GCC unroll 8") for (int i = j + 1; i < N; i++) {                                                                      \
                m[i][j] = any_tiny ? SEL(T, tiny, m[i][j] / m[j][j], m[i][j] * r) : m[i][j] * r;                   \
                _Pragma("GCC unroll 8") for (int c = j + 1; c < N; c++) m[i][c] -= m[i][j] * m[j][c];                                      \
            }                                                                                                      \
        }                                                                                                          \
        return bad;                                                                                                \
    }

/* getrs on W factorisations, one right-hand side v per lane: trans 'T'
 * solves M^T x = b (A x = b for M = A^T): U^T w = b, L^T z = w, x = P z;
 * 'N' solves M x = b: P^T b, then L, then U. NaN in b marks the lane. */
#define DEFINE_GETRS_BLOCK(T, N)                                                                                    \
    SMALL_V4 static inline __attribute__((always_inline)) m_##T getrs_block_##T##_##N(char trans, v_##T m[N][N], const v_##T piv[N], v_##T v[N]) {       \
        m_##T bad = {0};                                                                                           \
        _Pragma("GCC unroll 8") for (int i = 0; i < N; i++) bad |= VISNAN(T, v[i]);                                                        \
        if (trans == 'N') {                                                                                        \
            _Pragma("GCC unroll 8") for (int j = 0; j < N; j++)                                                                            \
                _Pragma("GCC unroll 8") for (int i = j + 1; i < N; i++) {                                                                  \
                    m_##T s = piv[j] == (T)i;                                                                      \
                    v_##T top = v[j], row = v[i];                                                                  \
                    v[j] = SEL(T, s, row, top);                                                                    \
                    v[i] = SEL(T, s, top, row);                                                                    \
                }                                                                                                  \
            _Pragma("GCC unroll 8") for (int i = 1; i < N; i++)                                                                            \
                _Pragma("GCC unroll 8") for (int l = 0; l < i; l++) v[i] -= m[i][l] * v[l];                                                \
            _Pragma("GCC unroll 8") for (int i = N - 1; i >= 0; i--) {                                                                     \
                _Pragma("GCC unroll 8") for (int l = i + 1; l < N; l++) v[i] -= m[i][l] * v[l];                                            \
                v[i] /= m[i][i];                                                                                   \
            }                                                                                                      \
            return bad;                                                                                            \
        }                                                                                                          \
        _Pragma("GCC unroll 8") for (int i = 0; i < N; i++) {                                                                              \
            _Pragma("GCC unroll 8") for (int l = 0; l < i; l++) v[i] -= m[l][i] * v[l];                                                    \
            v[i] /= m[i][i];                                                                                       \
        }                                                                                                          \
        _Pragma("GCC unroll 8") for (int i = N - 2; i >= 0; i--)                                                                           \
            _Pragma("GCC unroll 8") for (int l = i + 1; l < N; l++) v[i] -= m[l][i] * v[l];                                                \
        _Pragma("GCC unroll 8") for (int j = N - 1; j >= 0; j--)                                                                           \
            _Pragma("GCC unroll 8") for (int i = j + 1; i < N; i++) {                                                                      \
                m_##T s = piv[j] == (T)i;                                                                          \
                v_##T top = v[j], row = v[i];                                                                      \
                v[j] = SEL(T, s, row, top);                                                                        \
                v[i] = SEL(T, s, top, row);                                                                        \
            }                                                                                                      \
        return bad;                                                                                                \
    }

/* Whether any lane's mask is set: one test instruction (a loop over the
 * lanes became eight extracts). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
SMALL_V4 static inline bool any_lane_d(m_double m) { return _mm512_test_epi64_mask((__m512i)m, (__m512i)m) != 0; }
SMALL_V4 static inline bool any_lane_f(m_float m) { return !_mm256_testz_si256((__m256i)m, (__m256i)m); }
#else
static inline bool any_lane_d(m_double m) {
    bool any = false;
    for (int w = 0; w < TG_SMALL_W; w++) any |= m[w] != 0;
    return any;
}
static inline bool any_lane_f(m_float m) {
    bool any = false;
    for (int w = 0; w < TG_SMALL_W; w++) any |= m[w] != 0;
    return any;
}
#endif
#define ANY_LANE_double any_lane_d
#define ANY_LANE_float any_lane_f

/* A packed batch of eight 4 x 4 f64 systems with one right-hand side each
 * (the common batched solve) moves between memory and lanes by 8 x 8
 * transposes in registers (24 shuffles each) instead of 128 + 32 element
 * inserts and 32 extracts. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SMALL_TRANSPOSE 1
/* c[e][w] = r[w][e] for 8 x 8 doubles */
SMALL_V4 static inline void transpose8_d(const __m512d r[8], __m512d c[8]) {
    for (int k = 0; k < 8; k++) c[k] = r[k];
    tg__transpose8x8_pd(c);
}
/* m[i][j] = A_w[j][i] and y[i] = b_w[i] for the packed items at a, b */
SMALL_V4 static void packed_load_d4(void *mv, void *yv, const double *a, const double *b) {
    v_double (*m)[4] = mv, *y = yv;
    __m512d r[8], c[8];
    for (int half = 0; half < 2; half++) {   /* elements 8 half .. 8 half + 7 of each matrix */
        for (int w = 0; w < 8; w++) r[w] = _mm512_loadu_pd(a + 16 * w + 8 * half);
        transpose8_d(r, c);
        for (int e = 0; e < 8; e++) {
            int el = 8 * half + e;           /* A[el / 4][el % 4] = m[el % 4][el / 4] */
            m[el % 4][el / 4] = (v_double)c[e];
        }
    }
    for (int w = 0; w < 8; w++) r[w] = _mm512_castpd256_pd512(_mm256_loadu_pd(b + 4 * w));
    transpose8_d(r, c);
    for (int i = 0; i < 4; i++) y[i] = (v_double)c[i];
}
/* x_w[i] = y[i][w] for the packed items at x */
SMALL_V4 static void packed_store_d4(const void *yv, double *x) {
    const v_double *y = yv;
    __m512d r[8], c[8];
    for (int i = 0; i < 4; i++) r[i] = (__m512d)y[i];
    for (int i = 4; i < 8; i++) r[i] = _mm512_setzero_pd();
    transpose8_d(r, c);
    for (int w = 0; w < 8; w++) _mm256_storeu_pd(x + 4 * w, _mm512_castpd512_pd256(c[w]));
}
#else
#define SMALL_TRANSPOSE 0
static void packed_load_d4(void *mv, void *yv, const double *a, const double *b) { (void)mv; (void)yv; (void)a; (void)b; }
static void packed_store_d4(const void *yv, double *x) { (void)yv; (void)x; }
#endif

/* Solve: gathers lane w's A^T (the scalar path's factorisation, to the bit)
 * and its k right-hand sides, factors, solves, and writes X row-major
 * (n x k). A packed batch (consecutive row-major items) is read with
 * constant offsets, or by transposes (packed_load_d4) for 4 x 4 f64 with
 * one right-hand side. */
#define DEFINE_SOLVE_LANES(T, N)                                                                                    \
    DEFINE_LU_BLOCK(T, N)                                                                                          \
    DEFINE_GETRS_BLOCK(T, N)                                                                                       \
    SMALL_V4 static bool solve_lanes_##T##_##N(const tg_small_lanes *L, int64_t k) {                               \
        v_##T m[N][N], y[TG_SMALL_KMAX][N], piv[N];                                                                \
        bool d4 = SMALL_TRANSPOSE && L->packed && sizeof(T) == 8 && N == 4 && k == 1;                              \
        if (d4) {                                                                                                  \
            packed_load_d4(m, y[0], L->a[0], L->b[0]);                                                             \
        } else if (L->packed) {                                                                                    \
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
        if (d4) {                                                                                                  \
            packed_store_d4(y[0], L->x[0]);                                                                        \
        } else {                                                                                                   \
            for (int w = 0; w < TG_SMALL_W; w++) {                                                                 \
                T *x = L->x[w];                                                                                    \
                for (int i = 0; i < N; i++)                                                                        \
                    for (int64_t c = 0; c < k; c++) x[i * k + c] = y[c][i][w];                                     \
            }                                                                                                      \
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
SMALL_FOR_EACH(DEFINE_SOLVE_LANES)

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
