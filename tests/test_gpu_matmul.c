/* The Vulkan matmul kernels (gpu/matmul.c: the generic 16x16 kernel and the
 * register-tiled variants of gpu/shaders/matmul_tiled.variants), each forced
 * in turn, against the CPU's tg_matmul: odd sizes, transposed, strided,
 * offset and reversed views, broadcast batches, vectors, an empty inner
 * axis, f32 and f64, gradients, and the error paths. Without a Vulkan
 * device every test is skipped with a visible message. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"
#include "gpu/gpu.h"
#include "support/gpu.h"

/* gpu/matmul.c: force a kernel ("generic", a variant name, NULL: back to
 * TANGENT_VK_MATMUL / the size rule); the pipeline of this thread's last
 * matmul dispatch. */
const char *tg__vk_matmul_force(const char *variant);
const char *tg__vk_matmul_last(void);
long tg__vk_matmul_splits(void);
long tg__vk_matmul_coop_count(void);
bool tg__vk_matmul_has_coop(int dev);

static uint64_t rng = 0x9e3779b97f4a7c15u;
static double urand(void) { return lcg_uniform(&rng); }
/* A CPU tensor of uniform values in [-1, 1). */
static tg_tensor *rand_cpu(tg_dtype d, int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = 2 * urand() - 1;
    tg_tensor *t = tg_from_data(TG_F64, ndim, shape, v);
    free(v);
    tg_tensor *r = tg_cast(t, d);
    tg_release(t);
    return r;
}

/* The variants that can be forced, and the pipeline each must run. */
static const char *const KERNELS[] = {"generic", "big", "big16", "wide", "small"};
enum { N_KERNELS = 5 };
static bool pipeline_of(const char *kernel, tg_dtype d, char *pipe, size_t n) {
    const char *sfx = d == TG_F64 ? "f64" : "f32";
    if ((strcmp(kernel, "big16") == 0 || strcmp(kernel, "wide") == 0) && d == TG_F64) return false;   /* f32 only */
    if (strcmp(kernel, "generic") == 0) snprintf(pipe, n, "matmul_%s", sfx);
    else snprintf(pipe, n, "matmul_%s_%s", kernel, sfx);
    return true;
}

/* x (any device) as f64 values on the host; *n gets the element count.
 * Called inside a scope, which owns the temporaries. */
static double *host_f64(tg_tensor *x, int64_t *n) {
    tg_tensor *h = tg_to_device(x, CPU);
    cr_assert_not_null(h, "to CPU: %s", tg_last_error());
    tg_tensor *f = tg_cast(h, TG_F64);
    cr_assert_not_null(f, "cast: %s", tg_last_error());
    *n = tg_numel(f);
    double *v = malloc((size_t)(*n ? *n : 1) * sizeof *v);
    cr_assert_eq(tg_copy_to(f, v, (size_t)*n * sizeof *v), TG_OK, "%s", tg_last_error());
    return v;
}

/* ga @ gb on the GPU (pipeline expect, or any when NULL) against a @ b on
 * the CPU: |got - want| <= tol * (|a| @ |b|) per element, so the bound
 * follows each element's own rounding scale. */
static void check_product(tg_tensor *ga, tg_tensor *gb, tg_tensor *a, tg_tensor *b, const char *expect, const char *what) {
    tg_scope_begin();
    tg_dtype d = tg_dtype_of(a);
    /* f16/bf16: the CPU's and the GPU's f32 sums may round to neighbours */
    double tol = d == TG_F32 ? 1e-5 : d == TG_F16 ? 1e-3 : d == TG_BF16 ? 8e-3 : 1e-12;
    tg_tensor *got = tg_matmul(ga, gb);
    cr_assert_not_null(got, "%s: %s", what, tg_last_error());
    cr_assert_eq(tg_device_of(got).kind, TG_VULKAN, "%s: result not on the GPU", what);
    cr_assert_eq(tg_dtype_of(got), d, "%s: dtype", what);
    if (expect && tg_numel(got) > 0)
        cr_assert_str_eq(tg__vk_matmul_last(), expect, "%s: ran %s, not %s", what, tg__vk_matmul_last(), expect);
    bool half = d == TG_F16 || d == TG_BF16;          /* no abs of halves: bound in f32 */
    tg_tensor *a32 = half ? tg_cast(a, TG_F32) : a, *b32 = half ? tg_cast(b, TG_F32) : b;
    tg_tensor *want = tg_matmul(a, b), *bound = tg_matmul(tg_abs(a32), tg_abs(b32));
    cr_assert(want && bound, "%s: CPU: %s", what, tg_last_error());
    cr_assert_eq(tg_ndim(got), tg_ndim(want), "%s: rank", what);
    for (int i = 0; i < tg_ndim(got); i++)
        cr_assert_eq(tg_shape(got)[i], tg_shape(want)[i], "%s: axis %d", what, i);
    int64_t n, n2, n3;
    double *g = host_f64(got, &n), *w = host_f64(want, &n2), *bd = host_f64(bound, &n3);
    cr_assert(n == n2 && n == n3);
    int64_t worst = -1;
    double worst_r = 0;
    for (int64_t i = 0; i < n; i++) {
        double err = fabs(g[i] - w[i]), lim = tol * bd[i];
        double r = err == 0 ? 0 : lim > 0 ? err / lim : INFINITY;
        if (!(r <= worst_r) || isnan(g[i])) { worst_r = isnan(g[i]) ? INFINITY : r; worst = i; }
    }
    if (worst >= 0 && !(worst_r <= 1))
        cr_assert_fail("%s: element %lld: got %.17g, want %.17g (bound %.3g * %.3g)", what, (long long)worst, g[worst],
                       w[worst], tol, bd[worst]);
    free(g); free(w); free(bd);
    tg_scope_end();
}

/* Layouts of an (r, c) operand made from CPU base tensors, the same view on
 * the CPU and on the GPU. */
enum { L_PLAIN, L_TRANS, L_STEP2, L_OFFSET1, L_OFFSET4, L_REVERSED, N_LAYOUTS };
static const char *const LAYOUT_NAMES[] = {"contiguous", "transposed view", "stride-2 view", "unaligned offset view",
                                           "aligned offset view", "reversed view"};
/* *cpu and *gpu: an (r, c) view of layout l (new references). */
static void make_operand(tg_dtype d, int64_t r, int64_t c, int l, tg_tensor **cpu, tg_tensor **gpu) {
    int64_t s[2];
    tg_tensor *base;
    switch (l) {
    case L_TRANS: s[0] = c; s[1] = r; break;
    case L_STEP2: s[0] = r; s[1] = 2 * c; break;
    case L_OFFSET1: s[0] = r + 1; s[1] = c + 1; break;
    case L_OFFSET4: s[0] = r + 4; s[1] = c; break;
    default: s[0] = r; s[1] = c;
    }
    base = rand_cpu(d, 2, s);
    tg_tensor *gbase = tg_to_device(base, VK0);
    cr_assert_not_null(gbase, "%s", tg_last_error());
    tg_tensor *bases[2] = {base, gbase};
    tg_tensor *views[2];
    for (int k = 0; k < 2; k++) {
        tg_tensor *x = bases[k], *v = NULL;
        switch (l) {
        case L_PLAIN: v = tg_retain(x); break;
        case L_TRANS: v = tg_mT(x); break;
        case L_STEP2: v = tg_slice(x, 1, 0, 2 * c, 2); break;
        case L_OFFSET1: {
            tg_tensor *t = tg_slice(x, 0, 1, r + 1, 1);
            v = tg_slice(t, 1, 1, c + 1, 1);
            tg_release(t);
            break;
        }
        case L_OFFSET4: v = tg_slice(x, 0, 4, r + 4, 1); break;
        case L_REVERSED: {
            tg_tensor *t = tg_slice(x, 0, r - 1, -r - 1, -1);
            v = tg_slice(t, 1, c - 1, -c - 1, -1);
            tg_release(t);
            break;
        }
        }
        cr_assert_not_null(v, "view %s: %s", LAYOUT_NAMES[l], tg_last_error());
        cr_assert(tg_dim(v, 0) == r && tg_dim(v, 1) == c, "view %s has the wrong shape", LAYOUT_NAMES[l]);
        views[k] = v;
    }
    tg_release(base);
    tg_release(gbase);
    *cpu = views[0];
    *gpu = views[1];
}

static const tg_dtype DTYPES[2] = {TG_F32, TG_F64};

/* Every kernel, f32 and f64, every size, every layout of A and of B. */
/* One product of each size against pairs of operand layouts: every pair
 * on the small sizes; on the large ones each layout once against a
 * contiguous operand, plus both transposed. check gets the CPU and GPU
 * operands and a description. */
typedef void (*layout_check)(void *ctx, tg_tensor *ga, tg_tensor *gb, tg_tensor *a, tg_tensor *b, int la, int lb,
                             const int64_t *mkn, const char *what);

static void each_size_and_layout(tg_dtype d, const int64_t (*sizes)[3], size_t n_sizes, const char *label,
                                 layout_check check, void *ctx) {
    for (size_t si = 0; si < n_sizes; si++) {
        int64_t M = sizes[si][0], K = sizes[si][1], N = sizes[si][2];
        for (int la = 0; la < N_LAYOUTS; la++)
            for (int lb = 0; lb < N_LAYOUTS; lb++) {
                if (M * K * N > 5000 && la != 0 && lb != 0 && !(la == L_TRANS && lb == L_TRANS)) continue;
                tg_tensor *a, *ga, *b, *gb;
                make_operand(d, M, K, la, &a, &ga);
                make_operand(d, K, N, lb, &b, &gb);
                char what[200];
                snprintf(what, sizeof what, "%s %s: %lldx%lldx%lld, A %s, B %s", label, tg_dtype_name(d), (long long)M,
                         (long long)K, (long long)N, LAYOUT_NAMES[la], LAYOUT_NAMES[lb]);
                check(ctx, ga, gb, a, b, la, lb, sizes[si], what);
                tg_release(a); tg_release(ga); tg_release(b); tg_release(gb);
            }
    }
}

static void check_on_pipeline(void *pipe, tg_tensor *ga, tg_tensor *gb, tg_tensor *a, tg_tensor *b, int la, int lb,
                              const int64_t *mkn, const char *what) {
    (void)la; (void)lb; (void)mkn;
    check_product(ga, gb, a, b, pipe, what);
}

static void sizes_and_layouts(tg_dtype d, const char *kernel) {
    char pipe[40];
    if (!pipeline_of(kernel, d, pipe, sizeof pipe)) return;
    tg__vk_matmul_force(kernel);
    static const int64_t SIZES[][3] = {{1, 1, 1}, {7, 13, 5}, {13, 7, 5}, {64, 64, 64}, {129, 257, 65}, {300, 200, 100}};
    each_size_and_layout(d, SIZES, sizeof SIZES / sizeof SIZES[0], kernel, check_on_pipeline, pipe);
    tg__vk_matmul_force(NULL);
}

Test(gpu_matmul, every_kernel_sizes_and_layouts_f32) {
    need_gpu();
    for (int k = 0; k < N_KERNELS; k++) sizes_and_layouts(TG_F32, KERNELS[k]);
}

Test(gpu_matmul, every_kernel_sizes_and_layouts_f64) {
    need_gpu();
    if (!gpu_has_f64()) {
        fprintf(stderr, "test_gpu_matmul: the device has no shaderFloat64: f64 skipped\n");
        cr_skip_test("no shaderFloat64");
    }
    for (int k = 0; k < N_KERNELS; k++) sizes_and_layouts(TG_F64, KERNELS[k]);
}

/* CPU and GPU copies of a random tensor of this shape. */
static void pair(tg_dtype d, int ndim, const int64_t *s, tg_tensor **cpu, tg_tensor **gpu) {
    *cpu = rand_cpu(d, ndim, s);
    *gpu = tg_to_device(*cpu, VK0);
    cr_assert_not_null(*gpu, "%s", tg_last_error());
}

static void check_shapes(tg_dtype d, const char *pipe, const char *kernel, int na, const int64_t *sa, int nb,
                         const int64_t *sb, bool trans_b, const char *what) {
    tg_tensor *a, *ga, *b, *gb;
    pair(d, na, sa, &a, &ga);
    pair(d, nb, sb, &b, &gb);
    tg_scope_begin();
    char msg[200];
    snprintf(msg, sizeof msg, "%s %s: %s", kernel, tg_dtype_name(d), what);
    check_product(ga, trans_b ? tg_mT(gb) : gb, a, trans_b ? tg_mT(b) : b, pipe, msg);
    tg_scope_end();
    tg_release(a); tg_release(ga); tg_release(b); tg_release(gb);
}

Test(gpu_matmul, every_kernel_batches_vectors_and_empty) {
    need_gpu();
    for (int di = 0; di < gpu_n_dtypes(); di++) {
        tg_dtype d = DTYPES[di];
        for (int k = 0; k < N_KERNELS; k++) {
            char pipe[40];
            if (!pipeline_of(KERNELS[k], d, pipe, sizeof pipe)) continue;
            tg__vk_matmul_force(KERNELS[k]);
            const char *kn = KERNELS[k];
            int64_t a1[4] = {3, 1, 33, 17}, b1[3] = {4, 17, 40};
            check_shapes(d, pipe, kn, 4, a1, 3, b1, false, "(3,1,33,17) @ (4,17,40)");
            int64_t b1t[3] = {4, 40, 17};
            check_shapes(d, pipe, kn, 4, a1, 3, b1t, true, "(3,1,33,17) @ (4,40,17)^T");
            int64_t a2[4] = {2, 3, 130, 12}, b2[4] = {2, 3, 12, 132};
            check_shapes(d, pipe, kn, 4, a2, 4, b2, false, "(2,3,130,12) @ (2,3,12,132)");
            int64_t a3[3] = {5, 20, 16}, b3[2] = {16, 24};
            check_shapes(d, pipe, kn, 3, a3, 2, b3, false, "(5,20,16) @ (16,24): B shared by the batch");
            int64_t v[1] = {37}, m[2] = {37, 70}, m2[2] = {70, 37};
            check_shapes(d, pipe, kn, 1, v, 2, m, false, "vector @ matrix");
            check_shapes(d, pipe, kn, 2, m2, 1, v, false, "matrix @ vector");
            check_shapes(d, pipe, kn, 1, v, 1, v, false, "dot");
            int64_t a4[3] = {3, 9, 37};
            check_shapes(d, pipe, kn, 3, a4, 1, v, false, "batched matrix @ vector");
            int64_t z1[2] = {5, 0}, z2[2] = {0, 6};
            check_shapes(d, pipe, kn, 2, z1, 2, z2, false, "K = 0: zeros");
            int64_t z3[3] = {2, 130, 0}, z4[2] = {0, 129};
            check_shapes(d, pipe, kn, 3, z3, 2, z4, false, "batched, K = 0: zeros");
            int64_t e1[2] = {0, 8}, e2[2] = {8, 3};
            check_shapes(d, pipe, kn, 2, e1, 2, e2, false, "M = 0: empty result");
        }
        tg__vk_matmul_force(NULL);
    }
}

/* The size rule: vectors and thin products on the generic kernel, larger
 * ones on a tiled variant. */
Test(gpu_matmul, automatic_choice) {
    need_gpu();
    tg__vk_matmul_force(NULL);
    int64_t sv[1] = {64}, sm[2] = {64, 300}, sa[2] = {300, 64};
    tg_tensor *v, *gv, *m, *gm, *ma, *gma;
    pair(TG_F32, 1, sv, &v, &gv);
    pair(TG_F32, 2, sm, &m, &gm);
    pair(TG_F32, 2, sa, &ma, &gma);
    check_product(gv, gm, v, m, "matmul_f32", "auto: vector @ matrix on the generic kernel");
    tg_tensor *r = tg_matmul(gma, gm);
    cr_assert_not_null(r, "%s", tg_last_error());
    cr_assert(strncmp(tg__vk_matmul_last(), "matmul_big", 10) == 0 || strncmp(tg__vk_matmul_last(), "matmul_small", 12) == 0,
              "300x64x300 ran %s", tg__vk_matmul_last());
    check_product(gma, gm, ma, m, NULL, "auto: 300x64x300");
    tg_release(r);
    /* enough 128-row tiles for the big one, but 64 rows would leave half of
     * each big tile padding: the small tile */
    int64_t s3[3] = {20, 64, 40}, s4[3] = {20, 40, 800};
    tg_tensor *x3, *gx3, *y3, *gy3;
    pair(TG_F32, 3, s3, &x3, &gx3);
    pair(TG_F32, 3, s4, &y3, &gy3);
    check_product(gx3, gy3, x3, y3, "matmul_small_f32", "auto: 20 x (64x40 @ 40x800) on the small tile");
    tg_release(x3); tg_release(gx3); tg_release(y3); tg_release(gy3);
    tg_release(v); tg_release(gv); tg_release(m); tg_release(gm); tg_release(ma); tg_release(gma);
}

/* TANGENT_VK_MATMUL is read at the first matmul of the process (Criterion
 * runs each test in a process of its own). */
Test(gpu_matmul, environment_variable_forces_a_variant) {
    need_gpu();
    setenv("TANGENT_VK_MATMUL", "small", 1);
    tg__vk_matmul_force(NULL);
    int64_t s[2] = {8, 8};
    tg_tensor *a, *ga;
    pair(TG_F32, 2, s, &a, &ga);
    check_product(ga, ga, a, a, "matmul_small_f32", "TANGENT_VK_MATMUL=small on an 8x8 product");
    /* tg__vk_matmul_force overrides it, and NULL goes back to it */
    tg__vk_matmul_force("generic");
    check_product(ga, ga, a, a, "matmul_f32", "forced generic");
    tg__vk_matmul_force(NULL);
    check_product(ga, ga, a, a, "matmul_small_f32", "back to TANGENT_VK_MATMUL");
    /* an unknown name is "no choice" */
    tg__vk_matmul_force("no-such-kernel");
    check_product(ga, ga, a, a, "matmul_f32", "unknown name: the size rule");
    tg__vk_matmul_force(NULL);
    unsetenv("TANGENT_VK_MATMUL");
    tg_release(a); tg_release(ga);
}

/* Gradients of sum(tanh(A @ B)) through each tiled kernel: the rule's
 * products read transposed views. */
Test(gpu_matmul, gradient_on_the_gpu) {
    need_gpu();
    for (int di = 0; di < gpu_n_dtypes(); di++) {
        tg_dtype d = DTYPES[di];
        double rtol = d == TG_F32 ? 2e-4 : 1e-10, atol = d == TG_F32 ? 1e-5 : 1e-12;
        for (int k = 1; k < N_KERNELS; k++) {
            char pipe[40];
            if (!pipeline_of(KERNELS[k], d, pipe, sizeof pipe)) continue;
            tg__vk_matmul_force(KERNELS[k]);
            int64_t sa[2] = {70, 45}, sb[2] = {45, 66};
            tg_tensor *a, *ga, *b, *gb;
            pair(d, 2, sa, &a, &ga);
            pair(d, 2, sb, &b, &gb);
            tg_tensor *leaves[4] = {a, b, ga, gb};
            for (int i = 0; i < 4; i++) tg_set_requires_grad(leaves[i], true);
            tg_scope_begin();
            tg_tensor *z = tg_sum(tg_tanh(tg_matmul(a, b)), 0, NULL, false);
            tg_tensor *gz = tg_sum(tg_tanh(tg_matmul(ga, gb)), 0, NULL, false);
            cr_assert(z && gz, "%s", tg_last_error());
            cr_assert_eq(tg_backward(z, NULL), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg_backward(gz, NULL), TG_OK, "%s", tg_last_error());
            cr_assert_str_eq(tg__vk_matmul_last(), pipe, "the backward products ran %s", tg__vk_matmul_last());
            for (int i = 0; i < 2; i++) {
                tg_tensor *gg = tg_grad(leaves[i + 2]);
                cr_assert_not_null(gg, "no gradient for GPU input %d", i);
                cr_assert_eq(tg_device_of(gg).kind, TG_VULKAN);
                tg_tensor *h = tg_to_device(gg, CPU);
                char what[80];
                snprintf(what, sizeof what, "%s %s gradient %c", KERNELS[k], tg_dtype_name(d), "ab"[i]);
                check_close(h, tg_grad(leaves[i]), rtol, atol, what);
            }
            tg_scope_end();
            for (int i = 0; i < 4; i++) tg_release(leaves[i]);
        }
        tg__vk_matmul_force(NULL);
    }
}

/* Dtypes without a kernel: TG_ERR_UNSUPPORTED naming the op and the device,
 * for every forced choice; the process goes on. */
Test(gpu_matmul, unsupported_dtype_is_an_error) {
    need_gpu();
    int64_t s[2] = {4, 4};
    tg_tensor *x = rand_cpu(TG_I32, 2, s), *gx = tg_to_device(x, VK0);
    cr_assert_not_null(gx, "%s", tg_last_error());
    for (int k = 0; k < N_KERNELS; k++) {
        tg__vk_matmul_force(KERNELS[k]);
        tg_clear_error();
        cr_assert_null(tg_matmul(gx, gx));
        cr_assert_eq(tg_last_error_code(), TG_ERR_UNSUPPORTED, "%s: %s", KERNELS[k], tg_last_error());
        cr_assert(strstr(tg_last_error(), "matmul") && strstr(tg_last_error(), "vulkan:0"), "%s", tg_last_error());
        tg_clear_error();
    }
    tg__vk_matmul_force(NULL);
    /* and a float product still works afterwards */
    tg_tensor *f = rand_cpu(TG_F32, 2, s), *gf = tg_to_device(f, VK0);
    check_product(gf, gf, f, f, NULL, "after the errors");
    tg_release(f); tg_release(gf); tg_release(x); tg_release(gx);
}

/* Few outputs, a long depth (a convolution's weight gradient): split-K
 * (chunks of K as a batch of strided views, then a sum over the chunks)
 * against the CPU, with A transposed as in dW = dY cols^T; a depth with
 * no divisor in range (a prime) is computed whole. */
Test(gpu_matmul, split_k_for_long_depth) {
    need_gpu();
    for (int k = 0; k < 2; k++) {
        tg_dtype d = k ? TG_F64 : TG_F32;
        tg_scope_begin();
        tg_tensor *a = rand_cpu(d, 2, (int64_t[]){6144, 20}), *b = rand_cpu(d, 2, (int64_t[]){6144, 30});
        tg_tensor *at = tg_mT(a), *ga = tg_mT(tg_to_device(a, VK0)), *gb = tg_to_device(b, VK0);
        long before = tg__vk_matmul_splits();
        check_product(ga, gb, at, b, NULL, "split-K 20x6144 @ 6144x30");
        cr_expect_eq(tg__vk_matmul_splits(), before + 1, "the product was not split");
        /* one batch of one, as a convolution with one group passes it */
        before = tg__vk_matmul_splits();
        check_product(tg_unsqueeze(ga, 0), tg_unsqueeze(gb, 0), tg_unsqueeze(at, 0), tg_unsqueeze(b, 0), NULL,
                      "split-K (1, 20, 6144) @ (1, 6144, 30)");
        cr_expect_eq(tg__vk_matmul_splits(), before + 1, "the batch-of-one product was not split");
        /* few tiles for the device and a depth of twice the larger side (a linear layer's product) */
        tg_tensor *l = rand_cpu(d, 2, (int64_t[]){100, 2048}), *r = rand_cpu(d, 2, (int64_t[]){2048, 300});
        before = tg__vk_matmul_splits();
        check_product(tg_to_device(l, VK0), tg_to_device(r, VK0), l, r, NULL, "split-K 100x2048 @ 2048x300");
        cr_expect_eq(tg__vk_matmul_splits(), before + 1, "the linear-layer product was not split");
        tg_tensor *p = rand_cpu(d, 2, (int64_t[]){8191, 24}), *q = rand_cpu(d, 2, (int64_t[]){8191, 8});
        before = tg__vk_matmul_splits();
        check_product(tg_mT(tg_to_device(p, VK0)), tg_to_device(q, VK0), tg_mT(p), q, NULL, "prime depth 8191");
        cr_expect_eq(tg__vk_matmul_splits(), before, "a prime depth cannot be split into equal chunks");
        tg_scope_end();
    }
}

/* f16 products: on cooperative matrices where vulkan:0 has them (NVIDIA),
 * else the f32 kernel on f32 copies; every layout against the CPU (which
 * also sums in f32 and rounds once). Sizes cross the coop kernel's 128 x 128
 * tiles and 32-deep steps; depths that are not multiples of 8, unaligned
 * and strided views take the fallback on every device. */
/* An f16 product, and whether it ran on cooperative matrices where the
 * device has them: plain and transposed operands of these sizes fit. */
static void check_half(void *coop, tg_tensor *ga, tg_tensor *gb, tg_tensor *a, tg_tensor *b, int la, int lb,
                       const int64_t *mkn, const char *what) {
    int64_t M = mkn[0], K = mkn[1], N = mkn[2];
    long before = tg__vk_matmul_coop_count();
    check_product(ga, gb, a, b, NULL, what);
    bool fits = M >= 16 && N >= 16 && K % 8 == 0 && (la == L_PLAIN || la == L_TRANS) &&
                (lb == L_PLAIN || lb == L_TRANS) && (la == L_PLAIN || M % 8 == 0) && (lb == L_PLAIN ? N % 8 == 0 : 1);
    if (*(bool *)coop && fits) cr_assert_gt(tg__vk_matmul_coop_count(), before, "%s: not on cooperative matrices", what);
    if (!*(bool *)coop) cr_assert_eq(tg__vk_matmul_coop_count(), before, "%s", what);
}

Test(gpu_matmul, half_products_every_layout) {
    need_gpu();
    bool coop = tg__vk_matmul_has_coop(0);
    static const int64_t SIZES[][3] = {{5, 3, 4}, {16, 16, 16}, {40, 72, 48}, {128, 64, 128}, {200, 40, 136}, {33, 24, 250}};
    each_size_and_layout(TG_F16, SIZES, sizeof SIZES / sizeof SIZES[0], "half", check_half, &coop);
}

/* Batched and broadcast f16 products, and bf16 (always the fallback):
 * small integers, whose products and sums are exact in both. */
Test(gpu_matmul, half_products_batched_and_bf16) {
    need_gpu();
    int64_t sa[3] = {3, 64, 32}, sb[2] = {32, 80};
    tg_tensor *a = rand_cpu(TG_F16, 3, sa), *b = rand_cpu(TG_F16, 2, sb);
    tg_tensor *ga = gpu(a), *gb = gpu(b);
    check_product(ga, gb, a, b, NULL, "f16 batch of 3 against a broadcast matrix");
    tg_tensor *bt = tg_mT(b), *gbt = tg_mT(gb), *at = tg_mT(a), *gat = tg_mT(ga);
    check_product(gbt, gat, bt, at, NULL, "f16 transposed operands, batched");
    tg_release(a); tg_release(b); tg_release(ga); tg_release(gb);
    tg_release(bt); tg_release(gbt); tg_release(at); tg_release(gat);

    static const double X[4] = {1, 2, 3, 4}, Y[4] = {5, 6, 7, 8}, XY[4] = {19, 22, 43, 50};
    int64_t s2[2] = {2, 2};
    for (int k = 0; k < 2; k++) {
        tg_dtype d = k ? TG_BF16 : TG_F16;
        tg_scope_begin();
        tg_tensor *x = tg_cast(tg_from_data(TG_F64, 2, s2, X), d), *y = tg_cast(tg_from_data(TG_F64, 2, s2, Y), d);
        for (int on_gpu = 0; on_gpu < 2; on_gpu++) {
            tg_tensor *z = on_gpu ? tg_matmul(gpu(x), gpu(y)) : tg_matmul(x, y);
            cr_assert_not_null(z, "%s: %s", tg_dtype_name(d), tg_last_error());
            cr_assert_eq(tg_dtype_of(z), d);
            double got[4];
            cr_assert_eq(tg_copy_to(tg_cast(tg_to_device(z, CPU), TG_F64), got, sizeof got), TG_OK, "%s", tg_last_error());
            for (int i = 0; i < 4; i++)
                cr_assert_eq(got[i], XY[i], "%s on %s, element %d: %g", tg_dtype_name(d), on_gpu ? "GPU" : "CPU", i, got[i]);
        }
        tg_scope_end();
    }
}
