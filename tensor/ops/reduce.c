/* Reductions over any set of axes: sum prod max min all any (primitives),
 * argmax argmin, and composites mean logsumexp var std norm.
 *
 * One accumulate loop serves every layout: the iterator walks x with the
 * output as an accumulator whose strides are 0 along reduced axes. When the
 * innermost run is reduced the loop folds it into one value with several
 * independent accumulators (vectorised); when it is kept the loop updates a
 * row of outputs (vectorised). Work is split across threads by output
 * elements only, and a full reduction uses fixed blocks, so results do not
 * depend on the thread count. */
#include "tensor/ops/elementwise.h"
#include "gpu/gpu.h"

#include <float.h>
#include <stdio.h>

#include "tangent/sizes.h"
#include <string.h>

#define BLOCK 16        /* independent accumulators in a folded run */
#define FULL_BLOCK 65536 /* elements per fixed block of a full reduction */

#define ACC_LOOP(name, T, OP, ID)                                                        \
    static void name(int64_t n, char *const *p, const int64_t *s, const void *ctx) {     \
        (void)ctx;                                                                       \
        if (s[0] == 0) {                                                                 \
            T acc = *(T *)p[0];                                                          \
            int64_t i = 0;                                                               \
            if (s[1] == (int64_t)sizeof(T) && n >= BLOCK) {                              \
                const T *a = (const T *)p[1];                                            \
                T part[BLOCK];                                                           \
                for (int k = 0; k < BLOCK; k++) part[k] = ID;                            \
                for (; i + BLOCK <= n; i += BLOCK)                                       \
                    for (int k = 0; k < BLOCK; k++) { T x = a[i + k], y = part[k]; part[k] = (OP); } \
                for (int w = BLOCK / 2; w > 0; w /= 2)                                   \
                    for (int k = 0; k < w; k++) { T x = part[k + w], y = part[k]; part[k] = (OP); } \
                { T x = part[0], y = acc; acc = (OP); }                                  \
            }                                                                            \
            for (const char *a = p[1] + i * s[1]; i < n; i++, a += s[1]) {               \
                T x = *(const T *)a, y = acc;                                            \
                acc = (OP);                                                              \
            }                                                                            \
            *(T *)p[0] = acc;                                                            \
        } else if (s[0] == (int64_t)sizeof(T) && s[1] == (int64_t)sizeof(T)) {           \
            T *o = (T *)p[0];                                                            \
            const T *a = (const T *)p[1];                                                \
            for (int64_t i = 0; i < n; i++) { T x = a[i], y = o[i]; o[i] = (OP); }       \
        } else {                                                                         \
            char *o = p[0];                                                              \
            const char *a = p[1];                                                        \
            for (int64_t i = 0; i < n; i++, o += s[0], a += s[1]) {                      \
                T x = *(const T *)a, y = *(T *)o;                                        \
                *(T *)o = (OP);                                                          \
            }                                                                            \
        }                                                                                \
    }

/* x: new element, y: accumulator. max/min propagate NaN. */
#define SUM_E (x + y)
#define PROD_E (x * y)
#define IADD_E ((int64_t)((uint64_t)x + (uint64_t)y))
#define IMUL_E ((int64_t)((uint64_t)x * (uint64_t)y))
#define MAX_E ((x > y || x != x) ? x : y)
#define MIN_E ((x < y || x != x) ? x : y)

ACC_LOOP(sum_f32, float, SUM_E, 0.0f)
ACC_LOOP(sum_f64, double, SUM_E, 0.0)
ACC_LOOP(sum_c64, tg_c64_t, SUM_E, 0.0f)
ACC_LOOP(sum_c128, tg_c128_t, SUM_E, 0.0)
ACC_LOOP(sum_i64, int64_t, IADD_E, 0)
ACC_LOOP(prod_f32, float, PROD_E, 1.0f)
ACC_LOOP(prod_f64, double, PROD_E, 1.0)
ACC_LOOP(prod_c64, tg_c64_t, PROD_E, 1.0f)
ACC_LOOP(prod_c128, tg_c128_t, PROD_E, 1.0)
ACC_LOOP(prod_i64, int64_t, IMUL_E, 1)
ACC_LOOP(max_f32, float, MAX_E, -INFINITY)
ACC_LOOP(max_f64, double, MAX_E, -INFINITY)
ACC_LOOP(max_i32, int32_t, MAX_E, INT32_MIN)
ACC_LOOP(max_i64, int64_t, MAX_E, INT64_MIN)
ACC_LOOP(max_bool, tg_bool_t, MAX_E, 0)
ACC_LOOP(min_f32, float, MIN_E, INFINITY)
ACC_LOOP(min_f64, double, MIN_E, INFINITY)
ACC_LOOP(min_i32, int32_t, MIN_E, INT32_MAX)
ACC_LOOP(min_i64, int64_t, MIN_E, INT64_MAX)
ACC_LOOP(min_bool, tg_bool_t, MIN_E, 1)

enum red_kind { R_SUM, R_PROD, R_MAX, R_MIN, R_ALL, R_ANY };

typedef struct reduce_impl {
    enum red_kind kind;
    tg_loop_fn loop[TG_NUM_DTYPES];       /* by compute dtype */
} reduce_impl;

static const reduce_impl sum_impl = {R_SUM, {[TG_F32] = sum_f32, [TG_F64] = sum_f64, [TG_C64] = sum_c64,
                                             [TG_C128] = sum_c128, [TG_I64] = sum_i64}};
static const reduce_impl prod_impl = {R_PROD, {[TG_F32] = prod_f32, [TG_F64] = prod_f64, [TG_C64] = prod_c64,
                                               [TG_C128] = prod_c128, [TG_I64] = prod_i64}};
static const reduce_impl max_impl = {R_MAX, {[TG_F32] = max_f32, [TG_F64] = max_f64, [TG_I32] = max_i32,
                                             [TG_I64] = max_i64, [TG_BOOL] = max_bool}};
static const reduce_impl min_impl = {R_MIN, {[TG_F32] = min_f32, [TG_F64] = min_f64, [TG_I32] = min_i32,
                                             [TG_I64] = min_i64, [TG_BOOL] = min_bool}};
static const reduce_impl all_impl = {R_ALL, {[TG_BOOL] = min_bool}};
static const reduce_impl any_impl = {R_ANY, {[TG_BOOL] = max_bool}};

static tg_dtype compute_dtype(const reduce_impl *r, tg_dtype d) {
    switch (r->kind) {
    case R_SUM: case R_PROD: return d == TG_BOOL || d == TG_I32 ? TG_I64 : d;
    case R_ALL: case R_ANY: return TG_BOOL;
    default: return d;
    }
}

/* attrs: i[0] keepdim, i[1] naxes (-1: all), i[2..] axes. */
static tg_status reduce_mask(const tg_op_call *c, const tg_meta *x, bool *mask) {
    int64_t na = c->attrs->i[1];
    if (na > c->attrs->n_int - 2)      /* attrs from a file (tg_program_load) are not trusted */
        return tg__op_error(c, TG_ERR_ARG, "%lld axes in %d attributes", (long long)na, c->attrs->n_int);
    int axes[TG_MAX_ATTR_INTS];
    for (int k = 0; k < na; k++) axes[k] = (int)c->attrs->i[2 + k];
    /* The op's name is formatted only when the axes are bad. */
    bool ok = true;
    for (int k = 0; k < na; k++) {
        int a = axes[k] < 0 ? axes[k] + x->ndim : axes[k];
        for (int j = 0; j < k; j++) ok = ok && a != (axes[j] < 0 ? axes[j] + x->ndim : axes[j]);
        ok = ok && a >= 0 && a < x->ndim;
    }
    char name[64] = "";
    if (!ok) snprintf(name, sizeof name, "tg_%s", c->def->name);
    return tg__axes_mask(name, na < 0 ? 0 : (int)na, na < 0 ? NULL : axes, x->ndim, mask);
}

static void reduced_shape(const tg_meta *x, const bool *mask, bool keepdim, tg_meta *out) {
    out->ndim = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (!mask[i]) out->shape[out->ndim++] = x->shape[i];
        else if (keepdim) out->shape[out->ndim++] = 1;
    }
}

static tg_status reduce_infer(const tg_op_call *c, tg_meta *out) {
    const reduce_impl *r = c->def->impl;
    const tg_meta *x = &c->in[0];
    bool mask[TG_MAX_DIMS];
    if (reduce_mask(c, x, mask)) return tg_last_error_code();
    tg_dtype cd = compute_dtype(r, x->dtype);
    if (!r->loop[cd] || x->dtype == TG_F16 || x->dtype == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s", tg_dtype_name(x->dtype));
    if (r->kind == R_MAX || r->kind == R_MIN) {
        for (int i = 0; i < x->ndim; i++)
            if (mask[i] && x->shape[i] == 0)
                return tg__op_error(c, TG_ERR_SHAPE, "reduction over an empty axis (%d) has no identity", i);
    }
    reduced_shape(x, mask, c->attrs->i[0] != 0, out);
    out->dtype = cd;
    return TG_OK;
}

static void fill_identity(tg_tensor *out, enum red_kind k) {
    static const double ids[] = {[R_SUM] = 0, [R_PROD] = 1, [R_MAX] = -INFINITY, [R_MIN] = INFINITY,
                                 [R_ALL] = 1, [R_ANY] = 0};
    int64_t n = tg__numel(out->ndim, out->shape);
    char *p = tg__ptr(out);
    if (out->dtype == TG_I32 || out->dtype == TG_I64) {
        int64_t v = k == R_SUM ? 0 : k == R_PROD ? 1 : k == R_MAX ? INT64_MIN : INT64_MAX;
        for (int64_t i = 0; i < n; i++) {
            if (out->dtype == TG_I64) ((int64_t *)p)[i] = v;
            else ((int32_t *)p)[i] = k == R_MAX ? INT32_MIN : k == R_MIN ? INT32_MAX : (int32_t)v;
        }
        return;
    }
    tg_tensor *v = tg__alloc(TG_F64, 0, NULL);
    if (!v) return;
    *(double *)tg__ptr(v) = out->dtype == TG_BOOL ? (k == R_MIN || k == R_ALL) : ids[k];
    tg__copy_into(out, v);
    tg_release(v);
}

/* The output seen with x's rank: reduced axes get size 1 / stride 0. */
static tg_tensor *accumulator_view(tg_tensor *out, const tg_tensor *x, const bool *mask) {
    int64_t sh[TG_MAX_DIMS], st[TG_MAX_DIMS], ost[TG_MAX_DIMS];
    int64_t okshape[TG_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < x->ndim; i++) if (!mask[i]) okshape[k++] = x->shape[i];
    tg__contiguous_strides(k, okshape, ost);
    for (int i = 0, j = 0; i < x->ndim; i++) {
        sh[i] = x->shape[i];
        st[i] = mask[i] ? 0 : ost[j++];
    }
    return tg__make_view(out, out->dtype, x->ndim, sh, st, out->offset);
}

static void accumulate(tg_tensor *acc, tg_tensor *x, tg_loop_fn fn) {
    tg_tensor *ops[2] = {acc, x};
    tg_iter it;
    tg_iter_init(&it, x->ndim, x->shape, 2, ops);
    /* sequential: the caller parallelises by output elements */
    int64_t total = it.numel;
    if (total == 0) return;
    int nd = it.ndim;
    int64_t idx[TG_MAX_DIMS] = {0};
    int64_t inner = it.shape[nd - 1];
    int64_t steps[2] = {it.steps[0][nd - 1], it.steps[1][nd - 1]};
    for (int64_t done = 0; done < total; done += inner) {
        char *p[2] = {it.base[0], it.base[1]};
        for (int i = 0; i < nd - 1; i++) {
            p[0] += idx[i] * it.steps[0][i];
            p[1] += idx[i] * it.steps[1][i];
        }
        fn(inner, p, steps, NULL);
        for (int i = nd - 2; i >= 0; i--) {
            if (++idx[i] < it.shape[i]) break;
            idx[i] = 0;
        }
    }
}

/* Sum of four rows into acc, in a fixed order: fewer passes over acc. */
#define SUM4_LOOP(name, T)                                                                  \
    static void name(int64_t k, T *acc, const T *r0, const T *r1, const T *r2, const T *r3) { \
        for (int64_t i = 0; i < k; i++) acc[i] += (r0[i] + r1[i]) + (r2[i] + r3[i]);        \
    }
SUM4_LOOP(sum4_f32, float)
SUM4_LOOP(sum4_f64, double)

#define ROW_BLOCK 64     /* rows per partial result: fixed, so threads do not change results */

/* out[k] = reduce over rows r of x[r, k], x contiguous (rows, k). Blocks of
 * ROW_BLOCK rows reduce into partial rows in parallel; the partials are then
 * combined in block order. */
static tg_status reduce_leading(tg_tensor *x, tg_tensor *out, tg_loop_fn fn, enum red_kind kind, int64_t rows,
                                int64_t k, int nth) {
    int64_t nb = (rows + ROW_BLOCK - 1) / ROW_BLOCK, es = tg__esize(x->dtype);
    int64_t pshape[2] = {nb, k};
    tg_tensor *part = tg__alloc(x->dtype, 2, pshape);
    if (!part) return TG_ERR_MEMORY;
    fill_identity(part, kind);
    char *xp = tg__ptr(x), *pp = tg__ptr(part);
    bool sum4 = kind == R_SUM && (x->dtype == TG_F32 || x->dtype == TG_F64);
    TG_PARALLEL_FOR(rows * k >= TG_PARALLEL_GRAIN && nb > 1,
    for (int64_t b = 0; b < nb; b++) {
        int64_t r = b * ROW_BLOCK, end = r + ROW_BLOCK < rows ? r + ROW_BLOCK : rows;
        char *acc = pp + b * k * es;
        if (sum4) {
            for (; r + 4 <= end; r += 4) {
                const char *q = xp + r * k * es;
                if (x->dtype == TG_F32)
                    sum4_f32(k, (float *)acc, (const float *)q, (const float *)(q + k * es),
                             (const float *)(q + 2 * k * es), (const float *)(q + 3 * k * es));
                else
                    sum4_f64(k, (double *)acc, (const double *)q, (const double *)(q + k * es),
                             (const double *)(q + 2 * k * es), (const double *)(q + 3 * k * es));
            }
        }
        for (; r < end; r++) {
            char *p[2] = {acc, xp + r * k * es};
            int64_t st[2] = {es, es};
            fn(k, p, st, NULL);
        }
    });
    char *o = tg__ptr(out);
    for (int64_t b = 0; b < nb; b++) {
        char *p[2] = {o, pp + b * k * es};
        int64_t st[2] = {es, es};
        fn(k, p, st, NULL);
    }
    tg_release(part);
    return TG_OK;
}

static tg_status reduce_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    const reduce_impl *r = c->def->impl;
    bool mask[TG_MAX_DIMS];
    reduce_mask(c, &c->in[0], mask);
    tg_dtype cd = out[0]->dtype;
    tg_loop_fn fn = r->loop[cd];
    tg_tensor *x = tg__cast_raw(in[0], cd);
    if (!x) return tg_last_error_code();
    fill_identity(out[0], r->kind);
    int64_t n_out = tg__numel(out[0]->ndim, out[0]->shape);
    int64_t n_in = tg__numel(x->ndim, x->shape);
    int nth = tg__num_threads();
    if (n_in == 0 || n_out == 0) { tg_release(x); return TG_OK; }

    if (n_out == 1) {
        /* Full reduction: fixed blocks over a contiguous copy, combined in order. */
        if (!tg__is_contiguous(x)) {
            tg_tensor *y = tg__alloc(cd, x->ndim, x->shape);
            if (!y) { tg_release(x); return TG_ERR_MEMORY; }
            tg__copy_into(y, x);
            tg_release(x);
            x = y;
        }
        int64_t nb = (n_in + FULL_BLOCK - 1) / FULL_BLOCK;
        size_t es = tg_dtype_size(cd);
        tg_tensor *part = tg__alloc(cd, 1, &nb);
        if (!part) { tg_release(x); return TG_ERR_MEMORY; }
        fill_identity(part, r->kind);
        char *xp = tg__ptr(x), *pp = tg__ptr(part);
        TG_PARALLEL_FOR(nb > 1,
        for (int64_t b = 0; b < nb; b++) {
            int64_t lo = b * FULL_BLOCK, len = n_in - lo < FULL_BLOCK ? n_in - lo : FULL_BLOCK;
            char *p[2] = {pp + b * (int64_t)es, xp + lo * (int64_t)es};
            int64_t st[2] = {0, (int64_t)es};
            fn(len, p, st, NULL);
        });
        char *p[2] = {tg__ptr(out[0]), pp};
        int64_t st[2] = {0, (int64_t)es};
        fn(nb, p, st, NULL);
        tg_release(part);
        tg_release(x);
        return TG_OK;
    }

    /* Leading axes reduced over a contiguous input (a sum over axis 0):
     * rows of K outputs updated in fixed blocks of rows. */
    int lead = 0;
    while (lead < x->ndim && mask[lead]) lead++;
    bool rest_kept = true;
    for (int i = lead; i < x->ndim; i++) rest_kept = rest_kept && !mask[i];
    if (lead > 0 && rest_kept && tg__is_contiguous(x)) {
        tg_status st = reduce_leading(x, out[0], fn, r->kind, tg__numel(lead, x->shape), n_out, nth);
        tg_release(x);
        return st;
    }

    tg_tensor *acc = accumulator_view(out[0], x, mask);
    if (!acc) { tg_release(x); return TG_ERR_MEMORY; }
    /* Split the largest kept axis across threads when there is enough work. */
    int split = -1;
    for (int i = 0; i < x->ndim; i++)
        if (!mask[i] && (split < 0 || x->shape[i] > x->shape[split])) split = i;
    int64_t len = x->shape[split];
    int chunks = (n_in >= TG_PARALLEL_GRAIN && nth > 1) ? (int)(len < nth ? len : nth) : 1;
    if (chunks <= 1) {
        accumulate(acc, x, fn);
    } else {
        #pragma omp parallel for schedule(static) num_threads(nth)
        for (int ch = 0; ch < chunks; ch++) {
            int64_t lo = len * ch / chunks, hi = len * (ch + 1) / chunks;
            tg_tensor xs = *x, as = *acc;     /* stack views: no refcount traffic */
            xs.shape[split] = as.shape[split] = hi - lo;
            xs.offset += lo * x->strides[split];
            as.offset += lo * acc->strides[split];
            accumulate(&as, &xs, fn);
        }
    }
    tg_release(acc);
    tg_release(x);
    return TG_OK;
}


/* ---- derivative rules -------------------------------------------------------- */
/* g broadcast back over the reduced axes of x (keepdim undone first). */
static tg_tensor *expand_back(const tg_op_call *c, tg_tensor *g, const tg_tensor *x) {
    bool mask[TG_MAX_DIMS];
    if (reduce_mask(c, &c->in[0], mask)) return NULL;
    if (!c->attrs->i[0]) {
        int64_t kshape[TG_MAX_DIMS];
        for (int i = 0; i < x->ndim; i++) kshape[i] = mask[i] ? 1 : x->shape[i];
        g = tg_reshape(g, x->ndim, kshape);
    }
    return tg_expand(g, x->ndim, x->shape);
}
static int mask_axes(const tg_op_call *c, int *axes) {
    bool mask[TG_MAX_DIMS];
    reduce_mask(c, &c->in[0], mask);
    int k = 0;
    for (int i = 0; i < c->in[0].ndim; i++) if (mask[i]) axes[k++] = i;
    return k;
}
static tg_status sum_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)out;
    ic[0] = expand_back(c, g[0], in[0]);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status sum_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)in; (void)out;
    ot[0] = tg__apply1(c->def, 1, t, c->attrs);
    return TG_RULE_RESULT(ot[0]);
}
/* prod: d y / d x_i is the product of the other elements, computed without
 * dividing by zero: with no zero in the slice it is y / x_i; with exactly
 * one zero it is the product of the nonzeros at that zero and 0 elsewhere;
 * with more zeros it is 0. */
static tg_tensor *prod_others(const tg_op_call *c, tg_tensor *x, tg_tensor *y) {
    int axes[TG_MAX_DIMS], k = mask_axes(c, axes);
    tg_tensor *z = tg_eq_scalar(x, 0.0);
    tg_tensor *x1 = tg_where(z, tg_ones_like(x), x);
    tg_tensor *nz = expand_back(c, tg_sum(z, k, axes, c->attrs->i[0] != 0), x);
    tg_tensor *p1 = expand_back(c, tg_prod(x1, k, axes, c->attrs->i[0] != 0), x);
    tg_tensor *none = tg_div(expand_back(c, y, x), x1);
    tg_tensor *zero = tg_zeros_like(x);
    tg_tensor *one = tg_where(z, p1, zero);
    return tg_where(tg_eq_scalar(nz, 0.0), none, tg_where(tg_eq_scalar(nz, 1.0), one, zero));
}
static tg_status prod_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    ic[0] = tg_mul(expand_back(c, g[0], in[0]), tg_conj(prod_others(c, in[0], out[0])));
    return TG_RULE_RESULT(ic[0]);
}
static tg_status prod_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    int axes[TG_MAX_DIMS], k = mask_axes(c, axes);
    ot[0] = tg_sum(tg_mul(t[0], prod_others(c, in[0], out[0])), k, axes, c->attrs->i[0] != 0);
    return TG_RULE_RESULT(ot[0]);
}
/* max/min (amax/amin): ties share the gradient evenly, as torch.amax. */
static tg_tensor *extreme_share(const tg_op_call *c, tg_tensor *x, tg_tensor *y) {
    int axes[TG_MAX_DIMS], k = mask_axes(c, axes);
    tg_tensor *hit = tg_cast(tg_eq(x, expand_back(c, y, x)), x->dtype);
    tg_tensor *count = expand_back(c, tg_sum(hit, k, axes, c->attrs->i[0] != 0), x);
    return tg_div(hit, count);
}
static tg_status extreme_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                             tg_tensor **ic) {
    ic[0] = tg_mul(expand_back(c, g[0], in[0]), extreme_share(c, in[0], out[0]));
    return TG_RULE_RESULT(ic[0]);
}
static tg_status extreme_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                             tg_tensor **ot) {
    int axes[TG_MAX_DIMS], k = mask_axes(c, axes);
    ot[0] = tg_sum(tg_mul(t[0], extreme_share(c, in[0], out[0])), k, axes, c->attrs->i[0] != 0);
    return TG_RULE_RESULT(ot[0]);
}

#define DEF_REDUCE(op, flags_, vjp_, jvp_)                                                  \
    const tg_op_def tg_op_##op = {.name = #op, .n_in = 1, .n_out = 1, .flags = flags_,     \
                                  .infer = reduce_infer,                                    \
                                  .kernel = {[TG_CPU] = reduce_kernel, [TG_VULKAN] = tg__vk_reduce_kernel}, \
                                  .vjp = vjp_, .jvp = jvp_, .impl = &op##_impl};           \
    tg_tensor *tg_##op(tg_tensor *x, int naxes, const int *axes, bool keepdim) {            \
        return tg__reduce_apply(&tg_op_##op, x, naxes, axes, keepdim);                      \
    }

tg_tensor *tg__reduce_apply(const tg_op_def *def, tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    if (naxes < 0 || naxes > TG_MAX_DIMS || (naxes > 0 && !axes))
        return tg__error(TG_ERR_ARG, "tg_%s: bad axis list (%d axes%s)", def->name, naxes,
                         axes ? "" : ", NULL"), NULL;
    tg_attrs a = {.n_int = 2 + naxes, .i = {keepdim, naxes == 0 && !axes ? -1 : naxes}};
    for (int k = 0; k < naxes; k++) a.i[2 + k] = axes[k];
    return tg__apply1(def, 1, &x, &a);
}

DEF_REDUCE(sum, TG_OP_RULES_IGNORE_OUTPUT, sum_vjp, sum_jvp)
DEF_REDUCE(prod, 0, prod_vjp, prod_jvp)
DEF_REDUCE(all, TG_OP_NONDIFF, NULL, NULL)
DEF_REDUCE(any, TG_OP_NONDIFF, NULL, NULL)
/* max/min are registered under their public names */
const tg_op_def tg_op_max = {.name = "max", .n_in = 1, .n_out = 1, .infer = reduce_infer,
                             .kernel = {[TG_CPU] = reduce_kernel, [TG_VULKAN] = TG_VK(tg__vk_reduce_kernel)}, .vjp = extreme_vjp, .jvp = extreme_jvp,
                             .impl = &max_impl};
const tg_op_def tg_op_min = {.name = "min", .n_in = 1, .n_out = 1, .infer = reduce_infer,
                             .kernel = {[TG_CPU] = reduce_kernel, [TG_VULKAN] = TG_VK(tg__vk_reduce_kernel)}, .vjp = extreme_vjp, .jvp = extreme_jvp,
                             .impl = &min_impl};
tg_tensor *tg_max(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    return tg__reduce_apply(&tg_op_max, x, naxes, axes, keepdim);
}
tg_tensor *tg_min(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    return tg__reduce_apply(&tg_op_min, x, naxes, axes, keepdim);
}

/* ---- argmax / argmin ------------------------------------------------------ */
static tg_status arg_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    if (tg_dtype_is_complex(x->dtype) || x->dtype == TG_F16 || x->dtype == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s", tg_dtype_name(x->dtype));
    bool mask[TG_MAX_DIMS];
    if (reduce_mask(c, x, mask)) return tg_last_error_code();
    for (int i = 0; i < x->ndim; i++)
        if (mask[i] && x->shape[i] == 0) return tg__op_error(c, TG_ERR_SHAPE, "argument of an empty sequence");
    reduced_shape(x, mask, c->attrs->i[0] != 0, out);
    out->dtype = TG_I64;
    return TG_OK;
}

/* Index of the first max (min) along a run; the first NaN wins, as NumPy. */
#define ARG_SCAN(name, T, CMP)                                                     \
    static int64_t name(const char *p, int64_t n, int64_t step) {                 \
        T best = *(const T *)p;                                                    \
        int64_t bi = 0;                                                            \
        if (best != best) return 0;                                                \
        for (int64_t i = 1; i < n; i++) {                                          \
            T v = *(const T *)(p + i * step);                                      \
            if (v != v) return i;                                                  \
            if (v CMP best) { best = v; bi = i; }                                  \
        }                                                                          \
        return bi;                                                                 \
    }
ARG_SCAN(argmax_f32, float, >) ARG_SCAN(argmax_f64, double, >) ARG_SCAN(argmax_i32, int32_t, >)
ARG_SCAN(argmax_i64, int64_t, >) ARG_SCAN(argmax_bool, tg_bool_t, >)
ARG_SCAN(argmin_f32, float, <) ARG_SCAN(argmin_f64, double, <) ARG_SCAN(argmin_i32, int32_t, <)
ARG_SCAN(argmin_i64, int64_t, <) ARG_SCAN(argmin_bool, tg_bool_t, <)
typedef int64_t (*arg_scan_fn)(const char *, int64_t, int64_t);
static const arg_scan_fn argmax_scans[TG_NUM_DTYPES] = {argmax_bool, argmax_i32, argmax_i64, argmax_f32, argmax_f64};
static const arg_scan_fn argmin_scans[TG_NUM_DTYPES] = {argmin_bool, argmin_i32, argmin_i64, argmin_f32, argmin_f64};

static tg_status arg_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = in[0];
    bool mask[TG_MAX_DIMS];
    reduce_mask(c, &c->in[0], mask);
    /* Reduced axes flattened (row-major) into one run of a contiguous copy. */
    int perm[TG_MAX_DIMS], k = 0;
    for (int i = 0; i < x->ndim; i++) if (!mask[i]) perm[k++] = i;
    for (int i = 0; i < x->ndim; i++) if (mask[i]) perm[k++] = i;
    int64_t sh[TG_MAX_DIMS], st[TG_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) { sh[i] = x->shape[perm[i]]; st[i] = x->strides[perm[i]]; }
    tg_tensor *v = tg__make_view(x, x->dtype, x->ndim, sh, st, x->offset);
    tg_tensor *y = v ? tg__alloc(x->dtype, x->ndim, sh) : NULL;
    if (!y) { tg_release(v); return TG_ERR_MEMORY; }
    tg__copy_into(y, v);
    tg_release(v);
    int64_t n_out = tg__numel(out[0]->ndim, out[0]->shape);
    int64_t run = n_out ? tg__numel(x->ndim, x->shape) / n_out : 0;
    arg_scan_fn scan = (strcmp(c->def->name, "argmax") == 0 ? argmax_scans : argmin_scans)[x->dtype];
    size_t es = tg_dtype_size(x->dtype);
    int64_t *o = (int64_t *)tg__ptr(out[0]);
    const char *yp = tg__ptr(y);
    TG_PARALLEL_FOR(n_out * run > TG_PARALLEL_GRAIN,
    for (int64_t m = 0; m < n_out; m++) o[m] = scan(yp + m * run * (int64_t)es, run, (int64_t)es););
    tg_release(y);
    return TG_OK;
}

const tg_op_def tg_op_argmax = {.name = "argmax", .n_in = 1, .n_out = 1, .flags = TG_OP_NONDIFF,
                                .infer = arg_infer, .kernel = {[TG_CPU] = arg_kernel, [TG_VULKAN] = TG_VK(tg__vk_reduce_kernel)}};
const tg_op_def tg_op_argmin = {.name = "argmin", .n_in = 1, .n_out = 1, .flags = TG_OP_NONDIFF,
                                .infer = arg_infer, .kernel = {[TG_CPU] = arg_kernel, [TG_VULKAN] = TG_VK(tg__vk_reduce_kernel)}};
tg_tensor *tg_argmax(tg_tensor *x, int axis, bool keepdim) {
    return tg__reduce_apply(&tg_op_argmax, x, 1, &axis, keepdim);
}
tg_tensor *tg_argmin(tg_tensor *x, int axis, bool keepdim) {
    return tg__reduce_apply(&tg_op_argmin, x, 1, &axis, keepdim);
}

/* ---- composites (differentiable through their parts) -------------------- */
/* Elements per reduced slice: a plain count, or a symbolic size under a trace. */
static int64_t reduced_count(const char *op, tg_tensor *x, int naxes, const int *axes) {
    bool mask[TG_MAX_DIMS];
    if (tg__axes_mask(op, naxes, axes, x->ndim, mask)) return -1;
    int64_t n = 1;
    for (int i = 0; i < x->ndim; i++)
        if (mask[i]) n = n >= TG_SYM_BASE_INTERNAL || x->shape[i] >= TG_SYM_BASE_INTERNAL ? tg_size_mul(n, x->shape[i])
                                                                                         : n * x->shape[i];
    return n;
}

/* s / count, count plain (a weak scalar keeps s's dtype) or symbolic. */
static tg_tensor *div_count(tg_tensor *s, int64_t count) {
    if (!s) return NULL;
    if (count < TG_SYM_BASE_INTERNAL) return tg_div_scalar(s, (double)count);
    return tg_div(s, tg__size_tensor(count, tg_real_dtype(s->dtype)));
}

/* Floating version of x for mean/var/std/norm: ints and bools become f64. */
static tg_tensor *as_floating(tg_tensor *x) {
    if (tg_dtype_is_floating(x->dtype) || tg_dtype_is_complex(x->dtype)) return x;
    return tg_cast(x, TG_F64);
}

#define COMPOSITE_BEGIN(name)                                                        \
    if (!x) return tg__error(TG_ERR_ARG, name ": input is NULL"), NULL;               \
    int64_t count = reduced_count(name, x, naxes, axes);                                    \
    if (count < 0) return NULL;                                                       \
    tg_scope_begin();                                                                 \
    tg_tensor *r = NULL
#define COMPOSITE_END() tg_keep(r); tg_scope_end(); return r

tg_tensor *tg_mean(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    COMPOSITE_BEGIN("tg_mean");
    r = div_count(tg_sum(as_floating(x), naxes, axes, keepdim), count);
    COMPOSITE_END();
}

tg_tensor *tg_var(tg_tensor *x, int naxes, const int *axes, int64_t correction, bool keepdim) {
    COMPOSITE_BEGIN("tg_var");
    tg_tensor *xf = as_floating(x);
    tg_tensor *d = tg_sub(xf, tg_mean(xf, naxes, axes, true));
    tg_tensor *sq = xf && tg_dtype_is_complex(xf->dtype) ? tg_square(tg_abs(d)) : tg_square(d);
    if (count >= TG_SYM_BASE_INTERNAL) {
        r = div_count(tg_sum(sq, naxes, axes, keepdim), tg_size_sub(count, correction));
    } else {
        double denom = (double)(count - correction);
        r = tg_div_scalar(tg_sum(sq, naxes, axes, keepdim), denom > 0 ? denom : 0.0);
    }
    COMPOSITE_END();
}

tg_tensor *tg_std(tg_tensor *x, int naxes, const int *axes, int64_t correction, bool keepdim) {
    tg_scope_begin();
    tg_tensor *r = tg_sqrt(tg_var(x, naxes, axes, correction, keepdim));
    tg_keep(r);
    tg_scope_end();
    return r;
}

tg_tensor *tg_logsumexp(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    COMPOSITE_BEGIN("tg_logsumexp");
    tg_tensor *xf = as_floating(x);
    if (!xf) {
        /* the cast failed and said why */
    } else if (tg_dtype_is_complex(xf->dtype)) {
        tg__error(TG_ERR_DTYPE, "tg_logsumexp: not defined for complex input");
    } else if (count == 0) {
        r = tg_log(tg_sum(tg_exp(xf), naxes, axes, keepdim));     /* -inf, as NumPy */
    } else {
        /* Shift by the max (held constant: its gradient cancels); an infinite
         * max is replaced by 0 so inf - inf never appears. */
        tg_tensor *m = tg_detach(tg_max(xf, naxes, axes, true));
        m = tg_where(tg_isfinite(m), m, tg_zeros_like(m));
        tg_tensor *s = tg_log(tg_sum(tg_exp(tg_sub(xf, m)), naxes, axes, true));
        r = tg_add(s, m);
        if (r && !keepdim) {
            bool mask[TG_MAX_DIMS];
            tg__axes_mask("tg_logsumexp", naxes, axes, x->ndim, mask);
            int sq[TG_MAX_DIMS], k = 0;
            for (int i = 0; i < x->ndim; i++) if (mask[i]) sq[k++] = i;
            r = tg_squeeze(r, k, sq);
        }
    }
    COMPOSITE_END();
}

tg_tensor *tg_norm(tg_tensor *x, double p, int naxes, const int *axes, bool keepdim) {
    COMPOSITE_BEGIN("tg_norm");
    tg_tensor *a = tg_abs(as_floating(x));
    if (p == 1) r = tg_sum(a, naxes, axes, keepdim);
    else if (p == 2) {
        /* sqrt through a double where: the gradient at the zero vector is 0
         * (PyTorch's value), not 0 * inf. */
        tg_tensor *s = tg_sum(tg_square(a), naxes, axes, keepdim);
        tg_tensor *zero = tg_eq_scalar(s, 0.0);
        tg_tensor *safe = tg_where(zero, tg_ones_like(s), s);
        r = tg_where(zero, tg_zeros_like(s), tg_sqrt(safe));
    }
    else if (p == INFINITY) r = count == 0 ? tg_sum(a, naxes, axes, keepdim) : tg_max(a, naxes, axes, keepdim);
    else tg__error(TG_ERR_ARG, "tg_norm: p = %g is not supported (1, 2 or INFINITY)", p);
    COMPOSITE_END();
}

/* g summed down to shape (the VJP of broadcasting). */
tg_tensor *tg__sum_to(tg_tensor *g, int ndim, const int64_t *shape) {
    if (!g) return NULL;
    if (g->ndim == ndim && memcmp(g->shape, shape, (size_t)ndim * sizeof(int64_t)) == 0) return g;
    int lead = g->ndim - ndim, axes[TG_MAX_DIMS] = {0}, k = 0;
    for (int i = 0; i < g->ndim; i++) {
        if (i < lead) axes[k++] = i;
        else if (shape[i - lead] == 1 && g->shape[i] != 1) axes[k++] = i;
    }
    tg_tensor *s = tg_sum(g, k, axes, true);
    if (!s || lead == 0) return s;
    int sq[TG_MAX_DIMS];
    for (int i = 0; i < lead; i++) sq[i] = i;
    return tg_squeeze(s, lead, sq);
}

TG_REGISTER_OPS(reduce, &tg_op_sum, &tg_op_prod, &tg_op_max, &tg_op_min, &tg_op_all, &tg_op_any,
                &tg_op_argmax, &tg_op_argmin)
