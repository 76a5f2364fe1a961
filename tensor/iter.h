/* N-d strided iteration for elementwise kernels (NumPy ufunc style).
 *
 * A loop function gets a run of n elements along the innermost (coalesced)
 * axis: ptrs[k] points at operand k's first element and steps[k] is its
 * stride in bytes (0 for a broadcast operand). Operand 0 is the output by
 * convention. Dimensions that are contiguous for every operand are merged
 * first, so a fully contiguous case becomes one run the compiler vectorises.
 * Above TG_PARALLEL_GRAIN elements, runs are split across OpenMP threads in
 * fixed ranges; each output element is written by exactly one thread. */
#ifndef TG_ITER_H
#define TG_ITER_H

#include "tensor/tensor_impl.h"

#define TG_ITER_MAX_OPS 4

typedef void (*tg_loop_fn)(int64_t n, char *const *ptrs, const int64_t *steps, const void *ctx);

typedef struct tg_iter {
    int nops, ndim;
    int64_t numel;
    int64_t shape[TG_MAX_DIMS];
    int64_t steps[TG_ITER_MAX_OPS][TG_MAX_DIMS];   /* bytes */
    char *base[TG_ITER_MAX_OPS];
} tg_iter;

/* Drops the size-1 axes of shape[0..ndim) and merges neighbours that step
 * through memory as one for every operand (outer step = size x inner step),
 * in place: shape and steps[k] (nops operands, in any unit) are rewritten;
 * returns the axes left (0 when every size is 1). Fewer axes: longer inner
 * runs on the CPU, fewer divisions per element in a GPU offset loop. */
static inline int tg__collapse_axes(int ndim, int64_t *shape, int nops, int64_t (*steps)[TG_MAX_DIMS]) {
    int n = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 1) continue;
        bool merge = n > 0;
        for (int k = 0; k < nops && merge; k++) merge = steps[k][n - 1] == steps[k][i] * shape[i];
        if (merge) {
            shape[n - 1] *= shape[i];
            for (int k = 0; k < nops; k++) steps[k][n - 1] = steps[k][i];
            continue;
        }
        shape[n] = shape[i];
        for (int k = 0; k < nops; k++) steps[k][n] = steps[k][i];
        n++;
    }
    return n;
}

/* Operands: tensors read or written as if broadcast to (ndim, shape). */
void tg_iter_init(tg_iter *it, int ndim, const int64_t *shape, int nops, tg_tensor *const *ops);
void tg_iter_run(const tg_iter *it, tg_loop_fn fn, const void *ctx);

/* Convenience: out = fn(in...) over out's shape (inputs broadcast). With
 * ctx NULL and an output of TG_STREAM_MIN_BYTES or more, fn gets
 * TG_ITER_STREAM as ctx: the output is larger than the last-level cache
 * holds, so a loop may store it with non-temporal stores (no read of the
 * destination's lines first; elementwise.h's loops do, 15-25% faster on a
 * 32 MB product measured here). Loops that read their output must not be
 * run through tg_iter_apply. */
#define TG_STREAM_MIN_BYTES ((int64_t)16 << 20)
extern const char tg__iter_stream;
#define TG_ITER_STREAM ((const void *)&tg__iter_stream)
void tg_iter_apply(tg_loop_fn fn, const void *ctx, tg_tensor *out, int n_in, tg_tensor *const *in);

#endif
