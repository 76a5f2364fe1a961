/* A solve that will be differentiated keeps A's LU factors, so its
 * derivative rules solve with them instead of factoring A again (as
 * PyTorch's linalg_solve does): a VJP or JVP then costs one factorisation,
 * not two.
 *
 * linalg_solve_factor (A) -> (F, pivots): getrf of A's row-major copy, which
 *   LAPACK reads as A^T: F holds A^T = P L U column-major. Not differentiable
 *   (its input is a detached A).
 * linalg_solve_lu (A, B, F, pivots), attrs i[0] adjoint: X = A^{-1} B with
 *   getrs('T') on F, or X = A^{-H} B with getrs('N') (conjugating B and X for
 *   complex A). A is an input only so that the rules can name it:
 *     X = A^{-1} B:  B-bar = A^{-H} X-bar, A-bar = -B-bar X^H,
 *                    X-dot = A^{-1} (B-dot - A-dot X);
 *     X = A^{-H} B:  B-bar = A^{-1} X-bar, A-bar = -X B-bar^H,
 *                    X-dot = A^{-H} (B-dot - A-dot^H X).
 * Both rules use linalg_solve_lu again, so higher orders reuse F too.
 * Traced solves take this form too; tg_compile joins factor and solve back
 * into one linalg_solve where no rule reads F (autodiff/passes.c). Device
 * tensors run both on the host, as linalg_solve does (gpu/host.c). */
#include <string.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

/* ---- the factorisation ---------------------------------------------------- */
static tg_status factor_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0];
    tg_status st = tg__linalg_square(c, a, "A");
    if (st) return st;
    tg__meta_copy_shape(&out[0], a);
    if ((st = tg__linalg_dtype(c, a->dtype, &out[0].dtype))) return st;
    out[1].dtype = TG_I32;
    out[1].ndim = a->ndim - 1;
    memcpy(out[1].shape, a->shape, (size_t)out[1].ndim * sizeof(int64_t));
    return TG_OK;
}

typedef struct {
    tg_tensor *a, *f, *piv;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], n;
    int64_t bad_item;        /* the lanes path's first failing item */
} factor_job;

static int factor_item(void *ctx, int64_t t) {
    const factor_job *j = ctx;
    int64_t n = j->n;
    char *f = tg__ptr(j->f) + t * n * n * tg__esize(j->f->dtype);
    tg__linalg_gather(f, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), n, n);
    return tg__lapack_getrf_cm(j->f->dtype, (int)n, f, (int *)tg__ptr(j->piv) + t * n);
}

/* Small real matrices: TG_SMALL_W items per call through small.c's lanes;
 * a lane they report (NaN, zero pivot) reruns item by item for its code. */
static int factor_block(void *ctx, int64_t tb) {
    factor_job *j = ctx;
    const tg_tensor *a = j->a;
    int64_t n = j->n, es = tg__esize(j->f->dtype), ts[TG_SMALL_W], t0 = tb * TG_SMALL_W;
    tg_small_lanes L;
    int64_t cnt = tg__linalg_lanes_begin(&j->bt, a, j->sa, tb, &L, ts);
    for (int w = 0; w < TG_SMALL_W; w++) {
        int64_t t = ts[w];
        L.x[w] = tg__ptr(j->f) + t * n * n * es;
        L.y[w] = (int *)tg__ptr(j->piv) + t * n;
    }
    unsigned bad = tg__small_getrf_lanes(j->f->dtype, (int)n, &L);
    return tg__linalg_lanes_rerun(bad, t0, cnt, factor_item, j, &j->bad_item);
}

static tg_status factor_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    factor_job j = {.a = tg__cast_raw(in[0], out[0]->dtype), .f = out[0], .piv = out[1], .bad_item = INT64_MAX};
    if (!j.a) return tg_last_error_code();
    j.n = j.a->shape[j.a->ndim - 1];
    tg_status st = TG_OK;
    if (j.n > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    tg__linalg_batch_init(&j.bt, j.a->ndim - 2, j.a->shape);
    if (j.n == 0 || j.bt.count == 0) goto done;
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    int info;
    double cost = (double)j.n * (double)j.n * (double)j.n;
    int64_t t;
    if (tg__linalg_small(j.f->dtype, j.n) && tg__small_lanes_available()) {
        t = tg__linalg_blocks_run(j.bt.count, cost, factor_block, &j, &j.bad_item, &info);
    } else {
        t = tg__linalg_batch_run(j.bt.count, cost, factor_item, &j, &info);
    }
    if (t >= 0) st = tg__linalg_info_error(c, "getrf", t, info, "is singular (U[%d,%d] = 0)");
done:
    tg_release(j.a);
    return st;
}

const tg_op_def tg_op_linalg_solve_factor = {.name = "linalg_solve_factor", .n_in = 1, .n_out = 2,
                                             .flags = TG_OP_NONDIFF, .infer = factor_infer,
                                             .kernel = {[TG_CPU] = factor_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}};

/* ---- the solve with the factors -------------------------------------------- */
static tg_status slu_infer(const tg_op_call *c, tg_meta *out) {
    tg_status st = tg__linalg_solve_infer(c, out, 1);
    if (st) return st;
    const tg_meta *a = &c->in[0], *f = &c->in[2], *p = &c->in[3];
    bool ok = f->ndim == a->ndim && f->dtype == out->dtype && p->ndim == a->ndim - 1 && p->dtype == TG_I32;
    for (int i = 0; ok && i < a->ndim; i++) ok = f->shape[i] == a->shape[i] && (i == a->ndim - 1 || p->shape[i] == a->shape[i]);
    return ok ? TG_OK : tg__op_error(c, TG_ERR_SHAPE, "the factors do not match A (internal)");
}

typedef struct {
    tg_tensor *b, *f, *piv, *x;
    tg_linalg_batch bt;
    int64_t sb[TG_MAX_DIMS], sf[TG_MAX_DIMS], sp[TG_MAX_DIMS], n, k, es;
    bool adjoint;
    int64_t bad_item;        /* the lanes path's first failing item */
} slu_job;

static void conj_in_place(tg_dtype d, char *p, int64_t count) {
    if (d == TG_C64) for (int64_t i = 0; i < count; i++) ((float *)p)[2 * i + 1] = -((float *)p)[2 * i + 1];
    if (d == TG_C128) for (int64_t i = 0; i < count; i++) ((double *)p)[2 * i + 1] = -((double *)p)[2 * i + 1];
}

static int slu_item(void *ctx, int64_t t) {
    const slu_job *j = ctx;
    int64_t n = j->n, k = j->k, es = j->es;
    tg_dtype d = j->x->dtype;
    char *x = tg__ptr(j->x) + t * n * k * es;
    char *rhs = tg__linalg_rhs_load(x, j->b, tg__linalg_batch_offset(&j->bt, j->sb, t), n, k, es);
    if (!rhs) return TG_LINALG_NO_MEMORY;
    const char *f = tg__ptr(j->f) + tg__linalg_batch_offset(&j->bt, j->sf, t) * es;
    const int *piv = (const int *)tg__ptr(j->piv) + tg__linalg_batch_offset(&j->bt, j->sp, t);
    /* F factors A^T: A X = B is getrs('T'); A^H X = B is A^T conj(X) = conj(B) */
    if (j->adjoint) conj_in_place(d, rhs, n * k);
    int info = tg__lapack_getrs_cm(d, j->adjoint ? 'N' : 'T', (int)n, (int)k, f, piv, rhs);
    if (j->adjoint) conj_in_place(d, rhs, n * k);
    if (info == 0) tg__linalg_rhs_store(x, rhs, n, k, es);
    return info;
}

/* Small real matrices, one right-hand side: TG_SMALL_W items per call
 * (B gathered into X, solved there in place); a lane with a NaN in B
 * reruns item by item for its code. Real: the adjoint is the transpose. */
static int slu_block(void *ctx, int64_t tb) {
    slu_job *j = ctx;
    int64_t t0 = tb * TG_SMALL_W, n = j->n, es = j->es;
    int64_t cnt = j->bt.count - t0 < TG_SMALL_W ? j->bt.count - t0 : TG_SMALL_W;
    tg_small_lanes L;
    int64_t brs = j->b->strides[j->b->ndim - 2];
    for (int w = 0; w < TG_SMALL_W; w++) {
        int64_t t = t0 + (w < cnt ? w : cnt - 1);
        L.a[w] = tg__ptr(j->f) + tg__linalg_batch_offset(&j->bt, j->sf, t) * es;
        L.b[w] = (const int *)tg__ptr(j->piv) + tg__linalg_batch_offset(&j->bt, j->sp, t);
        L.x[w] = tg__ptr(j->x) + t * n * es;
        if (w >= cnt) continue;
        const char *b = tg__ptr(j->b) + tg__linalg_batch_offset(&j->bt, j->sb, t) * es;
        if (es == 8)
            for (int64_t i = 0; i < n; i++) ((double *)L.x[w])[i] = ((const double *)b)[i * brs];
        else
            for (int64_t i = 0; i < n; i++) ((float *)L.x[w])[i] = ((const float *)b)[i * brs];
    }
    unsigned bad = tg__small_getrs_lanes(j->x->dtype, (int)n, j->adjoint ? 'N' : 'T', &L);
    return tg__linalg_lanes_rerun(bad, t0, cnt, slu_item, j, &j->bad_item);
}

static tg_status slu_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    /* the factors come contiguous from linalg_solve_factor (kernels call no
     * public op: those hand their results to the caller's scope) */
    if (!tg__is_contiguous(in[2]) || !tg__is_contiguous(in[3]))
        return tg__op_error(c, TG_ERR_ARG, "the factors are not contiguous (internal)");
    slu_job j = {.b = tg__cast_raw(in[1], d), .f = in[2], .piv = in[3], .x = out[0], .adjoint = c->attrs->i[0] != 0,
                 .bad_item = INT64_MAX};
    tg_status st = TG_OK;
    if (!j.b) { st = tg_last_error_code(); goto done; }
    j.n = j.f->shape[j.f->ndim - 1];
    j.k = j.b->shape[j.b->ndim - 1];
    j.es = tg__esize(d);
    if (j.k > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    tg__linalg_batch_init(&j.bt, out[0]->ndim - 2, out[0]->shape);
    if (j.n == 0 || j.k == 0 || j.bt.count == 0) goto done;
    tg__linalg_batch_strides(&j.bt, j.b, 2, j.sb);
    tg__linalg_batch_strides(&j.bt, j.f, 2, j.sf);
    tg__linalg_batch_strides(&j.bt, j.piv, 1, j.sp);
    int info;
    double cost = (double)j.n * (double)j.n * (double)j.k;
    int64_t t;
    if (j.k == 1 && tg__linalg_small(d, j.n) && tg__small_lanes_available()) {
        t = tg__linalg_blocks_run(j.bt.count, cost, slu_block, &j, &j.bad_item, &info);
    } else {
        t = tg__linalg_batch_run(j.bt.count, cost, slu_item, &j, &info);
    }
    if (t >= 0) st = tg__linalg_info_error(c, "getrs", t, info, "");
done:
    tg_release(j.b);
    return st;
}

static tg_tensor *solve_lu_apply(tg_tensor *a, tg_tensor *b, tg_tensor *f, tg_tensor *piv, bool adjoint);

static tg_tensor *sum_to_like(tg_tensor *g, const tg_tensor *x) { return g ? tg__sum_to(g, x->ndim, x->shape) : NULL; }

static tg_status slu_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    bool adj = c->attrs->i[0] != 0;
    tg_tensor *bbar = solve_lu_apply(in[0], g[0], in[2], in[3], !adj);
    if (!bbar) return tg_last_error_code();
    if (TG_NEEDS(c, 0)) {
        tg_tensor *ab = adj ? tg_matmul(out[0], tg__mH(bbar)) : tg_matmul(bbar, tg__mH(out[0]));
        if (!(ic[0] = sum_to_like(tg_neg(ab), in[0]))) return tg_last_error_code();
    }
    if (TG_NEEDS(c, 1) && !(ic[1] = sum_to_like(bbar, in[1]))) return tg_last_error_code();
    return TG_OK;
}

static tg_status slu_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    bool adj = c->attrs->i[0] != 0;
    tg_tensor *r = t[1];
    if (t[0]) {
        tg_tensor *ax = tg_matmul(adj ? tg__mH(t[0]) : t[0], out[0]);
        r = r ? tg_sub(r, ax) : tg_neg(ax);
    }
    ot[0] = r ? solve_lu_apply(in[0], r, in[2], in[3], adj) : NULL;
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_solve_lu = {.name = "linalg_solve_lu", .n_in = 4, .n_out = 1, .infer = slu_infer,
                                         .kernel = {[TG_CPU] = slu_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)},
                                         .vjp = slu_vjp, .jvp = slu_jvp};

static tg_tensor *solve_lu_apply(tg_tensor *a, tg_tensor *b, tg_tensor *f, tg_tensor *piv, bool adjoint) {
    tg_tensor *in[4] = {a, b, f, piv};
    tg_attrs at = {.n_int = 1, .i = {adjoint}};
    return tg__apply1(&tg_op_linalg_solve_lu, 4, in, &at);
}

tg_tensor *tg__linalg_solve_reusing_lu(tg_tensor *a, tg_tensor *b) {
    tg_scope_begin();
    tg_tensor *fp[2] = {NULL, NULL}, *x = NULL;
    /* the factors carry no gradient (a traced node of a NONDIFF op has none) */
    tg_tensor *ad = tg__is_tracer(a) ? a : tg_detach(a);
    tg_status st = ad ? tg__apply(&tg_op_linalg_solve_factor, 1, &ad, NULL, 2, fp) : tg_last_error_code();
    if (!st) x = tg_keep(solve_lu_apply(a, b, fp[0], fp[1], false));
    tg_scope_end();
    return x;
}

TG_REGISTER_OPS(linalg_solve_lu, &tg_op_linalg_solve_factor, &tg_op_linalg_solve_lu)
