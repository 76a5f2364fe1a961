/* Vulkan kernel of nn_linear / nn_linear_nobias (nn/linear.c): act(x W^T + b)
 * with act none or ReLU, f32/f64 (operands converted to the output's dtype
 * on the device). The product goes through the Vulkan matmul kernel
 * (tg__vk_matmul_kernel, gpu/matmul.c) with W^T as a transposed view (no
 * copy), writing straight into the output, with the bias and activation
 * applied as it stores (tg_vk_epilogue); where that kernel path takes no
 * epilogue (split-K), one in-place pass does it (gpu/shaders/linear.comp). */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tangent/nn.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

tg_status tg__vk_linear_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    static const char *const names[] = {"nn_linear", "nn_linear_nobias"};
    if (tg__vk_index_of(c->def->name, names, 2) < 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    tg_tensor *y = out[0], *x = in[0], *w = in[1];
    tg_vkdev *d = tg__vk_dev_of(y);
    if (!d) return tg_last_error_code();
    tg_dtype t = y->dtype;
    for (int i = 0; i < c->n_in; i++)
        if (!tg__vk_float_ok(d, in[i]->dtype)) return tg__vk_unsupported(c, in[i], "dtype %s", tg_dtype_name(in[i]->dtype));
    if (!tg__vk_float_ok(d, t)) return tg__vk_unsupported(c, y, "dtype %s", tg_dtype_name(t));
    int64_t act = c->attrs ? c->attrs->i[0] : TG_ACT_NONE;
    if (act != TG_ACT_NONE && act != TG_ACT_RELU) return tg__vk_unsupported(c, x, "%s", "this activation");
    int64_t n = w->shape[0], k = w->shape[1], total = tg__numel(y->ndim, y->shape);
    if (total == 0) return TG_OK;
    /* y = x @ W^T through the matmul kernel (a call describing (x, W^T)) */
    tg_tensor *wt = tg__make_view(w, w->dtype, 2, (int64_t[]){k, n}, (int64_t[]){w->strides[1], w->strides[0]}, w->offset);
    if (!wt) return tg_last_error_code();
    tg_tensor *mm_in[2] = {x, wt};
    tg_meta metas[2];
    tg__metas_of(2, mm_in, metas);
    tg_op_call mc = {c->def, NULL, 2, metas, NULL};
    tg_tensor *b = c->n_in > 2 ? tg__vk_cast_to(c, in[2], t) : NULL;
    if (c->n_in > 2 && !b) {
        tg_release(wt);
        return tg_last_error_code();
    }
    /* the bias (one per column) and ReLU as the product is stored */
    tg_vk_epilogue ep = {b, 0, b ? b->strides[0] : 0, act == TG_ACT_RELU, false, NULL, false, 0, 0};
    tg_status st = tg__vk_matmul_ep(&mc, mm_in, out, &ep);
    tg_release(wt);
    if (st || ep.applied || (!b && act == TG_ACT_NONE)) {
        tg_release(b);
        return st;
    }
    if (!tg__vk_fits32(total) || (b && !tg__vk_fits32(b->strides[0]))) {
        tg_release(b);
        return tg__vk_unsupported(c, x, "%s (more than 2^31 elements)", "this size");
    }
    int32_t p[64] = {0};
    vk_loc ly = tg__vk_locate(y), lb = tg__vk_locate(b ? b : y);
    int64_t es = tg__esize(t);
    p[0] = (int32_t)total;
    p[1] = (int32_t)n;
    p[2] = b != NULL;
    p[3] = act == TG_ACT_RELU;
    p[4] = 1;
    p[20] = (int32_t)(ly.byte_off / (size_t)es);
    p[21] = (int32_t)(lb.byte_off / (size_t)es);
    p[22] = b ? (int32_t)b->strides[0] : 0;
    VkBuffer bufs[2] = {ly.block->buf, lb.block->buf};
    char pipe[32];
    snprintf(pipe, sizeof pipe, "linear_epilogue_%s", tg__vk_sfx(t));
    st = tg__vk_record(d, pipe, p, 2, bufs, tg__vk_groups_for(total), 1, 1);
    tg_release(b);
    return st;
}
/* y (contiguous, (.., M, N)) = act(y + bias[r * rs + c * cs]) in one
 * in-place pass, for products whose path stores them plain (split-K, the
 * wide tile); *done false where the sizes do not fit 32-bit indices. */
static tg_status bias_relu_pass(tg_vkdev *d, tg_tensor *y, tg_tensor *bias, int64_t rs, int64_t cs, bool relu,
                                bool *done) {
    int64_t total = tg__numel(y->ndim, y->shape), N = y->shape[y->ndim - 1], M = y->shape[y->ndim - 2];
    *done = false;
    if (!tg__vk_fits32(total) || !tg__vk_fits32(rs) || !tg__vk_fits32(cs)) return TG_OK;
    *done = true;
    if (total == 0) return TG_OK;
    int32_t p[64] = {0};
    vk_loc ly = tg__vk_locate(y), lb = tg__vk_locate(bias ? bias : y);
    int64_t es = tg__esize(y->dtype);
    p[0] = (int32_t)total;
    p[1] = 1;
    p[2] = bias != NULL;
    p[3] = relu;
    p[4] = 1;
    p[5] = 1;
    p[6] = (int32_t)N;
    p[7] = (int32_t)M;
    p[20] = (int32_t)(ly.byte_off / (size_t)es);
    p[21] = (int32_t)(lb.byte_off / (size_t)es);
    p[22] = (int32_t)cs;
    p[23] = (int32_t)rs;
    VkBuffer bufs[2] = {ly.block->buf, lb.block->buf};
    char pipe[32];
    snprintf(pipe, sizeof pipe, "linear_epilogue_%s", tg__vk_sfx(y->dtype));
    return tg__vk_record(d, pipe, p, 2, bufs, tg__vk_groups_for(total), 1, 1);
}

/* The same epilogue for a compiled program's matmul -> add -> relu group
 * (autodiff/fusion.c). */
tg_status tg__vk_matmul_epilogue(tg_tensor *a, tg_tensor *b, tg_tensor *bias, bool relu, const char *act,
                                 tg_tensor **product, bool *applied, bool *act_applied) {
    *product = NULL;
    *applied = *act_applied = false;
    tg_device da = a->storage->device, db = b->storage->device;
    tg_dtype t = a->dtype;
    bool fits = da.kind == TG_VULKAN && db.kind == TG_VULKAN && da.index == db.index && b->dtype == t &&
                (t == TG_F32 || t == TG_F64) && a->ndim >= 2 && b->ndim >= 2;
    if (bias) {
        tg_device dc = bias->storage->device;
        fits = fits && dc.kind == TG_VULKAN && dc.index == da.index && bias->dtype == t;
        for (int d = 0; fits && d + 2 < bias->ndim; d++) fits = bias->shape[d] == 1;
    }
    tg_vkdev *d = fits ? tg__vk_dev_of(a) : NULL;
    if (!d || !tg__vk_float_ok(d, t)) return TG_OK;
    const tg_op_def *mm = tg__op_lookup("matmul");
    tg_tensor *in[2] = {a, b};
    tg_meta metas[2], om;
    tg__metas_of(2, in, metas);
    tg_op_call call = {mm, NULL, 2, metas, NULL};
    tg_status st = mm->infer(&call, &om);
    if (st) return st;
    tg_tensor *y = tg__vk_alloc(da.index, t, om.ndim, om.shape);
    if (!y) return tg_last_error_code();
    /* the bias's last two axes against the product's rows and columns;
     * size 1 (or absent) broadcasts: stride 0 */
    int bn = bias ? bias->ndim : 0;
    int64_t rs = bn >= 2 && bias->shape[bn - 2] != 1 ? bias->strides[bn - 2] : 0;
    int64_t cs = bn >= 1 && bias->shape[bn - 1] != 1 ? bias->strides[bn - 1] : 0;
    tg_vk_epilogue ep = {bias, rs, cs, relu, false, act, false, 0, 0};
    st = tg__vk_matmul_ep(&call, in, &y, &ep);
    if (!st && !ep.applied) {
        if (bias || relu) st = bias_relu_pass(d, y, bias, rs, cs, relu, &ep.applied);
        else ep.applied = true;         /* nothing to apply (an activation the caller runs) */
    }
    if (st) {
        tg_release(y);
        return st;
    }
    *product = y;
    *applied = ep.applied;
    *act_applied = ep.act_applied;
    return TG_OK;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_linear;
#endif
