/* Shared by nn/unfold.c, nn/conv.c and nn/pool.c: the sliding-window
 * geometry (PyTorch's output-size rule, checked on plain and symbolic sizes)
 * and the im2col op conv2d and avg_pool2d are built on. */
#ifndef TG_NN_CONV_INTERNAL_H
#define TG_NN_CONV_INTERNAL_H

#include "tangent/nn.h"
#include "tensor/registry.h"

/* One 2-d window: kernel, stride, padding, dilation per spatial axis. */
typedef struct tg_nn_win {
    int64_t k[2], s[2], p[2], d[2];
    bool exact;
} tg_nn_win;

/* Output size of one spatial axis, floor((in + 2p - d(k-1) - 1) / s) + 1,
 * for a plain or symbolic in. Checks k >= 1, s >= 1, d >= 1, p >= 0, that
 * the dilated kernel fits the padded input (recorded for tg_run when in is
 * symbolic) and, with exact, that s divides in + 2p - d(k-1) - 1 (provably,
 * for a symbolic in). Errors are TG_ERR_SHAPE, through tg__op_error(c) when
 * c is given, else tg__error prefixed with fn. */
tg_status tg__nn_window_size(const tg_op_call *c, const char *fn, int axis, int64_t in, const tg_nn_win *w,
                             int64_t *out);

/* im2col of x (N, C, H, W) with window w: (N, C kh kw, L), rows ordered
 * (c, i, j) as torch.nn.functional.unfold, L = out_h out_w. Differentiable
 * (its adjoint is col2im, and col2im's is im2col). */
tg_tensor *tg__nn_im2col(tg_tensor *x, const tg_nn_win *w);

/* Fills a window from public options, applying PyTorch's defaults. */
void tg__nn_win_from_conv(tg_nn_win *w, int64_t kh, int64_t kw, const tg_conv2d_opts *o);

#endif
