/* Vulkan kernels of sort and topk (tensor/ops/sort.c): a workgroup per
 * line, a bitonic sort of (key, index) pairs in shared memory
 * (gpu/shaders/sort.comp), ties broken on the index, so values and indices
 * equal the CPU's stable order exactly (NaN last ascending, first
 * descending). f32 and i32 lines up to 2048 elements, f64 (shaderFloat64)
 * up to 1024; longer lines, i64 and bool are refused (TG_ERR_UNSUPPORTED). */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/axis_lines.h"

#include <stdio.h>
#include <string.h>

tg_status tg__vk_sort_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    bool topk = strcmp(c->def->name, "topk") == 0;
    tg_tensor *x = in[0], *v = out[0], *ix = out[1];
    tg_vkdev *d = tg__vk_dev_of(v);
    if (!d) return tg_last_error_code();
    tg_dtype dt = x->dtype;
    if (dt != TG_I32 && !tg__vk_float_ok(d, dt)) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(dt));
    int axis;
    if (tg__norm_axis0d("sort", (int)c->attrs->i[topk ? 1 : 0], x->ndim, &axis)) return tg_last_error_code();
    tg_tensor xv = tg__as_1d(x), vv = tg__as_1d(v), iv = tg__as_1d(ix);
    int64_t n = xv.shape[axis], k = topk ? c->attrs->i[0] : n, maxn = dt == TG_F64 ? 1024 : 2048;
    if (n > maxn) return tg__vk_unsupported(c, x, "lines longer than %s elements", dt == TG_F64 ? "1024" : "2048");
    int64_t numel = tg__numel(xv.ndim, xv.shape);
    if (numel == 0 || k == 0) return TG_OK;
    int64_t lines = numel / n, P = 1;
    while (P < n) P *= 2;
    int32_t p[64] = {0};
    bool ok = tg__vk_fits32(numel);
    int m = 0;
    for (int a = 0; a < xv.ndim; a++) {
        ok = ok && tg__vk_fits32(xv.strides[a]) && tg__vk_fits32(vv.strides[a]) && tg__vk_fits32(iv.strides[a]);
        if (a == axis) continue;
        p[16 + m] = (int32_t)xv.shape[a];
        p[24 + m] = (int32_t)xv.strides[a];
        p[32 + m] = (int32_t)vv.strides[a];
        p[40 + m] = (int32_t)iv.strides[a];
        m++;
    }
    if (!ok) return tg__vk_unsupported(c, x, "%s (sizes or strides beyond 32 bits)", "these sizes");
    vk_loc lv = tg__vk_locate(v), li = tg__vk_locate(ix), lx = tg__vk_locate(x);
    p[0] = (int32_t)lines;
    p[1] = (int32_t)n;
    p[2] = (int32_t)P;
    p[3] = (int32_t)k;
    p[4] = c->attrs->i[topk ? 2 : 1] != 0;
    p[5] = m;
    p[6] = (int32_t)xv.strides[axis];
    p[7] = (int32_t)vv.strides[axis];
    p[8] = (int32_t)iv.strides[axis];
    p[9] = (int32_t)(lx.byte_off / (size_t)tg__esize(dt));
    p[10] = (int32_t)(lv.byte_off / (size_t)tg__esize(dt));
    p[11] = (int32_t)(li.byte_off / 8);
    char pipe[16];
    snprintf(pipe, sizeof pipe, "sort_%s", tg_dtype_name(dt));
    VkBuffer bufs[3] = {lv.block->buf, li.block->buf, lx.block->buf};
    uint32_t groups = lines > TG_VK_MAX_GROUPS ? TG_VK_MAX_GROUPS : (uint32_t)lines;
    return tg__vk_record(d, pipe, p, 3, bufs, groups, 1, 1);
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_sort;
#endif
