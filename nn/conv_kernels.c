/* The f32/f64 convolution op family behind tg_nn_conv2d (NCHW):
 *
 *   nn_conv2d              y  = conv(x, w)             (N, C, H, W) x (O, C/G, kh, kw) -> (N, O, oh, ow)
 *   nn_conv2d_bias         y  = conv(x, w) + b         the same with b (O) added per channel
 *   nn_conv2d_input_grad   gx = conv_input_grad(g, w)  (N, O, oh, ow) x (O, C/G, kh, kw) -> (N, C, H, W)
 *   nn_conv2d_weight_grad  gw = conv_weight_grad(x, g) (N, C, H, W) x (N, O, oh, ow) -> (O, C/G, kh, kw)
 *
 * conv, input_grad and weight_grad are bilinear, and each one's derivatives
 * are the other two (or itself), so the family closes under differentiation
 * and every order works:
 *   conv(x, w):             x-bar = input_grad(y-bar, w),  w-bar = weight_grad(x, y-bar)
 *   input_grad(g, w):       g-bar = conv(z-bar, w),        w-bar = weight_grad(z-bar, g)
 *   weight_grad(x, g):      x-bar = input_grad(g, v-bar),  g-bar = conv(x, v-bar)
 * and the JVP of a bilinear B(a, b) is B(a-dot, b) + B(a, b-dot). The bias
 * adds b-bar = sum of y-bar over (N, oh, ow) and y-dot += b-dot (public ops).
 * (The identities are checked numerically by tg_gradcheck's dot-product test
 * and tg_gradgradcheck in tests/test_nn_conv.c.)
 *
 * Kernels: the batch is cut into chunks of k images whose im2col columns,
 * C/G kh kw rows by k L columns (L = oh ow), take about CHUNK_BYTES of
 * per-thread, grow-only scratch (so nothing is page-faulted afresh per
 * call, and the columns stay in cache for the GEMM that reads them). Per
 * chunk and group:
 *   conv:        cols = im2col(x chunk); y[n] = w_g @ cols[:, n] (+ b) for each
 *                image n, written straight into the NCHW output (one GEMM per
 *                image: the right operand is a column block of the chunk's
 *                buffer; the bias is added while the image's rows are hot)
 *   input_grad:  cols[:, n] = w_g^T @ g[n] for each image n; gx += col2im(cols)
 *   weight_grad: cols = im2col(x chunk); dW_g += g chunk @ cols^T, ONE GEMM
 *                with beta = 1 over the whole chunk (g's rows gathered into
 *                scratch), into one (O, C/G kh kw) accumulator; never an
 *                (N, O, ...) tensor
 * (the variant used for each was measured: see CONV_ONE_GEMM_*). Stride-1
 * windows with ow = W ("same" padding, as in most CNNs) use flat
 * im2col/col2im planes (nn/conv_flat.c).
 * Chunks do not depend on the thread count, so conv and input_grad give the
 * same bits for any thread count. With several threads the chunks are
 * spread over an OpenMP team (dynamically; weight_grad statically), OpenBLAS is set to one
 * thread for the duration (its previous count restored after), and
 * weight_grad gives each thread its own accumulator, summed in thread order
 * at the end: deterministic for a given thread count.
 *
 * Attributes: i[0..8] the window as nn/unfold.c (kernel, stride, padding,
 * dilation, exact), i[9] groups; input_grad adds i[10..11] = H, W of x
 * (possibly symbolic: tg_run evaluates them for each binding). */
#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "nn/conv_internal.h"
#include "tangent/sizes.h"
#include "tensor/ops/elementwise.h"

enum { A_GROUPS = 9, A_H = 10, A_W = 11 };

/* Columns of one chunk: about this many bytes. */
#define CHUNK_BYTES ((int64_t)1 << 20)

static void win_to_attrs(const tg_nn_win *w, int64_t groups, tg_attrs *a) {
    memset(a, 0, sizeof *a);
    for (int k = 0; k < 2; k++) {
        a->i[k] = w->k[k];
        a->i[2 + k] = w->s[k];
        a->i[4 + k] = w->p[k];
        a->i[6 + k] = w->d[k];
    }
    a->i[8] = w->exact;
    a->i[A_GROUPS] = groups;
    a->n_int = 10;
}
static void win_of_attrs(const tg_attrs *a, tg_nn_win *w) {
    for (int k = 0; k < 2; k++) {
        w->k[k] = a->i[k];
        w->s[k] = a->i[2 + k];
        w->p[k] = a->i[4 + k];
        w->d[k] = a->i[6 + k];
    }
    w->exact = a->i[8] != 0;
}

static int64_t smul(int64_t a, int64_t b) { return tg__is_sym_size(a) || tg__is_sym_size(b) ? tg_size_mul(a, b) : a * b; }

/* ---- infer ---------------------------------------------------------------------- */
static tg_status common_checks(const tg_op_call *c, const tg_meta *a, const tg_meta *b, const char *shapes,
                               tg_nn_win *win, int64_t *groups, tg_meta *out) {
    win_of_attrs(c->attrs, win);
    *groups = c->attrs->i[A_GROUPS];
    if (a->ndim != 4 || b->ndim != 4) return tg__op_error(c, TG_ERR_SHAPE, "operands must be 4-D (%s)", shapes);
    tg_dtype d = tg_promote_types(a->dtype, b->dtype);
    if (d != TG_F32 && d != TG_F64)
        return tg__op_error(c, TG_ERR_DTYPE, "needs f32 or f64 operands, got %s", tg_dtype_name(d));
    if (*groups < 1) return tg__op_error(c, TG_ERR_SHAPE, "groups %lld must be positive", (long long)*groups);
    out->dtype = d;
    out->ndim = 4;
    return TG_OK;
}

/* O output channels split into groups; the kernel of w is the window's. */
static tg_status check_w(const tg_op_call *c, int64_t O, int64_t kh, int64_t kw, const tg_nn_win *win, int64_t G) {
    if (G > 1 && (tg__is_sym_size(O) || O % G))
        return tg__op_error(c, TG_ERR_SHAPE, "output channels are not divisible by groups %lld", (long long)G);
    if (kh != win->k[0] || kw != win->k[1])
        return tg__op_error(c, TG_ERR_SHAPE, "the kernel differs from the window's %lld x %lld", (long long)win->k[0],
                            (long long)win->k[1]);
    return TG_OK;
}

static tg_status out_hw(const tg_op_call *c, int64_t H, int64_t W, const tg_nn_win *win, int64_t *oh, int64_t *ow) {
    tg_status st = tg__nn_window_size(c, NULL, 0, H, win, oh);
    if (!st) st = tg__nn_window_size(c, NULL, 1, W, win, ow);
    return st;
}

static tg_status conv_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0], *w = &c->in[1];
    tg_nn_win win;
    int64_t G, oh, ow;
    char s1[64], s2[64];
    tg_status st = common_checks(c, x, w, "x (N, C, H, W), w (O, C/groups, kh, kw)", &win, &G, out);
    if (!st) st = check_w(c, w->shape[0], w->shape[2], w->shape[3], &win, G);
    if (st) return st;
    if (smul(w->shape[1], G) != x->shape[1])
        return tg__op_error(c, TG_ERR_SHAPE, "wrong channel count: x has %s channels, w with groups %lld expects %s",
                            tg__fmt_size(s1, sizeof s1, x->shape[1]), (long long)G,
                            tg__fmt_size(s2, sizeof s2, smul(w->shape[1], G)));
    if (c->n_in > 2) {
        const tg_meta *b = &c->in[2];
        if (b->ndim != 1 || b->shape[0] != w->shape[0])
            return tg__op_error(c, TG_ERR_SHAPE, "bias must have shape (O,) with O = %s",
                                tg__fmt_size(s1, sizeof s1, w->shape[0]));
        out->dtype = tg_promote_types(out->dtype, b->dtype);
        if (out->dtype != TG_F32 && out->dtype != TG_F64)
            return tg__op_error(c, TG_ERR_DTYPE, "needs f32 or f64 operands, got %s", tg_dtype_name(out->dtype));
    }
    if ((st = out_hw(c, x->shape[2], x->shape[3], &win, &oh, &ow))) return st;
    int64_t shape[4] = {x->shape[0], w->shape[0], oh, ow};
    memcpy(out->shape, shape, sizeof shape);
    return tg__check_shape("tg_nn_conv2d", out->dtype, 4, out->shape);
}

/* g (N, O, oh, ow) must be the output of the window over (H, W). */
static tg_status check_g(const tg_op_call *c, const tg_meta *g, int64_t H, int64_t W, const tg_nn_win *win) {
    int64_t oh, ow;
    char s1[64], s2[64], s3[64], s4[64];
    tg_status st = out_hw(c, H, W, win, &oh, &ow);
    if (st) return st;
    if (g->shape[2] != oh || g->shape[3] != ow)
        return tg__op_error(c, TG_ERR_SHAPE, "the gradient's spatial size %s x %s differs from the output's %s x %s",
                            tg__fmt_size(s1, sizeof s1, g->shape[2]), tg__fmt_size(s2, sizeof s2, g->shape[3]),
                            tg__fmt_size(s3, sizeof s3, oh), tg__fmt_size(s4, sizeof s4, ow));
    return TG_OK;
}

static tg_status input_grad_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *g = &c->in[0], *w = &c->in[1];
    tg_nn_win win;
    int64_t G, H = c->attrs->i[A_H], W = c->attrs->i[A_W];
    tg_status st = common_checks(c, g, w, "g (N, O, oh, ow), w (O, C/groups, kh, kw)", &win, &G, out);
    win.exact = false;
    if (!st) st = check_w(c, w->shape[0], w->shape[2], w->shape[3], &win, G);
    if (st) return st;
    if (g->shape[1] != w->shape[0])
        return tg__op_error(c, TG_ERR_SHAPE, "g's channels differ from w's output channels");
    if ((st = check_g(c, g, H, W, &win))) return st;
    int64_t C = smul(w->shape[1], G);
    if (C < 0) return tg_last_error_code();
    int64_t shape[4] = {g->shape[0], C, H, W};
    memcpy(out->shape, shape, sizeof shape);
    return tg__check_shape("tg_nn_conv2d", out->dtype, 4, out->shape);
}

static tg_status weight_grad_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0], *g = &c->in[1];
    tg_nn_win win;
    int64_t G;
    tg_status st = common_checks(c, x, g, "x (N, C, H, W), g (N, O, oh, ow)", &win, &G, out);
    win.exact = false;
    if (!st) st = check_w(c, g->shape[1], win.k[0], win.k[1], &win, G);
    if (st) return st;
    if (x->shape[0] != g->shape[0]) return tg__op_error(c, TG_ERR_SHAPE, "x and g differ in batch size");
    int64_t C = x->shape[1], Cg = C;
    if (G > 1) {
        Cg = tg__is_sym_size(C) ? tg_size_floordiv(C, G) : C / G;
        if (Cg < 0 || smul(Cg, G) != C)
            return tg__op_error(c, TG_ERR_SHAPE, "input channels are not divisible by groups %lld", (long long)G);
    }
    if ((st = check_g(c, g, x->shape[2], x->shape[3], &win))) return st;
    int64_t shape[4] = {g->shape[1], Cg, win.k[0], win.k[1]};
    memcpy(out->shape, shape, sizeof shape);
    return tg__check_shape("tg_nn_conv2d", out->dtype, 4, out->shape);
}

/* ---- per-thread scratch (grow-only, freed when the thread exits) -------------------- */
enum { SLOT_COLS, SLOT_TMP, SLOT_MASK, SCRATCH_SLOTS };
typedef struct {
    void *p[SCRATCH_SLOTS];
    size_t n[SCRATCH_SLOTS];
} scratch_set;
static _Thread_local scratch_set scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_release(void *v) {
    scratch_set *s = v;
    for (int i = 0; i < SCRATCH_SLOTS; i++) {
        free(s->p[i]);
        s->p[i] = NULL;
        s->n[i] = 0;
    }
}
static void scratch_make_key(void) { (void)pthread_key_create(&scratch_key, scratch_release); }

/* NULL when out of memory (no error recorded: this runs on worker threads). */
static void *scratch_get(int slot, size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (bytes > scratch.n[slot]) {
        free(scratch.p[slot]);
        scratch.p[slot] = malloc(bytes);
        scratch.n[slot] = scratch.p[slot] ? bytes : 0;
        if (!scratch.p[slot]) return NULL;
        pthread_once(&scratch_once, scratch_make_key);
        (void)pthread_setspecific(scratch_key, &scratch);
    }
    return scratch.p[slot];
}

/* ---- kernels -------------------------------------------------------------------- */
typedef struct {
    tg_dtype d;
    int64_t es;
    int64_t N, C, O, G, Cg, Og, kk, K, L, HW;   /* K = Cg kk rows of columns, L = oh ow */
    tg_nn_geom geo;
    bool flat;                                  /* flat im2col/col2im (nn/conv_flat.c) */
    tg_nn_flat_row rows[TG_NN_FLAT_MAX_KK];     /* flat: the kk rows' runs */
    int64_t chunk, nchunks;
    const char *a, *b;                          /* the op's inputs, contiguous */
    const char *bias;                           /* conv: (O) or NULL */
    char *out;
    char *acc;                                  /* weight_grad: one (O, K) accumulator per thread */
} plan;

static void gemm(tg_dtype d, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void *a, int64_t lda,
                 const void *b, int64_t ldb, double beta, void *c, int64_t ldc) {
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    if (d == TG_F32)
        cblas_sgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, (float)beta, c,
                    (int)ldc);
    else
        cblas_dgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, 1.0, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

/* x (N, C, H, W): H, W as given; geometry and chunking from the window. */
static tg_status make_plan(const tg_op_call *c, plan *p, tg_dtype d, int64_t N, int64_t C, int64_t O, int64_t H,
                           int64_t W) {
    memset(p, 0, sizeof *p);
    p->d = d;
    p->es = tg__esize(d);
    win_of_attrs(c->attrs, &p->geo.w);
    p->geo.w.exact = false;
    p->G = c->attrs->i[A_GROUPS];
    p->geo.H = H;
    p->geo.W = W;
    tg__nn_window_size(c, NULL, 0, H, &p->geo.w, &p->geo.oh);
    tg__nn_window_size(c, NULL, 1, W, &p->geo.w, &p->geo.ow);
    p->N = N;
    p->C = C;
    p->O = O;
    p->Cg = C / p->G;
    p->Og = O / p->G;
    p->kk = p->geo.w.k[0] * p->geo.w.k[1];
    p->K = p->Cg * p->kk;
    p->L = p->geo.oh * p->geo.ow;
    p->HW = H * W;
    p->flat = tg__nn_flat_geom(&p->geo);
    if (p->flat) tg__nn_flat_rows(&p->geo, p->rows);
    int64_t per_image = p->K * p->L * p->es;
    p->chunk = per_image > 0 ? CHUNK_BYTES / per_image : N;
    if (p->chunk < 1) p->chunk = 1;
    if (p->chunk > N) p->chunk = N;
    p->nchunks = p->chunk ? (N + p->chunk - 1) / p->chunk : 0;
    if (p->K > INT32_MAX || p->O > INT32_MAX || p->chunk * p->L > INT32_MAX)
        return tg__op_error(c, TG_ERR_SHAPE, "matrix sizes exceed BLAS's int range");
    return TG_OK;
}

/* The flat masks of p in this thread's scratch (NULL when p is not flat);
 * false when out of memory. */
static bool flat_masks(const plan *p, const void **masks) {
    *masks = NULL;
    if (!p->flat) return true;
    void *m = scratch_get(SLOT_MASK, (size_t)(p->geo.w.k[1] * p->L * p->es));
    if (!m) return false;
    tg__nn_flat_masks(&p->geo, p->rows, p->es, m);
    *masks = m;
    return true;
}

/* One plane of x into its kk rows of cols (row stride ld), and back. */
static void im2col_plane(const plan *p, const void *masks, const char *x, char *dst, int64_t ld) {
    if (!p->flat) tg__nn_im2col_plane(&p->geo, p->es, x, dst, ld);
    else tg__nn_im2col_flat(&p->geo, p->rows, masks, p->d, x, dst, ld);
}
static void col2im_plane(const plan *p, const void *masks, char *cols, char *x, int64_t ld) {
    if (!p->flat) tg__nn_col2im_plane(&p->geo, p->d, cols, x, ld);
    else tg__nn_col2im_flat(&p->geo, p->rows, masks, p->d, cols, x, ld);
}

/* Images [n0, n0 + k) of the group gi of x into cols (K, k L). */
static void im2col_chunk(const plan *p, const void *masks, int64_t n0, int64_t k, int64_t gi, char *cols) {
    int64_t ldc = k * p->L, es = p->es;
    for (int64_t j = 0; j < k; j++)
        for (int64_t ch = 0; ch < p->Cg; ch++)
            im2col_plane(p, masks, p->a + ((n0 + j) * p->C + gi * p->Cg + ch) * p->HW * es,
                         cols + (ch * p->kk * ldc + j * p->L) * es, ldc);
}

/* Rows of group gi of g (N, O, L) for images [n0, n0 + k) into tmp (Og, k L). */
static void gather_g(const plan *p, const char *g, int64_t n0, int64_t k, int64_t gi, char *tmp) {
    int64_t ldc = k * p->L, es = p->es;
    for (int64_t o = 0; o < p->Og; o++)
        for (int64_t j = 0; j < k; j++)
            memcpy(tmp + (o * ldc + j * p->L) * es, g + ((n0 + j) * p->O + gi * p->Og + o) * p->L * es,
                   (size_t)(p->L * es));
}

/* One GEMM over the whole chunk (through a gathered or scattered scratch
 * copy of g's or y's rows) or one GEMM per image (reading and writing the
 * NCHW tensors in place)? Measured on the Fashion-MNIST CNN's layers at
 * batch 250, one thread (conv1: 1 -> 32 channels, 28 x 28; conv2: 32 -> 64,
 * 14 x 14; both 5 x 5 pad 2) with chunks of 0.5, 1, 2 and 4 MB: per image
 * for conv (the scatter costs conv1 about 20 %; conv2 is even) and for
 * input_grad (even), one GEMM for weight_grad (its beta = 1 accumulator is
 * read and written once per chunk instead of once per image); 1 MB chunks
 * (the L2 size of the machine) were best by a few percent. */
#define CONV_ONE_GEMM_FWD 0
#define CONV_ONE_GEMM_IG 0
#define CONV_ONE_GEMM_WG 1

/* y[n, group gi] += bias, while the image's rows are still in cache (the
 * same rounding as adding it afterwards). */
static void add_bias(const plan *p, int64_t n, int64_t gi) {
    int64_t o0 = gi * p->Og, L = p->L;
    if (p->d == TG_F32) {
        float *y = (float *)p->out + (n * p->O + o0) * L;
        const float *b = (const float *)p->bias + o0;
        for (int64_t o = 0; o < p->Og; o++)
            for (int64_t l = 0; l < L; l++) y[o * L + l] += b[o];
    } else {
        double *y = (double *)p->out + (n * p->O + o0) * L;
        const double *b = (const double *)p->bias + o0;
        for (int64_t o = 0; o < p->Og; o++)
            for (int64_t l = 0; l < L; l++) y[o * L + l] += b[o];
    }
}

static bool conv_chunk(const plan *p, int64_t q, int tid) {
    (void)tid;
    int64_t n0 = q * p->chunk, k = p->N - n0 < p->chunk ? p->N - n0 : p->chunk, ldc = k * p->L, es = p->es;
    char *cols = scratch_get(SLOT_COLS, (size_t)(p->K * ldc * es));
    char *tmp = CONV_ONE_GEMM_FWD ? scratch_get(SLOT_TMP, (size_t)(p->Og * ldc * es)) : NULL;
    const void *masks;
    if (!cols || (CONV_ONE_GEMM_FWD && !tmp) || !flat_masks(p, &masks)) return false;
    for (int64_t gi = 0; gi < p->G; gi++) {
        im2col_chunk(p, masks, n0, k, gi, cols);
        const char *wg = p->b + gi * p->Og * p->K * es;
        if (CONV_ONE_GEMM_FWD) {
            gemm(p->d, false, false, p->Og, ldc, p->K, wg, p->K, cols, ldc, 0.0, tmp, ldc);
            for (int64_t j = 0; j < k; j++) {
                for (int64_t o = 0; o < p->Og; o++)
                    memcpy(p->out + ((n0 + j) * p->O + gi * p->Og + o) * p->L * es, tmp + (o * ldc + j * p->L) * es,
                           (size_t)(p->L * es));
                if (p->bias) add_bias(p, n0 + j, gi);
            }
        } else {
            for (int64_t j = 0; j < k; j++) {
                gemm(p->d, false, false, p->Og, p->L, p->K, wg, p->K, cols + j * p->L * es, ldc, 0.0,
                     p->out + ((n0 + j) * p->O + gi * p->Og) * p->L * es, p->L);
                if (p->bias) add_bias(p, n0 + j, gi);
            }
        }
    }
    return true;
}

static bool input_grad_chunk(const plan *p, int64_t q, int tid) {
    (void)tid;
    int64_t n0 = q * p->chunk, k = p->N - n0 < p->chunk ? p->N - n0 : p->chunk, ldc = k * p->L, es = p->es;
    char *cols = scratch_get(SLOT_COLS, (size_t)(p->K * ldc * es));
    char *tmp = CONV_ONE_GEMM_IG ? scratch_get(SLOT_TMP, (size_t)(p->Og * ldc * es)) : NULL;
    const void *masks;
    if (!cols || (CONV_ONE_GEMM_IG && !tmp) || !flat_masks(p, &masks)) return false;
    memset(p->out + n0 * p->C * p->HW * es, 0, (size_t)(k * p->C * p->HW * es));
    for (int64_t gi = 0; gi < p->G; gi++) {
        const char *wg = p->b + gi * p->Og * p->K * es;
        if (CONV_ONE_GEMM_IG) {
            gather_g(p, p->a, n0, k, gi, tmp);
            gemm(p->d, true, false, p->K, ldc, p->Og, wg, p->K, tmp, ldc, 0.0, cols, ldc);
        } else {
            for (int64_t j = 0; j < k; j++)
                gemm(p->d, true, false, p->K, p->L, p->Og, wg, p->K, p->a + ((n0 + j) * p->O + gi * p->Og) * p->L * es,
                     p->L, 0.0, cols + j * p->L * es, ldc);
        }
        for (int64_t j = 0; j < k; j++)
            for (int64_t ch = 0; ch < p->Cg; ch++)
                col2im_plane(p, masks, cols + (ch * p->kk * ldc + j * p->L) * es,
                             p->out + ((n0 + j) * p->C + gi * p->Cg + ch) * p->HW * es, ldc);
    }
    return true;
}

static bool weight_grad_chunk(const plan *p, int64_t q, int tid) {
    int64_t n0 = q * p->chunk, k = p->N - n0 < p->chunk ? p->N - n0 : p->chunk, ldc = k * p->L, es = p->es;
    char *cols = scratch_get(SLOT_COLS, (size_t)(p->K * ldc * es));
    char *tmp = CONV_ONE_GEMM_WG ? scratch_get(SLOT_TMP, (size_t)(p->Og * ldc * es)) : NULL;
    const void *masks;
    if (!cols || (CONV_ONE_GEMM_WG && !tmp) || !flat_masks(p, &masks)) return false;
    char *acc = p->acc + (int64_t)tid * p->O * p->K * es;
    for (int64_t gi = 0; gi < p->G; gi++) {
        im2col_chunk(p, masks, n0, k, gi, cols);
        char *ag = acc + gi * p->Og * p->K * es;
        if (CONV_ONE_GEMM_WG) {
            /* one image: its rows of the group are already one (Og, L) block */
            const char *gg = p->b + (n0 * p->O + gi * p->Og) * p->L * es;
            if (k > 1) {
                gather_g(p, p->b, n0, k, gi, tmp);
                gg = tmp;
            }
            gemm(p->d, false, true, p->Og, p->K, ldc, gg, ldc, cols, ldc, 1.0, ag, p->K);
        } else {
            for (int64_t j = 0; j < k; j++)
                gemm(p->d, false, true, p->Og, p->K, p->L, p->b + ((n0 + j) * p->O + gi * p->Og) * p->L * es, p->L,
                     cols + j * p->L * es, ldc, 1.0, ag, p->K);
        }
    }
    return true;
}

/* Threads for the chunks of p (1: run serially, BLAS keeping its own threads). */
static int team_size(const plan *p) {
    int nth = tg__num_threads();
    double flops = 2.0 * (double)p->N * (double)p->O * (double)p->L * (double)p->K;
    if (nth > p->nchunks) nth = (int)p->nchunks;
    return nth > 1 && flops >= 4e6 ? nth : 1;
}

/* Runs fn on every chunk; false when scratch ran out. Chunks go to threads
 * dynamically (load balance on a busy machine) unless fixed_map: then
 * statically, so that each thread's accumulator sums the same chunks in the
 * same order on every call. */
static bool for_chunks(const plan *p, int nth, bool fixed_map, bool (*fn)(const plan *, int64_t, int)) {
    bool ok = true;
    if (nth > 1) {
        int blas = openblas_get_num_threads();
        openblas_set_num_threads(1);
#pragma omp parallel num_threads(nth) reduction(&& : ok)
        {
            int tid = omp_get_thread_num();
            if (fixed_map) {
#pragma omp for schedule(static)
                for (int64_t q = 0; q < p->nchunks; q++)
                    if (ok) ok = fn(p, q, tid);
            } else {
#pragma omp for schedule(dynamic, 1)
                for (int64_t q = 0; q < p->nchunks; q++)
                    if (ok) ok = fn(p, q, tid);
            }
        }
        openblas_set_num_threads(blas);
    } else {
        for (int64_t q = 0; q < p->nchunks && ok; q++) ok = fn(p, q, 0);
    }
    return ok;
}

/* A contiguous tensor of dtype d with t's values (t retained when it is one). */
static tg_tensor *prep(tg_tensor *t, tg_dtype d) {
    tg_tensor *r = tg__cast_raw(t, d);
    if (!r || tg__is_contiguous(r)) return r;
    tg_tensor *c = tg__alloc(d, r->ndim, r->shape);
    if (c) tg__copy_into(c, r);
    tg_release(r);
    return c;
}

static tg_status oom(const tg_op_call *c) {
    return tg__op_error(c, TG_ERR_MEMORY, "out of memory for the convolution's workspace");
}

static tg_status conv_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    tg_tensor *x = prep(in[0], d), *w = prep(in[1], d), *b = c->n_in > 2 ? prep(in[2], d) : NULL;
    tg_status st = TG_OK;
    plan p;
    if (!x || !w || (c->n_in > 2 && !b)) { st = tg_last_error_code(); goto done; }
    if ((st = make_plan(c, &p, d, x->shape[0], x->shape[1], w->shape[0], x->shape[2], x->shape[3]))) goto done;
    p.a = tg__ptr(x);
    p.b = tg__ptr(w);
    p.bias = b ? tg__ptr(b) : NULL;
    p.out = tg__ptr(out[0]);
    if (p.N == 0 || p.O == 0) goto done;
    if (p.K == 0) {
        memset(p.out, 0, (size_t)(p.N * p.O * p.L * p.es));
        for (int64_t n = 0; n < p.N && b; n++)
            for (int64_t gi = 0; gi < p.G; gi++) add_bias(&p, n, gi);
        goto done;
    }
    if (!for_chunks(&p, team_size(&p), false, conv_chunk)) st = oom(c);
done:
    tg_release(x);
    tg_release(w);
    tg_release(b);
    return st;
}

static tg_status input_grad_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    tg_tensor *g = prep(in[0], d), *w = prep(in[1], d), *o = out[0];
    tg_status st = TG_OK;
    plan p;
    if (!g || !w) { st = tg_last_error_code(); goto done; }
    if ((st = make_plan(c, &p, d, o->shape[0], o->shape[1], w->shape[0], o->shape[2], o->shape[3]))) goto done;
    p.a = tg__ptr(g);
    p.b = tg__ptr(w);
    p.out = tg__ptr(o);
    if (p.N == 0 || p.C == 0) goto done;
    if (p.O == 0) { memset(p.out, 0, (size_t)(p.N * p.C * p.HW * p.es)); goto done; }
    if (!for_chunks(&p, team_size(&p), false, input_grad_chunk)) st = oom(c);
done:
    tg_release(g);
    tg_release(w);
    return st;
}

static tg_status weight_grad_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    tg_tensor *x = prep(in[0], d), *g = prep(in[1], d);
    tg_status st = TG_OK;
    plan p;
    char *accs = NULL;
    if (!x || !g) { st = tg_last_error_code(); goto done; }
    if ((st = make_plan(c, &p, d, x->shape[0], x->shape[1], g->shape[1], x->shape[2], x->shape[3]))) goto done;
    p.a = tg__ptr(x);
    p.b = tg__ptr(g);
    p.out = tg__ptr(out[0]);
    int64_t ok_n = p.O * p.K;
    if (ok_n == 0) goto done;
    memset(p.out, 0, (size_t)(ok_n * p.es));
    if (p.N == 0) goto done;
    int nth = team_size(&p);
    if (nth == 1) {
        p.acc = p.out;
    } else {
        if (!(accs = calloc((size_t)nth, (size_t)(ok_n * p.es)))) { st = oom(c); goto done; }
        p.acc = accs;
    }
    if (!for_chunks(&p, nth, true, weight_grad_chunk)) { st = oom(c); goto done; }
    if (nth > 1) {
        /* thread order, so the result depends on the thread count only */
        if (d == TG_F32) {
            float *o = (float *)p.out;
            const float *a = (const float *)accs;
            for (int t = 0; t < nth; t++)
                for (int64_t i = 0; i < ok_n; i++) o[i] += a[t * ok_n + i];
        } else {
            double *o = (double *)p.out;
            const double *a = (const double *)accs;
            for (int t = 0; t < nth; t++)
                for (int64_t i = 0; i < ok_n; i++) o[i] += a[t * ok_n + i];
        }
    }
done:
    free(accs);
    tg_release(x);
    tg_release(g);
    return st;
}

/* ---- rules ------------------------------------------------------------------------ */
extern const tg_op_def tg_op_nn_conv2d, tg_op_nn_conv2d_bias, tg_op_nn_conv2d_input_grad, tg_op_nn_conv2d_weight_grad;

/* def(a, b) with the call's window and groups (exact dropped: the shapes are
 * known to fit); H, W for input_grad. */
static tg_tensor *apply(const tg_op_def *def, tg_tensor *a, tg_tensor *b, const tg_attrs *src, int64_t H, int64_t W) {
    tg_attrs at = *src;
    at.i[8] = 0;
    at.n_int = 10;
    if (def == &tg_op_nn_conv2d_input_grad) {
        at.i[A_H] = H;
        at.i[A_W] = W;
        at.n_int = 12;
    }
    tg_tensor *in[2] = {a, b};
    return tg__apply1(def, 2, in, &at);
}
#define CONV(a, b) apply(&tg_op_nn_conv2d, a, b, c->attrs, 0, 0)
#define WGRAD(a, b) apply(&tg_op_nn_conv2d_weight_grad, a, b, c->attrs, 0, 0)
#define IGRAD(a, b, H, W) apply(&tg_op_nn_conv2d_input_grad, a, b, c->attrs, H, W)

static tg_tensor *sum2(tg_tensor *p, tg_tensor *q) { return p && q ? tg_add(p, q) : p ? p : q; }

static tg_status conv_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    (void)out;
    if (TG_NEEDS(c, 0) && !(ic[0] = IGRAD(g[0], in[1], in[0]->shape[2], in[0]->shape[3]))) return tg_last_error_code();
    if (TG_NEEDS(c, 1) && !(ic[1] = WGRAD(in[0], g[0]))) return tg_last_error_code();
    if (c->n_in > 2 && TG_NEEDS(c, 2) && !(ic[2] = tg_sum(g[0], 3, (int[]){0, 2, 3}, false)))
        return tg_last_error_code();
    return TG_OK;
}
static tg_status conv_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    (void)out;
    tg_tensor *p = t[0] ? CONV(t[0], in[1]) : NULL, *q = t[1] ? CONV(in[0], t[1]) : NULL;
    if ((t[0] && !p) || (t[1] && !q)) return tg_last_error_code();
    ot[0] = sum2(p, q);
    if (c->n_in > 2 && t[2]) {
        int64_t O = in[1]->shape[0];
        tg_tensor *bt = tg_reshape(t[2], 3, (int64_t[]){O, 1, 1});
        if (ot[0]) {
            ot[0] = tg_add(ot[0], bt);
        } else {    /* only the bias moves: its tangent broadcast to the output's shape */
            tg_nn_win win;
            int64_t oh, ow;
            win_of_attrs(c->attrs, &win);
            win.exact = false;
            if (tg__nn_window_size(c, NULL, 0, in[0]->shape[2], &win, &oh) ||
                tg__nn_window_size(c, NULL, 1, in[0]->shape[3], &win, &ow))
                return tg_last_error_code();
            ot[0] = tg_expand(bt, 4, (int64_t[]){in[0]->shape[0], O, oh, ow});
        }
    }
    return TG_RULE_RESULT(ot[0]);
}

/* input_grad(g, w) -> z: g-bar = conv(z-bar, w), w-bar = weight_grad(z-bar, g) */
static tg_status input_grad_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                tg_tensor *const *g, tg_tensor **ic) {
    (void)out;
    if (TG_NEEDS(c, 0) && !(ic[0] = CONV(g[0], in[1]))) return tg_last_error_code();
    if (TG_NEEDS(c, 1) && !(ic[1] = WGRAD(g[0], in[0]))) return tg_last_error_code();
    return TG_OK;
}
static tg_status input_grad_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                tg_tensor *const *t, tg_tensor **ot) {
    (void)out;
    int64_t H = c->attrs->i[A_H], W = c->attrs->i[A_W];
    tg_tensor *p = t[0] ? IGRAD(t[0], in[1], H, W) : NULL, *q = t[1] ? IGRAD(in[0], t[1], H, W) : NULL;
    if ((t[0] && !p) || (t[1] && !q)) return tg_last_error_code();
    ot[0] = sum2(p, q);
    return TG_RULE_RESULT(ot[0]);
}

/* weight_grad(x, g) -> v: x-bar = input_grad(g, v-bar), g-bar = conv(x, v-bar) */
static tg_status weight_grad_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                 tg_tensor *const *g, tg_tensor **ic) {
    (void)out;
    if (TG_NEEDS(c, 0) && !(ic[0] = IGRAD(in[1], g[0], in[0]->shape[2], in[0]->shape[3])))
        return tg_last_error_code();
    if (TG_NEEDS(c, 1) && !(ic[1] = CONV(in[0], g[0]))) return tg_last_error_code();
    return TG_OK;
}
static tg_status weight_grad_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                                 tg_tensor *const *t, tg_tensor **ot) {
    (void)out;
    tg_tensor *p = t[0] ? WGRAD(t[0], in[1]) : NULL, *q = t[1] ? WGRAD(in[0], t[1]) : NULL;
    if ((t[0] && !p) || (t[1] && !q)) return tg_last_error_code();
    ot[0] = sum2(p, q);
    return TG_RULE_RESULT(ot[0]);
}

const tg_op_def tg_op_nn_conv2d = {.name = "nn_conv2d", .n_in = 2, .n_out = 1, .flags = TG_OP_RULES_IGNORE_OUTPUT,
                                   .infer = conv_infer, .kernel = {[TG_CPU] = conv_kernel, [TG_VULKAN] = TG_VK(tg__vk_conv_kernel)}, .vjp = conv_vjp,
                                   .jvp = conv_jvp};
const tg_op_def tg_op_nn_conv2d_bias = {.name = "nn_conv2d_bias", .n_in = 3, .n_out = 1,
                                        .flags = TG_OP_RULES_IGNORE_OUTPUT, .infer = conv_infer,
                                        .kernel = {[TG_CPU] = conv_kernel, [TG_VULKAN] = TG_VK(tg__vk_conv_kernel)}, .vjp = conv_vjp, .jvp = conv_jvp};
const tg_op_def tg_op_nn_conv2d_input_grad = {.name = "nn_conv2d_input_grad", .n_in = 2, .n_out = 1,
                                              .flags = TG_OP_RULES_IGNORE_OUTPUT, .infer = input_grad_infer,
                                              .kernel = {[TG_CPU] = input_grad_kernel, [TG_VULKAN] = TG_VK(tg__vk_conv_kernel)}, .vjp = input_grad_vjp,
                                              .jvp = input_grad_jvp};
const tg_op_def tg_op_nn_conv2d_weight_grad = {.name = "nn_conv2d_weight_grad", .n_in = 2, .n_out = 1,
                                               .flags = TG_OP_RULES_IGNORE_OUTPUT, .infer = weight_grad_infer,
                                               .kernel = {[TG_CPU] = weight_grad_kernel, [TG_VULKAN] = TG_VK(tg__vk_conv_kernel)}, .vjp = weight_grad_vjp,
                                               .jvp = weight_grad_jvp};

tg_tensor *tg__nn_conv2d_op(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_nn_win *win, int64_t groups) {
    tg_attrs a;
    win_to_attrs(win, groups, &a);
    tg_tensor *in[3] = {x, w, bias};
    return tg__apply1(bias ? &tg_op_nn_conv2d_bias : &tg_op_nn_conv2d, bias ? 3 : 2, in, &a);
}

TG_REGISTER_OPS(nn_conv2d, &tg_op_nn_conv2d, &tg_op_nn_conv2d_bias, &tg_op_nn_conv2d_input_grad,
                &tg_op_nn_conv2d_weight_grad)
