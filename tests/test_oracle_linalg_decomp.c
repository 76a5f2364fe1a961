/* qr, lu_factor, lu, lu_solve, eig and eigvals against
 * oracles/data/linalg_decomp.json (oracles/gen_linalg_decomp.py: NumPy/SciPy
 * values, torch.linalg.lu_factor pivots, PyTorch VJPs and forward-mode JVPs). attrs: "complete"
 * (qr), "adjoint" (lu_solve), "nout" (jvp:eig). Eigenvalues are compared sorted by (real,
 * imag), eigenvectors through |V|^2 with the columns in that order (eig's JVP too). */
#include <complex.h>
#include <criterion/criterion.h>
#include <stdlib.h>

#include "support/oracle.h"

static tg_status run_qr(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    return tg_linalg_qr(in[0], oracle_attr_bool(c, "complete", false), &out[0], &out[1]);
}
static tg_status run_lu_factor(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)c; (void)n_in; (void)n_out;
    return tg_linalg_lu_factor(in[0], &out[0], &out[1]);
}
static tg_status run_lu(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)c; (void)n_in; (void)n_out;
    return tg_linalg_lu(in[0], &out[0], &out[1], &out[2]);
}
ORACLE_ADAPTER(lu_solve, tg_linalg_lu_solve(in[0], in[1], in[2], oracle_attr_bool(c, "adjoint", false)))

static const double complex *sort_row;    /* the row qsort compares (single-threaded harness) */
static int cmp_c(const void *x, const void *y) {
    const double complex *w = sort_row;
    double complex a = w[*(const int64_t *)x], b = w[*(const int64_t *)y];
    if (creal(a) != creal(b)) return creal(a) < creal(b) ? -1 : 1;
    return cimag(a) < cimag(b) ? -1 : cimag(a) > cimag(b);
}

/* Indices (i64, shape of w) sorting each row of w by (real, imag). */
static tg_tensor *sort_index(tg_tensor *w) {
    int nd = tg_ndim(w);
    int64_t n = tg_dim(w, nd - 1), total = tg_numel(w);
    double complex *buf = malloc((size_t)(total ? total : 1) * sizeof *buf);
    int64_t *idx = malloc((size_t)(total ? total : 1) * sizeof *idx);
    tg_tensor *res = NULL;
    if (buf && idx && tg_copy_to(tg_cast(w, TG_C128), buf, (size_t)total * sizeof *buf) == TG_OK) {
        for (int64_t r = 0; n && r < total / n; r++) {
            for (int64_t j = 0; j < n; j++) idx[r * n + j] = j;
            sort_row = buf + r * n;
            qsort(idx + r * n, (size_t)n, sizeof *idx, cmp_c);
        }
        res = tg_from_data(TG_I64, nd, tg_shape(w), idx);
    }
    free(buf);
    free(idx);
    return res;
}

static tg_status run_eig(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)c; (void)n_in; (void)n_out;
    tg_tensor *w, *v;
    tg_status st = tg_linalg_eig(in[0], &w, &v);
    if (st) return st;
    tg_tensor *idx = sort_index(w), *v2 = tg_real(tg_mul(v, tg_conj(v)));
    out[0] = tg_gather(w, -1, idx);
    out[1] = tg_gather(v2, -1, tg_broadcast_to(tg_unsqueeze(idx, -2), tg_ndim(v2), tg_shape(v2)));
    return out[0] && out[1] ? TG_OK : tg_last_error_code();
}
static tg_status run_eigvals(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)c; (void)n_in; (void)n_out;
    tg_tensor *w = tg_linalg_eigvals(in[0]);
    if (!w) return tg_last_error_code();
    ORACLE_RETURN(tg_gather(w, -1, sort_index(w)));
}

/* ---- VJPs: inputs (primals..., one cotangent per output), outputs the primals' cotangents ---- */
typedef struct { const oracle_case *c; tg_tensor *piv; } vctx;
static tg_status f_qr(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    return tg_linalg_qr(in[0], oracle_attr_bool(((vctx *)ctx)->c, "complete", false), &out[0], &out[1]);
}
static tg_status f_lu_factor(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *piv;
    return tg_linalg_lu_factor(in[0], &out[0], &piv);
}
static tg_status f_lu(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    return tg_linalg_lu(in[0], NULL, &out[0], &out[1]);
}
static tg_status f_lu_solve(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    vctx *v = ctx;
    out[0] = tg_linalg_lu_solve(in[0], v->piv, in[1], oracle_attr_bool(v->c, "adjoint", false));
    return out[0] ? TG_OK : tg_last_error_code();
}

static tg_status run_vjp_qr(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    vctx v = {c, NULL};
    return tg_vjp(f_qr, &v, 1, in, 2, &in[1], NULL, out);
}
static tg_status run_vjp_lu_factor(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    vctx v = {c, NULL};
    return tg_vjp(f_lu_factor, &v, 1, in, 1, &in[1], NULL, out);
}
static tg_status run_vjp_lu(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    vctx v = {c, NULL};
    return tg_vjp(f_lu, &v, 1, in, 2, &in[1], NULL, out);
}
/* inputs LU, pivots, B, X-bar; outputs LU-bar, B-bar */
static tg_status run_vjp_lu_solve(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    vctx v = {c, in[1]};
    tg_tensor *primals[2] = {in[0], in[2]};
    return tg_vjp(f_lu_solve, &v, 2, primals, 1, &in[3], NULL, out);
}

/* ---- JVPs: inputs (primals..., one tangent per differentiable primal), outputs the outputs' tangents ---- */
static tg_status jvp_outputs(tg_trace_fn f, vctx *v, int n_prim, tg_tensor *const *prim, tg_tensor *const *tan,
                             int n_out, tg_tensor **out) {
    tg_tensor *y[2];       /* the primal outputs: the harness's scope releases them */
    return tg_jvp(f, v, n_prim, prim, tan, n_out, y, out);
}
static tg_status run_jvp_qr(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    vctx v = {c, NULL};
    return jvp_outputs(f_qr, &v, 1, in, &in[1], 2, out);
}
static tg_status run_jvp_lu(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    vctx v = {c, NULL};
    return jvp_outputs(f_lu, &v, 1, in, &in[1], 2, out);
}
/* inputs LU, pivots, B, LU-dot, B-dot; output X-dot */
static tg_status run_jvp_lu_solve(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    vctx v = {c, in[1]};
    tg_tensor *primals[2] = {in[0], in[2]};
    return jvp_outputs(f_lu_solve, &v, 2, primals, &in[3], 1, out);
}
/* eig in forward mode through run_eig's gauge-invariant outputs (attrs.nout = 2): the tangents of the
 * sorted eigenvalues and of |V|^2 (the order is the primal's, a constant) */
ORACLE_JVP(eig, 1)

/* grad:eig: sum_j Re(c w_j^2) + sum_ij h_i Re(w_j) |V_ij|^2; grad:eigvals: sum_j Re(c w_j^3). */
typedef struct { tg_tensor *c, *h; } lctx;
static tg_status f_eig_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    lctx *l = ctx;
    tg_tensor *w, *v;
    tg_status st = tg_linalg_eig(in[0], &w, &v);
    if (st) return st;
    tg_tensor *t1 = tg_sum(tg_real(tg_mul(l->c, tg_mul(w, w))), 0, NULL, false);
    tg_tensor *v2 = tg_real(tg_mul(v, tg_conj(v)));
    tg_tensor *t2 = tg_sum(tg_mul(tg_mul(tg_unsqueeze(l->h, -1), tg_unsqueeze(tg_real(w), -2)), v2), 0, NULL, false);
    out[0] = tg_add(t1, t2);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_eigvals_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    lctx *l = ctx;
    tg_tensor *w = tg_linalg_eigvals(in[0]);
    out[0] = w ? tg_sum(tg_real(tg_mul(l->c, tg_mul(w, tg_mul(w, w)))), 0, NULL, false) : NULL;
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status run_grad_eig(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)c; (void)n_in; (void)n_out;
    lctx l = {in[1], in[2]};
    return tg_grad_fn(f_eig_loss, &l, 1, in, NULL, out);
}
static tg_status run_grad_eigvals(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)c; (void)n_in; (void)n_out;
    lctx l = {in[1], NULL};
    return tg_grad_fn(f_eigvals_loss, &l, 1, in, NULL, out);
}

static const oracle_entry table[] = {
    ORACLE_ENTRY(qr), ORACLE_ENTRY(lu_factor), ORACLE_ENTRY(lu), ORACLE_ENTRY(lu_solve), ORACLE_ENTRY(eig),
    ORACLE_ENTRY(eigvals),
    {"vjp:qr", run_vjp_qr}, {"vjp:lu_factor", run_vjp_lu_factor}, {"vjp:lu", run_vjp_lu},
    {"vjp:lu_solve", run_vjp_lu_solve}, {"grad:eig", run_grad_eig}, {"grad:eigvals", run_grad_eigvals},
    {"jvp:qr", run_jvp_qr}, {"jvp:lu", run_jvp_lu}, {"jvp:lu_solve", run_jvp_lu_solve}, {"jvp:eig", run_jvp_eig},
};
Test(oracle_linalg_decomp, all) { check_oracle_file("linalg_decomp.json", table, sizeof table / sizeof table[0]); }
