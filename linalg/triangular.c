/* linalg_triangular_solve: A X = B with A triangular (trtrs), batched with
 * broadcast batch axes. Right-side solves X A = B go through transposes:
 * A^T X^T = B^T. Rules as solve with the cotangent of A masked to the
 * triangle read (strictly, when unitriangular). */
#include <stdlib.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

enum { ATTR_UPPER, ATTR_UNIT };

static tg_status tri_infer(const tg_op_call *c, tg_meta *out) { return tg__linalg_solve_infer(c, out, 2); }

/* at is A^T column-major: trtrs with trans 'T' and the other triangle
 * solves A X = B. */
static int tri_trtrs(const tg_op_call *c, tg_dtype d, int n, int k, void *at, void *rhs) {
    bool upper = c->attrs->i[ATTR_UPPER] != 0, unit = c->attrs->i[ATTR_UNIT] != 0;
    return tg__lapack_trtrs_cm(d, upper ? 'L' : 'U', 'T', unit ? 'U' : 'N', n, k, at, rhs);
}

static tg_status tri_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return tg__linalg_axb_kernel(c, in, out[0], false, tri_trtrs, "trtrs", "is singular (A[%d,%d] = 0)");
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
