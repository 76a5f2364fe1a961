/* N-d strided iteration; see iter.h. */
#include "tensor/iter.h"

#include <string.h>

void tg_iter_init(tg_iter *it, int ndim, const int64_t *shape, int nops, tg_tensor *const *ops) {
    it->nops = nops;
    it->numel = tg__numel(ndim, shape);
    for (int k = 0; k < nops; k++) {
        tg__broadcast_strides(ops[k], ndim, shape, it->steps[k]);
        size_t es = tg_dtype_size(ops[k]->dtype);
        for (int i = 0; i < ndim; i++) it->steps[k][i] *= (int64_t)es;
        it->base[k] = tg__ptr(ops[k]);
    }
    memcpy(it->shape, shape, (size_t)ndim * sizeof *shape);
    int n = tg__collapse_axes(ndim, it->shape, nops, it->steps);
    if (n == 0) {               /* a scalar or all-ones shape: one run of 1 */
        it->shape[0] = 1;
        for (int k = 0; k < nops; k++) it->steps[k][0] = 0;
        n = 1;
    }
    it->ndim = n;
}

/* Runs elements [begin, end) in row-major order of the iteration space. */
static void run_range(const tg_iter *it, tg_loop_fn fn, const void *ctx, int64_t begin, int64_t end) {
    int nd = it->ndim, nops = it->nops;
    int64_t idx[TG_MAX_DIMS];
    int64_t rem = begin;
    for (int i = nd - 1; i >= 0; i--) { idx[i] = rem % it->shape[i]; rem /= it->shape[i]; }
    char *p[TG_ITER_MAX_OPS];
    int64_t inner_steps[TG_ITER_MAX_OPS];
    for (int k = 0; k < nops; k++) {
        p[k] = it->base[k];
        for (int i = 0; i < nd; i++) p[k] += idx[i] * it->steps[k][i];
        inner_steps[k] = it->steps[k][nd - 1];
    }
    int64_t pos = begin;
    int64_t inner = it->shape[nd - 1];
    while (pos < end) {
        int64_t n = inner - idx[nd - 1];
        if (n > end - pos) n = end - pos;
        fn(n, p, inner_steps, ctx);
        pos += n;
        if (pos >= end) break;
        /* advance the multi-index past this run */
        for (int k = 0; k < nops; k++) p[k] += (inner - idx[nd - 1]) * inner_steps[k];
        idx[nd - 1] = 0;
        for (int i = nd - 2; i >= 0; i--) {
            for (int k = 0; k < nops; k++) p[k] -= it->shape[i + 1] * it->steps[k][i + 1];
            for (int k = 0; k < nops; k++) p[k] += it->steps[k][i];
            if (++idx[i] < it->shape[i]) break;
            idx[i] = 0;
        }
    }
}

void tg_iter_run(const tg_iter *it, tg_loop_fn fn, const void *ctx) {
    int64_t total = it->numel;
    if (total == 0) return;
    if (total < TG_PARALLEL_GRAIN) {
        run_range(it, fn, ctx, 0, total);
        return;
    }
    int nth = tg__num_threads();
    if (nth <= 1) {
        run_range(it, fn, ctx, 0, total);
        return;
    }
    int64_t chunks = total / (TG_PARALLEL_GRAIN / 2);
    if (chunks > 4 * nth) chunks = 4 * nth;
    int64_t per = (total + chunks - 1) / chunks;
    per = (per + 63) / 64 * 64;     /* keep chunk starts cache-line friendly */
    chunks = (total + per - 1) / per;
    #pragma omp parallel for schedule(static) num_threads(nth)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t b = c * per, e = b + per < total ? b + per : total;
        run_range(it, fn, ctx, b, e);
    }
}

/* All operands contiguous with out's shape: one flat run, no iterator. */
static bool flat_run(const tg_tensor *out, int n_in, tg_tensor *const *in) {
    if (!tg__is_contiguous(out)) return false;
    for (int k = 0; k < n_in; k++) {
        if (in[k]->ndim != out->ndim || !tg__is_contiguous(in[k])) return false;
        for (int i = 0; i < out->ndim; i++)
            if (in[k]->shape[i] != out->shape[i]) return false;
    }
    return true;
}

const char tg__iter_stream = 1;

void tg_iter_apply(tg_loop_fn fn, const void *ctx, tg_tensor *out, int n_in, tg_tensor *const *in) {
    int64_t n = tg__numel(out->ndim, out->shape);
    if (!ctx && n * tg__esize(out->dtype) >= TG_STREAM_MIN_BYTES) ctx = TG_ITER_STREAM;
    if (n < TG_PARALLEL_GRAIN && flat_run(out, n_in, in)) {
        char *p[TG_ITER_MAX_OPS];
        int64_t st[TG_ITER_MAX_OPS];
        p[0] = tg__ptr(out);
        st[0] = tg__esize(out->dtype);
        for (int k = 0; k < n_in; k++) { p[k + 1] = tg__ptr(in[k]); st[k + 1] = tg__esize(in[k]->dtype); }
        if (n > 0) fn(n, p, st, ctx);
        return;
    }
    tg_tensor *ops[TG_ITER_MAX_OPS];
    ops[0] = out;
    for (int k = 0; k < n_in; k++) ops[k + 1] = in[k];
    tg_iter it;
    tg_iter_init(&it, out->ndim, out->shape, n_in + 1, ops);
    tg_iter_run(&it, fn, ctx);
}
