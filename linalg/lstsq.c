/* linalg_lstsq: torch.linalg.lstsq with driver "gelsd" (numpy.linalg.lstsq):
 * the minimum-norm X minimising ||A X - B||, A (..., m, n), B (..., m, k)
 * or a vector (..., m), batch axes broadcast. Forward: LAPACK ?gelsd
 * (SVD, divide and conquer); singular values <= rcond * s_max count as
 * zero (rcond < 0: eps(dtype) * max(m, n)), rank as i64 per matrix.
 * residuals (composite, squared column norms of B - A X, real) exist when
 * m > n and every matrix of the batch has rank n, else an empty (0,)
 * tensor; they depend on the rank, a value, so they are refused under a
 * trace. sv is svdvals(A) broadcast to the batch (differentiable through
 * svd's rule).
 * Rules (constant rank, PyTorch's linalg_lstsq_backward), X = P B with
 * P = pinv(A, rcond): B-bar = P^H X-bar; A-bar = pinv-VJP(A, P, X-bar B^H);
 * JVP X-dot = pinv-JVP(A, P, A-dot) B + P B-dot (pinv.c), summed over
 * broadcast batch axes. For full column rank this is AD-REFERENCE.md's
 * A-bar = -P^H X-bar X^H + R X-bar^H (A^H A)^{-1}. */
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"


static double eff_rcond(tg_dtype d, double rcond, int64_t m, int64_t n) {
    if (rcond >= 0) return rcond;
    return (d == TG_F32 || d == TG_C64 ? FLT_EPSILON : DBL_EPSILON) * (double)(m > n ? m : n);
}

/* Column-major call on our own buffers: A m x n (lda = m), B max(m, n) x k
 * (ldb = max(m, n)). Row-major LAPACKE would copy A into an exact-size
 * buffer, past whose end OpenBLAS 0.3.21's zgemv Haswell kernel reads 16
 * bytes (valgrind: zgelsd -> zgebrd -> zlarf -> zgemv_n); our buffers carry
 * slack for that. */
static int gelsd(tg_dtype d, int m, int n, int k, void *a, void *b, int ldb, double *s, double rcond, int *rank) {
    lapack_int r = 0, info;
    const int cm = LAPACK_COL_MAJOR, lda = m > 1 ? m : 1;
    switch (d) {
    case TG_F32: info = LAPACKE_sgelsd(cm, m, n, k, a, lda, b, ldb, (float *)s, (float)rcond, &r); break;
    case TG_F64: info = LAPACKE_dgelsd(cm, m, n, k, a, lda, b, ldb, s, rcond, &r); break;
    case TG_C64:
        info = LAPACKE_cgelsd(cm, m, n, k, (lapack_complex_float *)a, lda, (lapack_complex_float *)b, ldb,
                              (float *)s, (float)rcond, &r);
        break;
    default:
        info = LAPACKE_zgelsd(cm, m, n, k, (lapack_complex_double *)a, lda, (lapack_complex_double *)b, ldb, s,
                              rcond, &r);
        break;
    }
    *rank = (int)r;
    return (int)info;
}

/* dst (column-major, leading dimension ld) = src (row-major rows x cols) */
static void to_cm(char *dst, const char *src, int64_t rows, int64_t cols, int64_t ld, int64_t es) {
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) memcpy(dst + (j * ld + i) * es, src + (i * cols + j) * es, (size_t)es);
}

/* false when the buffer holds a NaN or an infinity (LAPACKE refuses NaN as
 * an invalid argument; say what is wrong instead) */
static tg_status lstsq_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0], *b = &c->in[1];
    char sa[160], sb[160];
    if (a->ndim < 2 || b->ndim < 2)
        return tg__op_error(c, TG_ERR_SHAPE, "A and B must have at least 2 axes, got shapes %s and %s",
                            tg__fmt_shape(sa, sizeof sa, a->ndim, a->shape),
                            tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape));
    if (b->shape[b->ndim - 2] != a->shape[a->ndim - 2])
        return tg__op_error(c, TG_ERR_SHAPE, "A of shape %s and B of shape %s: B must have as many rows as A",
                            tg__fmt_shape(sa, sizeof sa, a->ndim, a->shape),
                            tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape));
    if (tg__broadcast_shapes(NULL, a->ndim - 2, a->shape, b->ndim - 2, b->shape, &out[1].ndim, out[1].shape))
        return tg__op_error(c, TG_ERR_SHAPE, "batch axes of A %s and B %s cannot be broadcast",
                            tg__fmt_shape(sa, sizeof sa, a->ndim, a->shape),
                            tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape));
    tg__meta_copy_shape(&out[0], &out[1]);
    out[0].shape[out[0].ndim++] = a->shape[a->ndim - 1];
    out[0].shape[out[0].ndim++] = b->shape[b->ndim - 1];
    out[1].dtype = TG_I64;
    return tg__linalg_dtype(c, tg_promote_types(a->dtype, b->dtype), &out[0].dtype);
}

typedef struct {
    tg_tensor *a, *b, *x, *rank;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], sb[TG_MAX_DIMS], m, n, k, es;
    double rcond;
} lstsq_job;

/* One batch item, on any thread, in that thread's workspace: slot 0 A
 * column-major (with slack), 1 B column-major (max(m, n) rows), 2 the
 * row-major staging, 3 the singular values. */
static int lstsq_item(void *ctx, int64_t t) {
    const lstsq_job *j = ctx;
    int64_t m = j->m, n = j->n, k = j->k, es = j->es, mx = m > n ? m : n, mn = m < n ? m : n;
    int64_t slack = 2 * (m + n) + 16, rm = m * n > m * k ? m * n : m * k;
    tg_dtype d = j->x->dtype;
    char *x = tg__ptr(j->x) + t * n * k * es;
    int64_t *rk = (int64_t *)tg__ptr(j->rank);
    if (m == 0 || n == 0) {
        memset(x, 0, (size_t)(n * k * es));   /* no equations or no unknowns: X = 0 */
        rk[t] = 0;
        return 0;
    }
    char *wa = tg__linalg_scratch(0, (size_t)((m * n + slack) * es)), *wb = tg__linalg_scratch(1, (size_t)((mx * k + slack) * es));
    char *wr = tg__linalg_scratch(2, (size_t)((rm > 0 ? rm : 1) * es));
    double *s = tg__linalg_scratch(3, (size_t)(mn > 0 ? mn : 1) * sizeof(double));
    if (!wa || !wb || !wr || !s) return TG_LINALG_NO_MEMORY;
    memset(wa, 0, (size_t)((m * n + slack) * es));
    tg__linalg_gather(wr, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), m, n);
    bool finite = tg__linalg_all_finite(d, wr, m * n);
    to_cm(wa, wr, m, n, m, es);
    memset(wb, 0, (size_t)((mx * k + slack) * es));
    if (k > 0) {
        tg__linalg_gather(wr, j->b, tg__linalg_batch_offset(&j->bt, j->sb, t), m, k);
        finite = finite && tg__linalg_all_finite(d, wr, m * k);
        to_cm(wb, wr, m, k, mx, es);
    }
    if (!finite) return TG_LINALG_NOT_FINITE;
    int rank = 0;
    int info = gelsd(d, (int)m, (int)n, (int)k, wa, wb, (int)mx, s, j->rcond, &rank);
    if (info) return info;
    for (int64_t i = 0; i < n; i++)   /* X: the first n rows of B, back to row-major */
        for (int64_t c = 0; c < k; c++) memcpy(x + (i * k + c) * es, wb + (c * mx + i) * es, (size_t)es);
    rk[t] = rank;
    return 0;
}

static tg_status lstsq_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    lstsq_job j = {.a = tg__cast_raw(in[0], d), .x = out[0], .rank = out[1]};
    j.b = j.a ? tg__cast_raw(in[1], d) : NULL;
    tg_status st = TG_OK;
    if (!j.b) { tg_release(j.a); return tg_last_error_code(); }
    j.m = j.a->shape[j.a->ndim - 2];
    j.n = j.a->shape[j.a->ndim - 1];
    j.k = j.b->shape[j.b->ndim - 1];
    j.es = tg__esize(d);
    int64_t m = j.m, n = j.n, k = j.k, mx = m > n ? m : n, mn = m < n ? m : n;
    if (mx > INT32_MAX / 2 || k > INT32_MAX / 2 || m * n > INT32_MAX / 2 || mx * k > INT32_MAX / 2) {
        st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range");
        goto done;
    }
    tg__linalg_batch_init(&j.bt, out[1]->ndim, out[1]->shape);
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    tg__linalg_batch_strides(&j.bt, j.b, 2, j.sb);
    j.rcond = eff_rcond(d, c->attrs->d[0], m, n);
    int info;
    double cost = (double)mx * (double)mn * (double)(mn + k);
    int64_t t = tg__linalg_batch_run(j.bt.count, cost, lstsq_item, &j, &info);
    if (t < 0) goto done;
    if (info == TG_LINALG_NOT_FINITE)
        st = tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch: A or B contains non-finite values", (long long)t);
    else if (info > 0)
        st = tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch: the SVD did not converge (gelsd info %d)",
                          (long long)t, info);
    else
        st = tg__linalg_info_error(c, "gelsd", t, info, "");
done:
    tg_release(j.a);
    tg_release(j.b);
    return st;
}

static tg_tensor *as_dtype(tg_tensor *x, tg_dtype d) { return x->dtype == d ? x : tg_cast(x, d); }

static tg_tensor *pinv_of(const tg_op_call *c, tg_tensor *a) {
    int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1];
    return tg_linalg_pinv(a, eff_rcond(a->dtype, c->attrs->d[0], m, n), false);
}

static tg_status lstsq_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                           tg_tensor **ic) {
    tg_dtype d = out[0]->dtype;
    tg_tensor *a = as_dtype(in[0], d), *b = as_dtype(in[1], d);
    tg_tensor *p = a && b ? pinv_of(c, a) : NULL;
    if (!p) return tg_last_error_code();
    if (TG_NEEDS(c, 1)) {
        ic[1] = tg__sum_to(tg_matmul(tg__mH(p), g[0]), in[1]->ndim, in[1]->shape);
        if (!ic[1]) return tg_last_error_code();
    }
    if (TG_NEEDS(c, 0)) {
        ic[0] = tg__sum_to(tg__pinv_vjp(a, p, tg_matmul(g[0], tg__mH(b))), in[0]->ndim, in[0]->shape);
        if (!ic[0]) return tg_last_error_code();
    }
    return TG_OK;
}

static tg_status lstsq_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                           tg_tensor **ot) {
    tg_dtype d = out[0]->dtype;
    if (!t[0] && !t[1]) return TG_OK;
    tg_tensor *a = as_dtype(in[0], d), *b = as_dtype(in[1], d);
    tg_tensor *p = a && b ? pinv_of(c, a) : NULL;
    if (!p) return tg_last_error_code();
    tg_tensor *r = t[0] ? tg_matmul(tg__pinv_jvp(a, p, t[0]), b) : NULL;
    if (t[1]) {
        tg_tensor *pb = tg_matmul(p, t[1]);
        r = r ? tg_add(r, pb) : pb;
    }
    /* the broadcast batch shape of X */
    ot[0] = r ? tg_broadcast_to(r, out[0]->ndim, out[0]->shape) : NULL;
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_lstsq = {.name = "linalg_lstsq", .n_in = 2, .n_out = 2, .infer = lstsq_infer,
                                      .kernel = {[TG_CPU] = lstsq_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = lstsq_vjp, .jvp = lstsq_jvp};

/* B is a vector when 1-d or when its shape is A's without the last axis (torch). */
static bool is_vector_rhs(const tg_tensor *a, const tg_tensor *b) {
    if (b->ndim == 1) return true;
    if (b->ndim != a->ndim - 1) return false;
    for (int i = 0; i < b->ndim; i++)
        if (b->shape[i] != a->shape[i]) return false;
    return true;
}

tg_status tg_linalg_lstsq(tg_tensor *a, tg_tensor *b, double rcond, tg_tensor **x, tg_tensor **residuals,
                          tg_tensor **rank, tg_tensor **sv) {
    tg_tensor **outs[4] = {x, residuals, rank, sv};
    for (int i = 0; i < 4; i++) if (outs[i]) *outs[i] = NULL;
    if (!a || !b || !x) return tg__error(TG_ERR_ARG, "tg_linalg_lstsq: NULL argument (a, b and x are required)");
    if (isnan(rcond)) return tg__error(TG_ERR_ARG, "tg_linalg_lstsq: rcond is NaN");
    char sa[160], sb[160];
    if (a->ndim < 2 || b->ndim < 1)
        return tg__error(TG_ERR_SHAPE, "tg_linalg_lstsq: A must have at least 2 axes and B 1, got shapes %s and %s",
                         tg__fmt_shape(sa, sizeof sa, a->ndim, a->shape),
                         tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape));
    if (residuals && (tg__is_tracer(a) || tg__is_tracer(b)))
        return tg__error(TG_ERR_UNSUPPORTED, "tg_linalg_lstsq: residuals depend on the rank (a value) and are not "
                                             "available under a trace; compute B - A X instead");
    bool vec = is_vector_rhs(a, b);
    tg_scope_begin();
    tg_tensor *bm = vec ? tg_unsqueeze(b, -1) : b;
    tg_tensor *o[2] = {NULL, NULL}, *res = NULL, *s = NULL;
    tg_attrs at = {.n_real = 1, .d = {rcond}};
    tg_status st = bm ? tg__apply(&tg_op_linalg_lstsq, 2, (tg_tensor *[]){a, bm}, &at, 2, o) : tg_last_error_code();
    tg_tensor *xs = st ? NULL : vec ? tg_squeeze(o[0], 1, (const int[]){-1}) : o[0];
    if (!st && !xs) st = tg_last_error_code();
    if (!st && residuals) {
        int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1];
        /* the ranks are read on the host (integer compares have no GPU kernel) */
        tg_tensor *ranks = m > n ? tg_to_device(o[1], (tg_device){TG_CPU, 0}) : NULL;
        tg_tensor *full = ranks ? tg_all(tg_eq_scalar(ranks, (double)n), 0, NULL, false) : NULL;
        if (m > n && !full) st = tg_last_error_code();
        else if (full && tg_item_f64(full) == 1) {
            tg_tensor *r = tg_sub(tg_cast(bm, o[0]->dtype), tg_matmul(a, o[0]));
            res = tg_sum(tg_square(tg_abs(r)), 1, (const int[]){-2}, false);
        } else {
            res = tg_empty(tg_real_dtype(o[0]->dtype), 1, (const int64_t[]){0});
        }
        if (!res) st = tg_last_error_code();
    }
    if (!st && sv) {
        int64_t shape[TG_MAX_DIMS];
        int nd = o[1]->ndim;
        memcpy(shape, o[1]->shape, sizeof(int64_t) * (size_t)nd);
        shape[nd] = a->shape[a->ndim - 2];
        shape[nd + 1] = a->shape[a->ndim - 1];
        tg_tensor *af = tg_cast(a, o[0]->dtype);
        s = af ? tg_linalg_svdvals(tg_broadcast_to(af, nd + 2, shape)) : NULL;
        if (!s) st = tg_last_error_code();
    }
    if (!st) {
        *x = tg_keep(xs);
        if (residuals) *residuals = tg_keep(res);
        if (rank) *rank = tg_keep(o[1]);
        if (sv) *sv = tg_keep(s);
    }
    tg_scope_end();
    return st;
}

TG_REGISTER_OPS(linalg_lstsq, &tg_op_linalg_lstsq)
