#define _GNU_SOURCE   /* open_memstream */
/* Traced mode: trace with symbolic sizes, fail fast at trace time, compile
 * once, run on new sizes with the same results as eager mode. */
#include "support/check.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

TestSuite(trace, .init = tg_clear_error);

typedef struct { tg_tensor *w, *b; } mlp;

/* relu(x @ w + b) summed over the last axis: the same code runs eagerly and traced */
static tg_status f_layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    mlp *m = ctx;
    out[0] = tg_sum(tg_relu(tg_add(tg_matmul(in[0], m->w), m->b)), 1, (int[]){-1}, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(trace, compiled_program_matches_eager_on_several_batch_sizes) {
    tg_scope_begin();
    tg_manual_seed(5);
    mlp m = {tg_randn(TG_F32, 2, (int64_t[]){4, 3}), tg_randn(TG_F32, 1, (int64_t[]){3})};
    tg_graph *g = tg_trace(f_layer, &m, 1, (tg_spec[]){{TG_F32, "N, 4"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    cr_assert_eq(tg_graph_num_nodes(g), 4);
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    int64_t compiles_before;
    tg_program_stats(p, &compiles_before, NULL);
    for (int64_t n = 1; n <= 7; n += 3) {
        tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){n, 4}), *eager, *compiled;
        check_status(f_layer(&m, &x, &eager), TG_OK, "eager");
        check_status(tg_run(p, &x, &compiled), TG_OK, "run");
        check_close(compiled, eager, 0, 0, "compiled equals eager bitwise");
    }
    int64_t compiles_after, bindings;
    tg_program_stats(p, &compiles_after, &bindings);
    cr_assert_eq(compiles_after, compiles_before, "new batch sizes never recompile");
    cr_assert_eq(bindings, 3);
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

/* the same layer with the weights as an input */
static tg_status f_layer_free(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sigmoid(tg_matmul(in[0], in[1]));
    return out[0] ? TG_OK : tg_last_error_code();
}

static tg_status f_bad_matmul(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_matmul(in[0], in[1]);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(trace, shape_errors_fail_at_trace_time_with_symbolic_shapes_and_location) {
    tg_graph *g = tg_trace(f_bad_matmul, NULL, 2, (tg_spec[]){{TG_F32, "N, K"}, {TG_F32, "M, 3"}}, 1);
    cr_assert_null(g);
    cr_assert_eq(tg_last_error_code(), TG_ERR_SHAPE);
    const char *m = tg_last_error();
    cr_assert(strstr(m, "tg_matmul") && strstr(m, "(N, K) f32") && strstr(m, "(M, 3) f32"), "%s", m);
    cr_assert(strstr(m, "test_trace.c:"), "names the user's line: %s", m);
    tg_clear_error();
}

static tg_status f_flatten(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    int64_t n = tg_dim(in[0], 0);
    out[0] = tg_reshape(in[0], 1, (int64_t[]){tg_size_mul(n, tg_dim(in[0], 1))});
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_bad_reshape(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_reshape(in[0], 2, (int64_t[]){-1, 3});       /* N*4 is not a multiple of 3 for every N */
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(trace, symbolic_reshape_and_its_errors) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_flatten, NULL, 1, (tg_spec[]){{TG_F64, "N, 4"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    tg_tensor *x = tg_arange(TG_F64, 0, 12, 1), *y;
    check_status(tg_run(p, (tg_tensor *[]){tg_reshape(x, 2, (int64_t[]){3, 4})}, &y), TG_OK, "run");
    check_close(y, x, 0, 0, "flattened");
    tg_program_free(p);
    tg_graph_free(g);
    cr_assert_null(tg_trace(f_bad_reshape, NULL, 1, (tg_spec[]){{TG_F64, "N, 4"}}, 1));
    cr_assert(strstr(tg_last_error(), "cannot infer the -1 size"), "%s", tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

static tg_status f_add(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_add(in[0], in[1]);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(trace, broadcast_needs_provable_compatibility) {
    cr_assert_null(tg_trace(f_add, NULL, 2, (tg_spec[]){{TG_F32, "N, 3"}, {TG_F32, "M, 3"}}, 1));
    check_status(tg_last_error_code(), TG_ERR_SHAPE, "N vs M");
    tg_graph *g = tg_trace(f_add, NULL, 2, (tg_spec[]){{TG_F32, "N, 3"}, {TG_F32, "1, 3"}}, 1);
    cr_assert_not_null(g, "a literal 1 broadcasts: %s", tg_last_error());
    tg_graph_free(g);
}

Test(trace, run_checks_the_binding) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_add, NULL, 2, (tg_spec[]){{TG_F32, "N, 3"}, {TG_F32, "N, 3"}}, 1);
    tg_program *p = tg_compile(g, NULL);
    tg_tensor *a = tg_ones(TG_F32, 2, (int64_t[]){2, 3}), *b = tg_ones(TG_F32, 2, (int64_t[]){4, 3});
    tg_tensor *c = tg_ones(TG_F32, 2, (int64_t[]){2, 5}), *y;
    check_status(tg_run(p, (tg_tensor *[]){a, b}, &y), TG_ERR_SHAPE, "N bound to 2 then 4");
    check_status(tg_run(p, (tg_tensor *[]){a, c}, &y), TG_ERR_SHAPE, "fixed size 3 vs 5");
    check_status(tg_run(p, (tg_tensor *[]){a, tg_cast(a, TG_F64)}, &y), TG_ERR_SHAPE, "dtype");
    check_status(tg_run(p, (tg_tensor *[]){a, a}, &y), TG_OK, "consistent");
    check_values_f64(y, 6, (double[]){2, 2, 2, 2, 2, 2}, 0, "values");
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

Test(trace, graph_prints_and_exports_dot) {
    tg_scope_begin();
    mlp m = {tg_ones(TG_F32, 2, (int64_t[]){4, 3}), tg_ones(TG_F32, 1, (int64_t[]){3})};
    tg_graph *g = tg_trace(f_layer, &m, 1, (tg_spec[]){{TG_F32, "batch, 4"}}, 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    check_status(tg_graph_print(g, f), TG_OK, "print");
    fclose(f);
    cr_assert(strstr(buf, "= matmul(") && strstr(buf, ": (batch, 3) f32") && strstr(buf, ": (batch,) f32"), "%s", buf);
    free(buf);
    f = open_memstream(&buf, &len);
    check_status(tg_graph_to_dot(g, f), TG_OK, "dot");
    fclose(f);
    cr_assert(strstr(buf, "digraph") && strstr(buf, "label=\"relu\""), "%s", buf);
    free(buf);
    tg_graph_free(g);
    tg_scope_end();
}

/* ---- transforms ------------------------------------------------------------ */
static tg_status f_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_mean(tg_square(tg_tanh(tg_matmul(in[0], in[1]))), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(trace, grad_graph_matches_eager_gradients_on_new_sizes) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_loss, NULL, 2, (tg_spec[]){{TG_F64, "N, 4"}, {TG_F64, "4, 3"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 0, NULL);
    cr_assert_not_null(vg, "%s", tg_last_error());
    tg_program *p = tg_compile(vg, NULL);
    tg_manual_seed(9);
    tg_tensor *w = tg_randn(TG_F64, 2, (int64_t[]){4, 3});
    for (int64_t n = 2; n <= 5; n += 3) {
        tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){n, 4});
        tg_tensor *res[3], *eg[2], *ev;
        check_status(tg_run(p, (tg_tensor *[]){x, w}, res), TG_OK, "run");
        check_status(tg_grad_fn(f_loss, NULL, 2, (tg_tensor *[]){x, w}, &ev, eg), TG_OK, "eager grad");
        check_close(res[0], ev, 0, 0, "value");
        check_close(res[1], eg[0], 0, 0, "d/dx bitwise");
        check_close(res[2], eg[1], 0, 0, "d/dw bitwise");
    }
    int64_t bindings;
    tg_program_stats(p, NULL, &bindings);
    cr_assert_eq(bindings, 2);
    tg_program_free(p);
    tg_graph_free(vg);
    tg_graph_free(g);
    tg_scope_end();
}

Test(trace, vjp_and_jvp_graphs_match_eager) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_layer_free, NULL, 2, (tg_spec[]){{TG_F64, "N, 4"}, {TG_F64, "4, 3"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_vjp(g), *jg = tg_graph_jvp(g);
    cr_assert(vg && jg, "%s", tg_last_error());
    tg_program *pv = tg_compile(vg, NULL), *pj = tg_compile(jg, NULL);
    tg_manual_seed(3);
    tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){3, 4}), *w = tg_randn(TG_F64, 2, (int64_t[]){4, 3});
    tg_tensor *u = tg_randn(TG_F64, 2, (int64_t[]){3, 3});
    tg_tensor *tx = tg_randn(TG_F64, 2, (int64_t[]){3, 4}), *tw = tg_randn(TG_F64, 2, (int64_t[]){4, 3});
    tg_tensor *rv[3], *rj[2], *eg[2], *eo, *et;
    check_status(tg_run(pv, (tg_tensor *[]){x, w, u}, rv), TG_OK, "run vjp");
    check_status(tg_vjp(f_layer_free, NULL, 2, (tg_tensor *[]){x, w}, 1, &u, NULL, eg), TG_OK, "eager vjp");
    check_close(rv[1], eg[0], 0, 0, "vjp x");
    check_close(rv[2], eg[1], 0, 0, "vjp w");
    check_status(tg_run(pj, (tg_tensor *[]){x, w, tx, tw}, rj), TG_OK, "run jvp");
    check_status(tg_jvp(f_layer_free, NULL, 2, (tg_tensor *[]){x, w}, (tg_tensor *[]){tx, tw}, 1, &eo, &et), TG_OK,
                 "eager jvp");
    check_close(rj[0], eo, 0, 0, "jvp primal");
    check_close(rj[1], et, 0, 0, "jvp tangent");
    tg_program_free(pv);
    tg_program_free(pj);
    tg_graph_free(vg);
    tg_graph_free(jg);
    tg_graph_free(g);
    tg_scope_end();
}

static tg_status f_cube(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_mul(tg_square(in[0]), in[0]), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(trace, hessian_vector_product_and_grad_of_grad) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_cube, NULL, 1, (tg_spec[]){{TG_F64, "N"}}, 1);
    tg_graph *dg = tg_graph_grad(g, 0, NULL);            /* 3 x^2 */
    tg_graph *hvp = tg_graph_jvp(dg);                    /* (x, v) -> (3x^2, 6 x v) */
    cr_assert(g && dg && hvp, "%s", tg_last_error());
    tg_program *p = tg_compile(hvp, NULL);
    tg_tensor *x = tg_from_data(TG_F64, 1, (int64_t[]){3}, (double[]){1, -2, 0.5});
    tg_tensor *v = tg_from_data(TG_F64, 1, (int64_t[]){3}, (double[]){1, 1, 2});
    tg_tensor *r[2];
    check_status(tg_run(p, (tg_tensor *[]){x, v}, r), TG_OK, "run");
    check_values_f64(r[0], 3, (double[]){3, 12, 0.75}, 1e-14, "gradient");
    check_values_f64(r[1], 3, (double[]){6, -12, 6}, 1e-14, "H v = 6 x v");
    tg_program_free(p);
    /* grad of grad on a scalar function of a scalar */
    tg_graph *s = tg_trace(f_cube, NULL, 1, (tg_spec[]){{TG_F64, ""}}, 1);
    tg_graph *d1 = tg_graph_grad(s, 0, NULL), *d2 = d1 ? tg_graph_grad(d1, 0, NULL) : NULL;
    cr_assert(s && d1 && d2, "%s", tg_last_error());
    tg_program *q = tg_compile(d2, NULL);
    tg_tensor *y;
    check_status(tg_run(q, (tg_tensor *[]){tg_scalar(TG_F64, 1.5)}, &y), TG_OK, "run d2");
    cr_assert_float_eq(tg_item_f64(y), 9.0, 1e-14, "6x at 1.5");
    tg_program_free(q);
    tg_graph_free(d2);
    tg_graph_free(d1);
    tg_graph_free(s);
    tg_graph_free(hvp);
    tg_graph_free(dg);
    tg_graph_free(g);
    tg_scope_end();
}

static tg_status f_scaled(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_add_scalar(tg_mul_scalar(in[0], 2.0), 0.5);   /* weak scalars become graph constants */
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(trace, weak_scalar_constants_keep_their_promotion_at_run_time) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_scaled, NULL, 1, (tg_spec[]){{TG_F32, "N"}}, 1);
    tg_program *p = tg_compile(g, &(tg_compile_opts){.no_passes = true});
    tg_tensor *x = tg_randn(TG_F32, 1, (int64_t[]){5}), *y, *e;
    check_status(tg_run(p, &x, &y), TG_OK, "run");
    check_status(f_scaled(NULL, &x, &e), TG_OK, "eager");
    cr_assert_eq(tg_dtype_of(y), TG_F32, "f32 * 2.0 stays f32 in the program");
    check_close(y, e, 0, 0, "bitwise");
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

/* The grad program against central finite differences of the forward
 * program itself, on a binding the trace never saw. */
Test(trace, grad_program_matches_finite_differences_of_the_forward_program) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_loss, NULL, 2, (tg_spec[]){{TG_F64, "N, 4"}, {TG_F64, "4, 3"}}, 1);
    tg_graph *dg = tg_graph_grad(g, 1, (int[]){1});
    tg_program *pf = tg_compile(g, NULL), *pg = tg_compile(dg, NULL);
    tg_manual_seed(21);
    tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){6, 4}), *w = tg_randn(TG_F64, 2, (int64_t[]){4, 3}), *gw;
    check_status(tg_run(pg, (tg_tensor *[]){x, w}, &gw), TG_OK, "grad program");
    double wv[12], gv[12];
    tg_copy_to(w, wv, sizeof wv);
    tg_copy_to(gw, gv, sizeof gv);
    const double eps = 1e-6;
    for (int k = 0; k < 12; k++) {
        double f[2];
        for (int s = 0; s < 2; s++) {
            double pert[12];
            for (int q = 0; q < 12; q++) pert[q] = wv[q] + (q == k ? (s ? -eps : eps) : 0);
            tg_tensor *wp = tg_from_data(TG_F64, 2, (int64_t[]){4, 3}, pert), *y;
            check_status(tg_run(pf, (tg_tensor *[]){x, wp}, &y), TG_OK, "forward program");
            f[s] = tg_item_f64(y);
        }
        double fd = (f[0] - f[1]) / (2 * eps);
        cr_assert(fabs(fd - gv[k]) <= 1e-6 + 1e-4 * fabs(fd), "d/dw[%d]: program %.12g, finite differences %.12g", k,
                  gv[k], fd);
    }
    tg_program_free(pf);
    tg_program_free(pg);
    tg_graph_free(dg);
    tg_graph_free(g);
    tg_scope_end();
}

static tg_status f_slices(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *x = in[0];
    tg_tensor *a = tg_slice(x, 0, 1, TG_NONE, 1);            /* x[1:]  : N - 1 rows */
    tg_tensor *b = tg_slice(x, 0, TG_NONE, -1, 1);           /* x[:-1] : N - 1 rows */
    out[0] = tg_add(a, b);
    out[1] = tg_slice(x, 0, 2, 5, 2);                        /* x[2:5:2]: 2 rows, needs N >= 5 */
    out[2] = tg_select(x, 0, -1);                            /* the last row */
    return out[0] && out[1] && out[2] ? TG_OK : tg_last_error_code();
}

Test(trace, slice_bounds_on_a_symbolic_axis_are_checked_when_the_program_runs) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_slices, NULL, 1, (tg_spec[]){{TG_F64, "N, 3"}}, 3);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    tg_tensor *x = tg_reshape(tg_arange(TG_F64, 0, 18, 1), 2, (int64_t[]){6, 3}), *r[3], *e[3];
    check_status(tg_run(p, &x, r), TG_OK, "N = 6");
    check_status(f_slices(NULL, &x, e), TG_OK, "eager");
    for (int k = 0; k < 3; k++) check_close(r[k], e[k], 0, 0, "slice results equal eager");
    tg_tensor *small = tg_ones(TG_F64, 2, (int64_t[]){3, 3});
    cr_assert_eq(tg_run(p, &small, r), TG_ERR_SHAPE);
    cr_assert(strstr(tg_last_error(), "tg_slice of axis 0") && strstr(tg_last_error(), "N >= 5") &&
              strstr(tg_last_error(), "test_trace.c:"), "%s", tg_last_error());
    tg_clear_error();
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

static tg_status f_cumprod0(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_cumprod(in[0], 0), 0, NULL, false);   /* its VJP flips the symbolic axis */
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(trace, gradients_through_reversed_symbolic_axes) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_cumprod0, NULL, 1, (tg_spec[]){{TG_F64, "N, 2"}}, 1);
    tg_graph *dg = g ? tg_graph_grad(g, 0, NULL) : NULL;
    cr_assert(g && dg, "%s", tg_last_error());
    tg_program *p = tg_compile(dg, NULL);
    tg_tensor *x = tg_uniform(TG_F64, 2, (int64_t[]){4, 2}, 0.5, 2.0), *gx, *ex;
    check_status(tg_run(p, &x, &gx), TG_OK, "run");
    check_status(tg_grad_fn(f_cumprod0, NULL, 1, &x, NULL, &ex), TG_OK, "eager");
    check_close(gx, ex, 0, 0, "bitwise");
    tg_program_free(p);
    tg_graph_free(dg);
    tg_graph_free(g);
    tg_scope_end();
}

static tg_status f_topk3(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    return tg_topk(in[0], 3, 0, true, &out[0], NULL);
}

Test(trace, topk_of_a_symbolic_axis_needs_k_elements_at_run_time) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_topk3, NULL, 1, (tg_spec[]){{TG_F32, "N"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    tg_tensor *y;
    check_status(tg_run(p, (tg_tensor *[]){tg_arange(TG_F32, 0, 5, 1)}, &y), TG_OK, "N = 5");
    check_values_f64(y, 3, (double[]){4, 3, 2}, 0, "top 3");
    cr_assert_eq(tg_run(p, (tg_tensor *[]){tg_arange(TG_F32, 0, 2, 1)}, &y), TG_ERR_SHAPE);
    cr_assert(strstr(tg_last_error(), "tg_topk") && strstr(tg_last_error(), "N >= 3"), "%s", tg_last_error());
    tg_clear_error();
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

/* Hessian-vector product from jvp(grad(f)) against central differences of
 * the grad program: (g(x + eps v) - g(x - eps v)) / (2 eps). */
Test(trace, hvp_program_matches_finite_differences_of_gradients) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_loss, NULL, 2, (tg_spec[]){{TG_F64, "N, 4"}, {TG_F64, "4, 3"}}, 1);
    tg_graph *dg = tg_graph_grad(g, 1, (int[]){1});
    tg_graph *hvp = tg_graph_jvp(dg);        /* (x, w, tx, tw) -> (grad, H (tx, tw)) */
    cr_assert(g && dg && hvp, "%s", tg_last_error());
    tg_program *pg = tg_compile(dg, NULL), *ph = tg_compile(hvp, NULL);
    tg_manual_seed(33);
    tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){5, 4}), *w = tg_randn(TG_F64, 2, (int64_t[]){4, 3});
    tg_tensor *v = tg_randn(TG_F64, 2, (int64_t[]){4, 3}), *zx = tg_zeros_like(x), *r[2];
    check_status(tg_run(ph, (tg_tensor *[]){x, w, zx, v}, r), TG_OK, "hvp program");
    const double eps = 1e-5;
    tg_tensor *gp, *gm;
    check_status(tg_run(pg, (tg_tensor *[]){x, tg_add(w, tg_mul_scalar(v, eps))}, &gp), TG_OK, "grad +");
    check_status(tg_run(pg, (tg_tensor *[]){x, tg_sub(w, tg_mul_scalar(v, eps))}, &gm), TG_OK, "grad -");
    tg_tensor *fd = tg_div_scalar(tg_sub(gp, gm), 2 * eps);
    check_close(r[1], fd, 1e-5, 1e-7, "H v against differences of gradients");
    tg_program_free(pg);
    tg_program_free(ph);
    tg_graph_free(hvp);
    tg_graph_free(dg);
    tg_graph_free(g);
    tg_scope_end();
}
