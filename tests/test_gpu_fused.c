/* Fused kernels generated at tg_compile for the Vulkan device (gpu/fused.c,
 * gpu/spirv_cache.c; docs/gpu.md "Fused kernels"):
 *   - a fused group computes bit for bit what the op-by-op kernels
 *     compute, in f32 and f64, with broadcast and strided inputs, in fewer
 *     dispatches;
 *   - a new binding (batch size) compiles nothing;
 *   - a second process compiling the same program compiles no shader (the
 *     on-disk SPIR-V cache), and damaged cache files are ignored and
 *     rebuilt, never loaded.
 * Cache scenarios run in child processes (the in-memory cache is
 * process-wide), each with its own TANGENT_CACHE_DIR. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpu/gpu.h"
#include "support/check.h"
#include "support/gpu.h"
#include "support/tmpdir.h"

/* out = where(x > 0.25, exp(x) * w + b, sigmoid(x) - 0.5) / 3 and
 * relu(out) + x: a group of unary, binary and comparison ops, a where,
 * weak scalars, an operand broadcast along the batch axis (b) and two
 * outputs read after the group. */
static tg_status chain(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *x = in[0], *w = in[1], *b = in[2];
    tg_tensor *hi = tg_add(tg_mul(tg_exp(x), w), b);
    tg_tensor *lo = tg_sub_scalar(tg_sigmoid(x), 0.5);
    tg_tensor *y = tg_div_scalar(tg_where(tg_gt_scalar(x, 0.25), hi, lo), 3.0);
    out[0] = y;
    out[1] = tg_add(tg_relu(y), x);
    return out[1] ? TG_OK : tg_last_error_code();
}

static tg_tensor *inputs_on(tg_dtype t, int64_t n, int i, uint64_t *rng) {
    int64_t shape[2] = {n, 6}, bshape[1] = {6};
    bool bias = i == 2;
    int64_t count = bias ? 6 : n * 6;
    double *v = malloc((size_t)count * sizeof *v);
    for (int64_t k = 0; k < count; k++) v[k] = 2.0 * lcg_uniform(rng) - 1.0;
    tg_tensor *h = tg_from_data(TG_F64, bias ? 1 : 2, bias ? bshape : shape, v);
    free(v);
    tg_tensor *c = tg_cast(h, t);
    tg_release(h);
    return c;
}

static const char *dname(tg_dtype t) { return t == TG_F64 ? "f64" : "f32"; }

static tg_program *compile_chain(tg_dtype t, bool fuse) {
    tg_spec specs[3] = {{t, "N, 6"}, {t, "N, 6"}, {t, "6"}};
    tg_graph *g = tg_trace(chain, NULL, 3, specs, 2);
    cr_assert(g, "%s", tg_last_error());
    tg_compile_opts o = {.no_fusion = !fuse, .no_replay = true};    /* dispatches counted: the kernels alone */
    tg_program *p = tg_compile(g, &o);
    cr_assert(p, "%s", tg_last_error());
    tg_graph_free(g);
    return p;
}

TestSuite(gpu_fused, .init = tg_clear_error);

Test(gpu_fused, equals_op_by_op_bitwise_in_fewer_dispatches) {
    need_gpu();
    for (int di = 0; di < gpu_n_dtypes(); di++) {
        tg_dtype t = di ? TG_F64 : TG_F32;
        tg_vk_shader_stats before, after;
        tg__vk_shader_stats(&before);
        tg_program *fused = compile_chain(t, true), *plain = compile_chain(t, false);
        tg__vk_shader_stats(&after);
        if (after.compiler < 0) cr_skip_test("no GLSL compiler plugin (libtangent_glslang.so: glslang-dev, spirv-tools)");
        cr_assert_gt(after.compiles + after.memory_hits + after.disk_hits,
                     before.compiles + before.memory_hits + before.disk_hits,
                     "tg_compile generated no kernel for the %s chain", dname(t));
        cr_expect_eq(after.failures, 0, "a generated kernel did not compile (TANGENT_DEBUG=1 shows why)");
        uint64_t rng = 7 + (uint64_t)di;
        for (int64_t n = 5; n <= 700; n += 695) {
            tg_scope_begin();
            tg_tensor *h[3], *d[3], *fo[2], *po[2], *co[2];
            for (int i = 0; i < 3; i++) { h[i] = inputs_on(t, n, i, &rng); d[i] = tg_to_device(h[i], VK0); }
            tg_vk_queue_stats s0, s1, s2;
            cr_assert_eq(tg__vk_queue_stats(0, &s0), 0);
            cr_assert_eq(tg_run(fused, d, fo), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg__vk_queue_stats(0, &s1), 0);
            cr_assert_eq(tg_run(plain, d, po), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg__vk_queue_stats(0, &s2), 0);
            uint64_t nf = s1.dispatches - s0.dispatches, np = s2.dispatches - s1.dispatches;
            cr_expect_lt(nf, np, "%s N=%lld: fused run %llu dispatches, op by op %llu", dname(t), (long long)n,
                         (unsigned long long)nf, (unsigned long long)np);
            cr_assert_eq(tg_run(fused, h, co), TG_OK, "%s", tg_last_error());
            for (int j = 0; j < 2; j++) {
                expect_same_bits(fo[j], po[j], dname(t));
                tg_tensor *back = tg_to_device(fo[j], CPU);
                check_close(back, co[j], t == TG_F64 ? 1e-13 : 2e-6, t == TG_F64 ? 1e-15 : 1e-7,
                            "fused on the GPU vs the CPU");
                tg_release(back);
                tg_release(fo[j]); tg_release(po[j]); tg_release(co[j]);
            }
            for (int i = 0; i < 3; i++) { tg_release(h[i]); tg_release(d[i]); }
            tg_scope_end();
        }
        tg_program_free(fused);
        tg_program_free(plain);
    }
}

/* A transposed (strided) input and a broadcast one take the general
 * indexing path of the same kernel. */
Test(gpu_fused, strided_and_broadcast_inputs) {
    need_gpu();
    tg_program *fused = compile_chain(TG_F32, true), *plain = compile_chain(TG_F32, false);
    uint64_t rng = 99;
    tg_scope_begin();
    tg_tensor *xt = tg_to_device(inputs_on(TG_F32, 6, 0, &rng), VK0);      /* 6 x 6, used transposed */
    tg_tensor *w1 = tg_to_device(inputs_on(TG_F32, 1, 1, &rng), VK0);      /* 1 x 6, broadcast on N */
    tg_tensor *b = tg_to_device(inputs_on(TG_F32, 1, 2, &rng), VK0);
    tg_tensor *x = tg_permute(xt, (int[]){1, 0});
    tg_tensor *w = tg_expand(w1, 2, (int64_t[]){6, 6});
    cr_assert(x && w, "%s", tg_last_error());
    tg_tensor *in[3] = {x, w, b}, *fo[2], *po[2];
    cr_assert_eq(tg_run(fused, in, fo), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_run(plain, in, po), TG_OK, "%s", tg_last_error());
    for (int j = 0; j < 2; j++) {
        expect_same_bits(fo[j], po[j], "strided inputs");
        tg_release(fo[j]);
        tg_release(po[j]);
    }
    tg_scope_end();
    tg_program_free(fused);
    tg_program_free(plain);
}

/* Every batch size runs the kernel made at compile time. */
Test(gpu_fused, new_bindings_compile_nothing) {
    need_gpu();
    tg_program *p = compile_chain(TG_F32, true);
    tg_vk_shader_stats s0, s1;
    tg__vk_shader_stats(&s0);
    uint64_t rng = 3;
    for (int64_t n = 1; n <= 64; n *= 4) {
        tg_scope_begin();
        tg_tensor *d[3], *o[2];
        for (int i = 0; i < 3; i++) d[i] = tg_to_device(inputs_on(TG_F32, n, i, &rng), VK0);
        cr_assert_eq(tg_run(p, d, o), TG_OK, "N=%lld: %s", (long long)n, tg_last_error());
        cr_assert_eq(tg_synchronize(), TG_OK);
        tg_release(o[0]);
        tg_release(o[1]);
        tg_scope_end();
    }
    tg__vk_shader_stats(&s1);
    cr_expect_eq(s1.compiles + s1.memory_hits + s1.disk_hits, s0.compiles + s0.memory_hits + s0.disk_hits,
                 "running 4 bindings looked up kernels");
    int64_t compiles, bindings;
    tg_program_stats(p, &compiles, &bindings);
    cr_expect_eq(bindings, 4);
    tg_program_free(p);
}

/* cpu_only: no kernel is generated; the program still runs on the device,
 * op by op. */
Test(gpu_fused, cpu_only_generates_nothing) {
    need_gpu();
    tg_spec specs[3] = {{TG_F32, "N, 6"}, {TG_F32, "N, 6"}, {TG_F32, "6"}};
    tg_graph *g = tg_trace(chain, NULL, 3, specs, 2);
    cr_assert(g, "%s", tg_last_error());
    tg_vk_shader_stats s0, s1;
    tg__vk_shader_stats(&s0);
    tg_compile_opts o = {.cpu_only = true};
    tg_program *p = tg_compile(g, &o);
    cr_assert(p, "%s", tg_last_error());
    tg__vk_shader_stats(&s1);
    cr_expect_eq(s1.compiles + s1.memory_hits + s1.disk_hits, s0.compiles + s0.memory_hits + s0.disk_hits);
    uint64_t rng = 5;
    tg_scope_begin();
    tg_tensor *d[3], *out[2];
    for (int i = 0; i < 3; i++) d[i] = tg_to_device(inputs_on(TG_F32, 4, i, &rng), VK0);
    cr_expect_eq(tg_run(p, d, out), TG_OK, "%s", tg_last_error());
    tg_release(out[0]);
    tg_release(out[1]);
    tg_scope_end();
    tg_program_free(p);
    tg_graph_free(g);
}

/* ---- the on-disk cache, across processes ------------------------------------------ */
typedef struct { unsigned long long compiles, failures, disk_hits, disk_writes, disk_rejected; int compiler; } seen;

/* Compiles the chain program, runs it once on the device and checks its
 * value against the CPU; reports the shader statistics through fd. */
static int child_body(int fd) {
    if (tg_device_count(TG_VULKAN) == 0) return GPU_CHILD_SKIP;
    tg_spec specs[3] = {{TG_F32, "N, 6"}, {TG_F32, "N, 6"}, {TG_F32, "6"}};
    tg_graph *g = tg_trace(chain, NULL, 3, specs, 2);
    tg_program *p = g ? tg_compile(g, NULL) : NULL;
    if (!p) return 1;
    uint64_t rng = 11;
    tg_tensor *h[3], *d[3], *go[2], *co[2];
    for (int i = 0; i < 3; i++) { h[i] = inputs_on(TG_F32, 9, i, &rng); d[i] = tg_to_device(h[i], VK0); }
    if (tg_run(p, d, go) || tg_run(p, h, co)) return 1;
    for (int j = 0; j < 2; j++) {
        tg_tensor *back = tg_to_device(go[j], CPU);
        tg_tensor *err = tg_max(tg_abs(tg_sub(back, co[j])), 0, NULL, false);
        if (!err || tg_item_f64(err) > 1e-5) return 1;
    }
    tg_vk_shader_stats s;
    tg__vk_shader_stats(&s);
    seen o = {s.compiles, s.failures, s.disk_hits, s.disk_writes, s.disk_rejected, s.compiler};
    return write(fd, &o, sizeof o) == (ssize_t)sizeof o ? 0 : 1;
}

static seen run_child(const char *dir) {
    seen o;
    gpu_run_child(dir, child_body, &o, sizeof o);
    return o;
}

/* The SPIR-V files in dir, up to 8 (their paths in names). */
static int spv_files(const char *dir, char names[8][1024]) {
    DIR *dd = opendir(dir);
    cr_assert(dd);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)) && n < 8)
        if (strncmp(e->d_name, "spirv-", 6) == 0) snprintf(names[n++], 1024, "%s/%s", dir, e->d_name);
    closedir(dd);
    return n;
}

Test(gpu_fused, second_process_compiles_no_shader) {
    /* no device in this process: forking one with a Vulkan device
     * open left the child's NVIDIA driver unusable (the child skips
     * when there is no device) */
    const char *dir = tmp_path("fresh");
    seen a = run_child(dir);
    if (a.compiler < 0) cr_skip_test("no GLSL compiler plugin (libtangent_glslang.so)");
    cr_expect_gt(a.compiles, 0);
    cr_expect_eq(a.disk_writes, a.compiles, "every compiled kernel is written");
    seen b = run_child(dir);
    cr_expect_eq(b.compiles, 0, "the second process compiled %llu shaders", b.compiles);
    cr_expect_eq(b.disk_hits, a.compiles, "the second process found %llu of %llu kernels", b.disk_hits, a.compiles);
    cr_expect_eq(b.disk_rejected, 0);
    tmp_cleanup();
}

/* Damages dir's kernel file(s) in one way; the next process ignores them,
 * compiles again and rewrites them. */
static void damage(const char *dir, int how) {
    char names[8][1024];
    int n = spv_files(dir, names);
    cr_assert_geq(n, 1, "no kernel file in the cache");
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(names[i], "r+b");
        cr_assert(f);
        if (how == 0) {
            cr_assert_eq(ftruncate(fileno(f), 40), 0);              /* truncated */
        } else if (how == 1) {
            fseek(f, 100, SEEK_SET);                                /* a flipped byte in the body */
            int c = fgetc(f);
            fseek(f, 100, SEEK_SET);
            fputc(c ^ 0x5a, f);
        } else {
            fseek(f, 16, SEEK_SET);                                 /* another kernel's key */
            fputc('z', f);
        }
        fclose(f);
    }
}

Test(gpu_fused, damaged_cache_files_are_rebuilt) {
    /* no device in this process: forking one with a Vulkan device
     * open left the child's NVIDIA driver unusable (the child skips
     * when there is no device) */
    const char *dir = tmp_path("damaged");
    seen a = run_child(dir);
    if (a.compiler < 0) cr_skip_test("no GLSL compiler plugin (libtangent_glslang.so)");
    for (int how = 0; how < 3; how++) {
        damage(dir, how);
        seen b = run_child(dir);
        cr_expect_eq(b.disk_rejected, a.compiles, "damage %d: %llu of %llu files rejected", how, b.disk_rejected,
                     a.compiles);
        cr_expect_eq(b.compiles, a.compiles, "damage %d: %llu kernels rebuilt", how, b.compiles);
        cr_expect_eq(b.failures, 0);
    }
    seen c = run_child(dir);
    cr_expect_eq(c.compiles, 0, "the rebuilt files were not reused");
    cr_expect_eq(c.disk_rejected, 0);
    tmp_cleanup();
}

/* ---- every fusible op ----------------------------------------------------------- */
typedef tg_tensor *(*unary_fn)(tg_tensor *);
typedef tg_tensor *(*binary_fn)(tg_tensor *, tg_tensor *);
static const struct { const char *name; unary_fn fn; } unary_ops[] = {
    {"neg", tg_neg}, {"abs", tg_abs}, {"exp", tg_exp}, {"log", tg_log}, {"sqrt", tg_sqrt}, {"relu", tg_relu},
    {"sigmoid", tg_sigmoid}, {"tanh", tg_tanh}, {"square", tg_square}, {"sign", tg_sign},
    {"reciprocal", tg_reciprocal}, {"expm1", tg_expm1}, {"log1p", tg_log1p}, {"log2", tg_log2},
    {"log10", tg_log10}, {"rsqrt", tg_rsqrt}, {"floor", tg_floor}, {"ceil", tg_ceil}, {"round", tg_round},
    {"trunc", tg_trunc}, {"silu", tg_silu}, {"softplus", tg_softplus}, {"sin", tg_sin}, {"cos", tg_cos},
    {"tan", tg_tan}, {"atan", tg_atan}, {"asin", tg_asin}, {"acos", tg_acos}, {"sinh", tg_sinh},
    {"cosh", tg_cosh}, {"asinh", tg_asinh}, {"acosh", tg_acosh}, {"atanh", tg_atanh}, {"erf", tg_erf},
    {"erfc", tg_erfc}, {"gelu", tg_gelu}};
static const struct { const char *name; binary_fn fn; } binary_ops[] = {
    {"add", tg_add}, {"sub", tg_sub}, {"mul", tg_mul}, {"div", tg_div}, {"maximum", tg_maximum},
    {"minimum", tg_minimum}};
static int op_index;

/* op(x) * w + x, and for binary ops relu(op(x, w)) - x: each op inside a
 * group of three nodes. */
static tg_status one_unary(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_add(tg_mul(unary_ops[op_index].fn(in[0]), in[1]), in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status one_binary(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sub(tg_relu(binary_ops[op_index].fn(in[0], in[1])), in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}

static void fused_vs_plain(tg_trace_fn fn, const char *name, tg_dtype t, uint64_t *rng) {
    tg_spec specs[2] = {{t, "N"}, {t, "N"}};
    tg_graph *g = tg_trace(fn, NULL, 2, specs, 1);
    cr_assert(g, "%s: %s", name, tg_last_error());
    /* no replays: the dispatches counted are the kernels alone, not a capture's copies */
    tg_compile_opts plain = {.no_fusion = true, .no_replay = true}, fused = {.no_replay = true};
    tg_program *pf = tg_compile(g, &fused), *pp = tg_compile(g, &plain);
    cr_assert(pf && pp, "%s: %s", name, tg_last_error());
    tg_scope_begin();
    /* x over [-3, 3] plus values where functions turn (0, +-1, +-0.5, big) */
    int64_t n = 1031;
    double *v = malloc((size_t)(2 * n) * sizeof *v);
    static const double special[] = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 30.0, -30.0, 1e-7, 700.0};
    for (int64_t i = 0; i < 2 * n; i++)
        v[i] = i < 12 ? special[i] : 6.0 * lcg_uniform(rng) - 3.0;
    tg_tensor *h[2], *d[2], *fo, *po;
    for (int k = 0; k < 2; k++) {
        tg_tensor *f64 = tg_from_data(TG_F64, 1, &n, v + k * n);
        h[k] = tg_cast(f64, t);
        d[k] = tg_to_device(h[k], VK0);
        tg_release(f64);
    }
    free(v);
    tg_vk_queue_stats s0, s1, s2;
    tg__vk_queue_stats(0, &s0);
    cr_assert_eq(tg_run(pf, d, &fo), TG_OK, "%s: %s", name, tg_last_error());
    tg__vk_queue_stats(0, &s1);
    cr_assert_eq(tg_run(pp, d, &po), TG_OK, "%s: %s", name, tg_last_error());
    tg__vk_queue_stats(0, &s2);
    cr_expect_eq(s1.dispatches - s0.dispatches, 1, "%s %s: the fused program took %llu dispatches", name,
                 dname(t), (unsigned long long)(s1.dispatches - s0.dispatches));
    char what[64];
    snprintf(what, sizeof what, "%s %s", name, dname(t));
    expect_same_bits(fo, po, what);
    tg_release(fo);
    tg_release(po);
    for (int k = 0; k < 2; k++) { tg_release(h[k]); tg_release(d[k]); }
    tg_scope_end();
    tg_program_free(pf);
    tg_program_free(pp);
    tg_graph_free(g);
}

Test(gpu_fused, every_fusible_op_equals_its_own_kernel) {
    need_gpu();
    tg_vk_shader_stats st;
    uint64_t rng = 2024;
    for (int di = 0; di < gpu_n_dtypes(); di++) {
        tg_dtype t = di ? TG_F64 : TG_F32;
        for (op_index = 0; op_index < (int)(sizeof unary_ops / sizeof *unary_ops); op_index++) {
            fused_vs_plain(one_unary, unary_ops[op_index].name, t, &rng);
            tg__vk_shader_stats(&st);
            if (st.compiler < 0) cr_skip_test("no GLSL compiler plugin (libtangent_glslang.so)");
        }
        for (op_index = 0; op_index < (int)(sizeof binary_ops / sizeof *binary_ops); op_index++)
            fused_vs_plain(one_binary, binary_ops[op_index].name, t, &rng);
    }
    cr_expect_eq(st.failures, 0, "a generated kernel did not compile");
}

/* A chain ended by a reduction that keeps axis 0 (a group with a
 * reduction tail, autodiff/fusion.c): on the device one generated kernel
 * reduces as it computes the chain (gpu/fused.c on reduce.comp), bitwise
 * the op-by-op program. red_case picks the reduction, its axes and the
 * input's shape so that each of reduce.comp's paths runs: a workgroup per
 * output over a contiguous run (4-vectors or not) or over strided
 * elements, a thread per output (short rows, many of them), and several
 * workgroups per output with a second pass (long rows). */
typedef struct {
    const char *name;               /* sum prod max min */
    int naxes, axes[2];
    const char *x, *b;              /* the input's shape (N symbolic) and the broadcast operand's */
    int64_t shape[3], bshape[3];    /* a binding (shape[0] = N) */
    int nd, bnd;
    int dispatches;                 /* of the fused run */
} red_case;

static const red_case *cur_case;

static tg_status chain_reduce(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    const red_case *c = cur_case;
    tg_tensor *h = tg_mul(tg_tanh(tg_sub(in[0], in[1])), in[1]);
    if (!strcmp(c->name, "prod")) h = tg_add_scalar(tg_mul_scalar(h, 0.01), 1.0);    /* near 1: no under/overflow */
    out[0] = !strcmp(c->name, "sum")    ? tg_sum(h, c->naxes, c->axes, false)
             : !strcmp(c->name, "prod") ? tg_prod(h, c->naxes, c->axes, false)
             : !strcmp(c->name, "max")  ? tg_max(h, c->naxes, c->axes, false)
                                        : tg_min(h, c->naxes, c->axes, true);
    return out[0] ? TG_OK : tg_last_error_code();
}

static tg_tensor *uniform_on_gpu(tg_dtype t, int nd, const int64_t *shape, uint64_t *rng) {
    int64_t n = tg__numel(nd, shape);
    double *v = malloc((size_t)n * sizeof *v);
    for (int64_t k = 0; k < n; k++) v[k] = 2.0 * lcg_uniform(rng) - 1.0;
    tg_tensor *h = tg_from_data(TG_F64, nd, shape, v), *c = tg_cast(h, t), *d = tg_to_device(c, VK0);
    free(v);
    tg_release(h);
    tg_release(c);
    cr_assert(d, "%s", tg_last_error());
    return d;
}

Test(gpu_fused, reduction_tail_on_the_device) {
    need_gpu();
    static const red_case cases[] = {
        {"sum", 1, {1}, "N, 6", "6", {300, 6}, {6}, 2, 1, 1},                      /* contiguous runs */
        {"sum", 1, {1}, "N, 8", "8", {300, 8}, {8}, 2, 1, 1},                      /* in 4-vectors */
        {"max", 1, {1}, "N, 5, 4", "5, 1", {40, 5, 4}, {5, 1}, 3, 2, 1},           /* strided (axis 1) */
        {"prod", 2, {1, 2}, "N, 3, 5", "5", {30, 3, 5}, {5}, 3, 1, 1},
        {"min", 1, {-1}, "N, 3", "N, 1", {5000, 3}, {5000, 1}, 2, 2, 1},            /* a thread per output */
        {"sum", 1, {1}, "N, 70000", "70000", {3, 70000}, {70000}, 2, 1, 2},        /* two passes */
    };
    uint64_t rng = 5;
    for (int di = 0; di < gpu_n_dtypes(); di++) {
        tg_dtype t = di ? TG_F64 : TG_F32;
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            cur_case = &cases[c];
            tg_spec specs[2] = {{t, cases[c].x}, {t, cases[c].b}};
            tg_graph *g = tg_trace(chain_reduce, NULL, 2, specs, 1);
            cr_assert(g, "%s", tg_last_error());
            tg_compile_opts fo = {.no_replay = true}, po = {.no_fusion = true, .no_replay = true};
            tg_program *fused = tg_compile(g, &fo), *plain = tg_compile(g, &po);
            cr_assert(fused && plain, "%s", tg_last_error());
            tg_scope_begin();
            tg_tensor *in[2] = {uniform_on_gpu(t, cases[c].nd, cases[c].shape, &rng),
                                uniform_on_gpu(t, cases[c].bnd, cases[c].bshape, &rng)};
            tg_tensor *f, *p;
            tg_vk_queue_stats s0, s1, s2;
            cr_assert_eq(tg__vk_queue_stats(0, &s0), 0);
            cr_assert_eq(tg_run(fused, in, &f), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg__vk_queue_stats(0, &s1), 0);
            cr_assert_eq(tg_run(plain, in, &p), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg__vk_queue_stats(0, &s2), 0);
            uint64_t nf = s1.dispatches - s0.dispatches, np = s2.dispatches - s1.dispatches;
            char what[96];
            snprintf(what, sizeof what, "%s: %s over (%s)", dname(t), cases[c].name, cases[c].x);
            tg_vk_shader_stats ss;
            tg__vk_shader_stats(&ss);
            if (ss.compiler >= 0)
                cr_expect_eq(nf, (uint64_t)cases[c].dispatches, "%s: the fused run made %llu dispatches, op by op %llu",
                             what, (unsigned long long)nf, (unsigned long long)np);
            expect_same_bits(f, p, what);
            tg_scope_end();
            tg_program_free(fused);
            tg_program_free(plain);
            tg_graph_free(g);
        }
    }
}
