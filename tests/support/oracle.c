/* Oracle harness (see oracle.h and oracles/README.md). Values are read out
 * of Tangent with tg_copy_to in the result's own dtype and converted here,
 * so a check does not depend on Tangent's casts. */
#include "support/oracle.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <cjson/cJSON.h>
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "gpu/gpu.h"        /* tg__default_device: the per-thread default the adapters create on */

#ifndef TG_ORACLE_DIR
#error "TG_ORACLE_DIR must be defined (tests/CMakeLists.txt)"
#endif

struct oracle_case {
    const cJSON *json;
    const cJSON *attrs;
    const char *name;
};

/* ---- attributes ----------------------------------------------------------- */

static const cJSON *attr(const oracle_case *c, const char *key) {
    if (!c || !c->attrs || !key) return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->attrs, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

const char *oracle_case_name(const oracle_case *c) { return c && c->name ? c->name : "?"; }

bool oracle_attr_has(const oracle_case *c, const char *key) { return attr(c, key) != NULL; }

/* A JSON number, a bool, or one of the strings "nan" "inf" "-inf". */
static bool json_f64(const cJSON *v, double *out) {
    if (cJSON_IsNumber(v)) { *out = v->valuedouble; return true; }
    if (cJSON_IsBool(v)) { *out = cJSON_IsTrue(v) ? 1 : 0; return true; }
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (!strcmp(s, "nan")) { *out = NAN; return true; }
        if (!strcmp(s, "inf") || !strcmp(s, "+inf")) { *out = INFINITY; return true; }
        if (!strcmp(s, "-inf")) { *out = -INFINITY; return true; }
    }
    return false;
}

/* An integer: a JSON number (exact below 2^53, as cJSON reads numbers as
 * doubles), a bool, or a decimal string (how generators write larger
 * integers). */
static bool json_i64(const cJSON *v, int64_t *out) {
    if (cJSON_IsBool(v)) { *out = cJSON_IsTrue(v); return true; }
    if (cJSON_IsString(v)) {
        errno = 0;
        char *end;
        long long r = strtoll(v->valuestring, &end, 10);
        if (errno || end == v->valuestring || *end) return false;
        *out = r;
        return true;
    }
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(fabs(d) <= 9007199254740992.0)) return false;
    *out = (int64_t)d;
    return true;
}

int64_t oracle_attr_int(const oracle_case *c, const char *key, int64_t dflt) {
    int64_t r;
    const cJSON *v = attr(c, key);
    return v && json_i64(v, &r) ? r : dflt;
}

double oracle_attr_f64(const oracle_case *c, const char *key, double dflt) {
    double r;
    const cJSON *v = attr(c, key);
    return v && json_f64(v, &r) ? r : dflt;
}

bool oracle_attr_bool(const oracle_case *c, const char *key, bool dflt) {
    const cJSON *v = attr(c, key);
    if (!v) return dflt;
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    if (cJSON_IsNumber(v)) return v->valuedouble != 0;
    return dflt;
}

int oracle_attr_ints(const oracle_case *c, const char *key, int64_t *out, int max) {
    const cJSON *v = attr(c, key);
    if (!v) return -1;
    if (cJSON_IsNumber(v)) {                 /* a lone integer counts as a list of one */
        if (max > 0) json_i64(v, &out[0]);
        return 1;
    }
    if (!cJSON_IsArray(v)) return -1;
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (n < max) {
            int64_t x = 0;
            if (!json_i64(e, &x) && cJSON_IsNull(e)) x = INT64_MIN;
            out[n] = x;
        }
        n++;
    }
    return n;
}

const char *oracle_attr_str(const oracle_case *c, const char *key, const char *dflt) {
    const cJSON *v = attr(c, key);
    return v && cJSON_IsString(v) ? v->valuestring : dflt;
}

int oracle_dtype_from_name(const char *name) {
    static const char *names[] = {"bool", "i32", "i64", "f32", "f64", "c64", "c128", "f16"};
    static const tg_dtype ds[] = {TG_BOOL, TG_I32, TG_I64, TG_F32, TG_F64, TG_C64, TG_C128, TG_F16};
    if (!name) return -1;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i])) return (int)ds[i];
    return -1;
}

tg_dtype oracle_attr_dtype(const oracle_case *c, const char *key, tg_dtype dflt) {
    int d = oracle_dtype_from_name(oracle_attr_str(c, key, NULL));
    return d < 0 ? dflt : (tg_dtype)d;
}

/* ---- failure messages -------------------------------------------------- */

typedef struct {
    char msg[1024];
    bool failed;
    bool no_kernel;         /* device pass: the op has no kernel there for this case */
} verdict;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void fail(verdict *v, const char *fmt, ...) {
    if (v->failed) return;              /* keep the first reason */
    v->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof v->msg, fmt, ap);
    va_end(ap);
}

/* ---- tensors from JSON -------------------------------------------------- */

/* A parsed tensor: values as doubles (re, im) and, for ints and bools, as
 * exact int64. */
typedef struct {
    tg_dtype dtype;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t n;
    double *re, *im;
    int64_t *iv;
} jtensor;

static void jtensor_free(jtensor *t) {
    free(t->re);
    free(t->im);
    free(t->iv);
    memset(t, 0, sizeof *t);
}

static bool is_int_like(tg_dtype d) { return d == TG_BOOL || d == TG_I32 || d == TG_I64; }

static bool parse_jtensor(const cJSON *j, jtensor *t, verdict *v, const char *what) {
    memset(t, 0, sizeof *t);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    int d = oracle_dtype_from_name(cJSON_IsString(dt) ? dt->valuestring : NULL);
    if (d < 0) return fail(v, "%s: missing or unknown dtype", what), false;
    t->dtype = (tg_dtype)d;
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
    if (!cJSON_IsArray(sh) || cJSON_GetArraySize(sh) > TG_MAX_DIMS) return fail(v, "%s: bad shape", what), false;
    t->n = 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, sh) {
        int64_t s;
        if (!json_i64(e, &s) || s < 0) return fail(v, "%s: bad shape entry", what), false;
        t->shape[t->ndim++] = s;
        t->n *= s;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    if (!cJSON_IsArray(data) || cJSON_GetArraySize(data) != t->n)
        return fail(v, "%s: data has %d elements, shape says %lld", what,
                    cJSON_IsArray(data) ? cJSON_GetArraySize(data) : -1, (long long)t->n), false;
    size_t cnt = (size_t)(t->n ? t->n : 1);
    t->re = calloc(cnt, sizeof *t->re);
    t->im = calloc(cnt, sizeof *t->im);
    t->iv = calloc(cnt, sizeof *t->iv);
    cr_assert(t->re && t->im && t->iv, "out of memory");
    int64_t i = 0;
    cJSON_ArrayForEach(e, data) {
        bool ok;
        if (tg_dtype_is_complex(t->dtype)) {
            ok = cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && json_f64(cJSON_GetArrayItem(e, 0), &t->re[i]) &&
                 json_f64(cJSON_GetArrayItem(e, 1), &t->im[i]);
        } else if (is_int_like(t->dtype)) {
            ok = json_i64(e, &t->iv[i]);
            t->re[i] = (double)t->iv[i];
            if (t->dtype == TG_BOOL) ok = ok && (t->iv[i] == 0 || t->iv[i] == 1);
        } else {
            ok = json_f64(e, &t->re[i]);
        }
        if (!ok) return fail(v, "%s: element %lld is malformed", what, (long long)i), false;
        i++;
    }
    return true;
}

static tg_tensor *jtensor_make(const jtensor *t) {
    size_t es = tg_dtype_size(t->dtype);
    void *buf = calloc((size_t)(t->n ? t->n : 1), es);
    cr_assert(buf, "out of memory");
    for (int64_t i = 0; i < t->n; i++) {
        switch (t->dtype) {
        case TG_BOOL: ((uint8_t *)buf)[i] = (uint8_t)(t->iv[i] != 0); break;
        case TG_I32: ((int32_t *)buf)[i] = (int32_t)t->iv[i]; break;
        case TG_I64: ((int64_t *)buf)[i] = t->iv[i]; break;
        case TG_F32: ((float *)buf)[i] = (float)t->re[i]; break;
        case TG_F64: ((double *)buf)[i] = t->re[i]; break;
        case TG_C64: ((float *)buf)[2 * i] = (float)t->re[i]; ((float *)buf)[2 * i + 1] = (float)t->im[i]; break;
        case TG_C128: ((double *)buf)[2 * i] = t->re[i]; ((double *)buf)[2 * i + 1] = t->im[i]; break;
        default: break;
        }
    }
    tg_tensor *r;
    if (t->dtype == TG_F16) {             /* the exact f16 values, through f64 */
        double *d = calloc((size_t)(t->n ? t->n : 1), sizeof *d);
        cr_assert(d, "out of memory");
        for (int64_t i = 0; i < t->n; i++) d[i] = t->re[i];
        tg_tensor *w = tg_from_data(TG_F64, t->ndim, t->shape, d);
        r = w ? tg_cast(w, TG_F16) : NULL;
        if (tg_scope_depth() == 0) tg_release(w);
        free(d);
    } else {
        r = tg_from_data(t->dtype, t->ndim, t->shape, buf);
    }
    free(buf);
    return r;
}

static int64_t step_int(const cJSON *step, int k, int64_t dflt) {
    const cJSON *e = cJSON_GetArrayItem(step, k);
    int64_t r;
    if (!e || cJSON_IsNull(e)) return dflt;
    return json_i64(e, &r) ? r : dflt;
}

/* Applies the "view" steps of an input. NULL + a failure on error. */
static tg_tensor *apply_views(tg_tensor *x, const cJSON *views, verdict *v, const char *what) {
    const cJSON *step;
    int k = 0;
    cJSON_ArrayForEach(step, views) {
        const cJSON *kind = cJSON_GetArrayItem(step, 0);
        const char *s = cJSON_IsString(kind) ? kind->valuestring : "";
        tg_tensor *y = NULL;
        if (!strcmp(s, "permute")) {
            int perm[TG_MAX_DIMS] = {0}, n = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetArrayItem(step, 1)) if (n < TG_MAX_DIMS) perm[n++] = (int)e->valuedouble;
            y = tg_permute(x, perm);
        } else if (!strcmp(s, "slice")) {
            y = tg_slice(x, (int)step_int(step, 1, 0), step_int(step, 2, TG_NONE), step_int(step, 3, TG_NONE),
                         step_int(step, 4, 1));
        } else if (!strcmp(s, "expand")) {
            int64_t shape[TG_MAX_DIMS] = {0};
            int n = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetArrayItem(step, 1)) if (n < TG_MAX_DIMS) json_i64(e, &shape[n++]);
            y = tg_expand(x, n, shape);
        } else if (!strcmp(s, "diagonal")) {
            y = tg_diagonal(x, step_int(step, 1, 0), (int)step_int(step, 2, 0), (int)step_int(step, 3, 1));
        } else if (!strcmp(s, "real")) {
            y = tg_real(x);
        } else if (!strcmp(s, "imag")) {
            y = tg_imag(x);
        } else {
            fail(v, "%s: unknown view step '%s'", what, s);
            return NULL;
        }
        if (!y) {
            fail(v, "%s: view step %d (%s) failed: %s", what, k, s, tg_last_error());
            return NULL;
        }
        x = y;
        k++;
    }
    return x;
}

/* ---- comparing --------------------------------------------------------- */

/* got's values converted from its own dtype, row-major. */
static void read_values(const tg_tensor *t, int64_t n, double *re, double *im, int64_t *iv) {
    tg_dtype d = tg_dtype_of(t);
    if (d == TG_F16) {                    /* exact in f64 */
        tg_tensor *w = tg_cast((tg_tensor *)t, TG_F64);
        cr_assert(w, "cast to f64 failed: %s", tg_last_error());
        read_values(w, n, re, im, iv);
        if (tg_scope_depth() == 0) tg_release(w);
        return;
    }
    size_t es = tg_dtype_size(d);
    char *buf = calloc((size_t)(n ? n : 1), es);
    cr_assert(buf, "out of memory");
    tg_status st = tg_copy_to(t, buf, (size_t)n * es);
    cr_assert(st == TG_OK, "tg_copy_to failed: %s", tg_last_error());
    for (int64_t i = 0; i < n; i++) {
        re[i] = im[i] = 0;
        iv[i] = 0;
        switch (d) {
        case TG_BOOL: iv[i] = ((uint8_t *)buf)[i]; break;
        case TG_I32: iv[i] = ((int32_t *)buf)[i]; break;
        case TG_I64: iv[i] = ((int64_t *)buf)[i]; break;
        case TG_F32: re[i] = ((float *)buf)[i]; break;
        case TG_F64: re[i] = ((double *)buf)[i]; break;
        case TG_C64: re[i] = ((float *)buf)[2 * i]; im[i] = ((float *)buf)[2 * i + 1]; break;
        case TG_C128: re[i] = ((double *)buf)[2 * i]; im[i] = ((double *)buf)[2 * i + 1]; break;
        default: break;
        }
        if (is_int_like(d)) re[i] = (double)iv[i];
    }
    free(buf);
}

static bool close1(double g, double w, double rtol, double atol) {
    if (isnan(w)) return isnan(g);
    if (isinf(w)) return g == w;
    return fabs(g - w) <= atol + rtol * fabs(w);
}

static void fmt_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

static void compare(const tg_tensor *got, const jtensor *want, double rtol, double atol, int idx, verdict *v) {
    tg_dtype gd = tg_dtype_of(got);
    if (gd != want->dtype) {
        fail(v, "output %d: dtype %s, expected %s", idx, tg_dtype_name(gd), tg_dtype_name(want->dtype));
        return;
    }
    bool same = tg_ndim(got) == want->ndim;
    for (int i = 0; same && i < want->ndim; i++) same = tg_shape(got)[i] == want->shape[i];
    if (!same) {
        char a[128], b[128];
        fmt_shape(a, sizeof a, tg_ndim(got), tg_shape(got));
        fmt_shape(b, sizeof b, want->ndim, want->shape);
        fail(v, "output %d: shape %s, expected %s", idx, a, b);
        return;
    }
    int64_t n = want->n;
    size_t cnt = (size_t)(n ? n : 1);
    double *re = malloc(cnt * sizeof *re), *im = malloc(cnt * sizeof *im);
    int64_t *iv = malloc(cnt * sizeof *iv);
    cr_assert(re && im && iv, "out of memory");
    read_values(got, n, re, im, iv);
    int64_t worst = -1, bad = 0;
    double worst_err = -1;
    for (int64_t i = 0; i < n; i++) {
        bool ok;
        double err;
        if (is_int_like(gd)) {
            ok = iv[i] == want->iv[i];
            err = fabs((double)iv[i] - (double)want->iv[i]);
        } else {
            ok = close1(re[i], want->re[i], rtol, atol) && close1(im[i], want->im[i], rtol, atol);
            err = cabs((re[i] + I * im[i]) - (want->re[i] + I * want->im[i]));
            if (isnan(err)) err = INFINITY;
        }
        if (!ok) {
            bad++;
            if (err > worst_err) { worst_err = err; worst = i; }
        }
    }
    if (worst >= 0) {
        if (is_int_like(gd))
            fail(v, "output %d: %lld of %lld elements differ; worst element %lld is %lld, expected %lld", idx,
                 (long long)bad, (long long)n, (long long)worst, (long long)iv[worst], (long long)want->iv[worst]);
        else if (tg_dtype_is_complex(gd))
            fail(v, "output %d: %lld of %lld elements differ; worst element %lld is %.17g%+.17gi, expected "
                 "%.17g%+.17gi (rtol %g, atol %g)", idx, (long long)bad, (long long)n, (long long)worst,
                 re[worst], im[worst], want->re[worst], want->im[worst], rtol, atol);
        else
            fail(v, "output %d: %lld of %lld elements differ; worst element %lld is %.17g, expected %.17g "
                 "(rtol %g, atol %g)", idx, (long long)bad, (long long)n, (long long)worst, re[worst],
                 want->re[worst], rtol, atol);
    }
    free(re);
    free(im);
    free(iv);
}

/* ---- running ------------------------------------------------------------ */

static int status_from_name(const char *name) {
    for (int s = TG_OK; s <= TG_ERR_UNSUPPORTED; s++)
        if (!strcmp(tg_status_name((tg_status)s), name)) return s;
    return -1;
}

/* Runs one case on dev: inputs are made on the CPU and moved to dev before
 * the case's views are applied (so device views are exercised too); with a
 * Vulkan dev the thread's default device is dev while the adapter runs, as
 * with TANGENT_DEVICE, so tensors the adapter creates join the case there.
 * On a device, TG_ERR_UNSUPPORTED (no kernel for this op or dtype) sets
 * v->no_kernel instead of failing. */
static void run_case(const oracle_case *c, oracle_fn fn, tg_device dev, verdict *v) {
    bool on_gpu = dev.kind != TG_CPU;
    const cJSON *j = c->json;
    const cJSON *jin = cJSON_GetObjectItemCaseSensitive(j, "inputs");
    const cJSON *jout = cJSON_GetObjectItemCaseSensitive(j, "outputs");
    const cJSON *jerr = cJSON_GetObjectItemCaseSensitive(j, "error");
    int n_in = cJSON_IsArray(jin) ? cJSON_GetArraySize(jin) : 0;
    int n_out = cJSON_IsArray(jout) ? cJSON_GetArraySize(jout) : 0;
    int want_err = -1;
    if (jerr && !cJSON_IsNull(jerr)) {
        want_err = cJSON_IsString(jerr) ? status_from_name(jerr->valuestring) : -1;
        if (want_err <= 0) { fail(v, "malformed \"error\""); return; }
        if (n_out == 0) n_out = 1;          /* adapters may still write out[0] */
    } else if (n_out == 0) {
        { fail(v, "case has neither outputs nor error"); return; }
    }
    if (n_in > ORACLE_MAX_IO || n_out > ORACLE_MAX_IO) { fail(v, "too many inputs or outputs"); return; }

    double rtol_o = NAN, atol_o = NAN;
    const cJSON *jr = cJSON_GetObjectItemCaseSensitive(j, "rtol"), *ja = cJSON_GetObjectItemCaseSensitive(j, "atol");
    if (jr) json_f64(jr, &rtol_o);
    if (ja) json_f64(ja, &atol_o);

    tg_clear_error();
    tg_scope_begin();
    tg_tensor *in[ORACLE_MAX_IO] = {0}, *out[ORACLE_MAX_IO] = {0};
    jtensor want[ORACLE_MAX_IO];
    memset(want, 0, sizeof want);
    for (int i = 0; i < n_in && !v->failed; i++) {
        const cJSON *ji = cJSON_GetArrayItem(jin, i);
        char what[32];
        snprintf(what, sizeof what, "input %d", i);
        jtensor t;
        if (!parse_jtensor(ji, &t, v, what)) { jtensor_free(&t); break; }
        in[i] = jtensor_make(&t);
        jtensor_free(&t);
        if (!in[i]) { fail(v, "%s: tg_from_data failed: %s", what, tg_last_error()); break; }
        if (on_gpu && !(in[i] = tg_to_device(in[i], dev))) {
            /* more axes than the device's kernels take: counted as no kernel */
            if (tg_last_error_code() == TG_ERR_UNSUPPORTED) v->no_kernel = true;
            else fail(v, "%s: tg_to_device failed: %s", what, tg_last_error());
            break;
        }
        const cJSON *views = cJSON_GetObjectItemCaseSensitive(ji, "view");
        if (cJSON_IsArray(views)) in[i] = apply_views(in[i], views, v, what);
    }
    if (!v->failed && want_err < 0) {
        for (int i = 0; i < n_out && !v->failed; i++) {
            char what[32];
            snprintf(what, sizeof what, "expected output %d", i);
            parse_jtensor(cJSON_GetArrayItem(jout, i), &want[i], v, what);
        }
    }
    if (!v->failed && !v->no_kernel) {
        tg_clear_error();
        tg_device saved = tg__default_device();
        if (on_gpu) tg__set_default_device(dev);
        tg_status st = fn(c, n_in, in, n_out, out);
        if (on_gpu) tg__set_default_device(saved);
        tg_status recorded = tg_last_error_code();
        char msg[512];
        snprintf(msg, sizeof msg, "%s", tg_last_error());
        if (on_gpu && st == TG_ERR_UNSUPPORTED && want_err != TG_ERR_UNSUPPORTED) {
            v->no_kernel = true;
        } else if (want_err >= 0) {
            if (st == TG_OK)
                fail(v, "succeeded, expected %s", tg_status_name((tg_status)want_err));
            else if (st != (tg_status)want_err || recorded != (tg_status)want_err)
                fail(v, "returned %s (recorded %s: %s), expected %s", tg_status_name(st), tg_status_name(recorded),
                     msg, tg_status_name((tg_status)want_err));
            else if (!msg[0])
                fail(v, "failed with %s but recorded no message", tg_status_name(st));
        } else if (st != TG_OK) {
            fail(v, "failed with %s: %s", tg_status_name(st), msg);
        } else if (recorded != TG_OK) {
            fail(v, "succeeded but recorded an error %s: %s", tg_status_name(recorded), msg);
        } else {
            for (int i = 0; i < n_out && !v->failed; i++) {
                if (!out[i]) { fail(v, "output %d is NULL", i); break; }
                double rtol, atol;
                tol_for(want[i].dtype, &rtol, &atol);
                if (!isnan(rtol_o)) rtol = rtol_o;
                if (!isnan(atol_o)) atol = atol_o;
                compare(out[i], &want[i], rtol, atol, i, v);
            }
            const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shares_memory");
            if (!v->failed && cJSON_IsBool(sh) && n_in > 0 && out[0]) {
                bool got = tg_shares_memory(out[0], in[0]);
                if (got != (bool)cJSON_IsTrue(sh))
                    fail(v, "output %s memory with input 0, expected it %s", got ? "shares" : "does not share",
                         cJSON_IsTrue(sh) ? "to" : "not to");
            }
        }
    }
    for (int i = 0; i < ORACLE_MAX_IO; i++) jtensor_free(&want[i]);
    tg_scope_end();
    tg_clear_error();
    if (tg_scope_depth() != 0) fail(v, "scope depth is %d after the case", tg_scope_depth());
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) { free(buf); buf = NULL; }
    if (buf) buf[len] = 0;
    fclose(f);
    return buf;
}

/* Vulkan devices the cases also run on: all of them, unless
 * TANGENT_TEST_CPU_ONLY is set (then the suite is CPU-only). */
static int oracle_vulkan_devices(void) {
    const char *e = getenv("TANGENT_TEST_CPU_ONLY");
    if (e && *e && strcmp(e, "0")) return 0;
    int n = tg_device_count(TG_VULKAN);
    tg_clear_error();
    return n;
}

void check_oracle_file(const char *file, const oracle_entry *table, size_t n_entries) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", TG_ORACLE_DIR, file);
    char *text = read_text(path);
    cr_assert(text, "cannot read oracle file %s", path);
    cJSON *root = cJSON_Parse(text);
    if (!root) {   /* the error pointer points into text: report before freeing it */
        char near[48];
        snprintf(near, sizeof near, "%.40s", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "?");
        free(text);
        cr_assert_fail("oracle file %s is not valid JSON (near: %s)", path, near);
    }
    free(text);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    int n = cJSON_IsArray(cases) ? cJSON_GetArraySize(cases) : 0;
    if (n == 0) cJSON_Delete(root);
    cr_assert(n > 0, "oracle file %s has no cases", path);

    int ran = 0, failed = 0, xfailed = 0, dev_ran = 0, dev_skipped = 0, dev_failed = 0;
    int n_dev = oracle_vulkan_devices();
    const cJSON *jc;
    cJSON_ArrayForEach(jc, cases) {
        oracle_case c = {.json = jc, .attrs = cJSON_GetObjectItemCaseSensitive(jc, "attrs")};
        const cJSON *jn = cJSON_GetObjectItemCaseSensitive(jc, "name");
        const cJSON *jo = cJSON_GetObjectItemCaseSensitive(jc, "op");
        c.name = cJSON_IsString(jn) ? jn->valuestring : "?";
        const char *op = cJSON_IsString(jo) ? jo->valuestring : "";
        const cJSON *jx = cJSON_GetObjectItemCaseSensitive(jc, "xfail");
        const char *xfail = cJSON_IsString(jx) ? jx->valuestring : NULL;
        oracle_fn fn = NULL;
        for (size_t k = 0; k < n_entries; k++)
            if (!strcmp(table[k].op, op)) { fn = table[k].fn; break; }
        verdict v = {{0}, false, false};
        if (!fn) fail(&v, "op '%s' is not in the test's table", op);
        else run_case(&c, fn, (tg_device){TG_CPU, 0}, &v);
        ran++;
        /* The same case on every Vulkan device, against the same oracle
         * (DESIGN.md section 7: one op suite for every backend). */
        for (int dv = 0; fn && !xfail && dv < n_dev; dv++) {
            verdict g = {{0}, false, false};
            run_case(&c, fn, (tg_device){TG_VULKAN, dv}, &g);
            if (g.no_kernel) dev_skipped++;
            else if (g.failed) {
                dev_failed++;
                cr_expect(false, "%s: %s on vulkan:%d: %s", file, c.name, dv, g.msg);
            } else dev_ran++;
        }
        if (xfail) {
            if (v.failed) {
                xfailed++;
                cr_log_info("%s: %s: expected failure (%s): %s", file, c.name, xfail, v.msg);
            } else {
                failed++;
                cr_expect(false, "%s: %s: marked xfail (%s) but passes now; remove the marker", file, c.name, xfail);
            }
        } else if (v.failed) {
            failed++;
            cr_expect(false, "%s: %s: %s", file, c.name, v.msg);
        }
    }
    cJSON_Delete(root);
    cr_log_info("%s: %d cases, %d failed, %d expected failures", file, ran, failed, xfailed);
    if (n_dev > 0)
        cr_log_info("%s on %d Vulkan device(s): %d case runs passed, %d failed, %d without a Vulkan kernel", file,
                    n_dev, dev_ran, dev_failed, dev_skipped);
}

/* ---- derivative cases (gen_grad.py layout) ------------------------------------------------ */
typedef struct {
    const oracle_case *c;
    oracle_fwd_fn fn;
    int n_primal, n_wrt;
    int wrt[ORACLE_MAX_IO];
    tg_tensor *prim[ORACLE_MAX_IO];
} grad_ctx;

/* The function seen by tg_vjp / tg_jvp: the differentiated primals are its
 * inputs, the others are constants. */
static tg_status traced(void *vctx, tg_tensor *const *in, tg_tensor **out) {
    grad_ctx *g = vctx;
    tg_tensor *p[ORACLE_MAX_IO];
    memcpy(p, g->prim, sizeof p);
    for (int i = 0; i < g->n_wrt; i++) p[g->wrt[i]] = in[i];
    return g->fn(g->c, p, out);
}

/* Fills g from the case. */
static bool setup(grad_ctx *g, oracle_fwd_fn fn, const oracle_case *c, int n_in, tg_tensor *const *in) {
    memset(g, 0, sizeof *g);
    g->c = c;
    g->fn = fn;
    g->n_primal = (int)oracle_attr_int(c, "n_primal", -1);
    if (!g->fn || g->n_primal < 1 || g->n_primal > n_in) return false;
    int64_t w[ORACLE_MAX_IO];
    int n = oracle_attr_ints(c, "wrt", w, ORACLE_MAX_IO);
    if (n < 0) {
        n = g->n_primal;
        for (int i = 0; i < n; i++) w[i] = i;
    }
    g->n_wrt = n;
    for (int i = 0; i < n; i++) {
        if (w[i] < 0 || w[i] >= g->n_primal) return false;
        g->wrt[i] = (int)w[i];
    }
    for (int i = 0; i < g->n_primal; i++) g->prim[i] = in[i];
    return true;
}

tg_status oracle_run_vjp(oracle_fwd_fn fn, const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,
                         tg_tensor **out) {
    grad_ctx g;
    if (!setup(&g, fn, c, n_in, in) || n_out != g.n_wrt) return TG_ERR_ARG;
    tg_tensor *diff[ORACLE_MAX_IO];
    for (int i = 0; i < g.n_wrt; i++) diff[i] = in[g.wrt[i]];
    int n_cot = n_in - g.n_primal;
    return tg_vjp(traced, &g, g.n_wrt, diff, n_cot, in + g.n_primal, NULL, out);
}

tg_status oracle_run_jvp(oracle_fwd_fn fn, const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,
                         tg_tensor **out) {
    grad_ctx g;
    if (!setup(&g, fn, c, n_in, in) || n_in != g.n_primal + g.n_wrt) return TG_ERR_ARG;
    tg_tensor *diff[ORACLE_MAX_IO], *primal_out[ORACLE_MAX_IO];
    for (int i = 0; i < g.n_wrt; i++) diff[i] = in[g.wrt[i]];
    return tg_jvp(traced, &g, g.n_wrt, diff, in + g.n_primal, n_out, primal_out, out);
}

/* The function tg_vjp / tg_jvp see: adapter fwd on its np primals. */
typedef struct { const oracle_case *c; oracle_fn fwd; int np, nout; } of_ctx;
static tg_status of_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    of_ctx *f = ctx;
    return f->fwd(f->c, f->np, in, f->nout, out);
}

tg_status oracle_vjp_of(oracle_fn fwd, int np, const oracle_case *c, tg_tensor *const *in, tg_tensor **out) {
    of_ctx f = {c, fwd, np, (int)oracle_attr_int(c, "nout", 1)};
    return tg_vjp(of_fn, &f, np, in, f.nout, &in[np], NULL, out);
}

tg_status oracle_jvp_of(oracle_fn fwd, int np, const oracle_case *c, tg_tensor *const *in, tg_tensor **out) {
    of_ctx f = {c, fwd, np, (int)oracle_attr_int(c, "nout", 1)};
    tg_tensor *y[ORACLE_MAX_IO];       /* the primal outputs: the caller's scope releases them */
    if (f.nout > ORACLE_MAX_IO) return TG_ERR_ARG;
    return tg_jvp(of_fn, &f, np, in, &in[np], f.nout, y, out);
}
