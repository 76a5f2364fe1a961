/* Public FFT API (include/tangent/fft.h, docs/fft.md): NumPy's numpy.fft
 * argument handling (axes, per-axis sizes that zero-pad or crop, norm modes,
 * dtype promotion) over the three primitives of fft/ops.c. */
#include <stdio.h>
#include <string.h>

#include "fft/fft_internal.h"
#include "tangent/fft.h"

/* norm: NULL/"backward" 0, "ortho" 1, "forward" 2; -1 + TG_ERR_ARG otherwise. */
static int parse_norm(const char *op, const char *norm) {
    if (!norm || !strcmp(norm, "backward")) return 0;
    if (!strcmp(norm, "ortho")) return 1;
    if (!strcmp(norm, "forward")) return 2;
    tg__error(TG_ERR_ARG, "tg_fft_%s: invalid norm \"%s\" (expected \"backward\", \"ortho\", \"forward\" or NULL)",
              op, norm);
    return -1;
}
/* The mode whose forward scaling is this mode's inverse scaling. */
static const char *dual_norm(int mode) { return mode == 0 ? "forward" : mode == 1 ? "ortho" : "backward"; }

static bool check_input(const char *op, tg_tensor *x) {
    if (x) return true;
    if (tg_last_error_code() == TG_OK) tg__error(TG_ERR_ARG, "tg_fft_%s: input is NULL", op);
    return false;
}

/* Resolves axes and output sizes (NumPy's _cook_nd_args): axes NULL takes
 * the last naxes axes (all of them when naxes is 0). Returns the number of
 * axes, or -1 with an error. */
static int resolve(const char *op, const tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, int kind,
                   int *ax, int64_t *s) {
    int nd = x->ndim;
    if (nd == 0) return tg__error(TG_ERR_ARG, "tg_fft_%s: the input is 0-d", op), -1;
    if (naxes < 0 || naxes > nd || (axes && naxes == 0))
        return tg__error(TG_ERR_ARG, "tg_fft_%s: invalid number of axes %d for a %d-d input", op, naxes, nd), -1;
    int n = axes ? naxes : (naxes ? naxes : nd);
    bool seen[TG_MAX_DIMS] = {false};
    for (int k = 0; k < n; k++) {
        int a = axes ? axes[k] : nd - n + k;
        if (a < -nd || a >= nd)
            return tg__error(TG_ERR_ARG, "tg_fft_%s: axis %d is out of range for a %d-d input", op, a, nd), -1;
        if (a < 0) a += nd;
        if (seen[a]) return tg__error(TG_ERR_ARG, "tg_fft_%s: repeated axis %d", op, axes[k]), -1;
        seen[a] = true;
        ax[k] = a;
        int64_t len = x->shape[a];
        bool given = sizes && sizes[k] != TG_NONE;
        s[k] = given ? sizes[k] : len;
        if (!given && kind == TG_FFT_C2R && k == n - 1) {   /* irfft's default: 2 (m - 1) points */
            s[k] = tg__is_sym_size(len) ? tg_size_mul(2, tg_size_sub(len, 1)) : 2 * (len - 1);
            if (tg__is_sym_size(len) && s[k] < 0) return -1;   /* past the normal form's limits (error set) */
        }
        if (!tg__is_sym_size(s[k]) && s[k] < 1)
            return tg__error(TG_ERR_ARG, "tg_fft_%s: invalid number of data points (%lld) on axis %d", op,
                             (long long)s[k], a), -1;
    }
    return n;
}

/* x cropped or zero-padded to length len on axis. Which of the two is not
 * known while tracing when either length is symbolic (and unequal). */
static tg_tensor *fit(const char *op, tg_tensor *x, int axis, int64_t len) {
    int64_t cur = x->shape[axis];
    if (cur == len) return x;
    if (tg__is_sym_size(cur) || tg__is_sym_size(len)) {
        char a[64], b[64];
        tg__fmt_size(a, sizeof a, cur);
        tg__fmt_size(b, sizeof b, len);
        return tg__error(TG_ERR_UNSUPPORTED,
                         "tg_fft_%s: axis %d has %s points and %s are asked for: cropping or padding a symbolic "
                         "length is not supported (give the axis's own length)", op, axis, a, b), NULL;
    }
    if (cur > len) return tg_slice(x, axis, 0, len, 1);
    if (cur < len) {
        int64_t pads[2 * TG_MAX_DIMS] = {0};
        pads[2 * axis + 1] = len - cur;
        return tg_pad(x, pads, 0.0);
    }
    return x;
}

/* The common path: kind, direction (c2c), norm. */
static tg_tensor *transform(const char *op, tg_tensor *x, int naxes, const int *axes, const int64_t *sizes,
                            const char *norm, int kind, bool inverse) {
    if (!check_input(op, x)) return NULL;
    int mode = parse_norm(op, norm);
    if (mode < 0) return NULL;
    int ax[TG_MAX_DIMS];
    int64_t s[TG_MAX_DIMS];
    int n = resolve(op, x, naxes, axes, sizes, kind, ax, s);
    if (n < 0) return NULL;
    tg_dtype want;
    if (kind == TG_FFT_R2C) {
        if (tg_dtype_is_complex(x->dtype))
            return tg__error(TG_ERR_DTYPE, "tg_fft_%s: expects a real input, got %s", op, tg_dtype_name(x->dtype)),
                   NULL;
        want = x->dtype == TG_F32 || x->dtype == TG_F16 || x->dtype == TG_BF16 ? TG_F32 : TG_F64;
    } else {
        want = tg_complex_dtype(x->dtype);
    }
    int scale = inverse ? 2 - mode : mode;
    /* the input length each axis needs */
    int64_t need[TG_MAX_DIMS];
    for (int k = 0; k < n; k++) need[k] = kind == TG_FFT_C2R && k == n - 1 ? tg__fft_half_bins(s[k]) : s[k];
    bool fits = x->dtype == want;
    for (int k = 0; k < n && fits; k++) fits = x->shape[ax[k]] == need[k];
    if (fits) {
        /* no cast, pad or crop: the primitive alone (its result is the caller's) */
        if (kind == TG_FFT_C2C) return tg__fft_c2c(x, inverse ? 1 : -1, scale, n, ax);
        if (kind == TG_FFT_R2C) return tg__fft_r2c(x, scale, n, ax);
        return tg__fft_c2r(x, scale, s[n - 1], n, ax);
    }
    tg_scope_begin();
    tg_tensor *y = x->dtype == want ? x : tg_cast(x, want);
    for (int k = 0; k < n && y; k++) y = fit(op, y, ax[k], need[k]);
    tg_tensor *r = NULL;
    if (y) {
        if (kind == TG_FFT_C2C) r = tg__fft_c2c(y, inverse ? 1 : -1, scale, n, ax);
        else if (kind == TG_FFT_R2C) r = tg__fft_r2c(y, scale, n, ax);
        else r = tg__fft_c2r(y, scale, s[n - 1], n, ax);
    }
    tg_keep(r);
    tg_scope_end();
    return r;
}

static tg_tensor *one_axis(const char *op, tg_tensor *x, int64_t n, int axis, const char *norm, int kind,
                           bool inverse) {
    int64_t sz = n;
    return transform(op, x, 1, &axis, &sz, norm, kind, inverse);
}

tg_tensor *tg_fft_fft(tg_tensor *x, int64_t n, int axis, const char *norm) {
    return one_axis("fft", x, n, axis, norm, TG_FFT_C2C, false);
}
tg_tensor *tg_fft_ifft(tg_tensor *x, int64_t n, int axis, const char *norm) {
    return one_axis("ifft", x, n, axis, norm, TG_FFT_C2C, true);
}
tg_tensor *tg_fft_rfft(tg_tensor *x, int64_t n, int axis, const char *norm) {
    return one_axis("rfft", x, n, axis, norm, TG_FFT_R2C, false);
}
tg_tensor *tg_fft_irfft(tg_tensor *x, int64_t n, int axis, const char *norm) {
    return one_axis("irfft", x, n, axis, norm, TG_FFT_C2R, true);
}
/* NumPy: hfft(a, n, norm) = irfft(conj(a), n, dual(norm));
 *        ihfft(a, n, norm) = conj(rfft(a, n, dual(norm))). */
tg_tensor *tg_fft_hfft(tg_tensor *x, int64_t n, int axis, const char *norm) {
    if (!check_input("hfft", x)) return NULL;
    int mode = parse_norm("hfft", norm);
    if (mode < 0) return NULL;
    tg_scope_begin();
    tg_tensor *r = one_axis("hfft", tg_conj(x), n, axis, dual_norm(mode), TG_FFT_C2R, true);
    tg_keep(r);
    tg_scope_end();
    return r;
}
tg_tensor *tg_fft_ihfft(tg_tensor *x, int64_t n, int axis, const char *norm) {
    if (!check_input("ihfft", x)) return NULL;
    int mode = parse_norm("ihfft", norm);
    if (mode < 0) return NULL;
    tg_scope_begin();
    tg_tensor *r = one_axis("ihfft", x, n, axis, dual_norm(mode), TG_FFT_R2C, false);
    if (r) r = tg_conj(r);
    tg_keep(r);
    tg_scope_end();
    return r;
}

tg_tensor *tg_fft_fftn(tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, const char *norm) {
    return transform("fftn", x, naxes, axes, sizes, norm, TG_FFT_C2C, false);
}
tg_tensor *tg_fft_ifftn(tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, const char *norm) {
    return transform("ifftn", x, naxes, axes, sizes, norm, TG_FFT_C2C, true);
}
tg_tensor *tg_fft_rfftn(tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, const char *norm) {
    return transform("rfftn", x, naxes, axes, sizes, norm, TG_FFT_R2C, false);
}
tg_tensor *tg_fft_irfftn(tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, const char *norm) {
    return transform("irfftn", x, naxes, axes, sizes, norm, TG_FFT_C2R, true);
}

static const int last_two[2] = {-2, -1};
tg_tensor *tg_fft_fft2(tg_tensor *x, const int64_t *sizes, const char *norm) {
    return transform("fft2", x, 2, last_two, sizes, norm, TG_FFT_C2C, false);
}
tg_tensor *tg_fft_ifft2(tg_tensor *x, const int64_t *sizes, const char *norm) {
    return transform("ifft2", x, 2, last_two, sizes, norm, TG_FFT_C2C, true);
}
tg_tensor *tg_fft_rfft2(tg_tensor *x, const int64_t *sizes, const char *norm) {
    return transform("rfft2", x, 2, last_two, sizes, norm, TG_FFT_R2C, false);
}
tg_tensor *tg_fft_irfft2(tg_tensor *x, const int64_t *sizes, const char *norm) {
    return transform("irfft2", x, 2, last_two, sizes, norm, TG_FFT_C2R, true);
}
