/* Eager autodiff: tg_backward semantics, higher order, forward mode, the
 * functional helpers, and bad input. Expected values are closed forms
 * checked against PyTorch 1.13 (noted per test). */
#include "support/check.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

TestSuite(autodiff, .init = tg_clear_error);

static tg_tensor *vec(int n, const double *v) { return tg_from_data(TG_F64, 1, (int64_t[]){n}, v); }

Test(autodiff, backward_of_sum_of_squares_and_accumulation) {
    tg_scope_begin();
    tg_tensor *x = vec(3, (double[]){1, -2, 3});
    check_status(tg_set_requires_grad(x, true), TG_OK, "requires_grad");
    tg_tensor *y = tg_sum(tg_mul(x, x), 0, NULL, false);
    check_status(tg_backward(y, NULL), TG_OK, "backward");
    check_values_f64(tg_grad(x), 3, (double[]){2, -4, 6}, 1e-15, "d sum(x^2)");
    /* a second computation accumulates */
    tg_tensor *z = tg_sum(tg_mul_scalar(x, 3.0), 0, NULL, false);
    check_status(tg_backward(z, NULL), TG_OK, "backward 2");
    check_values_f64(tg_grad(x), 3, (double[]){5, -1, 9}, 1e-15, "accumulated");
    check_status(tg_zero_grad(x), TG_OK, "zero_grad");
    cr_assert_null(tg_grad(x));
    tg_scope_end();
}

Test(autodiff, broadcast_operand_gets_summed_gradient) {
    tg_scope_begin();
    tg_tensor *a = tg_ones(TG_F64, 2, (int64_t[]){2, 3});
    tg_tensor *b = vec(3, (double[]){1, 2, 3});
    tg_set_requires_grad(a, true);
    tg_set_requires_grad(b, true);
    tg_tensor *y = tg_sum(tg_mul(a, b), 0, NULL, false);
    check_status(tg_backward(y, NULL), TG_OK, "backward");
    check_values_f64(tg_grad(b), 3, (double[]){2, 2, 2}, 0, "b summed over the broadcast axis");
    check_values_f64(tg_grad(a), 6, (double[]){1, 2, 3, 1, 2, 3}, 0, "a");
    tg_scope_end();
}

Test(autodiff, complex_convention_matches_pytorch) {
    /* torch: z = 1+2i, (z.abs()**2).backward() gives z.grad = 2+4i */
    tg_scope_begin();
    tg_tensor *z = tg_scalar_complex(TG_C128, 1, 2);
    tg_set_requires_grad(z, true);
    tg_tensor *l = tg_square(tg_abs(z));
    check_status(tg_backward(l, NULL), TG_OK, "backward");
    double re, im;
    check_status(tg_item_c128(tg_grad(z), &re, &im), TG_OK, "item");
    cr_assert_float_eq(re, 2.0, 1e-12);
    cr_assert_float_eq(im, 4.0, 1e-12);
    /* torch: w = 1+2i, (w*w).real.backward() gives conj(2w) = 2-4i */
    tg_tensor *w = tg_scalar_complex(TG_C128, 1, 2);
    tg_set_requires_grad(w, true);
    check_status(tg_backward(tg_real(tg_mul(w, w)), NULL), TG_OK, "backward 2");
    check_status(tg_item_c128(tg_grad(w), &re, &im), TG_OK, "item");
    cr_assert_float_eq(re, 2.0, 1e-12);
    cr_assert_float_eq(im, -4.0, 1e-12);
    tg_scope_end();
}

Test(autodiff, create_graph_gives_second_and_third_derivatives) {
    tg_scope_begin();
    tg_tensor *x = tg_scalar(TG_F64, 2.0);
    tg_set_requires_grad(x, true);
    tg_tensor *y = tg_mul(tg_mul(x, x), x);                 /* x^3 */
    tg_backward_opts o = {.create_graph = true};
    check_status(tg_backward(y, &o), TG_OK, "first");
    tg_tensor *g1 = tg_retain(tg_grad(x));                   /* 3x^2 = 12, with history */
    cr_assert_float_eq(tg_item_f64(g1), 12.0, 1e-12);
    tg_zero_grad(x);
    check_status(tg_backward(g1, &o), TG_OK, "second");
    tg_tensor *g2 = tg_retain(tg_grad(x));                   /* 6x = 12 */
    cr_assert_float_eq(tg_item_f64(g2), 12.0, 1e-12);
    tg_zero_grad(x);
    check_status(tg_backward(g2, NULL), TG_OK, "third");
    cr_assert_float_eq(tg_item_f64(tg_grad(x)), 6.0, 1e-12);
    tg_zero_grad(x);       /* breaks the leaf -> grad -> graph -> leaf cycle */
    tg_release(g1);
    tg_release(g2);
    tg_scope_end();
}

Test(autodiff, errors_are_clear) {
    tg_scope_begin();
    tg_tensor *x = vec(2, (double[]){1, 2});
    check_status(tg_backward(tg_mul(x, x), NULL), TG_ERR_AUTOGRAD, "needs no grad");
    tg_set_requires_grad(x, true);
    check_status(tg_backward(tg_mul(x, x), NULL), TG_ERR_AUTOGRAD, "non-scalar without seed");
    tg_tensor *y = tg_sum(tg_exp(x), 0, NULL, false);
    check_status(tg_backward(y, NULL), TG_OK, "first backward");
    check_status(tg_backward(y, NULL), TG_ERR_AUTOGRAD, "second backward without retain_graph");
    tg_tensor *z = tg_sum(tg_exp(x), 0, NULL, false);
    tg_backward_opts keep = {.retain_graph = true};
    check_status(tg_backward(z, &keep), TG_OK, "retain");
    check_status(tg_backward(z, &keep), TG_OK, "again with retain");
    tg_backward_opts bad_seed = {.seed = vec(3, (double[]){1, 1, 1})};
    check_status(tg_backward(tg_mul(x, x), &bad_seed), TG_ERR_SHAPE, "seed shape");
    check_status(tg_set_requires_grad(tg_zeros(TG_I32, 1, (int64_t[]){2}), true), TG_ERR_DTYPE, "int leaf");
    check_status(tg_set_requires_grad(tg_mul(x, x), true), TG_ERR_AUTOGRAD, "non-leaf");
    check_status(tg_backward(NULL, NULL), TG_ERR_ARG, "NULL");
    tg_scope_end();
}

Test(autodiff, inplace_modification_of_saved_tensor_is_detected) {
    tg_scope_begin();
    tg_tensor *x = vec(2, (double[]){1, 2});
    tg_set_requires_grad(x, true);
    tg_tensor *h = tg_mul_scalar(x, 2.0);
    tg_tensor *y = tg_sum(tg_exp(h), 0, NULL, false);       /* exp saves h and its output */
    tg_no_grad_begin();
    check_status(tg_add_(h, tg_ones_like(h)), TG_OK, "in-place under no_grad");
    tg_no_grad_end();
    check_status(tg_backward(y, NULL), TG_ERR_AUTOGRAD, "modified after save");
    check_status(tg_add_(x, x), TG_ERR_AUTOGRAD, "in-place on a leaf that requires grad");
    tg_scope_end();
}

Test(autodiff, no_grad_and_detach_record_nothing) {
    tg_scope_begin();
    tg_tensor *x = vec(2, (double[]){1, 2});
    tg_set_requires_grad(x, true);
    tg_no_grad_begin();
    cr_assert(!tg_requires_grad(tg_exp(x)));
    tg_no_grad_end();
    cr_assert(tg_requires_grad(tg_exp(x)));
    cr_assert(!tg_requires_grad(tg_detach(tg_exp(x))));
    tg_scope_end();
}

static tg_status f_sin_times(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_mul(tg_sin(in[0]), in[1]);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(autodiff, jvp_and_vjp_functional) {
    tg_scope_begin();
    tg_tensor *x = vec(2, (double[]){0.5, 1.0}), *w = vec(2, (double[]){2, 3});
    tg_tensor *tx = vec(2, (double[]){1, 0}), *tw = vec(2, (double[]){0, 1});
    tg_tensor *out, *tan;
    check_status(tg_jvp(f_sin_times, NULL, 2, (tg_tensor *[]){x, w}, (tg_tensor *[]){tx, tw}, 1, &out, &tan),
                 TG_OK, "jvp");
    check_values_f64(tan, 2, (double[]){cos(0.5) * 2, sin(1.0)}, 1e-14, "tangent");
    check_values_f64(out, 2, (double[]){sin(0.5) * 2, sin(1.0) * 3}, 1e-14, "primal out");
    cr_assert(!tg_requires_grad(x) && tg_grad(x) == NULL, "caller's tensors untouched");
    tg_tensor *g[2];
    check_status(tg_vjp(f_sin_times, NULL, 2, (tg_tensor *[]){x, w}, 1, (tg_tensor *[]){vec(2, (double[]){1, 1})},
                        NULL, g), TG_OK, "vjp");
    check_values_f64(g[0], 2, (double[]){cos(0.5) * 2, cos(1.0) * 3}, 1e-14, "vjp x");
    check_values_f64(g[1], 2, (double[]){sin(0.5), sin(1.0)}, 1e-14, "vjp w");
    cr_assert_null(tg_grad(x));
    tg_scope_end();
}

static tg_status f_cube_sum(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_mul(tg_square(in[0]), in[0]), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_grad_of_cube_sum(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    return tg_grad_fn(f_cube_sum, NULL, 1, in, NULL, out);
}

Test(autodiff, grad_of_grad_through_the_functional_api) {
    tg_scope_begin();
    tg_tensor *x = vec(2, (double[]){1.5, -2});
    tg_tensor *g[1], *v;
    check_status(tg_grad_fn(f_cube_sum, NULL, 1, &x, &v, g), TG_OK, "grad");
    check_values_f64(g[0], 2, (double[]){3 * 2.25, 12}, 1e-13, "3x^2");
    cr_assert_float_eq(tg_item_f64(v), 1.5 * 1.5 * 1.5 - 8, 1e-13);
    /* Hessian-vector product by forward over reverse: H v = 6 x v */
    tg_tensor *hv, *gx;
    check_status(tg_jvp(f_grad_of_cube_sum, NULL, 1, &x, (tg_tensor *[]){vec(2, (double[]){1, 1})}, 1, &gx, &hv),
                 TG_OK, "hvp");
    check_values_f64(hv, 2, (double[]){9, -12}, 1e-13, "H v");
    tg_scope_end();
}

/* counts its calls: tg_grad_fn evaluates the function once */
static tg_status f_counted_sum(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (*(int *)ctx)++;
    out[0] = tg_sum(tg_square(in[0]), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_counted_vector(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (*(int *)ctx)++;
    out[0] = tg_square(in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_no_output(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx; (void)in;
    out[0] = NULL;
    return TG_OK;
}

Test(autodiff, grad_fn_runs_the_function_once) {
    tg_scope_begin();
    tg_tensor *x = vec(2, (double[]){3, -1}), *g[1], *v;
    int calls = 0;
    check_status(tg_grad_fn(f_counted_sum, &calls, 1, &x, &v, g), TG_OK, "grad");
    cr_expect_eq(calls, 1, "the function ran %d times", calls);
    check_values_f64(g[0], 2, (double[]){6, -2}, 0, "2x");
    cr_assert_float_eq(tg_item_f64(v), 10, 0);
    calls = 0;
    cr_expect_eq(tg_grad_fn(f_counted_vector, &calls, 1, &x, &v, g), TG_ERR_SHAPE);
    cr_expect(strstr(tg_last_error(), "output of shape (2,) is not a scalar") != NULL, "%s", tg_last_error());
    cr_expect(g[0] == NULL && v == NULL && calls == 1);
    tg_clear_error();
    cr_expect_eq(tg_grad_fn(f_no_output, NULL, 1, &x, NULL, g), TG_ERR_ARG);
    cr_expect(strstr(tg_last_error(), "returned no output") != NULL, "%s", tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

Test(autodiff, long_training_loop_keeps_memory_flat) {
    tg_tensor *w = tg_randn(TG_F32, 2, (int64_t[]){8, 8});
    tg_set_requires_grad(w, true);
    tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){4, 8});
    for (int step = 0; step < 2000; step++) {
        tg_scope_begin();
        tg_tensor *loss = tg_mean(tg_square(tg_tanh(tg_matmul(x, w))), 0, NULL, false);
        cr_assert_eq(tg_backward(loss, NULL), TG_OK, "%s", tg_last_error());
        tg_no_grad_begin();
        tg_sub_(w, tg_mul_scalar(tg_grad(w), 0.01));
        tg_no_grad_end();
        tg_zero_grad(w);
        tg_scope_end();
    }
    tg_release(x);
    tg_release(w);      /* LeakSanitizer in the asan preset checks nothing is left */
}

/* Resident memory in KiB (Linux). */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * 4;
}

Test(autodiff, hundred_thousand_steps_keep_memory_flat, .timeout = 120) {
    tg_tensor *w = tg_randn(TG_F32, 2, (int64_t[]){4, 4});
    tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){2, 4});
    tg_set_requires_grad(w, true);
    long after_warmup = 0;
    for (int step = 0; step < 100000; step++) {
        tg_scope_begin();
        tg_tensor *loss = tg_sum(tg_square(tg_relu(tg_matmul(x, w))), 0, NULL, false);
        if (tg_backward(loss, NULL) != TG_OK) cr_assert_fail("step %d: %s", step, tg_last_error());
        tg_no_grad_begin();
        tg_sub_(w, tg_mul_scalar(tg_grad(w), 1e-4));
        tg_no_grad_end();
        tg_zero_grad(w);
        tg_scope_end();
        if (step == 10000) after_warmup = rss_kib();
    }
    long growth = rss_kib() - after_warmup;
    tg_release(x);
    tg_release(w);
#ifndef __SANITIZE_ADDRESS__
    /* AddressSanitizer holds freed memory in quarantine, so resident memory
     * says nothing there; LeakSanitizer checks that build instead. */
    cr_assert(growth < 1024, "resident memory grew by %ld KiB over 90000 steps", growth);
#else
    (void)growth;
#endif
}

/* f16 matmul differentiates through its own rule (matmuls of f16 values):
 * d/dA sum(A B) = 1 B^T, exact on these small integers; the gradient keeps
 * A's dtype. */
Test(autodiff, f16_matmul_gradient) {
    static const double X[4] = {1, 2, 3, 4}, Y[4] = {5, 6, 7, 8}, WANT[4] = {11, 15, 11, 15};
    int64_t s[2] = {2, 2};
    tg_scope_begin();
    tg_tensor *a = tg_cast(tg_from_data(TG_F64, 2, s, X), TG_F16), *b = tg_cast(tg_from_data(TG_F64, 2, s, Y), TG_F16);
    tg_set_requires_grad(a, true);
    tg_tensor *loss = tg_sum(tg_cast(tg_matmul(a, b), TG_F32), 0, NULL, false);
    cr_assert_not_null(loss, "%s", tg_last_error());
    cr_assert_eq(tg_backward(loss, NULL), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_dtype_of(tg_grad(a)), TG_F16);
    double got[4];
    cr_assert_eq(tg_copy_to(tg_cast(tg_grad(a), TG_F64), got, sizeof got), TG_OK);
    for (int i = 0; i < 4; i++) cr_assert_eq(got[i], WANT[i], "element %d: %g", i, got[i]);
    tg_scope_end();
}
