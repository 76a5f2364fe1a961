/* User ops through tg_op_register and custom derivatives through
 * tg_custom_call, in every mode. */
#include "support/check.h"

#include <math.h>
#include <string.h>

TestSuite(custom_op, .init = tg_clear_error);

/* cube: y = x^3 with a CPU kernel for f64 and rules written with public ops */
static tg_status cube_infer(void *u, int n_in, const tg_dtype *dt, const int *nd, const int64_t *const *sh,
                            tg_dtype *odt, int *ond, int64_t (*osh)[TG_MAX_DIMS]) {
    (void)u; (void)n_in;
    if (dt[0] != TG_F64) return tg_op_fail(TG_ERR_DTYPE, "cube: f64 only");
    odt[0] = TG_F64;
    ond[0] = nd[0];
    memcpy(osh[0], sh[0], (size_t)nd[0] * sizeof(int64_t));
    return TG_OK;
}
static tg_status cube_cpu(void *u, tg_tensor *const *in, tg_tensor *const *out) {
    (void)u;
    tg_tensor *x = tg_contiguous(in[0]);
    const double *p = tg_data(x);
    double *q = tg_data_mut(out[0]);
    for (int64_t i = 0; i < tg_numel(x); i++) q[i] = p[i] * p[i] * p[i];
    if (tg_scope_depth() == 0) tg_release(x);
    return TG_OK;
}
static tg_status cube_vjp(void *u, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    (void)u; (void)out;
    ic[0] = tg_mul(g[0], tg_mul_scalar(tg_square(in[0]), 3.0));
    return ic[0] ? TG_OK : tg_last_error_code();
}
static tg_status cube_jvp(void *u, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    (void)u; (void)out;
    ot[0] = tg_mul(t[0], tg_mul_scalar(tg_square(in[0]), 3.0));
    return ot[0] ? TG_OK : tg_last_error_code();
}
static tg_status bad_vjp(void *u, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)u; (void)in; (void)out; (void)g;
    ic[0] = tg_zeros(TG_F64, 1, (int64_t[]){7});       /* wrong shape on purpose */
    return TG_OK;
}

static void register_once(void) {
    static bool done;
    if (done) return;
    tg_op_spec cube = {"test_cube", 1, 1, cube_infer, cube_cpu, cube_vjp, cube_jvp, NULL};
    cr_assert_eq(tg_op_register(&cube), TG_OK, "%s", tg_last_error());
    tg_op_spec bad = {"test_bad_rule", 1, 1, cube_infer, cube_cpu, bad_vjp, NULL, NULL};
    cr_assert_eq(tg_op_register(&bad), TG_OK, "%s", tg_last_error());
    done = true;
}

static tg_status f_cube(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    return tg_op_apply("test_cube", 1, in, 1, out);
}

Test(custom_op, forward_backward_and_checks) {
    register_once();
    tg_scope_begin();
    tg_tensor *x = tg_from_data(TG_F64, 1, (int64_t[]){3}, (double[]){1, -2, 0.5});
    tg_tensor *y;
    check_status(tg_op_apply("test_cube", 1, &x, 1, &y), TG_OK, "apply");
    check_values_f64(y, 3, (double[]){1, -8, 0.125}, 0, "values");
    tg_set_requires_grad(x, true);
    check_status(tg_op_apply("test_cube", 1, &x, 1, &y), TG_OK, "apply with grad");
    check_status(tg_backward(tg_sum(y, 0, NULL, false), NULL), TG_OK, "backward");
    check_values_f64(tg_grad(x), 3, (double[]){3, 12, 0.75}, 1e-15, "3x^2");
    tg_tensor *xd = tg_detach(x);
    check_status(tg_gradcheck(f_cube, NULL, 1, &xd, 1, NULL), TG_OK, "gradcheck");
    check_status(tg_gradgradcheck(f_cube, NULL, 1, &xd, 1, NULL), TG_OK, "gradgradcheck (rules are differentiable)");
    tg_scope_end();
}

Test(custom_op, bad_registrations_and_calls) {
    register_once();
    tg_op_spec dup = {"test_cube", 1, 1, cube_infer, cube_cpu, NULL, NULL, NULL};
    check_status(tg_op_register(&dup), TG_ERR_ARG, "duplicate");
    tg_op_spec none = {"x", 1, 1, NULL, cube_cpu, NULL, NULL, NULL};
    check_status(tg_op_register(&none), TG_ERR_ARG, "no infer");
    tg_scope_begin();
    tg_tensor *f = tg_ones(TG_F32, 1, (int64_t[]){2}), *y;
    check_status(tg_op_apply("test_cube", 1, &f, 1, &y), TG_ERR_DTYPE, "infer rejects f32");
    check_status(tg_op_apply("no_such_op", 1, &f, 1, &y), TG_ERR_ARG, "unknown op");
    check_status(tg_op_apply("test_cube", 2, (tg_tensor *[]){f, f}, 1, &y), TG_ERR_ARG, "arity");
    tg_tensor *x = tg_ones(TG_F64, 1, (int64_t[]){2});
    tg_set_requires_grad(x, true);
    check_status(tg_op_apply("test_bad_rule", 1, &x, 1, &y), TG_OK, "apply");
    tg_status st = tg_backward(tg_sum(y, 0, NULL, false), NULL);
    cr_assert_eq(st, TG_ERR_AUTOGRAD);
    cr_assert(strstr(tg_last_error(), "shape (7,)") && strstr(tg_last_error(), "test_bad_rule"), "%s",
              tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

/* round with a straight-through gradient: the custom VJP replaces d/dx = 0 */
static tg_status st_forward(void *u, tg_tensor *const *in, tg_tensor **out) {
    (void)u;
    out[0] = tg_round(in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status st_vjp(void *u, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g, tg_tensor **ic) {
    (void)u; (void)in; (void)out;
    ic[0] = g[0];
    return TG_OK;
}
static tg_status st_jvp(void *u, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t, tg_tensor **ot) {
    (void)u; (void)in; (void)out;
    ot[0] = t[0];
    return TG_OK;
}
static const tg_custom_fn straight_through = {st_forward, st_vjp, st_jvp, NULL, 1, 1};
static tg_status f_st(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    return tg_custom_call(&straight_through, in, out);
}

Test(custom_op, custom_vjp_replaces_the_derivative_in_every_mode) {
    tg_scope_begin();
    tg_tensor *x = tg_from_data(TG_F64, 1, (int64_t[]){3}, (double[]){0.4, 1.6, -2.2});
    tg_set_requires_grad(x, true);
    tg_tensor *y;
    check_status(tg_custom_call(&straight_through, &x, &y), TG_OK, "call");
    check_values_f64(y, 3, (double[]){0, 2, -2}, 0, "rounded");
    check_status(tg_backward(tg_sum(tg_mul_scalar(y, 2.0), 0, NULL, false), NULL), TG_OK, "backward");
    check_values_f64(tg_grad(x), 3, (double[]){2, 2, 2}, 0, "straight-through gradient");
    tg_tensor *xd = tg_detach(x), *o, *t;
    check_status(tg_jvp(f_st, NULL, 1, &xd, (tg_tensor *[]){tg_ones_like(xd)}, 1, &o, &t), TG_OK, "jvp");
    check_values_f64(t, 3, (double[]){1, 1, 1}, 0, "custom jvp");
    tg_scope_end();
}
