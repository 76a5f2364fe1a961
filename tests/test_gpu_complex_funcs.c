/* Complex elementary functions, complex predicates and casts to bool,
 * complex products over axes and the integer remainder on a Vulkan device
 * against the CPU (tensor/ops/unary.c, cast.c, reduce.c, binary.c): sin cos
 * tan asin acos atan sinh cosh tanh asinh acosh atanh expm1 log1p sigmoid
 * sign of c64 and c128 at random points and special ones (signed zeros on
 * both sides of the branch cuts, parts that overflow, infinities, NaN).
 * c128 runs where the device has f64. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "support/gpu.h"

static uint64_t rng = 0x7c0ffee5u;

static int n_complex(void) { return gpu_has_f64() ? 2 : 1; }
static const tg_dtype CDT[2] = {TG_C64, TG_C128};

/* n complex values of dtype d from (re, im) pairs */
static tg_tensor *cvals(tg_dtype d, int64_t n, const double *v) {
    tg_tensor *t = tg_from_data(TG_C128, 1, &n, v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}

/* A CPU tensor (rows x cols) with parts uniform in [-s, s). */
static tg_tensor *crand(tg_dtype d, int64_t rows, int64_t cols, double s) {
    int64_t n = rows * cols;
    double *v = malloc((size_t)(2 * n) * sizeof *v);
    for (int64_t i = 0; i < 2 * n; i++) v[i] = s * (2 * lcg_uniform(&rng) - 1);
    tg_tensor *t = tg_from_data(TG_C128, 2, (int64_t[]){rows, cols}, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}

/* got (on the device) against want (CPU), element by element (in: the
 * inputs, for the messages; call within a scope): a NaN part
 * must be NaN, an infinite part the same infinity, the finite parts within
 * tol of want relative to |want| (its finite parts); with signs, an exact
 * zero part must have want's sign. Returns the number of mismatches. */
static int compare_c(tg_tensor *got, tg_tensor *want, tg_tensor *in, double tol, bool signs, const char *what) {
    cr_assert_not_null(got, "%s: %s", what, tg_last_error());
    cr_expect_eq(tg_device_of(got).kind, TG_VULKAN, "%s: the result left the device", what);
    tg_tensor *h = tg_to_device(got, CPU);
    tg_tensor *g = tg_cast(h, TG_C128), *w = tg_cast(want, TG_C128), *x = tg_contiguous(tg_cast(in, TG_C128));
    tg_tensor *wc = tg_contiguous(w), *gc = tg_contiguous(g);
    const double *gv = tg_data(gc), *wv = tg_data(wc), *xv = tg_data(x);
    int64_t n = tg_numel(wc);
    cr_assert_eq(tg_numel(gc), n, "%s: sizes", what);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double gp[2] = {gv[2 * i], gv[2 * i + 1]}, wp[2] = {wv[2 * i], wv[2 * i + 1]};
        bool ok = true;
        double scale = 0, err = 0;
        for (int k = 0; k < 2; k++) {
            if (isnan(wp[k])) { ok = ok && isnan(gp[k]); continue; }
            if (isinf(wp[k])) { ok = ok && gp[k] == wp[k]; continue; }
            if (!isfinite(gp[k])) { ok = false; continue; }
            scale = hypot(scale, wp[k]);
            err = hypot(err, gp[k] - wp[k]);
            if (signs && wp[k] == 0 && gp[k] == 0 && signbit(wp[k]) != signbit(gp[k])) ok = false;
        }
        if (err > tol * scale) ok = false;
        if (!ok && bad++ < 8)
            cr_log_error("%s: at (%.17g, %.17g) got (%.17g, %.17g), want (%.17g, %.17g)", what, xv[2 * i], xv[2 * i + 1],
                         gp[0], gp[1], wp[0], wp[1]);
    }
    cr_expect_eq(bad, 0, "%s: %d of %lld elements differ", what, bad, (long long)n);
    return bad;                         /* the callers' scopes own the tensors */
}

static double tol_of(tg_dtype d) { return d == TG_C64 ? 1e-5 : 1e-12; }

typedef tg_tensor *(*fn1)(tg_tensor *);
/* kind: 0 the real part reaches an exponential (sinh ...), 1 the
 * imaginary part does (sin ...), 2 inverse functions (any part). Large
 * parts go only where an exponential takes them: sin/cos of a part beyond
 * about 1e6 (f64) lose their accuracy on the device (docs/gpu.md). */
static const struct { fn1 f; const char *name; int kind; } FNS[] = {
    {tg_sin, "sin", 1},     {tg_cos, "cos", 1},     {tg_tan, "tan", 1},         {tg_asin, "asin", 2},
    {tg_acos, "acos", 2},   {tg_atan, "atan", 2},   {tg_sinh, "sinh", 0},       {tg_cosh, "cosh", 0},
    {tg_tanh, "tanh", 0},   {tg_asinh, "asinh", 2}, {tg_acosh, "acosh", 2},     {tg_atanh, "atanh", 2},
    {tg_expm1, "expm1", 0}, {tg_log1p, "log1p", 2}, {tg_sigmoid, "sigmoid", 0}, {tg_sign, "sign", 2},
};
enum { N_FNS = sizeof FNS / sizeof FNS[0] };

/* Special points shared by every function: zeros of each sign, both sides
 * of the cuts on the real axis (|x| > 1) and the imaginary axis (|y| > 1),
 * near the branch points, the unit circle, infinities and NaN. */
static int special_points(double *v) {
    double inf = INFINITY, nan = NAN;
    static const double zs[] = {0.0, -0.0};
    int n = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) { v[n++] = zs[a]; v[n++] = zs[b]; }
    static const double axis[] = {0.5, 1.0, 2.0, 5.0, -0.5, -1.0, -2.0, -5.0};
    for (int k = 0; k < 8; k++)
        for (int b = 0; b < 2; b++) {
            v[n++] = axis[k]; v[n++] = zs[b];        /* the real axis, imaginary +-0 */
            v[n++] = zs[b]; v[n++] = axis[k];        /* the imaginary axis, real +-0 */
        }
    const double more[] = {1, 1e-9, 1, -1e-9, -1, 1e-9, 1e-9, 1, -1e-9, -1, 0.6, 0.8, -0.6, 0.8, 0.8, -0.6,
                           0.9999, 0.0001, 1e-5, 1e-5, -1e-7, 3e-8, 1.5, 0.25, -3, 2,
                           inf, 0.0, -inf, 0.0, inf, 1, -inf, -1, inf, 2, -inf, -2, 0.0, inf, 0.0, -inf, 1, inf,
                           -1, -inf, inf, inf, -inf, inf, inf, -inf, -inf, -inf, nan, 0.0, nan, -0.0, nan, 1,
                           0.0, nan, -0.0, nan, 1, nan, inf, nan, -inf, nan, nan, inf, nan, -inf, nan, nan};
    memcpy(v + n, more, sizeof more);
    return n + (int)(sizeof more / sizeof more[0]);
}

/* Large parts for kind k: where an exponential overflows or cancels. */
static int big_points(double *v, int kind, tg_dtype d) {
    double b1 = d == TG_C64 ? 80 : 1e3, b2 = d == TG_C64 ? 100 : 1e300, b3 = d == TG_C64 ? 30 : 400;
    double big[] = {b1, 0.5, -b1, 0.5, b1, -2, -b1, 3, b2, 0.25, -b2, -1, b3, 1, -b3, -1, b1, 0.0, -b2, -0.0,
                    b1, 1.5707963267948966};
    int n = (int)(sizeof big / sizeof big[0]);
    if (kind == 1) {                      /* the same with the parts swapped */
        for (int i = 0; i < n; i += 2) { v[i] = big[i + 1]; v[i + 1] = big[i]; }
        return n;
    }
    memcpy(v, big, sizeof big);
    if (kind == 2) {                      /* inverse functions: large parts anywhere */
        double more[] = {b2, b2, -b2, b2, 0.5, b2, 0.5, -b2, b2, -0.0, 1e10, 1e-10, 1e-10, 1e10};
        memcpy(v + n, more, sizeof more);
        n += (int)(sizeof more / sizeof more[0]);
    }
    return n;
}

Test(gpu_complex_funcs, random_points_match_the_cpu) {
    need_gpu();
    for (int k = 0; k < n_complex(); k++) {
        tg_dtype d = CDT[k];
        for (int s = 0; s < 3; s++) {
            static const double scales[] = {0.01, 1.5, 8};
            tg_scope_begin();
            tg_tensor *x = crand(d, 23, 19, scales[s]), *xt = tg_mT(x), *gx = tg_mT(gpu(x));
            for (int f = 0; f < N_FNS; f++) {
                char what[96];
                snprintf(what, sizeof what, "%s %s, parts within %g (transposed view)", FNS[f].name, tg_dtype_name(d),
                         scales[s]);
                compare_c(FNS[f].f(gx), FNS[f].f(xt), xt, tol_of(d), false, what);
            }
            tg_scope_end();
        }
    }
}

Test(gpu_complex_funcs, special_points_match_the_cpu) {
    need_gpu();
    for (int k = 0; k < n_complex(); k++) {
        tg_dtype d = CDT[k];
        for (int f = 0; f < N_FNS; f++) {
            tg_scope_begin();
            double v[256];
            int n = special_points(v);
            n += big_points(v + n, FNS[f].kind, d);
            tg_tensor *x = cvals(d, n / 2, v);
            char what[96];
            snprintf(what, sizeof what, "%s %s, special points", FNS[f].name, tg_dtype_name(d));
            compare_c(FNS[f].f(gpu(x)), FNS[f].f(x), x, tol_of(d), true, what);
            tg_scope_end();
        }
    }
}

/* bool results against the CPU: the cast and the four predicates */
Test(gpu_complex_funcs, casts_to_bool_and_predicates_match_the_cpu) {
    need_gpu();
    double inf = INFINITY, nan = NAN;
    double v[] = {0.0, 0.0, -0.0, 0.0, 0.0, -0.0, -0.0, -0.0, nan, 0.0, 0.0, nan, -nan, -0.0, 1, 0.0, 0.0, -2,
                  1e-30, 0.0, inf, 0.0, 0.0, -inf, inf, nan, 3, 4};
    int64_t n = (int64_t)(sizeof v / sizeof v[0]) / 2;
    static const fn1 preds[] = {tg_isnan, tg_isinf, tg_isfinite, tg_logical_not};
    static const char *const names[] = {"isnan", "isinf", "isfinite", "logical_not"};
    for (int k = 0; k < n_complex(); k++) {
        tg_dtype d = CDT[k];
        tg_scope_begin();
        tg_tensor *x = cvals(d, n, v), *gx = gpu(x);
        tg_tensor *got = tg_cast(gx, TG_BOOL);
        cr_assert_not_null(got, "cast %s to bool: %s", tg_dtype_name(d), tg_last_error());
        cr_expect_eq(tg_device_of(got).kind, TG_VULKAN);
        check_close(tg_to_device(got, CPU), tg_cast(x, TG_BOOL), 0, 0, "complex to bool");
        /* a strided view: every other element, reversed order of rows */
        tg_tensor *x2 = tg_reshape(x, 2, (int64_t[]){2, n / 2}), *gx2 = tg_reshape(gx, 2, (int64_t[]){2, n / 2});
        check_close(tg_to_device(tg_cast(tg_mT(gx2), TG_BOOL), CPU), tg_cast(tg_mT(x2), TG_BOOL), 0, 0,
                    "complex to bool, transposed view");
        for (int p = 0; p < 4; p++) {
            tg_tensor *gp = preds[p](gx);
            cr_assert_not_null(gp, "%s %s: %s", names[p], tg_dtype_name(d), tg_last_error());
            cr_expect_eq(tg_device_of(gp).kind, TG_VULKAN);
            check_close(tg_to_device(gp, CPU), preds[p](x), 0, 0, names[p]);
        }
        tg_scope_end();
    }
}

/* Values near the unit circle, so that long products neither overflow nor vanish. */
static tg_tensor *cunit(tg_dtype d, int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc((size_t)(2 * n) * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        double t = 6.283185307179586 * lcg_uniform(&rng), r = 1 + 0.02 * (lcg_uniform(&rng) - 0.5);
        v[2 * i] = r * cos(t);
        v[2 * i + 1] = r * sin(t);
    }
    tg_tensor *t = tg_from_data(TG_C128, ndim, shape, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}

Test(gpu_complex_funcs, products_over_axes_match_the_cpu) {
    need_gpu();
    for (int k = 0; k < n_complex(); k++) {
        tg_dtype d = CDT[k];
        /* rounding grows with the number of factors (up to 10500 here) and
         * the device multiplies in another order */
        double tol = d == TG_C64 ? 2e-4 : 1e-12;
        tg_scope_begin();
        tg_tensor *x = cunit(d, 3, (int64_t[]){5, 300, 7}), *gx = gpu(x);
        compare_c(tg_prod(gx, 0, NULL, false), tg_prod(x, 0, NULL, false), tg_sum(x, 0, NULL, false), tol, false,
                  "prod of all (two passes)");
        for (int ax = 0; ax < 3; ax++) {
            char what[64];
            snprintf(what, sizeof what, "prod over axis %d, %s", ax, tg_dtype_name(d));
            compare_c(tg_prod(gx, 1, &ax, false), tg_prod(x, 1, &ax, false), tg_sum(x, 1, &ax, false), tol, false,
                      what);
        }
        compare_c(tg_prod(gx, 2, (int[]){0, 2}, true), tg_prod(x, 2, (int[]){0, 2}, true),
                  tg_sum(x, 2, (int[]){0, 2}, true), tol, false, "prod over 0, 2 (keepdim)");
        compare_c(tg_prod(tg_mT(gx), 1, (int[]){2}, false), tg_prod(tg_mT(x), 1, (int[]){2}, false),
                  tg_sum(tg_mT(x), 1, (int[]){2}, false), tol, false, "prod of a transposed view");
        /* many short products: a thread per output */
        tg_tensor *y = cunit(d, 2, (int64_t[]){5000, 3});
        compare_c(tg_prod(gpu(y), 1, (int[]){1}, false), tg_prod(y, 1, (int[]){1}, false),
                  tg_sum(y, 1, (int[]){1}, false), tol, false, "prod over rows of 3");
        /* an empty product is 1 */
        tg_tensor *e = cunit(d, 2, (int64_t[]){3, 0});
        compare_c(tg_prod(gpu(e), 1, (int[]){1}, false), tg_prod(e, 1, (int[]){1}, false),
                  tg_sum(e, 1, (int[]){1}, false), 0, true, "empty prod");
        tg_scope_end();
    }
}

/* Python's %: the divisor's sign, x % 0 = 0 and x % -1 = 0 (as the CPU). */
Test(gpu_complex_funcs, integer_remainder_matches_the_cpu) {
    need_gpu();
    static const int64_t a64[] = {7, -7, 7, -7, 0, 5, -5, 5, 6, -6, INT32_MIN, INT32_MAX, 123456789, -1,
                                  INT64_MIN, INT64_MAX, INT64_MIN, -9000000000000000001LL, 9000000000000000001LL,
                                  -77777777777LL, 1LL << 40, -(1LL << 40), 99, -99, 4294967296LL, -4294967297LL};
    static const int64_t b64[] = {3, 3, -3, -3, 5, 0, 0, -1, 3, -3, -1, INT32_MIN, 1000, 2, -1, INT64_MIN, 3,
                                  1000000007LL, -5000000000LL, 4294967296LL, -(1LL << 33) - 1, 10, INT64_MIN, 7,
                                  -3, 4294967295LL};
    int64_t n = (int64_t)(sizeof a64 / sizeof a64[0]);
    tg_scope_begin();
    tg_tensor *a = tg_from_data(TG_I64, 1, &n, a64), *b = tg_from_data(TG_I64, 1, &n, b64);
    for (int k = 0; k < 2; k++) {
        tg_dtype d = k ? TG_I64 : TG_I32;
        tg_tensor *x = tg_cast(a, d), *y = tg_cast(b, d);
        tg_tensor *got = tg_remainder(gpu(x), gpu(y));
        cr_assert_not_null(got, "remainder %s: %s", tg_dtype_name(d), tg_last_error());
        cr_expect_eq(tg_device_of(got).kind, TG_VULKAN);
        check_close(tg_to_device(got, CPU), tg_remainder(x, y), 0, 0, k ? "i64 remainder" : "i32 remainder");
        /* broadcast against a column of divisors, dense and strided */
        tg_tensor *col = tg_reshape(y, 2, (int64_t[]){n, 1}), *row = tg_reshape(x, 2, (int64_t[]){1, n});
        check_close(tg_to_device(tg_remainder(gpu(row), gpu(col)), CPU), tg_remainder(row, col), 0, 0,
                    "remainder broadcast");
        tg_tensor *m = tg_remainder(row, col), *gm = tg_remainder(gpu(row), gpu(col));
        check_close(tg_to_device(tg_remainder(tg_mT(gm), gpu(row)), CPU), tg_remainder(tg_mT(m), row), 0, 0,
                    "remainder of a transposed view");
        /* a long dense run (the i32 4-vector path) */
        tg_tensor *big = tg_cast(tg_sub_scalar(tg_mul_scalar(tg_arange(TG_F64, 0, 4099, 1), 37.0), 75000.0), d);
        tg_tensor *div = tg_cast(tg_sub_scalar(tg_remainder(tg_arange(TG_F64, 0, 4099, 1), tg_scalar(TG_F64, 23.0)), 11.0), d);
        check_close(tg_to_device(tg_remainder(gpu(big), gpu(div)), CPU), tg_remainder(big, div), 0, 0,
                    "remainder, dense");
    }
    tg_scope_end();
}
