/* The three primitive FFT ops: fft_c2c, fft_r2c, fft_c2r (docs/fft.md).
 *
 * attrs.i: [0] sign (-1 forward, +1 inverse; c2c only), [1] scale (enum
 * tg_fft_scale, over N = the product of the logical sizes of the axes),
 * [2] output length of the last axis (c2r only), [3] naxes, [4...] axes
 * (normalised, distinct; the last one is the halved axis of r2c/c2r).
 *
 * The kernel hands FFTW the input where it lies, with its strides (no copy),
 * except c2r inputs (FFTW destroys them) and views with negative strides,
 * which are copied to a fresh contiguous buffer; builds a
 * guru64 problem (transform dims = the axes in the given order, batch dims =
 * the other axes) and runs it through the plan cache (one pass per axis
 * where fft/split.c applies), then scales.
 *
 * Derivative rules (shared/AD-REFERENCE.md section 5), all with these same
 * primitives so higher orders work:
 *   c2c(sign s, scale k): VJP = c2c(ybar, -s, k); the transform is linear
 *     and its adjoint is the opposite-sign transform with the same real
 *     scale (this is "ifft with the dual norm mode").
 *   r2c(k): VJP = Re(c2c(zero-pad ybar on the last axis to n, +1, k)).
 *   c2r(k, n): VJP = r2c(ybar, k) with bins 1 ... n - (n/2 + 1) doubled
 *     (they appear twice in the Hermitian extension; DC and Nyquist once).
 *   JVPs: the same op on the tangent (every transform is R-linear). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fft/fft_internal.h"
#include "gpu/gpu.h"
#include "tensor/ops/elementwise.h"

typedef struct fft_attr {
    int sign, scale, naxes;
    int64_t n_last;
    int axes[TG_MAX_DIMS];
} fft_attr;

/* Filled in place: returning the struct made GCC copy it through the stack
 * with mismatched widths (a store-forwarding stall on every call). */
static void read_attrs(const tg_attrs *a, fft_attr *r) {
    r->sign = (int)a->i[0];
    r->scale = (int)a->i[1];
    r->n_last = a->i[2];
    r->naxes = (int)a->i[3];
    for (int k = 0; k < r->naxes && k < TG_MAX_DIMS; k++) r->axes[k] = (int)a->i[4 + k];
}

/* Zeros of x's dtype and shape but len on axis. */
static tg_tensor *zeros_on(const tg_tensor *x, int axis, int64_t len) {
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
    shape[axis] = len;
    return tg_zeros(x->dtype, x->ndim, shape);
}

int64_t tg__fft_half_bins(int64_t n) {
    return tg__is_sym_size(n) ? tg_size_add(tg_size_floordiv(n, 2), 1) : n / 2 + 1;
}

tg_tensor *tg__fft_zero_extend(tg_tensor *x, int axis, int64_t extra) {
    if (!x || extra < 0) return x ? (tg__error(TG_ERR_SHAPE, "fft: a negative padding"), NULL) : NULL;
    if (!tg__is_sym_size(extra)) {
        if (extra == 0) return x;
        int64_t pads[2 * TG_MAX_DIMS] = {0};
        pads[2 * axis + 1] = extra;
        return tg_pad(x, pads, 0.0);
    }
    /* tg_pad takes plain widths: concatenate a block of zeros instead */
    tg_tensor *parts[2] = {x, zeros_on(x, axis, extra)};
    return parts[1] ? tg_concat(2, parts, axis) : NULL;
}

static tg_status fft_infer(const tg_op_call *c, tg_meta *out) {
    int kind = *(const int *)c->def->impl;
    const tg_meta *x = &c->in[0];
    fft_attr a;
    read_attrs(c->attrs, &a);
    bool cplx = x->dtype == TG_C64 || x->dtype == TG_C128;
    bool real = x->dtype == TG_F32 || x->dtype == TG_F64;
    if (kind == TG_FFT_R2C ? !real : !cplx)
        return tg__op_error(c, TG_ERR_DTYPE, "expects a %s input, got %s", kind == TG_FFT_R2C ? "f32/f64" : "c64/c128",
                            tg_dtype_name(x->dtype));
    if (a.naxes < 1 || a.naxes > x->ndim) return tg__op_error(c, TG_ERR_ARG, "invalid number of axes %d", a.naxes);
    if (a.scale < 0 || a.scale > 2 || (kind == TG_FFT_C2C && a.sign != 1 && a.sign != -1))
        return tg__op_error(c, TG_ERR_ARG, "invalid sign %d or scale %d", a.sign, a.scale);
    bool seen[TG_MAX_DIMS] = {false};
    for (int k = 0; k < a.naxes; k++) {
        int ax = a.axes[k];
        if (ax < 0 || ax >= x->ndim || seen[ax]) return tg__op_error(c, TG_ERR_ARG, "invalid or repeated axis %d", ax);
        seen[ax] = true;
        if (!tg__is_sym_size(x->shape[ax]) && x->shape[ax] < 1 && !(kind == TG_FFT_C2R && k == a.naxes - 1))
            return tg__op_error(c, TG_ERR_ARG, "invalid number of data points (%lld) on axis %d",
                                (long long)x->shape[ax], ax);
    }
    tg__meta_copy_shape(out, x);
    int last = a.axes[a.naxes - 1];
    switch (kind) {
    case TG_FFT_C2C: out->dtype = x->dtype; break;
    case TG_FFT_R2C:
        out->dtype = tg_complex_dtype(x->dtype);
        out->shape[last] = tg__fft_half_bins(x->shape[last]);
        if (out->shape[last] < 0) return tg_last_error_code();
        break;
    default: {
        bool sym = tg__is_sym_size(a.n_last) || tg__is_sym_size(x->shape[last]);
        if (!tg__is_sym_size(a.n_last) && a.n_last < 1)
            return tg__op_error(c, TG_ERR_ARG, "invalid output length %lld", (long long)a.n_last);
        int64_t bins = tg__fft_half_bins(a.n_last);
        if (bins < 0) return tg_last_error_code();
        if (sym) {
            /* decided now when the expressions agree, else when tg_run binds them */
            tg_status st = tg__require(x->shape[last], bins, "fft_c2r: the input's bins on the last axis and n / 2 + 1");
            if (st) return st;
        } else if (x->shape[last] != bins) {
            return tg__op_error(c, TG_ERR_SHAPE, "output length %lld needs %lld bins on axis %d, got %lld",
                                (long long)a.n_last, (long long)bins, last, (long long)x->shape[last]);
        }
        out->dtype = tg_real_dtype(x->dtype);
        out->shape[last] = a.n_last;
        break;
    }
    }
    return TG_OK;
}

static tg_status fft_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int kind = *(const int *)c->def->impl;
    fft_attr a;
    read_attrs(c->attrs, &a);
    tg_tensor *x = in[0], *y = out[0];
    if (tg__numel(y->ndim, y->shape) == 0) return TG_OK;
    /* Out-of-place c2c and r2c plans preserve their input, so FFTW reads x
     * where it lies, through its own strides (the guru interface takes any
     * non-negative strides, broadcast zeros included). c2r destroys its
     * input, and negative strides (flipped views) are outside what the plan
     * cache's span arithmetic covers: those get a contiguous copy. */
    bool reuse = kind != TG_FFT_C2R;
    for (int d = 0; d < x->ndim && reuse; d++) reuse = x->strides[d] >= 0;
    tg_tensor *buf = reuse ? x : tg__alloc(x->dtype, x->ndim, x->shape);
    if (!buf) return tg_last_error_code();
    if (!reuse) tg__copy_into(buf, x);
    int64_t xs[TG_MAX_DIMS], ys[TG_MAX_DIMS];
    if (reuse) memcpy(xs, x->strides, sizeof(int64_t) * (size_t)x->ndim);
    else tg__contiguous_strides(x->ndim, x->shape, xs);
    tg__contiguous_strides(y->ndim, y->shape, ys);
    /* strides in units of each array's own element (FFTW's convention) */
    tg_fft_problem p;
    p.rank = p.howmany_rank = 0;
    p.inplace = p.serial = false;
    p.kind = kind;
    p.dtype = x->dtype == TG_F64 || x->dtype == TG_C128;
    p.sign = kind == TG_FFT_C2C ? a.sign : (kind == TG_FFT_R2C ? -1 : 1);
    bool is_axis[TG_MAX_DIMS] = {false};
    double npts = 1;
    for (int k = 0; k < a.naxes; k++) {
        int ax = a.axes[k];
        is_axis[ax] = true;
        int64_t n = kind == TG_FFT_C2R ? y->shape[ax] : x->shape[ax];
        p.dims[p.rank++] = (tg_fft_dim){n, xs[ax], ys[ax]};
        npts *= (double)n;
    }
    for (int d = 0; d < x->ndim; d++)
        if (!is_axis[d] && x->shape[d] != 1) p.howmany[p.howmany_rank++] = (tg_fft_dim){x->shape[d], xs[d], ys[d]};
    tg_status st;
    if (!tg__fft_split_execute(&p, tg__ptr(buf), tg__ptr(y), &st)) st = tg__fft_execute(&p, tg__ptr(buf), tg__ptr(y));
    if (!reuse) tg__discard(buf);
    if (st != TG_OK) return st;
    if (a.scale != TG_FFT_SCALE_NONE) {
        double f = a.scale == TG_FFT_SCALE_SQRT ? 1.0 / sqrt(npts) : 1.0 / npts;
        int64_t m = tg__numel(y->ndim, y->shape) * (y->dtype == TG_C64 || y->dtype == TG_C128 ? 2 : 1);
        if (p.dtype) {
            double *v = (double *)tg__ptr(y);
            for (int64_t i = 0; i < m; i++) v[i] *= f;
        } else {
            float *v = (float *)tg__ptr(y);
            float ff = (float)f;
            for (int64_t i = 0; i < m; i++) v[i] *= ff;
        }
    }
    return TG_OK;
}

/* ---- derivative rules ---------------------------------------------------------------- */
static tg_status c2c_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)in; (void)out;
    fft_attr a;
    read_attrs(c->attrs, &a);
    ic[0] = tg__fft_c2c(g[0], -a.sign, a.scale, a.naxes, a.axes);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status r2c_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)out;
    fft_attr a;
    read_attrs(c->attrs, &a);
    int last = a.axes[a.naxes - 1];
    tg_tensor *gp = tg__fft_zero_extend(g[0], last, tg_size_sub(in[0]->shape[last], g[0]->shape[last]));
    ic[0] = tg_real(tg__fft_c2c(gp, 1, a.scale, a.naxes, a.axes));
    return TG_RULE_RESULT(ic[0]);
}
static tg_status c2r_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)out;
    fft_attr a;
    read_attrs(c->attrs, &a);
    int last = a.axes[a.naxes - 1];
    int64_t n = a.n_last, m = in[0]->shape[last];
    tg_tensor *r = tg__fft_r2c(g[0], a.scale, a.naxes, a.axes);
    if (r && (tg__is_sym_size(n) || tg__is_sym_size(m))) {
        /* bins 1 .. n-m (none when n <= 2) added a second time: [0, r[1 .. n-m], 0 x (2m-n-1)] */
        int64_t twice = tg_size_add(tg_size_sub(n, m), 1);
        tg_tensor *parts[2] = {zeros_on(r, last, 1), tg_slice(r, last, 1, twice, 1)};
        tg_tensor *bins = parts[0] && parts[1] ? tg_concat(2, parts, last) : NULL;
        r = tg_add(r, tg__fft_zero_extend(bins, last, tg_size_sub(m, twice)));
    } else if (r && n - m >= 1) {
        /* add bins 1 .. n-m a second time */
        int64_t pads[2 * TG_MAX_DIMS] = {0};
        pads[2 * last] = 1;
        pads[2 * last + 1] = 2 * m - n - 1;
        r = tg_add(r, tg_pad(tg_slice(r, last, 1, n - m + 1, 1), pads, 0.0));
    }
    ic[0] = r;
    return TG_RULE_RESULT(ic[0]);
}
static tg_status fft_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)in; (void)out;
    int kind = *(const int *)c->def->impl;
    fft_attr a;
    read_attrs(c->attrs, &a);
    if (kind == TG_FFT_C2C) ot[0] = tg__fft_c2c(t[0], a.sign, a.scale, a.naxes, a.axes);
    else if (kind == TG_FFT_R2C) ot[0] = tg__fft_r2c(t[0], a.scale, a.naxes, a.axes);
    else ot[0] = tg__fft_c2r(t[0], a.scale, a.n_last, a.naxes, a.axes);
    return TG_RULE_RESULT(ot[0]);
}

static const int kind_c2c = TG_FFT_C2C, kind_r2c = TG_FFT_R2C, kind_c2r = TG_FFT_C2R;
const tg_op_def tg_op_fft_c2c = {.name = "fft_c2c", .n_in = 1, .n_out = 1, .flags = TG_OP_RULES_IGNORE_OUTPUT,
                                 .infer = fft_infer, .kernel = {[TG_CPU] = fft_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = c2c_vjp,
                                 .jvp = fft_jvp, .impl = &kind_c2c};
const tg_op_def tg_op_fft_r2c = {.name = "fft_r2c", .n_in = 1, .n_out = 1, .flags = TG_OP_RULES_IGNORE_OUTPUT,
                                 .infer = fft_infer, .kernel = {[TG_CPU] = fft_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = r2c_vjp,
                                 .jvp = fft_jvp, .impl = &kind_r2c};
const tg_op_def tg_op_fft_c2r = {.name = "fft_c2r", .n_in = 1, .n_out = 1, .flags = TG_OP_RULES_IGNORE_OUTPUT,
                                 .infer = fft_infer, .kernel = {[TG_CPU] = fft_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = c2r_vjp,
                                 .jvp = fft_jvp, .impl = &kind_c2r};

static tg_tensor *apply(const tg_op_def *def, tg_tensor *x, int sign, int scale, int64_t n_last, int naxes,
                        const int *axes) {
    if (naxes < 1 || naxes > TG_MAX_DIMS) {
        tg__error(TG_ERR_ARG, "tg_%s: invalid number of axes %d", def->name, naxes);
        return NULL;
    }
    /* only the used fields are set: zeroing all of tg_attrs costs more than
     * the rest of this function */
    tg_attrs at;
    at.n_int = 4 + naxes;
    at.n_real = 0;
    at.str = NULL;
    at.i[0] = sign;
    at.i[1] = scale;
    at.i[2] = n_last;
    at.i[3] = naxes;
    for (int k = 0; k < naxes; k++) at.i[4 + k] = axes[k];
    return tg__apply1(def, 1, &x, &at);
}
tg_tensor *tg__fft_c2c(tg_tensor *x, int sign, int scale, int naxes, const int *axes) {
    return apply(&tg_op_fft_c2c, x, sign, scale, 0, naxes, axes);
}
tg_tensor *tg__fft_r2c(tg_tensor *x, int scale, int naxes, const int *axes) {
    return apply(&tg_op_fft_r2c, x, -1, scale, 0, naxes, axes);
}
tg_tensor *tg__fft_c2r(tg_tensor *x, int scale, int64_t n_last, int naxes, const int *axes) {
    return apply(&tg_op_fft_c2r, x, 1, scale, n_last, naxes, axes);
}

TG_REGISTER_OPS(fft, &tg_op_fft_c2c, &tg_op_fft_r2c, &tg_op_fft_c2r)
