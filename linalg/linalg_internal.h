/* Helpers shared by the linalg op families: dtype resolution, batch
 * iteration over broadcast leading axes, and copies between strided tensors
 * and the contiguous row-major buffers handed to LAPACKE. */
#ifndef TG_LINALG_INTERNAL_H
#define TG_LINALG_INTERNAL_H

#include "tensor/ops/elementwise.h"
#include "tangent/linalg.h"

/* NumPy's rule: bool and integer inputs compute in f64; f16/bf16 are refused.
 * Returns TG_OK and *out, or an error through tg__op_error. */
tg_status tg__linalg_dtype(const tg_op_call *c, tg_dtype in, tg_dtype *out);
/* The last two axes of m form a square matrix; error naming the op otherwise. */
tg_status tg__linalg_square(const tg_op_call *c, const tg_meta *m, const char *what);
/* Shape inference of A X = B ops (solve, triangular_solve): A (..., n, n),
 * B (..., n, k), batch axes broadcast; b_min_axes names the rank of B the
 * public function accepts (its error message). */
tg_status tg__linalg_solve_infer(const tg_op_call *c, tg_meta *out, int b_min_axes);
/* Public composites: a is non-NULL and (..., n, n); otherwise records
 * TG_ERR_ARG / TG_ERR_SHAPE naming fn and returns false. */
bool tg__linalg_check_square(const char *fn, const tg_tensor *a);

/* Walks the batch (the leading nb axes of shape) of one or more operands,
 * each read with broadcast batch strides. */
typedef struct {
    int nb;
    int64_t shape[TG_MAX_DIMS];
    int64_t count;
} tg_linalg_batch;
void tg__linalg_batch_init(tg_linalg_batch *b, int nb, const int64_t *shape);
/* Batch strides (elements) of x broadcast to the batch b (x has its own
 * matrix axes after its batch axes; nmat of them). */
void tg__linalg_batch_strides(const tg_linalg_batch *b, const tg_tensor *x, int nmat, int64_t *strides);
/* Element offset of batch item t for the given batch strides. */
int64_t tg__linalg_batch_offset_nd(const tg_linalg_batch *b, const int64_t *strides, int64_t t);
static inline int64_t tg__linalg_batch_offset(const tg_linalg_batch *b, const int64_t *strides, int64_t t) {
    return b->nb == 1 ? t * strides[0] : tg__linalg_batch_offset_nd(b, strides, t);
}

/* Copy the rows x cols matrix at element offset off of x (last two strides)
 * into dst, contiguous row-major. */
void tg__linalg_gather(char *dst, const tg_tensor *x, int64_t off, int64_t rows, int64_t cols);

/* Column-major copies: dst holds x's rows x cols matrix at element offset
 * off in column-major order (leading dimension rows); store_cm writes a
 * column-major rows x cols buffer src to row-major dst. A row-major n x n
 * buffer read as column-major is A^T, which the kernels exploit. */
void tg__linalg_gather_cm(char *dst, const tg_tensor *x, int64_t off, int64_t rows, int64_t cols);
void tg__linalg_store_cm(char *dst, const char *src, int64_t rows, int64_t cols, int64_t es);
/* dst(i, j) = src(i, j), rows x cols, row and column strides in elements
 * (transposing copies go in cache tiles). */
void tg__linalg_copy_matrix(char *dst, int64_t drs, int64_t dcs, const char *src, int64_t srs, int64_t scs,
                            int64_t rows, int64_t cols, int64_t es);
/* The right-hand side of a column-major LAPACK solve, item at element offset
 * off of b (n x k): a single column is gathered straight into x (n x k
 * row-major output), several go column-major into scratch slot 1; NULL when
 * out of memory. rhs_store moves the solution into x (nothing for a column). */
char *tg__linalg_rhs_load(char *x, const tg_tensor *b, int64_t off, int64_t n, int64_t k, int64_t es);
void tg__linalg_rhs_store(char *x, const char *rhs, int64_t n, int64_t k, int64_t es);
/* Per-thread workspace slot (0-3) of at least bytes, reused across calls so
 * repeated ops neither allocate nor fault pages in; valid until the next call
 * with the same slot on this thread. NULL (TG_ERR_MEMORY recorded) when out of memory. */
void *tg__linalg_scratch(int slot, size_t bytes);

/* Runs fn(ctx, t) for every batch item t < count, across tg threads when
 * count * item_cost (multiply-adds per item) is large enough to pay for
 * them. Each thread has its own tg__linalg_scratch. fn returns 0 or a
 * LAPACK info code; the result is the smallest t whose fn failed (its code
 * in *info), or -1. Items after a failure may or may not have run. */
typedef int (*tg_linalg_item_fn)(void *ctx, int64_t t);
#define TG_LINALG_NO_MEMORY (-100000)   /* an item fn's code: its workspace could not be allocated */
#define TG_LINALG_NOT_FINITE (-200000)  /* an item fn's code: its input holds inf or NaN */
int64_t tg__linalg_batch_run(int64_t count, double item_cost, tg_linalg_item_fn fn, void *ctx, int *info);

/* The CPU kernel of A X = B ops (solve, triangular_solve), inputs a and b
 * as tg__linalg_solve_infer shapes them: casts, size checks, the broadcast
 * batch, and item run over it with the job below as its context. item NULL
 * is the LAPACK path: per batch item, A's row-major copy (A^T read
 * column-major) goes to fn with B column-major (n x k; a single column is
 * written straight into out); fn returns a LAPACK info code.
 * factorises: an item factors A (cost n^2 (n + k) per item, else n^2 k).
 * block > 1: item(ctx, tb) runs items tb * block ... (tb + 1) * block - 1
 * (those that exist) and, when one fails, returns its code and records its
 * index in bad_item with tg__linalg_note_bad.
 * On failure the error names routine and, for info > 0, what (as
 * tg__linalg_info_error). */
typedef int (*tg_linalg_axb_fn)(const tg_op_call *c, tg_dtype d, int n, int k, void *at, void *rhs);
typedef struct {
    const tg_op_call *c;
    tg_linalg_axb_fn fn;
    tg_tensor *a, *b, *x;           /* a, b cast to x's dtype */
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], sb[TG_MAX_DIMS], n, k, es;
    int64_t block;                  /* items per call of item (1, or TG_SMALL_W for a lanes kernel) */
    int64_t bad_item;               /* block > 1: the first failing item, atomic min across blocks */
} tg_linalg_axb_job;
tg_status tg__linalg_axb_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor *out, bool factorises,
                                tg_linalg_item_fn item, int64_t block, tg_linalg_axb_fn fn, const char *routine,
                                const char *what);

/* *bad = min(*bad, t), atomically (blocks may run on several threads). */
void tg__linalg_note_bad(int64_t *bad, int64_t t);
/* A lanes kernel's batch: block(ctx, tb) runs items tb * TG_SMALL_W ...
 * (as tg__linalg_batch_run runs items, across threads when large); a
 * failing block notes its item in *bad_item. Returns that first failing
 * item (its code in *info) or -1. */
int64_t tg__linalg_blocks_run(int64_t count, double item_cost, tg_linalg_item_fn block, void *ctx,
                              const int64_t *bad_item, int *info);
/* After a lanes kernel reported the lanes in bad (of the cnt items from
 * t0): runs each through item (the LAPACK path), which gives its result or
 * its error; returns 0 or the first failure's code, noted in *bad_item. */
int tg__linalg_lanes_rerun(unsigned bad, int64_t t0, int64_t cnt, tg_linalg_item_fn item, void *ctx,
                           int64_t *bad_item);

/* The op error for batch item t failing with LAPACK code info: info > 0
 * gives "matrix t of the batch <what>" where what is a printf format with
 * two %d that both receive info - 1 (0-based); info < 0 an invalid argument
 * of routine; TG_LINALG_NO_MEMORY an out-of-memory error. */
tg_status tg__linalg_info_error(const tg_op_call *c, const char *routine, int64_t t, int info, const char *what);

/* count elements (complex: count pairs) of dtype d at p are all finite. */
bool tg__linalg_all_finite(tg_dtype d, const void *p, int64_t count);

/* Column-major LAPACKE (leading dimensions n). */
int tg__lapack_getrf_cm(tg_dtype d, int n, void *a, int *ipiv);
int tg__lapack_getrs_cm(tg_dtype d, char trans, int n, int k, const void *lu, const int *ipiv, void *b);
int tg__lapack_potrf_cm(tg_dtype d, char uplo, int n, void *a);

/* Solve A X = B (row-major, A n x n overwritten by LU, B n x k overwritten by X). */
int tg__lapack_gesv(tg_dtype d, int n, int k, void *a, int *ipiv, void *b);

/* True when an op applied to a now will be differentiated eagerly: recorded
 * on the tape or under tg_jvp. Values-only decompositions then run the full
 * one, whose vectors the rules need, instead of a second decomposition in
 * the rule (as PyTorch does). Not under a trace: a compiled forward stays
 * bitwise equal to the eager forward without gradients. */
bool tg__linalg_will_differentiate(const tg_tensor *a);
bool tg__linalg_forward_only(const tg_tensor *a);
/* Attribute i[1] of an eigh or svd node made for eigvalsh or svdvals (the
 * rules read the vectors): 1, only the values asked for (tg_compile may
 * narrow the node, autodiff/passes.c); 2, also only the values' tangent
 * (eager forward mode alone, tg__linalg_forward_only). */
enum { TG_LINALG_VALUES_ASKED = 1, TG_LINALG_VALUES_TANGENT = 2 };

/* small.c: unrolled kernels for real (f32, f64) matrices of order 1-4,
 * where a LAPACK call per batch item costs far more than the arithmetic.
 * tg__linalg_small says whether dtype d and order n have them. Strides are
 * in elements; each returns its LAPACK path's info code. */
bool tg__linalg_small(tg_dtype d, int64_t n);
/* A X = B as getrf + getrs: A n x n, B n x k, X row-major n x k. */
int tg__small_solve(tg_dtype d, int n, int64_t k, const void *a, int64_t ars, int64_t acs, const void *b,
                    int64_t brs, int64_t bcs, void *x);

/* getrf / getrs (column-major, leading dimension n) as tg__lapack_getrf_cm
 * and tg__lapack_getrs_cm, which call these for small real matrices. */
int tg__small_getrf(tg_dtype d, int n, void *f, int *ipiv);
int tg__small_getrs(tg_dtype d, char trans, int n, int64_t k, const void *f, const int *ipiv, void *b);

/* W problems at once (structure of arrays, vector code across the batch):
 * lane w reads A at a[w] (strides ars, acs) and B at b[w] (brs, bcs) and
 * writes its result to x[w] (row-major, contiguous). A short batch
 * repeats a lane. The lanes
 * functions return true when some lane would fail (NaN, singular): the
 * caller then runs the scalar kernel on each of them for the exact code. */
#define TG_SMALL_W 8
#define TG_SMALL_KMAX 4      /* right-hand sides the lanes path takes */
typedef struct {
    const void *a[TG_SMALL_W], *b[TG_SMALL_W];
    void *x[TG_SMALL_W], *y[TG_SMALL_W];
    int64_t ars, acs, brs, bcs;
    bool packed;             /* a[w] = a[0] + w n n, b[w] = b[0] + w n k, rows contiguous */
} tg_small_lanes;
bool tg__small_solve_lanes(tg_dtype d, int n, int64_t k, const tg_small_lanes *lanes);
/* Block tb of a batch bt for a lanes kernel: t[w] the item of lane w (past
 * the batch's end, its last item again), L's a[w] that item's matrix of a
 * (batch strides sa) with a's matrix strides; returns the number of items
 * the block really holds. */
int64_t tg__linalg_lanes_begin(const tg_linalg_batch *bt, const tg_tensor *a, const int64_t *sa, int64_t tb,
                               tg_small_lanes *L, int64_t *t);
/* getrf of lane w's A (a[w], strides ars, acs), as tg__lapack_getrf_cm of
 * its row-major copy: F column-major to x[w], 1-based pivots (int) to y[w].
 * getrs (trans 'N' or 'T'/'C') with F at a[w] and pivots at b[w] on one
 * right-hand side x[w] (n contiguous, in place). Both return the mask of
 * lanes with a NaN or (getrf) a zero pivot, whose outputs are unspecified:
 * the scalar kernels give those lanes' results and codes. */
unsigned tg__small_getrf_lanes(tg_dtype d, int n, const tg_small_lanes *lanes);
unsigned tg__small_getrs_lanes(tg_dtype d, int n, char trans, const tg_small_lanes *lanes);

/* Whether this CPU runs the lanes kernels below (AVX-512); the callers of
 * those use LAPACK otherwise. */
bool tg__small_lanes_available(void);
/* Symmetric eigenproblem by cyclic Jacobi, from the lower (or upper)
 * triangle of A: x[w] gets w ascending (n values), y[w] (when vectors) V
 * row-major, columns orthonormal. Returns the mask of lanes that hold a
 * non-finite value or did not converge (their outputs are unspecified). */
unsigned tg__small_eigh_lanes(tg_dtype d, int n, bool upper, bool vectors, const tg_small_lanes *lanes);
/* SVD of a square A by one-sided Jacobi: x[w] gets S descending; when
 * vectors, y[w] U and vh[w] Vh, both row-major n x n. Returns the
 * mask of lanes that are non-finite, did not converge or are numerically
 * rank deficient (U is then not fixed by A V / S: LAPACK completes it). */
unsigned tg__small_svd_lanes(tg_dtype d, int n, bool vectors, const tg_small_lanes *lanes, void *const *vh);
/* QR of a square A by Householder reflections with LAPACK's conventions
 * (geqrf's beta = -sign(alpha) |x|, tau = 0 for a zero column below the
 * diagonal; Q formed from them): x[w] gets Q, y[w] R, both column-major
 * n x n. Returns the mask of lanes holding non-finite values or values so
 * small or large that LAPACK's scaling matters (LAPACK runs those). */
unsigned tg__small_qr_lanes(tg_dtype d, int n, const tg_small_lanes *lanes);
/* small8.c: one real matrix of order 5-8 at a time, vectorised within the
 * matrix (rows in AVX-512 registers, four Jacobi rotations per round).
 * tg__small8 says whether dtype d and order n take them (AVX-512 CPUs).
 * A with element strides ars, acs; outputs contiguous row-major in d:
 * eigh w ascending (n) and, with vectors, V (n x n); svd S descending (n)
 * and, with vectors, U and Vh (n x n). Return 0, or nonzero where the
 * caller must run LAPACK instead (non-finite, unconverged, svd out of range
 * or, with vectors, numerically rank deficient); outputs are then unspecified. */
bool tg__small8(tg_dtype d, int64_t n);
int tg__small8_eigh(tg_dtype d, int n, bool upper, bool vectors, const void *a, int64_t ars, int64_t acs, void *w,
                    void *v);
int tg__small8_svd(tg_dtype d, int n, bool vectors, const void *a, int64_t ars, int64_t acs, void *s, void *u,
                   void *vh);
/* QR of a square A with LAPACK's conventions (geqrf + orgqr, as
 * tg__small_qr_lanes): Q and R column-major n x n (the layout qr.c returns).
 * Nonzero for non-finite values or values out of range (LAPACK runs those). */
int tg__small8_qr(tg_dtype d, int n, const void *a, int64_t ars, int64_t acs, void *q, void *r);

/* x^H over the last two axes. */
static inline tg_tensor *tg__mH(tg_tensor *x) { return x ? tg_conj(tg_mT(x)) : NULL; }
/* The identity of x's last size, in x's real dtype (f32 stays f32). */
static inline tg_tensor *tg__linalg_eye_of(tg_tensor *x) {
    return x ? tg__eye_like(x, tg_real_dtype(tg_dtype_of(x)), tg_dim(x, -1), -1) : NULL;
}
/* (..., k) -> (..., k, k) diagonal matrices. */
static inline tg_tensor *tg__linalg_diag_embed(tg_tensor *x) {
    return x ? tg_mul(tg_unsqueeze(x, -1), tg__linalg_eye_of(x)) : NULL;
}

/* Internal matrix-only entry points used by the derivative rules. */
tg_tensor *tg__linalg_solve_mat(tg_tensor *a, tg_tensor *b);
/* solve_lu.c: X = A^{-1} B through a factorisation the derivative rules
 * reuse (for solves that will be differentiated on the CPU). */
tg_tensor *tg__linalg_solve_reusing_lu(tg_tensor *a, tg_tensor *b);
tg_tensor *tg__linalg_trsolve_mat(tg_tensor *a, tg_tensor *b, bool upper, bool unit);
/* PyTorch's constant-rank pseudo-inverse rules (pinv.c; lstsq's rules use
 * them): P = pinv(A); JVP P-dot for A-dot, VJP A-bar for P-bar = g. */
tg_tensor *tg__pinv_jvp(tg_tensor *a, tg_tensor *p, tg_tensor *adot);
tg_tensor *tg__pinv_vjp(tg_tensor *a, tg_tensor *p, tg_tensor *g);

#endif
