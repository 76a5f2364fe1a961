/* Shared linalg helpers (linalg_internal.h): dtype rule, batch walking,
 * strided copies, per-thread scratch and the typed LAPACKE dispatch.
 * The tg__lapack_* wrappers call LAPACKE in row-major layout (it transposes
 * internally); the *_cm ones in column-major layout, which the kernels use
 * with transposed copies so each matrix is copied once. */
#include <cblas.h>
#include <math.h>
#include <lapacke.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "linalg/small_lanes.h"
#include "autodiff/node.h"
#include "tangent/autodiff.h"

tg_status tg__linalg_dtype(const tg_op_call *c, tg_dtype in, tg_dtype *out) {
    if (in == TG_F16 || in == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s (use f32, f64, c64 or c128)",
                            tg_dtype_name(in));
    *out = (in == TG_BOOL || tg_dtype_is_integer(in)) ? TG_F64 : in;
    return TG_OK;
}

tg_status tg__linalg_square(const tg_op_call *c, const tg_meta *m, const char *what) {
    char s[160];
    if (m->ndim < 2)
        return tg__op_error(c, TG_ERR_SHAPE, "%s must have at least 2 axes, got shape %s", what,
                            tg__fmt_shape(s, sizeof s, m->ndim, m->shape));
    if (m->shape[m->ndim - 1] != m->shape[m->ndim - 2])
        return tg__op_error(c, TG_ERR_SHAPE, "%s must be square (..., n, n), got shape %s", what,
                            tg__fmt_shape(s, sizeof s, m->ndim, m->shape));
    return TG_OK;
}

tg_status tg__linalg_solve_infer(const tg_op_call *c, tg_meta *out, int b_min_axes) {
    const tg_meta *a = &c->in[0], *b = &c->in[1];
    tg_status st = tg__linalg_square(c, a, "A");
    if (st) return st;
    char sa[160], sb[160];
    if (b->ndim < 2)
        return tg__op_error(c, TG_ERR_SHAPE, "B must have at least %d ax%s, got shape %s", b_min_axes,
                            b_min_axes == 1 ? "is" : "es", tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape));
    int64_t n = a->shape[a->ndim - 1];
    if (b->shape[b->ndim - 2] != n)
        return tg__op_error(c, TG_ERR_SHAPE, "A of shape %s and B of shape %s: B must have %lld rows",
                            tg__fmt_shape(sa, sizeof sa, a->ndim, a->shape),
                            tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape), (long long)n);
    if (tg__broadcast_shapes(NULL, a->ndim - 2, a->shape, b->ndim - 2, b->shape, &out->ndim, out->shape))
        return tg__op_error(c, TG_ERR_SHAPE, "batch axes of A %s and B %s cannot be broadcast",
                            tg__fmt_shape(sa, sizeof sa, a->ndim, a->shape),
                            tg__fmt_shape(sb, sizeof sb, b->ndim, b->shape));
    out->shape[out->ndim++] = n;
    out->shape[out->ndim++] = b->shape[b->ndim - 1];
    return tg__linalg_dtype(c, tg_promote_types(a->dtype, b->dtype), &out->dtype);
}

bool tg__linalg_check_square(const char *fn, const tg_tensor *a) {
    if (!a) { tg__error(TG_ERR_ARG, "%s: NULL operand", fn); return false; }
    if (a->ndim < 2 || a->shape[a->ndim - 1] != a->shape[a->ndim - 2]) {
        char s[160];
        tg__error(TG_ERR_SHAPE, "%s: A must be square (..., n, n), got shape %s", fn,
                  tg__fmt_shape(s, sizeof s, a->ndim, a->shape));
        return false;
    }
    return true;
}

void tg__linalg_batch_init(tg_linalg_batch *b, int nb, const int64_t *shape) {
    b->nb = nb;
    b->count = 1;
    for (int i = 0; i < nb; i++) { b->shape[i] = shape[i]; b->count *= shape[i]; }
}

void tg__linalg_batch_strides(const tg_linalg_batch *b, const tg_tensor *x, int nmat, int64_t *strides) {
    int xb = x->ndim - nmat;
    for (int i = 0; i < b->nb; i++) {
        int j = i - (b->nb - xb);
        strides[i] = (j >= 0 && x->shape[j] != 1) ? x->strides[j] : 0;
    }
}

int64_t tg__linalg_batch_offset_nd(const tg_linalg_batch *b, const int64_t *strides, int64_t t) {
    int64_t off = 0;
    for (int i = b->nb - 1; i >= 0; i--) {
        int64_t k = t % b->shape[i];
        t /= b->shape[i];
        off += k * strides[i];
    }
    return off;
}

/* dst(i, j) = src(i, j) for a rows x cols matrix, strides in elements.
 * A transposing copy goes in 8 x 8 tiles with the inner loop along the
 * destination's unit stride: 8 rows of a power-of-two leading dimension
 * share one L1 set, and 8 is what the set holds (16 evicts lines before
 * they are used whole; 1024^2 f64: 0.9-1.5 ms against 2.2-3 ms for 16). */
typedef struct { uint64_t lo, hi; } elem16;
#define TRANSPOSE_FN(name, T)                                                                          \
    static void name(char *dst_, int64_t drs, int64_t dcs, const char *src_, int64_t srs, int64_t scs, \
                     int64_t rows, int64_t cols) {                                                     \
        enum { TILE = 8 };                                                                             \
        T *dst = (T *)dst_;                                                                            \
        const T *src = (const T *)src_;                                                                \
        for (int64_t i0 = 0; i0 < rows; i0 += TILE)                                                    \
            for (int64_t j0 = 0; j0 < cols; j0 += TILE) {                                              \
                int64_t i1 = i0 + TILE < rows ? i0 + TILE : rows, j1 = j0 + TILE < cols ? j0 + TILE : cols; \
                if (dcs == 1) {                                                                        \
                    for (int64_t i = i0; i < i1; i++)                                                  \
                        for (int64_t j = j0; j < j1; j++) dst[i * drs + j] = src[i * srs + j * scs];   \
                } else {                                                                               \
                    for (int64_t j = j0; j < j1; j++)                                                  \
                        for (int64_t i = i0; i < i1; i++) dst[i * drs + j * dcs] = src[i * srs + j * scs]; \
                }                                                                                      \
            }                                                                                          \
    }
TRANSPOSE_FN(transpose_4, uint32_t)
TRANSPOSE_FN(transpose_8, uint64_t)
TRANSPOSE_FN(transpose_16, elem16)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* 8-byte elements with AVX-512 when one side is unit-stride along rows and
 * the other along columns: each full 8 x 8 tile is eight vector loads, an
 * in-register transpose (24 shuffles) and eight vector stores (a 256 x 256
 * f64 transpose: about a third of the element-wise tiles' time); partial
 * tiles go element by element.
 * dst(i, j) = src(i, j) where (dcs == 1 and srs == 1) or (drs == 1 and scs == 1). */
SMALL_V4 static void transpose_8_v4(char *dst_, int64_t drs, int64_t dcs, const char *src_, int64_t srs, int64_t scs,
                                    int64_t rows, int64_t cols) {
    double *dst = (double *)dst_;
    const double *src = (const double *)src_;
    bool rows_in = dcs == 1;     /* src unit-stride along i, dst along j */
    for (int64_t i0 = 0; i0 < rows; i0 += 8)
        for (int64_t j0 = 0; j0 < cols; j0 += 8) {
            if (i0 + 8 > rows || j0 + 8 > cols) {
                int64_t i1 = i0 + 8 < rows ? i0 + 8 : rows, j1 = j0 + 8 < cols ? j0 + 8 : cols;
                for (int64_t i = i0; i < i1; i++)
                    for (int64_t j = j0; j < j1; j++) dst[i * drs + j * dcs] = src[i * srs + j * scs];
                continue;
            }
            __m512d r[8];
            if (rows_in) {
                for (int k = 0; k < 8; k++) r[k] = _mm512_loadu_pd(src + i0 + (j0 + k) * scs);   /* column j0 + k */
                tg__transpose8x8_pd(r);
                for (int k = 0; k < 8; k++) _mm512_storeu_pd(dst + (i0 + k) * drs + j0, r[k]);  /* row i0 + k */
            } else {
                for (int k = 0; k < 8; k++) r[k] = _mm512_loadu_pd(src + (i0 + k) * srs + j0);   /* row i0 + k */
                tg__transpose8x8_pd(r);
                for (int k = 0; k < 8; k++) _mm512_storeu_pd(dst + i0 + (j0 + k) * dcs, r[k]);  /* column j0 + k */
            }
        }
}
#define HAVE_TRANSPOSE_V4 1
#else
#define HAVE_TRANSPOSE_V4 0
static void transpose_8_v4(char *dst, int64_t drs, int64_t dcs, const char *src, int64_t srs, int64_t scs,
                           int64_t rows, int64_t cols) {
    transpose_8(dst, drs, dcs, src, srs, scs, rows, cols);
}
#endif

void tg__linalg_copy_matrix(char *dst, int64_t drs, int64_t dcs, const char *src, int64_t srs, int64_t scs,
                        int64_t rows, int64_t cols, int64_t es) {
    if (dcs == 1 && scs == 1) {
        for (int64_t i = 0; i < rows; i++)
            memcpy(dst + i * drs * es, src + i * srs * es, (size_t)(cols * es));
        return;
    }
    switch (es) {
    case 4: transpose_4(dst, drs, dcs, src, srs, scs, rows, cols); return;
    case 8:
        if (HAVE_TRANSPOSE_V4 && ((dcs == 1 && srs == 1) || (drs == 1 && scs == 1)) && have_v4())
            transpose_8_v4(dst, drs, dcs, src, srs, scs, rows, cols);
        else
            transpose_8(dst, drs, dcs, src, srs, scs, rows, cols);
        return;
    case 16: transpose_16(dst, drs, dcs, src, srs, scs, rows, cols); return;
    default:
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                memcpy(dst + (i * drs + j * dcs) * es, src + (i * srs + j * scs) * es, (size_t)es);
    }
}

void tg__linalg_gather(char *dst, const tg_tensor *x, int64_t off, int64_t rows, int64_t cols) {
    int64_t es = tg__esize(x->dtype);
    tg__linalg_copy_matrix(dst, cols, 1, tg__ptr(x) + off * es, x->strides[x->ndim - 2], x->strides[x->ndim - 1], rows, cols, es);
}

void tg__linalg_gather_cm(char *dst, const tg_tensor *x, int64_t off, int64_t rows, int64_t cols) {
    int64_t es = tg__esize(x->dtype);
    tg__linalg_copy_matrix(dst, 1, rows, tg__ptr(x) + off * es, x->strides[x->ndim - 2], x->strides[x->ndim - 1], rows, cols, es);
}

void tg__linalg_store_cm(char *dst, const char *src, int64_t rows, int64_t cols, int64_t es) {
    tg__linalg_copy_matrix(dst, cols, 1, src, 1, rows, rows, cols, es);
}

/* Per-thread scratch: grow-only buffers, freed when the thread exits. */
enum { SCRATCH_SLOTS = 4 };
typedef struct {
    void *p[SCRATCH_SLOTS];
    size_t n[SCRATCH_SLOTS];
} scratch_set;
static _Thread_local scratch_set scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_release(void *v) {
    scratch_set *s = v;
    for (int i = 0; i < SCRATCH_SLOTS; i++) { free(s->p[i]); s->p[i] = NULL; s->n[i] = 0; }
}
static void scratch_make_key(void) { (void)pthread_key_create(&scratch_key, scratch_release); }

void *tg__linalg_scratch(int slot, size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (bytes > scratch.n[slot]) {
        free(scratch.p[slot]);
        scratch.p[slot] = malloc(bytes);
        scratch.n[slot] = scratch.p[slot] ? bytes : 0;
        if (!scratch.p[slot]) { tg__error(TG_ERR_MEMORY, "linalg: out of memory (%zu bytes of workspace)", bytes); return NULL; }
        pthread_once(&scratch_once, scratch_make_key);
        (void)pthread_setspecific(scratch_key, &scratch);
    }
    return scratch.p[slot];
}

#define RM LAPACK_ROW_MAJOR
int tg__lapack_gesv(tg_dtype d, int n, int k, void *a, int *ipiv, void *b) {
    switch (d) {
    case TG_F32: return LAPACKE_sgesv(RM, n, k, a, n, ipiv, b, k);
    case TG_F64: return LAPACKE_dgesv(RM, n, k, a, n, ipiv, b, k);
    case TG_C64:
        return LAPACKE_cgesv(RM, n, k, (lapack_complex_float *)a, n, ipiv, (lapack_complex_float *)b, k);
    default: return LAPACKE_zgesv(RM, n, k, (lapack_complex_double *)a, n, ipiv, (lapack_complex_double *)b, k);
    }
}

#define CM LAPACK_COL_MAJOR
typedef lapack_complex_float cf;
typedef lapack_complex_double cd;

int tg__lapack_getrf_cm(tg_dtype d, int n, void *a, int *ipiv) {
    if (tg__linalg_small(d, n)) return tg__small_getrf(d, n, a, ipiv);
    switch (d) {
    case TG_F32: return LAPACKE_sgetrf(CM, n, n, a, n, ipiv);
    case TG_F64: return LAPACKE_dgetrf(CM, n, n, a, n, ipiv);
    case TG_C64: return LAPACKE_cgetrf(CM, n, n, (cf *)a, n, ipiv);
    default: return LAPACKE_zgetrf(CM, n, n, (cd *)a, n, ipiv);
    }
}

/* The factors come from tg__lapack_getrf_cm, which checked A for NaN:
 * only B is checked here (LAPACKE's own check would scan the n x n factors
 * again, 4-8% of a 256 x 256 solve). A NaN in B is reported as LAPACKE
 * reports it, as argument 8. */
static bool any_nan(tg_dtype d, const void *p, int64_t count) {
    int64_t nreal = count * (tg_dtype_is_complex(d) ? 2 : 1);
    bool single = d == TG_F32 || d == TG_C64;
    for (int64_t i = 0; i < nreal; i++)
        if (isnan(single ? (double)((const float *)p)[i] : ((const double *)p)[i])) return true;
    return false;
}

int tg__lapack_getrs_cm(tg_dtype d, char trans, int n, int k, const void *lu, const int *ipiv, void *b) {
    if (tg__linalg_small(d, n)) return tg__small_getrs(d, trans, n, k, lu, ipiv, b);
    if (any_nan(d, b, (int64_t)n * k)) return -8;
    switch (d) {
    case TG_F32: return LAPACKE_sgetrs_work(CM, trans, n, k, lu, n, ipiv, b, n);
    case TG_F64: return LAPACKE_dgetrs_work(CM, trans, n, k, lu, n, ipiv, b, n);
    case TG_C64: return LAPACKE_cgetrs_work(CM, trans, n, k, (const cf *)lu, n, ipiv, (cf *)b, n);
    default: return LAPACKE_zgetrs_work(CM, trans, n, k, (const cd *)lu, n, ipiv, (cd *)b, n);
    }
}

int tg__lapack_potrf_cm(tg_dtype d, char uplo, int n, void *a) {
    switch (d) {
    case TG_F32: return LAPACKE_spotrf(CM, uplo, n, a, n);
    case TG_F64: return LAPACKE_dpotrf(CM, uplo, n, a, n);
    case TG_C64: return LAPACKE_cpotrf(CM, uplo, n, (cf *)a, n);
    default: return LAPACKE_zpotrf(CM, uplo, n, (cd *)a, n);
    }
}

int64_t tg__linalg_batch_run(int64_t count, double item_cost, tg_linalg_item_fn fn, void *ctx, int *info) {
    int64_t bad = -1;
    int bad_info = 0;
    int nth = tg__num_threads();
    /* Threads pay off once the batch holds enough work (a fork/join costs a
     * few microseconds, about 2^15 multiply-adds of one core). */
    if (nth > 1 && count > 1 && (double)count * item_cost >= 32768.0) {
        /* one BLAS thread per item: the threads are ours, and each item then
         * computes exactly as on one thread */
        int blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
        #pragma omp parallel num_threads(nth)
        {
            int64_t my_bad = -1;
            int my_info = 0;
            #pragma omp for schedule(static)
            for (int64_t t = 0; t < count; t++) {
                if (my_bad >= 0) continue;
                int r = fn(ctx, t);
                if (r != 0) { my_bad = t; my_info = r; }
            }
            #pragma omp critical(tg_linalg_batch)
            if (my_bad >= 0 && (bad < 0 || my_bad < bad)) { bad = my_bad; bad_info = my_info; }
        }
        openblas_set_num_threads(blas_threads);
    } else {
        for (int64_t t = 0; t < count; t++) {
            int r = fn(ctx, t);
            if (r != 0) { bad = t; bad_info = r; break; }
        }
    }
    if (info) *info = bad_info;
    return bad;
}

tg_status tg__linalg_info_error(const tg_op_call *c, const char *routine, int64_t t, int info, const char *what) {
    if (info == TG_LINALG_NO_MEMORY) return tg__op_error(c, TG_ERR_MEMORY, "out of memory for LAPACK workspace");
    if (info < 0)   /* in practice LAPACKE's NaN check of an input */
        return tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch: LAPACK %s argument %d invalid (LAPACKE's NaN check)",
                            (long long)t, routine, -info);
    char msg[160];
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    snprintf(msg, sizeof msg, what, info - 1, info - 1);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    return tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch %s", (long long)t, msg);
}

/* A traced value may be differentiated by a later transform: ops that keep
 * extra outputs for their rules (eigvalsh, svdvals) trace that form, and
 * tg_compile narrows it back where no rule reads them (autodiff/passes.c). */
bool tg__linalg_will_differentiate(const tg_tensor *a) {
    return tg__is_tracer(a) || (tg_grad_enabled() && tg__needs_grad(a)) || tg__forward_active();
}

/* Eager forward mode alone (tg_jvp, which does not nest): no reverse pass
 * will run the node's rules, so no tangent of an output the caller dropped
 * is ever read. */
bool tg__linalg_forward_only(const tg_tensor *a) {
    return tg__forward_active() && !tg__is_tracer(a) && !(tg_grad_enabled() && tg__needs_grad(a));
}

/* ---- A X = B kernels (solve, triangular_solve) ---------------------------- */

char *tg__linalg_rhs_load(char *x, const tg_tensor *b, int64_t off, int64_t n, int64_t k, int64_t es) {
    if (k == 1) {
        tg__linalg_gather(x, b, off, n, 1);
        return x;
    }
    char *bcm = tg__linalg_scratch(1, (size_t)(n * k * es));
    if (bcm) tg__linalg_gather_cm(bcm, b, off, n, k);
    return bcm;
}

void tg__linalg_rhs_store(char *x, const char *rhs, int64_t n, int64_t k, int64_t es) {
    if (rhs != x) tg__linalg_store_cm(x, rhs, n, k, es);
}

/* The row-major copy of A is A^T column-major, so A is copied once. */
static int axb_item(void *ctx, int64_t t) {
    const tg_linalg_axb_job *j = ctx;
    int64_t n = j->n, k = j->k, es = j->es;
    char *work = tg__linalg_scratch(0, (size_t)(n * n * es));
    char *x = tg__ptr(j->x) + t * n * k * es;
    char *rhs = work ? tg__linalg_rhs_load(x, j->b, tg__linalg_batch_offset(&j->bt, j->sb, t), n, k, es) : NULL;
    if (!rhs) return TG_LINALG_NO_MEMORY;
    tg__linalg_gather(work, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), n, n);
    int info = j->fn(j->c, j->x->dtype, (int)n, (int)k, work, rhs);
    if (info == 0) tg__linalg_rhs_store(x, rhs, n, k, es);
    return info;
}

void tg__linalg_note_bad(int64_t *bad, int64_t t) {
    int64_t cur = __atomic_load_n(bad, __ATOMIC_RELAXED);
    while (t < cur && !__atomic_compare_exchange_n(bad, &cur, t, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

int64_t tg__linalg_blocks_run(int64_t count, double item_cost, tg_linalg_item_fn block, void *ctx,
                              const int64_t *bad_item, int *info) {
    int64_t tb = tg__linalg_batch_run((count + TG_SMALL_W - 1) / TG_SMALL_W, item_cost * TG_SMALL_W, block, ctx, info);
    return tb >= 0 ? *bad_item : -1;
}

int64_t tg__linalg_lanes_begin(const tg_linalg_batch *bt, const tg_tensor *a, const int64_t *sa, int64_t tb,
                               tg_small_lanes *L, int64_t *t) {
    int64_t t0 = tb * TG_SMALL_W, es = tg__esize(a->dtype);
    int64_t cnt = bt->count - t0 < TG_SMALL_W ? bt->count - t0 : TG_SMALL_W;
    L->ars = a->strides[a->ndim - 2];
    L->acs = a->strides[a->ndim - 1];
    for (int w = 0; w < TG_SMALL_W; w++) {
        t[w] = t0 + (w < cnt ? w : cnt - 1);
        L->a[w] = tg__ptr(a) + tg__linalg_batch_offset(bt, sa, t[w]) * es;
    }
    return cnt;
}

int tg__linalg_lanes_rerun(unsigned bad, int64_t t0, int64_t cnt, tg_linalg_item_fn item, void *ctx,
                           int64_t *bad_item) {
    for (int w = 0; w < cnt; w++) {
        if (!(bad >> w & 1)) continue;
        int info = item(ctx, t0 + w);
        if (info) {
            tg__linalg_note_bad(bad_item, t0 + w);
            return info;
        }
    }
    return 0;
}

tg_status tg__linalg_axb_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor *out, bool factorises,
                                tg_linalg_item_fn item, int64_t block, tg_linalg_axb_fn fn, const char *routine,
                                const char *what) {
    tg_dtype d = out->dtype;
    tg_linalg_axb_job j = {.c = c, .fn = fn, .a = tg__cast_raw(in[0], d), .b = tg__cast_raw(in[1], d), .x = out,
                           .block = block, .bad_item = INT64_MAX};
    tg_status st = TG_OK;
    if (!j.a || !j.b) { st = tg_last_error_code(); goto done; }
    j.n = j.a->shape[j.a->ndim - 1];
    j.k = j.b->shape[j.b->ndim - 1];
    j.es = tg__esize(d);
    if (j.n > INT32_MAX / 2 || j.k > INT32_MAX / 2) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed BLAS/LAPACK's int range"); goto done; }
    tg__linalg_batch_init(&j.bt, out->ndim - 2, out->shape);
    if (j.n == 0 || j.k == 0 || j.bt.count == 0) goto done;
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    tg__linalg_batch_strides(&j.bt, j.b, 2, j.sb);
    int info;
    double cost = (double)j.n * (double)j.n * (double)(factorises ? j.n + j.k : j.k);
    int64_t runs = (j.bt.count + block - 1) / block;
    int64_t t = tg__linalg_batch_run(runs, cost * (double)block, item ? item : axb_item, &j, &info);
    if (t >= 0) st = tg__linalg_info_error(c, routine, block > 1 ? j.bad_item : t, info, what);
done:
    tg_release(j.a);
    tg_release(j.b);
    return st;
}

bool tg__linalg_all_finite(tg_dtype d, const void *p, int64_t count) {
    int64_t nreal = count * (tg_dtype_is_complex(d) ? 2 : 1);
    bool single = d == TG_F32 || d == TG_C64;
    for (int64_t i = 0; i < nreal; i++)
        if (!isfinite(single ? (double)((const float *)p)[i] : ((const double *)p)[i])) return false;
    return true;
}
