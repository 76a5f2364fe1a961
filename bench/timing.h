/* Timing helper shared by the benchmark programs (bench_core, bench_autodiff).
 *
 * Timing: warm-up calls for BENCH_WARMUP_NS (at least one), then samples of a
 * batch of calls sized so one sample lasts at least BENCH_MIN_SAMPLE_NS
 * (timer resolution and clock_gettime cost vanish for tiny ops), taken until
 * BENCH_TARGET_NS of sampling per implementation and at least
 * BENCH_MIN_SAMPLES samples; the figure is the median per call. Several
 * implementations of one case are sampled in turn (one sample of each per
 * round), so load from other processes hits them alike. bench/baseline.py
 * follows the same scheme in Python. */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#define BENCH_TARGET_NS 0.2e9       /* sampling time per case and impl */
#define BENCH_MIN_SAMPLES 5
#define BENCH_MAX_SAMPLES 20000
#define BENCH_MAX_IMPLS 4           /* implementations timed side by side */
#define BENCH_MIN_SAMPLE_NS 50e3    /* a sample is at least this long (batches of tiny calls) */
#define BENCH_WARMUP_NS 20e6        /* warm-up time per case and impl (at least one call) */

typedef void (*bench_fn)(void *arg);

/* CLOCK_MONOTONIC in nanoseconds. */
double bench_now_ns(void);

/* Median time of one call of each fns[k](arg), k < nfn <= BENCH_MAX_IMPLS, in
 * nanoseconds, into med[k]; the number of samples (per impl) into *n_samples. */
void bench_measure(int nfn, const bench_fn *fns, void *arg, double *med, int *n_samples);

#endif
