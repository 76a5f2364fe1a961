/* Shared machinery of the elementwise op families (unary.c, binary.c,
 * cast.c): C types per dtype and loop generators. A generated loop has a
 * contiguous branch the compiler vectorises, branches for a broadcast
 * (stride 0) operand, and a general strided branch. */
#ifndef TG_ELEMENTWISE_H
#define TG_ELEMENTWISE_H

#include <complex.h>
#include <math.h>

#include "tensor/iter.h"
#include "tensor/registry.h"

typedef uint8_t tg_bool_t;            /* bools are bytes holding 0 or 1 */
typedef float complex tg_c64_t;
typedef double complex tg_c128_t;

/* Compute-bound loops are compiled for AVX-512 and AVX2 too and picked at
 * load time (ifunc); memory-bound ones gain nothing from it. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TG_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TG_SIMD_CLONES
#endif

/* 64 bytes from src (64-aligned) to dst (64-aligned) with non-temporal
 * stores, and the fence that orders them before later stores: the
 * streamed branches of the loops below (ctx == TG_ITER_STREAM, iter.h). */
#if defined(__x86_64__) || defined(__SSE2__)
#include <emmintrin.h>
static inline void tg__stream64(void *dst, const void *src) {
    const __m128i *s = (const __m128i *)src;
    __m128i *d = (__m128i *)dst;
    _mm_stream_si128(d, s[0]);
    _mm_stream_si128(d + 1, s[1]);
    _mm_stream_si128(d + 2, s[2]);
    _mm_stream_si128(d + 3, s[3]);
}
static inline void tg__stream_fence(void) { _mm_sfence(); }
#else
static inline void tg__stream64(void *dst, const void *src) { memcpy(dst, src, 64); }
static inline void tg__stream_fence(void) {}
#endif

/* The contiguous branch of a loop: o[j_] for j_ in [0, n), the statement
 * (the variadic argument) computing element j_ into *dst_. Streamed: the
 * elements up to a 64-byte boundary plainly, then each 64 bytes computed
 * into a local block and stored non-temporally (the compiler keeps the
 * block's arithmetic vectorised), then the tail. */
#define TG_CONTIGUOUS_STORES(R, o, n, ctx, ...)                                    \
    do {                                                                           \
        int64_t i_ = 0;                                                            \
        if ((ctx) == TG_ITER_STREAM) {                                             \
            enum { BLK_ = 64 / (int)sizeof(R) };                                   \
            for (; i_ < (n) && ((uintptr_t)((o) + i_) & 63); i_++) {               \
                int64_t j_ = i_;                                                   \
                R *dst_ = (o) + j_;                                                \
                __VA_ARGS__                                                        \
            }                                                                      \
            for (; i_ + BLK_ <= (n); i_ += BLK_) {                                 \
                R blk_[BLK_] __attribute__((aligned(64)));                         \
                for (int k_ = 0; k_ < BLK_; k_++) {                                \
                    int64_t j_ = i_ + k_;                                          \
                    R *dst_ = blk_ + k_;                                           \
                    __VA_ARGS__                                                    \
                }                                                                  \
                tg__stream64((o) + i_, blk_);                                      \
            }                                                                      \
            tg__stream_fence();                                                    \
        }                                                                          \
        for (; i_ < (n); i_++) {                                                   \
            int64_t j_ = i_;                                                       \
            R *dst_ = (o) + j_;                                                    \
            __VA_ARGS__                                                            \
        }                                                                          \
    } while (0)

/* Loop over one input: R out = EXPR(x) with x of type T. */
#define TG_UNARY_LOOP(name, T, R, EXPR) TG_UNARY_LOOP_ATTR(name, T, R, EXPR, TG_SIMD_CLONES)
/* A SIMD loop with a plain path for short runs, where the vector code's
 * set-up costs more than it saves (a 1-element op). Give both the same
 * expression so results do not depend on the run length. */
#define TG_UNARY_LOOP_SIMD(name, T, R, EXPR, SHORT_EXPR)                             \
    TG_UNARY_LOOP_ATTR(name##_long, T, R, EXPR, TG_SIMD_CLONES)                      \
    TG_UNARY_LOOP_ATTR(name##_short, T, R, SHORT_EXPR, )                             \
    static void name(int64_t n, char *const *p, const int64_t *s, const void *ctx) { \
        if (n < 16) name##_short(n, p, s, ctx);                                      \
        else name##_long(n, p, s, ctx);                                              \
    }
#define TG_UNARY_LOOP_ATTR(name, T, R, EXPR, ATTR)                               \
    ATTR static void name(int64_t n, char *const *p, const int64_t *s, const void *ctx) { \
        if (s[0] == (int64_t)sizeof(R) && s[1] == (int64_t)sizeof(T)) {          \
            R *o = (R *)p[0];                                                    \
            const T *a = (const T *)p[1];                                        \
            TG_CONTIGUOUS_STORES(R, o, n, ctx, T x = a[j_]; *dst_ = (EXPR););    \
        } else {                                                                 \
            char *o = p[0];                                                      \
            const char *a = p[1];                                                \
            for (int64_t i = 0; i < n; i++, o += s[0], a += s[1]) {              \
                T x = *(const T *)a;                                             \
                *(R *)o = (EXPR);                                                \
            }                                                                    \
        }                                                                        \
    }

/* Loop over two inputs: R out = EXPR(a, b) with a, b of type T. */
#define TG_BINARY_LOOP(name, T, R, EXPR)                                         \
    TG_SIMD_CLONES static void name(int64_t n, char *const *p, const int64_t *s, const void *ctx) { \
        const int64_t so = (int64_t)sizeof(R), si = (int64_t)sizeof(T);          \
        if (s[0] == so && s[1] == si && s[2] == si) {                            \
            R *o = (R *)p[0];                                                    \
            const T *A = (const T *)p[1], *B = (const T *)p[2];                  \
            TG_CONTIGUOUS_STORES(R, o, n, ctx, T a = A[j_]; T b = B[j_]; *dst_ = (EXPR);); \
        } else if (s[0] == so && s[1] == si && s[2] == 0) {                      \
            R *o = (R *)p[0];                                                    \
            const T *A = (const T *)p[1];                                        \
            const T b = *(const T *)p[2];                                        \
            for (int64_t i = 0; i < n; i++) { T a = A[i]; o[i] = (EXPR); }       \
        } else if (s[0] == so && s[1] == 0 && s[2] == si) {                      \
            R *o = (R *)p[0];                                                    \
            const T a = *(const T *)p[1];                                        \
            const T *B = (const T *)p[2];                                        \
            for (int64_t i = 0; i < n; i++) { T b = B[i]; o[i] = (EXPR); }       \
        } else {                                                                 \
            char *o = p[0];                                                      \
            const char *pa = p[1], *pb = p[2];                                   \
            for (int64_t i = 0; i < n; i++, o += s[0], pa += s[1], pb += s[2]) { \
                T a = *(const T *)pa, b = *(const T *)pb;                        \
                *(R *)o = (EXPR);                                                \
            }                                                                    \
        }                                                                        \
    }

/* Cast x to dtype for internal use (no scope, no autograd): a new reference,
 * or x retained when it already has that dtype. NULL + error on failure. */
tg_tensor *tg__cast_raw(tg_tensor *x, tg_dtype dtype);
/* x[i] = in[i] converted to dtype: the input itself (no reference taken)
 * when it already has it, else a new converted copy. false + error on
 * failure (nothing left to release). Pair with tg__release_casts. */
static inline bool tg__cast_inputs(int n, tg_tensor *const *in, tg_dtype dtype, tg_tensor **x) {
    for (int i = 0; i < n; i++) {
        x[i] = in[i]->dtype == dtype ? in[i] : tg__cast_raw(in[i], dtype);
        if (!x[i]) {
            for (int j = 0; j < i; j++) if (x[j] != in[j]) tg_release(x[j]);
            return false;
        }
    }
    return true;
}
static inline void tg__release_casts(int n, tg_tensor *const *in, tg_tensor **x) {
    for (int i = 0; i < n; i++) if (x[i] != in[i]) tg_release(x[i]);
}
/* dst (any strides, no overlap with src) = src broadcast and converted. */
void tg__copy_into(tg_tensor *dst, tg_tensor *src);
/* Weak-aware promotion of two operand metas (NEP 50). */
tg_dtype tg__promote_meta(const tg_meta *a, const tg_meta *b);
/* A 0-d tensor of dtype holding size, which may be symbolic (a traced node). */
tg_tensor *tg__size_tensor(int64_t size, tg_dtype dtype);
/* A weak 0-d scalar for the *_scalar ops: i64 when s is integral, else f64. */
tg_tensor *tg__weak_scalar(double s);
/* tg_eye on the device of like (a handed-out reference): identities inside
 * composites and rules live where their operands do. */
tg_tensor *tg__eye_like(const tg_tensor *like, tg_dtype dtype, int64_t n, int64_t m);
/* tg_rand on the CPU whatever the thread's default device (the same
 * stream and offset): for CPU kernels that read the draw. */
tg_tensor *tg__rand_host(tg_dtype dtype, int ndim, const int64_t *shape);

/* ---- helpers for derivative rules (built from public ops) ---------------- */
/* g summed down to shape: the VJP of NumPy broadcasting. */
tg_tensor *tg__sum_to(tg_tensor *g, int ndim, const int64_t *shape);
#define TG_RULE_RESULT(t) ((t) ? TG_OK : tg_last_error_code())

#endif
