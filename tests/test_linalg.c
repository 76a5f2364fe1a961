/* linalg module: errors (singular, not positive definite, shapes, dtypes),
 * small exact values, and gradient checks (first and second order) in f64
 * and c128, batched. Oracle values: tests/test_oracle_linalg.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support/check.h"
#include "linalg/linalg_internal.h"

TestSuite(linalg, .init = tg_clear_error);

static void expect_msg(const char *part) {
    cr_expect(strstr(tg_last_error(), part) != NULL, "message lacks \"%s\": %s", part, tg_last_error());
    tg_clear_error();
}

Test(linalg, errors) {
    tg_scope_begin();
    /* batch item 1 singular: row 2 = row 1 */
    double sing[2][3][3] = {{{2, 0, 0}, {0, 3, 0}, {0, 0, 4}}, {{1, 2, 3}, {2, 4, 6}, {1, 0, 1}}};
    tg_tensor *a = tg_from_data(TG_F64, 3, (int64_t[]){2, 3, 3}, sing);
    tg_tensor *b = tg_ones(TG_F64, 2, (int64_t[]){3, 2});
    cr_expect_null(tg_linalg_solve(a, b));
    cr_expect_eq(tg_last_error_code(), TG_ERR_NUMERIC);
    expect_msg("matrix 1 of the batch is singular");
    /* the same when the solve will be differentiated (it keeps A's factors
     * for the rules: linalg_solve_lu) */
    tg_tensor *ag = tg_detach(a);
    tg_set_requires_grad(ag, true);
    cr_expect_null(tg_linalg_solve(ag, b));
    cr_expect_eq(tg_last_error_code(), TG_ERR_NUMERIC);
    expect_msg("matrix 1 of the batch is singular (U[1,1] = 0)");
    cr_expect_null(tg_linalg_inv(a));
    expect_msg("singular");
    double np[2][2] = {{1, 2}, {2, 1}};
    tg_tensor *n = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, np);
    cr_expect_null(tg_linalg_cholesky(n, false));
    cr_expect_eq(tg_last_error_code(), TG_ERR_NUMERIC);
    expect_msg("leading minor of order 2");
    tg_tensor *r = tg_randn(TG_F64, 2, (int64_t[]){3, 4});
    check_error(tg_linalg_solve(r, b), TG_ERR_SHAPE, "non-square A");
    check_error(tg_linalg_solve(tg_eye(TG_F64, 3, -1), tg_ones(TG_F64, 2, (int64_t[]){4, 2})), TG_ERR_SHAPE,
                "mismatched n");
    tg_linalg_solve(tg_randn(TG_F64, 3, (int64_t[]){2, 3, 3}), tg_ones(TG_F64, 3, (int64_t[]){4, 3, 1}));
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    expect_msg("(4, 3, 1)");
    check_error(tg_linalg_det(r), TG_ERR_SHAPE, "det non-square");
    check_error(tg_linalg_cholesky(tg_ones(TG_F64, 1, (int64_t[]){3}), false), TG_ERR_SHAPE, "cholesky 1-d");
    check_error(tg_linalg_triangular_solve(r, b, true, true, false), TG_ERR_SHAPE, "trsolve non-square");
    check_error(tg_linalg_inv(tg_ones(TG_F16, 2, (int64_t[]){2, 2})), TG_ERR_DTYPE, "f16 inv");
    check_error(tg_linalg_solve(NULL, b), TG_ERR_ARG, "NULL");
    tg_tensor *s = NULL;
    check_status(tg_linalg_slogdet(a, &s, NULL), TG_ERR_ARG, "slogdet NULL out");
    check_error(tg_linalg_cross(r, NULL, -1), TG_ERR_ARG, "cross NULL");
    tg_tensor *v3 = tg_ones(TG_F64, 2, (int64_t[]){2, 3});
    check_error(tg_linalg_cross(v3, r, -1), TG_ERR_SHAPE, "cross shapes do not broadcast");
    check_error(tg_linalg_cross(v3, v3, 0), TG_ERR_SHAPE, "cross dim of size 2");
    check_error(tg_linalg_cross(v3, v3, 2), TG_ERR_ARG, "cross dim out of range");
    check_error(tg_linalg_cross(v3, v3, -3), TG_ERR_ARG, "cross negative dim out of range");
    check_error(tg_linalg_cross(tg_scalar(TG_F64, 1), tg_scalar(TG_F64, 2), 0), TG_ERR_ARG, "cross 0-d");
    check_error(tg_linalg_vector_norm(NULL, 2, 0, NULL, false), TG_ERR_ARG, "vector_norm NULL");
    check_error(tg_linalg_vector_norm(r, 0, 0, NULL, false), TG_ERR_ARG, "vector_norm ord 0");
    check_error(tg_linalg_vector_norm(r, NAN, 0, NULL, false), TG_ERR_ARG, "vector_norm ord NaN");
    check_error(tg_linalg_vector_norm(r, 2, 1, (int[]){2}, false), TG_ERR_ARG, "vector_norm bad axis");
    check_error(tg_linalg_vector_norm(tg_ones(TG_F16, 1, (int64_t[]){3}), 2, 0, NULL, false), TG_ERR_DTYPE,
                "vector_norm f16");
    check_error(tg_linalg_matrix_power(NULL, 2), TG_ERR_ARG, "matrix_power NULL");
    check_error(tg_linalg_matrix_power(r, 2), TG_ERR_SHAPE, "matrix_power non-square");
    check_error(tg_linalg_matrix_power(tg_ones(TG_F64, 1, (int64_t[]){3}), 0), TG_ERR_SHAPE, "matrix_power 1-d");
    check_error(tg_linalg_matrix_power(a, -1), TG_ERR_NUMERIC, "matrix_power of a singular A, n < 0");
    check_error(tg_linalg_matrix_power(a, INT64_MIN), TG_ERR_ARG, "matrix_power INT64_MIN");
    /* NaN in A or in B is LAPACKE's invalid-argument report (docs/linalg.md),
     * also with the factors reused (getrs checks B only) */
    double wc[2][2] = {{2, 1}, {1, 3}};
    tg_tensor *aw = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, wc);
    tg_tensor *bn = tg_from_data(TG_F64, 2, (int64_t[]){2, 1}, (double[]){1, NAN});
    tg_tensor *an = tg_copy(aw);
    tg_copy_(tg_select(tg_select(an, 0, 1), 0, 0), tg_scalar(TG_F64, NAN));
    check_error(tg_linalg_solve(an, tg_ones(TG_F64, 2, (int64_t[]){2, 1})), TG_ERR_NUMERIC, "solve NaN in A");
    check_error(tg_linalg_solve(aw, bn), TG_ERR_NUMERIC, "solve NaN in B");
    /* triangular_solve: a zero diagonal is an error naming it (unless unit),
     * NaN in B propagates (as torch.linalg.solve_triangular), and A read in
     * place by rows, by columns or copied gives the same X */
    double tz[3][3] = {{2, 1, 1}, {0, 0, 1}, {0, 0, 4}};
    tg_tensor *az = tg_from_data(TG_F64, 2, (int64_t[]){3, 3}, tz), *b3 = tg_ones(TG_F64, 2, (int64_t[]){3, 2});
    check_error(tg_linalg_triangular_solve(az, b3, true, true, false), TG_ERR_NUMERIC, "zero diagonal");
    cr_expect(tg_linalg_triangular_solve(az, b3, true, true, false) == NULL &&
              strstr(tg_last_error(), "is singular (A[1,1] = 0)") != NULL, "%s", tg_last_error());
    tg_clear_error();
    check_values_f64(tg_linalg_triangular_solve(az, b3, true, true, true), 6, (double[]){0, 0, 0, 0, 1, 1}, 0,
                     "unit diagonal ignores the zero");
    tg_tensor *xn = tg_linalg_triangular_solve(aw, tg_from_data(TG_F64, 2, (int64_t[]){2, 1}, (double[]){NAN, 1}),
                                               false, true, false);
    cr_expect(xn && isnan(tg_item_f64(tg_select(tg_select(xn, 0, 0), 0, 0))), "NaN in B propagates");
    tg_tensor *ar = tg_randn(TG_C128, 3, (int64_t[]){2, 5, 5}), *br = tg_randn(TG_C128, 3, (int64_t[]){2, 5, 3});
    ar = tg_add(ar, tg_mul_scalar(tg_eye(TG_C128, 5, -1), 4));
    tg_tensor *want = tg_linalg_triangular_solve(ar, br, false, true, false);
    check_close(tg_matmul(tg_tril(ar, 0), want), br, 1e-12, 1e-12, "L X = B");
    tg_tensor *acm = tg_mT(tg_contiguous(tg_mT(ar)));                  /* columns unit-stride */
    tg_tensor *wide = tg_zeros(TG_C128, 3, (int64_t[]){2, 5, 10});
    tg_copy_(tg_slice(wide, 2, 0, 10, 2), ar);
    tg_tensor *ast = tg_slice(wide, 2, 0, 10, 2);                      /* column stride 2 */
    check_close(tg_linalg_triangular_solve(acm, br, false, true, false), want, 1e-14, 1e-14, "A by columns");
    check_close(tg_linalg_triangular_solve(ast, br, false, true, false), want, 1e-14, 1e-14, "A strided, copied");
    check_close(tg_linalg_triangular_solve(tg_mT(tg_contiguous(tg_mT(ar))), tg_mT(tg_contiguous(tg_mT(br))), false,
                                           true, false), want, 1e-14, 1e-14, "B by columns");
    tg_tensor *awg = tg_detach(aw);
    tg_set_requires_grad(awg, true);
    check_error(tg_linalg_solve(awg, bn), TG_ERR_NUMERIC, "solve NaN in B, factors kept");
    tg_scope_end();
}

/* A batch large enough to run across threads: results equal one-thread
 * results bitwise (each item is the same LAPACK call), and the error names
 * the first failing item whichever thread met it. */
/* cond of empty matrices is 0, as torch.linalg.cond gives (2.x; NumPy
 * raises): (0, 0), a batch of two (0, 0) and a (0, 3) for every ord that
 * takes it; fro and nuc need square matrices, as there. */
Test(linalg, cond_of_empty_matrices) {
    tg_scope_begin();
    static const char *ords[] = {NULL, "2", "-2", "fro", "nuc", "1", "-1", "inf", "-inf"};
    int64_t s00[2] = {0, 0}, s200[3] = {2, 0, 0}, s03[2] = {0, 3};
    for (size_t k = 0; k < sizeof ords / sizeof ords[0]; k++) {
        const char *o = ords[k];
        tg_tensor *a = tg_linalg_cond(tg_zeros(TG_F64, 2, s00), o);
        cr_assert_not_null(a, "ord %s (0, 0): %s", o ? o : "NULL", tg_last_error());
        cr_expect(tg_ndim(a) == 0 && tg_item_f64(a) == 0.0, "ord %s (0, 0): not a 0-d 0", o ? o : "NULL");
        tg_tensor *b = tg_linalg_cond(tg_zeros(TG_C128, 3, s200), o);
        cr_assert_not_null(b, "ord %s (2, 0, 0): %s", o ? o : "NULL", tg_last_error());
        cr_expect(tg_dtype_of(b) == TG_F64 && tg_ndim(b) == 1 && tg_shape(b)[0] == 2, "ord %s (2, 0, 0): shape",
                  o ? o : "NULL");
        cr_expect(tg_item_f64(tg_max(tg_abs(b), 0, NULL, false)) == 0.0, "ord %s (2, 0, 0): not 0", o ? o : "NULL");
        bool square_only = o && (!strcmp(o, "fro") || !strcmp(o, "nuc"));
        tg_tensor *c = tg_linalg_cond(tg_zeros(TG_F32, 2, s03), o);
        if (square_only) {
            cr_expect_null(c, "ord %s of a (0, 3) matrix", o);
            cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE, "%s", tg_last_error());
            tg_clear_error();
        } else {
            cr_assert_not_null(c, "ord %s (0, 3): %s", o ? o : "NULL", tg_last_error());
            cr_expect(tg_dtype_of(c) == TG_F32 && tg_ndim(c) == 0 && tg_item_f64(c) == 0.0, "ord %s (0, 3)",
                      o ? o : "NULL");
        }
    }
    tg_scope_end();
}

Test(linalg, parallel_batches) {
    tg_scope_begin();
    tg_manual_seed(3);
    int64_t shape[3] = {64, 16, 16};
    tg_tensor *a = tg_contiguous(tg_add(tg_randn(TG_F64, 3, shape), tg_mul_scalar(tg_eye(TG_F64, 16, -1), 8.0)));
    tg_tensor *b = tg_randn(TG_F64, 3, (int64_t[]){64, 16, 3});
    tg_tensor *spd = tg_add(tg_matmul(a, tg_mT(a)), tg_mul_scalar(tg_eye(TG_F64, 16, -1), 1.0));
    tg_tensor *r1[19], *r2[19];
    for (int pass = 0; pass < 2; pass++) {
        tg_set_num_threads(pass ? 2 : 1);
        tg_tensor **r = pass ? r2 : r1;
        r[0] = tg_linalg_solve(a, b);
        r[1] = tg_linalg_det(a);
        r[2] = tg_linalg_cholesky(spd, false);
        r[3] = tg_linalg_triangular_solve(r[2], b, false, true, false);
        cr_assert_eq(tg_linalg_eigh(spd, &r[4], &r[5]), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_linalg_svd(a, false, &r[6], &r[7], &r[8]), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_linalg_qr(b, false, &r[9], &r[10]), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_linalg_lu_factor(a, &r[11], &r[12]), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_linalg_eig(a, &r[13], &r[14]), TG_OK, "%s", tg_last_error());
        r[15] = tg_linalg_lu_solve(r[11], r[12], b, false);
        r[16] = tg_linalg_lu_solve(r[11], r[12], b, true);
        tg_tensor *tall = tg_slice(tg_concat(2, (tg_tensor *[]){a, a}, 1), 2, 0, 12, 1);   /* (64, 32, 12) */
        cr_assert_eq(tg_linalg_lstsq(tall, tg_concat(2, (tg_tensor *[]){b, b}, 1), -1, &r[17], NULL, &r[18], NULL),
                     TG_OK, "%s", tg_last_error());
    }
    for (int i = 0; i < 19; i++) check_close(r2[i], r1[i], 0, 0, "2 threads equal 1 thread");
    tg_tensor *bad = tg_copy(spd);
    tg_copy_(tg_select(tg_select(bad, 0, 33), 0, 5), tg_scalar(TG_F64, NAN));
    tg_tensor *w, *v;
    cr_expect_neq(tg_linalg_eigh(bad, &w, &v), TG_OK);
    expect_msg("matrix 33 of the batch contains non-finite values");
    /* items 40 and 50 singular (row 3 zero): the error names 40 */
    tg_tensor *s = tg_copy(a);
    for (int item = 40; item <= 50; item += 10) tg_copy_(tg_select(tg_select(s, 0, item), 0, 3), tg_scalar(TG_F64, 0));
    cr_expect_null(tg_linalg_solve(s, b));
    expect_msg("matrix 40 of the batch is singular");
    tg_tensor *np = tg_copy(spd);
    tg_copy_(tg_select(tg_select(np, 0, 45), 0, 0), tg_mul_scalar(tg_select(tg_select(np, 0, 45), 0, 0), -1.0));
    cr_expect_null(tg_linalg_cholesky(np, false));
    expect_msg("matrix 45 of the batch is not positive definite (the leading minor of order 1");
    tg_set_num_threads(0);
    tg_scope_end();
}


Test(linalg, values) {
    tg_scope_begin();
    double av[2][2] = {{3, 1}, {1, 2}}, bv[2] = {9, 8};
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, av), *b = tg_from_data(TG_F64, 1, (int64_t[]){2}, bv);
    check_values_f64(tg_linalg_solve(a, b), 2, (double[]){2, 3}, 1e-13, "solve vector");
    check_values_f64(tg_linalg_det(a), 1, (double[]){5}, 1e-13, "det");
    check_values_f64(tg_linalg_inv(a), 4, (double[]){0.4, -0.2, -0.2, 0.6}, 1e-13, "inv");
    tg_tensor *s, *l;
    cr_expect_eq(tg_linalg_slogdet(tg_neg(a), &s, &l), TG_OK);
    check_values_f64(s, 1, (double[]){1}, 0, "slogdet sign");
    check_values_f64(l, 1, (double[]){log(5.0)}, 1e-13, "slogdet logabs");
    tg_tensor *L = tg_linalg_cholesky(a, false);
    check_values_f64(L, 4, (double[]){sqrt(3.0), 0, 1 / sqrt(3.0), sqrt(2 - 1.0 / 3)}, 1e-13, "cholesky");
    check_close(tg_matmul(L, tg_mT(L)), a, 1e-12, 1e-13, "L L^T");
    check_close(tg_linalg_cholesky(a, true), tg_mT(L), 0, 0, "upper");
    int64_t iv[4] = {2, 0, 0, 4};
    check_values_f64(tg_linalg_det(tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, iv)), 1, (double[]){8}, 0, "int det");
    /* matrix_power: A^0 = I per batch item (a fresh tensor), A^1 a copy, int A in f64 */
    tg_tensor *a2 = tg_stack(2, (tg_tensor *[]){a, tg_neg(a)}, 0);
    tg_tensor *p0 = tg_linalg_matrix_power(a2, 0);
    check_values_f64(p0, 8, (double[]){1, 0, 0, 1, 1, 0, 0, 1}, 0, "matrix_power 0");
    tg_tensor *p1 = tg_linalg_matrix_power(a, 1);
    cr_expect(p1 && p1 != a, "matrix_power 1 is a new tensor");
    check_values_f64(p1, 4, (double[]){3, 1, 1, 2}, 0, "matrix_power 1");
    int64_t ip[4] = {1, 1, 0, 1};
    tg_tensor *pi = tg_linalg_matrix_power(tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, ip), 5);
    cr_expect(pi && tg_dtype_of(pi) == TG_F64, "int input computes in f64");
    check_values_f64(pi, 4, (double[]){1, 5, 0, 1}, 0, "int matrix_power 5");
    /* cross: e_x x e_y = e_z, and a x a = 0 */
    double ex[2][3] = {{1, 0, 0}, {2, 3, 4}}, ey[3] = {0, 1, 0};
    tg_tensor *cx = tg_linalg_cross(tg_from_data(TG_F64, 2, (int64_t[]){2, 3}, ex),
                                    tg_from_data(TG_F64, 1, (int64_t[]){3}, ey), -1);
    check_values_f64(cx, 6, (double[]){0, 0, 1, -4, 0, 2}, 0, "cross");
    /* vector_norm: 3-4-5, int input in f64, and a zero gradient (not NaN) where the norm is 0 */
    int64_t v34[2] = {3, -4};
    tg_tensor *n5 = tg_linalg_vector_norm(tg_from_data(TG_I64, 1, (int64_t[]){2}, v34), 2, 0, NULL, false);
    cr_expect(n5 && tg_dtype_of(n5) == TG_F64, "int vector_norm computes in f64");
    check_values_f64(n5, 1, (double[]){5}, 1e-15, "vector_norm 3-4-5");
    tg_dtype zdt[2] = {TG_F64, TG_C128};
    for (int k = 0; k < 2; k++) {
        tg_tensor *z = tg_zeros(zdt[k], 1, (int64_t[]){3});
        cr_assert_eq(tg_set_requires_grad(z, true), TG_OK);
        tg_tensor *nz = tg_linalg_vector_norm(z, 2, 0, NULL, false);
        check_values_f64(nz, 1, (double[]){0}, 0, "norm of zeros");
        cr_expect_eq(tg_backward(nz, NULL), TG_OK, "%s", tg_last_error());
        check_close(tg_abs(tg_grad(z)), tg_zeros(TG_F64, 1, (int64_t[]){3}), 0, 0, "zero gradient at 0");
    }
    /* strided: a transposed view */
    tg_tensor *m = tg_randn(TG_F64, 3, (int64_t[]){2, 4, 4});
    tg_tensor *x = tg_linalg_solve(tg_mT(m), tg_eye(TG_F64, 4, -1));
    check_close(tg_matmul(tg_mT(m), x), tg_broadcast_to(tg_eye(TG_F64, 4, -1), 3, (int64_t[]){2, 4, 4}), 1e-10,
                1e-10, "strided solve");
    tg_scope_end();
}

/* ---- gradient checks ---------------------------------------------------------------------- */
enum { G_SOLVE, G_SOLVE_VEC, G_INV, G_DET, G_LOGABS, G_SLOGDET_BOTH, G_TRI_UL, G_TRI_LR, G_TRI_UNIT, G_CHOL,
       G_CHOL_UP, G_MPOW3, G_MPOW_NEG2, G_CROSS, G_NORM2, G_NORM3, G_NORM_INF };
typedef struct { int op; } gctx;
static tg_tensor *herm(tg_tensor *a) { return tg_mul_scalar(tg_add(a, tg_conj(tg_mT(a))), 0.5); }
static tg_status gfn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const gctx *g = ctx;
    tg_tensor *s = NULL, *l = NULL;
    switch (g->op) {
    case G_SOLVE: case G_SOLVE_VEC: out[0] = tg_linalg_solve(in[0], in[1]); break;
    case G_INV: out[0] = tg_linalg_inv(in[0]); break;
    case G_MPOW3: out[0] = tg_linalg_matrix_power(in[0], 3); break;
    case G_MPOW_NEG2: out[0] = tg_linalg_matrix_power(in[0], -2); break;
    case G_CROSS: out[0] = tg_linalg_cross(in[0], in[1], 1); break;
    case G_NORM2: out[0] = tg_linalg_vector_norm(in[0], 2, 1, (int[]){-1}, false); break;
    case G_NORM3: out[0] = tg_linalg_vector_norm(in[0], 3, 0, NULL, true); break;
    case G_NORM_INF: out[0] = tg_linalg_vector_norm(in[0], INFINITY, 1, (int[]){0}, false); break;
    case G_DET: out[0] = tg_linalg_det(in[0]); break;
    case G_LOGABS:
        if (tg_linalg_slogdet(in[0], &s, &l)) return tg_last_error_code();
        out[0] = l;
        break;
    case G_SLOGDET_BOTH:
        if (tg_linalg_slogdet(in[0], &s, &l)) return tg_last_error_code();
        out[0] = s; out[1] = l;
        break;
    case G_TRI_UL: out[0] = tg_linalg_triangular_solve(in[0], in[1], true, true, false); break;
    case G_TRI_LR: out[0] = tg_linalg_triangular_solve(in[0], in[1], false, false, false); break;
    case G_TRI_UNIT: out[0] = tg_linalg_triangular_solve(in[0], in[1], false, true, true); break;
    case G_CHOL: out[0] = tg_linalg_cholesky(herm(in[0]), false); break;
    default: out[0] = tg_linalg_cholesky(herm(in[0]), true); break;
    }
    return out[0] ? TG_OK : tg_last_error_code();
}

/* Well-conditioned: I*n + noise; SPD for cholesky: M M^H + n I. */
static tg_tensor *wellcond(tg_dtype dt, int nd, const int64_t *shape, bool spd) {
    int64_t n = shape[nd - 1];
    tg_tensor *m = tg_randn(dt, nd, shape);
    tg_tensor *eye = tg_eye(dt, n, -1);
    if (spd) return tg_add(tg_matmul(m, tg_conj(tg_mT(m))), tg_mul_scalar(eye, (double)n));
    return tg_add(tg_mul_scalar(m, 0.3), tg_mul_scalar(eye, 2.0));
}

static void check_grads(int op, tg_dtype dt, int n_in, tg_tensor **x, int n_out, const char *what) {
    gctx g = {op};
    tg_status st = tg_gradcheck(gfn, &g, n_in, x, n_out, NULL);
    cr_expect_eq(st, TG_OK, "gradcheck %s %s: %s", what, tg_dtype_name(dt), tg_last_error());
    tg_clear_error();
    st = tg_gradgradcheck(gfn, &g, n_in, x, n_out, NULL);
    cr_expect_eq(st, TG_OK, "gradgradcheck %s %s: %s", what, tg_dtype_name(dt), tg_last_error());
    tg_clear_error();
}

static void check_grads_for(tg_dtype dt) {
    tg_scope_begin();
    tg_manual_seed(11);
    int64_t as[3] = {2, 3, 3}, bs[3] = {3, 2}, bvs[1] = {3};
    tg_tensor *a = wellcond(dt, 3, as, false);
    tg_tensor *x2[2] = {a, tg_randn(dt, 2, bs)};
    check_grads(G_SOLVE, dt, 2, x2, 1, "solve batched broadcast B");
    tg_tensor *xv[2] = {tg_select(a, 0, 0), tg_randn(dt, 1, bvs)};
    check_grads(G_SOLVE_VEC, dt, 2, xv, 1, "solve vector");
    check_grads(G_INV, dt, 1, &a, 1, "inv");
    check_grads(G_MPOW3, dt, 1, &a, 1, "matrix_power 3");
    check_grads(G_MPOW_NEG2, dt, 1, &a, 1, "matrix_power -2");
    tg_tensor *xc[2] = {tg_randn(dt, 3, (int64_t[]){2, 3, 2}), tg_randn(dt, 2, (int64_t[]){3, 1})};
    check_grads(G_CROSS, dt, 2, xc, 1, "cross broadcast, dim 1");
    tg_tensor *xn = tg_randn(dt, 2, (int64_t[]){3, 4});
    check_grads(G_NORM2, dt, 1, &xn, 1, "vector_norm 2, last axis");
    check_grads(G_NORM3, dt, 1, &xn, 1, "vector_norm 3, all axes");
    check_grads(G_NORM_INF, dt, 1, &xn, 1, "vector_norm inf, axis 0");
    check_grads(G_DET, dt, 1, &a, 1, "det");
    check_grads(G_LOGABS, dt, 1, &a, 1, "slogdet logabs");
    if (tg_dtype_is_complex(dt)) check_grads(G_SLOGDET_BOTH, dt, 1, &a, 2, "slogdet sign+logabs");
    tg_tensor *u = tg_add(tg_triu(tg_mul_scalar(tg_randn(dt, 3, as), 0.3), 0), tg_mul_scalar(tg_eye(dt, 3, -1), 2.0));
    tg_tensor *xt[2] = {u, tg_randn(dt, 3, (int64_t[]){2, 3, 2})};
    check_grads(G_TRI_UL, dt, 2, xt, 1, "triangular upper left");
    tg_tensor *lo = tg_mT(u);
    tg_tensor *xr[2] = {lo, tg_randn(dt, 3, (int64_t[]){2, 2, 3})};
    check_grads(G_TRI_LR, dt, 2, xr, 1, "triangular lower right");
    tg_tensor *xu[2] = {lo, xt[1]};
    check_grads(G_TRI_UNIT, dt, 2, xu, 1, "triangular unit lower");
    tg_tensor *p = wellcond(dt, 3, as, true);
    check_grads(G_CHOL, dt, 1, &p, 1, "cholesky");
    check_grads(G_CHOL_UP, dt, 1, &p, 1, "cholesky upper");
    tg_scope_end();
}

Test(linalg, gradcheck_f64) { check_grads_for(TG_F64); }
Test(linalg, gradcheck_c128) { check_grads_for(TG_C128); }

/* det's derivatives at a singular A (rank n - 1) come from the adjugate
 * through the SVD: the gradient is the cofactor matrix (NumPy, from the
 * 2x2 minors; PyTorch 1.13 returns 0 here), the JVP tr(adj(A) A-dot), and
 * both agree with finite differences to second order, for real and complex
 * A (the cofactor form of the adjugate; through the SVD the complex second
 * order failed: its phase term divides by the zero singular value). */
static tg_status f_det(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_linalg_det(in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}
Test(linalg, det_derivatives_at_singular_matrices) {
    tg_scope_begin();
    double sing[3][3] = {{1, 2, 3}, {2, 4, 6}, {1, 0, 1}};
    const double cofactors[9] = {4, 4, -4, -2, -2, 2, 0, 0, 0};
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){3, 3}, sing);
    tg_tensor *g = NULL, *one = tg_scalar(TG_F64, 1.0);
    cr_assert_eq(tg_vjp(f_det, NULL, 1, &a, 1, &one, NULL, &g), TG_OK, "%s", tg_last_error());
    check_values_f64(g, 9, cofactors, 1e-12, "gradient of det at a singular A");
    double dots[9] = {0.5, -1, 2, 0.25, 3, -2, 1, 1, -0.5}, want = 0;
    for (int i = 0; i < 9; i++) want += cofactors[i] * dots[i];
    tg_tensor *t = tg_from_data(TG_F64, 2, (int64_t[]){3, 3}, dots), *y = NULL, *yt = NULL;
    cr_assert_eq(tg_jvp(f_det, NULL, 1, &a, &t, 1, &y, &yt), TG_OK, "%s", tg_last_error());
    check_values_f64(yt, 1, &want, 1e-12, "JVP of det at a singular A");
    cr_expect_eq(tg_gradcheck(f_det, NULL, 1, &a, 1, NULL), TG_OK, "%s", tg_last_error());
    cr_expect_eq(tg_gradgradcheck(f_det, NULL, 1, &a, 1, NULL), TG_OK, "%s", tg_last_error());
    /* complex, batched: item 1 singular (row 2 = (1 + 2i) row 0), item 0 not */
    tg_manual_seed(9);
    tg_tensor *z = tg_complex(tg_randn(TG_F64, 3, (int64_t[]){2, 3, 3}), tg_randn(TG_F64, 3, (int64_t[]){2, 3, 3}));
    tg_tensor *row0 = tg_select(tg_select(z, 0, 1), 0, 0);
    tg_copy_(tg_select(tg_select(z, 0, 1), 0, 2), tg_mul(row0, tg_complex(tg_scalar(TG_F64, 1), tg_scalar(TG_F64, 2))));
    cr_expect_lt(tg_item_f64(tg_abs(tg_select(tg_linalg_det(z), 0, 1))), 1e-12, "item 1 is singular");
    cr_expect_eq(tg_gradcheck(f_det, NULL, 1, &z, 1, NULL), TG_OK, "%s", tg_last_error());
    cr_expect_eq(tg_gradgradcheck(f_det, NULL, 1, &z, 1, NULL), TG_OK, "%s", tg_last_error());
    tg_scope_end();
}

/* Past the cofactor limit (order 20), an exactly singular complex A of
 * rank 19 (row 19 a copy of row 3: rows that start equal stay equal under
 * the LU's row operations, so it meets an exact zero pivot and the inverse
 * fails): first and second derivatives against finite
 * differences, batched with an invertible item; and a rank-18 item (two
 * rows repeated), whose adjugate, and so the gradient, is 0. */
Test(linalg, det_second_order_at_singular_complex_order_20) {
    tg_scope_begin();
    tg_manual_seed(21);
    /* entries of size 1/4: |det| near 1, so finite differences resolve the derivatives */
    tg_tensor *z = tg_mul_scalar(tg_complex(tg_randn(TG_F64, 3, (int64_t[]){2, 20, 20}),
                                            tg_randn(TG_F64, 3, (int64_t[]){2, 20, 20})), 0.25);
    tg_tensor *item = tg_select(z, 0, 1);
    tg_copy_(tg_select(item, 0, 19), tg_select(item, 0, 3));
    cr_expect_lt(tg_item_f64(tg_abs(tg_select(tg_linalg_det(z), 0, 1))), 1e-14, "item 1 is singular");
    cr_expect_eq(tg_gradcheck(f_det, NULL, 1, &z, 1, NULL), TG_OK, "%s", tg_last_error());
    tg_clear_error();
    cr_expect_eq(tg_gradgradcheck(f_det, NULL, 1, &z, 1, NULL), TG_OK, "%s", tg_last_error());
    tg_clear_error();
    /* rank 18: rows 18 and 19 copies of rows 2 and 3 */
    tg_tensor *r18 = tg_contiguous(tg_select(z, 0, 1));
    tg_copy_(tg_select(r18, 0, 18), tg_select(r18, 0, 2));
    tg_tensor *one = tg_complex(tg_scalar(TG_F64, 1), tg_scalar(TG_F64, 0)), *g = NULL;
    cr_assert_eq(tg_vjp(f_det, NULL, 1, &r18, 1, &one, NULL, &g), TG_OK, "%s", tg_last_error());
    double scale = tg_item_f64(tg_max(tg_abs(tg_select(z, 0, 0)), 0, NULL, false));
    double big = pow(scale * 20, 18);       /* a bound on the size of any cofactor */
    cr_expect_lt(tg_item_f64(tg_max(tg_abs(g), 0, NULL, false)), 1e-9 * big, "rank 18: the adjugate is 0");
    tg_scope_end();
}

/* det's rules try one adjugate and fall back on another. An error pending
 * from before (a bad reshape the caller has not read) stays the first one
 * and does not stop the fallback: an empty batch, and an exactly singular
 * diag(1, ..., 19, 0) (order 20, past the cofactor limit: the bordered
 * form runs, after the check for near-singularity), whose gradient is the
 * cofactor matrix, all zero but the last diagonal entry, 19!. */
Test(linalg, det_rules_keep_an_older_error) {
    tg_scope_begin();
    cr_assert_null(tg_reshape(tg_zeros(TG_F64, 1, (int64_t[]){6}), 1, (int64_t[]){4}));
    tg_status code = tg_last_error_code();
    char before[1024];
    snprintf(before, sizeof before, "%s", tg_last_error());
    cr_assert_eq(code, TG_ERR_SHAPE);
    tg_tensor *one = tg_scalar(TG_F64, 1.0), *g = NULL;
    tg_tensor *e = tg_zeros(TG_F64, 3, (int64_t[]){0, 3, 3}), *ones0 = tg_zeros(TG_F64, 1, (int64_t[]){0});
    cr_assert_eq(tg_vjp(f_det, NULL, 1, &e, 1, &ones0, NULL, &g), TG_OK);
    cr_expect_eq(tg_numel(g), 0);
    cr_expect_eq(tg_last_error_code(), code);
    cr_expect_str_eq(tg_last_error(), before, "an empty batch cleared the older error");
    tg_clear_error();           /* raised again: each case starts with it pending */
    cr_assert_null(tg_reshape(tg_zeros(TG_F64, 1, (int64_t[]){6}), 1, (int64_t[]){4}));
    snprintf(before, sizeof before, "%s", tg_last_error());
    double d[20 * 20] = {0}, fact19 = 1;
    for (int i = 0; i < 19; i++) { d[i * 21] = i + 1; fact19 *= i + 1; }
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){20, 20}, d);
    g = NULL;
    cr_assert_eq(tg_vjp(f_det, NULL, 1, &a, 1, &one, NULL, &g), TG_OK, "%s", tg_last_error());
    cr_assert_not_null(g, "the fallback did not run under an older error");
    tg_tensor *gc = tg_contiguous(g);
    const double *gv = tg_data(gc);
    for (int k = 0; k < 400; k++) {
        double want = k == 399 ? fact19 : 0.0;
        cr_expect_leq(fabs(gv[k] - want), 1e-9 * fact19, "gradient entry %d: %g, want %g", k, gv[k], want);
    }
    cr_expect_eq(tg_last_error_code(), code);
    cr_expect_str_eq(tg_last_error(), before, "the fallback cleared the older error");
    tg_clear_error();
    tg_scope_end();
}
