/* Graph passes: dead code, common subexpressions, constant folding and
 * algebraic simplification shrink graphs without changing results. */
#include "support/check.h"

TestSuite(passes, .init = tg_clear_error);

typedef struct { tg_tensor *w, *one, *zero; } consts;

static tg_status f_redundant(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    consts *c = ctx;
    tg_tensor *x = in[0];
    tg_tensor *unused = tg_sin(x);                               /* dead */
    (void)unused;
    tg_tensor *e = tg_add(tg_exp(x), tg_exp(x));                 /* one exp after CSE */
    tg_tensor *ww = tg_matmul(c->w, c->w);                        /* constants only: folded */
    tg_tensor *y = tg_matmul(tg_mul(e, c->one), ww);              /* *1 removed */
    y = tg_add(y, c->zero);                                       /* +0 removed */
    y = tg_permute(tg_permute(y, (int[]){1, 0}), (int[]){1, 0});  /* identity: removed */
    y = tg_reshape(tg_reshape(y, 1, (int64_t[]){-1}), 2, (int64_t[]){tg_dim(x, 0), 3});  /* chain: one reshape */
    out[0] = y;
    return y ? TG_OK : tg_last_error_code();
}

Test(passes, every_pass_shrinks_the_graph_and_results_do_not_change) {
    tg_scope_begin();
    tg_manual_seed(2);
    consts c = {tg_randn(TG_F64, 2, (int64_t[]){3, 3}), tg_ones(TG_F64, 2, (int64_t[]){1, 3}),
                tg_zeros(TG_F64, 1, (int64_t[]){3})};
    tg_graph *g = tg_trace(f_redundant, &c, 1, (tg_spec[]){{TG_F64, "N, 3"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    int before = tg_graph_num_nodes(g);
    tg_graph *o = tg_graph_optimize(g);
    cr_assert_not_null(o, "%s", tg_last_error());
    int after = tg_graph_num_nodes(o);
    /* left: exp, add, matmul (sin, one exp, *1, +0, both permutes and both
     * reshapes, which end where they started, are gone) */
    cr_assert_eq(before, 11, "traced nodes: %d", before);   /* w @ w ran eagerly: a constant */
    cr_assert_eq(after, 3, "optimized nodes: %d", after);
    tg_program *fast = tg_compile(g, NULL);
    tg_program *plain = tg_compile(g, &(tg_compile_opts){.no_passes = true});
    for (int64_t n = 1; n <= 4; n += 3) {
        tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){n, 3}), *a, *b;
        check_status(tg_run(fast, &x, &a), TG_OK, "optimized");
        check_status(tg_run(plain, &x, &b), TG_OK, "unoptimized");
        check_close(a, b, 0, 0, "same results bitwise");
    }
    tg_program_free(fast);
    tg_program_free(plain);
    tg_graph_free(o);
    tg_graph_free(g);
    tg_scope_end();
}

static tg_status f_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_square(tg_tanh(tg_matmul(in[0], in[1]))), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(passes, transformed_graphs_lose_their_dead_forward_nodes) {
    tg_graph *g = tg_trace(f_loss, NULL, 2, (tg_spec[]){{TG_F32, "N, 8"}, {TG_F32, "8, 4"}}, 1);
    tg_graph *d = tg_graph_grad(g, 1, (int[]){1});       /* only d/dw: d/dx is dead code */
    cr_assert(g && d, "%s", tg_last_error());
    tg_graph *o = tg_graph_optimize(d);
    cr_assert_lt(tg_graph_num_nodes(o), tg_graph_num_nodes(d), "%d -> %d", tg_graph_num_nodes(d),
                 tg_graph_num_nodes(o));
    tg_graph_free(o);
    tg_graph_free(d);
    tg_graph_free(g);
}
