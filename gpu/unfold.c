/* Vulkan kernels of nn_unfold (im2col) and nn_fold (col2im), NCHW
 * (nn/unfold.c; gpu/shaders/unfold.comp). im2col moves bits: every dtype
 * of 4, 8 or 16 bytes (f32, i32, f64, i64, c64, c128; f64 needs no
 * shaderFloat64 here). col2im adds: f32, f64 and c128 (shaderFloat64),
 * c64, i32, i64; each output pixel gathers its column entries in the CPU's
 * order, so results equal the CPU's bit for bit and need no atomics.
 * avg_pool2d (a mean over unfold's columns, nn/pool.c) runs on these. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

tg_status tg__vk_unfold_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    bool fold = strcmp(c->def->name, "nn_fold") == 0;
    tg_tensor *x = in[0], *y = out[0];
    tg_vkdev *d = tg__vk_dev_of(y);
    if (!d) return tg_last_error_code();
    tg_dtype dt = x->dtype;
    int64_t es = tg__esize(dt);
    char pipe[24];
    if (!fold) {
        if (es != 4 && es != 8 && es != 16) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(dt));
        snprintf(pipe, sizeof pipe, "unfold_w%d", (int)(es / 4));
    } else {
        bool ok = dt == TG_F32 || dt == TG_C64 || dt == TG_I32 || dt == TG_I64 ||
                  ((dt == TG_F64 || dt == TG_C128) && d->f64);
        if (!ok) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(dt));
        snprintf(pipe, sizeof pipe, "fold_%s", tg_dtype_name(dt));
    }
    const tg_attrs *a = c->attrs;
    const tg_tensor *img = fold ? y : x;            /* (N, C, H, W) */
    int64_t H = img->shape[2], W = img->shape[3];
    int64_t oh = (H + 2 * a->i[4] - a->i[6] * (a->i[0] - 1) - 1) / a->i[2] + 1;
    int64_t ow = (W + 2 * a->i[5] - a->i[7] * (a->i[1] - 1) - 1) / a->i[3] + 1;
    int64_t total = tg__numel(y->ndim, y->shape);
    int64_t sizes[] = {img->shape[1], H, W, oh, ow, a->i[0], a->i[1], a->i[2], a->i[3], a->i[4], a->i[5], a->i[6],
                       a->i[7]};
    int32_t p[64] = {0};
    bool ok = tg__vk_fits32(total) && tg__vk_fits32(tg__numel(x->ndim, x->shape)) &&
              tg__vk_fits32(img->shape[1] * a->i[0] * a->i[1] * oh * ow);
    for (int i = 0; ok && i < 13; i++) ok = tg__vk_fits32(sizes[i]);
    for (int i = 0; ok && i < x->ndim; i++) {
        ok = tg__vk_fits32(x->strides[i]);
        p[24 + i] = (int32_t)x->strides[i];
    }
    if (!ok) return tg__vk_unsupported(c, x, "%s (sizes or strides beyond 32 bits)", "these sizes");
    if (total == 0) return TG_OK;
    p[0] = (int32_t)total;
    for (int i = 0; i < 13; i++) p[1 + i] = (int32_t)sizes[i];
    vk_loc lo = tg__vk_locate(y), lx = tg__vk_locate(x);
    p[20] = (int32_t)(lo.byte_off / (size_t)es);
    p[21] = (int32_t)(lx.byte_off / (size_t)es);
    VkBuffer bufs[2] = {lo.block->buf, lx.block->buf};
    return tg__vk_record(d, pipe, p, 2, bufs, tg__vk_groups_for(total), 1, 1);
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_unfold;
#endif
