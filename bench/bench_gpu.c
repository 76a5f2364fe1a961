/* GPU benchmark (the "gpu" suite): Tangent's Vulkan backend on vulkan:0.
 * bench/baseline_gpu.py times the same cases with PyTorch CUDA.
 *
 *   bench_gpu [--quick] [--filter SUBSTRING]
 *
 * Cases (--quick: 2^20 elements and 256 x 256 matrices, for lavapipe):
 *   sgemm_f32_N           C = A B, N x N f32 (N = 1024, 2048, 4096, 8192)  flop 2 N^3
 *   gemm_f16_N            C = A B, N x N f16, f32 accumulation (N = 4096, 8192; cooperative
 *                         matrices where the device has them)  flop 2 N^3
 *   add_f32_2^28          r = a + b (a new result each call)                bytes 3 x 4 per element
 *   add_inplace_f32_2^28  a += b (tg_add_)                                  bytes 3 x 4 per element
 *   sum_f32_2^28          tg_sum over all elements                          bytes 4 per element
 *   copy_f32_2^28         tg_copy_(y, x), device to device                  bytes 2 x 4 per element
 *   tiny_add_f32_1        r = a + b on 1 element, result not read: per op, 10000 ops then one
 *                         tg_synchronize
 *   tiny_add_f32_1_record the host's share of the same op: 200 ops recorded (less than a
 *                         batch, so none is submitted), timed without waiting for the GPU
 *   roundtrip_add_f32_1   r = a + b then tg_item_f64(r) (op, submit, wait, read back)
 *   node_add_f32_1        a chain of 100 dependent 1-element adds, per node: eager ("tangent")
 *                         and the tg_trace'd, tg_compile'd program run by tg_run on device
 *                         inputs ("tangent-traced"); skipped with a note if tg_run refuses them
 *
 * Output: one JSON object per measurement on stdout (DESIGN.md section 9's
 * fields plus the device and the work per call):
 *   {"suite": "gpu", "case": "sgemm_f32_4096", "impl": "tangent", "threads": 1,
 *    "median_ns": ..., "device": "vulkan:0 (NVIDIA H100 ...)", "flop": ...}
 * ("bytes" instead of "flop" for the bandwidth cases); progress on stderr.
 * bench/report.py turns the work into TFLOP/s and GB/s.
 *
 * Timing. The backend records dispatches into a command buffer and submits
 * them in batches (docs/gpu.md, "Execution"), so an op returns before the
 * GPU has run it: every sample is `batch` calls followed by tg_synchronize(),
 * timed on the host clock, divided by `batch`. Warm-up: calls each followed by
 * tg_synchronize() for GPU_WARMUP_NS and at least twice (pipeline creation,
 * first allocations); the fastest warm-up call sizes the batch so a sample
 * lasts at least GPU_MIN_SAMPLE_NS (the submit and fence wait are then a
 * small part); the tiny op uses a fixed batch of 10000. Samples until
 * GPU_TARGET_NS and at least GPU_MIN_SAMPLES; the figure is the median.
 * After timing, each case checks its result against the CPU. */
#include "chain.h"
#include "timing.h"

#include <tangent/tangent.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* gpu/gpu.h: "vulkan:0 (<driver's device name>)". Internal, but no public
 * function names a device; bench links the static library. */
const char *tg__vk_device_name(int dev);

#define GPU_WARMUP_NS 50e6
#define GPU_MIN_SAMPLE_NS 10e6
#define GPU_TARGET_NS 0.5e9
#define GPU_MIN_SAMPLES 5
#define GPU_MAX_SAMPLES 1000
#define TINY_OPS 10000
#define ROUNDTRIPS 1000

static const tg_device VK0 = {TG_VULKAN, 0};
static char device_name[256];
static int quick;

static void die(const char *what) {
    fprintf(stderr, "bench_gpu: %s failed: %s\n", what, tg_last_error());
    exit(1);
}
static tg_tensor *check(tg_tensor *t, const char *what) {
    if (!t) die(what);
    return t;
}
static void check_ok(tg_status st, const char *what) {
    if (st != TG_OK) die(what);
}
static void sync(void) { check_ok(tg_synchronize(), "tg_synchronize"); }

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Median nanoseconds per call of fn(arg), each sample closed by
 * tg_synchronize (see the top comment). fixed_batch > 0 sets the batch. */
static double gpu_measure(bench_fn fn, void *arg, long fixed_batch, int *n_samples) {
    static double samples[GPU_MAX_SAMPLES];
    double fastest = INFINITY, warm = 0, target = quick ? GPU_TARGET_NS / 5 : GPU_TARGET_NS;
    int calls = 0;
    sync();
    do {
        double t0 = bench_now_ns();
        fn(arg);
        sync();
        double t = bench_now_ns() - t0;
        warm += t;
        calls++;
        if (t < fastest) fastest = t;
    } while (warm < GPU_WARMUP_NS || calls < 2);
    long batch = fixed_batch > 0 ? fixed_batch
               : fastest >= GPU_MIN_SAMPLE_NS ? 1 : (long)ceil(GPU_MIN_SAMPLE_NS / fmax(fastest, 1.0));
    int n = 0;
    double spent = 0;
    while (n < GPU_MAX_SAMPLES && (n < GPU_MIN_SAMPLES || spent < target)) {
        double t0 = bench_now_ns();
        for (long i = 0; i < batch; i++) fn(arg);
        sync();
        double t = bench_now_ns() - t0;
        spent += t;
        samples[n++] = t / (double)batch;
    }
    qsort(samples, (size_t)n, sizeof samples[0], cmp_double);
    *n_samples = n;
    return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

/* work: "flop" or "bytes" (NULL: none) and its amount per call. */
static void emit(const char *name, const char *impl, double ns, int samples, const char *work, double amount) {
    char extra[64] = "";
    if (work) snprintf(extra, sizeof extra, ", \"%s\": %.0f", work, amount);
    printf("{\"suite\": \"gpu\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": 1, \"median_ns\": %.1f, "
           "\"device\": \"%s\"%s}\n", name, impl, ns, device_name, extra);
    fflush(stdout);
    char rate[48] = "";
    if (work && !strcmp(work, "flop")) snprintf(rate, sizeof rate, "%9.3f TFLOP/s", amount / ns * 1e-3);
    if (work && !strcmp(work, "bytes")) snprintf(rate, sizeof rate, "%9.1f GB/s", amount / ns);
    fprintf(stderr, "  %-22s %-15s %14.1f ns  %s  (%d samples)\n", name, impl, ns, rate, samples);
}

/* A device tensor of f32 in [0.5, 1.5) made on the CPU; the CPU copy is
 * returned in *host when host is not NULL (else released). */
static tg_tensor *device_uniform(int ndim, const int64_t *shape, tg_tensor **host) {
    tg_tensor *h = check(tg_uniform(TG_F32, ndim, shape, 0.5, 1.5), "tg_uniform");
    tg_tensor *d = check(tg_to_device(h, VK0), "tg_to_device");
    if (host) *host = h;
    else tg_release(h);
    return d;
}

static float *download(tg_tensor *t) {
    size_t bytes = (size_t)tg_numel(t) * sizeof(float);
    float *p = malloc(bytes);
    if (!p) { fprintf(stderr, "bench_gpu: out of host memory\n"); exit(1); }
    check_ok(tg_copy_to(t, p, bytes), "tg_copy_to");
    return p;
}

static int failures;
static void verdict(const char *name, double err, double tol) {
    if (err <= tol) return;
    fprintf(stderr, "bench_gpu: %s: result differs from the CPU (relative %.3g > %.3g)\n", name, err, tol);
    failures++;
}

/* ---- sgemm ------------------------------------------------------------- */
typedef struct { tg_tensor *a, *b; } pair;
static void run_matmul(void *p) { tg_release(check(tg_matmul(((pair *)p)->a, ((pair *)p)->b), "tg_matmul")); }

/* C = A B, n x n, f32 (sgemm_f32_N) or f16 (gemm_f16_N: cooperative
 * matrices where the device has them, f32 accumulation). */
static void case_gemm(int64_t n, tg_dtype dt) {
    char name[64];
    snprintf(name, sizeof name, dt == TG_F16 ? "gemm_f16_%lld" : "sgemm_f32_%lld", (long long)n);
    int64_t shape[2] = {n, n};
    tg_tensor *ha, *hb;
    pair p = {device_uniform(2, shape, &ha), device_uniform(2, shape, &hb)};
    if (dt != TG_F32) {             /* operands and their host copies rounded to dt */
        tg_tensor *q[4] = {p.a, p.b, ha, hb};
        for (int i = 0; i < 4; i++) {
            tg_tensor *h = check(tg_cast(q[i], dt), "tg_cast");
            tg_release(q[i]);
            q[i] = i < 2 ? h : check(tg_cast(h, TG_F32), "tg_cast");
            if (i >= 2) tg_release(h);
        }
        p.a = q[0]; p.b = q[1]; ha = q[2]; hb = q[3];
    }
    int ns;
    double t = gpu_measure(run_matmul, &p, 0, &ns);
    emit(name, "tangent", t, ns, "flop", 2.0 * (double)n * (double)n * (double)n);
    /* 64 entries against f64 dot products of the same inputs */
    tg_tensor *c = check(tg_matmul(p.a, p.b), "tg_matmul");
    if (dt != TG_F32) {
        tg_tensor *c32 = check(tg_cast(c, TG_F32), "tg_cast");
        tg_release(c);
        c = c32;
    }
    float *cv = download(c);
    const float *av = tg_data(ha), *bv = tg_data(hb);
    double worst = 0;
    for (int k = 0; k < 64; k++) {
        int64_t i = (k * 7919 + 13) % n, j = (k * 104729 + 5) % n;
        double ref = 0;
        for (int64_t q = 0; q < n; q++) ref += (double)av[i * n + q] * (double)bv[q * n + j];
        worst = fmax(worst, fabs(cv[i * n + j] - ref) / fabs(ref));
    }
    verdict(name, worst, dt == TG_F32 ? 1e-3 : 2e-3);
    free(cv);
    tg_release(c);
    tg_release(ha);
    tg_release(hb);
    tg_release(p.a);
    tg_release(p.b);
}

/* ---- bandwidth --------------------------------------------------------- */
static void run_add(void *p) { tg_release(check(tg_add(((pair *)p)->a, ((pair *)p)->b), "tg_add")); }
static void run_add_inplace(void *p) { check_ok(tg_add_(((pair *)p)->a, ((pair *)p)->b), "tg_add_"); }
static void run_sum(void *p) { tg_release(check(tg_sum(((pair *)p)->a, 0, NULL, false), "tg_sum")); }
static void run_copy(void *p) { check_ok(tg_copy_(((pair *)p)->b, ((pair *)p)->a), "tg_copy_"); }

typedef enum { BW_ADD, BW_ADD_INPLACE, BW_SUM, BW_COPY } bw_kind;

static void case_bandwidth(bw_kind kind, int64_t n, const char *name) {
    tg_tensor *ha, *hb = NULL;
    pair p = {device_uniform(1, &n, &ha), NULL};
    if (kind == BW_ADD || kind == BW_ADD_INPLACE) p.b = device_uniform(1, &n, &hb);
    if (kind == BW_COPY) {
        tg_tensor *z = check(tg_zeros(TG_F32, 1, &n), "tg_zeros");
        p.b = check(tg_to_device(z, VK0), "tg_to_device");
        tg_release(z);
    }
    static const bench_fn fns[] = {run_add, run_add_inplace, run_sum, run_copy};
    static const double bytes_per[] = {12, 12, 4, 8};
    int ns;
    double t = gpu_measure(fns[kind], &p, 0, &ns);
    emit(name, "tangent", t, ns, "bytes", bytes_per[kind] * (double)n);

    const float *av = tg_data(ha);
    double worst = 0;
    if (kind == BW_ADD) {
        tg_tensor *r = check(tg_add(p.a, p.b), "tg_add");
        float *rv = download(r);
        const float *bv = tg_data(hb);
        for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(rv[i] - (av[i] + bv[i])) / (av[i] + bv[i]));
        free(rv);
        tg_release(r);
    } else if (kind == BW_SUM) {
        double ref = 0;
        for (int64_t i = 0; i < n; i++) ref += av[i];
        tg_tensor *r = check(tg_sum(p.a, 0, NULL, false), "tg_sum");
        worst = fabs(tg_item_f64(r) - ref) / ref;
        tg_release(r);
    } else if (kind == BW_COPY) {
        float *yv = download(p.b);
        worst = memcmp(yv, av, (size_t)n * sizeof(float)) ? 1.0 : 0.0;
        free(yv);
    } /* BW_ADD_INPLACE: a grew by b once per call; the add itself is checked by BW_ADD */
    verdict(name, worst, 1e-4);
    tg_release(ha);
    tg_release(hb);
    tg_release(p.a);
    tg_release(p.b);
}

/* ---- latency ----------------------------------------------------------- */
static void run_tiny(void *p) { tg_release(check(tg_add(((pair *)p)->a, ((pair *)p)->b), "tg_add")); }
static void run_roundtrip(void *p) {
    tg_tensor *r = check(tg_add(((pair *)p)->a, ((pair *)p)->b), "tg_add");
    double v = tg_item_f64(r);
    if (isnan(v)) die("tg_item_f64");
    tg_release(r);
}

static tg_tensor *device_scalar1(double v) {
    int64_t one = 1;
    tg_tensor *h = check(tg_full(TG_F32, 1, &one, v), "tg_full");
    tg_tensor *d = check(tg_to_device(h, VK0), "tg_to_device");
    tg_release(h);
    return d;
}

static void case_tiny(void) {
    pair p = {device_scalar1(1.25), device_scalar1(2.5)};
    int ns;
    double t = gpu_measure(run_tiny, &p, TINY_OPS, &ns);
    emit("tiny_add_f32_1", "tangent", t, ns, NULL, 0);
    tg_tensor *r = check(tg_add(p.a, p.b), "tg_add");
    verdict("tiny_add_f32_1", fabs(tg_item_f64(r) - 3.75), 0);
    tg_release(r);
    tg_release(p.a);
    tg_release(p.b);
}

/* The host's share of a tiny op: RECORD_OPS ops recorded (fewer than a
 * batch holds, so nothing is submitted) and timed without waiting for the
 * GPU; the wait comes after the clock stops. Median of RECORD_SAMPLES. */
#define RECORD_OPS 200
#define RECORD_SAMPLES 101
static void case_tiny_record(void) {
    pair p = {device_scalar1(1.25), device_scalar1(2.5)};
    double t[RECORD_SAMPLES];
    for (int k = 0; k < 10; k++) run_tiny(&p);
    sync();
    for (int s = 0; s < RECORD_SAMPLES; s++) {
        double t0 = bench_now_ns();
        for (int k = 0; k < RECORD_OPS; k++) run_tiny(&p);
        t[s] = (bench_now_ns() - t0) / RECORD_OPS;
        sync();
    }
    qsort(t, RECORD_SAMPLES, sizeof t[0], cmp_double);
    emit("tiny_add_f32_1_record", "tangent", t[RECORD_SAMPLES / 2], RECORD_SAMPLES, NULL, 0);
    tg_release(p.a);
    tg_release(p.b);
}

static void case_roundtrip(void) {
    pair p = {device_scalar1(1.25), device_scalar1(2.5)};
    int ns;
    double t = gpu_measure(run_roundtrip, &p, ROUNDTRIPS, &ns);
    emit("roundtrip_add_f32_1", "tangent", t, ns, NULL, 0);
    tg_release(p.a);
    tg_release(p.b);
}

static void case_chain(void) {
    bench_chain c = {device_scalar1(0.5), device_scalar1(0.25), NULL};
    int ns;
    double t = gpu_measure(bench_chain_eager, &c, 0, &ns);
    emit("node_add_f32_1", "tangent", t / BENCH_CHAIN, ns, NULL, 0);
    tg_tensor *out = NULL;
    if (bench_chain_compile(&c) || tg_run(c.p, (tg_tensor *[]){c.a, c.b}, &out) != TG_OK) {
        fprintf(stderr, "bench_gpu: node_add_f32_1 tangent-traced skipped: tg_trace/tg_compile/tg_run "
                        "with device inputs failed: %s\n", tg_last_error());
        tg_clear_error();
    } else {
        tg_device d = tg_device_of(out);
        double v = tg_item_f64(out);
        tg_release(out);
        if (d.kind != TG_VULKAN) {
            fprintf(stderr, "bench_gpu: node_add_f32_1 tangent-traced skipped: tg_run's result is not on "
                            "the device\n");
        } else {
            verdict("node_add_f32_1", fabs(v - (0.5 + BENCH_CHAIN * 0.25)) / (0.5 + BENCH_CHAIN * 0.25), 1e-6);
            t = gpu_measure(bench_chain_compiled, &c, 0, &ns);
            emit("node_add_f32_1", "tangent-traced", t / BENCH_CHAIN, ns, NULL, 0);
        }
    }
    tg_program_free(c.p);
    tg_release(c.a);
    tg_release(c.b);
}

/* ---- a 20-op elementwise chain (fusion) ---------------------------------- */
#define CHAIN20 20
/* bench_fusion.c's chain: 5 x (mul, add, sub, relu), with number operands. */
static tg_status chain20(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *x = in[0];
    for (int k = 0; k < CHAIN20 / 4; k++) x = tg_relu(tg_sub_scalar(tg_add_scalar(tg_mul_scalar(x, 0.5), 1.0), 3.0));
    out[0] = x;
    return x ? TG_OK : tg_last_error_code();
}

typedef struct { tg_tensor *x, *y; tg_program *fused, *unfused; } chain_job;
static void run_chain_eager(void *p) {
    chain_job *j = p;
    tg_scope_begin();
    tg_tensor *y;
    check_ok(chain20(NULL, &j->x, &y), "eager chain");
    tg_scope_end();
}
static void run_chain_fused(void *p) {
    tg_tensor *y;
    check_ok(tg_run(((chain_job *)p)->fused, &((chain_job *)p)->x, &y), "tg_run (fused)");
    tg_release(y);
}
static void run_chain_unfused(void *p) {
    tg_tensor *y;
    check_ok(tg_run(((chain_job *)p)->unfused, &((chain_job *)p)->x, &y), "tg_run (no_fusion)");
    tg_release(y);
}
static void run_chain_copy(void *p) { check_ok(tg_copy_(((chain_job *)p)->y, ((chain_job *)p)->x), "tg_copy_"); }

/* eager, compiled without fusion, compiled (one generated kernel) and the
 * device copy of the same bytes (the floor: one read, one write). */
static void case_chain20(int64_t n, const char *name) {
    chain_job j = {device_uniform(1, &n, NULL), NULL, NULL, NULL};
    tg_tensor *z = check(tg_zeros(TG_F32, 1, &n), "tg_zeros");
    j.y = check(tg_to_device(z, VK0), "tg_to_device");
    tg_release(z);
    tg_spec spec = {TG_F32, "N"};
    tg_graph *g = tg_trace(chain20, NULL, 1, &spec, 1);
    if (!g) die("tg_trace");
    tg_compile_opts plain = {.no_fusion = true};
    j.fused = tg_compile(g, NULL);
    j.unfused = tg_compile(g, &plain);
    tg_graph_free(g);
    if (!j.fused || !j.unfused) die("tg_compile");
    tg_tensor *a, *b;
    check_ok(tg_run(j.fused, &j.x, &a), "tg_run");
    check_ok(tg_run(j.unfused, &j.x, &b), "tg_run");
    float *av = download(a), *bv = download(b);
    verdict(name, memcmp(av, bv, (size_t)n * sizeof(float)) ? 1.0 : 0.0, 0);   /* fused == op by op, bitwise */
    free(av);
    free(bv);
    tg_release(a);
    tg_release(b);
    static const bench_fn fns[] = {run_chain_eager, run_chain_unfused, run_chain_fused, run_chain_copy};
    static const char *const impl[] = {"tangent", "tangent-unfused", "tangent-traced", "copy"};
    for (int k = 0; k < 4; k++) {
        int ns;
        double t = gpu_measure(fns[k], &j, 0, &ns);
        emit(name, impl[k], t, ns, "bytes", 8.0 * (double)n);
    }
    tg_program_free(j.fused);
    tg_program_free(j.unfused);
    tg_release(j.x);
    tg_release(j.y);
}

/* ---- fused linear + bias + ReLU ------------------------------------------ */
typedef struct { tg_tensor *x, *w, *b; tg_program *fused, *unfused; } lin_job;
static void run_linear_fused(void *p) {
    lin_job *j = p;
    tg_release(check(tg_nn_linear(j->x, j->w, j->b, TG_ACT_RELU), "tg_nn_linear"));
}
static void run_linear_unfused(void *p) {
    lin_job *j = p;
    tg_scope_begin();
    check(tg_relu(tg_add(tg_matmul(j->x, tg_mT(j->w)), j->b)), "relu(x w^T + b)");
    tg_scope_end();
}

static tg_status linear_layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_relu(tg_add(tg_matmul(in[0], tg_mT(in[1])), in[2]));
    return out[0] ? TG_OK : tg_last_error_code();
}
static void run_linear_program(tg_program *p, lin_job *j) {
    tg_tensor *in[3] = {j->x, j->w, j->b}, *y;
    if (tg_run(p, in, &y)) {
        fprintf(stderr, "bench_gpu: tg_run: %s\n", tg_last_error());
        exit(1);
    }
    tg_release(y);
}
static void run_linear_traced(void *p) { run_linear_program(((lin_job *)p)->fused, p); }
static void run_linear_traced_unfused(void *p) { run_linear_program(((lin_job *)p)->unfused, p); }

/* tg_nn_linear (the GEMM, then bias and ReLU in one pass) against
 * relu(add(matmul(x, w^T), b)) on the device, forward, f32; and that chain
 * traced and compiled, with its matmul epilogue group (autodiff/fusion.c)
 * and with no_fusion. */
static void case_linear(int64_t m, int64_t k, int64_t n) {
    char name[64];
    snprintf(name, sizeof name, "linear_relu_f32_%lldx%lldx%lld", (long long)m, (long long)k, (long long)n);
    int64_t xs[2] = {m, k}, ws[2] = {n, k};
    lin_job j = {device_uniform(2, xs, NULL), device_uniform(2, ws, NULL), device_uniform(1, &n, NULL), NULL, NULL};
    tg_tensor *a = check(tg_nn_linear(j.x, j.w, j.b, TG_ACT_RELU), "tg_nn_linear");
    tg_scope_begin();
    tg_tensor *r = check(tg_relu(tg_add(tg_matmul(j.x, tg_mT(j.w)), j.b)), "unfused");
    float *av = download(a), *rv = download(r);
    tg_scope_end();
    double worst = 0;
    for (int64_t i = 0; i < m * n; i++) worst = fmax(worst, fabs(av[i] - rv[i]) / fmax(fabs(rv[i]), 1.0));
    verdict(name, worst, 1e-5);
    free(av);
    free(rv);
    tg_release(a);
    tg_spec specs[3] = {{TG_F32, "M, K"}, {TG_F32, "N, K"}, {TG_F32, "N"}};
    tg_graph *g = tg_trace(linear_layer, NULL, 3, specs, 1);
    j.fused = g ? tg_compile(g, NULL) : NULL;
    j.unfused = g ? tg_compile(g, &(tg_compile_opts){.no_fusion = true}) : NULL;
    if (!j.fused || !j.unfused) {
        fprintf(stderr, "bench_gpu: %s: %s\n", name, tg_last_error());
        exit(1);
    }
    static const bench_fn fns[] = {run_linear_fused, run_linear_unfused, run_linear_traced, run_linear_traced_unfused};
    static const char *const impl[] = {"tangent", "tangent-unfused", "tangent-traced", "tangent-traced-unfused"};
    for (int q = 0; q < 4; q++) {
        int ns;
        double t = gpu_measure(fns[q], &j, 0, &ns);
        emit(name, impl[q], t, ns, "flop", 2.0 * (double)m * (double)k * (double)n);
    }
    tg_program_free(j.fused);
    tg_program_free(j.unfused);
    tg_graph_free(g);
    tg_release(j.x);
    tg_release(j.w);
    tg_release(j.b);
}

/* ---- driver ------------------------------------------------------------ */
static void usage(void) {
    fprintf(stderr, "usage: bench_gpu [--quick] [--filter SUBSTRING]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else usage();
    }
    if (tg_device_count(TG_VULKAN) == 0) {
        fprintf(stderr, "bench_gpu: no Vulkan device (no loader, no driver, or TANGENT_NO_VULKAN set; "
                        "VK_DRIVER_FILES / VK_ICD_FILENAMES choose the driver); nothing measured\n");
        return 1;
    }
    /* the name, JSON-escaped */
    const char *raw = tg__vk_device_name(0);
    size_t k = 0;
    for (const char *s = raw; *s && k + 3 < sizeof device_name; s++) {
        if (*s == '"' || *s == '\\') device_name[k++] = '\\';
        device_name[k++] = (unsigned char)*s < 0x20 ? ' ' : *s;
    }
    device_name[k] = 0;
    tg_manual_seed(42);
    fprintf(stderr, "bench_gpu: Tangent %s on %s%s\n", tg_version(), raw, quick ? " (--quick sizes)" : "");

    const int64_t big = quick ? (int64_t)1 << 20 : (int64_t)1 << 28;
    const char *npow = quick ? "2^20" : "2^28";
    static const int64_t gemm_full[] = {1024, 2048, 4096, 8192}, gemm_quick[] = {256};
    const int64_t *gemm = quick ? gemm_quick : gemm_full;
    int n_gemm = quick ? 1 : 4;
#define SELECTED(nm) (!filter || strstr(nm, filter))
    char name[64];
    for (int i = 0; i < n_gemm; i++) {
        snprintf(name, sizeof name, "sgemm_f32_%lld", (long long)gemm[i]);
        if (SELECTED(name)) case_gemm(gemm[i], TG_F32);
    }
    for (int i = quick ? 0 : 2; i < n_gemm; i++) {       /* f16: 4096 and 8192 */
        snprintf(name, sizeof name, "gemm_f16_%lld", (long long)gemm[i]);
        if (SELECTED(name)) case_gemm(gemm[i], TG_F16);
    }
    static const char *const bw_names[] = {"add", "add_inplace", "sum", "copy"};
    for (int kind = BW_ADD; kind <= BW_COPY; kind++) {
        snprintf(name, sizeof name, "%s_f32_%s", bw_names[kind], npow);
        if (SELECTED(name)) case_bandwidth((bw_kind)kind, big, name);
    }
    if (SELECTED("tiny_add_f32_1")) case_tiny();
    if (SELECTED("tiny_add_f32_1_record")) case_tiny_record();
    if (SELECTED("roundtrip_add_f32_1")) case_roundtrip();
    if (SELECTED("node_add_f32_1")) case_chain();
    const int64_t chain_n = quick ? (int64_t)1 << 20 : (int64_t)1 << 26;
    snprintf(name, sizeof name, "chain20_f32_%s", quick ? "2^20" : "2^26");
    if (SELECTED(name)) case_chain20(chain_n, name);
    /* the CNN's classifier head (fc1, fc2) and a large square case */
    static const int64_t lin[3][3] = {{250, 3136, 1024}, {250, 1024, 10}, {4096, 4096, 4096}};
    for (int i = quick ? 1 : 0; i < 3; i++) {
        snprintf(name, sizeof name, "linear_relu_f32_%lldx%lldx%lld", (long long)lin[i][0], (long long)lin[i][1],
                 (long long)lin[i][2]);
        if (SELECTED(name)) case_linear(lin[i][0], lin[i][1], lin[i][2]);
    }
    if (failures) {
        fprintf(stderr, "bench_gpu: %d case(s) computed a wrong result\n", failures);
        return 1;
    }
    return 0;
}
