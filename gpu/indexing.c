/* Vulkan indexing kernels: gather, index_select, scatter_add, one_hot
 * (gpu/shaders/index_gather.comp, index_scatter.comp, index_onehot.comp)
 * and where (index_where.comp).
 *
 * Every op that reads or writes through an index tensor first runs a
 * bounds-check pass (index_check.comp) that writes the first bad position
 * to a one-int device buffer, and reads that buffer back synchronously: an
 * out-of-range index is the CPU's TG_ERR_ARG with the CPU's message, and the
 * main kernel never runs with it. The read-back submits the batch and waits
 * (docs/gpu.md). Index tensors are i32 or i64; i64 is read as two 32-bit
 * words, so no shaderInt64 is needed. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/axis_lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ix_sfx(tg_dtype t) { return t == TG_I64 ? "i64" : "i32"; }

/* Element width usable by the W-byte copy shaders: 1, 4, 8 or 16 bytes
 * (1 needs 8-bit storage). */
static tg_status width_check(const tg_op_call *c, const tg_vkdev *d, const tg_tensor *t, int *w) {
    int64_t es = tg__esize(t->dtype);
    if (es != 1 && es != 4 && es != 8 && es != 16) return tg__vk_unsupported(c, t, "dtype %s", tg_dtype_name(t->dtype));
    if (es == 1 && !d->int8) return tg__vk_unsupported(c, t, "%s (the device has no 8-bit storage)", tg_dtype_name(t->dtype));
    *w = (int)es;
    return TG_OK;
}

static bool strides_fit(const tg_tensor *t) {
    for (int i = 0; i < t->ndim; i++)
        if (!tg__vk_fits32(t->strides[i]) || !tg__vk_fits32(t->shape[i])) return false;
    return tg__vk_fits32(tg__numel(t->ndim, t->shape)) && tg__vk_fits32(tg__vk_elem_offset(t));
}

/* ---- the bounds-check pass ------------------------------------------------------- */
/* The CPU's message for the index value at row-major position pos of ix
 * (copied to the host: this is the error path only). */
static tg_status index_error(const tg_op_call *c, tg_tensor *ix, int64_t pos, int axis, int64_t size, bool one_hot) {
    long long v = 0;
    tg_tensor *h = tg__vk_transfer(ix, (tg_device){TG_CPU, 0});
    if (!h) return tg_last_error_code();
    if (h->dtype == TG_I64) v = ((const int64_t *)tg__ptr(h))[pos];
    else v = ((const int32_t *)tg__ptr(h))[pos];
    tg_release(h);
    if (one_hot)
        return tg__op_error(c, TG_ERR_ARG, "index %lld is out of range [0, %lld) on the new axis %d", v, (long long)size,
                            axis);
    return tg__op_error(c, TG_ERR_ARG, "index %lld is out of range for axis %d of size %lld", v, axis, (long long)size);
}

/* Every value of ix in [-size, size) ([0, size) for one_hot)? Records the
 * CPU's error otherwise. Submits the batch and waits. */
static tg_status index_check(const tg_op_call *c, tg_vkdev *d, tg_tensor *ix, int axis, int64_t size, bool one_hot) {
    int64_t n = tg__numel(ix->ndim, ix->shape);
    if (n == 0) return TG_OK;
    if (!strides_fit(ix) || !tg__vk_fits32(size))
        return tg__vk_unsupported(c, ix, "%s (more than 2^31 elements or offsets beyond 32 bits)", "this index");
    int64_t one = 1;
    tg_tensor *flag = tg__vk_alloc(ix->storage->device.index, TG_I32, 1, &one);
    if (!flag) return tg_last_error_code();
    int32_t p[64];
    VkBuffer bufs[2];
    tg_status st = TG_OK;
    tg__vk_elem_params(p, flag, 0, NULL, bufs);             /* fill the flag with INT32_MAX */
    p[2] = 1;
    p[40] = INT32_MAX;
    st = tg__vk_record(d, "copy_w4", p, 1, bufs, 1, 1, 1);
    if (!st) {
        memset(p, 0, sizeof p);
        p[0] = (int32_t)n;
        p[1] = ix->ndim;
        p[2] = (int32_t)size;
        p[3] = !one_hot;
        p[4] = (int32_t)tg__vk_elem_offset(ix);
        p[5] = (int32_t)tg__vk_elem_offset(flag);
        for (int i = 0; i < ix->ndim; i++) { p[8 + i] = (int32_t)ix->shape[i]; p[16 + i] = (int32_t)ix->strides[i]; }
        bufs[0] = tg__vk_locate(flag).block->buf;
        bufs[1] = tg__vk_locate(ix).block->buf;
        char pipe[32];
        snprintf(pipe, sizeof pipe, "index_check_%s", ix_sfx(ix->dtype));
        st = tg__vk_record(d, pipe, p, 2, bufs, tg__vk_groups_for(n), 1, 1);
    }
    int32_t bad = INT32_MAX;
    if (!st) {
        tg_tensor *h = tg__vk_transfer(flag, (tg_device){TG_CPU, 0});   /* submits and waits */
        if (!h) st = tg_last_error_code();
        else { bad = *(const int32_t *)tg__ptr(h); tg_release(h); }
    }
    tg_release(flag);
    if (!st && bad != INT32_MAX) st = index_error(c, ix, bad, axis, size, one_hot);
    return st;
}

static tg_status index_dtype_ok(const tg_op_call *c, const tg_tensor *ix) {
    if (!tg__is_index_dtype(ix->dtype)) return tg__vk_unsupported(c, ix, "index dtype %s", tg_dtype_name(ix->dtype));
    return TG_OK;
}

/* ---- gather and index_select ------------------------------------------------------- */
/* out[l] = x at l's coordinates with `axis` replaced by the index value;
 * istr: the index's stride for each of out's axes. */
static tg_status gather_run(const tg_op_call *c, tg_vkdev *d, tg_tensor *x, tg_tensor *ix, tg_tensor *out, int axis,
                            const int64_t *istr) {
    int w;
    if (width_check(c, d, x, &w)) return tg_last_error_code();
    int64_t n = tg__numel(out->ndim, out->shape);
    if (n == 0) return TG_OK;
    if (!strides_fit(x) || !strides_fit(out) || !strides_fit(ix))
        return tg__vk_unsupported(c, x, "%s (more than 2^31 elements or offsets beyond 32 bits)", "these sizes");
    int32_t p[64] = {0};
    p[0] = (int32_t)n;
    p[1] = out->ndim;
    p[2] = axis;
    p[3] = (int32_t)x->shape[axis];
    p[4] = (int32_t)tg__vk_elem_offset(out);
    p[5] = (int32_t)tg__vk_elem_offset(x);
    p[6] = (int32_t)tg__vk_elem_offset(ix);
    for (int i = 0; i < out->ndim; i++) {
        if (!tg__vk_fits32(istr[i])) return tg__vk_unsupported(c, x, "%s (offsets beyond 32 bits)", "this index");
        p[8 + i] = (int32_t)out->shape[i];
        p[16 + i] = (int32_t)out->strides[i];
        p[24 + i] = (int32_t)x->strides[i];
        p[32 + i] = (int32_t)istr[i];
    }
    VkBuffer bufs[3] = {tg__vk_locate(out).block->buf, tg__vk_locate(x).block->buf, tg__vk_locate(ix).block->buf};
    char pipe[32];
    snprintf(pipe, sizeof pipe, "index_gather_w%d_%s", w, ix_sfx(ix->dtype));
    return tg__vk_record(d, pipe, p, 3, bufs, tg__vk_groups_for(n), 1, 1);
}

tg_status tg__vk_gather_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_vkdev *d = tg__vk_dev_of(out[0]);
    if (!d) return tg_last_error_code();
    int axis;
    if (tg__norm_axis0d("tg_gather", (int)c->attrs->i[0], in[0]->ndim, &axis)) return tg_last_error_code();
    if (index_dtype_ok(c, in[1])) return tg_last_error_code();
    tg_tensor x = tg__as_1d(in[0]), ix = tg__as_1d(in[1]), o = tg__as_1d(out[0]);
    int w;
    if (width_check(c, d, &x, &w)) return tg_last_error_code();
    if (index_check(c, d, in[1], axis, x.shape[axis], false)) return tg_last_error_code();
    return gather_run(c, d, &x, &ix, &o, axis, ix.strides);
}

tg_status tg__vk_index_select_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_vkdev *d = tg__vk_dev_of(out[0]);
    if (!d) return tg_last_error_code();
    int axis;
    if (tg__norm_axis("tg_index_select", (int)c->attrs->i[0], in[0]->ndim, &axis)) return tg_last_error_code();
    if (index_dtype_ok(c, in[1])) return tg_last_error_code();
    int w;
    if (width_check(c, d, in[0], &w)) return tg_last_error_code();
    if (index_check(c, d, in[1], axis, in[0]->shape[axis], false)) return tg_last_error_code();
    int64_t istr[TG_MAX_DIMS] = {0};
    istr[axis] = in[1]->strides[0];
    return gather_run(c, d, in[0], in[1], out[0], axis, istr);
}

/* ---- scatter_add ---------------------------------------------------------------------- */
/* Below this much work (index elements x output size on the axis) the
 * deterministic kernel runs; above it f32 and i32 use atomics (f64 stays
 * deterministic: 64-bit atomics are not enabled on the device).
 * TANGENT_VK_DETERMINISTIC=1 keeps the deterministic kernel always. */
#define SCATTER_DET_MAX ((int64_t)1 << 24)

static bool deterministic_only(void) {
    const char *e = getenv("TANGENT_VK_DETERMINISTIC");
    return e && *e && strcmp(e, "0") != 0;
}

tg_status tg__vk_scatter_add_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_vkdev *d = tg__vk_dev_of(out[0]);
    if (!d) return tg_last_error_code();
    int axis;
    if (tg__norm_axis0d("tg_scatter_add", (int)c->attrs->i[0], in[0]->ndim, &axis)) return tg_last_error_code();
    if (index_dtype_ok(c, in[1])) return tg_last_error_code();
    tg_dtype t = out[0]->dtype;
    if (!(tg__vk_float_ok(d, t) || t == TG_I32) || in[2]->dtype != t)
        return tg__vk_unsupported(c, in[0], "dtype %s (f32, f64 and i32 are)", tg_dtype_name(t));
    tg_tensor o = tg__as_1d(out[0]), s = tg__as_1d(in[2]), ix = tg__as_1d(in[1]);
    if (index_check(c, d, in[1], axis, o.shape[axis], false)) return tg_last_error_code();
    if (tg__vk_convert_into(c, out[0], in[0])) return tg_last_error_code();
    int64_t J = ix.shape[axis], nix = tg__numel(ix.ndim, ix.shape);
    if (nix == 0 || o.shape[axis] == 0) return TG_OK;
    /* The deterministic kernel's domain: the index's shape with `axis`
     * replaced by the output's size. */
    int64_t dom = nix / J * o.shape[axis];
    bool atomic = t != TG_F64 && nix > SCATTER_DET_MAX / o.shape[axis] && !deterministic_only();
    int64_t threads = atomic ? nix : dom;
    if (!strides_fit(&o) || !strides_fit(&s) || !strides_fit(&ix) || !tg__vk_fits32(dom))
        return tg__vk_unsupported(c, in[0], "%s (more than 2^31 elements or offsets beyond 32 bits)", "these sizes");
    int32_t p[64] = {0};
    p[0] = (int32_t)threads;
    p[1] = ix.ndim;
    p[2] = axis;
    p[3] = (int32_t)o.shape[axis];
    p[4] = (int32_t)tg__vk_elem_offset(&o);
    p[5] = (int32_t)tg__vk_elem_offset(&s);
    p[6] = (int32_t)tg__vk_elem_offset(&ix);
    p[7] = (int32_t)J;
    for (int i = 0; i < ix.ndim; i++) {
        p[8 + i] = (int32_t)(i == axis && !atomic ? o.shape[i] : ix.shape[i]);
        p[16 + i] = (int32_t)o.strides[i];
        p[24 + i] = (int32_t)s.strides[i];
        p[32 + i] = (int32_t)ix.strides[i];
    }
    VkBuffer bufs[3] = {tg__vk_locate(&o).block->buf, tg__vk_locate(&s).block->buf, tg__vk_locate(&ix).block->buf};
    char pipe[40];
    snprintf(pipe, sizeof pipe, "index_scatter_%s%s_%s", atomic ? "atomic_" : "", t == TG_I32 ? "i32" : tg__vk_sfx(t),
             ix_sfx(ix.dtype));
    return tg__vk_record(d, pipe, p, 3, bufs, tg__vk_groups_for(threads), 1, 1);
}

/* ---- one_hot --------------------------------------------------------------------------- */
tg_status tg__vk_one_hot_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_vkdev *d = tg__vk_dev_of(out[0]);
    if (!d) return tg_last_error_code();
    tg_tensor *ix = in[0];
    if (index_dtype_ok(c, ix)) return tg_last_error_code();
    if (out[0]->dtype != TG_I64) return tg__vk_unsupported(c, ix, "output dtype %s", tg_dtype_name(out[0]->dtype));
    int64_t nc = c->attrs->i[0], n = tg__numel(ix->ndim, ix->shape);
    if (index_check(c, d, ix, ix->ndim, nc, true)) return tg_last_error_code();
    int64_t total = tg__numel(out[0]->ndim, out[0]->shape);
    if (total == 0) return TG_OK;
    if (!tg__vk_fits32(total) || !tg__vk_fits32(n) || !strides_fit(ix) || !tg__vk_fits32(tg__vk_elem_offset(out[0])))
        return tg__vk_unsupported(c, ix, "%s (more than 2^31 elements or offsets beyond 32 bits)", "these sizes");
    int32_t p[64] = {0};
    p[0] = (int32_t)total;
    p[1] = ix->ndim;
    p[2] = (int32_t)nc;
    p[4] = (int32_t)tg__vk_elem_offset(ix);
    p[5] = (int32_t)tg__vk_elem_offset(out[0]);
    for (int i = 0; i < ix->ndim; i++) { p[8 + i] = (int32_t)ix->shape[i]; p[16 + i] = (int32_t)ix->strides[i]; }
    VkBuffer bufs[2] = {tg__vk_locate(out[0]).block->buf, tg__vk_locate(ix).block->buf};
    char pipe[32];
    snprintf(pipe, sizeof pipe, "index_onehot_%s", ix_sfx(ix->dtype));
    return tg__vk_record(d, pipe, p, 2, bufs, tg__vk_groups_for(total), 1, 1);
}

/* ---- where ---------------------------------------------------------------------------- */
/* tg__vk_elem_params for out and the three inputs, with the dense path
 * (p[3] = 1: tg_dense, steps p[TG_VK_DENSE_STEP + k]) only when the
 * condition is dense too: a and b may each be one broadcast element
 * (relu's rules: where(y > 0, g, 0)); the shader has no 4-vector path. */
static bool where_params(int32_t *p, tg_tensor *out, tg_tensor *const *in, VkBuffer *bufs) {
    if (!tg__vk_elem_params(p, out, 3, in, bufs)) return false;
    p[3] = p[3] && p[TG_VK_DENSE_STEP + 1] ? 1 : 0;
    return true;
}

tg_status tg__vk_where_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_vkdev *d = tg__vk_dev_of(out[0]);
    if (!d) return tg_last_error_code();
    if (!d->int8) return tg__vk_unsupported(c, in[0], "%s (the device has no 8-bit storage)", "bool conditions");
    int w;
    if (width_check(c, d, out[0], &w)) return tg_last_error_code();
    tg_dtype t = out[0]->dtype;
    tg_tensor *x[3] = {tg__vk_cast_to(c, in[0], TG_BOOL), NULL, NULL};
    if (x[0]) x[1] = tg__vk_cast_to(c, in[1], t);
    if (x[1]) x[2] = tg__vk_cast_to(c, in[2], t);
    tg_status st = x[2] ? TG_OK : tg_last_error_code();
    int32_t p[64];
    VkBuffer bufs[4];
    if (!st && !where_params(p, out[0], x, bufs))
        st = tg__vk_unsupported(c, in[0], "%s (offsets beyond 32 bits)", "this layout");
    if (!st && p[0] > 0) {
        char pipe[32];
        snprintf(pipe, sizeof pipe, "index_where_w%d", w);
        st = tg__vk_record(d, pipe, p, 4, bufs, tg__vk_groups_for(p[0]), 1, 1);
    }
    for (int i = 0; i < 3; i++) tg_release(x[i]);
    return st;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_indexing;
#endif
