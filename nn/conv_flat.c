/* Flat im2col planes of nn/conv_kernels.c (declared in nn/conv_internal.h).
 *
 * With stride 1 and "same" width (ow = W), every kernel row (i, j) of im2col is ONE contiguous run of the input
 * plane, x[(oy + i d0 - p0) W + ox + j d1 - p1] over the flat index oy ow +
 * ox, except at the positions that wrap around a line (ox < xlo or ox >=
 * xhi: the horizontal padding), which must read as zeros. Rows of 14 or 28
 * pixels become one loop of 196 or 784, without per-line branches: the run
 * is copied through a bit mask that is all ones where the window is inside
 * the line and zero at the wrap positions (one mask per kernel column j,
 * over the L output positions: a float AND, exact for every value, NaN and
 * -0 included). Zeroing the wrap positions line by line instead cost a
 * memset call per line and side: about 15 ms of the CNN's 290 ms training
 * step at one thread.
 * col2im adds the run back through the same mask: the +0 it adds at a wrap
 * position changes no value (the plane starts at +0 and never holds -0),
 * and every pixel gets its terms in the same order as nn/unfold.c's, so
 * the bits agree. */
#include <stdint.h>
#include <string.h>

#include "nn/conv_internal.h"
#include "tensor/ops/elementwise.h"

bool tg__nn_flat_geom(const tg_nn_geom *g) {
    return g->w.s[0] == 1 && g->w.s[1] == 1 && g->ow == g->W && g->w.k[0] * g->w.k[1] <= TG_NN_FLAT_MAX_KK;
}

/* Row r = (i, j) of a plane: the run's bounds. */
static void flat_row_of(const tg_nn_geom *g, int64_t i, int64_t j, tg_nn_flat_row *f) {
    const tg_nn_win *w = &g->w;
    tg__nn_valid_range(g->H, 1, w->p[0], i * w->d[0], g->oh, &f->ylo, &f->yhi);
    tg__nn_valid_range(g->W, 1, w->p[1], j * w->d[1], g->ow, &f->xlo, &f->xhi);
    f->base = (f->ylo + i * w->d[0] - w->p[0]) * g->W + j * w->d[1] - w->p[1];
    int64_t n = (f->yhi - f->ylo) * g->ow, hw = g->H * g->W;
    f->t0 = f->base < 0 ? -f->base : 0;
    f->t1 = hw - f->base < n ? hw - f->base : n;
    if (f->t1 < f->t0) f->t1 = f->t0;
}

/* Element bits, allowed to alias the float data they are read from. */
typedef uint32_t bits32 __attribute__((may_alias));
typedef uint64_t bits64 __attribute__((may_alias));

/* masks (kw, L): all ones where output column ox = q % ow of kernel column j
 * lies in [xlo, xhi), else 0. */
#define FLAT_MASKS(U, name)                                                                           \
    static void name(const tg_nn_geom *g, const tg_nn_flat_row *rows, U *masks) {                           \
        const int64_t ow = g->ow, L = g->oh * ow, kw = g->w.k[1];                                     \
        for (int64_t j = 0; j < kw; j++) {                                                            \
            const tg_nn_flat_row *f = &rows[j];                                                             \
            U *m = masks + j * L;                                                                     \
            for (int64_t ox = 0; ox < ow; ox++) m[ox] = ox >= f->xlo && ox < f->xhi ? (U)~(U)0 : 0;   \
            for (int64_t q = ow; q < L; q++) m[q] = m[q - ow];                                        \
        }                                                                                             \
    }
#define FLAT_PLANES(T, U, im2col_name, col2im_name)                                                   \
    TG_SIMD_CLONES static void im2col_name(const tg_nn_geom *g, const tg_nn_flat_row *rows, const U *masks, const T *x, \
                                           T *dst, int64_t row_stride) {                              \
        const int64_t ow = g->ow, L = g->oh * ow, kw = g->w.k[1];                                     \
        for (int64_t r = 0; r < g->w.k[0] * kw; r++) {                                                \
            U *row = (U *)(dst + r * row_stride);                                                     \
            const tg_nn_flat_row f = rows[r];                                                               \
            const int64_t a = f.ylo * ow + f.t0, b = f.ylo * ow + f.t1;                               \
            const U *src = (const U *)(x + f.base) + f.t0, *m = masks + (r % kw) * L + a;             \
            U *run = row + a;                                                                         \
            for (int64_t t = 0; t < a; t++) row[t] = 0;                                               \
            for (int64_t t = 0; t < b - a; t++) run[t] = src[t] & m[t];                               \
            for (int64_t t = b; t < L; t++) row[t] = 0;                                               \
        }                                                                                             \
    }                                                                                                 \
    TG_SIMD_CLONES static void col2im_name(const tg_nn_geom *g, const tg_nn_flat_row *rows, const U *masks, const T *cols, \
                                           T *x, int64_t row_stride) {                                \
        const int64_t ow = g->ow, L = g->oh * ow, kw = g->w.k[1];                                     \
        for (int64_t r = 0; r < g->w.k[0] * kw; r++) {                                                \
            const tg_nn_flat_row f = rows[r];                                                               \
            const int64_t a = f.ylo * ow + f.t0;                                                      \
            const U *run = (const U *)(cols + r * row_stride) + a, *m = masks + (r % kw) * L + a;     \
            T *dst = x + f.base + f.t0;                                                               \
            for (int64_t t = 0; t < f.t1 - f.t0; t++) {                                               \
                U v = run[t] & m[t];                                                                  \
                T add;                                                                                \
                memcpy(&add, &v, sizeof add);                                                         \
                dst[t] += add;                                                                        \
            }                                                                                         \
        }                                                                                             \
    }
FLAT_MASKS(bits32, flat_masks_32)
FLAT_MASKS(bits64, flat_masks_64)
FLAT_PLANES(float, bits32, im2col_flat_f32, col2im_flat_f32)
FLAT_PLANES(double, bits64, im2col_flat_f64, col2im_flat_f64)

void tg__nn_flat_rows(const tg_nn_geom *g, tg_nn_flat_row *rows) {
    for (int64_t i = 0; i < g->w.k[0]; i++)
        for (int64_t j = 0; j < g->w.k[1]; j++) flat_row_of(g, i, j, &rows[i * g->w.k[1] + j]);
}

void tg__nn_flat_masks(const tg_nn_geom *g, const tg_nn_flat_row *rows, int64_t es, void *masks) {
    if (es == 4) flat_masks_32(g, rows, masks);
    else flat_masks_64(g, rows, masks);
}

void tg__nn_im2col_flat(const tg_nn_geom *g, const tg_nn_flat_row *rows, const void *masks, tg_dtype d, const void *x,
                        void *dst, int64_t ld) {
    if (d == TG_F32) im2col_flat_f32(g, rows, masks, x, dst, ld);
    else im2col_flat_f64(g, rows, masks, x, dst, ld);
}

void tg__nn_col2im_flat(const tg_nn_geom *g, const tg_nn_flat_row *rows, const void *masks, tg_dtype d,
                        const void *cols, void *x, int64_t ld) {
    if (d == TG_F32) col2im_flat_f32(g, rows, masks, cols, x, ld);
    else col2im_flat_f64(g, rows, masks, cols, x, ld);
}
