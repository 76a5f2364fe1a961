/* linalg_cholesky: A = L L^H (potrf) from the lower triangle of A, batched.
 * upper = true returns L^H. Rules (AD-REFERENCE.md 4, PyTorch's Hermitian
 * convention): X = tril(L^H tril(L-bar)); Y = (X + tril(X, -1)^H) / 2;
 * A-bar = L^{-H} Y L^{-1}. JVP: L-dot = L Phi(L^{-1} S L^{-H}) with S the
 * Hermitian part of A-dot and Phi(X) = tril(X) with the diagonal halved. */
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

static tg_status chol_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0];
    tg_status st = tg__linalg_square(c, a, "A");
    if (st) return st;
    tg__meta_copy_shape(out, a);
    return tg__linalg_dtype(c, a->dtype, &out->dtype);
}

typedef struct {
    tg_tensor *a, *l;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], n, es;
} chol_job;

static int chol_item(void *ctx, int64_t t) {
    const chol_job *j = ctx;
    int64_t n = j->n, es = j->es;
    char *l = tg__ptr(j->l) + t * n * n * es;
    tg__linalg_gather(l, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), n, n);
    /* The row-major copy is A^T column-major; its upper Cholesky factor U
     * (A^T = U^H U) read back row-major is L = U^T with A = L L^H. */
    int info = tg__lapack_potrf_cm(j->l->dtype, 'U', (int)n, l);
    if (info == 0)
        for (int64_t i = 0; i < n; i++) memset(l + (i * n + i + 1) * es, 0, (size_t)((n - i - 1) * es));
    return info;
}

static tg_status chol_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    chol_job j = {.a = tg__cast_raw(in[0], d), .l = out[0]};
    if (!j.a) return tg_last_error_code();
    tg_status st = TG_OK;
    j.n = j.a->shape[j.a->ndim - 1];
    j.es = tg__esize(d);
    tg__linalg_batch_init(&j.bt, j.a->ndim - 2, j.a->shape);
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    if (j.n > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    if (j.n == 0) goto done;
    int info;
    int64_t t = tg__linalg_batch_run(j.bt.count, (double)j.n * (double)j.n * (double)j.n / 6, chol_item, &j, &info);
    if (t >= 0 && info > 0)
        st = tg__op_error(c, TG_ERR_NUMERIC,
                          "matrix %lld of the batch is not positive definite (the leading minor of order %d "
                          "is not positive)",
                          (long long)t, info);
    else if (t >= 0) st = tg__linalg_info_error(c, "potrf", t, info, "");
done:
    tg_release(j.a);
    return st;
}

static tg_status chol_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    (void)c; (void)in;
    tg_tensor *L = out[0];
    tg_tensor *x = tg_tril(tg_matmul(tg__mH(L), tg_tril(g[0], 0)), 0);
    tg_tensor *y = x ? tg_mul_scalar(tg_add(x, tg__mH(tg_tril(x, -1))), 0.5) : NULL;
    /* Z = Y L^{-1} (right solve with the lower L), then L^{-H} Z. */
    tg_tensor *z = y ? tg_linalg_triangular_solve(L, y, false, false, false) : NULL;
    ic[0] = z ? tg__linalg_trsolve_mat(tg__mH(L), z, true, false) : NULL;
    return TG_RULE_RESULT(ic[0]);
}

static tg_status chol_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    (void)c; (void)in;
    tg_tensor *L = out[0];
    tg_tensor *s = tg_mul_scalar(tg_add(t[0], tg__mH(t[0])), 0.5);
    tg_tensor *w = s ? tg__linalg_trsolve_mat(L, s, false, false) : NULL;            /* L^{-1} S */
    w = w ? tg_linalg_triangular_solve(tg__mH(L), w, true, false, false) : NULL;     /* ... L^{-H} */
    tg_tensor *phi = w ? tg_mul_scalar(tg_add(tg_tril(w, 0), tg_tril(w, -1)), 0.5) : NULL;
    ot[0] = phi ? tg_matmul(L, phi) : NULL;
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_cholesky = {.name = "linalg_cholesky", .n_in = 1, .n_out = 1, .infer = chol_infer,
                                         .kernel = {[TG_CPU] = chol_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = chol_vjp, .jvp = chol_jvp};

tg_tensor *tg_linalg_cholesky(tg_tensor *a, bool upper) {
    if (!a) { tg__error(TG_ERR_ARG, "tg_linalg_cholesky: NULL operand"); return NULL; }
    tg_tensor *l = tg__apply1(&tg_op_linalg_cholesky, 1, &a, NULL);
    return l && upper ? tg__mH(l) : l;
}

TG_REGISTER_OPS(linalg_cholesky, &tg_op_linalg_cholesky)
