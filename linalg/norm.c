/* linalg_vector_norm: torch.linalg.vector_norm as a composite of public ops
 * (abs, pow, sum, max, min, where), so derivatives, tracing and compilation
 * come from those ops. Where the norm is 0 a plain sqrt / pow(1/p) has an
 * infinite derivative (times a zero one: NaN); the result there is taken
 * from a where() branch instead, which gives the zero subgradient PyTorch
 * returns for p >= 1. */
#include <math.h>

#include "linalg/linalg_internal.h"

/* sum |x|^2 without abs(), whose complex derivative at 0 is not finite. */
static tg_tensor *sum_sq(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    tg_tensor *sq = tg_dtype_is_complex(x->dtype) ? tg_add(tg_square(tg_real(x)), tg_square(tg_imag(x)))
                                                  : tg_square(x);
    return tg_sum(sq, naxes, axes, keepdim);
}

/* s^(1/p) with value and derivative 0 where s == 0 */
static tg_tensor *safe_root(tg_tensor *s, double p) {
    tg_tensor *zero = tg_eq_scalar(s, 0.0);
    tg_tensor *safe = tg_where(zero, tg_ones_like(s), s);
    tg_tensor *root = p == 2 ? tg_sqrt(safe) : tg_pow_scalar(safe, 1.0 / p);
    return tg_where(zero, tg_zeros_like(s), root);
}

tg_tensor *tg_linalg_vector_norm(tg_tensor *x, double ord, int naxes, const int *axes, bool keepdim) {
    if (!x) { tg__error(TG_ERR_ARG, "tg_linalg_vector_norm: NULL operand"); return NULL; }
    if (isnan(ord) || ord == 0) {
        tg__error(TG_ERR_ARG, "tg_linalg_vector_norm: ord %g is not supported (a nonzero number or +-inf)", ord);
        return NULL;
    }
    if (x->dtype == TG_F16 || x->dtype == TG_BF16) {
        tg__error(TG_ERR_DTYPE, "tg_linalg_vector_norm: %s is not supported (f32, f64, c64, c128, int, bool)",
                  tg_dtype_name(x->dtype));
        return NULL;
    }
    tg_scope_begin();
    tg_tensor *v = x, *r = NULL;
    if (x->dtype == TG_BOOL || tg_dtype_is_integer(x->dtype)) v = tg_cast(x, TG_F64);
    if (v) {
        if (isinf(ord)) {
            tg_tensor *a = tg_abs(v);
            r = ord > 0 ? tg_max(a, naxes, axes, keepdim) : tg_min(a, naxes, axes, keepdim);
        } else if (ord == 1) {
            r = tg_sum(tg_abs(v), naxes, axes, keepdim);
        } else if (ord == 2) {
            tg_tensor *s = sum_sq(v, naxes, axes, keepdim);
            r = s ? safe_root(s, 2) : NULL;
        } else {
            tg_tensor *s = tg_sum(tg_pow_scalar(tg_abs(v), ord), naxes, axes, keepdim);
            r = s ? safe_root(s, ord) : NULL;
        }
    }
    tg_keep(r);
    tg_scope_end();
    return r;
}
