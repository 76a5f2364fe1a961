/* linalg_det and linalg_slogdet from the LU factorisation (getrf): det =
 * sign(P) prod(diag U). Rules (AD-REFERENCE.md 4): det: A-bar = y-bar
 * conj(d) A^{-H}, JVP d tr(A^{-1} A-dot); slogdet: A-bar = (l-bar -
 * i Im(conj(s-bar) s)) A^{-H}, JVP l-dot = Re t, s-dot = i Im(t) s with
 * t = tr(A^{-1} A-dot). det's rules use the adjugate, y-bar adj(A)^H and
 * tr(adj(A) A-dot), which the cofactors (small matrices), a bordered
 * block form (rank n - 1) or the SVD (lower rank) give at singular A too
 * (PyTorch 1.13 returns 0 there); through the SVD, second order holds for
 * real A only (the complex SVD rule's phase term divides by the zero
 * singular value). slogdet's rules need an
 * invertible A. The forward values are
 * defined for singular A (det 0, sign 0, -inf). */
#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

static tg_status det_infer_common(const tg_op_call *c, tg_meta *out, int n_out) {
    const tg_meta *a = &c->in[0];
    tg_status st = tg__linalg_square(c, a, "A");
    if (st) return st;
    tg_dtype d;
    if ((st = tg__linalg_dtype(c, a->dtype, &d))) return st;
    for (int j = 0; j < n_out; j++) {
        out[j].ndim = a->ndim - 2;
        for (int i = 0; i < a->ndim - 2; i++) out[j].shape[i] = a->shape[i];
        out[j].dtype = d;
    }
    if (n_out == 2) out[1].dtype = tg_real_dtype(d);
    return TG_OK;
}
static tg_status det_infer(const tg_op_call *c, tg_meta *out) { return det_infer_common(c, out, 1); }
static tg_status slogdet_infer(const tg_op_call *c, tg_meta *out) { return det_infer_common(c, out, 2); }

static double complex load(tg_dtype d, const char *p, int64_t i) {
    switch (d) {
    case TG_F32: return ((const float *)p)[i];
    case TG_F64: return ((const double *)p)[i];
    case TG_C64: return ((const float complex *)p)[i];
    default: return ((const double complex *)p)[i];
    }
}
static void store(tg_dtype d, char *p, int64_t i, double complex v) {
    switch (d) {
    case TG_F32: ((float *)p)[i] = (float)creal(v); break;
    case TG_F64: ((double *)p)[i] = creal(v); break;
    case TG_C64: ((float complex *)p)[i] = (float complex)v; break;
    default: ((double complex *)p)[i] = v; break;
    }
}

typedef struct {
    tg_tensor *a, **out;
    int n_out;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], n, es;
} det_job;

static int det_item(void *ctx, int64_t t) {
    const det_job *j = ctx;
    tg_dtype d = j->out[0]->dtype;
    int64_t n = j->n;
    double complex sign = 1, prod = 1;
    double logabs = 0;
    if (n > 0) {
        char *work = tg__linalg_scratch(0, (size_t)(n * n * j->es));
        int *ipiv = tg__linalg_scratch(2, (size_t)n * sizeof(int));
        if (!work || !ipiv) return TG_LINALG_NO_MEMORY;
        tg__linalg_gather(work, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), n, n);
        int info = tg__lapack_getrf_cm(d, (int)n, work, ipiv);   /* LU of A^T: det(A^T) = det(A) */
        if (info < 0) return info;
        for (int64_t i = 0; i < n; i++) {
            double complex u = load(d, work, i * n + i);
            double m = cabs(u);
            if (ipiv[i] != i + 1) { sign = -sign; prod = -prod; }
            prod *= u;
            if (m == 0) { sign = 0; logabs = -INFINITY; break; }
            sign *= u / m;
            logabs += log(m);
        }
    }
    if (j->n_out == 1) store(d, tg__ptr(j->out[0]), t, prod);
    else {
        if (!tg_dtype_is_complex(d)) sign = creal(sign) > 0 ? 1 : creal(sign) < 0 ? -1 : 0;
        store(d, tg__ptr(j->out[0]), t, sign);
        store(j->out[1]->dtype, tg__ptr(j->out[1]), t, logabs);
    }
    return 0;
}

/* out[0]: det (n_out 1) or sign, out[1]: log|det| (n_out 2). A singular
 * matrix is not an error: det 0, sign 0, log|det| -inf. */
static tg_status lu_det_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out, int n_out) {
    tg_dtype d = out[0]->dtype;
    det_job j = {.a = tg__cast_raw(in[0], d), .out = out, .n_out = n_out};
    if (!j.a) return tg_last_error_code();
    tg_status st = TG_OK;
    j.n = j.a->shape[j.a->ndim - 1];
    j.es = tg__esize(d);
    if (j.n > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    tg__linalg_batch_init(&j.bt, j.a->ndim - 2, j.a->shape);
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    int info;
    int64_t t = tg__linalg_batch_run(j.bt.count, (double)j.n * (double)j.n * (double)j.n / 3, det_item, &j, &info);
    if (t >= 0) st = tg__linalg_info_error(c, "getrf", t, info, "failed (%d %d)");
done:
    tg_release(j.a);
    return st;
}
static tg_status det_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return lu_det_kernel(c, in, out, 1);
}
static tg_status slogdet_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return lu_det_kernel(c, in, out, 2);
}

static tg_tensor *as_mat_scale(tg_tensor *s) { return s ? tg_unsqueeze(tg_unsqueeze(s, -1), -1) : NULL; }
/* tr(A^{-1} A-dot) over the batch. */
static tg_tensor *trace_solve(tg_tensor *a, tg_tensor *adot) {
    tg_tensor *m = tg__linalg_solve_mat(a, adot);
    return m ? tg_sum(tg_diagonal(m, 0, -2, -1), 1, (int[]){-1}, false) : NULL;
}

/* prod_{j != i} s_j along the last axis (exact with zeros: no division),
 * from the products before and after i. */
static tg_tensor *products_of_others(tg_tensor *s) {
    int nd = tg_ndim(s);
    int64_t n = tg_dim(s, -1), pads[2 * TG_MAX_DIMS] = {0};
    pads[2 * (nd - 1)] = 1;         /* one 1 before: exclusive prefix products */
    tg_tensor *before = tg_pad(tg_slice(tg_cumprod(s, -1), -1, 0, n - 1, 1), pads, 1.0);
    tg_tensor *rev = tg_flip(s, 1, (int[]){-1});
    tg_tensor *after = tg_flip(tg_pad(tg_slice(tg_cumprod(rev, -1), -1, 0, n - 1, 1), pads, 1.0), 1, (int[]){-1});
    return tg_mul(before, after);
}

/* adj(A) = det(A) A^{-1}, also at singular A, through A = U diag(s) V^H:
 * adj(A) = det(U) conj(det(V)) V diag(prod_{j != i} s_j) U^H, and
 * conj(det(V)) = det(V^H). Written with public ops, so it differentiates
 * (where the SVD does: distinct singular values). */
static tg_tensor *adjugate_svd(tg_tensor *a) {
    tg_tensor *u = NULL, *s = NULL, *vh = NULL;
    if (tg_linalg_svd(a, false, &u, &s, &vh)) return NULL;
    tg_tensor *phase = tg_mul(tg_linalg_det(u), tg_linalg_det(vh));
    tg_tensor *p = products_of_others(s);
    tg_tensor *vp = p ? tg_mul(tg__mH(vh), tg_unsqueeze(p, -2)) : NULL;
    return vp && phase ? tg_mul(as_mat_scale(phase), tg_matmul(vp, tg__mH(u))) : NULL;
}

/* 0 .. n-1 without skip, in order, into out (n - 1 entries). */
static void all_but(int64_t n, int64_t skip, int64_t *out) {
    for (int64_t i = 0, k = 0; i < n; i++)
        if (i != skip) out[k++] = i;
}

/* Gather indices (..., n, n) moving row (cols false) or column r[b] of
 * each matrix b to the end, the others in order; inverse: the gather that
 * undoes it. An i64 tensor on dev. */
static tg_tensor *pivot_index(const int64_t *r, int64_t batch, int64_t n, bool cols, bool inverse, int nd,
                              const int64_t *shape, tg_device dev) {
    int64_t *v = malloc((size_t)(batch * n * n) * sizeof *v), *perm = malloc((size_t)n * sizeof *perm);
    if (!v || !perm) {
        free(v);
        free(perm);
        tg__error(TG_ERR_MEMORY, "tg_linalg_det: out of memory for the pivots");
        return NULL;
    }
    for (int64_t b = 0; b < batch; b++) {
        all_but(n, r[b], perm);
        perm[n - 1] = r[b];
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++) {
                int64_t at = cols ? j : i;      /* the position along the permuted axis */
                /* inverse of "moved to the end": positions before r stay, r goes to n - 1, the rest shift down */
                int64_t inv = at < r[b] ? at : at == r[b] ? n - 1 : at - 1;
                v[(b * n + i) * n + j] = inverse ? inv : perm[at];
            }
    }
    free(perm);
    tg_tensor *idx = tg_from_data(TG_I64, nd, shape, v);
    free(v);
    return idx && dev.kind != TG_CPU ? tg_to_device(idx, dev) : idx;
}

/* adj(A) of matrices of rank n - 1 and above, with derivatives of every
 * order there, complex A included. Row r and column c of largest entries in
 * the null vectors (u_n, v_n of the detached A's SVD) are moved last, B =
 * P A Q = [[A11, a12], [a21^T, a22]], so that A11 is as far from singular
 * as a minor of A can be; then, with X = A11^{-1} a12, Y^T = a21^T A11^{-1},
 * d = det(A11) and the Schur complement e = a22 - a21^T X,
 *   adj(B) = d [[e A11^{-1} + X Y^T, -X], [-Y^T, 1]]
 * (det(A) A^{-1} by blocks, with det(A) = d e: no division by e), and
 * adj(A) = sign(P) sign(Q) Q adj(B) P = (-1)^(r + c) adj(B) with its rows
 * and columns put back. Public ops throughout; the pivots are constants.
 * NULL without an error when a matrix has rank below n - 1 (its second
 * smallest singular value under 1e-8 of the largest, 1e-3 in single
 * precision): A11 would be singular there. */
static tg_tensor *adjugate_bordered(tg_tensor *a) {
    int nd = tg_ndim(a);
    int64_t n = tg_dim(a, -1), batch = tg_numel(a) / (n * n);
    if (n < 2 || batch == 0) return NULL;
    tg_tensor *u = NULL, *s = NULL, *vh = NULL;
    if (tg_linalg_svd(tg_detach(a), false, &u, &s, &vh)) return NULL;
    tg_tensor *gap = tg_min(tg_div(tg_select(s, -1, n - 2), tg_select(s, -1, 0)), 0, NULL, false);
    double limit = tg_real_dtype(tg_dtype_of(a)) == TG_F32 ? 1e-3 : 1e-8;
    if (!gap || !(tg_item_f64(gap) >= limit)) return NULL;
    tg_device cpu = {TG_CPU, 0}, dev = tg_device_of(a);
    tg_tensor *rt = tg_to_device(tg_argmax(tg_abs(tg_select(u, -1, n - 1)), -1, false), cpu);
    tg_tensor *ct = tg_to_device(tg_argmax(tg_abs(tg_select(vh, -2, n - 1)), -1, false), cpu);
    int64_t *r = malloc((size_t)batch * sizeof *r), *c = malloc((size_t)batch * sizeof *c);
    double *sign = malloc((size_t)batch * sizeof *sign);
    tg_tensor *signs = NULL, *rows = NULL, *cols = NULL, *unrows = NULL, *uncols = NULL;
    if (r && c && sign && rt && ct && !tg_copy_to(rt, r, (size_t)batch * sizeof *r) &&
        !tg_copy_to(ct, c, (size_t)batch * sizeof *c)) {
        for (int64_t b = 0; b < batch; b++) sign[b] = (r[b] + c[b]) % 2 ? -1.0 : 1.0;
        int64_t shape[TG_MAX_DIMS];
        for (int d = 0; d < nd; d++) shape[d] = tg_dim(a, d);
        shape[nd - 1] = 1;
        shape[nd - 2] = 1;
        signs = tg_from_data(TG_F64, nd, shape, sign);
        shape[nd - 1] = shape[nd - 2] = n;
        /* B's rows: A's rows with r last; adj(A)'s rows are adj(B)'s in A's column order, and so on */
        rows = pivot_index(r, batch, n, false, false, nd, shape, dev);
        cols = pivot_index(c, batch, n, true, false, nd, shape, dev);
        unrows = pivot_index(c, batch, n, false, true, nd, shape, dev);
        uncols = pivot_index(r, batch, n, true, true, nd, shape, dev);
    } else if (!tg_last_error_code()) {
        tg__error(TG_ERR_MEMORY, "tg_linalg_det: out of memory for the pivots");
    }
    free(r);
    free(c);
    free(sign);
    if (!signs || !rows || !cols || !unrows || !uncols) return NULL;
    if (dev.kind != TG_CPU) signs = tg_to_device(signs, dev);
    tg_tensor *b = tg_gather(tg_gather(a, -2, rows), -1, cols);
    tg_tensor *top = tg_slice(b, -2, 0, n - 1, 1), *bottom = tg_slice(b, -2, n - 1, n, 1);
    tg_tensor *a11 = tg_slice(top, -1, 0, n - 1, 1), *a12 = tg_slice(top, -1, n - 1, n, 1);
    tg_tensor *a21 = tg_slice(bottom, -1, 0, n - 1, 1), *a22 = tg_slice(bottom, -1, n - 1, n, 1);
    tg_tensor *inv = tg_linalg_inv(a11);
    tg_tensor *x = tg_matmul(inv, a12), *yt = tg_matmul(a21, inv);          /* (.., n-1, 1), (.., 1, n-1) */
    tg_tensor *e = tg_sub(a22, tg_matmul(a21, x));                            /* (.., 1, 1) */
    tg_tensor *d = as_mat_scale(tg_linalg_det(a11));
    tg_tensor *tl = tg_add(tg_mul(e, inv), tg_matmul(x, yt));
    tg_tensor *upper[2] = {tl, tg_neg(x)}, *lower[2] = {tg_neg(yt), tg_ones_like(a22)};
    tg_tensor *halves[2] = {tg_concat(2, upper, -1), tg_concat(2, lower, -1)};
    tg_tensor *adj_b = halves[0] && halves[1] ? tg_mul(d, tg_concat(2, halves, -2)) : NULL;
    tg_tensor *adj = adj_b ? tg_gather(tg_gather(adj_b, -2, unrows), -1, uncols) : NULL;
    return adj ? tg_mul(adj, tg_cast(signs, tg_dtype_of(a))) : NULL;
}

/* adj(A) from the cofactors: adj(A)[j][i] = (-1)^(i+j) det(A without row
 * i and column j). The adjugate is a polynomial in A's entries and so is
 * this, through determinants of order n - 1 that are invertible where A has
 * rank n - 1: its derivatives of every order exist there, for complex A
 * too (the SVD form's phase term divides by the zero singular value). n^2
 * determinants of order n - 1 each: for small matrices only. */
static tg_tensor *adjugate_cofactors(tg_tensor *a) {
    int nd = tg_ndim(a);
    int64_t n = tg_dim(a, -1), m = n - 1;
    if (n == 1) return tg_ones_like(a);
    int64_t *keep = malloc((size_t)(n * m) * sizeof *keep);   /* row i: 0..n-1 without i */
    double *sign = malloc((size_t)(n * n) * sizeof *sign);
    if (!keep || !sign) {
        free(keep);
        free(sign);
        tg__error(TG_ERR_MEMORY, "tg_linalg_det: out of memory for the cofactors");
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        all_but(n, i, keep + i * m);
        for (int64_t j = 0; j < n; j++) sign[i * n + j] = (i + j) % 2 ? -1.0 : 1.0;
    }
    tg_tensor *idx = tg_from_data(TG_I64, 1, (int64_t[]){n * m}, keep);
    tg_tensor *signs = tg_from_data(TG_F64, 2, (int64_t[]){n, n}, sign);
    free(keep);
    free(sign);
    /* (..., n, n) -> rows (..., i, r, n) -> columns (..., i, r, j, c) -> (..., i, j, r, c) */
    int64_t shape[TG_MAX_DIMS + 2];
    for (int d = 0; d < nd - 2; d++) shape[d] = tg_dim(a, d);
    tg_tensor *rows = tg_index_select(a, -2, idx);
    shape[nd - 2] = n, shape[nd - 1] = m, shape[nd] = n;
    rows = tg_reshape(rows, nd + 1, shape);
    tg_tensor *minors = tg_index_select(rows, -1, idx);
    shape[nd] = n, shape[nd + 1] = m;
    minors = tg_reshape(minors, nd + 2, shape);
    int perm[TG_MAX_DIMS + 2];
    for (int d = 0; d < nd - 2; d++) perm[d] = d;
    perm[nd - 2] = nd - 2, perm[nd - 1] = nd, perm[nd] = nd - 1, perm[nd + 1] = nd + 1;
    tg_tensor *cof = tg_mul(tg_linalg_det(tg_permute(minors, perm)), tg_cast(signs, tg_dtype_of(a)));
    return tg_mT(cof);
}

/* Cofactors for singular matrices up to this order and this many elements
 * of minors in all (n^4 per matrix); the SVD beyond. */
#define COFACTOR_MAX_N 16
#define COFACTOR_MAX_ELEMS ((int64_t)1 << 22)

/* Whether a matrix of the batch is so close to singular that det(A) A^{-1}
 * loses the adjugate's accuracy: the inverse's relative error grows as
 * |det A| falls below Hadamard's bound prod_j ||a_j||, and a rank n - 1
 * matrix rarely has an exactly zero pivot (rows r and (1 + 2i) r). Below
 * 1e-8 of the bound (1e-3 in single precision). Concrete values only: a
 * traced rule takes the inverse. */
static bool nearly_singular(tg_tensor *a, tg_tensor *det) {
    if (tg__is_tracer(a) || tg__is_tracer(det)) return false;
    tg__stashed_error older;
    tg__error_stash(&older);
    tg_scope_begin();
    tg_tensor *cols = tg_log(tg_linalg_vector_norm(tg_detach(a), 2.0, 1, (int[]){-2}, false));
    tg_tensor *margin = tg_sub(tg_log(tg_abs(tg_detach(det))), tg_sum(cols, 1, (int[]){-1}, false));
    tg_tensor *worst = tg_numel(det) ? tg_min(margin, 0, NULL, false) : NULL;
    double m = worst ? tg_item_f64(worst) : 0.0;
    tg_scope_end();
    if (!worst) tg_clear_error();
    tg__error_unstash(&older);
    double limit = log(tg_real_dtype(tg_dtype_of(a)) == TG_F32 ? 1e-3 : 1e-8);
    return !(m >= limit);       /* NaN too: a zero column */
}

/* The adjugate for the rules: det(A) A^{-1} (one solve) when every matrix
 * of the batch is well away from singular; otherwise from the cofactors
 * (small matrices), the bordered form (rank n - 1 and above) or the SVD's
 * product form (lower rank, where adj(A) is 0 to first order). */
static tg_tensor *adjugate(tg_tensor *a, tg_tensor *det) {
    int64_t n = tg_dim(a, -1), n2 = n * n;
    bool small = n <= COFACTOR_MAX_N && tg_numel(a) / (n2 ? n2 : 1) * n2 * n2 <= COFACTOR_MAX_ELEMS;
    bool near = nearly_singular(a, det);
    if (small && near) return adjugate_cofactors(a);
    /* the inverse's singular-matrix error means "use the other way", even
     * when an older error is pending (it stays the first) */
    tg__stashed_error older;
    tg__error_stash(&older);
    tg_tensor *inv = near ? NULL : tg_linalg_inv(a), *adj = NULL;
    if (inv) adj = tg_mul(as_mat_scale(det), inv);
    else if (near || tg_last_error_code() == TG_ERR_NUMERIC) {
        tg_clear_error();
        adj = small ? adjugate_cofactors(a) : adjugate_bordered(a);
        if (!adj && !small && (tg_last_error_code() == TG_OK || tg_last_error_code() == TG_ERR_NUMERIC)) {
            tg_clear_error();           /* rank below n - 1: the product form of the SVD */
            adj = adjugate_svd(a);
        }
    }
    tg__error_unstash(&older);
    return adj;
}

static tg_status det_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)c;
    tg_tensor *adj = adjugate(in[0], out[0]);
    ic[0] = adj ? tg_mul(as_mat_scale(g[0]), tg__mH(adj)) : NULL;
    return TG_RULE_RESULT(ic[0]);
}
/* det-dot = tr(adj(A) A-dot) */
static tg_status det_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)c;
    tg_tensor *adj = adjugate(in[0], out[0]);
    ot[0] = adj ? tg_sum(tg_mul(tg_mT(adj), t[0]), 2, (int[]){-2, -1}, false) : NULL;
    return TG_RULE_RESULT(ot[0]);
}

static tg_status slogdet_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                             tg_tensor **ic) {
    (void)c;
    tg_tensor *coef = g[1];
    if (tg_dtype_is_complex(out[0]->dtype) && coef && g[0]) {
        tg_tensor *ph = tg_imag(tg_mul(tg_conj(g[0]), out[0]));
        coef = ph ? tg_complex(coef, tg_neg(ph)) : NULL;
    }
    tg_tensor *inv = coef ? tg_linalg_inv(in[0]) : NULL;
    ic[0] = inv ? tg_mul(as_mat_scale(coef), tg__mH(inv)) : NULL;
    return TG_RULE_RESULT(ic[0]);
}
static tg_status slogdet_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                             tg_tensor **ot) {
    (void)c;
    tg_tensor *tr = trace_solve(in[0], t[0]);
    if (!tr) return tg_last_error_code();
    ot[1] = tg_real(tr);
    if (tg_dtype_is_complex(out[0]->dtype)) {
        tg_tensor *im = tg_imag(tr);
        ot[0] = im ? tg_mul(out[0], tg_complex(tg_zeros_like(im), im)) : NULL;
    } else {
        ot[0] = tg_zeros_like(out[0]);
    }
    return ot[0] && ot[1] ? TG_OK : tg_last_error_code();
}

const tg_op_def tg_op_linalg_det = {.name = "linalg_det", .n_in = 1, .n_out = 1, .infer = det_infer,
                                    .kernel = {[TG_CPU] = det_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = det_vjp, .jvp = det_jvp};
const tg_op_def tg_op_linalg_slogdet = {.name = "linalg_slogdet", .n_in = 1, .n_out = 2, .infer = slogdet_infer,
                                        .kernel = {[TG_CPU] = slogdet_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = slogdet_vjp,
                                        .jvp = slogdet_jvp};

tg_tensor *tg_linalg_det(tg_tensor *a) {
    if (!a) { tg__error(TG_ERR_ARG, "tg_linalg_det: NULL operand"); return NULL; }
    return tg__apply1(&tg_op_linalg_det, 1, &a, NULL);
}

tg_status tg_linalg_slogdet(tg_tensor *a, tg_tensor **sign, tg_tensor **logabsdet) {
    if (sign) *sign = NULL;
    if (logabsdet) *logabsdet = NULL;
    if (!a || !sign || !logabsdet) return tg__error(TG_ERR_ARG, "tg_linalg_slogdet: NULL argument");
    tg_tensor *out[2] = {NULL, NULL};
    tg_status st = tg__apply(&tg_op_linalg_slogdet, 1, &a, NULL, 2, out);
    if (st) return st;
    *sign = out[0];
    *logabsdet = out[1];
    return TG_OK;
}

TG_REGISTER_OPS(linalg_det, &tg_op_linalg_det, &tg_op_linalg_slogdet)
