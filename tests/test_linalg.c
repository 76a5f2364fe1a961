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

/* Small real matrices (order 1-4) go through linalg/small.c: eight items at
 * a time with AVX-512, one at a time otherwise. The error names the first
 * failing item with the code the LAPACK path gives (singular pivot, NaN in
 * A as getrf's argument 4, NaN in B as getrs's argument 8), wherever it
 * falls in a block; det and inv agree with each other at a nearly singular
 * A; f32 and f64 both. */
Test(linalg, small_matrix_kernels) {
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

Test(linalg, small8_kernels) {
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

Test(linalg, small8_qr) {
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
