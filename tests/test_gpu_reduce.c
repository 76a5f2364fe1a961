/* The Vulkan reductions (sum prod max min all any argmax argmin), softmax,
 * log_softmax and cross-entropy (gpu/reduce.c, gpu/softmax.c) against the
 * same ops on the CPU. On a machine without a Vulkan driver every test is
 * skipped with a visible message. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "support/gpu.h"

static const tg_dtype DTYPES[2] = {TG_F32, TG_F64};

static uint64_t rng = 0x2545f4914f6cdd1du;
static double urand(void) { return lcg_uniform(&rng); }
/* A CPU tensor from f64 values, cast to d. */
static tg_tensor *from_f64(tg_dtype d, int ndim, const int64_t *shape, const double *v) {
    tg_tensor *t = tg_from_data(TG_F64, ndim, shape, v);
    cr_assert_not_null(t, "%s", tg_last_error());
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    cr_assert_not_null(r, "%s", tg_last_error());
    return r;
}
/* Uniform values in [lo, hi); levels > 0: rounded to that many distinct
 * values (ties). */
static tg_tensor *rand_cpu(tg_dtype d, int ndim, const int64_t *shape, double lo, double hi, int levels) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        double u = urand();
        if (levels > 0) u = floor(u * levels) / levels;
        v[i] = lo + (hi - lo) * u;
    }
    tg_tensor *r = from_f64(d, ndim, shape, v);
    free(v);
    return r;
}
/* got (on the GPU) equals want (CPU) within the tolerances. */
static void check_gpu(tg_tensor *got, tg_tensor *want, double rtol, double atol, const char *what) {
    cr_assert_not_null(want, "%s (CPU): %s", what, tg_last_error());
    cr_assert_not_null(got, "%s: %s", what, tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN, "%s: result is not on the GPU", what);
    tg_scope_begin();
    tg_tensor *h = tg_to_device(got, CPU);
    cr_assert_not_null(h, "%s: to CPU: %s", what, tg_last_error());
    check_close(h, want, rtol, atol, what);
    tg_scope_end();
}
static void tols(tg_dtype d, double *rtol, double *atol) {
    if (d == TG_F32) { *rtol = 1e-5; *atol = 1e-6; }
    else { *rtol = 1e-12; *atol = 1e-13; }
}

typedef tg_tensor *(*red_fn)(tg_tensor *, int, const int *, bool);
static const red_fn REDS[] = {tg_sum, tg_prod, tg_max, tg_min};
static const char *const RED_NAMES[] = {"sum", "prod", "max", "min"};

/* Every reduction of x and of its device copy gx over several axis sets. */
static void check_reductions(tg_tensor *x, tg_tensor *gx, int op, double rtol, double atol, const char *layout) {
    char what[160];
    red_fn f = REDS[op];
    int nd = tg_ndim(x);
    snprintf(what, sizeof what, "%s all, %s %s", RED_NAMES[op], layout, tg_dtype_name(tg_dtype_of(x)));
    check_gpu(f(gx, 0, NULL, false), f(x, 0, NULL, false), rtol, atol, what);
    check_gpu(f(gx, 0, NULL, true), f(x, 0, NULL, true), rtol, atol, what);
    for (int a = -nd; a < nd; a++) {
        for (int kd = 0; kd < 2; kd++) {
            snprintf(what, sizeof what, "%s axis %d keepdim %d, %s %s", RED_NAMES[op], a, kd, layout,
                     tg_dtype_name(tg_dtype_of(x)));
            check_gpu(f(gx, 1, &a, kd), f(x, 1, &a, kd), rtol, atol, what);
        }
    }
    if (nd >= 3) {
        int two[2] = {0, 2}, neg[2] = {-1, -2};
        snprintf(what, sizeof what, "%s axes (0, 2), %s", RED_NAMES[op], layout);
        check_gpu(f(gx, 2, two, false), f(x, 2, two, false), rtol, atol, what);
        snprintf(what, sizeof what, "%s axes (-1, -2) keepdim, %s", RED_NAMES[op], layout);
        check_gpu(f(gx, 2, neg, true), f(x, 2, neg, true), rtol, atol, what);
    }
}

/* ---- sum prod max min ------------------------------------------------------------------ */
Test(gpu_reduce, sum_prod_max_min_axes_and_layouts) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        for (int op = 0; op < 4; op++) {
            tg_scope_begin();
            /* prod: values near 1 so that 2,100 factors neither overflow nor vanish */
            double lo = op == 1 ? 0.97 : -1, hi = op == 1 ? 1.03 : 1;
            double rt = op < 2 ? rtol * 20 : 0, at = op < 2 ? atol * 20 : 0;   /* max/min: exact */
            int64_t s[3] = {6, 50, 7};
            tg_tensor *x = rand_cpu(d, 3, s, lo, hi, 0), *gx = gpu(x);
            check_reductions(x, gx, op, rt, at, "contiguous");
            int perm[3] = {2, 0, 1};
            check_reductions(tg_permute(x, perm), tg_permute(gx, perm), op, rt, at, "permuted");
            /* a sliced view with a negative step and an offset */
            check_reductions(tg_slice(tg_slice(x, 1, 3, 45, 2), 2, TG_NONE, TG_NONE, -1),
                             tg_slice(tg_slice(gx, 1, 3, 45, 2), 2, TG_NONE, TG_NONE, -1), op, rt, at, "sliced");
            /* broadcast (zero strides) */
            int64_t sb[3] = {6, 50, 7}, s1[3] = {6, 1, 7};
            tg_tensor *y = rand_cpu(d, 3, s1, lo, hi, 0);
            check_reductions(tg_expand(y, 3, sb), tg_expand(gpu(y), 3, sb), op, rt, at * 10, "expanded");
            /* 0-d and an odd size of one axis */
            tg_tensor *z = rand_cpu(d, 0, NULL, lo, hi, 0);
            check_gpu(REDS[op](gpu(z), 0, NULL, false), REDS[op](z, 0, NULL, false), 0, 0, "0-d");
            int64_t so[1] = {1001};
            tg_tensor *w = rand_cpu(d, 1, so, lo, hi, 0);
            check_reductions(w, gpu(w), op, rt, at, "1-D odd");
            tg_scope_end();
        }
    }
}

/* Lengths above 256 * 1024 take two passes (partials, then their reduction). */
Test(gpu_reduce, long_reductions_two_pass) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        tg_scope_begin();
        int64_t n1[1] = {300007}, n2[2] = {3, 270001};
        tg_tensor *x = rand_cpu(d, 1, n1, -1, 1, 0), *gx = gpu(x);
        tg_tensor *p = rand_cpu(d, 1, n1, 0.999, 1.001, 0), *gp = gpu(p);
        tg_tensor *y = rand_cpu(d, 2, n2, -1, 1, 0), *gy = gpu(y);
        double big = d == TG_F32 ? 2e-4 : 1e-10;
        int a1 = 1, a0 = 0;
        check_gpu(tg_sum(gx, 0, NULL, false), tg_sum(x, 0, NULL, false), big, big, "long sum");
        check_gpu(tg_prod(gp, 0, NULL, false), tg_prod(p, 0, NULL, false), big * 10, big, "long prod");
        check_gpu(tg_max(gx, 0, NULL, false), tg_max(x, 0, NULL, false), 0, 0, "long max");
        check_gpu(tg_min(gx, 0, NULL, true), tg_min(x, 0, NULL, true), 0, 0, "long min");
        check_gpu(tg_argmax(gx, 0, false), tg_argmax(x, 0, false), 0, 0, "long argmax");
        check_gpu(tg_argmin(gx, 0, true), tg_argmin(x, 0, true), 0, 0, "long argmin");
        check_gpu(tg_sum(gy, 1, &a1, false), tg_sum(y, 1, &a1, false), big, big, "long rows sum");
        check_gpu(tg_max(gy, 1, &a1, false), tg_max(y, 1, &a1, false), 0, 0, "long rows max");
        check_gpu(tg_argmin(gy, 1, false), tg_argmin(y, 1, false), 0, 0, "long rows argmin");
        /* the long axis strided (a transposed view) */
        tg_tensor *yt = tg_mT(y), *gyt = tg_mT(gy);
        check_gpu(tg_min(gyt, 1, &a0, false), tg_min(yt, 1, &a0, false), 0, 0, "long strided min");
        check_gpu(tg_argmax(gyt, 0, false), tg_argmax(yt, 0, false), 0, 0, "long strided argmax");
        check_gpu(tg_sum(gyt, 1, &a0, true), tg_sum(yt, 1, &a0, true), big, big, "long strided sum");
        tg_scope_end();
    }
}

/* At most 64 elements for each of at least 4096 outputs: a thread per output
 * (the split-K partial sums' shape), over a strided axis, several axes, a
 * permuted layout, with NaN and a mean. */
Test(gpu_reduce, short_reductions_of_many_outputs) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        for (int op = 0; op < 4; op++) {
            tg_scope_begin();
            double lo = op == 1 ? 0.9 : -1, hi = op == 1 ? 1.1 : 1;
            double rt = op < 2 ? rtol * 5 : 0, at = op < 2 ? atol * 5 : 0;
            int64_t s[3] = {16, 70, 90};                  /* axis 0: R = 16, M = 6300 */
            tg_tensor *x = rand_cpu(d, 3, s, lo, hi, 0), *gx = gpu(x);
            int a0 = 0, a02[2] = {0, 2};
            char what[96];
            snprintf(what, sizeof what, "%s over 16 of 6300 outputs, %s", RED_NAMES[op], tg_dtype_name(d));
            check_gpu(REDS[op](gx, 1, &a0, false), REDS[op](x, 1, &a0, false), rt, at, what);
            int64_t s2[3] = {8, 4100, 7};                 /* axes (0, 2): R = 56, M = 4100 */
            tg_tensor *y = rand_cpu(d, 3, s2, lo, hi, 0), *gy = gpu(y);
            snprintf(what, sizeof what, "%s over axes (0, 2) of 4100 outputs, %s", RED_NAMES[op], tg_dtype_name(d));
            check_gpu(REDS[op](gy, 2, a02, true), REDS[op](y, 2, a02, true), rt, at, what);
            int perm[3] = {2, 1, 0};
            snprintf(what, sizeof what, "%s over a permuted axis, %s", RED_NAMES[op], tg_dtype_name(d));
            int a2 = 2;
            check_gpu(REDS[op](tg_permute(gx, perm), 1, &a2, false), REDS[op](tg_permute(x, perm), 1, &a2, false), rt,
                      at, what);
            tg_scope_end();
        }
        tg_scope_begin();
        int64_t s[2] = {10, 5000};
        double *v = calloc(50000, sizeof *v);
        for (int i = 0; i < 50000; i++) v[i] = sin(0.37 * i);
        v[3 * 5000 + 17] = NAN;                           /* output 17 of max/min: NaN */
        tg_tensor *x = from_f64(d, 2, s, v), *gx = gpu(x);
        free(v);
        int a0 = 0;
        check_gpu(tg_max(gx, 1, &a0, false), tg_max(x, 1, &a0, false), 0, 0, "max with a NaN, short");
        check_gpu(tg_min(gx, 1, &a0, false), tg_min(x, 1, &a0, false), 0, 0, "min with a NaN, short");
        check_gpu(tg_mean(gx, 1, &a0, false), tg_mean(x, 1, &a0, false), rtol * 5, atol * 5, "mean, short");
        tg_scope_end();
    }
}

/* ---- NaN, infinities, ties ------------------------------------------------------------------ */
Test(gpu_reduce, nan_inf_and_ties) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        tg_scope_begin();
        /* rows: NaN inside, +inf max, -inf min, all equal, NaN first and later */
        double v[5][6] = {{1, 2, NAN, 5, 0, 5},     {-INFINITY, 3, INFINITY, 2, INFINITY, 1},
                          {4, 4, 4, 4, 4, 4},       {NAN, 9, 1, NAN, -9, 2},
                          {-0.0, 0.0, -1, 7, 7, -1}};
        int64_t s[2] = {5, 6};
        tg_tensor *x = from_f64(d, 2, s, &v[0][0]), *gx = gpu(x);
        for (int a = 0; a < 2; a++) {
            check_gpu(tg_max(gx, 1, &a, false), tg_max(x, 1, &a, false), 0, 0, "max with NaN");
            check_gpu(tg_min(gx, 1, &a, false), tg_min(x, 1, &a, false), 0, 0, "min with NaN");
            check_gpu(tg_argmax(gx, a, false), tg_argmax(x, a, false), 0, 0, "argmax with NaN and ties");
            check_gpu(tg_argmin(gx, a, false), tg_argmin(x, a, false), 0, 0, "argmin with NaN and ties");
            check_gpu(tg_sum(gx, 1, &a, false), tg_sum(x, 1, &a, false), 1e-6, 0, "sum with NaN and inf");
        }
        /* the values the CPU gives, as NumPy: first NaN, else first extreme */
        tg_tensor *am = tg_to_device(tg_argmax(gx, 1, false), CPU);
        double want_am[5] = {2, 2, 0, 0, 3};
        check_values_f64(am, 5, want_am, 0, "argmax values");
        tg_tensor *an = tg_to_device(tg_argmin(gx, 1, false), CPU);
        double want_an[5] = {2, 0, 0, 0, 2};
        check_values_f64(an, 5, want_an, 0, "argmin values");
        /* ties far apart in a long row (different workgroups, two passes),
         * then NaNs late in the row: the first of each wins */
        int64_t n = 300001;
        double *w = malloc((size_t)n * sizeof *w);
        for (int64_t i = 0; i < n; i++) w[i] = urand();
        w[123456] = w[7] = w[299999] = 2.0;
        w[5] = w[299990] = -1.0;
        tg_tensor *t = from_f64(d, 1, &n, w), *gt = gpu(t);
        tg_tensor *r = tg_to_device(tg_argmax(gt, 0, false), CPU);
        double want7 = 7, want5 = 5;
        check_values_f64(r, 1, &want7, 0, "long argmax tie");
        check_values_f64(tg_to_device(tg_argmin(gt, 0, false), CPU), 1, &want5, 0, "long argmin tie");
        w[290000] = NAN;
        w[200000] = NAN;
        tg_tensor *tn = from_f64(d, 1, &n, w), *gtn = gpu(tn);
        double want_nan = 200000;
        check_values_f64(tg_to_device(tg_argmax(gtn, 0, false), CPU), 1, &want_nan, 0, "long argmax NaN");
        check_values_f64(tg_to_device(tg_argmin(gtn, 0, false), CPU), 1, &want_nan, 0, "long argmin NaN");
        check_gpu(tg_max(gtn, 0, NULL, false), tg_max(tn, 0, NULL, false), 0, 0, "long max NaN");
        check_gpu(tg_argmax(gtn, 0, true), tg_argmax(tn, 0, true), 0, 0, "long argmax NaN keepdim");
        free(w);
        /* argmax over random ties (few distinct values), every axis */
        int64_t s3[3] = {9, 40, 11};
        tg_tensor *q = rand_cpu(d, 3, s3, 0, 3, 3), *gq = gpu(q);
        for (int a = -3; a < 3; a++) {
            check_gpu(tg_argmax(gq, a, false), tg_argmax(q, a, false), 0, 0, "argmax ties");
            check_gpu(tg_argmin(gq, a, true), tg_argmin(q, a, true), 0, 0, "argmin ties keepdim");
        }
        int perm[3] = {1, 2, 0};
        check_gpu(tg_argmax(tg_permute(gq, perm), 2, false), tg_argmax(tg_permute(q, perm), 2, false), 0, 0,
                  "argmax permuted");
        tg_scope_end();
    }
}

/* ---- all any -------------------------------------------------------------------------------- */
Test(gpu_reduce, all_any_bool_and_float) {
    need_gpu();
    tg_scope_begin();
    int64_t s[3] = {5, 300, 3};
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        /* floats with zeros, NaN (true) and rows of zeros */
        tg_tensor *x = rand_cpu(DTYPES[k], 3, s, 0, 2, 2), *gx = gpu(x);   /* values 0 and 1 */
        for (int a = -3; a < 3; a++) {
            check_gpu(tg_all(gx, 1, &a, false), tg_all(x, 1, &a, false), 0, 0, "all float");
            check_gpu(tg_any(gx, 1, &a, true), tg_any(x, 1, &a, true), 0, 0, "any float");
        }
        check_gpu(tg_all(gx, 0, NULL, false), tg_all(x, 0, NULL, false), 0, 0, "all float, all axes");
        check_gpu(tg_any(gx, 0, NULL, false), tg_any(x, 0, NULL, false), 0, 0, "any float, all axes");
        double nv[4] = {NAN, 1, 0, NAN};
        int64_t s4[2] = {2, 2};
        tg_tensor *xn = from_f64(DTYPES[k], 2, s4, nv), *gxn = gpu(xn);
        int a1 = 1;
        check_gpu(tg_all(gxn, 1, &a1, false), tg_all(xn, 1, &a1, false), 0, 0, "all with NaN");
        check_gpu(tg_any(gxn, 1, &a1, false), tg_any(xn, 1, &a1, false), 0, 0, "any with NaN");
    }
    /* bools: mostly true / mostly false so that all and any differ by axis */
    tg_tensor *u = rand_cpu(TG_F64, 3, s, 0, 1, 0);
    tg_tensor *bt = tg_gt_scalar(u, 0.02), *bf = tg_gt_scalar(u, 0.98);
    tg_tensor *gbt = gpu(bt), *gbf = gpu(bf);
    for (int a = -3; a < 3; a++) {
        check_gpu(tg_all(gbt, 1, &a, false), tg_all(bt, 1, &a, false), 0, 0, "all bool");
        check_gpu(tg_any(gbf, 1, &a, false), tg_any(bf, 1, &a, false), 0, 0, "any bool");
        check_gpu(tg_max(gbf, 1, &a, true), tg_max(bf, 1, &a, true), 0, 0, "max bool");
        check_gpu(tg_min(gbt, 1, &a, false), tg_min(bt, 1, &a, false), 0, 0, "min bool");
    }
    int two[2] = {0, 2};
    check_gpu(tg_all(tg_mT(gbt), 2, two, false), tg_all(tg_mT(bt), 2, two, false), 0, 0, "all bool strided");
    /* the sum of bools counts (int64) */
    for (int a = -3; a < 3; a++) check_gpu(tg_sum(gbf, 1, &a, a < 0), tg_sum(bf, 1, &a, a < 0), 0, 0, "sum of bools");
    check_gpu(tg_sum(gbt, 0, NULL, false), tg_sum(bt, 0, NULL, false), 0, 0, "sum of bools, all axes");
    check_gpu(tg_sum(tg_mT(gbt), 2, two, true), tg_sum(tg_mT(bt), 2, two, true), 0, 0, "sum of bools strided");
    /* long: two passes over bytes */
    int64_t n = 300000;
    tg_tensor *ones = tg_ones(TG_BOOL, 1, &n), *gones = gpu(ones);
    tg_tensor *zeros = tg_zeros(TG_BOOL, 1, &n), *gzeros = gpu(zeros);
    check_gpu(tg_all(gones, 0, NULL, false), tg_all(ones, 0, NULL, false), 0, 0, "long all");
    check_gpu(tg_any(gzeros, 0, NULL, false), tg_any(zeros, 0, NULL, false), 0, 0, "long any");
    check_gpu(tg_any(gones, 0, NULL, false), tg_any(ones, 0, NULL, false), 0, 0, "long any true");
    tg_tensor *ub = tg_gt_scalar(rand_cpu(TG_F64, 1, &n, 0, 1, 0), 0.3), *gub = gpu(ub);
    check_gpu(tg_sum(gub, 0, NULL, false), tg_sum(ub, 0, NULL, false), 0, 0, "long sum of bools (two passes)");
    int64_t s2[2] = {2, 300000};
    tg_tensor *ub2 = tg_reshape(tg_gt_scalar(rand_cpu(TG_F64, 2, s2, 0, 1, 0), 0.6), 2, s2), *gub2 = gpu(ub2);
    int a1 = 1;
    check_gpu(tg_sum(gub2, 1, &a1, false), tg_sum(ub2, 1, &a1, false), 0, 0, "long rows sum of bools");
    int64_t se[2] = {0, 3};
    tg_tensor *eb = tg_zeros(TG_BOOL, 2, se), *geb = gpu(eb);
    int a0 = 0;
    check_gpu(tg_sum(geb, 1, &a0, false), tg_sum(eb, 1, &a0, false), 0, 0, "sum of no bools");
    tg_scope_end();
}

/* ---- empty tensors ---------------------------------------------------------------------------- */
Test(gpu_reduce, empty_reductions) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        tg_scope_begin();
        int64_t s[2] = {0, 5};
        tg_tensor *x = tg_zeros(d, 2, s), *gx = gpu(x);
        int a0 = 0, a1 = 1;
        for (int op = 0; op < 2; op++) {
            check_gpu(REDS[op](gx, 1, &a0, false), REDS[op](x, 1, &a0, false), 0, 0, "identity over an empty axis");
            check_gpu(REDS[op](gx, 0, NULL, true), REDS[op](x, 0, NULL, true), 0, 0, "identity, all axes");
        }
        for (int op = 0; op < 4; op++)
            check_gpu(REDS[op](gx, 1, &a1, false), REDS[op](x, 1, &a1, false), 0, 0, "no outputs");
        check_gpu(tg_all(gx, 1, &a0, false), tg_all(x, 1, &a0, false), 0, 0, "all of nothing");
        check_gpu(tg_any(gx, 1, &a0, false), tg_any(x, 1, &a0, false), 0, 0, "any of nothing");
        check_gpu(tg_argmax(gx, 1, false), tg_argmax(x, 1, false), 0, 0, "argmax, no outputs");
        /* max/min/argmax over an empty axis: the CPU's error, no abort */
        tg_clear_error();
        check_error(tg_max(gx, 1, &a0, false), TG_ERR_SHAPE, "max over an empty axis");
        check_error(tg_min(gx, 0, NULL, false), TG_ERR_SHAPE, "min of an empty tensor");
        check_error(tg_argmax(gx, 0, false), TG_ERR_SHAPE, "argmax over an empty axis");
        tg_scope_end();
    }
}

/* ---- unsupported dtypes ------------------------------------------------------------------------- */
static void expect_unsupported(tg_tensor *r, const char *op) {
    cr_assert_null(r, "%s: expected an error", op);
    cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED, "%s: %s", op, tg_last_error());
    cr_assert(strstr(tg_last_error(), op) && strstr(tg_last_error(), "vulkan:0"), "%s: message %s", op,
              tg_last_error());
    tg_clear_error();
}

Test(gpu_reduce, unsupported_dtypes_are_errors) {
    need_gpu();
    tg_scope_begin();
    int64_t s[2] = {4, 3};
    tg_tensor *x = rand_cpu(TG_I32, 2, s, -50, 50, 0), *gx = gpu(x);
    tg_tensor *l = rand_cpu(TG_I64, 2, s, -50, 50, 0), *gl = gpu(l);
    int a = 0;
    tg_clear_error();
    expect_unsupported(tg_sum(gx, 0, NULL, false), "sum");
    expect_unsupported(tg_prod(gl, 1, &a, false), "prod");
    expect_unsupported(tg_max(gx, 1, &a, false), "max");
    expect_unsupported(tg_min(gl, 0, NULL, false), "min");
    expect_unsupported(tg_argmax(gx, 0, false), "argmax");
    expect_unsupported(tg_argmin(gl, 1, true), "argmin");
    expect_unsupported(tg_all(gx, 0, NULL, false), "all");
    expect_unsupported(tg_any(gl, 0, NULL, false), "any");
    /* the CPU's own dtype errors stay what they are */
    check_error(tg_nn_softmax(gx, 0), TG_ERR_DTYPE, "softmax of i32");
    tg_tensor *f = rand_cpu(TG_F32, 2, s, -1, 1, 0), *gf = gpu(f);
    tg_tensor *fl = rand_cpu(TG_F32, 1, s, 0, 3, 3), *gfl = gpu(fl);
    check_error(tg_nn_cross_entropy(gf, gfl, "mean"), TG_ERR_DTYPE, "cross-entropy with float labels");
    /* the inputs are untouched and usable */
    check_gpu(tg_sum(gf, 0, NULL, false), tg_sum(f, 0, NULL, false), 1e-5, 1e-6, "after the errors");
    tg_scope_end();
}

/* ---- softmax / log_softmax ------------------------------------------------------------------- */
Test(gpu_reduce, softmax_and_log_softmax) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        rtol *= 4;
        tg_scope_begin();
        int64_t s[3] = {3, 300, 17};
        tg_tensor *x = rand_cpu(d, 3, s, -8, 8, 0), *gx = gpu(x);
        for (int a = -3; a < 3; a++) {
            check_gpu(tg_nn_softmax(gx, a), tg_nn_softmax(x, a), rtol, atol, "softmax");
            check_gpu(tg_nn_log_softmax(gx, a), tg_nn_log_softmax(x, a), rtol, atol * 10, "log_softmax");
        }
        int perm[3] = {2, 0, 1};
        tg_tensor *xp = tg_slice(tg_permute(x, perm), 2, 1, TG_NONE, 3), *gxp = tg_slice(tg_permute(gx, perm), 2, 1, TG_NONE, 3);
        for (int a = 0; a < 3; a++) {
            check_gpu(tg_nn_softmax(gxp, a), tg_nn_softmax(xp, a), rtol, atol, "softmax strided");
            check_gpu(tg_nn_log_softmax(gxp, a), tg_nn_log_softmax(xp, a), rtol, atol * 10, "log_softmax strided");
        }
        /* a long row, a 0-d tensor, an empty one, a row with NaN and large values */
        int64_t n = 300000;
        tg_tensor *lr = rand_cpu(d, 1, &n, -20, 20, 0), *glr = gpu(lr);
        check_gpu(tg_nn_softmax(glr, 0), tg_nn_softmax(lr, 0), rtol * 10, atol, "softmax long row");
        check_gpu(tg_nn_log_softmax(glr, -1), tg_nn_log_softmax(lr, -1), rtol * 10, atol * 100, "log_softmax long row");
        tg_tensor *z = rand_cpu(d, 0, NULL, -1, 1, 0);
        check_gpu(tg_nn_softmax(gpu(z), 0), tg_nn_softmax(z, 0), 0, 0, "softmax 0-d");
        check_gpu(tg_nn_log_softmax(gpu(z), -1), tg_nn_log_softmax(z, -1), 0, 0, "log_softmax 0-d");
        int64_t se[2] = {0, 4};
        tg_tensor *e = tg_zeros(d, 2, se);
        check_gpu(tg_nn_softmax(gpu(e), 1), tg_nn_softmax(e, 1), 0, 0, "softmax empty");
        check_gpu(tg_nn_log_softmax(gpu(e), 0), tg_nn_log_softmax(e, 0), 0, 0, "log_softmax over an empty axis");
        double v[8] = {1, NAN, 3, 4, 1000, 999, -1000, 0};
        int64_t s2[2] = {2, 4};
        tg_tensor *xn = from_f64(d, 2, s2, v), *gxn = gpu(xn);
        check_gpu(tg_nn_softmax(gxn, 1), tg_nn_softmax(xn, 1), rtol, atol, "softmax NaN and large");
        check_gpu(tg_nn_log_softmax(gxn, 1), tg_nn_log_softmax(xn, 1), rtol, atol, "log_softmax NaN and large");
        check_error(tg_nn_softmax(gx, 3), TG_ERR_ARG, "softmax axis out of range");
        tg_scope_end();
    }
}

/* ---- cross-entropy ------------------------------------------------------------------------------ */
Test(gpu_reduce, cross_entropy_forward) {
    need_gpu();
    const char *reds[3] = {"mean", "sum", "none"};
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        rtol *= 10;
        atol *= 10;
        tg_scope_begin();
        int64_t s[2] = {37, 300}, sn[1] = {37}, st[2] = {300, 37};
        tg_tensor *x = rand_cpu(d, 2, s, -5, 5, 0), *gx = gpu(x);
        tg_tensor *xt = tg_mT(rand_cpu(d, 2, st, -5, 5, 0)), *gxt = tg_mT(gpu(tg_mT(xt)));  /* strided logits */
        for (int ld = 0; ld < 2; ld++) {
            tg_dtype ldt = ld ? TG_I64 : TG_I32;
            tg_tensor *lab = rand_cpu(ldt, 1, sn, 0, 300, 300), *glab = gpu(lab);
            tg_tensor *lab74 = rand_cpu(ldt, 1, (int64_t[]){74}, 0, 300, 300);       /* strided labels */
            tg_tensor *labs = tg_slice(lab74, 0, 0, TG_NONE, 2), *glabs = tg_slice(gpu(lab74), 0, 0, TG_NONE, 2);
            for (int r = 0; r < 3; r++) {
                char what[80];
                snprintf(what, sizeof what, "cross-entropy %s, %s labels", reds[r], tg_dtype_name(ldt));
                check_gpu(tg_nn_cross_entropy(gx, glab, reds[r]), tg_nn_cross_entropy(x, lab, reds[r]), rtol, atol, what);
                check_gpu(tg_nn_cross_entropy(gxt, glabs, reds[r]), tg_nn_cross_entropy(xt, labs, reds[r]), rtol, atol,
                          what);
            }
        }
        /* N = 0: mean is NaN, sum 0, none empty (as the CPU) */
        int64_t s0[2] = {0, 300}, n0 = 0;
        tg_tensor *x0 = tg_zeros(d, 2, s0), *l0 = tg_zeros(TG_I64, 1, &n0);
        for (int r = 0; r < 3; r++)
            check_gpu(tg_nn_cross_entropy(gpu(x0), gpu(l0), reds[r]), tg_nn_cross_entropy(x0, l0, reds[r]), 0, 0,
                      "cross-entropy of no rows");
        /* a bad label: TG_ERR_ARG as on the CPU */
        int64_t bad[37] = {0};
        bad[11] = 300;
        tg_tensor *lb = tg_from_data(TG_I64, 1, sn, bad);
        tg_clear_error();
        check_error(tg_nn_cross_entropy(gx, gpu(lb), "mean"), TG_ERR_ARG, "label out of range");
        bad[11] = -1;
        tg_tensor *lb2 = tg_from_data(TG_I64, 1, sn, bad);
        tg_clear_error();
        cr_assert_null(tg_nn_cross_entropy(gx, gpu(lb2), "none"));
        cr_assert(strstr(tg_last_error(), "index 11"), "%s", tg_last_error());
        tg_clear_error();
        tg_scope_end();
    }
}

/* ---- gradients on the GPU ----------------------------------------------------------------------- */
typedef tg_tensor *(*graph_fn)(tg_tensor *x, tg_tensor *w);
static tg_tensor *g_max(tg_tensor *x, tg_tensor *w) {
    int a = 1;
    return tg_sum(tg_mul(tg_max(x, 1, &a, true), w), 0, NULL, false);
}
static tg_tensor *g_min(tg_tensor *x, tg_tensor *w) {
    int a[2] = {0, 2};
    return tg_sum(tg_mul(tg_min(x, 2, a, true), w), 0, NULL, false);
}
static tg_tensor *g_log_softmax(tg_tensor *x, tg_tensor *w) {
    return tg_sum(tg_mul(tg_nn_log_softmax(x, 1), w), 0, NULL, false);
}
static tg_tensor *g_softmax(tg_tensor *x, tg_tensor *w) {
    return tg_sum(tg_mul(tg_nn_softmax(x, -1), w), 0, NULL, false);
}
static tg_tensor *g_logsumexp(tg_tensor *x, tg_tensor *w) {
    int a = 1;
    return tg_sum(tg_mul(tg_logsumexp(x, 1, &a, true), w), 0, NULL, false);
}
static tg_tensor *g_prod(tg_tensor *x, tg_tensor *w) {
    int a = 1;
    return tg_sum(tg_mul(tg_prod(x, 1, &a, true), w), 0, NULL, false);
}

/* missing_ok: the forward or the rule may need an op that has no Vulkan
 * kernel yet (another family): then the error must be a clean
 * TG_ERR_UNSUPPORTED naming vulkan:0 (said on stderr), else the results
 * must equal the CPU's. */
static void check_grad_opt(tg_dtype d, graph_fn f, int levels, const char *what, bool missing_ok) {
    double rtol, atol;
    tols(d, &rtol, &atol);
    int64_t s[3] = {4, 9, 5}, sw[3] = {4, 9, 5};
    tg_tensor *x = rand_cpu(d, 3, s, -2, 2, levels), *w = rand_cpu(d, 3, sw, -1, 1, 0);
    tg_tensor *gx = gpu(x), *gw = gpu(w);
    tg_set_requires_grad(x, true);
    tg_set_requires_grad(gx, true);
    tg_scope_begin();
    tg_tensor *y = f(x, w);
    cr_assert_eq(tg_backward(y, NULL), TG_OK, "%s (CPU): %s", what, tg_last_error());
    tg_clear_error();
    tg_tensor *gy = f(gx, gw);
    tg_status st = gy ? tg_backward(gy, NULL) : tg_last_error_code();
    if (st && missing_ok) {
        cr_assert_eq(st, TG_ERR_UNSUPPORTED, "%s: %s", what, tg_last_error());
        cr_assert(strstr(tg_last_error(), "vulkan:0"), "%s: %s", what, tg_last_error());
        fprintf(stderr, "test_gpu_reduce: %s: not on the GPU yet: %s\n", what, tg_last_error());
        tg_clear_error();
        tg_scope_end();
        tg_release(gx); tg_release(gw); tg_release(x); tg_release(w);
        return;
    }
    check_gpu(gy, y, rtol * 10, atol * 10, what);
    cr_assert_eq(st, TG_OK, "%s: %s", what, tg_last_error());
    tg_scope_end();
    cr_assert_not_null(tg_grad(gx), "%s: no gradient on the GPU", what);
    check_gpu(tg_grad(gx), tg_grad(x), rtol * 10, atol * 10, what);
    tg_release(gx); tg_release(gw); tg_release(x); tg_release(w);
}
static void check_grad(tg_dtype d, graph_fn f, int levels, const char *what) {
    check_grad_opt(d, f, levels, what, false);
}

Test(gpu_reduce, gradients_on_the_gpu) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        check_grad(d, g_max, 0, "max gradient");
        check_grad(d, g_max, 4, "max gradient with ties");
        check_grad(d, g_min, 4, "min gradient with ties");
        check_grad(d, g_log_softmax, 0, "log_softmax gradient");
        check_grad(d, g_softmax, 0, "softmax gradient");
    }
}

/* Ops whose forward or rule needs kernels of other families: logsumexp
 * (isfinite, where), prod's rule (eq on int64, where). */
Test(gpu_reduce, gradients_needing_other_kernels) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        check_grad_opt(DTYPES[k], g_logsumexp, 0, "logsumexp gradient", true);
        check_grad_opt(DTYPES[k], g_prod, 0, "prod gradient", true);
    }
}
