#define _GNU_SOURCE   /* open_memstream */
/* Traced mode: trace with symbolic sizes, fail fast at trace time, compile
 * once, run on new sizes with the same results as eager mode. */
#include "support/check.h"

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
