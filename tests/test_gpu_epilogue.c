/* Matmul epilogues of compiled programs on the GPU (autodiff/fusion.c,
 * tg__vk_matmul_epilogue in gpu/linear.c): relu(x @ w + b) traced and
 * compiled runs as one dispatch (the matmul kernel adds the bias and
 * applies relu as it stores), bit for bit what the program compiled with
 * no_fusion computes in three, for f32 and f64 (where the device has it),
 * per-column, per-row and whole-matrix biases, batched products and a
 * transposed weight; a product whose kernel path takes no epilogue
 * (split-K) gets one in-place pass for both, with the same bits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "support/check.h"
#include "support/gpu.h"

long long tg__fusion_epilogue_runs(void);
const char *tg__vk_matmul_last(void);   /* gpu/matmul.c: the pipeline of the thread's last product */

static tg_status layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_relu(tg_add(tg_matmul(in[0], in[1]), in[2]));
    return out[0] ? TG_OK : tg_last_error_code();
}

static tg_program *compile_layer(tg_dtype t, const char *x, const char *w, const char *b, bool fuse) {
    tg_spec specs[3] = {{t, x}, {t, w}, {t, b}};
    tg_graph *g = tg_trace(layer, NULL, 3, specs, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_compile_opts o = {.no_fusion = !fuse, .no_replay = true};    /* dispatches counted: the kernels alone */
    tg_program *p = tg_compile(g, &o);
    cr_assert(p, "%s", tg_last_error());
    tg_graph_free(g);
    return p;
}

static tg_tensor *random_on_gpu(tg_dtype t, int ndim, const int64_t *shape) {
    tg_tensor *h = tg_randn(t, ndim, shape), *d = tg_to_device(h, VK0);
    cr_assert(d, "%s", tg_last_error());
    tg_release(h);
    return d;
}

/* Runs both programs on in[]; expects equal bits, the epilogue run fused,
 * and saved dispatches fewer in the fused run than op by op (2: bias and
 * relu in the product's kernel; 1: in one pass after it). */
static void check(tg_program *fused, tg_program *plain, tg_tensor **in, int saved, const char *what) {
    tg_vk_queue_stats s0, s1, s2;
    tg_tensor *f, *u;
    long long runs = tg__fusion_epilogue_runs();
    cr_assert_eq(tg__vk_queue_stats(0, &s0), 0);
    cr_assert_eq(tg_run(fused, in, &f), TG_OK, "%s: %s", what, tg_last_error());
    cr_assert_eq(tg__vk_queue_stats(0, &s1), 0);
    cr_assert_eq(tg_run(plain, in, &u), TG_OK, "%s: %s", what, tg_last_error());
    cr_assert_eq(tg__vk_queue_stats(0, &s2), 0);
    uint64_t nf = s1.dispatches - s0.dispatches, np = s2.dispatches - s1.dispatches;
    cr_expect_eq(np - nf, (uint64_t)saved, "%s: the fused run made %llu dispatches, op by op %llu", what,
                 (unsigned long long)nf, (unsigned long long)np);
    cr_expect_eq(tg__fusion_epilogue_runs() - runs, 1, "%s: the epilogue did not run fused", what);
    expect_same_bits(f, u, what);
    tg_release(f);
    tg_release(u);
}

Test(gpu_epilogue, one_dispatch_bitwise_the_unfused_chain) {
    need_gpu();
    struct { const char *x, *b; int xd, bd; int64_t bshape[2]; } cases[] = {
        {"N, 40", "24", 2, 1, {24, 0}},             /* a bias per column */
        {"N, 40", "N, 1", 2, 2, {-1, 1}},           /* per row */
        {"N, 40", "N, 24", 2, 2, {-1, 24}},         /* a whole matrix */
        {"3, N, 40", "1, 24", 3, 2, {1, 24}},       /* batched, one bias for every batch */
    };
    for (int di = 0; di < gpu_n_dtypes(); di++) {
        tg_dtype t = di ? TG_F64 : TG_F32;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            tg_program *fused = compile_layer(t, cases[c].x, "40, 24", cases[c].b, true);
            tg_program *plain = compile_layer(t, cases[c].x, "40, 24", cases[c].b, false);
            for (int64_t n = 1; n <= 70; n += 69) {
                tg_scope_begin();
                int64_t xs[3] = {3, n, 40}, bs[2] = {cases[c].bshape[0] < 0 ? n : cases[c].bshape[0], cases[c].bshape[1]};
                if (cases[c].xd == 2) { xs[0] = n; xs[1] = 40; }
                tg_tensor *in[3] = {random_on_gpu(t, cases[c].xd, xs), random_on_gpu(t, 2, (int64_t[]){40, 24}),
                                    random_on_gpu(t, cases[c].bd, bs)};
                char what[96];
                snprintf(what, sizeof what, "%s x (%s) bias (%s) N=%lld", tg_dtype_name(t), cases[c].x, cases[c].b,
                         (long long)n);
                check(fused, plain, in, 2, what);
                for (int i = 0; i < 3; i++) tg_release(in[i]);
                tg_scope_end();
            }
            tg_program_free(fused);
            tg_program_free(plain);
        }
    }
}

Test(gpu_epilogue, transposed_weight_and_the_cpu) {
    need_gpu();
    tg_program *fused = compile_layer(TG_F32, "N, 40", "40, 24", "24", true);
    tg_program *plain = compile_layer(TG_F32, "N, 40", "40, 24", "24", false);
    tg_scope_begin();
    tg_tensor *x = random_on_gpu(TG_F32, 2, (int64_t[]){33, 40}), *wt = random_on_gpu(TG_F32, 2, (int64_t[]){24, 40});
    tg_tensor *w = tg_permute(wt, (int[]){1, 0}), *b = random_on_gpu(TG_F32, 1, (int64_t[]){24});
    tg_tensor *in[3] = {x, w, b};
    check(fused, plain, in, 2, "transposed weight");
    /* and the GPU's values are the CPU's (its own summation order) */
    tg_tensor *host[3] = {tg_to_device(x, CPU), tg_to_device(w, CPU), tg_to_device(b, CPU)}, *g, *h;
    cr_assert_eq(tg_run(fused, in, &g), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_run(fused, host, &h), TG_OK, "%s", tg_last_error());
    tg_tensor *back = tg_to_device(g, CPU);
    check_close(back, h, 1e-5, 1e-6, "GPU vs CPU");
    tg_scope_end();
    tg_program_free(fused);
    tg_program_free(plain);
}

/* 8 x 1024 @ 1024 x 8 takes split-K, whose kernels store the product
 * plain: the add and relu then run in one pass over it, with the same
 * bits as op by op, for a bias per column, per row and a whole matrix. */
Test(gpu_epilogue, split_k_products_take_one_pass) {
    need_gpu();
    static const char *const biases[] = {"8", "N, 1", "N, 8"};
    for (int c = 0; c < 3; c++) {
        tg_program *fused = compile_layer(TG_F32, "N, 1024", "1024, 8", biases[c], true);
        tg_program *plain = compile_layer(TG_F32, "N, 1024", "1024, 8", biases[c], false);
        tg_scope_begin();
        int64_t bs[2] = {8, c == 1 ? 1 : 8};
        tg_tensor *in[3] = {random_on_gpu(TG_F32, 2, (int64_t[]){8, 1024}),
                            random_on_gpu(TG_F32, 2, (int64_t[]){1024, 8}), random_on_gpu(TG_F32, c ? 2 : 1, bs)};
        char what[64];
        snprintf(what, sizeof what, "split-K, bias (%s)", biases[c]);
        check(fused, plain, in, 1, what);
        tg_scope_end();
        tg_program_free(fused);
        tg_program_free(plain);
    }
}

/* relu(conv2d(x, w, b)) (ctx: the groups, 1 or 2) */
static tg_status conv_layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const int *groups = ctx;
    tg_conv2d_opts o = {.stride = {1, 1}, .padding = {1, 1}, .dilation = {1, 1}, .groups = *groups};
    out[0] = tg_relu(tg_nn_conv2d(in[0], in[1], in[2], &o));
    return out[0] ? TG_OK : tg_last_error_code();
}

/* A compiled conv2d -> relu on the device: with one group the product
 * kernel adds the bias and applies the ReLU as it stores; with two, the
 * bias pass after the products applies it. Either way one dispatch fewer
 * than op by op (the relu's), bitwise the program compiled with no_fusion,
 * and close to the CPU. */
Test(gpu_epilogue, conv2d_relu_in_the_product) {
    need_gpu();
    for (int di = 0; di < gpu_n_dtypes(); di++) {
        tg_dtype t = di ? TG_F64 : TG_F32;
        for (int groups = 1; groups <= 2; groups++) {
            tg_spec specs[3] = {{t, "N, 4, 8, 8"}, {t, NULL}, {t, "6"}};
            char wspec[16];
            snprintf(wspec, sizeof wspec, "6, %d, 3, 3", 4 / groups);
            specs[1].shape = wspec;
            tg_graph *g = tg_trace(conv_layer, &groups, 3, specs, 1);
            cr_assert(g, "%s", tg_last_error());
            tg_compile_opts fo = {.no_replay = true}, po = {.no_fusion = true, .no_replay = true};
            tg_program *fused = tg_compile(g, &fo), *plain = tg_compile(g, &po);
            cr_assert(fused && plain, "%s", tg_last_error());
            tg_graph_free(g);
            for (int64_t n = 1; n <= 9; n += 8) {
                tg_scope_begin();
                tg_tensor *in[3] = {random_on_gpu(t, 4, (int64_t[]){n, 4, 8, 8}),
                                    random_on_gpu(t, 4, (int64_t[]){6, 4 / groups, 3, 3}),
                                    random_on_gpu(t, 1, (int64_t[]){6})};
                char what[64];
                snprintf(what, sizeof what, "%s conv2d, %d group(s), N=%lld", tg_dtype_name(t), groups, (long long)n);
                check(fused, plain, in, 1, what);
                tg_tensor *host[3] = {tg_to_device(in[0], CPU), tg_to_device(in[1], CPU), tg_to_device(in[2], CPU)};
                tg_tensor *gy, *hy;
                cr_assert_eq(tg_run(fused, in, &gy), TG_OK, "%s", tg_last_error());
                cr_assert_eq(tg_run(fused, host, &hy), TG_OK, "%s", tg_last_error());
                check_close(tg_to_device(gy, CPU), hy, t == TG_F32 ? 1e-5 : 1e-12, t == TG_F32 ? 1e-6 : 1e-13,
                            what);
                tg_scope_end();
            }
            tg_program_free(fused);
            tg_program_free(plain);
        }
    }
}

/* gelu(x @ w + b) and tanh(x @ w) on the device: the product's kernel,
 * built at run time with the activation's formula, adds the bias and
 * applies the activation as it stores (one dispatch instead of three and
 * two); without the GLSL compiler plugin the activation runs after it as
 * its own kernel. Bitwise the no_fusion program either way. */
static tg_status gelu_layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_gelu(tg_add(tg_matmul(in[0], in[1]), in[2]));
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status tanh_layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_tanh(tg_matmul(in[0], in[1]));
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu_epilogue, other_activations_after_the_product) {
    need_gpu();
    tg_trace_fn fns[2] = {gelu_layer, tanh_layer};
    for (int q = 0; q < 2 * gpu_n_dtypes(); q++) {
        int c = q % 2;
        tg_dtype t = q / 2 ? TG_F64 : TG_F32;
        tg_spec specs[3] = {{t, "N, 40"}, {t, "40, 24"}, {t, "24"}};
        tg_graph *g = tg_trace(fns[c], NULL, c ? 2 : 3, specs, 1);
        cr_assert(g, "%s", tg_last_error());
        tg_compile_opts fo = {.no_replay = true}, po = {.no_fusion = true, .no_replay = true};
        tg_program *fused = tg_compile(g, &fo), *plain = tg_compile(g, &po);
        cr_assert(fused && plain, "%s", tg_last_error());
        tg_graph_free(g);
        tg_scope_begin();
        tg_tensor *in[3] = {random_on_gpu(t, 2, (int64_t[]){70, 40}), random_on_gpu(t, 2, (int64_t[]){40, 24}),
                            random_on_gpu(t, 1, (int64_t[]){24})};
        tg_tensor *warm = NULL;         /* a first run builds the kernel, or finds no compiler */
        cr_assert_eq(tg_run(fused, in, &warm), TG_OK, "%s", tg_last_error());
        tg_release(warm);
        tg_vk_shader_stats ss;
        tg__vk_shader_stats(&ss);
        int built = ss.compiler >= 0;   /* compiled, or found in the kernel cache */
        if (built)
            cr_expect(!strncmp(tg__vk_matmul_last(), "mm-", 3), "%s: the product ran %s, not a build with the activation",
                      c ? "tanh" : "gelu", tg__vk_matmul_last());
        check(fused, plain, in, (c ? 0 : 1) + built, c ? (q / 2 ? "tanh(x @ w) f64" : "tanh(x @ w) f32")
                                                       : (q / 2 ? "gelu(x @ w + b) f64" : "gelu(x @ w + b) f32"));
        tg_scope_end();
        tg_program_free(fused);
        tg_program_free(plain);
    }
}

/* tanh(conv2d(x, w, b)) on the device: the product's kernel, built at run
 * time with tanh's formula, adds the bias and applies tanh as it stores
 * (one dispatch fewer than op by op), with one group or two (a batch of
 * per-group products, each with its own slice of the bias). Bitwise the
 * no_fusion program. */
static tg_status conv_tanh(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const int *groups = ctx;
    tg_conv2d_opts o = {.stride = {1, 1}, .padding = {1, 1}, .dilation = {1, 1}, .groups = *groups};
    out[0] = tg_tanh(tg_nn_conv2d(in[0], in[1], in[2], &o));
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu_epilogue, conv2d_other_activation_in_the_product) {
    need_gpu();
    for (int di = 0; di < gpu_n_dtypes(); di++) {
        tg_dtype t = di ? TG_F64 : TG_F32;
        for (int groups = 1; groups <= 2; groups++) {
            char wspec[16];
            snprintf(wspec, sizeof wspec, "6, %d, 3, 3", 4 / groups);
            tg_spec specs[3] = {{t, "N, 4, 8, 8"}, {t, wspec}, {t, "6"}};
            tg_graph *g = tg_trace(conv_tanh, &groups, 3, specs, 1);
            cr_assert(g, "%s", tg_last_error());
            tg_compile_opts fo = {.no_replay = true}, po = {.no_fusion = true, .no_replay = true};
            tg_program *fused = tg_compile(g, &fo), *plain = tg_compile(g, &po);
            cr_assert(fused && plain, "%s", tg_last_error());
            tg_graph_free(g);
            tg_scope_begin();
            tg_tensor *in[3] = {random_on_gpu(t, 4, (int64_t[]){9, 4, 8, 8}),
                                random_on_gpu(t, 4, (int64_t[]){6, 4 / groups, 3, 3}), random_on_gpu(t, 1, (int64_t[]){6})};
            tg_tensor *warm = NULL;     /* a first run builds the kernel, or finds no compiler */
            cr_assert_eq(tg_run(fused, in, &warm), TG_OK, "%s", tg_last_error());
            tg_release(warm);
            tg_vk_shader_stats ss;
            tg__vk_shader_stats(&ss);
            char what[64];
            snprintf(what, sizeof what, "%s tanh(conv2d), %d group(s)", tg_dtype_name(t), groups);
            check(fused, plain, in, ss.compiler >= 0 ? 1 : 0, what);
            tg_scope_end();
            tg_program_free(fused);
            tg_program_free(plain);
        }
    }
}

