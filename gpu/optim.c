/* The Adam step of one parameter on a Vulkan device in one pass
 * (gpu/shaders/optim.comp): nn/optim.c's device path would otherwise take
 * a dozen elementwise dispatches per parameter and step, each reading and
 * writing the whole parameter. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"

#include <stdio.h>
#include <string.h>

static void put_scalar(int32_t *p, int k, tg_dtype t, double x) {
    if (t == TG_F32) {
        float f = (float)x;
        memcpy(&p[8 + k], &f, sizeof f);
    } else {
        memcpy(&p[8 + 2 * k], &x, sizeof x);     /* little-endian: low word first, as packDouble2x32 reads */
    }
}

tg_status tg__vk_adam_step(tg_tensor *prm, tg_tensor *g, tg_tensor *m, tg_tensor *v, const double sc[7], bool *done) {
    *done = false;
    tg_vkdev *d = tg__vk_dev_of(prm);
    if (!d) return tg_last_error_code();
    tg_dtype t = prm->dtype;
    tg_tensor *ops[4] = {prm, g, m, v};
    int64_t n = tg__numel(prm->ndim, prm->shape);
    for (int i = 0; i < 4; i++)
        if (ops[i]->dtype != t || !tg__is_contiguous(ops[i]) || tg__numel(ops[i]->ndim, ops[i]->shape) != n ||
            ops[i]->storage->device.kind != TG_VULKAN || ops[i]->storage->device.index != prm->storage->device.index)
            return TG_OK;                /* not this kernel's case: the caller takes the op-by-op path */
    if (!tg__vk_float_ok(d, t) || !tg__vk_fits32(n) || n == 0) return TG_OK;
    int32_t p[64] = {0};
    p[0] = (int32_t)n;
    VkBuffer bufs[4];
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (int32_t)tg__vk_elem_offset(ops[i]);
        bufs[i] = tg__vk_locate(ops[i]).block->buf;
    }
    for (int k = 0; k < 7; k++) put_scalar(p, k, t, sc[k]);
    char pipe[32];
    snprintf(pipe, sizeof pipe, "optim_adam_%s", tg__vk_sfx(t));
    tg_status st = tg__vk_record(d, pipe, p, 4, bufs, tg__vk_groups_for(n), 1, 1);
    *done = st == TG_OK;
    return st;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_optim;
#endif
