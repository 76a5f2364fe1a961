/* Sorting along one axis: sort (values + i64 indices), argsort (composite of
 * sort), topk.
 *
 * One stable merge sort serves all three. Ascending order puts NaN last, as
 * NumPy; descending order is torch's stable descending sort: the comparison
 * reversed (NaN first), equal elements keeping their original order. topk
 * takes the first k of that order, so ties resolve to the lower index.
 * Lines along the axis are independent and split across threads, so the
 * result never depends on the thread count. The VJP of sort and topk
 * scatters the values' cotangent back through the indices. Vulkan:
 * gpu/sort.c (f32, i32, f64 lines up to 2048 / 1024 elements). */
#include "gpu/gpu.h"
#include "tensor/ops/axis_lines.h"

#include <stdio.h>
#include <stdlib.h>

#define RUN 16   /* insertion-sorted runs before merging */

/* Stable index sort of keys k[0..n): idx gets the order, tmp is scratch of
 * n entries. LT is a strict "sorts before" for ascending order. */
#define DEF_SORT(sfx, T, LT)                                                                     \
    static inline bool lt_##sfx(T a, T b) { return LT; }                                         \
    static void sort_##sfx(const T *k, int64_t *idx, int64_t *tmp, int64_t n, bool desc) {       \
        /* before(a, b): element a goes strictly before element b */                             \
        for (int64_t i = 0; i < n; i++) idx[i] = i;                                              \
        for (int64_t lo = 0; lo < n; lo += RUN) {                                                \
            int64_t hi = lo + RUN < n ? lo + RUN : n;                                            \
            for (int64_t i = lo + 1; i < hi; i++) {                                              \
                int64_t v = idx[i], j = i;                                                       \
                while (j > lo && (desc ? lt_##sfx(k[idx[j - 1]], k[v]) : lt_##sfx(k[v], k[idx[j - 1]]))) { \
                    idx[j] = idx[j - 1];                                                         \
                    j--;                                                                         \
                }                                                                                \
                idx[j] = v;                                                                      \
            }                                                                                    \
        }                                                                                        \
        int64_t *a = idx, *b = tmp;                                                              \
        for (int64_t w = RUN; w < n; w *= 2) {                                                   \
            for (int64_t lo = 0; lo < n; lo += 2 * w) {                                          \
                int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;     \
                int64_t i = lo, j = mid, o = lo;                                                 \
                while (i < mid && j < hi) {                                                      \
                    /* take from the right only when strictly before: stability */               \
                    bool right = desc ? lt_##sfx(k[a[i]], k[a[j]]) : lt_##sfx(k[a[j]], k[a[i]]); \
                    b[o++] = right ? a[j++] : a[i++];                                            \
                }                                                                                \
                while (i < mid) b[o++] = a[i++];                                                 \
                while (j < hi) b[o++] = a[j++];                                                  \
            }                                                                                    \
            int64_t *t = a; a = b; b = t;                                                        \
        }                                                                                        \
        if (a != idx) memcpy(idx, a, (size_t)n * sizeof *idx);                                   \
    }

/* NaN sorts after every number (and equal to another NaN). */
#define FLOAT_LT ((a < b) || (b != b && a == a))
DEF_SORT(f32, float, FLOAT_LT)
DEF_SORT(f64, double, FLOAT_LT)
DEF_SORT(i32, int32_t, a < b)
DEF_SORT(i64, int64_t, a < b)
DEF_SORT(bool, tg_bool_t, a < b)

/* Sort one line of x (n elements at xp, stride xs bytes) and write the first
 * k values and indices to vp / ip (strides vs / is bytes; either may be NULL). */
static void sort_line(tg_dtype d, const char *xp, int64_t xs, int64_t n, bool desc, int64_t k, char *vp,
                      int64_t vs, char *ip, int64_t is, void *keys, int64_t *idx) {
    size_t es = tg_dtype_size(d);
    for (int64_t i = 0; i < n; i++) tg__copy_elem((char *)keys + i * (int64_t)es, xp + i * xs, es);
    switch (d) {
    case TG_F32: sort_f32(keys, idx, idx + n, n, desc); break;
    case TG_F64: sort_f64(keys, idx, idx + n, n, desc); break;
    case TG_I32: sort_i32(keys, idx, idx + n, n, desc); break;
    case TG_I64: sort_i64(keys, idx, idx + n, n, desc); break;
    default: sort_bool(keys, idx, idx + n, n, desc); break;
    }
    for (int64_t j = 0; j < k; j++) {
        if (vp) tg__copy_elem(vp + j * vs, (const char *)keys + idx[j] * (int64_t)es, es);
        if (ip) *(int64_t *)(ip + j * is) = idx[j];
    }
}

/* Sort every line of in along axis into the k-long lines of vals / inds. */
static tg_status sort_lines(const tg_op_call *c, tg_tensor *in, int axis, bool desc, int64_t k, tg_tensor *vals,
                            tg_tensor *inds) {
    tg_tensor x = tg__as_1d(in), v = tg__as_1d(vals), ix = tg__as_1d(inds);
    int64_t n = x.shape[axis], numel = tg__numel(x.ndim, x.shape);
    int64_t lines = n ? numel / n : 0;
    if (lines == 0 || k == 0) return TG_OK;
    size_t es = tg_dtype_size(x.dtype);
    const char *xb = tg__ptr(&x);
    char *vb = tg__ptr(&v), *ib = tg__ptr(&ix);
    int64_t xs = x.strides[axis] * (int64_t)es, vs = v.strides[axis] * (int64_t)es, is = ix.strides[axis] * 8;
    int failed = 0;
    #pragma omp parallel if (numel > TG_PARALLEL_GRAIN)
    {
        void *keys = malloc((size_t)n * es);
        int64_t *idx = malloc((size_t)(2 * n) * sizeof *idx);
        /* every thread reaches the worksharing loop; a failed one skips its lines */
        #pragma omp for schedule(static)
        for (int64_t l = 0; l < lines; l++) {
            if (!keys || !idx) {
                #pragma omp atomic write
                failed = 1;
                continue;
            }
            sort_line(x.dtype, xb + tg__line_offset(&x, axis, l) * (int64_t)es, xs, n, desc, k,
                      vb + tg__line_offset(&v, axis, l) * (int64_t)es, vs, ib + tg__line_offset(&ix, axis, l) * 8,
                      is, keys, idx);
        }
        free(keys);
        free(idx);
    }
    return failed ? tg__op_error(c, TG_ERR_MEMORY, "out of memory for a line of %lld elements", (long long)n) : TG_OK;
}

static tg_status sortable(const tg_op_call *c, const tg_meta *x, int axis_attr, int *axis) {
    tg_dtype d = x->dtype;
    if (d != TG_BOOL && d != TG_I32 && d != TG_I64 && d != TG_F32 && d != TG_F64)
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s (no total order)", tg_dtype_name(d));
    char name[32];
    snprintf(name, sizeof name, "tg_%s", c->def->name);
    return tg__norm_axis0d(name, axis_attr, x->ndim, axis);
}

/* ---- sort: attrs i[0] axis, i[1] descending ------------------------------------ */
static tg_status sort_infer(const tg_op_call *c, tg_meta *out) {
    int axis;
    if (sortable(c, &c->in[0], (int)c->attrs->i[0], &axis)) return tg_last_error_code();
    for (int j = 0; j < 2; j++) tg__meta_copy_shape(&out[j], &c->in[0]);
    out[0].dtype = c->in[0].dtype;
    out[1].dtype = TG_I64;
    return TG_OK;
}
static tg_status sort_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int axis;
    tg__norm_axis0d("tg_sort", (int)c->attrs->i[0], in[0]->ndim, &axis);
    int64_t n = in[0]->ndim ? in[0]->shape[axis] : 1;
    return sort_lines(c, in[0], axis, c->attrs->i[1] != 0, n, out[0], out[1]);
}
extern const tg_op_def tg_op_topk;
/* ---- derivative rules: values move with their indices -------------------------- */
static int values_axis(const tg_op_call *c) {
    return (int)(c->def == &tg_op_topk ? c->attrs->i[1] : c->attrs->i[0]);
}
static tg_status sort_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    if (in[0]->ndim == 0) { ic[0] = g[0]; return TG_OK; }
    ic[0] = tg_scatter_add(tg_zeros_like(in[0]), values_axis(c), out[1], g[0]);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status sort_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    if (in[0]->ndim == 0) { ot[0] = t[0]; return TG_OK; }
    ot[0] = tg_gather(t[0], values_axis(c), out[1]);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_sort = {.name = "sort", .n_in = 1, .n_out = 2, .infer = sort_infer,
                              .kernel = {[TG_CPU] = sort_kernel, [TG_VULKAN] = TG_VK(tg__vk_sort_kernel)},
                              .vjp = sort_vjp, .jvp = sort_jvp};

/* Apply a two-output op and hand out only the outputs asked for. */
static tg_status apply_two(const tg_op_def *def, tg_tensor *x, const tg_attrs *a, tg_tensor **values,
                           tg_tensor **indices) {
    if (values) *values = NULL;
    if (indices) *indices = NULL;
    if (!x) return tg__error(TG_ERR_ARG, "tg_%s: input is NULL", def->name);
    tg_tensor *o[2];
    tg_scope_begin();                      /* the unwanted output dies with it */
    tg_status st = tg__apply(def, 1, &x, a, 2, o);
    if (st == TG_OK) {
        if (values) *values = tg_keep(o[0]);
        if (indices) *indices = tg_keep(o[1]);
    }
    tg_scope_end();
    return st;
}

tg_status tg_sort(tg_tensor *x, int axis, bool descending, tg_tensor **values, tg_tensor **indices) {
    tg_attrs a = {.n_int = 2, .i = {axis, descending}};
    return apply_two(&tg_op_sort, x, &a, values, indices);
}

tg_tensor *tg_argsort(tg_tensor *x, int axis, bool descending) {
    tg_tensor *idx = NULL;
    tg_sort(x, axis, descending, NULL, &idx);
    return idx;
}

/* ---- topk: attrs i[0] k, i[1] axis, i[2] largest ---------------------------------- */
static tg_status topk_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    int axis;
    if (sortable(c, x, (int)c->attrs->i[1], &axis)) return tg_last_error_code();
    int64_t n = x->ndim ? x->shape[axis] : 1, k = c->attrs->i[0];
    if (x->ndim == 0 && k == 0)
        return tg__op_error(c, TG_ERR_ARG, "k = 0 is not possible for a 0-d input");
    if (n >= TG_SYM_BASE_INTERNAL) {            /* a symbolic axis: k <= n is checked by tg_run */
        if (k < 0) return tg__op_error(c, TG_ERR_ARG, "k = %lld is negative", (long long)k);
        if (tg__require(n, k, "tg_topk")) return tg_last_error_code();
    } else if (k < 0 || k > n) {
        return tg__op_error(c, TG_ERR_ARG, "k = %lld is out of range [0, %lld] for axis %d", (long long)k,
                            (long long)n, (int)c->attrs->i[1]);
    }
    for (int j = 0; j < 2; j++) {
        tg__meta_copy_shape(&out[j], x);
        if (x->ndim) out[j].shape[axis] = k;
    }
    out[0].dtype = x->dtype;
    out[1].dtype = TG_I64;
    return TG_OK;
}
static tg_status topk_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int axis;
    tg__norm_axis0d("tg_topk", (int)c->attrs->i[1], in[0]->ndim, &axis);
    return sort_lines(c, in[0], axis, c->attrs->i[2] != 0, c->attrs->i[0], out[0], out[1]);
}
const tg_op_def tg_op_topk = {.name = "topk", .n_in = 1, .n_out = 2, .infer = topk_infer,
                              .kernel = {[TG_CPU] = topk_kernel, [TG_VULKAN] = TG_VK(tg__vk_sort_kernel)},
                              .vjp = sort_vjp, .jvp = sort_jvp};

tg_status tg_topk(tg_tensor *x, int64_t k, int axis, bool largest, tg_tensor **values, tg_tensor **indices) {
    tg_attrs a = {.n_int = 3, .i = {k, axis, largest}};
    return apply_two(&tg_op_topk, x, &a, values, indices);
}

TG_REGISTER_OPS(sort, &tg_op_sort, &tg_op_topk)
