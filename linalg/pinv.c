/* linalg_pinv: the Moore-Penrose pseudo-inverse (torch.linalg.pinv with
 * atol = None, numpy.linalg.pinv), A (..., m, n) -> (..., n, m).
 * Forward (no LAPACK call of its own): svd(A) = U diag(S) V^H, singular
 * values S_i > rtol * max(S) kept (strictly, as NumPy and PyTorch), pinv =
 * V diag(1/S masked) U^H; hermitian: eigh(A) (lower triangle) = W diag(w)
 * W^H, |w_i| > rtol * max|w| kept, pinv = W diag(1/w masked) W^H. rtol < 0
 * means eps(dtype) * max(m, n). Empty matrices give zeros (n x m).
 * Rules: the differential of the pseudo-inverse at constant rank
 * (Golub & Pereyra 1973; PyTorch's pinv_backward / pinv_jvp), P = pinv(A):
 *   JVP  P-dot = -P A-dot P + P P^H A-dot^H (I - A P) + (I - P A) A-dot^H P^H P
 *   VJP  A-bar = -P^H G P^H + (I - A P) G^H P P^H + P^H P G^H (I - P A)
 * written with matmul on A and P (the op's output), so they differentiate
 * again; they hold where the rank is locally constant (full-rank inputs,
 * or perturbations that keep the rank), and do not depend on distinct
 * singular values. The hermitian variant uses the same rule (the general
 * derivative, as PyTorch); check it through A -> pinv((A + A^H)/2). */
#include <float.h>
#include <math.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"
#include "tangent/autodiff.h"

tg_tensor *tg__pinv_jvp(tg_tensor *a, tg_tensor *p, tg_tensor *adot) {
    tg_tensor *ah = tg__mH(adot), *ph = tg__mH(p);
    tg_tensor *t1 = tg_neg(tg_matmul(p, tg_matmul(adot, p)));
    tg_tensor *t2 = tg_matmul(tg_matmul(p, ph), tg_sub(ah, tg_matmul(tg_matmul(ah, a), p)));
    tg_tensor *m = tg_matmul(ah, tg_matmul(ph, p));
    tg_tensor *t3 = tg_sub(m, tg_matmul(p, tg_matmul(a, m)));
    return tg_add(tg_add(t1, t2), t3);
}

tg_tensor *tg__pinv_vjp(tg_tensor *a, tg_tensor *p, tg_tensor *g) {
    tg_tensor *gh = tg__mH(g), *ph = tg__mH(p);
    tg_tensor *t1 = tg_neg(tg_matmul(ph, tg_matmul(g, ph)));
    tg_tensor *n = tg_matmul(gh, tg_matmul(p, ph));
    tg_tensor *t2 = tg_sub(n, tg_matmul(a, tg_matmul(p, n)));
    tg_tensor *k = tg_matmul(tg_matmul(ph, p), gh);
    tg_tensor *t3 = tg_sub(k, tg_matmul(tg_matmul(k, p), a));
    return tg_add(tg_add(t1, t2), t3);
}

static tg_status pinv_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0];
    char s[160];
    if (a->ndim < 2)
        return tg__op_error(c, TG_ERR_SHAPE, "A must have at least 2 axes (..., m, n), got shape %s",
                            tg__fmt_shape(s, sizeof s, a->ndim, a->shape));
    if (c->attrs->i[0]) {
        tg_status st = tg__linalg_square(c, a, "A (hermitian)");
        if (st) return st;
    }
    tg__meta_copy_shape(out, a);
    out->shape[a->ndim - 2] = a->shape[a->ndim - 1];
    out->shape[a->ndim - 1] = a->shape[a->ndim - 2];
    return tg__linalg_dtype(c, a->dtype, &out->dtype);
}

/* The composite forward on a concrete A of the result's dtype. */
static tg_tensor *pinv_forward(tg_tensor *v, double rtol, bool hermitian) {
    static const int last[1] = {-1};
    tg_tensor *u = NULL, *s = NULL, *vh = NULL, *mag, *num;
    if (hermitian) {
        if (tg_linalg_eigh(v, &s, &u)) return NULL;
        mag = tg_abs(s);
        num = s;
        vh = tg__mH(u);
    } else {
        if (tg_linalg_svd(v, false, &u, &s, &vh)) return NULL;
        mag = num = s;
    }
    tg_tensor *tol = tg_mul_scalar(tg_max(mag, 1, last, true), rtol);
    tg_tensor *inv = tg_where(tg_gt(mag, tol), tg_reciprocal(num), tg_zeros_like(num));
    tg_tensor *scaled = tg_mul(tg__mH(vh), tg_unsqueeze(inv, -2));
    return tg_matmul(scaled, tg__mH(u));
}

static tg_status pinv_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    if (tg_numel(out[0]) == 0) return TG_OK;
    tg_dtype d = out[0]->dtype;
    int64_t m = in[0]->shape[in[0]->ndim - 2], n = in[0]->shape[in[0]->ndim - 1];
    double rtol = c->attrs->d[0];
    if (rtol < 0) rtol = (d == TG_F32 || d == TG_C64 ? FLT_EPSILON : DBL_EPSILON) * (double)(m > n ? m : n);
    tg_no_grad_begin();
    tg_scope_begin();
    tg_tensor *v = in[0]->dtype == d ? in[0] : tg_cast(in[0], d);
    tg_tensor *p = v ? pinv_forward(v, rtol, c->attrs->i[0] != 0) : NULL;
    if (p) tg__copy_into(out[0], p);
    tg_scope_end();
    tg_no_grad_end();
    return p ? TG_OK : tg_last_error_code();
}

static tg_tensor *as_out_dtype(tg_tensor *a, const tg_tensor *like) {
    return a->dtype == like->dtype ? a : tg_cast(a, like->dtype);
}

static tg_status pinv_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    (void)c;
    tg_tensor *a = as_out_dtype(in[0], out[0]);
    ic[0] = a ? tg__pinv_vjp(a, out[0], g[0]) : NULL;
    return TG_RULE_RESULT(ic[0]);
}

static tg_status pinv_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    (void)c;
    if (!t[0]) return TG_OK;
    tg_tensor *a = as_out_dtype(in[0], out[0]);
    ot[0] = a ? tg__pinv_jvp(a, out[0], t[0]) : NULL;
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_pinv = {.name = "linalg_pinv", .n_in = 1, .n_out = 1, .infer = pinv_infer,
                                     .kernel = {[TG_CPU] = pinv_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = pinv_vjp, .jvp = pinv_jvp};

tg_tensor *tg_linalg_pinv(tg_tensor *a, double rtol, bool hermitian) {
    if (!a) { tg__error(TG_ERR_ARG, "tg_linalg_pinv: NULL operand"); return NULL; }
    if (isnan(rtol)) { tg__error(TG_ERR_ARG, "tg_linalg_pinv: rtol is NaN"); return NULL; }
    tg_attrs at = {.n_int = 1, .n_real = 1, .i = {hermitian}, .d = {rtol}};
    return tg__apply1(&tg_op_linalg_pinv, 1, &a, &at);
}

TG_REGISTER_OPS(linalg_pinv, &tg_op_linalg_pinv)
