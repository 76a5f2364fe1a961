/* Vulkan reductions over any axes (gpu/shaders/reduce.comp). */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

/* ---- sum ------------------------------------------------------------------------- */
/* One pass: out[m * G + g] = partial sums of output m over chunk g. */
static tg_status reduce_pass(tg_vkdev *d, tg_tensor *x, tg_tensor *dst, int nk, const int64_t *ks, const int64_t *kst,
                             int nr, const int64_t *rs, const int64_t *rst, int64_t M, int64_t R, int64_t G) {
    int32_t p[64] = {0};
    p[0] = (int32_t)M;
    p[1] = (int32_t)R;
    p[2] = (int32_t)G;
    p[3] = nk;
    p[4] = nr;
    vk_loc lx = tg__vk_locate(x), lo = tg__vk_locate(dst);
    p[5] = (int32_t)(lx.byte_off / (size_t)tg__esize(x->dtype));
    p[6] = (int32_t)(lo.byte_off / (size_t)tg__esize(dst->dtype));
    for (int i = 0; i < nk; i++) { p[8 + i] = (int32_t)ks[i]; p[16 + i] = (int32_t)kst[i]; }
    for (int i = 0; i < nr; i++) { p[24 + i] = (int32_t)rs[i]; p[32 + i] = (int32_t)rst[i]; }
    VkBuffer bufs[2] = {lo.block->buf, lx.block->buf};
    int64_t total = M * G;
    uint32_t gx = total > TG_VK_MAX_GROUPS ? TG_VK_MAX_GROUPS : (uint32_t)total;
    uint32_t gy = (uint32_t)((total + gx - 1) / gx);
    char pipe[32];
    snprintf(pipe, sizeof pipe, "reduce_%s", tg__vk_sfx(x->dtype));
    return tg__vk_record(d, pipe, p, 2, bufs, gx, gy, 1);
}

tg_status tg__vk_reduce_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    if (strcmp(c->def->name, "sum") != 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    tg_tensor *x = in[0];
    tg_vkdev *d = tg__vk_dev_of(x);
    if (!d) return tg_last_error_code();
    if (!tg__vk_float_ok(d, x->dtype) || out[0]->dtype != x->dtype)
        return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(x->dtype));
    bool mask[TG_MAX_DIMS];
    int64_t na = c->attrs->i[1];
    const int *axes = NULL;
    int ax[TG_MAX_DIMS];
    for (int64_t k = 0; k < na && k < TG_MAX_DIMS; k++) ax[k] = (int)c->attrs->i[2 + k];
    if (na >= 0) axes = ax;
    if (tg__axes_mask("tg_sum", na < 0 ? 0 : (int)na, axes, x->ndim, mask)) return tg_last_error_code();
    int nk = 0, nr = 0;
    int64_t ks[TG_MAX_DIMS], kst[TG_MAX_DIMS], rs[TG_MAX_DIMS], rst[TG_MAX_DIMS], M = 1, R = 1;
    for (int i = 0; i < x->ndim; i++) {
        if (!tg__vk_fits32(x->strides[i])) return tg__vk_unsupported(c, x, "%s (strides beyond 32 bits)", "this layout");
        if (mask[i]) { rs[nr] = x->shape[i]; rst[nr++] = x->strides[i]; R *= x->shape[i]; }
        else { ks[nk] = x->shape[i]; kst[nk++] = x->strides[i]; M *= x->shape[i]; }
    }
    if (M == 0) return TG_OK;
    if (!tg__vk_fits32(R) || !tg__vk_fits32(M)) return tg__vk_unsupported(c, x, "%s (more than 2^31 elements)", "this size");
    /* Split each output's R elements over G workgroups of 256 threads
     * (4 elements per thread at least), then add the partials. */
    int64_t G = R / (TG_VK_LOCAL * 4);
    if (G > 1024) G = 1024;
    if (G < 1 || M > 4096) G = 1;
    if (G == 1) return reduce_pass(d, x, out[0], nk, ks, kst, nr, rs, rst, M, R, 1);
    int64_t pshape[2] = {M, G};
    tg_tensor *part = tg__vk_alloc(x->storage->device.index, x->dtype, 2, pshape);
    if (!part) return tg_last_error_code();
    tg_status st = reduce_pass(d, x, part, nk, ks, kst, nr, rs, rst, M, R, G);
    if (!st) {
        int64_t one_s = 1, gst = G;
        /* pass 2: part is (M, G) contiguous; kept axis M with stride G */
        st = reduce_pass(d, part, out[0], 1, &M, &gst, 1, &G, &one_s, M, G, 1);
    }
    tg_release(part);       /* safe: later work is ordered after this batch's reads */
    return st;
}

#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_reduce;
#endif
