/* Matmul epilogues in compiled programs (autodiff/fusion.c): the pass puts
 * a matmul and the add of a bias and/or the relu right after it in one
 * group, shown by tg_graph_print and the DOT export, only where the
 * intermediates are read by nobody else; the compiled program then runs
 * the add and relu in place over the product, block by block, and gives
 * bitwise the values of the program compiled with no_fusion (hence of
 * eager mode) for every bias shape, batched products, one block and many,
 * and in gradient programs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"

TestSuite(fusion_epilogue, .init = tg_clear_error, .fini = tg_clear_error);

/* matmul epilogues the library has run fused (the tests link it statically) */
long long tg__fusion_epilogue_runs(void);

typedef struct {
    bool relu, return_sum;   /* apply relu; return the sum before it too */
} layer_kind;

/* relu(x @ w + b) (in: x, w, b) */
static tg_status layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const layer_kind *k = ctx;
    tg_tensor *s = tg_add(tg_matmul(in[0], in[1]), in[2]);
    out[0] = k->relu ? tg_relu(s) : s;
    if (k->return_sum) out[1] = s;
    return out[0] ? TG_OK : tg_last_error_code();
}

static int count(const char *text, const char *what) {
    int n = 0;
    for (const char *q = text; (q = strstr(q, what)); q++) n++;
    return n;
}

static tg_graph *trace_layer(layer_kind *k, tg_dtype t, const char *x, const char *w, const char *b) {
    tg_spec specs[3] = {{t, x}, {t, w}, {t, b}};
    tg_graph *g = tg_trace(layer, k, 3, specs, k->return_sum ? 2 : 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    return g;
}

/* How many nodes the printed optimised graph puts in a matmul epilogue. */
static int epilogue_nodes(const tg_graph *g) {
    tg_graph *o = tg_graph_optimize(g);
    cr_assert_not_null(o, "%s", tg_last_error());
    char *text = graph_text(o, false), *dot = graph_text(o, true);
    int n = count(text, ": matmul epilogue}");
    cr_expect_eq(count(dot, "label=\"fused 1: matmul epilogue\""), n ? 1 : 0, "DOT:\n%s", dot);
    free(text);
    free(dot);
    tg_graph_free(o);
    return n;
}

Test(fusion_epilogue, groups_only_what_no_one_else_reads) {
    tg_scope_begin();
    layer_kind full = {true, false}, bias_only = {false, false}, sum_returned = {true, true};
    tg_graph *g = trace_layer(&full, TG_F32, "N, 8", "8, 5", "5");
    cr_expect_eq(epilogue_nodes(g), 3, "matmul, add, relu in one group");
    tg_graph_free(g);
    g = trace_layer(&bias_only, TG_F32, "N, 8", "8, 5", "1, 5");
    cr_expect_eq(epilogue_nodes(g), 2, "matmul and add");
    tg_graph_free(g);
    /* the sum is returned as well: it must be written, so relu stays out */
    g = trace_layer(&sum_returned, TG_F32, "N, 8", "8, 5", "5");
    cr_expect_eq(epilogue_nodes(g), 2, "matmul and add (the sum is returned)");
    tg_graph_free(g);
    /* a bias that varies along a batch axis is not one the kernel reads */
    g = trace_layer(&full, TG_F32, "B, N, 8", "8, 5", "B, 1, 5");
    cr_expect_eq(epilogue_nodes(g), 0, "a bias over the batch axis");
    tg_graph_free(g);
    /* a bias of another dtype: the add promotes, so it is not an epilogue */
    tg_spec specs[3] = {{TG_F32, "N, 8"}, {TG_F32, "8, 5"}, {TG_F64, "5"}};
    g = tg_trace(layer, &full, 3, specs, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    cr_expect_eq(epilogue_nodes(g), 0, "a promoting add");
    tg_graph_free(g);
    tg_scope_end();
}

/* Runs both programs on (x, w, b); expects equal bits and one fused
 * epilogue run in the fused program. */
static void check_binding(tg_program *fused, tg_program *plain, tg_tensor *x, tg_tensor *w, tg_tensor *b, int n_out,
                          const char *what) {
    tg_tensor *in[3] = {x, w, b}, *f[2] = {NULL, NULL}, *u[2] = {NULL, NULL};
    long long runs = tg__fusion_epilogue_runs();
    cr_assert_eq(tg_run(fused, in, f), TG_OK, "%s: %s", what, tg_last_error());
    cr_expect_eq(tg__fusion_epilogue_runs() - runs, 1, "%s: epilogue runs", what);
    cr_assert_eq(tg_run(plain, in, u), TG_OK, "%s: %s", what, tg_last_error());
    for (int j = 0; j < n_out; j++) cr_expect(bitwise_equal(f[j], u[j]), "%s: output %d differs from the unfused program", what, j);
    for (int j = 0; j < n_out; j++) {
        tg_release(f[j]);
        tg_release(u[j]);
    }
}

Test(fusion_epilogue, fused_equals_unfused_bitwise) {
    tg_scope_begin();
    tg_manual_seed(11);
    layer_kind kinds[2] = {{true, false}, {true, true}};
    struct { const char *x, *b; int xd, bd; int64_t bshape[2]; } cases[] = {
        {"N, 24", "5", 2, 1, {5, 0}},             /* a bias per column */
        {"N, 24", "1, 5", 2, 2, {1, 5}},
        {"N, 24", "N, 1", 2, 2, {-1, 1}},         /* per row (N: the binding's rows) */
        {"N, 24", "N, 5", 2, 2, {-1, 5}},         /* a whole matrix (a residual) */
        {"3, N, 24", "5", 3, 1, {5, 0}},          /* batched: one bias for every batch */
    };
    int64_t rows[] = {1, 7, 4000};   /* one row, one block, several blocks of 3276 rows (16 Ki elements) */
    for (int t = 0; t < 2; t++) {
        tg_dtype d = t ? TG_F64 : TG_F32;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            for (int k = 0; k < 2; k++) {
                tg_graph *g = trace_layer(&kinds[k], d, cases[c].x, "24, 5", cases[c].b);
                tg_program *fused = tg_compile(g, NULL), *plain = tg_compile(g, &(tg_compile_opts){.no_fusion = true});
                cr_assert(fused && plain, "%s", tg_last_error());
                for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
                    int64_t n = rows[r], xs[3] = {3, n, 24}, bs[2] = {cases[c].bshape[0], cases[c].bshape[1]};
                    if (cases[c].xd == 2) { xs[0] = n; xs[1] = 24; }
                    if (bs[0] < 0) bs[0] = n;
                    tg_tensor *x = tg_randn(d, cases[c].xd, xs), *w = tg_randn(d, 2, (int64_t[]){24, 5});
                    tg_tensor *b = tg_randn(d, cases[c].bd, bs);
                    char what[128];
                    snprintf(what, sizeof what, "%s, x (%s), bias (%s), N = %lld%s", tg_dtype_name(d), cases[c].x,
                             cases[c].b, (long long)n, k ? ", sum returned" : "");
                    check_binding(fused, plain, x, w, b, k ? 2 : 1, what);
                }
                tg_program_free(fused);
                tg_program_free(plain);
                tg_graph_free(g);
            }
    }
    tg_scope_end();
}

/* A strided operand (a transposed weight) and eager mode. */
Test(fusion_epilogue, equals_eager_mode_with_a_transposed_weight) {
    tg_scope_begin();
    tg_manual_seed(12);
    layer_kind full = {true, false};
    tg_graph *g = trace_layer(&full, TG_F32, "N, 30", "30, 20", "20");
    tg_program *fused = tg_compile(g, NULL);
    cr_assert_not_null(fused, "%s", tg_last_error());
    tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){1500, 30}), *wt = tg_randn(TG_F32, 2, (int64_t[]){20, 30});
    tg_tensor *w = tg_permute(wt, (int[]){1, 0}), *b = tg_randn(TG_F32, 1, (int64_t[]){20});
    tg_tensor *in[3] = {x, w, b}, *eager[2], *got;
    cr_assert_eq(layer(&full, in, eager), TG_OK, "%s", tg_last_error());
    long long runs = tg__fusion_epilogue_runs();
    cr_assert_eq(tg_run(fused, in, &got), TG_OK, "%s", tg_last_error());
    cr_expect_eq(tg__fusion_epilogue_runs() - runs, 1);
    cr_expect(bitwise_equal(eager[0], got), "the fused program differs from eager mode");
    tg_release(got);
    tg_program_free(fused);
    tg_graph_free(g);
    tg_scope_end();
}

/* value_and_grad of a two-layer loss: the forward products keep their
 * bias adds (relu's input is read by its derivative, so relu stays out),
 * and the program gives the unfused program's value and gradients. */
static tg_status two_layers(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *h = tg_relu(tg_add(tg_matmul(in[0], in[1]), in[2]));
    tg_tensor *y = tg_add(tg_matmul(h, in[3]), in[4]);
    out[0] = tg_sum(tg_square(y), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

/* Runs both programs on in: the fused one runs at least min_runs
 * epilogues, and its n_out outputs equal the plain one's bitwise. */
static void expect_runs_agree(tg_program *fused, tg_program *plain, tg_tensor **in, int n_out, long long min_runs,
                              const char *what) {
    tg_tensor *a[8], *b[8];
    long long runs = tg__fusion_epilogue_runs();
    cr_assert_eq(tg_run(fused, in, a), TG_OK, "%s: %s", what, tg_last_error());
    cr_expect_geq(tg__fusion_epilogue_runs() - runs, min_runs, "%s: epilogue runs", what);
    cr_assert_eq(tg_run(plain, in, b), TG_OK, "%s: %s", what, tg_last_error());
    for (int j = 0; j < n_out; j++) {
        cr_expect(bitwise_equal(a[j], b[j]), "%s: output %d differs", what, j);
        tg_release(a[j]);
        tg_release(b[j]);
    }
}

Test(fusion_epilogue, gradient_programs_agree) {
    tg_scope_begin();
    tg_manual_seed(13);
    tg_spec specs[5] = {{TG_F64, "N, 12"}, {TG_F64, "12, 9"}, {TG_F64, "9"}, {TG_F64, "9, 4"}, {TG_F64, "4"}};
    tg_graph *g = tg_trace(two_layers, NULL, 5, specs, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 4, (int[]){1, 2, 3, 4});
    cr_assert_not_null(vg, "%s", tg_last_error());
    cr_expect_geq(epilogue_nodes(vg), 4, "both forward products with their bias adds");
    tg_program *fused = tg_compile(vg, NULL), *plain = tg_compile(vg, &(tg_compile_opts){.no_fusion = true});
    cr_assert(fused && plain, "%s", tg_last_error());
    for (int64_t n = 3; n <= 3000; n += 2997) {
        tg_tensor *in[5] = {tg_randn(TG_F64, 2, (int64_t[]){n, 12}), tg_randn(TG_F64, 2, (int64_t[]){12, 9}),
                            tg_randn(TG_F64, 1, (int64_t[]){9}), tg_randn(TG_F64, 2, (int64_t[]){9, 4}),
                            tg_randn(TG_F64, 1, (int64_t[]){4})};
        char what[32];
        snprintf(what, sizeof what, "N = %lld", (long long)n);
        expect_runs_agree(fused, plain, in, 5, 2, what);
    }
    tg_program_free(fused);
    tg_program_free(plain);
    tg_graph_free(vg);
    tg_graph_free(g);
    tg_scope_end();
}

/* conv2d -> relu: relu(conv2d(x, w, b)) with no bias, with one, and with
 * the convolution's output returned too (kind 0, 1, 2). */
static tg_status conv_layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const int *kind = ctx;
    tg_conv2d_opts o = {.stride = {1, 1}, .padding = {1, 1}, .dilation = {1, 1}, .groups = 1};
    tg_tensor *y = tg_nn_conv2d(in[0], in[1], *kind ? in[2] : NULL, &o);
    out[0] = tg_relu(y);
    if (*kind == 2) out[1] = y;
    return out[0] ? TG_OK : tg_last_error_code();
}

static int conv_epilogue_nodes(const tg_graph *g) {
    tg_graph *o = tg_graph_optimize(g);
    cr_assert_not_null(o, "%s", tg_last_error());
    char *text = graph_text(o, false), *dot = graph_text(o, true);
    int n = count(text, ": conv2d epilogue}");
    cr_expect_eq(count(dot, ": conv2d epilogue\""), n ? 1 : 0, "DOT:\n%s", dot);
    free(text);
    free(dot);
    tg_graph_free(o);
    return n;
}

/* The pass groups a convolution (with or without its bias) and the relu of
 * its output, unless the output is returned too; the compiled program then
 * applies the relu in place over the output, block by block of images,
 * with bitwise the values of the program compiled with no_fusion, for one
 * image, one block and several blocks, f32 and f64. */
Test(fusion_epilogue, conv2d_relu_bitwise_the_unfused_pair) {
    tg_scope_begin();
    tg_manual_seed(5);
    for (int t = 0; t < 2; t++) {
        tg_dtype d = t ? TG_F64 : TG_F32;
        for (int kind = 0; kind < 3; kind++) {
            tg_spec specs[3] = {{d, "N, 3, 9, 9"}, {d, "4, 3, 3, 3"}, {d, "4"}};
            tg_graph *g = tg_trace(conv_layer, &kind, 3, specs, kind == 2 ? 2 : 1);
            cr_assert_not_null(g, "%s", tg_last_error());
            cr_expect_eq(conv_epilogue_nodes(g), kind == 2 ? 0 : 2, "kind %d: nodes in the conv2d group", kind);
            tg_program *fused = tg_compile(g, NULL), *plain = tg_compile(g, &(tg_compile_opts){.no_fusion = true});
            cr_assert(fused && plain, "%s", tg_last_error());
            for (int64_t n = 1; n <= 301; n += 150) {     /* 1, 151, 301 images (50 per block) */
                tg_tensor *x = tg_randn(d, 4, (int64_t[]){n, 3, 9, 9}), *w = tg_randn(d, 4, (int64_t[]){4, 3, 3, 3});
                tg_tensor *b = tg_randn(d, 1, (int64_t[]){4}), *in[3] = {x, w, b}, *f[2] = {NULL}, *u[2] = {NULL};
                long long runs = tg__fusion_epilogue_runs();
                cr_assert_eq(tg_run(fused, in, f), TG_OK, "%s", tg_last_error());
                cr_expect_eq(tg__fusion_epilogue_runs() - runs, kind == 2 ? 0 : 1, "kind %d, N = %lld: fused runs",
                             kind, (long long)n);
                cr_assert_eq(tg_run(plain, in, u), TG_OK, "%s", tg_last_error());
                for (int j = 0; j < (kind == 2 ? 2 : 1); j++) {
                    cr_expect(bitwise_equal(f[j], u[j]), "%s, kind %d, N = %lld: output %d differs", tg_dtype_name(d),
                              kind, (long long)n, j);
                    tg_release(f[j]);
                    tg_release(u[j]);
                }
            }
            tg_program_free(fused);
            tg_program_free(plain);
            tg_graph_free(g);
        }
    }
    tg_scope_end();
}

/* Other activations end an epilogue too: act(x @ w + b) and act(conv2d)
 * for gelu, tanh, sigmoid and silu, grouped with the product and run in
 * place over it, bitwise the unfused program (one block and several). */
static tg_tensor *(*const acts[4])(tg_tensor *) = {tg_gelu, tg_tanh, tg_sigmoid, tg_silu};
static const char *const act_names[4] = {"gelu", "tanh", "sigmoid", "silu"};

static tg_status act_layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const int *which = ctx;
    tg_conv2d_opts o = {.stride = {1, 1}, .padding = {1, 1}, .dilation = {1, 1}, .groups = 1};
    tg_tensor *y = *which < 4 ? tg_add(tg_matmul(in[0], in[1]), in[2]) : tg_nn_conv2d(in[0], in[1], in[2], &o);
    out[0] = acts[*which % 4](y);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(fusion_epilogue, other_activations_bitwise_the_unfused_chain) {
    tg_scope_begin();
    tg_manual_seed(9);
    for (int which = 0; which < 8; which++) {     /* 0-3: matmul + add + act; 4-7: conv2d + act */
        bool conv = which >= 4;
        tg_spec mspecs[3] = {{TG_F64, "N, 24"}, {TG_F64, "24, 5"}, {TG_F64, "5"}};
        tg_spec cspecs[3] = {{TG_F64, "N, 3, 9, 9"}, {TG_F64, "4, 3, 3, 3"}, {TG_F64, "4"}};
        tg_graph *g = tg_trace(act_layer, &which, 3, conv ? cspecs : mspecs, 1);
        cr_assert_not_null(g, "%s", tg_last_error());
        tg_graph *opt = tg_graph_optimize(g);
        char *text = graph_text(opt, false);
        int grouped = count(text, conv ? ": conv2d epilogue}" : ": matmul epilogue}");
        cr_expect_eq(grouped, conv ? 2 : 3, "%s after %s: %d nodes grouped\n%s", act_names[which % 4],
                     conv ? "conv2d" : "matmul + add", grouped, text);
        free(text);
        tg_graph_free(opt);
        tg_program *fused = tg_compile(g, NULL), *plain = tg_compile(g, &(tg_compile_opts){.no_fusion = true});
        cr_assert(fused && plain, "%s", tg_last_error());
        for (int64_t n = 1; n <= 4001; n += 4000) {
            tg_tensor *in[3];
            if (conv) {
                in[0] = tg_randn(TG_F64, 4, (int64_t[]){n / 10 + 1, 3, 9, 9});
                in[1] = tg_randn(TG_F64, 4, (int64_t[]){4, 3, 3, 3});
                in[2] = tg_randn(TG_F64, 1, (int64_t[]){4});
            } else {
                in[0] = tg_randn(TG_F64, 2, (int64_t[]){n, 24});
                in[1] = tg_randn(TG_F64, 2, (int64_t[]){24, 5});
                in[2] = tg_randn(TG_F64, 1, (int64_t[]){5});
            }
            tg_tensor *f = NULL, *u = NULL;
            long long runs = tg__fusion_epilogue_runs();
            cr_assert_eq(tg_run(fused, in, &f), TG_OK, "%s", tg_last_error());
            cr_expect_eq(tg__fusion_epilogue_runs() - runs, 1, "%s: fused runs", act_names[which % 4]);
            cr_assert_eq(tg_run(plain, in, &u), TG_OK, "%s", tg_last_error());
            cr_expect(bitwise_equal(f, u), "%s after %s, N = %lld: differs from the unfused program",
                      act_names[which % 4], conv ? "conv2d" : "matmul + add", (long long)n);
            tg_release(f);
            tg_release(u);
        }
        tg_program_free(fused);
        tg_program_free(plain);
        tg_graph_free(g);
    }
    tg_scope_end();
}

static tg_status conv_relu_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_conv2d_opts o = {.stride = {1, 1}, .padding = {1, 1}, .dilation = {1, 1}, .groups = 1};
    out[0] = tg_sum(tg_square(tg_relu(tg_nn_conv2d(in[0], in[1], in[2], &o))), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

/* In a gradient program too: relu's rules read its output, not its input,
 * so the convolution's output is read by the relu alone and the pair stays
 * one group (a training step's conv + relu run in place); the gradients
 * equal those of the program compiled with no_fusion bitwise. */
Test(fusion_epilogue, conv2d_relu_grouped_in_gradient_programs) {
    tg_scope_begin();
    tg_manual_seed(17);
    tg_spec specs[3] = {{TG_F64, "N, 3, 7, 7"}, {TG_F64, "4, 3, 3, 3"}, {TG_F64, "4"}};
    tg_graph *g = tg_trace(conv_relu_loss, NULL, 3, specs, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 3, (int[]){0, 1, 2});
    cr_assert_not_null(vg, "%s", tg_last_error());
    cr_expect_eq(conv_epilogue_nodes(vg), 2, "the forward conv2d and its relu grouped");
    tg_program *fused = tg_compile(vg, NULL), *plain = tg_compile(vg, &(tg_compile_opts){.no_fusion = true});
    cr_assert(fused && plain, "%s", tg_last_error());
    tg_tensor *in[3] = {tg_randn(TG_F64, 4, (int64_t[]){5, 3, 7, 7}), tg_randn(TG_F64, 4, (int64_t[]){4, 3, 3, 3}),
                        tg_randn(TG_F64, 1, (int64_t[]){4})};
    expect_runs_agree(fused, plain, in, 4, 1, "conv2d + relu gradients");
    tg_program_free(fused);
    tg_program_free(plain);
    tg_graph_free(vg);
    tg_graph_free(g);
    tg_scope_end();
}
