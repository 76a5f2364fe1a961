/* nn_unfold (im2col) and nn_fold (col2im), NCHW.
 *
 * im2col copies every dilated, strided kh x kw window of the zero-padded
 * input into a column: out[n, (c, i, j), (oy, ox)] =
 * x[n, c, oy s0 - p0 + i d0, ox s1 - p1 + j d1] (0 outside the input), shaped
 * (N, C kh kw, L) as torch.nn.functional.unfold.
 * col2im is its adjoint: it adds every column entry back onto the pixel it
 * was read from (torch.nn.functional.fold).
 *
 * Both are linear, so: VJP(im2col) = col2im of the cotangent, VJP(col2im) =
 * im2col of the cotangent, and each JVP applies the op itself to the
 * tangent. The rules call the ops, so every order of derivative works.
 *
 * Kernels: one (n, c) plane at a time, OpenMP over the N C planes; each
 * output row is written contiguously by inline loops (zero runs for the
 * padding, then the strided read). Planes never overlap in the output, so
 * col2im needs no atomics. im2col only moves bits (any dtype); col2im adds
 * (f32, f64, c64, c128, i32, i64). Vulkan: gpu/unfold.c.
 *
 * Attributes: i[0..1] kernel, i[2..3] stride, i[4..5] padding, i[6..7]
 * dilation, i[8] exact; col2im adds i[9..10] = H, W (possibly
 * symbolic: they are evaluated for each binding by tg_run). */
#include <complex.h>
#include <stdio.h>
#include <string.h>

#include "gpu/gpu.h"
#include "nn/conv_internal.h"
#include "tangent/sizes.h"
#include "tensor/ops/elementwise.h"

/* ---- geometry ----------------------------------------------------------------- */
static tg_status win_error(const tg_op_call *c, const char *fn, const char *msg) {
    if (c) return tg__op_error(c, TG_ERR_SHAPE, "%s", msg);
    return tg__error(TG_ERR_SHAPE, "%s: %s", fn, msg);
}

tg_status tg__nn_window_size(const tg_op_call *c, const char *fn, int axis, int64_t in, const tg_nn_win *w,
                             int64_t *out) {
    char msg[400], a[128];
    int64_t k = w->k[axis], s = w->s[axis], p = w->p[axis], d = w->d[axis];
    const char *ax = axis ? "width" : "height";
    if (k < 1 || s < 1 || d < 1 || p < 0 || k > (1 << 20) || s > (1 << 30) || d > (1 << 20) || p > (1 << 30)) {
        snprintf(msg, sizeof msg,
                 "invalid window along the %s: kernel %lld, stride %lld, padding %lld, dilation %lld (kernel, "
                 "stride and dilation must be positive, padding non-negative)",
                 ax, (long long)k, (long long)s, (long long)p, (long long)d);
        return win_error(c, fn, msg);
    }
    int64_t span = d * (k - 1) + 1;
    if (in < TG_SYM_BASE) {
        int64_t num = in + 2 * p - span;
        if (num < 0) {
            snprintf(msg, sizeof msg,
                     "the %s kernel (%lld, dilated to %lld) is larger than the padded input %s (%lld + 2*%lld)", ax,
                     (long long)k, (long long)span, ax, (long long)in, (long long)p);
            return win_error(c, fn, msg);
        }
        if (w->exact && num % s) {
            snprintf(msg, sizeof msg,
                     "exact: stride %lld does not divide the %s span %lld (= %lld + 2*%lld - %lld); the last %lld "
                     "row(s)/column(s) would be dropped",
                     (long long)s, ax, (long long)num, (long long)in, (long long)p, (long long)span,
                     (long long)(num % s));
            return win_error(c, fn, msg);
        }
        *out = num / s + 1;
        return TG_OK;
    }
    int64_t padded = tg_size_add(in, 2 * p);
    if (padded < 0) return tg_last_error_code();
    char nm[64];
    if (c) snprintf(nm, sizeof nm, "tg_%s", c->def->name);
    else snprintf(nm, sizeof nm, "%s", fn);
    snprintf(msg, sizeof msg, "%s: the %s kernel (%lld, dilated to %lld) fits the padded input %s", nm, ax,
             (long long)k, (long long)span, tg__fmt_size(a, sizeof a, padded));
    if (tg__require(padded, span, msg)) return tg_last_error_code();
    int64_t num = tg_size_sub(padded, span);
    int64_t q = num < 0 ? -1 : tg_size_floordiv(num, s);
    if (q < 0) return tg_last_error_code();
    if (w->exact && tg_size_mul(q, s) != num) {
        snprintf(msg, sizeof msg, "exact: stride %lld cannot be proven to divide the %s span %s at trace time",
                 (long long)s, ax, tg__fmt_size(a, sizeof a, num));
        return win_error(c, fn, msg);
    }
    *out = tg_size_add(q, 1);
    return *out < 0 ? tg_last_error_code() : TG_OK;
}

void tg__nn_win_from_conv(tg_nn_win *w, int64_t kh, int64_t kw, const tg_conv2d_opts *o) {
    static const tg_conv2d_opts dflt = {0};
    if (!o) o = &dflt;
    w->k[0] = kh;
    w->k[1] = kw;
    for (int a = 0; a < 2; a++) {
        w->s[a] = o->stride[a] ? o->stride[a] : 1;
        w->p[a] = o->padding[a];
        w->d[a] = o->dilation[a] ? o->dilation[a] : 1;
    }
    w->exact = o->exact;
}

static void win_to_attrs(const tg_nn_win *w, tg_attrs *a) {
    memset(a, 0, sizeof *a);
    for (int k = 0; k < 2; k++) {
        a->i[k] = w->k[k];
        a->i[2 + k] = w->s[k];
        a->i[4 + k] = w->p[k];
        a->i[6 + k] = w->d[k];
    }
    a->i[8] = w->exact;
    a->n_int = 9;
}
static void win_of_attrs(const tg_attrs *a, tg_nn_win *w) {
    for (int k = 0; k < 2; k++) {
        w->k[k] = a->i[k];
        w->s[k] = a->i[2 + k];
        w->p[k] = a->i[4 + k];
        w->d[k] = a->i[6 + k];
    }
    w->exact = a->i[8] != 0;
}

static int64_t smul(int64_t a, int64_t b) {
    return a >= TG_SYM_BASE || b >= TG_SYM_BASE ? tg_size_mul(a, b) : a * b;
}

/* ---- infer ---------------------------------------------------------------------- */
static tg_status im2col_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    tg_nn_win w;
    win_of_attrs(c->attrs, &w);
    if (x->ndim != 4) return tg__op_error(c, TG_ERR_SHAPE, "input must be 4-D (N, C, H, W)");
    if (x->dtype == TG_F16 || x->dtype == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s", tg_dtype_name(x->dtype));
    int64_t oh, ow;
    tg_status st = tg__nn_window_size(c, NULL, 0, x->shape[2], &w, &oh);
    if (!st) st = tg__nn_window_size(c, NULL, 1, x->shape[3], &w, &ow);
    if (st) return st;
    int64_t ck = smul(x->shape[1], w.k[0] * w.k[1]), l = smul(oh, ow);
    if (ck < 0 || l < 0) return tg_last_error_code();
    out->dtype = x->dtype;
    out->ndim = 3;
    out->shape[0] = x->shape[0];
    out->shape[1] = ck;
    out->shape[2] = l;
    return tg__check_shape("tg_nn_unfold", x->dtype, 3, out->shape);
}

static tg_status col2im_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    tg_nn_win w;
    win_of_attrs(c->attrs, &w);
    w.exact = false;
    if (x->ndim != 3) return tg__op_error(c, TG_ERR_SHAPE, "input must be 3-D columns");
    tg_dtype d = x->dtype;
    if (d == TG_BOOL || d == TG_F16 || d == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s", tg_dtype_name(d));
    int64_t n = x->shape[0], ck = x->shape[1], kk = w.k[0] * w.k[1];
    int64_t H = c->attrs->i[9], W = c->attrs->i[10], oh, ow;
    tg_status st = tg__nn_window_size(c, NULL, 0, H, &w, &oh);
    if (!st) st = tg__nn_window_size(c, NULL, 1, W, &w, &ow);
    if (st) return st;
    int64_t ch = ck >= TG_SYM_BASE ? tg_size_floordiv(ck, kk) : ck / kk;
    char a[128], b[128], e[128], f[128];
    if (ch < 0 || smul(ch, kk) != ck)
        return tg__op_error(c, TG_ERR_SHAPE, "%s rows are not a multiple of the kernel's %lld positions",
                            tg__fmt_size(a, sizeof a, ck), (long long)kk);
    int64_t l = smul(oh, ow);
    if (l != x->shape[2])
        return tg__op_error(c, TG_ERR_SHAPE, "%s columns, but the windows over %s x %s number %s",
                            tg__fmt_size(a, sizeof a, x->shape[2]), tg__fmt_size(b, sizeof b, H),
                            tg__fmt_size(e, sizeof e, W), tg__fmt_size(f, sizeof f, l));
    out->dtype = d;
    out->ndim = 4;
    out->shape[0] = n;
    out->shape[1] = ch;
    out->shape[2] = H;
    out->shape[3] = W;
    return tg__check_shape("tg_nn_fold", d, 4, out->shape);
}

/* ---- kernels -------------------------------------------------------------------- */
void tg__nn_valid_range(int64_t n, int64_t s, int64_t p, int64_t dq, int64_t on, int64_t *lo, int64_t *hi) {
    int64_t a = p - dq;                        /* need o s >= a */
    int64_t l = a <= 0 ? 0 : (a + s - 1) / s;
    int64_t b = n - 1 + p - dq;                /* need o s <= b */
    int64_t h = b < 0 ? 0 : b / s + 1;
    if (h > on) h = on;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

typedef struct { uint64_t a, b; } tg_u128;

typedef tg_nn_geom geom;

/* One input plane (H, W) into its kh kw rows, row r at dst + r row_stride.
 * Rows are short (a 14-wide feature map is 56 bytes), so they are filled by
 * inline loops, not memset/memcpy calls. Typed by element size only: im2col
 * moves bits. */
#define IM2COL_PLANE(name, T)                                                                        \
    static void name(const geom *g, const char *xsrc, char *dsrc, int64_t row_stride) {              \
        const tg_nn_win *w = &g->w;                                                                  \
        const T *x = (const T *)xsrc;                                                                \
        T *dst = (T *)dsrc, zero;                                                                    \
        memset(&zero, 0, sizeof zero);                                                               \
        const int64_t ow = g->ow, s = w->s[1];                                                       \
        for (int64_t i = 0; i < w->k[0]; i++) {                                                      \
            int64_t ylo, yhi;                                                                        \
            tg__nn_valid_range(g->H, w->s[0], w->p[0], i * w->d[0], g->oh, &ylo, &yhi);              \
            for (int64_t j = 0; j < w->k[1]; j++) {                                                  \
                T *row = dst + (i * w->k[1] + j) * row_stride;                                       \
                int64_t xlo, xhi;                                                                    \
                tg__nn_valid_range(g->W, s, w->p[1], j * w->d[1], ow, &xlo, &xhi);                   \
                for (int64_t o = 0; o < ylo * ow; o++) row[o] = zero;                                \
                for (int64_t oy = ylo; oy < yhi; oy++) {                                             \
                    T *line = row + oy * ow;                                                         \
                    const T *src = x + (oy * w->s[0] - w->p[0] + i * w->d[0]) * g->W - w->p[1] + j * w->d[1]; \
                    for (int64_t ox = 0; ox < xlo; ox++) line[ox] = zero;                            \
                    if (s == 1)                                                                      \
                        for (int64_t ox = xlo; ox < xhi; ox++) line[ox] = src[ox];                   \
                    else                                                                             \
                        for (int64_t ox = xlo; ox < xhi; ox++) line[ox] = src[ox * s];               \
                    for (int64_t ox = xhi; ox < ow; ox++) line[ox] = zero;                           \
                }                                                                                    \
                for (int64_t o = yhi * ow; o < g->oh * ow; o++) row[o] = zero;                       \
            }                                                                                        \
        }                                                                                            \
    }
IM2COL_PLANE(im2col_1, uint8_t)
IM2COL_PLANE(im2col_2, uint16_t)
IM2COL_PLANE(im2col_4, uint32_t)
IM2COL_PLANE(im2col_8, uint64_t)
IM2COL_PLANE(im2col_16, tg_u128)

/* The adjoint: adds the kh kw rows back onto a zeroed plane. */
#define COL2IM_PLANE(name, T)                                                                        \
    static void name(const geom *g, const char *src, char *plane, int64_t row_stride) {              \
        const tg_nn_win *w = &g->w;                                                                  \
        T *x = (T *)plane;                                                                           \
        const T *cols = (const T *)src;                                                              \
        for (int64_t i = 0; i < w->k[0]; i++) {                                                      \
            int64_t ylo, yhi;                                                                        \
            tg__nn_valid_range(g->H, w->s[0], w->p[0], i * w->d[0], g->oh, &ylo, &yhi);              \
            for (int64_t j = 0; j < w->k[1]; j++) {                                                  \
                const T *row = cols + (i * w->k[1] + j) * row_stride;                                \
                int64_t xlo, xhi;                                                                    \
                tg__nn_valid_range(g->W, w->s[1], w->p[1], j * w->d[1], g->ow, &xlo, &xhi);          \
                for (int64_t oy = ylo; oy < yhi; oy++) {                                             \
                    const T *line = row + oy * g->ow;                                                \
                    T *xr = x + (oy * w->s[0] - w->p[0] + i * w->d[0]) * g->W - w->p[1] + j * w->d[1]; \
                    int64_t s = w->s[1];                                                             \
                    if (s == 1)                                                                      \
                        for (int64_t ox = xlo; ox < xhi; ox++) xr[ox] += line[ox];                   \
                    else                                                                             \
                        for (int64_t ox = xlo; ox < xhi; ox++) xr[ox * s] += line[ox];               \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    }
COL2IM_PLANE(col2im_f32, float)
COL2IM_PLANE(col2im_f64, double)
COL2IM_PLANE(col2im_c64, float complex)
COL2IM_PLANE(col2im_c128, double complex)
COL2IM_PLANE(col2im_i32, int32_t)
COL2IM_PLANE(col2im_i64, int64_t)

void tg__nn_im2col_plane(const tg_nn_geom *g, int64_t es, const void *x, void *dst, int64_t row_stride) {
    if (es == 4) im2col_4(g, x, dst, row_stride);
    else im2col_8(g, x, dst, row_stride);
}
void tg__nn_col2im_plane(const tg_nn_geom *g, tg_dtype d, const void *cols, void *plane, int64_t row_stride) {
    if (d == TG_F32) col2im_f32(g, cols, plane, row_stride);
    else col2im_f64(g, cols, plane, row_stride);
}

static tg_tensor *contig(tg_tensor *x) {
    if (tg__is_contiguous(x)) return tg_retain(x);
    tg_tensor *c = tg__alloc(x->dtype, x->ndim, x->shape);
    if (c) tg__copy_into(c, x);
    return c;
}

static bool go_parallel(int64_t planes, int64_t work) {
    return planes > 1 && work >= TG_PARALLEL_GRAIN && tg__num_threads() > 1;
}

static tg_status im2col_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = contig(in[0]);
    if (!x) return TG_ERR_MEMORY;
    geom g;
    win_of_attrs(c->attrs, &g.w);
    g.H = x->shape[2];
    g.W = x->shape[3];
    tg__nn_window_size(c, NULL, 0, g.H, &g.w, &g.oh);
    tg__nn_window_size(c, NULL, 1, g.W, &g.w, &g.ow);
    int64_t N = x->shape[0], C = x->shape[1], kk = g.w.k[0] * g.w.k[1], L = g.oh * g.ow, es = tg__esize(x->dtype);
    const char *xp = tg__ptr(x);
    char *op = tg__ptr(out[0]);
    int64_t planes = N * C;
    void (*plane_fn)(const geom *, const char *, char *, int64_t) =
        es == 4 ? im2col_4 : es == 8 ? im2col_8 : es == 16 ? im2col_16 : es == 2 ? im2col_2 : im2col_1;
    if (L > 0)
        TG_PARALLEL_FOR(go_parallel(planes, planes * kk * L), for (int64_t q = 0; q < planes; q++) {
            plane_fn(&g, xp + q * g.H * g.W * es, op + q * kk * L * es, L);
        });
    tg_release(x);
    return TG_OK;
}

static tg_status col2im_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *x = contig(in[0]);
    if (!x) return TG_ERR_MEMORY;
    geom g;
    win_of_attrs(c->attrs, &g.w);
    g.w.exact = false;
    g.H = out[0]->shape[2];
    g.W = out[0]->shape[3];
    tg__nn_window_size(c, NULL, 0, g.H, &g.w, &g.oh);
    tg__nn_window_size(c, NULL, 1, g.W, &g.w, &g.ow);
    int64_t N = out[0]->shape[0], C = out[0]->shape[1], kk = g.w.k[0] * g.w.k[1], L = g.oh * g.ow;
    int64_t es = tg__esize(x->dtype);
    void (*plane_fn)(const geom *, const char *, char *, int64_t);
    switch (x->dtype) {
    case TG_F32: plane_fn = col2im_f32; break;
    case TG_F64: plane_fn = col2im_f64; break;
    case TG_C64: plane_fn = col2im_c64; break;
    case TG_C128: plane_fn = col2im_c128; break;
    case TG_I32: plane_fn = col2im_i32; break;
    default: plane_fn = col2im_i64; break;
    }
    const char *xp = tg__ptr(x);
    char *op = tg__ptr(out[0]);
    int64_t planes = N * C, hw = g.H * g.W;
    TG_PARALLEL_FOR(go_parallel(planes, planes * (kk * L + hw)), for (int64_t q = 0; q < planes; q++) {
        char *plane = op + q * hw * es;
        memset(plane, 0, (size_t)(hw * es));
        if (L > 0) plane_fn(&g, xp + q * kk * L * es, plane, L);
    });
    tg_release(x);
    return TG_OK;
}

/* ---- rules ------------------------------------------------------------------------ */
extern const tg_op_def tg_op_nn_unfold, tg_op_nn_fold;

static tg_tensor *apply_col2im(tg_tensor *cols, const tg_attrs *a, int64_t H, int64_t W) {
    tg_attrs b = *a;
    b.i[8] = 0;
    b.i[9] = H;
    b.i[10] = W;
    b.n_int = 11;
    return tg__apply1(&tg_op_nn_fold, 1, &cols, &b);
}
static tg_tensor *apply_im2col(tg_tensor *x, const tg_attrs *a) {
    tg_attrs b = *a;
    b.i[8] = 0;                     /* the adjoint's shapes are already known to fit */
    b.n_int = 9;
    return tg__apply1(&tg_op_nn_unfold, 1, &x, &b);
}

static tg_status im2col_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                            tg_tensor **ic) {
    (void)out;
    ic[0] = apply_col2im(g[0], c->attrs, in[0]->shape[2], in[0]->shape[3]);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status im2col_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                            tg_tensor **ot) {
    (void)in; (void)out;
    ot[0] = apply_im2col(t[0], c->attrs);
    return TG_RULE_RESULT(ot[0]);
}
static tg_status col2im_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                            tg_tensor **ic) {
    (void)in; (void)out;
    ic[0] = apply_im2col(g[0], c->attrs);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status col2im_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                            tg_tensor **ot) {
    (void)in; (void)out;
    ot[0] = apply_col2im(t[0], c->attrs, c->attrs->i[9], c->attrs->i[10]);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_nn_unfold = {.name = "nn_unfold", .n_in = 1, .n_out = 1, .flags = TG_OP_RULES_IGNORE_OUTPUT,
                                   .infer = im2col_infer,
                                   .kernel = {[TG_CPU] = im2col_kernel, [TG_VULKAN] = TG_VK(tg__vk_unfold_kernel)},
                                   .vjp = im2col_vjp, .jvp = im2col_jvp};
const tg_op_def tg_op_nn_fold = {.name = "nn_fold", .n_in = 1, .n_out = 1, .flags = TG_OP_RULES_IGNORE_OUTPUT,
                                 .infer = col2im_infer,
                                 .kernel = {[TG_CPU] = col2im_kernel, [TG_VULKAN] = TG_VK(tg__vk_unfold_kernel)},
                                 .vjp = col2im_vjp, .jvp = col2im_jvp};

tg_tensor *tg__nn_im2col(tg_tensor *x, const tg_nn_win *w) {
    tg_attrs a;
    win_to_attrs(w, &a);
    return tg__apply1(&tg_op_nn_unfold, 1, &x, &a);
}

tg_tensor *tg_nn_unfold(tg_tensor *x, int64_t kh, int64_t kw, const tg_conv2d_opts *opts) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_nn_unfold: input is NULL"), NULL;
    tg_nn_win w;
    tg__nn_win_from_conv(&w, kh, kw, opts);
    return tg__nn_im2col(x, &w);
}

TG_REGISTER_OPS(nn_unfold, &tg_op_nn_unfold, &tg_op_nn_fold)
