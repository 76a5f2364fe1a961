/* Fused linear + bias + ReLU (tg_nn_linear, one GEMM then one epilogue pass)
 * against the unfused chain relu(add(matmul(x, mT(w)), b)), at the shapes of
 * the CNN's classifier head, f32:
 *
 *   fc1  x (250, 3136)  w (1024, 3136)  b (1024)
 *   fc2  x (250, 1024)  w (10, 1024)    b (10)
 *
 * Cases per shape: forward only (one scope per call), and forward + backward
 * (x, w, b require grad; backward with a ones seed; gradients dropped each
 * call). Both implementations are sampled side by side (timing.h).
 *
 *   bench_nn_linear [--threads N]
 *
 * Prints one JSON object per measurement on stdout (DESIGN.md section 9):
 *   {"suite": "nn", "case": "...", "impl": "tangent|tangent-unfused", "threads": N, "median_ns": ...}
 */
#include "timing.h"

#include <tangent/tensor.h>
#include <tangent/autodiff.h>
#include <tangent/nn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    tg_tensor *x, *w, *b, *seed;
    bool backward;
} lin_case;

static void die(const char *what) {
    fprintf(stderr, "bench_nn_linear: %s failed: %s\n", what, tg_last_error());
    exit(1);
}

static void run(lin_case *c, bool fused) {
    tg_scope_begin();
    tg_tensor *y = fused ? tg_nn_linear(c->x, c->w, c->b, TG_ACT_RELU)
                         : tg_relu(tg_add(tg_matmul(c->x, tg_mT(c->w)), c->b));
    if (!y) die("forward");
    if (c->backward) {
        tg_backward_opts o = {.seed = c->seed};
        if (tg_backward(y, &o)) die("backward");
        tg_zero_grad(c->x);
        tg_zero_grad(c->w);
        tg_zero_grad(c->b);
    }
    tg_scope_end();
}
static void run_fused(void *arg) { run(arg, true); }
static void run_unfused(void *arg) { run(arg, false); }

int main(int argc, char **argv) {
    int threads = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else { fprintf(stderr, "usage: bench_nn_linear [--threads N]\n"); return 2; }
    }
    tg_set_num_threads(threads);
    tg_manual_seed(1);
    const int64_t shapes[2][3] = {{250, 3136, 1024}, {250, 1024, 10}};
    for (int s = 0; s < 2; s++) {
        int64_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        lin_case c = {tg_randn(TG_F32, 2, (int64_t[]){m, k}), tg_mul_scalar(tg_randn(TG_F32, 2, (int64_t[]){n, k}), 0.02),
                      tg_randn(TG_F32, 1, (int64_t[]){n}), tg_ones(TG_F32, 2, (int64_t[]){m, n}), false};
        if (!c.x || !c.w || !c.b || !c.seed) die("inputs");
        for (int bw = 0; bw < 2; bw++) {
            c.backward = bw;
            tg_set_requires_grad(c.x, bw);
            tg_set_requires_grad(c.w, bw);
            tg_set_requires_grad(c.b, bw);
            bench_fn fns[2] = {run_fused, run_unfused};
            double med[2];
            int ns;
            bench_measure(2, fns, &c, med, &ns);
            char name[96];
            snprintf(name, sizeof name, "linear_relu_%s_f32_%lldx%lldx%lld", bw ? "fwd_bwd" : "fwd", (long long)m,
                     (long long)k, (long long)n);
            const char *impl[2] = {"tangent", "tangent-unfused"};
            for (int i = 0; i < 2; i++)
                printf("{\"suite\": \"nn\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ns\": %.1f}\n",
                       name, impl[i], threads, med[i]);
            fprintf(stderr, "%-40s fused %10.1f us  unfused %10.1f us  ratio %.3f  (%d samples)\n", name,
                    med[0] / 1e3, med[1] / 1e3, med[1] / med[0], ns);
        }
        tg_release(c.x);
        tg_release(c.w);
        tg_release(c.b);
        tg_release(c.seed);
    }
    return 0;
}
