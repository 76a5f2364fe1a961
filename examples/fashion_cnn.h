/* The CNN of examples/fashion_mnist.c (the shape-safe Rust MNIST paper's
 * model), shared with bench/bench_cnn.c: parameters, their shapes, the
 * forward pass and the loss, one definition for eager and traced mode. */
#ifndef FASHION_CNN_H
#define FASHION_CNN_H
#include <tangent/tangent.h>

#include <math.h>

enum { N_PARAMS = 8, BATCH = 250, CLASSES = 10 };
static const int64_t param_shapes[N_PARAMS][4] = {{32, 1, 5, 5}, {32}, {64, 32, 5, 5}, {64}, {1024, 3136}, {1024},
                                                  {10, 1024},    {10}};
static const int param_ndim[N_PARAMS] = {4, 1, 4, 1, 2, 1, 2, 1};
static const char *const param_specs[N_PARAMS] = {"32, 1, 5, 5", "32", "64, 32, 5, 5", "64", "1024, 3136", "1024",
                                                  "10, 1024",    "10"};

static inline tg_tensor *cnn_logits(tg_tensor *x, tg_tensor *const *p) {
    const tg_conv2d_opts conv = {.padding = {2, 2}, .exact = true};
    const tg_pool2d_opts pool = {.kernel = {2, 2}, .exact = true};
    tg_tensor *h = tg_nn_max_pool2d(tg_relu(tg_nn_conv2d(x, p[0], p[1], &conv)), &pool);   /* (N, 32, 14, 14) */
    h = tg_nn_max_pool2d(tg_relu(tg_nn_conv2d(h, p[2], p[3], &conv)), &pool);              /* (N, 64, 7, 7) */
    h = tg_reshape(h, 2, (int64_t[]){-1, 3136});                                            /* flatten */
    h = tg_nn_linear(h, p[4], p[5], TG_ACT_RELU);
    return tg_nn_linear(h, p[6], p[7], TG_ACT_NONE);
}

/* in: images (N, 1, 28, 28) f32, labels (N) i64, then the 8 parameters. */
static inline tg_status cnn_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_nn_cross_entropy(cnn_logits(in[0], in + 2), in[1], "mean");
    return out[0] ? TG_OK : tg_last_error_code();
}

/* PyTorch's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the
 * tensors belong to the current scope. false when out of memory. */
static inline bool cnn_init_params(tg_tensor **p) {
    static const double fan_in[N_PARAMS] = {25, 25, 800, 800, 3136, 3136, 1024, 1024};
    for (int i = 0; i < N_PARAMS; i++) {
        double bound = 1.0 / sqrt(fan_in[i]);
        p[i] = tg_sub_scalar(tg_mul_scalar(tg_rand(TG_F32, param_ndim[i], param_shapes[i]), 2 * bound), bound);
        if (!p[i]) return false;
    }
    return true;
}

/* The training step traced once with a symbolic batch N, as value-and-grad
 * over the 8 parameters: outputs loss, then the gradients. */
static inline tg_graph *cnn_trace_step(void) {
    tg_spec specs[2 + N_PARAMS] = {{TG_F32, "N, 1, 28, 28"}, {TG_I64, "N"}};
    for (int i = 0; i < N_PARAMS; i++) specs[2 + i] = (tg_spec){TG_F32, param_specs[i]};
    tg_graph *g = tg_trace(cnn_loss, NULL, 2 + N_PARAMS, specs, 1);
    if (!g) return NULL;
    int argnums[N_PARAMS];
    for (int i = 0; i < N_PARAMS; i++) argnums[i] = 2 + i;
    tg_graph *vg = tg_graph_value_and_grad(g, N_PARAMS, argnums);
    tg_graph_free(g);
    return vg;
}

#endif
