/* linalg_svd / linalg_svdvals: A (..., m, n) = U diag(S) Vh, S real and
 * descending, batched; ?gesdd (jobz 'A', 'S' or 'N'), falling back to ?gesvd
 * when gesdd does not converge. k = min(m, n); full_matrices (attrs i[0]):
 * U (m, m), Vh (n, n), else U (m, k), Vh (k, n).
 * Rules (AD-REFERENCE.md 4; PyTorch's svd_backward and linalg_svd_jvp),
 * E_ij = S_j^2 - S_i^2 (E_ii = 1), skew(X) = X - X^H, sym(X) = X + X^H:
 *   VJP: J = skew(U^H U-bar), K = skew(Vh Vh-bar^H);
 *        core = (J S_row + S_col K) / E + diag(S-bar) [+ diag(diag(J) / 2S), complex];
 *        A-bar = U core Vh + (I - U U^H) U-bar S^-1 Vh   (m > n)
 *                          + U S^-1 Vh-bar (I - V V^H)   (m < n);
 *        with only S-bar: A-bar = U diag(S-bar) Vh.
 *   JVP: dP = U^H dA V, dS = Re diag dP, dP' = dP - diag(dS),
 *        dU = U (sym(dP' S) / E + D) + (I - U U^H) dA V S^-1,
 *        dV = V (sym(S dP') / E - D) + (I - V V^H) dA^H U S^-1,
 *        D = diag(diag(dP') / 2S) (complex; zero for real).
 * full_matrices with m != n: the extra columns U2 of U (rows Vh2 of Vh) span
 * the complement, fixed by A only up to U2 -> U2 Q. The rules take the loss
 * to be invariant under that (it then depends on U2 only through U2 U2^H):
 * VJP U1-bar += -U2 U2-bar^H U1 (Vh1-bar += -Vh1 Vh2-bar^H Vh2), JVP
 * dU2 = -U1 dU1^H U2 (dVh2 = -Vh2 dVh1^H Vh1). PyTorch instead drops
 * U2-bar. Complex phases: a loss with Im diag(U^H U-bar + V^H V-bar) != 0 is
 * refused with TG_ERR_NUMERIC (eager mode), as PyTorch does. Repeated or
 * zero singular values make the vector rules divide by zero (inf/NaN, as
 * PyTorch); the S-only rule stays finite. svdvals runs jobz 'N' and its
 * rules recompute U, Vh through linalg_svd. Non-finite input: TG_ERR_NUMERIC. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

static bool attr_full(const tg_op_call *c) { return c->attrs && c->attrs->n_int > 0 && c->attrs->i[0]; }

static tg_status svd_infer_common(const tg_op_call *c, tg_meta *out, bool vectors) {
    const tg_meta *a = &c->in[0];
    char s[160];
    if (a->ndim < 2)
        return tg__op_error(c, TG_ERR_SHAPE, "A must have at least 2 axes, got shape %s",
                            tg__fmt_shape(s, sizeof s, a->ndim, a->shape));
    int nd = a->ndim;
    int64_t m = a->shape[nd - 2], n = a->shape[nd - 1], k;
    if (m == n) k = m;
    else if (m < TG_SYM_BASE_INTERNAL && n < TG_SYM_BASE_INTERNAL) k = m < n ? m : n;
    else
        return tg__op_error(c, TG_ERR_SHAPE, "min(m, n) of A of shape %s is not known at trace time",
                            tg__fmt_shape(s, sizeof s, a->ndim, a->shape));
    tg_dtype d;
    tg_status st = tg__linalg_dtype(c, a->dtype, &d);
    if (st) return st;
    tg_meta *sv = vectors ? &out[1] : &out[0];
    sv->ndim = nd - 1;
    for (int i = 0; i < nd - 2; i++) sv->shape[i] = a->shape[i];
    sv->shape[nd - 2] = k;
    sv->dtype = tg_real_dtype(d);
    if (vectors) {
        bool full = attr_full(c);
        tg__meta_copy_shape(&out[0], a);
        out[0].shape[nd - 1] = full ? m : k;
        tg__meta_copy_shape(&out[2], a);
        out[2].shape[nd - 2] = full ? n : k;
        out[0].dtype = out[2].dtype = d;
    }
    return TG_OK;
}
static tg_status svd_infer(const tg_op_call *c, tg_meta *out) { return svd_infer_common(c, out, true); }
static tg_status svdvals_infer(const tg_op_call *c, tg_meta *out) { return svd_infer_common(c, out, false); }

/* LAPACK is called in column-major layout on the row-major buffer of A
 * (m x n), which it sees as A^T (n x m): A^T = U' S V'^H gives A = conj(V') S
 * U'^T, so U' (n x kv, ld n) read row-major is Vh and V'^H (ku x m, ld ku)
 * read row-major is U. No transposed copies; jobz 'A', 'S' or 'N'. */
#define CM LAPACK_COL_MAJOR
static int lapack_gesdd(tg_dtype d, char jz, int m, int n, void *a, void *s, void *u, int ldu, void *vt) {
    switch (d) {
    case TG_F32: return LAPACKE_sgesdd(CM, jz, n, m, a, n, s, vt, n, u, ldu);
    case TG_F64: return LAPACKE_dgesdd(CM, jz, n, m, a, n, s, vt, n, u, ldu);
    case TG_C64:
        return LAPACKE_cgesdd(CM, jz, n, m, (lapack_complex_float *)a, n, s, (lapack_complex_float *)vt, n,
                              (lapack_complex_float *)u, ldu);
    default:
        return LAPACKE_zgesdd(CM, jz, n, m, (lapack_complex_double *)a, n, s, (lapack_complex_double *)vt, n,
                              (lapack_complex_double *)u, ldu);
    }
}
static int lapack_gesvd(tg_dtype d, char jz, int m, int n, void *a, void *s, void *u, int ldu, void *vt, void *superb) {
    switch (d) {
    case TG_F32: return LAPACKE_sgesvd(CM, jz, jz, n, m, a, n, s, vt, n, u, ldu, superb);
    case TG_F64: return LAPACKE_dgesvd(CM, jz, jz, n, m, a, n, s, vt, n, u, ldu, superb);
    case TG_C64:
        return LAPACKE_cgesvd(CM, jz, jz, n, m, (lapack_complex_float *)a, n, s, (lapack_complex_float *)vt, n,
                              (lapack_complex_float *)u, ldu, superb);
    default:
        return LAPACKE_zgesvd(CM, jz, jz, n, m, (lapack_complex_double *)a, n, s, (lapack_complex_double *)vt, n,
                              (lapack_complex_double *)u, ldu, superb);
    }
}

static void set_identity(tg_dtype d, char *p, int64_t n) {
    int64_t es = tg__esize(d);
    memset(p, 0, (size_t)(n * n * es));
    for (int64_t i = 0; i < n; i++) {
        char *e = p + (i * n + i) * es;
        if (d == TG_F32 || d == TG_C64) *(float *)e = 1.0f;
        else *(double *)e = 1.0;
    }
}


typedef struct {
    tg_tensor *a, **out, *so;
    bool vectors, full;
    char jz;
    tg_dtype d;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], m, n, k, ku, kv, es, rs;
    int64_t bad_item;        /* the small path's first failing item */
} svd_job;

static int svd_item(void *ctx, int64_t t) {
    const svd_job *j = ctx;
    int64_t m = j->m, n = j->n, k = j->k, es = j->es;
    /* slack: BLAS kernels may read past the end */
    char *work = tg__linalg_scratch(0, (size_t)((m * n + 64) * es));
    char *dummy = tg__linalg_scratch(1, (size_t)((n ? n : 1) * es));
    char *superb = tg__linalg_scratch(2, (size_t)((k ? k : 1) * j->rs));
    if (!work || !dummy || !superb) return TG_LINALG_NO_MEMORY;
    char *u = j->vectors ? tg__ptr(j->out[0]) + t * m * j->ku * es : dummy;
    char *vt = j->vectors ? tg__ptr(j->out[2]) + t * j->kv * n * es : dummy;
    char *s = tg__ptr(j->so) + t * k * j->rs;
    int ldu = j->vectors ? (int)(j->ku ? j->ku : 1) : 1;
    if (k == 0) {   /* empty: NumPy gives identities for the full factors */
        if (j->full) { set_identity(j->d, u, m); set_identity(j->d, vt, n); }
        return 0;
    }
    int64_t off = tg__linalg_batch_offset(&j->bt, j->sa, t);
    tg__linalg_gather(work, j->a, off, m, n);
    if (!tg__linalg_all_finite(j->d, work, m * n)) return TG_LINALG_NOT_FINITE;
    int info = lapack_gesdd(j->d, j->jz, (int)m, (int)n, work, s, u, ldu, vt);
    if (info > 0) {   /* gesdd did not converge: the QR iteration of gesvd is more robust */
        tg__linalg_gather(work, j->a, off, m, n);
        info = lapack_gesvd(j->d, j->jz, (int)m, (int)n, work, s, u, ldu, vt, superb);
    }
    return info;
}

/* Square real matrices of order up to 4: TG_SMALL_W items per call through
 * small_decomp.c's one-sided Jacobi lanes; a lane it reports (non-finite, rank
 * deficient, not converged) runs through LAPACK. */
static int svd_small_block(void *ctx, int64_t tb) {
    svd_job *j = ctx;
    const tg_tensor *a = j->a;
    int64_t n = j->n, es = j->es, ts[TG_SMALL_W], t0 = tb * TG_SMALL_W;
    tg_small_lanes L;
    void *vh[TG_SMALL_W];
    int64_t cnt = tg__linalg_lanes_begin(&j->bt, a, j->sa, tb, &L, ts);
    for (int w = 0; w < TG_SMALL_W; w++) {
        int64_t t = ts[w];
        L.x[w] = tg__ptr(j->so) + t * n * j->rs;
        L.y[w] = j->vectors ? tg__ptr(j->out[0]) + t * n * n * es : NULL;
        vh[w] = j->vectors ? tg__ptr(j->out[2]) + t * n * n * es : NULL;
    }
    unsigned bad = tg__small_svd_lanes(j->d, (int)n, j->vectors, &L, vh);
    return tg__linalg_lanes_rerun(bad, t0, cnt, svd_item, j, &j->bad_item);
}

/* Square real matrices of order 5 to 8: one item at a time through
 * small8.c's within-matrix one-sided Jacobi; an item it declines
 * (non-finite, out of range, rank deficient, not converged) runs through
 * LAPACK. */
static int svd_small8_item(void *ctx, int64_t t) {
    svd_job *j = ctx;
    const tg_tensor *a = j->a;
    int64_t n = j->n, es = j->es, nd = a->ndim;
    const char *p = tg__ptr(a) + tg__linalg_batch_offset(&j->bt, j->sa, t) * es;
    void *u = j->vectors ? tg__ptr(j->out[0]) + t * n * n * es : NULL;
    void *vh = j->vectors ? tg__ptr(j->out[2]) + t * n * n * es : NULL;
    if (!tg__small8_svd(j->d, (int)n, j->vectors, p, a->strides[nd - 2], a->strides[nd - 1],
                        tg__ptr(j->so) + t * n * j->rs, u, vh))
        return 0;
    return svd_item(ctx, t);
}

/* One matrix per batch item, across threads when the batch is large. */
static tg_status svd_kernel_common(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out, bool vectors) {
    svd_job j = {.out = out, .vectors = vectors, .bad_item = INT64_MAX};
    if (tg__linalg_dtype(c, tg_dtype_of(in[0]), &j.d)) return tg_last_error_code();
    j.a = tg__cast_raw(in[0], j.d);
    if (!j.a) return tg_last_error_code();
    tg_status st = TG_OK;
    j.full = vectors && attr_full(c);
    j.jz = !vectors ? 'N' : j.full ? 'A' : 'S';
    j.m = j.a->shape[j.a->ndim - 2];
    j.n = j.a->shape[j.a->ndim - 1];
    j.k = j.m < j.n ? j.m : j.n;
    j.ku = j.full ? j.m : j.k;
    j.kv = j.full ? j.n : j.k;
    j.es = tg__esize(j.d);
    j.rs = tg__esize(tg_real_dtype(j.d));
    j.so = vectors ? out[1] : out[0];
    if (j.m > INT32_MAX / 2 || j.n > INT32_MAX / 2 || j.m * j.n > INT32_MAX) {
        st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range");
        goto done;
    }
    tg__linalg_batch_init(&j.bt, j.a->ndim - 2, j.a->shape);
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    int info;
    double cost = 12.0 * (double)j.m * (double)j.n * (double)(j.k ? j.k : 1);
    int64_t t;
    if (j.m == j.n && tg__linalg_small(j.d, j.n) && tg__small_lanes_available()) {
        t = tg__linalg_blocks_run(j.bt.count, cost, svd_small_block, &j, &j.bad_item, &info);
    } else if (j.m == j.n && tg__small8(j.d, j.n)) {
        t = tg__linalg_batch_run(j.bt.count, cost, svd_small8_item, &j, &info);
    } else {
        t = tg__linalg_batch_run(j.bt.count, cost, svd_item, &j, &info);
    }
    if (t >= 0 && info == TG_LINALG_NOT_FINITE)
        st = tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch contains non-finite values", (long long)t);
    else if (t >= 0 && info > 0)
        st = tg__op_error(c, TG_ERR_NUMERIC, "no convergence for matrix %lld of the batch (LAPACK info %d)",
                          (long long)t, info);
    else if (t >= 0) st = tg__linalg_info_error(c, "gesdd/gesvd", t, info, "");
done:
    tg_release(j.a);
    return st;
}
static tg_status svd_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return svd_kernel_common(c, in, out, true);
}
static tg_status svdvals_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return svd_kernel_common(c, in, out, false);
}

static tg_tensor *skew(tg_tensor *x) { return x ? tg_sub(x, tg__mH(x)) : NULL; }
static tg_tensor *sym(tg_tensor *x) { return x ? tg_add(x, tg__mH(x)) : NULL; }
static tg_tensor *add_opt(tg_tensor *a, tg_tensor *b) { return !a ? b : !b ? a : tg_add(a, b); }
static tg_tensor *cols(tg_tensor *x, int64_t lo, int64_t hi) { return tg_slice(x, tg_ndim(x) - 1, lo, hi, 1); }
static tg_tensor *rows(tg_tensor *x, int64_t lo, int64_t hi) { return tg_slice(x, tg_ndim(x) - 2, lo, hi, 1); }
/* E_ij = S_j^2 - S_i^2 with ones on the diagonal. */
static tg_tensor *gaps(tg_tensor *s) {
    tg_tensor *s2 = tg_mul(s, s);
    return s2 ? tg_add(tg_sub(tg_unsqueeze(s2, -2), tg_unsqueeze(s2, -1)), tg__linalg_eye_of(s)) : NULL;
}

/* Complex singular vectors carry a free phase per pair (u_i, v_i): a loss
 * that depends on it has Im diag(U^H U-bar + V^H V-bar) != 0. Checked on
 * concrete (eager) values only. */
static tg_status check_phase(tg_tensor *imdiag, tg_tensor *scale_of) {
    if (!imdiag || !scale_of || tg__is_tracer(imdiag)) return TG_OK;
    tg_scope_begin();
    double bad = tg_item_f64(tg_max(tg_abs(tg_detach(imdiag)), 0, NULL, false));
    double scale = tg_item_f64(tg_max(tg_abs(tg_detach(scale_of)), 0, NULL, false));
    tg_scope_end();
    double tol = (tg_real_dtype(tg_dtype_of(scale_of)) == TG_F32 ? 3.5e-4 : 1.5e-8) * (1.0 + scale);
    if (bad > tol)
        return tg__error(TG_ERR_NUMERIC,
                         "linalg_svd backward: complex singular vectors are defined up to a phase e^{i phi} per "
                         "pair (u_i, v_i) and this loss depends on it (|Im diag| = %.3g), so its gradient is "
                         "ill-defined", bad);
    return TG_OK;
}

/* Reduced VJP: U (m, k), S (k), Vh (k, n); gU, gS, gVh may be NULL. */
static tg_tensor *svd_vjp_reduced(tg_tensor *U, tg_tensor *S, tg_tensor *Vh, tg_tensor *gU, tg_tensor *gS,
                                  tg_tensor *gVh, tg_status *st) {
    int64_t m = tg_dim(U, -2), n = tg_dim(Vh, -1), k = tg_dim(S, -1);
    tg_tensor *srow = tg_unsqueeze(S, -2), *scol = tg_unsqueeze(S, -1);
    if (!gU && !gVh) return gS ? tg_matmul(tg_mul(U, tg_unsqueeze(gS, -2)), Vh) : NULL;
    tg_tensor *J = gU ? skew(tg_matmul(tg__mH(U), gU)) : NULL;
    tg_tensor *K = gVh ? skew(tg_matmul(Vh, tg__mH(gVh))) : NULL;
    bool cplx = tg_dtype_is_complex(tg_dtype_of(U));
    if (cplx) {
        tg_tensor *jk = add_opt(J, K);
        *st = check_phase(jk ? tg_imag(tg_diagonal(jk, 0, -2, -1)) : NULL, J ? J : K);
        if (*st) return NULL;
    }
    tg_tensor *num = add_opt(J ? tg_mul(J, srow) : NULL, K ? tg_mul(scol, K) : NULL);
    tg_tensor *core = num ? tg_div(num, gaps(S)) : NULL;
    if (core && gS) core = tg_add(core, tg__linalg_diag_embed(gS));
    if (core && cplx && gU) core = tg_add(core, tg__linalg_diag_embed(tg_div(tg_diagonal(J, 0, -2, -1), tg_mul_scalar(S, 2.0))));
    if (!core) return NULL;
    if (m > k && gU) {
        tg_tensor *gus = tg_div(gU, srow);
        tg_tensor *x = tg_add(tg_matmul(U, core), tg_sub(gus, tg_matmul(U, tg_matmul(tg__mH(U), gus))));
        return tg_matmul(x, Vh);
    }
    if (n > k && gVh) {
        tg_tensor *sgv = tg_div(gVh, scol);
        tg_tensor *x = tg_add(tg_matmul(core, Vh), tg_sub(sgv, tg_matmul(tg_matmul(sgv, tg__mH(Vh)), Vh)));
        return tg_matmul(U, x);
    }
    return tg_matmul(tg_matmul(U, core), Vh);
}

static tg_status svd_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    tg_tensor *U = out[0], *S = out[1], *Vh = out[2], *gU = g[0], *gVh = g[2];
    int64_t m = tg_dim(U, -2), n = tg_dim(Vh, -1), k = tg_dim(S, -1);
    if (attr_full(c) && m > k) {
        tg_tensor *U1 = cols(U, 0, k), *U2 = cols(U, k, m);
        if (gU) gU = tg_sub(cols(gU, 0, k), tg_matmul(U2, tg_matmul(tg__mH(cols(gU, k, m)), U1)));
        U = U1;
    }
    if (attr_full(c) && n > k) {
        tg_tensor *V1 = rows(Vh, 0, k), *V2 = rows(Vh, k, n);
        if (gVh) gVh = tg_sub(rows(gVh, 0, k), tg_matmul(V1, tg_matmul(tg__mH(rows(gVh, k, n)), V2)));
        Vh = V1;
    }
    if ((g[0] && !gU) || (g[2] && !gVh) || !U || !Vh) return tg_last_error_code();
    tg_status st = TG_OK;
    ic[0] = svd_vjp_reduced(U, S, Vh, gU, g[1], gVh, &st);
    if (st) return st;
    if (!ic[0] && !g[0] && !g[1] && !g[2]) ic[0] = tg_zeros_like(in[0]);
    return TG_RULE_RESULT(ic[0]);
}

static tg_status svd_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)in;
    tg_tensor *da = t[0];
    if (!da) return TG_OK;
    tg_tensor *U = out[0], *S = out[1], *Vh = out[2];
    int64_t m = tg_dim(U, -2), n = tg_dim(Vh, -1), k = tg_dim(S, -1);
    bool full = attr_full(c);
    tg_tensor *U1 = full && m > k ? cols(U, 0, k) : U, *Vh1 = full && n > k ? rows(Vh, 0, k) : Vh;
    tg_tensor *V = tg__mH(Vh1);
    if (c->attrs && c->attrs->n_int > 1 && c->attrs->i[1] == TG_LINALG_VALUES_TANGENT) {
        /* svdvals in eager forward mode: S's tangent alone, diag(U^H dA V)
         * as the column sums of conj(U) * (dA V), one product, not four */
        ot[1] = tg_real(tg_sum(tg_mul(tg_conj(U1), tg_matmul(da, V)), 1, (int[]){-2}, false));
        return TG_RULE_RESULT(ot[1]);
    }
    tg_tensor *dp = tg_matmul(tg__mH(U1), tg_matmul(da, V));
    tg_tensor *ds = dp ? tg_real(tg_diagonal(dp, 0, -2, -1)) : NULL;
    tg_tensor *dpo = ds ? tg_sub(dp, tg__linalg_diag_embed(ds)) : NULL;
    tg_tensor *e = gaps(S), *srow = tg_unsqueeze(S, -2);
    tg_tensor *omu = dpo ? tg_div(sym(tg_mul(dpo, srow)), e) : NULL;
    tg_tensor *omv = dpo ? tg_div(sym(tg_mul(tg_unsqueeze(S, -1), dpo)), e) : NULL;
    if (omu && omv && tg_dtype_is_complex(tg_dtype_of(dpo))) {
        tg_tensor *dd = tg__linalg_diag_embed(tg_div(tg_diagonal(dpo, 0, -2, -1), tg_mul_scalar(S, 2.0)));
        omu = tg_add(omu, dd);
        omv = tg_sub(omv, dd);
    }
    tg_tensor *du = omu ? tg_matmul(U1, omu) : NULL;
    if (du && m > k) du = tg_add(du, tg_div(tg_sub(tg_matmul(da, V), tg_matmul(U1, dp)), srow));
    tg_tensor *dv = omv ? tg_matmul(V, omv) : NULL;
    if (dv && n > k) dv = tg_add(dv, tg_div(tg_sub(tg_matmul(tg__mH(da), U1), tg_matmul(V, tg__mH(dp))), srow));
    tg_tensor *dvh = tg__mH(dv);
    if (du && full && m > k) {
        tg_tensor *U2 = cols(U, k, m);
        tg_tensor *du2 = tg_neg(tg_matmul(U1, tg_matmul(tg__mH(du), U2)));
        du = tg_concat(2, (tg_tensor *[]){du, du2}, tg_ndim(du) - 1);
    }
    if (dvh && full && n > k) {
        tg_tensor *V2 = rows(Vh, k, n);
        tg_tensor *dvh2 = tg_neg(tg_matmul(V2, tg_matmul(tg__mH(dvh), Vh1)));
        dvh = tg_concat(2, (tg_tensor *[]){dvh, dvh2}, tg_ndim(dvh) - 2);
    }
    ot[0] = du;
    ot[1] = ds;
    ot[2] = dvh;
    return du && ds && dvh ? TG_OK : tg_last_error_code();
}

/* svdvals: U and Vh recomputed through the differentiable linalg_svd. */
static tg_status svdvals_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                             tg_tensor **ic) {
    (void)c; (void)out;
    tg_tensor *U = NULL, *S = NULL, *Vh = NULL;
    tg_status st = tg_linalg_svd(in[0], false, &U, &S, &Vh);
    if (st) return st;
    ic[0] = tg_matmul(tg_mul(U, tg_unsqueeze(g[0], -2)), Vh);
    return TG_RULE_RESULT(ic[0]);
}

static tg_status svdvals_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                             tg_tensor **ot) {
    (void)c; (void)out;
    if (!t[0]) return TG_OK;
    tg_tensor *U = NULL, *S = NULL, *Vh = NULL;
    tg_status st = tg_linalg_svd(in[0], false, &U, &S, &Vh);
    if (st) return st;
    tg_tensor *dp = tg_matmul(tg__mH(U), tg_matmul(t[0], tg__mH(Vh)));
    ot[0] = dp ? tg_real(tg_diagonal(dp, 0, -2, -1)) : NULL;
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_svd = {.name = "linalg_svd", .n_in = 1, .n_out = 3, .infer = svd_infer,
                                    .kernel = {[TG_CPU] = svd_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = svd_vjp, .jvp = svd_jvp,
                                    .flags = TG_OP_VJP_NULL_COTANGENTS};
const tg_op_def tg_op_linalg_svdvals = {.name = "linalg_svdvals", .n_in = 1, .n_out = 1, .infer = svdvals_infer,
                                        .kernel = {[TG_CPU] = svdvals_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = svdvals_vjp,
                                        .jvp = svdvals_jvp, .flags = TG_OP_RULES_IGNORE_OUTPUT};

tg_tensor *tg_linalg_svdvals(tg_tensor *a) {
    if (!a) { tg__error(TG_ERR_ARG, "tg_linalg_svdvals: NULL operand"); return NULL; }
    if (!tg__linalg_will_differentiate(a)) return tg__apply1(&tg_op_linalg_svdvals, 1, &a, NULL);
    /* the reduced SVD once: its node keeps U and Vh for the rules; i[1]
     * marks that only S was asked for (linalg_internal.h) */
    tg_attrs at = {.n_int = 2, .i = {0, tg__linalg_forward_only(a) ? TG_LINALG_VALUES_TANGENT : TG_LINALG_VALUES_ASKED}};
    tg_tensor *out[3] = {NULL, NULL, NULL};
    tg_scope_begin();   /* U and Vh go with the scope (the node keeps its own references) */
    tg_tensor *s = tg__apply(&tg_op_linalg_svd, 1, &a, &at, 3, out) == TG_OK ? tg_keep(out[1]) : NULL;
    tg_scope_end();
    return s;
}

tg_status tg_linalg_svd(tg_tensor *a, bool full_matrices, tg_tensor **u, tg_tensor **s, tg_tensor **vh) {
    if (u) *u = NULL;
    if (s) *s = NULL;
    if (vh) *vh = NULL;
    if (!a || !s) return tg__error(TG_ERR_ARG, "tg_linalg_svd: NULL argument");
    if (!u && !vh) {
        *s = tg_linalg_svdvals(a);
        return *s ? TG_OK : tg_last_error_code();
    }
    tg_attrs at = {.n_int = 1, .i = {full_matrices}};
    tg_tensor *out[3] = {NULL, NULL, NULL};
    tg_scope_begin();   /* an unwanted U or Vh is released with the scope */
    tg_status st = tg__apply(&tg_op_linalg_svd, 1, &a, &at, 3, out);
    if (!st) {
        if (u) *u = tg_keep(out[0]);
        *s = tg_keep(out[1]);
        if (vh) *vh = tg_keep(out[2]);
    }
    tg_scope_end();
    return st;
}

TG_REGISTER_OPS(linalg_svd, &tg_op_linalg_svd, &tg_op_linalg_svdvals)
