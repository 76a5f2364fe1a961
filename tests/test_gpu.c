/* The Vulkan backend (gpu/, DESIGN.md section 7) against the CPU reference.
 * CI runs it on Mesa's lavapipe; on a machine without a Vulkan driver every
 * test that needs a device is skipped with a visible message. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include <sys/wait.h>

#include "support/check.h"
#include "gpu/gpu.h"
#include "support/gpu.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;
static double urand(void) { return lcg_uniform(&rng); }
/* A CPU tensor of uniform values in [lo, hi). */
static tg_tensor *rand_cpu(tg_dtype d, int ndim, const int64_t *shape, double lo, double hi) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * urand();
    tg_tensor *t = tg_from_data(TG_F64, ndim, shape, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}
/* got (any device) close to want (CPU) with the dtype's tolerances. */
static void check_gpu(tg_tensor *got, tg_tensor *want, double rtol, double atol, const char *what) {
    cr_assert_not_null(got, "%s: %s", what, tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN, "%s: result is not on the GPU", what);
    tg_scope_begin();                   /* h belongs to this scope, whoever calls */
    tg_tensor *h = tg_to_device(got, CPU);
    cr_assert_not_null(h, "%s: to CPU: %s", what, tg_last_error());
    check_close(h, want, rtol, atol, what);
    tg_scope_end();
}
static void tols(tg_dtype d, double *rtol, double *atol) {
    if (d == TG_F32) { *rtol = 2e-5; *atol = 1e-6; }
    else { *rtol = 1e-12; *atol = 1e-13; }
}

static const tg_dtype DTYPES[2] = {TG_F32, TG_F64};

/* ---- devices -------------------------------------------------------------------- */
Test(gpu, device_count_and_bad_index) {
    cr_assert_eq(tg_device_count(TG_CPU), 1);
    int n = tg_device_count(TG_VULKAN);
    cr_assert(n >= 0);
    float v[3] = {1, 2, 3};
    int64_t s[1] = {3};
    tg_tensor *x = tg_from_data(TG_F32, 1, s, v);
    tg_clear_error();
    tg_tensor *y = tg_to_device(x, (tg_device){TG_VULKAN, n + 5});
    cr_assert_null(y);
    cr_assert_eq(tg_last_error_code(), TG_ERR_DEVICE);
    cr_assert(strstr(tg_last_error(), "vulkan:") != NULL, "message: %s", tg_last_error());
    tg_clear_error();
    cr_assert_null(tg_to_device(x, (tg_device){TG_CPU, 1}));
    cr_assert_eq(tg_last_error_code(), TG_ERR_DEVICE);
    tg_clear_error();
    /* the CPU tensor is untouched */
    float back[3];
    cr_assert_eq(tg_copy_to(x, back, sizeof back), TG_OK);
    cr_assert(back[2] == 3.0f);
    tg_release(x);
}

Test(gpu, round_trip_all_dtypes) {
    need_gpu();
    tg_dtype ds[] = {TG_F32, TG_F64, TG_I32, TG_I64, TG_BOOL, TG_C64};
    int64_t s[2] = {37, 5};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        tg_tensor *x = rand_cpu(ds[k], 2, s, -50, 50);
        tg_tensor *g = gpu(x);
        tg_device d = tg_device_of(g);
        cr_assert(d.kind == TG_VULKAN && d.index == 0);
        cr_assert(!tg_shares_memory(g, x));
        tg_tensor *h = tg_to_device(g, CPU);
        cr_assert_not_null(h, "%s", tg_last_error());
        cr_assert_eq(tg_device_of(h).kind, TG_CPU);
        check_close(h, x, 0, 0, tg_dtype_name(ds[k]));
        /* already there: the same tensor */
        tg_tensor *g2 = tg_to_device(g, VK0);
        cr_assert_eq(g2, g);
        tg_release(g2);
        /* a strided view goes back contiguous with the view's values */
        tg_tensor *tv = tg_mT(g), *tc = tg_mT(x);
        tg_tensor *th = tg_to_device(tv, CPU);
        check_close(th, tc, 0, 0, "transposed view");
        tg_release(th); tg_release(tv); tg_release(tc);
        tg_release(h); tg_release(g); tg_release(x);
    }
}

Test(gpu, host_reads_wait_for_queued_work) {
    need_gpu();
    int64_t s[1] = {1000};
    tg_tensor *x = rand_cpu(TG_F32, 1, s, -1, 1);
    tg_tensor *g = gpu(x);
    tg_scope_begin();
    tg_tensor *acc = g, *want = x;
    for (int i = 0; i < 300; i++) {        /* more than one batch */
        acc = tg_add(acc, g);
        want = tg_add(want, x);
    }
    /* no tg_synchronize: the reads submit and wait */
    float got[1000], ref[1000];
    cr_assert_eq(tg_copy_to(acc, got, sizeof got), TG_OK, "%s", tg_last_error());
    tg_copy_to(want, ref, sizeof ref);
    for (int i = 0; i < 1000; i++) cr_assert_float_eq(got[i], ref[i], 1e-4f * (1 + fabsf(ref[i])), "at %d", i);
    tg_tensor *sg = tg_sum(acc, 0, NULL, false), *sc = tg_sum(want, 0, NULL, false);
    cr_assert(fabs(tg_item_f64(sg) - tg_item_f64(sc)) < 1e-2 * (1 + fabs(tg_item_f64(sc))));
    char *txt = tg_format(sg);
    cr_assert_not_null(txt, "%s", tg_last_error());
    cr_assert(strstr(txt, "vulkan:0") != NULL, "%s", txt);
    free(txt);
    cr_assert_eq(tg_synchronize(), TG_OK);
    tg_scope_end();
    tg_release(g);
    tg_release(x);
}

/* Full batches are submitted without waiting, so the GPU may still run one
 * while freed memory is handed to the next op's result: a chain that frees
 * each intermediate reuses the same bytes over several batches in flight. */
Test(gpu, batches_in_flight_reuse_freed_memory) {
    need_gpu();
    int64_t s[1] = {5000};
    tg_tensor *x = rand_cpu(TG_F32, 1, s, -1, 1);
    tg_tensor *g = gpu(x);
    tg_vk_queue_stats s0, s1, s2;
    cr_assert_eq(tg__vk_queue_stats(0, &s0), 0);
    tg_tensor *acc = tg_retain(g);
    for (int i = 0; i < 1000; i++) {
        tg_tensor *twice = tg_mul_scalar(g, 2.0);
        tg_tensor *next = i % 2 ? tg_sub(acc, g) : tg_add(acc, twice);
        cr_assert_not_null(next, "%s", tg_last_error());
        tg_release(twice);
        tg_release(acc);
        acc = next;
    }
    cr_assert_eq(tg__vk_queue_stats(0, &s1), 0);
    /* 1000 ops of 1-2 dispatches: several batches went out, none read */
    cr_assert_geq(s1.submits - s0.submits, 3, "%llu submissions", (unsigned long long)(s1.submits - s0.submits));
    float got[5000], in[5000];
    cr_assert_eq(tg_copy_to(acc, got, sizeof got), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_copy_to(x, in, sizeof in), TG_OK);
    cr_assert_eq(tg__vk_queue_stats(0, &s2), 0);
    cr_assert_eq(s2.submits - s1.submits, 1);
    /* x + 500 (2x) - 500 x = 501 x, up to rounding */
    for (int i = 0; i < 5000; i++) cr_assert_float_eq(got[i], 501.0f * in[i], 1e-4f * (1 + fabsf(501.0f * in[i])), "at %d", i);
    tg_release(acc);
    tg_release(g);
    tg_release(x);
}

/* ---- elementwise ------------------------------------------------------------------- */
typedef tg_tensor *(*binop)(tg_tensor *, tg_tensor *);
typedef tg_tensor *(*unop)(tg_tensor *);

Test(gpu, binary_broadcast_and_strided) {
    need_gpu();
    binop ops[] = {tg_add, tg_sub, tg_mul, tg_div, tg_maximum, tg_minimum};
    const char *names[] = {"add", "sub", "mul", "div", "maximum", "minimum"};
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        int64_t s1[3] = {3, 4, 5}, s2[3] = {3, 1, 5}, s3[2] = {4, 1}, s4[2] = {5, 8};
        tg_tensor *a = rand_cpu(d, 3, s1, 0.5, 2), *b = rand_cpu(d, 3, s1, 0.5, 2);
        tg_tensor *c = rand_cpu(d, 3, s2, 0.5, 2), *e = rand_cpu(d, 2, s3, 0.5, 2);
        tg_tensor *m = rand_cpu(d, 2, s4, 0.5, 2);
        tg_tensor *ga = gpu(a), *gb = gpu(b), *gc = gpu(c), *ge = gpu(e), *gm = gpu(m);
        tg_scope_begin();
        for (int o = 0; o < 6; o++) {
            char what[80];
            snprintf(what, sizeof what, "%s %s same shape", names[o], tg_dtype_name(d));
            check_gpu(ops[o](ga, gb), ops[o](a, b), rtol, atol, what);
            snprintf(what, sizeof what, "%s %s broadcast", names[o], tg_dtype_name(d));
            check_gpu(ops[o](gc, ge), ops[o](c, e), rtol, atol, what);
            /* strided: a transposed view (8, 5) and a stepped slice of it */
            snprintf(what, sizeof what, "%s %s strided", names[o], tg_dtype_name(d));
            tg_tensor *mt = tg_mT(m), *gmt = tg_mT(gm);
            tg_tensor *ms = tg_slice(mt, 0, 7, TG_NONE, -2), *gms = tg_slice(gmt, 0, 7, TG_NONE, -2);
            check_gpu(ops[o](gms, tg_slice(ga, 2, 0, 5, 1)), ops[o](ms, tg_slice(a, 2, 0, 5, 1)), rtol, atol, what);
            snprintf(what, sizeof what, "%s %s weak scalar", names[o], tg_dtype_name(d));
            check_gpu(tg_mul_scalar(ga, 2.5), tg_mul_scalar(a, 2.5), rtol, atol, what);
            check_gpu(tg_rsub_scalar(1.0, ga), tg_rsub_scalar(1.0, a), rtol, atol, what);
        }
        tg_scope_end();
        tg_release(ga); tg_release(gb); tg_release(gc); tg_release(ge); tg_release(gm);
        tg_release(a); tg_release(b); tg_release(c); tg_release(e); tg_release(m);
    }
}

Test(gpu, unary_ops) {
    need_gpu();
    unop ops[] = {tg_neg, tg_abs, tg_exp, tg_log, tg_sqrt, tg_relu, tg_sigmoid, tg_tanh, tg_square};
    const char *names[] = {"neg", "abs", "exp", "log", "sqrt", "relu", "sigmoid", "tanh", "square"};
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        int64_t s[2] = {17, 33};
        tg_tensor *x = rand_cpu(d, 2, s, -6, 6), *p = rand_cpu(d, 2, s, 1e-3, 50);
        tg_tensor *gx = gpu(x), *gp = gpu(p);
        tg_scope_begin();
        for (int o = 0; o < 9; o++) {
            bool pos = o == 3 || o == 4;
            tg_tensor *in = pos ? p : x, *gin = pos ? gp : gx;
            char what[80];
            snprintf(what, sizeof what, "%s %s", names[o], tg_dtype_name(d));
            check_gpu(ops[o](gin), ops[o](in), rtol, atol, what);
            snprintf(what, sizeof what, "%s %s strided", names[o], tg_dtype_name(d));
            check_gpu(ops[o](tg_slice(tg_mT(gin), 0, 1, TG_NONE, 3)), ops[o](tg_slice(tg_mT(in), 0, 1, TG_NONE, 3)), rtol,
                      atol, what);
        }
        /* tiny arguments: tanh and exp keep their relative accuracy */
        double tiny[4] = {1e-9, -3e-7, 1e-300, 0.0};
        int64_t s4[1] = {4};
        tg_tensor *t64 = tg_from_data(TG_F64, 1, s4, tiny), *t = tg_cast(t64, d), *gt = gpu(t);
        check_gpu(tg_tanh(gt), tg_tanh(t), rtol, atol, "tanh of tiny values");
        check_gpu(tg_exp(gt), tg_exp(t), rtol, atol, "exp of tiny values");
        tg_scope_end();
        tg_release(gt); tg_release(t); tg_release(t64);
        tg_release(gx); tg_release(gp); tg_release(x); tg_release(p);
    }
}

Test(gpu, copy_cast_and_contiguous) {
    need_gpu();
    int64_t s[3] = {4, 6, 5};
    tg_tensor *x = rand_cpu(TG_F32, 3, s, -3, 3), *gx = gpu(x);
    tg_scope_begin();
    int perm[3] = {2, 0, 1};
    tg_tensor *v = tg_permute(x, perm), *gv = tg_permute(gx, perm);
    tg_tensor *gc = tg_contiguous(gv);
    cr_assert(tg_is_contiguous(gc));
    check_gpu(gc, tg_contiguous(v), 0, 0, "contiguous of a permuted view");
    int64_t flat[2] = {5, 24};
    check_gpu(tg_reshape(gv, 2, flat), tg_reshape(v, 2, flat), 0, 0, "reshape that copies");
    check_gpu(tg_copy(gx), x, 0, 0, "copy");
    if (gpu_has_f64()) {
        check_gpu(tg_cast(gv, TG_F64), tg_cast(v, TG_F64), 0, 0, "cast f32 -> f64");
        check_gpu(tg_cast(tg_cast(gx, TG_F64), TG_F32), x, 0, 0, "cast f64 -> f32");
    }
    check_gpu(tg_cast(tg_gt_scalar(gx, 0.0), TG_F32), tg_cast(tg_gt_scalar(x, 0.0), TG_F32), 0, 0, "compare, bool cast");
    check_gpu(tg_zeros_like(gx), tg_zeros_like(x), 0, 0, "zeros_like keeps the device");
    /* in place: computed on the device, written into the destination's layout */
    tg_tensor *w = tg_copy(x), *gw = tg_copy(gx);
    cr_assert_eq(tg_add_(gw, gx), TG_OK, "%s", tg_last_error());
    tg_add_(w, x);
    check_gpu(gw, w, 0, 0, "tg_add_");
    tg_tensor *wt = tg_mT(w), *gwt = tg_mT(gw);
    int64_t s65[3] = {4, 5, 6};
    tg_tensor *src = rand_cpu(TG_F32, 3, s65, -1, 1), *gsrc = gpu(src);
    cr_assert_eq(tg_copy_(gwt, gsrc), TG_OK, "%s", tg_last_error());
    tg_copy_(wt, src);
    check_gpu(gw, w, 0, 0, "tg_copy_ into a transposed view");
    cr_assert_eq(tg_fill_(tg_slice(gw, 1, 0, 6, 2), 7.5), TG_OK, "%s", tg_last_error());
    tg_fill_(tg_slice(w, 1, 0, 6, 2), 7.5);
    check_gpu(gw, w, 0, 0, "tg_fill_ of a slice");
    tg_release(gsrc);
    tg_release(src);
    tg_scope_end();
    tg_release(gx);
    tg_release(x);
}

/* ---- reductions ---------------------------------------------------------------------- */
Test(gpu, sum_all_and_axes) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol = d == TG_F32 ? 1e-4 : 1e-11, atol = d == TG_F32 ? 1e-4 : 1e-11;
        int64_t s[3] = {6, 50, 7};
        tg_tensor *x = rand_cpu(d, 3, s, -1, 1), *gx = gpu(x);
        int64_t sb[1] = {(int64_t)1 << 20};            /* two passes */
        tg_tensor *big = rand_cpu(d, 1, sb, -1, 1), *gbig = gpu(big);
        tg_scope_begin();
        check_gpu(tg_sum(gx, 0, NULL, false), tg_sum(x, 0, NULL, false), rtol, atol, "sum all");
        check_gpu(tg_sum(gbig, 0, NULL, false), tg_sum(big, 0, NULL, false), rtol * 10, atol * 100, "sum all, 2^20");
        for (int a = -1; a < 3; a++) {
            check_gpu(tg_sum(gx, 1, &a, false), tg_sum(x, 1, &a, false), rtol, atol, "sum one axis");
            check_gpu(tg_sum(gx, 1, &a, true), tg_sum(x, 1, &a, true), rtol, atol, "sum one axis keepdim");
        }
        int two[2] = {0, 2};
        check_gpu(tg_sum(gx, 2, two, false), tg_sum(x, 2, two, false), rtol, atol, "sum two axes");
        int perm[3] = {1, 2, 0}, ax = 0;
        check_gpu(tg_sum(tg_permute(gx, perm), 1, &ax, false), tg_sum(tg_permute(x, perm), 1, &ax, false), rtol, atol,
                  "sum of a permuted view");
        int64_t sl[2] = {4096, 300};                   /* a long axis per output: partials */
        tg_tensor *l = rand_cpu(d, 2, sl, -1, 1), *gl = gpu(l);
        int a0 = 0;
        check_gpu(tg_sum(gl, 1, &a0, false), tg_sum(l, 1, &a0, false), rtol * 10, atol * 10, "sum over 4096 rows");
        tg_scope_end();
        tg_release(gl); tg_release(l);
        tg_release(gbig); tg_release(big); tg_release(gx); tg_release(x);
    }
}

/* ---- matmul ---------------------------------------------------------------------------- */
static void check_matmul_case(tg_dtype d, int na, const int64_t *sa, int nb, const int64_t *sb, bool trans_b, const char *what) {
    double rtol = d == TG_F32 ? 1e-4 : 1e-11, atol = d == TG_F32 ? 1e-5 : 1e-12;
    tg_tensor *a = rand_cpu(d, na, sa, -1, 1), *b = rand_cpu(d, nb, sb, -1, 1);
    tg_tensor *ga = gpu(a), *gb = gpu(b);
    tg_scope_begin();
    tg_tensor *bb = trans_b ? tg_mT(b) : b, *gbb = trans_b ? tg_mT(gb) : gb;
    check_gpu(tg_matmul(ga, gbb), tg_matmul(a, bb), rtol, atol, what);
    tg_scope_end();
    tg_release(ga); tg_release(gb); tg_release(a); tg_release(b);
}

Test(gpu, matmul_tiled_and_batched) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        int64_t a1[2] = {5, 7}, b1[2] = {7, 3};
        check_matmul_case(d, 2, a1, 2, b1, false, "matmul 5x7 7x3");
        int64_t a2[2] = {70, 45}, b2[2] = {33, 45};
        check_matmul_case(d, 2, a2, 2, b2, true, "matmul with a transposed operand");
        int64_t a3[4] = {2, 3, 17, 9}, b3[4] = {2, 3, 9, 20};
        check_matmul_case(d, 4, a3, 4, b3, false, "batched matmul");
        int64_t a4[4] = {4, 1, 6, 5}, b4[3] = {3, 5, 2};
        check_matmul_case(d, 4, a4, 3, b4, false, "broadcast batch");
        int64_t v[1] = {9}, m[2] = {9, 4}, m2[2] = {6, 9};
        check_matmul_case(d, 1, v, 2, m, false, "vector @ matrix");
        check_matmul_case(d, 2, m2, 1, v, false, "matrix @ vector");
        check_matmul_case(d, 1, v, 1, v, false, "dot");
        int64_t z1[2] = {3, 0}, z2[2] = {0, 4};
        check_matmul_case(d, 2, z1, 2, z2, false, "empty inner axis: zeros");
    }
}

/* ---- errors ------------------------------------------------------------------------------ */
Test(gpu, mixed_devices_and_unsupported_ops) {
    need_gpu();
    int64_t s[2] = {3, 4};
    tg_tensor *x = rand_cpu(TG_F32, 2, s, -1, 1), *gx = gpu(x);
    tg_clear_error();
    cr_assert_null(tg_add(x, gx));
    cr_assert_eq(tg_last_error_code(), TG_ERR_DEVICE);
    cr_assert(strstr(tg_last_error(), "cpu") && strstr(tg_last_error(), "vulkan:0"), "%s", tg_last_error());
    tg_clear_error();
    cr_assert_null(tg_matmul(gx, x));
    cr_assert_eq(tg_last_error_code(), TG_ERR_DEVICE);
    tg_clear_error();
    /* an op without a Vulkan kernel: a clear error, never a CPU read */
    cr_assert_null(tg_atan2(gx, gx));
    cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED);
    cr_assert(strstr(tg_last_error(), "atan2") && strstr(tg_last_error(), "vulkan:0"), "%s", tg_last_error());
    tg_clear_error();
    tg_tensor *gb = tg_gt_scalar(gx, 0);
    cr_assert_null(tg_cumsum(gb, 0));      /* scans have no Vulkan kernel for bools */
    cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED);
    tg_clear_error();
    tg_release(gb);
    /* more than 8 axes: the CPU takes 16, a device's kernels 8 */
    int64_t s9[9] = {3, 1, 1, 1, 1, 1, 1, 1, 4};
    tg_tensor *x9 = tg_reshape(x, 9, s9);
    cr_assert_null(tg_to_device(x9, VK0));
    cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED);
    cr_assert(strstr(tg_last_error(), "at most 8 axes, not 9"), "%s", tg_last_error());
    tg_clear_error();
    cr_assert_null(tg_reshape(gx, 9, s9));
    cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED);
    cr_assert(strstr(tg_last_error(), "reshape") && strstr(tg_last_error(), "more than 8 axes"), "%s", tg_last_error());
    tg_clear_error();
    tg_release(x9);
    /* a borrowed host pointer is CPU-only */
    cr_assert_null(tg_data(gx));
    cr_assert_eq(tg_last_error_code(), TG_ERR_DEVICE);
    tg_clear_error();
    tg_release(gx);
    tg_release(x);
}

Test(gpu, out_of_device_memory_keeps_tensors) {
    need_gpu();
    int64_t s[2] = {64, 64};
    tg_tensor *x = rand_cpu(TG_F32, 2, s, -1, 1), *gx = gpu(x);
    int64_t sa[2] = {(int64_t)1 << 16, 1}, sb[2] = {1, (int64_t)1 << 16};
    tg_tensor *za = tg_zeros(TG_F32, 2, sa), *zb = tg_zeros(TG_F32, 2, sb);
    tg_tensor *a = tg_to_device(za, VK0), *b = tg_to_device(zb, VK0);
    cr_assert(a && b, "%s", tg_last_error());
    tg_release(za);
    tg_release(zb);
    tg_clear_error();
    /* 2^32 floats: larger than any buffer */
    cr_assert_null(tg_add(a, b));
    cr_assert_eq(tg_last_error_code(), TG_ERR_MEMORY);
    cr_assert(strstr(tg_last_error(), "device memory"), "%s", tg_last_error());
    tg_clear_error();
    /* the device's whole heap, in blocks that are never written (no RSS) */
    enum { MAX_HELD = 2048 };                        /* 192 GiB: more than an H100's 80 */
    tg_tensor *held[MAX_HELD];
    int n = 0;
    int64_t chunk[1] = {(int64_t)24 << 20};          /* 96 MiB of f32 */
    while (n < MAX_HELD && (held[n] = tg__vk_alloc(0, TG_F32, 1, chunk)) != NULL) n++;
    cr_assert(n < MAX_HELD, "the heap never ran out");
    cr_assert_eq(tg_last_error_code(), TG_ERR_MEMORY, "%s", tg_last_error());
    cr_assert(strstr(tg_last_error(), "out of device memory"), "%s", tg_last_error());
    tg_clear_error();
    /* existing tensors intact, and ops still work */
    tg_tensor *h = tg_to_device(gx, CPU);
    check_close(h, x, 0, 0, "tensor made before the failure");
    tg_release(h);
    for (int i = 0; i < n; i++) tg_release(held[i]);
    tg_tensor *y = tg_add(gx, gx), *yc = tg_add(x, x);
    check_gpu(y, yc, 0, 0, "an op after freeing");
    tg_release(y); tg_release(yc);
    tg_release(a); tg_release(b); tg_release(gx); tg_release(x);
}

/* ---- autodiff through GPU ops ------------------------------------------------------------- */
static tg_tensor *loss(tg_tensor *a, tg_tensor *b, tg_tensor *c) {
    return tg_sum(tg_relu(tg_add(tg_mul(a, b), c)), 0, NULL, false);
}

Test(gpu, backward_through_gpu_ops) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        int64_t sa[2] = {8, 5}, sc[1] = {5};
        tg_tensor *a = rand_cpu(d, 2, sa, -1, 1), *b = rand_cpu(d, 2, sa, -1, 1), *c = rand_cpu(d, 1, sc, -1, 1);
        tg_tensor *ga = gpu(a), *gb = gpu(b), *gc = gpu(c);
        tg_tensor *leaves[6] = {a, b, c, ga, gb, gc};
        for (int i = 0; i < 6; i++) tg_set_requires_grad(leaves[i], true);
        tg_scope_begin();
        tg_tensor *y = loss(a, b, c), *gy = loss(ga, gb, gc);
        check_gpu(gy, y, rtol * 10, atol * 10, "loss");
        cr_assert_eq(tg_backward(y, NULL), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_backward(gy, NULL), TG_OK, "%s", tg_last_error());
        tg_scope_end();
        for (int i = 0; i < 3; i++) {
            cr_assert_not_null(tg_grad(leaves[i + 3]), "no gradient for GPU input %d", i);
            check_gpu(tg_grad(leaves[i + 3]), tg_grad(leaves[i]), rtol, atol, "gradient");
        }
        /* matmul and its rule on the GPU */
        tg_scope_begin();
        for (int i = 0; i < 6; i++) tg_zero_grad(leaves[i]);
        tg_tensor *z = tg_sum(tg_tanh(tg_matmul(a, tg_mT(b))), 0, NULL, false);
        tg_tensor *gz = tg_sum(tg_tanh(tg_matmul(ga, tg_mT(gb))), 0, NULL, false);
        cr_assert_eq(tg_backward(z, NULL), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_backward(gz, NULL), TG_OK, "%s", tg_last_error());
        tg_scope_end();
        check_gpu(tg_grad(ga), tg_grad(a), rtol * 10, atol * 10, "matmul gradient a");
        check_gpu(tg_grad(gb), tg_grad(b), rtol * 10, atol * 10, "matmul gradient b");
        for (int i = 0; i < 6; i++) tg_release(leaves[i]);
    }
}

/* The VJP of a selecting view (view_scatter) on the device: slices with a
 * step, a diagonal and a complex real part, against the CPU gradient. */
Test(gpu, backward_through_views) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        int64_t sa[2] = {6, 6};
        tg_tensor *a = rand_cpu(d, 2, sa, -1, 1), *ga = gpu(a);
        tg_set_requires_grad(a, true);
        tg_set_requires_grad(ga, true);
        tg_tensor *xs[2] = {a, ga}, *ys[2];
        tg_scope_begin();
        for (int i = 0; i < 2; i++) {
            tg_tensor *x = xs[i];
            tg_tensor *s1 = tg_sum(tg_square(tg_slice(tg_slice(x, 0, 1, 6, 2), 1, 5, 0, -2)), 0, NULL, false);
            tg_tensor *s2 = tg_sum(tg_mul_scalar(tg_diagonal(x, 0, 0, 1), 3.0), 0, NULL, false);
            ys[i] = tg_add(s1, s2);
            cr_assert_eq(tg_backward(ys[i], NULL), TG_OK, "%s", tg_last_error());
        }
        check_gpu(ys[1], ys[0], rtol, atol, "loss through views");
        tg_scope_end();
        check_gpu(tg_grad(ga), tg_grad(a), rtol, atol, "gradient through slices and a diagonal");
        tg_release(a);
        tg_release(ga);
    }
}

/* ---- the default device ------------------------------------------------------------------------ */
static void *default_in_thread(void *arg) {
    tg_tensor *t = tg_zeros(TG_F32, 0, NULL);
    *(tg_device *)arg = tg_device_of(t);
    tg_release(t);
    return NULL;
}

Test(gpu, default_device_from_env_and_per_thread) {
    need_gpu();
    setenv("TANGENT_DEVICE", "vulkan:0", 1);       /* read by each thread at its first factory call */
    float v[4] = {1, 2, 3, 4};
    int64_t s[1] = {4};
    tg_tensor *x = tg_from_data(TG_F32, 1, s, v), *z = tg_zeros(TG_F64, 1, s), *o = tg_ones(TG_F32, 1, s);
    cr_assert(x && z && o, "%s", tg_last_error());
    cr_assert_eq(tg_device_of(x).kind, TG_VULKAN);
    cr_assert_eq(tg_device_of(z).kind, TG_VULKAN);
    cr_assert_eq(tg_device_of(o).kind, TG_VULKAN);
    float back[4];
    tg_tensor *xo = tg_add(x, o);
    cr_assert_eq(tg_copy_to(xo, back, sizeof back), TG_OK, "%s", tg_last_error());
    cr_assert(back[3] == 5.0f);
    tg_release(xo);
    /* *_like follows its argument, not the default */
    tg_tensor *h = tg_to_device(x, CPU), *hz = tg_zeros_like(h);
    cr_assert_eq(tg_device_of(hz).kind, TG_CPU);
    /* per thread: this thread back to the CPU, a new thread starts from the environment */
    tg__set_default_device(CPU);
    tg_tensor *c = tg_ones(TG_F32, 1, s);
    cr_assert_eq(tg_device_of(c).kind, TG_CPU);
    tg_device other = {TG_CPU, -1};
    pthread_t th;
    pthread_create(&th, NULL, default_in_thread, &other);
    pthread_join(th, NULL);
    cr_assert_eq(other.kind, TG_VULKAN);
    setenv("TANGENT_DEVICE", "no-such-device", 1);
    pthread_create(&th, NULL, default_in_thread, &other);
    pthread_join(th, NULL);
    cr_assert_eq(other.kind, TG_CPU, "an unreadable TANGENT_DEVICE means the CPU");
    unsetenv("TANGENT_DEVICE");
    tg_release(c); tg_release(hz); tg_release(h);
    tg_release(x); tg_release(z); tg_release(o);
}

/* ---- a compiled program on device inputs --------------------------------------------------------- */
static tg_status traced(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_relu(tg_add_scalar(tg_mul(in[0], in[1]), 0.25)), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu, compiled_program_runs_on_device_inputs) {
    need_gpu();
    tg_spec sp[2] = {{TG_F32, "N, 4"}, {TG_F32, "4"}};
    tg_graph *g = tg_trace(traced, NULL, 2, sp, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    int64_t s[2] = {5, 4}, sb[1] = {4};
    tg_tensor *a = rand_cpu(TG_F32, 2, s, -1, 1), *b = rand_cpu(TG_F32, 1, sb, -1, 1);
    tg_tensor *ga = gpu(a), *gb = gpu(b);
    tg_tensor *in[2] = {a, b}, *gin[2] = {ga, gb}, *out = NULL, *gout = NULL;
    cr_assert_eq(tg_run(p, in, &out), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_run(p, gin, &gout), TG_OK, "%s", tg_last_error());
    check_gpu(gout, out, 1e-5, 1e-6, "tg_run on vulkan:0");
    tg_release(out); tg_release(gout);
    tg_release(ga); tg_release(gb); tg_release(a); tg_release(b);
    tg_program_free(p);
    tg_graph_free(g);
}

/* ---- gradcheck in f64 on the GPU --------------------------------------------------------------- */
static tg_status smooth(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_mul(tg_tanh(tg_matmul(in[0], in[1])), tg_sigmoid(in[0])), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu, gradcheck_f64) {
    need_gpu();
    if (!gpu_has_f64()) cr_skip_test("the device has no shaderFloat64");
    int64_t s[2] = {3, 3};
    tg_tensor *a = rand_cpu(TG_F64, 2, s, -1, 1), *b = rand_cpu(TG_F64, 2, s, -1, 1);
    tg_tensor *in[2] = {gpu(a), gpu(b)};
    /* gradcheck builds its perturbed inputs with tg_from_data: the thread's
     * default device puts them next to the originals */
    tg__set_default_device(VK0);
    tg_scope_begin();       /* tg_gradcheck outside a scope leaks (autodiff/gradcheck.c setup) */
    tg_status st = tg_gradcheck(smooth, NULL, 2, in, 1, NULL);
    tg_scope_end();
    tg__set_default_device(CPU);
    cr_assert_eq(st, TG_OK, "%s", tg_last_error());
    tg_release(in[0]); tg_release(in[1]); tg_release(a); tg_release(b);
}

/* tg_set_default_device: per thread; a device that does not exist is an
 * error that changes nothing. */
static void *other_thread_default(void *arg) {
    tg_device *seen = arg;
    *seen = tg_default_device();          /* TANGENT_DEVICE is unset in the test: the CPU */
    tg_tensor *z = tg_zeros(TG_F32, 1, (int64_t[]){3});
    seen[1] = z ? tg_device_of(z) : (tg_device){TG_VULKAN, -1};
    tg_release(z);
    return NULL;
}

Test(gpu, default_device_per_thread) {
    need_gpu();
    cr_assert_eq(tg_set_default_device((tg_device){TG_VULKAN, 99}), TG_ERR_DEVICE);
    cr_assert(strstr(tg_last_error(), "vulkan:99"), "%s", tg_last_error());
    cr_assert_eq(tg_default_device().kind, TG_CPU, "a failed set changed the default");
    tg_clear_error();
    cr_assert_eq(tg_set_default_device(VK0), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_default_device().kind, TG_VULKAN);
    tg_tensor *z = tg_zeros(TG_F32, 1, (int64_t[]){3}), *r = tg_rand(TG_F32, 1, (int64_t[]){5});
    cr_assert(z && r, "%s", tg_last_error());
    cr_expect_eq(tg_device_of(z).kind, TG_VULKAN);
    cr_expect_eq(tg_device_of(r).kind, TG_VULKAN);
    tg_device seen[2];
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, other_thread_default, seen), 0);
    pthread_join(th, NULL);
    cr_expect_eq(seen[0].kind, TG_CPU, "another thread saw this thread's default");
    cr_expect_eq(seen[1].kind, TG_CPU, "another thread's tg_zeros went to the GPU");
    cr_assert_eq(tg_set_default_device(CPU), TG_OK);
    tg_tensor *c = tg_zeros(TG_F32, 1, (int64_t[]){3});
    cr_expect_eq(tg_device_of(c).kind, TG_CPU);
    tg_release(z); tg_release(r); tg_release(c);
}

/* TANGENT_VK_PROFILE: each dispatch is timed on the device and counted
 * under its kernel once its batch has finished. */
Test(gpu, kernel_profile_counts_dispatches) {
    setenv("TANGENT_VK_PROFILE", "1", 1);   /* before the device's first use in this test's process */
    need_gpu();
    int64_t s[1] = {4096};
    tg_tensor *x = rand_cpu(TG_F32, 1, s, -1, 1), *g = gpu(x);
    uint64_t calls0, calls1;
    double ns0, ns1;
    cr_assert_eq(tg_synchronize(), TG_OK);
    if (tg__vk_profile_stats(0, "binary_f32", &calls0, &ns0) != 0) {
        tg_clear_error();
        cr_skip_test("vulkan:0 has no timestamps on its compute queue");
    }
    for (int i = 0; i < 300; i++) tg_release(tg_add(g, g));   /* more than one batch */
    cr_assert_eq(tg_synchronize(), TG_OK);
    cr_assert_eq(tg__vk_profile_stats(0, "binary_f32", &calls1, &ns1), 0);
    cr_assert_eq(calls1 - calls0, 300, "%llu dispatches timed", (unsigned long long)(calls1 - calls0));
    cr_assert_gt(ns1, ns0);
    /* unary ops run on pipelines with the op specialised in: exp is op 2 of unary.comp */
    tg_release(tg_exp(g));
    cr_assert_eq(tg_synchronize(), TG_OK);
    cr_assert_eq(tg__vk_profile_stats(0, "unary_f32#2", &calls1, &ns1), 0);
    cr_assert_eq(calls1, 1, "exp ran %llu times on unary_f32#2", (unsigned long long)calls1);
    unsetenv("TANGENT_VK_PROFILE");
    tg_release(g);
    tg_release(x);
}

/* A program may return from main with kernels still queued. On lavapipe
 * their machine code is then built on the driver's thread while the exit
 * handlers run; an LLVM static that this thread uses is destroyed by one of
 * them, so the library's handler must wait for the queue before it. Run too
 * late, the wait stalled until its 5 s limit ("still running at exit") and
 * at times aborted with a double free inside LLVM. The child runs twice:
 * after a first kernel waited for, and with its first kernels queued at
 * exit (on llvmpipe the library has made the device's first dispatch
 * itself when it created the device: gpu/device.c, first_jit). */
static void expect_clean_exit(const char *mode) {
    extern char **environ;
    char log[] = "/tmp/tangent-exit-XXXXXX";
    int fd = mkstemp(log);
    cr_assert(fd >= 0);
    close(fd);
    /* beside this program (tests/CMakeLists.txt builds both into one folder;
     * scripts/gpu-bundle-tests.sh copies both when named) */
    char path[4096];
    ssize_t len = readlink("/proc/self/exe", path, sizeof path - 32);
    cr_assert(len > 0);
    path[len] = 0;
    strcpy(strrchr(path, '/') + 1, TG_GPU_EXIT_PROGRAM);
    char *argv[] = {path, (char *)mode, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_TRUNC, 0);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(e, 0, "cannot start %s", argv[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    char text[1 << 14] = "";
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    text[fread(text, 1, sizeof text - 1, f)] = 0;
    fclose(f);
    remove(log);
    cr_assert(WIFEXITED(status), "%s: killed at exit by signal %d\n%s", mode,
              WIFSIGNALED(status) ? WTERMSIG(status) : 0, text);
    if (WEXITSTATUS(status) == GPU_CHILD_SKIP) cr_skip_test("no Vulkan device: install mesa-vulkan-drivers (lavapipe)");
    cr_assert_eq(WEXITSTATUS(status), 0, "%s: the program failed\n%s", mode, text);
    cr_assert(strstr(text, "still running at exit") == NULL, "%s: the exit did not wait for the queue\n%s", mode, text);
}

Test(gpu, exit_with_new_kernels_queued) {
    setenv("TANGENT_DEBUG", "1", 1);
    setenv("ASAN_OPTIONS", "detect_leaks=0", 1);    /* this checks the exit, not the child's leaks */
    expect_clean_exit("later");
    expect_clean_exit("first");
}
