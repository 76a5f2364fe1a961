#define _GNU_SOURCE   /* open_memstream */
/* linalg in traced mode: a symbolic size, the factorisations that gradient
 * programs keep (solve's LU, eigvalsh's and svdvals' vectors) and the
 * compiler's narrowing of them where no rule reads them (autodiff/passes.c,
 * docs/linalg.md "Traced mode"), against eager mode. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"

TestSuite(linalg_traced, .init = tg_clear_error);

static tg_status f_inv(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_add(tg_linalg_inv(in[0]), tg_eye(tg_dtype_of(in[0]), tg_dim(in[0], -1), -1));
    return out[0] ? TG_OK : tg_last_error_code();
}

/* inv (a solve against an identity) and tg_eye itself with a symbolic n:
 * one program for every n, equal to eager. */
Test(linalg_traced, traced_symbolic_size) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_inv, NULL, 1, (tg_spec[]){{TG_F64, "B, N, N"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    for (int64_t n = 1; n <= 5; n += 2) {
        tg_manual_seed((uint64_t)n);
        tg_tensor *a = tg_add(tg_randn(TG_F64, 3, (int64_t[]){2, n, n}), tg_mul_scalar(tg_eye(TG_F64, n, -1), 4.0));
        tg_tensor *eager, *compiled;
        check_status(f_inv(NULL, &a, &eager), TG_OK, "eager");
        check_status(tg_run(p, &a, &compiled), TG_OK, "run");
        check_close(compiled, eager, 0, 0, "compiled inv(A) + I equals eager");
        tg_release(compiled);
    }
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

/* How many nodes of op `name` the optimised graph holds (tg_graph_print
 * writes "= name(" per node). */
static int count_nodes(const tg_graph *g, const char *name) {
    tg_graph *o = tg_graph_optimize(g);
    cr_assert_not_null(o, "%s", tg_last_error());
    char *buf = NULL, pat[64];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    check_status(tg_graph_print(o, f), TG_OK, "print");
    fclose(f);
    snprintf(pat, sizeof pat, "= %s(", name);
    int n = 0;
    for (const char *p = strstr(buf, pat); p; p = strstr(p + 1, pat)) n++;
    free(buf);
    tg_graph_free(o);
    return n;
}

/* p saved to a buffer and loaded back (p freed): the programs the passes
 * rewrote keep the file format's rules. */
static tg_program *reload(tg_program *p) {
    cr_assert_not_null(p, "%s", tg_last_error());
    void *buf = NULL;
    size_t len = 0;
    check_status(tg_program_save_buffer(p, &buf, &len), TG_OK, "save");
    tg_program *q = tg_program_load_buffer(buf, len);
    free(buf);
    tg_program_free(p);
    cr_assert_not_null(q, "load: %s", tg_last_error());
    return q;
}

static tg_status f_solve_sum(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_square(tg_linalg_solve(in[0], in[1])), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

/* A traced solve keeps A's factors for the gradient program: its VJP and
 * JVP graphs factor A once (one linalg_solve_factor, the rules solving with
 * the same factors), while the forward program alone is one plain solve,
 * bitwise equal to eager. Values of both against eager mode at two sizes. */
Test(linalg_traced, traced_gradient_reuses_the_factors) {
    tg_scope_begin();
    tg_spec specs[2] = {{TG_F64, "B, N, N"}, {TG_F64, "B, N, K"}};
    tg_graph *g = tg_trace(f_solve_sum, NULL, 2, specs, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 2, (int[]){0, 1});
    tg_graph *jg = tg_graph_jvp(g);
    cr_assert(vg && jg, "%s", tg_last_error());
    cr_expect_eq(count_nodes(g, "linalg_solve"), 1, "the forward graph: one plain solve");
    cr_expect_eq(count_nodes(g, "linalg_solve_factor"), 0, "the forward graph keeps no factors");
    cr_expect_eq(count_nodes(vg, "linalg_solve_factor"), 1, "value and grad: A factored once");
    cr_expect_eq(count_nodes(vg, "linalg_solve"), 0, "value and grad: no solve factoring A again");
    cr_expect_eq(count_nodes(vg, "linalg_solve_lu"), 2, "value and grad: X and B-bar from the factors");
    cr_expect_eq(count_nodes(jg, "linalg_solve_factor"), 1, "jvp: A factored once");
    cr_expect_eq(count_nodes(jg, "linalg_solve"), 0, "jvp: no solve factoring A again");
    /* through tg_graph_optimize first: a copy of the joined graph compiles */
    tg_graph *og = tg_graph_optimize(g), *ovg = tg_graph_optimize(vg);
    cr_assert(og && ovg, "%s", tg_last_error());
    tg_program *pf = reload(tg_compile(og, NULL)), *pv = reload(tg_compile(ovg, NULL)), *pj = tg_compile(jg, NULL);
    tg_graph_free(og);
    tg_graph_free(ovg);
    cr_assert(pf && pv && pj, "%s", tg_last_error());
    for (int64_t n = 3; n <= 6; n += 3) {
        tg_manual_seed((uint64_t)n);
        tg_tensor *a = tg_add(tg_randn(TG_F64, 3, (int64_t[]){2, n, n}), tg_mul_scalar(tg_eye(TG_F64, n, -1), 4.0));
        tg_tensor *b = tg_randn(TG_F64, 3, (int64_t[]){2, n, 2});
        tg_tensor *da = tg_randn(TG_F64, 3, (int64_t[]){2, n, n}), *db = tg_randn(TG_F64, 3, (int64_t[]){2, n, 2});
        tg_tensor *in[2] = {a, b}, *want = NULL, *got = NULL;
        check_status(f_solve_sum(NULL, in, &want), TG_OK, "eager");
        check_status(tg_run(pf, in, &got), TG_OK, "forward program");
        check_close(got, want, 0, 0, "the compiled forward equals eager");
        tg_tensor *val = NULL, *grads[2] = {NULL, NULL}, *outs[3] = {NULL, NULL, NULL};
        check_status(tg_grad_fn(f_solve_sum, NULL, 2, in, &val, grads), TG_OK, "eager grad");
        check_status(tg_run(pv, in, outs), TG_OK, "value-and-grad program");
        check_close(outs[0], val, 1e-14, 1e-14, "traced value");
        check_close(outs[1], grads[0], 1e-12, 1e-12, "traced A-bar equals eager");
        check_close(outs[2], grads[1], 1e-12, 1e-12, "traced B-bar equals eager");
        tg_tensor *tv = NULL, *tt = NULL, *jo[2] = {NULL, NULL};
        check_status(tg_jvp(f_solve_sum, NULL, 2, in, (tg_tensor *[]){da, db}, 1, &tv, &tt), TG_OK, "eager jvp");
        check_status(tg_run(pj, (tg_tensor *[]){a, b, da, db}, jo), TG_OK, "jvp program");
        check_close(jo[1], tt, 1e-12, 1e-12, "traced JVP equals eager");
        for (int i = 0; i < 3; i++) tg_release(outs[i]);
        tg_release(got);
        tg_release(jo[0]);
        tg_release(jo[1]);
    }
    tg_program_free(pf);
    tg_program_free(pv);
    tg_program_free(pj);
    tg_graph_free(g);
    tg_graph_free(vg);
    tg_graph_free(jg);
    tg_scope_end();
}

static tg_status f_eigvalsh_sum(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_square(tg_linalg_eigvalsh(in[0], false)), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status f_svdvals_sum(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_square(tg_linalg_svdvals(in[0])), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}
/* eigh with both outputs asked for, only w used: eager computes V, so must
 * the compiled program (its w bitwise equal to eager's) */
static tg_status f_eigh_w_only(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *w = NULL, *v = NULL;
    tg_status st = tg_linalg_eigh(in[0], &w, &v);
    out[0] = st ? NULL : tg_sum(tg_square(w), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

/* eigvalsh and svdvals trace the full decomposition (its rules read the
 * vectors); without a gradient tg_compile narrows it back to the
 * values-only op eager mode runs, bitwise equal, and with one the program
 * decomposes A once. Also: a graph from tg_graph_optimize compiles and runs
 * (the narrowed nodes keep their arrays consistent). */
Test(linalg_traced, traced_values_only_decompositions) {
    tg_scope_begin();
    struct { tg_trace_fn fn; const char *full, *values; bool narrows; } ops[3] = {
        {f_eigvalsh_sum, "linalg_eigh", "linalg_eigvalsh", true},
        {f_svdvals_sum, "linalg_svd", "linalg_svdvals", true},
        {f_eigh_w_only, "linalg_eigh", "linalg_eigvalsh", false}};
    for (int k = 0; k < 3; k++) {
        tg_graph *g = tg_trace(ops[k].fn, NULL, 1, (tg_spec[]){{TG_F64, "B, N, N"}}, 1);
        cr_assert_not_null(g, "%s", tg_last_error());
        tg_graph *vg = tg_graph_value_and_grad(g, 1, (int[]){0});
        cr_assert_not_null(vg, "%s", tg_last_error());
        cr_expect_eq(count_nodes(g, ops[k].full), ops[k].narrows ? 0 : 1, "op %d forward: %s", k, ops[k].full);
        cr_expect_eq(count_nodes(g, ops[k].values), ops[k].narrows ? 1 : 0, "op %d forward: %s", k, ops[k].values);
        cr_expect_eq(count_nodes(vg, ops[k].full), 1, "op %d gradient: one %s", k, ops[k].full);
        cr_expect_eq(count_nodes(vg, ops[k].values), 0, "op %d gradient: no second decomposition", k);
        tg_graph *og = tg_graph_optimize(g), *ovg = tg_graph_optimize(vg);
        cr_assert(og && ovg, "%s", tg_last_error());
        tg_program *pf = tg_compile(og, NULL), *pv = tg_compile(ovg, NULL);
        cr_assert(pf && pv, "%s", tg_last_error());
        /* the narrowed program saves and loads (its dropped outputs are
         * values no node defines, as DCE leaves) */
        tg_program *pl = reload(tg_compile(og, NULL));
        for (int64_t n = 3; n <= 6; n += 3) {
            tg_manual_seed((uint64_t)(10 * k + n));
            tg_tensor *a = tg_randn(TG_F64, 3, (int64_t[]){2, n, n});
            tg_tensor *want = NULL, *got = NULL, *val = NULL, *grad = NULL, *outs[2] = {NULL, NULL};
            check_status(ops[k].fn(NULL, &a, &want), TG_OK, "eager");
            check_status(tg_run(pf, &a, &got), TG_OK, "forward program");
            check_close(got, want, 0, 0, "the compiled forward equals eager");
            tg_tensor *loaded = NULL;
            check_status(tg_run(pl, &a, &loaded), TG_OK, "loaded program");
            check_close(loaded, want, 0, 0, "the loaded program equals eager");
            tg_release(loaded);
            check_status(tg_grad_fn(ops[k].fn, NULL, 1, &a, &val, &grad), TG_OK, "eager grad");
            check_status(tg_run(pv, &a, outs), TG_OK, "value-and-grad program");
            check_close(outs[0], val, 1e-13, 1e-13, "traced value");
            check_close(outs[1], grad, 1e-11, 1e-11, "traced gradient equals eager");
            tg_release(got);
            tg_release(outs[0]);
            tg_release(outs[1]);
        }
        tg_program_free(pf);
        tg_program_free(pl);
        tg_program_free(pv);
        tg_graph_free(og);
        tg_graph_free(ovg);
        tg_graph_free(g);
        tg_graph_free(vg);
    }
    tg_scope_end();
}
