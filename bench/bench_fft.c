/* FFT benchmark: Tangent's transforms against a direct FFTW call with the
 * same planner flag (FFTW_ESTIMATE unless --planner says otherwise, out of
 * place, plan made once, as many FFTW threads as Tangent's plan) on the
 * same data, timed in one process (bench/timing.h). NumPy and PyTorch run in
 * bench/baseline.py --suite fft. Output: DESIGN.md section 9's JSON lines.
 *
 *   bench_fft [--threads N] [--filter SUBSTRING] [--planner estimate|measure|patient] */
#include <complex.h>
#include <fftw3.h>
#include <tangent/tangent.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

typedef struct {
    const char *name;
    int ndim;
    int64_t shape[3];
    bool real;                    /* rfft of real input (last axis), else complex fftn over all axes */
} fft_case;

static const fft_case cases[] = {
    {"fft_c128_2^10", 1, {1 << 10}, false}, {"fft_c128_2^16", 1, {1 << 16}, false},
    {"fft_c128_2^20", 1, {1 << 20}, false}, {"fft_c128_2^22", 1, {1 << 22}, false},
    {"rfft_f64_2^16", 1, {1 << 16}, true},  {"rfft_f64_2^20", 1, {1 << 20}, true},
    {"fft2_c128_1024x1024", 2, {1024, 1024}, false}, {"fftn_c128_128^3", 3, {128, 128, 128}, false},
    {"fft_c128_10007", 1, {10007}, false},
};

typedef struct {
    const fft_case *c;
    tg_tensor *x;                 /* input */
    fftw_plan plan;               /* the direct call */
    void *in, *out;
} job;

static void run_tangent(void *p) {
    job *j = p;
    tg_tensor *y = j->c->real ? tg_fft_rfft(j->x, TG_NONE, -1, NULL) : tg_fft_fftn(j->x, 0, NULL, NULL, NULL);
    if (!y) { fprintf(stderr, "bench_fft: %s\n", tg_last_error()); exit(1); }
    tg_release(y);
}

static void run_fftw(void *p) { fftw_execute(((job *)p)->plan); }

int main(int argc, char **argv) {
    int threads = 1;
    const char *filter = NULL;
    unsigned flag = FFTW_ESTIMATE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "--planner") && i + 1 < argc) {
            const char *mode = argv[++i];
            if (tg_fft_set_planner(mode) != TG_OK) { fprintf(stderr, "bench_fft: %s\n", tg_last_error()); return 2; }
            flag = !strcmp(mode, "measure") ? FFTW_MEASURE : !strcmp(mode, "patient") ? FFTW_PATIENT : FFTW_ESTIMATE;
        } else {
            fprintf(stderr, "usage: bench_fft [--threads N] [--filter SUBSTRING] [--planner MODE]\n");
            return 2;
        }
    }
    tg_set_num_threads(threads);
    fftw_init_threads();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const fft_case *c = &cases[k];
        if (filter && !strstr(c->name, filter)) continue;
        job j = {.c = c};
        int64_t n = 1;
        int dims[3];
        for (int d = 0; d < c->ndim; d++) { n *= c->shape[d]; dims[d] = (int)c->shape[d]; }
        tg_manual_seed(k + 1);
        j.x = c->real ? tg_randn(TG_F64, c->ndim, c->shape) : tg_randn(TG_C128, c->ndim, c->shape);
        int64_t nout = c->real ? n / c->shape[c->ndim - 1] * (c->shape[c->ndim - 1] / 2 + 1) : n;
        j.in = fftw_malloc((size_t)n * (c->real ? sizeof(double) : sizeof(fftw_complex)));
        j.out = fftw_malloc((size_t)nout * sizeof(fftw_complex));
        /* the same FFTW threads as Tangent's plan (fft/plan.c: 2^16 points and up) */
        fftw_plan_with_nthreads(n >= (1 << 16) ? threads : 1);
        j.plan = c->real ? fftw_plan_dft_r2c(c->ndim, dims, j.in, j.out, flag)
                         : fftw_plan_dft(c->ndim, dims, j.in, j.out, FFTW_FORWARD, flag);
        tg_copy_to(j.x, j.in, (size_t)n * (c->real ? sizeof(double) : sizeof(fftw_complex)));
        bench_fn fns[2] = {run_tangent, run_fftw};
        double med[2];
        int samples;
        bench_measure(2, fns, &j, med, &samples);
        const char *impl[2] = {"tangent", "fftw"};
        for (int q = 0; q < 2; q++) {
            printf("{\"suite\": \"fft\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ns\": %.1f}\n",
                   c->name, impl[q], threads, med[q]);
            fprintf(stderr, "  %-24s %-8s %dT %14.1f ns (%d samples)\n", c->name, impl[q], threads, med[q], samples);
        }
        fflush(stdout);
        fftw_destroy_plan(j.plan);
        fftw_free(j.in);
        fftw_free(j.out);
        tg_release(j.x);
    }
    return 0;
}
