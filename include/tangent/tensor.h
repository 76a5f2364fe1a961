/* Tangent tensor core: dtypes, errors, memory, creation, views, ops.
 *
 * Ownership (DESIGN.md section 3): every function that hands out a tensor
 * gives one reference. With no scope open the caller owns it and releases it
 * with tg_release(); with a scope open the innermost scope owns it and
 * releases it at tg_scope_end(). tg_keep() moves a reference to the enclosing
 * scope (or to the caller at the outermost scope). Ops never steal
 * references from their arguments.
 *
 * Errors: a function returning a tensor returns NULL on failure and records
 * a thread-local error (tg_last_error()). An op given a NULL input returns
 * NULL, so a chain of calls is checked once at its end. */
#ifndef TANGENT_TENSOR_H
#define TANGENT_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Axes of a tensor on the CPU; a Vulkan device holds at most 8 (its kernels'
 * parameter blocks), and refuses more with TG_ERR_UNSUPPORTED. */
#define TG_MAX_DIMS 16

typedef enum { TG_BOOL, TG_I32, TG_I64, TG_F32, TG_F64, TG_C64, TG_C128,
               TG_F16, TG_BF16 /* storage types for the GPU */ } tg_dtype;
#define TG_NUM_DTYPES 9

typedef enum { TG_OK = 0, TG_ERR_ARG, TG_ERR_SHAPE, TG_ERR_DTYPE, TG_ERR_DEVICE,
               TG_ERR_MEMORY, TG_ERR_NUMERIC /* singular, not PD, no convergence */,
               TG_ERR_AUTOGRAD, TG_ERR_IO, TG_ERR_UNSUPPORTED } tg_status;

typedef struct tg_tensor tg_tensor;

/* ---- library ---------------------------------------------------------- */
const char *tg_version(void);
/* One thread count for Tangent's loops, OpenBLAS and FFTW; n <= 0 restores
 * the default (all cores). Results do not depend on it. */
void        tg_set_num_threads(int n);
int         tg_get_num_threads(void);

/* ---- errors ----------------------------------------------------------- */
const char *tg_last_error(void);            /* message of the first error since the last tg_clear_error(); "" if none */
tg_status   tg_last_error_code(void);
void        tg_clear_error(void);
const char *tg_status_name(tg_status s);    /* "TG_ERR_SHAPE", ... */

/* ---- dtypes ----------------------------------------------------------- */
const char *tg_dtype_name(tg_dtype d);      /* "f32", "c128", ...; "?" if invalid */
size_t      tg_dtype_size(tg_dtype d);      /* bytes per element; 0 if invalid */
bool        tg_dtype_is_complex(tg_dtype d);
bool        tg_dtype_is_floating(tg_dtype d);  /* f16 bf16 f32 f64 (not complex) */
bool        tg_dtype_is_integer(tg_dtype d);   /* i32 i64 (not bool) */
/* NumPy's promotion lattice without value-based casting (NEP 50). */
tg_dtype    tg_promote_types(tg_dtype a, tg_dtype b);
tg_dtype    tg_real_dtype(tg_dtype d);      /* c64 -> f32, c128 -> f64, else d */
tg_dtype    tg_complex_dtype(tg_dtype d);   /* f32 -> c64, f64/ints -> c128 */

/* ---- memory ----------------------------------------------------------- */
tg_tensor  *tg_retain(tg_tensor *t);
void        tg_release(tg_tensor *t);
void        tg_scope_begin(void);
void        tg_scope_end(void);
tg_tensor  *tg_keep(tg_tensor *t);          /* survives the innermost scope_end */
int         tg_scope_depth(void);

/* ---- inspection ------------------------------------------------------- */
int         tg_ndim(const tg_tensor *t);
const int64_t *tg_shape(const tg_tensor *t);
const int64_t *tg_strides(const tg_tensor *t);   /* in elements */
int64_t     tg_dim(const tg_tensor *t, int axis); /* negative axis counts from the end; -1 on error */
int64_t     tg_numel(const tg_tensor *t);         /* -1 on error */
tg_dtype    tg_dtype_of(const tg_tensor *t);
bool        tg_is_contiguous(const tg_tensor *t);
bool        tg_shares_memory(const tg_tensor *a, const tg_tensor *b);

/* ---- reading results -------------------------------------------------- */
tg_status   tg_copy_to(const tg_tensor *t, void *dst, size_t dst_bytes);                  /* row-major copy out */
/* Borrowed pointer to the first element of a contiguous CPU tensor (NULL and
 * an error otherwise); valid while t lives. */
const void *tg_data(const tg_tensor *t);
void       *tg_data_mut(tg_tensor *t);
/* Value of a one-element tensor (any shape of numel 1), converted; NaN / 0
 * and an error otherwise. */
double      tg_item_f64(const tg_tensor *t);
int64_t     tg_item_i64(const tg_tensor *t);
tg_status   tg_item_c128(const tg_tensor *t, double *re, double *im);

/* ---- creation (row-major, contiguous, CPU) ---------------------------- */
tg_tensor  *tg_from_data(tg_dtype dtype, int ndim, const int64_t *shape, const void *data); /* copies, row-major */
/* Zero-copy wrap of user memory. strides in elements (NULL: row-major);
 * deleter(data, ctx) runs when the last view is released (may be NULL). */
tg_tensor  *tg_wrap(tg_dtype dtype, int ndim, const int64_t *shape, const int64_t *strides,
                    void *data, void (*deleter)(void *data, void *ctx), void *ctx);
tg_tensor  *tg_empty(tg_dtype dtype, int ndim, const int64_t *shape);
tg_tensor  *tg_zeros(tg_dtype dtype, int ndim, const int64_t *shape);
tg_tensor  *tg_ones(tg_dtype dtype, int ndim, const int64_t *shape);
tg_tensor  *tg_full(tg_dtype dtype, int ndim, const int64_t *shape, double value);
tg_tensor  *tg_full_complex(tg_dtype dtype, int ndim, const int64_t *shape, double re, double im);
tg_tensor  *tg_scalar(tg_dtype dtype, double value);           /* 0-d */
tg_tensor  *tg_scalar_complex(tg_dtype dtype, double re, double im);
tg_tensor  *tg_zeros_like(tg_tensor *x);
tg_tensor  *tg_ones_like(tg_tensor *x);
tg_tensor  *tg_full_like(tg_tensor *x, double value);
tg_tensor  *tg_arange(tg_dtype dtype, double start, double stop, double step);  /* NumPy arange */
tg_tensor  *tg_linspace(tg_dtype dtype, double start, double stop, int64_t num); /* endpoint included */
tg_tensor  *tg_eye(tg_dtype dtype, int64_t n, int64_t m);     /* m < 0: square */

/* ---- random numbers: Philox 4x32-10, per-thread generator -------------- */
/* Element i of a draw uses counter (offset + i / 4, ...) under key seed, so
 * a given seed gives the same stream on every device. Each draw advances the
 * offset past the counters it used. */
void        tg_manual_seed(uint64_t seed);
void        tg_rng_get_state(uint64_t *seed, uint64_t *offset);
void        tg_rng_set_state(uint64_t seed, uint64_t offset);
tg_tensor  *tg_rand(tg_dtype dtype, int ndim, const int64_t *shape);   /* U[0, 1) */
tg_tensor  *tg_randn(tg_dtype dtype, int ndim, const int64_t *shape);  /* N(0, 1) */
tg_tensor  *tg_uniform(tg_dtype dtype, int ndim, const int64_t *shape, double lo, double hi);
tg_tensor  *tg_normal(tg_dtype dtype, int ndim, const int64_t *shape, double mean, double std);
tg_tensor  *tg_randint(tg_dtype dtype, int ndim, const int64_t *shape, int64_t lo, int64_t hi); /* [lo, hi) */
tg_tensor  *tg_randperm(int64_t n);                                     /* i64 */

/* ---- views (share storage) -------------------------------------------- */
#define TG_NONE INT64_MIN                   /* an omitted slice bound, Python's None */
tg_tensor  *tg_reshape(tg_tensor *x, int ndim, const int64_t *shape);    /* one size may be -1; copies only when strides forbid a view */
tg_tensor  *tg_view(tg_tensor *x, int ndim, const int64_t *shape);       /* as reshape, but an error instead of a copy */
tg_tensor  *tg_flatten(tg_tensor *x);
tg_tensor  *tg_permute(tg_tensor *x, const int *perm);                   /* tg_ndim(x) entries */
tg_tensor  *tg_transpose(tg_tensor *x, int axis0, int axis1);
tg_tensor  *tg_mT(tg_tensor *x);                                         /* swap the last two axes */
tg_tensor  *tg_slice(tg_tensor *x, int axis, int64_t start, int64_t stop, int64_t step); /* Python semantics, negative step too */
tg_tensor  *tg_select(tg_tensor *x, int axis, int64_t index);            /* x[..., i, ...], drops the axis */
tg_tensor  *tg_expand(tg_tensor *x, int ndim, const int64_t *shape);     /* NumPy broadcast_to; -1 keeps a size */
tg_tensor  *tg_broadcast_to(tg_tensor *x, int ndim, const int64_t *shape);
tg_tensor  *tg_squeeze(tg_tensor *x, int naxes, const int *axes);        /* naxes 0, axes NULL: every size-1 axis */
tg_tensor  *tg_unsqueeze(tg_tensor *x, int axis);
tg_tensor  *tg_diagonal(tg_tensor *x, int64_t offset, int axis1, int axis2); /* NumPy diagonal: new last axis */
tg_tensor  *tg_real(tg_tensor *x);          /* view for complex, x itself (new reference) for real */
tg_tensor  *tg_imag(tg_tensor *x);          /* view for complex; error for real */
tg_tensor  *tg_contiguous(tg_tensor *x);    /* x itself if already row-major contiguous */
tg_tensor  *tg_copy(tg_tensor *x);          /* always a new contiguous tensor */
tg_tensor  *tg_cast(tg_tensor *x, tg_dtype dtype);  /* complex -> real keeps the real part */
tg_tensor  *tg_detach(tg_tensor *x);        /* shares storage, not recorded by autograd */

/* ---- in place (for optimisers and buffers) ---------------------------- */
tg_status   tg_copy_(tg_tensor *dst, tg_tensor *src);   /* src broadcast to dst, cast to its dtype */
tg_status   tg_fill_(tg_tensor *dst, double value);
tg_status   tg_add_(tg_tensor *a, tg_tensor *b);
tg_status   tg_sub_(tg_tensor *a, tg_tensor *b);
tg_status   tg_mul_(tg_tensor *a, tg_tensor *b);
tg_status   tg_div_(tg_tensor *a, tg_tensor *b);

/* ---- elementwise, unary ----------------------------------------------- */
/* Float functions of integer or bool input compute in f64 (NumPy). */
tg_tensor *tg_neg(tg_tensor *x);
tg_tensor *tg_abs(tg_tensor *x);                 /* |x|; real result for complex x */
tg_tensor *tg_sign(tg_tensor *x);                /* complex: x/|x| (0 at 0) */
tg_tensor *tg_square(tg_tensor *x);
tg_tensor *tg_reciprocal(tg_tensor *x);
tg_tensor *tg_exp(tg_tensor *x);
tg_tensor *tg_expm1(tg_tensor *x);
tg_tensor *tg_log(tg_tensor *x);
tg_tensor *tg_log1p(tg_tensor *x);
tg_tensor *tg_log2(tg_tensor *x);
tg_tensor *tg_log10(tg_tensor *x);
tg_tensor *tg_sqrt(tg_tensor *x);
tg_tensor *tg_rsqrt(tg_tensor *x);
tg_tensor *tg_sin(tg_tensor *x);
tg_tensor *tg_cos(tg_tensor *x);
tg_tensor *tg_tan(tg_tensor *x);
tg_tensor *tg_asin(tg_tensor *x);
tg_tensor *tg_acos(tg_tensor *x);
tg_tensor *tg_atan(tg_tensor *x);
tg_tensor *tg_sinh(tg_tensor *x);
tg_tensor *tg_cosh(tg_tensor *x);
tg_tensor *tg_tanh(tg_tensor *x);
tg_tensor *tg_asinh(tg_tensor *x);
tg_tensor *tg_acosh(tg_tensor *x);
tg_tensor *tg_atanh(tg_tensor *x);
tg_tensor *tg_sigmoid(tg_tensor *x);
tg_tensor *tg_relu(tg_tensor *x);
tg_tensor *tg_gelu(tg_tensor *x);                /* exact (erf) form */
tg_tensor *tg_silu(tg_tensor *x);
tg_tensor *tg_softplus(tg_tensor *x);            /* log(1 + exp(x)), stable */
tg_tensor *tg_erf(tg_tensor *x);
tg_tensor *tg_erfc(tg_tensor *x);
tg_tensor *tg_floor(tg_tensor *x);
tg_tensor *tg_ceil(tg_tensor *x);
tg_tensor *tg_round(tg_tensor *x);               /* half to even, as NumPy */
tg_tensor *tg_trunc(tg_tensor *x);
tg_tensor *tg_conj(tg_tensor *x);                /* x itself (new reference) for real x */
tg_tensor *tg_angle(tg_tensor *x);               /* real result */
tg_tensor *tg_isnan(tg_tensor *x);               /* bool */
tg_tensor *tg_isinf(tg_tensor *x);
tg_tensor *tg_isfinite(tg_tensor *x);
tg_tensor *tg_logical_not(tg_tensor *x);

/* ---- elementwise, binary (NumPy broadcasting) ------------------------- */
tg_tensor *tg_add(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_sub(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_mul(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_div(tg_tensor *a, tg_tensor *b);   /* true division: ints give f64 */
tg_tensor *tg_pow(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_maximum(tg_tensor *a, tg_tensor *b);  /* NaN propagates */
tg_tensor *tg_minimum(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_atan2(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_remainder(tg_tensor *a, tg_tensor *b); /* sign of the divisor (Python %) */
tg_tensor *tg_eq(tg_tensor *a, tg_tensor *b);    /* comparisons give bool */
tg_tensor *tg_ne(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_lt(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_le(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_gt(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_ge(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_logical_and(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_logical_or(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_logical_xor(tg_tensor *a, tg_tensor *b);
tg_tensor *tg_complex(tg_tensor *re, tg_tensor *im);  /* f32 -> c64, f64 -> c128 */
tg_tensor *tg_where(tg_tensor *cond, tg_tensor *a, tg_tensor *b);
tg_tensor *tg_clamp(tg_tensor *x, double lo, double hi);  /* -INFINITY / INFINITY: no bound */

/* Scalar variants. The scalar is weak (NEP 50): an f32 tensor plus a double
 * stays f32; an integer tensor with a non-integral scalar becomes f64. */
tg_tensor *tg_add_scalar(tg_tensor *x, double s);
tg_tensor *tg_sub_scalar(tg_tensor *x, double s);     /* x - s */
tg_tensor *tg_rsub_scalar(double s, tg_tensor *x);    /* s - x */
tg_tensor *tg_mul_scalar(tg_tensor *x, double s);
tg_tensor *tg_div_scalar(tg_tensor *x, double s);     /* x / s */
tg_tensor *tg_rdiv_scalar(double s, tg_tensor *x);    /* s / x */
tg_tensor *tg_pow_scalar(tg_tensor *x, double s);     /* x ** s */
tg_tensor *tg_maximum_scalar(tg_tensor *x, double s);
tg_tensor *tg_minimum_scalar(tg_tensor *x, double s);
tg_tensor *tg_eq_scalar(tg_tensor *x, double s);
tg_tensor *tg_lt_scalar(tg_tensor *x, double s);
tg_tensor *tg_gt_scalar(tg_tensor *x, double s);

/* ---- reductions ------------------------------------------------------- */
/* naxes == 0 with axes == NULL: all axes; naxes == 0 with axes != NULL: none.
 * Negative axes count from the end; a repeated axis is an error. */
tg_tensor *tg_sum(tg_tensor *x, int naxes, const int *axes, bool keepdim); /* naxes == 0: all axes; negative axes count from the end */
tg_tensor *tg_mean(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_prod(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_max(tg_tensor *x, int naxes, const int *axes, bool keepdim);   /* values only (amax) */
tg_tensor *tg_min(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_all(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_any(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_logsumexp(tg_tensor *x, int naxes, const int *axes, bool keepdim);
tg_tensor *tg_var(tg_tensor *x, int naxes, const int *axes, int64_t correction, bool keepdim); /* correction = ddof */
tg_tensor *tg_std(tg_tensor *x, int naxes, const int *axes, int64_t correction, bool keepdim);
tg_tensor *tg_norm(tg_tensor *x, double p, int naxes, const int *axes, bool keepdim); /* p = 1, 2, INFINITY (vector norm) */
tg_tensor *tg_argmax(tg_tensor *x, int axis, bool keepdim);  /* i64; first of ties */
tg_tensor *tg_argmin(tg_tensor *x, int axis, bool keepdim);
tg_tensor *tg_cumsum(tg_tensor *x, int axis);
tg_tensor *tg_cumprod(tg_tensor *x, int axis);
/* Sorting along one axis (stable). values / indices may be NULL when unwanted. */
tg_status  tg_sort(tg_tensor *x, int axis, bool descending, tg_tensor **values, tg_tensor **indices);
tg_tensor *tg_argsort(tg_tensor *x, int axis, bool descending);
tg_status  tg_topk(tg_tensor *x, int64_t k, int axis, bool largest, tg_tensor **values, tg_tensor **indices);

/* ---- indexing and shaping --------------------------------------------- */
/* Indices are i32 or i64; negative indices count from the end. */
tg_tensor *tg_gather(tg_tensor *x, int axis, tg_tensor *index);        /* torch.gather */
tg_tensor *tg_index_select(tg_tensor *x, int axis, tg_tensor *index);  /* 1-d index */
tg_tensor *tg_scatter_add(tg_tensor *x, int axis, tg_tensor *index, tg_tensor *src); /* out-of-place */
tg_tensor *tg_concat(int n, tg_tensor *const *xs, int axis);
tg_tensor *tg_stack(int n, tg_tensor *const *xs, int axis);
/* Splits into n_out pieces: sizes[i] along axis, or equal pieces when sizes is NULL. */
tg_status  tg_split(tg_tensor *x, int axis, int n_out, const int64_t *sizes, tg_tensor **outs);
tg_tensor *tg_pad(tg_tensor *x, const int64_t *pads, double value);   /* pads[2*i], pads[2*i+1]: before/after axis i (>= 0) */
tg_tensor *tg_flip(tg_tensor *x, int naxes, const int *axes);          /* naxes 0, axes NULL: all */
tg_tensor *tg_tril(tg_tensor *x, int64_t k);
tg_tensor *tg_triu(tg_tensor *x, int64_t k);
tg_tensor *tg_one_hot(tg_tensor *index, int64_t num_classes);          /* i64, new last axis */

/* ---- linear algebra core ---------------------------------------------- */
/* NumPy matmul: 1-d operands promoted and the added axis removed; batch axes
 * broadcast. CBLAS for f32/f64/c64/c128. */
tg_tensor *tg_matmul(tg_tensor *a, tg_tensor *b);

#ifdef __cplusplus
}
#endif

/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_TENSOR_H
#include "tangent/location.h"

#endif /* TANGENT_TENSOR_H */
