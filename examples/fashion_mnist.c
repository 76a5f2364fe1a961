/* Fashion-MNIST, end to end: the shape-safe CNN of the Rust MNIST paper in C.
 *
 * One model definition (cnn_loss) trains two ways: eager (tg_backward each
 * step) and traced (traced once with a symbolic batch "N", turned into
 * value-and-grad, compiled once; the last, smaller batch reuses the program).
 * Then: test accuracy per epoch, a confusion matrix, and the parameters saved
 * to a safetensors file and reloaded, with identical predictions.
 *
 *   fashion_mnist [--epochs N] [--mode eager|traced|both] [--limit IMAGES]
 *                 [--data DIR] [--save FILE] [--threads N] [--device cpu|vulkan[:I]]
 *                 [--test-limit IMAGES]
 *
 * Defaults: one traced epoch over the full training set plus a short eager
 * run (--limit sets its size; with --mode traced it limits the traced
 * training set, and a count like 5100 ends each epoch with a batch of 100
 * on the same compiled program); `--epochs 8 --mode traced` is the full
 * training. Model: conv 5x5 32 (pad 2) -> ReLU -> maxpool 2 -> conv 5x5 64
 * (pad 2) -> ReLU -> maxpool 2 -> flatten 3136 -> linear 1024 + ReLU (fused)
 * -> linear 10; cross-entropy; Adam lr 1e-3; batch 250.
 *
 * --device vulkan (or vulkan:I) trains on a Vulkan GPU: the parameters are
 * moved there once (after the same CPU initialisation), each batch is
 * copied there, and the step runs there (eager: ops and tg_backward;
 * traced: tg_run given device inputs), and tg_optim_adam updates the
 * parameters where they live. Predictions move the logits back
 * to the CPU for the argmax; the parameters are copied back to be saved.
 * --test-limit evaluates on the first IMAGES test images only (all 10000
 * by default; a CPU Vulkan driver such as lavapipe takes minutes for them). */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime, fileno */
#include <tangent/tangent.h>

#include "fashion_cnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const cnn_param_names[N_PARAMS] = {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                                  "fc1.weight",   "fc1.bias",   "fc2.weight",   "fc2.bias"};
static const char *const cnn_class_names[CLASSES] = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",  "Shirt",   "Sneaker",  "Bag",   "Boot"};

static void die(const char *what) {
    fprintf(stderr, "fashion_mnist: %s: %s\n", what, tg_last_error());
    exit(1);
}

/* Where the model trains (--device); the CPU unless asked. */
static tg_device device = {TG_CPU, 0};
static bool on_gpu(void) { return device.kind != TG_CPU; }
/* t on the training device (t itself, retained, on the CPU run): belongs to the scope. */
static tg_tensor *to_dev(tg_tensor *t) {
    tg_tensor *r = tg_to_device(t, device);
    if (!r) die("moving a tensor to the device");
    return r;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- data ------------------------------------------------------------------- */
typedef struct {
    tg_tensor *x, *y;   /* (N, 1, 28, 28) f32 in [0, 1], (N) i64 */
} dataset;

static dataset load_split(const char *dir, const char *split, int64_t limit) {
    char ip[1024], lp[1024];
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    tg_scope_begin();
    tg_tensor *img = tg_load_idx(ip), *lab = tg_load_idx(lp);
    if (!img || !lab) die("loading the data (install Debian's dataset-fashion-mnist or pass --data DIR)");
    int64_t n = tg_shape(img)[0];
    if (limit > 0 && limit < n) {
        img = tg_slice(img, 0, 0, limit, 1);
        lab = tg_slice(lab, 0, 0, limit, 1);
        n = limit;
    }
    dataset d;
    d.x = tg_keep(tg_contiguous(tg_reshape(tg_div_scalar(tg_cast(img, TG_F32), 255.0), 4, (int64_t[]){n, 1, 28, 28})));
    d.y = tg_keep(tg_cast(lab, TG_I64));
    if (!d.x || !d.y) die("preparing the data");
    tg_scope_end();
    return d;
}

/* ---- progress --------------------------------------------------------------- */
static void progress(const char *mode, int epoch, int64_t done, int64_t total, double images, double secs, double loss) {
    static const int width = 30;
    int fill = (int)(width * done / total);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    bool tty = isatty(fileno(stdout));
    /* on a terminal redraw one line; in a log print every quarter */
    if (!tty && done != total && (done * 4 / total) == ((done - 1) * 4 / total)) return;
    printf("%s%-6s epoch %d [%s] %4lld/%lld  %6.0f img/s  loss %.4f%s", tty ? "\r" : "", mode, epoch, bar,
           (long long)done, (long long)total, images / secs, loss, tty && done != total ? "" : "\n");
    fflush(stdout);
}

/* ---- evaluation --------------------------------------------------------------- */
/* Predicted classes (N) i64, batch by batch, no tape. */
static tg_tensor *predict(tg_tensor *const *p, const dataset *d) {
    int64_t n = tg_shape(d->x)[0];
    tg_tensor *pred = tg_zeros(TG_I64, 1, &n);      /* the caller's scope owns it */
    tg_no_grad_begin();
    for (int64_t s = 0; s < n; s += 1000) {
        tg_scope_begin();
        int64_t e = s + 1000 < n ? s + 1000 : n;
        tg_tensor *logits = cnn_logits(to_dev(tg_slice(d->x, 0, s, e, 1)), p);
        if (on_gpu() && logits) logits = tg_to_device(logits, (tg_device){TG_CPU, 0});
        tg_tensor *cls = tg_argmax(logits, 1, false);
        if (!cls || tg_copy_(tg_slice(pred, 0, s, e, 1), cls) != TG_OK) die("predict");
        tg_scope_end();
    }
    tg_no_grad_end();
    return pred;
}

static double accuracy(tg_tensor *pred, const dataset *d) {
    tg_scope_begin();
    double acc = tg_item_f64(tg_mean(tg_cast(tg_eq(pred, d->y), TG_F64), 0, NULL, false));
    tg_scope_end();
    return acc;
}

static void confusion(tg_tensor *pred, const dataset *d) {
    int64_t n = tg_shape(pred)[0];
    const int64_t *pp = tg_data(pred), *yy = tg_data(d->y);
    int64_t m[CLASSES][CLASSES] = {{0}};
    for (int64_t i = 0; i < n; i++) m[yy[i]][pp[i]]++;
    printf("\nconfusion matrix (rows: true class, columns: predicted)\n%10s", "");
    for (int j = 0; j < CLASSES; j++) printf(" %5.5s", cnn_class_names[j]);
    printf("\n");
    for (int i = 0; i < CLASSES; i++) {
        printf("%10s", cnn_class_names[i]);
        for (int j = 0; j < CLASSES; j++) printf(" %5lld", (long long)m[i][j]);
        printf("\n");
    }
}

/* ---- training ----------------------------------------------------------------- */
static void train_epoch_eager(tg_tensor **p, tg_optimizer *opt, tg_dataloader *dl, int epoch) {
    int64_t total = tg_dataloader_batches(dl), done = 0;
    double t0 = now_s(), images = 0;
    tg_tensor *x, *y;
    /* the batches belong to the scope they are handed to: one per step */
    for (tg_scope_begin(); tg_dataloader_next(dl, &x, &y); tg_scope_begin()) {
        tg_tensor *in[2 + N_PARAMS] = {to_dev(x), to_dev(y)};
        memcpy(in + 2, p, sizeof(tg_tensor *) * N_PARAMS);
        tg_tensor *loss;
        if (cnn_loss(NULL, in, &loss) != TG_OK) die("eager forward");
        if (tg_backward(loss, NULL) != TG_OK) die("backward");
        if (tg_optim_step(opt, NULL) != TG_OK || tg_optim_zero_grad(opt) != TG_OK) die("optimizer step");
        images += (double)tg_shape(x)[0];
        progress("eager", epoch, ++done, total, images, now_s() - t0, tg_item_f64(loss));
        tg_scope_end();
    }
    tg_scope_end();      /* the scope of the call that found the epoch's end */
}

static tg_program *compile_step(void) {
    double t0 = now_s();
    tg_graph *vg = cnn_trace_step();
    if (!vg) die("trace");
    tg_program *prog = tg_compile(vg, NULL);
    if (!prog) die("compile");
    printf("traced the step once with batch N symbolic (value_and_grad: %d nodes), compiled in %.0f ms\n",
           tg_graph_num_nodes(vg), 1e3 * (now_s() - t0));
    tg_graph_free(vg);
    return prog;
}

static void train_epoch_traced(tg_program *prog, tg_tensor **p, tg_optimizer *opt, tg_dataloader *dl, int epoch) {
    int64_t total = tg_dataloader_batches(dl), done = 0;
    double t0 = now_s(), images = 0;
    tg_tensor *x, *y;
    /* the batches belong to the scope they are handed to: one per step */
    for (tg_scope_begin(); tg_dataloader_next(dl, &x, &y); tg_scope_begin()) {
        tg_tensor *in[2 + N_PARAMS] = {to_dev(x), to_dev(y)}, *out[1 + N_PARAMS];
        memcpy(in + 2, p, sizeof(tg_tensor *) * N_PARAMS);
        if (tg_run(prog, in, out) != TG_OK) die("run");
        if (tg_optim_step(opt, out + 1) != TG_OK) die("optimizer step");
        images += (double)tg_shape(x)[0];
        progress("traced", epoch, ++done, total, images, now_s() - t0, tg_item_f64(out[0]));
        for (int i = 0; i < 1 + N_PARAMS; i++) tg_release(out[i]);
        tg_scope_end();
    }
    tg_scope_end();      /* the scope of the call that found the epoch's end */
}

static void train(const char *mode, int epochs, const dataset *train_set, const dataset *test_set, tg_tensor **p) {
    bool traced = !strcmp(mode, "traced");
    tg_optimizer *opt = tg_optim_adam(N_PARAMS, p, 1e-3, 0.9, 0.999, 1e-8);
    tg_dataloader *dl = tg_dataloader_new(train_set->x, train_set->y, BATCH, true, 7, true);
    if (!opt || !dl) die("optimizer / data loader");
    tg_program *prog = traced ? compile_step() : NULL;
    for (int e = 1; e <= epochs; e++) {
        if (traced) train_epoch_traced(prog, p, opt, dl, e);
        else train_epoch_eager(p, opt, dl, e);
        tg_scope_begin();
        printf("%-6s epoch %d: test accuracy %.2f%%\n", mode, e, 100 * accuracy(predict(p, test_set), test_set));
        tg_scope_end();
    }
    if (prog) {
        /* The same program on another batch size (N = 100 test images): the
         * sizes bind anew, nothing is traced or compiled again. */
        int64_t compiles0, compiles, bindings;
        tg_program_stats(prog, &compiles0, NULL);
        tg_scope_begin();
        tg_tensor *in[2 + N_PARAMS] = {to_dev(tg_slice(test_set->x, 0, 0, 100, 1)),
                                       to_dev(tg_slice(test_set->y, 0, 0, 100, 1))};
        tg_tensor *out[1 + N_PARAMS];
        memcpy(in + 2, p, sizeof(tg_tensor *) * N_PARAMS);
        if (tg_run(prog, in, out) != TG_OK) die("run on 100 images");
        tg_program_stats(prog, &compiles, &bindings);
        printf("traced: the step program on a batch of 100 test images: loss %.4f; %lld batch sizes ran on it, "
               "%lld compiles since\n", tg_item_f64(out[0]), (long long)bindings, (long long)(compiles - compiles0));
        for (int i = 0; i < 1 + N_PARAMS; i++) tg_release(out[i]);
        tg_scope_end();
        tg_program_free(prog);
    }
    tg_dataloader_free(dl);
    tg_optim_free(opt);
}

int main(int argc, char **argv) {
    int epochs = 1, threads = 0;
    int64_t limit = 0, test_limit = 0;
    const char *mode = "both", *dir = "/usr/share/datasets/fashion-mnist", *save = "fashion_mnist.safetensors";
    const char *dev_name = "cpu";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc) mode = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--save") && i + 1 < argc) save = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) dev_name = argv[++i];
        else if (!strcmp(argv[i], "--test-limit") && i + 1 < argc) test_limit = atoll(argv[++i]);
        else {
            fprintf(stderr, "usage: fashion_mnist [--epochs N] [--mode eager|traced|both] [--limit IMAGES] "
                            "[--data DIR] [--save FILE] [--threads N] [--device cpu|vulkan[:I]] [--test-limit IMAGES]\n");
            return 2;
        }
    }
    if (epochs < 1 || (strcmp(mode, "eager") && strcmp(mode, "traced") && strcmp(mode, "both"))) {
        fprintf(stderr, "fashion_mnist: --epochs must be >= 1 and --mode eager, traced or both\n");
        return 2;
    }
    if (!strncmp(dev_name, "vulkan", 6) && (dev_name[6] == 0 || dev_name[6] == ':')) {
        device = (tg_device){TG_VULKAN, dev_name[6] ? atoi(dev_name + 7) : 0};
        int n = tg_device_count(TG_VULKAN);
        if (device.index < 0 || device.index >= n) {
            fprintf(stderr, "fashion_mnist: --device %s: %d Vulkan device(s) found\n", dev_name, n);
            return 2;
        }
    } else if (strcmp(dev_name, "cpu")) {
        fprintf(stderr, "fashion_mnist: --device must be cpu or vulkan[:I]\n");
        return 2;
    }
    if (threads > 0) tg_set_num_threads(threads);
    tg_scope_begin();
    tg_manual_seed(1);
    dataset train_set = load_split(dir, "train", 0), test_set = load_split(dir, "t10k", test_limit);
    printf("Fashion-MNIST: %lld training and %lld test images\n", (long long)tg_shape(train_set.x)[0],
           (long long)tg_shape(test_set.x)[0]);
    if (on_gpu()) printf("training on vulkan:%d\n", device.index);

    tg_tensor *p[N_PARAMS];
    if (strcmp(mode, "traced")) {   /* eager, or the short eager run of "both" */
        if (!cnn_init_params(p)) die("init");
        for (int i = 0; i < N_PARAMS; i++) p[i] = to_dev(p[i]);
        dataset part = train_set;
        int64_t n = !strcmp(mode, "both") && limit == 0 ? 5000 : limit;
        if (n > 0 && n < tg_shape(train_set.x)[0]) {
            part.x = tg_slice(train_set.x, 0, 0, n, 1);
            part.y = tg_slice(train_set.y, 0, 0, n, 1);
        }
        for (int i = 0; i < N_PARAMS; i++) tg_set_requires_grad(p[i], true);
        train("eager", !strcmp(mode, "both") ? 1 : epochs, &part, &test_set, p);
    }
    if (strcmp(mode, "eager")) {     /* traced, or the full traced run of "both" */
        if (!cnn_init_params(p)) die("init");
        for (int i = 0; i < N_PARAMS; i++) p[i] = to_dev(p[i]);
        /* --limit in traced mode: the first IMAGES training images; a count
         * that is not a multiple of the batch ends each epoch with a smaller
         * batch, which runs on the same program */
        dataset part = train_set;
        if (!strcmp(mode, "traced") && limit > 0 && limit < tg_shape(train_set.x)[0]) {
            part.x = tg_slice(train_set.x, 0, 0, limit, 1);
            part.y = tg_slice(train_set.y, 0, 0, limit, 1);
        }
        train("traced", epochs, &part, &test_set, p);
    }

    tg_tensor *pred = predict(p, &test_set);
    confusion(pred, &test_set);
    tg_tensor *host[N_PARAMS];   /* writing needs CPU tensors */
    for (int i = 0; i < N_PARAMS; i++) host[i] = on_gpu() ? tg_to_device(p[i], (tg_device){TG_CPU, 0}) : p[i];
    if (tg_save_safetensors(save, N_PARAMS, cnn_param_names, host) != TG_OK) die("save");
    tg_tensor_dict back;
    if (tg_load_safetensors(save, &back) != TG_OK || back.n != N_PARAMS) die("reload");
    tg_tensor *reloaded[N_PARAMS];
    for (int i = 0; i < N_PARAMS; i++) reloaded[i] = on_gpu() ? to_dev(back.tensors[i]) : back.tensors[i];
    tg_tensor *pred2 = predict(reloaded, &test_set);
    bool same = tg_item_f64(tg_sum(tg_cast(tg_ne(pred, pred2), TG_F64), 0, NULL, false)) == 0;
    printf("\nparameters saved to %s and reloaded: predictions %s (test accuracy %.2f%%)\n", save,
           same ? "identical" : "DIFFER", 100 * accuracy(pred2, &test_set));
    tg_tensor_dict_free(&back);
    tg_scope_end();
    return same ? 0 : 1;
}
