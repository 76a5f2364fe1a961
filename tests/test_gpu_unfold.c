/* nn_unfold (im2col) and nn_fold (col2im) on the Vulkan backend
 * (gpu/unfold.c) against the CPU kernels, bit for bit (im2col moves bits;
 * col2im gathers in the CPU's order of additions): strides, padding,
 * dilation, non-contiguous inputs, every dtype the kernels take;
 * avg_pool2d (built on unfold) with its gradient; a dtype without a
 * kernel refused; and gradchecks in f64 on the device. Skipped (with a
 * message) without a Vulkan device; CI runs it on lavapipe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "support/check.h"
#include "support/gpu.h"

extern const tg_op_def tg_op_nn_unfold, tg_op_nn_fold;

static void to_cpu_default(void) { tg__set_default_device(CPU); }
TestSuite(gpu_unfold, .init = tg_clear_error, .fini = to_cpu_default);

static uint64_t rng = 0x853c49e6748fea9bu;

static tg_tensor *rand_cpu(tg_dtype d, int nd, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= shape[i];
    bool cplx = d == TG_C64 || d == TG_C128;
    double *v = malloc((size_t)(n ? 2 * n : 1) * sizeof *v);
    for (int64_t i = 0; i < (cplx ? 2 * n : n); i++) v[i] = -1 + 2 * lcg_uniform(&rng);
    if (d == TG_I32 || d == TG_I64)
        for (int64_t i = 0; i < n; i++) v[i] = floor(1000 * v[i]);
    tg_tensor *t = tg_from_data(cplx ? TG_C128 : TG_F64, nd, shape, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}

/* got on the device equals want (CPU) bit for bit. */
static void check_bits(tg_tensor *got, tg_tensor *want, const char *what) {
    cr_assert_not_null(got, "%s: %s", what, tg_last_error());
    cr_assert_not_null(want, "%s (CPU): %s", what, tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN, "%s: not on the device", what);
    cr_assert_eq(tg_ndim(got), tg_ndim(want), "%s: rank", what);
    for (int i = 0; i < tg_ndim(got); i++) cr_assert_eq(tg_shape(got)[i], tg_shape(want)[i], "%s: shape", what);
    size_t bytes = (size_t)tg_numel(want) * tg_dtype_size(tg_dtype_of(want));
    void *a = malloc(bytes ? bytes : 1), *b = malloc(bytes ? bytes : 1);
    cr_assert_eq(tg_copy_to(got, a, bytes), TG_OK, "%s: %s", what, tg_last_error());
    cr_assert_eq(tg_copy_to(want, b, bytes), TG_OK);
    cr_assert(memcmp(a, b, bytes) == 0, "%s: device values differ from the CPU's", what);
    free(a);
    free(b);
}

typedef struct {
    const char *name;
    int64_t N, C, H, W, kh, kw;
    tg_conv2d_opts o;
    bool permuted;              /* x is a non-contiguous (NHWC-backed) view */
} ucase;

static const ucase CASES[] = {
    {"3x3", 2, 3, 7, 6, 3, 3, {.groups = 0}, false},
    {"3x3 pad 1", 2, 3, 7, 6, 3, 3, {.padding = {1, 1}}, false},
    {"stride 2 pad 2, 2x3", 1, 2, 9, 8, 2, 3, {.stride = {2, 2}, .padding = {2, 1}}, false},
    {"dilation 2, stride (1, 3)", 2, 2, 10, 11, 3, 2, {.stride = {1, 3}, .dilation = {2, 2}, .padding = {1, 0}}, false},
    {"1x1 stride 2 (gaps: pixels no window reads)", 1, 3, 5, 5, 1, 1, {.stride = {2, 2}}, false},
    {"overlapping 4x4 stride 1 pad 3, permuted", 2, 3, 6, 5, 4, 4, {.padding = {3, 3}}, true},
    {"empty batch", 0, 2, 5, 5, 3, 3, {.groups = 0}, false},
};
#define N_CASES (int)(sizeof CASES / sizeof *CASES)

static tg_tensor *make_x(const ucase *c, tg_dtype d) {
    if (!c->permuted) return rand_cpu(d, 4, (int64_t[]){c->N, c->C, c->H, c->W});
    tg_tensor *nhwc = rand_cpu(d, 4, (int64_t[]){c->N, c->H, c->W, c->C});
    tg_tensor *x = tg_permute(nhwc, (int[]){0, 3, 1, 2});
    tg_release(nhwc);
    return x;
}

static tg_attrs fold_attrs(const ucase *c) {
    tg_attrs a = {.n_int = 11};
    for (int k = 0; k < 2; k++) {
        a.i[k] = k ? c->kw : c->kh;
        a.i[2 + k] = c->o.stride[k] ? c->o.stride[k] : 1;
        a.i[4 + k] = c->o.padding[k];
        a.i[6 + k] = c->o.dilation[k] ? c->o.dilation[k] : 1;
    }
    a.i[9] = c->H;
    a.i[10] = c->W;
    return a;
}

Test(gpu_unfold, unfold_and_fold_equal_the_cpu) {
    need_gpu();
    bool f64 = gpu_has_f64();
    const tg_dtype dts[] = {TG_F32, TG_F64, TG_I32, TG_I64, TG_C64, TG_C128};
    for (int t = 0; t < 6; t++) {
        bool fold_ok = f64 || (dts[t] != TG_F64 && dts[t] != TG_C128);
        for (int k = 0; k < N_CASES; k++) {
            const ucase *c = &CASES[k];
            char what[160];
            snprintf(what, sizeof what, "unfold %s: %s", tg_dtype_name(dts[t]), c->name);
            tg_tensor *x = make_x(c, dts[t]), *gx = gpu(x);
            tg_tensor *want = tg_nn_unfold(x, c->kh, c->kw, &c->o), *got = tg_nn_unfold(gx, c->kh, c->kw, &c->o);
            check_bits(got, want, what);
            if (fold_ok) {
                /* fold of a fresh column tensor, and of a transposed (strided) one */
                tg_attrs a = fold_attrs(c);
                const int64_t *cs = tg_shape(want);
                tg_tensor *cols = rand_cpu(dts[t], 3, cs), *gcols = gpu(cols);
                snprintf(what, sizeof what, "fold %s: %s", tg_dtype_name(dts[t]), c->name);
                tg_tensor *fw = tg__apply1(&tg_op_nn_fold, 1, &cols, &a);
                tg_tensor *fg = tg__apply1(&tg_op_nn_fold, 1, &gcols, &a);
                check_bits(fg, fw, what);
                tg_tensor *ct = rand_cpu(dts[t], 3, (int64_t[]){cs[0], cs[2], cs[1]});
                tg_tensor *cv = tg_transpose(ct, 1, 2), *gct = gpu(ct), *gcv = tg_transpose(gct, 1, 2);
                tg_tensor *fw2 = tg__apply1(&tg_op_nn_fold, 1, &cv, &a);
                tg_tensor *fg2 = tg__apply1(&tg_op_nn_fold, 1, &gcv, &a);
                check_bits(fg2, fw2, what);
                tg_release(cols); tg_release(gcols); tg_release(fw); tg_release(fg);
                tg_release(ct); tg_release(cv); tg_release(gct); tg_release(gcv); tg_release(fw2); tg_release(fg2);
            }
            tg_release(x); tg_release(gx); tg_release(want); tg_release(got);
        }
    }
}

/* avg_pool2d = mean over unfold's columns: forward and input gradient on
 * the device against the CPU. The mean is a device reduction (another
 * order of additions than the CPU's): f32 rtol/atol 1e-6, f64 1e-14. */
static tg_status pool_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const tg_pool2d_opts *o = ctx;
    out[0] = tg_sum(tg_mul(tg_nn_avg_pool2d(in[0], o), tg_nn_avg_pool2d(in[0], o)), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu_unfold, avg_pool2d_and_its_gradient) {
    need_gpu();
    int n_dt = gpu_n_dtypes();
    const tg_dtype dts[2] = {TG_F32, TG_F64};
    const tg_pool2d_opts opts[] = {{.kernel = {2, 2}}, {.kernel = {3, 3}, .stride = {2, 1}, .padding = {1, 1}}};
    for (int t = 0; t < n_dt; t++)
        for (int k = 0; k < 2; k++) {
            double tol = dts[t] == TG_F32 ? 1e-6 : 1e-14;
            int64_t s[4] = {2, 3, 8, 7};
            tg_tensor *x = rand_cpu(dts[t], 4, s), *gx = gpu(x);
            tg_tensor *want = tg_nn_avg_pool2d(x, &opts[k]), *got = tg_nn_avg_pool2d(gx, &opts[k]);
            cr_assert_not_null(got, "avg_pool2d on the device: %s", tg_last_error());
            cr_assert_eq(tg_device_of(got).kind, TG_VULKAN);
            tg_tensor *h = tg_to_device(got, CPU);
            check_close(h, want, tol, tol, "avg_pool2d");
            tg_tensor *gw = NULL, *gg = NULL;
            cr_assert_eq(tg_grad_fn(pool_fn, (void *)&opts[k], 1, &x, NULL, &gw), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg_grad_fn(pool_fn, (void *)&opts[k], 1, &gx, NULL, &gg), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg_device_of(gg).kind, TG_VULKAN);
            tg_tensor *hg = tg_to_device(gg, CPU);
            check_close(hg, gw, tol, tol, "avg_pool2d gradient");
            tg_release(x); tg_release(gx); tg_release(want); tg_release(got); tg_release(h);
            tg_release(gw); tg_release(gg); tg_release(hg);
        }
}

Test(gpu_unfold, bool_fold_is_refused_and_bool_unfold_too) {
    need_gpu();
    int64_t s[4] = {1, 1, 4, 4};
    tg_tensor *x = rand_cpu(TG_F32, 4, s), *gx = gpu(x), *b = tg_gt_scalar(gx, 0);
    cr_assert_not_null(b, "%s", tg_last_error());
    tg_tensor *r = tg_nn_unfold(b, 2, 2, NULL);     /* 1-byte elements: no device kernel */
    cr_assert_null(r, "bool unfold on the device should be refused");
    cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED, "%s", tg_last_error());
    tg_clear_error();
    check_error(tg_nn_unfold(gx, 5, 5, NULL), TG_ERR_SHAPE, "a kernel larger than the input");
    tg_release(b); tg_release(x); tg_release(gx);
}

/* ---- gradcheck in f64 on the GPU --------------------------------------------------------------- */
static tg_status unfold_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_conv2d_opts o = {.stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}};
    tg_tensor *u = tg_nn_unfold(in[0], 3, 2, &o);
    out[0] = tg_sum(tg_mul(tg_tanh(u), u), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu_unfold, gradcheck_f64) {
    need_gpu();
    if (!gpu_has_f64()) cr_skip_test("the device has no shaderFloat64");
    int64_t s[4] = {1, 2, 5, 4};
    tg_tensor *x = rand_cpu(TG_F64, 4, s), *in[1] = {gpu(x)};
    tg__set_default_device(VK0);      /* gradcheck's perturbed inputs go next to the originals */
    tg_scope_begin();
    tg_status st = tg_gradcheck(unfold_fn, NULL, 1, in, 1, NULL);
    tg_scope_end();
    tg__set_default_device(CPU);
    cr_assert_eq(st, TG_OK, "%s", tg_last_error());
    tg_release(in[0]);
    tg_release(x);
}
