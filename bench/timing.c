/* Timing helper shared by the benchmark programs; see timing.h. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include "timing.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

double bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double time_batch(bench_fn fn, void *arg, long batch) {
    double t0 = bench_now_ns();
    for (long i = 0; i < batch; i++) fn(arg);
    return bench_now_ns() - t0;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The implementations are sampled in turn (one sample of each per round), so
 * load from other processes on a shared machine hits them alike and their
 * ratio stays meaningful. */
void bench_measure(int nfn, const bench_fn *fns, void *arg, double *med, int *n_samples) {
    static double samples[BENCH_MAX_IMPLS][BENCH_MAX_SAMPLES];
    long batch[BENCH_MAX_IMPLS];
    if (nfn < 1 || nfn > BENCH_MAX_IMPLS) {
        fprintf(stderr, "bench_measure: %d implementations, at most %d\n", nfn, BENCH_MAX_IMPLS);
        exit(2);
    }
    for (int k = 0; k < nfn; k++) {
        /* Warm-up: at least one call and BENCH_WARMUP_NS in all (first touch,
         * BLAS buffers, caches); the fastest warm-up call sizes the batch. */
        double fastest = INFINITY, warm = 0;
        do {
            double t = time_batch(fns[k], arg, 1);
            warm += t;
            if (t < fastest) fastest = t;
        } while (warm < BENCH_WARMUP_NS);
        batch[k] = fastest >= BENCH_MIN_SAMPLE_NS ? 1 : (long)ceil(BENCH_MIN_SAMPLE_NS / fmax(fastest, 1.0));
    }
    int n = 0;
    double spent = 0;
    while (n < BENCH_MAX_SAMPLES && (n < BENCH_MIN_SAMPLES || spent < nfn * BENCH_TARGET_NS)) {
        for (int k = 0; k < nfn; k++) {
            double t = time_batch(fns[k], arg, batch[k]);
            spent += t;
            samples[k][n] = t / (double)batch[k];
        }
        n++;
    }
    for (int k = 0; k < nfn; k++) {
        double *v = samples[k];
        qsort(v, (size_t)n, sizeof v[0], cmp_double);
        med[k] = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }
    *n_samples = n;
}
