/* Complex tensors on a Vulkan device against the CPU (issue: c64 and c128
 * as pairs; matmul for complex): matrix products (plain, batched,
 * transposed and conjugated views, vectors), sums over axes and means,
 * abs, angle, exp, log, log2, log10, sqrt, rsqrt, square, reciprocal,
 * casts between real and complex
 * dtypes, and a gradient through a complex product. c128 runs where the
 * device has f64. */
#include <stdlib.h>

#include "support/check.h"
#include "support/gpu.h"

static uint64_t rng = 0x51ed2701u;

/* A CPU complex tensor with parts uniform in [-1, 1). */
static tg_tensor *crand(tg_dtype d, int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc((size_t)(2 * n + 2) * sizeof *v);
    for (int64_t i = 0; i < 2 * n; i++) v[i] = 2 * lcg_uniform(&rng) - 1;
    tg_tensor *t = tg_from_data(TG_C128, ndim, shape, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}

/* got (on the device) against want (CPU). */
static void expect_close(tg_tensor *got, tg_tensor *want, tg_dtype d, const char *what) {
    cr_assert_not_null(got, "%s: %s", what, tg_last_error());
    cr_expect_eq(tg_device_of(got).kind, TG_VULKAN, "%s: the result left the device", what);
    tg_tensor *h = tg_to_device(got, CPU);
    double tol = d == TG_C64 || d == TG_F32 ? 2e-5 : 1e-12;
    check_close(h, want, tol, tol, what);
    tg_release(h);
}

static int n_complex(void) { return gpu_has_f64() ? 2 : 1; }
static const tg_dtype CDT[2] = {TG_C64, TG_C128};

TestSuite(gpu_complex, .init = tg_clear_error);

Test(gpu_complex, matmul_matches_the_cpu) {
    need_gpu();
    for (int k = 0; k < n_complex(); k++) {
        tg_dtype d = CDT[k];
        tg_scope_begin();
        struct { int na; int64_t sa[3]; int nb; int64_t sb[3]; const char *what; } cases[] = {
            {2, {7, 13}, 2, {13, 5}, "7x13 @ 13x5"},
            {2, {64, 96}, 2, {96, 80}, "64x96 @ 96x80"},
            {3, {3, 9, 6}, 3, {3, 6, 4}, "batched"},
            {1, {11}, 2, {11, 6}, "vector @ matrix"},
            {2, {6, 11}, 1, {11}, "matrix @ vector"},
        };
        for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
            tg_tensor *a = crand(d, cases[q].na, cases[q].sa), *b = crand(d, cases[q].nb, cases[q].sb);
            char what[96];
            snprintf(what, sizeof what, "%s %s", cases[q].what, tg_dtype_name(d));
            expect_close(tg_matmul(gpu(a), gpu(b)), tg_matmul(a, b), d, what);
        }
        /* strided operands: A^H (a conjugated transposed view) and B^T */
        tg_tensor *a = crand(d, 2, (int64_t[]){9, 7}), *b = crand(d, 2, (int64_t[]){5, 9});
        tg_tensor *ah = tg_conj(tg_mT(a)), *bt = tg_mT(b);
        tg_tensor *gah = tg_conj(tg_mT(gpu(a))), *gbt = tg_mT(gpu(b));
        expect_close(tg_matmul(gah, gbt), tg_matmul(ah, bt), d, "A^H @ B^T");
        tg_scope_end();
    }
}

Test(gpu_complex, sums_and_means_match_the_cpu) {
    need_gpu();
    for (int k = 0; k < n_complex(); k++) {
        tg_dtype d = CDT[k];
        tg_scope_begin();
        tg_tensor *x = crand(d, 3, (int64_t[]){5, 300, 7}), *gx = gpu(x);
        expect_close(tg_sum(gx, 0, NULL, false), tg_sum(x, 0, NULL, false), d, "sum of all");
        for (int ax = 0; ax < 3; ax++) {
            char what[64];
            snprintf(what, sizeof what, "sum over axis %d, %s", ax, tg_dtype_name(d));
            expect_close(tg_sum(gx, 1, &ax, false), tg_sum(x, 1, &ax, false), d, what);
        }
        expect_close(tg_sum(gx, 2, (int[]){0, 2}, true), tg_sum(x, 2, (int[]){0, 2}, true), d, "sum over 0, 2 (keepdim)");
        expect_close(tg_mean(gx, 1, (int[]){1}, false), tg_mean(x, 1, (int[]){1}, false), d, "mean over axis 1");
        /* a strided view: the transpose of the last two axes */
        expect_close(tg_sum(tg_mT(gx), 1, (int[]){2}, false), tg_sum(tg_mT(x), 1, (int[]){2}, false), d,
                     "sum of a transposed view");
        tg_scope_end();
    }
}

/* |z| against the CPU's cabs, with parts that overflow when squared,
 * zeros, infinities beside NaN and NaN. */
Test(gpu_complex, abs_matches_the_cpu) {
    need_gpu();
    for (int k = 0; k < n_complex(); k++) {
        tg_dtype d = CDT[k];
        tg_scope_begin();
        double big = d == TG_C64 ? 1e30 : 1e300, inf = 1.0 / 0.0, nan = 0.0 / 0.0;
        double v[] = {3, 4, 0, 0, -0.0, 2, big, big, 1e-30, -1e-30, inf, nan, nan, -inf, nan, 1, -5, 0.5};
        int64_t n = (int64_t)(sizeof v / sizeof v[0]) / 2;
        tg_tensor *z128 = tg_from_data(TG_C128, 1, &n, v), *z = tg_cast(z128, d);
        tg_tensor *want = tg_abs(z), *got = tg_abs(gpu(z));
        cr_assert_not_null(got, "%s", tg_last_error());
        cr_expect_eq(tg_dtype_of(got), tg_dtype_of(want));
        expect_close(got, want, d, "abs");
        tg_tensor *x = crand(d, 2, (int64_t[]){33, 17});
        expect_close(tg_abs(tg_mT(gpu(x))), tg_abs(tg_mT(x)), d, "abs of a transposed view");
        tg_release(z128);
        tg_scope_end();
    }
}

/* exp, log, sqrt, square, reciprocal, log2, log10, rsqrt and angle (real)
 * against the CPU: random points,
 * both sides of the branch cut on the negative real axis (a signed zero
 * imaginary part), zeros, |z| near 1 (log's cancellation), huge parts
 * (sqrt's scaling) and a large imaginary part for exp. */
Test(gpu_complex, elementary_functions_match_the_cpu) {
    need_gpu();
    typedef tg_tensor *(*fn1)(tg_tensor *);
    static const fn1 fns[] = {tg_exp, tg_log, tg_sqrt, tg_square, tg_reciprocal, tg_log2, tg_log10, tg_rsqrt, tg_angle};
    static const char *const names[] = {"exp", "log", "sqrt", "square", "reciprocal", "log2", "log10", "rsqrt", "angle"};
    enum { N_FNS = sizeof fns / sizeof fns[0] };
    for (int k = 0; k < n_complex(); k++) {
        tg_dtype d = CDT[k];
        tg_scope_begin();
        double big = d == TG_C64 ? 3e37 : 3e307;
        double v[] = {-1, 0.0, -1, -0.0, -4, 0.0, -4, -0.0, 0.0, 0.0, -0.0, 2, -0.0, 0.0, 0.6, 0.8, 0.999, -0.04,
                      big, big, -big, 1, 2.5, -1.5, 0.3, 40, -3, -7};
        int64_t n = (int64_t)(sizeof v / sizeof v[0]) / 2;
        tg_tensor *s128 = tg_from_data(TG_C128, 1, &n, v), *sp = tg_cast(s128, d), *gsp = gpu(sp);
        tg_tensor *x = crand(d, 2, (int64_t[]){19, 23}), *gx = tg_mT(gpu(x)), *xt = tg_mT(x);
        for (int f = 0; f < N_FNS; f++) {
            char what[64];
            snprintf(what, sizeof what, "%s %s, random (transposed view)", names[f], tg_dtype_name(d));
            expect_close(fns[f](gx), fns[f](xt), f == 8 ? tg_real_dtype(d) : d, what);
            if (f == 3) continue;           /* square of huge parts overflows on both sides alike */
            snprintf(what, sizeof what, "%s %s, special points", names[f], tg_dtype_name(d));
            expect_close(fns[f](gsp), fns[f](sp), f == 8 ? tg_real_dtype(d) : d, what);
        }
        tg_release(s128);
        tg_scope_end();
    }
}

Test(gpu_complex, casts_between_real_and_complex) {
    need_gpu();
    tg_scope_begin();
    int64_t n = 37;
    tg_tensor *z = crand(TG_C64, 1, &n), *gz = gpu(z);
    tg_tensor *r = tg_real(z), *gr = gpu(r);
    expect_close(tg_cast(gz, TG_F32), tg_cast(z, TG_F32), TG_F32, "c64 to f32 (the real part)");
    expect_close(tg_cast(gr, TG_C64), tg_cast(r, TG_C64), TG_C64, "f32 to c64 (zero imaginary part)");
    tg_tensor *i = tg_cast(tg_mul_scalar(r, 10.0), TG_I32);
    expect_close(tg_cast(gpu(i), TG_C64), tg_cast(i, TG_C64), TG_C64, "i32 to c64");
    expect_close(tg_mul(gz, gr), tg_mul(z, r), TG_C64, "c64 * f32 (promoted)");
    if (gpu_has_f64()) {
        expect_close(tg_cast(gz, TG_C128), tg_cast(z, TG_C128), TG_C128, "c64 to c128");
        tg_tensor *w = crand(TG_C128, 1, &n);
        expect_close(tg_cast(gpu(w), TG_C64), tg_cast(w, TG_C64), TG_C64, "c128 to c64");
    }
    tg_scope_end();
}

/* The derivative rules of matmul and sum call these kernels on the device:
 * the gradient of |A B|^2 summed, on the GPU, against the CPU. */
Test(gpu_complex, gradient_of_a_complex_product) {
    need_gpu();
    tg_scope_begin();
    tg_tensor *a = crand(TG_C64, 2, (int64_t[]){4, 6}), *b = crand(TG_C64, 2, (int64_t[]){6, 3});
    tg_tensor *ga = gpu(a), *gb = gpu(b);
    tg_set_requires_grad(a, true);
    tg_set_requires_grad(ga, true);
    tg_tensor *p = tg_matmul(a, b), *gp = tg_matmul(ga, gb);
    tg_tensor *l = tg_sum(tg_real(tg_mul(p, tg_conj(p))), 0, NULL, false);
    tg_tensor *gl = tg_sum(tg_real(tg_mul(gp, tg_conj(gp))), 0, NULL, false);
    cr_assert_eq(tg_backward(l, NULL), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_backward(gl, NULL), TG_OK, "%s", tg_last_error());
    expect_close(tg_grad(ga), tg_grad(a), TG_C64, "d|AB|^2/dA on the GPU");
    tg_scope_end();
}
