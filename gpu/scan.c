/* Vulkan kernels of cumsum and cumprod (tensor/ops/scan.c) along any axis
 * of any layout (gpu/shaders/scan.comp): f32, f64 (shaderFloat64), and
 * i32/i64 inputs accumulated in wrapping 64-bit integers to i64 as on the
 * CPU; bool inputs are refused. Short lines run a thread each, sequentially,
 * in the CPU's order of operations; long lines with few of them are split
 * into chunks (chunk totals, their prefixes, then each chunk rescanned), so
 * float results then differ from the CPU's by rounding only. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/axis_lines.h"

#include <stdio.h>

enum { CHUNK = 1024 };

tg_status tg__vk_scan_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = in[0], *y = out[0];
    tg_vkdev *d = tg__vk_dev_of(y);
    if (!d) return tg_last_error_code();
    bool ints = x->dtype == TG_I32 || x->dtype == TG_I64;
    if (!(ints && y->dtype == TG_I64) && !(tg__vk_float_ok(d, x->dtype) && y->dtype == x->dtype))
        return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(x->dtype));
    int axis;
    if (tg__norm_axis0d("scan", (int)c->attrs->i[0], x->ndim, &axis)) return tg_last_error_code();
    tg_tensor xv = tg__as_1d(x), ov = tg__as_1d(y);
    int64_t n = xv.shape[axis], numel = tg__numel(xv.ndim, xv.shape);
    if (numel == 0) return TG_OK;
    int64_t lines = numel / n;
    int32_t p[64] = {0};
    bool ok = tg__vk_fits32(numel) && tg__vk_fits32(xv.strides[axis]) && tg__vk_fits32(ov.strides[axis]);
    int k = 0;
    for (int a = 0; a < xv.ndim; a++) {
        if (a == axis) continue;
        ok = ok && tg__vk_fits32(xv.strides[a]) && tg__vk_fits32(ov.strides[a]);
        p[16 + k] = (int32_t)xv.shape[a];
        p[24 + k] = (int32_t)xv.strides[a];
        p[32 + k] = (int32_t)ov.strides[a];
        k++;
    }
    if (!ok) return tg__vk_unsupported(c, x, "%s (sizes or strides beyond 32 bits)", "these sizes");
    vk_loc lo = tg__vk_locate(y), lx = tg__vk_locate(x);
    p[1] = (int32_t)n;
    p[2] = k;
    p[3] = (int32_t)xv.strides[axis];
    p[4] = (int32_t)ov.strides[axis];
    p[5] = (int32_t)(lx.byte_off / (size_t)tg__esize(x->dtype));
    p[6] = (int32_t)(lo.byte_off / (size_t)tg__esize(y->dtype));
    p[7] = *(const int *)c->def->impl;          /* 0 sum, 1 prod (scan.c's enum) */
    char pipe[16];
    snprintf(pipe, sizeof pipe, "scan_%s", tg_dtype_name(x->dtype));
    VkBuffer bufs[3] = {lo.block->buf, lx.block->buf, lo.block->buf};
    /* a few long lines: too little parallelism for a thread per line */
    if (n <= 2 * CHUNK || lines >= 4096) {
        p[0] = (int32_t)lines;
        return tg__vk_record(d, pipe, p, 3, bufs, tg__vk_groups_for(lines), 1, 1);
    }
    int64_t nc = (n + CHUNK - 1) / CHUNK, wn = lines * nc;
    tg_tensor *w = tg__vk_alloc(y->storage->device.index, y->dtype, 1, &wn);
    if (!w) return tg_last_error_code();
    vk_loc lw = tg__vk_locate(w);
    bufs[2] = lw.block->buf;
    p[11] = CHUNK;
    p[12] = (int32_t)nc;
    p[13] = (int32_t)(lw.byte_off / (size_t)tg__esize(y->dtype));
    tg_status st = TG_OK;
    for (int pass = 1; pass <= 3 && !st; pass++) {
        p[10] = pass;
        p[0] = (int32_t)(pass == 2 ? lines : wn);
        st = tg__vk_record(d, pipe, p, 3, bufs, tg__vk_groups_for(p[0]), 1, 1);
    }
    tg_release(w);          /* safe: later work is ordered after this batch's reads */
    return st;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_scan;
#endif
