/* Vulkan kernels of max pooling (nn/pool.c): nn_max_pool2d and its two
 * derivative helpers nn_max_pool2d_scatter (the VJP) and
 * nn_max_pool2d_gather (the JVP), f32/f64, any strides
 * (gpu/shaders/pool.comp). Like the CPU kernels they recompute each
 * window's first maximum from x; scatter is written as a gather (a thread
 * per input pixel), so results do not depend on scheduling, or, where the
 * windows tile the plane, as a thread per window writing each of its
 * pixels once. Integer inputs
 * (which the CPU op also takes) are refused. avg_pool2d is not an op of its
 * own (a mean over nn/unfold.c's columns). */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

tg_status tg__vk_pool_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    static const char *const names[] = {"nn_max_pool2d", "nn_max_pool2d_gather", "nn_max_pool2d_scatter"};
    int op = tg__vk_index_of(c->def->name, names, 3);
    if (op < 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    tg_tensor *x = in[0], *v = op ? in[1] : NULL, *y = out[0];
    tg_vkdev *d = tg__vk_dev_of(y);
    if (!d) return tg_last_error_code();
    if (!tg__vk_float_ok(d, x->dtype)) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(x->dtype));
    if (v && (!tg__vk_float_ok(d, v->dtype) || v->dtype != y->dtype))
        return tg__vk_unsupported(c, v, "dtype %s", tg_dtype_name(v->dtype));
    if (!v && y->dtype != x->dtype) return tg__vk_unsupported(c, y, "dtype %s", tg_dtype_name(y->dtype));
    const tg_attrs *at = c->attrs;
    int64_t H = x->shape[2], W = x->shape[3];
    const tg_tensor *pooled = op == 2 ? v : y;      /* (N, C, oh, ow) */
    int64_t oh = pooled->shape[2], ow = pooled->shape[3], total = tg__numel(4, y->shape);
    int64_t sizes[] = {x->shape[1], H, W, oh, ow, at->i[0], at->i[1], at->i[2], at->i[3], at->i[4], at->i[5]};
    int32_t p[64] = {0};
    bool ok = tg__vk_fits32(total) && tg__vk_fits32(tg__numel(4, x->shape));
    for (int i = 0; ok && i < 11; i++) ok = tg__vk_fits32(sizes[i]);
    for (int i = 0; ok && i < 4; i++) {
        ok = tg__vk_fits32(x->strides[i]) && (!v || tg__vk_fits32(v->strides[i]));
        p[24 + i] = (int32_t)x->strides[i];
        p[28 + i] = v ? (int32_t)v->strides[i] : 0;
    }
    if (!ok) return tg__vk_unsupported(c, x, "%s (sizes or strides beyond 32 bits)", "these sizes");
    if (total == 0) return TG_OK;
    p[0] = (int32_t)total;
    for (int i = 0; i < 11; i++) p[1 + i] = (int32_t)sizes[i];
    /* scatter over windows that tile the plane: a thread per window */
    if (op == 2 && at->i[0] == at->i[2] && at->i[1] == at->i[3] && at->i[4] == 0 && at->i[5] == 0 &&
        H == oh * at->i[2] && W == ow * at->i[3]) {
        p[12] = 1;
        total = tg__numel(4, v->shape);
        p[0] = (int32_t)total;
    }
    vk_loc lo = tg__vk_locate(y), lx = tg__vk_locate(x), lv = tg__vk_locate(v ? v : x);
    p[20] = (int32_t)(lo.byte_off / (size_t)tg__esize(y->dtype));
    p[21] = (int32_t)(lx.byte_off / (size_t)tg__esize(x->dtype));
    p[22] = v ? (int32_t)(lv.byte_off / (size_t)tg__esize(v->dtype)) : 0;
    VkBuffer bufs[3] = {lo.block->buf, lx.block->buf, lv.block->buf};
    char pipe[40];
    if (!v) snprintf(pipe, sizeof pipe, "pool_max_%s", tg__vk_sfx(x->dtype));
    else snprintf(pipe, sizeof pipe, "pool_%s_%s_%s", op == 1 ? "gather" : "scatter", tg__vk_sfx(x->dtype), tg__vk_sfx(v->dtype));
    return tg__vk_record(d, pipe, p, v ? 3 : 2, bufs, tg__vk_groups_for(total), 1, 1);
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_pool;
#endif
