/* Vulkan indexing and shaping kernels (gpu/indexing.c, gpu/shaping.c)
 * against the CPU kernels: where, gather, index_select, one_hot,
 * scatter_add, concat, pad, tril/triu, their gradients on the device, and
 * the error paths (out-of-range indices, unsupported dtypes). Runs on
 * Mesa's lavapipe in CI; every test is skipped with a message when there
 * is no Vulkan device. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "support/gpu.h"

static const tg_dtype DTYPES[2] = {TG_F32, TG_F64};

static uint64_t rng = 0x243f6a8885a308d3u;
static double urand(void) { return lcg_uniform(&rng); }
/* A CPU tensor of uniform values in [lo, hi) (ints: truncated). */
static tg_tensor *rand_cpu(tg_dtype d, int ndim, const int64_t *shape, double lo, double hi) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * urand();
    if (d == TG_I32 || d == TG_I64)
        for (int64_t i = 0; i < n; i++) v[i] = floor(v[i]);
    tg_tensor *r = tg_cast(tg_from_data(TG_F64, ndim, shape, v), d);
    free(v);
    cr_assert_not_null(r, "%s", tg_last_error());
    return r;
}
/* Random indices in [lo, hi) as i32 or i64. */
static tg_tensor *rand_index(tg_dtype d, int ndim, const int64_t *shape, int64_t lo, int64_t hi) {
    return rand_cpu(d, ndim, shape, (double)lo, (double)hi);
}
/* got (a GPU result) equals want (the CPU's) within rtol/atol. */
static void check_gpu(tg_tensor *got, tg_tensor *want, double rtol, double atol, const char *what) {
    cr_assert_not_null(want, "%s (CPU): %s", what, tg_last_error());
    cr_assert_not_null(got, "%s: %s", what, tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN, "%s: result is not on the GPU", what);
    tg_tensor *h = tg_to_device(got, CPU);
    cr_assert_not_null(h, "%s: to CPU: %s", what, tg_last_error());
    check_close(h, want, rtol, atol, what);
}
/* Pure data movement: bitwise equal. */
static void check_exact(tg_tensor *got, tg_tensor *want, const char *what) { check_gpu(got, want, 0, 0, what); }
static void tols(tg_dtype d, double *rtol, double *atol) {
    if (d == TG_F32) { *rtol = 2e-5; *atol = 1e-6; }
    else { *rtol = 1e-12; *atol = 1e-13; }
}
/* The call failed with code, the message naming op; clears the error. */
static void check_fail(const void *r, tg_status code, const char *op, const char *what) {
    cr_assert_null(r, "%s: expected an error", what);
    cr_assert_eq(tg_last_error_code(), code, "%s: code %d, message %s", what, tg_last_error_code(), tg_last_error());
    cr_assert(strstr(tg_last_error(), op) != NULL, "%s: message does not name %s: %s", what, op, tg_last_error());
    tg_clear_error();
}

/* x (CPU) with element pos (row-major) set to v, in x's dtype. */
static tg_tensor *set_at(tg_tensor *x, int64_t pos, double v) {
    tg_tensor *f = tg_contiguous(tg_cast(x, TG_F64));
    int64_t n = 1;
    for (int i = 0; i < tg_ndim(x); i++) n *= tg_shape(x)[i];
    double *buf = malloc((size_t)n * sizeof *buf);
    cr_assert_eq(tg_copy_to(f, buf, (size_t)n * sizeof *buf), TG_OK);
    buf[pos] = v;
    tg_tensor *r = tg_cast(tg_from_data(TG_F64, tg_ndim(x), tg_shape(x), buf), tg_dtype_of(x));
    free(buf);
    return r;
}

/* ---- where --------------------------------------------------------------------------- */
Test(gpu_indexing, where_broadcast_strided_dtypes) {
    need_gpu();
    tg_dtype ds[] = {TG_F32, TG_F64, TG_I32, TG_BOOL, TG_I64, TG_C128};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        if ((ds[k] == TG_F64 || ds[k] == TG_C128) && gpu_n_dtypes() < 2) continue;
        tg_scope_begin();
        char what[96];
        int64_t s1[3] = {3, 7, 61}, s2[3] = {3, 1, 61}, s3[2] = {7, 1}, s4[2] = {61, 7};
        tg_tensor *a = rand_cpu(ds[k], 3, s1, -20, 20), *b = rand_cpu(ds[k], 2, s3, -20, 20);
        tg_tensor *c = tg_gt_scalar(rand_cpu(TG_F32, 3, s2, -1, 1), 0.0);
        snprintf(what, sizeof what, "where %s broadcast", tg_dtype_name(ds[k]));
        check_exact(tg_where(gpu(c), gpu(a), gpu(b)), tg_where(c, a, b), what);
        /* a transposed view (7, 61) and a reversed slice of the condition */
        tg_tensor *m = rand_cpu(ds[k], 2, s4, -20, 20);
        tg_tensor *cs = tg_slice(c, 2, TG_NONE, TG_NONE, -1);
        snprintf(what, sizeof what, "where %s strided", tg_dtype_name(ds[k]));
        check_exact(tg_where(tg_slice(gpu(c), 2, TG_NONE, TG_NONE, -1), tg_mT(gpu(m)), gpu(a)),
                    tg_where(cs, tg_mT(m), a), what);
        /* dense operands at offsets (a row of a larger tensor), each of a and
         * b dense or one broadcast element: the direct path */
        tg_tensor *cd = tg_gt_scalar(rand_cpu(TG_F32, 3, s1, -1, 1), 0.0);
        tg_tensor *big = rand_cpu(ds[k], 4, (int64_t[]){2, 3, 7, 61}, -20, 20), *ad = tg_select(big, 0, 1);
        tg_tensor *one_a = rand_cpu(ds[k], 0, NULL, -20, 20), *one_b = rand_cpu(ds[k], 0, NULL, -20, 20);
        for (int q = 0; q < 4; q++) {
            tg_tensor *x = q & 1 ? one_a : ad, *y = q & 2 ? one_b : a;
            snprintf(what, sizeof what, "where %s dense, scalar a %d, scalar b %d", tg_dtype_name(ds[k]), q & 1,
                     (q >> 1) & 1);
            check_exact(tg_where(gpu(cd), gpu(x), gpu(y)), tg_where(cd, x, y), what);
        }
        /* empty */
        int64_t s0[2] = {0, 5};
        tg_tensor *e = rand_cpu(ds[k], 2, s0, 0, 1), *ce = tg_gt_scalar(rand_cpu(TG_F32, 2, s0, -1, 1), 0.0);
        snprintf(what, sizeof what, "where %s empty", tg_dtype_name(ds[k]));
        check_exact(tg_where(gpu(ce), gpu(e), gpu(e)), tg_where(ce, e, e), what);
        tg_scope_end();
    }
    /* a float condition (cast to bool on the device) and mixed operand dtypes */
    if (gpu_n_dtypes() == 2) {
        tg_scope_begin();
        int64_t s[2] = {9, 33};
        tg_tensor *c = rand_cpu(TG_F32, 2, s, -1, 1), *a = rand_cpu(TG_F32, 2, s, -1, 1), *b = rand_cpu(TG_F64, 2, s, -1, 1);
        c = set_at(c, 0, 0.0);
        check_exact(tg_where(gpu(c), gpu(a), gpu(b)), tg_where(c, a, b), "where float cond, f32/f64 operands");
        tg_tensor *ic = rand_index(TG_I64, 2, s, -2, 2);
        check_exact(tg_where(gpu(ic), gpu(a), gpu(b)), tg_where(ic, a, b), "where i64 cond");
        tg_scope_end();
    }
}

/* ---- gather ---------------------------------------------------------------------------- */
Test(gpu_indexing, gather_axes_strides_index_dtypes) {
    need_gpu();
    tg_dtype ds[] = {TG_F32, TG_F64, TG_BOOL, TG_I64, TG_C128};
    tg_dtype ids[] = {TG_I32, TG_I64};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        if ((ds[k] == TG_F64 || ds[k] == TG_C128) && gpu_n_dtypes() < 2) continue;
        for (int q = 0; q < 2; q++) {
            tg_scope_begin();
            char what[96];
            int64_t sx[3] = {5, 7, 37};
            tg_tensor *x = rand_cpu(ds[k], 3, sx, -9, 9), *gx = gpu(x);
            for (int axis = -1; axis < 3; axis++) {
                int a = axis < 0 ? 2 : axis;
                int64_t si[3] = {4, 6, 37};
                si[a] = 11;
                tg_tensor *ix = rand_index(ids[q], 3, si, -sx[a], sx[a]);
                snprintf(what, sizeof what, "gather %s %s axis %d", tg_dtype_name(ds[k]), tg_dtype_name(ids[q]), axis);
                check_exact(tg_gather(gx, axis, gpu(ix)), tg_gather(x, axis, ix), what);
            }
            /* strided x (permuted) and a strided index (a reversed, stepped slice) */
            int perm[3] = {2, 0, 1};
            tg_tensor *xp = tg_permute(x, perm), *gxp = tg_permute(gx, perm);     /* (37, 5, 7) */
            int64_t si[3] = {9, 8, 7};
            tg_tensor *ix = rand_index(ids[q], 3, si, -5, 5);
            tg_tensor *ixs = tg_slice(ix, 1, TG_NONE, TG_NONE, -2);                /* (9, 4, 7) */
            snprintf(what, sizeof what, "gather %s %s strided", tg_dtype_name(ds[k]), tg_dtype_name(ids[q]));
            check_exact(tg_gather(gxp, 1, tg_slice(gpu(ix), 1, TG_NONE, TG_NONE, -2)), tg_gather(xp, 1, ixs), what);
            /* empty index, 0-d */
            int64_t s0[3] = {0, 7, 37};
            tg_tensor *e = rand_index(ids[q], 3, s0, 0, 1);
            check_exact(tg_gather(gx, 0, gpu(e)), tg_gather(x, 0, e), "gather empty index");
            double v = 4.5;
            int64_t zero = 0;
            tg_tensor *x0 = tg_cast(tg_from_data(TG_F64, 0, NULL, &v), ds[k]);
            tg_tensor *i0 = tg_cast(tg_from_data(TG_I64, 0, NULL, &zero), ids[q]);
            check_exact(tg_gather(gpu(x0), 0, gpu(i0)), tg_gather(x0, 0, i0), "gather 0-d");
            tg_scope_end();
        }
    }
}

/* ---- index_select ------------------------------------------------------------------------ */
Test(gpu_indexing, index_select_axes_strides) {
    need_gpu();
    tg_dtype ids[] = {TG_I32, TG_I64};
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        for (int q = 0; q < 2; q++) {
            tg_scope_begin();
            char what[96];
            int64_t sx[3] = {6, 5, 43};
            tg_tensor *x = rand_cpu(DTYPES[k], 3, sx, -1, 1), *gx = gpu(x);
            for (int axis = -3; axis < 3; axis++) {
                int a = axis < 0 ? axis + 3 : axis;
                int64_t m = 13;
                tg_tensor *ix = rand_index(ids[q], 1, &m, -sx[a], sx[a]);
                snprintf(what, sizeof what, "index_select %s %s axis %d", tg_dtype_name(DTYPES[k]), tg_dtype_name(ids[q]), axis);
                check_exact(tg_index_select(gx, axis, gpu(ix)), tg_index_select(x, axis, ix), what);
            }
            /* strided x and a stepped index */
            int64_t m = 20;
            tg_tensor *ix = rand_index(ids[q], 1, &m, -6, 6);
            tg_tensor *xt = tg_mT(x), *gxt = tg_mT(gx);                       /* (6, 43, 5) */
            snprintf(what, sizeof what, "index_select %s %s strided", tg_dtype_name(DTYPES[k]), tg_dtype_name(ids[q]));
            check_exact(tg_index_select(gxt, 0, tg_slice(gpu(ix), 0, 1, TG_NONE, 3)), tg_index_select(xt, 0, tg_slice(ix, 0, 1, TG_NONE, 3)),
                        what);
            int64_t z = 0;
            tg_tensor *e = rand_index(ids[q], 1, &z, 0, 1);
            check_exact(tg_index_select(gx, 2, gpu(e)), tg_index_select(x, 2, e), "index_select empty index");
            tg_scope_end();
        }
    }
}

/* ---- one_hot ------------------------------------------------------------------------------- */
Test(gpu_indexing, one_hot_i32_i64_strided) {
    need_gpu();
    tg_dtype ids[] = {TG_I32, TG_I64};
    for (int q = 0; q < 2; q++) {
        tg_scope_begin();
        int64_t s[2] = {17, 9};
        tg_tensor *ix = rand_index(ids[q], 2, s, 0, 7);
        tg_tensor *r = tg_one_hot(gpu(ix), 7);
        check_exact(r, tg_one_hot(ix, 7), "one_hot");
        cr_assert_eq(tg_dtype_of(r), TG_I64);
        check_exact(tg_one_hot(tg_mT(gpu(ix)), 7), tg_one_hot(tg_mT(ix), 7), "one_hot strided");
        int64_t z[2] = {0, 3};
        tg_tensor *e = rand_index(ids[q], 2, z, 0, 1);
        check_exact(tg_one_hot(gpu(e), 4), tg_one_hot(e, 4), "one_hot empty");
        check_exact(tg_one_hot(gpu(ix), 0 + 7), tg_one_hot(ix, 7), "one_hot again");
        tg_scope_end();
    }
}

/* ---- scatter_add ----------------------------------------------------------------------------- */
Test(gpu_indexing, scatter_add_duplicates_deterministic) {
    need_gpu();
    tg_dtype ds[] = {TG_F32, TG_F64, TG_I32};
    tg_dtype ids[] = {TG_I32, TG_I64};
    for (size_t k = 0; k < 3; k++) {
        if (ds[k] == TG_F64 && gpu_n_dtypes() < 2) continue;
        for (int q = 0; q < 2; q++) {
            tg_scope_begin();
            char what[96];
            /* many duplicates: 40 index rows over 5 output rows */
            int64_t sx[2] = {5, 67}, si[2] = {40, 60}, ss[2] = {41, 67};
            tg_tensor *x = rand_cpu(ds[k], 2, sx, -100, 100), *src = rand_cpu(ds[k], 2, ss, -100, 100);
            tg_tensor *ix = rand_index(ids[q], 2, si, -5, 5);
            tg_tensor *want = tg_scatter_add(x, 0, ix, src);
            tg_tensor *g1 = tg_scatter_add(gpu(x), 0, gpu(ix), gpu(src));
            snprintf(what, sizeof what, "scatter_add %s %s axis 0 (bitwise the CPU's)", tg_dtype_name(ds[k]), tg_dtype_name(ids[q]));
            check_exact(g1, want, what);
            check_exact(tg_scatter_add(gpu(x), 0, gpu(ix), gpu(src)), tg_to_device(g1, CPU), "scatter_add run to run");
            /* axis 1, strided src (transposed) and index */
            int64_t sx2[2] = {6, 9}, si2[2] = {6, 30}, ss2[2] = {31, 6};
            tg_tensor *x2 = rand_cpu(ds[k], 2, sx2, -100, 100), *s2 = rand_cpu(ds[k], 2, ss2, -100, 100);
            tg_tensor *i2 = rand_index(ids[q], 2, si2, -9, 9);
            snprintf(what, sizeof what, "scatter_add %s %s axis 1 strided", tg_dtype_name(ds[k]), tg_dtype_name(ids[q]));
            check_exact(tg_scatter_add(gpu(x2), -1, tg_slice(gpu(i2), 1, TG_NONE, TG_NONE, 2), tg_mT(gpu(s2))),
                        tg_scatter_add(x2, -1, tg_slice(i2, 1, TG_NONE, TG_NONE, 2), tg_mT(s2)), what);
            /* empty index: a copy of x */
            int64_t s0[2] = {0, 9};
            tg_tensor *e = rand_index(ids[q], 2, s0, 0, 1);
            check_exact(tg_scatter_add(gpu(x2), 0, gpu(e), gpu(x2)), tg_scatter_add(x2, 0, e, x2), "scatter_add empty index");
            tg_scope_end();
        }
    }
}

/* Past 2^24 (index elements x output size) f32 and i32 use atomics: f32 by
 * a compare-and-swap loop, so the order of the additions (and the last
 * bits) may differ from the CPU's; i32 and f64 stay exact. With
 * TANGENT_VK_DETERMINISTIC=1 f32 is bitwise the CPU's again. */
Test(gpu_indexing, scatter_add_large_atomic_path) {
    need_gpu();
    tg_dtype ds[] = {TG_F32, TG_I32, TG_F64};
    for (size_t k = 0; k < 3; k++) {
        if (ds[k] == TG_F64 && gpu_n_dtypes() < 2) continue;
        tg_scope_begin();
        char what[96];
        int64_t sx[2] = {64, 33}, si[2] = {8200, 33};
        tg_tensor *x = rand_cpu(ds[k], 2, sx, -100, 100), *src = rand_cpu(ds[k], 2, si, -100, 100);
        tg_tensor *ix = rand_index(TG_I64, 2, si, -64, 64);
        tg_tensor *want = tg_scatter_add(x, 0, ix, src);
        snprintf(what, sizeof what, "large scatter_add %s", tg_dtype_name(ds[k]));
        if (ds[k] == TG_F32) check_gpu(tg_scatter_add(gpu(x), 0, gpu(ix), gpu(src)), want, 1e-5, 1e-3, what);
        else check_exact(tg_scatter_add(gpu(x), 0, gpu(ix), gpu(src)), want, what);
        /* strided src along the atomic path */
        tg_tensor *st = tg_mT(rand_cpu(ds[k], 2, (int64_t[]){33, 8200}, -100, 100));
        snprintf(what, sizeof what, "large scatter_add %s strided src", tg_dtype_name(ds[k]));
        if (ds[k] == TG_F32) check_gpu(tg_scatter_add(gpu(x), 0, gpu(ix), tg_mT(gpu(tg_mT(st)))), tg_scatter_add(x, 0, ix, st), 1e-5, 1e-3, what);
        if (ds[k] == TG_F32) {
            setenv("TANGENT_VK_DETERMINISTIC", "1", 1);
            check_exact(tg_scatter_add(gpu(x), 0, gpu(ix), gpu(src)), want, "large scatter_add f32, TANGENT_VK_DETERMINISTIC=1");
            unsetenv("TANGENT_VK_DETERMINISTIC");
        }
        tg_scope_end();
    }
}

/* ---- concat, pad, tril/triu -------------------------------------------------------------------- */
Test(gpu_indexing, concat_strided_empty_promoted) {
    need_gpu();
    tg_dtype ds[] = {TG_F32, TG_F64, TG_BOOL, TG_I32, TG_C128};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        if ((ds[k] == TG_F64 || ds[k] == TG_C128) && gpu_n_dtypes() < 2) continue;
        tg_scope_begin();
        char what[96];
        int64_t s1[3] = {3, 4, 5}, s2[3] = {3, 5, 4}, s3[3] = {3, 0, 5}, s4[3] = {3, 11, 5};
        tg_tensor *a = rand_cpu(ds[k], 3, s1, -5, 5), *b = rand_cpu(ds[k], 3, s2, -5, 5);
        tg_tensor *e = rand_cpu(ds[k], 3, s3, -5, 5), *c = rand_cpu(ds[k], 3, s4, -5, 5);
        tg_tensor *cpu_in[4] = {a, tg_mT(b), e, c};
        tg_tensor *gpu_in[4] = {gpu(a), tg_mT(gpu(b)), gpu(e), gpu(c)};
        snprintf(what, sizeof what, "concat %s axis 1", tg_dtype_name(ds[k]));
        check_exact(tg_concat(4, gpu_in, 1), tg_concat(4, cpu_in, 1), what);
        tg_tensor *cpu_l[2] = {a, tg_slice(a, 2, TG_NONE, TG_NONE, -1)};
        tg_tensor *gpu_l[2] = {gpu(a), tg_slice(gpu(a), 2, TG_NONE, TG_NONE, -1)};
        snprintf(what, sizeof what, "concat %s last axis", tg_dtype_name(ds[k]));
        check_exact(tg_concat(2, gpu_l, -1), tg_concat(2, cpu_l, -1), what);
        tg_scope_end();
    }
    if (gpu_n_dtypes() == 2) {
        tg_scope_begin();
        int64_t s[2] = {4, 3};
        tg_tensor *a = rand_cpu(TG_F32, 2, s, -1, 1), *b = rand_cpu(TG_F64, 2, s, -1, 1);
        tg_tensor *ci[2] = {a, b}, *gi[2] = {gpu(a), gpu(b)};
        check_exact(tg_concat(2, gi, 0), tg_concat(2, ci, 0), "concat f32 + f64 -> f64");
        tg_scope_end();
    }
}

Test(gpu_indexing, pad_constant_strided_empty) {
    need_gpu();
    tg_dtype ds[] = {TG_F32, TG_F64, TG_BOOL, TG_I64, TG_C128};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        if ((ds[k] == TG_F64 || ds[k] == TG_C128) && gpu_n_dtypes() < 2) continue;
        tg_scope_begin();
        char what[96];
        int64_t s[3] = {2, 7, 19}, pads[6] = {1, 0, 2, 3, 0, 5}, none[6] = {0};
        tg_tensor *x = rand_cpu(ds[k], 3, s, -5, 5);
        snprintf(what, sizeof what, "pad %s", tg_dtype_name(ds[k]));
        check_exact(tg_pad(gpu(x), pads, 2.5), tg_pad(x, pads, 2.5), what);
        snprintf(what, sizeof what, "pad %s strided, negative value", tg_dtype_name(ds[k]));
        check_exact(tg_pad(tg_mT(gpu(x)), pads, -1.0), tg_pad(tg_mT(x), pads, -1.0), what);
        check_exact(tg_pad(gpu(x), none, 7.0), tg_pad(x, none, 7.0), "pad nothing");
        int64_t s0[3] = {2, 0, 3};
        tg_tensor *e = rand_cpu(ds[k], 3, s0, 0, 1);
        check_exact(tg_pad(gpu(e), pads, 3.0), tg_pad(e, pads, 3.0), "pad empty input");
        tg_scope_end();
    }
}

Test(gpu_indexing, tril_triu_batched_offsets) {
    need_gpu();
    tg_dtype ds[] = {TG_F32, TG_F64, TG_BOOL, TG_I32, TG_C128};
    int64_t ks[] = {0, -2, 3, 100, -100, 6, -5};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        if ((ds[k] == TG_F64 || ds[k] == TG_C128) && gpu_n_dtypes() < 2) continue;
        tg_scope_begin();
        char what[96];
        int64_t s[4] = {2, 3, 5, 7};
        tg_tensor *x = rand_cpu(ds[k], 4, s, -5, 5), *gx = gpu(x);
        for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
            snprintf(what, sizeof what, "tril %s k %lld", tg_dtype_name(ds[k]), (long long)ks[j]);
            check_exact(tg_tril(gx, ks[j]), tg_tril(x, ks[j]), what);
            snprintf(what, sizeof what, "triu %s k %lld", tg_dtype_name(ds[k]), (long long)ks[j]);
            check_exact(tg_triu(gx, ks[j]), tg_triu(x, ks[j]), what);
            snprintf(what, sizeof what, "triu %s strided k %lld", tg_dtype_name(ds[k]), (long long)ks[j]);
            check_exact(tg_triu(tg_mT(gx), ks[j]), tg_triu(tg_mT(x), ks[j]), what);
        }
        int64_t s0[3] = {4, 0, 3};
        tg_tensor *e = rand_cpu(ds[k], 3, s0, 0, 1);
        check_exact(tg_tril(gpu(e), 1), tg_tril(e, 1), "tril empty");
        tg_scope_end();
    }
}

/* ---- errors ---------------------------------------------------------------------------------- */
Test(gpu_indexing, out_of_range_indices_are_errors) {
    need_gpu();
    tg_dtype ids[] = {TG_I32, TG_I64};
    for (int q = 0; q < 2; q++) {
        tg_scope_begin();
        int64_t sx[2] = {4, 6};
        tg_tensor *x = rand_cpu(TG_F32, 2, sx, -1, 1), *gx = gpu(x);
        int64_t si[2] = {3, 6};
        tg_tensor *ix = rand_index(ids[q], 2, si, -4, 4);
        /* one bad value, late in the index: 4 (too big), -5 (too small), 2^40 (i64) */
        double bads[3] = {4, -5, 1099511627776.0};
        for (int b = 0; b < (ids[q] == TG_I64 ? 3 : 2); b++) {
            tg_tensor *bi = set_at(ix, 2 * 6 + 5, bads[b]), *gbi = gpu(bi);
            tg_clear_error();
            check_fail(tg_gather(x, 0, bi), TG_ERR_ARG, "gather", "gather CPU");
            check_fail(tg_gather(gx, 0, gbi), TG_ERR_ARG, "gather", "gather out of range");
            tg_tensor *src = rand_cpu(TG_F32, 2, si, -1, 1);
            check_fail(tg_scatter_add(gx, 0, gbi, gpu(src)), TG_ERR_ARG, "scatter_add", "scatter_add out of range");
            tg_tensor *row = tg_slice(bi, 0, 2, 3, 1);
            tg_tensor *flat = tg_reshape(row, 1, (int64_t[]){6});
            check_fail(tg_index_select(gx, 0, gpu(flat)), TG_ERR_ARG, "index_select", "index_select out of range");
        }
        /* the message names the bad value, as the CPU's does */
        tg_tensor *bi = set_at(ix, 7, 9);
        cr_assert_null(tg_gather(gx, 0, gpu(bi)));
        cr_assert(strstr(tg_last_error(), "index 9 is out of range for axis 0 of size 4"), "%s", tg_last_error());
        tg_clear_error();
        /* one_hot: negative values are out of range */
        tg_tensor *oh = tg_cast(tg_abs(tg_cast(ix, TG_F64)), ids[q]);
        tg_tensor *ohb = tg_cast(tg_neg(tg_cast(ix, TG_F64)), ids[q]);
        cr_assert_not_null(tg_one_hot(gpu(oh), 5), "%s", tg_last_error());
        check_fail(tg_one_hot(gpu(ohb), 5), TG_ERR_ARG, "one_hot", "one_hot negative");
        check_fail(tg_one_hot(gpu(oh), 2), TG_ERR_ARG, "one_hot", "one_hot too big");
        /* the device still works, and the valid index gives the CPU's result */
        check_exact(tg_gather(gx, 0, gpu(ix)), tg_gather(x, 0, ix), "gather after errors");
        tg_scope_end();
    }
}

Test(gpu_indexing, unsupported_dtypes_are_errors) {
    need_gpu();
    tg_scope_begin();
    int64_t s[2] = {3, 4};
    tg_tensor *xi = rand_cpu(TG_I64, 2, s, -5, 5), *ix = rand_index(TG_I64, 2, s, 0, 3);
    tg_clear_error();
    /* i64 scatter_add needs 64-bit integer adds: refused, never a crash */
    check_fail(tg_scatter_add(gpu(xi), 0, gpu(ix), gpu(xi)), TG_ERR_UNSUPPORTED, "scatter_add", "scatter_add i64");
    /* 2-byte elements (f16 storage) have no gather or tril kernel (copies,
     * casts and pad: tests/test_gpu_dense.c) */
    tg_tensor *h = tg_cast(rand_cpu(TG_F64, 2, s, -1, 1), TG_F16);
    cr_assert_not_null(h, "%s", tg_last_error());
    tg_tensor *gh = gpu(h);
    check_fail(tg_gather(gh, 0, gpu(ix)), TG_ERR_UNSUPPORTED, "gather", "gather f16");
    check_fail(tg_index_select(gh, 1, gpu(tg_reshape(ix, 1, (int64_t[]){12}))), TG_ERR_UNSUPPORTED, "index_select", "index_select f16");
    check_fail(tg_tril(gh, 0), TG_ERR_UNSUPPORTED, "tril", "tril f16");
    /* where on f16 is the CPU's dtype error (infer) on the GPU too */
    cr_assert_null(tg_where(tg_gt_scalar(gpu(rand_cpu(TG_F32, 2, s, -1, 1)), 0.0), gh, gh));
    cr_assert_eq(tg_last_error_code(), TG_ERR_DTYPE, "%s", tg_last_error());
    tg_clear_error();
    /* a float index is the CPU's dtype error (infer), on the GPU too */
    tg_tensor *fi = rand_cpu(TG_F32, 2, s, 0, 3);
    cr_assert_null(tg_gather(gpu(xi), 0, gpu(fi)));
    cr_assert_eq(tg_last_error_code(), TG_ERR_DTYPE, "%s", tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

/* ---- gradients on the device ------------------------------------------------------------------- */
/* sum(w * f(x)) on CPU and GPU: the gradients of x agree. */
Test(gpu_indexing, gradients_through_gpu_kernels) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = DTYPES[k];
        double rtol, atol;
        tols(d, &rtol, &atol);
        for (int op = 0; op < 7; op++) {
            static const char *names[] = {"gather", "index_select", "concat", "pad", "where", "triu", "scatter_add"};
            tg_scope_begin();
            int64_t sx[2] = {6, 9};
            tg_tensor *x = rand_cpu(d, 2, sx, -1, 1), *gx = gpu(x);
            tg_tensor *y2 = rand_cpu(d, 2, sx, -1, 1), *gy2 = gpu(y2);
            tg_set_requires_grad(x, true);
            tg_set_requires_grad(gx, true);
            tg_set_requires_grad(y2, true);
            tg_set_requires_grad(gy2, true);
            tg_tensor *r[2] = {NULL, NULL};
            for (int dev = 0; dev < 2; dev++) {
                tg_tensor *a = dev ? gx : x, *b = dev ? gy2 : y2;
                int64_t si[2] = {8, 9}, m = 11;
                rng = 12345;                  /* the same indices on both devices */
                tg_tensor *ix = rand_index(TG_I64, 2, si, -6, 6), *ix1 = rand_index(TG_I32, 1, &m, -9, 9);
                tg_tensor *src = rand_cpu(d, 2, si, -1, 1);
                if (dev) { ix = gpu(ix); ix1 = gpu(ix1); src = gpu(src); }
                tg_tensor *f = NULL;
                int64_t pads[4] = {2, 1, 0, 3};
                /* leaves used whole (gradients through slices: test_gpu.c backward_through_views) */
                tg_tensor *parts[3] = {a, b, tg_mul(a, b)};
                switch (op) {
                case 0: f = tg_gather(a, 0, ix); break;
                case 1: f = tg_index_select(a, 1, ix1); break;
                case 2: f = tg_concat(3, parts, 1); break;
                case 3: f = tg_pad(a, pads, 0.5); break;
                case 4: f = tg_where(tg_gt(a, b), tg_mul(a, a), b); break;
                case 5: f = tg_triu(a, 1); break;
                default: {
                    tg_tensor *s2 = tg_mul(src, tg_sum(b, 0, NULL, false));
                    f = tg_scatter_add(a, 0, ix, s2);
                    break;
                }
                }
                cr_assert_not_null(f, "%s on %s: %s", names[op], dev ? "GPU" : "CPU", tg_last_error());
                rng = 777;
                tg_tensor *w = rand_cpu(d, tg_ndim(f), tg_shape(f), -1, 1);
                if (dev) w = gpu(w);
                r[dev] = tg_sum(tg_mul(w, f), 0, NULL, false);
                cr_assert_not_null(r[dev], "%s", tg_last_error());
                cr_assert_eq(tg_backward(r[dev], NULL), TG_OK, "%s backward on %s: %s", names[op], dev ? "GPU" : "CPU",
                             tg_last_error());
            }
            char what[80];
            snprintf(what, sizeof what, "%s %s value", names[op], tg_dtype_name(d));
            check_gpu(r[1], r[0], rtol * 10, atol * 10, what);
            snprintf(what, sizeof what, "%s %s gradient", names[op], tg_dtype_name(d));
            cr_assert_not_null(tg_grad(gx), "%s: no gradient on the GPU", what);
            check_gpu(tg_grad(gx), tg_grad(x), rtol, atol, what);
            if (op == 4 || op == 6) {
                snprintf(what, sizeof what, "%s %s gradient of the second input", names[op], tg_dtype_name(d));
                check_gpu(tg_grad(gy2), tg_grad(y2), rtol, atol, what);
            }
            tg_scope_end();
        }
    }
}
