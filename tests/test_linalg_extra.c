/* linalg: matrix_exp, matrix_norm, cond, pinv and lstsq: errors, small
 * exact values, empty and strided inputs, tracing, and gradient checks
 * (first and second order) in f64 and c128, batched. Oracle values:
 * tests/test_oracle_linalg_extra.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "support/check.h"

TestSuite(linalg_extra, .init = tg_clear_error);

static void expect_msg(const char *part) {
    cr_expect(strstr(tg_last_error(), part) != NULL, "message lacks \"%s\": %s", part, tg_last_error());
    tg_clear_error();
}

static const char *const all_ords[8] = {"fro", "nuc", "1", "-1", "2", "-2", "inf", "-inf"};

/* ---- matrix_exp ------------------------------------------------------------------------- */
Test(linalg_extra, matrix_exp_errors) {
    tg_scope_begin();
    check_error(tg_linalg_matrix_exp(NULL), TG_ERR_ARG, "NULL");
    check_error(tg_linalg_matrix_exp(tg_ones(TG_F64, 2, (int64_t[]){2, 3})), TG_ERR_SHAPE, "non-square");
    check_error(tg_linalg_matrix_exp(tg_ones(TG_F64, 1, (int64_t[]){3})), TG_ERR_SHAPE, "1-d");
    check_error(tg_linalg_matrix_exp(tg_ones(TG_F16, 2, (int64_t[]){2, 2})), TG_ERR_DTYPE, "f16");
    check_error(tg_linalg_matrix_exp(tg_ones(TG_BF16, 2, (int64_t[]){2, 2})), TG_ERR_DTYPE, "bf16");
    tg_scope_end();
}

Test(linalg_extra, matrix_exp_values) {
    tg_scope_begin();
    /* diagonal, nilpotent, rotation generator (Pade degrees 3 to 13 with scaling) */
    double dg[2][2] = {{1, 0}, {0, -2}};
    check_values_f64(tg_linalg_matrix_exp(tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, dg)), 4,
                     (double[]){exp(1.0), 0, 0, exp(-2.0)}, 1e-14, "diagonal");
    double nil[2][2] = {{0, 1}, {0, 0}};
    check_values_f64(tg_linalg_matrix_exp(tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, nil)), 4,
                     (double[]){1, 1, 0, 1}, 1e-15, "nilpotent");
    double ts[6] = {0.01, 0.2, 0.9, 2.0, 5.0, 40.0};
    for (int i = 0; i < 6; i++) {
        double t = ts[i], r[2][2] = {{0, -t}, {t, 0}};
        check_values_f64(tg_linalg_matrix_exp(tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, r)), 4,
                         (double[]){cos(t), -sin(t), sin(t), cos(t)}, 1e-13 * (1 + t), "rotation");
    }
    /* exp(A) exp(-A) = I and det exp(A) = exp(tr A) for a large-norm batch (squaring) */
    tg_manual_seed(3);
    tg_tensor *a = tg_mul_scalar(tg_randn(TG_C128, 3, (int64_t[]){2, 4, 4}), 3.0);
    tg_tensor *e = tg_linalg_matrix_exp(a), *em = tg_linalg_matrix_exp(tg_neg(a));
    check_close(tg_matmul(e, em), tg_broadcast_to(tg_eye(TG_C128, 4, -1), 3, (int64_t[]){2, 4, 4}), 1e-8, 1e-8,
                "exp(A) exp(-A)");
    tg_tensor *tr = tg_sum(tg_diagonal(a, 0, -2, -1), 1, (int[]){-1}, false);
    check_close(tg_linalg_det(e), tg_exp(tr), 1e-9, 0, "det exp = exp tr");
    /* int input computes in f64; f32 is rounded from an f64 computation */
    int64_t iv[4] = {0, 1, 0, 0};
    tg_tensor *ei = tg_linalg_matrix_exp(tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, iv));
    cr_expect(ei && tg_dtype_of(ei) == TG_F64, "int input gives f64");
    check_values_f64(ei, 4, (double[]){1, 1, 0, 1}, 0, "int nilpotent");
    tg_tensor *ef = tg_linalg_matrix_exp(tg_cast(tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, dg), TG_F32));
    cr_expect(ef && tg_dtype_of(ef) == TG_F32, "f32 stays f32");
    check_values_f64(ef, 4, (double[]){(float)exp(1.0), 0, 0, (float)exp(-2.0)}, 0, "f32 rounded once");
    /* strided input: a transposed view equals the transpose of the result (exp(A^T) = exp(A)^T) */
    tg_tensor *m = tg_randn(TG_F64, 3, (int64_t[]){3, 5, 5});
    check_close(tg_linalg_matrix_exp(tg_mT(m)), tg_mT(tg_linalg_matrix_exp(m)), 1e-12, 1e-12, "strided");
    /* NaN anywhere: a NaN matrix; empty matrices and batches */
    double nn[2][2] = {{NAN, 0}, {0, 1}};
    check_values_f64(tg_linalg_matrix_exp(tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, nn)), 4,
                     (double[]){NAN, NAN, NAN, NAN}, 0, "NaN input");
    tg_tensor *z0 = tg_linalg_matrix_exp(tg_zeros(TG_F64, 3, (int64_t[]){2, 0, 0}));
    cr_expect(z0 && tg_ndim(z0) == 3 && tg_shape(z0)[0] == 2 && tg_shape(z0)[1] == 0, "0 x 0 matrices");
    tg_tensor *b0 = tg_linalg_matrix_exp(tg_zeros(TG_C64, 3, (int64_t[]){0, 3, 3}));
    cr_expect(b0 && tg_shape(b0)[0] == 0 && tg_dtype_of(b0) == TG_C64, "empty batch");
    tg_scope_end();
}

/* ---- matrix_norm and cond ------------------------------------------------------------- */
Test(linalg_extra, matrix_norm_errors) {
    tg_scope_begin();
    tg_tensor *a = tg_ones(TG_F64, 2, (int64_t[]){2, 3});
    check_error(tg_linalg_matrix_norm(NULL, "fro", false), TG_ERR_ARG, "NULL");
    check_error(tg_linalg_matrix_norm(a, "3", false), TG_ERR_ARG, "ord 3");
    cr_expect_null(tg_linalg_matrix_norm(a, "Fro", false));
    cr_expect_eq(tg_last_error_code(), TG_ERR_ARG);
    expect_msg("\"Fro\"");
    check_error(tg_linalg_matrix_norm(tg_ones(TG_F64, 1, (int64_t[]){3}), "fro", false), TG_ERR_SHAPE, "1-d");
    check_error(tg_linalg_matrix_norm(tg_scalar(TG_F64, 1), NULL, false), TG_ERR_SHAPE, "0-d");
    check_error(tg_linalg_matrix_norm(tg_ones(TG_F16, 2, (int64_t[]){2, 2}), NULL, false), TG_ERR_DTYPE, "f16");
    check_error(tg_linalg_cond(NULL, NULL), TG_ERR_ARG, "cond NULL");
    check_error(tg_linalg_cond(a, "nope"), TG_ERR_ARG, "cond ord");
    check_error(tg_linalg_cond(a, "fro"), TG_ERR_SHAPE, "cond fro of a non-square A");
    check_error(tg_linalg_cond(tg_ones(TG_F64, 1, (int64_t[]){3}), NULL), TG_ERR_SHAPE, "cond 1-d");
    check_error(tg_linalg_cond(tg_ones(TG_BF16, 2, (int64_t[]){2, 2}), "1"), TG_ERR_DTYPE, "cond bf16");
    tg_scope_end();
}

Test(linalg_extra, matrix_norm_values) {
    tg_scope_begin();
    /* [[1, -2], [3, 4]]: column sums 4, 6; row sums 3, 7; fro sqrt(30) */
    double av[2][2] = {{1, -2}, {3, 4}};
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, av);
    const char *ords[5] = {"fro", "1", "-1", "inf", "-inf"};
    double want[5] = {sqrt(30.0), 6, 4, 7, 3};
    for (int i = 0; i < 5; i++) check_values_f64(tg_linalg_matrix_norm(a, ords[i], false), 1, &want[i], 1e-15, ords[i]);
    check_values_f64(tg_linalg_matrix_norm(a, NULL, false), 1, &want[0], 1e-15, "NULL is fro");
    tg_tensor *k = tg_linalg_matrix_norm(a, "1", true);
    cr_expect(k && tg_ndim(k) == 2 && tg_shape(k)[0] == 1 && tg_shape(k)[1] == 1, "keepdim (1, 1)");
    int64_t iv[4] = {1, -2, 3, 4};
    tg_tensor *ni = tg_linalg_matrix_norm(tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, iv), "inf", false);
    cr_expect(ni && tg_dtype_of(ni) == TG_F64, "int norm in f64");
    check_values_f64(ni, 1, (double[]){7}, 0, "int inf norm");
    tg_tensor *nc = tg_linalg_matrix_norm(tg_cast(a, TG_C64), "1", false);
    cr_expect(nc && tg_dtype_of(nc) == TG_F32, "c64 norm is f32");
    /* cond: inverse of [[1, -2], [3, 4]] is [[4, 2], [-3, 1]] / 10 (column sums .7, .3) */
    check_values_f64(tg_linalg_cond(a, "1"), 1, (double[]){6 * 0.7}, 1e-14, "cond 1");
    check_values_f64(tg_linalg_cond(a, "-inf"), 1, (double[]){3 * 0.4}, 1e-14, "cond -inf");
    /* exactly singular: inf (batch item 1 only) */
    double sv[2][2][2] = {{{2, 0}, {0, 1}}, {{1, 2}, {2, 4}}};
    tg_tensor *s = tg_from_data(TG_F64, 3, (int64_t[]){2, 2, 2}, sv);
    check_values_f64(tg_linalg_cond(s, "fro"), 2, (double[]){2.5, INFINITY}, 1e-15, "cond of a singular item");
    tg_scope_end();
}

/* ---- pinv and lstsq -------------------------------------------------------------------- */
Test(linalg_extra, pinv_lstsq_errors) {
    tg_scope_begin();
    tg_tensor *a = tg_randn(TG_F64, 3, (int64_t[]){2, 4, 3}), *b = tg_randn(TG_F64, 3, (int64_t[]){2, 4, 2});
    tg_tensor *x = NULL, *r = NULL;
    check_error(tg_linalg_pinv(NULL, -1, false), TG_ERR_ARG, "pinv NULL");
    check_error(tg_linalg_pinv(a, NAN, false), TG_ERR_ARG, "pinv rtol NaN");
    check_error(tg_linalg_pinv(tg_ones(TG_F64, 1, (int64_t[]){3}), -1, false), TG_ERR_SHAPE, "pinv 1-d");
    check_error(tg_linalg_pinv(a, -1, true), TG_ERR_SHAPE, "pinv hermitian of a non-square A");
    check_error(tg_linalg_pinv(tg_ones(TG_F16, 2, (int64_t[]){2, 2}), -1, false), TG_ERR_DTYPE, "pinv f16");
    double nn[2][2] = {{NAN, 1}, {0, 1}};
    tg_tensor *na = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, nn);
    check_error(tg_linalg_pinv(na, -1, false), TG_ERR_NUMERIC, "pinv of NaN");
    check_status(tg_linalg_lstsq(NULL, b, -1, &x, NULL, NULL, NULL), TG_ERR_ARG, "lstsq NULL A");
    cr_expect_null(x);
    check_status(tg_linalg_lstsq(a, NULL, -1, &x, NULL, NULL, NULL), TG_ERR_ARG, "lstsq NULL B");
    check_status(tg_linalg_lstsq(a, b, -1, NULL, &r, NULL, NULL), TG_ERR_ARG, "lstsq NULL x");
    cr_expect_null(r);
    check_status(tg_linalg_lstsq(a, b, NAN, &x, NULL, NULL, NULL), TG_ERR_ARG, "lstsq rcond NaN");
    check_status(tg_linalg_lstsq(a, tg_randn(TG_F64, 2, (int64_t[]){3, 2}), -1, &x, NULL, NULL, NULL), TG_ERR_SHAPE,
                 "lstsq rows");
    check_status(tg_linalg_lstsq(a, tg_randn(TG_F64, 3, (int64_t[]){3, 4, 2}), -1, &x, NULL, NULL, NULL),
                 TG_ERR_SHAPE, "lstsq batch");
    check_status(tg_linalg_lstsq(tg_ones(TG_F64, 1, (int64_t[]){4}), b, -1, &x, NULL, NULL, NULL), TG_ERR_SHAPE,
                 "lstsq 1-d A");
    check_status(tg_linalg_lstsq(tg_ones(TG_BF16, 2, (int64_t[]){4, 3}), tg_ones(TG_BF16, 1, (int64_t[]){4}), -1, &x,
                                 NULL, NULL, NULL),
                 TG_ERR_DTYPE, "lstsq bf16");
    cr_expect_eq(tg_linalg_lstsq(tg_stack(2, (tg_tensor *[]){tg_eye(TG_F64, 2, -1), na}, 0),
                                 tg_ones(TG_F64, 2, (int64_t[]){2, 1}), -1, &x, NULL, NULL, NULL), TG_ERR_NUMERIC);
    expect_msg("matrix 1 of the batch: A or B contains non-finite values");
    tg_scope_end();
}

Test(linalg_extra, pinv_values) {
    tg_scope_begin();
    /* the cut: s > rtol * max(s) is kept (rtol < 0: eps * max(m, n)) */
    double dv[2][2] = {{2, 0}, {0, 1e-20}};
    tg_tensor *d = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, dv);
    check_values_f64(tg_linalg_pinv(d, -1, false), 4, (double[]){0.5, 0, 0, 0}, 1e-15, "default cut");
    check_values_f64(tg_linalg_pinv(d, 0, false), 4, (double[]){0.5, 0, 0, 1e20}, 1e-15, "rtol 0 keeps all");
    double d2[2][2] = {{2, 0}, {0, 1}};
    tg_tensor *dd = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, d2);
    check_values_f64(tg_linalg_pinv(dd, 0.5, false), 4, (double[]){0.5, 0, 0, 0}, 1e-15, "s = rtol * max cut");
    check_values_f64(tg_linalg_pinv(dd, 0.49, false), 4, (double[]){0.5, 0, 0, 1}, 1e-15, "just kept");
    /* hermitian: negative eigenvalues invert too; only the lower triangle is read */
    double hv[2][2] = {{-2, 99}, {0, 4}};
    check_values_f64(tg_linalg_pinv(tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, hv), -1, true), 4,
                     (double[]){-0.5, 0, 0, 0.25}, 1e-15, "hermitian, lower triangle");
    /* Penrose conditions on a rank-2 4 x 3 complex batch, transposed view */
    tg_manual_seed(7);
    tg_tensor *l = tg_randn(TG_C128, 3, (int64_t[]){2, 3, 2}), *rr = tg_randn(TG_C128, 3, (int64_t[]){2, 2, 4});
    tg_tensor *a = tg_mT(tg_matmul(l, rr));   /* (2, 4, 3), rank 2, strided */
    tg_tensor *p = tg_linalg_pinv(a, -1, false);
    cr_assert(p && tg_shape(p)[1] == 3 && tg_shape(p)[2] == 4, "shape (2, 3, 4)");
    check_close(tg_matmul(tg_matmul(a, p), a), a, 1e-10, 1e-10, "A P A = A");
    check_close(tg_matmul(tg_matmul(p, a), p), p, 1e-10, 1e-10, "P A P = P");
    tg_tensor *ap = tg_matmul(a, p), *pa = tg_matmul(p, a);
    check_close(tg_conj(tg_mT(ap)), ap, 1e-10, 1e-10, "A P Hermitian");
    check_close(tg_conj(tg_mT(pa)), pa, 1e-10, 1e-10, "P A Hermitian");
    /* int input in f64; empty matrices give zeros of shape (..., n, m) */
    int64_t iv[2] = {2, 0};
    tg_tensor *pi = tg_linalg_pinv(tg_from_data(TG_I64, 2, (int64_t[]){2, 1}, iv), -1, false);
    cr_expect(pi && tg_dtype_of(pi) == TG_F64, "int pinv in f64");
    check_values_f64(pi, 2, (double[]){0.5, 0}, 1e-15, "int pinv");
    tg_tensor *pe = tg_linalg_pinv(tg_zeros(TG_C64, 3, (int64_t[]){2, 0, 3}), -1, false);
    cr_expect(pe && tg_shape(pe)[1] == 3 && tg_shape(pe)[2] == 0 && tg_dtype_of(pe) == TG_C64, "empty pinv");
    tg_scope_end();
}

Test(linalg_extra, lstsq_values) {
    tg_scope_begin();
    tg_tensor *x, *res, *rank, *sv;
    /* tall, full rank: x = (1, 2), residual 9 */
    double av[3][2] = {{1, 0}, {0, 1}, {0, 0}}, bv[3] = {1, 2, 3};
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){3, 2}, av), *b = tg_from_data(TG_F64, 1, (int64_t[]){3}, bv);
    check_status(tg_linalg_lstsq(a, b, -1, &x, &res, &rank, &sv), TG_OK, "tall");
    check_values_f64(x, 2, (double[]){1, 2}, 1e-15, "x");
    cr_expect(tg_ndim(res) == 1 && tg_shape(res)[0] == 1, "vector B: residuals (1,)");
    check_values_f64(res, 1, (double[]){9}, 1e-14, "residual");
    cr_expect(tg_dtype_of(rank) == TG_I64 && tg_ndim(rank) == 0, "rank i64 scalar");
    cr_expect_eq(tg_item_i64(rank), 2);
    check_values_f64(sv, 2, (double[]){1, 1}, 1e-15, "sv");
    /* rank deficient (second column 0): minimum-norm x, residuals empty */
    double ad[3][2] = {{1, 0}, {1, 0}, {0, 0}}, bd[3][1] = {{1}, {3}, {5}};
    check_status(tg_linalg_lstsq(tg_from_data(TG_F64, 2, (int64_t[]){3, 2}, ad),
                                 tg_from_data(TG_F64, 2, (int64_t[]){3, 1}, bd), -1, &x, &res, &rank, NULL),
                 TG_OK, "rank 1");
    check_values_f64(x, 2, (double[]){2, 0}, 1e-14, "min-norm x");
    cr_expect(tg_ndim(res) == 1 && tg_shape(res)[0] == 0, "residuals empty (0,)");
    cr_expect_eq(tg_item_i64(rank), 1);
    /* wide: minimum norm x of x1 + x2 = 2 is (1, 1); int inputs compute in f64 */
    int64_t aw[2] = {1, 1}, bw[1] = {2};
    check_status(tg_linalg_lstsq(tg_from_data(TG_I64, 2, (int64_t[]){1, 2}, aw),
                                 tg_from_data(TG_I64, 1, (int64_t[]){1}, bw), -1, &x, &res, NULL, NULL),
                 TG_OK, "wide");
    cr_expect_eq(tg_dtype_of(x), TG_F64);
    check_values_f64(x, 2, (double[]){1, 1}, 1e-15, "wide x");
    cr_expect(tg_shape(res)[0] == 0, "wide: residuals empty");
    /* batch broadcast with a strided A: X (2, 3, 2), residuals (2, 2) match |B - A X|^2 */
    tg_manual_seed(9);
    tg_tensor *ab = tg_mT(tg_randn(TG_C128, 3, (int64_t[]){2, 3, 5})), *bb = tg_randn(TG_C128, 2, (int64_t[]){5, 2});
    check_status(tg_linalg_lstsq(ab, bb, -1, &x, &res, &rank, &sv), TG_OK, "broadcast");
    cr_assert(tg_ndim(x) == 3 && tg_shape(x)[0] == 2 && tg_shape(x)[1] == 3 && tg_shape(x)[2] == 2, "X shape");
    cr_assert(tg_ndim(res) == 2 && tg_shape(res)[1] == 2 && tg_dtype_of(res) == TG_F64, "residuals (2, 2) real");
    cr_assert(tg_ndim(sv) == 2 && tg_shape(sv)[1] == 3, "sv (2, 3)");
    tg_tensor *rr = tg_sub(bb, tg_matmul(ab, x));
    check_close(res, tg_sum(tg_square(tg_abs(rr)), 1, (int[]){-2}, false), 1e-12, 1e-12, "residuals");
    /* normal equations A^H (B - A X) = 0 */
    check_close(tg_abs(tg_matmul(tg_conj(tg_mT(ab)), rr)), tg_zeros(TG_F64, 3, (int64_t[]){2, 3, 2}), 0, 1e-12,
                "normal equations");
    /* empty: no equations gives X = 0 and rank 0 */
    check_status(tg_linalg_lstsq(tg_zeros(TG_F64, 3, (int64_t[]){2, 0, 3}), tg_zeros(TG_F64, 3, (int64_t[]){2, 0, 2}),
                                 -1, &x, &res, &rank, NULL),
                 TG_OK, "empty");
    check_values_f64(x, 12, (double[12]){0}, 0, "empty X");
    check_values_f64(rank, 2, (double[]){0, 0}, 0, "empty rank");
    tg_scope_end();
}

/* ---- gradient checks -------------------------------------------------------------------- */
enum { G_EXPM, G_NORM, G_NORM_KEEP, G_COND, G_PINV, G_PINV_HERM, G_LSTSQ, G_LSTSQ_RES, G_LSTSQ_SV };
typedef struct { int op; const char *ord; } gctx;
static tg_tensor *herm(tg_tensor *a) { return tg_mul_scalar(tg_add(a, tg_conj(tg_mT(a))), 0.5); }
static tg_status gfn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const gctx *g = ctx;
    tg_tensor *r = NULL;
    switch (g->op) {
    case G_EXPM: out[0] = tg_linalg_matrix_exp(in[0]); break;
    case G_NORM: out[0] = tg_linalg_matrix_norm(in[0], g->ord, false); break;
    case G_NORM_KEEP: out[0] = tg_linalg_matrix_norm(in[0], g->ord, true); break;
    case G_COND: out[0] = tg_linalg_cond(in[0], g->ord); break;
    case G_PINV: out[0] = tg_linalg_pinv(in[0], -1, false); break;
    case G_PINV_HERM: out[0] = tg_linalg_pinv(herm(in[0]), -1, true); break;
    case G_LSTSQ: return tg_linalg_lstsq(in[0], in[1], -1, &out[0], NULL, NULL, NULL);
    case G_LSTSQ_RES: return tg_linalg_lstsq(in[0], in[1], -1, &r, &out[0], NULL, NULL);
    default: return tg_linalg_lstsq(in[0], in[1], -1, &r, NULL, NULL, &out[0]);
    }
    return out[0] ? TG_OK : tg_last_error_code();
}

static void check_grads(gctx g, tg_dtype dt, int n_in, tg_tensor **x, int n_out, bool second, const char *what) {
    tg_status st = tg_gradcheck(gfn, &g, n_in, x, n_out, NULL);
    cr_expect_eq(st, TG_OK, "gradcheck %s %s %s: %s", what, g.ord ? g.ord : "", tg_dtype_name(dt), tg_last_error());
    tg_clear_error();
    if (!second) return;
    st = tg_gradgradcheck(gfn, &g, n_in, x, n_out, NULL);
    cr_expect_eq(st, TG_OK, "gradgradcheck %s %s %s: %s", what, g.ord ? g.ord : "", tg_dtype_name(dt),
                 tg_last_error());
    tg_clear_error();
}

/* A (b, m, n) = U D V with singular values 0.8 k + 0.5, ..., 1.3 (distinct)
 * and random unitaries U, V (exponentials of skew-Hermitian matrices). */
static tg_tensor *separated(tg_dtype dt, int64_t b, int64_t m, int64_t n) {
    tg_tensor *x = tg_randn(dt, 3, (int64_t[]){b, m, m}), *y = tg_randn(dt, 3, (int64_t[]){b, n, n});
    tg_tensor *u = tg_linalg_matrix_exp(tg_sub(x, tg_conj(tg_mT(x))));
    tg_tensor *v = tg_linalg_matrix_exp(tg_sub(y, tg_conj(tg_mT(y))));
    int64_t k = m < n ? m : n;
    tg_tensor *diag = tg_add_scalar(tg_mul_scalar(tg_arange(TG_F64, (double)k, 0, -1), 0.8), 0.5);
    tg_tensor *dm = tg_mul(tg_eye(dt, m, n), tg_pad(tg_unsqueeze(diag, 0), (int64_t[]){0, 0, 0, n - k}, 0));
    return tg_matmul(tg_matmul(u, dm), v);
}

static void check_grads_for(tg_dtype dt) {
    tg_scope_begin();
    tg_manual_seed(21);
    gctx g = {G_EXPM, NULL};
    tg_tensor *small = tg_mul_scalar(tg_randn(dt, 3, (int64_t[]){2, 3, 3}), 0.3);
    check_grads(g, dt, 1, &small, 1, true, "matrix_exp small norm");
    tg_tensor *big = tg_mul_scalar(tg_randn(dt, 2, (int64_t[]){3, 3}), 4.0);
    check_grads(g, dt, 1, &big, 1, true, "matrix_exp scaled and squared");
    tg_tensor *a = separated(dt, 2, 3, 4);
    for (int i = 0; i < 8; i++) {
        gctx gn = {i % 2 ? G_NORM_KEEP : G_NORM, all_ords[i]};
        check_grads(gn, dt, 1, &a, 1, true, "matrix_norm");
    }
    tg_tensor *sq = separated(dt, 2, 3, 3), *tall = separated(dt, 2, 4, 3);
    const char *cord[6] = {"fro", "1", "-inf", "inf", "nuc", "2"};
    for (int i = 0; i < 6; i++) {
        gctx gc = {G_COND, cord[i]};
        check_grads(gc, dt, 1, &sq, 1, true, "cond square");
    }
    check_grads((gctx){G_COND, NULL}, dt, 1, &tall, 1, true, "cond tall (2)");
    check_grads((gctx){G_COND, "-2"}, dt, 1, &a, 1, true, "cond wide");
    tg_scope_end();
}

static void check_grads_pinv_lstsq(tg_dtype dt) {
    tg_scope_begin();
    tg_manual_seed(22);
    tg_tensor *tall = separated(dt, 2, 4, 3), *wide = tg_mT(separated(dt, 2, 4, 3));
    check_grads((gctx){G_PINV, NULL}, dt, 1, &tall, 1, true, "pinv tall");
    check_grads((gctx){G_PINV, NULL}, dt, 1, &wide, 1, true, "pinv wide (strided)");
    /* repeated singular values (2 I): pinv's own rule needs none distinct */
    tg_tensor *twoi = tg_mul_scalar(tg_eye(dt, 3, -1), 2.0);
    check_grads((gctx){G_PINV, NULL}, dt, 1, &twoi, 1, true, "pinv of 2 I");
    /* hermitian, indefinite (eigenvalues near -2, 1.5, 3) */
    tg_tensor *h = tg_add(tg_mul_scalar(tg_randn(dt, 3, (int64_t[]){2, 3, 3}), 0.2),
                          tg_mul(tg_eye(dt, 3, -1), tg_from_data(TG_F64, 1, (int64_t[]){3}, (double[]){-2, 1.5, 3})));
    check_grads((gctx){G_PINV_HERM, NULL}, dt, 1, &h, 1, true, "pinv hermitian");
    tg_tensor *ab[2] = {tall, tg_randn(dt, 3, (int64_t[]){2, 4, 2})};
    check_grads((gctx){G_LSTSQ, NULL}, dt, 2, ab, 1, true, "lstsq tall");
    tg_tensor *abb[2] = {tall, tg_randn(dt, 2, (int64_t[]){4, 2})};
    check_grads((gctx){G_LSTSQ, NULL}, dt, 2, abb, 1, true, "lstsq broadcast B");
    tg_tensor *av[2] = {tg_select(tall, 0, 1), tg_randn(dt, 1, (int64_t[]){4})};
    check_grads((gctx){G_LSTSQ, NULL}, dt, 2, av, 1, true, "lstsq vector B");
    tg_tensor *aw[2] = {wide, tg_randn(dt, 3, (int64_t[]){2, 3, 2})};
    check_grads((gctx){G_LSTSQ, NULL}, dt, 2, aw, 1, true, "lstsq wide");
    check_grads((gctx){G_LSTSQ_RES, NULL}, dt, 2, ab, 1, true, "lstsq residuals");
    check_grads((gctx){G_LSTSQ_SV, NULL}, dt, 2, ab, 1, false, "lstsq sv");
    tg_scope_end();
}

Test(linalg_extra, gradcheck_pinv_lstsq_f64) { check_grads_pinv_lstsq(TG_F64); }
Test(linalg_extra, gradcheck_pinv_lstsq_c128) { check_grads_pinv_lstsq(TG_C128); }

Test(linalg_extra, gradcheck_f64) { check_grads_for(TG_F64); }
Test(linalg_extra, gradcheck_c128) { check_grads_for(TG_C128); }

/* ---- tracing ------------------------------------------------------------------------------ */
static tg_status f_expm(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_linalg_matrix_exp(in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(linalg_extra, traced) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_expm, NULL, 1, (tg_spec[]){{TG_F64, "B, N, N"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    tg_tensor *x = tg_randn(TG_F64, 3, (int64_t[]){2, 4, 4}), *y = NULL;
    check_status(tg_run(p, &x, &y), TG_OK, "run");
    check_close(y, tg_linalg_matrix_exp(x), 0, 0, "compiled equals eager");
    tg_program_free(p);
    /* the VJP graph (the rule traced with a symbolic N) */
    tg_graph *gv = tg_graph_vjp(g);
    cr_assert_not_null(gv, "%s", tg_last_error());
    tg_program *pv = tg_compile(gv, NULL);
    cr_assert_not_null(pv, "%s", tg_last_error());
    tg_tensor *u = tg_randn(TG_F64, 3, (int64_t[]){2, 4, 4}), *outs[2] = {NULL, NULL}, *ge = NULL;
    check_status(tg_run(pv, (tg_tensor *[]){x, u}, outs), TG_OK, "run vjp");
    check_status(tg_vjp(f_expm, NULL, 1, &x, 1, &u, NULL, &ge), TG_OK, "eager vjp");
    check_close(outs[1], ge, 1e-13, 1e-13, "traced VJP equals eager");
    tg_program_free(pv);
    tg_graph_free(gv);
    tg_graph_free(g);
    cr_expect_null(tg_trace(f_expm, NULL, 1, (tg_spec[]){{TG_F64, "B, M, N"}}, 1));
    check_status(tg_last_error_code(), TG_ERR_SHAPE, "M x N is not provably square");
    tg_clear_error();
    tg_scope_end();
}

/* A (B, M, N) and B (B, M, K) -> lstsq x, pinv(A), ||A||_inf (keepdim). With
 * ctx: the ops that need a square A (hermitian pinv, cond "1") and those whose
 * svdvals need min(M, N) known at trace time (cond 2, ||A||_2). */
static tg_status f_rect(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    bool square_ops = ctx != NULL;
    if (square_ops) {
        out[0] = tg_linalg_pinv(in[0], -1, true);
        out[1] = tg_linalg_cond(in[0], "1");
        out[2] = tg_linalg_cond(in[0], NULL);
        out[3] = tg_linalg_matrix_norm(in[0], "2", false);
        return out[0] && out[1] && out[2] && out[3] ? TG_OK : tg_last_error_code();
    }
    tg_status st = tg_linalg_lstsq(in[0], in[1], -1, &out[0], NULL, NULL, NULL);
    if (st) return st;
    out[1] = tg_linalg_pinv(in[0], -1, false);
    out[2] = tg_linalg_matrix_norm(in[0], "inf", true);
    return out[1] && out[2] ? TG_OK : tg_last_error_code();
}
static tg_status f_cond_inf(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_linalg_cond(in[0], "inf");
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_residuals(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *x = NULL;
    return tg_linalg_lstsq(in[0], in[1], -1, &x, &out[0], NULL, NULL);
}

Test(linalg_extra, traced_rectangular) {
    tg_scope_begin();
    tg_spec specs[2] = {{TG_F64, "B, M, N"}, {TG_F64, "B, M, K"}};
    tg_graph *g = tg_trace(f_rect, NULL, 2, specs, 3);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    for (int64_t m = 3; m <= 5; m += 2) {   /* wide then tall, one program */
        tg_tensor *in[2] = {tg_randn(TG_F64, 3, (int64_t[]){2, m, 4}), tg_randn(TG_F64, 3, (int64_t[]){2, m, 2})};
        tg_tensor *got[3] = {0}, *want[3] = {0};
        check_status(tg_run(p, in, got), TG_OK, "run");
        check_status(f_rect(NULL, in, want), TG_OK, "eager");
        for (int i = 0; i < 3; i++) check_close(got[i], want[i], 0, 0, "compiled equals eager");
        for (int i = 0; i < 3; i++) tg_release(got[i]);
    }
    tg_program_free(p);
    tg_graph_free(g);
    tg_graph *gs = tg_trace(f_rect, (void *)1, 1, (tg_spec[]){{TG_F64, "B, N, N"}}, 4);
    cr_assert_not_null(gs, "square spec: %s", tg_last_error());
    tg_program *ps = tg_compile(gs, NULL);
    cr_assert_not_null(ps, "%s", tg_last_error());
    tg_tensor *hs = tg_randn(TG_F64, 3, (int64_t[]){2, 3, 3}), *got[4] = {0}, *want[4] = {0};
    check_status(tg_run(ps, &hs, got), TG_OK, "run square");
    check_status(f_rect((void *)1, &hs, want), TG_OK, "eager square");
    for (int i = 0; i < 4; i++) check_close(got[i], want[i], 0, 0, "square: compiled equals eager");
    for (int i = 0; i < 4; i++) tg_release(got[i]);
    tg_program_free(ps);
    tg_graph_free(gs);
    cr_expect_null(tg_trace(f_rect, (void *)1, 1, specs, 4));
    check_status(tg_last_error_code(), TG_ERR_SHAPE, "hermitian pinv needs a provably square A");
    tg_clear_error();
    cr_expect_null(tg_trace(f_cond_inf, NULL, 1, specs, 1));
    check_status(tg_last_error_code(), TG_ERR_SHAPE, "cond inf needs a provably square A");
    tg_clear_error();
    cr_expect_null(tg_trace(f_residuals, NULL, 2, specs, 1));
    check_status(tg_last_error_code(), TG_ERR_UNSUPPORTED, "residuals depend on the rank");
    tg_clear_error();
    tg_scope_end();
}

/* A batch of eight 4 x 4 f64 systems (the small-matrix lanes, read by
 * transposes) where item 3 is scaled into the subnormals: its pivots are
 * below DBL_MIN, so getrf's multipliers must come from a division (1 / p
 * overflows there). Every item's X must match the solve of its unscaled
 * system, which has the same solution. */
Test(linalg_extra, small_batch_with_subnormal_pivots) {
    tg_scope_begin();
    double a[8][16], b[8][4];
    for (int w = 0; w < 8; w++) {
        for (int e = 0; e < 16; e++) a[w][e] = sin(1.3 * e + 0.7 * w) + (e % 5 == 0 ? 3.0 : 0.0);
        for (int i = 0; i < 4; i++) b[w][i] = cos(0.9 * i + w);
    }
    tg_tensor *A = tg_from_data(TG_F64, 3, (int64_t[]){8, 4, 4}, a), *B = tg_from_data(TG_F64, 2, (int64_t[]){8, 4}, b);
    tg_tensor *want = tg_linalg_solve(A, B);
    for (int e = 0; e < 16; e++) a[3][e] *= 1e-310;
    for (int i = 0; i < 4; i++) b[3][i] *= 1e-310;
    tg_tensor *As = tg_from_data(TG_F64, 3, (int64_t[]){8, 4, 4}, a), *Bs = tg_from_data(TG_F64, 2, (int64_t[]){8, 4}, b);
    tg_tensor *got = tg_linalg_solve(As, Bs);
    cr_assert(want && got, "%s", tg_last_error());
    const double *g = tg_data(got), *r = tg_data(want);
    for (int k = 0; k < 32; k++)   /* subnormal inputs keep about 13 digits */
        cr_expect(isfinite(g[k]) && fabs(g[k] - r[k]) <= 1e-9 * (1 + fabs(r[k])), "item %d, x[%d] = %g, want %g",
                  k / 4, k % 4, g[k], r[k]);
    tg_scope_end();
}

/* linalg's transposing copy (tg__linalg_copy_matrix) of f64 matrices, in
 * both orientations (column-major to row-major and back) and with partial
 * 8 x 8 tiles, against an element-by-element copy: the AVX-512 tiles and
 * the element loop must agree exactly. */
void tg__linalg_copy_matrix(char *dst, int64_t drs, int64_t dcs, const char *src, int64_t srs, int64_t scs,
                            int64_t rows, int64_t cols, int64_t es);

Test(linalg_extra, transposing_copies_of_f64) {
    static const int64_t sizes[][2] = {{8, 8}, {13, 21}, {64, 64}, {7, 30}};
    for (size_t c = 0; c < sizeof sizes / sizeof *sizes; c++) {
        int64_t r = sizes[c][0], k = sizes[c][1];
        double *src = malloc((size_t)(r * k) * sizeof *src), *dst = malloc((size_t)(r * k) * sizeof *dst);
        for (int64_t e = 0; e < r * k; e++) src[e] = (double)e + 0.25;
        for (int orient = 0; orient < 2; orient++) {
            /* orient 0: src column-major (srs 1, scs r), dst row-major; 1: the reverse */
            int64_t srs = orient ? k : 1, scs = orient ? 1 : r, drs = orient ? 1 : k, dcs = orient ? r : 1;
            memset(dst, 0, (size_t)(r * k) * sizeof *dst);
            tg__linalg_copy_matrix((char *)dst, drs, dcs, (const char *)src, srs, scs, r, k, 8);
            int bad = 0;
            for (int64_t i = 0; i < r; i++)
                for (int64_t j = 0; j < k; j++) bad += dst[i * drs + j * dcs] != src[i * srs + j * scs];
            cr_expect_eq(bad, 0, "%lld x %lld, orientation %d: %d elements differ", (long long)r, (long long)k, orient,
                         bad);
        }
        free(src);
        free(dst);
    }
}
