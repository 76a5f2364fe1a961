/* matmul with NumPy semantics over CBLAS. Strided operands are passed to
 * BLAS as transposed or with a leading dimension whenever one axis has unit
 * stride, so views (a transpose, a column slice) cost no copy. */
#include "tensor/ops/blas_view.h"
#include "tensor/ops/elementwise.h"
#include "gpu/gpu.h"

#include <cblas.h>
#include <string.h>

static tg_status matmul_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0], *b = &c->in[1];
    if (a->ndim == 0 || b->ndim == 0) return tg__op_error(c, TG_ERR_SHAPE, "operands must have at least 1 axis");
    tg_dtype d = tg_promote_types(a->dtype, b->dtype);
    if (d == TG_BOOL)
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s", tg_dtype_name(d));
    int64_t m = a->ndim == 1 ? 1 : a->shape[a->ndim - 2], ka = a->shape[a->ndim - 1];
    int64_t kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2], n = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
    char za[64], zb[64];
    if (ka != kb)
        return tg__op_error(c, TG_ERR_SHAPE, "inner sizes differ (%s vs %s)", tg__fmt_size(za, sizeof za, ka),
                            tg__fmt_size(zb, sizeof zb, kb));
    int nba = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0;
    if (tg__broadcast_shapes(NULL, nba, a->shape, nbb, b->shape, &out->ndim, out->shape)) {
        char sa[160], sb[160];
        return tg__op_error(c, TG_ERR_SHAPE, "batch axes %s and %s cannot be broadcast",
                            tg__fmt_shape(sa, sizeof sa, nba, a->shape), tg__fmt_shape(sb, sizeof sb, nbb, b->shape));
    }
    if (a->ndim > 1) out->shape[out->ndim++] = m;
    if (b->ndim > 1) out->shape[out->ndim++] = n;
    out->dtype = d;
    return TG_OK;
}

static void gemm(tg_dtype d, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void *a, int64_t lda,
                 const void *b, int64_t ldb, void *c) {
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    switch (d) {
    case TG_F32:
        cblas_sgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, 0.0f, c, (int)n);
        break;
    case TG_F64:
        cblas_dgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, 1.0, a, (int)lda, b, (int)ldb, 0.0, c, (int)n);
        break;
    case TG_C64: {
        const float one[2] = {1, 0}, zero[2] = {0, 0};
        cblas_cgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, one, a, (int)lda, b, (int)ldb, zero, c, (int)n);
        break;
    }
    default: {
        const double one[2] = {1, 0}, zero[2] = {0, 0};
        cblas_zgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, one, a, (int)lda, b, (int)ldb, zero, c, (int)n);
        break;
    }
    }
}

#define INT_MATMUL(name, T)                                                                       \
    static void name(int64_t m, int64_t n, int64_t k, const char *a, int64_t ars, int64_t acs,    \
                     const char *b, int64_t brs, int64_t bcs, char *c) {                          \
        T *o = (T *)c;                                                                            \
        memset(o, 0, (size_t)(m * n) * sizeof(T));                                                \
        for (int64_t i = 0; i < m; i++)                                                           \
            for (int64_t p = 0; p < k; p++) {                                                     \
                uint64_t av = (uint64_t) * (const T *)(a + (i * ars + p * acs) * (int64_t)sizeof(T)); \
                for (int64_t j = 0; j < n; j++) {                                                 \
                    uint64_t bv = (uint64_t) * (const T *)(b + (p * brs + j * bcs) * (int64_t)sizeof(T)); \
                    o[i * n + j] = (T)((uint64_t)o[i * n + j] + av * bv);                         \
                }                                                                                 \
            }                                                                                     \
    }
INT_MATMUL(matmul_i32, int32_t)
INT_MATMUL(matmul_i64, int64_t)

/* Real products of at most TINY_MADDS multiply-adds (a batch of 4 x 4
 * matrices, outer products of short vectors): a BLAS call per item costs
 * 50-100 ns of set-up, these loops a few, and read any strides. Each
 * output is the plain k-ordered sum. */
#define TINY_MADDS 64
#define FLOAT_MATMUL(name, T)                                                                      \
    static void name(int64_t m, int64_t n, int64_t k, const char *a, int64_t ars, int64_t acs,     \
                     const char *b, int64_t brs, int64_t bcs, char *c) {                           \
        T *o = (T *)c;                                                                             \
        for (int64_t i = 0; i < m; i++) {                                                          \
            const T *ar = (const T *)a + i * ars;                                                  \
            T *orow = o + i * n;                                                                   \
            /* the first term assigns: a zeroing pass would be stored in   \
             * 8-byte pieces and reloaded in 16, a store-forwarding stall */ \
            for (int64_t j = 0; j < n; j++) orow[j] = ar[0] * ((const T *)b)[j * bcs];             \
            for (int64_t p = 1; p < k; p++) {                                                      \
                T av = ar[p * acs];                                                                \
                const T *br = (const T *)b + p * brs;                                              \
                for (int64_t j = 0; j < n; j++) orow[j] += av * br[j * bcs];                       \
            }                                                                                      \
        }                                                                                          \
    }
FLOAT_MATMUL(matmul_tiny_f32, float)
FLOAT_MATMUL(matmul_tiny_f64, double)

/* BLAS takes int sizes. */
static bool fits_int(int64_t v) { return v <= INT32_MAX; }

/* One operand seen as a batch of rows x cols matrices. */
typedef struct {
    tg_tensor *t;
    int64_t rs, cs;                 /* matrix strides in elements */
    int64_t bs[TG_MAX_DIMS];        /* batch strides, 0 where broadcast */
    tg__blas_view v;
} operand;

/* A 1-d left operand is a row, a 1-d right operand a column. */
static void describe(operand *o, tg_tensor *t, bool lhs, int nb, int64_t rows, int64_t cols) {
    o->t = t;
    if (t->ndim == 1) {
        o->rs = lhs ? 0 : t->strides[0];
        o->cs = lhs ? t->strides[0] : 0;
    } else {
        o->rs = t->strides[t->ndim - 2];
        o->cs = t->strides[t->ndim - 1];
    }
    int mat = t->ndim > 2 ? t->ndim - 2 : 0;
    for (int i = 0; i < nb; i++) {
        int j = i - (nb - mat);
        o->bs[i] = (j >= 0 && t->shape[j] != 1) ? t->strides[j] : 0;
    }
    o->v = tg__blas_layout(rows, cols, o->rs, o->cs);
}

/* An operand BLAS cannot read as it is gets a contiguous copy. */
static tg_status make_readable(operand *o, bool lhs, int nb, int64_t rows, int64_t cols) {
    if (o->v.ok) return TG_OK;
    tg_tensor *c = tg__alloc(o->t->dtype, o->t->ndim, o->t->shape);
    if (!c) return TG_ERR_MEMORY;
    tg__copy_into(c, o->t);
    tg_release(o->t);
    describe(o, c, lhs, nb, rows, cols);
    return TG_OK;
}

static tg_status matmul_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);

/* f16/bf16 products: SGEMM on f32 copies of the operands, the result rounded
 * to the half dtype (to nearest even), as the GPU's f32 accumulation. */
static tg_status half_matmul_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *a = tg__cast_raw(in[0], TG_F32), *b = a ? tg__cast_raw(in[1], TG_F32) : NULL;
    tg_tensor *y = b ? tg__alloc(TG_F32, out[0]->ndim, out[0]->shape) : NULL;
    tg_status st = y ? TG_OK : tg_last_error_code();
    if (!st) {
        tg_tensor *ops[2] = {a, b};
        st = matmul_kernel(c, ops, &y);
    }
    if (!st) tg__copy_into(out[0], y);
    tg_release(a);
    tg_release(b);
    tg_release(y);
    return st;
}

static tg_status matmul_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    if (d == TG_F16 || d == TG_BF16) return half_matmul_kernel(c, in, out);
    operand A = {0}, B = {0};
    A.t = tg__cast_raw(in[0], d);
    B.t = tg__cast_raw(in[1], d);
    tg_status st = TG_OK;
    if (!A.t || !B.t) { st = tg_last_error_code(); goto done; }
    tg_tensor *a = A.t, *b = B.t;
    int64_t m = a->ndim == 1 ? 1 : a->shape[a->ndim - 2], k = a->shape[a->ndim - 1];
    int64_t n = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
    if (!fits_int(m) || !fits_int(n) || !fits_int(k)) {
        st = tg__op_error(c, TG_ERR_SHAPE, "matrix sizes exceed BLAS's int range");
        goto done;
    }
    int nb = a->ndim > 2 || b->ndim > 2 ? out[0]->ndim - (a->ndim > 1) - (b->ndim > 1) : 0;
    describe(&A, a, true, nb, m, k);
    describe(&B, b, false, nb, k, n);
    int64_t batches = tg__numel(nb, out[0]->shape);
    int64_t es = tg__esize(d);
    char *op = tg__ptr(out[0]);
    if (m == 0 || n == 0 || batches == 0) goto done;
    if (k == 0) { memset(op, 0, (size_t)(batches * m * n * es)); goto done; }
    bool tiny = (d == TG_F32 || d == TG_F64) && m * n * k <= TINY_MADDS;
    if (!tg_dtype_is_integer(d) && !tiny) {
        if ((st = make_readable(&A, true, nb, m, k)) || (st = make_readable(&B, false, nb, k, n))) goto done;
    }
    int64_t idx[TG_MAX_DIMS] = {0};
    for (int64_t t = 0; t < batches; t++) {
        int64_t offa = 0, offb = 0;
        for (int i = 0; i < nb; i++) { offa += idx[i] * A.bs[i]; offb += idx[i] * B.bs[i]; }
        const char *pa = tg__ptr(A.t) + offa * es, *pb = tg__ptr(B.t) + offb * es;
        char *pc = op + t * m * n * es;
        if (tiny && d == TG_F64) matmul_tiny_f64(m, n, k, pa, A.rs, A.cs, pb, B.rs, B.cs, pc);
        else if (tiny) matmul_tiny_f32(m, n, k, pa, A.rs, A.cs, pb, B.rs, B.cs, pc);
        else if (d == TG_I32) matmul_i32(m, n, k, pa, A.rs, A.cs, pb, B.rs, B.cs, pc);
        else if (d == TG_I64) matmul_i64(m, n, k, pa, A.rs, A.cs, pb, B.rs, B.cs, pc);
        else gemm(d, A.v.trans, B.v.trans, m, n, k, pa, A.v.ld, pb, B.v.ld, pc);
        for (int i = nb - 1; i >= 0; i--) {
            if (++idx[i] < out[0]->shape[i]) break;
            idx[i] = 0;
        }
    }
done:
    tg_release(A.t);
    tg_release(B.t);
    return st;
}

/* ---- derivative rules: A-bar = G B^H, B-bar = A^H G (AD-REFERENCE.md 1) ---- */
/* 1-d operands are promoted to matrices, as in the forward pass, and the
 * cotangent gets the matching unit axes; batch axes are summed back. */
static tg_tensor *as_matrix(tg_tensor *x, bool is_lhs) {
    return x->ndim == 1 ? tg_unsqueeze(x, is_lhs ? 0 : 1) : x;
}
static tg_tensor *cot_as_matrix(tg_tensor *g, const tg_tensor *a, const tg_tensor *b) {
    if (a->ndim == 1) g = tg_unsqueeze(g, b->ndim == 1 ? 0 : -2);
    if (b->ndim == 1 && g) g = tg_unsqueeze(g, -1);
    return g;
}
static tg_tensor *mH(tg_tensor *x) { return tg_conj(tg_mT(x)); }
static tg_tensor *back_to(tg_tensor *g, const tg_tensor *x, const tg_tensor *x2) {
    g = tg__sum_to(g, x2->ndim, x2->shape);
    return g && x->ndim == 1 ? tg_reshape(g, 1, x->shape) : g;
}
static tg_status matmul_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                            tg_tensor **ic) {
    (void)out;
    tg_tensor *a2 = as_matrix(in[0], true), *b2 = as_matrix(in[1], false);
    tg_tensor *g2 = cot_as_matrix(g[0], in[0], in[1]);
    if (TG_NEEDS(c, 0) && !(ic[0] = back_to(tg_matmul(g2, mH(b2)), in[0], a2))) return tg_last_error_code();
    if (TG_NEEDS(c, 1) && !(ic[1] = back_to(tg_matmul(mH(a2), g2), in[1], b2))) return tg_last_error_code();
    return TG_OK;
}
static tg_status matmul_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                            tg_tensor **ot) {
    (void)c; (void)out;
    tg_tensor *p = t[0] ? tg_matmul(t[0], in[1]) : NULL, *q = t[1] ? tg_matmul(in[0], t[1]) : NULL;
    ot[0] = p && q ? tg_add(p, q) : p ? p : q;
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_matmul = {.name = "matmul", .n_in = 2, .n_out = 1, .flags = TG_OP_RULES_IGNORE_OUTPUT,
                                .infer = matmul_infer,
                                .kernel = {[TG_CPU] = matmul_kernel, [TG_VULKAN] = tg__vk_matmul_kernel}, .vjp = matmul_vjp, .jvp = matmul_jvp};
tg_tensor *tg_matmul(tg_tensor *a, tg_tensor *b) {
    tg_tensor *in[2] = {a, b};
    return tg__apply1(&tg_op_matmul, 2, in, NULL);
}

TG_REGISTER_OPS(matmul, &tg_op_matmul)
