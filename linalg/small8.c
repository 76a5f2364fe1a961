/* Within-matrix Jacobi kernels for one real matrix of order 5 to 8
 * (docs/linalg.md, "Small matrices"): svd (square) and eigh, both by
 * one-sided Jacobi (Hestenes), and square qr by Householder reflections
 * (qr8 below). Unlike the lanes kernels (small_decomp.c:
 * eight batch items side by side), one matrix fills the vectors: row i of
 * the 8 x 8 matrix is one AVX-512 register, lane j its column j. A round
 * rotates four disjoint column pairs at once (the circle method's
 * round-robin: seven rounds cover the 28 pairs of a sweep): lanes p and q of
 * a vector carry pair (p, q)'s quantities, the dot products a_p . a_q of
 * all four pairs are the lane-wise sum over the rows of r * perm(r) (perm
 * swaps p and q for every pair), and a rotation is one multiply-add per
 * element, r += t' perm(r) (scaled rotations, round8).
 *   svd: S_j = |a_j| of the orthogonalised columns, U_j = a_j / S_j, V the
 * accumulated rotations, sorted by S descending.
 *   eigh: the columns of B = A + sigma I, sigma = 2 |A|_F: B is positive
 * definite, so its singular values are w + sigma and its left and right
 * singular vectors are A's eigenvectors (the shift also keeps a pair w, -w
 * apart): w_j = |b_j| - sigma, V_j = b_j / |b_j|, ascending; no rotations
 * are accumulated. Its eigenvalues are accurate to a few eps |A|_F (LAPACK:
 * eps |A|_2).
 * Orders 5-7 are padded to 8 with zeros: a pair with a padded column has a
 * zero dot product and is never rotated, so the padding stays out and is
 * dropped (sorted last). f32 runs in f64 (converted in and out) with f32's
 * tolerance. Each kernel returns nonzero when it cannot vouch for the
 * result (non-finite input, no convergence after MAX_SWEEPS, values out of
 * range, svd with vectors: S_min <= n eps S_max): the caller then runs the
 * item through LAPACK, which gives its result or its error. Built with
 * target("arch=x86-64-v4") and called only where
 * tg__small_lanes_available(); FMA contraction is on (CMakeLists.txt):
 * nothing here needs bitwise agreement with another path. */
#include <string.h>

#include "linalg/small_lanes.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)

#define MAX_SWEEPS 15
/* svd: entries beyond these go to LAPACK (|a_p|^2 |a_q|^2 of the
 * orthogonality test must neither overflow nor underflow); eigh: |A|_F
 * beyond HI (its B would overflow the same test) */
#define RANGE_HI 1e70
#define RANGE_LO 1e-70

typedef __m512d vd;

/* Round k pairs lane i with part8[k][i] (the circle method: 0 with k + 1,
 * the others around a circle of seven). */
static const long long part8[7][8] __attribute__((aligned(64))) = {
    {1, 0, 7, 6, 5, 4, 3, 2}, {2, 3, 0, 1, 7, 6, 5, 4}, {3, 5, 4, 0, 2, 1, 7, 6}, {4, 7, 6, 5, 0, 3, 2, 1},
    {5, 2, 1, 7, 6, 0, 4, 3}, {6, 4, 3, 2, 1, 7, 0, 5}, {7, 6, 5, 4, 3, 2, 1, 0}};

#define V4 SMALL_V4 __attribute__((always_inline)) static inline

V4 vd perm8(vd x, __m512i idx) { return _mm512_permutexvar_pd(idx, x); }
/* +1 in the lanes of the pairs' smaller index p, -1 at q */
V4 vd pair_sign(__m512i idx) {
    __mmask8 lo = _mm512_cmplt_epi64_mask(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), idx);
    return _mm512_mask_blend_pd(lo, _mm512_set1_pd(-1.0), _mm512_set1_pd(1.0));
}
/* Lane-wise sum of x[0..7] (a tree: three additions deep). */
V4 vd sum8(const vd *x) { return ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7])); }
/* ix[k] = the lane of the k-th smallest key (ties by lane), for a
 * permutexvar that sorts. Ranks by comparisons, no branches. */
V4 __m512i sort_index(vd key) {
    __m512i rank = _mm512_setzero_si512(), one = _mm512_set1_epi64(1);
    for (int j = 0; j < 8; j++) {
        vd kj = perm8(key, _mm512_set1_epi64(j));
        __mmask8 lt = _mm512_cmp_pd_mask(kj, key, _CMP_LT_OQ);
        __mmask8 eq = _mm512_cmp_pd_mask(kj, key, _CMP_EQ_OQ) & (__mmask8)(0xffu << (j + 1));
        rank = _mm512_mask_add_epi64(rank, lt | eq, rank, one);
    }
    /* the inverse permutation, ix[rank_j] = j, in registers */
    __m512i ix = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), iota = ix;
    for (int j = 0; j < 8; j++) {
        __mmask8 at = _mm512_cmpeq_epi64_mask(_mm512_permutexvar_epi64(_mm512_set1_epi64(j), rank), iota);
        ix = _mm512_mask_mov_epi64(ix, at, _mm512_set1_epi64(j));
    }
    return ix;
}

/* One round: the rotations of the four pairs of round k, where the pair is
 * not orthogonal to working accuracy (a_p . a_q)^2 > eps^2 |a_p|^2 |a_q|^2.
 * Fast (scaled) rotations: column j is d_j r_j, so that a rotation
 * a_p' = c (a_p - t a_q), a_q' = c (a_q + t a_p) is one multiply-add per
 * element, r_p' = r_p - t (d_q / d_p) r_q (r_q' alike), and c goes into the
 * scales, d' = c d. nrm holds |a_j|^2, kept up to date by the Hestenes
 * formulas (|a_p|^2 - t a_p . a_q, |a_q|^2 + t a_p . a_q) within a sweep. The
 * rotation, with d = |a_q|^2 - |a_p|^2 and g = a_p . a_q (the same bits in
 * lanes p and q): t = tan(theta) = sign(d) g / u, u = |d| / 2 + sqrt(d^2 / 4
 * + g^2), c = u / sqrt(u^2 + g^2) (AVX-512's 14-bit reciprocal square root
 * and two Newton steps: c^2 (1 + t^2) = 1 to a few ulps). V, when vectors,
 * takes the same scaled rotations. Returns the mask of rotated lanes. */
V4 __mmask8 round8(int k, vd *r, vd *v, vd *nrm, vd *d, double eps2, bool vectors) {
    const __m512i idx = _mm512_load_si512((const void *)part8[k]);
    const vd sg = pair_sign(idx), zero = _mm512_setzero_pd();
    vd pr[8], g[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        pr[i] = perm8(r[i], idx);
        g[i] = r[i] * pr[i];
    }
    vd pd = perm8(*d, idx), pn = perm8(*nrm, idx);
    vd rat = (-sg) * pd / *d;                                     /* -d_q / d_p at p, d_p / d_q at q */
    vd ga = sum8(g) * (*d * pd);
    __mmask8 act = _mm512_cmp_pd_mask(ga * ga, eps2 * (*nrm * pn), _CMP_GT_OQ);
    if (!act) return 0;
    vd hd = (0.5 * sg) * (pn - *nrm), g2 = ga * ga;
    vd u = _mm512_abs_pd(hd) + _mm512_sqrt_pd(hd * hd + g2);
    vd sgg = _mm512_mask_sub_pd(ga, _mm512_cmp_pd_mask(hd, zero, _CMP_LT_OQ), zero, ga);   /* sign(d) g */
    vd t = _mm512_maskz_div_pd(act, sgg, u);
    vd h = u * u + g2;
    vd y = _mm512_rsqrt14_pd(h), hh = 0.5 * h;
    y = y * (1.5 - hh * (y * y));
    y = y * (1.5 - hh * (y * y));
    *d = _mm512_mask_mul_pd(*d, act, *d, u * y);
    *nrm -= sg * t * ga;
    vd tr = t * rat;
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) r[i] += tr * pr[i];
    if (vectors) {
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) v[i] += tr * perm8(v[i], idx);
    }
    return act;
}

/* One-sided Jacobi on the rows r (columns orthogonalised), V in v when
 * vectors. Returns 0, or 1 when not converged; nrm out: |a_j|^2. */
V4 int jacobi8(vd *r, vd *v, double eps, bool vectors, vd *nrm) {
    const vd zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
    if (vectors)
        for (int i = 0; i < 8; i++) v[i] = _mm512_mask_mov_pd(zero, (__mmask8)(1u << i), one);
    double eps2 = eps * eps;
    vd d = one;
    for (int sweep = 0;; sweep++) {
        vd sq[8];
        for (int i = 0; i < 8; i++) sq[i] = r[i] * r[i];
        *nrm = sum8(sq) * (d * d);
        if (sweep == MAX_SWEEPS) return 1;
        __mmask8 any = round8(0, r, v, nrm, &d, eps2, vectors);
        any |= round8(1, r, v, nrm, &d, eps2, vectors);
        any |= round8(2, r, v, nrm, &d, eps2, vectors);
        any |= round8(3, r, v, nrm, &d, eps2, vectors);
        any |= round8(4, r, v, nrm, &d, eps2, vectors);
        any |= round8(5, r, v, nrm, &d, eps2, vectors);
        any |= round8(6, r, v, nrm, &d, eps2, vectors);
        if (!any) break;
    }
    vd sq[8];
    for (int i = 0; i < 8; i++) {
        r[i] *= d;
        sq[i] = r[i] * r[i];
        if (vectors) v[i] *= d;
    }
    *nrm = sum8(sq);
    return 0;
}

/* Lanes >= n of an order-n matrix. */
#define PAD_MASK(n) ((__mmask8)(0xffu << (n)))

/* svd of the rows r (zero-padded to 8 x 8). s: S descending (lanes < n);
 * with vectors u: rows of U, vt: rows of V^T (the first n of each). */
SMALL_V4 static int svd8(vd *r, int n, double eps, bool vectors, vd *s, vd *u, vd *vt) {
    const vd zero = _mm512_setzero_pd();
    __mmask8 bad = 0;
    for (int i = 0; i < 8; i++) {
        vd x = _mm512_abs_pd(r[i]);
        bad |= _mm512_cmp_pd_mask(x, _mm512_set1_pd(RANGE_HI), _CMP_NLE_UQ) |
               (_mm512_cmp_pd_mask(x, _mm512_set1_pd(RANGE_LO), _CMP_LT_OQ) & _mm512_cmp_pd_mask(x, zero, _CMP_NEQ_UQ));
    }
    if (bad) return 1;
    vd v[8], nrm;
    if (jacobi8(r, v, eps, vectors, &nrm)) return 1;
    vd sv = _mm512_sqrt_pd(nrm);
    if (_mm512_cmp_pd_mask(sv, sv, _CMP_UNORD_Q)) return 1;
    /* descending, the padding last */
    __m512i ix = sort_index(_mm512_mask_mov_pd(-sv, PAD_MASK(n), _mm512_set1_pd(INFINITY)));
    *s = perm8(sv, ix);
    if (!vectors) return 0;
    double so[8];
    _mm512_storeu_pd(so, *s);
    if (!(so[n - 1] > n * eps * so[0])) return 1;   /* rank deficient: U from LAPACK */
    vd rs = 1.0 / sv;
    for (int i = 0; i < 8; i++) u[i] = perm8(r[i] * rs, ix);
    tg__transpose8x8_pd(v);
    double vb[8][8];
    for (int i = 0; i < 8; i++) _mm512_storeu_pd(vb[i], v[i]);
    long long ixs[8];
    _mm512_storeu_si512((void *)ixs, ix);
    for (int i = 0; i < 8; i++) vt[i] = _mm512_loadu_pd(vb[ixs[i]]);
    return 0;
}

/* eigh of the symmetric rows r (zero-padded). w ascending (lanes < n), with
 * vectors v: rows of V (its first n columns A's eigenvectors). B = A +
 * sigma I is positive definite, so its left singular vectors are its right
 * ones: V = U = B V' / S comes from the orthogonalised columns, and the
 * rotations need not be accumulated. sigma = 2 |A|_F keeps S_j >= |A|_F
 * (U's columns accurate) and the sweeps as few as without a shift; |A|_F
 * zero, below 1e-50 or above 1e70 goes to LAPACK. */
SMALL_V4 static int eigh8(vd *r, int n, double eps, bool vectors, vd *w, vd *v) {
    vd sq[8];
    for (int i = 0; i < 8; i++) sq[i] = r[i] * r[i];
    double f2 = _mm512_reduce_add_pd(sum8(sq));
    if (!(f2 <= RANGE_HI * RANGE_HI && f2 >= 1e-100)) return 1;
    double sigma = 2 * sqrt(f2);
    vd shift = _mm512_mask_mov_pd(_mm512_set1_pd(sigma), PAD_MASK(n), _mm512_setzero_pd());
    for (int i = 0; i < 8; i++)
        r[i] = _mm512_mask_add_pd(r[i], (__mmask8)(1u << i), r[i], shift);
    vd nrm, unused[8];
    if (jacobi8(r, unused, eps, false, &nrm)) return 1;
    vd sv = _mm512_sqrt_pd(nrm), lam = sv - _mm512_set1_pd(sigma);
    if (_mm512_cmp_pd_mask(lam, lam, _CMP_UNORD_Q)) return 1;
    __m512i ix = sort_index(_mm512_mask_mov_pd(lam, PAD_MASK(n), _mm512_set1_pd(INFINITY)));
    *w = perm8(lam, ix);
    if (vectors) {
        vd rs = 1.0 / sv;
        for (int i = 0; i < 8; i++) v[i] = perm8(r[i] * rs, ix);
    }
    return 0;
}


/* ---- qr: Householder, rows in registers ------------------------------------------
 * LAPACK's conventions (geqrf + orgqr, as small_decomp.c's lanes qr): for
 * column k, alpha = a_kk, x the entries below it, beta = -sign(alpha)
 * |(alpha, x)| (sign(0) = +), tau = (beta - alpha) / beta, v = x / (alpha -
 * beta) with v_k = 1; tau = 0 and no reflection where x is zero. The rows
 * r[i] are updated lane-wise (lanes > k): w = r_k + sum_{i>k} v_i r_i,
 * r_i -= v_i tau w. Q = H_0 ... H_{n-2} accumulates alongside, held by
 * columns (qc[j]: lane i = Q_ij): Q H_k = Q - tau (Q v) v^T, so Q needs no
 * second pass (orgqr applies the same reflectors from the last; the two
 * agree to rounding). Zero padding (orders 5-7) has x = 0 in its columns
 * and v_i = 0 in its rows, so it stays out. Declines (returns 1) entries
 * beyond 1e140 or nonzero below 1e-140 (as the lanes kernel: LAPACK's
 * scaling matters there) and a column to be reduced whose largest entry is
 * nonzero below 1e-140 (its squares would underflow where LAPACK's scaled
 * norm does not). f32 runs in f64, whose range covers f32's. */
#define QR_HI 1e140
#define QR_LO 1e-140

SMALL_V4 static int qr8(vd *r, int n, vd *qc) {
    const vd zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
    const vd hi = _mm512_set1_pd(QR_HI), lo = _mm512_set1_pd(QR_LO);
    __mmask8 bad = 0;
    for (int i = 0; i < 8; i++) {
        vd x = _mm512_abs_pd(r[i]);
        bad |= _mm512_cmp_pd_mask(x, hi, _CMP_GT_OQ) |
               (_mm512_cmp_pd_mask(x, lo, _CMP_LT_OQ) & _mm512_cmp_pd_mask(x, zero, _CMP_NEQ_UQ));
        qc[i] = _mm512_mask_mov_pd(zero, (__mmask8)(1u << i), one);
    }
    if (bad) return 1;
#pragma GCC unroll 7
    for (int k = 0; k < 7; k++) {
        if (k >= n - 1) break;
        const __m512i ik = _mm512_set1_epi64(k);
        const __mmask8 right = (__mmask8)(0xffu << (k + 1));
        vd bc[8], x2 = zero, u = zero, cmax = zero;
        for (int i = k; i < 8; i++) bc[i] = perm8(r[i], ik);   /* a_ik in every lane */
        for (int i = k + 1; i < 8; i++) {
            x2 += bc[i] * bc[i];
            u += bc[i] * r[i];
            cmax = _mm512_max_pd(cmax, _mm512_abs_pd(bc[i]));
        }
        vd alpha = bc[k];
        cmax = _mm512_max_pd(cmax, _mm512_abs_pd(alpha));
        bad |= _mm512_cmp_pd_mask(cmax, lo, _CMP_LT_OQ) & _mm512_cmp_pd_mask(cmax, zero, _CMP_NEQ_UQ);
        vd beta = _mm512_sqrt_pd(alpha * alpha + x2);
        beta = _mm512_mask_sub_pd(beta, _mm512_cmp_pd_mask(alpha, zero, _CMP_NLT_UQ), zero, beta);
        __mmask8 refl = _mm512_cmp_pd_mask(x2, zero, _CMP_NEQ_UQ);
        vd tau = _mm512_maskz_div_pd(refl, beta - alpha, beta);
        vd scale = _mm512_maskz_div_pd(refl, one, alpha - beta);
        /* w = r_k + scale u; r_k -= tau w; r_i -= (scale a_ik) tau w */
        vd s = tau * (r[k] + scale * u), ss = scale * s;
        r[k] = _mm512_mask_sub_pd(r[k], right, r[k], s);
        r[k] = _mm512_mask_mov_pd(r[k], (__mmask8)(1u << k), _mm512_mask_mov_pd(alpha, refl, beta));
        for (int i = k + 1; i < 8; i++) r[i] = _mm512_mask3_fnmadd_pd(bc[i], ss, r[i], right);
        /* Q H_k: p = Q v; qc_j -= (tau v_j) p */
        vd p = qc[k], v[8];
        for (int i = k + 1; i < 8; i++) {
            v[i] = bc[i] * scale;
            p += v[i] * qc[i];
        }
        vd tp = tau * p;
        qc[k] -= tp;
        for (int i = k + 1; i < 8; i++) qc[i] -= v[i] * tp;
    }
    if (bad) return 1;
    for (int i = 1; i < 8; i++) r[i] = _mm512_maskz_mov_pd((__mmask8)(0xffu << i), r[i]);
    return 0;
}

/* ---- entry points ---------------------------------------------------------------- */
bool tg__small8(tg_dtype d, int64_t n) {
    return (d == TG_F64 || d == TG_F32) && n >= 5 && n <= 8 && tg__small_lanes_available();
}

/* A (n x n, element strides ars, acs) into zero-padded f64 rows; eigh (tri
 * 1 lower, 2 upper) reads one triangle and mirrors it. Returns false if a
 * value read is not finite. */
SMALL_V4 static bool load8(tg_dtype d, int n, int tri, const void *a, int64_t ars, int64_t acs, vd *r) {
    if (d == TG_F64 && n == 8 && acs == 1) {
        const double *p = a;
        __mmask8 bad = 0;
        if (!tri) {
            for (int i = 0; i < 8; i++) {
                r[i] = _mm512_loadu_pd(p + i * ars);
                bad |= _mm512_fpclass_pd_mask(r[i], 0x99);   /* NaN, +-inf */
            }
            return !bad;
        }
        vd t[8];
        for (int i = 0; i < 8; i++) {
            __mmask8 m = tri == 1 ? (__mmask8)(0xffu >> (7 - i)) : (__mmask8)(0xffu << i);   /* j <= i, j >= i */
            r[i] = _mm512_maskz_loadu_pd(m, p + i * ars);
            bad |= _mm512_fpclass_pd_mask(r[i], 0x99);
            t[i] = _mm512_mask_mov_pd(r[i], (__mmask8)(1u << i), _mm512_setzero_pd());
        }
        tg__transpose8x8_pd(t);
        for (int i = 0; i < 8; i++) r[i] += t[i];
        return !bad;
    }
    double m[8][8];
    memset(m, 0, sizeof m);
    bool ok = true;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int64_t ri = i, cj = j;
            if (tri && (tri == 1) == (j > i)) { ri = j; cj = i; }
            int64_t o = ri * ars + cj * acs;
            double x = d == TG_F64 ? ((const double *)a)[o] : (double)((const float *)a)[o];
            ok &= isfinite(x);
            m[i][j] = x;
        }
    for (int i = 0; i < 8; i++) r[i] = _mm512_loadu_pd(m[i]);
    return ok;
}

/* The first n lanes of x into out (row-major, dtype d). */
V4 void store_row(tg_dtype d, int n, vd x, void *out) {
    __mmask8 m = (__mmask8)(0xffu >> (8 - n));
    if (d == TG_F64) _mm512_mask_storeu_pd(out, m, x);
    else _mm256_mask_storeu_ps(out, m, _mm512_cvtpd_ps(x));
}

SMALL_V4 int tg__small8_eigh(tg_dtype d, int n, bool upper, bool vectors, const void *a, int64_t ars, int64_t acs, void *w,
                    void *v) {
    vd r[8], vo[8], wo;
    if (!load8(d, n, upper ? 2 : 1, a, ars, acs, r)) return 1;
    if (eigh8(r, n, d == TG_F64 ? DBL_EPSILON : FLT_EPSILON, vectors, &wo, vo)) return 1;
    int64_t es = d == TG_F64 ? 8 : 4;
    store_row(d, n, wo, w);
    if (vectors)
        for (int i = 0; i < n; i++) store_row(d, n, vo[i], (char *)v + i * n * es);
    return 0;
}

SMALL_V4 int tg__small8_svd(tg_dtype d, int n, bool vectors, const void *a, int64_t ars, int64_t acs, void *s, void *u,
                   void *vh) {
    vd r[8], uo[8], vo[8], so;
    if (!load8(d, n, 0, a, ars, acs, r)) return 1;
    if (svd8(r, n, d == TG_F64 ? DBL_EPSILON : FLT_EPSILON, vectors, &so, uo, vo)) return 1;
    int64_t es = d == TG_F64 ? 8 : 4;
    store_row(d, n, so, s);
    if (vectors)
        for (int i = 0; i < n; i++) {
            store_row(d, n, uo[i], (char *)u + i * n * es);
            store_row(d, n, vo[i], (char *)vh + i * n * es);
        }
    return 0;
}

SMALL_V4 int tg__small8_qr(tg_dtype d, int n, const void *a, int64_t ars, int64_t acs, void *q, void *r) {
    vd rr[8], qc[8];
    if (!load8(d, n, 0, a, ars, acs, rr)) return 1;
    if (qr8(rr, n, qc)) return 1;
    tg__transpose8x8_pd(rr);   /* columns of R */
    int64_t es = d == TG_F64 ? 8 : 4;
    for (int c = 0; c < n; c++) {
        store_row(d, n, qc[c], (char *)q + c * n * es);
        store_row(d, n, rr[c], (char *)r + c * n * es);
    }
    return 0;
}

#else   /* no AVX-512 build: never chosen (tg__small8 is false) */
bool tg__small8(tg_dtype d, int64_t n) {
    (void)d; (void)n;
    return false;
}
int tg__small8_eigh(tg_dtype d, int n, bool upper, bool vectors, const void *a, int64_t ars, int64_t acs, void *w,
                    void *v) {
    (void)d; (void)n; (void)upper; (void)vectors; (void)a; (void)ars; (void)acs; (void)w; (void)v;
    return 1;
}
int tg__small8_svd(tg_dtype d, int n, bool vectors, const void *a, int64_t ars, int64_t acs, void *s, void *u,
                   void *vh) {
    (void)d; (void)n; (void)vectors; (void)a; (void)ars; (void)acs; (void)s; (void)u; (void)vh;
    return 1;
}
int tg__small8_qr(tg_dtype d, int n, const void *a, int64_t ars, int64_t acs, void *q, void *r) {
    (void)d; (void)n; (void)a; (void)ars; (void)acs; (void)q; (void)r;
    return 1;
}
#endif
