/* Shape validation, axes and NumPy broadcasting. */
#include "tensor/tensor_impl.h"

#include <stdio.h>
#include <string.h>

tg_status tg__check_shape(const char *op, tg_dtype dtype, int ndim, const int64_t *shape) {
    if ((unsigned)dtype >= TG_NUM_DTYPES)
        return tg__error(TG_ERR_DTYPE, "%s: invalid dtype %d", op, (int)dtype);
    if (ndim < 0 || ndim > TG_MAX_DIMS)
        return tg__error(TG_ERR_SHAPE, "%s: rank %d is outside [0, %d]", op, ndim, TG_MAX_DIMS);
    if (ndim > 0 && !shape)
        return tg__error(TG_ERR_ARG, "%s: shape is NULL for rank %d", op, ndim);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] >= TG_SYM_BASE_INTERNAL) continue;    /* symbolic: checked when bound */
        if (shape[i] < 0)
            return tg__error(TG_ERR_SHAPE, "%s: size %lld of axis %d is negative", op,
                             (long long)shape[i], i);
        if (shape[i] && n > INT64_MAX / shape[i])
            return tg__error(TG_ERR_SHAPE, "%s: shape overflows the element count", op);
        n *= shape[i];
    }
    if (n > (int64_t)(INT64_MAX / 16))
        return tg__error(TG_ERR_SHAPE, "%s: %lld elements overflow the byte count", op, (long long)n);
    return TG_OK;
}

tg_status tg__norm_axis(const char *op, int axis, int ndim, int *out) {
    int a = axis < 0 ? axis + ndim : axis;
    if (a < 0 || a >= ndim)
        return tg__error(TG_ERR_ARG, "%s: axis %d is out of range for rank %d", op, axis, ndim);
    *out = a;
    return TG_OK;
}

tg_status tg__axes_mask(const char *op, int naxes, const int *axes, int ndim, bool *mask) {
    if (naxes < 0 || (naxes > 0 && !axes))
        return tg__error(TG_ERR_ARG, "%s: %d axes given with %s list", op, naxes,
                         axes ? "an" : "a NULL");
    if (naxes == 0 && !axes) {
        for (int i = 0; i < ndim; i++) mask[i] = true;
        return TG_OK;
    }
    for (int i = 0; i < ndim; i++) mask[i] = false;
    for (int k = 0; k < naxes; k++) {
        int a;
        if (tg__norm_axis(op, axes[k], ndim, &a)) return TG_ERR_ARG;
        if (mask[a]) return tg__error(TG_ERR_ARG, "%s: axis %d is repeated", op, axes[k]);
        mask[a] = true;
    }
    return TG_OK;
}

tg_status tg__broadcast_shapes(const char *op, int na, const int64_t *a, int nb, const int64_t *b,
                               int *nout, int64_t *out) {
    int n = na > nb ? na : nb;
    int64_t res[TG_MAX_DIMS];
    for (int i = 0; i < n; i++) {
        int64_t da = i < n - na ? 1 : a[i - (n - na)];
        int64_t db = i < n - nb ? 1 : b[i - (n - nb)];
        if (da == db || db == 1) res[i] = da;
        else if (da == 1) res[i] = db;
        else if (!op) {
            return TG_ERR_SHAPE;                 /* caller reports */
        } else {
            char sa[160], sb[160], za[64], zb[64];
            return tg__error(TG_ERR_SHAPE, "%s: shapes %s and %s cannot be broadcast (axis %d: %s vs %s)",
                             op, tg__fmt_shape(sa, sizeof sa, na, a), tg__fmt_shape(sb, sizeof sb, nb, b),
                             i - n, tg__fmt_size(za, sizeof za, da), tg__fmt_size(zb, sizeof zb, db));
        }
    }
    *nout = n;
    memcpy(out, res, (size_t)n * sizeof *res);
    return TG_OK;
}

void tg__broadcast_strides(const tg_tensor *x, int ndim, const int64_t *shape, int64_t *strides) {
    int off = ndim - x->ndim;
    for (int i = 0; i < ndim; i++) {
        int j = i - off;
        strides[i] = (j < 0 || (x->shape[j] == 1 && shape[i] != 1)) ? 0 : x->strides[j];
    }
}

bool tg__is_contiguous(const tg_tensor *t) {
    if (tg__is_tracer(t)) return true;
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 0) return true;
        if (t->shape[i] != 1 && t->strides[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}
