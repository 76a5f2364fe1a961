/* Optimisers (tg_optim_sgd, tg_optim_adam): bad input, hand-computed
 * updates, gradients from the tape or explicit, skipped parameters,
 * zero_grad, no recording on the tape, views as parameters. Five-step
 * comparisons with torch.optim: tests/test_oracle_nn_layers.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "support/check.h"

TestSuite(optim, .init = tg_clear_error);

static void expect_msg(const char *part) {
    cr_expect(strstr(tg_last_error(), part) != NULL, "message lacks \"%s\": %s", part, tg_last_error());
    tg_clear_error();
}

Test(optim, errors) {
    tg_scope_begin();
    tg_tensor *p = tg_zeros(TG_F64, 1, (int64_t[]){3}), *q = tg_zeros(TG_F32, 2, (int64_t[]){2, 2});
    tg_tensor *ps[2] = {p, q};
    check_error(tg_optim_sgd(0, ps, 0.1, 0, 0), TG_ERR_ARG, "sgd n = 0");
    check_error(tg_optim_sgd(2, NULL, 0.1, 0, 0), TG_ERR_ARG, "sgd params NULL");
    check_error(tg_optim_adam(2, (tg_tensor *[]){p, NULL}, 0.1, 0.9, 0.999, 1e-8), TG_ERR_ARG, "adam NULL param");
    check_error(tg_optim_sgd(2, (tg_tensor *[]){p, p}, 0.1, 0, 0), TG_ERR_ARG, "repeated parameter");
    check_error(tg_optim_sgd(1, (tg_tensor *[]){tg_zeros(TG_I64, 1, (int64_t[]){3})}, 0.1, 0, 0), TG_ERR_DTYPE,
                "integer parameter");
    check_error(tg_optim_sgd(2, ps, -0.1, 0, 0), TG_ERR_ARG, "negative lr");
    check_error(tg_optim_sgd(2, ps, NAN, 0, 0), TG_ERR_ARG, "NaN lr");
    check_error(tg_optim_sgd(2, ps, 0.1, -1, 0), TG_ERR_ARG, "negative momentum");
    check_error(tg_optim_adam(2, ps, 0.1, 1.0, 0.999, 1e-8), TG_ERR_ARG, "beta1 = 1");
    check_error(tg_optim_adam(2, ps, 0.1, 0.9, -0.5, 1e-8), TG_ERR_ARG, "negative beta2");
    check_error(tg_optim_adam(2, ps, 0.1, 0.9, 0.999, -1), TG_ERR_ARG, "negative eps");
    check_status(tg_optim_step(NULL, NULL), TG_ERR_ARG, "step NULL");
    check_status(tg_optim_zero_grad(NULL), TG_ERR_ARG, "zero_grad NULL");
    tg_optim_free(NULL);

    /* a mismatched gradient is an error before any parameter changes */
    tg_optimizer *o = tg_optim_sgd(2, ps, 0.1, 0.9, 0);
    cr_assert_not_null(o, "%s", tg_last_error());
    tg_tensor *g_ok = tg_ones(TG_F64, 1, (int64_t[]){3}), *g_bad = tg_ones(TG_F32, 2, (int64_t[]){2, 3});
    check_status(tg_optim_step(o, (tg_tensor *[]){g_ok, g_bad}), TG_ERR_SHAPE, "shape mismatch");
    check_values_f64(p, 3, (double[]){0, 0, 0}, 0, "first parameter untouched");
    check_status(tg_optim_step(o, (tg_tensor *[]){g_ok, tg_zeros(TG_I32, 2, (int64_t[]){2, 2})}), TG_ERR_DTYPE,
                 "integer gradient");
    tg_optim_step(o, (tg_tensor *[]){g_bad, g_ok});
    expect_msg("gradient 0 has shape (2, 3) but parameter 0 has (3,)");
    tg_optim_free(o);
    tg_scope_end();
}

/* Explicit gradients on parameters that do not require grad; hand-computed SGD with
 * momentum and weight decay, and Adam's first two steps. */
Test(optim, hand_computed_updates) {
    tg_scope_begin();
    double p0[2] = {1.0, -2.0}, g1[2] = {0.5, 1.0}, g2[2] = {-1.0, 2.0};
    tg_tensor *p = tg_from_data(TG_F64, 1, (int64_t[]){2}, p0);
    tg_tensor *G1 = tg_from_data(TG_F64, 1, (int64_t[]){2}, g1), *G2 = tg_from_data(TG_F64, 1, (int64_t[]){2}, g2);
    const double lr = 0.1, mu = 0.9, wd = 0.01;
    tg_optimizer *o = tg_optim_sgd(1, &p, lr, mu, wd);
    cr_assert_not_null(o, "%s", tg_last_error());
    cr_assert_eq(tg_optim_step(o, &G1), TG_OK, "%s", tg_last_error());
    double v[2], q[2];
    for (int i = 0; i < 2; i++) { v[i] = g1[i] + wd * p0[i]; q[i] = p0[i] - lr * v[i]; }
    check_values_f64(p, 2, q, 1e-15, "sgd step 1 (v = d)");
    cr_assert_eq(tg_optim_step(o, &G2), TG_OK, "%s", tg_last_error());
    for (int i = 0; i < 2; i++) { v[i] = mu * v[i] + g2[i] + wd * q[i]; q[i] -= lr * v[i]; }
    check_values_f64(p, 2, q, 1e-15, "sgd step 2 (v = mu v + d)");
    tg_optim_free(o);

    tg_tensor *a = tg_from_data(TG_F64, 1, (int64_t[]){2}, p0);
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8, alr = 0.01;
    o = tg_optim_adam(1, &a, alr, b1, b2, eps);
    double m[2] = {0, 0}, s[2] = {0, 0}, r[2] = {p0[0], p0[1]};
    const double *gs[2] = {g1, g2};
    for (int t = 1; t <= 2; t++) {
        cr_assert_eq(tg_optim_step(o, t == 1 ? &G1 : &G2), TG_OK, "%s", tg_last_error());
        for (int i = 0; i < 2; i++) {
            m[i] = b1 * m[i] + (1 - b1) * gs[t - 1][i];
            s[i] = b2 * s[i] + (1 - b2) * gs[t - 1][i] * gs[t - 1][i];
            double mh = m[i] / (1 - pow(b1, t)), sh = s[i] / (1 - pow(b2, t));
            r[i] -= alr * mh / (sqrt(sh) + eps);
        }
        check_values_f64(a, 2, r, 1e-14, "adam step");
    }
    cr_expect(!tg_requires_grad(a) && tg_grad(a) == NULL, "parameter still does not require grad");
    tg_optim_free(o);
    tg_scope_end();
}

static double l2(tg_tensor *t) { return tg_item_f64(tg_sum(tg_square(t), 0, NULL, false)); }

/* Gradients from the tape; a parameter without one is skipped (its state too);
 * zero_grad clears them; nothing is recorded, and the parameter stays a leaf. */
Test(optim, tape_gradients_skip_and_zero_grad) {
    tg_scope_begin();
    tg_manual_seed(1);
    tg_tensor *w = tg_randn(TG_F32, 2, (int64_t[]){3, 4}), *u = tg_randn(TG_F32, 1, (int64_t[]){4});
    tg_set_requires_grad(w, true);
    tg_set_requires_grad(u, true);
    tg_tensor *u0 = tg_copy(tg_detach(u)), *w0 = tg_copy(tg_detach(w));
    tg_optimizer *o = tg_optim_adam(2, (tg_tensor *[]){w, u}, 0.01, 0.9, 0.999, 1e-8);
    cr_assert_not_null(o, "%s", tg_last_error());
    /* only w is used: u has no gradient and is skipped */
    cr_assert_eq(tg_backward(tg_sum(tg_square(w), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
    cr_assert_not_null(tg_grad(w));
    cr_assert_null(tg_grad(u));
    cr_assert_eq(tg_optim_step(o, NULL), TG_OK, "%s", tg_last_error());
    check_close(u, u0, 0, 0, "u skipped");
    cr_expect(l2(tg_sub(w, w0)) > 0, "w moved");
    /* Adam's first step moves every element by lr (sign of the gradient) */
    check_close(tg_abs(tg_sub(w, w0)), tg_full(TG_F32, 2, (int64_t[]){3, 4}, 0.01), 1e-4, 0, "first Adam step is lr");
    cr_expect(tg_requires_grad(w) && tg_requires_grad(u), "parameters still require grad");
    cr_assert_eq(tg_optim_zero_grad(o), TG_OK);
    cr_expect(tg_grad(w) == NULL && tg_grad(u) == NULL, "zero_grad clears the gradients");
    /* u's first real step is a first step (its count did not advance): it also moves by lr */
    cr_assert_eq(tg_backward(tg_sum(tg_mul_scalar(u, 3.0), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_optim_step(o, NULL), TG_OK, "%s", tg_last_error());
    check_close(tg_sub(u0, u), tg_full(TG_F32, 1, (int64_t[]){4}, 0.01), 1e-4, 0, "u's first step");
    /* the parameter is still a leaf: a new loss differentiates to 2 w with the new values */
    tg_optim_zero_grad(o);
    cr_assert_eq(tg_backward(tg_sum(tg_square(w), 0, NULL, false), NULL), TG_OK, "%s", tg_last_error());
    check_close(tg_grad(w), tg_mul_scalar(tg_detach(w), 2.0), 0, 0, "leaf after the step");
    /* a graph that saved w before the step refuses to backpropagate after it (version counter) */
    tg_optim_zero_grad(o);
    tg_tensor *saved = tg_sum(tg_square(w), 0, NULL, false);
    cr_assert_eq(tg_backward(tg_sum(tg_square(w), 0, NULL, false), NULL), TG_OK);
    cr_assert_eq(tg_optim_step(o, NULL), TG_OK);
    check_status(tg_backward(saved, NULL), TG_ERR_AUTOGRAD, "stale saved tensor");
    tg_optim_free(o);
    tg_scope_end();
}

/* Views as parameters: the update reaches the base tensor; the optimiser keeps its own
 * references, so releasing the caller's does not break it. */
Test(optim, view_parameters_and_references) {
    tg_tensor *base = tg_zeros(TG_F64, 2, (int64_t[]){2, 3});
    tg_tensor *view = tg_mT(base);
    tg_optimizer *o = tg_optim_sgd(1, &view, 1.0, 0, 0);
    cr_assert_not_null(o, "%s", tg_last_error());
    tg_release(view);
    double gv[3][2] = {{1, 2}, {3, 4}, {5, 6}};
    tg_tensor *g = tg_from_data(TG_F64, 2, (int64_t[]){3, 2}, gv);
    cr_assert_eq(tg_optim_step(o, &g), TG_OK, "%s", tg_last_error());
    check_values_f64(base, 6, (double[]){-1, -3, -5, -2, -4, -6}, 0, "update through a transposed view");
    tg_optim_free(o);
    tg_release(g);
    tg_release(base);
}

/* A short training run: SGD with momentum drives a least-squares loss down. */
Test(optim, training_reduces_loss) {
    tg_scope_begin();
    tg_manual_seed(9);
    tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){32, 5}), *wt = tg_randn(TG_F64, 2, (int64_t[]){1, 5});
    tg_tensor *y = tg_nn_linear(x, wt, NULL, TG_ACT_NONE);
    tg_tensor *w = tg_zeros(TG_F64, 2, (int64_t[]){1, 5}), *b = tg_zeros(TG_F64, 1, (int64_t[]){1});
    tg_set_requires_grad(w, true);
    tg_set_requires_grad(b, true);
    tg_optimizer *o = tg_optim_sgd(2, (tg_tensor *[]){w, b}, 0.05, 0.9, 0);
    double first = 0, last = 0;
    for (int it = 0; it < 400; it++) {
        tg_scope_begin();
        tg_tensor *loss = tg_mean(tg_square(tg_sub(tg_nn_linear(x, w, b, TG_ACT_NONE), y)), 0, NULL, false);
        if (it == 0) first = tg_item_f64(loss);
        last = tg_item_f64(loss);
        cr_assert_eq(tg_backward(loss, NULL), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_optim_step(o, NULL), TG_OK);
        cr_assert_eq(tg_optim_zero_grad(o), TG_OK);
        tg_scope_end();
    }
    cr_expect(last < 1e-6 * first, "loss %g -> %g", first, last);
    check_close(w, wt, 1e-3, 1e-3, "recovered weights");
    tg_optim_free(o);
    tg_scope_end();
}
