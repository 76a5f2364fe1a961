/* eigh / eigvalsh / svd / svdvals: errors (NULL, shapes, dtypes, non-finite
 * input, phase-dependent complex losses), small exact values, empty
 * matrices, degenerate spectra, gradient checks of gauge-invariant losses
 * (first and second order, f64 and c128, batched) and traced mode. Oracle
 * values: tests/test_oracle_linalg_spectral.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "support/check.h"

TestSuite(linalg_spectral, .init = tg_clear_error);

static void expect_msg(const char *part) {
    cr_expect(strstr(tg_last_error(), part) != NULL, "message lacks \"%s\": %s", part, tg_last_error());
    tg_clear_error();
}
static tg_tensor *mH(tg_tensor *x) { return tg_conj(tg_mT(x)); }
static tg_tensor *herm(tg_tensor *a) { return tg_mul_scalar(tg_add(a, mH(a)), 0.5); }
static tg_tensor *abs2(tg_tensor *x) { return tg_square(tg_abs(x)); }
static tg_tensor *cols(tg_tensor *x, int64_t lo, int64_t hi) { return tg_slice(x, tg_ndim(x) - 1, lo, hi, 1); }
static tg_tensor *rows(tg_tensor *x, int64_t lo, int64_t hi) { return tg_slice(x, tg_ndim(x) - 2, lo, hi, 1); }
static void check_shape(const tg_tensor *t, int nd, const int64_t *shape, const char *what) {
    cr_assert_not_null(t, "%s: %s", what, tg_last_error());
    cr_expect_eq(tg_ndim(t), nd, "%s: rank %d", what, tg_ndim(t));
    for (int i = 0; i < nd && i < tg_ndim(t); i++)
        cr_expect_eq(tg_shape(t)[i], shape[i], "%s: axis %d is %lld", what, i, (long long)tg_shape(t)[i]);
}

Test(linalg_spectral, errors) {
    tg_scope_begin();
    tg_tensor *w = NULL, *v = NULL, *u = NULL, *s = NULL, *vh = NULL;
    tg_tensor *sq = tg_randn(TG_F64, 2, (int64_t[]){3, 3}), *rect = tg_randn(TG_F64, 2, (int64_t[]){3, 4});
    check_status(tg_linalg_eigh(NULL, &w, &v), TG_ERR_ARG, "eigh NULL A");
    check_status(tg_linalg_eigh(sq, NULL, &v), TG_ERR_ARG, "eigh NULL w");
    check_status(tg_linalg_svd(NULL, false, &u, &s, &vh), TG_ERR_ARG, "svd NULL A");
    check_status(tg_linalg_svd(sq, false, &u, NULL, &vh), TG_ERR_ARG, "svd NULL s");
    cr_expect(u == NULL && vh == NULL, "outputs cleared on error");
    check_error(tg_linalg_svdvals(NULL), TG_ERR_ARG, "svdvals NULL");
    check_error(tg_linalg_eigvalsh(NULL, false), TG_ERR_ARG, "eigvalsh NULL");
    check_status(tg_linalg_eigh(rect, &w, &v), TG_ERR_SHAPE, "eigh non-square");
    check_error(tg_linalg_eigvalsh(rect, true), TG_ERR_SHAPE, "eigvalsh non-square");
    check_error(tg_linalg_svdvals(tg_ones(TG_F64, 1, (int64_t[]){3})), TG_ERR_SHAPE, "svdvals 1-d");
    check_status(tg_linalg_svd(tg_ones(TG_F64, 1, (int64_t[]){3}), true, &u, &s, &vh), TG_ERR_SHAPE, "svd 1-d");
    check_error(tg_linalg_eigvalsh(tg_ones(TG_F16, 2, (int64_t[]){2, 2}), false), TG_ERR_DTYPE, "eigvalsh f16");
    check_error(tg_linalg_svdvals(tg_ones(TG_BF16, 2, (int64_t[]){2, 3})), TG_ERR_DTYPE, "svdvals bf16");
    /* non-finite input in batch item 1 (in the triangle that is read) */
    double nanv[2][2][2] = {{{1, 0}, {0, 1}}, {{1, 0}, {NAN, 1}}};
    tg_tensor *an = tg_from_data(TG_F64, 3, (int64_t[]){2, 2, 2}, nanv);
    check_status(tg_linalg_eigh(an, &w, &v), TG_ERR_NUMERIC, "eigh NaN");
    cr_expect_null(tg_linalg_eigvalsh(an, false), "eigvalsh NaN");
    cr_expect_eq(tg_last_error_code(), TG_ERR_NUMERIC);
    expect_msg("matrix 1 of the batch contains non-finite values");
    /* the upper triangle of item 1 is finite: eigvalsh(upper) reads only it */
    check_values_f64(tg_linalg_eigvalsh(an, true), 4, (double[]){1, 1, 1, 1}, 0, "NaN outside the triangle read");
    check_status(tg_linalg_svd(an, false, &u, &s, &vh), TG_ERR_NUMERIC, "svd NaN");
    double infv[4] = {1, INFINITY, 0, 1};
    cr_expect_null(tg_linalg_svdvals(tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, infv)), "svdvals inf");
    cr_expect_eq(tg_last_error_code(), TG_ERR_NUMERIC);
    expect_msg("matrix 0 of the batch contains non-finite values");
    tg_scope_end();
}

Test(linalg_spectral, values) {
    tg_scope_begin();
    double av[2][2] = {{2, 1}, {1, 2}};
    tg_tensor *a = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, av), *w = NULL, *v = NULL;
    cr_assert_eq(tg_linalg_eigh(a, &w, &v), TG_OK, "%s", tg_last_error());
    check_values_f64(w, 2, (double[]){1, 3}, 1e-14, "eigh w ascending");
    check_values_f64(abs2(v), 4, (double[]){0.5, 0.5, 0.5, 0.5}, 1e-14, "eigh |V|^2");
    tg_tensor *w2 = NULL;
    cr_assert_eq(tg_linalg_eigh(a, &w2, NULL), TG_OK);
    check_values_f64(w2, 2, (double[]){1, 3}, 1e-14, "eigh values only");
    /* the triangle read: lower [[2, .], [1, 2]] vs upper [[2, 5], [., 2]] */
    double bv[2][2] = {{2, 5}, {1, 2}};
    tg_tensor *b = tg_from_data(TG_F64, 2, (int64_t[]){2, 2}, bv);
    check_values_f64(tg_linalg_eigvalsh(b, false), 2, (double[]){1, 3}, 1e-14, "lower triangle");
    check_values_f64(tg_linalg_eigvalsh(b, true), 2, (double[]){-3, 7}, 1e-14, "upper triangle");
    cr_assert_eq(tg_linalg_eigh_uplo(b, true, &w, &v), TG_OK);
    check_values_f64(w, 2, (double[]){-3, 7}, 1e-14, "eigh_uplo upper");
    /* int input computes in f64 */
    int64_t iv[4] = {0, 3, -4, 0};
    tg_tensor *ai = tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, iv);
    tg_tensor *sv = tg_linalg_svdvals(ai);
    cr_expect(sv && tg_dtype_of(sv) == TG_F64, "int svdvals in f64");
    check_values_f64(sv, 2, (double[]){4, 3}, 1e-14, "svdvals descending");
    tg_tensor *wi = tg_linalg_eigvalsh(ai, false);
    cr_expect(wi && tg_dtype_of(wi) == TG_F64, "int eigvalsh in f64");
    check_values_f64(wi, 2, (double[]){-4, 4}, 1e-14, "int eigvalsh (lower: [[0, -4], [-4, 0]])");
    /* f32 and c64: real outputs of the real dtype, reconstruction, orthonormality */
    tg_dtype lows[2] = {TG_F32, TG_C64};
    for (int i = 0; i < 2; i++) {
        tg_tensor *m = tg_randn(lows[i], 3, (int64_t[]){2, 5, 3}), *u, *s, *vh;
        cr_assert_eq(tg_linalg_svd(m, true, &u, &s, &vh), TG_OK, "%s", tg_last_error());
        cr_expect_eq(tg_dtype_of(s), TG_F32);
        cr_expect_eq(tg_dtype_of(u), lows[i]);
        check_shape(u, 3, (int64_t[]){2, 5, 5}, "full U");
        check_shape(vh, 3, (int64_t[]){2, 3, 3}, "full Vh");
        check_close(tg_matmul(tg_mul(cols(u, 0, 3), tg_unsqueeze(s, -2)), vh), m, 1e-4, 1e-5, "U S Vh = A");
        check_close(tg_matmul(mH(u), u), tg_broadcast_to(tg_eye(lows[i], 5, -1), 3, (int64_t[]){2, 5, 5}), 0, 1e-5,
                    "U^H U = I");
        tg_tensor *h = herm(tg_randn(lows[i], 3, (int64_t[]){2, 4, 4}));
        cr_assert_eq(tg_linalg_eigh(h, &w, &v), TG_OK);
        cr_expect_eq(tg_dtype_of(w), TG_F32);
        check_close(tg_matmul(tg_mul(v, tg_unsqueeze(w, -2)), mH(v)), h, 1e-4, 1e-5, "V diag(w) V^H = A");
    }
    /* svd with only one of U / Vh wanted */
    tg_tensor *u = NULL, *s = NULL, *vh = NULL;
    cr_assert_eq(tg_linalg_svd(b, false, &u, &s, NULL), TG_OK);
    cr_expect(u && s && !vh);
    cr_assert_eq(tg_linalg_svd(b, false, NULL, &s, &vh), TG_OK);
    cr_expect(vh && s);
    tg_scope_end();
}

Test(linalg_spectral, empty) {
    tg_scope_begin();
    tg_tensor *w, *v, *u, *s, *vh;
    cr_assert_eq(tg_linalg_eigh(tg_zeros(TG_F64, 3, (int64_t[]){2, 0, 0}), &w, &v), TG_OK, "%s", tg_last_error());
    check_shape(w, 2, (int64_t[]){2, 0}, "eigh w of 0x0");
    check_shape(v, 3, (int64_t[]){2, 0, 0}, "eigh V of 0x0");
    check_shape(tg_linalg_eigvalsh(tg_zeros(TG_C128, 3, (int64_t[]){0, 3, 3}), false), 2, (int64_t[]){0, 3},
                "eigvalsh batch 0");
    /* NumPy: svd of (0, 3) full gives U (0, 0), S (0), Vh = I_3 */
    cr_assert_eq(tg_linalg_svd(tg_zeros(TG_F64, 2, (int64_t[]){0, 3}), true, &u, &s, &vh), TG_OK);
    check_shape(u, 2, (int64_t[]){0, 0}, "U");
    check_shape(s, 1, (int64_t[]){0}, "S");
    check_close(vh, tg_eye(TG_F64, 3, -1), 0, 0, "Vh = I");
    cr_assert_eq(tg_linalg_svd(tg_zeros(TG_C64, 3, (int64_t[]){2, 2, 0}), true, &u, &s, &vh), TG_OK);
    check_close(u, tg_broadcast_to(tg_eye(TG_C64, 2, -1), 3, (int64_t[]){2, 2, 2}), 0, 0, "U = I");
    check_shape(vh, 3, (int64_t[]){2, 0, 0}, "Vh");
    cr_assert_eq(tg_linalg_svd(tg_zeros(TG_F64, 2, (int64_t[]){2, 0}), false, &u, &s, &vh), TG_OK);
    check_shape(u, 2, (int64_t[]){2, 0}, "reduced U");
    check_shape(vh, 2, (int64_t[]){0, 0}, "reduced Vh");
    check_shape(tg_linalg_svdvals(tg_zeros(TG_F32, 3, (int64_t[]){0, 2, 5})), 2, (int64_t[]){0, 2}, "svdvals batch 0");
    tg_scope_end();
}

/* Eigenvalue / singular-value gradients stay finite at repeated values. */
Test(linalg_spectral, degenerate_values_gradient) {
    tg_scope_begin();
    tg_dtype dts[2] = {TG_F64, TG_C128};
    for (int i = 0; i < 2; i++) {
        tg_tensor *eye = tg_mul_scalar(tg_eye(dts[i], 3, -1), 2.0);
        tg_tensor *a = tg_copy(eye);
        cr_assert_eq(tg_set_requires_grad(a, true), TG_OK);
        cr_assert_eq(tg_backward(tg_sum(tg_mul(tg_linalg_eigvalsh(a, false), tg_scalar(TG_F64, 3.0)), 0, NULL,
                                        false), NULL), TG_OK, "%s", tg_last_error());
        check_close(tg_grad(a), tg_mul_scalar(tg_eye(dts[i], 3, -1), 3.0), 1e-14, 1e-14, "d sum(3 w) / dA = 3 I");
        tg_tensor *b = tg_copy(eye);
        cr_assert_eq(tg_set_requires_grad(b, true), TG_OK);
        cr_assert_eq(tg_backward(tg_sum(tg_linalg_svdvals(b), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
        check_close(tg_grad(b), tg_eye(dts[i], 3, -1), 1e-14, 1e-14, "d sum(S) / dA = U Vh = I at A = 2I");
    }
    tg_scope_end();
}

/* A loss that depends on the free phase of complex eigen/singular vectors is refused. */
Test(linalg_spectral, complex_phase_dependent_loss) {
    tg_scope_begin();
    tg_manual_seed(3);
    tg_tensor *a = herm(tg_randn(TG_C128, 2, (int64_t[]){3, 3}));
    cr_assert_eq(tg_set_requires_grad(a, true), TG_OK);
    tg_tensor *w, *v, *u, *s, *vh;
    cr_assert_eq(tg_linalg_eigh(a, &w, &v), TG_OK);
    cr_expect_eq(tg_backward(tg_sum(tg_real(v), 0, NULL, false), NULL), TG_ERR_NUMERIC);
    expect_msg("phase");
    tg_tensor *m = tg_randn(TG_C128, 2, (int64_t[]){4, 3});
    cr_assert_eq(tg_set_requires_grad(m, true), TG_OK);
    cr_assert_eq(tg_linalg_svd(m, false, &u, &s, &vh), TG_OK);
    cr_expect_eq(tg_backward(tg_sum(tg_real(u), 0, NULL, false), NULL), TG_ERR_NUMERIC);
    expect_msg("phase");
    /* invariant: |u|^2 is fine */
    cr_assert_eq(tg_linalg_svd(m, false, &u, &s, &vh), TG_OK);
    tg_tensor *wt = tg_arange(TG_F64, 0, 3, 1);
    cr_expect_eq(tg_backward(tg_sum(tg_mul(abs2(u), wt), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
    cr_expect_not_null(tg_grad(m));
    tg_scope_end();
}

/* ---- gradient checks (gauge-invariant losses) --------------------------------------------- */
enum { E_W, E_W_ABSV, E_SINW, E_W_UPPER, E_ABSV_UPPER, E_VALS, S_VALS, S_S, S_RECON, S_ABS, S_UVH, S_FULL_ABS,
       S_FULL_PROJ };
typedef struct { int op; } gctx;
static tg_status gfn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const gctx *g = ctx;
    tg_tensor *w = NULL, *v = NULL, *u = NULL, *s = NULL, *vh = NULL;
    tg_status st = TG_OK;
    if (g->op <= E_ABSV_UPPER) {
        bool up = g->op == E_W_UPPER || g->op == E_ABSV_UPPER;
        if ((st = tg_linalg_eigh_uplo(herm(in[0]), up, &w, &v))) return st;
    } else if (g->op >= S_S) {
        if ((st = tg_linalg_svd(in[0], g->op >= S_FULL_ABS, &u, &s, &vh))) return st;
    }
    int64_t k = s ? tg_dim(s, -1) : 0;
    switch (g->op) {
    case E_W: case E_W_UPPER: out[0] = w; break;
    case E_W_ABSV: case E_ABSV_UPPER: out[0] = w; out[1] = abs2(v); break;
    case E_SINW: out[0] = tg_matmul(tg_mul(v, tg_unsqueeze(tg_sin(w), -2)), mH(v)); break;
    case E_VALS: out[0] = tg_linalg_eigvalsh(herm(in[0]), true); break;
    case S_VALS: out[0] = tg_linalg_svdvals(in[0]); break;
    case S_S: out[0] = s; break;
    case S_RECON: out[0] = tg_matmul(tg_mul(u, tg_unsqueeze(s, -2)), vh); break;
    case S_ABS: out[0] = abs2(u); out[1] = abs2(vh); break;
    case S_UVH: out[0] = tg_matmul(u, vh); break;
    case S_FULL_ABS: out[0] = abs2(cols(u, 0, k)); out[1] = abs2(rows(vh, 0, k)); break;
    default: {
        /* depends on the extra columns only through their projectors U2 U2^H, Vh2^H Vh2 */
        tg_tensor *u2 = cols(u, k, tg_dim(u, -1)), *v2 = rows(vh, k, tg_dim(vh, -1));
        out[0] = tg_matmul(u2, mH(u2));
        out[1] = tg_matmul(mH(v2), v2);
        out[2] = s;
    }
    }
    return out[0] ? TG_OK : tg_last_error_code();
}

static void check_grads(int op, tg_dtype dt, tg_tensor *x, int n_out, bool second, const char *what) {
    gctx g = {op};
    tg_status st = tg_gradcheck(gfn, &g, 1, &x, n_out, NULL);
    cr_expect_eq(st, TG_OK, "gradcheck %s %s: %s", what, tg_dtype_name(dt), tg_last_error());
    tg_clear_error();
    if (!second) return;
    st = tg_gradgradcheck(gfn, &g, 1, &x, n_out, NULL);
    cr_expect_eq(st, TG_OK, "gradgradcheck %s %s: %s", what, tg_dtype_name(dt), tg_last_error());
    tg_clear_error();
}

static void check_grads_for(tg_dtype dt) {
    tg_scope_begin();
    tg_manual_seed(17);
    tg_tensor *h = tg_randn(dt, 3, (int64_t[]){2, 3, 3});
    check_grads(E_W, dt, h, 1, true, "eigh w");
    check_grads(E_W_UPPER, dt, h, 1, true, "eigh upper w");
    check_grads(E_W_ABSV, dt, h, 2, true, "eigh w, |V|^2");
    check_grads(E_ABSV_UPPER, dt, h, 2, false, "eigh upper w, |V|^2");
    check_grads(E_SINW, dt, h, 1, true, "eigh V diag(sin w) V^H");
    check_grads(E_VALS, dt, h, 1, true, "eigvalsh upper");
    tg_tensor *shapes[3] = {tg_randn(dt, 3, (int64_t[]){2, 4, 3}), tg_randn(dt, 3, (int64_t[]){2, 2, 4}),
                            tg_randn(dt, 2, (int64_t[]){3, 3})};
    const char *tags[3] = {"tall", "wide", "square"};
    for (int i = 0; i < 3; i++) {
        char what[64];
        snprintf(what, sizeof what, "svdvals %s", tags[i]);
        check_grads(S_VALS, dt, shapes[i], 1, true, what);
        snprintf(what, sizeof what, "svd S %s", tags[i]);
        check_grads(S_S, dt, shapes[i], 1, true, what);
        snprintf(what, sizeof what, "svd U S Vh %s", tags[i]);
        check_grads(S_RECON, dt, shapes[i], 1, i == 2, what);
        snprintf(what, sizeof what, "svd |U|^2 |Vh|^2 %s", tags[i]);
        check_grads(S_ABS, dt, shapes[i], 2, true, what);
        snprintf(what, sizeof what, "svd U Vh %s", tags[i]);
        check_grads(S_UVH, dt, shapes[i], 1, i == 0, what);
        snprintf(what, sizeof what, "svd full |U1|^2 |Vh1|^2 %s", tags[i]);
        check_grads(S_FULL_ABS, dt, shapes[i], 2, false, what);
        snprintf(what, sizeof what, "svd full U2 U2^H, Vh2^H Vh2 %s", tags[i]);
        check_grads(S_FULL_PROJ, dt, shapes[i], 3, i == 0, what);
    }
    tg_scope_end();
}

Test(linalg_spectral, gradcheck_f64) { check_grads_for(TG_F64); }
Test(linalg_spectral, gradcheck_c128) { check_grads_for(TG_C128); }

/* ---- traced mode -------------------------------------------------------------------------- */
static tg_status f_eigh(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    return tg_linalg_eigh(in[0], &out[0], &out[1]);
}
static tg_status f_svd(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    return tg_linalg_svd(in[0], ctx != NULL, &out[0], &out[1], &out[2]);
}

Test(linalg_spectral, traced) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_eigh, NULL, 1, (tg_spec[]){{TG_F64, "B, N, N"}}, 2);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    tg_tensor *x = herm(tg_randn(TG_F64, 3, (int64_t[]){2, 4, 4})), *got[2], *want[2];
    cr_assert_eq(tg_run(p, &x, got), TG_OK, "%s", tg_last_error());
    cr_assert_eq(f_eigh(NULL, &x, want), TG_OK);
    check_close(got[0], want[0], 0, 0, "compiled eigh w");
    check_close(abs2(got[1]), abs2(want[1]), 0, 0, "compiled eigh |V|^2");
    tg_program_free(p);
    tg_graph_free(g);
    cr_expect_null(tg_trace(f_eigh, NULL, 1, (tg_spec[]){{TG_F64, "B, M, N"}}, 2));
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    tg_clear_error();
    tg_graph *gs = tg_trace(f_svd, (void *)1, 1, (tg_spec[]){{TG_C128, "B, N, N"}}, 3);
    cr_expect_not_null(gs, "%s", tg_last_error());
    tg_graph_free(gs);
    gs = tg_trace(f_svd, NULL, 1, (tg_spec[]){{TG_F32, "B, 5, 3"}}, 3);
    cr_expect_not_null(gs, "%s", tg_last_error());
    tg_graph_free(gs);
    cr_expect_null(tg_trace(f_svd, NULL, 1, (tg_spec[]){{TG_F64, "B, M, N"}}, 3));
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    tg_clear_error();
    tg_scope_end();
}

/* The rules under graph transforms: grad of a traced loss, compiled, equals eager. */
static tg_status f_spectral_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *w, *v, *u, *s, *vh;
    tg_status st = tg_linalg_eigh(herm(in[0]), &w, &v);
    if (!st) st = tg_linalg_svd(in[0], false, &u, &s, &vh);
    if (st) return st;
    tg_tensor *t = tg_add(tg_sum(tg_mul(abs2(v), tg_unsqueeze(w, -2)), 0, NULL, false),
                          tg_sum(tg_mul(abs2(u), tg_unsqueeze(s, -2)), 0, NULL, false));
    out[0] = tg_add(t, tg_sum(tg_linalg_svdvals(in[0]), 0, NULL, false));
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(linalg_spectral, traced_grad) {
    tg_scope_begin();
    tg_manual_seed(23);
    tg_graph *g = tg_trace(f_spectral_loss, NULL, 1, (tg_spec[]){{TG_C128, "B, 3, 3"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *gg = tg_graph_grad(g, 1, (int[]){0});
    cr_assert_not_null(gg, "%s", tg_last_error());
    tg_program *p = tg_compile(gg, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    tg_tensor *x = tg_randn(TG_C128, 3, (int64_t[]){2, 3, 3}), *got = NULL, *want = NULL;
    cr_assert_eq(tg_run(p, &x, &got), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_grad_fn(f_spectral_loss, NULL, 1, &x, NULL, &want), TG_OK, "%s", tg_last_error());
    check_close(got, want, 1e-12, 1e-12, "compiled grad equals eager grad");
    tg_program_free(p);
    tg_graph_free(gg);
    tg_graph_free(g);
    tg_scope_end();
}
