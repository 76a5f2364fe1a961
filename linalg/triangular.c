/* linalg_triangular_solve: A X = B with A triangular (BLAS trsm on the
 * row-major data, A read in place when its rows or columns are unit-stride),
 * batched with broadcast batch axes. Right-side solves X A = B go through transposes:
 * A^T X^T = B^T. Rules as solve with the cotangent of A masked to the
 * triangle read (strictly, when unitriangular). */
#include <cblas.h>
#include <stdlib.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

enum { ATTR_UPPER, ATTR_UNIT };

static tg_status tri_infer(const tg_op_call *c, tg_meta *out) { return tg__linalg_solve_infer(c, out, 2); }

/* Row-major trsm, in place on X (n x k, ld k). A's matrix is read where it
 * lies when one of its strides is 1: rows of stride lda (op N), or columns
 * of stride lda, which is A^T row-major (op T on the other triangle). */
static void trsm_rm(tg_dtype d, bool upper, bool unit, bool transposed, int n, int k, const void *a, int lda,
                    void *x) {
    CBLAS_UPLO ul = upper != transposed ? CblasUpper : CblasLower;
    CBLAS_TRANSPOSE op = transposed ? CblasTrans : CblasNoTrans;
    CBLAS_DIAG dg = unit ? CblasUnit : CblasNonUnit;
    static const float one_c[2] = {1, 0};
    static const double one_z[2] = {1, 0};
    switch (d) {
    case TG_F32: cblas_strsm(CblasRowMajor, CblasLeft, ul, op, dg, n, k, 1.0f, a, lda, x, k); break;
    case TG_F64: cblas_dtrsm(CblasRowMajor, CblasLeft, ul, op, dg, n, k, 1.0, a, lda, x, k); break;
    case TG_C64: cblas_ctrsm(CblasRowMajor, CblasLeft, ul, op, dg, n, k, one_c, a, lda, x, k); break;
    default: cblas_ztrsm(CblasRowMajor, CblasLeft, ul, op, dg, n, k, one_z, a, lda, x, k); break;
    }
}

static bool is_zero(const char *p, int64_t es) {
    switch (es) {
    case 4: return *(const float *)p == 0;
    case 8: return *(const double *)p == 0;
    case 16: return ((const double *)p)[0] == 0 && ((const double *)p)[1] == 0;
    default: return ((const float *)p)[0] == 0 && ((const float *)p)[1] == 0;
    }
}

/* X = B copied in place (row-major, as returned), A read in place or from
 * a row-major copy; a zero on A's diagonal is LAPACK trtrs's info (i + 1),
 * checked first as trtrs does. NaN propagates (no LAPACKE scan). */
static int tri_item(void *ctx, int64_t t) {
    const tg_linalg_axb_job *j = ctx;
    bool upper = j->c->attrs->i[ATTR_UPPER] != 0, unit = j->c->attrs->i[ATTR_UNIT] != 0;
    int64_t n = j->n, k = j->k, es = j->es, rs = j->a->strides[j->a->ndim - 2], cs = j->a->strides[j->a->ndim - 1];
    const char *a = tg__ptr(j->a) + tg__linalg_batch_offset(&j->bt, j->sa, t) * es;
    int64_t lda;
    bool transposed;
    if (cs == 1 && rs >= n) { lda = rs; transposed = false; }
    else if (rs == 1 && cs >= n) { lda = cs; transposed = true; }
    else {
        char *w = tg__linalg_scratch(0, (size_t)(n * n * es));
        if (!w) return TG_LINALG_NO_MEMORY;
        tg__linalg_gather(w, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), n, n);
        a = w;
        lda = n;
        transposed = false;
    }
    if (!unit)
        for (int64_t i = 0; i < n; i++)
            if (is_zero(a + i * (lda + 1) * es, es)) return (int)(i + 1);
    char *x = tg__ptr(j->x) + t * n * k * es;
    tg__linalg_gather(x, j->b, tg__linalg_batch_offset(&j->bt, j->sb, t), n, k);
    trsm_rm(j->x->dtype, upper, unit, transposed, (int)n, (int)k, a, (int)lda, x);
    return 0;
}

static tg_status tri_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return tg__linalg_axb_kernel(c, in, out[0], false, tri_item, 1, NULL, "trsm", "is singular (A[%d,%d] = 0)");
}

static tg_tensor *mask(tg_tensor *x, bool upper, bool unit) {
    if (!x) return NULL;
    return upper ? tg_triu(x, unit ? 1 : 0) : tg_tril(x, unit ? -1 : 0);
}

static tg_status tri_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    bool upper = c->attrs->i[ATTR_UPPER] != 0, unit = c->attrs->i[ATTR_UNIT] != 0;
    tg_tensor *bbar = tg__linalg_trsolve_mat(tg__mH(in[0]), g[0], !upper, unit);
    if (!bbar) return tg_last_error_code();
    if (TG_NEEDS(c, 0)) {
        tg_tensor *ga = mask(tg_neg(tg_matmul(bbar, tg__mH(out[0]))), upper, unit);
        if (!(ic[0] = ga ? tg__sum_to(ga, in[0]->ndim, in[0]->shape) : NULL)) return tg_last_error_code();
    }
    if (TG_NEEDS(c, 1) && !(ic[1] = tg__sum_to(bbar, in[1]->ndim, in[1]->shape))) return tg_last_error_code();
    return TG_OK;
}

static tg_status tri_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    bool upper = c->attrs->i[ATTR_UPPER] != 0, unit = c->attrs->i[ATTR_UNIT] != 0;
    tg_tensor *r = t[1];
    if (t[0]) {
        tg_tensor *ax = tg_matmul(mask(t[0], upper, unit), out[0]);
        r = r ? tg_sub(r, ax) : tg_neg(ax);
    }
    ot[0] = tg__linalg_trsolve_mat(in[0], r, upper, unit);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_triangular_solve = {.name = "linalg_triangular_solve", .n_in = 2, .n_out = 1,
                                                 .infer = tri_infer, .kernel = {[TG_CPU] = tri_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)},
                                                 .vjp = tri_vjp, .jvp = tri_jvp};

tg_tensor *tg__linalg_trsolve_mat(tg_tensor *a, tg_tensor *b, bool upper, bool unit) {
    if (!a || !b) return NULL;
    tg_tensor *in[2] = {a, b};
    tg_attrs at = {.n_int = 2, .i = {upper, unit}};
    return tg__apply1(&tg_op_linalg_triangular_solve, 2, in, &at);
}

tg_tensor *tg_linalg_triangular_solve(tg_tensor *a, tg_tensor *b, bool upper, bool left, bool unitriangular) {
    if (!a || !b) { tg__error(TG_ERR_ARG, "tg_linalg_triangular_solve: NULL operand"); return NULL; }
    if (left) return tg__linalg_trsolve_mat(a, b, upper, unitriangular);
    if (b->ndim < 2) {
        char s[160];
        tg__error(TG_ERR_SHAPE, "tg_linalg_triangular_solve: B must have at least 2 axes, got shape %s",
                  tg__fmt_shape(s, sizeof s, b->ndim, b->shape));
        return NULL;
    }
    tg_tensor *xt = tg__linalg_trsolve_mat(tg_mT(a), tg_mT(b), !upper, unitriangular);
    return xt ? tg_mT(xt) : NULL;
}

TG_REGISTER_OPS(linalg_triangular_solve, &tg_op_linalg_triangular_solve)
