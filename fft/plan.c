/* FFTW plan cache. A plan is keyed by its whole problem (kind, rank and
 * dims, batch layout, strides, precision, direction) and by the alignment
 * of both arrays; whether it runs in place is part of the problem
 * (fft/split.c's column passes run in place on scratch blocks), so
 * new-array execution (fftw_execute_dft / _r2c / _c2r) may reuse a plan for
 * any arrays of the same alignment and placement.
 *
 * FFTW's planner is not thread-safe: every plan is made and destroyed while
 * holding cache_lock. Execution of a plan on new arrays is thread-safe and
 * runs outside the lock. Plans are made with FFTW_ESTIMATE by default (no
 * timing runs, arrays untouched); tg_fft_set_planner switches to measuring
 * modes, which plan on scratch arrays. Problems of at least
 * THREAD_MIN_POINTS points get plans with tg_get_num_threads() FFTW
 * threads; thread count and rigor are part of the key. The cache holds
 * at most CACHE_MAX plans; past that a plan is made, used once and destroyed. Everything is
 * released at exit (with fftw_cleanup). */
#include <complex.h>
#include <fftw3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fft/fft_internal.h"

#define CACHE_MAX 512

typedef struct entry {
    tg_fft_problem p;
    int align_in, align_out;
    int threads;             /* FFTW threads the plan uses */
    unsigned flags;          /* planner rigor */
    void *plan;              /* fftw_plan or fftwf_plan */
} entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static entry *cache;
static int cache_n, cache_cap;
/* written under cache_lock; read without it by same_problem */
static _Atomic unsigned planner_flags = FFTW_ESTIMATE;
static bool threads_ready;

/* Transforms below this many points run on one thread: FFTW's threads cost
 * more than they save on small problems. */
#define THREAD_MIN_POINTS (1 << 16)

static int64_t problem_points(const tg_fft_problem *p) {
    int64_t n = 1;
    for (int i = 0; i < p->rank; i++) n *= p->dims[i].n;
    for (int i = 0; i < p->howmany_rank; i++) n *= p->howmany[i].n;
    return n;
}

/* Elements an array of the problem spans (0-based strides are non-negative). */
static int64_t span(const tg_fft_problem *p, bool out) {
    int64_t last = 0;
    for (int i = 0; i < p->rank; i++) {
        int64_t n = p->dims[i].n;
        if (p->kind == TG_FFT_R2C && out && i == p->rank - 1) n = n / 2 + 1;
        if (p->kind == TG_FFT_C2R && !out && i == p->rank - 1) n = n / 2 + 1;
        last += (n - 1) * (out ? p->dims[i].os : p->dims[i].is);
    }
    for (int i = 0; i < p->howmany_rank; i++) last += (p->howmany[i].n - 1) * (out ? p->howmany[i].os : p->howmany[i].is);
    return last + 1;
}

static bool dims_equal(int n, const tg_fft_dim *a, const tg_fft_dim *b) {
    for (int i = 0; i < n; i++)
        if (a[i].n != b[i].n || a[i].is != b[i].is || a[i].os != b[i].os) return false;
    return true;
}
static int plan_threads(const tg_fft_problem *p) {
    return !p->serial && problem_points(p) >= THREAD_MIN_POINTS ? tg__num_threads() : 1;
}
static bool same_problem(const entry *e, const tg_fft_problem *p, int ai, int ao) {
    return e->threads == plan_threads(p) && e->p.inplace == p->inplace && e->p.serial == p->serial &&
           e->flags == planner_flags &&
           e->p.kind == p->kind && e->p.dtype == p->dtype && e->p.sign == p->sign && e->p.rank == p->rank &&
           e->p.howmany_rank == p->howmany_rank && e->align_in == ai && e->align_out == ao &&
           dims_equal(p->rank, e->p.dims, p->dims) && dims_equal(p->howmany_rank, e->p.howmany, p->howmany);
}

/* Makes a plan for p on in/out (caller holds cache_lock); NULL when FFTW
 * cannot plan it. */
static void *make_plan_on(const tg_fft_problem *p, void *in, void *out, unsigned flags) {
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

/* Plans with the current rigor and thread count. FFTW_ESTIMATE leaves the
 * arrays alone; the measuring modes overwrite them, so they plan on scratch
 * arrays of the same alignment (the new-array execute functions accept any
 * arrays of that alignment later). */
static void *make_plan(const tg_fft_problem *p, void *in, void *out, int threads) {
    if (!threads_ready) {
        fftw_init_threads();
        fftwf_init_threads();
        threads_ready = true;
    }
    if (p->dtype) fftw_plan_with_nthreads(threads);
    else fftwf_plan_with_nthreads(threads);
    if (planner_flags == FFTW_ESTIMATE) return make_plan_on(p, in, out, planner_flags);
    size_t es_in = p->kind == TG_FFT_R2C ? (p->dtype ? 8 : 4) : (p->dtype ? 16 : 8);
    size_t es_out = p->kind == TG_FFT_C2R ? (p->dtype ? 8 : 4) : (p->dtype ? 16 : 8);
    int ai = p->dtype ? fftw_alignment_of(in) : fftwf_alignment_of(in);
    int ao = p->dtype ? fftw_alignment_of(out) : fftwf_alignment_of(out);
    char *si = fftw_malloc((size_t)span(p, false) * es_in + 64), *so = fftw_malloc((size_t)span(p, true) * es_out + 64);
    void *plan = NULL;
    if (si && so) plan = make_plan_on(p, si + ai, p->inplace ? si + ai : so + ao, planner_flags);
    fftw_free(si);
    fftw_free(so);
    return plan;
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

/* Each thread's last cache hit, checked before taking the lock: repeated
 * transforms of one problem (the common case) skip the lock and the scan.
 * Cached plans live until exit, so the copy stays valid. */
static _Thread_local struct {
    entry e;
    bool valid;
} last_hit;

void *tg__fft_plan_acquire(const tg_fft_problem *p, void *in, void *out, bool *owned) {
    int ai = p->dtype ? fftw_alignment_of(in) : fftwf_alignment_of(in);
    int ao = p->dtype ? fftw_alignment_of(out) : fftwf_alignment_of(out);
    *owned = false;
    if (last_hit.valid && same_problem(&last_hit.e, p, ai, ao)) return last_hit.e.plan;
    void *plan = NULL;
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < cache_n; i++)
        if (same_problem(&cache[i], p, ai, ao)) {
            plan = cache[i].plan;
            last_hit.e = cache[i];
            last_hit.valid = true;
            break;
        }
    if (!plan) {
        int threads = plan_threads(p);
        plan = make_plan(p, in, out, threads);
        if (!plan) {
            pthread_mutex_unlock(&cache_lock);
            tg__error(TG_ERR_UNSUPPORTED, "fft: FFTW could not plan a transform of rank %d over %d batch dims",
                      p->rank, p->howmany_rank);
            return NULL;
        }
        if (cache_n == cache_cap && cache_cap < CACHE_MAX) {
            int cap = cache_cap ? 2 * cache_cap : 16;
            entry *grown = realloc(cache, (size_t)cap * sizeof *grown);
            if (grown) { cache = grown; cache_cap = cap; }
        }
        if (cache_n < cache_cap) {
            cache[cache_n++] = (entry){.p = *p, .align_in = ai, .align_out = ao, .threads = threads,
                                       .flags = planner_flags, .plan = plan};
            last_hit.e = cache[cache_n - 1];
            last_hit.valid = true;
        } else {
            *owned = true;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return plan;
}

void tg__fft_plan_release(const tg_fft_problem *p, void *plan, bool owned) {
    if (!owned) return;
    pthread_mutex_lock(&cache_lock);
    destroy_plan(p->dtype, plan);
    pthread_mutex_unlock(&cache_lock);
}

void tg__fft_plan_run(const tg_fft_problem *p, void *plan, void *in, void *out) { run_plan(p, plan, in, out); }

tg_status tg__fft_execute(const tg_fft_problem *p, void *in, void *out) {
    bool owned;
    void *plan = tg__fft_plan_acquire(p, in, out, &owned);
    if (!plan) return tg_last_error_code();
    run_plan(p, plan, in, out);
    tg__fft_plan_release(p, plan, owned);
    return TG_OK;
}

bool tg__fft_planner_estimates(void) { return atomic_load(&planner_flags) == FFTW_ESTIMATE; }

/* ---- public planner controls ------------------------------------------------- */
tg_status tg_fft_set_planner(const char *mode) {
    unsigned f;
    if (!mode || !strcmp(mode, "estimate")) f = FFTW_ESTIMATE;
    else if (!strcmp(mode, "measure")) f = FFTW_MEASURE;
    else if (!strcmp(mode, "patient")) f = FFTW_PATIENT;
    else return tg__error(TG_ERR_ARG, "tg_fft_set_planner: mode '%s' is not estimate, measure or patient", mode);
    pthread_mutex_lock(&cache_lock);
    planner_flags = f;
    pthread_mutex_unlock(&cache_lock);
    return TG_OK;
}

tg_status tg_fft_wisdom_export(const char *path) {
    if (!path) return tg__error(TG_ERR_ARG, "tg_fft_wisdom_export: path is NULL");
    pthread_mutex_lock(&cache_lock);
    int ok = fftw_export_wisdom_to_filename(path);
    char fpath[4096];
    snprintf(fpath, sizeof fpath, "%s.f32", path);
    ok = ok && fftwf_export_wisdom_to_filename(fpath);
    pthread_mutex_unlock(&cache_lock);
    return ok ? TG_OK : tg__error(TG_ERR_IO, "tg_fft_wisdom_export: cannot write '%s'", path);
}

tg_status tg_fft_wisdom_import(const char *path) {
    if (!path) return tg__error(TG_ERR_ARG, "tg_fft_wisdom_import: path is NULL");
    pthread_mutex_lock(&cache_lock);
    int ok = fftw_import_wisdom_from_filename(path);
    char fpath[4096];
    snprintf(fpath, sizeof fpath, "%s.f32", path);
    ok = ok && fftwf_import_wisdom_from_filename(fpath);
    pthread_mutex_unlock(&cache_lock);
    return ok ? TG_OK : tg__error(TG_ERR_IO, "tg_fft_wisdom_import: '%s' is missing or not FFTW wisdom", path);
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
    if (threads_ready) { fftw_cleanup_threads(); fftwf_cleanup_threads(); threads_ready = false; }
    else if (any) { fftw_cleanup(); fftwf_cleanup(); }
    pthread_mutex_unlock(&cache_lock);
}
