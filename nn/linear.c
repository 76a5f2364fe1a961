/* nn_linear: act(x W^T + b), torch.nn.functional.linear plus an optional
 * ReLU. x (..., in), w (out, in), b (out) or none -> (..., out), f32/f64
 * (operands promoted; other dtypes go through the unfused composite).
 *
 * Kernel: one GEMM (cblas, x read as an (M, in) matrix and w as its
 * transpose without copies whenever the strides allow), then ONE pass over
 * the (M, out) result that adds the bias and applies the ReLU in place
 * (y = v < 0 ? 0 : v, as tg_relu: NaN propagates).
 *
 * Rules, with m = (y > 0) for ReLU (relu'(0) = 0) and m = 1 otherwise, and
 * gm = g m:  x-bar = gm W,  W-bar = gm^T x (leading axes flattened),
 * b-bar = sum of gm over the leading axes;  JVP: y-dot = m (x-dot W^T +
 * x W-dot^T + b-dot). Both call public ops (matmul, mul, sum), so they are
 * differentiable in turn; the mask is a constant (ReLU'' = 0 a.e.). */
#include <cblas.h>
#include <string.h>

#include "gpu/gpu.h"
#include "tangent/nn.h"
#include "tensor/ops/elementwise.h"

static tg_status lin_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0], *w = &c->in[1], *b = c->n_in > 2 ? &c->in[2] : NULL;
    char s1[64], s2[64];
    if (x->ndim < 1) return tg__op_error(c, TG_ERR_SHAPE, "x must have at least 1 axis (..., in)");
    if (w->ndim != 2) return tg__op_error(c, TG_ERR_SHAPE, "w must be (out, in), got %d axes", w->ndim);
    if (x->shape[x->ndim - 1] != w->shape[1])
        return tg__op_error(c, TG_ERR_SHAPE, "x has %s input features but w (out, in) expects %s",
                            tg__fmt_size(s1, sizeof s1, x->shape[x->ndim - 1]), tg__fmt_size(s2, sizeof s2, w->shape[1]));
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return tg__op_error(c, TG_ERR_SHAPE, "b must be (out) with out = %s",
                            tg__fmt_size(s1, sizeof s1, w->shape[0]));
    tg_dtype d = tg_promote_types(x->dtype, w->dtype);
    if (b) d = tg_promote_types(d, b->dtype);
    if (d != TG_F32 && d != TG_F64)
        return tg__op_error(c, TG_ERR_DTYPE, "the fused kernel needs f32 or f64 operands, got %s", tg_dtype_name(d));
    int64_t act = c->attrs->i[0];
    if (act != TG_ACT_NONE && act != TG_ACT_RELU)
        return tg__op_error(c, TG_ERR_ARG, "unknown activation %lld", (long long)act);
    out->dtype = d;
    out->ndim = x->ndim;
    for (int i = 0; i < x->ndim - 1; i++) out->shape[i] = x->shape[i];
    out->shape[x->ndim - 1] = w->shape[0];
    return TG_OK;
}

/* A contiguous copy of t in dtype d (t retained when it already is one). */
static tg_tensor *contig(tg_tensor *t, tg_dtype d) {
    if (t->dtype == d && tg__is_contiguous(t)) return tg_retain(t);
    tg_tensor *c = tg__alloc(d, t->ndim, t->shape);
    if (c) tg__copy_into(c, t);
    return c;
}

#define EPILOGUE(name, T)                                                                       \
    static void name(char *cp, const char *bp, int64_t m, int64_t n, bool relu) {              \
        T *y = (T *)cp;                                                                         \
        const T *b = (const T *)bp;                                                             \
        TG_PARALLEL_FOR(m * n > TG_PARALLEL_GRAIN,                                              \
        for (int64_t i = 0; i < m; i++) {                                                       \
            T *r = y + i * n;                                                                   \
            if (b && relu) for (int64_t j = 0; j < n; j++) { T v = r[j] + b[j]; r[j] = v < 0 ? 0 : v; } \
            else if (b) for (int64_t j = 0; j < n; j++) r[j] += b[j];                           \
            else if (relu) for (int64_t j = 0; j < n; j++) r[j] = r[j] < 0 ? 0 : r[j];          \
        });                                                                                     \
    }
EPILOGUE(epilogue_f32, float)
EPILOGUE(epilogue_f64, double)

static tg_status lin_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    tg_tensor *x = tg__cast_raw(in[0], d), *w = tg__cast_raw(in[1], d), *b = NULL;
    tg_status st = TG_OK;
    if (!x || !w) { st = tg_last_error_code(); goto done; }
    if (c->n_in > 2 && !(b = contig(in[2], d))) { st = tg_last_error_code(); goto done; }
    int64_t k = w->shape[1], n = w->shape[0], m = tg__numel(out[0]->ndim - 1, out[0]->shape);
    if (k > INT32_MAX || n > INT32_MAX || m > INT32_MAX) {
        st = tg__op_error(c, TG_ERR_SHAPE, "matrix sizes exceed BLAS's int range");
        goto done;
    }
    if (m == 0 || n == 0) goto done;
    char *y = tg__ptr(out[0]);
    if (k == 0) {
        memset(y, 0, (size_t)(m * n * tg__esize(d)));
    } else {
        /* x as an (m, k) matrix: row-major with a leading dimension, or transposed (2-d views) */
        bool tx = false, tw = true;
        int64_t ldx = k, ldw = k;
        if (tg__is_contiguous(x)) ldx = k;
        else if (x->ndim == 2 && x->strides[1] == 1 && x->strides[0] >= k) ldx = x->strides[0];
        else if (x->ndim == 2 && x->strides[0] == 1 && x->strides[1] >= m) { tx = true; ldx = x->strides[1]; }
        else {
            tg_tensor *xc = contig(x, d);
            tg_release(x);
            if (!(x = xc)) { st = tg_last_error_code(); goto done; }
        }
        /* w (n, k) row-major is used transposed; a column-major w (a transposed view) is W^T row-major */
        if (w->strides[1] == 1 && w->strides[0] >= k) ldw = w->strides[0];
        else if (w->strides[0] == 1 && w->strides[1] >= n) { tw = false; ldw = w->strides[1]; }
        else {
            tg_tensor *wc = contig(w, d);
            tg_release(w);
            if (!(w = wc)) { st = tg_last_error_code(); goto done; }
        }
        enum CBLAS_TRANSPOSE TX = tx ? CblasTrans : CblasNoTrans, TW = tw ? CblasTrans : CblasNoTrans;
        if (d == TG_F32)
            cblas_sgemm(CblasRowMajor, TX, TW, (int)m, (int)n, (int)k, 1.0f, (const float *)tg__ptr(x), (int)ldx,
                        (const float *)tg__ptr(w), (int)ldw, 0.0f, (float *)y, (int)n);
        else
            cblas_dgemm(CblasRowMajor, TX, TW, (int)m, (int)n, (int)k, 1.0, (const double *)tg__ptr(x), (int)ldx,
                        (const double *)tg__ptr(w), (int)ldw, 0.0, (double *)y, (int)n);
    }
    bool relu = c->attrs->i[0] == TG_ACT_RELU;
    if (b || relu) {
        if (d == TG_F32) epilogue_f32(y, b ? tg__ptr(b) : NULL, m, n, relu);
        else epilogue_f64(y, b ? tg__ptr(b) : NULL, m, n, relu);
    }
done:
    tg_release(x);
    tg_release(w);
    tg_release(b);
    return st;
}

/* ---- derivative rules ---------------------------------------------------------------- */
/* g times the ReLU mask (y > 0) when the op has one. */
static tg_tensor *masked(const tg_op_call *c, tg_tensor *g, tg_tensor *y) {
    if (!g || c->attrs->i[0] != TG_ACT_RELU) return g;
    return tg_mul(g, tg_cast(tg_gt_scalar(y, 0.0), g->dtype));
}

static tg_status lin_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    tg_tensor *x = in[0], *w = in[1];
    tg_tensor *gm = masked(c, g[0], out[0]);
    if (!gm) return tg_last_error_code();
    int nd = gm->ndim;
    if (TG_NEEDS(c, 0) && !(ic[0] = tg_matmul(gm, w))) return tg_last_error_code();
    if (TG_NEEDS(c, 1)) {
        tg_tensor *g2 = nd == 2 ? gm : tg_reshape(gm, 2, (int64_t[]){-1, w->shape[0]});
        tg_tensor *x2 = nd == 2 ? x : tg_reshape(x, 2, (int64_t[]){-1, w->shape[1]});
        if (!(ic[1] = tg_matmul(tg_mT(g2), x2))) return tg_last_error_code();
    }
    if (c->n_in > 2 && TG_NEEDS(c, 2)) {
        int axes[TG_MAX_DIMS];
        for (int i = 0; i < nd - 1; i++) axes[i] = i;
        if (!(ic[2] = tg_sum(gm, nd - 1, axes, false))) return tg_last_error_code();
    }
    return TG_OK;
}

static tg_status lin_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    tg_tensor *acc = NULL;
    if (t[0] && !(acc = tg_matmul(t[0], tg_mT(in[1])))) return tg_last_error_code();
    if (t[1]) {
        tg_tensor *p = tg_matmul(in[0], tg_mT(t[1]));
        if (!(acc = acc && p ? tg_add(acc, p) : p)) return tg_last_error_code();
    }
    if (c->n_in > 2 && t[2] && !(acc = acc ? tg_add(acc, t[2]) : t[2])) return tg_last_error_code();
    if (acc && acc->ndim != out[0]->ndim) acc = tg_expand(acc, out[0]->ndim, out[0]->shape);   /* only b-dot */
    ot[0] = masked(c, acc, out[0]);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_nn_linear = {.name = "nn_linear", .n_in = 3, .n_out = 1, .infer = lin_infer,
                                   .kernel = {[TG_CPU] = lin_kernel, [TG_VULKAN] = TG_VK(tg__vk_linear_kernel)}, .vjp = lin_vjp, .jvp = lin_jvp};
const tg_op_def tg_op_nn_linear_nobias = {.name = "nn_linear_nobias", .n_in = 2, .n_out = 1, .infer = lin_infer,
                                          .kernel = {[TG_CPU] = lin_kernel, [TG_VULKAN] = TG_VK(tg__vk_linear_kernel)}, .vjp = lin_vjp, .jvp = lin_jvp};

tg_tensor *tg_nn_linear(tg_tensor *x, tg_tensor *w, tg_tensor *b, tg_activation act) {
    if (!x || !w) return tg__error(TG_ERR_ARG, "tg_nn_linear: %s is NULL", x ? "w" : "x"), NULL;
    if (act != TG_ACT_NONE && act != TG_ACT_RELU)
        return tg__error(TG_ERR_ARG, "tg_nn_linear: unknown activation %d", (int)act), NULL;
    tg_dtype d = tg_promote_types(x->dtype, w->dtype);
    if (b) d = tg_promote_types(d, b->dtype);
    tg_attrs a = {.n_int = 1, .i = {act}};
    if (d == TG_F32 || d == TG_F64) {
        tg_tensor *in[3] = {x, w, b};
        return tg__apply1(b ? &tg_op_nn_linear : &tg_op_nn_linear_nobias, b ? 3 : 2, in, &a);
    }
    /* complex and integer operands: the unfused chain (tg_relu decides what it accepts) */
    tg_scope_begin();
    tg_tensor *y = tg_matmul(x, tg_mT(w));
    if (b) y = tg_add(y, b);
    if (act == TG_ACT_RELU) y = tg_relu(y);
    tg_keep(y);
    tg_scope_end();
    return y;
}

TG_REGISTER_OPS(nn_linear, &tg_op_nn_linear, &tg_op_nn_linear_nobias)
