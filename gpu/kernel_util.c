/* Helpers shared by the Vulkan kernel families (gpu/kernel_util.h). */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

tg_vkdev *tg__vk_dev_of(const tg_tensor *t) { return tg__vk_dev(t->storage->device.index, "tangent"); }

bool tg__vk_float_ok(const tg_vkdev *d, tg_dtype t) { return t == TG_F32 || (t == TG_F64 && d->f64); }
const char *tg__vk_sfx(tg_dtype t) { return t == TG_F64 ? "f64" : "f32"; }

bool tg__vk_fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

tg_status tg__vk_unsupported(const tg_op_call *c, const tg_tensor *t, const char *fmt, const char *arg) {
    char what[200];
    snprintf(what, sizeof what, fmt, arg);
    return tg__op_error(c, TG_ERR_UNSUPPORTED, "no Vulkan kernel for %s on %s", what,
                        tg__vk_device_name(t->storage->device.index));
}

/* Elementwise parameters for out and n_in (at most 3) inputs read as if
 * broadcast to out's shape. Returns false when an offset or stride exceeds
 * 32 bits. */
bool tg__vk_elem_params(int32_t *p, tg_tensor *out, int n_in, tg_tensor *const *in, VkBuffer *bufs) {
    memset(p, 0, 64 * sizeof *p);
    int64_t n = tg__numel(out->ndim, out->shape);
    if (!tg__vk_fits32(n)) return false;
    p[0] = (int32_t)n;
    p[1] = out->ndim;
    tg_tensor *ops[4] = {out};
    for (int k = 0; k < n_in && k < 3; k++) ops[1 + k] = in[k];
    /* out's row-major strides: when every operand matches them on every
     * axis of size > 1, or is one element broadcast (a scalar: x * 2, x >
     * 0), the shaders take the dense path (common.glsl, p[3]): operand k's
     * offset is base + i * p[60 + k], 1 or 0. The 4-vector path (p[3] 2)
     * takes aligned dense operands only. */
    int64_t cst[TG_MAX_DIMS], c = 1;
    for (int dd = out->ndim - 1; dd >= 0; dd--) { cst[dd] = c; c *= out->shape[dd]; }
    bool dense = true, aligned = true, scalars = false;
    for (int k = 0; k <= n_in; k++) {
        vk_loc l = tg__vk_locate(ops[k]);
        bufs[k] = l.block->buf;
        int64_t off = (int64_t)(l.byte_off / (size_t)tg__esize(ops[k]->dtype)), st[TG_MAX_DIMS];
        if (!tg__vk_fits32(off)) return false;
        p[4 + k] = (int32_t)off;
        aligned = aligned && p[4 + k] % 4 == 0;
        tg__broadcast_strides(ops[k], out->ndim, out->shape, st);
        bool matches = true, single = k > 0;
        for (int dd = 0; dd < out->ndim; dd++) {
            if (!tg__vk_fits32(st[dd])) return false;
            p[16 + 8 * k + dd] = (int32_t)st[dd];
            if (out->shape[dd] > 1 && st[dd] != cst[dd]) matches = false;
            if (out->shape[dd] > 1 && st[dd] != 0) single = false;
        }
        p[TG_VK_DENSE_STEP + k] = matches ? 1 : 0;
        if (!matches && single) scalars = true;
        else if (!matches) dense = false;
    }
    for (int dd = 0; dd < out->ndim; dd++) p[8 + dd] = (int32_t)out->shape[dd];
    p[3] = dense ? (aligned && !scalars ? 2 : 1) : 0;
    return true;
}

uint32_t tg__vk_elem_groups(const int32_t *p) {
    /* the 4-vector path needs a thread per group of 4 (the < 4 left over
     * run on the first threads) */
    return tg__vk_groups_for(p[3] == 2 ? ((int64_t)p[0] + 3) / 4 : p[0]);
}

uint32_t tg__vk_groups_for(int64_t n) {
    int64_t g = (n + TG_VK_LOCAL - 1) / TG_VK_LOCAL;
    return g > TG_VK_MAX_GROUPS ? TG_VK_MAX_GROUPS : (uint32_t)g;
}

tg_status tg__vk_record(tg_vkdev *d, const char *pipe, const int32_t *p, int nbuf, const VkBuffer *bufs, uint32_t gx,
                        uint32_t gy, uint32_t gz) {
    pthread_mutex_lock(&d->lock);
    tg_status st = tg__vk_dispatch(d, pipe, p, 64 * sizeof *p, nbuf, bufs, gx, gy, gz);
    pthread_mutex_unlock(&d->lock);
    return st;
}

/* x as dtype t on its device: a new reference (x itself when it has t). */
tg_tensor *tg__vk_cast_to(const tg_op_call *c, tg_tensor *x, tg_dtype t) {
    if (x->dtype == t) return tg_retain(x);
    tg_tensor *y = tg__vk_alloc(x->storage->device.index, t, x->ndim, x->shape);
    if (y && tg__vk_convert_into(c, y, x)) { tg_release(y); y = NULL; }
    return y;
}

int tg__vk_index_of(const char *name, const char *const *names, int n) {
    for (int i = 0; i < n; i++) if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

int64_t tg__vk_elem_offset(const tg_tensor *t) {
    return (int64_t)(tg__vk_locate(t).byte_off / (size_t)tg__esize(t->dtype));
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_kernel_util;
#endif
