/* FFTW plan cache. A plan is keyed by its whole problem (kind, rank and
 * dims, batch layout, strides, precision, direction) and by the alignment
 * of both arrays; transforms are always out of place on fresh contiguous
 * buffers (64-byte aligned storage), so new-array execution
 * (fftw_execute_dft / _r2c / _c2r) may reuse a plan for any such buffers.
 *
 * FFTW's planner is not thread-safe: every plan is made and destroyed while
 * holding cache_lock. Execution of a plan on new arrays is thread-safe and
 * runs outside the lock. Plans are made with FFTW_ESTIMATE (no timing runs,
 * arrays untouched by the planner). The cache holds at most CACHE_MAX
 * plans; past that a plan is made, used once and destroyed. Everything is
 * released at exit (with fftw_cleanup). */
#include <complex.h>
#include <fftw3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fft/fft_internal.h"

#define CACHE_MAX 512

typedef struct entry {
    tg_fft_problem p;
    int align_in, align_out;
    void *plan;              /* fftw_plan or fftwf_plan */
} entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static entry *cache;
static int cache_n, cache_cap;

static bool dims_equal(int n, const tg_fft_dim *a, const tg_fft_dim *b) {
    for (int i = 0; i < n; i++)
        if (a[i].n != b[i].n || a[i].is != b[i].is || a[i].os != b[i].os) return false;
    return true;
}
static bool same_problem(const entry *e, const tg_fft_problem *p, int ai, int ao) {
    return e->p.kind == p->kind && e->p.dtype == p->dtype && e->p.sign == p->sign && e->p.rank == p->rank &&
           e->p.howmany_rank == p->howmany_rank && e->align_in == ai && e->align_out == ao &&
           dims_equal(p->rank, e->p.dims, p->dims) && dims_equal(p->howmany_rank, e->p.howmany, p->howmany);
}

/* Makes a plan for p on in/out (caller holds cache_lock); NULL when FFTW
 * cannot plan it. */
static void *make_plan(const tg_fft_problem *p, void *in, void *out) {
    unsigned flags = FFTW_ESTIMATE;
    if (p->dtype) {
        fftw_iodim64 d[TG_MAX_DIMS], h[TG_MAX_DIMS];
        for (int i = 0; i < p->rank; i++) d[i] = (fftw_iodim64){p->dims[i].n, p->dims[i].is, p->dims[i].os};
        for (int i = 0; i < p->howmany_rank; i++)
            h[i] = (fftw_iodim64){p->howmany[i].n, p->howmany[i].is, p->howmany[i].os};
        switch (p->kind) {
        case TG_FFT_C2C:
            return fftw_plan_guru64_dft(p->rank, d, p->howmany_rank, h, in, out, p->sign, flags);
        case TG_FFT_R2C:
            return fftw_plan_guru64_dft_r2c(p->rank, d, p->howmany_rank, h, in, out, flags);
        default:
            return fftw_plan_guru64_dft_c2r(p->rank, d, p->howmany_rank, h, in, out, flags);
        }
    }
    fftwf_iodim64 d[TG_MAX_DIMS], h[TG_MAX_DIMS];
    for (int i = 0; i < p->rank; i++) d[i] = (fftwf_iodim64){p->dims[i].n, p->dims[i].is, p->dims[i].os};
    for (int i = 0; i < p->howmany_rank; i++)
        h[i] = (fftwf_iodim64){p->howmany[i].n, p->howmany[i].is, p->howmany[i].os};
    switch (p->kind) {
    case TG_FFT_C2C:
        return fftwf_plan_guru64_dft(p->rank, d, p->howmany_rank, h, in, out, p->sign, flags);
    case TG_FFT_R2C:
        return fftwf_plan_guru64_dft_r2c(p->rank, d, p->howmany_rank, h, in, out, flags);
    default:
        return fftwf_plan_guru64_dft_c2r(p->rank, d, p->howmany_rank, h, in, out, flags);
    }
}

static void destroy_plan(int dtype, void *plan) {
    if (dtype) fftw_destroy_plan(plan);
    else fftwf_destroy_plan(plan);
}

static void run_plan(const tg_fft_problem *p, void *plan, void *in, void *out) {
    if (p->dtype) {
        switch (p->kind) {
        case TG_FFT_C2C: fftw_execute_dft(plan, in, out); break;
        case TG_FFT_R2C: fftw_execute_dft_r2c(plan, in, out); break;
        default: fftw_execute_dft_c2r(plan, in, out); break;
        }
    } else {
        switch (p->kind) {
        case TG_FFT_C2C: fftwf_execute_dft(plan, in, out); break;
        case TG_FFT_R2C: fftwf_execute_dft_r2c(plan, in, out); break;
        default: fftwf_execute_dft_c2r(plan, in, out); break;
        }
    }
}

tg_status tg__fft_execute(const tg_fft_problem *p, void *in, void *out) {
    int ai = p->dtype ? fftw_alignment_of(in) : fftwf_alignment_of(in);
    int ao = p->dtype ? fftw_alignment_of(out) : fftwf_alignment_of(out);
    void *plan = NULL;
    bool cached = true;
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < cache_n; i++)
        if (same_problem(&cache[i], p, ai, ao)) { plan = cache[i].plan; break; }
    if (!plan) {
        plan = make_plan(p, in, out);
        if (!plan) {
            pthread_mutex_unlock(&cache_lock);
            return tg__error(TG_ERR_UNSUPPORTED, "fft: FFTW could not plan a transform of rank %d over %d batch dims",
                             p->rank, p->howmany_rank);
        }
        if (cache_n == cache_cap && cache_cap < CACHE_MAX) {
            int cap = cache_cap ? 2 * cache_cap : 16;
            entry *grown = realloc(cache, (size_t)cap * sizeof *grown);
            if (grown) { cache = grown; cache_cap = cap; }
        }
        if (cache_n < cache_cap) cache[cache_n++] = (entry){.p = *p, .align_in = ai, .align_out = ao, .plan = plan};
        else cached = false;
    }
    pthread_mutex_unlock(&cache_lock);
    run_plan(p, plan, in, out);
    if (!cached) {
        pthread_mutex_lock(&cache_lock);
        destroy_plan(p->dtype, plan);
        pthread_mutex_unlock(&cache_lock);
    }
    return TG_OK;
}

int tg__fft_plan_cache_size(void) {
    pthread_mutex_lock(&cache_lock);
    int n = cache_n;
    pthread_mutex_unlock(&cache_lock);
    return n;
}

__attribute__((destructor)) static void fft_cache_free(void) {
    pthread_mutex_lock(&cache_lock);
    bool any = cache_n > 0;
    for (int i = 0; i < cache_n; i++) destroy_plan(cache[i].p.dtype, cache[i].plan);
    free(cache);
    cache = NULL;
    cache_n = cache_cap = 0;
    if (any) { fftw_cleanup(); fftwf_cleanup(); }
    pthread_mutex_unlock(&cache_lock);
}
