/* linalg_vector_norm: torch.linalg.vector_norm. ord 1, 2 and inf are the
 * core reduction tg_norm; the others compose abs, pow, sum, min and where,
 * so derivatives, tracing and compilation come from those ops. Where the
 * norm is 0, pow(s, 1/p) has an infinite derivative (times a zero one:
 * NaN); the result there comes from a where() branch instead, which gives
 * the zero subgradient PyTorch returns for p >= 1 (tg_norm does the same
 * for p = 2). */
#include <math.h>

#include "linalg/linalg_internal.h"

/* s^(1/p) with value and derivative 0 where s == 0 */
static tg_tensor *safe_root(tg_tensor *s, double p) {
    tg_tensor *zero = tg_eq_scalar(s, 0.0);
    tg_tensor *safe = tg_where(zero, tg_ones_like(s), s);
    tg_tensor *root = tg_pow_scalar(safe, 1.0 / p);
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
        if (ord == 1 || ord == 2 || ord == INFINITY) {
            r = tg_norm(v, ord, naxes, axes, keepdim);   /* the core reduction's cases */
        } else if (ord == -INFINITY) {
            r = tg_min(tg_abs(v), naxes, axes, keepdim);
        } else {
            tg_tensor *s = tg_sum(tg_pow_scalar(tg_abs(v), ord), naxes, axes, keepdim);
            r = s ? safe_root(s, ord) : NULL;
        }
    }
    tg_keep(r);
    tg_scope_end();
    return r;
}
