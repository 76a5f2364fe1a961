/* Helpers shared by the axis-wise op families (indexing.c, shaping.c,
 * sort.c, scan.c): walking the "lines" of a tensor along one axis, and
 * contiguous internal copies. Private to tensor/ops. */
#ifndef TG_AXIS_LINES_H
#define TG_AXIS_LINES_H

#include "tensor/ops/elementwise.h"

#include <string.h>

/* Element offset (relative to t->offset) of the first element of line
 * `line`, lines being numbered row-major over every axis but `axis`. */
static inline int64_t tg__line_offset(const tg_tensor *t, int axis, int64_t line) {
    int64_t off = 0;
    for (int d = t->ndim - 1; d >= 0 && line; d--) {
        if (d == axis) continue;
        int64_t n = t->shape[d];
        off += (line % n) * t->strides[d];
        line /= n;
    }
    return off;
}

/* Normalise an axis; a 0-d tensor accepts axis 0 or -1 and is then treated
 * as one element of a length-1 axis (PyTorch's convention for dim ops). */
static inline tg_status tg__norm_axis0d(const char *op, int axis, int ndim, int *out) {
    return tg__norm_axis(op, axis, ndim ? ndim : 1, out);
}
/* A 1-d, length-1 stack view of a 0-d tensor (no refcount traffic). */
static inline tg_tensor tg__as_1d(const tg_tensor *t) {
    tg_tensor v = *t;
    if (v.ndim == 0) { v.ndim = 1; v.shape[0] = 1; v.strides[0] = 1; }
    return v;
}

/* x as a contiguous tensor of dtype d: x retained when it already is one,
 * else a fresh copy. NULL + error on failure. */
static inline tg_tensor *tg__contig_raw(tg_tensor *x, tg_dtype d) {
    if (x->dtype == d && tg__is_contiguous(x)) return tg_retain(x);
    tg_tensor *y = tg__alloc(d, x->ndim, x->shape);
    if (y) tg__copy_into(y, x);
    return y;
}

/* Copy one element of es bytes (constant sizes let the compiler inline). */
static inline void tg__copy_elem(char *dst, const char *src, size_t es) {
    switch (es) {
    case 1: memcpy(dst, src, 1); break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, 16); break;
    }
}

static inline bool tg__is_index_dtype(tg_dtype d) { return d == TG_I32 || d == TG_I64; }

#endif
