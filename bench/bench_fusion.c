/* Fusion benchmark (issue: compiled programs, fused kernels): a 20-op
 * elementwise chain on 2^24 f32 (4096 x 4096) four ways, in one process:
 *
 *   tangent           eager, op by op (20 passes over memory)
 *   tangent-unfused   the compiled program with tg_compile_opts.no_fusion
 *   tangent-traced    the compiled program, fused (autodiff/fusion.c)
 *   copy              tg_copy_to of the input into a buffer: one read and one
 *                     write of the same bytes, the floor for any chain
 *
 *   bench_fusion [--threads N] [--filter SUBSTRING]
 *
 * and a dense layer relu(x @ w + b), deep (2048 x 1024 @ 1024 x 1024: the
 * GEMM dominates) and thin (16384 x 32 @ 32 x 512: the passes over the
 * output weigh), whose compiled program runs the add and relu in place
 * over the product (a matmul epilogue group), three ways: eager, unfused,
 * traced.
 *
 * Output: DESIGN.md section 9's JSON lines (suite "fusion"). Before timing,
 * the fused result is checked bitwise against the unfused one. */
#include "timing.h"

#include <tangent/tangent.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 4096
#define COLS 4096
#define CHAIN 20

typedef struct {
    tg_tensor *half, *one, *three;   /* 0-d f32 constants */
} consts;

/* 20 cheap ops: memory-bound when run one by one. */
static tg_status chain(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    consts *c = ctx;
    tg_tensor *x = in[0];
    for (int k = 0; k < CHAIN / 4; k++) {
        x = tg_mul(x, c->half);
        x = tg_add(x, c->one);
        x = tg_relu(tg_sub(x, c->three));
    }
    out[0] = x;   /* 5 x (mul, add, sub, relu) = 20 ops */
    return x ? TG_OK : tg_last_error_code();
}

typedef struct {
    consts c;
    tg_tensor *x;
    void *buf;                       /* the copy's destination */
    tg_program *fused, *unfused;
} job;

static void die(const char *what) {
    fprintf(stderr, "bench_fusion: %s: %s\n", what, tg_last_error());
    exit(1);
}

static void run_eager(void *p) {
    job *j = p;
    tg_scope_begin();
    tg_tensor *y;
    if (chain(&j->c, &j->x, &y)) die("eager chain");
    tg_scope_end();
}
static void run_program(tg_program *prog, tg_tensor *x) {
    tg_tensor *y;
    if (tg_run(prog, &x, &y)) die("tg_run");
    tg_release(y);
}
static void run_fused(void *p) { run_program(((job *)p)->fused, ((job *)p)->x); }
static void run_unfused(void *p) { run_program(((job *)p)->unfused, ((job *)p)->x); }
static void run_copy(void *p) {
    job *j = p;
    if (tg_copy_to(j->x, j->buf, (size_t)ROWS * COLS * sizeof(float))) die("copy");
}

static bool same_bits(tg_tensor *a, tg_tensor *b) {
    size_t n = (size_t)tg_numel(a) * tg_dtype_size(tg_dtype_of(a));
    char *pa = malloc(n), *pb = malloc(n);
    bool same = pa && pb && tg_numel(a) == tg_numel(b) && !tg_copy_to(a, pa, n) && !tg_copy_to(b, pb, n) &&
                !memcmp(pa, pb, n);
    free(pa);
    free(pb);
    return same;
}

/* ---- a dense layer: matmul with its epilogue ---------------------------- */
typedef struct { tg_tensor *in[3]; tg_program *fused, *unfused; } layer_job;

static tg_status layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_relu(tg_add(tg_matmul(in[0], in[1]), in[2]));
    return out[0] ? TG_OK : tg_last_error_code();
}
static void run_layer_eager(void *p) {
    tg_scope_begin();
    tg_tensor *y;
    if (layer(NULL, ((layer_job *)p)->in, &y)) die("eager layer");
    tg_scope_end();
}
static void run_layer_program(tg_program *prog, tg_tensor *const *in) {
    tg_tensor *y;
    if (tg_run(prog, in, &y)) die("tg_run");
    tg_release(y);
}
static void run_layer_fused(void *p) { run_layer_program(((layer_job *)p)->fused, ((layer_job *)p)->in); }
static void run_layer_unfused(void *p) { run_layer_program(((layer_job *)p)->unfused, ((layer_job *)p)->in); }

static void case_layer(const char *name, int64_t m, int64_t k, int64_t n, int threads) {
    layer_job j;
    j.in[0] = tg_randn(TG_F32, 2, (int64_t[]){m, k});
    j.in[1] = tg_randn(TG_F32, 2, (int64_t[]){k, n});
    j.in[2] = tg_randn(TG_F32, 1, (int64_t[]){n});
    tg_graph *g = tg_trace(layer, NULL, 3, (tg_spec[]){{TG_F32, "M, K"}, {TG_F32, "K, N"}, {TG_F32, "N"}}, 1);
    if (!g) die("trace");
    j.fused = tg_compile(g, NULL);
    j.unfused = tg_compile(g, &(tg_compile_opts){.no_fusion = true});
    if (!j.fused || !j.unfused) die("compile");
    tg_tensor *a, *b;
    if (tg_run(j.fused, j.in, &a) || tg_run(j.unfused, j.in, &b)) die("check run");
    if (!same_bits(a, b)) die("fused != unfused");
    tg_release(a);
    tg_release(b);
    bench_fn fns[3] = {run_layer_eager, run_layer_unfused, run_layer_fused};
    const char *impl[3] = {"tangent", "tangent-unfused", "tangent-traced"};
    double med[3];
    int samples;
    bench_measure(3, fns, &j, med, &samples);
    for (int q = 0; q < 3; q++) {
        printf("{\"suite\": \"fusion\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ns\": %.1f}\n",
               name, impl[q], threads, med[q]);
        fprintf(stderr, "  %-20s %-16s %dT %14.1f ns (%d samples)\n", name, impl[q], threads, med[q], samples);
    }
    tg_program_free(j.fused);
    tg_program_free(j.unfused);
    tg_graph_free(g);
    for (int i = 0; i < 3; i++) tg_release(j.in[i]);
}

int main(int argc, char **argv) {
    int threads = 1;
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else {
            fprintf(stderr, "usage: bench_fusion [--threads N] [--filter SUBSTRING]\n");
            return 2;
        }
    }
    tg_set_num_threads(threads);
    static const int64_t layers[2][3] = {{2048, 1024, 1024}, {16384, 32, 512}};
    for (int i = 0; i < 2; i++) {
        char lname[64];
        snprintf(lname, sizeof lname, "linear_relu_f32_%lldx%lldx%lld", (long long)layers[i][0], (long long)layers[i][1],
                 (long long)layers[i][2]);
        if (!filter || strstr(lname, filter)) case_layer(lname, layers[i][0], layers[i][1], layers[i][2], threads);
    }
    const char *name = "chain20_f32_2^24";
    if (filter && !strstr(name, filter)) return 0;
    job j = {.c = {tg_scalar(TG_F32, 0.5), tg_scalar(TG_F32, 1.0), tg_scalar(TG_F32, 3.0)}};
    tg_manual_seed(11);
    j.x = tg_randn(TG_F32, 2, (int64_t[]){ROWS, COLS});
    if (!(j.buf = malloc((size_t)ROWS * COLS * sizeof(float)))) die("malloc");
    memset(j.buf, 0, (size_t)ROWS * COLS * sizeof(float));   /* first touch outside the timing */
    tg_graph *g = tg_trace(chain, &j.c, 1, (tg_spec[]){{TG_F32, "R, 4096"}}, 1);
    if (!g) die("trace");
    j.fused = tg_compile(g, NULL);
    j.unfused = tg_compile(g, &(tg_compile_opts){.no_fusion = true});
    if (!j.fused || !j.unfused) die("compile");
    tg_tensor *a, *b;
    if (tg_run(j.fused, &j.x, &a) || tg_run(j.unfused, &j.x, &b)) die("check run");
    if (!same_bits(a, b)) die("fused != unfused");
    tg_release(a);
    tg_release(b);

    bench_fn fns[4] = {run_eager, run_unfused, run_fused, run_copy};
    const char *impl[4] = {"tangent", "tangent-unfused", "tangent-traced", "copy"};
    double med[4];
    int samples;
    bench_measure(4, fns, &j, med, &samples);
    for (int q = 0; q < 4; q++) {
        printf("{\"suite\": \"fusion\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ns\": %.1f}\n",
               name, impl[q], threads, med[q]);
        fprintf(stderr, "  %-20s %-16s %dT %14.1f ns (%d samples)\n", name, impl[q], threads, med[q], samples);
    }
    free(j.buf);
    tg_program_free(j.fused);
    tg_program_free(j.unfused);
    tg_graph_free(g);
    return 0;
}
