/* nn_cross_entropy: torch.nn.functional.cross_entropy from logits (N, C)
 * (f32/f64) and integer class labels (N) (i32/i64), reduction "mean"
 * (default), "sum" or "none" (-> (N)).
 *
 * Kernel: the labels are validated first (each in [0, C), else TG_ERR_ARG
 * naming the first bad label's index and value), then per row, in double:
 * loss_i = m + log(sum_c exp(x_ic - m)) - x_i,label with m = max_c x_ic;
 * mean divides the sum by N (N = 0 gives NaN, as PyTorch).
 *
 * Rules (public ops, so higher order works), with p = softmax(x, 1) and
 * h = one_hot(labels, C):  VJP  x-bar = (p - h) g_i  (g / N for mean);
 * JVP  loss-dot_i = sum_c p_ic t_ic - t_i,label, then the reduction. The
 * labels are integers: they get no cotangent or tangent. */
#include <math.h>
#include <string.h>

#include "tangent/nn.h"
#include "tensor/ops/elementwise.h"
#include "gpu/gpu.h"

enum { RED_MEAN, RED_SUM, RED_NONE };

static tg_status ce_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0], *l = &c->in[1];
    char s1[64], s2[64];
    if (x->dtype != TG_F32 && x->dtype != TG_F64)
        return tg__op_error(c, TG_ERR_DTYPE, "logits must be f32 or f64, got %s", tg_dtype_name(x->dtype));
    if (l->dtype != TG_I32 && l->dtype != TG_I64)
        return tg__op_error(c, TG_ERR_DTYPE, "labels must be i32 or i64 class indices, got %s",
                            tg_dtype_name(l->dtype));
    if (x->ndim != 2) return tg__op_error(c, TG_ERR_SHAPE, "logits must be (N, C), got %d axes", x->ndim);
    if (l->ndim != 1) return tg__op_error(c, TG_ERR_SHAPE, "labels must be (N), got %d axes", l->ndim);
    if (l->shape[0] != x->shape[0])
        return tg__op_error(c, TG_ERR_SHAPE, "%s labels for %s rows of logits",
                            tg__fmt_size(s1, sizeof s1, l->shape[0]), tg__fmt_size(s2, sizeof s2, x->shape[0]));
    int64_t red = c->attrs->i[0];
    if (red < RED_MEAN || red > RED_NONE) return tg__op_error(c, TG_ERR_ARG, "unknown reduction %lld", (long long)red);
    out->dtype = x->dtype;
    out->ndim = red == RED_NONE ? 1 : 0;
    out->shape[0] = x->shape[0];
    return TG_OK;
}

static int64_t label_at(const tg_tensor *l, int64_t i) {
    const char *p = tg__ptr(l) + i * l->strides[0] * tg__esize(l->dtype);
    return l->dtype == TG_I32 ? (int64_t) * (const int32_t *)p : *(const int64_t *)p;
}

#define CE_ROWS(name, T)                                                                          \
    static void name(const tg_tensor *x, const tg_tensor *l, int64_t n, int64_t cl, double *loss) { \
        const T *b = (const T *)tg__ptr(x);                                                       \
        int64_t rs = x->strides[0], cs = x->strides[1];                                           \
        TG_PARALLEL_FOR(n * cl > TG_PARALLEL_GRAIN,                                               \
        for (int64_t i = 0; i < n; i++) {                                                         \
            const T *r = b + i * rs;                                                              \
            double m = -INFINITY, s = 0;                                                          \
            for (int64_t j = 0; j < cl; j++) { double v = (double)r[j * cs]; m = (v > m || v != v) ? v : m; } \
            for (int64_t j = 0; j < cl; j++) s += exp((double)r[j * cs] - m);                     \
            loss[i] = m + log(s) - (double)r[label_at(l, i) * cs];                                \
        });                                                                                       \
    }
CE_ROWS(ce_rows_f32, float)
CE_ROWS(ce_rows_f64, double)

static tg_status ce_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = in[0], *l = in[1];
    int64_t n = x->shape[0], cl = x->shape[1], red = c->attrs->i[0];
    for (int64_t i = 0; i < n; i++) {
        int64_t v = label_at(l, i);
        if (v < 0 || v >= cl)
            return tg__op_error(c, TG_ERR_ARG, "label %lld at index %lld is outside [0, %lld) (C = %lld classes)",
                                (long long)v, (long long)i, (long long)cl, (long long)cl);
    }
    double *loss = red == RED_NONE && x->dtype == TG_F64 ? (double *)tg__ptr(out[0]) : NULL;
    tg_tensor *tmp = NULL;
    if (!loss && n > 0) {
        if (!(tmp = tg__alloc(TG_F64, 1, &n))) return tg_last_error_code();
        loss = (double *)tg__ptr(tmp);
    }
    if (n > 0) {
        if (x->dtype == TG_F32) ce_rows_f32(x, l, n, cl, loss);
        else ce_rows_f64(x, l, n, cl, loss);
    }
    if (red == RED_NONE) {
        if (x->dtype == TG_F32) for (int64_t i = 0; i < n; i++) ((float *)tg__ptr(out[0]))[i] = (float)loss[i];
    } else {
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += loss[i];
        if (red == RED_MEAN) s /= (double)n;
        if (x->dtype == TG_F32) *(float *)tg__ptr(out[0]) = (float)s;
        else *(double *)tg__ptr(out[0]) = s;
    }
    tg_release(tmp);
    return TG_OK;
}

/* ---- derivative rules ---------------------------------------------------------------- */
static tg_tensor *div_rows(tg_tensor *t, int64_t n) {
    if (!t) return NULL;
    if (n < TG_SYM_BASE_INTERNAL) return tg_div_scalar(t, (double)n);
    return tg_div(t, tg__size_tensor(n, t->dtype));
}

static tg_status ce_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                        tg_tensor **ic) {
    (void)out;
    if (!TG_NEEDS(c, 0)) return TG_OK;
    tg_tensor *x = in[0];
    int64_t red = c->attrs->i[0];
    tg_tensor *d = tg_sub(tg_nn_softmax(x, 1), tg_cast(tg_one_hot(in[1], x->shape[1]), x->dtype));
    tg_tensor *gg = red == RED_NONE ? tg_unsqueeze(g[0], 1) : g[0];
    tg_tensor *r = tg_mul(d, gg);
    ic[0] = red == RED_MEAN ? div_rows(r, x->shape[0]) : r;
    return TG_RULE_RESULT(ic[0]);
}

static tg_status ce_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                        tg_tensor **ot) {
    (void)out;
    if (!t[0]) return TG_OK;
    int axis = 1;
    tg_tensor *lab = tg_unsqueeze(in[1], 1);
    tg_tensor *row = tg_sub(tg_sum(tg_mul(tg_nn_softmax(in[0], 1), t[0]), 1, &axis, true), tg_gather(t[0], 1, lab));
    row = row ? tg_squeeze(row, 1, &axis) : NULL;
    int64_t red = c->attrs->i[0];
    ot[0] = red == RED_NONE ? row : red == RED_SUM ? tg_sum(row, 0, NULL, false) : tg_mean(row, 0, NULL, false);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_nn_cross_entropy = {.name = "nn_cross_entropy", .n_in = 2, .n_out = 1,
                                          .flags = TG_OP_RULES_IGNORE_OUTPUT, .infer = ce_infer,
                                          .kernel = {[TG_CPU] = ce_kernel, [TG_VULKAN] = TG_VK(tg__vk_cross_entropy_kernel)}, .vjp = ce_vjp, .jvp = ce_jvp};

tg_tensor *tg_nn_cross_entropy(tg_tensor *logits, tg_tensor *labels, const char *reduction) {
    if (!logits || !labels)
        return tg__error(TG_ERR_ARG, "tg_nn_cross_entropy: %s is NULL", logits ? "labels" : "logits"), NULL;
    int64_t red;
    if (!reduction || !strcmp(reduction, "mean")) red = RED_MEAN;
    else if (!strcmp(reduction, "sum")) red = RED_SUM;
    else if (!strcmp(reduction, "none")) red = RED_NONE;
    else
        return tg__error(TG_ERR_ARG, "tg_nn_cross_entropy: unknown reduction \"%s\" (\"mean\", \"sum\" or \"none\")",
                         reduction), NULL;
    tg_tensor *in[2] = {logits, labels};
    tg_attrs a = {.n_int = 1, .i = {red}};
    return tg__apply1(&tg_op_nn_cross_entropy, 2, in, &a);
}

TG_REGISTER_OPS(nn_cross_entropy, &tg_op_nn_cross_entropy)
