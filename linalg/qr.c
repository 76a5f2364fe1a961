/* linalg_qr: A (..., m, n) = Q R over geqrf + orgqr/ungqr, batched.
 * Reduced (k = min(m, n)): Q (m, k), R (k, n); complete: Q (m, m),
 * R (m, n). R's diagonal is real (LAPACK's convention, also NumPy's) and may
 * be negative. NaN propagates (LAPACKE's _work calls: no NaN scan).
 * Rules (AD-REFERENCE.md 4, PyTorch's linalg_qr_backward / linalg_qr_jvp):
 *   m >= n: M = R R-bar^H - Q-bar^H Q, copyltu(M) = tril(M, -1) +
 *     tril(M, -1)^H + Re diag(M); A-bar = (Q-bar + Q copyltu(M)) R^{-H}.
 *     JVP: X = Q^H A-dot R^{-1}; dR R^{-1} = syminv(X + X^H) with syminv =
 *     triu with the diagonal halved; R-dot = (dR R^{-1}) R,
 *     Q-dot = A-dot R^{-1} - Q (dR R^{-1}).
 *   m < n: A = [X | Y], R = [R1 | R2]; Q-bar' = Q-bar + Y R2-bar^H,
 *     X-bar = (m >= n rule)(Q-bar', R1-bar), Y-bar = Q R2-bar (Y = Q R2).
 *     JVP: X = Q^H A1-dot R1^{-1}, C = tril(X, -1) - tril(X, -1)^H +
 *     i Im diag(X); Q-dot = Q C, R-dot = Q^H A-dot - C R.
 *   complete with m > n: not differentiable (PyTorch's convention): both
 *     rules fail with TG_ERR_AUTOGRAD naming the op. */
#include <complex.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

enum { ATTR_COMPLETE };
#define CM LAPACK_COL_MAJOR

/* k = min(m, n), also for symbolic sizes when it is provable (m == n). */
static tg_status qr_min(const tg_op_call *c, int64_t m, int64_t n, int64_t *k) {
    bool sm = m >= TG_SYM_BASE_INTERNAL, sn = n >= TG_SYM_BASE_INTERNAL;
    if (m == n || (!sm && !sn)) { *k = m < n ? m : n; return TG_OK; }
    char s[160];
    return tg__op_error(c, TG_ERR_SHAPE, "min(m, n) of the matrix axes of %s is not known at trace time (give "
                        "concrete or equal sizes)", tg__fmt_shape(s, sizeof s, c->in[0].ndim, c->in[0].shape));
}

static tg_status qr_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0];
    char s[160];
    if (a->ndim < 2)
        return tg__op_error(c, TG_ERR_SHAPE, "A must have at least 2 axes, got shape %s",
                            tg__fmt_shape(s, sizeof s, a->ndim, a->shape));
    int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1], k = m;
    bool complete = c->attrs->i[ATTR_COMPLETE] != 0;
    tg_status st;
    if (!complete && (st = qr_min(c, m, n, &k))) return st;
    tg__meta_copy_shape(&out[0], a);
    tg__meta_copy_shape(&out[1], a);
    out[0].shape[a->ndim - 1] = k;     /* Q (m, k) or (m, m) */
    out[1].shape[a->ndim - 2] = k;     /* R (k, n) or (m, n) */
    if ((st = tg__linalg_dtype(c, a->dtype, &out[0].dtype))) return st;
    out[1].dtype = out[0].dtype;
    return TG_OK;
}

/* The LAPACKE _work entry points (no NaN scan: NaN propagates, as in NumPy),
 * with a workspace query first. Evaluates to the LAPACK info. */
#define WITH_WORK(T, lw_of, expr)                                  \
    do {                                                           \
        T wq_, *work = &wq_;                                       \
        lapack_int lwork = -1;                                     \
        int info_ = (expr);                                        \
        if (info_) return info_;                                   \
        lwork = (lapack_int)(lw_of(wq_));                          \
        if (lwork < 1) lwork = 1;                                  \
        if (!(work = malloc((size_t)lwork * sizeof(T))))           \
            return LAPACK_WORK_MEMORY_ERROR;                       \
        info_ = (expr);                                            \
        free(work);                                                \
        return info_;                                              \
    } while (0)
#define RE(x) (x)
#define LCF lapack_complex_float
#define LCD lapack_complex_double

/* Column-major drivers (ld = m): LAPACKE's row-major entry points would
 * transpose in and out with untiled loops and allocate a copy per call. */
static int geqrf(tg_dtype d, int m, int n, void *a, void *tau) {
    switch (d) {
    case TG_F32: WITH_WORK(float, RE, LAPACKE_sgeqrf_work(CM, m, n, a, m, tau, work, lwork));
    case TG_F64: WITH_WORK(double, RE, LAPACKE_dgeqrf_work(CM, m, n, a, m, tau, work, lwork));
    case TG_C64: WITH_WORK(LCF, crealf, LAPACKE_cgeqrf_work(CM, m, n, (LCF *)a, m, (LCF *)tau, work, lwork));
    default: WITH_WORK(LCD, creal, LAPACKE_zgeqrf_work(CM, m, n, (LCD *)a, m, (LCD *)tau, work, lwork));
    }
}

/* Q (m x qc, column-major, ld m) from the first k reflectors stored in q. */
static int orgqr(tg_dtype d, int m, int qc, int k, void *q, const void *tau) {
    switch (d) {
    case TG_F32: WITH_WORK(float, RE, LAPACKE_sorgqr_work(CM, m, qc, k, q, m, tau, work, lwork));
    case TG_F64: WITH_WORK(double, RE, LAPACKE_dorgqr_work(CM, m, qc, k, q, m, tau, work, lwork));
    case TG_C64:
        WITH_WORK(LCF, crealf, LAPACKE_cungqr_work(CM, m, qc, k, (LCF *)q, m, (const LCF *)tau, work, lwork));
    default: WITH_WORK(LCD, creal, LAPACKE_zungqr_work(CM, m, qc, k, (LCD *)q, m, (const LCD *)tau, work, lwork));
    }
}

static void set_one(tg_dtype d, char *p) {
    switch (d) {
    case TG_F32: *(float *)p = 1; break;
    case TG_F64: *(double *)p = 1; break;
    case TG_C64: ((float *)p)[0] = 1; ((float *)p)[1] = 0; break;
    default: ((double *)p)[0] = 1; ((double *)p)[1] = 0; break;
    }
}

static tg_status lapack_error(const tg_op_call *c, const char *routine, int info) {
    if (info == LAPACK_WORK_MEMORY_ERROR) return tg__op_error(c, TG_ERR_MEMORY, "out of memory for LAPACK's workspace");
    return tg__op_error(c, TG_ERR_NUMERIC, "LAPACK %s argument %d invalid", routine, -info);
}

#define ORGQR_TAG (-500000)   /* an item's code: orgqr/ungqr failed with code - ORGQR_TAG */

typedef struct {
    tg_tensor *a, **out;
    tg_dtype d;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], m, n, k, qc, rr, es;
    int64_t bad_item;        /* the small path's first failing item */
} qr_job;

/* Q (m x qc) and R (rr x n) are returned column-major per matrix (strides
 * (1, rows) on the last two axes, as torch.linalg.qr returns them): A is
 * copied once into Q's buffer when it fits there (qc >= n), factored in
 * place, R's upper triangle copied out column by column, and Q formed in
 * place; a wide A (m < n) is factored in a scratch copy first. */
static int qr_item(void *ctx, int64_t t) {
    const qr_job *j = ctx;
    int64_t m = j->m, n = j->n, k = j->k, qc = j->qc, rr = j->rr, es = j->es;
    char *q = tg__ptr(j->out[0]) + t * m * qc * es, *r = tg__ptr(j->out[1]) + t * rr * n * es;
    memset(r, 0, (size_t)(rr * n * es));
    if (k == 0) {                     /* n = 0: Q is the identity (complete) or empty */
        memset(q, 0, (size_t)(m * qc * es));
        for (int64_t i = 0; i < qc; i++) set_one(j->d, q + (i * m + i) * es);
        return 0;
    }
    char *tau = tg__linalg_scratch(1, (size_t)(k * es));
    char *work = qc >= n ? q : tg__linalg_scratch(0, (size_t)(m * n * es));
    if (!work || !tau) return TG_LINALG_NO_MEMORY;
    tg__linalg_gather_cm(work, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), m, n);
    int info = geqrf(j->d, (int)m, (int)n, work, tau);
    if (info) return info;
    for (int64_t c = 0; c < n; c++)   /* R: rows 0 .. min(c, k - 1) of column c */
        memcpy(r + c * rr * es, work + c * m * es, (size_t)(((c < k ? c + 1 : k)) * es));
    if (work != q) memcpy(q, work, (size_t)(m * qc * es));   /* the first qc (= m) reflector columns */
    info = orgqr(j->d, (int)m, (int)qc, (int)k, q, tau);
    return info ? ORGQR_TAG + info : 0;
}

/* Square real matrices of order up to 4: TG_SMALL_W items per call through
 * small_decomp.c's Householder lanes; a lane it reports (non-finite, extreme
 * values) runs through LAPACK. */
static int qr_small_block(void *ctx, int64_t tb) {
    qr_job *j = ctx;
    const tg_tensor *a = j->a;
    int64_t n = j->n, es = j->es, ts[TG_SMALL_W], t0 = tb * TG_SMALL_W;
    tg_small_lanes L;
    int64_t cnt = tg__linalg_lanes_begin(&j->bt, a, j->sa, tb, &L, ts);
    for (int w = 0; w < TG_SMALL_W; w++) {
        int64_t t = ts[w];
        L.x[w] = tg__ptr(j->out[0]) + t * n * n * es;
        L.y[w] = tg__ptr(j->out[1]) + t * n * n * es;
    }
    unsigned bad = tg__small_qr_lanes(j->d, (int)n, &L);
    return tg__linalg_lanes_rerun(bad, t0, cnt, qr_item, j, &j->bad_item);
}

/* Square real matrices of order 5 to 8: one item at a time through
 * small8.c's Householder kernel (rows in AVX-512 registers); an item it
 * declines (non-finite, values out of range) runs through LAPACK, which
 * gives its result or its error. */
static int qr_small8_item(void *ctx, int64_t t) {
    const qr_job *j = ctx;
    const tg_tensor *a = j->a;
    int64_t n = j->n, es = j->es, nd = a->ndim;
    const char *p = tg__ptr(a) + tg__linalg_batch_offset(&j->bt, j->sa, t) * es;
    if (!tg__small8_qr(j->d, (int)n, p, a->strides[nd - 2], a->strides[nd - 1], tg__ptr(j->out[0]) + t * n * n * es,
                       tg__ptr(j->out[1]) + t * n * n * es))
        return 0;
    return qr_item(ctx, t);
}

/* A view of a fresh buffer: shape like[0..nd-2] + (rows, cols), each
 * matrix column-major. */
static tg_tensor *col_major(tg_dtype d, const tg_tensor *like, int64_t rows, int64_t cols) {
    int nd = like->ndim;
    int64_t sh[TG_MAX_DIMS], st[TG_MAX_DIMS];
    for (int i = 0; i < nd - 2; i++) sh[i] = like->shape[i];
    sh[nd - 2] = cols;
    sh[nd - 1] = rows;
    tg_tensor *buf = tg__alloc(d, nd, sh);
    if (!buf) return NULL;
    for (int i = 0; i < nd - 2; i++) st[i] = buf->strides[i];
    st[nd - 2] = 1;
    st[nd - 1] = rows;
    sh[nd - 2] = rows;
    sh[nd - 1] = cols;
    tg_tensor *v = tg__make_view(buf, d, nd, sh, st, 0);
    tg_release(buf);
    return v;
}

/* One matrix per batch item, across threads when the batch is large. */
static tg_status qr_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    qr_job j = {.out = out, .bad_item = INT64_MAX};
    tg_status st = tg__linalg_dtype(c, in[0]->dtype, &j.d);
    if (st) return st;
    j.a = tg__cast_raw(in[0], j.d);
    if (!j.a) return tg_last_error_code();
    j.m = j.a->shape[j.a->ndim - 2];
    j.n = j.a->shape[j.a->ndim - 1];
    j.es = tg__esize(j.d);
    j.k = j.m < j.n ? j.m : j.n;
    bool complete = c->attrs->i[ATTR_COMPLETE] != 0;
    j.qc = complete ? j.m : j.k;
    j.rr = complete ? j.m : j.k;
    out[0] = col_major(j.d, j.a, j.m, j.qc);
    out[1] = out[0] ? col_major(j.d, j.a, j.rr, j.n) : NULL;
    if (!out[1]) { st = tg_last_error_code() ? tg_last_error_code() : TG_ERR_MEMORY; goto done; }
    tg__linalg_batch_init(&j.bt, j.a->ndim - 2, j.a->shape);
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    if (j.m > INT32_MAX / 2 || j.n > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    if (j.bt.count == 0 || j.m == 0) goto done;
    int info;
    double cost = 4.0 * (double)j.m * (double)j.n * (double)(j.k ? j.k : 1);
    int64_t t;
    if (j.m == j.n && tg__linalg_small(j.d, j.n) && tg__small_lanes_available()) {
        t = tg__linalg_blocks_run(j.bt.count, cost, qr_small_block, &j, &j.bad_item, &info);
    } else if (j.m == j.n && tg__small8(j.d, j.n)) {
        t = tg__linalg_batch_run(j.bt.count, cost, qr_small8_item, &j, &info);
    } else {
        t = tg__linalg_batch_run(j.bt.count, cost, qr_item, &j, &info);
    }
    if (t >= 0 && info == TG_LINALG_NO_MEMORY) st = tg__linalg_info_error(c, "geqrf", t, info, "");
    else if (t >= 0 && info <= ORGQR_TAG + 100000 && info > ORGQR_TAG - 100000)
        st = lapack_error(c, "orgqr/ungqr", info - ORGQR_TAG);
    else if (t >= 0) st = lapack_error(c, "geqrf", info);
done:
    tg_release(j.a);
    if (st) {
        tg_release(out[0]);
        tg_release(out[1]);
        out[0] = out[1] = NULL;
    }
    return st;
}

static tg_tensor *slice_last(tg_tensor *x, int axis, int64_t start, int64_t stop) {
    return x ? tg_slice(x, axis, start, stop, 1) : NULL;
}

/* A-bar of the square/tall case: (Q-bar + Q copyltu(M)) R^{-H}, M = R R-bar^H - Q-bar^H Q. */
static tg_tensor *qr_vjp_tall(tg_tensor *q, tg_tensor *r, tg_tensor *gq, tg_tensor *gr) {
    tg_tensor *mm = tg_sub(tg_matmul(r, tg__mH(gr)), tg_matmul(tg__mH(gq), q));
    if (!mm) return NULL;
    tg_tensor *tl = tg_tril(mm, 0), *sl = tg_tril(mm, -1);
    tg_tensor *cl = tg_mul_scalar(tg_add(tg_add(tl, tg__mH(tl)), tg_add(sl, tg__mH(sl))), 0.5);
    tg_tensor *y = cl ? tg_add(gq, tg_matmul(q, cl)) : NULL;
    return y ? tg_linalg_triangular_solve(tg__mH(r), y, false, false, false) : NULL;
}

/* The rules branch on m >= n: symbolic sizes must be equal to decide it. */
static tg_status qr_rule_sizes(const tg_op_call *c, int64_t *m, int64_t *n) {
    const tg_meta *a = &c->in[0];
    *m = a->shape[a->ndim - 2];
    *n = a->shape[a->ndim - 1];
    int64_t k;
    return qr_min(c, *m, *n, &k);
}

static tg_status qr_not_diff(const tg_op_call *c) {
    return tg__op_error(c, TG_ERR_AUTOGRAD, "the QR decomposition is not differentiable when complete = true and "
                        "m > n (as PyTorch); use the reduced mode");
}

static tg_status qr_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                        tg_tensor **ic) {
    (void)in;
    int64_t m, n;
    if (qr_rule_sizes(c, &m, &n)) return tg_last_error_code();
    tg_tensor *q = out[0], *r = out[1];
    if (c->attrs->i[ATTR_COMPLETE] && m > n) return qr_not_diff(c);
    if (m >= n) {
        ic[0] = qr_vjp_tall(q, r, g[0], g[1]);
        return TG_RULE_RESULT(ic[0]);
    }
    tg_tensor *r1 = slice_last(r, -1, 0, m), *r2 = slice_last(r, -1, m, n);
    tg_tensor *gr1 = slice_last(g[1], -1, 0, m), *gr2 = slice_last(g[1], -1, m, n);
    tg_tensor *gq = gr2 ? tg_add(g[0], tg_matmul(tg_matmul(q, r2), tg__mH(gr2))) : NULL;
    tg_tensor *gx = gq ? qr_vjp_tall(q, r1, gq, gr1) : NULL;
    tg_tensor *gy = gx ? tg_matmul(q, gr2) : NULL;
    ic[0] = gy ? tg_concat(2, (tg_tensor *[]){gx, gy}, -1) : NULL;
    return TG_RULE_RESULT(ic[0]);
}

static tg_status qr_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                        tg_tensor **ot) {
    int64_t m, n;
    if (qr_rule_sizes(c, &m, &n)) return tg_last_error_code();
    tg_tensor *q = out[0], *r = out[1], *da = t[0];
    (void)in;
    if (c->attrs->i[ATTR_COMPLETE] && m > n) return qr_not_diff(c);
    if (!da) return TG_OK;
    if (m >= n) {
        tg_tensor *dar = tg_linalg_triangular_solve(r, da, true, false, false);   /* A-dot R^{-1} */
        tg_tensor *x = dar ? tg_matmul(tg__mH(q), dar) : NULL;
        tg_tensor *s = x ? tg_add(x, tg__mH(x)) : NULL;
        tg_tensor *drr = s ? tg_mul_scalar(tg_add(tg_triu(s, 0), tg_triu(s, 1)), 0.5) : NULL;
        ot[1] = drr ? tg_matmul(drr, r) : NULL;
        ot[0] = ot[1] ? tg_sub(dar, tg_matmul(q, drr)) : NULL;
        return ot[0] ? TG_OK : tg_last_error_code();
    }
    tg_tensor *r1 = slice_last(r, -1, 0, m), *da1 = slice_last(da, -1, 0, m);
    tg_tensor *x = r1 && da1 ? tg_linalg_triangular_solve(r1, tg_matmul(tg__mH(q), da1), true, false, false) : NULL;
    tg_tensor *tl = x ? tg_tril(x, 0) : NULL, *sl = x ? tg_tril(x, -1) : NULL;
    tg_tensor *cm = tl ? tg_mul_scalar(tg_add(tg_sub(tl, tg__mH(tl)), tg_sub(sl, tg__mH(sl))), 0.5) : NULL;
    ot[0] = cm ? tg_matmul(q, cm) : NULL;
    ot[1] = ot[0] ? tg_sub(tg_matmul(tg__mH(q), da), tg_matmul(cm, r)) : NULL;
    return ot[1] ? TG_OK : tg_last_error_code();
}

const tg_op_def tg_op_linalg_qr = {.name = "linalg_qr", .n_in = 1, .n_out = 2, .flags = TG_OP_MAKES_OUTPUTS,
                                   .infer = qr_infer,
                                   .kernel = {[TG_CPU] = qr_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = qr_vjp, .jvp = qr_jvp};

tg_status tg_linalg_qr(tg_tensor *a, bool complete, tg_tensor **q, tg_tensor **r) {
    if (q) *q = NULL;
    if (r) *r = NULL;
    if (!a || !q || !r) return tg__error(TG_ERR_ARG, "tg_linalg_qr: NULL argument");
    tg_attrs at = {.n_int = 1, .i = {complete}};
    tg_tensor *o[2] = {NULL, NULL};
    tg_status st = tg__apply(&tg_op_linalg_qr, 1, &a, &at, 2, o);
    if (st) return st;
    *q = o[0];
    *r = o[1];
    return TG_OK;
}

TG_REGISTER_OPS(linalg_qr, &tg_op_linalg_qr)
