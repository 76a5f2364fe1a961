/* linalg_matrix_exp: exp(A) of square A, batched (torch.linalg.matrix_exp,
 * scipy.linalg.expm). Forward: scaling and squaring with diagonal Pade
 * approximants of degree 3, 5, 7, 9 or 13 picked by the 1-norm of A
 * (Higham 2005, "The scaling and squaring method for the matrix exponential
 * revisited", Algorithm 2.3), products by cblas ?gemm and the Pade
 * denominator solved by LAPACK ?gesv. f32 and c64 inputs are computed in f64
 * and c128 (the thetas below are double-precision bounds) and rounded once.
 * A matrix with a NaN or infinite entry gives a matrix of NaNs.
 * Rules (AD-REFERENCE.md 4), through the block-triangular identity
 *   exp([[X, E], [0, X]]) = [[exp(X), L(X, E)], [0, exp(X)]]
 * with L the Frechet derivative: JVP: A-dot -> L(A, A-dot); VJP: A-bar =
 * L(A^H, G) (the adjoint of L(A, .) under Re tr(X^H Y)). Both call
 * tg_linalg_matrix_exp on the 2n x 2n block matrix, so they are
 * differentiable again (higher order). */
#include <cblas.h>
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

/* A matrix of the work precision: n x n, real (f64) or complex (c128),
 * stored as doubles (2 per complex element). */
typedef struct {
    int n;
    bool cx;
    int64_t len;   /* doubles per matrix */
} mspec;

static void mm(const mspec *s, const double *a, const double *b, double *c) {
    if (s->cx) {
        const double complex one = 1, zero = 0;
        cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->n, s->n, s->n, &one, a, s->n, b, s->n, &zero, c,
                    s->n);
    } else {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->n, s->n, s->n, 1.0, a, s->n, b, s->n, 0.0, c, s->n);
    }
}

/* out = sum_i coef[i] * mats[i] + eye * I (real coefficients). */
static void lincomb(const mspec *s, double *out, int k, const double *coef, const double *const *mats, double eye) {
    for (int64_t j = 0; j < s->len; j++) {
        double v = 0;
        for (int i = 0; i < k; i++) v += coef[i] * mats[i][j];
        out[j] = v;
    }
    int64_t step = (int64_t)(s->n + 1) * (s->cx ? 2 : 1);
    for (int i = 0; i < s->n; i++) out[i * step] += eye;
}

/* max column sum of |a_ij|; NaN when an entry is NaN */
static double norm1(const mspec *s, const double *a) {
    double best = 0;
    bool nan = false;
    for (int j = 0; j < s->n; j++) {
        double col = 0;
        for (int i = 0; i < s->n; i++) {
            int64_t k = (int64_t)i * s->n + j;
            col += s->cx ? cabs(((const double complex *)a)[k]) : fabs(a[k]);
        }
        if (isnan(col)) nan = true;
        if (col > best) best = col;
    }
    return nan ? NAN : best;
}

static const double b3[] = {120, 60, 12, 1};
static const double b5[] = {30240, 15120, 3360, 420, 30, 1};
static const double b7[] = {17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1};
static const double b9[] = {17643225600., 8821612800., 2075673600., 302702400., 30270240.,
                            2162160.,     110880.,     3960.,       90.,        1.};
static const double b13[] = {64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
                             129060195264000.,   10559470521600.,    670442572800.,    33522128640.,
                             1323241920.,        40840800.,          960960.,          16380.,
                             182.,               1.};
/* Higham 2005, Table 2.3 (double precision): largest ||A||_1 for degree m. */
static const double theta[] = {1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1,
                               2.097847961257068e0, 5.371920351148152e0};

/* work: 7 matrices (A2 A4 A6 A8 U V T), ipiv n ints. a is overwritten
 * (scaled); the result goes to x. Returns LAPACK's info. */
static int expm_one(const mspec *s, double *a, double *x, double *work, int *ipiv) {
    double *A2 = work, *A4 = A2 + s->len, *A6 = A4 + s->len, *A8 = A6 + s->len;
    double *U = A8 + s->len, *V = U + s->len, *T = V + s->len;
    double nrm = norm1(s, a);
    if (!isfinite(nrm)) {
        for (int64_t j = 0; j < s->len; j++) x[j] = NAN;
        return 0;
    }
    int m = 13, sq = 0;
    static const int degs[] = {3, 5, 7, 9};
    for (int i = 0; i < 4; i++)
        if (nrm <= theta[i]) { m = degs[i]; break; }
    if (m == 13 && nrm > theta[4]) {
        sq = (int)ceil(log2(nrm / theta[4]));
        double f = ldexp(1.0, -sq);
        for (int64_t j = 0; j < s->len; j++) a[j] *= f;
    }
    mm(s, a, a, A2);
    if (m >= 5) mm(s, A2, A2, A4);
    if (m >= 7) mm(s, A4, A2, A6);
    if (m == 9) mm(s, A6, A2, A8);
    const double *p[4] = {A2, A4, A6, A8};
    if (m < 13) {
        const double *b = m == 3 ? b3 : m == 5 ? b5 : m == 7 ? b7 : b9;
        int k = (m - 1) / 2;   /* powers A2 .. A(2k) */
        double cu[4], cv[4];
        for (int i = 0; i < k; i++) { cu[i] = b[2 * i + 3]; cv[i] = b[2 * i + 2]; }
        lincomb(s, T, k, cu, p, b[1]);
        mm(s, a, T, U);
        lincomb(s, V, k, cv, p, b[0]);
    } else {
        const double *b = b13;
        lincomb(s, T, 3, (double[]){b[9], b[11], b[13]}, p, 0);
        mm(s, A6, T, U);
        lincomb(s, T, 4, (double[]){1, b[3], b[5], b[7]}, (const double *[]){U, A2, A4, A6}, b[1]);
        mm(s, a, T, U);
        lincomb(s, T, 3, (double[]){b[8], b[10], b[12]}, p, 0);
        mm(s, A6, T, V);
        lincomb(s, V, 4, (double[]){1, b[2], b[4], b[6]}, (const double *[]){V, A2, A4, A6}, b[0]);
    }
    /* (V - U) X = V + U */
    for (int64_t j = 0; j < s->len; j++) {
        double u = U[j], v = V[j];
        x[j] = v + u;
        T[j] = v - u;
    }
    int info = tg__lapack_gesv(s->cx ? TG_C128 : TG_F64, s->n, s->n, T, ipiv, x);
    if (info) return info;
    for (int i = 0; i < sq; i++) {
        mm(s, x, x, T);
        memcpy(x, T, (size_t)s->len * sizeof(double));
    }
    return 0;
}

static tg_status expm_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0];
    tg_status st = tg__linalg_square(c, a, "A");
    if (st) return st;
    tg__meta_copy_shape(out, a);
    return tg__linalg_dtype(c, a->dtype, &out->dtype);
}

static tg_status expm_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    bool cx = tg_dtype_is_complex(d);
    tg_dtype w = cx ? TG_C128 : TG_F64;
    int64_t n = in[0]->shape[in[0]->ndim - 1];
    if (n > 46340) return tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range");
    tg_tensor *a = tg__cast_raw(in[0], w);
    if (!a) return tg_last_error_code();
    mspec s = {(int)n, cx, n * n * (cx ? 2 : 1)};
    tg_linalg_batch bt;
    tg__linalg_batch_init(&bt, a->ndim - 2, a->shape);
    int64_t sa[TG_MAX_DIMS];
    tg__linalg_batch_strides(&bt, a, 2, sa);
    tg_status st = TG_OK;
    double *buf = n ? malloc((size_t)(9 * s.len) * sizeof(double)) : NULL;
    int *ipiv = n ? malloc((size_t)n * sizeof(int)) : NULL;
    if (n && (!buf || !ipiv)) { st = tg__op_error(c, TG_ERR_MEMORY, "out of memory"); goto done; }
    for (int64_t t = 0; t < bt.count && n > 0; t++) {
        double *am = buf, *x = buf + s.len;
        tg__linalg_gather((char *)am, a, tg__linalg_batch_offset(&bt, sa, t), n, n);
        int info = expm_one(&s, am, x, buf + 2 * s.len, ipiv);
        if (info) {
            st = tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch: the Pade denominator is singular "
                                                 "(LAPACK gesv info %d)", (long long)t, info);
            goto done;
        }
        char *o = tg__ptr(out[0]) + t * n * n * tg__esize(d);
        switch (d) {
        case TG_F64: case TG_C128: memcpy(o, x, (size_t)s.len * sizeof(double)); break;
        default:   /* f32 and c64: the same count of floats */
            for (int64_t j = 0; j < s.len; j++) ((float *)o)[j] = (float)x[j];
            break;
        }
    }
done:
    free(buf);
    free(ipiv);
    tg_release(a);
    return st;
}

/* The upper-right n x n block of exp([[x, e], [0, x]]). */
static tg_tensor *frechet(tg_tensor *x, tg_tensor *e) {
    int64_t n = x->shape[x->ndim - 1];
    tg_tensor *top = tg_concat(2, (tg_tensor *[]){x, e}, -1);
    tg_tensor *bot = tg_concat(2, (tg_tensor *[]){tg_zeros_like(x), x}, -1);
    tg_tensor *big = top && bot ? tg_linalg_matrix_exp(tg_concat(2, (tg_tensor *[]){top, bot}, -2)) : NULL;
    return big ? tg_slice(tg_slice(big, -2, 0, n, 1), -1, n, TG_NONE, 1) : NULL;
}

/* A in the result's dtype (int/bool inputs compute in f64). */
static tg_tensor *as_out_dtype(tg_tensor *a, const tg_tensor *like) {
    return a->dtype == like->dtype ? a : tg_cast(a, like->dtype);
}

static tg_status expm_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    (void)c;
    tg_tensor *a = as_out_dtype(in[0], out[0]);
    ic[0] = a ? frechet(tg__mH(a), g[0]) : NULL;
    return TG_RULE_RESULT(ic[0]);
}

static tg_status expm_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    (void)c;
    if (!t[0]) return TG_OK;
    tg_tensor *a = as_out_dtype(in[0], out[0]);
    ot[0] = a ? frechet(a, t[0]) : NULL;
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_linalg_matrix_exp = {.name = "linalg_matrix_exp", .n_in = 1, .n_out = 1,
                                           .infer = expm_infer, .kernel = {[TG_CPU] = expm_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)},
                                           .vjp = expm_vjp, .jvp = expm_jvp};

tg_tensor *tg_linalg_matrix_exp(tg_tensor *a) {
    if (!a) { tg__error(TG_ERR_ARG, "tg_linalg_matrix_exp: NULL operand"); return NULL; }
    return tg__apply1(&tg_op_linalg_matrix_exp, 1, &a, NULL);
}

TG_REGISTER_OPS(linalg_matrix_exp, &tg_op_linalg_matrix_exp)
