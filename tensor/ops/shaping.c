/* Shaping ops: concat, pad, tril, triu (registered primitives) and stack,
 * split, flip (composites of public view ops, so autograd sees them through
 * their parts).
 *
 * The pairs are chosen so each VJP is one call: concat <-> split (sizes from
 * the inputs' shapes), pad <-> slice of the interior, tril/triu <-> the same
 * op on the cotangent, flip <-> flip. */
#include "tensor/ops/axis_lines.h"
#include "gpu/gpu.h"
#include "tangent/sizes.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- concat ---------------------------------------------------------------- */
static tg_status concat_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x0 = &c->in[0];
    if (x0->ndim == 0) return tg__op_error(c, TG_ERR_SHAPE, "0-d inputs cannot be concatenated");
    int axis;
    if (tg__norm_axis("tg_concat", (int)c->attrs->i[0], x0->ndim, &axis)) return TG_ERR_ARG;
    tg_dtype dt = x0->dtype;
    int64_t total = 0;
    for (int i = 0; i < c->n_in; i++) {
        const tg_meta *x = &c->in[i];
        char s0[160], si[160];
        bool same = x->ndim == x0->ndim;
        for (int d = 0; same && d < x->ndim; d++) same = d == axis || x->shape[d] == x0->shape[d];
        if (!same)
            return tg__op_error(c, TG_ERR_SHAPE, "input %d has shape %s, input 0 has %s: all axes but %d must match", i,
                                tg__fmt_shape(si, sizeof si, x->ndim, x->shape),
                                tg__fmt_shape(s0, sizeof s0, x0->ndim, x0->shape), axis);
        dt = tg_promote_types(dt, x->dtype);
        total = total >= TG_SYM_BASE || x->shape[axis] >= TG_SYM_BASE ? tg_size_add(total, x->shape[axis])
                                                                      : total + x->shape[axis];
    }
    out->dtype = dt;
    tg__meta_copy_shape(out, x0);
    out->shape[axis] = total;
    return tg__check_shape("tg_concat", dt, out->ndim, out->shape);
}

static tg_status concat_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int axis;
    tg__norm_axis("tg_concat", (int)c->attrs->i[0], in[0]->ndim, &axis);
    int64_t at = 0;
    for (int i = 0; i < c->n_in; i++) {
        int64_t len = in[i]->shape[axis];
        if (len == 0) continue;
        /* Each input lands in a window of the output; tg__copy_into casts. */
        tg_tensor win = *out[0];
        win.shape[axis] = len;
        win.offset += at * out[0]->strides[axis];
        if (tg__numel(win.ndim, win.shape) > 0) tg__copy_into(&win, in[i]);
        at += len;
    }
    return TG_OK;
}

/* ---- derivative rules of concat: split the cotangent ------------------------------ */
static tg_status concat_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                            tg_tensor **ic) {
    (void)out;
    int axis;
    if (tg__norm_axis("tg_concat", (int)c->attrs->i[0], in[0]->ndim, &axis)) return TG_ERR_ARG;
    int64_t at = 0;                                  /* symbolic when a part's length is */
    for (int i = 0; i < c->n_in; i++) {
        int64_t end = tg_size_add(at, in[i]->shape[axis]);
        if (end < 0) return tg_last_error_code();
        ic[i] = tg_slice(g[0], axis, at, end, 1);
        if (!ic[i]) return tg_last_error_code();
        at = end;
    }
    return TG_OK;
}
static tg_status concat_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                            tg_tensor **ot) {
    (void)out;
    tg_tensor *parts[TG_MAX_OP_INPUTS];
    for (int i = 0; i < c->n_in; i++) parts[i] = t[i] ? t[i] : tg_zeros_like(in[i]);
    ot[0] = tg__apply1(c->def, c->n_in, parts, c->attrs);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_concat = {.name = "concat", .n_in = -1, .n_out = 1, .infer = concat_infer,
                                .kernel = {[TG_CPU] = concat_kernel, [TG_VULKAN] = TG_VK(tg__vk_concat_kernel)}, .vjp = concat_vjp, .jvp = concat_jvp};

tg_tensor *tg_concat(int n, tg_tensor *const *xs, int axis) {
    if (n < 1 || !xs) return tg__error(TG_ERR_ARG, "tg_concat: needs at least one input (n = %d%s)", n,
                                       xs ? "" : ", xs NULL"), NULL;
    tg_attrs a = {.n_int = 1, .i = {axis}};
    if (n <= TG_MAX_OP_INPUTS) return tg__apply1(&tg_op_concat, n, xs, &a);
    /* More inputs than one op application takes: concatenate in groups. */
    int ng = (n + TG_MAX_OP_INPUTS - 1) / TG_MAX_OP_INPUTS;
    tg_tensor *parts[TG_MAX_OP_INPUTS];
    if (ng > TG_MAX_OP_INPUTS) return tg__error(TG_ERR_ARG, "tg_concat: too many inputs (%d)", n), NULL;
    tg_scope_begin();
    int g = 0;
    for (; g < ng; g++) {
        int lo = g * TG_MAX_OP_INPUTS, cnt = n - lo < TG_MAX_OP_INPUTS ? n - lo : TG_MAX_OP_INPUTS;
        if (!(parts[g] = tg__apply1(&tg_op_concat, cnt, xs + lo, &a))) break;
    }
    tg_tensor *r = g < ng ? NULL : tg__apply1(&tg_op_concat, ng, parts, &a);
    tg_keep(r);
    tg_scope_end();
    return r;
}

/* ---- stack: unsqueeze + concat --------------------------------------------- */
tg_tensor *tg_stack(int n, tg_tensor *const *xs, int axis) {
    if (n < 1 || !xs) return tg__error(TG_ERR_ARG, "tg_stack: needs at least one input (n = %d%s)", n,
                                       xs ? "" : ", xs NULL"), NULL;
    for (int i = 0; i < n; i++)
        if (!xs[i]) return tg__error(TG_ERR_ARG, "tg_stack: input %d is NULL", i), NULL;
    const tg_tensor *x0 = xs[0];
    for (int i = 1; i < n; i++) {
        bool same = xs[i]->ndim == x0->ndim;
        for (int d = 0; same && d < x0->ndim; d++) same = xs[i]->shape[d] == x0->shape[d];
        if (!same) {
            char s0[160], si[160];
            return tg__error(TG_ERR_SHAPE, "tg_stack: input %d has shape %s, input 0 has %s; all must match", i,
                             tg__fmt_shape(si, sizeof si, xs[i]->ndim, xs[i]->shape),
                             tg__fmt_shape(s0, sizeof s0, x0->ndim, x0->shape)), NULL;
        }
    }
    int a;
    if (tg__norm_axis("tg_stack", axis, x0->ndim + 1, &a)) return NULL;
    tg_tensor **u = malloc((size_t)n * sizeof *u);
    if (!u) return tg__error(TG_ERR_MEMORY, "tg_stack: out of memory"), NULL;
    tg_scope_begin();
    tg_tensor *r = NULL;
    int i = 0;
    for (; i < n; i++)
        if (!(u[i] = tg_unsqueeze(xs[i], a))) break;
    if (i == n) r = tg_concat(n, u, a);
    tg_keep(r);
    tg_scope_end();
    free(u);
    return r;
}

/* ---- split: views made with tg_slice ---------------------------------------- */
tg_status tg_split(tg_tensor *x, int axis, int n_out, const int64_t *sizes, tg_tensor **outs) {
    if (!outs) return tg__error(TG_ERR_ARG, "tg_split: outs is NULL");
    for (int i = 0; i < n_out; i++) outs[i] = NULL;
    if (!x) return tg__error(TG_ERR_ARG, "tg_split: input is NULL");
    if (n_out < 1) return tg__error(TG_ERR_ARG, "tg_split: n_out is %d, needs at least 1", n_out);
    int a;
    if (tg__norm_axis("tg_split", axis, x->ndim, &a)) return TG_ERR_ARG;
    int64_t len = x->shape[a];
    if (!sizes && len % n_out)
        return tg__error(TG_ERR_SHAPE, "tg_split: axis %d of size %lld does not divide into %d equal pieces", axis,
                         (long long)len, n_out);
    for (int i = 0; sizes && i < n_out; i++)
        if (sizes[i] < 0)
            return tg__error(TG_ERR_ARG, "tg_split: size %lld of piece %d is negative", (long long)sizes[i], i);
    int64_t sum = 0;
    for (int i = 0; sizes && i < n_out; i++) {
        if (sizes[i] > len - sum) {   /* also keeps the sum from overflowing */
            sum = len + 1;
            break;
        }
        sum += sizes[i];
    }
    if (sizes && sum != len) {
        char s[160], z[64];
        return tg__error(TG_ERR_SHAPE, "tg_split: sizes do not sum to %s, the size of axis %d of shape %s",
                         tg__fmt_size(z, sizeof z, len), axis, tg__fmt_shape(s, sizeof s, x->ndim, x->shape));
    }
    tg_scope_begin();
    int64_t at = 0;
    int i = 0;
    for (; i < n_out; i++) {
        int64_t piece = sizes ? sizes[i] : len / n_out;
        if (!(outs[i] = tg_slice(x, a, at, at + piece, 1))) break;
        at += piece;
    }
    tg_status st = i == n_out ? TG_OK : tg_last_error_code();
    for (int k = 0; k < n_out; k++) {
        if (st == TG_OK) tg_keep(outs[k]);
        else outs[k] = NULL;           /* released by the scope */
    }
    tg_scope_end();
    return st;
}

/* ---- pad: constant value around x -------------------------------------------- */
/* attrs: i[2*d], i[2*d+1] pads before/after axis d; d[0] the value. */
static tg_status pad_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    tg__meta_copy_shape(out, x);
    for (int d = 0; d < x->ndim; d++) {
        for (int s = 0; s < 2; s++) {
            int64_t p = c->attrs->i[2 * d + s];
            if (p < 0)
                return tg__op_error(c, TG_ERR_ARG, "pad %lld %s axis %d is negative", (long long)p,
                                    s ? "after" : "before", d);
            if (out->shape[d] < TG_SYM_BASE && p > INT64_MAX / 4 - out->shape[d])
                return tg__op_error(c, TG_ERR_SHAPE, "pad %lld on axis %d overflows the size", (long long)p, d);
            out->shape[d] = out->shape[d] >= TG_SYM_BASE ? tg_size_add(out->shape[d], p) : out->shape[d] + p;
        }
    }
    out->dtype = x->dtype;
    return tg__check_shape("tg_pad", x->dtype, out->ndim, out->shape);
}

static tg_status pad_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = in[0], *o = out[0];
    if (tg__numel(x->ndim, x->shape) < tg__numel(o->ndim, o->shape)) {
        tg_tensor *v = tg__alloc(TG_F64, 0, NULL);
        if (!v) return TG_ERR_MEMORY;
        *(double *)tg__ptr(v) = c->attrs->d[0];
        tg__copy_into(o, v);               /* broadcast fill, cast to o's dtype */
        tg_release(v);
    }
    tg_tensor win = *o;
    for (int d = 0; d < x->ndim; d++) {
        win.shape[d] = x->shape[d];
        win.offset += c->attrs->i[2 * d] * o->strides[d];
    }
    if (tg__numel(x->ndim, x->shape) > 0) tg__copy_into(&win, x);
    return TG_OK;
}

/* pad's adjoint keeps the interior of the cotangent. */
static tg_status pad_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)out;
    tg_tensor *r = g[0];
    for (int d = 0; d < in[0]->ndim && r; d++)        /* unpadded axes stay whole (they may be symbolic) */
        if (c->attrs->i[2 * d] || c->attrs->i[2 * d + 1])
            r = tg_slice(r, d, c->attrs->i[2 * d], c->attrs->i[2 * d] + in[0]->shape[d], 1);
    ic[0] = r;
    return TG_RULE_RESULT(ic[0]);
}
static tg_status pad_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)in; (void)out;
    tg_attrs a = *c->attrs;
    a.d[0] = 0;                        /* the padding value is a constant */
    ot[0] = tg__apply1(c->def, 1, t, &a);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_pad = {.name = "pad", .n_in = 1, .n_out = 1, .infer = pad_infer,
                             .kernel = {[TG_CPU] = pad_kernel, [TG_VULKAN] = TG_VK(tg__vk_pad_kernel)}, .vjp = pad_vjp, .jvp = pad_jvp};

tg_tensor *tg_pad(tg_tensor *x, const int64_t *pads, double value) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_pad: input is NULL"), NULL;
    if (x->ndim > 0 && !pads) return tg__error(TG_ERR_ARG, "tg_pad: pads is NULL"), NULL;
    tg_attrs a = {.n_int = 2 * x->ndim, .n_real = 1, .d = {value}};
    for (int k = 0; k < 2 * x->ndim; k++) a.i[k] = pads[k];
    return tg__apply1(&tg_op_pad, 1, &x, &a);
}

/* ---- flip: a view with negative strides --------------------------------------- */
tg_tensor *tg_flip(tg_tensor *x, int naxes, const int *axes) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_flip: input is NULL"), NULL;
    bool mask[TG_MAX_DIMS];
    if (naxes > TG_MAX_DIMS) return tg__error(TG_ERR_ARG, "tg_flip: %d axes for rank %d", naxes, x->ndim), NULL;
    if (tg__axes_mask("tg_flip", naxes, axes, x->ndim, mask)) return NULL;
    tg_scope_begin();
    tg_tensor *r = x;
    for (int d = 0; d < x->ndim && r; d++)
        if (mask[d]) r = tg_slice(r, d, TG_NONE, TG_NONE, -1);
    /* No axis to flip: still a new view, recorded like any other op. */
    if (r == x) r = tg_expand(x, x->ndim, x->shape);
    tg_keep(r);
    tg_scope_end();
    return r;
}

/* ---- tril / triu (NumPy k: tril keeps j - i <= k, triu keeps j - i >= k) ---- */
static tg_status tri_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    if (x->ndim < 2) return tg__op_error(c, TG_ERR_SHAPE, "needs at least 2 axes, got %d", x->ndim);
    out->dtype = x->dtype;
    tg__meta_copy_shape(out, x);
    return TG_OK;
}

static tg_status tri_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    bool upper = *(const int *)c->def->impl;
    tg_tensor *o = out[0];
    tg__copy_into(o, in[0]);
    int64_t R = o->shape[o->ndim - 2], C = o->shape[o->ndim - 1], k = c->attrs->i[0];
    int64_t rows = tg__numel(o->ndim - 1, o->shape);
    if (rows == 0 || C == 0) return TG_OK;
    if (k > C) k = C;                      /* keeps i + k from overflowing */
    if (k < -R) k = -R;
    size_t es = tg_dtype_size(o->dtype);
    char *ob = tg__ptr(o);
    TG_PARALLEL_FOR(rows * C > TG_PARALLEL_GRAIN,
    for (int64_t r = 0; r < rows; r++) {
        int64_t i = r % R, lo, hi;         /* zeroed columns [lo, hi) */
        if (upper) { lo = 0; hi = i + k; }
        else { lo = i + k + 1; hi = C; }
        if (lo < 0) lo = 0;
        if (hi > C) hi = C;
        if (lo < hi) memset(ob + (r * C + lo) * (int64_t)es, 0, (size_t)(hi - lo) * es);   /* 0 bits are 0 in every dtype */
    });
    return TG_OK;
}

static const int tri_lower = 0, tri_upper = 1;
/* tril/triu are projections: their own adjoints. */
static tg_status tri_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)in; (void)out;
    ic[0] = tg__apply1(c->def, 1, g, c->attrs);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status tri_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)in; (void)out;
    ot[0] = tg__apply1(c->def, 1, t, c->attrs);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_tril = {.name = "tril", .n_in = 1, .n_out = 1, .infer = tri_infer,
                              .kernel = {[TG_CPU] = tri_kernel, [TG_VULKAN] = TG_VK(tg__vk_tri_kernel)}, .vjp = tri_vjp, .jvp = tri_jvp, .impl = &tri_lower};
const tg_op_def tg_op_triu = {.name = "triu", .n_in = 1, .n_out = 1, .infer = tri_infer,
                              .kernel = {[TG_CPU] = tri_kernel, [TG_VULKAN] = TG_VK(tg__vk_tri_kernel)}, .vjp = tri_vjp, .jvp = tri_jvp, .impl = &tri_upper};

tg_tensor *tg_tril(tg_tensor *x, int64_t k) {
    tg_attrs a = {.n_int = 1, .i = {k}};
    return tg__apply1(&tg_op_tril, 1, &x, &a);
}
tg_tensor *tg_triu(tg_tensor *x, int64_t k) {
    tg_attrs a = {.n_int = 1, .i = {k}};
    return tg__apply1(&tg_op_triu, 1, &x, &a);
}

TG_REGISTER_OPS(shaping, &tg_op_concat, &tg_op_pad, &tg_op_tril, &tg_op_triu)
