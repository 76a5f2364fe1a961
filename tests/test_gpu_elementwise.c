/* Elementwise Vulkan kernels against the CPU kernels (glibc libm), which
 * are the reference here: the trigonometric, hyperbolic and error
 * functions (gpu/shaders/elementwise_funcs.glsl has its own versions, GLSL
 * having none in f64 and only low-precision ones in f32), and the integer
 * ops (gpu/shaders/iunary.comp, ibinary.comp). Inputs cover each op's
 * domain with its edge values; floats agree within a stated tolerance,
 * integers and comparisons exactly. */
#define _DEFAULT_SOURCE   /* M_PI */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "gpu/gpu.h"
#include "support/gpu.h"

static uint64_t rng = 0x2545f4914f6cdd1du;

/* n values: the edge values first, then uniform ones in [lo, hi). */
static double *values(const double *edge, int n_edge, int n, double lo, double hi) {
    double *v = malloc((size_t)n * sizeof *v);
    cr_assert_not_null(v);
    for (int i = 0; i < n; i++) v[i] = i < n_edge ? edge[i] : lo + (hi - lo) * lcg_uniform(&rng);
    return v;
}

static tg_tensor *to_vk(tg_tensor *t) {
    tg_tensor *g = tg_to_device(t, VK0);
    cr_assert_not_null(g, "tg_to_device: %s", tg_last_error());
    return g;
}
static tg_tensor *to_cpu(tg_tensor *t) {
    tg_tensor *h = tg_to_device(t, CPU);
    cr_assert_not_null(h, "to the CPU: %s", tg_last_error());
    return h;
}
/* t's values as doubles, row-major. Caller frees. */
static double *read_f64(tg_tensor *t, int64_t n) {
    tg_tensor *c = tg_cast(t, TG_F64);
    cr_assert_not_null(c, "cast: %s", tg_last_error());
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    cr_assert_eq(tg_copy_to(c, v, (size_t)n * sizeof *v), TG_OK, "%s", tg_last_error());
    tg_release(c);
    return v;
}

/* got within atol + rtol |want|; NaN matches NaN, infinities and the sign
 * of a zero must match exactly. */
static void check_values(const char *what, const double *x, const double *got, const double *want, int64_t n,
                         double rtol, double atol) {
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        bool ok;
        if (isnan(w)) ok = isnan(g);
        else if (isinf(w) || w == 0) ok = g == w && signbit(g) == signbit(w);
        else ok = fabs(g - w) <= atol + rtol * fabs(w);
        if (!ok && w == 0 && fabs(g) <= atol && !isinf(g)) ok = true;   /* a tiny result may underflow either way */
        cr_assert(ok, "%s: x = %.17g: GPU %.17g, CPU %.17g (rtol %g, atol %g)", what, x[i], g, w, rtol, atol);
    }
}

typedef tg_tensor *(*unary_fn)(tg_tensor *);

/* op on the GPU against op on the CPU, over vals (as dtype d). */
static void cmp_unary(const char *name, unary_fn op, tg_dtype d, const double *vals, int64_t n, double rtol,
                      double atol) {
    tg_scope_begin();
    tg_tensor *x64 = tg_from_data(TG_F64, 1, &n, vals);
    tg_tensor *x = tg_cast(x64, d);
    cr_assert_not_null(x, "%s", tg_last_error());
    tg_tensor *want = op(x);
    cr_assert_not_null(want, "%s on the CPU: %s", name, tg_last_error());
    tg_tensor *got = op(to_vk(x));
    cr_assert_not_null(got, "%s %s on vulkan:0: %s", name, tg_dtype_name(d), tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN);
    cr_assert_eq(tg_dtype_of(got), tg_dtype_of(want));
    double *xs = read_f64(x, n), *g = read_f64(to_cpu(got), n), *w = read_f64(want, n);
    char what[64];
    snprintf(what, sizeof what, "%s %s", name, tg_dtype_name(d));
    check_values(what, xs, g, w, n, rtol, atol);
    free(xs); free(g); free(w);
    tg_scope_end();
}

/* One op over a few ranges, in f32 and (where the device has it) f64.
 * Tolerances: f64 1e-13 relative (the GPU versions are within a few ulps
 * of the exact values in these ranges), f32 2e-6 relative (a few ulps of
 * the exact values; glibc's f32 functions are within an ulp or two). */
typedef struct range { double lo, hi; } range;
#define N_VALS 2048
static void run_float_op(const char *name, unary_fn op, const double *edge, int n_edge, const range *r32,
                         const range *r64, int n_ranges, double atol32, double atol64) {
    need_gpu();
    bool f64 = gpu_has_f64();
    for (int k = 0; k < n_ranges; k++) {
        double *v = values(edge, n_edge, N_VALS, r32[k].lo, r32[k].hi);
        cmp_unary(name, op, TG_F32, v, N_VALS, 2e-6, atol32);
        free(v);
        if (!f64) continue;
        v = values(edge, n_edge, N_VALS, r64[k].lo, r64[k].hi);
        cmp_unary(name, op, TG_F64, v, N_VALS, 1e-13, atol64);
        free(v);
    }
}

#define EDGE_COMMON 0.0, -0.0, NAN, INFINITY, -INFINITY, 1e-30, -1e-30, 1e-300, 3e-8, -3e-8, 1.0, -1.0, 0.5, -0.5

Test(gpu_elementwise, sin_cos_tan) {
    const double edge[] = {EDGE_COMMON, M_PI, -M_PI, M_PI_2, -M_PI_2, M_PI_4, 3 * M_PI_4, 100, -100, 1e4, -1e4,
                           12345.678, 1.5707963267948966, 4.71238898038469, 0.7853981633974483};
    const int ne = (int)(sizeof edge / sizeof *edge);
    /* f32 keeps its accuracy for |x| < 1e5, f64 for |x| < 1.6e6 (the pi/2 split) */
    const range r32[] = {{-4, 4}, {-100, 100}, {-1e4, 1e4}}, r64[] = {{-4, 4}, {-100, 100}, {-1e5, 1e5}};
    /* absolute tolerance: near a zero of sin or cos the error of the
     * argument reduction (f32: x's own rounding is exact, the reduction
     * leaves ~2^-24 |k| ulp(pi/2)) is absolute */
    run_float_op("sin", tg_sin, edge, ne, r32, r64, 3, 2e-6, 1e-15);
    run_float_op("cos", tg_cos, edge, ne, r32, r64, 3, 2e-6, 1e-15);
    run_float_op("tan", tg_tan, edge, ne, r32, r64, 3, 2e-6, 1e-15);
}

Test(gpu_elementwise, asin_acos_atan) {
    const double edge[] = {EDGE_COMMON, 0.9999999, -0.9999999, 1.0000001, -1.5, 2.0, 1e300, -1e300, 0.41421356,
                           0.4142136, 0.75, -0.75};
    const int ne = (int)(sizeof edge / sizeof *edge);
    const range r[] = {{-1, 1}, {-1e-3, 1e-3}};
    run_float_op("asin", tg_asin, edge, ne, r, r, 2, 0, 0);
    run_float_op("acos", tg_acos, edge, ne, r, r, 2, 0, 0);
    const range ra[] = {{-3, 3}, {-1e6, 1e6}};
    run_float_op("atan", tg_atan, edge, ne, ra, ra, 2, 0, 0);
}

Test(gpu_elementwise, sinh_cosh) {
    const double edge[] = {EDGE_COMMON, 22, -22, 88, -88, 89, 90, 709, 710, -710, 711, -711, 1e300, 0.34, 0.35};
    const int ne = (int)(sizeof edge / sizeof *edge);
    const range r32[] = {{-2, 2}, {-88, 88}}, r64[] = {{-2, 2}, {-709, 709}};
    run_float_op("sinh", tg_sinh, edge, ne, r32, r64, 2, 0, 0);
    run_float_op("cosh", tg_cosh, edge, ne, r32, r64, 2, 0, 0);
}

Test(gpu_elementwise, asinh_acosh_atanh) {
    const double edge[] = {EDGE_COMMON, 2.0, -2.0, 1e10, -1e10, 3e8, 1e300, -1e300, 0.9999999, -0.9999999, 1.5,
                           -1.5, 1.0000001, 5000, 1e-5};
    const int ne = (int)(sizeof edge / sizeof *edge);
    const range r[] = {{-3, 3}, {-1e6, 1e6}};
    run_float_op("asinh", tg_asinh, edge, ne, r, r, 2, 0, 0);
    const range rc[] = {{1, 3}, {1, 1e6}};
    run_float_op("acosh", tg_acosh, edge, ne, rc, rc, 2, 0, 0);
    const range rt[] = {{-1, 1}, {-1e-3, 1e-3}};
    run_float_op("atanh", tg_atanh, edge, ne, rt, rt, 2, 0, 0);
}

Test(gpu_elementwise, erf_erfc_gelu) {
    const double edge[] = {EDGE_COMMON, 0.4999999, 0.5000001, -0.5000001, 2.5, -2.5, 6, -6, 9, 10, 10.05, 26,
                           26.5, 27.2, 28, 30, -30, 100, -100};
    const int ne = (int)(sizeof edge / sizeof *edge);
    const range r32[] = {{-1, 1}, {-6, 6}, {0, 9}}, r64[] = {{-1, 1}, {-6, 6}, {0, 26.5}};
    run_float_op("erf", tg_erf, edge, ne, r32, r64, 3, 0, 0);
    /* erfc keeps its relative accuracy down to the smallest normal number;
     * below that (f32 x > 9.2, f64 x > 26.55) the results are subnormal */
    run_float_op("erfc", tg_erfc, edge, ne, r32, r64, 3, 1.2e-38, 2.3e-308);
    /* the CPU's 1 + erf(x / sqrt 2) cancels for large negative x, where the
     * GPU's erfc form does not: absolute tolerance there */
    const range rg[] = {{-3, 3}, {-12, 12}, {-40, 5}};
    run_float_op("gelu", tg_gelu, edge, ne, rg, rg, 3, 1e-6, 1e-14);
}

/* ---- gradients through the new kernels, f64 on the GPU ------------------------------------ */
static tg_status trig_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_mul(tg_sin(in[0]), tg_atan(in[1])), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status erf_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_add(tg_erf(in[0]), tg_mul(tg_gelu(in[1]), tg_cosh(in[0]))), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

static void gradcheck_gpu(tg_trace_fn fn) {
    need_gpu();
    if (!gpu_has_f64()) cr_skip_test("the device has no shaderFloat64");
    int64_t s[2] = {3, 4};
    double a[12], b[12];
    for (int i = 0; i < 12; i++) { a[i] = 4 * lcg_uniform(&rng) - 2; b[i] = 4 * lcg_uniform(&rng) - 2; }
    tg_tensor *ha = tg_from_data(TG_F64, 2, s, a), *hb = tg_from_data(TG_F64, 2, s, b);
    tg_tensor *in[2] = {to_vk(ha), to_vk(hb)};
    /* gradcheck builds its perturbed inputs with tg_from_data: the thread's
     * default device puts them next to the originals */
    tg__set_default_device(VK0);
    tg_scope_begin();
    tg_status st = tg_gradcheck(fn, NULL, 2, in, 1, NULL);
    tg_scope_end();
    tg__set_default_device(CPU);
    cr_assert_eq(st, TG_OK, "%s", tg_last_error());
    tg_release(in[0]); tg_release(in[1]); tg_release(ha); tg_release(hb);
}

Test(gpu_elementwise, gradcheck_sin_atan_f64) { gradcheck_gpu(trig_fn); }
Test(gpu_elementwise, gradcheck_erf_gelu_cosh_f64) { gradcheck_gpu(erf_fn); }

/* ---- integers: exact agreement, wrap-around included ----------------------------------- */
static uint64_t rand_u64(void) {
    uint64_t hi = (uint64_t)(lcg_uniform(&rng) * 4294967296.0), lo = (uint64_t)(lcg_uniform(&rng) * 4294967296.0);
    return hi << 32 | lo;
}
/* n integers of dtype d: edge values first (as i64, truncated for i32),
 * then a mix of small, full-range and word-boundary values. */
#define N_INTS 600
static tg_tensor *int_tensor(tg_dtype d, int ndim, const int64_t *shape, int salt) {
    static const int64_t edge[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1, (int64_t)INT32_MIN - 1,
                                   INT64_MAX, INT64_MIN, 65536, -65536, 46341, -46341, 3037000500, -3037000500,
                                   (int64_t)0xffffffff, -(int64_t)0xffffffff, (int64_t)1 << 32, -((int64_t)1 << 32)};
    const int ne = (int)(sizeof edge / sizeof *edge);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    int64_t *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = rand_u64();
        int64_t k = (i + salt) % (3 * ne);
        v[i] = k < ne ? edge[k] : (r & 3) == 0 ? (int64_t)(r >> 2) % 100 - 50
             : (r & 3) == 1 ? (int64_t)((r >> 2) % 8) - 4 + (int64_t)((r >> 5) & 1 ? 1 : -1) * ((int64_t)1 << 32)
             : (int64_t)r;
    }
    tg_tensor *t64 = tg_from_data(TG_I64, ndim, shape, v);
    free(v);
    if (d == TG_I64) return t64;
    /* i64 to i32 casts keep the low word, so the edge values wrap as C's */
    tg_tensor *t = tg_cast(t64, d);
    tg_release(t64);
    return t;
}
/* got (GPU) equals want (CPU) element for element, same dtype. */
static void check_exact(const char *what, tg_tensor *got, tg_tensor *want) {
    cr_assert_not_null(got, "%s on vulkan:0: %s", what, tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN, "%s: not on the GPU", what);
    cr_assert_eq(tg_dtype_of(got), tg_dtype_of(want), "%s: dtype", what);
    int64_t n = tg_numel(want);
    cr_assert_eq(tg_numel(got), n);
    tg_tensor *g = tg_cast(to_cpu(got), TG_I64), *w = tg_cast(want, TG_I64);
    int64_t *gv = malloc((size_t)(n ? n : 1) * 8), *wv = malloc((size_t)(n ? n : 1) * 8);
    cr_assert_eq(tg_copy_to(g, gv, (size_t)n * 8), TG_OK);
    cr_assert_eq(tg_copy_to(w, wv, (size_t)n * 8), TG_OK);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(gv[i], wv[i], "%s: element %lld: GPU %lld, CPU %lld", what, (long long)i, (long long)gv[i],
                     (long long)wv[i]);
    free(gv); free(wv);
}

typedef tg_tensor *(*binary_fn)(tg_tensor *, tg_tensor *);
static const struct { const char *name; binary_fn fn; } INT_BINARY[] = {
    {"add", tg_add}, {"sub", tg_sub}, {"mul", tg_mul}, {"maximum", tg_maximum}, {"minimum", tg_minimum},
    {"eq", tg_eq}, {"ne", tg_ne}, {"lt", tg_lt}, {"le", tg_le}, {"gt", tg_gt}, {"ge", tg_ge},
};

Test(gpu_elementwise, int_binary_and_compare) {
    need_gpu();
    const tg_dtype ds[2] = {TG_I32, TG_I64};
    const int64_t s1[1] = {N_INTS}, sa[2] = {30, 1}, sb[2] = {1, 20}, sf[2] = {20, 30};
    for (int k = 0; k < 2; k++) {
        tg_scope_begin();
        /* same-shape operands, and a broadcast (outer product) whose pairs
         * include equal high words with different low words */
        tg_tensor *a = int_tensor(ds[k], 1, s1, 0), *b = int_tensor(ds[k], 1, s1, 7);
        tg_tensor *c = int_tensor(ds[k], 2, sa, 3), *e = int_tensor(ds[k], 2, sb, 11);
        tg_tensor *f = int_tensor(ds[k], 2, sf, 13);
        tg_tensor *ga = to_vk(a), *gb = to_vk(b), *gc = to_vk(c), *ge = to_vk(e), *gf = to_vk(f);
        for (size_t o = 0; o < sizeof INT_BINARY / sizeof *INT_BINARY; o++) {
            char what[64];
            snprintf(what, sizeof what, "%s %s", INT_BINARY[o].name, tg_dtype_name(ds[k]));
            check_exact(what, INT_BINARY[o].fn(ga, gb), INT_BINARY[o].fn(a, b));
            check_exact(what, INT_BINARY[o].fn(ga, ga), INT_BINARY[o].fn(a, a));
            check_exact(what, INT_BINARY[o].fn(gc, ge), INT_BINARY[o].fn(c, e));
            /* a transposed (strided) operand */
            check_exact(what, INT_BINARY[o].fn(tg_transpose(gf, 0, 1), gc), INT_BINARY[o].fn(tg_transpose(f, 0, 1), c));
        }
        tg_scope_end();
    }
    /* mixed: i32 with i64 promotes to i64 (the i32 operand cast on the GPU) */
    tg_scope_begin();
    tg_tensor *a = int_tensor(TG_I32, 1, s1, 1), *b = int_tensor(TG_I64, 1, s1, 5);
    check_exact("mul i32 i64", tg_mul(to_vk(a), to_vk(b)), tg_mul(a, b));
    check_exact("lt i32 i64", tg_lt(to_vk(a), to_vk(b)), tg_lt(a, b));
    tg_scope_end();
}

Test(gpu_elementwise, int_unary) {
    need_gpu();
    const tg_dtype ds[2] = {TG_I32, TG_I64};
    unary_fn fns[5] = {tg_neg, tg_abs, tg_sign, tg_square, tg_relu};
    const char *names[5] = {"neg", "abs", "sign", "square", "relu"};
    const int64_t s[2] = {20, 30};
    for (int k = 0; k < 2; k++) {
        tg_scope_begin();
        tg_tensor *x = int_tensor(ds[k], 2, s, 0), *gx = to_vk(x);
        for (int o = 0; o < 5; o++) {
            char what[64];
            snprintf(what, sizeof what, "%s %s", names[o], tg_dtype_name(ds[k]));
            check_exact(what, fns[o](gx), fns[o](x));
            check_exact(what, fns[o](tg_transpose(gx, 0, 1)), fns[o](tg_transpose(x, 0, 1)));
        }
        tg_scope_end();
    }
}

/* Float remainder (Python's %: fmod moved to the divisor's sign) is the
 * CPU's bit for bit: random operands, quotients up to 2^250 (f32) and
 * 2^1990 (f64), the signs of zero results, infinite and NaN operands, a
 * zero divisor; broadcast and transposed operands. (The integer one is
 * tests/test_gpu_complex_funcs.c's.) */
static void check_remainder(const char *what, tg_tensor *x, tg_tensor *y) {
    tg_tensor *got = tg_remainder(to_vk(x), to_vk(y)), *want = tg_remainder(x, y);
    cr_assert(got && want, "%s: %s", what, tg_last_error());
    int64_t n = tg_numel(want);
    cr_assert_eq(tg_numel(got), n);
    double *g = read_f64(to_cpu(got), n), *w = read_f64(want, n);
    double *xv = read_f64(tg_contiguous(tg_expand(x, tg_ndim(want), tg_shape(want))), n);
    for (int64_t i = 0; i < n; i++) {
        bool ok = isnan(w[i]) ? isnan(g[i]) : g[i] == w[i] && signbit(g[i]) == signbit(w[i]);
        cr_assert(ok, "%s: element %lld (x = %.17g): GPU %.17g, CPU %.17g", what, (long long)i, xv[i], g[i], w[i]);
    }
    free(g); free(w); free(xv);
}

Test(gpu_elementwise, float_remainder_matches_the_cpu) {
    need_gpu();
    for (int k = 0; k < gpu_n_dtypes(); k++) {
        tg_dtype d = k ? TG_F64 : TG_F32;
        tg_scope_begin();
        double big = k ? 1e300 : 1e37, small = k ? 1e-299 : 1e-36;
        const double xs[] = {5, INFINITY, 3, -3, -3, 3, NAN, 2, -0.0, 0.0, -4, 4, 1e30, -1e30, 1e-30, -1e-30, 7.5,
                             -7.5, big, -big, 1e-3, 123456.789, -0.0, 1};
        const double ys[] = {0, 3, INFINITY, INFINITY, -INFINITY, -INFINITY, 2, NAN, 3, -3, 2, -2, 3, 3, 3, 3, 2.5,
                             2.5, small, 7, -0.37, -0.1, -2, -0.0};
        int64_t ns = (int64_t)(sizeof xs / sizeof xs[0]);
        char what[64];
        snprintf(what, sizeof what, "remainder %s, special", tg_dtype_name(d));
        check_remainder(what, tg_cast(tg_from_data(TG_F64, 1, &ns, xs), d), tg_cast(tg_from_data(TG_F64, 1, &ns, ys), d));
        int64_t n = 2000, s2[2] = {40, 50};
        double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
        for (int64_t i = 0; i < n; i++) {
            a[i] = 100 * lcg_uniform(&rng) - 50;
            b[i] = (7 * lcg_uniform(&rng) - 3.5) * (i % 3 == 0 ? 1e-3 : 1);
            if (b[i] == 0) b[i] = 1;
        }
        tg_tensor *x = tg_cast(tg_from_data(TG_F64, 2, s2, a), d), *y = tg_cast(tg_from_data(TG_F64, 2, s2, b), d);
        snprintf(what, sizeof what, "remainder %s, random", tg_dtype_name(d));
        check_remainder(what, x, y);
        snprintf(what, sizeof what, "remainder %s, transposed", tg_dtype_name(d));
        check_remainder(what, tg_transpose(x, 0, 1), tg_transpose(y, 0, 1));
        int64_t sr[2] = {1, 50};
        tg_tensor *row = tg_cast(tg_from_data(TG_F64, 2, sr, b), d);
        snprintf(what, sizeof what, "remainder %s, broadcast", tg_dtype_name(d));
        check_remainder(what, x, row);
        free(a); free(b);
        tg_scope_end();
    }
}

/* ---- complex: float pairs ---------------------------------------------------------------- */
/* n complex values of dtype d: parts uniform in [-4, 4) with some zeros,
 * and parts of very different magnitudes (Smith's division). */
static tg_tensor *complex_tensor(tg_dtype d, int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc((size_t)n * 2 * sizeof *v);
    for (int64_t i = 0; i < 2 * n; i++) {
        double u = 8 * lcg_uniform(&rng) - 4;
        v[i] = i % 17 == 5 ? 0.0 : i % 13 == 3 ? u * 1e6 : i % 11 == 7 ? u * 1e-6 : u;
    }
    tg_tensor *t = tg_from_data(TG_C128, ndim, shape, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}
static void check_complex(const char *what, tg_tensor *got, tg_tensor *want, double rtol) {
    cr_assert_not_null(got, "%s on vulkan:0: %s", what, tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN);
    cr_assert_eq(tg_dtype_of(got), tg_dtype_of(want));
    int64_t n = tg_numel(want);
    tg_tensor *g = tg_cast(to_cpu(got), TG_C128), *w = tg_cast(want, TG_C128);
    double *gv = malloc((size_t)n * 16), *wv = malloc((size_t)n * 16);
    cr_assert_eq(tg_copy_to(g, gv, (size_t)n * 16), TG_OK);
    cr_assert_eq(tg_copy_to(w, wv, (size_t)n * 16), TG_OK);
    /* relative to the modulus: a part may cancel in mul and div */
    for (int64_t i = 0; i < n; i++) {
        double m = hypot(wv[2 * i], wv[2 * i + 1]);
        for (int k = 0; k < 2; k++)
            cr_assert(fabs(gv[2 * i + k] - wv[2 * i + k]) <= rtol * m, "%s: element %lld: GPU %.17g%+.17gi, CPU %.17g%+.17gi",
                      what, (long long)i, gv[2 * i], gv[2 * i + 1], wv[2 * i], wv[2 * i + 1]);
    }
    free(gv); free(wv);
}

Test(gpu_elementwise, complex_arith) {
    need_gpu();
    const tg_dtype ds[2] = {TG_C64, TG_C128};
    binary_fn fns[4] = {tg_add, tg_sub, tg_mul, tg_div};
    const char *names[4] = {"add", "sub", "mul", "div"};
    const int64_t s[2] = {25, 20}, sb[2] = {1, 20};
    for (int k = 0; k < (gpu_has_f64() ? 2 : 1); k++) {
        double rtol = ds[k] == TG_C64 ? 4e-7 : 1e-15;
        tg_scope_begin();
        tg_tensor *a = complex_tensor(ds[k], 2, s), *b = complex_tensor(ds[k], 2, s), *c = complex_tensor(ds[k], 2, sb);
        tg_tensor *ga = to_vk(a), *gb = to_vk(b), *gc = to_vk(c);
        for (int o = 0; o < 4; o++) {
            char what[64];
            snprintf(what, sizeof what, "%s %s", names[o], tg_dtype_name(ds[k]));
            check_complex(what, fns[o](ga, gb), fns[o](a, b), rtol);
            check_complex(what, fns[o](tg_transpose(ga, 0, 1), tg_transpose(gb, 0, 1)),
                          fns[o](tg_transpose(a, 0, 1), tg_transpose(b, 0, 1)), rtol);
            check_complex(what, fns[o](ga, gc), fns[o](a, c), rtol);   /* broadcast */
        }
        check_complex("neg", tg_neg(ga), tg_neg(a), 0);
        check_complex("conj", tg_conj(ga), tg_conj(a), 0);
        check_complex("conj transposed", tg_conj(tg_transpose(ga, 0, 1)), tg_conj(tg_transpose(a, 0, 1)), 0);
        tg_scope_end();
    }
}
