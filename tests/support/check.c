#define _GNU_SOURCE   /* open_memstream */
#include "support/check.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void tol_for(tg_dtype d, double *rtol, double *atol) {
    switch (d) {
    case TG_F32: case TG_C64: *rtol = 1e-5; *atol = 1e-6; break;
    case TG_F64: case TG_C128: *rtol = 1e-12; *atol = 1e-13; break;
    case TG_F16: case TG_BF16: *rtol = 1e-2; *atol = 1e-3; break;
    default: *rtol = 0; *atol = 0; break;
    }
}

/* Both tensors as c128 values (row-major). Caller frees. */
static double complex *values_c128(const tg_tensor *t, int64_t *n) {
    tg_tensor *c = tg_cast((tg_tensor *)t, TG_C128);
    cr_assert(c != NULL, "cast to c128 failed: %s", tg_last_error());
    *n = tg_numel(c);
    double complex *v = malloc((size_t)(*n ? *n : 1) * sizeof *v);
    cr_assert(tg_copy_to(c, v, (size_t)*n * sizeof *v) == TG_OK, "copy_to failed: %s", tg_last_error());
    if (tg_scope_depth() == 0) tg_release(c);
    return v;
}

static bool close1(double g, double w, double rtol, double atol) {
    if (isnan(w)) return isnan(g);
    if (isinf(w)) return g == w;
    return fabs(g - w) <= atol + rtol * fabs(w);
}

void check_close(const tg_tensor *got, const tg_tensor *want, double rtol, double atol, const char *what) {
    cr_assert(got != NULL, "%s: result is NULL (%s)", what, tg_last_error());
    cr_assert(want != NULL, "%s: expected tensor is NULL", what);
    cr_assert_eq(tg_dtype_of(got), tg_dtype_of(want), "%s: dtype %s, expected %s", what,
                 tg_dtype_name(tg_dtype_of(got)), tg_dtype_name(tg_dtype_of(want)));
    cr_assert_eq(tg_ndim(got), tg_ndim(want), "%s: rank %d, expected %d", what, tg_ndim(got), tg_ndim(want));
    for (int i = 0; i < tg_ndim(got); i++)
        cr_assert_eq(tg_shape(got)[i], tg_shape(want)[i], "%s: axis %d has size %lld, expected %lld", what, i,
                     (long long)tg_shape(got)[i], (long long)tg_shape(want)[i]);
    int64_t n, m;
    double complex *g = values_c128(got, &n), *w = values_c128(want, &m);
    int64_t worst = -1;
    double worst_err = 0;
    for (int64_t i = 0; i < n; i++) {
        bool ok = close1(creal(g[i]), creal(w[i]), rtol, atol) && close1(cimag(g[i]), cimag(w[i]), rtol, atol);
        if (!ok) {
            double e = cabs(g[i] - w[i]);
            if (worst < 0 || e > worst_err || isnan(e)) { worst = i; worst_err = e; }
        }
    }
    double complex gw = worst >= 0 ? g[worst] : 0, ww = worst >= 0 ? w[worst] : 0;
    free(g);
    free(w);
    cr_assert(worst < 0, "%s: element %lld is %.17g%+.17gi, expected %.17g%+.17gi (rtol %g, atol %g)", what,
              (long long)worst, creal(gw), cimag(gw), creal(ww), cimag(ww), rtol, atol);
}

void check_close_default(const tg_tensor *got, const tg_tensor *want, const char *what) {
    double rtol, atol;
    tol_for(tg_dtype_of(want), &rtol, &atol);
    check_close(got, want, rtol, atol, what);
}

void check_values_f64(const tg_tensor *got, int64_t n, const double *want, double tol, const char *what) {
    cr_assert(got != NULL, "%s: result is NULL (%s)", what, tg_last_error());
    cr_assert_eq(tg_numel(got), n, "%s: %lld elements, expected %lld", what, (long long)tg_numel(got), (long long)n);
    int64_t m;
    double complex *g = values_c128(got, &m);
    for (int64_t i = 0; i < n; i++) {
        bool ok = close1(creal(g[i]), want[i], tol, tol);
        double v = creal(g[i]);
        if (!ok) free(g);
        cr_assert(ok, "%s: element %lld is %.17g, expected %.17g", what, (long long)i, v, want[i]);
    }
    free(g);
}

void check_error(const void *result, tg_status want, const char *what) {
    cr_assert(result == NULL, "%s: expected NULL, got a result", what);
    check_status(tg_last_error_code(), want, what);
}

void check_status(tg_status got, tg_status want, const char *what) {
    tg_status code = tg_last_error_code();
    char msg[1100];
    snprintf(msg, sizeof msg, "%s", tg_last_error());
    tg_clear_error();
    cr_assert_eq(got, want, "%s: status %s, expected %s (error: %s)", what, tg_status_name(got),
                 tg_status_name(want), msg);
    if (want != TG_OK) {
        cr_assert_eq(code, want, "%s: recorded %s, expected %s", what, tg_status_name(code), tg_status_name(want));
        cr_assert(msg[0] != 0, "%s: no error message recorded", what);
    }
}

bool bitwise_equal(tg_tensor *a, tg_tensor *b) {
    if (!a || !b || tg_dtype_of(a) != tg_dtype_of(b) || tg_ndim(a) != tg_ndim(b)) return false;
    for (int i = 0; i < tg_ndim(a); i++)
        if (tg_dim(a, i) != tg_dim(b, i)) return false;
    size_t n = (size_t)tg_numel(a) * tg_dtype_size(tg_dtype_of(a));
    char *x = malloc(n ? n : 1), *y = malloc(n ? n : 1);
    bool same = x && y && tg_copy_to(a, x, n) == TG_OK && tg_copy_to(b, y, n) == TG_OK && memcmp(x, y, n) == 0;
    free(x);
    free(y);
    return same;
}

char *graph_text(const tg_graph *g, bool dot) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    cr_assert_eq(dot ? tg_graph_to_dot(g, f) : tg_graph_print(g, f), TG_OK);
    fclose(f);
    return buf;
}
