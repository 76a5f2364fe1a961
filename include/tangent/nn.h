/* Neural-network building blocks (DESIGN.md section 6, nn/): layer ops in
 * NCHW layout with derivative rules like every other op, losses,
 * optimisers, and the data helpers a training loop needs. */
#ifndef TANGENT_NN_H
#define TANGENT_NN_H
#include "tangent/tensor.h"
#ifdef __cplusplus
extern "C" {
#endif

/* ---- convolution and pooling (NCHW) ------------------------------------- */
/* Zero-initialised (or NULL) means PyTorch's defaults: stride 1, padding 0,
 * dilation 1, groups 1. Output size per spatial axis:
 * floor((H + 2 padding - dilation (k - 1) - 1) / stride) + 1.
 * exact: the shape-safe rule: the stride must divide
 * H + 2 padding - dilation (k - 1) - 1 exactly, else TG_ERR_SHAPE (at trace
 * time for symbolic sizes). */
typedef struct tg_conv2d_opts {
    int64_t stride[2], padding[2], dilation[2];
    int64_t groups;
    bool exact;
} tg_conv2d_opts;
/* torch.nn.functional.unfold (im2col): x (N, C, H, W) -> (N, C kh kw, L),
 * L = out_h out_w, rows ordered (c, i, j). groups is ignored. */
tg_tensor *tg_nn_unfold(tg_tensor *x, int64_t kh, int64_t kw, const tg_conv2d_opts *opts);
/* torch.nn.functional.conv2d: x (N, C, H, W), w (O, C / groups, kh, kw),
 * bias (O) or NULL -> (N, O, out_h, out_w). Computed as unfold + matmul. */
tg_tensor *tg_nn_conv2d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_conv2d_opts *opts);

/* stride 0 means the kernel size (PyTorch's default); padding at most half
 * the kernel; exact as for conv2d. */
typedef struct tg_pool2d_opts {
    int64_t kernel[2], stride[2], padding[2];
    bool exact;
} tg_pool2d_opts;
/* torch.nn.functional.max_pool2d (padding counts as -inf; the gradient goes
 * to the first maximum of each window) and avg_pool2d (count_include_pad). */
tg_tensor *tg_nn_max_pool2d(tg_tensor *x, const tg_pool2d_opts *opts);
tg_tensor *tg_nn_avg_pool2d(tg_tensor *x, const tg_pool2d_opts *opts);

/* ---- activations, linear, losses ------------------------------------------ */
tg_tensor *tg_nn_softmax(tg_tensor *x, int axis);
tg_tensor *tg_nn_log_softmax(tg_tensor *x, int axis);
typedef enum { TG_ACT_NONE, TG_ACT_RELU } tg_activation;
/* torch.nn.functional.linear plus an activation: act(x W^T + b), x (..., in),
 * w (out, in), b (out) or NULL. TG_ACT_RELU runs as one fused pass over the
 * GEMM result (bias and ReLU in the same sweep). */
tg_tensor *tg_nn_linear(tg_tensor *x, tg_tensor *w, tg_tensor *b, tg_activation act);
/* torch.nn.functional.cross_entropy from logits (N, C) and integer class
 * labels (N) (i32 or i64, each in [0, C), else TG_ERR_ARG naming the first
 * bad label). reduction: "mean" (NULL), "sum" or "none" (-> (N)). */
tg_tensor *tg_nn_cross_entropy(tg_tensor *logits, tg_tensor *labels, const char *reduction);
/* Inverted dropout: in training, zeroes each element with probability p
 * (tg_manual_seed's stream) and scales the rest by 1 / (1 - p); otherwise, or
 * with p = 0, returns x. p outside [0, 1): TG_ERR_ARG. */
tg_tensor *tg_nn_dropout(tg_tensor *x, double p, bool training);

/* ---- optimisers ----------------------------------------------------------- */
/* Update parameters in place without recording on the tape. The optimiser
 * holds references to the parameters and its state (momentum, moments). */
typedef struct tg_optimizer tg_optimizer;
/* SGD with momentum (PyTorch's: v = mu v + g (+ wd p); p -= lr v). */
tg_optimizer *tg_optim_sgd(int n, tg_tensor *const *params, double lr, double momentum, double weight_decay);
/* Adam with bias correction (PyTorch's defaults: 0.9, 0.999, 1e-8). */
tg_optimizer *tg_optim_adam(int n, tg_tensor *const *params, double lr, double beta1, double beta2, double eps);
/* One step from the parameters' accumulated gradients (tg_grad; a parameter
 * without one is skipped), or from grads[i] (e.g. a compiled program's
 * gradients) when grads is non-NULL. */
tg_status     tg_optim_step(tg_optimizer *o, tg_tensor *const *grads);
tg_status     tg_optim_zero_grad(tg_optimizer *o);
void          tg_optim_free(tg_optimizer *o);

/* ---- data ------------------------------------------------------------------- */
/* Reads an IDX file (the MNIST format), gzip-compressed or not: magic number,
 * dimensions and size are validated; a missing, truncated or corrupt file
 * is TG_ERR_IO naming the file and what is wrong. Unsigned and
 * signed bytes, shorts and ints load as i32, floats as f32, doubles as f64. */
tg_tensor *tg_load_idx(const char *path);

/* Mini-batches of (x, y) along axis 0, reshuffled each epoch with the
 * library's RNG (seeded per loader), the last batch possibly smaller. With
 * prefetch, a background thread prepares the next batch while the caller
 * trains on the current one. */
typedef struct tg_dataloader tg_dataloader;
tg_dataloader *tg_dataloader_new(tg_tensor *x, tg_tensor *y, int64_t batch, bool shuffle, uint64_t seed, bool prefetch);
/* The next batch of this epoch into *x and *y (new references) and true;
 * false (nothing stored) at the end of an epoch: the next call starts a new,
 * reshuffled epoch. */
bool           tg_dataloader_next(tg_dataloader *dl, tg_tensor **x, tg_tensor **y);
int64_t        tg_dataloader_batches(const tg_dataloader *dl);   /* per epoch */
void           tg_dataloader_free(tg_dataloader *dl);

#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_NN_H
#include "tangent/location.h"
#endif
