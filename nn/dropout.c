/* nn_dropout: inverted dropout, y = x m with m_i = 1 / (1 - p) where a
 * uniform draw u_i < 1 - p (kept, probability 1 - p) and 0 otherwise.
 *
 * The mask is its own non-differentiable op (nn_dropout_mask: input x, for
 * its shape and dtype; output m) whose kernel draws u with tg_rand from the
 * thread's generator (tg_manual_seed's stream, x's dtype), so a compiled
 * program draws a fresh mask on every tg_run. On a Vulkan device the mask
 * is drawn there (gpu/random.c): the same stream, the same mask. Each call
 * gets a distinct serial attribute so common-subexpression elimination
 * never merges two masks. The product is the public tg_mul, so the derivatives come from
 * it: x-bar = g m, y-dot = t m (the same mask). Eval mode and p = 0 return
 * x itself (a new reference). */
#include <math.h>

#include "gpu/gpu.h"
#include "tangent/nn.h"
#include "tensor/ops/elementwise.h"

static tg_status mask_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    if (x->dtype != TG_F32 && x->dtype != TG_F64)
        return tg__op_error(c, TG_ERR_DTYPE, "needs f32 or f64 input, got %s", tg_dtype_name(x->dtype));
    double p = c->attrs->d[0];
    if (!(p >= 0 && p < 1)) return tg__op_error(c, TG_ERR_ARG, "p = %g is outside [0, 1)", p);
    out->dtype = x->dtype;
    tg__meta_copy_shape(out, x);
    return TG_OK;
}

static tg_status mask_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    double p = c->attrs->d[0], keep = 1.0 - p, scale = 1.0 / keep;
    tg_tensor *o = out[0];
    int64_t n = tg__numel(o->ndim, o->shape);
    if (n == 0) return TG_OK;
    /* the CPU kernel reads u here: drawn on the CPU whatever the default device */
    tg_tensor *u = tg__rand_host(in[0]->dtype, o->ndim, o->shape);
    if (!u) return tg_last_error_code();
    u = tg__scope_take(u);         /* ours, whether or not a scope is open */
    if (o->dtype == TG_F32) {
        const float *uv = (const float *)tg__ptr(u);
        float *m = (float *)tg__ptr(o), k = (float)keep, s = (float)scale;
        for (int64_t i = 0; i < n; i++) m[i] = uv[i] < k ? s : 0.0f;
    } else {
        const double *uv = (const double *)tg__ptr(u);
        double *m = (double *)tg__ptr(o);
        for (int64_t i = 0; i < n; i++) m[i] = uv[i] < keep ? scale : 0.0;
    }
    tg_release(u);
    return TG_OK;
}

const tg_op_def tg_op_nn_dropout_mask = {.name = "nn_dropout_mask", .n_in = 1, .n_out = 1, .flags = TG_OP_NONDIFF,
                                         .infer = mask_infer,
                                         .kernel = {[TG_CPU] = mask_kernel,
                                                    [TG_VULKAN] = TG_VK(tg__vk_dropout_mask_kernel)}};

tg_tensor *tg_nn_dropout(tg_tensor *x, double p, bool training) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_nn_dropout: x is NULL"), NULL;
    if (!(p >= 0 && p < 1)) return tg__error(TG_ERR_ARG, "tg_nn_dropout: p = %g is outside [0, 1)", p), NULL;
    if (x->dtype != TG_F32 && x->dtype != TG_F64)
        return tg__error(TG_ERR_DTYPE, "tg_nn_dropout: needs f32 or f64 input, got %s", tg_dtype_name(x->dtype)),
               NULL;
    if (!training || p == 0) return tg__handout(tg_retain(x));
    static int64_t serial;
    tg_attrs a = {.n_int = 1, .i = {__atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED)}, .n_real = 1, .d = {p}};
    tg_scope_begin();
    tg_tensor *y = tg_mul(x, tg__apply1(&tg_op_nn_dropout_mask, 1, &x, &a));
    tg_keep(y);
    tg_scope_end();
    return y;
}

TG_REGISTER_OPS(nn_dropout, &tg_op_nn_dropout_mask)
