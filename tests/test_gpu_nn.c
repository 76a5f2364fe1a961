/* The CNN ops on the Vulkan backend (gpu/conv.c, gpu/pool.c, gpu/linear.c)
 * against the same ops on the CPU: conv2d (stride, padding, dilation,
 * groups, strided inputs) with its input and weight gradients, max pooling
 * and its scatter/gather helpers, the fused linear, and the gradients of a
 * small conv + pool + linear network through tg_backward. Skipped (with a
 * message) when there is no Vulkan device; CI runs it on lavapipe. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "gpu/gpu.h"
#include "support/gpu.h"

extern const tg_op_def tg_op_nn_max_pool2d_gather, tg_op_nn_max_pool2d_scatter;

static const tg_dtype DTYPES[2] = {TG_F32, TG_F64};

static void tols(tg_dtype d, double *rtol, double *atol) {
    if (d == TG_F32) { *rtol = 1e-5; *atol = 1e-5; }
    else { *rtol = 1e-12; *atol = 1e-12; }
}
/* Gradients reduce over thousands of terms (a weight's over N oh ow), summed
 * in another order than the CPU's GEMM: f32 1e-4, f64 1e-11. */
static void grad_tols(tg_dtype d, double *rtol, double *atol) {
    if (d == TG_F32) { *rtol = 1e-4; *atol = 1e-4; }
    else { *rtol = 1e-11; *atol = 1e-11; }
}

static uint64_t rng = 0x2545f4914f6cdd1du;
static double urand(void) { return lcg_uniform(&rng); }
/* A CPU tensor of uniform values in [lo, hi); with quant > 0 rounded to
 * multiples of quant (ties for max pooling). */
static tg_tensor *rand_q(tg_dtype d, int ndim, const int64_t *shape, double lo, double hi, double quant) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        v[i] = lo + (hi - lo) * urand();
        if (quant > 0) v[i] = quant * floor(v[i] / quant);
    }
    tg_tensor *t = tg_from_data(TG_F64, ndim, shape, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}
static tg_tensor *rand_cpu(tg_dtype d, int ndim, const int64_t *shape) { return rand_q(d, ndim, shape, -1, 1, 0); }

static void check_gpu(tg_tensor *got, tg_tensor *want, double rtol, double atol, const char *what) {
    cr_assert_not_null(got, "%s: %s", what, tg_last_error());
    cr_assert_not_null(want, "%s (CPU): %s", what, tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN, "%s: result is not on the GPU", what);
    tg_scope_begin();
    tg_tensor *h = tg_to_device(got, CPU);
    cr_assert_not_null(h, "%s: to CPU: %s", what, tg_last_error());
    check_close(h, want, rtol, atol, what);
    tg_scope_end();
}

/* ---- conv2d ------------------------------------------------------------------------------ */
typedef struct {
    const char *name;
    int64_t N, C, H, W, O, kh, kw;
    tg_conv2d_opts o;
    bool bias, permuted;       /* permuted: x is a non-contiguous (NHWC-backed) view */
} conv_case;

static const conv_case CONV_CASES[] = {
    {"example conv1 1->32 3x3 pad 1", 4, 1, 28, 28, 32, 3, 3, {.padding = {1, 1}}, true, false},
    {"example conv2 32->64 3x3 pad 1", 4, 32, 14, 14, 64, 3, 3, {.padding = {1, 1}}, true, false},
    {"5x5 pad 2 (the example's model)", 2, 3, 12, 12, 8, 5, 5, {.padding = {2, 2}}, true, false},
    {"stride 2", 3, 4, 15, 13, 6, 3, 3, {.stride = {2, 2}, .padding = {1, 1}}, true, false},
    {"dilation 2", 2, 3, 17, 16, 5, 3, 3, {.padding = {2, 1}, .dilation = {2, 2}}, false, false},
    {"groups 2", 2, 6, 11, 9, 4, 3, 3, {.padding = {1, 1}, .groups = 2}, true, false},
    {"odd: 3x2 kernel, stride (2,1), dilation (1,2), groups 3", 3, 3, 13, 11, 6, 3, 2,
     {.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}, .groups = 3}, true, false},
    {"permuted input, no bias", 2, 5, 9, 10, 7, 3, 3, {.padding = {1, 1}}, false, true},
    /* a column buffer of 2.5 MB (f32) / 5 MB (f64) per image: the batch runs in 2 / 3 chunks of 64 MiB */
    {"several chunks", 30, 16, 40, 40, 8, 5, 5, {.padding = {2, 2}}, true, false},
    /* 7300 x 3 x 3 = 65700 column rows: more than one grid's 65535, so im2col runs in two slices */
    {"65700 column rows", 2, 7300, 3, 3, 2, 3, 3, {.padding = {1, 1}}, false, false},
};

/* x (N, C, H, W): contiguous, or a permuted view of an (N, H, W, C) tensor. */
static tg_tensor *conv_input(tg_dtype d, const conv_case *k) {
    if (!k->permuted) return rand_cpu(d, 4, (int64_t[]){k->N, k->C, k->H, k->W});
    tg_tensor *nhwc = rand_cpu(d, 4, (int64_t[]){k->N, k->H, k->W, k->C});
    tg_tensor *v = tg_permute(nhwc, (int[]){0, 3, 1, 2});
    tg_release(nhwc);
    return v;
}

/* oh ow of a case's output. */
static int64_t ys_oh_ow(const conv_case *k) {
    int64_t n[2], in[2] = {k->H, k->W}, ks[2] = {k->kh, k->kw};
    for (int a = 0; a < 2; a++) {
        int64_t s = k->o.stride[a] ? k->o.stride[a] : 1, dl = k->o.dilation[a] ? k->o.dilation[a] : 1;
        n[a] = (in[a] + 2 * k->o.padding[a] - dl * (ks[a] - 1) - 1) / s + 1;
    }
    return n[0] * n[1];
}

Test(gpu_nn, conv2d_forward_and_gradients) {
    need_gpu();
    for (int t = 0; t < gpu_n_dtypes(); t++) {
        tg_dtype d = DTYPES[t];
        double rtol, atol;
        tols(d, &rtol, &atol);
        for (size_t ci = 0; ci < sizeof CONV_CASES / sizeof CONV_CASES[0]; ci++) {
            const conv_case *k = &CONV_CASES[ci];
            tols(d, &rtol, &atol);
            int64_t G = k->o.groups ? k->o.groups : 1;
            tg_tensor *x = conv_input(d, k);
            tg_tensor *w = rand_cpu(d, 4, (int64_t[]){k->O, k->C / G, k->kh, k->kw});
            tg_tensor *b = k->bias ? rand_cpu(d, 1, (int64_t[]){k->O}) : NULL;
            tg_tensor *gx = gpu(x), *gw = gpu(w), *gb = b ? gpu(b) : NULL;
            tg_tensor *leaves[6] = {x, w, b, gx, gw, gb};
            for (int i = 0; i < 6; i++) if (leaves[i]) tg_set_requires_grad(leaves[i], true);
            char what[200];
            tg_scope_begin();
            tg_tensor *y = tg_nn_conv2d(x, w, b, &k->o), *gy = tg_nn_conv2d(gx, gw, gb, &k->o);
            snprintf(what, sizeof what, "conv2d %s %s", k->name, tg_dtype_name(d));
            /* an output sums C/G kh kw products: past 256 terms f32 rounding grows with sqrt of that */
            double kg = (double)(k->C / G * k->kh * k->kw);
            check_gpu(gy, y, d == TG_F32 ? rtol * fmax(1.0, sqrt(kg) / 16) : rtol, atol, what);
            /* loss = sum(y * r): the cotangent of y is r (input_grad, weight_grad, bias sum) */
            tg_tensor *r = rand_cpu(d, 4, tg_shape(y)), *gr = gpu(r);
            cr_assert_eq(tg_backward(tg_sum(tg_mul(y, r), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg_backward(tg_sum(tg_mul(gy, gr), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
            tg_scope_end();
            const char *names[3] = {"input gradient", "weight gradient", "bias gradient"};
            grad_tols(d, &rtol, &atol);
            /* a weight's (and the bias's) gradient sums N oh ow products: f32 rounding grows with sqrt of that */
            double terms = (double)(k->N * ys_oh_ow(k));
            for (int i = 0; i < 3; i++) {
                if (!leaves[i]) continue;
                double at = i > 0 && d == TG_F32 ? fmax(atol, 2e-5 * sqrt(terms)) : atol;
                snprintf(what, sizeof what, "conv2d %s %s: %s", k->name, tg_dtype_name(d), names[i]);
                cr_assert_not_null(tg_grad(leaves[i + 3]), "%s: missing", what);
                check_gpu(tg_grad(leaves[i + 3]), tg_grad(leaves[i]), rtol, at, what);
            }
            for (int i = 0; i < 6; i++) tg_release(leaves[i]);
        }
    }
}

/* input_grad and weight_grad with a strided cotangent (a transposed view),
 * as the seed of tg_backward. */
Test(gpu_nn, conv2d_gradients_of_a_strided_cotangent) {
    need_gpu();
    for (int t = 0; t < gpu_n_dtypes(); t++) {
        tg_dtype d = DTYPES[t];
        double rtol, atol;
        tols(d, &rtol, &atol);
        tg_conv2d_opts o = {.stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}, .groups = 2};
        tg_tensor *x = rand_cpu(d, 4, (int64_t[]){3, 4, 9, 8}), *w = rand_cpu(d, 4, (int64_t[]){6, 2, 3, 3});
        tg_tensor *gx = gpu(x), *gw = gpu(w);
        tg_tensor *leaves[4] = {x, w, gx, gw};
        for (int i = 0; i < 4; i++) tg_set_requires_grad(leaves[i], true);
        tg_scope_begin();
        tg_tensor *y = tg_nn_conv2d(x, w, NULL, &o), *gy = tg_nn_conv2d(gx, gw, NULL, &o);
        const int64_t *ys = tg_shape(y);
        tg_tensor *rt = rand_cpu(d, 4, (int64_t[]){ys[0], ys[1], ys[3], ys[2]});
        tg_backward_opts bo = {.seed = tg_permute(rt, (int[]){0, 1, 3, 2})};
        cr_assert_eq(tg_backward(y, &bo), TG_OK, "%s", tg_last_error());
        bo.seed = tg_permute(gpu(rt), (int[]){0, 1, 3, 2});
        cr_assert(!tg_is_contiguous(bo.seed));
        cr_assert_eq(tg_backward(gy, &bo), TG_OK, "%s", tg_last_error());
        tg_scope_end();
        grad_tols(d, &rtol, &atol);
        check_gpu(tg_grad(gx), tg_grad(x), rtol, atol, "input gradient, strided cotangent");
        check_gpu(tg_grad(gw), tg_grad(w), rtol, atol, "weight gradient, strided cotangent");
        for (int i = 0; i < 4; i++) tg_release(leaves[i]);
    }
}

/* ---- max pooling ------------------------------------------------------------------------------ */
typedef struct {
    const char *name;
    int64_t N, C, H, W;
    tg_pool2d_opts o;
} pool_case;

static const pool_case POOL_CASES[] = {
    {"example 2x2 on (4, 32, 28, 28)", 4, 32, 28, 28, {.kernel = {2, 2}}},
    {"2x2 on odd 13x11 (last row/column dropped)", 3, 5, 13, 11, {.kernel = {2, 2}}},
    {"3x3 stride 2 pad 1 (overlapping windows)", 2, 3, 15, 14, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}},
    {"3x2 stride (1, 2) pad (1, 0)", 2, 4, 9, 10, {.kernel = {3, 2}, .stride = {1, 2}, .padding = {1, 0}}},
};

/* Values on a coarse grid (many ties: the first maximum must win), and
 * through a permuted view. */
Test(gpu_nn, max_pool2d_forward_and_gradient) {
    need_gpu();
    for (int t = 0; t < gpu_n_dtypes(); t++) {
        tg_dtype d = DTYPES[t];
        double rtol, atol;
        tols(d, &rtol, &atol);
        for (size_t pi = 0; pi < sizeof POOL_CASES / sizeof POOL_CASES[0]; pi++) {
            const pool_case *k = &POOL_CASES[pi];
            for (int perm = 0; perm < 2; perm++) {
                tg_tensor *base = perm ? rand_q(d, 4, (int64_t[]){k->N, k->C, k->W, k->H}, -2, 2, 0.5)
                                       : rand_q(d, 4, (int64_t[]){k->N, k->C, k->H, k->W}, -2, 2, 0.5);
                tg_tensor *gbase = gpu(base);
                tg_tensor *leaves[2] = {base, gbase};
                for (int i = 0; i < 2; i++) tg_set_requires_grad(leaves[i], true);
                char what[200];
                tg_scope_begin();
                tg_tensor *x = perm ? tg_mT(base) : base, *gx = perm ? tg_mT(gbase) : gbase;
                tg_tensor *y = tg_nn_max_pool2d(x, &k->o), *gy = tg_nn_max_pool2d(gx, &k->o);
                snprintf(what, sizeof what, "max_pool2d %s%s %s", k->name, perm ? " (permuted)" : "", tg_dtype_name(d));
                check_gpu(gy, y, 0, 0, what);
                tg_tensor *r = rand_cpu(d, 4, tg_shape(y));
                cr_assert_eq(tg_backward(tg_sum(tg_mul(y, r), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
                cr_assert_eq(tg_backward(tg_sum(tg_mul(gy, gpu(r)), 0, NULL, false), NULL), TG_OK, "%s",
                             tg_last_error());
                tg_scope_end();
                grad_tols(d, &rtol, &atol);
                snprintf(what, sizeof what, "max_pool2d gradient (scatter) %s%s %s", k->name, perm ? " (permuted)" : "",
                         tg_dtype_name(d));
                check_gpu(tg_grad(gbase), tg_grad(base), rtol, atol, what);
                tg_release(base);
                tg_release(gbase);
            }
        }
    }
}

/* The two helper ops directly: x and the values of different dtypes, the
 * values strided; NaN in x propagates (it is the window's maximum). */
Test(gpu_nn, max_pool2d_scatter_gather_ops) {
    need_gpu();
    int nd = gpu_n_dtypes();
    tg_attrs a = {.n_int = 7, .i = {3, 3, 2, 2, 1, 1, 0}};   /* kernel, stride, padding, exact */
    for (int tx = 0; tx < nd; tx++)
        for (int tv = 0; tv < nd; tv++) {
            tg_dtype dx = DTYPES[tx], dv = DTYPES[tv];
            double rtol, atol;
            tols(dv, &rtol, &atol);
            tg_scope_begin();
            tg_tensor *x = rand_q(dx, 4, (int64_t[]){2, 3, 11, 9}, -2, 2, 0.25);
            /* a NaN in one window */
            double nanv = NAN;
            tg_tensor *nan = tg_cast(tg_from_data(TG_F64, 0, NULL, &nanv), dx);
            cr_assert_eq(tg_copy_(tg_slice(tg_slice(tg_slice(tg_slice(x, 0, 1, 2, 1), 1, 2, 3, 1), 2, 4, 5, 1), 3, 5, 6, 1), nan), TG_OK);
            tg_tensor *gx = gpu(x);
            /* gather: values on x's grid, as a transposed view */
            tg_tensor *vt = rand_cpu(dv, 4, (int64_t[]){2, 3, 9, 11});
            tg_tensor *v = tg_mT(vt), *gv = tg_mT(gpu(vt));
            tg_tensor *in[2] = {x, v}, *gin[2] = {gx, gv};
            char what[120];
            snprintf(what, sizeof what, "max_pool2d gather, x %s, values %s", tg_dtype_name(dx), tg_dtype_name(dv));
            tg_tensor *want = tg__apply1(&tg_op_nn_max_pool2d_gather, 2, in, &a);
            check_gpu(tg__apply1(&tg_op_nn_max_pool2d_gather, 2, gin, &a), want, 0, 0, what);
            /* scatter: values on the pooled grid (2, 3, 6, 5), strided */
            tg_tensor *pt = rand_cpu(dv, 4, (int64_t[]){2, 3, 5, 6});
            tg_tensor *pv = tg_mT(pt), *gpv = tg_mT(gpu(pt));
            in[1] = pv;
            gin[1] = gpv;
            snprintf(what, sizeof what, "max_pool2d scatter, x %s, values %s", tg_dtype_name(dx), tg_dtype_name(dv));
            check_gpu(tg__apply1(&tg_op_nn_max_pool2d_scatter, 2, gin, &a),
                      tg__apply1(&tg_op_nn_max_pool2d_scatter, 2, in, &a), rtol, atol, what);
            /* forward with the NaN */
            tg_pool2d_opts po = {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
            snprintf(what, sizeof what, "max_pool2d with NaN %s", tg_dtype_name(dx));
            check_gpu(tg_nn_max_pool2d(gx, &po), tg_nn_max_pool2d(x, &po), 0, 0, what);
            tg_scope_end();
        }
}

/* ---- linear ------------------------------------------------------------------------------------ */
Test(gpu_nn, linear_bias_activation_layouts) {
    need_gpu();
    for (int t = 0; t < gpu_n_dtypes(); t++) {
        tg_dtype d = DTYPES[t];
        double rtol, atol;
        tols(d, &rtol, &atol);
        struct { int nd; int64_t xs[3]; int64_t in, out; } cases[] = {
            {2, {4, 3136}, 3136, 64},     /* flattened (4, 64, 7, 7) into fc */
            {2, {5, 33}, 33, 17},         /* odd sizes */
            {3, {2, 3, 7}, 7, 19},        /* leading batch axes */
            {1, {9}, 9, 4},               /* a single vector */
        };
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
            for (int variant = 0; variant < 4; variant++) {
                bool bias = variant & 1, relu = variant & 2;
                tg_scope_begin();
                tg_tensor *x = rand_cpu(d, cases[ci].nd, cases[ci].xs);
                /* w as a transposed view of an (in, out) tensor on odd variants */
                tg_tensor *w = variant == 1 ? tg_mT(rand_cpu(d, 2, (int64_t[]){cases[ci].in, cases[ci].out}))
                                            : rand_cpu(d, 2, (int64_t[]){cases[ci].out, cases[ci].in});
                tg_tensor *b = bias ? rand_cpu(d, 1, (int64_t[]){cases[ci].out}) : NULL;
                tg_activation act = relu ? TG_ACT_RELU : TG_ACT_NONE;
                tg_tensor *gx = gpu(x), *gw = gpu(w), *gb = b ? gpu(b) : NULL;
                if (variant == 1) gw = tg_mT(gpu(tg_contiguous(tg_mT(w))));
                char what[160];
                snprintf(what, sizeof what, "linear case %zu%s%s%s %s", ci, bias ? " bias" : "", relu ? " relu" : "",
                         variant == 1 ? " (w transposed view)" : "", tg_dtype_name(d));
                check_gpu(tg_nn_linear(gx, gw, gb, act), tg_nn_linear(x, w, b, act), rtol * 10, atol * 10, what);
                tg_scope_end();
            }
    }
    if (gpu_n_dtypes() == 2) {   /* mixed dtypes promote: f32 x, f64 w -> f64 */
        tg_scope_begin();
        tg_tensor *x = rand_cpu(TG_F32, 2, (int64_t[]){3, 5}), *w = rand_cpu(TG_F64, 2, (int64_t[]){4, 5});
        tg_tensor *b = rand_cpu(TG_F32, 1, (int64_t[]){4});
        check_gpu(tg_nn_linear(gpu(x), gpu(w), gpu(b), TG_ACT_RELU), tg_nn_linear(x, w, b, TG_ACT_RELU), 1e-12, 1e-12,
                  "linear f32 x f64");
        tg_scope_end();
    }
}

/* ---- a small network: conv + relu + pool + conv + relu + pool + linear + relu + linear --------- */
static tg_tensor *small_net(tg_tensor *x, tg_tensor *const *p) {
    const tg_conv2d_opts conv = {.padding = {1, 1}};
    const tg_pool2d_opts pool = {.kernel = {2, 2}};
    tg_tensor *h = tg_nn_max_pool2d(tg_relu(tg_nn_conv2d(x, p[0], p[1], &conv)), &pool);   /* (N, 4, 5, 5) */
    h = tg_nn_max_pool2d(tg_relu(tg_nn_conv2d(h, p[2], p[3], &conv)), &pool);              /* (N, 6, 2, 2) */
    h = tg_reshape(h, 2, (int64_t[]){-1, 24});
    h = tg_nn_linear(h, p[4], p[5], TG_ACT_RELU);
    return tg_nn_linear(h, p[6], p[7], TG_ACT_NONE);
}

Test(gpu_nn, network_gradients_match_cpu) {
    need_gpu();
    static const int64_t shapes[8][4] = {{4, 1, 3, 3}, {4}, {6, 4, 3, 3}, {6}, {16, 24}, {16}, {10, 16}, {10}};
    static const int nds[8] = {4, 1, 4, 1, 2, 1, 2, 1};
    for (int t = 0; t < gpu_n_dtypes(); t++) {
        tg_dtype d = DTYPES[t];
        double rtol = d == TG_F32 ? 1e-4 : 1e-11, atol = d == TG_F32 ? 1e-5 : 1e-12;
        tg_tensor *p[8], *gp[8];
        for (int i = 0; i < 8; i++) {
            p[i] = rand_q(d, nds[i], shapes[i], -0.5, 0.5, 0);
            gp[i] = gpu(p[i]);
            tg_set_requires_grad(p[i], true);
            tg_set_requires_grad(gp[i], true);
        }
        tg_scope_begin();
        tg_tensor *x = rand_q(d, 4, (int64_t[]){4, 1, 11, 11}, 0, 1, 0), *r = rand_cpu(d, 2, (int64_t[]){4, 10});
        tg_tensor *y = small_net(x, p), *gy = small_net(gpu(x), gp);
        check_gpu(gy, y, rtol, atol, "network logits");
        cr_assert_eq(tg_backward(tg_sum(tg_mul(y, r), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_backward(tg_sum(tg_mul(gy, gpu(r)), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
        tg_scope_end();
        for (int i = 0; i < 8; i++) {
            char what[80];
            snprintf(what, sizeof what, "network gradient of parameter %d (%s)", i, tg_dtype_name(d));
            cr_assert_not_null(tg_grad(gp[i]), "%s: missing", what);
            check_gpu(tg_grad(gp[i]), tg_grad(p[i]), rtol, atol, what);
            tg_release(p[i]);
            tg_release(gp[i]);
        }
    }
}

/* ---- errors -------------------------------------------------------------------------------------- */
Test(gpu_nn, unsupported_and_mixed_inputs_are_errors) {
    need_gpu();
    tg_scope_begin();
    /* max pooling of integers: the CPU op takes them, the Vulkan kernel does not */
    tg_tensor *xi = gpu(rand_q(TG_I32, 4, (int64_t[]){1, 2, 4, 4}, -5, 5, 1));
    tg_pool2d_opts po = {.kernel = {2, 2}};
    tg_clear_error();
    cr_assert_null(tg_nn_max_pool2d(xi, &po));
    cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED, "%s", tg_last_error());
    cr_assert(strstr(tg_last_error(), "nn_max_pool2d") && strstr(tg_last_error(), "vulkan:0"), "%s", tg_last_error());
    tg_clear_error();
    /* conv with the weight on the CPU: a device error naming both */
    tg_tensor *x = rand_cpu(TG_F32, 4, (int64_t[]){1, 2, 5, 5}), *w = rand_cpu(TG_F32, 4, (int64_t[]){3, 2, 3, 3});
    cr_assert_null(tg_nn_conv2d(gpu(x), w, NULL, NULL));
    cr_assert_eq(tg_last_error_code(), TG_ERR_DEVICE, "%s", tg_last_error());
    tg_clear_error();
    /* bad shapes are still caught before any kernel runs */
    cr_assert_null(tg_nn_conv2d(gpu(x), gpu(rand_cpu(TG_F32, 4, (int64_t[]){3, 4, 3, 3})), NULL, NULL));
    cr_assert_eq(tg_last_error_code(), TG_ERR_SHAPE, "%s", tg_last_error());
    tg_clear_error();
    cr_assert_null(tg_nn_linear(gpu(x), gpu(w), NULL, TG_ACT_NONE));
    cr_assert_eq(tg_last_error_code(), TG_ERR_SHAPE, "%s", tg_last_error());
    tg_clear_error();
    /* and the device still works afterwards */
    check_gpu(tg_nn_conv2d(gpu(x), gpu(w), NULL, NULL), tg_nn_conv2d(x, w, NULL, NULL), 1e-5, 1e-5, "conv after errors");
    tg_scope_end();
}

/* ---- optimizers ----------------------------------------------------------------------------- */
/* Adam and SGD with momentum on device parameters follow the CPU loops'
 * arithmetic (to the device's sqrt and division rounding); Adam takes one
 * dispatch per parameter and step; a strided gradient is accepted. */
/* A device parameter that is a strided view (a transposed weight) takes
 * Adam's op-by-op path (the one-kernel step needs contiguous tensors):
 * more than one dispatch per step, and the CPU's values. */
Test(gpu_nn, adam_on_a_strided_device_parameter_matches_cpu) {
    need_gpu();
    tg_dtype d = TG_F32;
    tg_tensor *w = rand_cpu(d, 2, (int64_t[]){5, 37});                      /* CPU: contiguous (5, 37) */
    tg_tensor *wt = tg_mT(w), *base = gpu(wt), *gw = tg_mT(base);           /* GPU: (5, 37) view of (37, 5) */
    tg_release(wt);
    cr_assert(!tg_is_contiguous(gw));
    tg_optimizer *oc = tg_optim_adam(1, &w, 0.01, 0.9, 0.999, 1e-8), *od = tg_optim_adam(1, &gw, 0.01, 0.9, 0.999, 1e-8);
    cr_assert(oc && od, "%s", tg_last_error());
    for (int step = 0; step < 3; step++) {
        tg_scope_begin();
        tg_tensor *g = rand_cpu(d, 2, (int64_t[]){5, 37}), *dg = gpu(g);
        cr_assert_eq(tg_optim_step(oc, &g), TG_OK, "%s", tg_last_error());
        tg_vk_queue_stats s0, s1;
        cr_assert_eq(tg__vk_queue_stats(0, &s0), 0);
        cr_assert_eq(tg_optim_step(od, &dg), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg__vk_queue_stats(0, &s1), 0);
        if (step > 0)
            cr_expect_gt(s1.dispatches - s0.dispatches, 3, "step %d: %llu dispatches (the one-kernel path?)", step,
                         (unsigned long long)(s1.dispatches - s0.dispatches));
        char what[64];
        snprintf(what, sizeof what, "Adam step %d on a strided parameter", step);
        check_gpu(gw, w, 2e-6, 2e-6, what);
        tg_scope_end();
    }
    tg_optim_free(oc);
    tg_optim_free(od);
    tg_release(w); tg_release(gw); tg_release(base);
}

Test(gpu_nn, optimizers_on_device_match_cpu) {
    need_gpu();
    for (int t = 0; t < gpu_n_dtypes(); t++) {
        tg_dtype d = DTYPES[t];
        double rtol = d == TG_F32 ? 2e-6 : 1e-14, atol = rtol;
        for (int kind = 0; kind < 2; kind++) {
            tg_tensor *w = rand_cpu(d, 2, (int64_t[]){37, 5}), *b = rand_cpu(d, 1, (int64_t[]){1000});
            tg_tensor *gw = gpu(w), *gb = gpu(b);
            tg_tensor *cpu_p[2] = {w, b}, *dev_p[2] = {gw, gb};
            tg_optimizer *oc = kind ? tg_optim_sgd(2, cpu_p, 0.05, 0.9, 0.01) : tg_optim_adam(2, cpu_p, 0.01, 0.9, 0.999, 1e-8);
            tg_optimizer *od = kind ? tg_optim_sgd(2, dev_p, 0.05, 0.9, 0.01) : tg_optim_adam(2, dev_p, 0.01, 0.9, 0.999, 1e-8);
            cr_assert(oc && od, "%s", tg_last_error());
            for (int step = 0; step < 3; step++) {
                tg_scope_begin();
                /* the weight's gradient is a transposed view: not contiguous */
                tg_tensor *g1 = tg_mT(rand_cpu(d, 2, (int64_t[]){5, 37})), *g2 = rand_cpu(d, 1, (int64_t[]){1000});
                tg_tensor *hg[2] = {g1, g2}, *dg[2] = {tg_mT(gpu(tg_mT(g1))), gpu(g2)};
                cr_assert_eq(tg_optim_step(oc, hg), TG_OK, "%s", tg_last_error());
                tg_vk_queue_stats s0, s1;
                cr_assert_eq(tg__vk_queue_stats(0, &s0), 0);
                cr_assert_eq(tg_optim_step(od, dg), TG_OK, "%s", tg_last_error());
                cr_assert_eq(tg__vk_queue_stats(0, &s1), 0);
                /* Adam after its first step: one kernel per parameter, plus the weight gradient's copy */
                if (kind == 0 && step > 0)
                    cr_expect_eq(s1.dispatches - s0.dispatches, 3, "Adam step %d: %llu dispatches", step,
                                 (unsigned long long)(s1.dispatches - s0.dispatches));
                char what[96];
                snprintf(what, sizeof what, "%s step %d, %s: weight", kind ? "SGD" : "Adam", step, tg_dtype_name(d));
                check_gpu(gw, w, rtol, atol, what);
                snprintf(what, sizeof what, "%s step %d, %s: bias", kind ? "SGD" : "Adam", step, tg_dtype_name(d));
                check_gpu(gb, b, rtol, atol, what);
                tg_scope_end();
            }
            tg_optim_free(oc);
            tg_optim_free(od);
            tg_release(w); tg_release(b); tg_release(gw); tg_release(gb);
        }
    }
}

/* Both as host doubles, equal bit for bit (NaN to NaN), or the test fails. */
/* The matmul kernels add the bias and apply ReLU as they store the product
 * (tg_vk_epilogue): the fused linear and conv2d_bias equal, bit for bit,
 * the unfused chain of separate GPU ops (the same product, then add and
 * relu), on the generic kernel (an output of 5 columns), the tiled ones and
 * leading batch axes; a long depth takes split-K and its separate pass. */
Test(gpu_nn, epilogue_in_the_product_is_bitwise_the_unfused_chain) {
    need_gpu();
    for (int t = 0; t < gpu_n_dtypes(); t++) {
        tg_dtype d = DTYPES[t];
        struct { int nd; int64_t xs[3]; int64_t in, out; } cases[] = {
            {2, {7, 13}, 13, 5}, {2, {64, 96}, 96, 48}, {3, {2, 33, 40}, 40, 24}, {2, {16, 4096}, 4096, 64},
        };
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
            for (int relu = 0; relu < 2; relu++) {
                tg_scope_begin();
                tg_tensor *x = gpu(rand_cpu(d, cases[ci].nd, cases[ci].xs));
                tg_tensor *w = gpu(rand_cpu(d, 2, (int64_t[]){cases[ci].out, cases[ci].in}));
                tg_tensor *b = gpu(rand_cpu(d, 1, (int64_t[]){cases[ci].out}));
                tg_tensor *chain = tg_add(tg_matmul(x, tg_mT(w)), b);
                if (relu) chain = tg_relu(chain);
                char what[96];
                snprintf(what, sizeof what, "linear case %zu%s %s", ci, relu ? " relu" : "", tg_dtype_name(d));
                expect_same_bits(tg_nn_linear(x, w, b, relu ? TG_ACT_RELU : TG_ACT_NONE), chain, what);
                if (relu) expect_same_bits(tg_nn_linear(x, w, NULL, TG_ACT_RELU), tg_relu(tg_matmul(x, tg_mT(w))), what);
                tg_scope_end();
            }
        for (size_t ci = 0; ci < 3; ci++) {      /* one group, with a bias */
            const conv_case *k = &CONV_CASES[ci];
            tg_scope_begin();
            tg_tensor *x = gpu(conv_input(d, k)), *w = gpu(rand_cpu(d, 4, (int64_t[]){k->O, k->C, k->kh, k->kw}));
            tg_tensor *b = gpu(rand_cpu(d, 1, (int64_t[]){k->O}));
            tg_tensor *chain = tg_add(tg_nn_conv2d(x, w, NULL, &k->o), tg_reshape(b, 3, (int64_t[]){k->O, 1, 1}));
            char what[96];
            snprintf(what, sizeof what, "conv %s %s", k->name, tg_dtype_name(d));
            expect_same_bits(tg_nn_conv2d(x, w, b, &k->o), chain, what);
            tg_scope_end();
        }
    }
}
