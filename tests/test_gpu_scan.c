/* cumsum and cumprod on the Vulkan backend (gpu/scan.c) against the CPU:
 * every axis, strided and flipped (negative-stride) inputs, 0-d and empty
 * tensors, i32/i64 inputs (i64 out, exact), long lines (the chunked
 * three-pass path), bad axes and bool inputs as errors, and a gradcheck
 * in f64 on the device. Then sort and topk (gpu/sort.c): values and
 * indices equal to the CPU's stable order, ties and NaN included. Skipped (with a message) without a Vulkan device;
 * CI runs it on lavapipe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "support/check.h"
#include "support/gpu.h"

static void to_cpu_default(void) { tg__set_default_device(CPU); }
TestSuite(gpu_scan, .init = tg_clear_error, .fini = to_cpu_default);

static uint64_t rng = 0x9e3779b97f4a7c15u;

/* A CPU tensor of dtype d, uniform in [lo, hi) (ints: rounded down). */
static tg_tensor *rand_cpu(tg_dtype d, int nd, const int64_t *shape, double lo, double hi) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= shape[i];
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * lcg_uniform(&rng);
    if (d == TG_I32 || d == TG_I64)
        for (int64_t i = 0; i < n; i++) v[i] = floor(v[i]);
    tg_tensor *t = tg_from_data(TG_F64, nd, shape, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}

static tg_tensor *scan(int op, tg_tensor *x, int axis) { return op ? tg_cumprod(x, axis) : tg_cumsum(x, axis); }

/* got (on the device) and want (CPU): same shape and dtype; bits equal
 * when exact, else within the tolerance. */
static void check_scan(tg_tensor *got, tg_tensor *want, bool exact, double rtol, double atol, const char *what) {
    cr_assert_not_null(got, "%s: %s", what, tg_last_error());
    cr_assert_not_null(want, "%s (CPU): %s", what, tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN, "%s: result is not on the GPU", what);
    tg_tensor *h = tg_to_device(got, CPU);
    cr_assert_not_null(h, "%s: %s", what, tg_last_error());
    if (exact) {
        cr_assert_eq(tg_dtype_of(h), tg_dtype_of(want), "%s: dtype", what);
        cr_assert_eq(tg_numel(h), tg_numel(want), "%s: size", what);
        size_t bytes = (size_t)tg_numel(h) * tg_dtype_size(tg_dtype_of(h));
        void *a = malloc(bytes ? bytes : 1), *b = malloc(bytes ? bytes : 1);
        tg_copy_to(h, a, bytes);
        tg_copy_to(want, b, bytes);
        cr_assert(memcmp(a, b, bytes) == 0, "%s: values differ from the CPU's", what);
        free(a);
        free(b);
    } else {
        check_close(h, want, rtol, atol, what);
    }
    tg_release(h);
}

typedef struct { int nd; int64_t s[4]; } shape_t;
static const shape_t SHAPES[] = {{0, {0}}, {1, {1}}, {1, {37}}, {2, {5, 9}}, {3, {3, 4, 17}}, {4, {2, 3, 4, 5}},
                                 {2, {0, 4}}, {3, {2, 300, 3}}};
#define N_SHAPES (int)(sizeof SHAPES / sizeof *SHAPES)

/* Short lines run a thread each in the CPU's order: results equal the
 * CPU's bit for bit (floats included), on every axis, for contiguous,
 * transposed and flipped inputs. */
Test(gpu_scan, short_lines_equal_the_cpu) {
    need_gpu();
    const tg_dtype dts[4] = {TG_F32, TG_I32, TG_I64, TG_F64};
    int n_dt = gpu_has_f64() ? 4 : 3;
    for (int t = 0; t < n_dt; t++)
        for (int s = 0; s < N_SHAPES; s++)
            for (int op = 0; op < 2; op++) {
                const shape_t *sh = &SHAPES[s];
                /* cumprod near 1 keeps the products finite */
                bool ints = dts[t] == TG_I32 || dts[t] == TG_I64;
                tg_tensor *x = op ? rand_cpu(dts[t], sh->nd, sh->s, ints ? -2 : 0.9, ints ? 3 : 1.1)
                                  : rand_cpu(dts[t], sh->nd, sh->s, ints ? -1000 : -1, ints ? 1000 : 1);
                tg_tensor *gx = gpu(x);
                for (int axis = -(sh->nd ? sh->nd : 1); axis < (sh->nd ? sh->nd : 1); axis++) {
                    char what[96];
                    snprintf(what, sizeof what, "%s %s rank %d axis %d", op ? "cumprod" : "cumsum",
                             tg_dtype_name(dts[t]), sh->nd, axis);
                    tg_tensor *want = scan(op, x, axis), *got = scan(op, gx, axis);
                    check_scan(got, want, true, 0, 0, what);
                    tg_release(want);
                    tg_release(got);
                    if (sh->nd >= 2) {      /* a transposed view, and a flipped one */
                        tg_tensor *xt = tg_transpose(x, 0, sh->nd - 1), *gt = tg_transpose(gx, 0, sh->nd - 1);
                        int ax = axis < 0 ? axis + sh->nd : axis;
                        tg_tensor *xf = tg_flip(x, 1, &ax), *gf = tg_flip(gx, 1, &ax);
                        tg_tensor *w1 = scan(op, xt, axis), *g1 = scan(op, gt, axis);
                        tg_tensor *w2 = scan(op, xf, axis), *g2 = scan(op, gf, axis);
                        check_scan(g1, w1, true, 0, 0, what);
                        check_scan(g2, w2, true, 0, 0, what);
                        tg_release(xt); tg_release(gt); tg_release(xf); tg_release(gf);
                        tg_release(w1); tg_release(g1); tg_release(w2); tg_release(g2);
                    }
                }
                tg_release(x);
                tg_release(gx);
            }
}

/* Integers wrap as on the CPU: i32 inputs near the limits accumulate in
 * i64; i64 products overflow and wrap. */
Test(gpu_scan, integers_wrap_as_on_the_cpu) {
    need_gpu();
    int32_t a[6] = {INT32_MAX, INT32_MAX, INT32_MIN, -5, 7, INT32_MAX};
    int64_t b[5] = {INT64_MAX / 3, 1000003, -999999937, 65537, 3};
    int64_t na = 6, nb = 5;
    tg_tensor *x = tg_from_data(TG_I32, 1, &na, a), *y = tg_from_data(TG_I64, 1, &nb, b);
    tg_tensor *gx = gpu(x), *gy = gpu(y);
    for (int op = 0; op < 2; op++) {
        tg_tensor *w1 = scan(op, x, 0), *g1 = scan(op, gx, 0), *w2 = scan(op, y, 0), *g2 = scan(op, gy, 0);
        check_scan(g1, w1, true, 0, 0, "i32 near the limits");
        check_scan(g2, w2, true, 0, 0, "i64 overflowing");
        cr_assert_eq(tg_dtype_of(g1), TG_I64);
        tg_release(w1); tg_release(g1); tg_release(w2); tg_release(g2);
    }
    tg_release(x); tg_release(y); tg_release(gx); tg_release(gy);
}

/* Long lines with few of them go through chunk totals and prefixes: the
 * order of additions differs from the CPU's sequential one. Tolerances:
 * f32 cumsum of values in [-1, 1) atol 2e-4 + rtol 1e-5 (n eps max|x| for
 * n = 5000 is 3e-4; the error grows like sqrt(n) in practice), f64 1e-12;
 * cumprod of values in [0.999, 1.001) rtol 1e-5 / 1e-12. Integers exact. */
Test(gpu_scan, long_lines_chunked) {
    need_gpu();
    const tg_dtype dts[3] = {TG_F32, TG_I64, TG_F64};
    int n_dt = gpu_has_f64() ? 3 : 2;
    const shape_t shapes[] = {{1, {5000}}, {2, {3, 4099}}, {2, {2049, 2}}};
    for (int t = 0; t < n_dt; t++)
        for (int s = 0; s < 3; s++)
            for (int op = 0; op < 2; op++) {
                const shape_t *sh = &shapes[s];
                bool ints = dts[t] == TG_I64;
                tg_tensor *x = op ? rand_cpu(dts[t], sh->nd, sh->s, ints ? 1 : 0.999, ints ? 3 : 1.001)
                                  : rand_cpu(dts[t], sh->nd, sh->s, ints ? -1e6 : -1, ints ? 1e6 : 1);
                tg_tensor *gx = gpu(x);
                int axis = s == 2 ? 0 : sh->nd - 1;
                char what[96];
                snprintf(what, sizeof what, "%s %s long lines (shape %d)", op ? "cumprod" : "cumsum",
                         tg_dtype_name(dts[t]), s);
                tg_tensor *want = scan(op, x, axis), *got = scan(op, gx, axis);
                double rtol = dts[t] == TG_F32 ? 1e-5 : 1e-12, atol = op ? 0 : dts[t] == TG_F32 ? 2e-4 : 1e-12;
                check_scan(got, want, ints, rtol, atol, what);
                tg_release(want); tg_release(got); tg_release(x); tg_release(gx);
            }
}

Test(gpu_scan, errors) {
    need_gpu();
    int64_t s[2] = {3, 4};
    tg_tensor *x = rand_cpu(TG_F32, 2, s, -1, 1), *gx = gpu(x);
    check_error(tg_cumsum(gx, 2), TG_ERR_ARG, "cumsum axis 2 of a 2-d device tensor");
    check_error(tg_cumprod(gx, -3), TG_ERR_ARG, "cumprod axis -3 of a 2-d device tensor");
    tg_tensor *b = tg_gt_scalar(gx, 0);
    cr_assert_not_null(b, "%s", tg_last_error());
    tg_tensor *r = tg_cumsum(b, 0);
    if (r) {                                    /* bools have no device kernel: refused, never wrong */
        cr_assert_fail("a bool cumsum on the device should be refused (no kernel), got a result");
    }
    cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED, "%s", tg_last_error());
    tg_clear_error();
    tg_release(b); tg_release(x); tg_release(gx);
}

/* ---- gradcheck in f64 on the GPU --------------------------------------------------------------- */
static tg_status scan_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *w = tg_cumsum(in[0], 1), *v = tg_cumprod(in[0], 0);
    out[0] = tg_sum(tg_mul(tg_tanh(w), v), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu_scan, gradcheck_f64) {
    need_gpu();
    if (!gpu_has_f64()) cr_skip_test("the device has no shaderFloat64");
    int64_t s[2] = {3, 5};
    tg_tensor *x = rand_cpu(TG_F64, 2, s, 0.5, 1.5), *in[1] = {gpu(x)};
    tg__set_default_device(VK0);      /* gradcheck's perturbed inputs go next to the originals */
    tg_scope_begin();
    tg_status st = tg_gradcheck(scan_fn, NULL, 1, in, 1, NULL);
    tg_scope_end();
    tg__set_default_device(CPU);
    cr_assert_eq(st, TG_OK, "%s", tg_last_error());
    tg_release(in[0]);
    tg_release(x);
}

/* ---- sort and topk ---------------------------------------------------------------------------- */
/* Values quantised to a few levels (many ties) with some NaN: the device's
 * order must be the CPU's stable one exactly, values and indices. */
static tg_tensor *tied_cpu(tg_dtype d, int nd, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= shape[i];
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        double u = lcg_uniform(&rng);
        v[i] = d != TG_I32 && u < 0.05 ? NAN : floor(9 * u) - 4;
    }
    tg_tensor *t = tg_from_data(TG_F64, nd, shape, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}

Test(gpu_scan, sort_and_topk_equal_the_cpu) {
    need_gpu();
    const tg_dtype dts[3] = {TG_F32, TG_I32, TG_F64};
    int n_dt = gpu_has_f64() ? 3 : 2;
    const shape_t shapes[] = {{0, {0}}, {1, {1}}, {1, {5}}, {2, {4, 33}}, {3, {3, 2, 100}}, {2, {2, 1024}},
                              {1, {2048}}, {2, {0, 7}}};
    for (int t = 0; t < n_dt; t++)
        for (int s = 0; s < 8; s++) {
            const shape_t *sh = &shapes[s];
            if (dts[t] == TG_F64 && s == 6) continue;          /* f64 lines: up to 1024 */
            tg_tensor *x = tied_cpu(dts[t], sh->nd, sh->s), *gx = gpu(x);
            int nax = sh->nd ? sh->nd : 1;
            for (int axis = 0; axis < nax; axis++)
                for (int desc = 0; desc < 2; desc++) {
                    char what[96];
                    snprintf(what, sizeof what, "sort %s rank %d axis %d %s", tg_dtype_name(dts[t]), sh->nd, axis,
                             desc ? "descending" : "ascending");
                    tg_tensor *wv, *wi, *gv, *gi;
                    cr_assert_eq(tg_sort(x, axis, desc, &wv, &wi), TG_OK, "%s", tg_last_error());
                    cr_assert_eq(tg_sort(gx, axis, desc, &gv, &gi), TG_OK, "%s: %s", what, tg_last_error());
                    check_scan(gv, wv, true, 0, 0, what);
                    check_scan(gi, wi, true, 0, 0, what);
                    tg_release(wv); tg_release(wi); tg_release(gv); tg_release(gi);
                    int64_t n = sh->nd ? sh->s[axis] : 1;
                    const int64_t ks[3] = {n ? 1 : 0, sh->nd ? n / 2 : 1, n};      /* a 0-d input takes k = 1 only */
                    for (int j = 0; j < 3; j++) {
                        snprintf(what, sizeof what, "topk %s rank %d axis %d k %lld %s", tg_dtype_name(dts[t]),
                                 sh->nd, axis, (long long)ks[j], desc ? "largest" : "smallest");
                        cr_assert_eq(tg_topk(x, ks[j], axis, desc, &wv, &wi), TG_OK, "%s", tg_last_error());
                        cr_assert_eq(tg_topk(gx, ks[j], axis, desc, &gv, &gi), TG_OK, "%s: %s", what,
                                     tg_last_error());
                        check_scan(gv, wv, true, 0, 0, what);
                        check_scan(gi, wi, true, 0, 0, what);
                        tg_release(wv); tg_release(wi); tg_release(gv); tg_release(gi);
                    }
                }
            /* a transposed (strided) input */
            if (sh->nd == 2) {
                tg_tensor *xt = tg_transpose(x, 0, 1), *gt = tg_transpose(gx, 0, 1), *wv, *wi, *gv, *gi;
                cr_assert_eq(tg_sort(xt, 0, false, &wv, &wi), TG_OK, "%s", tg_last_error());
                cr_assert_eq(tg_sort(gt, 0, false, &gv, &gi), TG_OK, "%s", tg_last_error());
                check_scan(gv, wv, true, 0, 0, "sort of a transposed input");
                check_scan(gi, wi, true, 0, 0, "sort of a transposed input (indices)");
                tg_release(wv); tg_release(wi); tg_release(gv); tg_release(gi); tg_release(xt); tg_release(gt);
            }
            tg_release(x);
            tg_release(gx);
        }
}

Test(gpu_scan, sort_refuses_long_lines_and_bad_axes) {
    need_gpu();
    int64_t n = 2049, s2[2] = {2, 3};
    tg_tensor *x = tied_cpu(TG_F32, 1, &n), *gx = gpu(x), *v = NULL, *i = NULL;
    cr_assert_neq(tg_sort(gx, 0, false, &v, &i), TG_OK, "a line of 2049 elements should be refused");
    cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED, "%s", tg_last_error());
    cr_assert_null(v);
    tg_clear_error();
    tg_tensor *y = tied_cpu(TG_F32, 2, s2), *gy = gpu(y);
    cr_assert_eq(tg_topk(gy, 4, 1, true, &v, &i), TG_ERR_ARG, "k beyond the axis");
    tg_clear_error();
    cr_assert_eq(tg_sort(gy, 2, true, &v, &i), TG_ERR_ARG, "axis 2 of a 2-d tensor");
    tg_clear_error();
    tg_release(x); tg_release(gx); tg_release(y); tg_release(gy);
}
