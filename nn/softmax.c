/* nn_softmax and nn_log_softmax along one axis (negative counts from the
 * end; a 0-d tensor is one element of a length-1 axis), f32 and f64.
 *
 * Kernel: numerically stable, per line along the axis: m = max(x),
 * s = sum(exp(x - m)) accumulated in double; softmax = exp(x - m) / s,
 * log_softmax = x - m - log(s). The input is viewed as (outer, n, inner);
 * with inner > 1 a whole block of inner columns is processed at once so the
 * loops run over contiguous memory. A line holding NaN gives NaN.
 *
 * Rules (written with public ops, so higher order works):
 *   softmax      VJP  x-bar = y (g - sum(g y))          JVP  y (t - sum(t y))
 *   log_softmax  VJP  x-bar = g - softmax(x) sum(g)     JVP  t - sum(softmax(x) t)
 * with the sums over the axis, keepdim. */
#include <math.h>
#include <stdlib.h>

#include "tangent/nn.h"
#include "tensor/ops/elementwise.h"
#include "gpu/gpu.h"
#include "tensor/ops/vecmath.h"

static tg_status sm_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    if (x->dtype != TG_F32 && x->dtype != TG_F64)
        return tg__op_error(c, TG_ERR_DTYPE, "needs f32 or f64 input, got %s", tg_dtype_name(x->dtype));
    int axis = (int)c->attrs->i[0], nd = x->ndim ? x->ndim : 1;
    if (axis < -nd || axis >= nd)
        return tg__op_error(c, TG_ERR_ARG, "axis %d is out of range for %d axes", axis, x->ndim);
    out->dtype = x->dtype;
    tg__meta_copy_shape(out, x);
    return TG_OK;
}

/* One block: outer index fixed, n lines of inner contiguous columns at x
 * (row stride inner), written to o; acc holds 2 * inner doubles of scratch. */
#define SM_BLOCK(name, T, EXP, LOG)                                                                  \
    static void name(const T *x, T *o, int64_t n, int64_t inner, bool log_out, double *acc) {        \
        if (inner == 1) {                                                                            \
            T m = -INFINITY;                                                                         \
            bool nan = false;                                                                        \
            for (int64_t k = 0; k < n; k++) { m = x[k] > m ? x[k] : m; nan |= x[k] != x[k]; }        \
            if (nan) { for (int64_t k = 0; k < n; k++) o[k] = (T)NAN; return; }                      \
            double s = 0;                                                                            \
            if (log_out) {                                                                           \
                for (int64_t k = 0; k < n; k++) s += (double)EXP(x[k] - m);                          \
                T ls = (T)log(s);                                                                    \
                for (int64_t k = 0; k < n; k++) o[k] = x[k] - m - ls;                                \
            } else {                                                                                 \
                for (int64_t k = 0; k < n; k++) { T e = EXP(x[k] - m); o[k] = e; s += (double)e; }   \
                T r = (T)(1.0 / s);                                                                  \
                for (int64_t k = 0; k < n; k++) o[k] *= r;                                           \
            }                                                                                        \
            return;                                                                                  \
        }                                                                                            \
        double *mx = acc, *sum = acc + inner;                                                        \
        for (int64_t j = 0; j < inner; j++) { mx[j] = -INFINITY; sum[j] = 0; }                       \
        for (int64_t k = 0; k < n; k++)                                                              \
            for (int64_t j = 0; j < inner; j++) {                                                    \
                double v = (double)x[k * inner + j];                                                 \
                mx[j] = (v > mx[j] || v != v) ? v : mx[j];                                           \
            }                                                                                        \
        for (int64_t k = 0; k < n; k++)                                                              \
            for (int64_t j = 0; j < inner; j++) {                                                    \
                T e = EXP(x[k * inner + j] - (T)mx[j]);                                              \
                if (!log_out) o[k * inner + j] = e;                                                  \
                sum[j] += (double)e;                                                                 \
            }                                                                                        \
        if (log_out) {                                                                               \
            for (int64_t j = 0; j < inner; j++) sum[j] = log(sum[j]);                                \
            for (int64_t k = 0; k < n; k++)                                                          \
                for (int64_t j = 0; j < inner; j++)                                                  \
                    o[k * inner + j] = (x[k * inner + j] - (T)mx[j]) - (T)sum[j];                    \
        } else {                                                                                     \
            for (int64_t j = 0; j < inner; j++) sum[j] = 1.0 / sum[j];                               \
            for (int64_t k = 0; k < n; k++)                                                          \
                for (int64_t j = 0; j < inner; j++) o[k * inner + j] *= (T)sum[j];                   \
        }                                                                                            \
    }
SM_BLOCK(sm_block_f32, float, tg_expf_vec, logf)
SM_BLOCK(sm_block_f64, double, exp, log)

static tg_status sm_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = in[0], *o = out[0];
    int nd = x->ndim ? x->ndim : 1, axis = (int)c->attrs->i[0];
    if (axis < 0) axis += nd;
    bool log_out = c->def->impl != NULL;
    tg_tensor *xc = x;
    if (!tg__is_contiguous(x)) {
        if (!(xc = tg__alloc(x->dtype, x->ndim, x->shape))) return tg_last_error_code();
        tg__copy_into(xc, x);
    }
    int64_t outer = 1, inner = 1, n = x->ndim ? x->shape[axis] : 1;
    for (int d = 0; d < axis && d < x->ndim; d++) outer *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) inner *= x->shape[d];
    int64_t numel = outer * n * inner, es = tg__esize(x->dtype);
    tg_status st = TG_OK;
    if (numel > 0) {
        /* chunks of outer blocks, one scratch buffer each */
        int64_t chunks = numel > TG_PARALLEL_GRAIN ? (outer < 64 ? outer : 64) : 1;
        const char *xb = tg__ptr(xc);
        char *ob = tg__ptr(o);
        bool f32 = x->dtype == TG_F32;
        int failed = 0;
        TG_PARALLEL_FOR(chunks > 1,
        for (int64_t ch = 0; ch < chunks; ch++) {
            double *acc = inner > 1 ? malloc((size_t)(2 * inner) * sizeof(double)) : NULL;
            if (inner > 1 && !acc) {
                __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
            } else {
                for (int64_t b = ch * outer / chunks; b < (ch + 1) * outer / chunks; b++) {
                    int64_t off = b * n * inner * es;
                    if (f32) sm_block_f32((const float *)(xb + off), (float *)(ob + off), n, inner, log_out, acc);
                    else sm_block_f64((const double *)(xb + off), (double *)(ob + off), n, inner, log_out, acc);
                }
            }
            free(acc);
        });
        if (failed) st = tg__op_error(c, TG_ERR_MEMORY, "out of memory for %lld scratch values", (long long)inner);
    }
    if (xc != x) tg_release(xc);
    return st;
}

/* ---- derivative rules ---------------------------------------------------------------- */
static tg_tensor *axis_sum(tg_tensor *t, int axis) {
    if (!t) return NULL;
    return t->ndim ? tg_sum(t, 1, &axis, true) : t;
}

static tg_status softmax_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                             tg_tensor *const *g, tg_tensor **ic) {
    (void)in;
    tg_tensor *y = out[0];
    ic[0] = tg_mul(y, tg_sub(g[0], axis_sum(tg_mul(g[0], y), (int)c->attrs->i[0])));
    return TG_RULE_RESULT(ic[0]);
}
static tg_status softmax_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                             tg_tensor *const *t, tg_tensor **ot) {
    (void)in;
    tg_tensor *y = out[0];
    ot[0] = tg_mul(y, tg_sub(t[0], axis_sum(tg_mul(t[0], y), (int)c->attrs->i[0])));
    return TG_RULE_RESULT(ot[0]);
}
static tg_status log_softmax_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                 tg_tensor *const *g, tg_tensor **ic) {
    (void)out;
    int axis = (int)c->attrs->i[0];
    ic[0] = tg_sub(g[0], tg_mul(tg_nn_softmax(in[0], axis), axis_sum(g[0], axis)));
    return TG_RULE_RESULT(ic[0]);
}
static tg_status log_softmax_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                 tg_tensor *const *t, tg_tensor **ot) {
    (void)out;
    int axis = (int)c->attrs->i[0];
    ot[0] = tg_sub(t[0], axis_sum(tg_mul(tg_nn_softmax(in[0], axis), t[0]), axis));
    return TG_RULE_RESULT(ot[0]);
}

static const int log_flag = 1;
const tg_op_def tg_op_nn_softmax = {.name = "nn_softmax", .n_in = 1, .n_out = 1, .infer = sm_infer,
                                    .kernel = {[TG_CPU] = sm_kernel, [TG_VULKAN] = TG_VK(tg__vk_softmax_kernel)}, .vjp = softmax_vjp, .jvp = softmax_jvp};
const tg_op_def tg_op_nn_log_softmax = {.name = "nn_log_softmax", .n_in = 1, .n_out = 1,
                                        .flags = TG_OP_RULES_IGNORE_OUTPUT, .infer = sm_infer,
                                        .kernel = {[TG_CPU] = sm_kernel, [TG_VULKAN] = TG_VK(tg__vk_softmax_kernel)}, .vjp = log_softmax_vjp,
                                        .jvp = log_softmax_jvp, .impl = &log_flag};

tg_tensor *tg_nn_softmax(tg_tensor *x, int axis) {
    tg_attrs a = {.n_int = 1, .i = {axis}};
    return tg__apply1(&tg_op_nn_softmax, 1, &x, &a);
}
tg_tensor *tg_nn_log_softmax(tg_tensor *x, int axis) {
    tg_attrs a = {.n_int = 1, .i = {axis}};
    return tg__apply1(&tg_op_nn_log_softmax, 1, &x, &a);
}

TG_REGISTER_OPS(nn_softmax, &tg_op_nn_softmax, &tg_op_nn_log_softmax)
