/* Convolution and pooling (nn/unfold.c, nn/conv.c, nn/pool.c): bad input,
 * small exact values, first-maximum routing of max_pool2d's gradient,
 * gradient checks (first and second order, f64), thread-count independence
 * and traced mode (symbolic batch and height; shape mistakes fail at
 * tg_trace). PyTorch values: tests/test_oracle_nn_conv.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "support/check.h"

TestSuite(nn_conv, .init = tg_clear_error);

static void expect_msg(const char *part) {
    cr_expect(strstr(tg_last_error(), part) != NULL, "message lacks \"%s\": %s", part, tg_last_error());
}
static void expect_err(const void *r, tg_status code, const char *part, const char *what) {
    cr_expect_null(r, "%s: expected an error", what);
    cr_expect_eq(tg_last_error_code(), code, "%s: code %d (%s)", what, tg_last_error_code(), tg_last_error());
    if (part) expect_msg(part);
    tg_clear_error();
}

Test(nn_conv, errors) {
    tg_scope_begin();
    tg_tensor *x = tg_randn(TG_F32, 4, (int64_t[]){2, 3, 8, 8});
    tg_tensor *w = tg_randn(TG_F32, 4, (int64_t[]){4, 3, 3, 3});
    tg_conv2d_opts o = {0};
    expect_err(tg_nn_conv2d(NULL, w, NULL, NULL), TG_ERR_ARG, "tg_nn_conv2d", "NULL x");
    expect_err(tg_nn_conv2d(x, NULL, NULL, NULL), TG_ERR_ARG, "tg_nn_conv2d", "NULL w");
    expect_err(tg_nn_unfold(NULL, 2, 2, NULL), TG_ERR_ARG, "tg_nn_unfold", "NULL unfold");
    expect_err(tg_nn_max_pool2d(x, NULL), TG_ERR_ARG, "tg_nn_max_pool2d", "NULL opts");
    expect_err(tg_nn_avg_pool2d(NULL, &(tg_pool2d_opts){.kernel = {2, 2}}), TG_ERR_ARG, NULL, "NULL avg");
    /* the paper's classic mistake: the message names both shapes */
    expect_err(tg_nn_conv2d(x, tg_randn(TG_F32, 4, (int64_t[]){4, 2, 3, 3}), NULL, NULL), TG_ERR_SHAPE,
               "wrong channel count", "channels");
    tg_nn_conv2d(x, tg_randn(TG_F32, 4, (int64_t[]){4, 2, 3, 3}), NULL, NULL);
    expect_msg("(2, 3, 8, 8) f32");
    expect_msg("(4, 2, 3, 3) f32");
    tg_clear_error();
    o.groups = 3;
    expect_err(tg_nn_conv2d(x, w, NULL, &o), TG_ERR_SHAPE, "wrong channel count", "groups times w.shape[1]");
    o.groups = 2;
    expect_err(tg_nn_conv2d(tg_randn(TG_F32, 4, (int64_t[]){2, 4, 8, 8}), tg_randn(TG_F32, 4, (int64_t[]){3, 2, 3, 3}),
                            NULL, &o),
               TG_ERR_SHAPE, "not divisible by groups", "O % groups");
    o = (tg_conv2d_opts){.groups = -1};
    expect_err(tg_nn_conv2d(x, w, NULL, &o), TG_ERR_SHAPE, "groups", "negative groups");
    expect_err(tg_nn_conv2d(tg_randn(TG_F32, 3, (int64_t[]){3, 8, 8}), w, NULL, NULL), TG_ERR_SHAPE, "4-D", "3-D x");
    expect_err(tg_nn_conv2d(x, tg_randn(TG_F32, 3, (int64_t[]){4, 3, 3}), NULL, NULL), TG_ERR_SHAPE, "4-D", "3-D w");
    expect_err(tg_nn_conv2d(x, tg_randn(TG_F32, 4, (int64_t[]){4, 3, 9, 3}), NULL, NULL), TG_ERR_SHAPE,
               "larger than the padded input", "kernel too large");
    o = (tg_conv2d_opts){.padding = {1, 0}};
    cr_expect_not_null(tg_nn_conv2d(x, tg_randn(TG_F32, 4, (int64_t[]){4, 3, 10, 3}), NULL, &o),
                       "kernel 10 fits 8 + 2*1: %s", tg_last_error());
    o = (tg_conv2d_opts){.dilation = {4, 1}};
    expect_err(tg_nn_conv2d(x, w, NULL, &o), TG_ERR_SHAPE, "dilated to 9", "dilated kernel too large");
    o = (tg_conv2d_opts){.stride = {1, -2}};
    expect_err(tg_nn_conv2d(x, w, NULL, &o), TG_ERR_SHAPE, "stride", "negative stride");
    o = (tg_conv2d_opts){.dilation = {-1, 1}};
    expect_err(tg_nn_conv2d(x, w, NULL, &o), TG_ERR_SHAPE, "dilation", "negative dilation");
    o = (tg_conv2d_opts){.padding = {-1, 0}};
    expect_err(tg_nn_conv2d(x, w, NULL, &o), TG_ERR_SHAPE, "padding", "negative padding");
    /* exact: (8 - 3) is odd, so stride 2 drops a row; padding 1 makes it 7 -> still odd; kernel 4 -> even */
    o = (tg_conv2d_opts){.stride = {2, 2}, .exact = true};
    expect_err(tg_nn_conv2d(x, w, NULL, &o), TG_ERR_SHAPE, "exact", "exact stride");
    cr_expect_not_null(tg_nn_conv2d(x, tg_randn(TG_F32, 4, (int64_t[]){4, 3, 4, 4}), NULL, &o), "%s",
                       tg_last_error());
    o.exact = false;
    cr_expect_not_null(tg_nn_conv2d(x, w, NULL, &o), "floor without exact: %s", tg_last_error());
    expect_err(tg_nn_conv2d(x, w, tg_ones(TG_F32, 1, (int64_t[]){3}), NULL), TG_ERR_SHAPE, "bias", "bias size");
    expect_err(tg_nn_conv2d(tg_ones(TG_I32, 4, (int64_t[]){2, 3, 8, 8}), w, NULL, NULL), TG_ERR_DTYPE, NULL,
               "int input");
    expect_err(tg_nn_unfold(tg_ones(TG_F32, 2, (int64_t[]){8, 8}), 2, 2, NULL), TG_ERR_SHAPE, "tg_nn_unfold",
               "unfold 2-D");
    expect_err(tg_nn_unfold(x, 0, 2, NULL), TG_ERR_SHAPE, "kernel 0", "unfold kernel 0");
    expect_err(tg_nn_unfold(x, 9, 2, NULL), TG_ERR_SHAPE, "larger than the padded input", "unfold too large");
    /* pooling */
    tg_pool2d_opts p = {.kernel = {2, 2}, .padding = {2, 0}};
    expect_err(tg_nn_max_pool2d(x, &p), TG_ERR_SHAPE, "more than half the kernel", "max pool padding");
    expect_err(tg_nn_avg_pool2d(x, &p), TG_ERR_SHAPE, "more than half the kernel", "avg pool padding");
    p = (tg_pool2d_opts){.kernel = {0, 2}};
    expect_err(tg_nn_max_pool2d(x, &p), TG_ERR_SHAPE, "kernel 0", "pool kernel 0");
    p = (tg_pool2d_opts){.kernel = {2, 2}, .stride = {-1, 2}};
    expect_err(tg_nn_max_pool2d(x, &p), TG_ERR_SHAPE, "stride -1", "pool negative stride");
    p = (tg_pool2d_opts){.kernel = {3, 3}, .exact = true};
    expect_err(tg_nn_max_pool2d(x, &p), TG_ERR_SHAPE, "exact", "pool exact");
    expect_err(tg_nn_avg_pool2d(x, &p), TG_ERR_SHAPE, "exact", "avg pool exact");
    p = (tg_pool2d_opts){.kernel = {9, 2}};
    expect_err(tg_nn_max_pool2d(x, &p), TG_ERR_SHAPE, "larger", "pool kernel too large");
    p = (tg_pool2d_opts){.kernel = {2, 2}};
    expect_err(tg_nn_max_pool2d(tg_ones(TG_F32, 3, (int64_t[]){3, 8, 8}), &p), TG_ERR_SHAPE, "4-D", "pool 3-D");
    expect_err(tg_nn_max_pool2d(tg_ones(TG_C64, 4, (int64_t[]){1, 1, 4, 4}), &p), TG_ERR_DTYPE, NULL,
               "max pool complex");
    expect_err(tg_nn_avg_pool2d(tg_ones(TG_I64, 4, (int64_t[]){1, 1, 4, 4}), &p), TG_ERR_DTYPE, NULL, "avg pool int");
    tg_scope_end();
}

Test(nn_conv, values) {
    tg_scope_begin();
    /* unfold of 0..8 as a 3x3 image, 2x2 kernel: the four windows, rows (i, j) */
    tg_tensor *x = tg_reshape(tg_arange(TG_F64, 0, 9, 1), 4, (int64_t[]){1, 1, 3, 3});
    tg_tensor *u = tg_nn_unfold(x, 2, 2, NULL);
    cr_assert_not_null(u, "%s", tg_last_error());
    cr_expect(tg_ndim(u) == 3 && tg_shape(u)[0] == 1 && tg_shape(u)[1] == 4 && tg_shape(u)[2] == 4);
    check_values_f64(u, 16, (double[]){0, 1, 3, 4, 1, 2, 4, 5, 3, 4, 6, 7, 4, 5, 7, 8}, 0, "unfold");
    /* padding 1, stride 2: corners of the padded image are zeros */
    tg_conv2d_opts o = {.stride = {2, 2}, .padding = {1, 1}};
    check_values_f64(tg_nn_unfold(x, 2, 2, &o), 16, (double[]){0, 0, 0, 4, 0, 0, 3, 5, 0, 1, 0, 7, 0, 2, 6, 8}, 0,
                     "unfold padded strided");
    /* conv with a ones kernel = window sums, plus bias */
    tg_tensor *w = tg_ones(TG_F64, 4, (int64_t[]){1, 1, 2, 2});
    check_values_f64(tg_nn_conv2d(x, w, tg_full(TG_F64, 1, (int64_t[]){1}, 0.5), NULL), 4,
                     (double[]){8.5, 12.5, 20.5, 24.5}, 0, "conv window sums");
    /* groups: two channels, each with its own scale */
    tg_tensor *x2 = tg_concat(2, (tg_tensor *[]){x, tg_mul_scalar(x, 10)}, 1);
    tg_tensor *w2 = tg_reshape(tg_from_data(TG_F64, 1, (int64_t[]){2}, (double[]){1, -1}), 4, (int64_t[]){2, 1, 1, 1});
    check_values_f64(tg_nn_conv2d(x2, w2, NULL, &(tg_conv2d_opts){.groups = 2, .stride = {2, 2}}), 8,
                     (double[]){0, 2, 6, 8, 0, -20, -60, -80}, 0, "grouped 1x1 conv");
    /* max pool: padding never wins over negative values; ties go to the first maximum */
    tg_tensor *neg = tg_sub_scalar(tg_neg(x), 1);
    tg_pool2d_opts p = {.kernel = {2, 2}, .stride = {1, 1}, .padding = {1, 1}};
    tg_tensor *mp = tg_nn_max_pool2d(neg, &p);
    check_values_f64(mp, 16, (double[]){-1, -1, -2, -3, -1, -1, -2, -3, -4, -4, -5, -6, -7, -7, -8, -9}, 0,
                     "max pool padded");
    tg_tensor *t = tg_from_data(TG_F64, 4, (int64_t[]){1, 1, 2, 3}, (double[]){5, 5, 1, 5, 2, 5});
    cr_assert_eq(tg_set_requires_grad(t, true), TG_OK);
    tg_tensor *tp = tg_nn_max_pool2d(t, &(tg_pool2d_opts){.kernel = {2, 2}, .stride = {1, 1}});
    check_values_f64(tp, 2, (double[]){5, 5}, 0, "max pool ties");
    cr_assert_eq(tg_backward(tg_sum(tp, 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
    check_values_f64(tg_grad(t), 6, (double[]){1, 1, 0, 0, 0, 0}, 0, "first maximum gets the gradient");
    /* the 2x2 stride-2 path (its own argmax pass), f32 and f64: ties and
     * signed zeros go to the first maximum, a window's last NaN gets the
     * gradient (as the running maximum, and torch, take NaN) */
    for (int di = 0; di < 2; di++) {
        tg_dtype dt = di ? TG_F64 : TG_F32;
        double v4[16] = {5, 5, -0.0, 0.0, 1, 2, -1, -2, NAN, 1, 1, 3, NAN, 0, 3, 2};
        tg_tensor *w4 = tg_cast(tg_from_data(TG_F64, 4, (int64_t[]){1, 1, 4, 4}, v4), dt);
        cr_assert_eq(tg_set_requires_grad(w4, true), TG_OK);
        tg_tensor *wp = tg_nn_max_pool2d(w4, &(tg_pool2d_opts){.kernel = {2, 2}, .stride = {2, 2}});
        double wv[4];
        cr_assert_eq(tg_copy_to(tg_cast(wp, TG_F64), wv, sizeof wv), TG_OK);
        cr_expect(wv[0] == 5 && wv[1] == 0 && signbit(wv[1]) && isnan(wv[2]) && wv[3] == 3,
                  "2x2 maxima %g %g %g %g", wv[0], wv[1], wv[2], wv[3]);
        cr_assert_eq(tg_backward(tg_sum(wp, 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
        check_values_f64(tg_grad(w4), 16, (double[]){1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0}, 0,
                         "2x2 stride 2: first maximum, last NaN");
    }
    /* NaN propagates */
    tg_tensor *nn = tg_from_data(TG_F32, 4, (int64_t[]){1, 1, 1, 4}, (float[]){1, NAN, 3, 2});
    tg_tensor *np = tg_nn_max_pool2d(nn, &(tg_pool2d_opts){.kernel = {1, 2}});
    float got[2];
    cr_assert_eq(tg_copy_to(np, got, sizeof got), TG_OK);
    cr_expect(isnan(got[0]) && got[1] == 3, "NaN propagates: %g %g", got[0], got[1]);
    /* int max pool */
    tg_tensor *xi = tg_cast(x, TG_I32);
    tg_tensor *mi = tg_nn_max_pool2d(xi, &(tg_pool2d_opts){.kernel = {2, 2}, .stride = {1, 1}});
    cr_expect(tg_dtype_of(mi) == TG_I32);
    check_values_f64(mi, 4, (double[]){4, 5, 7, 8}, 0, "int max pool");
    /* avg pool counts the padding (count_include_pad) */
    check_values_f64(tg_nn_avg_pool2d(x, &(tg_pool2d_opts){.kernel = {2, 2}, .stride = {2, 2}, .padding = {1, 1}}),
                     4, (double[]){0, 0.75, 2.25, 6}, 1e-15, "avg pool padded");
    /* empty batch */
    tg_tensor *e = tg_nn_conv2d(tg_zeros(TG_F32, 4, (int64_t[]){0, 1, 5, 5}), tg_ones(TG_F32, 4, (int64_t[]){2, 1, 3, 3}),
                                NULL, NULL);
    cr_expect(e && tg_shape(e)[0] == 0 && tg_shape(e)[1] == 2 && tg_shape(e)[2] == 3, "%s", tg_last_error());
    tg_scope_end();
}

/* ---- gradient checks ------------------------------------------------------------------------- */
enum { G_UNFOLD, G_CONV, G_CONV_NOBIAS, G_CONV_GROUPS, G_MAXPOOL, G_AVGPOOL, G_CONV_POOL };
typedef struct { int op; } gctx;
static tg_status gfn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const gctx *g = ctx;
    tg_conv2d_opts o = {.stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}};
    tg_pool2d_opts p = {.kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 1}};
    switch (g->op) {
    case G_UNFOLD: out[0] = tg_nn_unfold(in[0], 2, 3, &o); break;
    case G_CONV: out[0] = tg_nn_conv2d(in[0], in[1], in[2], &o); break;
    case G_CONV_NOBIAS: out[0] = tg_nn_conv2d(in[0], in[1], NULL, NULL); break;
    case G_CONV_GROUPS:
        out[0] = tg_nn_conv2d(in[0], in[1], in[2], &(tg_conv2d_opts){.groups = 2, .padding = {1, 0}});
        break;
    case G_MAXPOOL: out[0] = tg_nn_max_pool2d(in[0], &p); break;
    case G_AVGPOOL: out[0] = tg_nn_avg_pool2d(in[0], &p); break;
    default:    /* a CNN fragment: conv -> relu -> max pool; second order goes through conv's rules twice */
        out[0] = tg_nn_max_pool2d(tg_tanh(tg_nn_conv2d(in[0], in[1], NULL, &(tg_conv2d_opts){.padding = {1, 1}})),
                                  &(tg_pool2d_opts){.kernel = {2, 2}});
        break;
    }
    return out[0] ? TG_OK : tg_last_error_code();
}

static void check_grads(int op, int n_in, tg_tensor **x, bool second, const char *what) {
    gctx g = {op};
    tg_status st = tg_gradcheck(gfn, &g, n_in, x, 1, NULL);
    cr_expect_eq(st, TG_OK, "gradcheck %s: %s", what, tg_last_error());
    tg_clear_error();
    if (!second) return;
    st = tg_gradgradcheck(gfn, &g, n_in, x, 1, NULL);
    cr_expect_eq(st, TG_OK, "gradgradcheck %s: %s", what, tg_last_error());
    tg_clear_error();
}

Test(nn_conv, gradcheck_f64) {
    tg_scope_begin();
    tg_manual_seed(3);
    tg_tensor *x = tg_randn(TG_F64, 4, (int64_t[]){2, 2, 5, 4});
    check_grads(G_UNFOLD, 1, &x, true, "unfold (col2im is its VJP, unfold col2im's)");
    tg_tensor *xc[3] = {x, tg_randn(TG_F64, 4, (int64_t[]){3, 2, 2, 3}), tg_randn(TG_F64, 1, (int64_t[]){3})};
    check_grads(G_CONV, 3, xc, true, "conv2d stride/padding/dilation + bias");
    tg_tensor *xz[3] = {tg_randn(TG_C128, 4, (int64_t[]){1, 2, 4, 4}), tg_randn(TG_C128, 4, (int64_t[]){2, 2, 2, 3}),
                        tg_randn(TG_C128, 1, (int64_t[]){2})};
    check_grads(G_CONV, 3, xz, false, "conv2d c128");
    tg_tensor *xn[2] = {tg_mT(tg_randn(TG_F64, 4, (int64_t[]){1, 2, 4, 5})), tg_randn(TG_F64, 4, (int64_t[]){2, 2, 3, 3})};
    check_grads(G_CONV_NOBIAS, 2, xn, true, "conv2d no bias, transposed x");
    tg_tensor *xg[3] = {tg_randn(TG_F64, 4, (int64_t[]){2, 4, 4, 3}), tg_randn(TG_F64, 4, (int64_t[]){4, 2, 3, 2}),
                        tg_randn(TG_F64, 1, (int64_t[]){4})};
    check_grads(G_CONV_GROUPS, 3, xg, true, "conv2d groups 2");
    /* distinct values well apart, so finite differences never cross a tie */
    tg_tensor *perm = tg_add(tg_mul_scalar(tg_cast(tg_randperm(40), TG_F64), 0.1),
                             tg_mul_scalar(tg_rand(TG_F64, 1, (int64_t[]){40}), 0.01));
    tg_tensor *xp = tg_reshape(perm, 4, (int64_t[]){1, 2, 5, 4});
    check_grads(G_MAXPOOL, 1, &xp, true, "max_pool2d");
    check_grads(G_AVGPOOL, 1, &x, true, "avg_pool2d");
    tg_tensor *xf[2] = {tg_randn(TG_F64, 4, (int64_t[]){1, 1, 4, 4}), tg_randn(TG_F64, 4, (int64_t[]){2, 1, 3, 3})};
    check_grads(G_CONV_POOL, 2, xf, false, "conv -> tanh -> max pool");
    tg_scope_end();
}

/* Parallel kernels give the same bits for any thread count. */
Test(nn_conv, thread_count_independent) {
    tg_scope_begin();
    tg_manual_seed(8);
    tg_tensor *x = tg_randn(TG_F32, 4, (int64_t[]){16, 8, 20, 20});
    tg_pool2d_opts p = {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
    tg_conv2d_opts o = {.padding = {1, 1}};
    tg_tensor *r[2][3];
    int nt = tg_get_num_threads();
    for (int k = 0; k < 2; k++) {
        tg_set_num_threads(k ? 3 : 1);
        tg_tensor *xx = tg_detach(x);
        tg_set_requires_grad(xx, true);
        tg_tensor *mp = tg_nn_max_pool2d(xx, &p), *u = tg_nn_unfold(xx, 3, 3, &o);
        tg_tensor *l = tg_add(tg_sum(tg_mul(mp, mp), 0, NULL, false), tg_sum(tg_mul(u, u), 0, NULL, false));
        cr_assert_eq(tg_backward(l, NULL), TG_OK, "%s", tg_last_error());
        r[k][0] = mp;
        r[k][1] = u;
        r[k][2] = tg_copy(tg_grad(xx));
    }
    tg_set_num_threads(nt);
    for (int i = 0; i < 3; i++) check_close(r[1][i], r[0][i], 0, 0, "3 threads vs 1");
    tg_scope_end();
}

/* ---- traced mode ------------------------------------------------------------------------------- */
typedef struct { tg_tensor *w1, *b1, *w2; bool exact; } cnn;
/* conv 5x5 pad 2 -> relu -> max pool 2 -> conv 3x3 stride 2 -> sum */
static tg_status f_cnn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    cnn *m = ctx;
    tg_tensor *h = tg_relu(tg_nn_conv2d(in[0], m->w1, m->b1, &(tg_conv2d_opts){.padding = {2, 2}}));
    h = tg_nn_max_pool2d(h, &(tg_pool2d_opts){.kernel = {2, 2}, .exact = m->exact});
    h = tg_nn_conv2d(h, m->w2, NULL, &(tg_conv2d_opts){.stride = {2, 2}, .exact = m->exact});
    out[0] = tg_sum(h, 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(nn_conv, traced_symbolic_batch_matches_eager) {
    tg_scope_begin();
    tg_manual_seed(4);
    cnn m = {tg_randn(TG_F32, 4, (int64_t[]){4, 1, 5, 5}), tg_randn(TG_F32, 1, (int64_t[]){4}),
             tg_randn(TG_F32, 4, (int64_t[]){3, 4, 3, 3}), true};
    /* 14 -> pool 7 -> conv 3x3 stride 2: (7 - 3) / 2 exact */
    tg_graph *g = tg_trace(f_cnn, &m, 1, (tg_spec[]){{TG_F32, "N, 1, 14, 14"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    for (int64_t n = 1; n <= 5; n += 4) {
        tg_tensor *x = tg_randn(TG_F32, 4, (int64_t[]){n, 1, 14, 14}), *eager, *traced;
        check_status(f_cnn(&m, &x, &eager), TG_OK, "eager");
        check_status(tg_run(p, &x, &traced), TG_OK, "run");
        check_close(traced, eager, 0, 0, "traced equals eager");
    }
    tg_program_free(p);
    /* the gradient graph (im2col's VJP is col2im) also runs for any N */
    tg_graph *gg = tg_graph_grad(g, 0, NULL);
    cr_assert_not_null(gg, "%s", tg_last_error());
    tg_program *pg = tg_compile(gg, NULL);
    cr_assert_not_null(pg, "%s", tg_last_error());
    tg_tensor *x = tg_randn(TG_F32, 4, (int64_t[]){3, 1, 14, 14}), *dx;
    check_status(tg_run(pg, &x, &dx), TG_OK, "run grad");
    tg_tensor *xe = tg_detach(x), *ye;
    tg_set_requires_grad(xe, true);
    check_status(f_cnn(&m, &xe, &ye), TG_OK, "eager");
    check_status(tg_backward(ye, NULL), TG_OK, "backward");
    check_close(dx, tg_grad(xe), 1e-6, 1e-6, "traced gradient equals eager");
    tg_program_free(pg);
    tg_graph_free(gg);
    tg_graph_free(g);
    tg_scope_end();
}

Test(nn_conv, traced_symbolic_height_and_width) {
    tg_scope_begin();
    tg_manual_seed(6);
    cnn m = {tg_randn(TG_F64, 4, (int64_t[]){2, 1, 5, 5}), tg_randn(TG_F64, 1, (int64_t[]){2}),
             tg_randn(TG_F64, 4, (int64_t[]){3, 2, 3, 3}), false};
    tg_graph *g = tg_trace(f_cnn, &m, 1, (tg_spec[]){{TG_F64, "N, 1, H, W"}}, 1);
    cr_assert_not_null(g, "floor mode traces with symbolic H, W: %s", tg_last_error());
    tg_graph *gg = tg_graph_value_and_grad(g, 0, NULL);
    cr_assert_not_null(gg, "%s", tg_last_error());
    tg_program *p = tg_compile(gg, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    int64_t hw[3][2] = {{14, 14}, {11, 9}, {17, 12}};
    for (int k = 0; k < 3; k++) {
        tg_tensor *x = tg_randn(TG_F64, 4, (int64_t[]){2, 1, hw[k][0], hw[k][1]}), *res[2];
        check_status(tg_run(p, &x, res), TG_OK, "run");
        tg_tensor *xe = tg_detach(x), *ye;
        tg_set_requires_grad(xe, true);
        check_status(f_cnn(&m, &xe, &ye), TG_OK, "eager");
        check_status(tg_backward(ye, NULL), TG_OK, "backward");
        check_close(res[0], ye, 1e-12, 1e-12, "value");
        check_close(res[1], tg_grad(xe), 1e-12, 1e-12, "gradient");
        tg_release(res[0]);
        tg_release(res[1]);
    }
    /* too small for the second conv after pooling: caught when tg_run binds H */
    tg_tensor *small = tg_randn(TG_F64, 4, (int64_t[]){1, 1, 4, 14}), *res[2];
    check_status(tg_run(p, &small, res), TG_ERR_SHAPE, "H = 4 is too small");
    tg_clear_error();
    tg_program_free(p);
    tg_graph_free(gg);
    tg_graph_free(g);
    tg_scope_end();
}

Test(nn_conv, traced_shape_mistakes_fail_at_trace_time) {
    tg_scope_begin();
    cnn m = {tg_randn(TG_F32, 4, (int64_t[]){4, 1, 5, 5}), tg_randn(TG_F32, 1, (int64_t[]){4}),
             tg_randn(TG_F32, 4, (int64_t[]){3, 4, 3, 3}), true};
    /* exact: 12 -> pool 6 -> (6 - 3) / 2 does not divide */
    cr_expect_null(tg_trace(f_cnn, &m, 1, (tg_spec[]){{TG_F32, "N, 1, 12, 12"}}, 1));
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    expect_msg("exact");
    expect_msg("tg_nn_conv2d");
    expect_msg("test_nn_conv.c:");
    tg_clear_error();
    /* exact with a symbolic H: divisibility cannot be proven */
    cr_expect_null(tg_trace(f_cnn, &m, 1, (tg_spec[]){{TG_F32, "N, 1, H, 28"}}, 1));
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    expect_msg("cannot be proven");
    tg_clear_error();
    /* wrong channel count: 3-channel images into a 1-channel first layer */
    cr_expect_null(tg_trace(f_cnn, &m, 1, (tg_spec[]){{TG_F32, "N, 3, 28, 28"}}, 1));
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    expect_msg("wrong channel count");
    expect_msg("(N, 3, 28, 28) f32");
    tg_clear_error();
    /* a symbolic channel count never provably matches */
    cr_expect_null(tg_trace(f_cnn, &m, 1, (tg_spec[]){{TG_F32, "N, C, 28, 28"}}, 1));
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    tg_clear_error();
    /* the exact net traces at its intended size */
    tg_graph *g = tg_trace(f_cnn, &m, 1, (tg_spec[]){{TG_F32, "N, 1, 14, 14"}}, 1);
    cr_expect_not_null(g, "%s", tg_last_error());
    tg_graph_free(g);
    tg_scope_end();
}

/* ---- the f32/f64 conv op family (nn/conv_kernels.c) ------------------------------------------- */
/* tg_nn_conv2d runs f32/f64 through three ops: conv, conv_input_grad (conv's x-bar) and
 * conv_weight_grad (its w-bar), each one's derivatives being the others. Reached here through
 * the public API: gradcheck of conv checks the first two as its VJP; gradcheck of the maps
 * (g, w) -> x-bar and (x, g) -> w-bar (tg_vjp of conv) checks the VJPs and JVPs of the two
 * gradient ops, and gradgradcheck of all three the second derivatives (every op once more). */
typedef struct { tg_conv2d_opts o; int path; tg_tensor *x0, *w0; } fam;
enum { P_CONV, P_CONV_BIAS, P_INPUT_GRAD, P_WEIGHT_GRAD };
static tg_status fam_conv(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const fam *f = ctx;
    out[0] = tg_nn_conv2d(in[0], in[1], NULL, &f->o);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status fam_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    fam *f = ctx;
    tg_tensor *grads[2] = {NULL, NULL};
    tg_status st;
    switch (f->path) {
    case P_CONV: return fam_conv(ctx, in, out);
    case P_CONV_BIAS:
        out[0] = tg_nn_conv2d(in[0], in[1], in[2], &f->o);
        return out[0] ? TG_OK : tg_last_error_code();
    case P_INPUT_GRAD:      /* (g, w) -> x-bar = conv_input_grad(g, w); x's value does not matter */
        st = tg_vjp(fam_conv, f, 2, (tg_tensor *[]){f->x0, in[1]}, 1, &in[0], NULL, grads);
        out[0] = grads[0];
        return st;
    default:                /* (x, g) -> w-bar = conv_weight_grad(x, g) */
        st = tg_vjp(fam_conv, f, 2, (tg_tensor *[]){in[0], f->w0}, 1, &in[1], NULL, grads);
        out[0] = grads[1];
        return st;
    }
}
static void fam_check(fam *f, int n_in, tg_tensor **in, const char *what) {
    tg_status st = tg_gradcheck(fam_fn, f, n_in, in, 1, NULL);
    cr_expect_eq(st, TG_OK, "gradcheck %s (path %d): %s", what, f->path, tg_last_error());
    tg_clear_error();
    st = tg_gradgradcheck(fam_fn, f, n_in, in, 1, NULL);
    cr_expect_eq(st, TG_OK, "gradgradcheck %s (path %d): %s", what, f->path, tg_last_error());
    tg_clear_error();
}

Test(nn_conv, conv_op_family_gradcheck_f64) {
    tg_scope_begin();
    tg_manual_seed(11);
    /* stride 2, padding 1, dilation 2, groups 2 (the general im2col planes), and two
     * stride-1 "same" windows (the flat planes: ow = W), one dilated with asymmetric padding */
    struct { tg_conv2d_opts o; int64_t x[4], w[4]; } cases[] = {
        {{.stride = {2, 2}, .padding = {1, 1}, .dilation = {2, 2}, .groups = 2}, {2, 4, 7, 6}, {4, 2, 2, 3}},
        {{.padding = {1, 1}, .groups = 2}, {2, 4, 5, 6}, {4, 2, 3, 3}},
        {{.padding = {1, 2}, .dilation = {1, 2}}, {1, 2, 4, 5}, {3, 2, 3, 3}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fam f = {.o = cases[k].o};
        tg_tensor *x = tg_randn(TG_F64, 4, cases[k].x), *w = tg_randn(TG_F64, 4, cases[k].w);
        tg_tensor *b = tg_randn(TG_F64, 1, (int64_t[]){cases[k].w[0]});
        tg_tensor *y = tg_nn_conv2d(x, w, NULL, &f.o);
        cr_assert_not_null(y, "%s", tg_last_error());
        tg_tensor *g = tg_randn(TG_F64, 4, tg_shape(y));
        f.x0 = tg_zeros(TG_F64, 4, cases[k].x);
        f.w0 = tg_zeros(TG_F64, 4, cases[k].w);
        f.path = P_CONV;
        fam_check(&f, 2, (tg_tensor *[]){x, w}, "conv");
        f.path = P_CONV_BIAS;
        fam_check(&f, 3, (tg_tensor *[]){x, w, b}, "conv + bias");
        f.path = P_INPUT_GRAD;
        fam_check(&f, 2, (tg_tensor *[]){g, w}, "conv_input_grad");
        f.path = P_WEIGHT_GRAD;
        fam_check(&f, 2, (tg_tensor *[]){x, g}, "conv_weight_grad");
    }
    tg_scope_end();
}

/* y, x-bar and w-bar of conv(x, w) (+ bias) for one loss sum(y * u). */
typedef struct { tg_tensor *y, *gx, *gw; } conv_res;
static conv_res conv_and_grads(tg_tensor *x, tg_tensor *w, tg_tensor *u, const tg_conv2d_opts *o, bool composite) {
    conv_res r;
    tg_tensor *xx = tg_detach(x), *ww = tg_detach(w);
    tg_set_requires_grad(xx, true);
    tg_set_requires_grad(ww, true);
    if (composite) {    /* tg_nn_conv2d before the op family: unfold + matmul (public ops) */
        const int64_t *xs = tg_shape(x), *ws = tg_shape(w);
        int64_t G = o->groups ? o->groups : 1, kg = ws[1] * ws[2] * ws[3];
        tg_tensor *cols = tg_nn_unfold(xx, ws[2], ws[3], o);
        int64_t L = tg_shape(cols)[2];
        tg_tensor *y = tg_matmul(tg_reshape(ww, 3, (int64_t[]){G, ws[0] / G, kg}),
                                 tg_reshape(cols, 4, (int64_t[]){xs[0], G, kg, L}));
        r.y = tg_reshape(y, 4, tg_shape(u));
    } else {
        r.y = tg_nn_conv2d(xx, ww, NULL, o);
    }
    cr_assert_not_null(r.y, "%s", tg_last_error());
    cr_assert_eq(tg_backward(tg_sum(tg_mul(r.y, u), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
    r.y = tg_detach(r.y);
    r.gx = tg_copy(tg_grad(xx));
    r.gw = tg_copy(tg_grad(ww));
    return r;
}

/* The chunks do not depend on the thread count and each output element is one GEMM's, so conv
 * and its x-bar are the same bits for 1 and 3 threads; w-bar sums one accumulator per thread
 * (in thread order), so it agrees to f32 rounding of sums of N oh ow = 16000 or 18000 terms
 * whose partial sums reach about 100: atol 1e-3 (1e-5 of that scale), rtol 1e-5. */
Test(nn_conv, conv_op_family_threads) {
    tg_scope_begin();
    tg_manual_seed(12);
    tg_conv2d_opts opts[2] = {{.padding = {1, 1}}, {.stride = {2, 2}, .padding = {1, 1}, .dilation = {2, 1}, .groups = 2}};
    int nt = tg_get_num_threads();
    for (int k = 0; k < 2; k++) {
        /* batches of several ~1 MB column chunks: 5 chunks of 9 images, 3 of 80 */
        tg_tensor *x = tg_randn(TG_F32, 4, (int64_t[]){k ? 200 : 40, 8, 20, 20});
        tg_tensor *w = tg_randn(TG_F32, 4, (int64_t[]){16, 8 >> k, 3, 3});
        tg_tensor *y = tg_nn_conv2d(x, w, NULL, &opts[k]);
        cr_assert_not_null(y, "%s", tg_last_error());
        tg_tensor *u = tg_randn(TG_F32, 4, tg_shape(y));
        tg_set_num_threads(1);
        conv_res one = conv_and_grads(x, w, u, &opts[k], false);
        tg_set_num_threads(3);
        conv_res three = conv_and_grads(x, w, u, &opts[k], false);
        tg_set_num_threads(nt);
        check_close(three.y, one.y, 0, 0, "conv: 3 threads vs 1");
        check_close(three.gx, one.gx, 0, 0, "x-bar: 3 threads vs 1");
        check_close(three.gw, one.gw, 1e-5, 1e-3, "w-bar: 3 threads vs 1");
    }
    tg_scope_end();
}

/* f32: the op family against the composite it replaced (unfold + matmul), values and both
 * gradients, flat and general planes, with groups. */
Test(nn_conv, conv_op_family_matches_composite_f32) {
    tg_scope_begin();
    tg_manual_seed(13);
    struct { tg_conv2d_opts o; int64_t x[4], w[4]; } cases[] = {
        {{.padding = {2, 2}}, {6, 3, 14, 14}, {8, 3, 5, 5}},
        {{.stride = {2, 2}, .padding = {1, 1}, .dilation = {2, 2}, .groups = 2}, {5, 4, 13, 12}, {6, 2, 3, 2}},
        {{.padding = {0, 1}, .groups = 3}, {3, 6, 9, 8}, {6, 2, 2, 3}},
        {{.stride = {1, 3}}, {2, 2, 7, 11}, {4, 2, 3, 3}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg_tensor *x = tg_randn(TG_F32, 4, cases[k].x), *w = tg_randn(TG_F32, 4, cases[k].w);
        tg_tensor *y = tg_nn_conv2d(x, w, NULL, &cases[k].o);
        cr_assert_not_null(y, "%s", tg_last_error());
        tg_tensor *u = tg_randn(TG_F32, 4, tg_shape(y));
        conv_res got = conv_and_grads(x, w, u, &cases[k].o, false), want = conv_and_grads(x, w, u, &cases[k].o, true);
        check_close(got.y, want.y, 1e-5, 1e-5, "conv vs composite");
        check_close(got.gx, want.gx, 1e-5, 1e-5, "x-bar vs composite");
        check_close(got.gw, want.gw, 1e-5, 1e-5, "w-bar vs composite");
    }
    tg_scope_end();
}
