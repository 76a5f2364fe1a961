/* Autodiff benchmark: Tangent's eager reverse mode (tape, tg_backward), the
 * cases of bench/baseline.py --suite autodiff.
 *
 *   bench_autodiff [--threads N] [--large-only] [--filter SUBSTRING] [--dump-grads PATH]
 *
 * Prints one JSON object per measurement on stdout (DESIGN.md section 9):
 *   {"suite": "autodiff", "case": "...", "impl": "tangent", "threads": N, "median_ns": ...}
 * and progress on stderr. Timing: timing.h, as bench_core.
 *
 * Cases (bench/README.md):
 *   tape_add_f32_1         r = a + a on a 1-element leaf that requires grad
 *                          (records a node), then tg_release(r)
 *   fwd_bwd_xx_sum_f32_4   loss = sum(x * x), x 4 elements; backward; grad read
 *                          and dropped (tg_zero_grad); one scope per call
 *   mlp_step_f32_b128      784-256-256-10 MLP, ReLU, batch 128, loss mean((out - y)^2):
 *                          zero the 6 gradients, forward, backward; one scope per step
 *
 * The MLP's data and parameters come from a fixed integer hash (bench_value
 * below, repeated in baseline.py), so both sides see bit-identical f32
 * inputs. --dump-grads PATH writes, after timing, the loss and the 6
 * gradients of one step as raw little-endian f32 (loss, dW1, db1, dW2, db2,
 * dW3, db3, row-major); baseline.py --check-grads PATH compares them with
 * PyTorch's.
 */
#include "chain.h"
#include "timing.h"

/* tensor.h first: autodiff.h alone does not compile (its location macros turn
 * on before its declarations; reported to the lead). */
#include <tangent/tensor.h>
#include <tangent/autodiff.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what) {
    fprintf(stderr, "bench_autodiff: %s failed: %s\n", what, tg_last_error());
    exit(1);
}

static tg_tensor *check(tg_tensor *t, const char *what) {
    if (!t) die(what);
    return t;
}

static void check_ok(tg_status st, const char *what) {
    if (st != TG_OK) die(what);
}

/* ---- deterministic data ----------------------------------------------------
 * Element i of tensor `salt`: a 32-bit integer hash, mapped to [-scale, scale)
 * in f64 and rounded to f32 once. Every step is exact integer or exact f64
 * arithmetic (h / 2^32, 2u - 1, then one product), so NumPy computes the same
 * f32 values (baseline.py: bench_values). */
static float bench_value(uint32_t salt, uint32_t i, double scale) {
    uint32_t h = (i + (salt << 24)) * 2654435761u;
    h ^= h >> 16;
    h *= 0x45d9f3bu;
    h ^= h >> 16;
    double u = (double)h / 4294967296.0;
    return (float)((2.0 * u - 1.0) * scale);
}

static tg_tensor *bench_tensor(uint32_t salt, int ndim, const int64_t *shape, double scale) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    float *buf = malloc((size_t)n * sizeof *buf);
    if (!buf) { fprintf(stderr, "bench_autodiff: out of memory\n"); exit(1); }
    for (int64_t i = 0; i < n; i++) buf[i] = bench_value(salt, (uint32_t)i, scale);
    tg_tensor *t = check(tg_from_data(TG_F32, ndim, shape, buf), "tg_from_data");
    free(buf);
    return t;
}

/* ---- tape_add_f32_1 ---------------------------------------------------------- */
static void run_tape_add(void *arg) {
    tg_tensor *a = arg;
    tg_tensor *r = tg_add(a, a);
    if (!r) die("tg_add");
    tg_release(r);
}

/* ---- fwd_bwd_xx_sum_f32_4 ------------------------------------------------------ */
static void run_fwd_bwd(void *arg) {
    tg_tensor *x = arg;
    tg_scope_begin();
    tg_tensor *loss = tg_sum(tg_mul(x, x), 0, NULL, false);
    if (!loss) die("sum(x*x)");
    check_ok(tg_backward(loss, NULL), "tg_backward");
    if (!tg_grad(x)) die("tg_grad");
    tg_zero_grad(x);
    tg_scope_end();
}

/* ---- mlp_step_f32_b128 ------------------------------------------------------------ */
#define MLP_BATCH 128
#define MLP_LAYERS 3
static const int64_t mlp_width[MLP_LAYERS + 1] = {784, 256, 256, 10};

typedef struct mlp {
    tg_tensor *x, *y;                   /* batch x 784, batch x 10 */
    tg_tensor *param[2 * MLP_LAYERS];   /* W1 (784x256), b1 (256), W2, b2, W3, b3 */
    double loss;                        /* of the last step */
} mlp;

static void mlp_init(mlp *m) {
    int64_t xs[2] = {MLP_BATCH, mlp_width[0]}, ys[2] = {MLP_BATCH, mlp_width[MLP_LAYERS]};
    m->x = bench_tensor(1, 2, xs, 1.0);
    m->y = bench_tensor(2, 2, ys, 1.0);
    for (int l = 0; l < MLP_LAYERS; l++) {
        /* PyTorch's nn.Linear range, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
        double bound = 1.0 / sqrt((double)mlp_width[l]);
        int64_t ws[2] = {mlp_width[l], mlp_width[l + 1]};
        m->param[2 * l] = bench_tensor(3 + 2 * (uint32_t)l, 2, ws, bound);
        m->param[2 * l + 1] = bench_tensor(4 + 2 * (uint32_t)l, 1, &ws[1], bound);
    }
    for (int p = 0; p < 2 * MLP_LAYERS; p++) check_ok(tg_set_requires_grad(m->param[p], true), "requires_grad");
    m->loss = NAN;
}

static void mlp_free(mlp *m) {
    tg_release(m->x);
    tg_release(m->y);
    for (int p = 0; p < 2 * MLP_LAYERS; p++) tg_release(m->param[p]);
}

/* One training step's gradient work: zero the gradients, forward, backward.
 * Everything the step makes (activations, graph, loss) dies at scope_end; the
 * gradients live on the parameters until the next step zeroes them. */
static void run_mlp_step(void *arg) {
    mlp *m = arg;
    for (int p = 0; p < 2 * MLP_LAYERS; p++) tg_zero_grad(m->param[p]);
    tg_scope_begin();
    tg_tensor *h = m->x;
    for (int l = 0; l < MLP_LAYERS; l++) {
        h = tg_add(tg_matmul(h, m->param[2 * l]), m->param[2 * l + 1]);   /* bias broadcast over rows */
        if (l + 1 < MLP_LAYERS) h = tg_relu(h);
    }
    tg_tensor *loss = tg_mean(tg_square(tg_sub(h, m->y)), 0, NULL, false);
    if (!loss) die("mlp forward");
    check_ok(tg_backward(loss, NULL), "tg_backward");
    m->loss = tg_item_f64(loss);
    tg_scope_end();
}

/* Loss and the 6 gradients of one step, as raw f32, for baseline.py's check. */
static void mlp_dump(mlp *m, const char *path) {
    run_mlp_step(m);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    float loss = (float)m->loss;
    size_t ok = fwrite(&loss, sizeof loss, 1, f) == 1;
    for (int p = 0; p < 2 * MLP_LAYERS; p++) {
        tg_tensor *g = check(tg_grad(m->param[p]), "tg_grad");
        size_t n = (size_t)tg_numel(g);
        float *buf = malloc(n * sizeof *buf);
        if (!buf) { fprintf(stderr, "bench_autodiff: out of memory\n"); exit(1); }
        check_ok(tg_copy_to(g, buf, n * sizeof *buf), "tg_copy_to");
        ok = ok && fwrite(buf, sizeof *buf, n, f) == n;
        free(buf);
    }
    if (fclose(f) != 0 || !ok) { perror(path); exit(1); }
    fprintf(stderr, "  mlp check: tangent loss %.7g, gradients in %s\n", m->loss, path);
}

/* ---- the same step compiled: value_and_grad traced once, run per step ------------- */
static tg_status mlp_loss_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;                          /* in: x, y, W1, b1, W2, b2, W3, b3 */
    tg_tensor *h = in[0];
    for (int l = 0; l < MLP_LAYERS; l++) {
        h = tg_add(tg_matmul(h, in[2 + 2 * l]), in[3 + 2 * l]);
        if (l + 1 < MLP_LAYERS) h = tg_relu(h);
    }
    out[0] = tg_mean(tg_square(tg_sub(h, in[1])), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

typedef struct { mlp *m; tg_program *p; tg_tensor *in[2 + 2 * MLP_LAYERS]; } traced_mlp;

static void traced_mlp_init(traced_mlp *t, mlp *m) {
    tg_spec specs[2 + 2 * MLP_LAYERS] = {{TG_F32, "B, 784"}, {TG_F32, "B, 10"}, {TG_F32, "784, 256"},
                                         {TG_F32, "256"}, {TG_F32, "256, 256"}, {TG_F32, "256"},
                                         {TG_F32, "256, 10"}, {TG_F32, "10"}};
    tg_graph *g = tg_trace(mlp_loss_fn, NULL, 2 + 2 * MLP_LAYERS, specs, 1);
    int args[2 * MLP_LAYERS] = {2, 3, 4, 5, 6, 7};
    tg_graph *vg = g ? tg_graph_value_and_grad(g, 2 * MLP_LAYERS, args) : NULL;
    t->p = vg ? tg_compile(vg, NULL) : NULL;
    if (!t->p) die("tracing the mlp");
    tg_graph_free(vg);
    tg_graph_free(g);
    t->m = m;
    t->in[0] = m->x;
    t->in[1] = m->y;
    for (int k = 0; k < 2 * MLP_LAYERS; k++) t->in[2 + k] = tg_detach(m->param[k]);
}

static void traced_mlp_free(traced_mlp *t) {
    for (int k = 0; k < 2 * MLP_LAYERS; k++) tg_release(t->in[2 + k]);
    tg_program_free(t->p);
}

static void run_traced_mlp_step(void *arg) {
    traced_mlp *t = arg;
    tg_tensor *out[1 + 2 * MLP_LAYERS];
    check_ok(tg_run(t->p, t->in, out), "tg_run");
    for (int k = 0; k < 1 + 2 * MLP_LAYERS; k++) tg_release(out[k]);
}

/* ---- driver -------------------------------------------------------------------- */
static void emit_impl(const char *name, const char *impl, int threads, double ns, int samples) {
    printf("{\"suite\": \"autodiff\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ns\": %.1f}\n",
           name, impl, threads, ns);
    fflush(stdout);
    fprintf(stderr, "  %-26s %-15s %dT  %14.1f ns  (%d samples)\n", name, impl, threads, ns, samples);
}

static void time_impl(const char *name, const char *impl, bench_fn fn, void *arg, int threads, double per) {
    double med;
    int n;
    bench_measure(1, &fn, arg, &med, &n);
    emit_impl(name, impl, threads, med / per, n);
}

static void time_case(const char *name, bench_fn fn, void *arg, int threads) {
    time_impl(name, "tangent", fn, arg, threads, 1.0);
}

static void usage(void) {
    fprintf(stderr, "usage: bench_autodiff [--threads N] [--large-only] [--filter SUBSTRING] [--dump-grads PATH]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int threads = 1, large_only = 0;
    const char *filter = NULL, *dump = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--large-only")) large_only = 1;
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "--dump-grads") && i + 1 < argc) dump = argv[++i];
        else usage();
    }
    if (threads < 1) usage();
    tg_set_num_threads(threads);
    fprintf(stderr, "bench_autodiff: Tangent %s, %d thread(s)\n", tg_version(), tg_get_num_threads());
#define SELECTED(nm, tiny) (!(large_only && (tiny)) && (!filter || strstr(nm, filter)))

    if (SELECTED("tape_add_f32_1", 1)) {
        int64_t one = 1;
        tg_tensor *a = bench_tensor(5, 1, &one, 1.0);
        check_ok(tg_set_requires_grad(a, true), "requires_grad");
        time_case("tape_add_f32_1", run_tape_add, a, threads);
        tg_release(a);
    }
    if (SELECTED("fwd_bwd_xx_sum_f32_4", 1)) {
        int64_t four = 4;
        tg_tensor *x = bench_tensor(6, 1, &four, 1.0);
        check_ok(tg_set_requires_grad(x, true), "requires_grad");
        time_case("fwd_bwd_xx_sum_f32_4", run_fwd_bwd, x, threads);
        tg_release(x);
    }
    if (SELECTED("mlp_step_f32_b128", 0)) {
        mlp m;
        mlp_init(&m);
        time_case("mlp_step_f32_b128", run_mlp_step, &m, threads);
        traced_mlp t;
        traced_mlp_init(&t, &m);
        time_impl("mlp_step_f32_b128", "tangent-traced", run_traced_mlp_step, &t, threads, 1.0);
        traced_mlp_free(&t);
        if (dump) mlp_dump(&m, dump);
        mlp_free(&m);
    }
    if (SELECTED("node_add_f32_1", 1)) {
        int64_t one = 1;
        bench_chain c = {bench_tensor(7, 1, &one, 1.0), bench_tensor(8, 1, &one, 1.0), NULL};
        if (bench_chain_compile(&c)) die("tracing the chain");
        /* per node: a chain of BENCH_CHAIN dependent 1-element adds */
        time_impl("node_add_f32_1", "tangent", bench_chain_eager, &c, threads, BENCH_CHAIN);
        time_impl("node_add_f32_1", "tangent-traced", bench_chain_compiled, &c, threads, BENCH_CHAIN);
        tg_program_free(c.p);
        tg_release(c.a);
        tg_release(c.b);
    }
    return 0;
}
