/* nn layers: softmax, log_softmax, linear (+ReLU), cross_entropy, dropout.
 * Bad input, values, tg_gradcheck / tg_gradgradcheck in f64, the fused
 * linear against the unfused chain, dropout statistics and its gradient,
 * and traced mode (symbolic batch "N": shape errors at trace time, compiled
 * programs equal to eager, gradients through the traced graph). Oracle
 * values: tests/test_oracle_nn_layers.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "support/check.h"

TestSuite(nn_layers, .init = tg_clear_error);

static void expect_msg(const char *part) {
    cr_expect(strstr(tg_last_error(), part) != NULL, "message lacks \"%s\": %s", part, tg_last_error());
    tg_clear_error();
}

Test(nn_layers, errors) {
    tg_scope_begin();
    tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){3, 4});
    check_error(tg_nn_softmax(NULL, 0), TG_ERR_ARG, "softmax NULL");
    check_error(tg_nn_log_softmax(NULL, 0), TG_ERR_ARG, "log_softmax NULL");
    check_error(tg_nn_softmax(x, 2), TG_ERR_ARG, "softmax axis 2 of 2");
    check_error(tg_nn_log_softmax(x, -3), TG_ERR_ARG, "log_softmax axis -3 of 2");
    check_error(tg_nn_softmax(tg_cast(x, TG_C128), 1), TG_ERR_DTYPE, "softmax complex");
    check_error(tg_nn_log_softmax(tg_cast(x, TG_C64), 1), TG_ERR_DTYPE, "log_softmax complex");
    check_error(tg_nn_softmax(tg_cast(x, TG_I64), 1), TG_ERR_DTYPE, "softmax integer");

    tg_tensor *w = tg_randn(TG_F64, 2, (int64_t[]){5, 4}), *b = tg_randn(TG_F64, 1, (int64_t[]){5});
    check_error(tg_nn_linear(NULL, w, b, TG_ACT_NONE), TG_ERR_ARG, "linear NULL x");
    check_error(tg_nn_linear(x, NULL, b, TG_ACT_NONE), TG_ERR_ARG, "linear NULL w");
    check_error(tg_nn_linear(x, w, b, (tg_activation)7), TG_ERR_ARG, "linear bad activation");
    check_error(tg_nn_linear(x, tg_mT(w), b, TG_ACT_RELU), TG_ERR_SHAPE, "linear in mismatch");
    tg_nn_linear(x, tg_randn(TG_F64, 2, (int64_t[]){5, 3}), b, TG_ACT_NONE);
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    expect_msg("x has 4 input features but w (out, in) expects 3");
    check_error(tg_nn_linear(x, w, tg_randn(TG_F64, 1, (int64_t[]){4}), TG_ACT_NONE), TG_ERR_SHAPE, "linear bias size");
    check_error(tg_nn_linear(x, tg_select(w, 0, 0), NULL, TG_ACT_NONE), TG_ERR_SHAPE, "linear 1-d w");
    check_error(tg_nn_linear(tg_scalar(TG_F64, 1), w, NULL, TG_ACT_NONE), TG_ERR_SHAPE, "linear 0-d x");

    int64_t lab[3] = {1, 9, -1};
    tg_tensor *l = tg_from_data(TG_I64, 1, (int64_t[]){3}, lab);
    check_error(tg_nn_cross_entropy(NULL, l, NULL), TG_ERR_ARG, "ce NULL logits");
    check_error(tg_nn_cross_entropy(x, NULL, NULL), TG_ERR_ARG, "ce NULL labels");
    check_error(tg_nn_cross_entropy(x, tg_zeros(TG_I64, 1, (int64_t[]){3}), "avg"), TG_ERR_ARG, "ce bad reduction");
    /* the first bad label is named with its index; nothing is computed or recorded */
    tg_tensor *xr = tg_copy(x);
    tg_set_requires_grad(xr, true);
    cr_expect_null(tg_nn_cross_entropy(xr, l, "sum"));
    cr_expect_eq(tg_last_error_code(), TG_ERR_ARG);
    expect_msg("label 9 at index 1 is outside [0, 4)");
    int32_t lab32[3] = {0, 3, -2};
    cr_expect_null(tg_nn_cross_entropy(x, tg_from_data(TG_I32, 1, (int64_t[]){3}, lab32), NULL));
    expect_msg("label -2 at index 2");
    check_error(tg_nn_cross_entropy(x, tg_zeros(TG_F64, 1, (int64_t[]){3}), NULL), TG_ERR_DTYPE, "ce float labels");
    check_error(tg_nn_cross_entropy(x, tg_zeros(TG_BOOL, 1, (int64_t[]){3}), NULL), TG_ERR_DTYPE, "ce bool labels");
    tg_nn_cross_entropy(x, tg_zeros(TG_I64, 1, (int64_t[]){4}), NULL);
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    expect_msg("4 labels for 3 rows");
    check_error(tg_nn_cross_entropy(tg_select(x, 0, 0), tg_zeros(TG_I64, 0, NULL), NULL), TG_ERR_SHAPE, "ce 1-d logits");
    check_error(tg_nn_cross_entropy(tg_cast(x, TG_I32), tg_zeros(TG_I64, 1, (int64_t[]){3}), NULL), TG_ERR_DTYPE,
                "ce int logits");

    check_error(tg_nn_dropout(NULL, 0.5, true), TG_ERR_ARG, "dropout NULL");
    check_error(tg_nn_dropout(x, 1.0, true), TG_ERR_ARG, "dropout p = 1");
    check_error(tg_nn_dropout(x, -0.1, false), TG_ERR_ARG, "dropout p < 0");
    check_error(tg_nn_dropout(x, NAN, true), TG_ERR_ARG, "dropout NaN");
    check_error(tg_nn_dropout(tg_cast(x, TG_I32), 0.5, true), TG_ERR_DTYPE, "dropout int");
    tg_scope_end();
}

Test(nn_layers, values) {
    tg_scope_begin();
    double xv[2][3] = {{1, 2, 3}, {1000, 1000, -INFINITY}};
    tg_tensor *x = tg_from_data(TG_F64, 2, (int64_t[]){2, 3}, xv);
    double e1 = exp(1.0), e2 = exp(2.0), e3 = exp(3.0), s = e1 + e2 + e3;
    check_values_f64(tg_nn_softmax(x, 1), 6, (double[]){e1 / s, e2 / s, e3 / s, 0.5, 0.5, 0}, 1e-15, "softmax rows");
    check_values_f64(tg_nn_log_softmax(x, -1), 6,
                     (double[]){1 - log(s), 2 - log(s), 3 - log(s), -log(2.0), -log(2.0), -INFINITY}, 1e-14,
                     "log_softmax rows, no overflow");
    /* f32 with huge logits: no overflow, rows sum to 1 */
    tg_tensor *big = tg_mul_scalar(tg_randn(TG_F32, 2, (int64_t[]){64, 33}), 1e4);
    tg_tensor *rows = tg_sum(tg_nn_softmax(big, 1), 1, (int[]){1}, false);
    check_close(rows, tg_ones(TG_F32, 1, (int64_t[]){64}), 1e-5, 0, "f32 rows sum to 1");
    /* axis 0 of a 3-d tensor equals softmax of the moved axis */
    tg_tensor *y = tg_randn(TG_F64, 3, (int64_t[]){5, 3, 4});
    tg_tensor *a0 = tg_nn_softmax(y, 0);
    tg_tensor *al = tg_permute(tg_nn_softmax(tg_permute(y, (int[]){1, 2, 0}), -1), (int[]){2, 0, 1});
    check_close(a0, al, 1e-15, 1e-16, "axis 0 vs last axis");
    check_close(tg_exp(tg_nn_log_softmax(y, 1)), tg_nn_softmax(y, 1), 1e-14, 1e-16, "exp(log_softmax)");
    /* 0-d: one element of a length-1 axis */
    check_values_f64(tg_nn_softmax(tg_scalar(TG_F64, 3), 0), 1, (double[]){1}, 0, "0-d softmax");
    check_values_f64(tg_nn_log_softmax(tg_scalar(TG_F32, 3), -1), 1, (double[]){0}, 0, "0-d log_softmax");
    /* a NaN poisons its line only */
    double nv[2][2] = {{NAN, 1}, {0, 0}};
    check_values_f64(tg_nn_softmax(tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, nv), 1), 4,
                     (double[]){NAN, NAN, 0.5, 0.5}, 0, "NaN line");

    /* cross_entropy: hand values; "none" per row, sum, mean */
    double lv[2][3] = {{0, 0, 0}, {1, 2, 3}};
    int64_t lab[2] = {2, 0};
    tg_tensor *lg = tg_from_data(TG_F64, 2, (int64_t[]){2, 3}, lv), *l = tg_from_data(TG_I64, 1, (int64_t[]){2}, lab);
    double r0 = log(3.0), r1 = log(s) - 1;
    check_values_f64(tg_nn_cross_entropy(lg, l, "none"), 2, (double[]){r0, r1}, 1e-15, "ce none");
    check_values_f64(tg_nn_cross_entropy(lg, l, "sum"), 1, (double[]){r0 + r1}, 1e-15, "ce sum");
    check_values_f64(tg_nn_cross_entropy(lg, l, NULL), 1, (double[]){(r0 + r1) / 2}, 1e-15, "ce mean");
    tg_tensor *m = tg_nn_cross_entropy(lg, l, "mean");
    cr_expect(m && tg_ndim(m) == 0, "mean is 0-d");
    /* empty batch: mean is NaN, sum 0 (PyTorch) */
    tg_tensor *e = tg_zeros(TG_F32, 2, (int64_t[]){0, 3}), *el = tg_zeros(TG_I64, 1, (int64_t[]){0});
    cr_expect(isnan(tg_item_f64(tg_nn_cross_entropy(e, el, NULL))), "empty mean is NaN");
    check_values_f64(tg_nn_cross_entropy(e, el, "sum"), 1, (double[]){0}, 0, "empty sum");
    /* linear with integer operands goes through the unfused chain (matmul + add) */
    int64_t xi[2] = {1, 2}, wi[4] = {1, 0, 2, 3}, bi[2] = {10, -20};
    tg_tensor *li = tg_nn_linear(tg_from_data(TG_I64, 1, (int64_t[]){2}, xi), tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, wi),
                                 tg_from_data(TG_I64, 1, (int64_t[]){2}, bi), TG_ACT_RELU);
    check_values_f64(li, 2, (double[]){11, 0}, 0, "integer linear relu");
    tg_scope_end();
}

/* The fused kernel against relu(add(matmul(x, mT(w)), b)): the same GEMM, then the same
 * additions, so the forward is bitwise equal; gradients agree to rounding. */
Test(nn_layers, linear_fused_matches_unfused_chain) {
    tg_scope_begin();
    tg_manual_seed(3);
    tg_dtype dts[2] = {TG_F32, TG_F64};
    for (int k = 0; k < 2; k++) {
        tg_tensor *x = tg_randn(dts[k], 2, (int64_t[]){37, 50}), *w = tg_randn(dts[k], 2, (int64_t[]){20, 50});
        tg_tensor *b = tg_randn(dts[k], 1, (int64_t[]){20});
        tg_tensor *ps[3] = {x, w, b};
        for (int i = 0; i < 3; i++) tg_set_requires_grad(ps[i], true);
        for (int act = 0; act < 2; act++) {
            tg_tensor *fused = tg_nn_linear(x, w, b, (tg_activation)act);
            tg_tensor *chain = tg_add(tg_matmul(x, tg_mT(w)), b);
            if (act) chain = tg_relu(chain);
            check_close(fused, chain, 0, 0, "fused forward equals the chain bitwise");
            tg_tensor *gf[3], *gc[3];
            tg_tensor *seed = tg_randn(dts[k], 2, (int64_t[]){37, 20});
            tg_backward_opts o = {.seed = seed};
            cr_assert_eq(tg_backward(fused, &o), TG_OK, "%s", tg_last_error());
            for (int i = 0; i < 3; i++) { gf[i] = tg_copy(tg_grad(ps[i])); tg_zero_grad(ps[i]); }
            cr_assert_eq(tg_backward(chain, &o), TG_OK, "%s", tg_last_error());
            for (int i = 0; i < 3; i++) { gc[i] = tg_copy(tg_grad(ps[i])); tg_zero_grad(ps[i]); }
            double rt = k ? 1e-13 : 1e-5, at = k ? 1e-13 : 1e-5;
            for (int i = 0; i < 3; i++) check_close(gf[i], gc[i], rt, at, "fused gradient vs chain");
        }
        /* NaN propagates through the ReLU as in tg_relu */
        tg_tensor *xn = tg_full(dts[k], 2, (int64_t[]){1, 50}, NAN);
        cr_expect(isnan(tg_item_f64(tg_select(tg_nn_linear(xn, w, b, TG_ACT_RELU), 1, 3))), "NaN propagates");
    }
    tg_scope_end();
}

/* ---- gradient checks ------------------------------------------------------------------------ */
enum { G_SOFTMAX, G_SOFTMAX_AX0, G_LOG_SOFTMAX, G_LOG_SOFTMAX_MID, G_LIN, G_LIN_RELU, G_LIN_NOBIAS_RELU,
       G_LIN_VEC_RELU, G_CE_MEAN, G_CE_SUM, G_CE_NONE, G_CE_COMPOSED };
typedef struct { int op; tg_tensor *labels; } gctx;
static tg_status gfn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const gctx *g = ctx;
    switch (g->op) {
    case G_SOFTMAX: out[0] = tg_nn_softmax(in[0], -1); break;
    case G_SOFTMAX_AX0: out[0] = tg_nn_softmax(in[0], 0); break;
    case G_LOG_SOFTMAX: out[0] = tg_nn_log_softmax(in[0], 1); break;
    case G_LOG_SOFTMAX_MID: out[0] = tg_nn_log_softmax(in[0], -2); break;
    case G_LIN: out[0] = tg_nn_linear(in[0], in[1], in[2], TG_ACT_NONE); break;
    case G_LIN_RELU: case G_LIN_VEC_RELU: out[0] = tg_nn_linear(in[0], in[1], in[2], TG_ACT_RELU); break;
    case G_LIN_NOBIAS_RELU: out[0] = tg_nn_linear(in[0], in[1], NULL, TG_ACT_RELU); break;
    case G_CE_MEAN: out[0] = tg_nn_cross_entropy(in[0], g->labels, "mean"); break;
    case G_CE_SUM: out[0] = tg_nn_cross_entropy(in[0], g->labels, "sum"); break;
    case G_CE_NONE: out[0] = tg_nn_cross_entropy(in[0], g->labels, "none"); break;
    default:   /* the classifier head: linear + ReLU, linear, cross-entropy */
        out[0] = tg_nn_cross_entropy(tg_nn_linear(tg_nn_linear(in[0], in[1], NULL, TG_ACT_RELU), in[2], NULL,
                                                  TG_ACT_NONE), g->labels, NULL);
        break;
    }
    return out[0] ? TG_OK : tg_last_error_code();
}

static void check_grads(int op, int n_in, tg_tensor **x, tg_tensor *labels, bool second, const char *what) {
    gctx g = {op, labels};
    tg_status st = tg_gradcheck(gfn, &g, n_in, x, 1, NULL);
    cr_expect_eq(st, TG_OK, "gradcheck %s: %s", what, tg_last_error());
    tg_clear_error();
    if (!second) return;
    st = tg_gradgradcheck(gfn, &g, n_in, x, 1, NULL);
    cr_expect_eq(st, TG_OK, "gradgradcheck %s: %s", what, tg_last_error());
    tg_clear_error();
}

Test(nn_layers, gradcheck_f64) {
    tg_scope_begin();
    tg_manual_seed(21);
    tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){3, 4}), *x3 = tg_randn(TG_F64, 3, (int64_t[]){2, 3, 4});
    check_grads(G_SOFTMAX, 1, &x, NULL, true, "softmax last axis");
    check_grads(G_SOFTMAX_AX0, 1, &x3, NULL, true, "softmax axis 0 of 3-d");
    tg_tensor *xt = tg_mT(x);    /* non-contiguous */
    check_grads(G_LOG_SOFTMAX, 1, &xt, NULL, true, "log_softmax transposed input");
    check_grads(G_LOG_SOFTMAX_MID, 1, &x3, NULL, true, "log_softmax middle axis");
    tg_tensor *lin[3] = {tg_randn(TG_F64, 3, (int64_t[]){2, 3, 4}), tg_randn(TG_F64, 2, (int64_t[]){5, 4}),
                         tg_randn(TG_F64, 1, (int64_t[]){5})};
    check_grads(G_LIN, 3, lin, NULL, true, "linear");
    check_grads(G_LIN_RELU, 3, lin, NULL, true, "linear relu, 3-d x");
    check_grads(G_LIN_NOBIAS_RELU, 2, lin, NULL, true, "linear relu, no bias");
    tg_tensor *lv[3] = {tg_randn(TG_F64, 1, (int64_t[]){4}), lin[1], lin[2]};
    check_grads(G_LIN_VEC_RELU, 3, lv, NULL, true, "linear relu, 1-d x");
    int64_t lab[4] = {2, 0, 4, 2};
    tg_tensor *l = tg_from_data(TG_I64, 1, (int64_t[]){4}, lab), *lg = tg_randn(TG_F64, 2, (int64_t[]){4, 5});
    check_grads(G_CE_MEAN, 1, &lg, l, true, "cross_entropy mean");
    check_grads(G_CE_SUM, 1, &lg, tg_cast(l, TG_I32), true, "cross_entropy sum, i32 labels");
    check_grads(G_CE_NONE, 1, &lg, l, true, "cross_entropy none");
    tg_tensor *head[3] = {tg_randn(TG_F64, 2, (int64_t[]){4, 6}), tg_randn(TG_F64, 2, (int64_t[]){7, 6}),
                          tg_randn(TG_F64, 2, (int64_t[]){5, 7})};
    check_grads(G_CE_COMPOSED, 3, head, l, true, "linear-relu-linear-cross_entropy");
    tg_scope_end();
}

static tg_status f_dropout_train(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_nn_dropout(in[0], 0.25, true);
    return out[0] ? TG_OK : tg_last_error_code();
}

/* ---- dropout -------------------------------------------------------------------------------- */
Test(nn_layers, dropout) {
    tg_scope_begin();
    const int64_t n = 100000;
    const double p = 0.3;
    tg_tensor *x = tg_ones(TG_F32, 1, &n);
    tg_manual_seed(7);
    tg_tensor *y = tg_nn_dropout(x, p, true);
    cr_assert_not_null(y, "%s", tg_last_error());
    /* every value is 0 or 1 / (1 - p) */
    const float *yv = tg_data(y);
    int64_t kept = 0, bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (yv[i] == 0) continue;
        if (yv[i] == (float)(1 / (1 - p))) kept++;
        else bad++;
    }
    cr_expect_eq(bad, 0, "values other than 0 and 1/(1-p)");
    /* kept ~ Binomial(n, 0.7): sd = sqrt(n p (1 - p)) = 144.9; 6 sd (false failure ~2e-9) */
    double sd = sqrt((double)n * p * (1 - p));
    cr_expect(fabs((double)kept - (double)n * (1 - p)) <= 6 * sd, "kept %lld of %lld (expected %g +- %g)",
              (long long)kept, (long long)n, (double)n * (1 - p), 6 * sd);
    /* the same seed gives the same mask; the stream moves on otherwise */
    tg_manual_seed(7);
    check_close(tg_nn_dropout(x, p, true), y, 0, 0, "same seed, same mask");
    tg_tensor *y2 = tg_nn_dropout(x, p, true);
    cr_expect(tg_item_f64(tg_sum(tg_abs(tg_sub(y2, y)), 0, NULL, false)) > 0, "next draw differs");
    /* eval mode and p = 0 return x itself */
    tg_tensor *xr = tg_randn(TG_F64, 2, (int64_t[]){3, 4});
    tg_tensor *ev = tg_nn_dropout(xr, 0.5, false), *p0 = tg_nn_dropout(xr, 0, true);
    cr_expect(ev == xr && p0 == xr, "eval / p = 0 return x");
    check_close(ev, xr, 0, 0, "eval values unchanged");
    /* gradient: mask / (1 - p), the same mask as the forward */
    tg_tensor *xg = tg_randn(TG_F64, 2, (int64_t[]){40, 50});
    tg_set_requires_grad(xg, true);
    tg_tensor *yg = tg_nn_dropout(xg, 0.25, true);
    cr_assert_eq(tg_backward(tg_sum(yg, 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
    tg_tensor *mask = tg_div_scalar(tg_cast(tg_ne(yg, tg_zeros_like(yg)), TG_F64), 0.75);
    check_close(tg_grad(xg), mask, 0, 0, "gradient is mask / (1 - p)");
    check_close(tg_detach(yg), tg_mul(tg_detach(xg), mask), 1e-15, 0, "y = x mask / (1 - p)");
    /* forward mode: the tangent goes through the same mask */
    tg_tensor *xt = tg_randn(TG_F64, 2, (int64_t[]){20, 30}), *tt = tg_randn(TG_F64, 2, (int64_t[]){20, 30});
    tg_tensor *yo = NULL, *yt = NULL;
    cr_assert_eq(tg_jvp(f_dropout_train, NULL, 1, &xt, &tt, 1, &yo, &yt), TG_OK, "%s", tg_last_error());
    tg_tensor *mt = tg_div_scalar(tg_cast(tg_ne(yo, tg_zeros_like(yo)), TG_F64), 0.75);
    check_close(yt, tg_mul(tt, mt), 0, 0, "tangent is t mask / (1 - p)");
    tg_scope_end();
}

/* ---- traced mode ---------------------------------------------------------------------------- */
typedef struct { tg_tensor *w1, *b1, *w2; } head;
/* loss of the classifier head: in = x (N, 6), labels (N) */
static tg_status f_head(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    head *h = ctx;
    tg_tensor *z = tg_nn_linear(tg_nn_linear(in[0], h->w1, h->b1, TG_ACT_RELU), h->w2, NULL, TG_ACT_NONE);
    out[0] = tg_nn_cross_entropy(z, in[1], NULL);
    out[1] = tg_nn_log_softmax(z, -1);
    return out[0] && out[1] ? TG_OK : tg_last_error_code();
}
/* parameters as inputs: in = x, labels, w1, b1, w2 */
static tg_status f_head_params(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *z = tg_nn_linear(tg_nn_linear(in[0], in[2], in[3], TG_ACT_RELU), in[4], NULL, TG_ACT_NONE);
    out[0] = tg_nn_cross_entropy(z, in[1], "mean");
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_bad_linear(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    head *h = ctx;
    out[0] = tg_nn_linear(in[0], h->w1, h->b1, TG_ACT_RELU);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_bad_ce(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_nn_cross_entropy(in[0], in[1], NULL);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_softmax(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_nn_softmax(in[0], 1);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_dropout(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    out[0] = tg_nn_dropout(in[0], 0.5, ctx != NULL);
    return out[0] ? TG_OK : tg_last_error_code();
}

static tg_tensor *labels_of(int64_t n) {
    int64_t v[8] = {0, 3, 1, 2, 3, 0, 2, 1};
    return tg_from_data(TG_I64, 1, &n, v);
}

Test(nn_layers, traced) {
    tg_scope_begin();
    tg_manual_seed(4);
    head h = {tg_randn(TG_F32, 2, (int64_t[]){7, 6}), tg_randn(TG_F32, 1, (int64_t[]){7}),
              tg_randn(TG_F32, 2, (int64_t[]){4, 7})};
    /* shape mistakes fail at trace time */
    cr_expect_null(tg_trace(f_bad_linear, &h, 1, (tg_spec[]){{TG_F32, "N, 5"}}, 1));
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    expect_msg("x has 5 input features but w (out, in) expects 6");
    cr_expect_null(tg_trace(f_bad_ce, NULL, 2, (tg_spec[]){{TG_F32, "N, 4"}, {TG_I64, "M"}}, 1));
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    expect_msg("M labels for N rows");
    cr_expect_null(tg_trace(f_bad_ce, NULL, 2, (tg_spec[]){{TG_F32, "N, 4"}, {TG_F32, "N"}}, 1));
    cr_expect_eq(tg_last_error_code(), TG_ERR_DTYPE);
    tg_clear_error();
    cr_expect_null(tg_trace(f_softmax, NULL, 1, (tg_spec[]){{TG_F32, "N"}}, 1));
    cr_expect_eq(tg_last_error_code(), TG_ERR_ARG);
    tg_clear_error();

    /* compiled equals eager for several batch sizes; a bad label fails at run time */
    tg_graph *g = tg_trace(f_head, &h, 2, (tg_spec[]){{TG_F32, "N, 6"}, {TG_I64, "N"}}, 2);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    for (int64_t n = 1; n <= 8; n += 3) {
        tg_tensor *in[2] = {tg_randn(TG_F32, 2, (int64_t[]){n, 6}), labels_of(n)}, *eager[2], *run[2];
        check_status(f_head(&h, in, eager), TG_OK, "eager");
        check_status(tg_run(p, in, run), TG_OK, "run");
        check_close(run[0], eager[0], 0, 0, "compiled loss equals eager");
        check_close(run[1], eager[1], 0, 0, "compiled log_softmax equals eager");
        tg_release(run[0]);
        tg_release(run[1]);
    }
    int64_t badv[2] = {1, 4}, two = 2;
    tg_tensor *bad[2] = {tg_randn(TG_F32, 2, (int64_t[]){2, 6}), tg_from_data(TG_I64, 1, &two, badv)}, *r2[2];
    check_status(tg_run(p, bad, r2), TG_ERR_ARG, "bad label at run time");
    tg_program_free(p);
    tg_graph_free(g);

    /* gradients through the traced graph (symbolic N in the mean's 1/N and the reshapes) equal eager backward */
    tg_tensor *w2p = tg_randn(TG_F64, 2, (int64_t[]){4, 7});
    g = tg_trace(f_head_params, NULL, 5,
                 (tg_spec[]){{TG_F64, "N, 2, 6"}, {TG_I64, "N"}, {TG_F64, "7, 6"}, {TG_F64, "7"}, {TG_F64, "4, 7"}}, 1);
    cr_assert_null(g, "3-d x with (N) labels is a shape error");
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    tg_clear_error();
    g = tg_trace(f_head_params, NULL, 5,
                 (tg_spec[]){{TG_F64, "N, 6"}, {TG_I64, "N"}, {TG_F64, "7, 6"}, {TG_F64, "7"}, {TG_F64, "4, 7"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 3, (int[]){0, 2, 3});
    cr_assert_not_null(vg, "%s", tg_last_error());
    p = tg_compile(vg, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    for (int64_t n = 3; n <= 5; n += 2) {
        tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){n, 6}), *w1 = tg_cast(h.w1, TG_F64), *b1 = tg_cast(h.b1, TG_F64);
        tg_tensor *in[5] = {x, labels_of(n), w1, b1, w2p}, *run[4], *eager;
        check_status(tg_run(p, in, run), TG_OK, "run value_and_grad");
        tg_tensor *lv[3] = {x, w1, b1};
        for (int i = 0; i < 3; i++) tg_set_requires_grad(lv[i], true);
        check_status(f_head_params(NULL, in, &eager), TG_OK, "eager");
        check_status(tg_backward(eager, NULL), TG_OK, "backward");
        check_close(run[0], tg_detach(eager), 1e-15, 0, "value");
        for (int i = 0; i < 3; i++) check_close(run[i + 1], tg_grad(lv[i]), 1e-13, 1e-15, "traced gradient");
        for (int i = 0; i < 4; i++) tg_release(run[i]);
    }
    tg_program_free(p);
    tg_graph_free(vg);
    tg_graph_free(g);

    /* dropout: eval mode traces to the identity; training draws a fresh mask per run */
    g = tg_trace(f_dropout, NULL, 1, (tg_spec[]){{TG_F32, "N, 4"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    p = tg_compile(g, NULL);
    tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){3, 4}), *y;
    check_status(tg_run(p, &x, &y), TG_OK, "eval dropout run");
    check_close(y, x, 0, 0, "eval dropout is the identity");
    tg_release(y);
    tg_program_free(p);
    tg_graph_free(g);
    g = tg_trace(f_dropout, (void *)1, 1, (tg_spec[]){{TG_F32, "N, 4"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    tg_tensor *ones = tg_ones(TG_F32, 2, (int64_t[]){500, 4}), *y1, *y2;
    check_status(tg_run(p, &ones, &y1), TG_OK, "dropout run 1");
    check_status(tg_run(p, &ones, &y2), TG_OK, "dropout run 2");
    double k1 = tg_item_f64(tg_sum(y1, 0, NULL, false)) / 2, k2 = tg_item_f64(tg_sum(y2, 0, NULL, false)) / 2;
    /* kept ~ Binomial(2000, 0.5): sd 22.4, 6 sd */
    cr_expect(fabs(k1 - 1000) <= 135 && fabs(k2 - 1000) <= 135, "kept %g and %g of 2000", k1, k2);
    cr_expect(tg_item_f64(tg_sum(tg_abs(tg_sub(y1, y2)), 0, NULL, false)) > 0, "a fresh mask per run");
    tg_release(y1);
    tg_release(y2);
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}
