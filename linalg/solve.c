/* linalg_solve: X = A^{-1} B over getrf/getrs (gesv), batched with
 * torch.linalg's broadcasting of the batch axes; tg_linalg_inv as a solve
 * against the identity. Rules (AD-REFERENCE.md 4): B-bar = A^{-H} X-bar,
 * A-bar = -B-bar X^H; JVP X-dot = A^{-1}(B-dot - A-dot X). */
#include <stdlib.h>

#include "linalg/linalg_internal.h"

/* Matrix form only: a (..., n, n), b (..., n, k). The public function turns
 * a vector right-hand side into a column. */
static tg_status solve_infer(const tg_op_call *c, tg_meta *out) { return tg__linalg_solve_infer(c, out, 1); }

/* The row-major copy of A is A^T in column-major order: getrf factors A^T and
 * getrs('T') solves (A^T)^T X = B, so A is copied once. A single right-hand
 * side is its own column-major layout; several go through a transposed copy. */
static tg_status solve_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    tg_tensor *a = tg__cast_raw(in[0], d), *b = tg__cast_raw(in[1], d);
    tg_status st = TG_OK;
    if (!a || !b) { st = tg_last_error_code(); goto done; }
    int64_t n = a->shape[a->ndim - 1], k = b->shape[b->ndim - 1], es = tg__esize(d);
    if (n > INT32_MAX / 2 || k > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    tg_linalg_batch bt;
    tg__linalg_batch_init(&bt, out[0]->ndim - 2, out[0]->shape);
    if (n == 0 || k == 0 || bt.count == 0) goto done;
    int64_t sa[TG_MAX_DIMS], sb[TG_MAX_DIMS];
    tg__linalg_batch_strides(&bt, a, 2, sa);
    tg__linalg_batch_strides(&bt, b, 2, sb);
    char *work = tg__linalg_scratch(0, (size_t)(n * n * es));
    char *bcm = k > 1 ? tg__linalg_scratch(1, (size_t)(n * k * es)) : NULL;
    int *ipiv = tg__linalg_scratch(2, (size_t)n * sizeof(int));
    if (!work || !ipiv || (k > 1 && !bcm)) { st = tg_last_error_code(); goto done; }
    for (int64_t t = 0; t < bt.count; t++) {
        char *x = tg__ptr(out[0]) + t * n * k * es;
        tg__linalg_gather(work, a, tg__linalg_batch_offset(&bt, sa, t), n, n);
        if (k == 1) tg__linalg_gather(x, b, tg__linalg_batch_offset(&bt, sb, t), n, 1);
        else tg__linalg_gather_cm(bcm, b, tg__linalg_batch_offset(&bt, sb, t), n, k);
        int info = tg__lapack_getrf_cm(d, (int)n, work, ipiv);
        if (info > 0) {
            st = tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch is singular (U[%d,%d] = 0)", (long long)t,
                              info - 1, info - 1);
            goto done;
        }
        if (info == 0) info = tg__lapack_getrs_cm(d, 'T', (int)n, (int)k, work, ipiv, k == 1 ? x : bcm);
        if (info < 0) { st = tg__op_error(c, TG_ERR_NUMERIC, "LAPACK getrf/getrs argument %d invalid", -info); goto done; }
        if (k > 1) tg__linalg_store_cm(x, bcm, n, k, es);
    }
done:
    tg_release(a);
    tg_release(b);
    return st;
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
                                      .kernel = {[TG_CPU] = solve_kernel}, .vjp = solve_vjp, .jvp = solve_jvp};

tg_tensor *tg__linalg_solve_mat(tg_tensor *a, tg_tensor *b) {
    if (!a || !b) return NULL;
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
    tg_tensor *eye = tg_eye(d, a->shape[a->ndim - 1], -1);
    return eye ? tg__linalg_solve_mat(a, eye) : NULL;
}

TG_REGISTER_OPS(linalg_solve, &tg_op_linalg_solve)
