/* Fast Fourier transforms over FFTW3. */
#ifndef TANGENT_FFT_H
#define TANGENT_FFT_H
#include "tangent/tensor.h"
#ifdef __cplusplus
extern "C" {
#endif
tg_tensor *tg_fft_fftn(tg_tensor *x, int naxes, const int *axes, const int64_t *sizes, const char *norm);
     /* axes NULL: all axes; sizes NULL: the input's; norm NULL: "backward" */
#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_FFT_H
#include "tangent/location.h"
#endif
