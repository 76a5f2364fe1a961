/* CNN benchmark: the Fashion-MNIST model of examples/fashion_mnist.c
 * (examples/fashion_cnn.h), eager and traced, on random batches shaped like
 * the data (timing does not depend on pixel values). PyTorch runs the same
 * cases in bench/baseline_cnn.py. Output: DESIGN.md section 9's JSON lines.
 *
 *   bench_cnn [--threads N] [--filter SUBSTRING] [--device cpu|vulkan[:I]]
 *
 * Cases (impl "tangent" = eager, "tangent-traced" = compiled program):
 *   cnn_train_step_b250  one Adam step: forward, backward (eager: tg_backward;
 *                        traced: tg_run of value_and_grad), optimizer step
 *   cnn_infer_b250       logits of 250 images (eager under tg_no_grad;
 *                        traced: a compiled logits program)
 *   cnn_infer_b1         logits of one image (latency)
 *   cnn_peak_rss         peak resident memory of the process after the
 *                        cases, in bytes (in the median_ns field)
 * Also printed on stderr: the first-run and warm tg_compile times.
 * --device vulkan runs the model on a Vulkan GPU (parameters, images and
 * labels moved there first); every call then ends with tg_synchronize, as
 * bench/baseline_cnn.py --device cuda ends each with torch.cuda.synchronize,
 * and the impls are "tangent-vulkan" and "tangent-vulkan-traced". */
#include <tangent/tangent.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../examples/fashion_cnn.h"
#include "timing.h"

typedef struct {
    tg_tensor *x, *y, *p[N_PARAMS];
    tg_optimizer *opt;
    tg_program *step, *logits;
    bool gpu;                     /* end each call with tg_synchronize */
} job;

static void sync_if(const void *arg) {
    if (((const job *)arg)->gpu && tg_synchronize() != TG_OK) {
        fprintf(stderr, "bench_cnn: tg_synchronize failed: %s\n", tg_last_error());
        exit(1);
    }
}

static void die(const char *what) {
    fprintf(stderr, "bench_cnn: %s failed: %s\n", what, tg_last_error());
    exit(1);
}

static void train_eager(void *arg) {
    job *j = arg;
    tg_scope_begin();
    tg_tensor *in[2 + N_PARAMS] = {j->x, j->y}, *loss;
    memcpy(in + 2, j->p, sizeof j->p);
    if (cnn_loss(NULL, in, &loss) != TG_OK || tg_backward(loss, NULL) != TG_OK) die("eager step");
    if (tg_optim_step(j->opt, NULL) != TG_OK || tg_optim_zero_grad(j->opt) != TG_OK) die("optimizer");
    tg_scope_end();
    sync_if(j);
}

static void train_traced(void *arg) {
    job *j = arg;
    tg_tensor *in[2 + N_PARAMS] = {j->x, j->y}, *out[1 + N_PARAMS];
    memcpy(in + 2, j->p, sizeof j->p);
    if (tg_run(j->step, in, out) != TG_OK) die("tg_run step");
    if (tg_optim_step(j->opt, out + 1) != TG_OK) die("optimizer");
    for (int i = 0; i < 1 + N_PARAMS; i++) tg_release(out[i]);
    sync_if(j);
}

static void infer_eager(void *arg) {
    job *j = arg;
    tg_scope_begin();
    tg_no_grad_begin();
    if (!cnn_logits(j->x, j->p)) die("eager logits");
    tg_no_grad_end();
    tg_scope_end();
    sync_if(j);
}

static void infer_traced(void *arg) {
    job *j = arg;
    tg_tensor *in[1 + N_PARAMS] = {j->x}, *out;
    memcpy(in + 1, j->p, sizeof j->p);
    if (tg_run(j->logits, in, &out) != TG_OK) die("tg_run logits");
    tg_release(out);
    sync_if(j);
}

static tg_status logits_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = cnn_logits(in[0], in + 1);
    return out[0] ? TG_OK : tg_last_error_code();
}

static void emit(const char *name, const char *impl, int threads, double ns, int samples) {
    printf("{\"suite\": \"cnn\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ns\": %.1f}\n", name, impl,
           threads, ns);
    fprintf(stderr, "  %-22s %-15s %dT %16.1f ns (%d samples)\n", name, impl, threads, ns, samples);
    fflush(stdout);
}

int main(int argc, char **argv) {
    int threads = 1;
    const char *filter = NULL, *device = "cpu";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
        else {
            fprintf(stderr, "usage: bench_cnn [--threads N] [--filter SUBSTRING] [--device cpu|vulkan[:I]]\n");
            return 2;
        }
    }
    tg_device dev = {TG_CPU, 0};
    if (!strncmp(device, "vulkan", 6)) {
        dev = (tg_device){TG_VULKAN, device[6] == ':' ? atoi(device + 7) : 0};
        if (dev.index >= tg_device_count(TG_VULKAN)) {
            fprintf(stderr, "bench_cnn: --device %s: %d Vulkan device(s)\n", device, tg_device_count(TG_VULKAN));
            return 2;
        }
    } else if (strcmp(device, "cpu")) {
        fprintf(stderr, "bench_cnn: --device must be cpu or vulkan[:I]\n");
        return 2;
    }
    tg_set_num_threads(threads);
    tg_scope_begin();
    tg_manual_seed(0);
    job j = {0};
    if (!cnn_init_params(j.p)) die("init");
    j.x = tg_rand(TG_F32, 4, (int64_t[]){BATCH, 1, 28, 28});
    j.y = tg_randint(TG_I64, 1, (int64_t[]){BATCH}, 0, CLASSES);
    if (dev.kind == TG_VULKAN) {
        j.gpu = true;
        j.x = tg_to_device(j.x, dev);
        j.y = tg_to_device(j.y, dev);
        for (int i = 0; i < N_PARAMS; i++) {
            j.p[i] = tg_to_device(j.p[i], dev);
            if (!j.p[i]) die("moving the parameters to the device");
        }
    }
    for (int i = 0; i < N_PARAMS; i++) tg_set_requires_grad(j.p[i], true);
    tg_tensor *x1 = tg_slice(j.x, 0, 0, 1, 1);
    j.opt = tg_optim_adam(N_PARAMS, j.p, 1e-3, 0.9, 0.999, 1e-8);
    if (!j.x || !j.y || !x1 || !j.opt) die("setup");

    double t0 = bench_now_ns();
    tg_graph *vg = cnn_trace_step();
    j.step = vg ? tg_compile(vg, NULL) : NULL;
    if (!j.step) die("trace/compile step");
    double t1 = bench_now_ns();
    tg_program *again = tg_compile(vg, NULL);
    double t2 = bench_now_ns();
    if (!again) die("second compile");
    fprintf(stderr, "  trace + value_and_grad + tg_compile of the step: %.1f ms; a second tg_compile: %.1f ms\n",
            (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    tg_program_free(again);
    tg_graph_free(vg);
    tg_spec specs[1 + N_PARAMS] = {{TG_F32, "N, 1, 28, 28"}};
    for (int i = 0; i < N_PARAMS; i++) specs[1 + i] = (tg_spec){TG_F32, param_specs[i]};
    tg_graph *lg = tg_trace(logits_fn, NULL, 1 + N_PARAMS, specs, 1);
    j.logits = lg ? tg_compile(lg, NULL) : NULL;
    if (!j.logits) die("trace/compile logits");
    tg_graph_free(lg);

    struct {
        const char *name;
        bench_fn eager, traced;
        bool one;
    } cases[] = {{"cnn_train_step_b250", train_eager, train_traced, false},
                 {"cnn_infer_b250", infer_eager, infer_traced, false},
                 {"cnn_infer_b1", infer_eager, infer_traced, true}};
    tg_tensor *full = j.x;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (filter && !strstr(cases[k].name, filter)) continue;
        j.x = cases[k].one ? x1 : full;
        bench_fn fns[2] = {cases[k].eager, cases[k].traced};
        double med[2];
        int samples;
        bench_measure(2, fns, &j, med, &samples);
        emit(cases[k].name, j.gpu ? "tangent-vulkan" : "tangent", threads, med[0], samples);
        emit(cases[k].name, j.gpu ? "tangent-vulkan-traced" : "tangent-traced", threads, med[1], samples);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    emit("cnn_peak_rss", "tangent", threads, (double)ru.ru_maxrss * 1024.0, 1);
    tg_program_free(j.step);
    tg_program_free(j.logits);
    tg_optim_free(j.opt);
    tg_scope_end();
    return 0;
}
