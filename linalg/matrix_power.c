/* linalg_matrix_power: numpy.linalg.matrix_power as a composite of matmul
 * (and inv for n < 0), so its derivatives, tracing and compilation come
 * from those ops. Exponentiation by squaring: about 2 log2|n| products. */
#include "linalg/linalg_internal.h"

tg_tensor *tg_linalg_matrix_power(tg_tensor *a, int64_t n) {
    if (!tg__linalg_check_square("tg_linalg_matrix_power", a)) return NULL;
    if (n == INT64_MIN) { tg__error(TG_ERR_ARG, "tg_linalg_matrix_power: exponent out of range"); return NULL; }
    tg_scope_begin();
    tg_tensor *base = a, *r = NULL;
    if (a->dtype == TG_BOOL || tg_dtype_is_integer(a->dtype)) base = tg_cast(a, TG_F64);
    if (n < 0 && base) base = tg_linalg_inv(base);
    if (n == 0 && base) {
        /* identity matrices with A's batch shape (a copy, not a broadcast view) */
        tg_tensor *eye = tg__eye_like(base, base->dtype, base->shape[base->ndim - 1], -1);
        r = eye ? tg_copy(tg_expand(eye, base->ndim, base->shape)) : NULL;
    }
    bool ok = base != NULL;
    for (int64_t k = n < 0 ? -n : n; k > 0 && ok; k >>= 1) {
        if (k & 1) ok = (r = r ? tg_matmul(r, base) : base) != NULL;
        if (ok && k > 1) ok = (base = tg_matmul(base, base)) != NULL;
    }
    if (!ok) r = NULL;
    if (r == a) r = tg_copy(a);   /* n = 1: a new tensor, never an alias of A */
    tg_keep(r);
    tg_scope_end();
    return r;
}
