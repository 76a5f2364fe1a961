/* linalg_matrix_norm and linalg_cond (torch.linalg.matrix_norm / cond) as
 * composites of public ops, so derivatives, tracing and compilation come
 * from those ops (no LAPACK call of their own):
 *   "fro": vector_norm(A, 2) over the last two axes (zero gradient at 0);
 *   "1" / "-1": max / min over columns of the column sums of |a_ij|;
 *   "inf" / "-inf": max / min over rows of the row sums of |a_ij|;
 *   "2" / "-2" / "nuc": max / min / sum of svdvals(A).
 * max / min split the gradient evenly between ties (torch.amax / amin), so
 * "2" and "nuc" are differentiable where the singular values involved are
 * distinct and nonzero (svdvals' rule).
 * cond: "2" (default) and "-2" are s_max / s_min and s_min / s_max of
 * svdvals(A) (any shape; NaN for A = 0, as PyTorch); other ords are
 * norm(A) * norm(A^-1) for square A with A^-1 = solve(A, I), inf where A is
 * exactly singular (a zero pivot of the LU factorisation, detected by
 * slogdet; NumPy and PyTorch give inf too). */
#include <math.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "tangent/sizes.h"

enum { O_FRO, O_NUC, O_1, O_M1, O_2, O_M2, O_INF, O_MINF, O_COUNT };
static const char *const ord_names[O_COUNT] = {"fro", "nuc", "1", "-1", "2", "-2", "inf", "-inf"};

static int parse_ord(const char *ord, int dflt) {
    if (!ord) return dflt;
    for (int i = 0; i < O_COUNT; i++)
        if (strcmp(ord, ord_names[i]) == 0) return i;
    return -1;
}

/* Common argument checks; returns the ord code or -1 with an error recorded. */
static int check_args(const char *fn, const tg_tensor *a, const char *ord, int dflt) {
    if (!a) { tg__error(TG_ERR_ARG, "%s: NULL operand", fn); return -1; }
    int code = parse_ord(ord, dflt);
    if (code < 0) {
        tg__error(TG_ERR_ARG, "%s: unknown ord \"%s\" (fro, nuc, 1, -1, 2, -2, inf or -inf)", fn, ord);
        return -1;
    }
    if (a->ndim < 2) {
        char s[160];
        tg__error(TG_ERR_SHAPE, "%s: A must have at least 2 axes (..., m, n), got shape %s", fn,
                  tg__fmt_shape(s, sizeof s, a->ndim, a->shape));
        return -1;
    }
    if (a->dtype == TG_F16 || a->dtype == TG_BF16) {
        tg__error(TG_ERR_DTYPE, "%s: %s is not supported (f32, f64, c64, c128, int, bool)", fn,
                  tg_dtype_name(a->dtype));
        return -1;
    }
    return code;
}

/* The norm with both matrix axes kept (..., 1, 1). */
static tg_tensor *norm_keep(tg_tensor *v, int code) {
    static const int ax_r[1] = {-2}, ax_c[1] = {-1}, both[2] = {-2, -1};
    switch (code) {
    case O_FRO: return tg_linalg_vector_norm(v, 2, 2, both, true);
    case O_1: return tg_max(tg_sum(tg_abs(v), 1, ax_r, true), 1, ax_c, true);
    case O_M1: return tg_min(tg_sum(tg_abs(v), 1, ax_r, true), 1, ax_c, true);
    case O_INF: return tg_max(tg_sum(tg_abs(v), 1, ax_c, true), 1, ax_r, true);
    case O_MINF: return tg_min(tg_sum(tg_abs(v), 1, ax_c, true), 1, ax_r, true);
    default: {
        tg_tensor *s = tg_linalg_svdvals(v);
        tg_tensor *r = code == O_NUC ? tg_sum(s, 1, ax_c, true) : code == O_2 ? tg_max(s, 1, ax_c, true)
                                                                              : tg_min(s, 1, ax_c, true);
        return r ? tg_unsqueeze(r, -1) : NULL;
    }
    }
}

static tg_dtype as_float_dtype(tg_dtype d) { return d == TG_BOOL || tg_dtype_is_integer(d) ? TG_F64 : d; }
static tg_tensor *as_float(tg_tensor *a) { return a->dtype != as_float_dtype(a->dtype) ? tg_cast(a, TG_F64) : a; }

tg_tensor *tg_linalg_matrix_norm(tg_tensor *a, const char *ord, bool keepdim) {
    int code = check_args("tg_linalg_matrix_norm", a, ord, O_FRO);
    if (code < 0) return NULL;
    tg_scope_begin();
    tg_tensor *r = norm_keep(as_float(a), code);
    if (r && !keepdim) r = tg_squeeze(r, 2, (const int[]){-2, -1});
    tg_keep(r);
    tg_scope_end();
    return r;
}

static tg_tensor *cond_svd(tg_tensor *v, bool inverse) {
    tg_tensor *s = tg_linalg_svdvals(v);
    tg_tensor *hi = tg_select(s, -1, 0), *lo = tg_select(s, -1, -1);
    return inverse ? tg_div(lo, hi) : tg_div(hi, lo);
}

/* I of v's matrix size. tg_eye needs a concrete size; under a trace with a
 * symbolic n, exp(0) is the identity exactly (Pade degree 3 of 0 is I / I). */
static tg_tensor *identity_like(tg_tensor *v) {
    int64_t n = v->shape[v->ndim - 1];
    return tg_is_symbolic(n) ? tg_linalg_matrix_exp(tg_zeros_like(v)) : tg__eye_like(v, v->dtype, n, -1);
}

tg_tensor *tg_linalg_cond(tg_tensor *a, const char *ord) {
    int code = check_args("tg_linalg_cond", a, ord, O_2);
    if (code < 0) return NULL;
    int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1];
    if ((m == 0 || n == 0) && ((code != O_FRO && code != O_NUC) || m == n)) {
        /* empty matrices: 0, as torch.linalg.cond (NumPy raises) */
        tg_dtype d = tg_real_dtype(as_float_dtype(a->dtype));
        return tg_zeros(d, a->ndim - 2, a->shape);
    }
    if ((code != O_2 && code != O_M2) && !tg__linalg_check_square("tg_linalg_cond", a)) return NULL;
    tg_scope_begin();
    tg_tensor *v = as_float(a), *r = NULL;
    if (code == O_2 || code == O_M2) {
        r = v ? cond_svd(v, code == O_M2) : NULL;
    } else if (v) {
        /* Exactly singular matrices are swapped for I before the solve (which
         * would refuse them) and get inf afterwards, with a zero gradient. */
        tg_tensor *sign = NULL, *logabs = NULL;
        if (tg_linalg_slogdet(v, &sign, &logabs) == TG_OK) {
            tg_tensor *sing = tg_eq_scalar(logabs, -INFINITY);
            tg_tensor *sing2 = tg_unsqueeze(tg_unsqueeze(sing, -1), -1);
            tg_tensor *eye = identity_like(v);
            /* a solve against I, not tg_linalg_inv: its tg_eye needs a concrete n */
            tg_tensor *inv = tg_linalg_solve(tg_where(sing2, eye, v), eye);
            tg_tensor *p = tg_mul(norm_keep(v, code), norm_keep(inv, code));
            p = p ? tg_squeeze(p, 2, (const int[]){-2, -1}) : NULL;
            r = p ? tg_where(sing, tg_full_like(p, INFINITY), p) : NULL;
        }
    }
    tg_keep(r);
    tg_scope_end();
    return r;
}
