/* qr, lu (lu_factor, lu, lu_solve) and eig: errors, exact small values and
 * identities, empty matrices, traced mode, and gradient checks (first and
 * second order) in f64 and c128, batched. Oracle values:
 * tests/test_oracle_linalg_decomp.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "support/check.h"

TestSuite(linalg_decomp, .init = tg_clear_error);

static void expect_msg(const char *part) {
    cr_expect(strstr(tg_last_error(), part) != NULL, "message lacks \"%s\": %s", part, tg_last_error());
    tg_clear_error();
}

static tg_tensor *mh(tg_tensor *x) { return tg_conj(tg_mT(x)); }
static tg_tensor *eye_like(tg_dtype d, int64_t n) { return tg_eye(d, n, -1); }

Test(linalg_decomp, errors) {
    tg_scope_begin();
    tg_tensor *q, *r, *lu, *piv, *p, *l, *u, *w, *v;
    tg_tensor *a = tg_randn(TG_F64, 3, (int64_t[]){2, 3, 3});
    check_status(tg_linalg_qr(NULL, false, &q, &r), TG_ERR_ARG, "qr NULL a");
    check_status(tg_linalg_qr(a, false, NULL, &r), TG_ERR_ARG, "qr NULL q");
    check_status(tg_linalg_qr(tg_ones(TG_F64, 1, (int64_t[]){3}), false, &q, &r), TG_ERR_SHAPE, "qr 1-d");
    check_status(tg_linalg_qr(tg_ones(TG_F16, 2, (int64_t[]){2, 2}), false, &q, &r), TG_ERR_DTYPE, "qr f16");
    check_status(tg_linalg_lu_factor(NULL, &lu, &piv), TG_ERR_ARG, "lu_factor NULL");
    check_status(tg_linalg_lu_factor(a, &lu, NULL), TG_ERR_ARG, "lu_factor NULL pivots");
    check_status(tg_linalg_lu(a, &p, NULL, &u), TG_ERR_ARG, "lu NULL l");
    check_status(tg_linalg_lu(tg_ones(TG_BF16, 2, (int64_t[]){2, 2}), &p, &l, &u), TG_ERR_DTYPE, "lu bf16");
    check_status(tg_linalg_lu_factor(tg_ones(TG_F64, 1, (int64_t[]){3}), &lu, &piv), TG_ERR_SHAPE, "lu 1-d");
    /* batch item 1 singular (row 2 = 2 row 1): lu_factor refuses, lu factors it */
    double sing[2][3][3] = {{{2, 0, 0}, {0, 3, 0}, {0, 0, 4}}, {{1, 2, 3}, {2, 4, 6}, {1, 0, 1}}};
    tg_tensor *s = tg_from_data(TG_F64, 3, (int64_t[]){2, 3, 3}, sing);
    cr_expect_eq(tg_linalg_lu_factor(s, &lu, &piv), TG_ERR_NUMERIC);
    cr_expect(lu == NULL && piv == NULL);
    expect_msg("matrix 1 of the batch is singular (U[2,2] = 0");
    cr_expect_eq(tg_linalg_lu(s, &p, &l, &u), TG_OK, "%s", tg_last_error());
    check_close(tg_matmul(p, tg_matmul(l, u)), s, 0, 1e-14, "lu of a singular matrix: P L U = A");
    /* lu_solve */
    cr_assert_eq(tg_linalg_lu_factor(a, &lu, &piv), TG_OK);
    tg_tensor *b = tg_randn(TG_F64, 2, (int64_t[]){3, 2});
    check_error(tg_linalg_lu_solve(NULL, piv, b, false), TG_ERR_ARG, "lu_solve NULL");
    check_error(tg_linalg_lu_solve(lu, NULL, b, false), TG_ERR_ARG, "lu_solve NULL pivots");
    check_error(tg_linalg_lu_solve(lu, tg_cast(piv, TG_I64), b, false), TG_ERR_DTYPE, "lu_solve i64 pivots");
    check_error(tg_linalg_lu_solve(lu, tg_select(piv, 0, 0), b, false), TG_ERR_SHAPE, "lu_solve pivots shape");
    check_error(tg_linalg_lu_solve(lu, piv, tg_ones(TG_F64, 1, (int64_t[]){3}), false), TG_ERR_SHAPE,
                "lu_solve 1-d B");
    check_error(tg_linalg_lu_solve(lu, piv, tg_ones(TG_F64, 2, (int64_t[]){4, 2}), false), TG_ERR_SHAPE,
                "lu_solve B rows");
    check_error(tg_linalg_lu_solve(tg_randn(TG_F64, 2, (int64_t[]){3, 4}), tg_zeros(TG_I32, 1, (int64_t[]){3}),
                                   b, false), TG_ERR_SHAPE, "lu_solve non-square LU");
    int32_t badp[2][3] = {{1, 2, 3}, {3, 7, 3}};
    tg_linalg_lu_solve(lu, tg_from_data(TG_I32, 2, (int64_t[]){2, 3}, badp), b, false);
    cr_expect_eq(tg_last_error_code(), TG_ERR_ARG);
    expect_msg("pivot 1 of matrix 1 of the batch is 7, outside [1, 3]");
    /* eig */
    check_status(tg_linalg_eig(NULL, &w, &v), TG_ERR_ARG, "eig NULL");
    check_status(tg_linalg_eig(a, NULL, &v), TG_ERR_ARG, "eig NULL w");
    check_error(tg_linalg_eigvals(NULL), TG_ERR_ARG, "eigvals NULL");
    check_status(tg_linalg_eig(tg_randn(TG_F64, 2, (int64_t[]){3, 4}), &w, &v), TG_ERR_SHAPE, "eig non-square");
    check_error(tg_linalg_eigvals(tg_ones(TG_F16, 2, (int64_t[]){2, 2})), TG_ERR_DTYPE, "eigvals f16");
    double nanm[2][2][2] = {{{1, 0}, {0, 1}}, {{1, NAN}, {0, 1}}};
    check_status(tg_linalg_eig(tg_from_data(TG_F64, 3, (int64_t[]){2, 2, 2}, nanm), &w, &v), TG_ERR_NUMERIC,
                 "eig NaN");
    tg_linalg_eigvals(tg_from_data(TG_F64, 3, (int64_t[]){2, 2, 2}, nanm));
    cr_expect_eq(tg_last_error_code(), TG_ERR_NUMERIC);
    expect_msg("matrix 1 of the batch contains inf or NaN");
    tg_scope_end();
}

/* Derivative errors at backward time: complete QR with m > n, and an eig loss that depends on the phase. */
Test(linalg_decomp, derivative_errors) {
    tg_scope_begin();
    tg_tensor *a = tg_randn(TG_F64, 2, (int64_t[]){4, 2}), *q, *r;
    cr_assert_eq(tg_set_requires_grad(a, true), TG_OK);
    cr_assert_eq(tg_linalg_qr(a, true, &q, &r), TG_OK);
    check_status(tg_backward(tg_sum(r, 0, NULL, false), NULL), TG_ERR_AUTOGRAD, "complete qr, m > n");
    cr_assert_eq(tg_linalg_qr(a, true, &q, &r), TG_OK);
    tg_backward(tg_sum(q, 0, NULL, false), NULL);
    expect_msg("not differentiable when complete = true and m > n");
    /* complete with m <= n is the reduced decomposition: differentiable */
    tg_tensor *b = tg_randn(TG_F64, 2, (int64_t[]){2, 3});
    cr_assert_eq(tg_set_requires_grad(b, true), TG_OK);
    cr_assert_eq(tg_linalg_qr(b, true, &q, &r), TG_OK);
    check_status(tg_backward(tg_sum(q, 0, NULL, false), NULL), TG_OK, "complete qr, m < n");
    /* eig: sum(Re V) depends on the phase of each column */
    tg_tensor *c = tg_randn(TG_C128, 2, (int64_t[]){3, 3}), *w, *v;
    cr_assert_eq(tg_set_requires_grad(c, true), TG_OK);
    cr_assert_eq(tg_linalg_eig(c, &w, &v), TG_OK);
    check_status(tg_backward(tg_sum(tg_real(v), 0, NULL, false), NULL), TG_ERR_AUTOGRAD, "eig phase-dependent");
    cr_assert_eq(tg_linalg_eig(c, &w, &v), TG_OK);
    check_status(tg_backward(tg_sum(tg_abs(v), 0, NULL, false), NULL), TG_OK, "eig |V| is gauge invariant");
    tg_scope_end();
}

Test(linalg_decomp, qr_values) {
    tg_scope_begin();
    /* A = [[3, 1], [4, 2]]: Householder gives R[0,0] = -5 (LAPACK's sign) */
    double av[2][2] = {{3, 1}, {4, 2}};
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, av), *q, *r;
    cr_assert_eq(tg_linalg_qr(a, false, &q, &r), TG_OK);
    check_values_f64(r, 4, (double[]){-5, -11.0 / 5, 0, 2.0 / 5}, 1e-14, "qr R");
    check_values_f64(q, 4, (double[]){-0.6, -0.8, -0.8, 0.6}, 1e-14, "qr Q");
    /* shapes, orthonormality and reconstruction, complex, tall/wide, reduced/complete */
    int64_t shapes[4][3] = {{2, 5, 3}, {2, 3, 5}, {2, 4, 4}, {1, 6, 2}};
    tg_dtype dts[2] = {TG_C128, TG_F32};
    for (int di = 0; di < 2; di++)
        for (int si = 0; si < 4; si++)
            for (int complete = 0; complete < 2; complete++) {
                tg_dtype dt = dts[di];
                int64_t m = shapes[si][1], n = shapes[si][2], k = m < n ? m : n, qc = complete ? m : k;
                tg_tensor *x = tg_randn(dt, 3, shapes[si]);
                cr_assert_eq(tg_linalg_qr(x, complete, &q, &r), TG_OK, "%s", tg_last_error());
                cr_expect(tg_dim(q, 1) == m && tg_dim(q, 2) == qc && tg_dim(r, 1) == qc && tg_dim(r, 2) == n);
                /* column-major per matrix, as torch.linalg.qr (docs/linalg.md) */
                cr_expect(tg_strides(q)[1] == 1 && tg_strides(q)[2] == m && tg_strides(r)[1] == 1 &&
                          tg_strides(r)[2] == qc, "Q, R strides");
                check_close(tg_tril(r, -1), tg_zeros(dt, 3, (int64_t[]){shapes[si][0], qc, n}), 0, 0, "R upper");
                double tol = dt == TG_F32 ? 1e-5 : 1e-13;
                check_close(tg_matmul(q, r), x, tol, tol, "Q R = A");
                check_close(tg_matmul(mh(q), q), tg_broadcast_to(eye_like(dt, qc), 3, (int64_t[]){shapes[si][0], qc, qc}),
                            tol, tol, "Q^H Q = I");
                check_close(tg_tril(r, -1), tg_zeros(dt, 3, (int64_t[]){shapes[si][0], qc, n}), 0, 0, "R upper");
                if (tg_dtype_is_complex(dt))
                    check_close(tg_imag(tg_diagonal(r, 0, -2, -1)), tg_zeros(TG_F64, 2, (int64_t[]){shapes[si][0], k}),
                                0, 0, "diag R real");
            }
    /* empty: n = 0 (complete Q is the identity) and m = 0; int input computes in f64 */
    cr_assert_eq(tg_linalg_qr(tg_zeros(TG_F64, 2, (int64_t[]){3, 0}), true, &q, &r), TG_OK);
    check_close(q, eye_like(TG_F64, 3), 0, 0, "complete qr of 3 x 0");
    cr_expect(tg_dim(r, 0) == 3 && tg_dim(r, 1) == 0);
    cr_assert_eq(tg_linalg_qr(tg_zeros(TG_F64, 2, (int64_t[]){3, 0}), false, &q, &r), TG_OK);
    cr_expect(tg_dim(q, 0) == 3 && tg_dim(q, 1) == 0 && tg_dim(r, 0) == 0 && tg_dim(r, 1) == 0);
    cr_assert_eq(tg_linalg_qr(tg_zeros(TG_F32, 3, (int64_t[]){0, 2, 4}), false, &q, &r), TG_OK);
    cr_expect(tg_dim(q, 0) == 0 && tg_dim(q, 2) == 2 && tg_dim(r, 1) == 2 && tg_dim(r, 2) == 4);
    int64_t iv[4] = {3, 1, 4, 2};
    cr_assert_eq(tg_linalg_qr(tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, iv), false, &q, &r), TG_OK);
    cr_expect_eq(tg_dtype_of(r), TG_F64);
    check_values_f64(r, 4, (double[]){-5, -11.0 / 5, 0, 2.0 / 5}, 1e-14, "int qr R");
    /* strided: a transposed view */
    tg_tensor *m = tg_randn(TG_F64, 3, (int64_t[]){2, 3, 5});
    cr_assert_eq(tg_linalg_qr(tg_mT(m), false, &q, &r), TG_OK);
    check_close(tg_matmul(q, r), tg_mT(m), 1e-13, 1e-13, "strided qr");
    tg_scope_end();
}

Test(linalg_decomp, lu_values) {
    tg_scope_begin();
    /* A = [[1, 2], [3, 4]]: row swap, L = [[1, 0], [1/3, 1]], U = [[3, 4], [0, 2/3]] */
    double av[2][2] = {{1, 2}, {3, 4}};
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, av), *lu, *piv, *p, *l, *u;
    cr_assert_eq(tg_linalg_lu_factor(a, &lu, &piv), TG_OK);
    cr_expect_eq(tg_dtype_of(piv), TG_I32);
    check_values_f64(piv, 2, (double[]){2, 2}, 0, "pivots (1-based)");
    check_values_f64(lu, 4, (double[]){3, 4, 1.0 / 3, 2.0 / 3}, 1e-15, "packed LU");
    cr_assert_eq(tg_linalg_lu(a, &p, &l, &u), TG_OK);
    check_values_f64(p, 4, (double[]){0, 1, 1, 0}, 0, "P");
    check_values_f64(l, 4, (double[]){1, 0, 1.0 / 3, 1}, 1e-15, "L");
    check_values_f64(u, 4, (double[]){3, 4, 0, 2.0 / 3}, 1e-15, "U");
    double bv[2] = {5, 11};
    tg_tensor *x = tg_linalg_lu_solve(lu, piv, tg_from_data(TG_F64, 2, (int64_t[]){2, 1}, bv), false);
    check_values_f64(x, 2, (double[]){1, 2}, 1e-14, "lu_solve");
    x = tg_linalg_lu_solve(lu, piv, tg_from_data(TG_F64, 2, (int64_t[]){2, 1}, (double[]){7, 10}), true);
    check_values_f64(x, 2, (double[]){1, 2}, 1e-14, "lu_solve adjoint (A^T x = b)");
    /* rectangular and complex: P L U = A, shapes, unit L */
    int64_t shapes[3][3] = {{2, 5, 3}, {2, 3, 5}, {2, 4, 4}};
    for (int si = 0; si < 3; si++) {
        tg_tensor *y = tg_randn(TG_C128, 3, shapes[si]);
        int64_t m = shapes[si][1], n = shapes[si][2], k = m < n ? m : n;
        cr_assert_eq(tg_linalg_lu(y, &p, &l, &u), TG_OK);
        cr_expect(tg_dim(l, 2) == k && tg_dim(u, 1) == k && tg_dim(p, 1) == m && tg_dim(p, 2) == m);
        check_close(tg_matmul(p, tg_matmul(l, u)), y, 1e-13, 1e-13, "P L U = A");
        check_close(tg_diagonal(l, 0, -2, -1), tg_ones(TG_C128, 2, (int64_t[]){2, k}), 0, 0, "unit L");
        cr_assert_eq(tg_linalg_lu_factor(y, &lu, &piv), TG_OK);
        cr_expect(tg_dim(piv, 0) == 2 && tg_dim(piv, 1) == k);
        /* LU comes column-major per matrix (docs/linalg.md), packing L and U */
        const int64_t *ls = tg_strides(lu);
        cr_expect(ls[0] == m * n && ls[1] == 1 && ls[2] == m, "LU strides (%lld, %lld, %lld)", (long long)ls[0],
                  (long long)ls[1], (long long)ls[2]);
        tg_tensor *lk = tg_slice(lu, 2, 0, k, 1), *uk = tg_slice(lu, 1, 0, k, 1);
        check_close(tg_add(tg_tril(lk, -1), tg_slice(eye_like(TG_C128, m), 1, 0, k, 1)), l, 0, 0, "L from LU");
        check_close(tg_triu(uk, 0), u, 0, 0, "U from LU");
    }
    /* lu_solve with a complex batch, B broadcast over it, adjoint: A^H X = B */
    tg_tensor *c = tg_add(tg_randn(TG_C128, 3, (int64_t[]){2, 3, 3}), tg_mul_scalar(eye_like(TG_C128, 3), 3));
    tg_tensor *b = tg_randn(TG_C128, 2, (int64_t[]){3, 2});
    cr_assert_eq(tg_linalg_lu_factor(c, &lu, &piv), TG_OK);
    check_close(tg_matmul(c, tg_linalg_lu_solve(lu, piv, b, false)), tg_broadcast_to(b, 3, (int64_t[]){2, 3, 2}),
                1e-13, 1e-13, "A X = B, broadcast");
    check_close(tg_matmul(mh(c), tg_linalg_lu_solve(lu, piv, b, true)), tg_broadcast_to(b, 3, (int64_t[]){2, 3, 2}),
                1e-13, 1e-13, "A^H X = B, broadcast");
    /* strided pivots / LU / B (transposed views) */
    tg_tensor *luT = tg_contiguous(tg_mT(lu));
    tg_tensor *xs = tg_linalg_lu_solve(tg_mT(luT), piv, tg_mT(tg_contiguous(tg_mT(tg_cast(b, TG_C128)))), false);
    check_close(xs, tg_linalg_lu_solve(lu, piv, b, false), 0, 0, "strided lu_solve");
    tg_tensor *pivT = tg_mT(tg_contiguous(tg_mT(piv)));
    check_close(tg_linalg_lu_solve(lu, pivT, b, false), tg_linalg_lu_solve(lu, piv, b, false), 0, 0,
                "strided pivots");
    /* empty */
    cr_assert_eq(tg_linalg_lu_factor(tg_zeros(TG_F64, 3, (int64_t[]){2, 0, 0}), &lu, &piv), TG_OK);
    cr_expect(tg_dim(piv, 0) == 2 && tg_dim(piv, 1) == 0);
    cr_assert_eq(tg_linalg_lu(tg_zeros(TG_F64, 2, (int64_t[]){3, 0}), &p, &l, &u), TG_OK);
    check_close(p, eye_like(TG_F64, 3), 0, 0, "P of 3 x 0");
    cr_expect(tg_dim(l, 1) == 0 && tg_dim(u, 0) == 0 && tg_dim(u, 1) == 0);
    cr_assert_eq(tg_linalg_lu_factor(tg_zeros(TG_F64, 2, (int64_t[]){0, 0}), &lu, &piv), TG_OK);
    x = tg_linalg_lu_solve(lu, piv, tg_zeros(TG_F64, 2, (int64_t[]){0, 3}), false);
    cr_expect(x && tg_dim(x, 0) == 0 && tg_dim(x, 1) == 3);
    /* int input in f64 */
    int64_t iv[4] = {1, 2, 3, 4};
    cr_assert_eq(tg_linalg_lu_factor(tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, iv), &lu, &piv), TG_OK);
    check_values_f64(lu, 4, (double[]){3, 4, 1.0 / 3, 2.0 / 3}, 1e-15, "int lu");
    tg_scope_end();
}

Test(linalg_decomp, eig_values) {
    tg_scope_begin();
    /* rotation by 90 degrees: w = +-i, v = (1, -+i)/sqrt(2) up to phase */
    double rv[2][2] = {{0, -1}, {1, 0}};
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, rv), *w, *v;
    cr_assert_eq(tg_linalg_eig(a, &w, &v), TG_OK);
    cr_expect_eq(tg_dtype_of(w), TG_C128);
    cr_expect_eq(tg_dtype_of(v), TG_C128);
    check_close(tg_real(w), tg_zeros(TG_F64, 1, (int64_t[]){2}), 0, 0, "Re w");
    check_values_f64(tg_imag(w), 2, (double[]){1, -1}, 1e-15, "Im w: the pair, positive first (geev)");
    check_close(tg_real(tg_mul(v, tg_conj(v))), tg_full(TG_F64, 2, (int64_t[]){2, 2}, 0.5), 1e-15, 1e-15, "|V|^2");
    check_close(tg_matmul(tg_cast(a, TG_C128), v), tg_mul(v, tg_unsqueeze(w, -2)), 1e-15, 1e-15, "A V = V diag(w)");
    /* a real triangular matrix: real eigenvalues 2, 3 */
    double tv[2][2] = {{2, 1}, {0, 3}};
    check_values_f64(tg_real(tg_linalg_eigvals(tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, tv))), 2,
                     (double[]){2, 3}, 1e-15, "eigvals of a triangular matrix");
    /* random: batched residual and unit columns, f32 -> c64, c128, strided (transposed view) */
    tg_dtype dts[3] = {TG_F32, TG_F64, TG_C128};
    for (int di = 0; di < 3; di++) {
        tg_tensor *m = tg_mT(tg_randn(dts[di], 3, (int64_t[]){3, 4, 4}));
        cr_assert_eq(tg_linalg_eig(m, &w, &v), TG_OK, "%s", tg_last_error());
        tg_dtype cd = dts[di] == TG_F32 ? TG_C64 : TG_C128;
        cr_expect_eq(tg_dtype_of(w), cd);
        double tol = dts[di] == TG_F32 ? 1e-4 : 1e-12;
        check_close(tg_matmul(tg_cast(m, cd), v), tg_mul(v, tg_unsqueeze(w, -2)), tol, tol, "A V = V diag(w)");
        tg_tensor *nrm = tg_sum(tg_real(tg_mul(v, tg_conj(v))), 1, (int[]){-2}, false);
        check_close(nrm, tg_ones(tg_real_dtype(cd), 2, (int64_t[]){3, 4}), tol, tol, "unit columns");
        check_close(tg_linalg_eigvals(m), w, 0, 0, "eigvals = eig's w");
    }
    /* empty */
    cr_assert_eq(tg_linalg_eig(tg_zeros(TG_F32, 3, (int64_t[]){2, 0, 0}), &w, &v), TG_OK);
    cr_expect(tg_dtype_of(w) == TG_C64 && tg_dim(w, 0) == 2 && tg_dim(w, 1) == 0 && tg_dim(v, 2) == 0);
    cr_assert_eq(tg_linalg_eig(tg_zeros(TG_F64, 3, (int64_t[]){0, 3, 3}), &w, NULL), TG_OK);
    cr_expect(tg_dim(w, 0) == 0 && tg_dim(w, 1) == 3);
    tg_scope_end();
}

/* NaN propagates through qr and lu (no error, as NumPy/PyTorch); eig refuses it (errors test). */
Test(linalg_decomp, nan_inputs) {
    tg_scope_begin();
    double nv[2][2] = {{NAN, 1}, {1, 1}};
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, nv), *q, *r, *p, *l, *u;
    cr_assert_eq(tg_linalg_qr(a, false, &q, &r), TG_OK, "%s", tg_last_error());
    cr_expect(tg_item_f64(tg_sum(tg_isnan(r), 0, NULL, false)) > 0, "NaN in R");
    cr_assert_eq(tg_linalg_lu(a, &p, &l, &u), TG_OK, "%s", tg_last_error());
    cr_expect(tg_item_f64(tg_sum(tg_isnan(tg_add(l, u)), 0, NULL, false)) > 0, "NaN in L or U");
    tg_tensor *lu, *piv, *b = tg_from_data(TG_F64, 2, (int64_t[]){2, 1}, (double[]){NAN, 1});
    cr_assert_eq(tg_linalg_lu_factor(tg_eye(TG_F64, 2, -1), &lu, &piv), TG_OK);
    tg_tensor *x = tg_linalg_lu_solve(lu, piv, b, false);
    cr_assert_not_null(x, "%s", tg_last_error());
    check_values_f64(tg_slice(x, 0, 0, 1, 1), 1, (double[]){NAN}, 0, "lu_solve: NaN in B propagates");
    tg_scope_end();
}

/* ---- traced mode --------------------------------------------------------------------------- */
enum { T_QR, T_QR_COMPLETE, T_LU_FACTOR, T_LU_SOLVE, T_EIG };
static tg_status tfn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    switch (*(int *)ctx) {
    case T_QR: return tg_linalg_qr(in[0], false, &out[0], &out[1]);
    case T_QR_COMPLETE: return tg_linalg_qr(in[0], true, &out[0], &out[1]);
    case T_LU_FACTOR: return tg_linalg_lu_factor(in[0], &out[0], &out[1]);
    case T_LU_SOLVE: out[0] = tg_linalg_lu_solve(in[0], in[1], in[2], false); break;
    default: return tg_linalg_eig(in[0], &out[0], &out[1]);
    }
    return out[0] ? TG_OK : tg_last_error_code();
}

static void trace_ok(int op, int n_in, const tg_spec *specs, int n_out, tg_tensor *const *x) {
    tg_graph *g = tg_trace(tfn, &op, n_in, specs, n_out);
    cr_assert_not_null(g, "trace op %d: %s", op, tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    tg_tensor *got[2] = {NULL, NULL}, *want[2] = {NULL, NULL};
    check_status(tfn(&op, x, want), TG_OK, "eager");
    check_status(tg_run(p, x, got), TG_OK, "run");
    for (int j = 0; j < n_out; j++) check_close(got[j], want[j], 0, 0, "compiled equals eager");
    tg_program_free(p);
    tg_graph_free(g);
}

static void trace_fails(int op, int n_in, const tg_spec *specs, int n_out, const char *what) {
    cr_expect_null(tg_trace(tfn, &op, n_in, specs, n_out), "%s", what);
    check_status(tg_last_error_code(), TG_ERR_SHAPE, what);
}

Test(linalg_decomp, traced) {
    tg_scope_begin();
    tg_tensor *a = tg_randn(TG_F64, 3, (int64_t[]){2, 3, 3}), *lu, *piv;
    trace_ok(T_QR, 1, (tg_spec[]){{TG_F64, "B, N, N"}}, 2, &a);
    trace_ok(T_LU_FACTOR, 1, (tg_spec[]){{TG_F64, "B, N, N"}}, 2, &a);
    trace_ok(T_EIG, 1, (tg_spec[]){{TG_F64, "B, N, N"}}, 2, &a);
    cr_assert_eq(tg_linalg_lu_factor(a, &lu, &piv), TG_OK);
    tg_tensor *x3[3] = {lu, piv, tg_randn(TG_F64, 3, (int64_t[]){2, 3, 2})};
    trace_ok(T_LU_SOLVE, 3, (tg_spec[]){{TG_F64, "B, N, N"}, {TG_I32, "B, N"}, {TG_F64, "B, N, K"}}, 1, x3);
    tg_tensor *r = tg_randn(TG_F64, 3, (int64_t[]){2, 5, 3});
    trace_ok(T_QR_COMPLETE, 1, (tg_spec[]){{TG_F64, "B, M, N"}}, 2, &r);   /* complete needs no min(m, n) */
    trace_ok(T_QR, 1, (tg_spec[]){{TG_F64, "B, 5, 3"}}, 2, &r);
    trace_fails(T_QR, 1, (tg_spec[]){{TG_F64, "B, M, N"}}, 2, "reduced qr: min(M, N) unknown");
    trace_fails(T_LU_FACTOR, 1, (tg_spec[]){{TG_F64, "B, M, N"}}, 2, "lu_factor: min(M, N) unknown");
    trace_fails(T_EIG, 1, (tg_spec[]){{TG_F64, "B, M, N"}}, 2, "eig of M x N");
    trace_fails(T_LU_SOLVE, 3, (tg_spec[]){{TG_F64, "B, M, N"}, {TG_I32, "B, N"}, {TG_F64, "B, N, K"}}, 1,
                "lu_solve with M x N LU");
    tg_scope_end();
}

/* ---- gradient checks ---------------------------------------------------------------------- */
enum { G_QR, G_QR_COMPLETE, G_LU_FACTOR, G_LU, G_LU_SOLVE, G_LU_SOLVE_ADJ, G_EIG, G_EIGVALS };
typedef struct { int op; tg_tensor *piv; } gctx;
static tg_status gfn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const gctx *g = ctx;
    tg_tensor *piv = NULL, *w = NULL, *v = NULL;
    tg_status st = TG_OK;
    switch (g->op) {
    case G_QR: return tg_linalg_qr(in[0], false, &out[0], &out[1]);
    case G_QR_COMPLETE: return tg_linalg_qr(in[0], true, &out[0], &out[1]);
    case G_LU_FACTOR: return tg_linalg_lu_factor(in[0], &out[0], &piv);
    case G_LU: return tg_linalg_lu(in[0], NULL, &out[0], &out[1]);
    case G_LU_SOLVE: out[0] = tg_linalg_lu_solve(in[0], g->piv, in[1], false); break;
    case G_LU_SOLVE_ADJ: out[0] = tg_linalg_lu_solve(in[0], g->piv, in[1], true); break;
    case G_EIG:   /* gauge-invariant outputs: w and |V|^2 */
        st = tg_linalg_eig(in[0], &w, &v);
        out[0] = w;
        out[1] = st ? NULL : tg_real(tg_mul(v, tg_conj(v)));
        return st ? st : out[1] ? TG_OK : tg_last_error_code();
    default: out[0] = tg_linalg_eigvals(in[0]); break;
    }
    return out[0] ? TG_OK : tg_last_error_code();
}

static void check_grads(gctx g, tg_dtype dt, int n_in, tg_tensor **x, int n_out, bool second, const char *what) {
    tg_status st = tg_gradcheck(gfn, &g, n_in, x, n_out, NULL);
    cr_expect_eq(st, TG_OK, "gradcheck %s %s: %s", what, tg_dtype_name(dt), tg_last_error());
    tg_clear_error();
    if (!second) return;
    st = tg_gradgradcheck(gfn, &g, n_in, x, n_out, NULL);
    cr_expect_eq(st, TG_OK, "gradgradcheck %s %s: %s", what, tg_dtype_name(dt), tg_last_error());
    tg_clear_error();
}

static void check_grads_qr(tg_dtype dt) {
    tg_scope_begin();
    tg_manual_seed(21);
    int64_t shapes[3][3] = {{2, 4, 3}, {2, 3, 3}, {2, 3, 5}};
    for (int si = 0; si < 3; si++) {
        tg_tensor *a = tg_randn(dt, 3, shapes[si]);
        check_grads((gctx){G_QR, NULL}, dt, 1, &a, 2, true, si == 0 ? "qr tall" : si == 1 ? "qr square" : "qr wide");
    }
    tg_tensor *a = tg_randn(dt, 3, shapes[2]);
    check_grads((gctx){G_QR_COMPLETE, NULL}, dt, 1, &a, 2, true, "qr complete wide");
    tg_scope_end();
}

static void check_grads_lu(tg_dtype dt) {
    tg_scope_begin();
    tg_manual_seed(22);
    int64_t shapes[3][3] = {{2, 5, 3}, {2, 3, 3}, {2, 3, 5}};
    for (int si = 0; si < 3; si++) {
        tg_tensor *a = tg_randn(dt, 3, shapes[si]);
        const char *what = si == 0 ? "tall" : si == 1 ? "square" : "wide";
        check_grads((gctx){G_LU_FACTOR, NULL}, dt, 1, &a, 1, true, what);
        check_grads((gctx){G_LU, NULL}, dt, 1, &a, 2, false, what);
    }
    tg_tensor *a = tg_add(tg_randn(dt, 3, (int64_t[]){2, 3, 3}), tg_mul_scalar(tg_eye(dt, 3, -1), 2.0)), *lu, *piv;
    cr_assert_eq(tg_linalg_lu_factor(a, &lu, &piv), TG_OK);
    tg_tensor *x[2] = {lu, tg_randn(dt, 2, (int64_t[]){3, 2})};     /* B broadcast over the batch */
    check_grads((gctx){G_LU_SOLVE, piv}, dt, 2, x, 1, true, "lu_solve");
    check_grads((gctx){G_LU_SOLVE_ADJ, piv}, dt, 2, x, 1, true, "lu_solve adjoint");
    tg_tensor *lu1 = tg_select(lu, 0, 1), *piv1 = tg_select(piv, 0, 1);
    tg_tensor *x1[2] = {lu1, tg_randn(dt, 3, (int64_t[]){2, 3, 4})};  /* LU broadcast over B's batch */
    check_grads((gctx){G_LU_SOLVE, piv1}, dt, 2, x1, 1, true, "lu_solve, LU broadcast");
    check_grads((gctx){G_LU_SOLVE_ADJ, piv1}, dt, 2, x1, 1, true, "lu_solve adjoint, LU broadcast");
    tg_scope_end();
}

static void check_grads_eig(tg_dtype dt) {
    tg_scope_begin();
    tg_manual_seed(23);
    tg_tensor *a = tg_randn(dt, 3, (int64_t[]){2, 3, 3});
    check_grads((gctx){G_EIG, NULL}, dt, 1, &a, 2, true, "eig (w, |V|^2)");
    check_grads((gctx){G_EIGVALS, NULL}, dt, 1, &a, 1, true, "eigvals");
    tg_scope_end();
}

Test(linalg_decomp, gradcheck_qr_f64) { check_grads_qr(TG_F64); }
Test(linalg_decomp, gradcheck_qr_c128) { check_grads_qr(TG_C128); }
Test(linalg_decomp, gradcheck_lu_f64) { check_grads_lu(TG_F64); }
Test(linalg_decomp, gradcheck_lu_c128) { check_grads_lu(TG_C128); }
Test(linalg_decomp, gradcheck_eig_f64) { check_grads_eig(TG_F64); }
Test(linalg_decomp, gradcheck_eig_c128) { check_grads_eig(TG_C128); }
