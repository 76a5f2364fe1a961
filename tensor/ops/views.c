/* View ops: outputs share storage with the input (reshape copies only when
 * the strides forbid a view). Infer validates and computes output shapes;
 * kernels compute the view geometry. */
#include "tensor/ops/elementwise.h"
#include "gpu/gpu.h"
#include "tangent/sizes.h"

#include <stdio.h>
#include <string.h>


/* ---- derivative rules ------------------------------------------------------ */
/* Reshape-like views (reshape, squeeze, unsqueeze): shape back and forth. */
static tg_status reshape_like_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                  tg_tensor *const *g, tg_tensor **ic) {
    (void)c; (void)out;
    ic[0] = tg_reshape(g[0], in[0]->ndim, in[0]->shape);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status reshape_like_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                  tg_tensor *const *t, tg_tensor **ot) {
    (void)c; (void)in;
    ot[0] = tg_reshape(t[0], out[0]->ndim, out[0]->shape);
    return TG_RULE_RESULT(ot[0]);
}
/* The view op of a call applied to another tensor (the JVP of every view). */
static tg_status same_view_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                               tg_tensor *const *t, tg_tensor **ot) {
    (void)in; (void)out;
    ot[0] = tg__apply1(c->def, 1, t, c->attrs);
    return TG_RULE_RESULT(ot[0]);
}
static tg_status view_scatter_vjp_of(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                     tg_tensor *const *g, tg_tensor **ic);

/* ---- reshape ------------------------------------------------------------ */
/* Product of sizes, symbolic or not; -1 (and an error) on overflow. */
static int64_t size_product(int n, const int64_t *s) {
    int64_t p = 1;
    for (int i = 0; i < n; i++) {
        if (p >= TG_SYM_BASE || s[i] >= TG_SYM_BASE) p = tg_size_mul(p, s[i]);
        else if (s[i] && p > INT64_MAX / 16 / s[i]) return -1;
        else p *= s[i];
        if (p < 0) return -1;
    }
    return p;
}

static tg_status reshape_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    int n = c->attrs->n_int;
    if (n < 0 || n > TG_MAX_DIMS) return tg__op_error(c, TG_ERR_SHAPE, "rank %d is outside [0, %d]", n, TG_MAX_DIMS);
    int infer_at = -1;
    for (int i = 0; i < n; i++) {
        int64_t s = c->attrs->i[i];
        if (s == -1) {
            if (infer_at >= 0) return tg__op_error(c, TG_ERR_SHAPE, "more than one size is -1");
            infer_at = i;
            out->shape[i] = 1;
        } else if (s < 0) {
            return tg__op_error(c, TG_ERR_SHAPE, "size %lld is negative", (long long)s);
        } else {
            out->shape[i] = s;
        }
    }
    int64_t known = size_product(n, out->shape), numel = size_product(x->ndim, x->shape);
    if (known < 0 || numel < 0) return tg__op_error(c, TG_ERR_SHAPE, "shape overflows");
    if (infer_at >= 0) {
        bool symbolic = known >= TG_SYM_BASE || numel >= TG_SYM_BASE;
        int64_t q = known == 0 ? -1 : symbolic ? tg_size_floordiv(numel, known) : numel / known;
        /* the -1 size must divide exactly, provably so for symbolic sizes */
        if (q < 0 || (symbolic ? tg_size_mul(q, known) != numel : numel % known != 0)) {
            char a[160], b[160];
            return tg__op_error(c, TG_ERR_SHAPE, "cannot infer the -1 size: %s elements into blocks of %s",
                                tg__fmt_shape(a, sizeof a, 1, &numel), tg__fmt_shape(b, sizeof b, 1, &known));
        }
        out->shape[infer_at] = q;
        known = numel;
    }
    if (known != numel) {
        char a[160], b[160];
        return tg__op_error(c, TG_ERR_SHAPE, "cannot reshape %s elements into %s",
                            tg__fmt_shape(a, sizeof a, 1, &numel), tg__fmt_shape(b, sizeof b, n, out->shape));
    }
    out->ndim = n;
    out->dtype = x->dtype;
    return TG_OK;
}

/* Strides for viewing x as (n, shape) without a copy, NumPy's rule: each
 * group of old axes merged or split must be contiguous within itself.
 * Returns false when no view exists. */
static bool view_strides(const tg_tensor *x, int n, const int64_t *shape, int64_t *st) {
    int64_t numel = tg__numel(n, shape);
    if (numel == 0 || numel == 1) {
        tg__contiguous_strides(n, shape, st);
        return true;
    }
    /* old axes without size-1 ones */
    int64_t od[TG_MAX_DIMS], os[TG_MAX_DIMS];
    int on = 0;
    for (int i = 0; i < x->ndim; i++)
        if (x->shape[i] != 1) { od[on] = x->shape[i]; os[on] = x->strides[i]; on++; }
    int oi = 0, oj = 1, ni = 0, nj = 1;
    while (ni < n && oi < on) {
        int64_t np = shape[ni], op = od[oi];
        while (np != op) {
            if (np < op) np *= shape[nj++];
            else op *= od[oj++];
        }
        for (int k = oi; k < oj - 1; k++)
            if (os[k] != od[k + 1] * os[k + 1]) return false;
        st[nj - 1] = os[oj - 1];
        for (int k = nj - 1; k > ni; k--) st[k - 1] = st[k] * shape[k];
        ni = nj++;
        oi = oj++;
    }
    int64_t last = ni >= 1 ? st[ni - 1] : 1;     /* trailing size-1 axes */
    for (int k = ni; k < n; k++) st[k] = last;
    return true;
}

static tg_status reshape_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_meta m;
    reshape_infer(c, &m);
    tg_tensor *x = in[0];
    int64_t st[TG_MAX_DIMS];
    bool copy_ok = c->attrs->n_real == 0;      /* tg_view sets d[0] to forbid copies */
    if (view_strides(x, m.ndim, m.shape, st)) {
        out[0] = tg__make_view(x, x->dtype, m.ndim, m.shape, st, x->offset);
    } else if (!copy_ok) {
        return tg__op_error(c, TG_ERR_SHAPE, "cannot view this tensor with the new shape without a copy; use tg_reshape");
    } else {
        tg_tensor *y = tg__cast_raw(x, x->dtype);
        if (!y) return tg_last_error_code();
        if (y == x) {      /* was contiguous after all: cannot happen, but stay safe */
            tg_release(y);
            y = tg__alloc(x->dtype, x->ndim, x->shape);
            if (!y) return TG_ERR_MEMORY;
            tg__copy_into(y, x);
        }
        tg__contiguous_strides(m.ndim, m.shape, st);
        out[0] = tg__make_view(y, y->dtype, m.ndim, m.shape, st, 0);
        tg_release(y);
    }
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}

/* Vulkan: the same view, or a contiguous copy made on the device. */
static tg_status reshape_kernel_vk(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_meta m;
    reshape_infer(c, &m);
    int64_t st[TG_MAX_DIMS];
    if (view_strides(in[0], m.ndim, m.shape, st) || c->attrs->n_real != 0) return reshape_kernel(c, in, out);
    tg_tensor *y = tg__vk_contiguous(in[0]);
    if (!y) return tg_last_error_code();
    tg__contiguous_strides(m.ndim, m.shape, st);
    out[0] = tg__make_view(y, y->dtype, m.ndim, m.shape, st, 0);
    tg_release(y);
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}

const tg_op_def tg_op_reshape = {.name = "reshape", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                                 .infer = reshape_infer, .kernel = {[TG_CPU] = reshape_kernel, [TG_VULKAN] = reshape_kernel_vk}, .vjp = reshape_like_vjp, .jvp = reshape_like_jvp};

static tg_tensor *reshape_common(tg_tensor *x, int ndim, const int64_t *shape, bool allow_copy, const char *op) {
    if (ndim < 0 || ndim > TG_MAX_DIMS)
        return tg__error(TG_ERR_SHAPE, "%s: rank %d is outside [0, %d]", op, ndim, TG_MAX_DIMS), NULL;
    if (ndim > 0 && !shape) return tg__error(TG_ERR_ARG, "%s: shape is NULL", op), NULL;
    tg_attrs a = {.n_int = ndim, .n_real = allow_copy ? 0 : 1};
    if (ndim > 0) memcpy(a.i, shape, (size_t)ndim * sizeof *shape);
    return tg__apply1(&tg_op_reshape, 1, &x, &a);
}
tg_tensor *tg_reshape(tg_tensor *x, int ndim, const int64_t *shape) {
    return reshape_common(x, ndim, shape, true, "tg_reshape");
}
tg_tensor *tg_view(tg_tensor *x, int ndim, const int64_t *shape) {
    return reshape_common(x, ndim, shape, false, "tg_view");
}
tg_tensor *tg_flatten(tg_tensor *x) {
    int64_t m1 = -1;
    return tg_reshape(x, 1, &m1);
}

/* ---- permute ------------------------------------------------------------ */
static tg_status permute_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    bool seen[TG_MAX_DIMS] = {false};
    for (int i = 0; i < x->ndim; i++) {
        int64_t p = c->attrs->i[i];
        if (p < 0) p += x->ndim;
        if (p < 0 || p >= x->ndim)
            return tg__op_error(c, TG_ERR_ARG, "axis %lld is out of range", (long long)c->attrs->i[i]);
        if (seen[p]) return tg__op_error(c, TG_ERR_ARG, "axis %lld is repeated", (long long)c->attrs->i[i]);
        seen[p] = true;
        out->shape[i] = x->shape[p];
    }
    out->ndim = x->ndim;
    out->dtype = x->dtype;
    return TG_OK;
}
static tg_status permute_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = in[0];
    int64_t sh[TG_MAX_DIMS], st[TG_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        int64_t p = c->attrs->i[i] < 0 ? c->attrs->i[i] + x->ndim : c->attrs->i[i];
        sh[i] = x->shape[p];
        st[i] = x->strides[p];
    }
    out[0] = tg__make_view(x, x->dtype, x->ndim, sh, st, x->offset);
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}
static tg_status permute_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                             tg_tensor *const *g, tg_tensor **ic) {
    (void)out;
    int inv[TG_MAX_DIMS];
    for (int i = 0; i < in[0]->ndim; i++) {
        int64_t p = c->attrs->i[i] < 0 ? c->attrs->i[i] + in[0]->ndim : c->attrs->i[i];
        inv[p] = i;
    }
    ic[0] = tg_permute(g[0], inv);
    return TG_RULE_RESULT(ic[0]);
}
const tg_op_def tg_op_permute = {.name = "permute", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                                 .infer = permute_infer, .kernel = {[TG_CPU] = permute_kernel, [TG_VULKAN] = permute_kernel}, .vjp = permute_vjp, .jvp = same_view_jvp};

tg_tensor *tg_permute(tg_tensor *x, const int *perm) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_permute: input is NULL"), NULL;
    if (x->ndim > 0 && !perm) return tg__error(TG_ERR_ARG, "tg_permute: perm is NULL"), NULL;
    tg_attrs a = {.n_int = x->ndim};
    for (int i = 0; i < x->ndim; i++) a.i[i] = perm[i];
    return tg__apply1(&tg_op_permute, 1, &x, &a);
}

tg_tensor *tg_transpose(tg_tensor *x, int axis0, int axis1) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_transpose: input is NULL"), NULL;
    int a, b, perm[TG_MAX_DIMS];
    if (tg__norm_axis("tg_transpose", axis0, x->ndim, &a) || tg__norm_axis("tg_transpose", axis1, x->ndim, &b))
        return NULL;
    for (int i = 0; i < x->ndim; i++) perm[i] = i;
    perm[a] = b;
    perm[b] = a;
    return tg_permute(x, perm);
}

tg_tensor *tg_mT(tg_tensor *x) {
    if (x && x->ndim < 2) return tg__error(TG_ERR_SHAPE, "tg_mT: needs at least 2 axes, got %d", x->ndim), NULL;
    return tg_transpose(x, -2, -1);
}

/* ---- slice ---------------------------------------------------------------- */
/* Python's slice.indices(): start, length and step of the selection. */
static tg_status slice_indices(const tg_op_call *c, int64_t n, int64_t *start, int64_t *len, int64_t *step) {
    int64_t b = c->attrs->i[1], e = c->attrs->i[2], s = c->attrs->i[3];
    if (s == TG_NONE) s = 1;
    if (s == 0) return tg__op_error(c, TG_ERR_ARG, "step is zero");
    if (b == TG_NONE) b = s > 0 ? 0 : n - 1;
    else {
        if (b < 0) b += n;
        if (b < 0) b = s < 0 ? -1 : 0;
        else if (b >= n) b = s < 0 ? n - 1 : n;
    }
    if (e == TG_NONE) e = s > 0 ? n : -1;
    else {
        if (e < 0) e += n;
        if (e < 0) e = s < 0 ? -1 : 0;
        else if (e >= n) e = s < 0 ? n - 1 : n;
    }
    int64_t l;
    if (s > 0) l = e > b ? (e - b - 1) / s + 1 : 0;
    else l = b > e ? (b - e - 1) / (-s) + 1 : 0;
    *start = b;
    *len = l;
    *step = s;
    return TG_OK;
}
static tg_status slice_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    int axis;
    if (x->ndim == 0) return tg__op_error(c, TG_ERR_ARG, "cannot slice a 0-d tensor");
    if ((int)c->attrs->i[0] != c->attrs->i[0] || tg__norm_axis("tg_slice", (int)c->attrs->i[0], x->ndim, &axis))
        return TG_ERR_ARG;
    int64_t b, l, s;
    if (x->shape[axis] >= TG_SYM_BASE) {
        /* A symbolic axis of size n: bounds are taken as given, without
         * Python's clamping, and the conditions that make them valid (0 <=
         * start <= stop <= n) are checked when tg_run binds n. */
        int64_t n = x->shape[axis], st = c->attrs->i[1], sp = c->attrs->i[2], sd = c->attrs->i[3];
        if (sd == TG_NONE) sd = 1;
        *out = *x;
        out->weak = false;
        if (sd == -1 && st == TG_NONE && sp == TG_NONE) return TG_OK;          /* full reverse */
        if (sd <= 0)
            return tg__op_error(c, TG_ERR_UNSUPPORTED, "a negative step on symbolic axis %d is not supported yet", axis);
        int64_t lo = st == TG_NONE ? 0 : st >= 0 ? st : tg_size_sub(n, -st);
        int64_t hi = sp == TG_NONE ? n : sp >= 0 ? sp : tg_size_sub(n, -sp);
        if (lo < 0 || hi < 0) return tg_last_error_code();
        char what[96];
        snprintf(what, sizeof what, "tg_slice of axis %d", axis);
        if ((st != TG_NONE && st < 0 && tg__require(n, -st, what)) || tg__require(n, hi, what) ||
            tg__require(hi, lo, what))
            return tg_last_error_code();
        /* length ceil((hi - lo) / step) */
        int64_t len = tg_size_floordiv(tg_size_add(tg_size_sub(hi, lo), sd - 1), sd);
        if (len < 0) return tg_last_error_code();
        out->shape[axis] = len;
        return TG_OK;
    }
    if (slice_indices(c, x->shape[axis], &b, &l, &s)) return TG_ERR_ARG;
    *out = *x;
    out->weak = false;
    out->shape[axis] = l;
    return TG_OK;
}
static tg_status slice_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = in[0];
    int axis;
    tg__norm_axis("tg_slice", (int)c->attrs->i[0], x->ndim, &axis);
    int64_t b, l, s;
    slice_indices(c, x->shape[axis], &b, &l, &s);
    int64_t sh[TG_MAX_DIMS], st[TG_MAX_DIMS];
    memcpy(sh, x->shape, sizeof sh);
    memcpy(st, x->strides, sizeof st);
    sh[axis] = l;
    st[axis] = x->strides[axis] * s;
    int64_t off = x->offset + (l > 0 ? b * x->strides[axis] : 0);
    out[0] = tg__make_view(x, x->dtype, x->ndim, sh, st, off);
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}
const tg_op_def tg_op_slice = {.name = "slice", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                               .infer = slice_infer, .kernel = {[TG_CPU] = slice_kernel, [TG_VULKAN] = slice_kernel}, .vjp = view_scatter_vjp_of, .jvp = same_view_jvp};

tg_tensor *tg_slice(tg_tensor *x, int axis, int64_t start, int64_t stop, int64_t step) {
    tg_attrs a = {.n_int = 4, .i = {axis, start, stop, step}};
    return tg__apply1(&tg_op_slice, 1, &x, &a);
}

tg_tensor *tg_select(tg_tensor *x, int axis, int64_t index) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_select: input is NULL"), NULL;
    int a;
    if (tg__norm_axis("tg_select", axis, x->ndim, &a)) return NULL;
    int64_t n = x->shape[a];
    if (n >= TG_SYM_BASE) {
        /* a symbolic axis: slice with the index as given (the slice records
         * the bound for tg_run); -1 selects the last element */
        tg_scope_begin();
        tg_tensor *r = tg_squeeze(tg_slice(x, a, index, index == -1 ? TG_NONE : index + 1, 1), 1, &a);
        tg_keep(r);
        tg_scope_end();
        return r;
    }
    int64_t i = index < 0 ? index + n : index;
    char z[64], s[160];
    if (i < 0 || i >= n)
        return tg__error(TG_ERR_ARG, "tg_select: index %lld is out of range for axis %d of size %s of shape %s",
                         (long long)index, axis, tg__fmt_size(z, sizeof z, n),
                         tg__fmt_shape(s, sizeof s, x->ndim, x->shape)), NULL;
    tg_scope_begin();
    tg_tensor *r = tg_squeeze(tg_slice(x, a, i, i + 1, 1), 1, &a);
    tg_keep(r);
    tg_scope_end();
    return r;
}

/* ---- expand --------------------------------------------------------------- */
static tg_status expand_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    int n = c->attrs->n_int;
    if (n < x->ndim || n > TG_MAX_DIMS)
        return tg__op_error(c, TG_ERR_SHAPE, "target rank %d is smaller than the input's or above %d", n, TG_MAX_DIMS);
    for (int i = 0; i < n; i++) {
        int j = i - (n - x->ndim);
        int64_t t = c->attrs->i[i];
        if (j < 0) {
            if (t < 0) return tg__op_error(c, TG_ERR_SHAPE, "size %lld for a new leading axis", (long long)t);
            out->shape[i] = t;
        } else if (t == -1 || t == x->shape[j]) {
            out->shape[i] = x->shape[j];
        } else if (x->shape[j] == 1 && t >= 0) {
            out->shape[i] = t;
        } else {
            char zx[64], zt[64];
            return tg__op_error(c, TG_ERR_SHAPE, "axis %d of size %s cannot expand to %s", j,
                                tg__fmt_size(zx, sizeof zx, x->shape[j]), tg__fmt_size(zt, sizeof zt, t));
        }
    }
    out->ndim = n;
    out->dtype = x->dtype;
    /* a view, but its element count must fit what kernels count in */
    return tg__check_shape("tg_expand", x->dtype, n, out->shape) ? tg_last_error_code() : TG_OK;
}
static tg_status expand_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_meta m;
    expand_infer(c, &m);
    int64_t st[TG_MAX_DIMS];
    tg__broadcast_strides(in[0], m.ndim, m.shape, st);
    out[0] = tg__make_view(in[0], in[0]->dtype, m.ndim, m.shape, st, in[0]->offset);
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}
static tg_status expand_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                            tg_tensor *const *g, tg_tensor **ic) {
    (void)c; (void)out;
    ic[0] = tg__sum_to(g[0], in[0]->ndim, in[0]->shape);
    return TG_RULE_RESULT(ic[0]);
}
const tg_op_def tg_op_expand = {.name = "expand", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                                .infer = expand_infer, .kernel = {[TG_CPU] = expand_kernel, [TG_VULKAN] = expand_kernel}, .vjp = expand_vjp, .jvp = same_view_jvp};

tg_tensor *tg_expand(tg_tensor *x, int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > TG_MAX_DIMS)
        return tg__error(TG_ERR_SHAPE, "tg_expand: rank %d is outside [0, %d]", ndim, TG_MAX_DIMS), NULL;
    if (ndim > 0 && !shape) return tg__error(TG_ERR_ARG, "tg_expand: shape is NULL"), NULL;
    tg_attrs a = {.n_int = ndim};
    memcpy(a.i, shape, (size_t)ndim * sizeof *shape);
    return tg__apply1(&tg_op_expand, 1, &x, &a);
}
tg_tensor *tg_broadcast_to(tg_tensor *x, int ndim, const int64_t *shape) { return tg_expand(x, ndim, shape); }

/* ---- squeeze / unsqueeze ---------------------------------------------------- */
static tg_status squeeze_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    bool drop[TG_MAX_DIMS] = {false};
    if (c->attrs->n_real) {                /* all size-1 axes */
        for (int i = 0; i < x->ndim; i++) drop[i] = x->shape[i] == 1;
    } else {
        for (int k = 0; k < c->attrs->n_int; k++) {
            int a;
            if (tg__norm_axis("tg_squeeze", (int)c->attrs->i[k], x->ndim, &a)) return TG_ERR_ARG;
            if (drop[a]) return tg__op_error(c, TG_ERR_ARG, "axis %lld is repeated", (long long)c->attrs->i[k]);
            if (x->shape[a] != 1)
            {
                char z[64];
                return tg__op_error(c, TG_ERR_SHAPE, "axis %d has size %s, not 1", a,
                                    tg__fmt_size(z, sizeof z, x->shape[a]));
            }
            drop[a] = true;
        }
    }
    out->ndim = 0;
    for (int i = 0; i < x->ndim; i++)
        if (!drop[i]) out->shape[out->ndim++] = x->shape[i];
    out->dtype = x->dtype;
    return TG_OK;
}
static tg_status reshape_to_meta(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out,
                                 tg_status (*infer)(const tg_op_call *, tg_meta *)) {
    tg_meta m;
    infer(c, &m);
    /* Adding or removing size-1 axes never needs a copy. */
    int64_t st[TG_MAX_DIMS];
    bool ok = view_strides(in[0], m.ndim, m.shape, st);
    (void)ok;
    out[0] = tg__make_view(in[0], in[0]->dtype, m.ndim, m.shape, st, in[0]->offset);
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}
static tg_status squeeze_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return reshape_to_meta(c, in, out, squeeze_infer);
}
const tg_op_def tg_op_squeeze = {.name = "squeeze", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                                 .infer = squeeze_infer, .kernel = {[TG_CPU] = squeeze_kernel, [TG_VULKAN] = squeeze_kernel}, .vjp = reshape_like_vjp, .jvp = reshape_like_jvp};

tg_tensor *tg_squeeze(tg_tensor *x, int naxes, const int *axes) {
    if (naxes < 0 || naxes > TG_MAX_DIMS || (naxes > 0 && !axes))
        return tg__error(TG_ERR_ARG, "tg_squeeze: bad axis list (%d axes)", naxes), NULL;
    tg_attrs a = {.n_int = naxes, .n_real = naxes == 0 && !axes ? 1 : 0};
    for (int i = 0; i < naxes; i++) a.i[i] = axes[i];
    return tg__apply1(&tg_op_squeeze, 1, &x, &a);
}

static tg_status unsqueeze_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    if (x->ndim >= TG_MAX_DIMS) return tg__op_error(c, TG_ERR_SHAPE, "rank would exceed %d", TG_MAX_DIMS);
    int a;
    if (tg__norm_axis("tg_unsqueeze", (int)c->attrs->i[0], x->ndim + 1, &a)) return TG_ERR_ARG;
    out->ndim = x->ndim + 1;
    for (int i = 0, j = 0; i < out->ndim; i++) out->shape[i] = i == a ? 1 : x->shape[j++];
    out->dtype = x->dtype;
    return TG_OK;
}
static tg_status unsqueeze_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return reshape_to_meta(c, in, out, unsqueeze_infer);
}
const tg_op_def tg_op_unsqueeze = {.name = "unsqueeze", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                                   .infer = unsqueeze_infer, .kernel = {[TG_CPU] = unsqueeze_kernel, [TG_VULKAN] = unsqueeze_kernel}, .vjp = reshape_like_vjp, .jvp = reshape_like_jvp};
tg_tensor *tg_unsqueeze(tg_tensor *x, int axis) {
    tg_attrs a = {.n_int = 1, .i = {axis}};
    return tg__apply1(&tg_op_unsqueeze, 1, &x, &a);
}

/* ---- diagonal --------------------------------------------------------------- */
static tg_status diagonal_geometry(const tg_op_call *c, const tg_meta *x, int *a1, int *a2, int64_t *len) {
    if (x->ndim < 2) return tg__op_error(c, TG_ERR_SHAPE, "needs at least 2 axes");
    if (tg__norm_axis("tg_diagonal", (int)c->attrs->i[1], x->ndim, a1) ||
        tg__norm_axis("tg_diagonal", (int)c->attrs->i[2], x->ndim, a2))
        return TG_ERR_ARG;
    if (*a1 == *a2) return tg__op_error(c, TG_ERR_ARG, "axis1 and axis2 are the same axis");
    if (x->shape[*a1] >= TG_SYM_BASE || x->shape[*a2] >= TG_SYM_BASE)
        return tg__op_error(c, TG_ERR_UNSUPPORTED, "the diagonal of symbolic axes is not supported yet");
    int64_t off = c->attrs->i[0], n1 = x->shape[*a1], n2 = x->shape[*a2];
    int64_t l = off >= 0 ? (n1 < n2 - off ? n1 : n2 - off) : (n1 + off < n2 ? n1 + off : n2);
    *len = l > 0 ? l : 0;
    return TG_OK;
}
static tg_status diagonal_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    int a1, a2;
    int64_t len;
    if (diagonal_geometry(c, x, &a1, &a2, &len)) return tg_last_error_code();
    out->ndim = 0;
    for (int i = 0; i < x->ndim; i++)
        if (i != a1 && i != a2) out->shape[out->ndim++] = x->shape[i];
    out->shape[out->ndim++] = len;
    out->dtype = x->dtype;
    return TG_OK;
}
static tg_status diagonal_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = in[0];
    int a1, a2;
    int64_t len;
    diagonal_geometry(c, &c->in[0], &a1, &a2, &len);
    int64_t sh[TG_MAX_DIMS], st[TG_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < x->ndim; i++)
        if (i != a1 && i != a2) { sh[n] = x->shape[i]; st[n] = x->strides[i]; n++; }
    sh[n] = len;
    st[n] = x->strides[a1] + x->strides[a2];
    int64_t off = c->attrs->i[0];
    int64_t start = len == 0 ? 0 : off >= 0 ? off * x->strides[a2] : -off * x->strides[a1];
    out[0] = tg__make_view(x, x->dtype, n + 1, sh, st, x->offset + start);
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}
const tg_op_def tg_op_diagonal = {.name = "diagonal", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                                  .infer = diagonal_infer, .kernel = {[TG_CPU] = diagonal_kernel, [TG_VULKAN] = diagonal_kernel}, .vjp = view_scatter_vjp_of, .jvp = same_view_jvp};
tg_tensor *tg_diagonal(tg_tensor *x, int64_t offset, int axis1, int axis2) {
    tg_attrs a = {.n_int = 3, .i = {offset, axis1, axis2}};
    return tg__apply1(&tg_op_diagonal, 1, &x, &a);
}

/* ---- real / imag -------------------------------------------------------------- */
static tg_status part_infer(const tg_op_call *c, tg_meta *out) {
    if (!tg_dtype_is_complex(c->in[0].dtype))
        return tg__op_error(c, TG_ERR_DTYPE, "needs a complex tensor");
    tg__meta_copy_shape(out, &c->in[0]);
    out->dtype = tg_real_dtype(c->in[0].dtype);
    return TG_OK;
}
tg_tensor *tg__complex_part(tg_tensor *z, int which) {
    int64_t st[TG_MAX_DIMS];
    for (int i = 0; i < z->ndim; i++) st[i] = 2 * z->strides[i];
    return tg__make_view(z, tg_real_dtype(z->dtype), z->ndim, z->shape, st, 2 * z->offset + which);
}
static tg_status part_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    out[0] = tg__complex_part(in[0], (int)c->attrs->i[0]);
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}
const tg_op_def tg_op_real = {.name = "real", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                              .infer = part_infer, .kernel = {[TG_CPU] = part_kernel, [TG_VULKAN] = part_kernel}, .vjp = view_scatter_vjp_of, .jvp = same_view_jvp};
const tg_op_def tg_op_imag = {.name = "imag", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                              .infer = part_infer, .kernel = {[TG_CPU] = part_kernel, [TG_VULKAN] = part_kernel}, .vjp = view_scatter_vjp_of, .jvp = same_view_jvp};
tg_tensor *tg_real(tg_tensor *x) {
    if (x && !tg_dtype_is_complex(x->dtype)) return tg__handout(tg_retain(x));
    tg_attrs a = {.n_int = 1, .i = {0}};
    return tg__apply1(&tg_op_real, 1, &x, &a);
}
tg_tensor *tg_imag(tg_tensor *x) {
    tg_attrs a = {.n_int = 1, .i = {1}};
    return tg__apply1(&tg_op_imag, 1, &x, &a);
}

/* ---- view_scatter: the VJP of selecting views ------------------------------ */
/* Zeros of the base's shape with g written into the same view of them: the
 * adjoint of slice, diagonal, real and imag (AD-REFERENCE.md section 3).
 * attrs: i[0] base rank, i[1..TG_MAX_DIMS] base shape, i[TG_MAX_DIMS + 1] base
 * dtype, then the view op's own attrs; str: the view op's name. Its VJP is
 * the view itself. (Program files of format 1 had 8 shape slots:
 * program_load.c widens them.) */
#define VS_DTYPE (TG_MAX_DIMS + 1)
#define VS_ATTRS (TG_MAX_DIMS + 2)
static tg_status view_scatter_infer(const tg_op_call *c, tg_meta *out) {
    out->ndim = (int)c->attrs->i[0];
    for (int i = 0; i < out->ndim; i++) out->shape[i] = c->attrs->i[1 + i];
    out->dtype = (tg_dtype)c->attrs->i[VS_DTYPE];
    return TG_OK;
}
static void view_attrs(const tg_attrs *a, tg_attrs *v) {
    *v = (tg_attrs){.n_int = a->n_int - VS_ATTRS};
    for (int k = 0; k < v->n_int; k++) v->i[k] = a->i[VS_ATTRS + k];
}
/* base = 0: memset on the CPU; on a Vulkan device, zeros broadcast from a
 * device scalar by the device copy kernel. */
static tg_status zero_fill(tg_tensor *base) {
    size_t es = tg_dtype_size(base->dtype);
    if (base->storage->device.kind == TG_CPU) {
        memset(tg__ptr(base), 0, (size_t)tg__numel(base->ndim, base->shape) * es);
        return TG_OK;
    }
    tg_tensor *zero = tg__alloc(base->dtype, 0, NULL);
    if (!zero) return TG_ERR_MEMORY;
    memset(tg__ptr(zero), 0, es);
    tg_tensor *dz = tg__vk_transfer(zero, base->storage->device);
    tg_release(zero);
    tg_status st = dz ? tg__vk_copy_into(base, dz) : tg_last_error_code();
    tg_release(dz);
    return st;
}
/* out = zeros of the base shape with the cotangent copied into the view,
 * on the device of the cotangent (the view op's kernel of that device). */
static tg_status view_scatter_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    const tg_op_def *view = tg__op_lookup(c->attrs->str);
    if (!view) return tg__op_error(c, TG_ERR_ARG, "unknown view op '%s'", c->attrs->str);
    tg_tensor *base = out[0];
    tg_device_kind kind = base->storage->device.kind;
    tg_kernel_fn view_kernel = view->kernel[kind];
    if (!view_kernel) return tg__op_error(c, TG_ERR_UNSUPPORTED, "view %s has no kernel on this device", view->name);
    tg_status st = zero_fill(base);
    if (st) return st;
    tg_attrs va;
    view_attrs(c->attrs, &va);
    tg_meta m = {.dtype = base->dtype, .ndim = base->ndim};
    memcpy(m.shape, base->shape, sizeof m.shape);
    tg_op_call vc = {view, &va, 1, &m, NULL};
    tg_tensor *v = NULL;
    st = view_kernel(&vc, &base, &v);
    if (st) return st;
    if (kind == TG_CPU) tg__copy_into(v, in[0]);
    else st = tg__vk_copy_into(v, in[0]);
    tg_release(v);
    return st;
}
static tg_status view_scatter_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                  tg_tensor *const *g, tg_tensor **ic) {
    (void)in; (void)out;
    tg_attrs va;
    view_attrs(c->attrs, &va);
    ic[0] = tg__apply1(tg__op_lookup(c->attrs->str), 1, g, &va);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status view_scatter_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                  tg_tensor *const *t, tg_tensor **ot) {
    (void)in; (void)out;
    ot[0] = tg__apply1(c->def, 1, t, c->attrs);
    return TG_RULE_RESULT(ot[0]);
}
const tg_op_def tg_op_view_scatter = {.name = "view_scatter", .n_in = 1, .n_out = 1, .infer = view_scatter_infer,
                                      .kernel = {[TG_CPU] = view_scatter_kernel, [TG_VULKAN] = view_scatter_kernel}, .vjp = view_scatter_vjp,
                                      .jvp = view_scatter_jvp};

static tg_status view_scatter_vjp_of(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                     tg_tensor *const *g, tg_tensor **ic) {
    (void)out;
    const tg_tensor *x = in[0];
    if (c->attrs->n_int + VS_ATTRS > TG_MAX_ATTR_INTS)
        return tg__error(TG_ERR_UNSUPPORTED, "tg_%s: too many attributes to differentiate", c->def->name);
    tg_attrs a = {.n_int = VS_ATTRS + c->attrs->n_int, .str = c->def->name};
    a.i[0] = x->ndim;
    for (int i = 0; i < x->ndim; i++) a.i[1 + i] = x->shape[i];
    a.i[VS_DTYPE] = x->dtype;
    for (int k = 0; k < c->attrs->n_int; k++) a.i[VS_ATTRS + k] = c->attrs->i[k];
    tg_tensor *gv = g[0];
    ic[0] = tg__apply1(&tg_op_view_scatter, 1, &gv, &a);
    return TG_RULE_RESULT(ic[0]);
}

/* ---- detach: same storage, no autograd history ------------------------------- */
/* Under a trace, detach must be a node of the graph: the graph transforms
 * re-run the graph under autograd, and a bare alias would let gradients
 * flow through it. Non-differentiable, so nothing records through it. */
static tg_status detach_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    tg_tensor *x = in[0];
    out[0] = tg__make_view(x, x->dtype, x->ndim, x->shape, x->strides, x->offset);
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}
const tg_op_def tg_op_detach = {.name = "detach", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS | TG_OP_NONDIFF,
                                .kernel = {[TG_CPU] = detach_kernel, [TG_VULKAN] = detach_kernel}};

tg_tensor *tg_detach(tg_tensor *x) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_detach: input is NULL"), NULL;
    if (tg__is_tracer(x)) return tg__apply1(&tg_op_detach, 1, &x, NULL);
    return tg__handout(tg__make_view(x, x->dtype, x->ndim, x->shape, x->strides, x->offset));
}

TG_REGISTER_OPS(views, &tg_op_view_scatter, &tg_op_detach, &tg_op_reshape, &tg_op_permute, &tg_op_slice, &tg_op_expand, &tg_op_squeeze,
                &tg_op_unsqueeze, &tg_op_diagonal, &tg_op_real, &tg_op_imag)
