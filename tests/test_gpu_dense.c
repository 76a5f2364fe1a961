/* The Vulkan kernels' dense paths (gpu/shaders/common.glsl p[3],
 * reduce.comp p[48]): the same values laid out densely (aligned base, a
 * base of 1 element, a base of 4 elements) and strided (the general path)
 * give bit-identical results for unary, binary, compare, cast and copy,
 * at sizes that leave a tail after the groups of 4; the long reductions
 * agree with the CPU in f64 within a stated tolerance. Then f16/bf16 on
 * the GPU (gpu/shaders/half.comp): casts bit for bit against the CPU's
 * over every 16-bit pattern and many f32/f64 values (ties, subnormals,
 * inf, NaN), and writes into 16-bit views that share words with their
 * neighbours. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "support/gpu.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;

static const int64_t SIZES[] = {1, 3, 5, 1023, 100003};
#define N_SIZES ((int)(sizeof SIZES / sizeof *SIZES))

static tg_tensor *ok(tg_tensor *t, const char *what) {
    cr_assert_not_null(t, "%s: %s", what, tg_last_error());
    return t;
}

/* n values of dtype d (from doubles in [-2, 2), a few exact zeros and
 * repeats so comparisons see ties) on the GPU in layout `lay`: 0 fresh
 * (aligned), 1 a slice starting at element 1 (dense, unaligned), 2 at
 * element 4 (dense, aligned, nonzero base), 3 every other element of a
 * 2n buffer (strided: the general path). */
static tg_tensor *laid_out(tg_dtype d, int64_t n, const double *v, int lay) {
    int64_t pad = lay == 1 ? 1 : lay == 2 ? 4 : 0, m = lay == 3 ? 2 * n : n + pad;
    double *buf = calloc((size_t)m, sizeof *buf);
    for (int64_t i = 0; i < n; i++) buf[lay == 3 ? 2 * i : pad + i] = v[i];
    tg_scope_begin();
    tg_tensor *h = ok(tg_from_data(TG_F64, 1, &m, buf), "from_data");
    tg_tensor *g = ok(tg_to_device(ok(tg_cast(h, d), "cast"), VK0), "to_device");
    tg_tensor *r = lay == 0 ? g : ok(tg_slice(g, 0, pad, lay == 3 ? m : pad + n, lay == 3 ? 2 : 1), "slice");
    tg_keep(r);
    tg_scope_end();
    free(buf);
    return r;
}

static double *rand_values(int64_t n, int salt) {
    double *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        double u = lcg_uniform(&rng) * 4 - 2;
        v[i] = (i + salt) % 7 == 0 ? 0.0 : (i + salt) % 5 == 0 ? 0.5 : u;
    }
    return v;
}

/* t's bytes (row-major, on the CPU). Caller frees. */
static unsigned char *bytes_of(tg_tensor *t, size_t *nb) {
    tg_scope_begin();       /* owns the CPU copy, inside a caller's scope or not */
    tg_tensor *h = ok(tg_to_device(t, CPU), "to CPU");
    *nb = (size_t)tg_numel(h) * tg_dtype_size(tg_dtype_of(h));
    unsigned char *b = malloc(*nb ? *nb : 1);
    cr_assert_eq(tg_copy_to(h, b, *nb), TG_OK, "%s", tg_last_error());
    tg_scope_end();
    return b;
}

static void same_bytes(tg_tensor *got, tg_tensor *want, const char *what) {
    size_t ng, nw;
    unsigned char *g = bytes_of(got, &ng), *w = bytes_of(want, &nw);
    cr_assert_eq(ng, nw, "%s: sizes differ", what);
    size_t es = tg_dtype_size(tg_dtype_of(got));
    for (size_t i = 0; i < ng; i++)
        cr_assert_eq(g[i], w[i], "%s: element %zu differs", what, i / es);
    free(g);
    free(w);
}

typedef tg_tensor *(*un_fn)(tg_tensor *);
typedef tg_tensor *(*bin_fn)(tg_tensor *, tg_tensor *);

static tg_tensor *to_f64(tg_tensor *x) { return tg_cast(x, TG_F64); }
static tg_tensor *to_f32(tg_tensor *x) { return tg_cast(x, TG_F32); }
static tg_tensor *to_bool(tg_tensor *x) { return tg_cast(x, TG_BOOL); }
static tg_tensor *to_i32(tg_tensor *x) { return tg_cast(x, TG_I32); }
static tg_tensor *copy_of(tg_tensor *x) {
    /* a fresh dense output (filled, then written by copy_w<size>); the
     * open scope owns it */
    tg_tensor *y = tg_zeros_like(x);
    return y && tg_copy_(y, x) == TG_OK ? y : NULL;
}

/* f applied to the 4 layouts of the same values: identical bytes. */
static void check_unary(tg_dtype d, un_fn f, const char *name) {
    for (int s = 0; s < N_SIZES; s++) {
        int64_t n = SIZES[s];
        double *v = rand_values(n, s);
        tg_scope_begin();
        tg_tensor *ref = ok(f(laid_out(d, n, v, 3)), name);
        for (int lay = 0; lay < 3; lay++) {
            char what[96];
            snprintf(what, sizeof what, "%s %s n=%lld layout %d", name, tg_dtype_name(d), (long long)n, lay);
            same_bytes(ok(f(laid_out(d, n, v, lay)), what), ref, what);
        }
        tg_scope_end();
        free(v);
    }
}

static void check_binary(tg_dtype d, bin_fn f, const char *name) {
    for (int s = 0; s < N_SIZES; s++) {
        int64_t n = SIZES[s];
        double *v = rand_values(n, s), *w = rand_values(n, s + 3);
        tg_scope_begin();
        tg_tensor *ref = ok(f(laid_out(d, n, v, 3), laid_out(d, n, w, 3)), name);
        for (int la = 0; la < 4; la++)
            for (int lb = 0; lb < 4; lb++) {
                if (la == 3 && lb == 3) continue;
                char what[96];
                snprintf(what, sizeof what, "%s %s n=%lld layouts %d %d", name, tg_dtype_name(d), (long long)n, la, lb);
                same_bytes(ok(f(laid_out(d, n, v, la), laid_out(d, n, w, lb)), what), ref, what);
            }
        tg_scope_end();
        free(v);
        free(w);
    }
}

static const tg_dtype FLOATS[2] = {TG_F32, TG_F64};
static int n_floats(void) { return gpu_has_f64() ? 2 : 1; }

Test(gpu_dense, unary_bit_identical) {
    need_gpu();
    static const un_fn fs[] = {tg_neg, tg_exp, tg_sqrt, tg_tanh, tg_sigmoid, tg_floor};
    static const char *const names[] = {"neg", "exp", "sqrt", "tanh", "sigmoid", "floor"};
    for (int k = 0; k < n_floats(); k++)
        for (int i = 0; i < 6; i++) check_unary(FLOATS[k], fs[i], names[i]);
}

Test(gpu_dense, binary_bit_identical) {
    need_gpu();
    static const bin_fn fs[] = {tg_add, tg_mul, tg_div, tg_maximum, tg_lt};
    static const char *const names[] = {"add", "mul", "div", "maximum", "lt"};
    for (int k = 0; k < n_floats(); k++)
        for (int i = 0; i < 5; i++) check_binary(FLOATS[k], fs[i], names[i]);
}

Test(gpu_dense, integer_and_complex_bit_identical) {
    need_gpu();
    static const tg_dtype ds[] = {TG_I32, TG_I64, TG_C64};
    for (int k = 0; k < 3; k++) {
        check_binary(ds[k], tg_add, "add");
        check_binary(ds[k], tg_mul, "mul");
        check_unary(ds[k], tg_neg, "neg");
    }
    check_binary(TG_I32, tg_ge, "ge");
    check_unary(TG_I32, tg_abs, "abs");
}

Test(gpu_dense, cast_and_copy_bit_identical) {
    need_gpu();
    check_unary(TG_F32, to_bool, "f32 to bool");
    check_unary(TG_BOOL, to_f32, "bool to f32");
    check_unary(TG_F32, to_i32, "f32 to i32");
    check_unary(TG_F32, tg_isnan, "isnan");
    for (int k = 0; k < n_floats(); k++) check_unary(FLOATS[k], copy_of, "copy");
    check_unary(TG_BOOL, copy_of, "copy");
    check_unary(TG_I64, copy_of, "copy");
    check_unary(TG_C64, copy_of, "copy");
    if (gpu_has_f64()) {
        check_unary(TG_F32, to_f64, "f32 to f64");
        check_unary(TG_F64, to_f32, "f64 to f32");
        check_unary(TG_C128, copy_of, "copy");
    }
}

/* Results of the dense paths also equal the CPU's exactly where the op is
 * exactly rounded (add) or exact (casts, copies). */
Test(gpu_dense, exact_ops_match_cpu) {
    need_gpu();
    int64_t n = 100003;
    double *v = rand_values(n, 1), *w = rand_values(n, 2);
    for (int lay = 0; lay < 4; lay++) {
        tg_scope_begin();
        tg_tensor *a = laid_out(TG_F32, n, v, lay), *b = laid_out(TG_F32, n, w, (lay + 1) % 4);
        tg_tensor *ha = ok(tg_to_device(a, CPU), "a"), *hb = ok(tg_to_device(b, CPU), "b");
        char what[64];
        snprintf(what, sizeof what, "add, layout %d", lay);
        same_bytes(ok(tg_add(a, b), what), ok(tg_add(ha, hb), what), what);
        tg_scope_end();
    }
    free(v);
    free(w);
}

/* A long sum (two passes, 4-vector reads) against the CPU's sum in f64 of
 * the same values: f32 within rtol 1e-5 (a serial f32 sum of the ~4096
 * values each thread lane sees errs at most ~4096 * 2^-24 = 2.4e-4
 * relative, typically ~1e-6 for these positive values; the tree adds
 * log2 steps), f64 within 1e-12. max/min exactly. Layouts: aligned,
 * base 1 (dense one at a time), base 4, strided (general). */
static void check_long_reduction(tg_dtype d, int64_t n) {
    double *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = lcg_uniform(&rng);
    double rtol = d == TG_F32 ? 1e-5 : 1e-12;
    for (int lay = 0; lay < 4; lay++) {
        tg_scope_begin();
        tg_tensor *g = laid_out(d, n, v, lay);
        tg_tensor *h = ok(tg_cast(ok(tg_to_device(g, CPU), "to CPU"), TG_F64), "cast");
        double want = *(const double *)tg_data(ok(tg_sum(h, 0, NULL, false), "cpu sum"));
        double got = *(const double *)tg_data(
            ok(tg_cast(ok(tg_to_device(ok(tg_sum(g, 0, NULL, false), "sum"), CPU), "to CPU"), TG_F64), "cast"));
        cr_assert(fabs(got - want) <= rtol * fabs(want), "sum %s n=%lld layout %d: GPU %.17g, CPU f64 %.17g",
                  tg_dtype_name(d), (long long)n, lay, got, want);
        static tg_tensor *(*const mm[2])(tg_tensor *, int, const int *, bool) = {tg_max, tg_min};
        for (int k = 0; k < 2; k++) {
            double w = *(const double *)tg_data(ok(mm[k](h, 0, NULL, false), "cpu max/min"));
            double gm = *(const double *)tg_data(
                ok(tg_cast(ok(tg_to_device(ok(mm[k](g, 0, NULL, false), "max/min"), CPU), "to CPU"), TG_F64), "cast"));
            cr_assert_eq(gm, w, "%s %s n=%lld layout %d: GPU %.17g, CPU %.17g", k ? "min" : "max", tg_dtype_name(d),
                         (long long)n, lay, gm, w);
        }
        tg_scope_end();
    }
    free(v);
}

Test(gpu_dense, long_sum_against_cpu) {
    need_gpu();
    for (int k = 0; k < n_floats(); k++) {
        check_long_reduction(FLOATS[k], ((int64_t)1 << 22) + 3);
        check_long_reduction(FLOATS[k], 1023);
        check_long_reduction(FLOATS[k], 5);
    }
}

/* Sums over the last axis of a (rows, R) matrix: each row a contiguous
 * run; rows start aligned or not depending on R. */
Test(gpu_dense, row_sums_against_cpu) {
    need_gpu();
    static const int64_t shapes[][2] = {{3, 100003}, {5000, 7}, {6, 4096}, {4097, 12}};
    for (int k = 0; k < n_floats(); k++)
        for (int s = 0; s < 4; s++) {
            int64_t n = shapes[s][0] * shapes[s][1];
            double *v = malloc((size_t)n * sizeof *v);
            for (int64_t i = 0; i < n; i++) v[i] = lcg_uniform(&rng) - 0.25;
            tg_scope_begin();
            tg_tensor *h = ok(tg_from_data(TG_F64, 2, shapes[s], v), "from_data");
            tg_tensor *g = ok(tg_to_device(ok(tg_cast(h, FLOATS[k]), "cast"), VK0), "to_device");
            int ax = 1;
            tg_tensor *want = ok(tg_sum(h, 1, &ax, false), "cpu sum");
            tg_tensor *got = ok(tg_cast(ok(tg_to_device(ok(tg_sum(g, 1, &ax, false), "sum"), CPU), "to CPU"), TG_F64),
                                "cast");
            const double *gw = tg_data(want), *gg = tg_data(got);
            double rtol = FLOATS[k] == TG_F32 ? 1e-5 : 1e-12;
            for (int64_t r = 0; r < shapes[s][0]; r++)
                cr_assert(fabs(gg[r] - gw[r]) <= rtol * (1 + fabs(gw[r])),
                          "row sum %s (%lld, %lld) row %lld: %.17g vs %.17g", tg_dtype_name(FLOATS[k]),
                          (long long)shapes[s][0], (long long)shapes[s][1], (long long)r, gg[r], gw[r]);
            tg_scope_end();
            free(v);
        }
}

/* ---- f16 / bf16 storage (gpu/shaders/half.comp) ------------------------------ */
/* The GPU cast of CPU tensor h (uploaded) to d against the CPU's cast: the
 * same bytes. nan_any: a NaN result only has to be a NaN of d (f64
 * sources: the driver's f64 -> f32 step may not keep a NaN's sign). */
static bool is_nan_bits(tg_dtype d, const unsigned char *b) {
    uint64_t u = 0;
    memcpy(&u, b, tg_dtype_size(d));
    switch (d) {
    case TG_F16: return (u & 0x7c00) == 0x7c00 && (u & 0x3ff);
    case TG_BF16: return (u & 0x7f80) == 0x7f80 && (u & 0x7f);
    case TG_F32: return (u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu);
    default: return (u >> 52 & 0x7ff) == 0x7ff && (u & 0xfffffffffffffu);
    }
}

static void check_cast_exact(tg_tensor *h, tg_dtype d, bool nan_any, const char *what) {
    tg_scope_begin();
    tg_tensor *g = ok(tg_to_device(h, VK0), "to_device");
    tg_tensor *got = ok(tg_cast(g, d), what), *want = ok(tg_cast(h, d), what);
    size_t ng, nw, nx, es = tg_dtype_size(d), xs = tg_dtype_size(tg_dtype_of(h));
    unsigned char *bg = bytes_of(got, &ng), *bw = bytes_of(want, &nw), *bx = bytes_of(h, &nx);
    cr_assert_eq(ng, nw, "%s: sizes differ", what);
    for (size_t i = 0; i < ng / es; i++) {
        if (nan_any && is_nan_bits(d, bw + i * es) && is_nan_bits(d, bg + i * es)) continue;
        if (memcmp(bg + i * es, bw + i * es, es) != 0) {
            uint64_t x = 0, gv = 0, wv = 0;
            memcpy(&x, bx + i * xs, xs);
            memcpy(&gv, bg + i * es, es);
            memcpy(&wv, bw + i * es, es);
            cr_assert_fail("%s: element %zu (bits 0x%llx): GPU 0x%llx, CPU 0x%llx", what, i, (unsigned long long)x,
                           (unsigned long long)gv, (unsigned long long)wv);
        }
    }
    free(bg);
    free(bw);
    free(bx);
    tg_scope_end();
}

/* Every 16-bit pattern as f16 and as bf16, to f32 (and f64) and to the
 * other 16-bit dtype. */
Test(gpu_half, all_patterns_from_16_bit) {
    need_gpu();
    int64_t n = 65536;
    uint16_t *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = (uint16_t)i;
    static const tg_dtype src[2] = {TG_F16, TG_BF16};
    for (int k = 0; k < 2; k++) {
        tg_tensor *h = ok(tg_from_data(src[k], 1, &n, v), "from_data");
        char what[64];
        snprintf(what, sizeof what, "%s to f32", tg_dtype_name(src[k]));
        check_cast_exact(h, TG_F32, false, what);
        snprintf(what, sizeof what, "%s to %s", tg_dtype_name(src[k]), tg_dtype_name(src[1 - k]));
        check_cast_exact(h, src[1 - k], false, what);
        if (gpu_has_f64()) {
            snprintf(what, sizeof what, "%s to f64", tg_dtype_name(src[k]));
            check_cast_exact(h, TG_F64, false, what);
        }
        /* upload and download keep every pattern */
        tg_tensor *g = ok(tg_to_device(h, VK0), "to_device");
        size_t nb;
        unsigned char *b = bytes_of(g, &nb);
        cr_assert_eq(memcmp(b, v, nb), 0, "%s round trip through the GPU", tg_dtype_name(src[k]));
        free(b);
        tg_release(g);
        tg_release(h);
    }
    free(v);
}

/* f32 patterns: every top half with low halves at and around both
 * formats' rounding ties (f16 normals: bit 12; bf16: bit 15; both parities
 * of the kept bit), f16-subnormal ties at every shift, random patterns;
 * inf, NaN and subnormals are among them. */
static uint32_t *f32_patterns(int64_t *n) {
    static const uint16_t lows[] = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x2fff, 0x3000, 0x3001,
                                    0x7fff, 0x8000, 0x8001, 0xffff, 0x6000, 0xf000};
    int nl = (int)(sizeof lows / sizeof *lows), ns = 25 * 256, nr = 20000;
    *n = 65536 * nl + ns + nr;
    uint32_t *v = malloc((size_t)*n * sizeof *v), *q = v;
    for (uint32_t hi = 0; hi < 65536; hi++)
        for (int l = 0; l < nl; l++) *q++ = hi << 16 | lows[l];
    for (uint32_t e = 100; e < 125; e++)
        for (int k = 0; k < 256; k++) {
            uint32_t shift = e < 113 ? 126 - e : 13;         /* f16 subnormal ties, then normal ones */
            uint32_t m = ((uint32_t)(lcg_uniform(&rng) * 8388608.0) | 0x800000u) & ~((1u << shift) - 1u);
            m |= 1u << (shift - 1);
            if (k & 1) m += 1u << shift;                      /* the other parity */
            *q++ = (k & 2 ? 0x80000000u : 0) | e << 23 | (m & 0x7fffffu);
        }
    for (int k = 0; k < nr; k++) *q++ = (uint32_t)(lcg_uniform(&rng) * 4294967296.0);
    return v;
}

Test(gpu_half, f32_to_16_bit_exact) {
    need_gpu();
    int64_t n;
    uint32_t *v = f32_patterns(&n);
    tg_tensor *h = ok(tg_from_data(TG_F32, 1, &n, v), "from_data");
    check_cast_exact(h, TG_F16, false, "f32 to f16");
    check_cast_exact(h, TG_BF16, false, "f32 to bf16");
    tg_release(h);
    free(v);
}

Test(gpu_half, f64_to_16_bit_exact) {
    need_gpu();
    if (!gpu_has_f64()) cr_skip_test("no f64 on vulkan:0");
    int64_t n;
    uint32_t *v = f32_patterns(&n);
    double *w = malloc((size_t)n * sizeof *w);
    for (int64_t i = 0; i < n; i++) {
        float f;
        memcpy(&f, &v[i], 4);
        /* widened f32 values, and every third nudged so the f32 step rounds */
        w[i] = (double)f * (i % 3 == 0 ? 1.0 + 0x1p-30 : 1.0);
    }
    tg_tensor *h = ok(tg_from_data(TG_F64, 1, &n, w), "from_data");
    check_cast_exact(h, TG_F16, true, "f64 to f16");
    check_cast_exact(h, TG_BF16, true, "f64 to bf16");
    tg_release(h);
    free(v);
    free(w);
}

/* Layouts and sizes: casts from f16/bf16 views (aligned, base 1, base 4,
 * strided), writes into f16/bf16 views with odd bases and strides (the
 * neighbouring elements must keep their values), copies (contiguous() of
 * a strided view, tg_copy_ between 16-bit views) and pad's fill. */
static void check_half_layouts(tg_dtype hd) {
    for (int s = 0; s < N_SIZES; s++) {
        int64_t n = SIZES[s];
        double *v = rand_values(n, s);
        tg_scope_begin();
        /* the reference: the CPU's rounding of v to hd, and back */
        int64_t m = n;
        tg_tensor *hv = ok(tg_cast(ok(tg_from_data(TG_F64, 1, &m, v), "from_data"), hd), "cpu cast");
        tg_tensor *want32 = ok(tg_cast(hv, TG_F32), "cpu cast");
        for (int lay = 0; lay < 4; lay++) {
            char what[96];
            snprintf(what, sizeof what, "%s to f32, n=%lld layout %d", tg_dtype_name(hd), (long long)n, lay);
            tg_tensor *g = laid_out(hd, n, v, lay);
            same_bytes(ok(tg_cast(g, TG_F32), what), want32, what);
            snprintf(what, sizeof what, "contiguous %s, n=%lld layout %d", tg_dtype_name(hd), (long long)n, lay);
            same_bytes(ok(tg_contiguous(g), what), hv, what);
            same_bytes(ok(copy_of(g), what), hv, what);
            /* f32 -> hd from each layout */
            snprintf(what, sizeof what, "f32 to %s, n=%lld layout %d", tg_dtype_name(hd), (long long)n, lay);
            same_bytes(ok(tg_cast(laid_out(TG_F32, n, v, lay), hd), what), hv, what);
        }
        /* writes into views: dst of 2n + 5 elements holding a marker; the
         * window starts at 0, 1, 4 or takes every other element from 1 */
        for (int w = 0; w < 4; w++) {
            int64_t big = 2 * n + 5;
            tg_tensor *dst = ok(tg_to_device(ok(tg_full(hd, 1, &big, -3.0), "full"), VK0), "to_device");
            int64_t start = w == 0 ? 0 : w == 2 ? 4 : 1, step = w == 3 ? 2 : 1;
            tg_tensor *win = ok(tg_slice(dst, 0, start, start + step * n, step), "slice");
            char what[96];
            snprintf(what, sizeof what, "write f32 into %s window %d, n=%lld", tg_dtype_name(hd), w, (long long)n);
            cr_assert_eq(tg_copy_(win, laid_out(TG_F32, n, v, w)), TG_OK, "%s: %s", what, tg_last_error());
            same_bytes(ok(tg_contiguous(win), what), hv, what);
            /* everything outside the window is still the marker */
            tg_tensor *hd_all = ok(tg_cast(ok(tg_to_device(dst, CPU), "to CPU"), TG_F64), "cast");
            const double *all = tg_data(hd_all);
            for (int64_t i = 0; i < big; i++) {
                bool inside = i >= start && i < start + step * n && (i - start) % step == 0;
                if (!inside)
                    cr_assert_eq(all[i], -3.0, "%s: element %lld outside the window changed to %g", what,
                                 (long long)i, all[i]);
            }
            snprintf(what, sizeof what, "copy %s into %s window %d, n=%lld", tg_dtype_name(hd), tg_dtype_name(hd), w,
                     (long long)n);
            tg_tensor *src = laid_out(hd, n, v, (w + 1) % 4);
            cr_assert_eq(tg_copy_(win, src), TG_OK, "%s: %s", what, tg_last_error());
            same_bytes(ok(tg_contiguous(win), what), hv, what);
        }
        tg_scope_end();
        free(v);
    }
}

Test(gpu_half, layouts_f16) { need_gpu(); check_half_layouts(TG_F16); }
Test(gpu_half, layouts_bf16) { need_gpu(); check_half_layouts(TG_BF16); }

/* pad of a 2-byte tensor: the border is half.comp's fill */
Test(gpu_half, pad) {
    need_gpu();
    static const tg_dtype ds[2] = {TG_F16, TG_BF16};
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < N_SIZES; s++) {
            int64_t n = SIZES[s];
            double *v = rand_values(n, s);
            tg_scope_begin();
            int64_t pads[2] = {1 + s % 2, 2 + s};
            tg_tensor *h = ok(tg_cast(ok(tg_from_data(TG_F64, 1, &n, v), "from_data"), ds[k]), "cast");
            char what[64];
            snprintf(what, sizeof what, "pad %s n=%lld", tg_dtype_name(ds[k]), (long long)n);
            tg_tensor *g = ok(tg_to_device(h, VK0), "to_device");
            same_bytes(ok(tg_pad(g, pads, 1.5), what), ok(tg_pad(h, pads, 1.5), what), what);
            tg_scope_end();
            free(v);
        }
}
