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

/* A window over one input plane: input and output sizes. */
typedef struct tg_nn_geom {
    int64_t H, W, oh, ow;
    tg_nn_win w;
} tg_nn_geom;

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

/* One input plane (H, W) into its kh kw rows of im2col, row r at dst + r
 * row_stride elements (es: element size, 4 or 8); and the adjoint, adding
 * the kh kw rows back onto a plane (d: TG_F32 or TG_F64). nn/unfold.c. */
/* Valid output positions [lo, hi) along one axis of n input positions
 * (stride s, padding p) for kernel offset dq = q d: those o < on with
 * 0 <= o s - p + dq < n (nn/unfold.c). */
void tg__nn_valid_range(int64_t n, int64_t s, int64_t p, int64_t dq, int64_t on, int64_t *lo, int64_t *hi);
void tg__nn_im2col_plane(const tg_nn_geom *g, int64_t es, const void *x, void *dst, int64_t row_stride);
void tg__nn_col2im_plane(const tg_nn_geom *g, tg_dtype d, const void *cols, void *plane, int64_t row_stride);

/* Flat planes (nn/conv_flat.c): with stride 1 and ow = W ("same" width),
 * each kernel row (i, j) of a plane's im2col is one run of the input plane,
 * copied through a bit mask of the line-wrap positions (masks: kw rows of
 * L = oh ow elements of size es). rows: the kh kw runs (tg__nn_flat_rows);
 * d: TG_F32 or TG_F64; row r of the columns at dst (cols) + r ld. */
enum { TG_NN_FLAT_MAX_KK = 64 };
typedef struct { int64_t ylo, yhi, xlo, xhi, base, t0, t1; } tg_nn_flat_row;
bool tg__nn_flat_geom(const tg_nn_geom *g);     /* the flat path applies (kh kw <= TG_NN_FLAT_MAX_KK) */
void tg__nn_flat_rows(const tg_nn_geom *g, tg_nn_flat_row *rows);
void tg__nn_flat_masks(const tg_nn_geom *g, const tg_nn_flat_row *rows, int64_t es, void *masks);
void tg__nn_im2col_flat(const tg_nn_geom *g, const tg_nn_flat_row *rows, const void *masks, tg_dtype d, const void *x,
                        void *dst, int64_t ld);
/* The adjoint: the rows added back onto the plane x. */
void tg__nn_col2im_flat(const tg_nn_geom *g, const tg_nn_flat_row *rows, const void *masks, tg_dtype d,
                        const void *cols, void *x, int64_t ld);

/* The f32/f64 convolution op family of nn/conv_kernels.c: y = conv(x, w)
 * (+ bias (O) when bias is not NULL), x (N, C, H, W), w (O, C / groups, kh,
 * kw), the window's kernel equal to w's. Its VJP and JVP use the input- and
 * weight-gradient ops of the same family. Shapes are checked again by the
 * op's infer (tg_nn_conv2d checks them first with its own messages). */
tg_tensor *tg__nn_conv2d_op(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_nn_win *win, int64_t groups);

#endif
