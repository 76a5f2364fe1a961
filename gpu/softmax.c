/* Vulkan nn_softmax, nn_log_softmax and nn_cross_entropy
 * (gpu/shaders/softmax.comp): one workgroup per line along the axis, any
 * strides; max-subtract, sum of exp (shared-memory trees). Semantics follow
 * nn/softmax.c and nn/loss.c: a line holding NaN gives NaN; cross-entropy
 * takes logits (N, C) f32/f64 and i32/i64 labels, reduction mean (N = 0
 * gives NaN), sum or none. Labels are validated as on the CPU (TG_ERR_ARG
 * naming the first bad one), which reads them back to the host: the call
 * waits for the labels' producer. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

enum { MODE_SOFTMAX, MODE_LOG_SOFTMAX, MODE_CE };

static tg_status record_rows(tg_vkdev *d, tg_dtype t, const int32_t *p, int nbuf, const VkBuffer *bufs, int64_t rows) {
    uint32_t gx = rows > TG_VK_MAX_GROUPS ? TG_VK_MAX_GROUPS : (uint32_t)rows;
    uint32_t gy = (uint32_t)((rows + gx - 1) / gx);
    char pipe[32];
    snprintf(pipe, sizeof pipe, "softmax_%s", tg__vk_sfx(t));
    return tg__vk_record(d, pipe, p, nbuf, bufs, gx, gy, 1);
}

tg_status tg__vk_softmax_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    static const char *const names[] = {"nn_softmax", "nn_log_softmax"};
    int mode = tg__vk_index_of(c->def->name, names, 2);
    if (mode < 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    tg_tensor *x = in[0], *o = out[0];
    tg_vkdev *d = tg__vk_dev_of(x);
    if (!d) return tg_last_error_code();
    if (!tg__vk_float_ok(d, x->dtype) || o->dtype != x->dtype)
        return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(x->dtype));
    int nd = x->ndim ? x->ndim : 1, axis = (int)c->attrs->i[0];
    if (axis < -nd || axis >= nd)
        return tg__op_error(c, TG_ERR_ARG, "axis %d is out of range for %d axes", axis, x->ndim);
    if (axis < 0) axis += nd;
    int32_t p[64] = {0};
    int64_t rows = 1, n = x->ndim ? x->shape[axis] : 1;
    int nk = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (!tg__vk_fits32(x->strides[i]) || !tg__vk_fits32(o->strides[i]))
            return tg__vk_unsupported(c, x, "%s (strides beyond 32 bits)", "this layout");
        if (i == axis) continue;
        p[8 + nk] = (int32_t)x->shape[i];
        p[16 + nk] = (int32_t)x->strides[i];
        p[24 + nk++] = (int32_t)o->strides[i];
        rows *= x->shape[i];
    }
    if (rows == 0 || n == 0) return TG_OK;
    if (!tg__vk_fits32(rows) || !tg__vk_fits32(n) || !tg__vk_fits32(rows * n))
        return tg__vk_unsupported(c, x, "%s (more than 2^31 elements)", "this size");
    p[0] = (int32_t)rows;
    p[1] = (int32_t)n;
    p[2] = mode;
    p[3] = nk;
    p[4] = x->ndim ? (int32_t)o->strides[axis] : 1;
    p[5] = (int32_t)tg__vk_elem_offset(x);
    p[6] = (int32_t)tg__vk_elem_offset(o);
    p[7] = x->ndim ? (int32_t)x->strides[axis] : 1;
    vk_loc lx = tg__vk_locate(x), lo = tg__vk_locate(o);
    /* binding 3 (labels) is unused here: any valid buffer */
    VkBuffer bufs[3] = {lo.block->buf, lx.block->buf, lx.block->buf};
    return record_rows(d, x->dtype, p, 3, bufs, rows);
}

/* ---- cross-entropy ----------------------------------------------------------------- */
enum { RED_MEAN, RED_SUM, RED_NONE };          /* nn/loss.c's attribute values */

/* The labels read back and checked against [0, C), as the CPU kernel. */
static tg_status check_labels(const tg_op_call *c, tg_tensor *l, int64_t cl) {
    tg_tensor *h = tg__vk_transfer(l, (tg_device){TG_CPU, 0});
    if (!h) return tg_last_error_code();
    tg_status st = TG_OK;
    const char *b = tg__ptr(h);
    int64_t es = tg__esize(h->dtype);
    for (int64_t i = 0; i < h->shape[0] && !st; i++) {
        const char *q = b + i * h->strides[0] * es;
        int64_t v = h->dtype == TG_I32 ? (int64_t) * (const int32_t *)q : *(const int64_t *)q;
        if (v < 0 || v >= cl)
            st = tg__op_error(c, TG_ERR_ARG, "label %lld at index %lld is outside [0, %lld) (C = %lld classes)",
                              (long long)v, (long long)i, (long long)cl, (long long)cl);
    }
    tg_release(h);
    return st;
}

tg_status tg__vk_cross_entropy_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    if (strcmp(c->def->name, "nn_cross_entropy") != 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    tg_tensor *x = in[0], *l = in[1], *o = out[0];
    tg_vkdev *d = tg__vk_dev_of(x);
    if (!d) return tg_last_error_code();
    if (!tg__vk_float_ok(d, x->dtype) || o->dtype != x->dtype)
        return tg__vk_unsupported(c, x, "logits of dtype %s", tg_dtype_name(x->dtype));
    if (l->dtype != TG_I32 && l->dtype != TG_I64)
        return tg__vk_unsupported(c, x, "labels of dtype %s", tg_dtype_name(l->dtype));
    if (x->ndim != 2 || l->ndim != 1 || l->shape[0] != x->shape[0])
        return tg__op_error(c, TG_ERR_SHAPE, "needs logits (N, C) and labels (N)");
    int64_t n = x->shape[0], cl = x->shape[1], red = c->attrs->i[0];
    if (red < RED_MEAN || red > RED_NONE) return tg__op_error(c, TG_ERR_ARG, "unknown reduction %lld", (long long)red);
    for (int i = 0; i < 2; i++)
        if (!tg__vk_fits32(x->strides[i]) || !tg__vk_fits32(n * cl) || !tg__vk_fits32(2 * l->strides[0]))
            return tg__vk_unsupported(c, x, "%s (beyond 32-bit sizes or strides)", "this size");
    tg_status st = check_labels(c, l, cl);
    if (st) return st;
    tg_tensor *loss = red == RED_NONE ? tg_retain(o) : n > 0 ? tg__vk_alloc(x->storage->device.index, x->dtype, 1, &n) : NULL;
    if (n > 0 && !loss) return tg_last_error_code();
    VkBuffer bufs[3];
    int32_t p[64] = {0};
    if (n > 0) {
        p[0] = (int32_t)n;
        p[1] = (int32_t)cl;
        p[2] = MODE_CE;
        p[3] = 1;
        p[4] = 1;
        p[5] = (int32_t)tg__vk_elem_offset(x);
        p[6] = (int32_t)tg__vk_elem_offset(loss);
        p[7] = (int32_t)x->strides[1];
        p[8] = (int32_t)n;
        p[16] = (int32_t)x->strides[0];
        p[24] = (int32_t)loss->strides[0];
        p[40] = (int32_t)tg__vk_elem_offset(l);
        p[41] = (int32_t)l->strides[0];
        p[42] = l->dtype == TG_I64;
        bufs[0] = tg__vk_locate(loss).block->buf;
        bufs[1] = tg__vk_locate(x).block->buf;
        bufs[2] = tg__vk_locate(l).block->buf;
        st = record_rows(d, x->dtype, p, 3, bufs, n);
    }
    if (!st && red != RED_NONE) {
        /* sum (and / N for the mean) of the row losses: one workgroup,
         * gpu/shaders/reduce.comp's parameter layout */
        memset(p, 0, sizeof p);
        p[0] = 1;                         /* M */
        p[1] = (int32_t)n;                /* R */
        p[2] = 1;                         /* G */
        p[4] = 1;                         /* one reduced axis */
        p[5] = loss ? (int32_t)tg__vk_elem_offset(loss) : 0;
        p[6] = (int32_t)tg__vk_elem_offset(o);
        p[7] = 0;                         /* sum */
        p[24] = (int32_t)n;
        p[32] = 1;
        p[44] = red == RED_MEAN;
        p[45] = (int32_t)n;
        bufs[0] = tg__vk_locate(o).block->buf;
        bufs[1] = tg__vk_locate(loss ? loss : o).block->buf;
        char pipe[32];
        snprintf(pipe, sizeof pipe, "reduce_%s", tg__vk_sfx(x->dtype));
        st = tg__vk_record(d, pipe, p, 2, bufs, 1, 1, 1);
    }
    tg_release(loss);
    return st;
}

#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_softmax;
#endif
