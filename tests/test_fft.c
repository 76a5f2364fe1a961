/* fft module: argument errors, gradient checks (first and second order, every
 * norm mode) and eager vs traced/compiled equality. Values are checked by
 * tests/test_oracle_fft.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/check.h"

TestSuite(fft, .init = tg_clear_error);

/* ---- errors ---------------------------------------------------------------------------- */
Test(fft, bad_arguments) {
    tg_scope_begin();
    int64_t sh[2] = {4, 6};
    tg_tensor *x = tg_randn(TG_C128, 2, sh), *r = tg_randn(TG_F64, 2, sh);
    check_error(tg_fft_fft(x, TG_NONE, 2, NULL), TG_ERR_ARG, "axis out of range");
    check_error(tg_fft_fft(x, TG_NONE, -3, NULL), TG_ERR_ARG, "negative axis out of range");
    check_error(tg_fft_fft(x, 0, 0, NULL), TG_ERR_ARG, "n = 0");
    check_error(tg_fft_ifft(x, -4, 0, NULL), TG_ERR_ARG, "n < 0");
    check_error(tg_fft_fft(x, TG_NONE, 0, "Ortho"), TG_ERR_ARG, "bad norm");
    check_error(tg_fft_fft(x, TG_NONE, 0, ""), TG_ERR_ARG, "empty norm");
    tg_fft_fft(x, TG_NONE, 0, "sideways");
    cr_expect(strstr(tg_last_error(), "tg_fft_fft") && strstr(tg_last_error(), "sideways"), "message: %s",
              tg_last_error());
    tg_clear_error();
    check_error(tg_fft_fftn(x, 2, (int[]){0, -2}, NULL, NULL), TG_ERR_ARG, "repeated axes");
    check_error(tg_fft_fftn(x, 3, NULL, NULL, NULL), TG_ERR_ARG, "too many axes");
    check_error(tg_fft_fftn(x, 2, (int[]){0, 1}, (int64_t[]){3, 0}, NULL), TG_ERR_ARG, "size 0");
    check_error(tg_fft_rfft(x, TG_NONE, -1, NULL), TG_ERR_DTYPE, "rfft of complex");
    check_error(tg_fft_irfft(tg_randn(TG_C128, 1, (int64_t[]){1}), TG_NONE, 0, NULL), TG_ERR_ARG,
                "irfft of 1 bin: n = 0");
    check_error(tg_fft_irfftn(x, 2, NULL, (int64_t[]){4, -1}, NULL), TG_ERR_ARG, "irfftn size < 1");
    tg_fft_irfft(tg_zeros(TG_C128, 1, (int64_t[]){0}), TG_NONE, 0, NULL);
    cr_expect(strstr(tg_last_error(), "tg_fft_irfft: invalid number of data points (-2)"), "irfft of 0 bins: %s",
              tg_last_error());
    tg_clear_error();
    check_error(tg_fft_fft(tg_scalar(TG_F64, 1.0), TG_NONE, 0, NULL), TG_ERR_ARG, "0-d input");
    check_error(tg_fft_fft(NULL, TG_NONE, 0, NULL), TG_ERR_ARG, "NULL input");
    check_error(tg_fft_fftshift(r, 2, (int[]){1, 1}), TG_ERR_ARG, "shift repeated axes");
    check_error(tg_fft_fftshift(r, 1, (int[]){5}), TG_ERR_ARG, "shift bad axis");
    check_error(tg_fft_fftfreq(0, 1.0, TG_F64), TG_ERR_ARG, "fftfreq n = 0");
    check_error(tg_fft_rfftfreq(4, 0.0, TG_F64), TG_ERR_ARG, "rfftfreq d = 0");
    check_error(tg_fft_fftfreq(4, 1.0, TG_I64), TG_ERR_DTYPE, "fftfreq int dtype");
    check_error(tg_fft_fftfreq((int64_t)1 << 61, 1.0, TG_F64), TG_ERR_MEMORY, "fftfreq of 2^61 points");
    tg_scope_end();
}

/* ---- gradient checks ---------------------------------------------------------------------- */
typedef struct { int op; const char *norm; int64_t n; } gctx;
enum { G_FFT, G_IFFT, G_RFFT, G_IRFFT, G_FFTN, G_IFFTN, G_RFFTN, G_IRFFTN, G_HFFT, G_IHFFT, G_SHIFT };
static tg_status gfn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const gctx *g = ctx;
    static const int ax2[2] = {0, 1};
    switch (g->op) {
    case G_FFT: out[0] = tg_fft_fft(in[0], g->n, -1, g->norm); break;
    case G_IFFT: out[0] = tg_fft_ifft(in[0], g->n, 0, g->norm); break;
    case G_RFFT: out[0] = tg_fft_rfft(in[0], g->n, -1, g->norm); break;
    case G_IRFFT: out[0] = tg_fft_irfft(in[0], g->n, -1, g->norm); break;
    case G_FFTN: out[0] = tg_fft_fftn(in[0], 2, ax2, NULL, g->norm); break;
    case G_IFFTN: out[0] = tg_fft_ifftn(in[0], 2, ax2, (int64_t[]){4, 3}, g->norm); break;
    case G_RFFTN: out[0] = tg_fft_rfftn(in[0], 2, ax2, NULL, g->norm); break;
    case G_IRFFTN: out[0] = tg_fft_irfftn(in[0], 2, ax2, (int64_t[]){3, g->n}, g->norm); break;
    case G_HFFT: out[0] = tg_fft_hfft(in[0], g->n, -1, g->norm); break;
    case G_IHFFT: out[0] = tg_fft_ihfft(in[0], g->n, -1, g->norm); break;
    default: out[0] = tg_fft_fftshift(in[0], 0, NULL); break;
    }
    return out[0] ? TG_OK : tg_last_error_code();
}

static void check_gradients(int op, tg_dtype dt, int nd, const int64_t *shape, int64_t n, const char *what) {
    static const char *norms[3] = {NULL, "ortho", "forward"};
    for (int k = 0; k < 3; k++) {
        tg_scope_begin();
        tg_manual_seed(7 + (uint64_t)k);
        tg_tensor *x = tg_randn(dt, nd, shape);
        gctx g = {op, norms[k], n};
        tg_status st = tg_gradcheck(gfn, &g, 1, &x, 1, NULL);
        cr_expect_eq(st, TG_OK, "gradcheck %s norm %s: %s", what, norms[k] ? norms[k] : "NULL", tg_last_error());
        tg_clear_error();
        st = tg_gradgradcheck(gfn, &g, 1, &x, 1, NULL);
        cr_expect_eq(st, TG_OK, "gradgradcheck %s norm %s: %s", what, norms[k] ? norms[k] : "NULL",
                     tg_last_error());
        tg_clear_error();
        tg_scope_end();
    }
}

Test(fft, gradcheck_fft) {
    check_gradients(G_FFT, TG_C128, 1, (int64_t[]){6}, TG_NONE, "fft c128 6");
    check_gradients(G_FFT, TG_C128, 2, (int64_t[]){2, 7}, 9, "fft c128 (2,7) n=9");
    check_gradients(G_FFT, TG_F64, 1, (int64_t[]){5}, 4, "fft f64 5 n=4");
    check_gradients(G_IFFT, TG_C128, 2, (int64_t[]){5, 2}, TG_NONE, "ifft c128 (5,2) axis 0");
}
Test(fft, gradcheck_rfft) {
    check_gradients(G_RFFT, TG_F64, 1, (int64_t[]){6}, TG_NONE, "rfft f64 6");
    check_gradients(G_RFFT, TG_F64, 2, (int64_t[]){3, 7}, TG_NONE, "rfft f64 (3,7)");
    check_gradients(G_RFFT, TG_F64, 1, (int64_t[]){5}, 8, "rfft f64 5 n=8");
}
Test(fft, gradcheck_irfft) {
    check_gradients(G_IRFFT, TG_C128, 1, (int64_t[]){4}, 6, "irfft c128 4 bins n=6");
    check_gradients(G_IRFFT, TG_C128, 2, (int64_t[]){2, 4}, 7, "irfft c128 4 bins n=7");
    check_gradients(G_IRFFT, TG_C128, 1, (int64_t[]){5}, 5, "irfft c128 5 bins n=5 (crop)");
    check_gradients(G_IRFFT, TG_C128, 1, (int64_t[]){4}, TG_NONE, "irfft c128 default n");
}
Test(fft, gradcheck_nd) {
    check_gradients(G_FFTN, TG_C128, 2, (int64_t[]){3, 4}, TG_NONE, "fftn c128 (3,4)");
    check_gradients(G_IFFTN, TG_C128, 3, (int64_t[]){3, 5, 2}, TG_NONE, "ifftn c128 (3,5,2) s=(4,3)");
    check_gradients(G_RFFTN, TG_F64, 2, (int64_t[]){3, 5}, TG_NONE, "rfftn f64 (3,5)");
    check_gradients(G_IRFFTN, TG_C128, 2, (int64_t[]){3, 4}, 6, "irfftn c128 (3,4) s=(3,6)");
    check_gradients(G_IRFFTN, TG_C128, 2, (int64_t[]){3, 4}, 7, "irfftn c128 (3,4) s=(3,7)");
}
Test(fft, gradcheck_hermitian_and_shift) {
    check_gradients(G_HFFT, TG_C128, 1, (int64_t[]){4}, 7, "hfft c128 n=7");
    check_gradients(G_IHFFT, TG_F64, 1, (int64_t[]){6}, TG_NONE, "ihfft f64 6");
    check_gradients(G_SHIFT, TG_F64, 2, (int64_t[]){3, 4}, TG_NONE, "fftshift f64 (3,4)");
}

/* ---- eager vs traced ------------------------------------------------------------------------- */
/* One trace, compiled once (value and VJP), run on each of the shapes given
 * (nshapes of them, all matching spec): results and cotangents bitwise
 * equal to eager mode, which the oracle tests check against NumPy. Sizes on
 * transformed axes may be symbolic: a new length reuses the program. */
static void check_traced_on(int op, tg_dtype dt, const char *spec, int nd, int nshapes, const int64_t (*shapes)[3],
                            int64_t n, const char *norm) {
    tg_scope_begin();
    gctx g = {op, norm, n};
    tg_graph *gr = tg_trace(gfn, &g, 1, (tg_spec[]){{dt, spec}}, 1);
    cr_assert(gr, "trace %d %s: %s", op, spec, tg_last_error());
    tg_graph *vg = tg_graph_vjp(gr);
    cr_assert(vg, "vjp graph %d: %s", op, tg_last_error());
    tg_program *p = tg_compile(gr, NULL), *pv = tg_compile(vg, NULL);
    cr_assert(p && pv, "compile %d: %s", op, tg_last_error());
    for (int q = 0; q < nshapes; q++) {
        tg_manual_seed(99 + (uint64_t)q);
        tg_tensor *x = tg_randn(dt, nd, shapes[q]);
        tg_tensor *eager = NULL;
        cr_assert_eq(gfn(&g, &x, &eager), TG_OK, "eager: %s", tg_last_error());
        tg_tensor *traced = NULL;
        cr_assert_eq(tg_run(p, &x, &traced), TG_OK, "run %d %s, shape %d: %s", op, spec, q, tg_last_error());
        cr_expect(bitwise_equal(eager, traced), "op %d %s shape %d: traced result differs from eager", op, spec, q);
        if (q == nshapes - 1) {
            /* saved and loaded (symbolic attributes such as irfft's length included) */
            void *buf = NULL;
            size_t len = 0;
            cr_assert_eq(tg_program_save_buffer(p, &buf, &len), TG_OK, "save: %s", tg_last_error());
            tg_program *lp = tg_program_load_buffer(buf, len);
            free(buf);
            cr_assert(lp, "load: %s", tg_last_error());
            tg_tensor *loaded = NULL;
            cr_assert_eq(tg_run(lp, &x, &loaded), TG_OK, "run loaded: %s", tg_last_error());
            cr_expect(bitwise_equal(eager, loaded), "op %d %s: loaded program differs from eager", op, spec);
            tg_release(loaded);
            tg_program_free(lp);
        }
        /* the traced VJP against the eager one */
        tg_tensor *cot = tg_randn(tg_dtype_of(eager), tg_ndim(eager), tg_shape(eager));
        tg_tensor *eg = NULL;
        cr_assert_eq(tg_vjp(gfn, &g, 1, &x, 1, &cot, NULL, &eg), TG_OK, "eager vjp: %s", tg_last_error());
        tg_tensor *rv[2] = {0}, *vin[2] = {x, cot};
        cr_assert_eq(tg_run(pv, vin, rv), TG_OK, "run vjp %d %s shape %d: %s", op, spec, q, tg_last_error());
        cr_expect(bitwise_equal(eager, rv[0]), "op %d %s shape %d: traced vjp value differs", op, spec, q);
        cr_expect(bitwise_equal(eg, rv[1]), "op %d %s shape %d: traced vjp cotangent differs from eager", op, spec,
                  q);
        tg_release(traced);
        tg_release(rv[0]);
        tg_release(rv[1]);
    }
    tg_program_free(p);
    tg_program_free(pv);
    tg_graph_free(vg);
    tg_graph_free(gr);
    tg_scope_end();
}

static void check_traced_equals_eager(int op, tg_dtype dt, const char *spec, int nd, const int64_t *shape, int64_t n,
                                      const char *norm) {
    int64_t one[1][3] = {{shape[0], nd > 1 ? shape[1] : 0, nd > 2 ? shape[2] : 0}};
    check_traced_on(op, dt, spec, nd, 1, (const int64_t(*)[3])one, n, norm);
}

Test(fft, traced_equals_eager) {
    check_traced_equals_eager(G_FFT, TG_C128, "4, 6", 2, (int64_t[]){4, 6}, TG_NONE, NULL);
    check_traced_equals_eager(G_FFT, TG_C64, "3, 5", 2, (int64_t[]){3, 5}, 8, "ortho");
    check_traced_equals_eager(G_RFFT, TG_F64, "4, 6", 2, (int64_t[]){4, 6}, TG_NONE, "forward");
    check_traced_equals_eager(G_IRFFT, TG_C128, "2, 4", 2, (int64_t[]){2, 4}, 7, NULL);
    check_traced_equals_eager(G_FFTN, TG_C128, "3, 4", 2, (int64_t[]){3, 4}, TG_NONE, "ortho");
    check_traced_equals_eager(G_RFFTN, TG_F32, "4, 6", 2, (int64_t[]){4, 6}, TG_NONE, NULL);
    check_traced_equals_eager(G_SHIFT, TG_F64, "5, 4", 2, (int64_t[]){5, 4}, TG_NONE, NULL);
}

/* Symbolic lengths on the transformed axes: even and odd lengths, and the
 * smallest ones (1 and 2 points, where irfft's VJP doubles no bin and a
 * shift moves nothing), from one program each. */
Test(fft, symbolic_lengths_trace_once) {
    check_traced_on(G_FFT, TG_C128, "4, N", 2, 3, (const int64_t[][3]){{4, 6}, {4, 7}, {4, 1}}, TG_NONE, NULL);
    check_traced_on(G_IFFT, TG_C64, "N, 3", 2, 2, (const int64_t[][3]){{5, 3}, {8, 3}}, TG_NONE, "ortho");
    check_traced_on(G_RFFT, TG_F64, "B, N", 2, 4, (const int64_t[][3]){{2, 6}, {3, 7}, {1, 1}, {2, 2}}, TG_NONE,
                    "forward");
    /* irfft's default length 2 (M - 1): its bins check M == (2M - 2) // 2 + 1 holds at trace time */
    check_traced_on(G_IRFFT, TG_C128, "2, M", 2, 4, (const int64_t[][3]){{2, 4}, {2, 5}, {2, 2}, {2, 9}}, TG_NONE,
                    NULL);
    check_traced_on(G_HFFT, TG_C128, "M", 1, 2, (const int64_t[][3]){{4}, {6}}, TG_NONE, "ortho");
    check_traced_on(G_IHFFT, TG_F64, "N", 1, 2, (const int64_t[][3]){{5}, {6}}, TG_NONE, NULL);
    check_traced_on(G_FFTN, TG_C128, "N, M", 2, 2, (const int64_t[][3]){{3, 4}, {5, 2}}, TG_NONE, "ortho");
    check_traced_on(G_RFFTN, TG_F32, "N, M", 2, 2, (const int64_t[][3]){{4, 6}, {3, 5}}, TG_NONE, NULL);
    check_traced_on(G_SHIFT, TG_F64, "N, M", 2, 3, (const int64_t[][3]){{5, 4}, {6, 3}, {1, 1}}, TG_NONE, NULL);
}

/* A symbolic batch axis; and a length asked for on a symbolic axis, where
 * whether to crop or pad is not known while tracing: a trace-time error. */
Test(fft, symbolic_axes_errors_and_batches) {
    tg_scope_begin();
    gctx g = {G_FFT, NULL, 8};
    tg_graph *gr = tg_trace(gfn, &g, 1, (tg_spec[]){{TG_C128, "4, N"}}, 1);
    cr_expect_null(gr, "n = 8 on a symbolic axis traces");
    cr_expect_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED, "code: %s", tg_last_error());
    cr_expect(strstr(tg_last_error(), "tg_fft_fft") && strstr(tg_last_error(), "N points and 8"), "message: %s",
              tg_last_error());
    tg_clear_error();
    gctx gi = {G_IRFFT, NULL, 6};
    cr_expect_null(tg_trace(gfn, &gi, 1, (tg_spec[]){{TG_C128, "M"}}, 1), "irfft n = 6 of M bins traces");
    cr_expect_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED, "code: %s", tg_last_error());
    tg_clear_error();
    /* frequencies need a known length: a clear error, not a huge allocation */
    check_error(tg_fft_fftfreq(tg_size_symbol("N"), 1.0, TG_F64), TG_ERR_UNSUPPORTED, "fftfreq of a symbolic length");
    check_error(tg_fft_rfftfreq(tg_size_add(tg_size_symbol("N"), 1), 0.5, TG_F32), TG_ERR_UNSUPPORTED,
                "rfftfreq of a symbolic length");
    /* a symbolic batch axis */
    check_traced_on(G_FFT, TG_C128, "B, 6", 2, 2, (const int64_t[][3]){{3, 6}, {1, 6}}, TG_NONE, "ortho");
    tg_scope_end();
}

/* Plans are reused: the same problem again adds no plan (the library's
 * internal counter; the tests link the static library). */
int tg__fft_plan_cache_size(void);
Test(fft, plans_are_cached) {
    tg_scope_begin();
    tg_tensor *x = tg_randn(TG_C128, 2, (int64_t[]){5, 9});
    tg_tensor *a = tg_fft_fft(x, TG_NONE, -1, NULL);
    int n0 = tg__fft_plan_cache_size();
    tg_tensor *b = tg_fft_fft(x, TG_NONE, -1, "ortho");
    cr_expect_eq(tg__fft_plan_cache_size(), n0, "a second transform of the same problem made a new plan");
    cr_expect(n0 >= 1, "no plan cached");
    tg_tensor *c = tg_fft_fft(tg_mul_scalar(b, 1.0 / 3.0), TG_NONE, -1, NULL);
    cr_expect(bitwise_equal(a, tg_fft_fft(x, TG_NONE, -1, NULL)), "same transform twice differs");
    cr_expect(c != NULL, "%s", tg_last_error());
    tg_scope_end();
}

/* Strided views go to FFTW with their own strides (no copy); each must give
 * the transform of its contiguous copy. Broadcast (stride 0) and flipped
 * (negative stride, copied) views included; c2c, r2c and c2r. */
static void check_view(tg_tensor *v, const char *what) {
    tg_tensor *c = tg_contiguous(v);
    tg_tensor *pairs[3][2] = {{tg_fft_fftn(v, 0, NULL, NULL, NULL), tg_fft_fftn(c, 0, NULL, NULL, NULL)},
                              {tg_fft_rfft(tg_real(v), TG_NONE, 0, NULL), tg_fft_rfft(tg_real(c), TG_NONE, 0, NULL)},
                              {tg_fft_irfft(v, TG_NONE, -1, NULL), tg_fft_irfft(c, TG_NONE, -1, NULL)}};
    for (int k = 0; k < 3; k++) {
        cr_assert(pairs[k][0] && pairs[k][1], "%s: %s", what, tg_last_error());
        check_close(pairs[k][0], pairs[k][1], 1e-12, 1e-12, what);
    }
}

Test(fft, strided_views_match_contiguous_copies) {
    tg_scope_begin();
    tg_manual_seed(21);
    tg_tensor *x = tg_randn(TG_C128, 3, (int64_t[]){6, 10, 8});
    check_view(tg_permute(x, (int[]){2, 0, 1}), "permuted");
    check_view(tg_slice(tg_slice(x, 1, 1, TG_NONE, 2), 2, 0, 7, 1), "sliced with step 2");
    check_view(tg_expand(tg_slice(x, 0, 0, 1, 1), 3, (int64_t[]){4, 10, 8}), "broadcast batch axis");
    check_view(tg_flip(x, 1, (int[]){1}), "flipped (negative stride)");
    tg_tensor *xf = tg_cast(tg_permute(x, (int[]){1, 2, 0}), TG_C64);
    tg_tensor *a = tg_fft_fft(tg_mT(xf), TG_NONE, 1, NULL), *b = tg_fft_fft(tg_contiguous(tg_mT(xf)), TG_NONE, 1, NULL);
    cr_assert(a && b, "%s", tg_last_error());
    check_close(a, b, 1e-5, 1e-5, "c64 transposed, middle axis");
    tg_scope_end();
}

/* ---- planner rigor, threads and wisdom --------------------------------------------------- */
/* fft(ones(n)) = n at bin 0 and 0 elsewhere: max |y| = n and sum |y| = n. */
static void check_fft_of_ones(tg_dtype dt, int64_t n, double rtol, const char *what) {
    tg_tensor *y = tg_fft_fft(tg_ones(dt, 1, &n), TG_NONE, 0, NULL);
    cr_assert(y, "%s: %s", what, tg_last_error());
    tg_tensor *a = tg_abs(y);
    cr_expect_float_eq(tg_item_f64(tg_max(a, 0, NULL, false)), (double)n, rtol * n, "%s: max", what);
    cr_expect_float_eq(tg_item_f64(tg_sum(a, 0, NULL, false)), (double)n, rtol * n, "%s: sum", what);
}

Test(fft, planner_modes_and_threads) {
    tg_scope_begin();
    check_status(tg_fft_set_planner("quick"), TG_ERR_ARG, "unknown planner mode");
    int64_t sh[2] = {3, 64};
    tg_tensor *x = tg_randn(TG_C128, 2, sh);
    tg_tensor *estimated = tg_fft_fft(x, TG_NONE, -1, NULL);
    int threads = tg_get_num_threads();
    tg_set_num_threads(2);
    /* Patient planning of the large problems below takes minutes, so it only
     * plans the small one; measure plans everything. */
    const char *modes[] = {"patient", "measure", "estimate"};
    for (int m = 0; m < 3; m++) {
        check_status(tg_fft_set_planner(modes[m]), TG_OK, modes[m]);
        check_close(tg_fft_fft(x, TG_NONE, -1, NULL), estimated, 1e-12, 1e-12, modes[m]);
        if (m != 1) continue;
        /* 2^17 points: above the threading threshold, so these plans use two threads. */
        check_fft_of_ones(TG_F64, 1 << 17, 1e-12, "threaded f64");
        check_fft_of_ones(TG_F32, 1 << 17, 1e-5, "threaded f32");
        int64_t n = 1 << 17;
        tg_tensor *z = tg_randn(TG_C64, 1, &n);
        check_close(tg_fft_ifft(tg_fft_fft(z, TG_NONE, 0, NULL), TG_NONE, 0, NULL), z, 1e-4, 1e-5, "c64 round trip");
    }
    tg_set_num_threads(threads);
    tg_scope_end();
}

Test(fft, wisdom_files) {
    char path[64], f32path[80];
    snprintf(path, sizeof path, "/tmp/tangent-wisdom-%d", (int)getpid());
    snprintf(f32path, sizeof f32path, "%s.f32", path);
    check_status(tg_fft_wisdom_export(NULL), TG_ERR_ARG, "export NULL");
    check_status(tg_fft_wisdom_import(NULL), TG_ERR_ARG, "import NULL");
    check_status(tg_fft_wisdom_export("/nonexistent-dir/w"), TG_ERR_IO, "export to a missing directory");
    check_status(tg_fft_wisdom_import("/nonexistent-dir/w"), TG_ERR_IO, "import a missing file");
    check_status(tg_fft_wisdom_export(path), TG_OK, "export");
    FILE *f = fopen(path, "r"), *g = fopen(f32path, "r");
    cr_expect(f && g, "both wisdom files written");
    if (f) fclose(f);
    if (g) fclose(g);
    check_status(tg_fft_wisdom_import(path), TG_OK, "import what was exported");
    f = fopen(path, "w");
    cr_assert(f);
    fputs("not wisdom\n", f);
    fclose(f);
    check_status(tg_fft_wisdom_import(path), TG_ERR_IO, "import garbage");
    remove(path);
    remove(f32path);
}
