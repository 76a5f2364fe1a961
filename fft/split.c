/* Multi-axis transforms as one pass per axis (docs/fft.md, "Strided axes").
 *
 * FFTW_ESTIMATE plans a 2-D transform, or a batch of 1-D transforms along a
 * non-last axis, as 1-D transforms that walk the array with its full
 * stride. On power-of-two sizes all the elements of such a column fall into
 * the same few cache sets: 1024 x 1024 c128 takes 56 ms, where the same
 * arithmetic along contiguous rows takes 2.4 ms. Here such a problem runs
 * on its contiguous work array (the output; for c2r the input copy) as:
 *   - one pass along the transform axis that is innermost in the output,
 *     out of place from the input with FFTW's own strides (r2c: the halved
 *     axis, which must be innermost); a strided copy when none is;
 *   - for every other transform axis whose stride is a multiple of
 *     ALIAS_STRIDE (the others FFTW walks well), blocks of BLOCK columns gathered into
 *     BLOCK contiguous rows of a scratch array, transformed in place there
 *     and scattered back (c2r: these passes come first, on its input).
 * Blocks are spread over threads, each with its own scratch array. Results
 * equal FFTW's multi-dimensional plans to rounding (same 1-D transforms,
 * another order). With a measuring planner FFTW finds such strategies
 * itself, so only FFTW_ESTIMATE problems are split. */
#include <fftw3.h>
#include <omp.h>
#include <stdatomic.h>
#include <string.h>

#include "fft/fft_internal.h"

/* Columns per block: 8 c128 columns of 1024 points (128 KiB) fit in L2;
 * 4 and 16 measured 10-20% slower on 1024 x 1024, 32 and more 2x. */
#define BLOCK 8
/* Below this many points FFTW's own plan costs less than the passes. */
#define SPLIT_MIN_POINTS (1 << 14)
/* Only strides of a multiple of this many elements are split: those map a
 * column onto a fraction of the cache sets. Other strides FFTW walks well
 * (1000 x 1000: 8.8 ms direct, 9.4 ms split; 2048 x 48 along axis 0:
 * 0.32 against 0.48 ms), and narrower columns fill too little of a block. */
#define ALIAS_STRIDE 64
_Static_assert(ALIAS_STRIDE % BLOCK == 0, "column passes run whole blocks");
/* Blocks go to threads from this many points (as FFTW's threads, plan.c). */
#define THREAD_MIN_POINTS (1 << 16)

typedef struct { double re, im; } cplx64x2;
typedef struct { float re, im; } cplx32x2;

/* buf[k * n + i] = col[i * inner + k] for k < w (and back): w columns of a
 * row-major block to w contiguous rows. */
#define DEFINE_MOVES(T)                                                                      \
    static void gather_##T(T *buf, const T *col, int64_t n, int64_t inner, int64_t w) {     \
        for (int64_t i = 0; i < n; i++)                                                      \
            for (int64_t k = 0; k < w; k++) buf[k * n + i] = col[i * inner + k];             \
    }                                                                                        \
    static void scatter_##T(T *col, const T *buf, int64_t n, int64_t inner, int64_t w) {    \
        for (int64_t i = 0; i < n; i++)                                                      \
            for (int64_t k = 0; k < w; k++) col[i * inner + k] = buf[k * n + i];             \
    }
DEFINE_MOVES(cplx64x2)
DEFINE_MOVES(cplx32x2)

static void gather(bool dbl, void *buf, const char *col, int64_t n, int64_t inner, int64_t w) {
    if (dbl) gather_cplx64x2(buf, (const cplx64x2 *)col, n, inner, w);
    else gather_cplx32x2(buf, (const cplx32x2 *)col, n, inner, w);
}
static void scatter(bool dbl, char *col, const void *buf, int64_t n, int64_t inner, int64_t w) {
    if (dbl) scatter_cplx64x2((cplx64x2 *)col, buf, n, inner, w);
    else scatter_cplx32x2((cplx32x2 *)col, buf, n, inner, w);
}

/* In-place c2c transforms of length n along the axis of stride `inner` of
 * the contiguous complex array `base` of `total` elements. */
static tg_status column_pass(bool dbl, int sign, char *base, int64_t total, int64_t n, int64_t inner) {
    size_t es = dbl ? 2 * sizeof(double) : 2 * sizeof(float);
    const int64_t bw = BLOCK, per_row = inner / BLOCK, blocks = total / (n * inner) * per_row;
    int nth = total >= THREAD_MIN_POINTS ? tg__num_threads() : 1;
    if (nth > blocks) nth = (int)blocks;
    void *scratch[64] = {NULL};
    if (nth > 64) nth = 64;
    tg_status st = TG_OK;
    for (int t = 0; t < nth && st == TG_OK; t++)
        if (!(scratch[t] = fftw_malloc((size_t)(n * bw) * es)))
            st = tg__error(TG_ERR_MEMORY, "fft: cannot allocate %lld bytes of scratch", (long long)(n * bw) * (long long)es);
    tg_fft_problem full = {.kind = TG_FFT_C2C, .dtype = dbl, .sign = sign, .rank = 1, .howmany_rank = 1,
                           .inplace = true, .serial = true, .dims = {{n, 1, 1}}, .howmany = {{bw, n, n}}};
    bool owned = false;
    void *plan = NULL;
    if (st == TG_OK && !(plan = tg__fft_plan_acquire(&full, scratch[0], scratch[0], &owned))) st = tg_last_error_code();
    if (st == TG_OK) {
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static)
        for (int64_t b = 0; b < blocks; b++) {
            void *buf = scratch[omp_get_thread_num()];
            char *col = base + (size_t)((b / per_row) * n * inner + b % per_row * bw) * es;
            gather(dbl, buf, col, n, inner, bw);
            tg__fft_plan_run(&full, plan, buf, buf);
            scatter(dbl, col, buf, n, inner, bw);
        }
    }
    if (plan) tg__fft_plan_release(&full, plan, owned);
    for (int t = 0; t < nth; t++) fftw_free(scratch[t]);
    return st;
}

/* Copies a strided array (rank dims, element size es) to out's strides. */
static void copy_strided(int rank, const tg_fft_dim *d, const char *in, char *out, size_t es) {
    if (rank == 0) { memcpy(out, in, es); return; }
    for (int64_t i = 0; i < d[0].n; i++)
        copy_strided(rank - 1, d + 1, in + (size_t)(i * d[0].is) * es, out + (size_t)(i * d[0].os) * es, es);
}

/* Extent of dimension d of the work array: the halved axis holds n/2 + 1. */
static int64_t work_extent(const tg_fft_problem *p, int t) {
    return p->kind != TG_FFT_C2C && t == p->rank - 1 ? p->dims[t].n / 2 + 1 : p->dims[t].n;
}

static atomic_llong splits;   /* problems run here (tests) */
long long tg__fft_split_count(void) { return atomic_load(&splits); }

bool tg__fft_split_execute(const tg_fft_problem *p, void *in, void *out, tg_status *st) {
    if (p->rank + p->howmany_rank < 2) return false;   /* a single 1-D transform */
    bool on_in = p->kind == TG_FFT_C2R;   /* the column passes run on the input */
    /* the work array's dims of extent > 1: transform dims first, then batch */
    tg_fft_dim all[2 * TG_MAX_DIMS];
    int64_t stride[2 * TG_MAX_DIMS], extent[2 * TG_MAX_DIMS], total = 1, points = 1;
    bool is_axis[2 * TG_MAX_DIMS];
    int nd = 0, inner_axis = -1;
    for (int t = 0; t < p->rank + p->howmany_rank; t++) {
        bool axis = t < p->rank;
        tg_fft_dim d = axis ? p->dims[t] : p->howmany[t - p->rank];
        int64_t ext = axis ? work_extent(p, t) : d.n;
        points *= d.n;
        if (ext == 1 && !(axis && t == p->rank - 1 && p->kind != TG_FFT_C2C)) continue;
        all[nd] = d;
        stride[nd] = on_in ? d.is : d.os;
        extent[nd] = ext;
        is_axis[nd] = axis;
        total *= ext;
        if (axis && stride[nd] == 1) inner_axis = nd;
        nd++;
    }
    if (!tg__fft_planner_estimates() || points < SPLIT_MIN_POINTS) return false;
    /* The work array must be dense: strides, sorted, are the suffix
     * products of the extents (ties cannot occur among extents > 1). */
    int64_t expect = 1;
    for (int found = 0; found < nd; found++) {
        int k = -1;
        for (int j = 0; j < nd; j++)
            if (stride[j] == expect) k = j;
        if (k < 0) return false;
        expect *= extent[k];
    }
    /* the halved axis of r2c / c2r must be the innermost one */
    int halved = p->kind == TG_FFT_C2C ? -1 : p->rank - 1;
    if (halved >= 0 && (inner_axis != halved || p->dims[halved].n < 2)) return false;
    bool strided_axis = false;
    for (int k = 0; k < nd; k++) strided_axis |= is_axis[k] && k != inner_axis && all[k].n > 1 && stride[k] % ALIAS_STRIDE == 0;
    if (!strided_axis) return false;

    bool dbl = p->dtype;
    int sign = p->kind == TG_FFT_C2C ? p->sign : (p->kind == TG_FFT_R2C ? -1 : 1);
    size_t es = dbl ? 2 * sizeof(double) : 2 * sizeof(float);
    /* the pass along the innermost axis, everything else its batch */
    tg_fft_problem first = {.kind = p->kind, .dtype = p->dtype, .sign = p->sign, .rank = 1};
    if (inner_axis >= 0) {
        first.dims[0] = all[inner_axis];
        for (int k = 0; k < nd; k++)
            if (k != inner_axis) first.howmany[first.howmany_rank++] = all[k];
    }
    atomic_fetch_add(&splits, 1);
    *st = TG_OK;
    if (!on_in) {
        if (inner_axis >= 0) *st = tg__fft_execute(&first, in, out);
        else copy_strided(nd, all, in, out, es);
    }
    for (int k = 0; k < nd && *st == TG_OK; k++)
        if (is_axis[k] && k != inner_axis && all[k].n > 1)
            *st = column_pass(dbl, sign, on_in ? in : out, total, all[k].n, stride[k]);
    if (on_in && *st == TG_OK) *st = tg__fft_execute(&first, in, out);
    return true;
}
