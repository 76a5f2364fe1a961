/* Shared linalg helpers (linalg_internal.h): dtype rule, batch walking,
 * strided copies and the typed LAPACKE dispatch. LAPACKE is called in
 * row-major layout; it transposes internally where LAPACK needs it. */
#include <lapacke.h>
#include <string.h>

#include "linalg/linalg_internal.h"

tg_status tg__linalg_dtype(const tg_op_call *c, tg_dtype in, tg_dtype *out) {
    if (in == TG_F16 || in == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s (use f32, f64, c64 or c128)",
                            tg_dtype_name(in));
    *out = (in == TG_BOOL || tg_dtype_is_integer(in)) ? TG_F64 : in;
    return TG_OK;
}

tg_status tg__linalg_square(const tg_op_call *c, const tg_meta *m, const char *what) {
    char s[160];
    if (m->ndim < 2)
        return tg__op_error(c, TG_ERR_SHAPE, "%s must have at least 2 axes, got shape %s", what,
                            tg__fmt_shape(s, sizeof s, m->ndim, m->shape));
    if (m->shape[m->ndim - 1] != m->shape[m->ndim - 2])
        return tg__op_error(c, TG_ERR_SHAPE, "%s must be square (..., n, n), got shape %s", what,
                            tg__fmt_shape(s, sizeof s, m->ndim, m->shape));
    return TG_OK;
}

tg_status tg__linalg_solve_infer(const tg_op_call *c, tg_meta *out, int b_min_axes) {
    const tg_meta *a = &c->in[0], *b = &c->in[1];
    tg_status st = tg__linalg_square(c, a, "A");
    if (st) return st;
    char sa[160], sb[160];
    if (b->ndim < 2)
        return tg__op_error(c, TG_ERR_SHAPE, "B must have at least %d ax%s, got shape %s", b_min_axes,
                            b_min_axes == 1 ? "is" : "es", tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape));
    int64_t n = a->shape[a->ndim - 1];
    if (b->shape[b->ndim - 2] != n)
        return tg__op_error(c, TG_ERR_SHAPE, "A of shape %s and B of shape %s: B must have %lld rows",
                            tg__fmt_shape(sa, sizeof sa, a->ndim, a->shape),
                            tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape), (long long)n);
    if (tg__broadcast_shapes(NULL, a->ndim - 2, a->shape, b->ndim - 2, b->shape, &out->ndim, out->shape))
        return tg__op_error(c, TG_ERR_SHAPE, "batch axes of A %s and B %s cannot be broadcast",
                            tg__fmt_shape(sa, sizeof sa, a->ndim, a->shape),
                            tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape));
    out->shape[out->ndim++] = n;
    out->shape[out->ndim++] = b->shape[b->ndim - 1];
    return tg__linalg_dtype(c, tg_promote_types(a->dtype, b->dtype), &out->dtype);
}

bool tg__linalg_check_square(const char *fn, const tg_tensor *a) {
    if (!a) { tg__error(TG_ERR_ARG, "%s: NULL operand", fn); return false; }
    if (a->ndim < 2 || a->shape[a->ndim - 1] != a->shape[a->ndim - 2]) {
        char s[160];
        tg__error(TG_ERR_SHAPE, "%s: A must be square (..., n, n), got shape %s", fn,
                  tg__fmt_shape(s, sizeof s, a->ndim, a->shape));
        return false;
    }
    return true;
}

void tg__linalg_batch_init(tg_linalg_batch *b, int nb, const int64_t *shape) {
    b->nb = nb;
    b->count = 1;
    for (int i = 0; i < nb; i++) { b->shape[i] = shape[i]; b->count *= shape[i]; }
}

void tg__linalg_batch_strides(const tg_linalg_batch *b, const tg_tensor *x, int nmat, int64_t *strides) {
    int xb = x->ndim - nmat;
    for (int i = 0; i < b->nb; i++) {
        int j = i - (b->nb - xb);
        strides[i] = (j >= 0 && x->shape[j] != 1) ? x->strides[j] : 0;
    }
}

int64_t tg__linalg_batch_offset(const tg_linalg_batch *b, const int64_t *strides, int64_t t) {
    int64_t off = 0;
    for (int i = b->nb - 1; i >= 0; i--) {
        int64_t k = t % b->shape[i];
        t /= b->shape[i];
        off += k * strides[i];
    }
    return off;
}

void tg__linalg_gather(char *dst, const tg_tensor *x, int64_t off, int64_t rows, int64_t cols) {
    int64_t es = tg__esize(x->dtype);
    int64_t rs = x->strides[x->ndim - 2], cs = x->strides[x->ndim - 1];
    const char *src = tg__ptr(x) + off * es;
    for (int64_t i = 0; i < rows; i++) {
        if (cs == 1) {
            memcpy(dst + i * cols * es, src + i * rs * es, (size_t)(cols * es));
            continue;
        }
        for (int64_t j = 0; j < cols; j++) memcpy(dst + (i * cols + j) * es, src + (i * rs + j * cs) * es, (size_t)es);
    }
}

#define RM LAPACK_ROW_MAJOR
int tg__lapack_getrf(tg_dtype d, int n, void *a, int *ipiv) {
    switch (d) {
    case TG_F32: return LAPACKE_sgetrf(RM, n, n, a, n, ipiv);
    case TG_F64: return LAPACKE_dgetrf(RM, n, n, a, n, ipiv);
    case TG_C64: return LAPACKE_cgetrf(RM, n, n, (lapack_complex_float *)a, n, ipiv);
    default: return LAPACKE_zgetrf(RM, n, n, (lapack_complex_double *)a, n, ipiv);
    }
}

int tg__lapack_gesv(tg_dtype d, int n, int k, void *a, int *ipiv, void *b) {
    switch (d) {
    case TG_F32: return LAPACKE_sgesv(RM, n, k, a, n, ipiv, b, k);
    case TG_F64: return LAPACKE_dgesv(RM, n, k, a, n, ipiv, b, k);
    case TG_C64:
        return LAPACKE_cgesv(RM, n, k, (lapack_complex_float *)a, n, ipiv, (lapack_complex_float *)b, k);
    default: return LAPACKE_zgesv(RM, n, k, (lapack_complex_double *)a, n, ipiv, (lapack_complex_double *)b, k);
    }
}

int tg__lapack_trtrs(tg_dtype d, bool upper, bool unit, int n, int k, const void *a, void *b) {
    char ul = upper ? 'U' : 'L', dg = unit ? 'U' : 'N';
    switch (d) {
    case TG_F32: return LAPACKE_strtrs(RM, ul, 'N', dg, n, k, a, n, b, k);
    case TG_F64: return LAPACKE_dtrtrs(RM, ul, 'N', dg, n, k, a, n, b, k);
    case TG_C64:
        return LAPACKE_ctrtrs(RM, ul, 'N', dg, n, k, (const lapack_complex_float *)a, n, (lapack_complex_float *)b, k);
    default:
        return LAPACKE_ztrtrs(RM, ul, 'N', dg, n, k, (const lapack_complex_double *)a, n, (lapack_complex_double *)b,
                              k);
    }
}

int tg__lapack_potrf(tg_dtype d, int n, void *a) {
    switch (d) {
    case TG_F32: return LAPACKE_spotrf(RM, 'L', n, a, n);
    case TG_F64: return LAPACKE_dpotrf(RM, 'L', n, a, n);
    case TG_C64: return LAPACKE_cpotrf(RM, 'L', n, (lapack_complex_float *)a, n);
    default: return LAPACKE_zpotrf(RM, 'L', n, (lapack_complex_double *)a, n);
    }
}
