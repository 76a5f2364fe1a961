/* The node-chain case (bench/chain.h). */
#include "chain.h"

#include <stdio.h>
#include <stdlib.h>

static void fail(const char *what) {
    fprintf(stderr, "bench: %s failed: %s\n", what, tg_last_error());
    exit(1);
}

tg_status bench_chain_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *h = in[0];
    for (int k = 0; k < BENCH_CHAIN; k++) h = tg_add(h, in[1]);
    out[0] = h;
    return h ? TG_OK : tg_last_error_code();
}

tg_status bench_chain_compile(bench_chain *c) {
    tg_graph *g = tg_trace(bench_chain_fn, NULL, 2, (tg_spec[]){{TG_F32, "1"}, {TG_F32, "1"}}, 1);
    /* no passes and no fusion: every add stays a node to replay (fused, the
     * chain is one kernel on a GPU: bench_gpu's chain20 case measures that) */
    c->p = g ? tg_compile(g, &(tg_compile_opts){.no_passes = true, .no_fusion = true}) : NULL;
    tg_graph_free(g);
    return c->p ? TG_OK : tg_last_error_code();
}

void bench_chain_eager(void *arg) {
    bench_chain *c = arg;
    tg_scope_begin();
    tg_tensor *out;
    if (bench_chain_fn(NULL, (tg_tensor *[]){c->a, c->b}, &out)) fail("the eager chain");
    tg_scope_end();
}

void bench_chain_compiled(void *arg) {
    bench_chain *c = arg;
    tg_tensor *out;
    if (tg_run(c->p, (tg_tensor *[]){c->a, c->b}, &out)) fail("tg_run of the chain");
    tg_release(out);
}
