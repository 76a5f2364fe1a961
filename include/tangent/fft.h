/* Fast Fourier transforms over FFTW3 (docs/fft.md), with numpy.fft's
 * semantics: f64/c128 through FFTW's double precision, f32/c64 through its
 * single precision; real inputs of the complex transforms become complex,
 * integers and bools f64/c128; f32 inputs keep f32 (c64 results).
 *
 * norm: NULL or "backward" (forward unscaled, inverse 1/n), "ortho" (both
 * 1/sqrt(n)), "forward" (forward 1/n, inverse unscaled); any other string is
 * TG_ERR_ARG. n / sizes: the number of points used along an axis: the input
 * is cropped or zero-padded to it; TG_NONE: the input's length (irfft:
 * 2 * (m - 1) for m bins). A size < 1 is TG_ERR_ARG. Axes may be negative;
 * repeated or out-of-range axes are TG_ERR_ARG.
 *
 * Every transform is differentiable (any order) and traceable; under a
 * trace, the transformed axes must have fixed sizes (a symbolic one is
 * TG_ERR_UNSUPPORTED). */
#ifndef TANGENT_FFT_H
#define TANGENT_FFT_H
#include "tangent/tensor.h"
#ifdef __cplusplus
extern "C" {
#endif
/* One axis. */
tg_tensor *tg_fft_fft(tg_tensor *x, int64_t n, int axis, const char *norm);
tg_tensor *tg_fft_ifft(tg_tensor *x, int64_t n, int axis, const char *norm);
tg_tensor *tg_fft_rfft(tg_tensor *x, int64_t n, int axis, const char *norm);   /* real x; n/2+1 bins */
tg_tensor *tg_fft_irfft(tg_tensor *x, int64_t n, int axis, const char *norm);  /* n: output length */
tg_tensor *tg_fft_hfft(tg_tensor *x, int64_t n, int axis, const char *norm);   /* irfft(conj(x), dual norm) */
tg_tensor *tg_fft_ihfft(tg_tensor *x, int64_t n, int axis, const char *norm);  /* conj(rfft(x, dual norm)) */

/* Several axes. axes NULL: the last naxes axes (all when naxes is 0);
 * sizes NULL: the input's (an entry TG_NONE likewise); sizes[k] goes with
 * the k-th axis. rfftn/irfftn halve the last listed axis. */
tg_tensor *tg_fft_fftn(tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, const char *norm);
     /* axes NULL: all axes; sizes NULL: the input's; norm NULL: "backward" */
tg_tensor *tg_fft_ifftn(tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, const char *norm);
tg_tensor *tg_fft_rfftn(tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, const char *norm);
tg_tensor *tg_fft_irfftn(tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, const char *norm);

/* The last two axes; sizes: NULL or two entries. */
tg_tensor *tg_fft_fft2(tg_tensor *x, const int64_t *sizes, const char *norm);
tg_tensor *tg_fft_ifft2(tg_tensor *x, const int64_t *sizes, const char *norm);
tg_tensor *tg_fft_rfft2(tg_tensor *x, const int64_t *sizes, const char *norm);
tg_tensor *tg_fft_irfft2(tg_tensor *x, const int64_t *sizes, const char *norm);

/* Zero frequency to the centre and back (axes NULL with naxes 0: all). */
tg_tensor *tg_fft_fftshift(tg_tensor *x, int naxes, const int *axes);
tg_tensor *tg_fft_ifftshift(tg_tensor *x, int naxes, const int *axes);
/* Sample frequencies for window length n >= 1 and spacing d != 0; dtype
 * f32 or f64. */
tg_tensor *tg_fft_fftfreq(int64_t n, double d, tg_dtype dtype);
tg_tensor *tg_fft_rfftfreq(int64_t n, double d, tg_dtype dtype);
/* Planner rigor for plans made from now on: "estimate" (the default, no
 * timing runs), "measure" or "patient" (FFTW times candidates once per new
 * problem; slower to plan, often faster to run, e.g. large 2-D transforms). */
tg_status  tg_fft_set_planner(const char *mode);
/* FFTW wisdom (the measured plans) to and from a file; f32 wisdom goes to
 * path + ".f32". */
tg_status  tg_fft_wisdom_export(const char *path);
tg_status  tg_fft_wisdom_import(const char *path);

#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_FFT_H
#include "tangent/location.h"
#endif
