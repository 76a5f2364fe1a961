/* Elementwise fusion of compiled programs (autodiff/fusion.c): the pass
 * groups runs of elementwise ops, the printed graph and the DOT export show
 * the groups, and a fused program gives bitwise the values of the same
 * program compiled with no_fusion (hence of eager mode) on every binding:
 * one block and many, broadcast operands, a cast and a comparison in the
 * chain, intermediates read after the group, 1 and 2 threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"

TestSuite(fusion, .init = tg_clear_error, .fini = tg_clear_error);

/* groups the library has run block by block (the tests link it statically),
 * and of those the ones on the flat path (autodiff/fusion_flat.c) */
long long tg__fusion_group_runs(void);
long long tg__fusion_flat_runs(void);

typedef struct { tg_tensor *bias, *scale; } params;

/* 10 elementwise ops in one run (x: (N, C) f32), then a reduction that reads
 * an intermediate of the run, then one more elementwise op. */
static tg_status chain(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    params *p = ctx;
    tg_tensor *x = in[0];
    tg_tensor *h = tg_add(tg_mul(x, p->scale), p->bias);     /* (N,C) * (C,) + (1,C) */
    tg_tensor *a = tg_relu(h);
    tg_tensor *e = tg_exp(tg_neg(tg_square(x)));
    tg_tensor *m = tg_where(tg_gt(a, e), a, e);               /* a comparison and where */
    tg_tensor *c = tg_cast(tg_cast(m, TG_F64), TG_F32);       /* two casts */
    tg_tensor *s = tg_sum(h, 1, (int[]){1}, true);            /* h is read after the run */
    out[0] = tg_sub(c, s);
    out[1] = a;                                               /* an intermediate returned */
    return out[0] && out[1] ? TG_OK : tg_last_error_code();
}

Test(fusion, groups_are_printed_and_exported) {
    tg_scope_begin();
    params p = {tg_randn(TG_F32, 2, (int64_t[]){1, 5}), tg_randn(TG_F32, 1, (int64_t[]){5})};
    tg_graph *g = tg_trace(chain, &p, 1, (tg_spec[]){{TG_F32, "N, 5"}}, 2);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *o = tg_graph_optimize(g);
    cr_assert_not_null(o, "%s", tg_last_error());
    char *text = graph_text(o, false), *dot = graph_text(o, true);
    /* the 10 elementwise ops before the sum form group 1; the sum ends it,
     * and the sub after it is alone (a group needs two ops) */
    int fused = 0;
    for (const char *q = text; (q = strstr(q, "{fused 1}")); q++) fused++;
    cr_expect_eq(fused, 10, "nodes in group 1: %d\n%s", fused, text);
    cr_expect(!strstr(text, "{fused 2}"), "a second group:\n%s", text);
    cr_expect(strstr(dot, "subgraph cluster_fused_1") && strstr(dot, "label=\"fused 1\""), "DOT:\n%s", dot);
    free(text);
    free(dot);
    tg_graph_free(o);
    tg_graph_free(g);
    tg_scope_end();
}

/* Runs the fused and the unfused program on x; expects equal bits, and
 * the group run block by block when it holds more than one block (16 Ki
 * elements; smaller groups run op by op). */
static void check_binding(tg_program *fused, tg_program *plain, tg_tensor *x, const char *what) {
    tg_tensor *a[2], *b[2];
    long long runs = tg__fusion_group_runs();
    cr_assert_eq(tg_run(fused, &x, a), TG_OK, "%s: %s", what, tg_last_error());
    cr_expect_eq(tg__fusion_group_runs() - runs, tg_numel(x) > (1 << 14) ? 1 : 0, "%s: group runs", what);
    cr_assert_eq(tg_run(plain, &x, b), TG_OK, "%s: %s", what, tg_last_error());
    for (int j = 0; j < 2; j++) cr_expect(bitwise_equal(a[j], b[j]), "%s: output %d differs from the unfused program", what, j);
    tg_release(a[0]); tg_release(a[1]); tg_release(b[0]); tg_release(b[1]);
}

Test(fusion, fused_equals_unfused_bitwise_on_every_binding) {
    tg_scope_begin();
    tg_manual_seed(5);
    int64_t C = 37;   /* odd row length: blocks of 442 rows, not a power of two */
    params p = {tg_randn(TG_F32, 2, (int64_t[]){1, C}), tg_randn(TG_F32, 1, (int64_t[]){C})};
    tg_graph *g = tg_trace(chain, &p, 1, (tg_spec[]){{TG_F32, "N, 37"}}, 2);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *fused = tg_compile(g, NULL), *plain = tg_compile(g, &(tg_compile_opts){.no_fusion = true});
    cr_assert(fused && plain, "%s", tg_last_error());
    int before = tg_get_num_threads();
    int64_t sizes[] = {1, 442, 443, 885, 5000};   /* one row, one block (op by op), two blocks (the
                                                     second of one row), two full blocks and one row, many */
    for (int t = 1; t <= 2; t++) {
        tg_set_num_threads(t);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            char what[64];
            snprintf(what, sizeof what, "N = %lld, %d thread(s)", (long long)sizes[i], t);
            check_binding(fused, plain, tg_randn(TG_F32, 2, (int64_t[]){sizes[i], C}), what);
        }
    }
    tg_set_num_threads(before);
    /* and eager mode gives the same bits */
    tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){700, C}), *eager[2], *got[2];
    cr_assert_eq(chain(&p, &x, eager), TG_OK);
    cr_assert_eq(tg_run(fused, &x, got), TG_OK, "%s", tg_last_error());
    cr_expect(bitwise_equal(eager[0], got[0]) && bitwise_equal(eager[1], got[1]), "fused program differs from eager mode");
    tg_release(got[0]);
    tg_release(got[1]);
    tg_program_free(fused);
    tg_program_free(plain);
    tg_graph_free(g);
    tg_scope_end();
}

/* The flat path: a chain of unary and binary ops, a comparison and where
 * over one contiguous input, 0-d constants and weak scalars (f64, converted
 * once to f32), an intermediate the group keeps, one it returns and one
 * read after it, run as the ops' raw loops over small blocks, on
 * sizes around the block (1024 f32) and one and two threads: the same bits
 * as the unfused program; with two casts in the chain too. An input
 * broadcast along a row and a transposed one send the group down the block
 * path instead. */
typedef struct { tg_tensor *half, *one, *row; int variant; } flat_case;

static tg_status flat_chain(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const flat_case *c = ctx;
    tg_tensor *x = c->variant == 2 ? tg_mT(in[0]) : in[0];
    tg_tensor *h = tg_add(tg_mul(x, c->half), c->one);
    if (c->variant == 1) h = tg_mul(h, c->row);                 /* (C,) broadcast along rows */
    if (c->variant == 3) h = tg_cast(tg_cast(h, TG_F64), TG_F32);
    tg_tensor *k = tg_relu(tg_sub(h, x));                       /* h is read twice in the group */
    tg_tensor *r = tg_tanh(tg_mul_scalar(tg_mul(k, h), 1.5));
    out[0] = tg_where(tg_gt_scalar(r, 0.25), tg_maximum(tg_square(r), tg_neg(k)), c->half);
    out[1] = k;                                                  /* escapes: returned */
    out[2] = tg_sum(r, 0, NULL, false);                          /* r read after the group */
    return out[0] && out[1] && out[2] ? TG_OK : tg_last_error_code();
}

Test(fusion, flat_path_runs_raw_loops_bitwise) {
    tg_scope_begin();
    tg_manual_seed(8);
    int64_t C = 64;
    flat_case c = {tg_scalar(TG_F32, 0.5), tg_scalar(TG_F32, 1.0), tg_randn(TG_F32, 1, &C), 0};
    int before = tg_get_num_threads();
    for (c.variant = 0; c.variant < 4; c.variant++) {
        bool flat = c.variant == 0 || c.variant == 3;
        tg_graph *g = tg_trace(flat_chain, &c, 1, (tg_spec[]){{TG_F32, c.variant == 2 ? "64, N" : "N, 64"}}, 3);
        cr_assert_not_null(g, "%s", tg_last_error());
        tg_program *fused = tg_compile(g, NULL), *plain = tg_compile(g, &(tg_compile_opts){.no_fusion = true});
        cr_assert(fused && plain, "%s", tg_last_error());
        int64_t rows[] = {257, 2048, 2051, 9001};   /* 1 block + 1 row, 64 blocks, ... (32 rows a block) */
        for (int t = 1; t <= 2; t++) {
            tg_set_num_threads(t);
            for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                int64_t shape[2] = {rows[i], C};
                if (c.variant == 2) shape[0] = C, shape[1] = rows[i];
                tg_tensor *x = tg_randn(TG_F32, 2, shape), *a[3], *b[3];
                long long groups = tg__fusion_group_runs(), flats = tg__fusion_flat_runs();
                cr_assert_eq(tg_run(fused, &x, a), TG_OK, "%s", tg_last_error());
                cr_expect_eq(tg__fusion_group_runs() - groups, 1, "variant %d N = %lld: groups run", c.variant,
                             (long long)rows[i]);
                cr_expect_eq(tg__fusion_flat_runs() - flats, flat ? 1 : 0, "variant %d N = %lld: flat runs",
                             c.variant, (long long)rows[i]);
                cr_assert_eq(tg_run(plain, &x, b), TG_OK, "%s", tg_last_error());
                for (int j = 0; j < 3; j++)
                    cr_expect(bitwise_equal(a[j], b[j]), "variant %d N = %lld, %d thread(s): output %d differs",
                              c.variant, (long long)rows[i], t, j);
                for (int j = 0; j < 3; j++) { tg_release(a[j]); tg_release(b[j]); }
            }
        }
        tg_program_free(fused);
        tg_program_free(plain);
        tg_graph_free(g);
    }
    tg_set_num_threads(before);
    tg_scope_end();
}

/* Gradients run through the fused executor too: value_and_grad of a
 * scalar loss of the chain, fused and unfused, on two bindings. */
static tg_status loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *o[2];
    tg_status st = chain(ctx, in, o);
    if (st) return st;
    out[0] = tg_sum(tg_mul(o[0], o[1]), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(fusion, gradient_programs_fuse_and_agree) {
    tg_scope_begin();
    tg_manual_seed(6);
    params p = {tg_randn(TG_F64, 2, (int64_t[]){1, 64}), tg_randn(TG_F64, 1, (int64_t[]){64})};
    tg_graph *g = tg_trace(loss, &p, 1, (tg_spec[]){{TG_F64, "N, 64"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 1, (int[]){0});
    cr_assert_not_null(vg, "%s", tg_last_error());
    tg_program *fused = tg_compile(vg, NULL), *plain = tg_compile(vg, &(tg_compile_opts){.no_fusion = true});
    cr_assert(fused && plain, "%s", tg_last_error());
    tg_graph *o = tg_graph_optimize(vg);
    char *text = graph_text(o, false);
    cr_expect(strstr(text, "{fused 2}"), "the backward pass forms groups too:\n%s", text);
    free(text);
    for (int64_t n = 100; n <= 3000; n += 2900) {
        tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){n, 64}), *a[2], *b[2];
        long long runs = tg__fusion_group_runs();
        cr_assert_eq(tg_run(fused, &x, a), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_run(plain, &x, b), TG_OK, "%s", tg_last_error());
        cr_expect(n < 1000 || tg__fusion_group_runs() - runs >= 2, "N = %lld: the groups did not run fused", (long long)n);
        cr_expect(bitwise_equal(a[0], b[0]) && bitwise_equal(a[1], b[1]), "N = %lld: value or gradient differs", (long long)n);
        tg_release(a[0]); tg_release(a[1]); tg_release(b[0]); tg_release(b[1]);
    }
    tg_graph_free(o);
    tg_program_free(fused);
    tg_program_free(plain);
    tg_graph_free(vg);
    tg_graph_free(g);
    tg_scope_end();
}

/* Every registered elementwise op, fused with a cast and a neg after it,
 * gives the unfused program's bits (f32 and f64 operands; ops whose
 * inference rejects them, such as integer-only ones, are skipped). */
#include "tensor/registry.h"

typedef struct { const tg_op_def *def; tg_attrs attrs; } op_case;

static tg_status one_op(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const op_case *c = ctx;
    tg_tensor *args[3] = {in[0], in[1], in[2]};
    if (!strcmp(c->def->name, "where")) args[0] = tg_gt(in[0], in[1]);   /* a bool condition */
    tg_tensor *y = tg__apply1(c->def, c->def->n_in, args, &c->attrs);
    out[0] = tg_neg(tg_cast(y, TG_F64));
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(fusion, every_elementwise_op_fuses_bitwise) {
    int tested = 0;
    for (int i = 0; i < tg__op_count(); i++) {
        const tg_op_def *def = tg__op_at(i);
        if (!(def->flags & TG_OP_ELEMENTWISE) || def->n_in > 3) continue;
        for (int dt = 0; dt < 2; dt++) {
            tg_dtype d = dt ? TG_F64 : TG_F32;
            op_case c = {def, {0}};
            if (!strcmp(def->name, "cast")) c.attrs = (tg_attrs){.n_int = 1, .i = {dt ? TG_F32 : TG_F64}};
            tg_scope_begin();
            char s[64];
            snprintf(s, sizeof s, "N, 33");
            tg_spec specs[3] = {{d, s}, {d, s}, {d, s}};
            tg_graph *g = tg_trace(one_op, &c, 3, specs, 1);
            if (!g) {   /* this op does not take these operands */
                tg_clear_error();
                tg_scope_end();
                continue;
            }
            tg_program *fused = tg_compile(g, NULL), *plain = tg_compile(g, &(tg_compile_opts){.no_fusion = true});
            tg_graph *o = tg_graph_optimize(g);
            cr_assert(fused && plain && o, "%s: %s", def->name, tg_last_error());
            char *text = graph_text(o, false);
            cr_expect(strstr(text, "{fused 1}"), "%s (%s) not fused:\n%s", def->name, tg_dtype_name(d), text);
            free(text);
            for (int64_t n = 1; n <= 2001; n += 2000) {   /* one block; five blocks of 496 rows */
                tg_tensor *x[3];
                for (int k = 0; k < 3; k++) x[k] = tg_randn(d, 2, (int64_t[]){n, 33});
                tg_tensor *a, *b;
                long long runs = tg__fusion_group_runs();
                cr_assert_eq(tg_run(fused, x, &a), TG_OK, "%s: %s", def->name, tg_last_error());
                cr_expect_eq(tg__fusion_group_runs() - runs, n > 1 ? 1 : 0, "%s: group runs %lld n %lld", def->name, tg__fusion_group_runs() - runs, (long long)n);
                cr_assert_eq(tg_run(plain, x, &b), TG_OK, "%s: %s", def->name, tg_last_error());
                cr_expect(bitwise_equal(a, b), "%s (%s), N = %lld: fused differs", def->name, tg_dtype_name(d),
                          (long long)n);
                tg_release(a);
                tg_release(b);
            }
            tested++;
            tg_graph_free(o);
            tg_program_free(fused);
            tg_program_free(plain);
            tg_graph_free(g);
            tg_scope_end();
        }
    }
    cr_expect(tested >= 60, "only %d (op, dtype) pairs ran", tested);
    fprintf(stderr, "fusion: %d (op, dtype) pairs checked\n", tested);
}

/* A reduction that keeps axis 0 ends the group that computes its input
 * (sum, prod, max, min): each block of rows reduces its own rows, so the
 * chain's output is never written whole and the values are bitwise the
 * unfused program's. A reduction over axis 0, or of a value read again,
 * stays out of the group. */
typedef struct { const char *op; int naxes; int axes[2]; bool keepdim; bool reread; } tail_case;

static tg_status chain_then_reduce(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const tail_case *c = ctx;
    tg_tensor *h = tg_mul(tg_tanh(tg_sub(in[0], in[1])), in[1]);   /* in[1] broadcast along axis 0 */
    tg_tensor *(*reduce)(tg_tensor *, int, const int *, bool) =
        !strcmp(c->op, "sum") ? tg_sum : !strcmp(c->op, "prod") ? tg_prod : !strcmp(c->op, "max") ? tg_max : tg_min;
    out[0] = reduce(h, c->naxes, c->axes, c->keepdim);
    if (c->reread) out[0] = tg_add(out[0], tg_sum(h, 0, NULL, false));
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(fusion, reductions_end_the_group_bitwise) {
    tg_scope_begin();
    tg_manual_seed(8);
    tail_case cases[] = {
        {"sum", 1, {2}, false, false}, {"sum", 2, {1, 2}, true, false}, {"prod", 1, {-1}, false, false},
        {"max", 1, {1}, false, false}, {"min", 2, {-2, -1}, false, false},
    };
    tail_case outside[] = {{"sum", 1, {0}, false, false}, {"sum", 1, {-3}, false, false}, {"max", 1, {2}, false, true}};
    for (int t = 0; t < 2; t++) {
        tg_dtype d = t ? TG_F64 : TG_F32;
        tg_spec specs[2] = {{d, "N, 6, 9"}, {d, "6, 9"}};
        for (size_t c = 0; c < sizeof cases / sizeof cases[0] + sizeof outside / sizeof outside[0]; c++) {
            bool fuses = c < sizeof cases / sizeof cases[0];
            tail_case *tc = fuses ? &cases[c] : &outside[c - sizeof cases / sizeof cases[0]];
            tg_graph *g = tg_trace(chain_then_reduce, tc, 2, specs, 1);
            cr_assert_not_null(g, "%s", tg_last_error());
            tg_graph *o = tg_graph_optimize(g);
            char *text = graph_text(o, false);
            /* the group: sub, tanh, mul and (fusing) the reduction */
            char tag[64];
            snprintf(tag, sizeof tag, "= %s(", tc->op);
            const char *line = strstr(text, tag);
            cr_assert(line, "%s", text);
            const char *eol = strchr(line, '\n');
            bool marked = strstr(line, "{fused 1}") && strstr(line, "{fused 1}") < eol;
            cr_expect_eq(marked, fuses, "%s (case %zu) %s the group:\n%s", tc->op, c, fuses ? "not in" : "in", text);
            free(text);
            tg_graph_free(o);
            tg_program *fused = tg_compile(g, NULL), *plain = tg_compile(g, &(tg_compile_opts){.no_fusion = true});
            cr_assert(fused && plain, "%s", tg_last_error());
            for (int64_t n = 1; n <= 1000; n += 999) {   /* one block (op by op); four blocks of 303 rows */
                tg_tensor *x[2] = {tg_randn(d, 3, (int64_t[]){n, 6, 9}), tg_randn(d, 2, (int64_t[]){6, 9})}, *a, *b;
                long long runs = tg__fusion_group_runs();
                cr_assert_eq(tg_run(fused, x, &a), TG_OK, "%s", tg_last_error());
                cr_expect_eq(tg__fusion_group_runs() - runs, n > 1 ? 1 : 0, "%s case %zu N = %lld: group runs", tc->op,
                             c, (long long)n);
                cr_assert_eq(tg_run(plain, x, &b), TG_OK, "%s", tg_last_error());
                cr_expect(bitwise_equal(a, b), "%s (%s) case %zu, N = %lld: fused differs", tc->op, tg_dtype_name(d), c,
                          (long long)n);
                tg_release(a);
                tg_release(b);
            }
            tg_program_free(fused);
            tg_program_free(plain);
            tg_graph_free(g);
        }
    }
    tg_scope_end();
}
