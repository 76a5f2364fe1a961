/* linalg_eig: A (..., n, n) = V diag(w) V^{-1} over geev (right vectors),
 * batched. w and V are complex (c64 for f32/c64 input, c128 otherwise); the
 * columns of V have unit 2-norm with their largest component real (LAPACK's
 * normalisation). For real A, geev's (wr, wi) pairs and paired vector
 * columns (v_j = vr_j + i vr_{j+1}, v_{j+1} = conj(v_j)) are assembled here.
 * Non-finite input is an error (as torch.linalg.eig). eigvals = eig without
 * handing out V (V is still computed: the gradient needs it).
 * Rules (PyTorch's linalg_eig_backward / linalg_eig_jvp), E_ij = w_j - w_i:
 *   VJP: K = V^H V-bar - V^H V diag(Re diag(V^H V-bar)); G = K / conj(E) off
 *     the diagonal, diag(w-bar) on it; A-bar = V^{-H} G V^H (real part for a
 *     real A). A loss that depends on the phase of the eigenvectors
 *     (|Im diag(V^H V-bar)| > 1e-2, PyTorch's test) is TG_ERR_AUTOGRAD.
 *   JVP: P = V^{-1} A-dot V; w-dot = diag(P); F = P / E off the diagonal,
 *     0 on it; V-dot = V F - V diag(Re diag(V^H V F)).
 *   Repeated eigenvalues make E_ij = 0: inf/NaN, as PyTorch. */
#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg_internal.h"
#include "gpu/gpu.h"

#define RM LAPACK_ROW_MAJOR

static tg_status eig_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *a = &c->in[0];
    tg_status st = tg__linalg_square(c, a, "A");
    if (st) return st;
    tg_dtype d;
    if ((st = tg__linalg_dtype(c, a->dtype, &d))) return st;
    tg_dtype cd = (d == TG_F32 || d == TG_C64) ? TG_C64 : TG_C128;
    out[0].ndim = a->ndim - 1;
    for (int i = 0; i < a->ndim - 1; i++) out[0].shape[i] = a->shape[i];
    tg__meta_copy_shape(&out[1], a);
    out[0].dtype = out[1].dtype = cd;
    return TG_OK;
}

/* One n x n matrix in a (row-major, overwritten): w (n complex), v (n x n complex) in the output dtype. */
static int geev_one(tg_dtype d, int n, char *a, char *w, char *v, char *scratch) {
    if (d == TG_C64)
        return LAPACKE_cgeev(RM, 'N', 'V', n, (lapack_complex_float *)a, n, (lapack_complex_float *)w, NULL, 1,
                             (lapack_complex_float *)v, n);
    if (d == TG_C128)
        return LAPACKE_zgeev(RM, 'N', 'V', n, (lapack_complex_double *)a, n, (lapack_complex_double *)w, NULL, 1,
                             (lapack_complex_double *)v, n);
    /* real: wr, wi, vr in scratch (n + n + n*n reals), then assemble */
    int info;
    double *wr = (double *)scratch, *wi = wr + n, *vr = wi + n;
    if (d == TG_F32) {
        float *fr = (float *)scratch, *fi = fr + n, *fv = fi + n;
        info = LAPACKE_sgeev(RM, 'N', 'V', n, (float *)a, n, fr, fi, NULL, 1, fv, n);
        for (int64_t j = 0; j < n; j++) {
            ((float complex *)w)[j] = fr[j] + I * fi[j];
        }
        for (int64_t j = 0; j < n; j++) {
            if (fi[j] > 0 && j + 1 < n) {
                for (int64_t i = 0; i < n; i++) {
                    float re = fv[i * n + j], im = fv[i * n + j + 1];
                    ((float complex *)v)[i * n + j] = re + I * im;
                    ((float complex *)v)[i * n + j + 1] = re - I * im;
                }
                j++;
            } else {
                for (int64_t i = 0; i < n; i++) ((float complex *)v)[i * n + j] = fv[i * n + j];
            }
        }
        return info;
    }
    info = LAPACKE_dgeev(RM, 'N', 'V', n, (double *)a, n, wr, wi, NULL, 1, vr, n);
    for (int64_t j = 0; j < n; j++) ((double complex *)w)[j] = wr[j] + I * wi[j];
    for (int64_t j = 0; j < n; j++) {
        if (wi[j] > 0 && j + 1 < n) {
            for (int64_t i = 0; i < n; i++) {
                double re = vr[i * n + j], im = vr[i * n + j + 1];
                ((double complex *)v)[i * n + j] = re + I * im;
                ((double complex *)v)[i * n + j + 1] = re - I * im;
            }
            j++;
        } else {
            for (int64_t i = 0; i < n; i++) ((double complex *)v)[i * n + j] = vr[i * n + j];
        }
    }
    return info;
}


typedef struct {
    tg_tensor *a, **out;
    tg_dtype d;
    tg_linalg_batch bt;
    int64_t sa[TG_MAX_DIMS], n, es, ces;
} eig_job;

static int eig_item(void *ctx, int64_t t) {
    const eig_job *j = ctx;
    int64_t n = j->n;
    char *work = tg__linalg_scratch(0, (size_t)(n * n * j->es));
    char *scratch = tg__linalg_scratch(1, (size_t)((n * n + 2 * n) * sizeof(double)));
    if (!work || !scratch) return TG_LINALG_NO_MEMORY;
    tg__linalg_gather(work, j->a, tg__linalg_batch_offset(&j->bt, j->sa, t), n, n);
    if (!tg__linalg_all_finite(j->d, work, n * n)) return TG_LINALG_NOT_FINITE;
    return geev_one(j->d, (int)n, work, tg__ptr(j->out[0]) + t * n * j->ces,
                    tg__ptr(j->out[1]) + t * n * n * j->ces, scratch);
}

/* One matrix per batch item, across threads when the batch is large. */
static tg_status eig_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    eig_job j = {.out = out};
    if (tg__linalg_dtype(c, in[0]->dtype, &j.d)) return tg_last_error_code();
    j.a = tg__cast_raw(in[0], j.d);
    if (!j.a) return tg_last_error_code();
    tg_status st = TG_OK;
    j.n = j.a->shape[j.a->ndim - 1];
    j.es = tg__esize(j.d);
    j.ces = tg__esize(out[0]->dtype);
    tg__linalg_batch_init(&j.bt, j.a->ndim - 2, j.a->shape);
    tg__linalg_batch_strides(&j.bt, j.a, 2, j.sa);
    if (j.n > INT32_MAX / 4) { st = tg__op_error(c, TG_ERR_SHAPE, "sizes exceed LAPACK's int range"); goto done; }
    if (j.n == 0 || j.bt.count == 0) goto done;
    int info;
    double cost = 25.0 * (double)j.n * (double)j.n * (double)j.n;
    int64_t t = tg__linalg_batch_run(j.bt.count, cost, eig_item, &j, &info);
    if (t >= 0 && info == TG_LINALG_NOT_FINITE)
        st = tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch contains inf or NaN", (long long)t);
    else if (t >= 0 && info > 0)
        st = tg__op_error(c, TG_ERR_NUMERIC, "matrix %lld of the batch: the QR algorithm did not converge "
                          "(geev info %d)", (long long)t, info);
    else if (t >= 0) st = tg__linalg_info_error(c, "geev", t, info, "");
done:
    tg_release(j.a);
    return st;
}

/* E_ij = w_j - w_i with 1 on the diagonal (exactly 0 there before). */
static tg_tensor *eig_gaps(tg_tensor *w, int64_t n) {
    tg_tensor *e = tg_sub(tg_unsqueeze(w, -2), tg_unsqueeze(w, -1));
    tg_tensor *eye = e ? tg__eye_like(e, tg_dtype_of(e), n, -1) : NULL;
    return eye ? tg_add(e, eye) : NULL;
}

static tg_tensor *offdiag(tg_tensor *x, int64_t n) {
    tg_tensor *eye = x ? tg__eye_like(x, tg_dtype_of(x), n, -1) : NULL;
    return eye ? tg_sub(x, tg_mul(x, eye)) : NULL;
}

/* PyTorch's check that the loss does not depend on the phase of the eigenvectors (eager only). */
static tg_status gauge_check(const tg_op_call *c, tg_tensor *vhgv) {
    if (tg__is_tracer(vhgv)) return TG_OK;
    tg_tensor *im = tg_abs(tg_imag(tg_diagonal(vhgv, 0, -2, -1)));
    if (!im) return tg_last_error_code();
    if (tg_numel(im) == 0) return TG_OK;
    tg_tensor *mx = tg_max(im, 0, NULL, false);
    if (!mx) return tg_last_error_code();
    double v = tg_item_f64(mx);
    if (!(v <= 1e-2))
        return tg__op_error(c, TG_ERR_AUTOGRAD, "the eigenvectors are only defined up to a phase e^{i phi}; this "
                            "loss depends on it (|Im diag(V^H V-bar)| = %g), so its gradient is ill-defined", v);
    return TG_OK;
}

static tg_status eig_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    tg_tensor *w = out[0], *v = out[1];
    int64_t n = v->shape[v->ndim - 1];
    tg_tensor *vh = tg__mH(v);
    tg_tensor *vhgv = tg_matmul(vh, g[1]);
    if (!vhgv) return tg_last_error_code();
    tg_status st = gauge_check(c, vhgv);
    if (st) return st;
    tg_tensor *re = tg_real(tg_diagonal(vhgv, 0, -2, -1));
    tg_tensor *k = re ? tg_sub(vhgv, tg_matmul(vh, tg_mul(v, tg_unsqueeze(re, -2)))) : NULL;
    tg_tensor *gm = k ? tg_add(offdiag(tg_div(k, tg_conj(eig_gaps(w, n))), n), tg__linalg_diag_embed(g[0])) : NULL;
    tg_tensor *ga = gm ? tg__linalg_solve_mat(vh, tg_matmul(gm, vh)) : NULL;
    if (ga && !tg_dtype_is_complex(in[0]->dtype)) ga = tg_real(ga);
    ic[0] = ga;
    return TG_RULE_RESULT(ic[0]);
}

static tg_status eig_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)c; (void)in;
    if (!t[0]) return TG_OK;
    tg_tensor *w = out[0], *v = out[1];
    int64_t n = v->shape[v->ndim - 1];
    tg_tensor *da = tg_dtype_of(t[0]) == tg_dtype_of(v) ? t[0] : tg_cast(t[0], tg_dtype_of(v));
    tg_tensor *p = da ? tg__linalg_solve_mat(v, tg_matmul(da, v)) : NULL;
    ot[0] = p ? tg_diagonal(p, 0, -2, -1) : NULL;
    tg_tensor *f = ot[0] ? offdiag(tg_div(p, eig_gaps(w, n)), n) : NULL;
    tg_tensor *vf = f ? tg_matmul(v, f) : NULL;
    tg_tensor *re = vf ? tg_real(tg_diagonal(tg_matmul(tg__mH(v), vf), 0, -2, -1)) : NULL;
    ot[1] = re ? tg_sub(vf, tg_mul(v, tg_unsqueeze(re, -2))) : NULL;
    return ot[0] && ot[1] ? TG_OK : tg_last_error_code();
}

const tg_op_def tg_op_linalg_eig = {.name = "linalg_eig", .n_in = 1, .n_out = 2, .infer = eig_infer,
                                    .kernel = {[TG_CPU] = eig_kernel, [TG_VULKAN] = TG_VK(tg__vk_host_kernel)}, .vjp = eig_vjp, .jvp = eig_jvp};

tg_status tg_linalg_eig(tg_tensor *a, tg_tensor **w, tg_tensor **v) {
    if (w) *w = NULL;
    if (v) *v = NULL;
    if (!a || !w) return tg__error(TG_ERR_ARG, "tg_linalg_eig: NULL argument");
    tg_tensor *o[2] = {NULL, NULL};
    tg_scope_begin();                      /* V dies with it when it is not asked for */
    tg_status st = tg__apply(&tg_op_linalg_eig, 1, &a, NULL, 2, o);
    if (!st) {
        *w = tg_keep(o[0]);
        if (v) *v = tg_keep(o[1]);
    }
    tg_scope_end();
    return st;
}

tg_tensor *tg_linalg_eigvals(tg_tensor *a) {
    tg_tensor *w = NULL;
    if (!a) { tg__error(TG_ERR_ARG, "tg_linalg_eigvals: NULL operand"); return NULL; }
    return tg_linalg_eig(a, &w, NULL) ? NULL : w;
}

TG_REGISTER_OPS(linalg_eig, &tg_op_linalg_eig)
