/* nn_max_pool2d and nn_avg_pool2d (NCHW), torch.nn.functional semantics
 * with ceil_mode false and dilation 1.
 *
 * max_pool2d has its own kernel: per window the first maximum in row-major
 * order wins (a later element replaces it only when strictly larger, or
 * when it is NaN, so NaN propagates as in PyTorch); padding counts as -inf
 * (it is never selected: padding <= kernel / 2 leaves every window a real
 * element). Its derivatives recompute the argmax from x instead of saving
 * indices, through two linear helper ops:
 *   nn_max_pool2d_scatter(x, g): adds g[window] onto x's shape at the argmax
 *     (the VJP: the cotangent goes to the first maximum of each window);
 *   nn_max_pool2d_gather(x, t): t at the argmax of each window (the JVP).
 * Each is the other's adjoint in its second argument, and both are locally
 * constant in x (zero derivative), so their own rules are each other and
 * second order works.
 *
 * avg_pool2d (count_include_pad) is the mean of unfold's columns:
 * reshape(im2col(x), (N, C, kh kw, L)).mean(2), so it inherits im2col's
 * derivative rules. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "nn/conv_internal.h"
#include "tangent/sizes.h"
#include "tensor/ops/elementwise.h"

/* attrs: i[0..1] kernel, i[2..3] stride, i[4..5] padding, i[6] exact */
static void win_of_attrs(const tg_attrs *a, tg_nn_win *w) {
    for (int k = 0; k < 2; k++) {
        w->k[k] = a->i[k];
        w->s[k] = a->i[2 + k];
        w->p[k] = a->i[4 + k];
        w->d[k] = 1;
    }
    w->exact = a->i[6] != 0;
}

/* Window and output sizes for x's (H, W), with the pooling-specific check
 * padding <= kernel / 2. */
static tg_status pool_geometry(const tg_op_call *c, const char *fn, const int64_t *shape, const tg_nn_win *w,
                               int64_t *oh, int64_t *ow) {
    if (shape[2] == 0 || shape[3] == 0) {      /* PyTorch too: a window needs a real element */
        if (c) return tg__op_error(c, TG_ERR_SHAPE, "the height and width must be non-zero");
        return tg__error(TG_ERR_SHAPE, "%s: the height and width must be non-zero", fn);
    }
    for (int a = 0; a < 2; a++) {
        if (w->k[a] >= 1 && w->p[a] >= 0 && w->p[a] > w->k[a] / 2) {
            char msg[200];
            snprintf(msg, sizeof msg, "padding %lld along the %s is more than half the kernel %lld", (long long)w->p[a],
                     a ? "width" : "height", (long long)w->k[a]);
            if (c) return tg__op_error(c, TG_ERR_SHAPE, "%s", msg);
            return tg__error(TG_ERR_SHAPE, "%s: %s", fn, msg);
        }
    }
    tg_status st = tg__nn_window_size(c, fn, 0, shape[2], w, oh);
    return st ? st : tg__nn_window_size(c, fn, 1, shape[3], w, ow);
}

static void win_of_opts(const tg_pool2d_opts *o, tg_nn_win *w) {
    for (int a = 0; a < 2; a++) {
        w->k[a] = o->kernel[a];
        w->s[a] = o->stride[a] ? o->stride[a] : o->kernel[a];
        w->p[a] = o->padding[a];
        w->d[a] = 1;
    }
    w->exact = o->exact;
}

/* ---- infer ------------------------------------------------------------------------- */
static bool real_dtype(tg_dtype d) { return d == TG_F32 || d == TG_F64 || d == TG_I32 || d == TG_I64; }

static tg_status check_x(const tg_op_call *c, const tg_meta *x, int64_t *oh, int64_t *ow) {
    if (x->ndim != 4) return tg__op_error(c, TG_ERR_SHAPE, "input must be 4-D (N, C, H, W)");
    if (!real_dtype(x->dtype))
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s", tg_dtype_name(x->dtype));
    tg_nn_win w;
    win_of_attrs(c->attrs, &w);
    return pool_geometry(c, NULL, x->shape, &w, oh, ow);
}

static tg_status maxpool_infer(const tg_op_call *c, tg_meta *out) {
    int64_t oh, ow;
    tg_status st = check_x(c, &c->in[0], &oh, &ow);
    if (st) return st;
    *out = c->in[0];
    out->weak = false;
    out->shape[2] = oh;
    out->shape[3] = ow;
    return TG_OK;
}

/* in[0] = x; in[1] = values on the pooled grid (scatter) or on x's grid (gather). */
static tg_status helper_infer(const tg_op_call *c, tg_meta *out, bool scatter) {
    const tg_meta *x = &c->in[0], *v = &c->in[1];
    int64_t oh, ow;
    tg_status st = check_x(c, x, &oh, &ow);
    if (st) return st;
    tg_dtype d = v->dtype;
    if (d == TG_BOOL || d == TG_F16 || d == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s", tg_dtype_name(d));
    int64_t pooled[4] = {x->shape[0], x->shape[1], oh, ow};
    const int64_t *want = scatter ? pooled : x->shape, *res = scatter ? x->shape : pooled;
    bool same = v->ndim == 4;
    for (int k = 0; k < 4 && same; k++) same = v->shape[k] == want[k];
    if (!same) {
        char a[200];
        return tg__op_error(c, TG_ERR_SHAPE, "the second operand must have shape %s", tg__fmt_shape(a, sizeof a, 4, want));
    }
    out->dtype = d;
    out->weak = false;
    out->ndim = 4;
    for (int k = 0; k < 4; k++) out->shape[k] = res[k];
    return TG_OK;
}
static tg_status scatter_infer(const tg_op_call *c, tg_meta *out) { return helper_infer(c, out, true); }
static tg_status gather_infer(const tg_op_call *c, tg_meta *out) { return helper_infer(c, out, false); }

/* ---- kernels ------------------------------------------------------------------------- */
typedef struct {
    int64_t H, W, oh, ow;
    tg_nn_win w;
} pgeom;

/* Max (into y) and/or its plane index (into idx) of every window of one plane. */
#define MAXPOOL_PLANE(name, T, ISNAN)                                                       \
    static void name(const pgeom *g, const T *x, T *y, int32_t *idx) {                      \
        const tg_nn_win *w = &g->w;                                                         \
        for (int64_t oy = 0; oy < g->oh; oy++) {                                            \
            int64_t ys = oy * w->s[0] - w->p[0], y0 = ys < 0 ? 0 : ys;                      \
            int64_t y1 = ys + w->k[0] < g->H ? ys + w->k[0] : g->H;                          \
            for (int64_t ox = 0; ox < g->ow; ox++) {                                        \
                int64_t xs = ox * w->s[1] - w->p[1], x0 = xs < 0 ? 0 : xs;                  \
                int64_t x1 = xs + w->k[1] < g->W ? xs + w->k[1] : g->W;                      \
                int64_t bi = y0 * g->W + x0;                                                \
                T m = x[bi];                                                                \
                for (int64_t iy = y0; iy < y1; iy++) {                                      \
                    const T *row = x + iy * g->W;                                           \
                    for (int64_t ix = x0; ix < x1; ix++) {                                  \
                        T v = row[ix];                                                      \
                        if (v > m || ISNAN(v)) { m = v; bi = iy * g->W + ix; }              \
                    }                                                                       \
                }                                                                           \
                if (y) y[oy * g->ow + ox] = m;                                              \
                if (idx) idx[oy * g->ow + ox] = (int32_t)bi;                                \
            }                                                                               \
        }                                                                                   \
    }
#define NO_NAN(v) ((void)(v), 0)
MAXPOOL_PLANE(maxpool_f32, float, isnan)
MAXPOOL_PLANE(maxpool_f64, double, isnan)
MAXPOOL_PLANE(maxpool_i32, int32_t, NO_NAN)
MAXPOOL_PLANE(maxpool_i64, int64_t, NO_NAN)

/* The common 2x2 window with stride 2 and no padding, branch-free (random
 * data makes the general loop's comparisons mispredict): the same first
 * maximum in row-major order, NaN taken as it comes (the last NaN of a
 * window wins). The argmax takes two passes over a run of windows: the
 * maxima (the forward loop, which the compiler vectorises), then the first
 * element equal to each (the last NaN when it is NaN) by arithmetic on the
 * comparisons. Choosing the index inside the running maximum kept the loop
 * scalar and branchy: the backward's argmax pass ran 13x slower than the
 * forward pass. */
#define MAXPOOL_RUN 256
/* element bits, allowed to alias the float data */
typedef uint32_t pool_bits32 __attribute__((may_alias));
typedef uint64_t pool_bits64 __attribute__((may_alias));
#define MAXPOOL_2X2(name, T, U)                                                              \
    /* mo[j] = the maximum of window o0 + j of rows r0, r1, for j < n */                    \
    static inline void name##_maxima(const T *r0, const T *r1, int64_t o0, int64_t n, T *mo) { \
        for (int64_t j = 0; j < n; j++) {                                                   \
            int64_t ox = o0 + j;                                                            \
            T v[4] = {r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]};              \
            T m = v[0];                                                                     \
            for (int q = 1; q < 4; q++) {                                                   \
                bool t = v[q] > m || v[q] != v[q];                                          \
                m = t ? v[q] : m;                                                           \
            }                                                                               \
            mo[j] = m;                                                                      \
        }                                                                                   \
    }                                                                                       \
    /* kb[j] = the position 0..3 (row-major in the window) of maximum mo[j]: the first     \
     * equal to it; with NaN the last NaN, as the running max */                           \
    static inline void name##_where(const T *r0, const T *r1, int64_t o0, int64_t n, const T *mo, int32_t *kb) { \
        for (int64_t j = 0; j < n; j++) {                                                   \
            int64_t ox2 = 2 * (o0 + j);                                                     \
            T m = mo[j], b = r0[ox2 + 1], c = r1[ox2], d = r1[ox2 + 1];                     \
            int ca = r0[ox2] == m, cb = b == m, cc = c == m;                                \
            int nb = b != b, nc = c != c, nd = d != d, nan = m != m;                        \
            int keq = (1 - ca) * (1 + (1 - cb) * (1 + (1 - cc)));                           \
            int knan = nd * 3 + (1 - nd) * (nc * 2 + (1 - nc) * nb);                        \
            kb[j] = nan * knan + (1 - nan) * keq;                                 \
        }                                                                                   \
    }                                                                                       \
    static void name(const pgeom *g, const T *x, T *y, int32_t *idx) {                      \
        if (!idx) {                                                                         \
            for (int64_t oy = 0; oy < g->oh; oy++)                                          \
                name##_maxima(x + 2 * oy * g->W, x + (2 * oy + 1) * g->W, 0, g->ow, y + oy * g->ow); \
            return;                                                                         \
        }                                                                                   \
        T buf[MAXPOOL_RUN];                                                                 \
        int32_t kb[MAXPOOL_RUN];                                                             \
        for (int64_t oy = 0; oy < g->oh; oy++) {                                            \
            const T *r0 = x + 2 * oy * g->W, *r1 = r0 + g->W;                               \
            for (int64_t o0 = 0; o0 < g->ow; o0 += MAXPOOL_RUN) {                           \
                int64_t n = g->ow - o0 < MAXPOOL_RUN ? g->ow - o0 : MAXPOOL_RUN;            \
                T *mo = y ? y + oy * g->ow + o0 : buf;   /* y and idx: both written */      \
                name##_maxima(r0, r1, o0, n, mo);                                           \
                name##_where(r0, r1, o0, n, mo, kb);                                        \
                int32_t *io = idx + oy * g->ow + o0;                                        \
                int32_t row0 = (int32_t)(2 * oy * g->W), row1 = (int32_t)((2 * oy + 1) * g->W); \
                for (int64_t j = 0; j < n; j++)                                             \
                    io[j] = ((kb[j] >> 1) ? row1 : row0) + (int32_t)(2 * (o0 + j)) + (kb[j] & 1); \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
    /* The VJP in one pass: each window's four outputs are v at its maximum and 0 at       \
     * the other three (the windows do not overlap); rows and columns no window covers     \
     * (odd H or W) are 0. */                                                              \
    static void name##_scatter(const pgeom *g, const T *x, const T *v, T *out) {            \
        T buf[MAXPOOL_RUN];                                                                 \
        int32_t kb[MAXPOOL_RUN];                                                             \
        for (int64_t oy = 0; oy < g->oh; oy++) {                                            \
            const T *r0 = x + 2 * oy * g->W, *r1 = r0 + g->W;                               \
            T *w0 = out + 2 * oy * g->W, *w1 = w0 + g->W;                                   \
            for (int64_t o0 = 0; o0 < g->ow; o0 += MAXPOOL_RUN) {                           \
                int64_t n = g->ow - o0 < MAXPOOL_RUN ? g->ow - o0 : MAXPOOL_RUN;            \
                name##_maxima(r0, r1, o0, n, buf);                                          \
                name##_where(r0, r1, o0, n, buf, kb);                                       \
                const U *vo = (const U *)(v + oy * g->ow + o0);                             \
                U *u0 = (U *)(w0 + 2 * o0), *u1 = (U *)(w1 + 2 * o0);                       \
                for (int64_t j = 0; j < n; j++) {   /* bit masks: no branch per store */    \
                    U b = vo[j], k = (U)kb[j];                                              \
                    u0[2 * j] = b & -(U)(k == 0);                                           \
                    u0[2 * j + 1] = b & -(U)(k == 1);                                       \
                    u1[2 * j] = b & -(U)(k == 2);                                           \
                    u1[2 * j + 1] = b & -(U)(k == 3);                                       \
                }                                                                           \
            }                                                                               \
            for (int64_t ix = 2 * g->ow; ix < g->W; ix++) w0[ix] = w1[ix] = 0;              \
        }                                                                                   \
        for (int64_t iy = 2 * g->oh; iy < g->H; iy++)                                       \
            for (int64_t ix = 0; ix < g->W; ix++) out[iy * g->W + ix] = 0;                  \
    }
MAXPOOL_2X2(maxpool2x2_f32, float, pool_bits32)
MAXPOOL_2X2(maxpool2x2_f64, double, pool_bits64)

static bool is_2x2(const pgeom *g) {
    const tg_nn_win *w = &g->w;
    return w->k[0] == 2 && w->k[1] == 2 && w->s[0] == 2 && w->s[1] == 2 && w->p[0] == 0 && w->p[1] == 0;
}

static void maxpool_plane(tg_dtype d, const pgeom *g, const char *x, char *y, int32_t *idx) {
    bool two = is_2x2(g);
    if (two && d == TG_F32) { maxpool2x2_f32(g, (const float *)x, (float *)y, idx); return; }
    if (two && d == TG_F64) { maxpool2x2_f64(g, (const double *)x, (double *)y, idx); return; }
    switch (d) {
    case TG_F32: maxpool_f32(g, (const float *)x, (float *)y, idx); break;
    case TG_F64: maxpool_f64(g, (const double *)x, (double *)y, idx); break;
    case TG_I32: maxpool_i32(g, (const int32_t *)x, (int32_t *)y, idx); break;
    default: maxpool_i64(g, (const int64_t *)x, (int64_t *)y, idx); break;
    }
}

#define SCATTER_PLANE(name, T)                                                             \
    static void name(int64_t n, const int32_t *idx, const char *src, char *dst) {          \
        const T *s = (const T *)src;                                                       \
        T *d = (T *)dst;                                                                   \
        for (int64_t o = 0; o < n; o++) d[idx[o]] += s[o];                                 \
    }
SCATTER_PLANE(scatter_f32, float)
SCATTER_PLANE(scatter_f64, double)
SCATTER_PLANE(scatter_c64, float complex)
SCATTER_PLANE(scatter_c128, double complex)
SCATTER_PLANE(scatter_i32, int32_t)
SCATTER_PLANE(scatter_i64, int64_t)

static tg_tensor *contig(tg_tensor *x) {
    if (tg__is_contiguous(x)) return tg_retain(x);
    tg_tensor *c = tg__alloc(x->dtype, x->ndim, x->shape);
    if (c) tg__copy_into(c, x);
    return c;
}

static void geom_of(const tg_op_call *c, const tg_tensor *x, pgeom *g) {
    win_of_attrs(c->attrs, &g->w);
    g->H = x->shape[2];
    g->W = x->shape[3];
    tg__nn_window_size(c, NULL, 0, g->H, &g->w, &g->oh);
    tg__nn_window_size(c, NULL, 1, g->W, &g->w, &g->ow);
}

static bool go_parallel(int64_t planes, int64_t work) {
    return planes > 1 && work >= TG_PARALLEL_GRAIN && tg__num_threads() > 1;
}

static tg_status maxpool_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = contig(in[0]);
    if (!x) return TG_ERR_MEMORY;
    pgeom g;
    geom_of(c, x, &g);
    int64_t planes = x->shape[0] * x->shape[1], hw = g.H * g.W, l = g.oh * g.ow, es = tg__esize(x->dtype);
    const char *xp = tg__ptr(x);
    char *yp = tg__ptr(out[0]);
    if (l > 0)
        TG_PARALLEL_FOR(go_parallel(planes, planes * hw), for (int64_t q = 0; q < planes; q++) {
            maxpool_plane(x->dtype, &g, xp + q * hw * es, yp + q * l * es, NULL);
        });
    tg_release(x);
    return TG_OK;
}

/* The argmax of every window of every plane (plane-relative indices). */
static int32_t *argmax_all(const tg_op_call *c, tg_tensor *x, pgeom *g, int64_t *planes) {
    geom_of(c, x, g);
    *planes = x->shape[0] * x->shape[1];
    int64_t hw = g->H * g->W, l = g->oh * g->ow, es = tg__esize(x->dtype);
    if (hw > INT32_MAX) { tg__op_error(c, TG_ERR_SHAPE, "planes of more than 2^31 elements"); return NULL; }
    int32_t *idx = malloc((size_t)(*planes * l + 1) * sizeof *idx);
    if (!idx) { tg__error(TG_ERR_MEMORY, "tg_%s: out of memory", c->def->name); return NULL; }
    const char *xp = tg__ptr(x);
    int64_t np = *planes;
    if (l > 0)
        TG_PARALLEL_FOR(go_parallel(np, np * hw), for (int64_t q = 0; q < np; q++) {
            maxpool_plane(x->dtype, g, xp + q * hw * es, NULL, idx + q * l);
        });
    return idx;
}

static tg_status scatter_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = contig(in[0]), *v = x ? contig(in[1]) : NULL;
    pgeom g;
    int64_t planes;
    if (v && (x->dtype == TG_F32 || x->dtype == TG_F64) && v->dtype == x->dtype) {
        geom_of(c, x, &g);
        if (is_2x2(&g)) {   /* the common window: argmax and scatter in one pass */
            int64_t np = x->shape[0] * x->shape[1], hw = g.H * g.W, l = g.oh * g.ow, es = tg__esize(x->dtype);
            const char *xp = tg__ptr(x), *vp = tg__ptr(v);
            char *op = tg__ptr(out[0]);
            bool f32 = x->dtype == TG_F32;
            TG_PARALLEL_FOR(go_parallel(np, np * hw), for (int64_t q = 0; q < np; q++) {
                if (f32) maxpool2x2_f32_scatter(&g, (const float *)(xp + q * hw * es), (const float *)(vp + q * l * es),
                                                (float *)(op + q * hw * es));
                else maxpool2x2_f64_scatter(&g, (const double *)(xp + q * hw * es), (const double *)(vp + q * l * es),
                                            (double *)(op + q * hw * es));
            });
            tg_release(x);
            tg_release(v);
            return TG_OK;
        }
    }
    int32_t *idx = v ? argmax_all(c, x, &g, &planes) : NULL;
    if (!idx) { tg_release(x); tg_release(v); return x && v ? tg_last_error_code() : TG_ERR_MEMORY; }
    tg_dtype d = v->dtype;
    void (*fn)(int64_t, const int32_t *, const char *, char *);
    switch (d) {
    case TG_F32: fn = scatter_f32; break;
    case TG_F64: fn = scatter_f64; break;
    case TG_C64: fn = scatter_c64; break;
    case TG_C128: fn = scatter_c128; break;
    case TG_I32: fn = scatter_i32; break;
    default: fn = scatter_i64; break;
    }
    int64_t hw = g.H * g.W, l = g.oh * g.ow, es = tg__esize(d);
    const char *vp = tg__ptr(v);
    char *op = tg__ptr(out[0]);
    TG_PARALLEL_FOR(go_parallel(planes, planes * hw), for (int64_t q = 0; q < planes; q++) {
        memset(op + q * hw * es, 0, (size_t)(hw * es));
        fn(l, idx + q * l, vp + q * l * es, op + q * hw * es);
    });
    free(idx);
    tg_release(x);
    tg_release(v);
    return TG_OK;
}

static tg_status gather_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = contig(in[0]), *v = x ? contig(in[1]) : NULL;
    pgeom g;
    int64_t planes;
    int32_t *idx = v ? argmax_all(c, x, &g, &planes) : NULL;
    if (!idx) { tg_release(x); tg_release(v); return x && v ? tg_last_error_code() : TG_ERR_MEMORY; }
    int64_t hw = g.H * g.W, l = g.oh * g.ow, es = tg__esize(v->dtype);
    const char *vp = tg__ptr(v);
    char *op = tg__ptr(out[0]);
    TG_PARALLEL_FOR(go_parallel(planes, planes * l), for (int64_t q = 0; q < planes; q++) {
        const char *src = vp + q * hw * es;
        char *dst = op + q * l * es;
        const int32_t *ix = idx + q * l;
        for (int64_t o = 0; o < l; o++) memcpy(dst + o * es, src + ix[o] * es, (size_t)es);
    });
    free(idx);
    tg_release(x);
    tg_release(v);
    return TG_OK;
}

/* ---- rules ------------------------------------------------------------------------------ */
extern const tg_op_def tg_op_nn_max_pool2d, tg_op_nn_max_pool2d_scatter, tg_op_nn_max_pool2d_gather;

static tg_tensor *apply2(const tg_op_def *def, tg_tensor *x, tg_tensor *v, const tg_attrs *a) {
    tg_tensor *in[2] = {x, v};
    return tg__apply1(def, 2, in, a);
}

static tg_status maxpool_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                             tg_tensor **ic) {
    (void)out;
    ic[0] = apply2(&tg_op_nn_max_pool2d_scatter, in[0], g[0], c->attrs);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status maxpool_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                             tg_tensor **ot) {
    (void)out;
    ot[0] = apply2(&tg_op_nn_max_pool2d_gather, in[0], t[0], c->attrs);
    return TG_RULE_RESULT(ot[0]);
}
/* scatter(x, g) and gather(x, t) are linear in their second operand and
 * adjoint to each other; x only selects (zero derivative). */
static tg_status scatter_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                             tg_tensor **ic) {
    (void)out;
    if (!TG_NEEDS(c, 1)) return TG_OK;
    ic[1] = apply2(&tg_op_nn_max_pool2d_gather, in[0], g[0], c->attrs);
    return TG_RULE_RESULT(ic[1]);
}
static tg_status scatter_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                             tg_tensor **ot) {
    (void)out;
    if (!t[1]) return TG_OK;
    ot[0] = apply2(&tg_op_nn_max_pool2d_scatter, in[0], t[1], c->attrs);
    return TG_RULE_RESULT(ot[0]);
}
static tg_status gather_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                            tg_tensor **ic) {
    (void)out;
    if (!TG_NEEDS(c, 1)) return TG_OK;
    ic[1] = apply2(&tg_op_nn_max_pool2d_scatter, in[0], g[0], c->attrs);
    return TG_RULE_RESULT(ic[1]);
}
static tg_status gather_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                            tg_tensor **ot) {
    (void)out;
    if (!t[1]) return TG_OK;
    ot[0] = apply2(&tg_op_nn_max_pool2d_gather, in[0], t[1], c->attrs);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_nn_max_pool2d = {.name = "nn_max_pool2d", .n_in = 1, .n_out = 1,
                                       .flags = TG_OP_RULES_IGNORE_OUTPUT, .infer = maxpool_infer,
                                       .kernel = {[TG_CPU] = maxpool_kernel, [TG_VULKAN] = TG_VK(tg__vk_pool_kernel)}, .vjp = maxpool_vjp,
                                       .jvp = maxpool_jvp};
const tg_op_def tg_op_nn_max_pool2d_scatter = {.name = "nn_max_pool2d_scatter", .n_in = 2, .n_out = 1,
                                               .flags = TG_OP_RULES_IGNORE_OUTPUT, .infer = scatter_infer,
                                               .kernel = {[TG_CPU] = scatter_kernel, [TG_VULKAN] = TG_VK(tg__vk_pool_kernel)}, .vjp = scatter_vjp,
                                               .jvp = scatter_jvp};
const tg_op_def tg_op_nn_max_pool2d_gather = {.name = "nn_max_pool2d_gather", .n_in = 2, .n_out = 1,
                                              .flags = TG_OP_RULES_IGNORE_OUTPUT, .infer = gather_infer,
                                              .kernel = {[TG_CPU] = gather_kernel, [TG_VULKAN] = TG_VK(tg__vk_pool_kernel)}, .vjp = gather_vjp,
                                              .jvp = gather_jvp};

/* ---- public ------------------------------------------------------------------------------- */
static void attrs_of(const tg_nn_win *w, tg_attrs *a) {
    memset(a, 0, sizeof *a);
    for (int k = 0; k < 2; k++) {
        a->i[k] = w->k[k];
        a->i[2 + k] = w->s[k];
        a->i[4 + k] = w->p[k];
    }
    a->i[6] = w->exact;
    a->n_int = 7;
}

tg_tensor *tg_nn_max_pool2d(tg_tensor *x, const tg_pool2d_opts *opts) {
    if (!x || !opts) return tg__error(TG_ERR_ARG, "tg_nn_max_pool2d: input or opts is NULL"), NULL;
    tg_nn_win w;
    win_of_opts(opts, &w);
    tg_attrs a;
    attrs_of(&w, &a);
    return tg__apply1(&tg_op_nn_max_pool2d, 1, &x, &a);
}

tg_tensor *tg_nn_avg_pool2d(tg_tensor *x, const tg_pool2d_opts *opts) {
    static const char *fn = "tg_nn_avg_pool2d";
    if (!x || !opts) return tg__error(TG_ERR_ARG, "%s: input or opts is NULL", fn), NULL;
    char sx[200];
    tg__fmt_meta(sx, sizeof sx, x->dtype, x->ndim, x->shape);
    if (x->ndim != 4) return tg__error(TG_ERR_SHAPE, "%s: input must be 4-D (N, C, H, W), got %s", fn, sx), NULL;
    tg_dtype d = x->dtype;
    if (d != TG_F32 && d != TG_F64 && d != TG_C64 && d != TG_C128)
        return tg__error(TG_ERR_DTYPE, "%s: needs a floating or complex input, got %s", fn, sx), NULL;
    tg_nn_win w;
    win_of_opts(opts, &w);
    int64_t oh, ow;
    if (pool_geometry(NULL, fn, x->shape, &w, &oh, &ow)) return NULL;
    tg_scope_begin();
    int64_t N = x->shape[0], C = x->shape[1], kk = w.k[0] * w.k[1];
    tg_tensor *cols = tg__nn_im2col(x, &w);
    int64_t l = cols ? cols->shape[2] : 0;
    tg_tensor *m = tg_mean(tg_reshape(cols, 4, (int64_t[]){N, C, kk, l}), 1, (int[]){2}, false);
    tg_tensor *y = tg_keep(tg_reshape(m, 4, (int64_t[]){N, C, oh, ow}));
    tg_scope_end();
    return y;
}

TG_REGISTER_OPS(nn_pool, &tg_op_nn_max_pool2d, &tg_op_nn_max_pool2d_scatter, &tg_op_nn_max_pool2d_gather)
