/* fft/split.c: transforms over strided axes of large arrays run one pass
 * per axis through blocks of columns. The cases are big enough to take
 * that path (at least 2^14 points, strided axes of a multiple of 64
 * elements) and shaped to reach each of its branches: odd lengths, no
 * innermost transform axis (a copy first),
 * a batch axis between transform axes, r2c and c2r, f32, strided inputs,
 * two threads. The reference is a direct O(n^2) DFT along each axis in
 * this file (numpy.fft's definitions), independent of FFTW. */
#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/check.h"

#define TEST_PI 3.14159265358979323846

TestSuite(fft_passes, .init = tg_clear_error, .fini = tg_clear_error);

/* the library's count of split problems (the tests link the static library) */
long long tg__fft_split_count(void);

/* In place: a[.., k, ..] = sum_j a[.., j, ..] e^{sign 2 pi i j k / n} along
 * `axis` of a contiguous array of `nd` dims. */
static void dft_axis(double complex *a, int nd, const int64_t *shape, int axis, int sign) {
    int64_t n = shape[axis], inner = 1, outer = 1;
    for (int d = axis + 1; d < nd; d++) inner *= shape[d];
    for (int d = 0; d < axis; d++) outer *= shape[d];
    double complex *tw = malloc(sizeof *tw * (size_t)n), *col = malloc(sizeof *col * (size_t)n);
    for (int64_t m = 0; m < n; m++) tw[m] = cexp(sign * 2.0 * TEST_PI * I * (double)m / (double)n);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            double complex *base = a + o * n * inner + j;
            for (int64_t k = 0; k < n; k++) {
                double complex s = 0;
                for (int64_t t = 0; t < n; t++) s += base[t * inner] * tw[t * k % n];
                col[k] = s;
            }
            for (int64_t k = 0; k < n; k++) base[k * inner] = col[k];
        }
    free(tw);
    free(col);
}

/* The elements of t, row-major, as c128 (real tensors get zero imaginary parts). */
static double complex *values(tg_tensor *t) {
    tg_scope_begin();
    tg_tensor *c = tg_cast(t, TG_C128);
    int64_t n = tg_numel(c);
    double complex *v = malloc(sizeof *v * (size_t)(n ? n : 1));
    cr_assert(c && tg_copy_to(c, v, sizeof *v * (size_t)n) == TG_OK, "%s", tg_last_error());
    tg_scope_end();
    return v;
}

/* max |got - want| / max |want| over n elements */
static double rel_error(const double complex *got, const double complex *want, int64_t n) {
    double err = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        err = fmax(err, cabs(got[i] - want[i]));
        scale = fmax(scale, cabs(want[i]));
    }
    return err / scale;
}

static void expect_close(tg_tensor *got, const double complex *want, double tol, const char *what) {
    cr_assert(got, "%s: %s", what, tg_last_error());
    double complex *g = values(got);
    double e = rel_error(g, want, tg_numel(got));
    cr_expect(e <= tol, "%s: relative error %.3g > %.3g", what, e, tol);
    free(g);
}

/* c2c over `naxes` axes of a tensor of shape `shape`, in dtype dt. */
static void check_c2c(tg_dtype dt, int nd, const int64_t *shape, int naxes, const int *axes, int sign, double tol,
                      const char *what) {
    tg_scope_begin();
    tg_tensor *x = tg_randn(dt, nd, shape);
    double complex *want = values(x);
    for (int k = 0; k < naxes; k++) dft_axis(want, nd, shape, axes[k], sign);
    long long s0 = tg__fft_split_count();
    tg_tensor *y = sign < 0 ? tg_fft_fftn(x, naxes, axes, NULL, "backward") : tg_fft_ifftn(x, naxes, axes, NULL, "forward");
    cr_expect_eq(tg__fft_split_count(), s0 + 1, "%s: not run as one pass per axis", what);
    expect_close(y, want, tol, what);
    free(want);
    tg_scope_end();
}

Test(fft_passes, fft2_of_odd_lengths) {
    check_c2c(TG_C128, 2, (int64_t[]){99, 192}, 2, (int[]){0, 1}, -1, 1e-12, "fft2 99x192 c128");
    check_c2c(TG_C128, 2, (int64_t[]){99, 192}, 2, (int[]){0, 1}, 1, 1e-12, "ifft2 99x192 c128 (unscaled)");
    check_c2c(TG_C64, 2, (int64_t[]){136, 128}, 2, (int[]){1, 0}, -1, 2e-5, "fft2 136x128 c64, axes reversed");
}

Test(fft_passes, strided_axis_alone_is_copied_then_transformed) {
    /* a transform along axis 0 only: no transform axis is innermost */
    check_c2c(TG_C128, 2, (int64_t[]){160, 128}, 1, (int[]){0}, -1, 1e-12, "fft axis 0 of 160x128");
    check_c2c(TG_C64, 3, (int64_t[]){90, 4, 64}, 1, (int[]){0}, -1, 2e-5, "fft axis 0 of 90x4x64 c64");
}

Test(fft_passes, batch_axis_between_transform_axes) {
    check_c2c(TG_C128, 3, (int64_t[]){40, 3, 192}, 2, (int[]){0, 2}, -1, 1e-12, "fftn axes 0,2 of 40x3x192");
    check_c2c(TG_C128, 3, (int64_t[]){20, 24, 64}, 3, (int[]){0, 1, 2}, -1, 1e-12, "fftn 20x24x64");
}

Test(fft_passes, strided_input_view) {
    tg_scope_begin();
    int64_t shape[2] = {192, 120};
    tg_tensor *base = tg_randn(TG_C128, 2, shape);
    tg_tensor *x = tg_transpose(base, 0, 1);   /* 120 x 192, strides (1, 120) */
    double complex *want = values(x);
    long long s0 = tg__fft_split_count();
    int64_t ts[2] = {120, 192};
    dft_axis(want, 2, ts, 0, -1);
    dft_axis(want, 2, ts, 1, -1);
    expect_close(tg_fft_fft2(x, NULL, NULL), want, 1e-12, "fft2 of a transposed view");
    cr_expect_eq(tg__fft_split_count(), s0 + 1, "not split");
    free(want);
    tg_scope_end();
}

Test(fft_passes, rfft2_and_irfft2) {
    tg_scope_begin();
    int64_t shape[2] = {132, 126}, half = 126 / 2 + 1;
    tg_tensor *x = tg_randn(TG_F64, 2, shape);
    double complex *full = values(x);
    dft_axis(full, 2, shape, 0, -1);
    dft_axis(full, 2, shape, 1, -1);
    double complex *want = malloc(sizeof *want * (size_t)(132 * half));
    for (int64_t i = 0; i < 132; i++) memcpy(want + i * half, full + i * 126, sizeof *want * (size_t)half);
    long long s0 = tg__fft_split_count();
    tg_tensor *X = tg_fft_rfft2(x, NULL, NULL);
    expect_close(X, want, 1e-12, "rfft2 132x126 f64");
    /* c2r: ifft along axis 0, then along the last axis the bins' Hermitian
     * extension (numpy.fft.irfftn's definition; imaginary parts of the DC
     * and Nyquist bins ignored), scaled by 1/N */
    tg_tensor *Z = tg_randn(TG_C128, 2, (int64_t[]){132, half});
    double complex *z = values(Z);
    dft_axis(z, 2, (int64_t[]){132, half}, 0, 1);
    double complex *y = malloc(sizeof *y * (size_t)(132 * 126));
    for (int64_t i = 0; i < 132; i++)
        for (int64_t j = 0; j < 126; j++) {
            const double complex *r = z + i * half;
            double s = creal(r[0]) + creal(r[63]) * (j % 2 ? -1 : 1);
            for (int64_t k = 1; k < 63; k++) s += 2 * creal(r[k] * cexp(2.0 * TEST_PI * I * (double)(j * k % 126) / 126.0));
            y[i * 126 + j] = s / (132.0 * 126.0);
        }
    expect_close(tg_fft_irfft2(Z, (int64_t[]){132, 126}, NULL), y, 1e-12, "irfft2 132x126 c128");
    cr_expect_eq(tg__fft_split_count(), s0 + 2, "rfft2 and irfft2 not split");
    /* and the round trip in f32 */
    tg_tensor *xf = tg_randn(TG_F32, 2, (int64_t[]){256, 126});
    double complex *xv = values(xf);
    expect_close(tg_fft_irfft2(tg_fft_rfft2(xf, NULL, NULL), (int64_t[]){256, 126}, NULL), xv, 1e-5,
                 "irfft2(rfft2(x)) f32");
    free(full);
    free(want);
    free(z);
    free(y);
    free(xv);
    tg_scope_end();
}

Test(fft_passes, two_threads_give_the_same_values) {
    tg_scope_begin();
    int64_t shape[2] = {256, 256};   /* 2^16 points: blocks spread over threads */
    tg_tensor *x = tg_randn(TG_C128, 2, shape);
    int before = tg_get_num_threads();
    tg_set_num_threads(1);
    double complex *one = values(tg_fft_fft2(x, NULL, NULL));
    tg_set_num_threads(2);
    double complex *two = values(tg_fft_fft2(x, NULL, NULL));
    tg_set_num_threads(before);
    double complex *want = values(x);
    dft_axis(want, 2, shape, 0, -1);
    dft_axis(want, 2, shape, 1, -1);
    cr_expect(rel_error(one, want, 256 * 256) <= 1e-12, "1 thread");
    cr_expect(rel_error(two, want, 256 * 256) <= 1e-12, "2 threads");
    free(one);
    free(two);
    free(want);
    tg_scope_end();
}
