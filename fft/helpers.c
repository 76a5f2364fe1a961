/* fftshift / ifftshift (composites of slices and concat, so differentiable
 * and traceable) and the sample frequencies fftfreq / rfftfreq. */
#include <stdlib.h>

#include "fft/fft_internal.h"
#include "tangent/fft.h"

/* Roll by +n/2 (fftshift) or -(n/2) (ifftshift) along each axis. */
static tg_tensor *shift(const char *op, tg_tensor *x, int naxes, const int *axes, bool inverse) {
    if (!x) {
        if (tg_last_error_code() == TG_OK) tg__error(TG_ERR_ARG, "tg_fft_%s: input is NULL", op);
        return NULL;
    }
    int nd = x->ndim;
    if (naxes < 0 || naxes > nd || (!axes && naxes != 0))
        return tg__error(TG_ERR_ARG, "tg_fft_%s: invalid number of axes %d for a %d-d input", op, naxes, nd), NULL;
    int n = axes ? naxes : nd;
    int ax[TG_MAX_DIMS];
    bool seen[TG_MAX_DIMS] = {false};
    for (int k = 0; k < n; k++) {
        int a = axes ? axes[k] : k;
        if (a < -nd || a >= nd)
            return tg__error(TG_ERR_ARG, "tg_fft_%s: axis %d is out of range for a %d-d input", op, a, nd), NULL;
        if (a < 0) a += nd;
        if (seen[a]) return tg__error(TG_ERR_ARG, "tg_fft_%s: repeated axis %d", op, axes[k]), NULL;
        seen[a] = true;
        ax[k] = a;
    }
    tg_scope_begin();
    tg_tensor *y = x;
    for (int k = 0; k < n && y; k++) {
        int64_t len = y->shape[ax[k]];
        /* roll by r: y[i] = x[(i - r) mod len]; a symbolic len gives symbolic
         * slice bounds (empty parts when len is 1) */
        int64_t half = tg__is_sym_size(len) ? tg_size_floordiv(len, 2) : len / 2;
        int64_t r = inverse ? tg_size_sub(len, half) : half, cut = tg_size_sub(len, r);
        if (!tg__is_sym_size(len) && (len < 2 || r == 0 || r == len)) continue;
        tg_tensor *parts[2] = {tg_slice(y, ax[k], cut, len, 1), tg_slice(y, ax[k], 0, cut, 1)};
        y = tg_concat(2, parts, ax[k]);
    }
    if (y == x) y = tg_copy(x);
    tg_keep(y);
    tg_scope_end();
    return y;
}
tg_tensor *tg_fft_fftshift(tg_tensor *x, int naxes, const int *axes) { return shift("fftshift", x, naxes, axes, false); }
tg_tensor *tg_fft_ifftshift(tg_tensor *x, int naxes, const int *axes) { return shift("ifftshift", x, naxes, axes, true); }

static tg_tensor *freq(const char *op, int64_t n, double d, tg_dtype dtype, bool half) {
    if (tg__is_sym_size(n))    /* the values are made here, on the host: a length must be known */
        return tg__error(TG_ERR_UNSUPPORTED, "tg_fft_%s: the window length is a symbolic size; frequencies are "
                         "made from a known length (trace with a fixed one, or pass the frequencies as an input)",
                         op), NULL;
    if (n < 1) return tg__error(TG_ERR_ARG, "tg_fft_%s: invalid window length %lld", op, (long long)n), NULL;
    if (!(d != 0)) return tg__error(TG_ERR_ARG, "tg_fft_%s: invalid sample spacing %g", op, d), NULL;
    if (dtype != TG_F32 && dtype != TG_F64)
        return tg__error(TG_ERR_DTYPE, "tg_fft_%s: dtype must be f32 or f64, got %s", op, tg_dtype_name(dtype)), NULL;
    int64_t m = half ? n / 2 + 1 : n;
    if (m > ((int64_t)1 << 46) / (int64_t)sizeof(double))    /* the allocator's limit; no size_t overflow */
        return tg__error(TG_ERR_MEMORY, "tg_fft_%s: out of memory for %lld frequencies", op, (long long)m), NULL;
    double *v = malloc((size_t)m * sizeof *v);
    if (!v) return tg__error(TG_ERR_MEMORY, "tg_fft_%s: out of memory", op), NULL;
    double val = 1.0 / ((double)n * d);
    for (int64_t i = 0; i < m; i++) {
        int64_t k = half || i <= (n - 1) / 2 ? i : i - n;
        v[i] = (double)k * val;
    }
    tg_scope_begin();
    tg_tensor *r = tg_from_data(TG_F64, 1, &m, v);
    if (r && dtype != TG_F64) r = tg_cast(r, dtype);
    tg_keep(r);
    tg_scope_end();
    free(v);
    return r;
}
tg_tensor *tg_fft_fftfreq(int64_t n, double d, tg_dtype dtype) { return freq("fftfreq", n, d, dtype, false); }
tg_tensor *tg_fft_rfftfreq(int64_t n, double d, tg_dtype dtype) { return freq("rfftfreq", n, d, dtype, true); }
