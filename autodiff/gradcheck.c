/* tg_gradcheck / tg_gradgradcheck: reverse and forward mode against central
 * finite differences, plus the dot-product identity <u, J v> = <J^H u, v>
 * (AD-REFERENCE.md section 7). Complex numbers are pairs of reals; with
 * PyTorch's convention reverse mode then gives J_R^T u_R exactly. */
#include "autodiff/node.h"
#include "tangent/autodiff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    tg_trace_fn fn;
    void *ctx;
    int n_in, n_out;
    tg_tensor **x;            /* f64/c128 copies of the inputs */
    int64_t in_off[TG_MAX_OP_INPUTS + 1], out_off[TG_MAX_OP_OUTPUTS + 1];  /* real-component offsets */
    bool in_diff[TG_MAX_OP_INPUTS], out_diff[TG_MAX_OP_OUTPUTS];
    double eps, atol, rtol;
} check;

static int64_t real_size(const tg_tensor *t) {
    return tg__numel(t->ndim, t->shape) * (tg_dtype_is_complex(t->dtype) ? 2 : 1);
}

/* Real components of t (converted to f64) into dst. */
static tg_status flatten(tg_tensor *t, double *dst) {
    tg_tensor *c = tg_cast(t, tg_dtype_is_complex(t->dtype) ? TG_C128 : TG_F64);
    if (!c) return tg_last_error_code();
    tg_status st = tg_copy_to(c, dst, (size_t)real_size(c) * sizeof(double));
    return st;
}

/* A tensor like t (f64 or c128) holding the real components src. */
static tg_tensor *unflatten(const tg_tensor *like, const double *src) {
    tg_dtype d = tg_dtype_is_complex(like->dtype) ? TG_C128 : TG_F64;
    return tg_from_data(d, like->ndim, like->shape, src);
}

/* Evaluates fn on inputs xs inside a scope; out[] are new references. */
static tg_status eval(check *k, tg_tensor *const *xs, tg_tensor **out) {
    tg_tensor *res[TG_MAX_OP_OUTPUTS] = {0};
    tg_scope_begin();
    tg_status st = k->fn(k->ctx, xs, res);
    for (int j = 0; j < k->n_out; j++) {
        if (!st && !res[j]) st = tg__error(TG_ERR_ARG, "tg_gradcheck: output %d is NULL (%s)", j, tg_last_error());
        out[j] = st ? NULL : tg_retain(res[j]);
    }
    tg_scope_end();
    if (st) for (int j = 0; j < k->n_out; j++) { tg_release(out[j]); out[j] = NULL; }
    return st;
}

static tg_status outputs_flat(check *k, tg_tensor *const *xs, double *dst) {
    tg_tensor *y[TG_MAX_OP_OUTPUTS];
    tg_status st = eval(k, xs, y);
    for (int j = 0; j < k->n_out && !st; j++)
        if (k->out_diff[j]) st = flatten(y[j], dst + k->out_off[j]);
    for (int j = 0; j < k->n_out && !st; j++) tg_release(y[j]);
    return st;
}

static bool close_enough(const check *k, double got, double want) {
    return fabs(got - want) <= k->atol + k->rtol * fabs(want);
}

/* Which input/output and element a real-component index belongs to. */
static void locate(const int64_t *off, int n, int64_t idx, int *which, int64_t *elem) {
    int w = 0;
    while (w + 1 < n && off[w + 1] <= idx) w++;
    *which = w;
    *elem = idx - off[w];
}

static tg_status mismatch(const check *k, const char *mode, int64_t row, int64_t col, double got, double want) {
    int oj, ii;
    int64_t oe, ie;
    locate(k->out_off, k->n_out, row, &oj, &oe);
    locate(k->in_off, k->n_in, col, &ii, &ie);
    return tg__error(TG_ERR_NUMERIC, "tg_gradcheck: %s: d out[%d] component %lld / d in[%d] component %lld is %.10g, "
                     "finite differences give %.10g (atol %g, rtol %g)", mode, oj, (long long)oe, ii, (long long)ie,
                     got, want, k->atol, k->rtol);
}

static double rand_unit(uint64_t *s) {          /* xorshift: the check's own stream */
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return (double)(*s >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

static tg_status run_check(check *k, const tg_gradcheck_opts *o) {
    int64_t M = k->out_off[k->n_out], N = k->in_off[k->n_in];
    double *J = calloc((size_t)(M * N + M + 2 * (M + N) + 1), sizeof(double));
    if (!J) return tg__error(TG_ERR_MEMORY, "tg_gradcheck: out of memory");
    double *yp = J + M * N, *row = yp, *buf = yp + M, *buf2 = buf + (M + N);
    (void)row;
    tg_status st = TG_OK;
    tg_tensor *xs[TG_MAX_OP_INPUTS];
    for (int i = 0; i < k->n_in; i++) xs[i] = k->x[i];
    /* numerical Jacobian, column by column */
    for (int i = 0; i < k->n_in && !st; i++) {
        if (!k->in_diff[i]) continue;
        int64_t n = k->in_off[i + 1] - k->in_off[i];
        double *base = buf2;
        st = flatten(k->x[i], base);
        for (int64_t e = 0; e < n && !st; e++) {
            double keep = base[e];
            double *cols[2] = {buf, yp};
            for (int s = 0; s < 2 && !st; s++) {
                base[e] = keep + (s ? -k->eps : k->eps);
                tg_scope_begin();
                xs[i] = unflatten(k->x[i], base);
                st = xs[i] ? outputs_flat(k, xs, cols[s]) : tg_last_error_code();
                tg_scope_end();
            }
            base[e] = keep;
            for (int64_t r = 0; r < M && !st; r++) J[r * N + k->in_off[i] + e] = (buf[r] - yp[r]) / (2 * k->eps);
        }
        xs[i] = k->x[i];
    }
    /* reverse mode: row r of J from a one-hot cotangent */
    for (int64_t r = 0; r < M && !st; r++) {
        tg_scope_begin();
        tg_tensor *y[TG_MAX_OP_OUTPUTS], *u[TG_MAX_OP_OUTPUTS], *g[TG_MAX_OP_INPUTS];
        st = eval(k, xs, y);
        for (int j = 0; j < k->n_out && !st; j++) {
            memset(buf, 0, (size_t)(M + N) * sizeof(double));
            if (r >= k->out_off[j] && r < k->out_off[j + 1]) buf[r - k->out_off[j]] = 1.0;
            u[j] = unflatten(y[j], buf);
            if (!u[j]) st = tg_last_error_code();
        }
        for (int j = 0; j < k->n_out; j++) if (!st || y[j]) tg_release(y[j]);
        if (!st) st = tg_vjp(k->fn, k->ctx, k->n_in, xs, k->n_out, u, NULL, g);
        for (int i = 0; i < k->n_in && !st; i++) {
            if (!k->in_diff[i]) continue;
            st = flatten(g[i], buf);
            for (int64_t e = 0; e < k->in_off[i + 1] - k->in_off[i] && !st; e++) {
                double want = J[r * N + k->in_off[i] + e];
                if (!close_enough(k, buf[e], want)) st = mismatch(k, "reverse mode", r, k->in_off[i] + e, buf[e], want);
            }
        }
        tg_scope_end();
    }
    /* forward mode: column c of J from a one-hot tangent */
    for (int64_t c = 0; c < N && !st && !o->skip_jvp; c++) {
        tg_scope_begin();
        tg_tensor *t[TG_MAX_OP_INPUTS], *y[TG_MAX_OP_OUTPUTS], *ty[TG_MAX_OP_OUTPUTS];
        for (int i = 0; i < k->n_in && !st; i++) {
            memset(buf, 0, (size_t)(M + N) * sizeof(double));
            if (c >= k->in_off[i] && c < k->in_off[i + 1]) buf[c - k->in_off[i]] = 1.0;
            t[i] = k->in_diff[i] ? unflatten(k->x[i], buf) : tg_zeros_like(k->x[i]);
            if (!t[i]) st = tg_last_error_code();
        }
        if (!st) st = tg_jvp(k->fn, k->ctx, k->n_in, xs, t, k->n_out, y, ty);
        for (int j = 0; j < k->n_out && !st; j++) {
            if (!k->out_diff[j]) continue;
            st = flatten(ty[j], buf);
            for (int64_t e = 0; e < k->out_off[j + 1] - k->out_off[j] && !st; e++) {
                double want = J[(k->out_off[j] + e) * N + c];
                if (!close_enough(k, buf[e], want)) st = mismatch(k, "forward mode", k->out_off[j] + e, c, buf[e], want);
            }
        }
        tg_scope_end();
    }
    /* dot-product identity with random u, v */
    if (!st && !o->skip_jvp && M > 0 && N > 0) {
        uint64_t seed = o->seed ? o->seed : 0x9E3779B97F4A7C15ull;
        double *u = buf, *v = buf2;
        for (int64_t r = 0; r < M; r++) u[r] = rand_unit(&seed);
        for (int64_t c = 0; c < N; c++) v[c] = rand_unit(&seed);
        tg_scope_begin();
        tg_tensor *ut[TG_MAX_OP_OUTPUTS], *vt[TG_MAX_OP_INPUTS], *y[TG_MAX_OP_OUTPUTS], *ty[TG_MAX_OP_OUTPUTS],
            *g[TG_MAX_OP_INPUTS];
        st = eval(k, xs, y);
        for (int j = 0; j < k->n_out && !st; j++) {
            ut[j] = k->out_diff[j] ? unflatten(y[j], u + k->out_off[j]) : tg_zeros_like(y[j]);
            tg_release(y[j]);
            if (!ut[j]) st = tg_last_error_code();
        }
        for (int i = 0; i < k->n_in && !st; i++) {
            vt[i] = k->in_diff[i] ? unflatten(k->x[i], v + k->in_off[i]) : tg_zeros_like(k->x[i]);
            if (!vt[i]) st = tg_last_error_code();
        }
        double lhs = 0, rhs = 0, *tmp = malloc((size_t)(M + N + 1) * sizeof(double));
        if (!tmp) st = tg__error(TG_ERR_MEMORY, "tg_gradcheck: out of memory");
        if (!st) st = tg_jvp(k->fn, k->ctx, k->n_in, xs, vt, k->n_out, y, ty);
        for (int j = 0; j < k->n_out && !st; j++) {
            if (!k->out_diff[j]) continue;
            st = flatten(ty[j], tmp);
            for (int64_t e = 0; e < k->out_off[j + 1] - k->out_off[j]; e++) lhs += u[k->out_off[j] + e] * tmp[e];
        }
        if (!st) st = tg_vjp(k->fn, k->ctx, k->n_in, xs, k->n_out, ut, NULL, g);
        for (int i = 0; i < k->n_in && !st; i++) {
            if (!k->in_diff[i]) continue;
            st = flatten(g[i], tmp);
            for (int64_t e = 0; e < k->in_off[i + 1] - k->in_off[i]; e++) rhs += v[k->in_off[i] + e] * tmp[e];
        }
        free(tmp);
        tg_scope_end();
        if (!st && fabs(lhs - rhs) > k->atol + k->rtol * fabs(rhs))
            st = tg__error(TG_ERR_NUMERIC, "tg_gradcheck: dot-product test: <u, J v> = %.12g but <J^H u, v> = %.12g",
                           lhs, rhs);
    }
    free(J);
    return st;
}

static tg_status setup(check *k, tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *inputs, int n_out,
                       const tg_gradcheck_opts *o) {
    if (!fn || n_in < 1 || n_out < 1 || !inputs || n_in > TG_MAX_OP_INPUTS || n_out > TG_MAX_OP_OUTPUTS)
        return tg__error(TG_ERR_ARG, "tg_gradcheck: bad arguments");
    memset(k, 0, sizeof *k);
    k->fn = fn; k->ctx = ctx; k->n_in = n_in; k->n_out = n_out;
    k->eps = o->eps > 0 ? o->eps : 1e-6;
    k->atol = o->atol > 0 ? o->atol : 1e-5;
    k->rtol = o->rtol > 0 ? o->rtol : 1e-3;
    k->x = calloc((size_t)n_in, sizeof *k->x);
    if (!k->x) return tg__error(TG_ERR_MEMORY, "tg_gradcheck: out of memory");
    for (int i = 0; i < n_in; i++) {
        tg_tensor *x = inputs[i];
        if (!x) return tg__error(TG_ERR_ARG, "tg_gradcheck: input %d is NULL", i);
        k->in_diff[i] = tg__differentiable_dtype(x->dtype);
        tg_dtype d = !k->in_diff[i] ? x->dtype : tg_dtype_is_complex(x->dtype) ? TG_C128 : TG_F64;
        tg_scope_begin();                    /* the cast and the detached view go with it */
        tg_tensor *c = tg_cast(x, d);        /* a copy: the caller's tensor is not touched */
        tg_tensor *dt = c ? tg_detach(c) : NULL;
        k->x[i] = dt ? tg_retain(dt) : NULL;
        tg_scope_end();
        if (!k->x[i]) return tg_last_error_code();
        k->in_off[i + 1] = k->in_off[i] + (k->in_diff[i] ? real_size(k->x[i]) : 0);
    }
    tg_tensor *y[TG_MAX_OP_OUTPUTS];
    tg_status st = eval(k, k->x, y);
    for (int j = 0; j < n_out && !st; j++) {
        k->out_diff[j] = tg__differentiable_dtype(y[j]->dtype);
        k->out_off[j + 1] = k->out_off[j] + (k->out_diff[j] ? real_size(y[j]) : 0);
        tg_release(y[j]);
    }
    return st;
}

static void teardown(check *k) {
    if (k->x) for (int i = 0; i < k->n_in; i++) tg_release(k->x[i]);
    free(k->x);
}

tg_status tg_gradcheck(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *inputs, int n_out,
                       const tg_gradcheck_opts *opts) {
    static const tg_gradcheck_opts defaults;
    check k;
    tg_scope_begin();   /* whatever the check makes goes with it, scope or no scope at the caller */
    tg_status st = setup(&k, fn, ctx, n_in, inputs, n_out, opts ? opts : &defaults);
    if (!st) st = run_check(&k, opts ? opts : &defaults);
    teardown(&k);
    tg_scope_end();
    return st;
}

/* ---- second order: gradcheck of x -> VJP(fn)(x, u) --------------------------- */
typedef struct { tg_trace_fn fn; void *ctx; int n_in, n_out; tg_tensor **u; } vjp_ctx;

static tg_status vjp_of(void *p, tg_tensor *const *in, tg_tensor **out) {
    vjp_ctx *v = p;
    return tg_vjp(v->fn, v->ctx, v->n_in, in, v->n_out, v->u, NULL, out);
}

tg_status tg_gradgradcheck(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *inputs, int n_out,
                           const tg_gradcheck_opts *opts) {
    static const tg_gradcheck_opts defaults;
    if (!opts) opts = &defaults;
    check k;
    tg_scope_begin();   /* as tg_gradcheck */
    tg_status st = setup(&k, fn, ctx, n_in, inputs, n_out, opts);
    tg_tensor *u[TG_MAX_OP_OUTPUTS] = {0};
    uint64_t seed = (opts->seed ? opts->seed : 0x2545F4914F6CDD1Dull) ^ 0xA5A5A5A5ull;
    if (!st) {
        tg_tensor *y[TG_MAX_OP_OUTPUTS];
        st = eval(&k, k.x, y);
        for (int j = 0; j < n_out && !st; j++) {
            int64_t m = real_size(y[j]);
            double *r = malloc((size_t)(m ? m : 1) * sizeof(double));
            for (int64_t e = 0; r && e < m; e++) r[e] = rand_unit(&seed);
            u[j] = r && k.out_diff[j] ? unflatten(y[j], r) : tg_zeros_like(y[j]);
            if (u[j]) tg_retain(u[j]);
            free(r);
            if (!u[j]) st = tg_last_error_code();
        }
        for (int j = 0; j < n_out; j++) if (!st || y[j]) tg_release(y[j]);
    }
    if (!st) {
        vjp_ctx v = {fn, ctx, n_in, n_out, u};
        st = tg_gradcheck(vjp_of, &v, n_in, k.x, n_in, opts);
        if (st) {
            char msg[1100];
            snprintf(msg, sizeof msg, "%s", tg_last_error());
            tg_clear_error();
            st = tg__error(st, "tg_gradgradcheck (second order): %s", msg);
        }
    }
    for (int j = 0; j < n_out; j++) tg_release(u[j]);   /* the retained reference; the scope frees the other */
    teardown(&k);
    tg_scope_end();
    return st;
}
