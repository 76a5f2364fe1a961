/* Vulkan shaping kernels: concat and pad (copies into windows of the
 * output through the copy/cast kernels of gpu/elementwise.c; pad's border
 * is copy.comp's fill, half.comp's for 2-byte dtypes) and tril/triu
 * (gpu/shaders/shape_tri.comp). */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

/* ---- concat ------------------------------------------------------------------------ */
tg_status tg__vk_concat_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int axis;
    if (tg__norm_axis("tg_concat", (int)c->attrs->i[0], in[0]->ndim, &axis)) return tg_last_error_code();
    int64_t at = 0;
    for (int i = 0; i < c->n_in; i++) {
        int64_t len = in[i]->shape[axis];
        tg_tensor win = *out[0];            /* input i's window of the output */
        win.shape[axis] = len;
        win.offset += at * out[0]->strides[axis];
        at += len;
        if (tg__numel(win.ndim, win.shape) == 0) continue;
        if (tg__vk_convert_into(c, &win, in[i])) return tg_last_error_code();
    }
    return TG_OK;
}

/* ---- pad (constant) ------------------------------------------------------------------ */
tg_status tg__vk_pad_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = in[0], *o = out[0];
    tg_vkdev *d = tg__vk_dev_of(o);
    if (!d) return tg_last_error_code();
    int64_t es = tg__esize(o->dtype);
    if (es != 1 && es != 2 && es != 4 && es != 8 && es != 16) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(o->dtype));
    if (es == 1 && !d->int8) return tg__vk_unsupported(c, x, "%s (the device has no 8-bit storage)", tg_dtype_name(o->dtype));
    if (tg__numel(x->ndim, x->shape) < tg__numel(o->ndim, o->shape)) {
        /* the fill value converted as the CPU converts it */
        tg_tensor *v = tg__alloc(TG_F64, 0, NULL);
        if (!v) return TG_ERR_MEMORY;
        *(double *)tg__ptr(v) = c->attrs->d[0];
        tg_tensor *vc = tg__cast_raw(v, o->dtype);
        tg_release(v);
        if (!vc) return tg_last_error_code();
        uint32_t bits[4] = {0, 0, 0, 0};
        memcpy(bits, tg__ptr(vc), (size_t)es);
        tg_release(vc);
        int32_t p[64];
        VkBuffer bufs[1];
        if (!tg__vk_elem_params(p, o, 0, NULL, bufs))
            return tg__vk_unsupported(c, x, "%s (more than 2^31 elements)", "this size");
        p[2] = 1;
        p[40] = (int32_t)bits[0];
        p[41] = (int32_t)bits[1];
        p[42] = (int32_t)bits[2];
        p[43] = (int32_t)bits[3];
        char pipe[32];
        snprintf(pipe, sizeof pipe, "copy_w%d", (int)es);
        tg_status st = tg__vk_record(d, pipe, p, 1, bufs, tg__vk_elem_groups(p), 1, 1);
        if (st) return st;
    }
    tg_tensor win = *o;
    for (int k = 0; k < x->ndim; k++) {
        win.shape[k] = x->shape[k];
        win.offset += c->attrs->i[2 * k] * o->strides[k];
    }
    if (tg__numel(x->ndim, x->shape) > 0 && tg__vk_convert_into(c, &win, x)) return tg_last_error_code();
    return TG_OK;
}

/* ---- tril / triu --------------------------------------------------------------------- */
tg_status tg__vk_tri_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *o = out[0];
    tg_vkdev *d = tg__vk_dev_of(o);
    if (!d) return tg_last_error_code();
    int64_t es = tg__esize(o->dtype);
    if ((es != 1 && es != 4 && es != 8 && es != 16) || o->dtype != in[0]->dtype)
        return tg__vk_unsupported(c, in[0], "dtype %s", tg_dtype_name(in[0]->dtype));
    if (es == 1 && !d->int8) return tg__vk_unsupported(c, in[0], "%s (the device has no 8-bit storage)", tg_dtype_name(o->dtype));
    bool upper = strcmp(c->def->name, "triu") == 0;
    int64_t R = o->shape[o->ndim - 2], C = o->shape[o->ndim - 1], k = c->attrs->i[0];
    if (k > C + 1) k = C + 1;              /* same mask, and fits 32 bits */
    if (k < -R - 1) k = -R - 1;
    int32_t p[64];
    VkBuffer bufs[2];
    if (!tg__vk_elem_params(p, o, 1, in, bufs) || !tg__vk_fits32(k))
        return tg__vk_unsupported(c, in[0], "%s (more than 2^31 elements or offsets beyond 32 bits)", "this size");
    if (p[0] == 0) return TG_OK;
    p[2] = upper;
    p[48] = (int32_t)R;
    p[49] = (int32_t)C;
    p[50] = (int32_t)k;
    char pipe[32];
    snprintf(pipe, sizeof pipe, "shape_tri_w%d", (int)es);
    return tg__vk_record(d, pipe, p, 2, bufs, tg__vk_groups_for(p[0]), 1, 1);
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_shaping;
#endif
