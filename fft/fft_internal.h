/* Internal interface of the fft module (docs/fft.md): the three primitive
 * ops (fft/ops.c) and the FFTW plan cache (fft/plan.c). */
#ifndef TG_FFT_INTERNAL_H
#define TG_FFT_INTERNAL_H

#include "tangent/sizes.h"
#include "tensor/registry.h"

/* Kinds of primitive transform. */
enum tg_fft_kind { TG_FFT_C2C = 0, TG_FFT_R2C = 1, TG_FFT_C2R = 2 };
/* Scale applied after the unnormalised transform over N points. */
enum tg_fft_scale { TG_FFT_SCALE_NONE = 0, TG_FFT_SCALE_SQRT = 1, TG_FFT_SCALE_N = 2 };

/* Primitive ops (differentiable, traceable). axes: naxes distinct axes in
 * [0, ndim); the last one is the halved axis of r2c/c2r. sign: -1 forward
 * (e^{-2 pi i jk/n}), +1 inverse. c2r: n_last is the output length of the
 * last axis; the input's is n_last / 2 + 1. */
tg_tensor *tg__fft_c2c(tg_tensor *x, int sign, int scale, int naxes, const int *axes);
tg_tensor *tg__fft_r2c(tg_tensor *x, int scale, int naxes, const int *axes);
tg_tensor *tg__fft_c2r(tg_tensor *x, int scale, int64_t n_last, int naxes, const int *axes);

/* Sizes on transformed axes may be symbolic under a trace (docs/fft.md);
 * these helpers work on plain and symbolic sizes alike (fft/ops.c). */
/* n / 2 + 1: the bins of a real transform of n points. */
int64_t tg__fft_half_bins(int64_t n);
/* x with `extra` zeros appended along axis (extra >= 0 at run time). */
tg_tensor *tg__fft_zero_extend(tg_tensor *x, int axis, int64_t extra);

/* One FFTW problem: transform dims and batch (howmany) dims, strides in
 * elements of the input and output arrays (non-negative). */
typedef struct tg_fft_dim { int64_t n, is, os; } tg_fft_dim;
typedef struct tg_fft_problem {
    int kind;                /* enum tg_fft_kind */
    int dtype;               /* TG_F64/TG_C128 family: 1 for double, 0 for float */
    int sign;                /* c2c only */
    int rank, howmany_rank;
    bool inplace;            /* in == out (then is == os) */
    bool serial;             /* plan for one FFTW thread (the caller runs threads) */
    tg_fft_dim dims[TG_MAX_DIMS], howmany[TG_MAX_DIMS];
} tg_fft_problem;

/* Runs p from in to out through a cached plan (planned on a miss under the
 * cache lock). in may be destroyed (c2r). Returns TG_OK or an error. */
tg_status tg__fft_execute(const tg_fft_problem *p, void *in, void *out);
/* The same in three steps, for callers that run one plan many times:
 * acquire (NULL and the error set when FFTW cannot plan it), run on any
 * arrays of in's and out's alignment, release (destroys the plan when the
 * full cache could not keep it: *owned). Runs may overlap across threads. */
void *tg__fft_plan_acquire(const tg_fft_problem *p, void *in, void *out, bool *owned);
void tg__fft_plan_run(const tg_fft_problem *p, void *plan, void *in, void *out);
void tg__fft_plan_release(const tg_fft_problem *p, void *plan, bool owned);
/* True while plans are made with FFTW_ESTIMATE (the default). */
bool tg__fft_planner_estimates(void);

/* fft/split.c: runs a multi-axis problem on a contiguous output as one pass
 * per axis, the strided axes through cache-sized blocks copied to scratch,
 * where FFTW_ESTIMATE's own plan would walk large power-of-two strides
 * (1024 x 1024: 56 ms against 6.5 ms here). Returns false, having done
 * nothing, when p is not such a problem; else true with *st the outcome.
 * in may be destroyed (c2r). */
bool tg__fft_split_execute(const tg_fft_problem *p, void *in, void *out, tg_status *st);
/* Problems tg__fft_split_execute has run (tests). */
long long tg__fft_split_count(void);
/* Number of cached plans (tests and docs). */
int tg__fft_plan_cache_size(void);

#endif
