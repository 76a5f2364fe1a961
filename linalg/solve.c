/* linalg_solve: X = A^{-1} B over getrf/getrs (gesv), batched with
 * torch.linalg's broadcasting of the batch axes; tg_linalg_inv as a solve
 * against the identity. Rules (AD-REFERENCE.md 4): B-bar = A^{-H} X-bar,
 * A-bar = -B-bar X^H; JVP X-dot = A^{-1}(B-dot - A-dot X). */
#include <stdlib.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

/* Matrix form only: a (..., n, n), b (..., n, k). The public function turns
 * a vector right-hand side into a column. */
static tg_status solve_infer(const tg_op_call *c, tg_meta *out) { return tg__linalg_solve_infer(c, out, 1); }

/* at is A^T column-major: getrf factors it and getrs('T') solves
 * (A^T)^T X = B. Pivots in workspace slot 2. */
static int solve_lu(const tg_op_call *c, tg_dtype d, int n, int k, void *at, void *rhs) {
    (void)c;
    int *ipiv = tg__linalg_scratch(2, (size_t)n * sizeof(int));
    if (!ipiv) return TG_LINALG_NO_MEMORY;
    int info = tg__lapack_getrf_cm(d, n, at, ipiv);
    return info ? info : tg__lapack_getrs_cm(d, 'T', n, k, at, ipiv, rhs);
}

/* Real matrices of order up to 4 (small.c), read in place: TG_SMALL_W
 * items per call through the lanes kernel; a failing block is rerun item
 * by item for the first failure's own code. */
static int solve_small_block(void *ctx, int64_t tb) {
    tg_linalg_axb_job *j = ctx;
    const tg_tensor *a = j->a, *b = j->b;
    int64_t n = j->n, k = j->k, es = j->es, ts[TG_SMALL_W], t0 = tb * TG_SMALL_W;
    tg_small_lanes L;          /* every field set here (an initializer would clear it first) */
    int64_t cnt = tg__linalg_lanes_begin(&j->bt, a, j->sa, tb, &L, ts);
    L.brs = b->strides[b->ndim - 2];
    L.bcs = b->strides[b->ndim - 1];
    for (int w = 0; w < TG_SMALL_W; w++) {
        int64_t t = ts[w];
        L.b[w] = tg__ptr(b) + tg__linalg_batch_offset(&j->bt, j->sb, t) * es;
        L.x[w] = tg__ptr(j->x) + t * n * k * es;
    }
    L.packed = cnt == TG_SMALL_W && L.acs == 1 && L.ars == n && L.bcs == 1 && L.brs == k && j->bt.nb == 1 &&
               j->sa[0] == n * n && j->sb[0] == n * k;
    if (!tg__small_solve_lanes(j->x->dtype, (int)n, k, &L)) return 0;
    for (int w = 0; w < cnt; w++) {
        int info = tg__small_solve(j->x->dtype, (int)n, k, L.a[w], L.ars, L.acs, L.b[w], L.brs, L.bcs, L.x[w]);
        if (info) {
            tg__linalg_note_bad(&j->bad_item, t0 + w);
            return info;
        }
    }
    return 0;
}

static tg_status solve_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    if (tg__linalg_small(out[0]->dtype, in[0]->shape[in[0]->ndim - 1]))
        return tg__linalg_axb_kernel(c, in, out[0], true, solve_small_block, TG_SMALL_W, solve_lu, "getrf/getrs",
                                     "is singular (U[%d,%d] = 0)");
    return tg__linalg_axb_kernel(c, in, out[0], true, NULL, 1, solve_lu, "getrf/getrs", "is singular (U[%d,%d] = 0)");
}

static tg_tensor *sum_to_like(tg_tensor *g, const tg_tensor *x) { return g ? tg__sum_to(g, x->ndim, x->shape) : NULL; }

static tg_status solve_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                           tg_tensor **ic) {
    tg_tensor *bbar = tg__linalg_solve_mat(tg__mH(in[0]), g[0]);
    if (!bbar) return tg_last_error_code();
    if (TG_NEEDS(c, 0) && !(ic[0] = sum_to_like(tg_neg(tg_matmul(bbar, tg__mH(out[0]))), in[0])))
        return tg_last_error_code();
    if (TG_NEEDS(c, 1) && !(ic[1] = sum_to_like(bbar, in[1]))) return tg_last_error_code();
    return TG_OK;
}

static tg_status solve_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                           tg_tensor **ot) {
    (void)c;
    tg_tensor *r = t[1];
    if (t[0]) {
        tg_tensor *ax = tg_matmul(t[0], out[0]);
        r = r ? tg_sub(r, ax) : tg_neg(ax);
    }
    ot[0] = tg__linalg_solve_mat(in[0], r);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_solve = {.name = "linalg_solve", .n_in = 2, .n_out = 1, .infer = solve_infer,
                                      .kernel = {[TG_CPU] = solve_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = solve_vjp, .jvp = solve_jvp};

tg_tensor *tg__linalg_solve_mat(tg_tensor *a, tg_tensor *b) {
    if (!a || !b) return NULL;
    /* A solve that will be differentiated keeps A's factors for its rules.
     * A traced solve always does (a gradient transform may come later):
     * tg_compile joins the two nodes back into one solve when nothing else
     * reads the factors (autodiff/passes.c). */
    bool traced = tg__is_tracer(a) || tg__is_tracer(b);
    if (traced || (a->storage->device.kind == TG_CPU && b->storage->device.kind == TG_CPU &&
                   (tg__linalg_will_differentiate(a) || tg__linalg_will_differentiate(b))))
        return tg__linalg_solve_reusing_lu(a, b);
    tg_tensor *in[2] = {a, b};
    return tg__apply1(&tg_op_linalg_solve, 2, in, NULL);
}

tg_tensor *tg_linalg_solve(tg_tensor *a, tg_tensor *b) {
    if (!a || !b) { tg__error(TG_ERR_ARG, "tg_linalg_solve: NULL operand"); return NULL; }
    /* torch.linalg.solve: B is a vector when it is 1-d, or when it has one
     * axis less than A and matches A's shape without its last axis. */
    bool vec = b->ndim == 1;
    if (!vec && a->ndim >= 2 && b->ndim == a->ndim - 1) {
        vec = true;
        for (int i = 0; i < b->ndim; i++) vec = vec && b->shape[i] == a->shape[i];
    }
    if (!vec) return tg__linalg_solve_mat(a, b);
    tg_tensor *x = tg__linalg_solve_mat(a, tg_unsqueeze(b, -1));
    return x ? tg_squeeze(x, 1, (int[]){-1}) : NULL;
}

tg_tensor *tg_linalg_inv(tg_tensor *a) {
    if (!tg__linalg_check_square("tg_linalg_inv", a)) return NULL;
    tg_dtype d = a->dtype;
    if (d == TG_BOOL || tg_dtype_is_integer(d)) d = TG_F64;
    tg_tensor *eye = tg__eye_like(a, d, a->shape[a->ndim - 1], -1);
    return eye ? tg__linalg_solve_mat(a, eye) : NULL;
}

TG_REGISTER_OPS(linalg_solve, &tg_op_linalg_solve)
