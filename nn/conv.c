/* nn_conv2d: torch.nn.functional.conv2d (NCHW).
 *
 * f32 and f64 (x and w of one dtype) run on the dedicated op family of
 * nn/conv_kernels.c: conv (with the bias fused when it has x's dtype),
 * conv_input_grad and conv_weight_grad, whose rules call each other, so the
 * VJP, JVP, higher orders and traced form all come from them. Chunked
 * im2col into per-thread scratch + GEMM: no whole-batch column matrix and
 * no (N, O, C kh kw) tensor for dW.
 *
 * Other dtypes (complex) keep the composite of public and internal
 * differentiable ops:
 *
 *   cols = im2col(x)                                   (N, C kh kw, L)   nn/unfold.c
 *   y    = w.reshape(O, C kh kw) @ cols                (N, O, L)
 *          (groups: w.reshape(G, O/G, C/G kh kw) @ cols.reshape(N, G, C/G kh kw, L))
 *   out  = y.reshape(N, O, oh, ow) (+ bias[:, None, None])
 *
 * The shape checks happen here, before any op runs, so they name
 * tg_nn_conv2d and fire at trace time for symbolic sizes (the ops' infer
 * functions check again, for graphs built otherwise). */
#include <stdio.h>

#include "nn/conv_internal.h"
#include "tangent/sizes.h"
#include "tensor/ops/elementwise.h"

static int64_t smul(int64_t a, int64_t b) {
    return a >= TG_SYM_BASE || b >= TG_SYM_BASE ? tg_size_mul(a, b) : a * b;
}

static bool float_dtype(tg_dtype d) { return d == TG_F32 || d == TG_F64 || d == TG_C64 || d == TG_C128; }

tg_tensor *tg_nn_conv2d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_conv2d_opts *opts) {
    static const char *fn = "tg_nn_conv2d";
    if (!x || !w) return tg__error(TG_ERR_ARG, "%s: input or weight is NULL", fn), NULL;
    char sx[200], sw[200], sb[200], t1[64], t2[64];
    tg__fmt_meta(sx, sizeof sx, x->dtype, x->ndim, x->shape);
    tg__fmt_meta(sw, sizeof sw, w->dtype, w->ndim, w->shape);
    if (x->ndim != 4 || w->ndim != 4)
        return tg__error(TG_ERR_SHAPE, "%s: x must be 4-D (N, C, H, W) and w 4-D (O, C/groups, kh, kw), got x %s, w %s",
                         fn, sx, sw), NULL;
    if (!float_dtype(x->dtype) || !float_dtype(w->dtype) || (bias && !float_dtype(bias->dtype)))
        return tg__error(TG_ERR_DTYPE, "%s: needs floating or complex operands, got x %s, w %s", fn, sx, sw), NULL;
    int64_t G = opts && opts->groups ? opts->groups : 1;
    if (G < 1) return tg__error(TG_ERR_SHAPE, "%s: groups %lld must be positive", fn, (long long)G), NULL;
    int64_t N = x->shape[0], C = x->shape[1], O = w->shape[0], Cg = w->shape[1], kh = w->shape[2], kw = w->shape[3];
    if (kh >= TG_SYM_BASE || kw >= TG_SYM_BASE || (O >= TG_SYM_BASE && G > 1))
        return tg__error(TG_ERR_SHAPE, "%s: the kernel size (and, with groups, O) must be fixed, got w %s", fn, sw),
               NULL;
    if (smul(Cg, G) != C)
        return tg__error(TG_ERR_SHAPE,
                         "%s: wrong channel count: x %s has %s channels, but w %s with groups %lld expects %s "
                         "(w.shape[1] * groups)",
                         fn, sx, tg__fmt_size(t1, sizeof t1, C), sw, (long long)G,
                         tg__fmt_size(t2, sizeof t2, smul(Cg, G))), NULL;
    if (O % G)
        return tg__error(TG_ERR_SHAPE, "%s: %lld output channels of w %s are not divisible by groups %lld", fn,
                         (long long)O, sw, (long long)G), NULL;
    if (bias && (bias->ndim != 1 || bias->shape[0] != O))
        return tg__error(TG_ERR_SHAPE, "%s: bias %s must have shape (%s,) for w %s", fn,
                         tg__fmt_meta(sb, sizeof sb, bias->dtype, bias->ndim, bias->shape),
                         tg__fmt_size(t1, sizeof t1, O), sw), NULL;
    tg_nn_win win;
    tg__nn_win_from_conv(&win, kh, kw, opts);
    int64_t oh, ow;
    if (tg__nn_window_size(NULL, fn, 0, x->shape[2], &win, &oh) ||
        tg__nn_window_size(NULL, fn, 1, x->shape[3], &win, &ow))
        return NULL;

    tg_scope_begin();
    int64_t kk = kh * kw, l = smul(oh, ow);
    tg_tensor *y;
    bool fused_bias = false;
    if (x->dtype == w->dtype && (x->dtype == TG_F32 || x->dtype == TG_F64)) {
        fused_bias = bias && bias->dtype == x->dtype;
        y = tg__nn_conv2d_op(x, w, fused_bias ? bias : NULL, &win, G);
    } else if (G == 1) {
        tg_tensor *cols = tg__nn_im2col(x, &win);
        y = tg_reshape(tg_matmul(tg_reshape(w, 2, (int64_t[]){O, smul(C, kk)}), cols), 4, (int64_t[]){N, O, oh, ow});
    } else {
        int64_t kg = smul(Cg, kk);
        y = tg_matmul(tg_reshape(w, 3, (int64_t[]){G, O / G, kg}),
                      tg_reshape(tg__nn_im2col(x, &win), 4, (int64_t[]){N, G, kg, l}));
        y = tg_reshape(y, 4, (int64_t[]){N, O, oh, ow});
    }
    if (bias && !fused_bias && y) y = tg_add(y, tg_reshape(bias, 3, (int64_t[]){O, 1, 1}));
    tg_keep(y);
    tg_scope_end();
    return y;
}
