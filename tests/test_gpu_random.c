/* The Philox draws on the Vulkan backend (gpu/random.c) against the CPU's
 * stream (tensor/random.c): the random factories on a Vulkan default
 * device, tg_randint and the dropout mask. Uniform bits, integers and masks
 * must equal the CPU's exactly for the same (seed, offset); normals agree
 * within a stated tolerance (the shader's own log and sin/cos); the thread's
 * offset advances as on the CPU, so a stream continues identically
 * whichever device draws. Skipped (with a message) without a Vulkan
 * device; CI runs it on lavapipe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "support/check.h"
#include "support/gpu.h"

static void to_cpu_default(void) { tg__set_default_device(CPU); }
TestSuite(gpu_random, .init = tg_clear_error, .fini = to_cpu_default);

/* Shapes: odd sizes not a multiple of 4, an empty one, a 0-d one. */
typedef struct { int nd; int64_t s[3]; } shape_t;
static const shape_t SHAPES[] = {{0, {0}}, {1, {7}}, {2, {3, 5}}, {3, {2, 3, 11}}, {1, {1025}}, {3, {4, 0, 3}}};
#define N_SHAPES (int)(sizeof SHAPES / sizeof *SHAPES)

typedef enum { RAND, UNIFORM, RANDN, NORMAL, RANDINT_SMALL, RANDINT_WIDE } draw_kind;

static tg_tensor *draw(draw_kind k, tg_dtype dt, int nd, const int64_t *shape) {
    switch (k) {
    case RAND: return tg_rand(dt, nd, shape);
    case UNIFORM: return tg_uniform(dt, nd, shape, -3.25, 0.1);
    case RANDN: return tg_randn(dt, nd, shape);
    case NORMAL: return tg_normal(dt, nd, shape, 1.5, 0.3);
    case RANDINT_SMALL: return tg_randint(dt, nd, shape, -7, 100);
    default:
        return tg_randint(dt, nd, shape, dt == TG_I32 ? INT32_MIN : INT64_MIN / 3,
                          dt == TG_I32 ? INT32_MAX : INT64_MAX);
    }
}

/* The draw on the CPU and on vulkan:0 from the same (seed, offset), both
 * copied to host buffers; the offsets after both draws must be equal. */
static int64_t draw_both(draw_kind k, tg_dtype dt, int nd, const int64_t *shape, uint64_t seed, uint64_t offset,
                         void **cpu, void **dev) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= shape[i];
    size_t bytes = (size_t)(n ? n : 1) * tg_dtype_size(dt);
    uint64_t off_cpu, off_dev, s;
    tg_rng_set_state(seed, offset);
    tg__set_default_device(CPU);
    tg_tensor *c = draw(k, dt, nd, shape);
    cr_assert_not_null(c, "CPU draw: %s", tg_last_error());
    tg_rng_get_state(&s, &off_cpu);
    tg_rng_set_state(seed, offset);
    tg__set_default_device(VK0);
    tg_tensor *g = draw(k, dt, nd, shape);
    tg__set_default_device(CPU);
    cr_assert_not_null(g, "device draw: %s", tg_last_error());
    tg_rng_get_state(&s, &off_dev);
    cr_assert_eq(tg_device_of(g).kind, TG_VULKAN, "the draw is not on the device");
    cr_assert_eq(off_dev, off_cpu, "offset after the device draw %llu, after the CPU draw %llu",
                 (unsigned long long)off_dev, (unsigned long long)off_cpu);
    *cpu = calloc(1, bytes);
    *dev = calloc(1, bytes);
    cr_assert_eq(tg_copy_to(c, *cpu, bytes), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_copy_to(g, *dev, bytes), TG_OK, "%s", tg_last_error());
    tg_release(c);
    tg_release(g);
    return n;
}

/* Offsets: 0, one not a multiple of 4, and one beyond 32 bits (the counter's
 * high word). */
static const uint64_t OFFSETS[] = {0, 5, 0xfffffffeull};

Test(gpu_random, uniform_bits_equal_the_cpu_stream) {
    need_gpu();
    int nd_t = gpu_n_dtypes();
    const tg_dtype dts[2] = {TG_F32, TG_F64};
    for (int t = 0; t < nd_t; t++)
        for (int kk = RAND; kk <= UNIFORM; kk++)
            for (int s = 0; s < N_SHAPES; s++)
                for (int o = 0; o < 3; o++) {
                    void *a, *b;
                    int64_t n = draw_both(kk, dts[t], SHAPES[s].nd, SHAPES[s].s,
                                          0x1234567890abcdefull + (uint64_t)s, OFFSETS[o], &a, &b);
                    cr_assert(memcmp(a, b, (size_t)n * tg_dtype_size(dts[t])) == 0,
                              "%s %s, %lld values, offset %llu: device bits differ from the CPU's",
                              kk == RAND ? "tg_rand" : "tg_uniform", tg_dtype_name(dts[t]), (long long)n,
                              (unsigned long long)OFFSETS[o]);
                    free(a);
                    free(b);
                }
}

Test(gpu_random, randint_equals_the_cpu_stream) {
    need_gpu();
    const tg_dtype dts[2] = {TG_I32, TG_I64};
    for (int t = 0; t < 2; t++)
        for (int kk = RANDINT_SMALL; kk <= RANDINT_WIDE; kk++)
            for (int s = 0; s < N_SHAPES; s++)
                for (int o = 0; o < 3; o++) {
                    void *a, *b;
                    int64_t n = draw_both(kk, dts[t], SHAPES[s].nd, SHAPES[s].s, 99 + (uint64_t)s,
                                          OFFSETS[o], &a, &b);
                    cr_assert(memcmp(a, b, (size_t)n * tg_dtype_size(dts[t])) == 0,
                              "tg_randint %s, %lld values, offset %llu: device values differ from the CPU's",
                              tg_dtype_name(dts[t]), (long long)n, (unsigned long long)OFFSETS[o]);
                    free(a);
                    free(b);
                }
}

/* Normals: the CPU computes log, cos, sin in double and rounds once; the
 * device computes them with its own series (gpu/shaders/philox.comp).
 * Tolerances, |device - CPU| <= tol (1 + |CPU|): f32 (double math where
 * the device has f64) 2e-7, about an ulp (lavapipe: within 6e-8); f64
 * 1e-14 (lavapipe: within 2e-15, the angle's rounding near a zero of
 * cos/sin); f32 in float math 1e-6 (lavapipe: within 3e-7). */
static void check_normals(const void *cpu, const void *dev, tg_dtype dt, int64_t n, double tol, const char *what) {
    for (int64_t i = 0; i < n; i++) {
        double a = dt == TG_F32 ? ((const float *)cpu)[i] : ((const double *)cpu)[i];
        double b = dt == TG_F32 ? ((const float *)dev)[i] : ((const double *)dev)[i];
        cr_assert(isfinite(b) && fabs(a - b) <= tol * (1 + fabs(a)), "%s %s [%lld]: device %.17g, CPU %.17g", what,
                  tg_dtype_name(dt), (long long)i, b, a);
    }
}

Test(gpu_random, normals_agree_with_the_cpu) {
    need_gpu();
    int nd_t = gpu_n_dtypes();
    const tg_dtype dts[2] = {TG_F32, TG_F64};
    for (int t = 0; t < nd_t; t++)
        for (int kk = RANDN; kk <= NORMAL; kk++)
            for (int s = 0; s < N_SHAPES; s++)
                for (int o = 0; o < 3; o++) {
                    void *a, *b;
                    int64_t n = draw_both(kk, dts[t], SHAPES[s].nd, SHAPES[s].s, 7 + (uint64_t)s,
                                          OFFSETS[o], &a, &b);
                    check_normals(a, b, dts[t], n, dts[t] == TG_F32 ? 2e-7 : 1e-14,
                                  kk == RANDN ? "tg_randn" : "tg_normal");
                    free(a);
                    free(b);
                }
}

/* The float-math build (what a device without shaderFloat64 runs for f32),
 * forced: uniforms still exact, normals within 1e-6 (1 + |x|), over a large
 * draw that reaches the tails (u near 0 and 1). */
Test(gpu_random, f32_float_math_build) {
    need_gpu();
    int64_t n = 1 << 16;
    uint64_t seed = 2024, off = 3;
    tg_rng_set_state(seed, off);
    float *want = malloc((size_t)n * sizeof *want), *got = malloc((size_t)n * sizeof *got);
    for (int kind = 0; kind < 2; kind++) {
        tg_rng_set_state(seed, off);
        tg_tensor *c = kind ? tg_normal(TG_F32, 1, &n, -0.5, 2.0) : tg_uniform(TG_F32, 1, &n, 0, 1);
        tg_tensor *g = tg_to_device(c, VK0);
        cr_assert_not_null(g, "%s", tg_last_error());
        cr_assert_eq(tg__vk_random_fill(g, kind | TG_VK_RNG_F32_MATH, kind ? -0.5 : 0, kind ? 2.0 : 1, seed, off),
                     TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_copy_to(c, want, (size_t)n * sizeof *want), TG_OK);
        cr_assert_eq(tg_copy_to(g, got, (size_t)n * sizeof *got), TG_OK, "%s", tg_last_error());
        if (kind == 0) cr_assert(memcmp(want, got, (size_t)n * sizeof *got) == 0, "float-math uniforms differ");
        else check_normals(want, got, TG_F32, n, 1e-6, "float-math tg_normal");
        tg_release(c);
        tg_release(g);
    }
    free(want);
    free(got);
}

/* A stream drawn partly on the CPU and partly on the device is the stream
 * drawn wholly on the CPU. */
Test(gpu_random, stream_continues_across_devices) {
    need_gpu();
    int64_t s1 = 7, s2 = 13, s3 = 5;
    float ref[25], got[25];
    tg_manual_seed(31337);
    tg_tensor *a = tg_rand(TG_F32, 1, &s1), *b = tg_rand(TG_F32, 1, &s2), *c = tg_rand(TG_F32, 1, &s3);
    tg_copy_to(a, ref, sizeof(float) * 7);
    tg_copy_to(b, ref + 7, sizeof(float) * 13);
    tg_copy_to(c, ref + 20, sizeof(float) * 5);
    tg_release(a); tg_release(b); tg_release(c);
    tg_manual_seed(31337);
    a = tg_rand(TG_F32, 1, &s1);
    tg__set_default_device(VK0);
    b = tg_rand(TG_F32, 1, &s2);
    tg__set_default_device(CPU);
    c = tg_rand(TG_F32, 1, &s3);
    cr_assert_eq(tg_device_of(b).kind, TG_VULKAN);
    tg_copy_to(a, got, sizeof(float) * 7);
    tg_copy_to(b, got + 7, sizeof(float) * 13);
    tg_copy_to(c, got + 20, sizeof(float) * 5);
    cr_assert(memcmp(ref, got, sizeof ref) == 0, "the stream changed where the device drew");
    tg_release(a); tg_release(b); tg_release(c);
}

/* Complex draws (no device kernel) are drawn on the CPU and uploaded: on
 * the device, the CPU's values, the same offset. */
Test(gpu_random, complex_draws_are_uploaded) {
    need_gpu();
    int64_t n = 9;
    float a[18], b[18];
    tg_manual_seed(5);
    tg_tensor *c = tg_randn(TG_C64, 1, &n);
    uint64_t oc, og;
    tg_rng_get_state(NULL, &oc);
    tg_manual_seed(5);
    tg__set_default_device(VK0);
    tg_tensor *g = tg_randn(TG_C64, 1, &n);
    tg__set_default_device(CPU);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_rng_get_state(NULL, &og);
    cr_assert_eq(tg_device_of(g).kind, TG_VULKAN);
    cr_assert_eq(oc, og);
    tg_copy_to(c, a, sizeof a);
    tg_copy_to(g, b, sizeof b);
    cr_assert(memcmp(a, b, sizeof a) == 0);
    tg_release(c);
    tg_release(g);
}

Test(gpu_random, bad_arguments_fail_on_the_device_too) {
    need_gpu();
    int64_t n = 4;
    tg__set_default_device(VK0);
    /* the first error since tg_clear_error is kept: clear between checks */
    cr_assert_null(tg_uniform(TG_F32, 1, &n, 2, 1));
    cr_assert_eq(tg_last_error_code(), TG_ERR_ARG);
    tg_clear_error();
    cr_assert_null(tg_normal(TG_F32, 1, &n, 0, -1));
    cr_assert_eq(tg_last_error_code(), TG_ERR_ARG);
    tg_clear_error();
    cr_assert_null(tg_randint(TG_F32, 1, &n, 0, 3));
    cr_assert_eq(tg_last_error_code(), TG_ERR_DTYPE, "%s", tg_last_error());
    tg_clear_error();
    cr_assert_null(tg_randint(TG_I32, 1, &n, 3, 3));
    cr_assert_eq(tg_last_error_code(), TG_ERR_ARG);
    tg_clear_error();
    tg__set_default_device((tg_device){TG_VULKAN, 99});
    cr_assert_null(tg_rand(TG_F32, 1, &n), "a draw on a missing device");
    cr_assert_eq(tg_last_error_code(), TG_ERR_DEVICE, "%s", tg_last_error());
    tg__set_default_device(CPU);
}

/* ---- dropout ---------------------------------------------------------------------------- */
Test(gpu_random, dropout_mask_equals_the_cpu_mask) {
    need_gpu();
    int nd_t = gpu_n_dtypes();
    const tg_dtype dts[2] = {TG_F32, TG_F64};
    int64_t shape[2] = {3, 37};
    for (int t = 0; t < nd_t; t++) {
        tg_tensor *x = tg_ones(dts[t], 2, shape), *gx = tg_to_device(x, VK0);
        cr_assert_not_null(gx, "%s", tg_last_error());
        tg_rng_set_state(77, 3);
        tg_tensor *y = tg_nn_dropout(x, 0.3, true);
        uint64_t oc, og;
        tg_rng_get_state(NULL, &oc);
        tg_rng_set_state(77, 3);
        tg_tensor *gy = tg_nn_dropout(gx, 0.3, true);
        cr_assert_not_null(gy, "%s", tg_last_error());
        tg_rng_get_state(NULL, &og);
        cr_assert_eq(tg_device_of(gy).kind, TG_VULKAN);
        cr_assert_eq(oc, og, "offset after the device mask %llu, CPU %llu", (unsigned long long)og,
                     (unsigned long long)oc);
        size_t bytes = (size_t)(3 * 37) * tg_dtype_size(dts[t]);
        void *a = malloc(bytes), *b = malloc(bytes);
        tg_copy_to(y, a, bytes);
        tg_copy_to(gy, b, bytes);
        cr_assert(memcmp(a, b, bytes) == 0, "dropout %s: the device mask differs", tg_dtype_name(dts[t]));
        /* some kept, some dropped: the mask is not trivial */
        int zeros = 0;
        for (int i = 0; i < 3 * 37; i++)
            zeros += dts[t] == TG_F32 ? ((float *)a)[i] == 0 : ((double *)a)[i] == 0;
        cr_assert(zeros > 10 && zeros < 3 * 37 - 10, "%d of 111 dropped", zeros);
        free(a); free(b);
        tg_release(y); tg_release(gy); tg_release(x); tg_release(gx);
    }
}

/* The CPU mask kernel reads its draw on the host: a CPU input under a
 * Vulkan default device still works. */
Test(gpu_random, cpu_dropout_under_a_vulkan_default) {
    need_gpu();
    int64_t shape[1] = {50};
    tg_tensor *x = tg_ones(TG_F32, 1, shape);
    tg__set_default_device(VK0);
    tg_tensor *y = tg_nn_dropout(x, 0.5, true);
    tg__set_default_device(CPU);
    cr_assert_not_null(y, "%s", tg_last_error());
    cr_assert_eq(tg_device_of(y).kind, TG_CPU);
    tg_release(y);
    tg_release(x);
}
