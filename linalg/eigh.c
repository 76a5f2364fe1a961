/* linalg_eigh / linalg_eigvalsh: A = V diag(w) V^H for Hermitian A read from
 * one triangle (attrs i[0]: upper), batched; ?syevd / ?heevd (jobz 'V' or
 * 'N'). w is real and ascending, the columns of V orthonormal.
 * Rules (AD-REFERENCE.md 4, PyTorch's linalg_eig_backward, Hermitian case),
 * E_ij = w_j - w_i:
 *   VJP: K = V^H V-bar, K <- (K - K^H)/2, A-bar = V (diag(w-bar) + K / E) V^H
 *        (diagonal of K / E taken as 0); with only w-bar: V diag(w-bar) V^H.
 *   JVP: P = V^H S V with S = (A-dot + A-dot^H)/2, w-dot = Re diag(P),
 *        V-dot = V (P / E) with a zero diagonal.
 * The rules see A as Hermitian (they are those of A -> eigh((A + A^H)/2)).
 * eigvalsh runs jobz 'N'; its rules recompute V through linalg_eigh, so
 * higher orders work. Degenerate w: the eigenvector rules divide by zero
 * (inf/NaN, as PyTorch and JAX); eigenvalue-only rules stay finite.
 * Complex V is defined up to a phase per column: a cotangent whose loss
 * depends on it (Im diag(V^H V-bar) != 0) is refused with TG_ERR_NUMERIC,
 * as PyTorch does (eager mode only). Non-finite input: TG_ERR_NUMERIC. */
#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

#define CM LAPACK_COL_MAJOR

static tg_status eigh_infer_common(const tg_op_call *c, tg_meta *out, bool vectors) {
    const tg_meta *a = &c->in[0];
    tg_status st = tg__linalg_square(c, a, "A");
    if (st) return st;
    tg_dtype d;
    if ((st = tg__linalg_dtype(c, a->dtype, &d))) return st;
    out[0].ndim = a->ndim - 1;
    for (int i = 0; i < a->ndim - 1; i++) out[0].shape[i] = a->shape[i];
    out[0].dtype = tg_real_dtype(d);
    if (vectors) {
        tg__meta_copy_shape(&out[1], a);
        out[1].dtype = d;
    }
    return TG_OK;
}
static tg_status eigh_infer(const tg_op_call *c, tg_meta *out) { return eigh_infer_common(c, out, true); }
static tg_status eigvalsh_infer(const tg_op_call *c, tg_meta *out) { return eigh_infer_common(c, out, false); }

/* LAPACK is called in column-major layout on a column-major copy of A, with
 * the triangle the caller named; V comes back column-major. (Reading the
 * row-major buffer as column-major would spare the transposed copy in, but
 * it flips the triangle, and ?sytrd on the other triangle ran 4-5% slower
 * at 256: more than the copy costs.) */
static int lapack_eigh(tg_dtype d, bool vectors, bool upper, int n, void *a, void *w) {
    char jz = vectors ? 'V' : 'N', ul = upper ? 'U' : 'L';
    switch (d) {
    case TG_F32: return LAPACKE_ssyevd(CM, jz, ul, n, a, n, w);
    case TG_F64: return LAPACKE_dsyevd(CM, jz, ul, n, a, n, w);
    case TG_C64: return LAPACKE_cheevd(CM, jz, ul, n, (lapack_complex_float *)a, n, w);
    default: return LAPACKE_zheevd(CM, jz, ul, n, (lapack_complex_double *)a, n, w);
    }
}


/* Is every element of the triangle LAPACK reads finite? Row by row over
 * contiguous runs of reals (a complex element is two), with no branch in
 * the inner loop so that it vectorises: the element-wise version, a dtype
 * switch per element, took 3% of a 256 x 256 f64 eigh. */
static bool triangle_finite(tg_dtype d, const char *a, int64_t n, bool upper) {
    int64_t parts = tg_dtype_is_complex(d) ? 2 : 1;
    bool single = d == TG_F32 || d == TG_C64;
    int bad = 0;
    for (int64_t i = 0; i < n && !bad; i++) {
        int64_t lo = (upper ? i : 0) * parts, hi = (upper ? n : i + 1) * parts, row = i * n * parts;
        if (single) {
            const float *r = (const float *)a + row;
            for (int64_t e = lo; e < hi; e++) bad |= !isfinite(r[e]);
        } else {
            const double *r = (const double *)a + row;
            for (int64_t e = lo; e < hi; e++) bad |= !isfinite(r[e]);
        }
    }
    return !bad;
}


typedef struct {
    tg_tensor *a, **out;
    bool vectors, upper;
    tg_dtype d;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], n, es, rs;
    int64_t bad_item;        /* the small path's first failing item */
} eigh_job;

static int eigh_item(void *ctx, int64_t t) {
    const eigh_job *j = ctx;
    int64_t n = j->n;
    /* slack past the matrix: BLAS kernels may read a little beyond it */
    char *m = tg__linalg_scratch(0, (size_t)((n * n + 64) * j->es));
    if (!m) return TG_LINALG_NO_MEMORY;
    tg__linalg_gather_cm(m, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), n, n);
    /* m read row-major is A^T: A's lower triangle is its upper one */
    if (!triangle_finite(j->d, m, n, !j->upper)) return TG_LINALG_NOT_FINITE;
    int info = lapack_eigh(j->d, j->vectors, j->upper, (int)n, m, tg__ptr(j->out[0]) + t * n * j->rs);
    if (info == 0 && j->vectors) tg__linalg_store_cm(tg__ptr(j->out[1]) + t * n * n * j->es, m, n, n, j->es);
    return info;
}

/* Real matrices of order up to 4: TG_SMALL_W items per call through
 * small_decomp.c's Jacobi lanes; a lane it reports (non-finite, not converged)
 * runs through LAPACK, which gives its result or its error. */
static int eigh_small_block(void *ctx, int64_t tb) {
    eigh_job *j = ctx;
    const tg_tensor *a = j->a;
    int64_t n = j->n, es = j->es, ts[TG_SMALL_W], t0 = tb * TG_SMALL_W;
    tg_small_lanes L;
    int64_t cnt = tg__linalg_lanes_begin(&j->bt, a, j->sa, tb, &L, ts);
    for (int w = 0; w < TG_SMALL_W; w++) {
        int64_t t = ts[w];
        L.x[w] = tg__ptr(j->out[0]) + t * n * j->rs;
        L.y[w] = j->vectors ? tg__ptr(j->out[1]) + t * n * n * es : NULL;
    }
    unsigned bad = tg__small_eigh_lanes(j->d, (int)n, j->upper, j->vectors, &L);
    return tg__linalg_lanes_rerun(bad, t0, cnt, eigh_item, j, &j->bad_item);
}

/* Real matrices of order 5 to 8: one item at a time through small8.c's
 * within-matrix Jacobi; an item it declines (non-finite, |A|_F out of
 * range, not converged) runs through LAPACK, which gives its result or its
 * error. */
static int eigh_small8_item(void *ctx, int64_t t) {
    eigh_job *j = ctx;
    const tg_tensor *a = j->a;
    int64_t n = j->n, es = j->es, nd = a->ndim;
    const char *p = tg__ptr(a) + tg__linalg_batch_offset(&j->bt, j->sa, t) * es;
    if (!tg__small8_eigh(j->d, (int)n, j->upper, j->vectors, p, a->strides[nd - 2], a->strides[nd - 1],
                         tg__ptr(j->out[0]) + t * n * j->rs, j->vectors ? tg__ptr(j->out[1]) + t * n * n * es : NULL))
        return 0;
    return eigh_item(ctx, t);
}

/* One matrix per batch item, across threads when the batch is large. */
static tg_status eigh_kernel_common(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out, bool vectors) {
    tg_dtype d = vectors ? out[1]->dtype : tg_dtype_of(in[0]);
    if (!vectors && tg__linalg_dtype(c, d, &d)) return tg_last_error_code();
    eigh_job j = {.out = out, .vectors = vectors, .d = d,
                  .upper = c->attrs && c->attrs->n_int > 0 && c->attrs->i[0], .bad_item = INT64_MAX};
    j.a = tg__cast_raw(in[0], d);
    if (!j.a) return tg_last_error_code();
    tg_status st = TG_OK;
    j.n = j.a->shape[j.a->ndim - 1];
    j.es = tg__esize(d);
    j.rs = tg__esize(out[0]->dtype);
    if (j.n > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    tg__linalg_batch_init(&j.bt, j.a->ndim - 2, j.a->shape);
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    if (j.n == 0) goto done;
    int info;
    double cost = 9.0 * (double)j.n * (double)j.n * (double)j.n;
    int64_t t;
    if (tg__linalg_small(d, j.n) && tg__small_lanes_available()) {
        t = tg__linalg_blocks_run(j.bt.count, cost, eigh_small_block, &j, &j.bad_item, &info);
    } else if (tg__small8(d, j.n)) {
        t = tg__linalg_batch_run(j.bt.count, cost, eigh_small8_item, &j, &info);
    } else {
        t = tg__linalg_batch_run(j.bt.count, cost, eigh_item, &j, &info);
    }
    if (t >= 0 && info == TG_LINALG_NOT_FINITE)
        st = tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch contains non-finite values", (long long)t);
    else if (t >= 0 && info > 0)
        st = tg__op_error(c, TG_ERR_NUMERIC, "no convergence for matrix %lld of the batch (LAPACK info %d)",
                          (long long)t, info);
    else if (t >= 0) st = tg__linalg_info_error(c, "syevd/heevd", t, info, "");
done:
    tg_release(j.a);
    return st;
}
static tg_status eigh_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return eigh_kernel_common(c, in, out, true);
}
static tg_status eigvalsh_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return eigh_kernel_common(c, in, out, false);
}

/* ---- rules ------------------------------------------------------------------------------ */
/* X / E off the diagonal, 0 on it; E_ij = w_j - w_i. */
static tg_tensor *div_gaps(tg_tensor *x, tg_tensor *w) {
    tg_tensor *eye = tg__linalg_eye_of(w);
    tg_tensor *e = tg_add(tg_sub(tg_unsqueeze(w, -2), tg_unsqueeze(w, -1)), eye);
    return e ? tg_mul(tg_div(x, e), tg_rsub_scalar(1.0, eye)) : NULL;
}

/* Complex eigenvectors carry a free phase per column: a loss that depends on
 * it has Im diag(V^H V-bar) != 0. Checked on concrete (eager) values only. */
static tg_status check_phase(const char *what, tg_tensor *imdiag, tg_tensor *scale_of) {
    if (!imdiag || !scale_of || tg__is_tracer(imdiag)) return TG_OK;
    tg_scope_begin();
    double bad = tg_item_f64(tg_max(tg_abs(tg_detach(imdiag)), 0, NULL, false));
    double scale = tg_item_f64(tg_max(tg_abs(tg_detach(scale_of)), 0, NULL, false));
    tg_scope_end();
    tg_dtype rd = tg_real_dtype(tg_dtype_of(scale_of));
    double tol = (rd == TG_F32 ? 3.5e-4 : 1.5e-8) * (1.0 + scale);
    if (bad > tol)
        return tg__error(TG_ERR_NUMERIC,
                         "%s: the complex singular/eigen vectors are defined up to a phase e^{i phi} per column and "
                         "this loss depends on it (|Im diag| = %.3g), so its gradient is ill-defined",
                         what, bad);
    return TG_OK;
}

static tg_status eigh_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    (void)c; (void)in;
    tg_tensor *w = out[0], *V = out[1], *Vh = tg__mH(V), *mid;
    if (!g[1]) {
        mid = g[0] ? tg__linalg_diag_embed(g[0]) : NULL;
        ic[0] = mid ? tg_matmul(tg_matmul(V, mid), Vh) : tg_zeros_like(in[0]);
        return TG_RULE_RESULT(ic[0]);
    }
    tg_tensor *k = tg_matmul(Vh, g[1]);
    if (k && tg_dtype_is_complex(tg_dtype_of(k))) {
        tg_status st = check_phase("linalg_eigh backward", tg_imag(tg_diagonal(k, 0, -2, -1)), k);
        if (st) return st;
    }
    mid = k ? div_gaps(tg_mul_scalar(tg_sub(k, tg__mH(k)), 0.5), w) : NULL;
    if (mid && g[0]) mid = tg_add(mid, tg__linalg_diag_embed(g[0]));
    ic[0] = mid ? tg_matmul(tg_matmul(V, mid), Vh) : NULL;
    return TG_RULE_RESULT(ic[0]);
}

/* P = V^H herm(A-dot) V */
static tg_tensor *project(tg_tensor *V, tg_tensor *adot) {
    tg_tensor *s = tg_mul_scalar(tg_add(adot, tg__mH(adot)), 0.5);
    return s ? tg_matmul(tg_matmul(tg__mH(V), s), V) : NULL;
}

static tg_status eigh_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    (void)in;
    if (!t[0]) return TG_OK;
    if (c->attrs && c->attrs->n_int > 1 && c->attrs->i[1] == TG_LINALG_VALUES_TANGENT) {
        /* eigvalsh in eager forward mode: w's tangent alone, diag(V^H S V)
         * as the column sums of conj(V) * (S V), one product, not three */
        tg_tensor *s = tg_mul_scalar(tg_add(t[0], tg__mH(t[0])), 0.5);
        ot[0] = tg_real(tg_sum(tg_mul(tg_conj(out[1]), tg_matmul(s, out[1])), 1, (int[]){-2}, false));
        return TG_RULE_RESULT(ot[0]);
    }
    tg_tensor *p = project(out[1], t[0]);
    ot[0] = p ? tg_real(tg_diagonal(p, 0, -2, -1)) : NULL;
    ot[1] = p ? tg_matmul(out[1], div_gaps(p, out[0])) : NULL;
    return ot[0] && ot[1] ? TG_OK : tg_last_error_code();
}

static bool attr_upper(const tg_op_call *c) { return c->attrs && c->attrs->n_int > 0 && c->attrs->i[0]; }

/* eigvalsh: V recomputed through the differentiable linalg_eigh. */
static tg_status eigvalsh_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                              tg_tensor **ic) {
    (void)out;
    tg_tensor *w = NULL, *V = NULL;
    tg_status st = tg_linalg_eigh_uplo(in[0], attr_upper(c), &w, &V);
    if (st) return st;
    ic[0] = tg_matmul(tg_mul(V, tg_unsqueeze(g[0], -2)), tg__mH(V));
    return TG_RULE_RESULT(ic[0]);
}

static tg_status eigvalsh_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                              tg_tensor *const *t, tg_tensor **ot) {
    (void)out;
    if (!t[0]) return TG_OK;
    tg_tensor *w = NULL, *V = NULL;
    tg_status st = tg_linalg_eigh_uplo(in[0], attr_upper(c), &w, &V);
    if (st) return st;
    tg_tensor *p = project(V, t[0]);
    ot[0] = p ? tg_real(tg_diagonal(p, 0, -2, -1)) : NULL;
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_eigh = {.name = "linalg_eigh", .n_in = 1, .n_out = 2, .infer = eigh_infer,
                                     .kernel = {[TG_CPU] = eigh_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = eigh_vjp, .jvp = eigh_jvp,
                                     .flags = TG_OP_VJP_NULL_COTANGENTS};
const tg_op_def tg_op_linalg_eigvalsh = {.name = "linalg_eigvalsh", .n_in = 1, .n_out = 1, .infer = eigvalsh_infer,
                                         .kernel = {[TG_CPU] = eigvalsh_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = eigvalsh_vjp,
                                         .jvp = eigvalsh_jvp, .flags = TG_OP_RULES_IGNORE_OUTPUT};

tg_tensor *tg_linalg_eigvalsh(tg_tensor *a, bool upper) {
    if (!a) { tg__error(TG_ERR_ARG, "tg_linalg_eigvalsh: NULL operand"); return NULL; }
    tg_attrs at = {.n_int = 1, .i = {upper}};
    if (!tg__linalg_will_differentiate(a)) return tg__apply1(&tg_op_linalg_eigvalsh, 1, &a, &at);
    /* the full eigh once: its node keeps V for the rules; i[1] marks that
     * only w was asked for (linalg_internal.h) */
    at = (tg_attrs){.n_int = 2, .i = {upper, tg__linalg_forward_only(a) ? TG_LINALG_VALUES_TANGENT : TG_LINALG_VALUES_ASKED}};
    tg_tensor *out[2] = {NULL, NULL};
    tg_scope_begin();   /* V goes with the scope (the node keeps its own reference) */
    tg_tensor *w = tg__apply(&tg_op_linalg_eigh, 1, &a, &at, 2, out) == TG_OK ? tg_keep(out[0]) : NULL;
    tg_scope_end();
    return w;
}

tg_status tg_linalg_eigh_uplo(tg_tensor *a, bool upper, tg_tensor **w, tg_tensor **v) {
    if (w) *w = NULL;
    if (v) *v = NULL;
    if (!a || !w) return tg__error(TG_ERR_ARG, "tg_linalg_eigh: NULL argument");
    if (!v) {
        *w = tg_linalg_eigvalsh(a, upper);
        return *w ? TG_OK : tg_last_error_code();
    }
    tg_attrs at = {.n_int = 1, .i = {upper}};
    tg_tensor *out[2] = {NULL, NULL};
    tg_status st = tg__apply(&tg_op_linalg_eigh, 1, &a, &at, 2, out);
    if (st) return st;
    *w = out[0];
    *v = out[1];
    return TG_OK;
}

tg_status tg_linalg_eigh(tg_tensor *a, tg_tensor **w, tg_tensor **v) { return tg_linalg_eigh_uplo(a, false, w, v); }

TG_REGISTER_OPS(linalg_eigh, &tg_op_linalg_eigh, &tg_op_linalg_eigvalsh)
