/* Core benchmark: Tangent ops and the matching direct CBLAS calls, timed in
 * one process on the same buffers.
 *
 *   bench_core [--threads N] [--large-only] [--filter SUBSTRING]
 *
 * Prints one JSON object per measurement on stdout (DESIGN.md section 9):
 *   {"suite": "core", "case": "...", "impl": "tangent|cblas", "threads": N, "median_ns": ...}
 * and progress on stderr.
 *
 * Timing: timing.h (warm-up, batches of calls, median per call). Where a case
 * has a CBLAS counterpart, Tangent and CBLAS samples alternate. A Tangent sample includes releasing the result:
 * `r = op(...); tg_release(r);` is the realistic loop (the op allocates its
 * result). The CBLAS call writes into a preallocated output, as a direct call
 * would.
 */
#include "timing.h"

#include <tangent/tensor.h>

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cases -------------------------------------------------------------- */
typedef enum { OP_UNARY, OP_BINARY, OP_SUM, OP_MATMUL, OP_MATMUL_TN, OP_TRANSPOSE } op_kind;

typedef struct bench_case {
    const char *name;
    op_kind kind;
    tg_dtype dtype;
    int ndim;
    int64_t shape[2];     /* operand shape (matmul: n x n) */
    int axis;             /* OP_SUM: reduced axis, -1 for all */
    tg_tensor *(*unary)(tg_tensor *);
    tg_tensor *(*binary)(tg_tensor *, tg_tensor *);
    int tiny;             /* 1-element op: left out of the multi-thread pass */
} bench_case;

#define N25 ((int64_t)1 << 25)
#define TINY_BINARY(nm, fn) {.name = nm, .kind = OP_BINARY, .dtype = TG_F32, .ndim = 1, .shape = {1}, .binary = fn, .tiny = 1}
#define TINY_UNARY(nm, fn) {.name = nm, .kind = OP_UNARY, .dtype = TG_F32, .ndim = 1, .shape = {1}, .unary = fn, .tiny = 1}
#define BINARY(nm, fn) {.name = nm, .kind = OP_BINARY, .dtype = TG_F32, .ndim = 1, .shape = {N25}, .binary = fn}
#define UNARY(nm, fn) {.name = nm, .kind = OP_UNARY, .dtype = TG_F32, .ndim = 1, .shape = {N25}, .unary = fn}
#define SUM(nm, nd, r, c, ax) {.name = nm, .kind = OP_SUM, .dtype = TG_F32, .ndim = nd, .shape = {r, c}, .axis = ax}
#define MATMUL(nm, k, dt, n) {.name = nm, .kind = k, .dtype = dt, .ndim = 2, .shape = {n, n}}
static const bench_case cases[] = {
    TINY_BINARY("add_f32_1", tg_add),
    TINY_UNARY("exp_f32_1", tg_exp),
    BINARY("add_f32_2^25", tg_add),
    BINARY("mul_f32_2^25", tg_mul),
    UNARY("exp_f32_2^25", tg_exp),
    SUM("sum_f32_2^25", 1, N25, 0, -1),
    SUM("sum_axis0_f32_4096x8192", 2, 4096, 8192, 0),
    SUM("sum_axis1_f32_4096x8192", 2, 4096, 8192, 1),
    MATMUL("matmul_f32_256", OP_MATMUL, TG_F32, 256),
    MATMUL("matmul_f32_1024", OP_MATMUL, TG_F32, 1024),
    MATMUL("matmul_f32_2048", OP_MATMUL, TG_F32, 2048),
    MATMUL("matmul_f64_256", OP_MATMUL, TG_F64, 256),
    MATMUL("matmul_f64_1024", OP_MATMUL, TG_F64, 1024),
    MATMUL("matmul_f64_2048", OP_MATMUL, TG_F64, 2048),
    MATMUL("matmul_tn_f32_1024", OP_MATMUL_TN, TG_F32, 1024),   /* a.T @ b, a row-major */
    /* contiguous copy of a.T (tensor/copy_tiled.c) */
    {.name = "transpose_f32_4096x8192", .kind = OP_TRANSPOSE, .dtype = TG_F32, .ndim = 2, .shape = {4096, 8192}},
    {.name = "transpose_f64_4096x4096", .kind = OP_TRANSPOSE, .dtype = TG_F64, .ndim = 2, .shape = {4096, 4096}},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Operands of one case. */
typedef struct bench_state {
    const bench_case *c;
    tg_tensor *a, *b;     /* inputs (contiguous) */
    tg_tensor *lhs;       /* matmul left operand: a, or the view a.T */
    void *out;            /* CBLAS output buffer */
} bench_state;

static void die(const char *what) {
    fprintf(stderr, "bench_core: %s failed: %s\n", what, tg_last_error());
    exit(1);
}

static tg_tensor *check(tg_tensor *t, const char *what) {
    if (!t) die(what);
    return t;
}

static void state_init(bench_state *s, const bench_case *c) {
    memset(s, 0, sizeof *s);
    s->c = c;
    /* Inputs in [0.5, 1.5): exp stays finite, no denormals. */
    s->a = check(tg_uniform(c->dtype, c->ndim, c->shape, 0.5, 1.5), "tg_uniform");
    if (c->kind != OP_UNARY && c->kind != OP_SUM && c->kind != OP_TRANSPOSE)
        s->b = check(tg_uniform(c->dtype, c->ndim, c->shape, 0.5, 1.5), "tg_uniform");
    if (c->kind == OP_MATMUL) s->lhs = tg_retain(s->a);
    if (c->kind == OP_MATMUL_TN || c->kind == OP_TRANSPOSE) s->lhs = check(tg_transpose(s->a, 0, 1), "tg_transpose");
    if (c->kind == OP_MATMUL || c->kind == OP_MATMUL_TN) {
        /* 64-byte aligned, as Tangent's storage */
        size_t bytes = (size_t)(c->shape[0] * c->shape[1]) * tg_dtype_size(c->dtype);
        s->out = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!s->out) { fprintf(stderr, "bench_core: out of memory\n"); exit(1); }
    }
}

static void state_free(bench_state *s) {
    tg_release(s->a);
    tg_release(s->b);
    tg_release(s->lhs);
    free(s->out);
}

static tg_tensor *tangent_op(const bench_state *s) {
    const bench_case *c = s->c;
    switch (c->kind) {
    case OP_UNARY: return c->unary(s->a);
    case OP_BINARY: return c->binary(s->a, s->b);
    case OP_SUM: return c->axis < 0 ? tg_sum(s->a, 0, NULL, false) : tg_sum(s->a, 1, &c->axis, false);
    case OP_TRANSPOSE: return tg_contiguous(s->lhs);
    default: return tg_matmul(s->lhs, s->b);
    }
}

/* The measured loop body: the op and the release of its result. */
static void run_tangent(void *arg) {
    tg_tensor *r = tangent_op(arg);
    if (!r) die("tangent op");
    tg_release(r);
}

static void run_cblas(void *arg) {
    const bench_state *s = arg;
    const int n = (int)s->c->shape[0];
    const enum CBLAS_TRANSPOSE ta = s->c->kind == OP_MATMUL_TN ? CblasTrans : CblasNoTrans;
    const void *a = tg_data(s->a), *b = tg_data(s->b);
    if (s->c->dtype == TG_F32)
        cblas_sgemm(CblasRowMajor, ta, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, s->out, n);
    else
        cblas_dgemm(CblasRowMajor, ta, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, s->out, n);
}

/* Largest relative difference between Tangent's matmul and the CBLAS output,
 * so a mismatch in what is compared shows up. */
static double matmul_check(const bench_state *s) {
    run_cblas((void *)s);
    tg_tensor *r = check(tangent_op(s), "tg_matmul");
    int64_t n = tg_numel(r);
    const void *t = tg_data(r);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = s->c->dtype == TG_F32 ? ((const float *)t)[i] : ((const double *)t)[i];
        double y = s->c->dtype == TG_F32 ? ((const float *)s->out)[i] : ((const double *)s->out)[i];
        double d = fabs(x - y) / (fabs(y) + 1e-30);
        if (d > worst) worst = d;
    }
    tg_release(r);
    return worst;
}

static void emit(const char *name, const char *impl, int threads, double ns, int samples) {
    printf("{\"suite\": \"core\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ns\": %.1f}\n",
           name, impl, threads, ns);
    fflush(stdout);
    fprintf(stderr, "  %-26s %-8s %dT  %14.1f ns  (%d samples)\n", name, impl, threads, ns, samples);
}

static void usage(void) {
    fprintf(stderr, "usage: bench_core [--threads N] [--large-only] [--filter SUBSTRING]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int threads = 1, large_only = 0;
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--large-only")) large_only = 1;
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else usage();
    }
    if (threads < 1) usage();
    tg_set_num_threads(threads);      /* Tangent's OpenMP loops and OpenBLAS */
    tg_manual_seed(42);
    fprintf(stderr, "bench_core: Tangent %s, %d thread(s)\n", tg_version(), tg_get_num_threads());

    for (size_t i = 0; i < N_CASES; i++) {
        const bench_case *c = &cases[i];
        if ((large_only && c->tiny) || (filter && !strstr(c->name, filter))) continue;
        bench_state s;
        state_init(&s, c);
        static const bench_fn fns[BENCH_MAX_IMPLS] = {run_tangent, run_cblas};
        static const char *const impls[BENCH_MAX_IMPLS] = {"tangent", "cblas"};
        int nfn = s.out ? 2 : 1, ns;
        double med[BENCH_MAX_IMPLS];
        bench_measure(nfn, fns, &s, med, &ns);
        for (int k = 0; k < nfn; k++) emit(c->name, impls[k], threads, med[k], ns);
        if (s.out) {
            double err = matmul_check(&s);
            double tol = c->dtype == TG_F32 ? 1e-4 : 1e-12;
            if (!(err <= tol)) {
                fprintf(stderr, "bench_core: %s: Tangent and CBLAS results differ (rel %.3g)\n", c->name, err);
                return 1;
            }
        }
        state_free(&s);
    }
    return 0;
}
