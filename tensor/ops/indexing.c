/* Indexing ops: gather, index_select, scatter_add, one_hot.
 *
 * gather and scatter_add are each other's VJP (same axis and index), and
 * index_select's VJP is a scatter_add along the selected axis, so all three
 * share one index convention: i32 or i64, negative values count from the
 * end, validated in full before any output element is written (the error
 * then names the first bad value, whatever the thread count). */
#include "tensor/ops/axis_lines.h"
#include "gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>

/* Index tensor as contiguous i64, plus a range check against size. On a bad
 * value, records an error naming op, axis and value and returns NULL. */
static tg_tensor *checked_index(const tg_op_call *c, tg_tensor *index, int axis, int64_t size) {
    tg_tensor *ix = tg__contig_raw(index, TG_I64);
    if (!ix) return NULL;
    const int64_t *v = (const int64_t *)tg__ptr(ix);
    int64_t n = tg__numel(ix->ndim, ix->shape);
    for (int64_t i = 0; i < n; i++) {
        if (v[i] < -size || v[i] >= size) {
            tg__op_error(c, TG_ERR_ARG, "index %lld is out of range for axis %d of size %lld", (long long)v[i],
                         axis, (long long)size);
            tg_release(ix);
            return NULL;
        }
    }
    return ix;
}

static tg_status index_dtype_check(const tg_op_call *c, const tg_meta *ix) {
    if (!tg__is_index_dtype(ix->dtype))
        return tg__op_error(c, TG_ERR_DTYPE, "index dtype %s is not i32 or i64", tg_dtype_name(ix->dtype));
    return TG_OK;
}

/* Element offset in t of the element whose coordinates are those of the
 * row-major linear index l over shape (rank nd), with coordinate `axis`
 * replaced by v. */
static inline int64_t offset_at(const tg_tensor *t, int nd, const int64_t *shape, int64_t l, int axis, int64_t v) {
    int64_t off = t->offset;
    for (int d = nd - 1; d >= 0; d--) {
        int64_t cd = l % shape[d];
        l /= shape[d];
        off += (d == axis ? v : cd) * t->strides[d];
    }
    return off;
}

/* ---- gather: out[..., i, ...] = x[..., index[..., i, ...], ...] ------------ */
/* Shared by gather and scatter_add: x and index of one rank, index no larger
 * than `bound` (x for gather, src for scatter) on the other axes. */
static tg_status gather_like_check(const tg_op_call *c, const tg_meta *x, const tg_meta *ix, int *axis) {
    if (index_dtype_check(c, ix)) return TG_ERR_DTYPE;
    char sx[160], si[160];
    if (x->ndim != ix->ndim)
        return tg__op_error(c, TG_ERR_SHAPE, "index shape %s and input shape %s differ in rank",
                            tg__fmt_shape(si, sizeof si, ix->ndim, ix->shape),
                            tg__fmt_shape(sx, sizeof sx, x->ndim, x->shape));
    char name[32];
    snprintf(name, sizeof name, "tg_%s", c->def->name);
    if (tg__norm_axis0d(name, (int)c->attrs->i[0], x->ndim, axis)) return TG_ERR_ARG;
    for (int d = 0; d < x->ndim; d++) {
        if (d != *axis && ix->shape[d] > x->shape[d])
            return tg__op_error(c, TG_ERR_SHAPE, "index shape %s exceeds input shape %s on axis %d",
                                tg__fmt_shape(si, sizeof si, ix->ndim, ix->shape),
                                tg__fmt_shape(sx, sizeof sx, x->ndim, x->shape), d);
    }
    return TG_OK;
}

static tg_status gather_infer(const tg_op_call *c, tg_meta *out) {
    int axis;
    if (gather_like_check(c, &c->in[0], &c->in[1], &axis)) return tg_last_error_code();
    out->dtype = c->in[0].dtype;
    tg__meta_copy_shape(out, &c->in[1]);
    return TG_OK;
}

static tg_status gather_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int axis;
    tg__norm_axis0d("tg_gather", (int)c->attrs->i[0], in[0]->ndim, &axis);
    tg_tensor x = tg__as_1d(in[0]), o = tg__as_1d(out[0]);
    tg_tensor *ix = checked_index(c, in[1], axis, x.shape[axis]);
    if (!ix) return tg_last_error_code();
    const int64_t *iv = (const int64_t *)tg__ptr(ix);
    int64_t n = tg__numel(o.ndim, o.shape), size = x.shape[axis];
    size_t es = tg_dtype_size(x.dtype);
    const char *xb = (const char *)x.storage->data;
    char *ob = tg__ptr(&o);
    TG_PARALLEL_FOR(n > TG_PARALLEL_GRAIN,
    for (int64_t l = 0; l < n; l++) {
        int64_t v = iv[l] < 0 ? iv[l] + size : iv[l];
        tg__copy_elem(ob + l * (int64_t)es, xb + offset_at(&x, o.ndim, o.shape, l, axis, v) * (int64_t)es, es);
    });
    tg_release(ix);
    return TG_OK;
}

/* ---- derivative rules: gather and scatter_add are each other's adjoints -------- */
static tg_status gather_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                            tg_tensor **ic) {
    (void)out;
    ic[0] = tg_scatter_add(tg_zeros_like(in[0]), (int)c->attrs->i[0], in[1], g[0]);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status gather_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                            tg_tensor **ot) {
    (void)out;
    ot[0] = t[0] ? tg_gather(t[0], (int)c->attrs->i[0], in[1]) : NULL;
    return TG_OK;
}
static tg_status scatter_add_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                 tg_tensor *const *g, tg_tensor **ic) {
    (void)out;
    ic[0] = g[0];
    ic[2] = tg_gather(g[0], (int)c->attrs->i[0], in[1]);
    return TG_RULE_RESULT(ic[2]);
}
static tg_status scatter_add_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                 tg_tensor *const *t, tg_tensor **ot) {
    (void)out;
    ot[0] = tg_scatter_add(t[0] ? t[0] : tg_zeros_like(in[0]), (int)c->attrs->i[0], in[1],
                           t[2] ? t[2] : tg_zeros_like(in[2]));
    return TG_RULE_RESULT(ot[0]);
}
/* index_select's adjoint adds g's slices back at their indices: a
 * scatter_add with the 1-d index broadcast along the other axes. */
static tg_status index_select_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                  tg_tensor *const *g, tg_tensor **ic) {
    (void)out;
    int axis;
    if (tg__norm_axis("tg_index_select", (int)c->attrs->i[0], in[0]->ndim, &axis)) return TG_ERR_ARG;
    int64_t shape[TG_MAX_DIMS];
    for (int d = 0; d < g[0]->ndim; d++) shape[d] = d == axis ? g[0]->shape[d] : 1;
    tg_tensor *ix = tg_expand(tg_reshape(in[1], g[0]->ndim, shape), g[0]->ndim, g[0]->shape);
    ic[0] = tg_scatter_add(tg_zeros_like(in[0]), axis, tg_contiguous(ix), g[0]);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status index_select_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                  tg_tensor *const *t, tg_tensor **ot) {
    (void)out;
    ot[0] = t[0] ? tg_index_select(t[0], (int)c->attrs->i[0], in[1]) : NULL;
    return TG_OK;
}

const tg_op_def tg_op_gather = {.name = "gather", .n_in = 2, .n_out = 1, .infer = gather_infer,
                                .kernel = {[TG_CPU] = gather_kernel, [TG_VULKAN] = TG_VK(tg__vk_gather_kernel)}, .vjp = gather_vjp, .jvp = gather_jvp};

tg_tensor *tg_gather(tg_tensor *x, int axis, tg_tensor *index) {
    tg_tensor *in[2] = {x, index};
    tg_attrs a = {.n_int = 1, .i = {axis}};
    return tg__apply1(&tg_op_gather, 2, in, &a);
}

/* ---- scatter_add: out = x; out[..., index[..., i, ...], ...] += src[..., i, ...] */
static tg_status scatter_add_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0], *ix = &c->in[1], *src = &c->in[2];
    int axis;
    if (gather_like_check(c, x, ix, &axis)) return tg_last_error_code();
    if (x->dtype == TG_F16 || x->dtype == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "%s is a storage type; cast to f32 first", tg_dtype_name(x->dtype));
    if (src->dtype != x->dtype)
        return tg__op_error(c, TG_ERR_DTYPE, "src dtype %s differs from input dtype %s", tg_dtype_name(src->dtype),
                            tg_dtype_name(x->dtype));
    char si[160], ss[160];
    if (src->ndim != ix->ndim)
        return tg__op_error(c, TG_ERR_SHAPE, "index shape %s and src shape %s differ in rank",
                            tg__fmt_shape(si, sizeof si, ix->ndim, ix->shape),
                            tg__fmt_shape(ss, sizeof ss, src->ndim, src->shape));
    for (int d = 0; d < ix->ndim; d++)
        if (ix->shape[d] > src->shape[d])
            return tg__op_error(c, TG_ERR_SHAPE, "index shape %s exceeds src shape %s on axis %d",
                                tg__fmt_shape(si, sizeof si, ix->ndim, ix->shape),
                                tg__fmt_shape(ss, sizeof ss, src->ndim, src->shape), d);
    out->dtype = x->dtype;
    tg__meta_copy_shape(out, x);
    return TG_OK;
}

/* dst += src for one element of dtype d (bool: logical or, as torch). */
static inline void add_elem(tg_dtype d, char *dst, const char *src) {
    switch (d) {
    case TG_BOOL: *(tg_bool_t *)dst = *(tg_bool_t *)dst | *(const tg_bool_t *)src; break;
    case TG_I32: *(int32_t *)dst = (int32_t)((uint32_t)*(int32_t *)dst + (uint32_t)*(const int32_t *)src); break;
    case TG_I64: *(int64_t *)dst = (int64_t)((uint64_t)*(int64_t *)dst + (uint64_t)*(const int64_t *)src); break;
    case TG_F32: *(float *)dst += *(const float *)src; break;
    case TG_F64: *(double *)dst += *(const double *)src; break;
    case TG_C64: *(tg_c64_t *)dst += *(const tg_c64_t *)src; break;
    case TG_C128: *(tg_c128_t *)dst += *(const tg_c128_t *)src; break;
    default: break;
    }
}

static tg_status scatter_add_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int axis;
    tg__norm_axis0d("tg_scatter_add", (int)c->attrs->i[0], in[0]->ndim, &axis);
    tg__copy_into(out[0], in[0]);
    tg_tensor o = tg__as_1d(out[0]), s = tg__as_1d(in[2]), ixm = tg__as_1d(in[1]);
    tg_tensor *ix = checked_index(c, in[1], axis, o.shape[axis]);
    if (!ix) return tg_last_error_code();
    const int64_t *iv = (const int64_t *)tg__ptr(ix);
    int64_t n = tg__numel(ixm.ndim, ixm.shape), size = o.shape[axis];
    /* Index elements with different coordinates before `axis` write to
     * disjoint outputs: threads split those; each keeps the serial order. */
    int64_t outer = 1;
    for (int d = 0; d < axis; d++) outer *= ixm.shape[d];
    int64_t row = outer ? n / outer : 0;
    size_t es = tg_dtype_size(o.dtype);
    char *ob = (char *)o.storage->data;
    const char *sb = (const char *)s.storage->data;
    tg_dtype dt = o.dtype;
    TG_PARALLEL_FOR(outer > 1 && n > TG_PARALLEL_GRAIN,
    for (int64_t r = 0; r < outer; r++) {
        for (int64_t l = r * row; l < (r + 1) * row; l++) {
            int64_t v = iv[l] < 0 ? iv[l] + size : iv[l];
            int64_t so = offset_at(&s, ixm.ndim, ixm.shape, l, -1, 0);
            int64_t oo = offset_at(&o, ixm.ndim, ixm.shape, l, axis, v);
            add_elem(dt, ob + oo * (int64_t)es, sb + so * (int64_t)es);
        }
    });
    tg_release(ix);
    return TG_OK;
}

const tg_op_def tg_op_scatter_add = {.name = "scatter_add", .n_in = 3, .n_out = 1, .infer = scatter_add_infer,
                                     .kernel = {[TG_CPU] = scatter_add_kernel, [TG_VULKAN] = TG_VK(tg__vk_scatter_add_kernel)}, .vjp = scatter_add_vjp, .jvp = scatter_add_jvp};

tg_tensor *tg_scatter_add(tg_tensor *x, int axis, tg_tensor *index, tg_tensor *src) {
    tg_tensor *in[3] = {x, index, src};
    tg_attrs a = {.n_int = 1, .i = {axis}};
    return tg__apply1(&tg_op_scatter_add, 3, in, &a);
}

/* ---- index_select: whole slices of x picked by a 1-d index ----------------- */
static tg_status index_select_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0], *ix = &c->in[1];
    if (index_dtype_check(c, ix)) return TG_ERR_DTYPE;
    if (ix->ndim != 1) return tg__op_error(c, TG_ERR_SHAPE, "index must be 1-d, got rank %d", ix->ndim);
    int axis;
    if (tg__norm_axis("tg_index_select", (int)c->attrs->i[0], x->ndim, &axis)) return TG_ERR_ARG;
    out->dtype = x->dtype;
    tg__meta_copy_shape(out, x);
    out->shape[axis] = ix->shape[0];
    return TG_OK;
}

static tg_status index_select_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int axis;
    tg__norm_axis("tg_index_select", (int)c->attrs->i[0], in[0]->ndim, &axis);
    int64_t size = in[0]->shape[axis];
    tg_tensor *ix = checked_index(c, in[1], axis, size);
    if (!ix) return tg_last_error_code();
    tg_tensor *x = tg__contig_raw(in[0], in[0]->dtype);
    if (!x) { tg_release(ix); return tg_last_error_code(); }
    const int64_t *iv = (const int64_t *)tg__ptr(ix);
    int64_t m = ix->shape[0], outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) inner *= x->shape[d];
    size_t bytes = (size_t)inner * tg_dtype_size(x->dtype);
    const char *xb = tg__ptr(x);
    char *ob = tg__ptr(out[0]);
    int64_t rows = outer * m;
    TG_PARALLEL_FOR(rows * inner > TG_PARALLEL_GRAIN,
    for (int64_t r = 0; r < rows; r++) {
        int64_t o = r / m, j = r % m, v = iv[j] < 0 ? iv[j] + size : iv[j];
        memcpy(ob + r * (int64_t)bytes, xb + (o * size + v) * (int64_t)bytes, bytes);
    });
    tg_release(x);
    tg_release(ix);
    return TG_OK;
}

const tg_op_def tg_op_index_select = {.name = "index_select", .n_in = 2, .n_out = 1, .infer = index_select_infer,
                                      .kernel = {[TG_CPU] = index_select_kernel, [TG_VULKAN] = TG_VK(tg__vk_index_select_kernel)}, .vjp = index_select_vjp, .jvp = index_select_jvp};

tg_tensor *tg_index_select(tg_tensor *x, int axis, tg_tensor *index) {
    tg_tensor *in[2] = {x, index};
    tg_attrs a = {.n_int = 1, .i = {axis}};
    return tg__apply1(&tg_op_index_select, 2, in, &a);
}

/* ---- one_hot: i64, new last axis of num_classes --------------------------- */
static tg_status one_hot_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *ix = &c->in[0];
    int64_t nc = c->attrs->i[0];
    if (index_dtype_check(c, ix)) return TG_ERR_DTYPE;
    if (nc < 0) return tg__op_error(c, TG_ERR_ARG, "num_classes %lld is negative", (long long)nc);
    if (ix->ndim >= TG_MAX_DIMS) return tg__op_error(c, TG_ERR_SHAPE, "rank would exceed %d", TG_MAX_DIMS);
    tg__meta_copy_shape(out, ix);
    out->shape[out->ndim++] = nc;
    out->dtype = TG_I64;
    return tg__check_shape("tg_one_hot", TG_I64, out->ndim, out->shape);
}

static tg_status one_hot_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int64_t nc = c->attrs->i[0];
    tg_tensor *ix = tg__contig_raw(in[0], TG_I64);
    if (!ix) return tg_last_error_code();
    const int64_t *iv = (const int64_t *)tg__ptr(ix);
    int64_t n = tg__numel(ix->ndim, ix->shape);
    for (int64_t i = 0; i < n; i++) {
        if (iv[i] < 0 || iv[i] >= nc) {
            tg_release(ix);
            return tg__op_error(c, TG_ERR_ARG, "index %lld is out of range [0, %lld) on the new axis %d",
                                (long long)iv[i], (long long)nc, in[0]->ndim);
        }
    }
    int64_t *o = (int64_t *)tg__ptr(out[0]);
    memset(o, 0, (size_t)(n * nc) * sizeof *o);
    for (int64_t i = 0; i < n; i++) o[i * nc + iv[i]] = 1;
    tg_release(ix);
    return TG_OK;
}

const tg_op_def tg_op_one_hot = {.name = "one_hot", .n_in = 1, .n_out = 1, .flags = TG_OP_NONDIFF,
                                 .infer = one_hot_infer, .kernel = {[TG_CPU] = one_hot_kernel, [TG_VULKAN] = TG_VK(tg__vk_one_hot_kernel)}};

tg_tensor *tg_one_hot(tg_tensor *index, int64_t num_classes) {
    tg_attrs a = {.n_int = 1, .i = {num_classes}};
    return tg__apply1(&tg_op_one_hot, 1, &index, &a);
}

TG_REGISTER_OPS(indexing, &tg_op_gather, &tg_op_scatter_add, &tg_op_index_select, &tg_op_one_hot)
