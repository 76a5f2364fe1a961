/* linalg's small-matrix kernels (linalg/small.c, small8.c,
 * small_decomp.c): real matrices of order 1-8 computed in registers, their
 * errors named as the LAPACK path names them, and their values against
 * LAPACK's and gauge-invariant identities. Split from test_linalg.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support/check.h"
#include "linalg/linalg_internal.h"

TestSuite(linalg_small, .init = tg_clear_error);

static void expect_msg(const char *part) {
    cr_expect(strstr(tg_last_error(), part) != NULL, "message lacks \"%s\": %s", part, tg_last_error());
    tg_clear_error();
}

/* Small real matrices (order 1-4) go through linalg/small.c: eight items at
 * a time with AVX-512, one at a time otherwise. The error names the first
 * failing item with the code the LAPACK path gives (singular pivot, NaN in
 * A as getrf's argument 4, NaN in B as getrs's argument 8), wherever it
 * falls in a block; det and inv agree with each other at a nearly singular
 * A; f32 and f64 both. */
Test(linalg_small, small_matrix_kernels) {
    tg_scope_begin();
    for (int pass = 0; pass < 2; pass++) {
        tg_dtype dt = pass ? TG_F32 : TG_F64;
        tg_manual_seed(11);
        tg_tensor *a = tg_contiguous(tg_cast(tg_add(tg_mul_scalar(tg_randn(TG_F64, 3, (int64_t[]){19, 4, 4}), 0.3),
                                                    tg_mul_scalar(tg_eye(TG_F64, 4, -1), 2.0)), dt));
        tg_tensor *b = tg_cast(tg_randn(TG_F64, 3, (int64_t[]){19, 4, 1}), dt);
        cr_assert_not_null(tg_linalg_solve(a, b), "%s", tg_last_error());
        /* singular items 11 and 17 (row 2 zero) and a NaN in A at item 13 */
        tg_tensor *s = tg_copy(a);
        tg_copy_(tg_select(tg_select(s, 0, 17), 0, 2), tg_scalar(dt, 0));
        tg_copy_(tg_select(tg_select(s, 0, 13), 0, 1), tg_scalar(dt, NAN));
        tg_copy_(tg_select(tg_select(s, 0, 11), 0, 2), tg_scalar(dt, 0));
        cr_expect_null(tg_linalg_solve(s, b));
        cr_expect_eq(tg_last_error_code(), TG_ERR_NUMERIC);
        expect_msg("matrix 11 of the batch is singular (U[2,2] = 0)");
        tg_copy_(tg_select(tg_select(s, 0, 11), 0, 2), tg_select(tg_select(a, 0, 11), 0, 2));
        cr_expect_null(tg_linalg_solve(s, b));
        expect_msg("matrix 13 of the batch: LAPACK getrf/getrs argument 4");
        /* NaN in B at item 6 */
        tg_tensor *bn = tg_copy(b);
        tg_copy_(tg_select(tg_select(bn, 0, 6), 0, 3), tg_scalar(dt, NAN));
        cr_expect_null(tg_linalg_solve(a, bn));
        expect_msg("matrix 6 of the batch: LAPACK getrf/getrs argument 8");
        /* the same errors when the solve keeps its factors (getrf / getrs) */
        tg_tensor *sg = tg_detach(s);
        tg_set_requires_grad(sg, true);
        cr_expect_null(tg_linalg_solve(sg, b));
        expect_msg("matrix 13 of the batch: LAPACK getrf argument 4");
        /* more right-hand sides than the lanes take: item by item, same values */
        tg_tensor *b6 = tg_cast(tg_randn(TG_F64, 3, (int64_t[]){19, 4, 6}), dt);
        tg_tensor *x6 = tg_linalg_solve(a, b6);
        double tol = pass ? 2e-5 : 1e-13;
        check_close(tg_matmul(a, x6), b6, tol, tol, "A X = B, 6 right-hand sides");
        /* eigh: a non-finite entry in the triangle read names its item; one
         * in the other triangle is ignored. NaN at (13, 1, 0): lower only;
         * inf at (17, 0, 3): upper only. */
        tg_tensor *h = tg_copy(a), *w = NULL, *v = NULL;
        tg_copy_(tg_select(tg_select(tg_select(h, 0, 17), 0, 0), 0, 3), tg_scalar(dt, INFINITY));
        tg_copy_(tg_select(tg_select(tg_select(h, 0, 13), 0, 1), 0, 0), tg_scalar(dt, NAN));
        cr_expect_eq(tg_linalg_eigh(h, &w, &v), TG_ERR_NUMERIC);
        expect_msg("matrix 13 of the batch contains non-finite values");
        cr_expect_null(tg_linalg_eigvalsh(h, false));
        expect_msg("matrix 13 of the batch contains non-finite values");
        cr_expect_eq(tg_linalg_eigh_uplo(h, true, &w, &v), TG_ERR_NUMERIC);
        expect_msg("matrix 17 of the batch contains non-finite values");
        /* svd, svdvals: any non-finite entry; the first item named */
        tg_tensor *u = NULL, *sv = NULL, *vh = NULL;
        cr_expect_eq(tg_linalg_svd(h, false, &u, &sv, &vh), TG_ERR_NUMERIC);
        expect_msg("matrix 13 of the batch contains non-finite values");
        cr_expect_null(tg_linalg_svdvals(h));
        expect_msg("matrix 13 of the batch contains non-finite values");
        /* qr propagates NaN (LAPACK runs that item): item 13's factors hold
         * NaN, item 12's do not */
        tg_tensor *q = NULL, *r = NULL;
        cr_assert_eq(tg_linalg_qr(h, false, &q, &r), TG_OK, "%s", tg_last_error());
        cr_expect(tg_item_i64(tg_any(tg_isnan(tg_select(r, 0, 13)), 0, NULL, false)) == 1, "NaN in R of item 13");
        cr_expect(tg_item_i64(tg_any(tg_isnan(tg_select(q, 0, 12)), 0, NULL, false)) == 0, "Q of item 12 finite");
    }
    /* row 2 = 0.6 row 0 + 1.7 row 1, then 1e-9 off; cof: NumPy's cofactors
     * of the singular matrix (the perturbation moves them by < 2e-9) */
    /* det(A) A^{-1} (the adjugate) at a nearly singular A: det and inv
     * round alike, so the product stays within a few ulps of the exact
     * cofactors of the singular neighbour */
    double near[3][3] = {{0.7, 1.3, 2.1}, {1.9, 0.4, 3.3}, {3.65, 1.46, 6.87 + 1e-9}};
    const double cof[9] = {-2.07, -1.008, 1.314, -5.865, -2.856, 3.723, 3.45, 1.68, -2.19};
    tg_tensor *an = tg_from_data(TG_F64, 2, (int64_t[]){3, 3}, near);
    tg_tensor *adj = tg_mT(tg_mul(tg_linalg_det(an), tg_linalg_inv(an)));
    check_values_f64(adj, 9, cof, 1e-8, "det(A) inv(A) at a nearly singular A");
    tg_scope_end();
}

/* Orders 5-8 (linalg/small8.c's within-matrix Jacobi where the CPU has
 * AVX-512, LAPACK elsewhere): residuals, orthonormality and order against
 * tight tolerances (f64 1e-13, f32 1e-5, relative to |A|), one triangle
 * read, repeated eigenvalues, and the LAPACK path's errors and results for
 * the items the kernels decline (NaN, rank deficient). */
static double max_abs(tg_tensor *x) { return tg_item_f64(tg_max(tg_abs(tg_cast(x, TG_F64)), 0, NULL, false)); }
static void check_eigh8(tg_tensor *a, tg_tensor *sym, bool upper, double tol, const char *what) {
    tg_tensor *w = NULL, *v = NULL;
    cr_assert_eq(tg_linalg_eigh_uplo(a, upper, &w, &v), TG_OK, "%s: %s", what, tg_last_error());
    int64_t n = tg_dim(a, -1);
    tg_tensor *s = tg_cast(sym, TG_F64), *wd = tg_cast(w, TG_F64), *vd = tg_cast(v, TG_F64);
    double scale = max_abs(s) * (double)n;
    double res = max_abs(tg_sub(tg_matmul(s, vd), tg_mul(vd, tg_unsqueeze(wd, -2))));
    cr_expect_leq(res, tol * scale, "%s: |A V - V diag(w)| = %g (scale %g)", what, res, scale);
    double orth = max_abs(tg_sub(tg_matmul(tg_mT(vd), vd), tg_eye(TG_F64, n, -1)));
    cr_expect_leq(orth, tol * (double)n, "%s: |V^T V - I| = %g", what, orth);
    double step = tg_item_f64(tg_min(tg_sub(tg_slice(wd, -1, 1, n, 1), tg_slice(wd, -1, 0, n - 1, 1)), 0, NULL, false));
    cr_expect_geq(step, 0.0, "%s: w not ascending (step %g)", what, step);
    double dw = max_abs(tg_sub(tg_cast(tg_linalg_eigvalsh(a, upper), TG_F64), wd));
    cr_expect_leq(dw, tol * scale, "%s: eigvalsh differs from eigh by %g", what, dw);
}
static void check_svd8(tg_tensor *a, double tol, const char *what) {
    tg_tensor *u = NULL, *s = NULL, *vh = NULL;
    cr_assert_eq(tg_linalg_svd(a, false, &u, &s, &vh), TG_OK, "%s: %s", what, tg_last_error());
    int64_t n = tg_dim(a, -1);
    tg_tensor *ad = tg_cast(a, TG_F64), *ud = tg_cast(u, TG_F64), *sd = tg_cast(s, TG_F64), *vd = tg_cast(vh, TG_F64);
    double scale = max_abs(sd) + 1e-300;
    double res = max_abs(tg_sub(tg_matmul(tg_mul(ud, tg_unsqueeze(sd, -2)), vd), ad));
    cr_expect_leq(res, tol * scale, "%s: |U S Vh - A| = %g (scale %g)", what, res, scale);
    double ou = max_abs(tg_sub(tg_matmul(tg_mT(ud), ud), tg_eye(TG_F64, n, -1)));
    double ov = max_abs(tg_sub(tg_matmul(vd, tg_mT(vd)), tg_eye(TG_F64, n, -1)));
    cr_expect_leq(ou, tol * (double)n, "%s: |U^T U - I| = %g", what, ou);
    cr_expect_leq(ov, tol * (double)n, "%s: |Vh Vh^T - I| = %g", what, ov);
    double step = tg_item_f64(tg_max(tg_sub(tg_slice(sd, -1, 1, n, 1), tg_slice(sd, -1, 0, n - 1, 1)), 0, NULL, false));
    cr_expect_leq(step, 0.0, "%s: S not descending (step %g)", what, step);
    double smin = tg_item_f64(tg_min(sd, 0, NULL, false));
    cr_expect_geq(smin, 0.0, "%s: negative singular value %g", what, smin);
    double ds = max_abs(tg_sub(tg_cast(tg_linalg_svdvals(a), TG_F64), sd));
    cr_expect_leq(ds, tol * scale, "%s: svdvals differs from svd by %g", what, ds);
}
/* The passes of the order 5-8 tests: dtype, tolerance, name, element size. */
typedef struct {
    tg_dtype dt;
    double tol;
    const char *dn;
    int64_t es;
} small8_pass;
static const small8_pass SMALL8_PASSES[2] = {{TG_F64, 1e-13, "f64", 8}, {TG_F32, 1e-5, "f32", 4}};

Test(linalg_small, small8_kernels) {
    tg_scope_begin();
    char what[96];
    for (const small8_pass *P = SMALL8_PASSES; P < SMALL8_PASSES + 2; P++) {
        tg_dtype dt = P->dt;
        double tol = P->tol;
        const char *dn = P->dn;
        for (int64_t n = 5; n <= 8; n++) {
            tg_manual_seed(100 + (uint64_t)n);
            int64_t shape[3] = {5, n, n};
            tg_tensor *a = tg_contiguous(tg_cast(tg_randn(TG_F64, 3, shape), dt));
            /* one triangle read: the other holds unrelated values */
            tg_tensor *lo = tg_add(tg_tril(a, 0), tg_mT(tg_tril(a, -1)));
            tg_tensor *up = tg_add(tg_triu(a, 0), tg_mT(tg_triu(a, 1)));
            snprintf(what, sizeof what, "eigh %s n=%lld lower", dn, (long long)n);
            check_eigh8(a, lo, false, tol, what);
            snprintf(what, sizeof what, "eigh %s n=%lld upper", dn, (long long)n);
            check_eigh8(a, up, true, tol, what);
            /* a strided (transposed) view */
            snprintf(what, sizeof what, "eigh %s n=%lld transposed", dn, (long long)n);
            check_eigh8(tg_mT(lo), lo, false, tol, what);
            /* repeated eigenvalues: Q diag(1, 1, 1, 2, 2, ...) Q^T, and a multiple of I */
            tg_tensor *q = NULL, *r = NULL;
            cr_assert_eq(tg_linalg_qr(tg_randn(TG_F64, 3, shape), false, &q, &r), TG_OK, "%s", tg_last_error());
            double dg[8] = {1, 1, 1, 2, 2, -3, -3, 2};
            tg_tensor *rep = tg_cast(tg_matmul(tg_mul(q, tg_from_data(TG_F64, 1, (int64_t[]){n}, dg)), tg_mT(q)), dt);
            rep = tg_contiguous(tg_cast(tg_tril(rep, 0), dt));
            tg_tensor *reps = tg_add(rep, tg_mT(tg_tril(rep, -1)));
            snprintf(what, sizeof what, "eigh %s n=%lld repeated", dn, (long long)n);
            check_eigh8(rep, reps, false, tol, what);
            snprintf(what, sizeof what, "eigh %s n=%lld identity", dn, (long long)n);
            tg_tensor *i3 = tg_contiguous(tg_cast(tg_mul_scalar(tg_eye(TG_F64, n, -1), 3.0), dt));
            check_eigh8(i3, i3, false, tol, what);
            /* svd: random, graded columns, and rank deficient (LAPACK runs it) */
            snprintf(what, sizeof what, "svd %s n=%lld", dn, (long long)n);
            check_svd8(a, tol, what);
            snprintf(what, sizeof what, "svd %s n=%lld transposed", dn, (long long)n);
            check_svd8(tg_mT(a), tol, what);
            double gr[8] = {1, 1e-2, 1e-4, 3, 1e-3, 7, 0.5, 1e-1};
            tg_tensor *graded = tg_cast(tg_mul(tg_cast(a, TG_F64), tg_from_data(TG_F64, 1, (int64_t[]){n}, gr)), dt);
            snprintf(what, sizeof what, "svd %s n=%lld graded", dn, (long long)n);
            check_svd8(graded, tol, what);
            tg_tensor *def = tg_copy(a);
            tg_copy_(tg_select(tg_select(def, 0, 1), -1, 2), tg_scalar(dt, 0));
            tg_copy_(tg_select(tg_select(def, 0, 3), 0, 4),
                     tg_add(tg_select(tg_select(def, 0, 3), 0, 0), tg_select(tg_select(def, 0, 3), 0, 1)));
            tg_copy_(tg_select(def, 0, 4), tg_scalar(dt, 0));
            snprintf(what, sizeof what, "svd %s n=%lld rank deficient", dn, (long long)n);
            check_svd8(def, tol, what);
            for (int it = 1; it <= 4; it += 3) {   /* items 1, 4: a zero column, a zero matrix */
                double smin = tg_item_f64(tg_select(tg_select(tg_linalg_svdvals(def), 0, it), 0, n - 1));
                cr_expect_leq(smin, tol * max_abs(def), "%s: S_min %g of item %d", what, smin, it);
            }
            /* repeated singular values: 2 Q (all equal) and Q diag(dg) R^T */
            snprintf(what, sizeof what, "svd %s n=%lld orthogonal", dn, (long long)n);
            check_svd8(tg_contiguous(tg_cast(tg_mul_scalar(q, 2.0), dt)), tol, what);
            tg_tensor *q2 = NULL, *r2 = NULL;
            cr_assert_eq(tg_linalg_qr(tg_randn(TG_F64, 3, shape), false, &q2, &r2), TG_OK, "%s", tg_last_error());
            tg_tensor *reps2 = tg_matmul(tg_mul(q, tg_abs(tg_from_data(TG_F64, 1, (int64_t[]){n}, dg))), tg_mT(q2));
            snprintf(what, sizeof what, "svd %s n=%lld repeated", dn, (long long)n);
            check_svd8(tg_contiguous(tg_cast(reps2, dt)), tol, what);
            /* where the CPU takes small8.c: the kernels themselves vouch for
             * these items (no LAPACK fallback) and give the op's values; they
             * decline the rank-deficient and NaN items */
            if (tg__small8(dt, n)) {
                int64_t es = P->es;
                tg_tensor *w8 = NULL, *v8 = NULL, *u8 = NULL, *s8 = NULL, *vh8 = NULL;
                cr_assert_eq(tg_linalg_eigh(a, &w8, &v8), TG_OK, "%s", tg_last_error());
                cr_assert_eq(tg_linalg_svd(a, false, &u8, &s8, &vh8), TG_OK, "%s", tg_last_error());
                const char *pa = tg_data(a), *pd = tg_data(def), *pr = tg_data(rep);
                char ow[64], ov[512], ou[512], os[64], ovh[512];
                for (int64_t t = 0; t < 5; t++) {
                    int64_t o1 = t * n * es, o2 = t * n * n * es;
                    cr_expect_eq(tg__small8_eigh(dt, (int)n, false, true, pa + o2, n, 1, ow, ov), 0,
                                 "eigh %s n=%lld item %lld declined", dn, (long long)n, (long long)t);
                    cr_expect(!memcmp(ow, (const char *)tg_data(w8) + o1, (size_t)(n * es)) &&
                              !memcmp(ov, (const char *)tg_data(v8) + o2, (size_t)(n * n * es)),
                              "eigh %s n=%lld item %lld: not the kernel's values", dn, (long long)n, (long long)t);
                    cr_expect_eq(tg__small8_eigh(dt, (int)n, false, true, pr + o2, n, 1, ow, ov), 0,
                                 "eigh %s n=%lld repeated item %lld declined", dn, (long long)n, (long long)t);
                    cr_expect_eq(tg__small8_svd(dt, (int)n, true, pa + o2, n, 1, os, ou, ovh), 0,
                                 "svd %s n=%lld item %lld declined", dn, (long long)n, (long long)t);
                    cr_expect(!memcmp(os, (const char *)tg_data(s8) + o1, (size_t)(n * es)) &&
                              !memcmp(ou, (const char *)tg_data(u8) + o2, (size_t)(n * n * es)) &&
                              !memcmp(ovh, (const char *)tg_data(vh8) + o2, (size_t)(n * n * es)),
                              "svd %s n=%lld item %lld: not the kernel's values", dn, (long long)n, (long long)t);
                    bool deficient = t == 1 || t == 3 || t == 4;
                    cr_expect_eq(tg__small8_svd(dt, (int)n, true, pd + o2, n, 1, os, ou, ovh) != 0, deficient,
                                 "svd %s n=%lld rank-deficient item %lld", dn, (long long)n, (long long)t);
                    cr_expect_eq(tg__small8_svd(dt, (int)n, false, pd + o2, n, 1, os, ou, ovh), 0,
                                 "svdvals %s n=%lld rank-deficient item %lld declined", dn, (long long)n, (long long)t);
                }
            }
            /* errors as on the LAPACK path: NaN in item 3 (in the lower triangle) */
            tg_tensor *h = tg_copy(a), *w = NULL, *v = NULL, *u = NULL, *s = NULL, *vh = NULL;
            tg_copy_(tg_select(tg_select(tg_select(h, 0, 3), 0, n - 1), 0, 1), tg_scalar(dt, NAN));
            cr_expect_eq(tg_linalg_eigh(h, &w, &v), TG_ERR_NUMERIC);
            expect_msg("matrix 3 of the batch contains non-finite values");
            cr_expect_null(tg_linalg_eigvalsh(h, false));
            expect_msg("matrix 3 of the batch contains non-finite values");
            cr_expect_eq(tg_linalg_eigh_uplo(h, true, &w, &v), TG_OK, "the upper triangle is finite: %s",
                         tg_last_error());
            cr_expect_eq(tg_linalg_svd(h, false, &u, &s, &vh), TG_ERR_NUMERIC);
            expect_msg("matrix 3 of the batch contains non-finite values");
            cr_expect_null(tg_linalg_svdvals(h));
            expect_msg("matrix 3 of the batch contains non-finite values");
            if (tg__small8(dt, n)) {
                char ow[64], ov[512];
                const char *ph = (const char *)tg_data(h) + 3 * n * n * P->es;
                cr_expect_neq(tg__small8_eigh(dt, (int)n, false, true, ph, n, 1, ow, ov), 0, "NaN declined");
                cr_expect_neq(tg__small8_svd(dt, (int)n, false, ph, n, 1, ow, ov, ov), 0, "NaN declined");
            }
        }
    }
    tg_scope_end();
}

/* QR of orders 5-8 (linalg/small8.c's Householder kernel where the CPU has
 * AVX-512, LAPACK elsewhere): Q R = A, Q^T Q = I, R upper triangular; the
 * kernel called directly vouches for these items and gives the op's values;
 * LAPACK's own values (through 2^480 A, which the kernel declines: its Q is
 * A's, its R 2^480 A's R) agree with the kernel's to rounding, R's diagonal
 * signs included; items with tau = 0 (upper triangular, a zero sub-column,
 * the zero matrix) and a rank-deficient one; NaN propagates as on the
 * LAPACK path (no error). */
static void check_qr8(tg_tensor *a, double tol, const char *what) {
    tg_tensor *q = NULL, *r = NULL;
    cr_assert_eq(tg_linalg_qr(a, false, &q, &r), TG_OK, "%s: %s", what, tg_last_error());
    int64_t n = tg_dim(a, -1);
    tg_tensor *ad = tg_cast(a, TG_F64), *qd = tg_cast(q, TG_F64), *rd = tg_cast(r, TG_F64);
    double scale = max_abs(ad) * (double)n + 1e-300;
    double res = max_abs(tg_sub(tg_matmul(qd, rd), ad));
    cr_expect_leq(res, tol * scale, "%s: |Q R - A| = %g (scale %g)", what, res, scale);
    double orth = max_abs(tg_sub(tg_matmul(tg_mT(qd), qd), tg_eye(TG_F64, n, -1)));
    cr_expect_leq(orth, tol * (double)n, "%s: |Q^T Q - I| = %g", what, orth);
    double low = max_abs(tg_tril(rd, -1));
    cr_expect_eq(low, 0.0, "%s: R not upper triangular (%g)", what, low);
}

Test(linalg_small, small8_qr) {
    tg_scope_begin();
    char what[96];
    for (const small8_pass *P = SMALL8_PASSES; P < SMALL8_PASSES + 2; P++) {
        tg_dtype dt = P->dt;
        double tol = P->tol;
        const char *dn = P->dn;
        int64_t es = P->es;
        for (int64_t n = 5; n <= 8; n++) {
            tg_manual_seed(200 + (uint64_t)n);
            int64_t shape[3] = {6, n, n};
            tg_tensor *a = tg_contiguous(tg_cast(tg_randn(TG_F64, 3, shape), dt));
            /* item 1 upper triangular with a negative diagonal entry, item 2 a
             * zero sub-column under a_00, item 3 rank deficient (column 2 =
             * column 0 + column 1), item 4 zero */
            tg_tensor *a1 = tg_select(a, 0, 1);
            tg_copy_(a1, tg_triu(a1, 0));
            tg_copy_(tg_select(tg_select(a1, 0, 1), 0, 1), tg_scalar(dt, -2.5));
            tg_copy_(tg_slice(tg_select(tg_select(a, 0, 2), -1, 0), 0, 1, n, 1), tg_scalar(dt, 0));
            tg_tensor *a3 = tg_select(a, 0, 3);
            tg_copy_(tg_select(a3, -1, 2), tg_add(tg_select(a3, -1, 0), tg_select(a3, -1, 1)));
            tg_copy_(tg_select(a, 0, 4), tg_scalar(dt, 0));
            snprintf(what, sizeof what, "qr %s n=%lld", dn, (long long)n);
            check_qr8(a, tol, what);
            snprintf(what, sizeof what, "qr %s n=%lld transposed", dn, (long long)n);
            check_qr8(tg_mT(a), tol, what);
            snprintf(what, sizeof what, "qr %s n=%lld single", dn, (long long)n);
            check_qr8(tg_select(a, 0, 0), tol, what);
            tg_tensor *q = NULL, *r = NULL, *qt = NULL, *rt = NULL, *qc = NULL, *rc = NULL;
            cr_assert_eq(tg_linalg_qr(a, false, &q, &r), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg_linalg_qr(tg_mT(a), false, &qt, &rt), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg_linalg_qr(a, true, &qc, &rc), TG_OK, "%s", tg_last_error());
            cr_expect(tg_item_f64(tg_sum(tg_abs(tg_sub(tg_cast(q, TG_F64), tg_cast(qc, TG_F64))), 0, NULL, false)) == 0 &&
                      tg_item_f64(tg_sum(tg_abs(tg_sub(tg_cast(r, TG_F64), tg_cast(rc, TG_F64))), 0, NULL, false)) == 0,
                      "qr %s n=%lld: complete differs from reduced", dn, (long long)n);
            /* LAPACK's values: 2^480 A in f64 (the kernel declines it) */
            double big = ldexp(1.0, 480);
            tg_tensor *ql = NULL, *rl = NULL;
            cr_assert_eq(tg_linalg_qr(tg_mul_scalar(tg_cast(a, TG_F64), big), false, &ql, &rl), TG_OK, "%s",
                         tg_last_error());
            tg_tensor *rl1 = tg_mul_scalar(rl, 1.0 / big), *qd = tg_cast(q, TG_F64), *rd = tg_cast(r, TG_F64);
            for (int64_t t = 0; t < 6; t++) {
                if (t == 3) continue;   /* rank deficient: Q's last columns are rounding's */
                tg_tensor *dq = tg_select(tg_sub(qd, ql), 0, t), *dr = tg_select(tg_sub(rd, rl1), 0, t);
                double eq = max_abs(dq), er = max_abs(dr), sc = max_abs(tg_select(rd, 0, t)) + 1e-300;
                cr_expect_leq(eq, 10 * tol, "qr %s n=%lld item %lld: Q differs from LAPACK's by %g", dn, (long long)n,
                              (long long)t, eq);
                cr_expect_leq(er, 10 * tol * sc, "qr %s n=%lld item %lld: R differs from LAPACK's by %g", dn,
                              (long long)n, (long long)t, er);
                for (int64_t i = 0; i < n; i++) {
                    double x = tg_item_f64(tg_select(tg_select(tg_select(rd, 0, t), 0, i), 0, i));
                    double y = tg_item_f64(tg_select(tg_select(tg_select(rl1, 0, t), 0, i), 0, i));
                    cr_expect(signbit(x) == signbit(y) || (x == 0 && y == 0), "qr %s n=%lld item %lld: R_%lld%lld %g, "
                              "LAPACK %g", dn, (long long)n, (long long)t, (long long)i, (long long)i, x, y);
                }
            }
            if (tg__small8(dt, n)) {
                const char *pa = tg_data(a), *pb = tg_data(tg_contiguous(tg_cast(tg_mul_scalar(tg_cast(a, TG_F64), big), dt)));
                char oq[512], orr[512];
                for (int64_t t = 0; t < 6; t++) {
                    int64_t o2 = t * n * n * es;
                    cr_expect_eq(tg__small8_qr(dt, (int)n, pa + o2, n, 1, oq, orr), 0, "qr %s n=%lld item %lld declined",
                                 dn, (long long)n, (long long)t);
                    cr_expect(!memcmp(oq, (const char *)tg_data(tg_contiguous(tg_mT(q))) + o2, (size_t)(n * n * es)) &&
                              !memcmp(orr, (const char *)tg_data(tg_contiguous(tg_mT(r))) + o2, (size_t)(n * n * es)),
                              "qr %s n=%lld item %lld: not the kernel's values", dn, (long long)n, (long long)t);
                    /* the transposed view: strides (1, n) */
                    cr_expect_eq(tg__small8_qr(dt, (int)n, pa + o2, 1, n, oq, orr), 0, "qr %s n=%lld item %lld^T declined",
                                 dn, (long long)n, (long long)t);
                    cr_expect(!memcmp(oq, (const char *)tg_data(tg_contiguous(tg_mT(qt))) + o2, (size_t)(n * n * es)) &&
                              !memcmp(orr, (const char *)tg_data(tg_contiguous(tg_mT(rt))) + o2, (size_t)(n * n * es)),
                              "qr %s n=%lld item %lld^T: not the kernel's values", dn, (long long)n, (long long)t);
                    if (dt == TG_F64 && t != 4)   /* (item 4 is zero) */
                        cr_expect_neq(tg__small8_qr(dt, (int)n, pb + o2, n, 1, oq, orr), 0,
                                      "qr n=%lld item %lld: 2^480 A not declined", (long long)n, (long long)t);
                }
                /* tau = 0 items: upper triangular R = A, Q = I; the zero matrix */
                cr_expect_eq(max_abs(tg_sub(tg_select(qd, 0, 1), tg_eye(TG_F64, n, -1))), 0.0, "qr %s n=%lld: Q of triu",
                             dn, (long long)n);
                cr_expect_eq(max_abs(tg_sub(tg_select(rd, 0, 1), tg_cast(tg_select(a, 0, 1), TG_F64))), 0.0,
                             "qr %s n=%lld: R of triu", dn, (long long)n);
                cr_expect_eq(max_abs(tg_select(rd, 0, 4)), 0.0, "qr %s n=%lld: R of 0", dn, (long long)n);
                /* tiny entries (below 1e-140 for f64) and NaN are declined */
                if (dt == TG_F64) {
                    double tiny[64];
                    memcpy(tiny, pa, (size_t)(n * n * es));
                    tiny[1] = 1e-150;
                    cr_expect_neq(tg__small8_qr(dt, (int)n, tiny, n, 1, oq, orr), 0, "qr n=%lld: tiny not declined",
                                  (long long)n);
                }
            }
            /* NaN in item 5 propagates (no error, as on the LAPACK path) */
            tg_tensor *h = tg_copy(a), *hq = NULL, *hr = NULL;
            tg_copy_(tg_select(tg_select(tg_select(h, 0, 5), 0, n - 1), 0, 1), tg_scalar(dt, NAN));
            cr_expect_eq(tg_linalg_qr(h, false, &hq, &hr), TG_OK, "%s", tg_last_error());
            cr_expect(tg_item_f64(tg_sum(tg_isnan(tg_select(hr, 0, 5)), 0, NULL, false)) > 0, "qr %s: NaN in R", dn);
            cr_expect(tg_item_f64(tg_sum(tg_isnan(tg_select(hr, 0, 0)), 0, NULL, false)) == 0, "qr %s: item 0 clean",
                      dn);
            if (tg__small8(dt, n))
                cr_expect_neq(tg__small8_qr(dt, (int)n, (const char *)tg_data(h) + 5 * n * n * es, n, 1, (char[512]){0},
                                            (char[512]){0}),
                              0, "NaN declined");
        }
    }
    tg_scope_end();
}
