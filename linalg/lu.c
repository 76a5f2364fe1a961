/* LU with partial pivoting over getrf (m x n, k = min(m, n)), batched:
 * linalg_lu_factor gives LU packed (unit L strictly below the diagonal, U on
 * and above) and 1-based int32 pivots (row i was swapped with row piv[i]);
 * tg_linalg_lu unpacks P, L (m, k), U (k, n) with A = P L U (torch's P);
 * linalg_lu_solve solves A X = B or A^H X = B over getrs (trans 'N'/'C'),
 * the batch axes of LU and B broadcast. linalg_lu_perm builds P from the
 * pivots (no derivative: P is piecewise constant).
 * Rules (PyTorch's linalg_lu_backward / linalg_lu_jvp / linalg_lu_solve_LU,
 * derived from dA' = P^T dA = dL U + L dU):
 *   square/wide (m <= n, U = [U1 | U2]): M = tril(L^H L-bar - U2-bar U2^H, -1)
 *     + triu(U1-bar U1^H); A-bar = P [L^{-H} M U1^{-H} | L^{-H} U2-bar].
 *     JVP: X = L^{-1} dA'_1 U1^{-1}; L-dot = L tril(X, -1), U1-dot = triu(X) U1,
 *     U2-dot = L^{-1}(dA'_2 - L-dot U2).
 *   tall (m > n, L = [L1; L2]): M = tril(L1^H L1-bar, -1) + triu(U-bar U^H -
 *     L2^H L2-bar); A-bar = P [L1^{-H} M U^{-H}; L2-bar U^{-H}].
 *     JVP: X = L1^{-1} dA'_1 U^{-1}; L1-dot = L1 tril(X, -1), U-dot = triu(X) U,
 *     L2-dot = (dA'_2 - L2 U-dot) U^{-1}.
 *   lu_factor: L-bar = tril(LU-bar, -1), U-bar = triu(LU-bar).
 *   lu_solve, A X = B: B-bar = A^{-H} X-bar; G = -U^{-H} X-bar X^H,
 *     LU-bar = triu(G) + tril(L^{-H} G U^H, -1). A^H X = B: B-bar = A^{-1} X-bar;
 *     G = -P^T X X-bar^H P L^{-H}, LU-bar = tril(G, -1) + triu(L^H G U^{-H}).
 *     JVPs: X-dot = S - U^{-1}(L^{-1} L-dot U + U-dot) X (A X = B) and
 *     X-dot = S - P L^{-H}(L-dot^H + U^{-H} U-dot^H L^H) P^T X (A^H X = B),
 *     S = lu_solve(B-dot). */
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

enum { ATTR_CHECK };      /* lu_factor: singular U is an error (torch.linalg.lu_factor) */
enum { ATTR_ADJOINT };    /* lu_solve */


static tg_status lu_k(const tg_op_call *c, const tg_meta *a, int64_t *k) {
    int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1];
    if (m == n || (!tg__is_sym_size(m) && !tg__is_sym_size(n))) { *k = m < n ? m : n; return TG_OK; }
    char s[160];
    return tg__op_error(c, TG_ERR_SHAPE, "min(m, n) of the matrix axes of %s is not known at trace time (give "
                        "concrete or equal sizes)", tg__fmt_shape(s, sizeof s, a->ndim, a->shape));
}

/* The LAPACKE _work entry points skip LAPACKE's NaN scan: NaN propagates (NumPy, PyTorch). */

/* ---- lu_factor ------------------------------------------------------------------------- */
static tg_status luf_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0];
    char s[160];
    if (a->ndim < 2)
        return tg__op_error(c, TG_ERR_SHAPE, "A must have at least 2 axes, got shape %s",
                            tg__fmt_shape(s, sizeof s, a->ndim, a->shape));
    int64_t k = 0;
    tg_status st = lu_k(c, a, &k);
    if (st) return st;
    tg__meta_copy_shape(&out[0], a);
    out[1].ndim = a->ndim - 1;
    for (int i = 0; i < a->ndim - 2; i++) out[1].shape[i] = a->shape[i];
    out[1].shape[a->ndim - 2] = k;
    out[1].dtype = TG_I32;
    return tg__linalg_dtype(c, a->dtype, &out[0].dtype);
}

/* Column-major getrf on a column-major copy (the _work entry points skip
 * LAPACKE's NaN scan, so NaN propagates as in NumPy and PyTorch). */
static int getrf_cm(tg_dtype d, int m, int n, void *a, int *ipiv) {
    int ld = m ? m : 1;
    switch (d) {
    case TG_F32: return LAPACKE_sgetrf_work(LAPACK_COL_MAJOR, m, n, a, ld, ipiv);
    case TG_F64: return LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, m, n, a, ld, ipiv);
    case TG_C64: return LAPACKE_cgetrf_work(LAPACK_COL_MAJOR, m, n, (lapack_complex_float *)a, ld, ipiv);
    default: return LAPACKE_zgetrf_work(LAPACK_COL_MAJOR, m, n, (lapack_complex_double *)a, ld, ipiv);
    }
}

typedef struct {
    tg_tensor *a, **out;
    bool check;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], m, n, k, es;
} luf_job;

/* Each item's LU is factored where it is returned: out[0] is a view of a
 * column-major buffer. */
static int luf_item(void *ctx, int64_t t) {
    const luf_job *j = ctx;
    int64_t m = j->m, n = j->n, es = j->es;
    char *w = tg__ptr(j->out[0]) + t * m * n * es;
    tg__linalg_gather_cm(w, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), m, n);
    int info = getrf_cm(j->out[0]->dtype, (int)m, (int)n, w, (int *)tg__ptr(j->out[1]) + t * j->k);
    return info > 0 && !j->check ? 0 : info;
}

/* The outputs, made here (TG_OP_MAKES_OUTPUTS): LU (..., m, n) with each
 * matrix column-major (strides (1, m) on the last two axes, as PyTorch
 * returns it), so getrf works in place and no copy goes back to row-major;
 * the pivots (..., k) contiguous. */
static tg_status luf_outputs(tg_dtype d, const tg_tensor *a, int64_t k, tg_tensor **out) {
    int nd = a->ndim;
    int64_t sh[TG_MAX_DIMS], st[TG_MAX_DIMS];
    for (int i = 0; i < nd; i++) sh[i] = a->shape[i];
    sh[nd - 2] = a->shape[nd - 1];
    sh[nd - 1] = a->shape[nd - 2];             /* the buffer: (..., n, m) row-major */
    tg_tensor *buf = tg__alloc(d, nd, sh);
    if (!buf) return tg_last_error_code();
    for (int i = 0; i < nd; i++) st[i] = buf->strides[i];
    st[nd - 2] = 1;
    st[nd - 1] = sh[nd - 1];
    out[0] = tg__make_view(buf, d, nd, a->shape, st, 0);
    tg_release(buf);
    sh[nd - 2] = k;
    out[1] = out[0] ? tg__alloc(TG_I32, nd - 1, sh) : NULL;
    if (out[1]) return TG_OK;
    tg_release(out[0]);
    out[0] = NULL;
    return TG_ERR_MEMORY;
}

/* One matrix per batch item (copied once, column-major), across threads
 * when the batch is large. */
static tg_status luf_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d;
    tg_status st = tg__linalg_dtype(c, in[0]->dtype, &d);
    if (st) return st;
    luf_job j = {.a = tg__cast_raw(in[0], d), .out = out, .check = c->attrs->i[ATTR_CHECK] != 0};
    if (!j.a) return tg_last_error_code();
    j.m = j.a->shape[j.a->ndim - 2];
    j.n = j.a->shape[j.a->ndim - 1];
    j.k = j.m < j.n ? j.m : j.n;
    j.es = tg__esize(d);
    if ((st = luf_outputs(d, j.a, j.k, out))) goto done;
    tg__linalg_batch_init(&j.bt, j.a->ndim - 2, j.a->shape);
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    if (j.m > INT32_MAX / 2 || j.n > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    if (j.k == 0) goto done;
    int info;
    double cost = (double)j.m * (double)j.n * (double)j.k;
    int64_t t = tg__linalg_batch_run(j.bt.count, cost, luf_item, &j, &info);
    if (t >= 0 && info > 0)
        st = tg__op_error(c, TG_ERR_NUMERIC,
                          "matrix %lld of the batch is singular (U[%d,%d] = 0; tg_linalg_lu factors it "
                          "without this check)", (long long)t, info - 1, info - 1);
    else if (t >= 0) st = tg__linalg_info_error(c, "getrf", t, info, "");
done:
    tg_release(j.a);
    if (st) {
        tg_release(out[0]);
        tg_release(out[1]);
        out[0] = out[1] = NULL;
    }
    return st;
}

/* ---- P from the pivots: in (LU or A (..., m, n), pivots (..., k)) -> P (..., m, m) ---- */
static tg_status perm_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0], *p = &c->in[1];
    char s[160], sp[160];
    int64_t k = 0;
    tg_status st;
    if (a->ndim < 2) return tg__op_error(c, TG_ERR_SHAPE, "LU must have at least 2 axes");
    if ((st = lu_k(c, a, &k))) return st;
    bool ok = p->dtype == TG_I32 && p->ndim == a->ndim - 1 && p->shape[p->ndim - 1] == k;
    for (int i = 0; ok && i < a->ndim - 2; i++) ok = p->shape[i] == a->shape[i];
    if (!ok)
        return tg__op_error(c, p->dtype == TG_I32 ? TG_ERR_SHAPE : TG_ERR_DTYPE,
                            "pivots must be int32 of shape LU.shape[:-2] + (min(m, n),): LU %s, pivots %s (%s)",
                            tg__fmt_shape(s, sizeof s, a->ndim, a->shape),
                            tg__fmt_shape(sp, sizeof sp, p->ndim, p->shape), tg_dtype_name(p->dtype));
    tg__meta_copy_shape(&out[0], a);
    out[0].shape[a->ndim - 1] = a->shape[a->ndim - 2];
    return tg__linalg_dtype(c, a->dtype, &out[0].dtype);
}

/* perm[i]: the row of A that row i of P^T A holds; checks 1 <= piv <= m. */
static tg_status piv_to_perm(const tg_op_call *c, const int *piv, int64_t k, int64_t m, int64_t t, int64_t *perm) {
    for (int64_t i = 0; i < m; i++) perm[i] = i;
    for (int64_t i = 0; i < k; i++) {
        int64_t j = (int64_t)piv[i] - 1;
        if (j < 0 || j >= m)
            return tg__op_error(c, TG_ERR_ARG, "pivot %lld of matrix %lld of the batch is %d, outside [1, %lld]",
                                (long long)i, (long long)t, piv[i], (long long)m);
        int64_t s = perm[i]; perm[i] = perm[j]; perm[j] = s;
    }
    return TG_OK;
}

/* A contiguous int32 copy of the pivots (any strides accepted). */
static tg_tensor *contig_pivots(tg_tensor *p) {
    tg_tensor *y = tg__alloc(TG_I32, p->ndim, p->shape);
    if (y) tg__copy_into(y, p);
    return y;
}

static tg_status perm_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int64_t m = in[0]->shape[in[0]->ndim - 2], k = in[1]->shape[in[1]->ndim - 1], es = tg__esize(out[0]->dtype);
    int64_t count = tg__numel(out[0]->ndim - 2, out[0]->shape);
    tg_tensor *pv = contig_pivots(in[1]);
    int64_t *perm = malloc((size_t)(m ? m : 1) * sizeof(int64_t));
    tg_status st = TG_OK;
    if (!pv || !perm) { st = pv ? tg__error(TG_ERR_MEMORY, "tg_linalg_lu: out of memory") : tg_last_error_code(); goto done; }
    memset(tg__ptr(out[0]), 0, (size_t)(count * m * m * es));
    for (int64_t t = 0; t < count && m > 0; t++) {
        if ((st = piv_to_perm(c, (const int *)tg__ptr(pv) + t * k, k, m, t, perm))) goto done;
        char *p = tg__ptr(out[0]) + t * m * m * es;
        for (int64_t i = 0; i < m; i++) {   /* P[perm[i], i] = 1 */
            char *e = p + (perm[i] * m + i) * es;
            if (out[0]->dtype == TG_F32 || out[0]->dtype == TG_C64) *(float *)e = 1;
            else *(double *)e = 1;
        }
    }
done:
    free(perm);
    tg_release(pv);
    return st;
}

const tg_op_def tg_op_linalg_lu_perm = {.name = "linalg_lu_perm", .n_in = 2, .n_out = 1, .flags = TG_OP_NONDIFF,
                                        .infer = perm_infer, .kernel = {[TG_CPU] = perm_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}};

static tg_tensor *lu_perm(tg_tensor *lu, tg_tensor *piv) {
    if (!lu || !piv) return NULL;
    tg_tensor *in[2] = {lu, piv};
    return tg__apply1(&tg_op_linalg_lu_perm, 2, in, NULL);
}

/* P z for the P of lu's pivots, as a row selection: P[perm[i], i] = 1, so
 * row a of P z is row argmax(P[a, :]) of z (m^2 work where the product is
 * m^2 k; both are differentiable in z). With batch axes, a gather along
 * the rows with each item's indices; the product when P's and z's batch
 * axes differ (one broadcasts against the other). */
static tg_tensor *lu_perm_rows(tg_tensor *lu, tg_tensor *piv, tg_tensor *z) {
    tg_tensor *p = lu_perm(lu, piv);
    if (!p || !z) return NULL;
    bool same = p->ndim == z->ndim;
    for (int i = 0; same && i < p->ndim - 2; i++) same = p->shape[i] == z->shape[i];
    if (!same) return tg_matmul(p, z);
    if (tg_dtype_is_complex(p->dtype)) p = tg_real(p);
    tg_tensor *rows = tg_argmax(p, -1, false);
    if (p->ndim == 2) return tg_index_select(z, 0, rows);
    tg_tensor *idx = rows ? tg_expand(tg_unsqueeze(rows, -1), z->ndim, z->shape) : NULL;
    return idx ? tg_gather(z, -2, idx) : NULL;
}

/* ---- lu_factor rules --------------------------------------------------------------------- */
static tg_tensor *sl(tg_tensor *x, int axis, int64_t a, int64_t b) { return x ? tg_slice(x, axis, a, b, 1) : NULL; }
/* (I + tril(lk, -1)) x and its adjoint form, L unit lower stored in lk. */
static tg_tensor *lmul(tg_tensor *lk, tg_tensor *x) { return x ? tg_add(tg_matmul(tg_tril(lk, -1), x), x) : NULL; }
static tg_tensor *lhmul(tg_tensor *lk, tg_tensor *x) { return x ? tg_add(tg_matmul(tg__mH(tg_tril(lk, -1)), x), x) : NULL; }

static tg_status lu_rule_sizes(const tg_op_call *c, int64_t *m, int64_t *n, int64_t *k) {
    const tg_meta *a = &c->in[0];
    *m = a->shape[a->ndim - 2];
    *n = a->shape[a->ndim - 1];
    return lu_k(c, a, k);
}

static tg_status luf_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)in;
    int64_t m, n, k = 0;
    if (lu_rule_sizes(c, &m, &n, &k)) return tg_last_error_code();
    tg_tensor *lu = out[0], *gg = g[0];
    tg_tensor *lk = sl(sl(lu, -2, 0, k), -1, 0, k);                /* L1 below, U1 on/above its diagonal */
    tg_tensor *gl = tg_tril(sl(gg, -1, 0, k), -1), *gu = tg_triu(sl(gg, -2, 0, k), 0);
    tg_tensor *ml, *mu, *z;
    if (m <= n) {
        tg_tensor *gu1 = sl(gu, -1, 0, k), *u1 = tg_triu(lk, 0);
        ml = lhmul(lk, gl);
        if (n > m) ml = ml ? tg_sub(ml, tg_matmul(sl(gu, -1, k, n), tg__mH(sl(lu, -1, k, n)))) : NULL;
        mu = gu1 ? tg_matmul(gu1, tg__mH(u1)) : NULL;
    } else {
        tg_tensor *gl1 = sl(gl, -2, 0, k), *gl2 = sl(gl, -2, k, m), *l2 = sl(sl(lu, -2, k, m), -1, 0, k);
        ml = lhmul(lk, gl1);
        mu = gu ? tg_sub(tg_matmul(gu, tg__mH(tg_triu(lk, 0))), tg_matmul(tg__mH(l2), gl2)) : NULL;
    }
    tg_tensor *mm = ml && mu ? tg_add(tg_tril(ml, -1), tg_triu(mu, 0)) : NULL;
    z = mm ? tg__linalg_trsolve_mat(tg__mH(lk), mm, true, true) : NULL;            /* L1^{-H} M */
    z = z ? tg_linalg_triangular_solve(tg__mH(lk), z, false, false, false) : NULL;  /* ... U1^{-H} */
    if (z && m < n) {
        tg_tensor *z2 = tg__linalg_trsolve_mat(tg__mH(lk), sl(gu, -1, k, n), true, true);
        z = z2 ? tg_concat(2, (tg_tensor *[]){z, z2}, -1) : NULL;
    } else if (z && m > n) {
        tg_tensor *z2 = tg_linalg_triangular_solve(tg__mH(lk), sl(gl, -2, k, m), false, false, false);
        z = z2 ? tg_concat(2, (tg_tensor *[]){z, z2}, -2) : NULL;
    }
    ic[0] = z ? lu_perm_rows(lu, out[1], z) : NULL;
    return TG_RULE_RESULT(ic[0]);
}

static tg_status luf_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)in;
    int64_t m, n, k = 0;
    if (lu_rule_sizes(c, &m, &n, &k)) return tg_last_error_code();
    if (!t[0]) return TG_OK;
    tg_tensor *lu = out[0];
    tg_tensor *lk = sl(sl(lu, -2, 0, k), -1, 0, k);
    tg_tensor *dap = tg_matmul(tg__mH(lu_perm(lu, out[1])), t[0]);                  /* P^T A-dot */
    tg_tensor *x = tg__linalg_trsolve_mat(lk, sl(sl(dap, -2, 0, k), -1, 0, k), false, true);
    x = x ? tg_linalg_triangular_solve(lk, x, true, false, false) : NULL;           /* L1^{-1} dA'_11 U1^{-1} */
    tg_tensor *dl = x ? lmul(lk, tg_tril(x, -1)) : NULL;                               /* strictly lower */
    tg_tensor *du = x ? tg_matmul(tg_triu(x, 0), tg_triu(lk, 0)) : NULL;              /* upper */
    tg_tensor *d = dl && du ? tg_add(dl, du) : NULL;
    if (d && m < n) {
        tg_tensor *r = tg_sub(sl(dap, -1, k, n), tg_matmul(dl, sl(lu, -1, k, n)));
        tg_tensor *du2 = r ? tg__linalg_trsolve_mat(lk, r, false, true) : NULL;
        d = du2 ? tg_concat(2, (tg_tensor *[]){d, du2}, -1) : NULL;
    } else if (d && m > n) {
        tg_tensor *r = tg_sub(sl(dap, -2, k, m), tg_matmul(sl(lu, -2, k, m), du));
        tg_tensor *dl2 = r ? tg_linalg_triangular_solve(lk, r, true, false, false) : NULL;
        d = dl2 ? tg_concat(2, (tg_tensor *[]){d, dl2}, -2) : NULL;
    }
    ot[0] = d;
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_lu_factor = {.name = "linalg_lu_factor", .n_in = 1, .n_out = 2,
                                          .flags = TG_OP_MAKES_OUTPUTS, .infer = luf_infer,
                                          .kernel = {[TG_CPU] = luf_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = luf_vjp, .jvp = luf_jvp};

/* ---- lu_solve: in (LU (..., n, n), B (..., n, k), pivots (..., n)) --------------------- */
static tg_status lus_infer(const tg_op_call *c, tg_meta *out) {
    tg_status st = tg__linalg_solve_infer(c, out, 2);
    if (st) return st;
    const tg_meta *a = &c->in[0], *p = &c->in[2];
    bool ok = p->ndim == a->ndim - 1 && p->shape[p->ndim - 1] == a->shape[a->ndim - 1];
    for (int i = 0; ok && i < a->ndim - 2; i++) ok = p->shape[i] == a->shape[i];
    char s[160], sp[160];
    if (p->dtype != TG_I32)
        return tg__op_error(c, TG_ERR_DTYPE, "pivots must be int32 (from tg_linalg_lu_factor), got %s",
                            tg_dtype_name(p->dtype));
    if (!ok)
        return tg__op_error(c, TG_ERR_SHAPE, "pivots must have shape LU.shape[:-1]: LU %s, pivots %s",
                            tg__fmt_shape(s, sizeof s, a->ndim, a->shape),
                            tg__fmt_shape(sp, sizeof sp, p->ndim, p->shape));
    return TG_OK;
}

/* Column-major getrs without LAPACKE's NaN scan: NaN in B propagates, as
 * in torch.linalg.lu_solve. */
static int getrs(tg_dtype d, char tr, int n, int k, const void *a, const int *ipiv, void *b) {
    const int cm = LAPACK_COL_MAJOR;
    switch (d) {
    case TG_F32: return LAPACKE_sgetrs_work(cm, tr == 'C' ? 'T' : 'N', n, k, a, n, ipiv, b, n);
    case TG_F64: return LAPACKE_dgetrs_work(cm, tr == 'C' ? 'T' : 'N', n, k, a, n, ipiv, b, n);
    case TG_C64:
        return LAPACKE_cgetrs_work(cm, tr, n, k, (const lapack_complex_float *)a, n, ipiv, (lapack_complex_float *)b, n);
    default:
        return LAPACKE_zgetrs_work(cm, tr, n, k, (const lapack_complex_double *)a, n, ipiv, (lapack_complex_double *)b, n);
    }
}

typedef struct {
    tg_tensor *a, *b, *pv, *x;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], sb[TG_MAX_DIMS], sp[TG_MAX_DIMS], n, k, es;
    char tr;
} lus_job;

/* One batch item, on any thread (its pivots were validated before). */
static int lus_item(void *ctx, int64_t t) {
    const lus_job *j = ctx;
    int64_t n = j->n, k = j->k, es = j->es;
    char *work = tg__linalg_scratch(0, (size_t)(n * n * es));
    if (!work) return TG_LINALG_NO_MEMORY;
    const int *piv = (const int *)tg__ptr(j->pv) + tg__linalg_batch_offset(&j->bt, j->sp, t);
    char *x = tg__ptr(j->x) + t * n * k * es;
    /* column-major: LU from tg_linalg_lu_factor is, so this copy is a memcpy */
    tg__linalg_gather_cm(work, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), n, n);
    char *rhs = tg__linalg_rhs_load(x, j->b, tg__linalg_batch_offset(&j->bt, j->sb, t), n, k, es);
    if (!rhs) return TG_LINALG_NO_MEMORY;
    int info = getrs(j->x->dtype, j->tr, (int)n, (int)k, work, piv, rhs);
    if (info == 0) tg__linalg_rhs_store(x, rhs, n, k, es);
    return info;
}

static tg_status lus_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    lus_job j = {.a = tg__cast_raw(in[0], d), .b = tg__cast_raw(in[1], d), .pv = contig_pivots(in[2]), .x = out[0],
                 .tr = c->attrs->i[ATTR_ADJOINT] ? 'C' : 'N'};
    tg_status st = TG_OK;
    int64_t *perm = NULL;
    if (!j.a || !j.b || !j.pv) { st = tg_last_error_code(); goto done; }
    j.n = j.a->shape[j.a->ndim - 1];
    j.k = j.b->shape[j.b->ndim - 1];
    j.es = tg__esize(d);
    if (j.n > INT32_MAX / 2 || j.k > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    tg__linalg_batch_init(&j.bt, out[0]->ndim - 2, out[0]->shape);
    if (j.n == 0 || j.k == 0 || j.bt.count == 0) goto done;
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    tg__linalg_batch_strides(&j.bt, j.b, 2, j.sb);
    tg__linalg_batch_strides(&j.bt, j.pv, 1, j.sp);
    perm = malloc((size_t)j.n * sizeof(int64_t));
    if (!perm) { st = tg__error(TG_ERR_MEMORY, "tg_linalg_lu_solve: out of memory"); goto done; }
    for (int64_t t = 0; t < j.bt.count && !st; t++)     /* the pivots are checked first, in order */
        st = piv_to_perm(c, (const int *)tg__ptr(j.pv) + tg__linalg_batch_offset(&j.bt, j.sp, t), j.n, j.n, t, perm);
    if (st) goto done;
    int info;
    int64_t t = tg__linalg_batch_run(j.bt.count, (double)j.n * (double)j.n * (double)j.k, lus_item, &j, &info);
    if (t >= 0) st = tg__linalg_info_error(c, "getrs", t, info, "");
done:
    free(perm);
    tg_release(j.a);
    tg_release(j.b);
    tg_release(j.pv);
    return st;
}

static tg_tensor *lu_solve_mat(tg_tensor *lu, tg_tensor *piv, tg_tensor *b, bool adjoint);

static tg_status lus_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    bool adj = c->attrs->i[ATTR_ADJOINT] != 0;
    tg_tensor *lu = in[0], *piv = in[2], *x = out[0], *gx = g[0];
    if (TG_NEEDS(c, 1)) {
        tg_tensor *gb = lu_solve_mat(lu, piv, gx, !adj);
        if (!(ic[1] = gb ? tg__sum_to(gb, in[1]->ndim, in[1]->shape) : NULL)) return tg_last_error_code();
    }
    if (!TG_NEEDS(c, 0)) return TG_OK;
    tg_tensor *glu;
    if (!adj) {
        tg_tensor *gr = tg__linalg_trsolve_mat(tg__mH(lu), tg_matmul(gx, tg__mH(x)), false, false);  /* U^{-H} .. */
        gr = gr ? tg_neg(gr) : NULL;
        tg_tensor *w = gr ? tg_matmul(gr, tg__mH(tg_triu(lu, 0))) : NULL;
        w = w ? tg__linalg_trsolve_mat(tg__mH(lu), w, true, true) : NULL;                          /* L^{-H} .. */
        glu = w ? tg_add(tg_triu(gr, 0), tg_tril(w, -1)) : NULL;
    } else {
        tg_tensor *p = lu_perm(lu, piv);
        tg_tensor *y = p ? tg_matmul(tg_matmul(tg__mH(p), x), tg_matmul(tg__mH(gx), p)) : NULL;
        tg_tensor *gr = y ? tg_linalg_triangular_solve(tg__mH(lu), y, true, false, true) : NULL;  /* .. L^{-H} */
        gr = gr ? tg_neg(gr) : NULL;
        tg_tensor *w = gr ? lhmul(lu, gr) : NULL;
        w = w ? tg_linalg_triangular_solve(tg__mH(lu), w, false, false, false) : NULL;            /* .. U^{-H} */
        glu = w ? tg_add(tg_tril(gr, -1), tg_triu(w, 0)) : NULL;
    }
    ic[0] = glu ? tg__sum_to(glu, in[0]->ndim, in[0]->shape) : NULL;
    return TG_RULE_RESULT(ic[0]);
}

static tg_status lus_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    bool adj = c->attrs->i[ATTR_ADJOINT] != 0;
    tg_tensor *lu = in[0], *piv = in[2], *x = out[0], *r = NULL;
    if (t[1] && !(r = lu_solve_mat(lu, piv, t[1], adj))) return tg_last_error_code();
    if (t[0]) {
        tg_tensor *dl = tg_tril(t[0], -1), *du = tg_triu(t[0], 0), *v;
        if (!adj) {   /* U^{-1}(L^{-1}(dL (U X)) + dU X) */
            v = tg__linalg_trsolve_mat(lu, tg_matmul(dl, tg_matmul(tg_triu(lu, 0), x)), false, true);
            v = v ? tg__linalg_trsolve_mat(lu, tg_add(v, tg_matmul(du, x)), true, false) : NULL;
        } else {      /* P L^{-H}(dL^H Y + U^{-H}(dU^H (L^H Y))), Y = P^T X */
            tg_tensor *p = lu_perm(lu, piv);
            tg_tensor *y = p ? tg_matmul(tg__mH(p), x) : NULL;
            v = y ? tg__linalg_trsolve_mat(tg__mH(lu), tg_matmul(tg__mH(du), lhmul(lu, y)), false, false) : NULL;
            v = v ? tg__linalg_trsolve_mat(tg__mH(lu), tg_add(tg_matmul(tg__mH(dl), y), v), true, true) : NULL;
            v = v ? lu_perm_rows(lu, piv, v) : NULL;
        }
        if (!v) return tg_last_error_code();
        r = r ? tg_sub(r, v) : tg_neg(v);
    }
    ot[0] = r;
    return r || (!t[0] && !t[1]) ? TG_OK : tg_last_error_code();
}

const tg_op_def tg_op_linalg_lu_solve = {.name = "linalg_lu_solve", .n_in = 3, .n_out = 1, .infer = lus_infer,
                                         .kernel = {[TG_CPU] = lus_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = lus_vjp, .jvp = lus_jvp};

static tg_tensor *lu_solve_mat(tg_tensor *lu, tg_tensor *piv, tg_tensor *b, bool adjoint) {
    if (!lu || !piv || !b) return NULL;
    tg_tensor *in[3] = {lu, b, piv};
    tg_attrs at = {.n_int = 1, .i = {adjoint}};
    return tg__apply1(&tg_op_linalg_lu_solve, 3, in, &at);
}

/* ---- public ------------------------------------------------------------------------------ */
static tg_status lu_factor_apply(tg_tensor *a, bool check, tg_tensor **o) {
    tg_attrs at = {.n_int = 1, .i = {check}};
    return tg__apply(&tg_op_linalg_lu_factor, 1, &a, &at, 2, o);
}

tg_status tg_linalg_lu_factor(tg_tensor *a, tg_tensor **lu, tg_tensor **pivots) {
    if (lu) *lu = NULL;
    if (pivots) *pivots = NULL;
    if (!a || !lu || !pivots) return tg__error(TG_ERR_ARG, "tg_linalg_lu_factor: NULL argument");
    tg_tensor *o[2] = {NULL, NULL};
    tg_status st = lu_factor_apply(a, true, o);
    if (st) return st;
    *lu = o[0];
    *pivots = o[1];
    return TG_OK;
}

tg_status tg_linalg_lu(tg_tensor *a, tg_tensor **p, tg_tensor **l, tg_tensor **u) {
    if (p) *p = NULL;
    if (l) *l = NULL;
    if (u) *u = NULL;
    if (!a || !l || !u) return tg__error(TG_ERR_ARG, "tg_linalg_lu: NULL argument");
    tg_tensor *o[2] = {NULL, NULL}, *pp = NULL, *ll = NULL, *uu = NULL;
    tg_scope_begin();
    tg_status st = lu_factor_apply(a, false, o);
    if (!st) {
        int64_t m = o[0]->shape[o[0]->ndim - 2], n = o[0]->shape[o[0]->ndim - 1], k = o[1]->shape[o[1]->ndim - 1];
        tg_tensor *eye = tg__eye_like(o[0], o[0]->dtype, m, k);
        ll = eye ? tg_add(tg_tril(sl(o[0], -1, 0, k), -1), eye) : NULL;
        uu = tg_triu(sl(o[0], -2, 0, k), 0);
        (void)n;
        if (p) pp = lu_perm(o[0], o[1]);
        if (!ll || !uu || (p && !pp)) st = tg_last_error_code();
    }
    if (!st) {
        *l = tg_keep(ll);
        *u = tg_keep(uu);
        if (p) *p = tg_keep(pp);
    }
    tg_scope_end();
    return st;
}

tg_tensor *tg_linalg_lu_solve(tg_tensor *lu, tg_tensor *pivots, tg_tensor *b, bool adjoint) {
    if (!lu || !pivots || !b) { tg__error(TG_ERR_ARG, "tg_linalg_lu_solve: NULL operand"); return NULL; }
    return lu_solve_mat(lu, pivots, b, adjoint);
}

TG_REGISTER_OPS(linalg_lu, &tg_op_linalg_lu_factor, &tg_op_linalg_lu_perm, &tg_op_linalg_lu_solve)
