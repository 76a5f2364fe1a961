/* Lanes kernels of linalg's orthogonal decompositions for real matrices of
 * order 1 to 4 (docs/linalg.md, "Small matrices"): eigh by cyclic Jacobi,
 * svd by one-sided Jacobi, qr by Householder reflections with LAPACK's
 * conventions. Each returns the mask of lanes it cannot vouch for; their
 * items run through LAPACK (eigh.c, svd.c, qr.c). */
#include "linalg/small_lanes.h"
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
        return LANE_MASK_##T(bad | ~done);                                                                         \
    }
SMALL_FOR_EACH(DEFINE_EIGH)

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
/* a[i][j] = lane w's A (strides ars, acs), and bad |= the lanes holding a
 * value that is not finite, above HI in magnitude, or nonzero below LO
 * (svd's and qr's entry check: those lanes run through LAPACK). */
#define LOAD_CHECKED(T, N, L, a, bad, HI, LO)                                                                      \
    do {                                                                                                           \
        for (int w = 0; w < TG_SMALL_W; w++) {                                                                     \
            const T *p = (L)->a[w];                                                                                \
            for (int i = 0; i < N; i++)                                                                            \
                for (int j = 0; j < N; j++) a[i][j][w] = p[i * (L)->ars + j * (L)->acs];                           \
        }                                                                                                          \
        for (int i = 0; i < N; i++)                                                                                \
            for (int j = 0; j < N; j++) {                                                                          \
                v_##T x = VABS(T, a[i][j]);                                                                        \
                bad |= VISNAN(T, a[i][j] - a[i][j]) | (x > HI) | ((x < LO) & (x != 0));                            \
            }                                                                                                      \
    } while (0)

#define SVD_RANGE_HI_double 1e70
#define SVD_RANGE_LO_double 1e-70
#define SVD_RANGE_HI_float 3e38f
#define SVD_RANGE_LO_float 0.0f

#define DEFINE_SVD(T, N)                                                                                           \
    SMALL_V4 static unsigned svd_lanes_##T##_##N(const tg_small_lanes *L, bool vectors, void *const *vh) {         \
        v_##T a[N][N], v[N][N], zero = {0}, one = zero + 1;                                                       \
        m_##T bad = {0};                                                                                           \
        LOAD_CHECKED(T, N, L, a, bad, SVD_RANGE_HI_##T, SVD_RANGE_LO_##T);                                         \
        for (int i = 0; i < N; i++)                                                                                \
            for (int j = 0; j < N; j++) v[i][j] = i == j ? one : zero;                                             \
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
        return LANE_MASK_##T(bad | ~done);                                                                         \
    }
SMALL_FOR_EACH(DEFINE_SVD)

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
        LOAD_CHECKED(T, N, L, a, bad, SAFE_HI_##T, SAFE_LO_##T);                                                   \
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
        return LANE_MASK_##T(bad);                                                                                 \
    }
SMALL_FOR_EACH(DEFINE_QR)

unsigned tg__small_qr_lanes(tg_dtype d, int n, const tg_small_lanes *L) {
    static unsigned (*const fns[2][4])(const tg_small_lanes *) = {
        {qr_lanes_float_1, qr_lanes_float_2, qr_lanes_float_3, qr_lanes_float_4},
        {qr_lanes_double_1, qr_lanes_double_2, qr_lanes_double_3, qr_lanes_double_4}};
    return fns[d == TG_F64][n - 1](L);
}
