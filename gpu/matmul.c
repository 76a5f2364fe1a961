/* Vulkan batched matmul (gpu/shaders/matmul.comp). */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

/* ---- matmul ------------------------------------------------------------------------ */
tg_status tg__vk_matmul_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *y = out[0];
    tg_vkdev *d = tg__vk_dev_of(y);
    if (!d) return tg_last_error_code();
    tg_dtype t = y->dtype;
    if (!tg__vk_float_ok(d, t)) return tg__vk_unsupported(c, in[0], "dtype %s", tg_dtype_name(t));
    tg_tensor *a = tg__vk_cast_to(c, in[0], t), *b = a ? tg__vk_cast_to(c, in[1], t) : NULL;
    tg_status st = a && b ? TG_OK : tg_last_error_code();
    int32_t p[64] = {0};
    int64_t M = 1, N = 1, K, ars, acs, brs, bcs;
    if (!st) {
        if (a->ndim == 1) { K = a->shape[0]; ars = 0; acs = a->strides[0]; }
        else { M = a->shape[a->ndim - 2]; K = a->shape[a->ndim - 1]; ars = a->strides[a->ndim - 2]; acs = a->strides[a->ndim - 1]; }
        if (b->ndim == 1) { brs = b->strides[0]; bcs = 0; }
        else { N = b->shape[b->ndim - 1]; brs = b->strides[b->ndim - 2]; bcs = b->strides[b->ndim - 1]; }
        int nb = y->ndim - (a->ndim > 1) - (b->ndim > 1);
        int nba = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0;
        int64_t batches = tg__numel(nb, y->shape);
        bool ok = nb <= 6 && batches <= TG_VK_MAX_GROUPS && M <= 16 * (int64_t)TG_VK_MAX_GROUPS && N <= 16 * (int64_t)TG_VK_MAX_GROUPS && tg__vk_fits32(M) && tg__vk_fits32(N) && tg__vk_fits32(K) && tg__vk_fits32(ars) &&
                  tg__vk_fits32(acs) && tg__vk_fits32(brs) && tg__vk_fits32(bcs) && tg__vk_fits32(M * N * batches);
        for (int i = 0; ok && i < nb; i++) {
            int ia = i - (nb - nba), ib = i - (nb - nbb);
            int64_t sa = ia >= 0 && a->shape[ia] != 1 ? a->strides[ia] : 0;
            int64_t sb = ib >= 0 && b->shape[ib] != 1 ? b->strides[ib] : 0;
            ok = tg__vk_fits32(sa) && tg__vk_fits32(sb);
            p[12 + i] = (int32_t)y->shape[i];
            p[18 + i] = (int32_t)sa;
            p[24 + i] = (int32_t)sb;
        }
        if (!ok) st = tg__vk_unsupported(c, in[0], "%s (more than 6 batch axes, 65535 batches or 2^31 elements)", "these sizes");
        if (!st && M * N * batches > 0) {
            vk_loc la = tg__vk_locate(a), lb = tg__vk_locate(b), lc = tg__vk_locate(y);
            int64_t es = tg__esize(t);
            p[0] = (int32_t)M; p[1] = (int32_t)N; p[2] = (int32_t)K; p[3] = (int32_t)batches; p[4] = nb;
            p[5] = (int32_t)(la.byte_off / (size_t)es);
            p[6] = (int32_t)(lb.byte_off / (size_t)es);
            p[7] = (int32_t)(lc.byte_off / (size_t)es);
            p[8] = (int32_t)ars; p[9] = (int32_t)acs; p[10] = (int32_t)brs; p[11] = (int32_t)bcs;
            VkBuffer bufs[3] = {lc.block->buf, la.block->buf, lb.block->buf};
            char pipe[32];
            snprintf(pipe, sizeof pipe, "matmul_%s", tg__vk_sfx(t));
            st = tg__vk_record(d, pipe, p, 3, bufs, (uint32_t)((N + 15) / 16), (uint32_t)((M + 15) / 16), (uint32_t)batches);
        }
    }
    tg_release(a);
    tg_release(b);
    return st;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_matmul;
#endif
