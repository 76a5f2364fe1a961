/* Vulkan kernels of the f32/f64 convolution op family (nn/conv_kernels.c):
 * nn_conv2d, nn_conv2d_bias, nn_conv2d_input_grad, nn_conv2d_weight_grad,
 * NCHW with any stride, padding, dilation and groups. As on the CPU, the
 * batch is cut into chunks of images whose column buffer (C kh kw rows by
 * oh ow columns per image) takes at most CHUNK_BYTES of device memory, a
 * temporary released after recording (later work is ordered after it).
 * Per chunk (gpu/shaders/conv.comp for the data movement, the Vulkan
 * matmul kernel of gpu/matmul.c for the products, batched over groups):
 *   conv:        cols = im2col(x);  y[n, g] = w_g @ cols[n, g]  (written
 *                straight into the output), the bias (and, for a compiled
 *                program's conv2d -> relu group, the ReLU) added as the
 *                product is stored, or in one pass over the chunk where the
 *                product kernel cannot (gpu/shaders/linear.comp)
 *   input_grad:  cols[n, g] = w_g^T @ g[n, g];  gx = col2im(cols), a gather
 *                per input pixel (no atomics: the same bits on every run)
 *   weight_grad: cols = im2col(x) in (g, kg, n, l) order; dW_g = g_g @ cols_g^T
 *                over the chunk's n l at once (g's rows copied into group
 *                order), summed over chunks with an accumulate pass
 * x and the cotangent are read through their strides by im2col; w and the
 * cotangent of input_grad/weight_grad are made contiguous when they are
 * not. Operands of another float dtype than the output's are converted on
 * the device first. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

/* 64 MiB: within a memory block of the H100 (80 MiB) and lavapipe (128 MiB),
 * so a chunk's columns are sub-allocated; 106 images of the CNN's conv2 (32
 * gave 53: 212 workgroups for its products, under two waves of 132
 * multiprocessors) */
#define CHUNK_BYTES ((int64_t)64 << 20)
#define IM2COL_IMAGES 8         /* images an im2col thread copies its element of */

enum { MODE_FWD, MODE_IGRAD, MODE_WGRAD };

typedef struct {
    const tg_op_call *c;
    tg_vkdev *d;
    int dev;
    tg_dtype t;
    int64_t es, N, C, H, W, O, G, Cg, Og, kh, kw, oh, ow, L, Kg;
    const int64_t *a;       /* window attrs: i[0..7] kernel, stride, padding, dilation */
    bool relu;              /* forward: ReLU after the bias (tg__vk_conv_act) */
    const tg_op_def *act;   /* forward: another activation after the bias, or NULL */
    const tg_attrs *act_attrs;
} geom;

static tg_tensor *view(tg_tensor *t, int nd, const int64_t *shape, const int64_t *strides, int64_t extra) {
    return tg__make_view(t, t->dtype, nd, shape, strides, t->offset + extra);
}

static int32_t base_of(const tg_tensor *t) { return (int32_t)tg__vk_elem_offset(t); }

/* y = a @ b through the matmul kernel (y contiguous, of a and b's dtype),
 * with the epilogue ep (NULL: none). */
static tg_status mm_ep(const geom *g, tg_tensor *a, tg_tensor *b, tg_tensor *y, tg_vk_epilogue *ep) {
    tg_tensor *in[2] = {a, b};
    tg_meta metas[2];
    tg__metas_of(2, in, metas);
    tg_op_call mc = {g->c->def, NULL, 2, metas, NULL};
    return tg__vk_matmul_ep(&mc, in, &y, ep);
}
static tg_status mm(const geom *g, tg_tensor *a, tg_tensor *b, tg_tensor *y) { return mm_ep(g, a, b, y, NULL); }

/* y[0 .. n) += bias[(i / L) % O] (bias may be NULL), then ReLU when g->relu,
 * in place (linear.comp), y contiguous from the start of an image. */
static tg_status bias_pass(const geom *g, tg_tensor *y, tg_tensor *bias, int64_t first, int64_t n) {
    int32_t p[64] = {0};
    if (!bias) bias = y;    /* an unused binding */
    p[0] = (int32_t)n;
    p[1] = (int32_t)g->O;
    p[2] = bias != y;
    p[3] = g->relu;
    p[4] = (int32_t)g->L;
    p[20] = (int32_t)(base_of(y) + first);
    p[21] = base_of(bias);
    p[22] = (int32_t)bias->strides[0];
    VkBuffer bufs[2] = {tg__vk_locate(y).block->buf, tg__vk_locate(bias).block->buf};
    char pipe[32];
    snprintf(pipe, sizeof pipe, "linear_epilogue_%s", tg__vk_sfx(g->t));
    return tg__vk_record(g->d, pipe, p, 2, bufs, tg__vk_groups_for(n), 1, 1);
}

/* y[first .. first + n) = act(y[...]) through the activation op itself. */
static tg_status act_pass(const geom *g, tg_tensor *y, int64_t first, int64_t n) {
    tg_tensor *v = view(y, 1, (int64_t[]){n}, (int64_t[]){1}, first);
    tg_tensor *r = v ? tg__apply1(g->act, 1, &v, g->act_attrs) : NULL;
    tg_status st = r ? tg__vk_copy_into(v, r) : tg_last_error_code();
    tg_release(r);
    tg_release(v);
    return st;
}

static void fill_geom_params(const geom *g, int32_t *p, int64_t kk) {
    memset(p, 0, 64 * sizeof *p);
    int64_t v[] = {kk, g->C, g->H, g->W, g->G, g->oh, g->ow, g->kh, g->kw,
                   g->a[2], g->a[3], g->a[4], g->a[5], g->a[6], g->a[7]};
    for (int i = 0; i < 15; i++) p[1 + i] = (int32_t)v[i];
}

/* Records pipe over a grid of gx workgroups by rows by images / ipt
 * (conv.comp's IM2COL and COL2IM grids; ipt images per thread, p[19]), in
 * slices of at most TG_VK_MAX_GROUPS rows and image groups (p[17], p[18]:
 * the slice's first row and image). */
static tg_status record_grid(const geom *g, const char *pipe, int32_t *p, const VkBuffer *bufs, int64_t gx, int64_t rows,
                             int64_t images, int64_t ipt) {
    if (gx > (int64_t)TG_VK_MAX_GROUPS)
        return tg__error(TG_ERR_UNSUPPORTED, "%s: %s on %s: images of more than %lld pixels", g->c->def->name, pipe,
                         g->d->label, (long long)TG_VK_MAX_GROUPS * TG_VK_LOCAL);
    tg_status st = TG_OK;
    int64_t groups = (images + ipt - 1) / ipt;
    p[19] = (int32_t)ipt;
    for (int64_t r0 = 0; r0 < rows && !st; r0 += TG_VK_MAX_GROUPS)
        for (int64_t z0 = 0; z0 < groups && !st; z0 += TG_VK_MAX_GROUPS) {
            int64_t nr = rows - r0 < TG_VK_MAX_GROUPS ? rows - r0 : TG_VK_MAX_GROUPS;
            int64_t nz = groups - z0 < TG_VK_MAX_GROUPS ? groups - z0 : TG_VK_MAX_GROUPS;
            p[17] = (int32_t)r0;
            p[18] = (int32_t)(z0 * ipt);
            st = tg__vk_record(g->d, pipe, p, 2, bufs, (uint32_t)gx, (uint32_t)nr, (uint32_t)nz);
        }
    return st;
}

/* cols (strides cst along (n, g, kg, l)) = im2col of images n0 .. n0 + kk of x. */
static tg_status im2col(const geom *g, tg_tensor *x, int64_t n0, int64_t kk, tg_tensor *cols, const int64_t *cst) {
    int32_t p[64];
    fill_geom_params(g, p, kk);
    p[20] = base_of(cols);
    p[21] = (int32_t)(base_of(x) + n0 * x->strides[0]);
    for (int i = 0; i < 4; i++) { p[24 + i] = (int32_t)x->strides[i]; p[28 + i] = (int32_t)cst[i]; }
    VkBuffer bufs[2] = {tg__vk_locate(cols).block->buf, tg__vk_locate(x).block->buf};
    char pipe[32];
    snprintf(pipe, sizeof pipe, "conv_im2col_%s", tg__vk_sfx(g->t));
    return record_grid(g, pipe, p, bufs, (g->L + TG_VK_LOCAL - 1) / TG_VK_LOCAL, g->C * g->kh * g->kw, kk, IM2COL_IMAGES);
}

/* A contiguous version of t on its device (t retained when it is one). */
static tg_tensor *contig(tg_tensor *t) { return tg__is_contiguous(t) ? tg_retain(t) : tg__vk_contiguous(t); }

static tg_status conv_fwd(const geom *g, tg_tensor *x, tg_tensor *w, tg_tensor *bias, tg_tensor *y, int64_t k) {
    tg_tensor *wc = contig(w), *cols = wc ? tg__vk_alloc(g->dev, g->t, 4, (int64_t[]){k, g->G, g->Kg, g->L}) : NULL;
    tg_status st = wc && cols ? TG_OK : tg_last_error_code();
    const int64_t cst[4] = {g->G * g->Kg * g->L, g->Kg * g->L, g->L, 1};
    tg_tensor *wv = st ? NULL : view(wc, 3, (int64_t[]){g->G, g->Og, g->Kg}, (int64_t[]){g->Og * g->Kg, g->Kg, 1}, 0);
    if (!st && !wv) st = tg_last_error_code();
    for (int64_t n0 = 0; !st && n0 < g->N; n0 += k) {
        int64_t kk = g->N - n0 < k ? g->N - n0 : k;
        if ((st = im2col(g, x, n0, kk, cols, cst))) break;
        tg_tensor *cv = view(cols, 4, (int64_t[]){kk, g->G, g->Kg, g->L}, cst, 0);
        tg_tensor *yv = view(y, 4, (int64_t[]){kk, g->G, g->Og, g->L},
                             (int64_t[]){g->O * g->L, g->Og * g->L, g->L, 1}, n0 * g->O * g->L);
        /* the bias (one per row, an output channel: group gi's slice starts
         * gi Og further on, product b being group b % G), the ReLU or
         * another activation are applied as the product is stored (another
         * activation by a kernel built at run time, gpu/matmul.c); where the
         * kernel cannot, in passes over this chunk */
        bool tail = bias || g->relu || g->act;
        int64_t bst = bias ? bias->strides[0] : 0;
        tg_vk_epilogue ep = {bias, bst, 0, g->relu, false, g->act ? g->act->name : NULL, false, g->Og * bst, g->G};
        st = cv && yv ? mm_ep(g, wv, cv, yv, tail ? &ep : NULL) : tg_last_error_code();
        if (!st && (bias || g->relu) && !ep.applied) st = bias_pass(g, y, bias, n0 * g->O * g->L, kk * g->O * g->L);
        if (!st && g->act && !ep.act_applied) st = act_pass(g, y, n0 * g->O * g->L, kk * g->O * g->L);
        tg_release(cv);
        tg_release(yv);
    }
    tg_release(wv);
    tg_release(wc);
    tg_release(cols);
    return st;
}

static tg_status conv_igrad(const geom *g, tg_tensor *gy, tg_tensor *w, tg_tensor *gx, int64_t k) {
    tg_tensor *wc = contig(w), *gc = wc ? contig(gy) : NULL;
    tg_tensor *cols = gc ? tg__vk_alloc(g->dev, g->t, 4, (int64_t[]){k, g->G, g->Kg, g->L}) : NULL;
    tg_status st = cols ? TG_OK : tg_last_error_code();
    const int64_t cst[4] = {g->G * g->Kg * g->L, g->Kg * g->L, g->L, 1};
    /* w_g^T: (G, Kg, Og) */
    tg_tensor *wt = st ? NULL : view(wc, 3, (int64_t[]){g->G, g->Kg, g->Og}, (int64_t[]){g->Og * g->Kg, 1, g->Kg}, 0);
    if (!st && !wt) st = tg_last_error_code();
    for (int64_t n0 = 0; !st && n0 < g->N; n0 += k) {
        int64_t kk = g->N - n0 < k ? g->N - n0 : k;
        tg_tensor *gv = view(gc, 4, (int64_t[]){kk, g->G, g->Og, g->L},
                             (int64_t[]){g->O * g->L, g->Og * g->L, g->L, 1}, n0 * g->O * g->L);
        tg_tensor *cv = view(cols, 4, (int64_t[]){kk, g->G, g->Kg, g->L}, cst, 0);
        st = cv && gv ? mm(g, wt, gv, cv) : tg_last_error_code();
        tg_release(cv);
        tg_release(gv);
        if (st) break;
        int32_t p[64];
        fill_geom_params(g, p, kk);
        p[20] = (int32_t)(base_of(gx) + n0 * g->C * g->H * g->W);
        p[21] = base_of(cols);
        for (int i = 0; i < 4; i++) p[28 + i] = (int32_t)cst[i];
        VkBuffer bufs[2] = {tg__vk_locate(gx).block->buf, tg__vk_locate(cols).block->buf};
        char pipe[32];
        snprintf(pipe, sizeof pipe, "conv_col2im_%s", tg__vk_sfx(g->t));
        st = record_grid(g, pipe, p, bufs, (g->H * g->W + TG_VK_LOCAL - 1) / TG_VK_LOCAL, g->C, kk, 1);
    }
    tg_release(wt);
    tg_release(wc);
    tg_release(gc);
    tg_release(cols);
    return st;
}

/* out (any size, contiguous) = 0: a zero scalar broadcast by the copy kernel. */
static tg_status zero_fill(const geom *g, tg_tensor *out) {
    tg_tensor *z = tg__alloc(g->t, 0, NULL), *dz = NULL;
    if (z) {
        memset(tg__ptr(z), 0, (size_t)g->es);
        dz = tg__vk_transfer(z, (tg_device){TG_VULKAN, g->dev});
    }
    tg_status st = dz ? tg__vk_convert_into(g->c, out, dz) : tg_last_error_code();
    tg_release(z);
    tg_release(dz);
    return st;
}

static tg_status conv_wgrad(const geom *g, tg_tensor *x, tg_tensor *gy, tg_tensor *gw, int64_t k) {
    if (g->N == 0 || g->L == 0) return zero_fill(g, gw);
    tg_tensor *gc = contig(gy);
    tg_tensor *cols = gc ? tg__vk_alloc(g->dev, g->t, 2, (int64_t[]){g->G * g->Kg, k * g->L}) : NULL;
    tg_tensor *gt = cols ? tg__vk_alloc(g->dev, g->t, 2, (int64_t[]){g->O, k * g->L}) : NULL;
    tg_tensor *tmp = gt && g->N > k ? tg__vk_alloc(g->dev, g->t, 1, (int64_t[]){g->O * g->Kg}) : NULL;
    tg_status st = gt && (tmp || g->N <= k) ? TG_OK : tg_last_error_code();
    tg_tensor *gwv = st ? NULL : view(gw, 3, (int64_t[]){g->G, g->Og, g->Kg}, (int64_t[]){g->Og * g->Kg, g->Kg, 1}, 0);
    tg_tensor *tmv = tmp ? view(tmp, 3, (int64_t[]){g->G, g->Og, g->Kg}, (int64_t[]){g->Og * g->Kg, g->Kg, 1}, 0) : NULL;
    if (!st && (!gwv || (tmp && !tmv))) st = tg_last_error_code();
    for (int64_t n0 = 0; !st && n0 < g->N; n0 += k) {
        int64_t kk = g->N - n0 < k ? g->N - n0 : k, nl = kk * g->L;
        /* cols in (g, kg, n, l) order: cols_g is a (Kg, kk L) matrix */
        const int64_t cst[4] = {g->L, g->Kg * nl, nl, 1};
        if ((st = im2col(g, x, n0, kk, cols, cst))) break;
        /* g's chunk in group order: (G, Og, kk, L) contiguous */
        tg_tensor *src = view(gc, 4, (int64_t[]){g->G, g->Og, kk, g->L},
                              (int64_t[]){g->Og * g->L, g->L, g->O * g->L, 1}, n0 * g->O * g->L);
        tg_tensor *dst = view(gt, 4, (int64_t[]){g->G, g->Og, kk, g->L}, (int64_t[]){g->Og * nl, nl, g->L, 1}, 0);
        st = src && dst ? tg__vk_convert_into(g->c, dst, src) : tg_last_error_code();
        tg_release(src);
        tg_release(dst);
        if (st) break;
        tg_tensor *gv = view(gt, 3, (int64_t[]){g->G, g->Og, nl}, (int64_t[]){g->Og * nl, nl, 1}, 0);
        tg_tensor *ct = view(cols, 3, (int64_t[]){g->G, nl, g->Kg}, (int64_t[]){g->Kg * nl, 1, nl}, 0);
        st = gv && ct ? mm(g, gv, ct, n0 == 0 ? gwv : tmv) : tg_last_error_code();
        tg_release(gv);
        tg_release(ct);
        if (!st && n0 > 0) {
            int32_t p[64] = {0};
            int64_t total = g->O * g->Kg;
            p[0] = (int32_t)total;
            p[20] = base_of(gw);
            p[21] = base_of(tmp);
            VkBuffer bufs[2] = {tg__vk_locate(gw).block->buf, tg__vk_locate(tmp).block->buf};
            char pipe[32];
            snprintf(pipe, sizeof pipe, "conv_acc_%s", tg__vk_sfx(g->t));
            st = tg__vk_record(g->d, pipe, p, 2, bufs, tg__vk_groups_for(total), 1, 1);
        }
    }
    tg_release(gwv);
    tg_release(tmv);
    tg_release(gc);
    tg_release(cols);
    tg_release(gt);
    tg_release(tmp);
    return st;
}

static tg_status conv_run(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out, const tg_op_def *act,
                          const tg_attrs *act_attrs) {
    static const char *const names[] = {"nn_conv2d", "nn_conv2d_bias", "nn_conv2d_input_grad",
                                        "nn_conv2d_weight_grad"};
    int op = tg__vk_index_of(c->def->name, names, 4);
    if (op < 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    int mode = op <= 1 ? MODE_FWD : op == 2 ? MODE_IGRAD : MODE_WGRAD;
    tg_tensor *y = out[0];
    bool fwd = mode == MODE_FWD, relu = act && !strcmp(act->name, "relu");
    geom g = {.c = c, .d = tg__vk_dev_of(y), .dev = y->storage->device.index, .t = y->dtype, .a = c->attrs->i,
              .relu = relu && fwd, .act = act && !relu && fwd ? act : NULL, .act_attrs = act_attrs};
    if (!g.d) return tg_last_error_code();
    for (int i = 0; i < c->n_in; i++)
        if (!tg__vk_float_ok(g.d, in[i]->dtype)) return tg__vk_unsupported(c, in[i], "dtype %s", tg_dtype_name(in[i]->dtype));
    if (!tg__vk_float_ok(g.d, g.t)) return tg__vk_unsupported(c, y, "dtype %s", tg_dtype_name(g.t));
    /* sizes: x (N, C, H, W), w (O, C/G, kh, kw), the output grid (N, O, oh, ow) */
    const tg_tensor *grid = mode == MODE_FWD ? y : in[mode == MODE_IGRAD ? 0 : 1];
    const tg_tensor *img = mode == MODE_IGRAD ? y : in[0];
    g.N = img->shape[0]; g.C = img->shape[1]; g.H = img->shape[2]; g.W = img->shape[3];
    g.O = grid->shape[1]; g.oh = grid->shape[2]; g.ow = grid->shape[3];
    g.G = c->attrs->i[9]; g.kh = c->attrs->i[0]; g.kw = c->attrs->i[1];
    g.Cg = g.C / g.G; g.Og = g.O / g.G; g.L = g.oh * g.ow; g.Kg = g.Cg * g.kh * g.kw;
    g.es = tg__esize(g.t);
    if (tg__numel(4, y->shape) == 0) return TG_OK;
    if (mode != MODE_WGRAD && (g.N == 0 || g.L == 0)) return TG_OK;
    /* images per chunk: the column buffer within CHUNK_BYTES */
    int64_t per = g.C * g.kh * g.kw * (g.L ? g.L : 1) * g.es, k = per > 0 ? CHUNK_BYTES / per : g.N;
    if (k > (int64_t)TG_VK_MAX_GROUPS / g.G) k = (int64_t)TG_VK_MAX_GROUPS / g.G;   /* the matmul's batch limit */
    if (k < 1) k = 1;
    if (k > g.N) k = g.N > 0 ? g.N : 1;
    int64_t sizes[] = {g.N * g.C * g.H * g.W, g.N * g.O * g.L, k * g.C * g.kh * g.kw * g.L, g.O * g.Kg,
                       g.a[2], g.a[3], g.a[4], g.a[5], g.a[6], g.a[7]};
    bool ok = true;
    for (int i = 0; i < 10; i++) ok = ok && tg__vk_fits32(sizes[i]);
    for (int i = 0; i < c->n_in; i++)
        for (int j = 0; j < in[i]->ndim; j++) ok = ok && tg__vk_fits32(in[i]->strides[j]);
    if (!ok) return tg__vk_unsupported(c, in[0], "%s (sizes or strides beyond 32 bits)", "these sizes");
    tg_tensor *ops[3] = {NULL, NULL, NULL};
    tg_status st = TG_OK;
    for (int i = 0; i < c->n_in && !st; i++)
        if (!(ops[i] = tg__vk_cast_to(c, in[i], g.t))) st = tg_last_error_code();
    if (!st) {
        if (mode == MODE_FWD) st = conv_fwd(&g, ops[0], ops[1], ops[2], y, k);
        else if (mode == MODE_IGRAD) st = conv_igrad(&g, ops[0], ops[1], y, k);
        else st = conv_wgrad(&g, ops[0], ops[1], y, k);
    }
    for (int i = 0; i < 3; i++) tg_release(ops[i]);
    return st;
}

tg_status tg__vk_conv_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return conv_run(c, in, out, NULL, NULL);
}

tg_status tg__vk_conv_act(const tg_op_def *def, int n_in, tg_tensor *const *in, const tg_attrs *attrs,
                          const tg_op_def *act, const tg_attrs *act_attrs, tg_tensor **out) {
    *out = NULL;
    tg_device d0 = in[0]->storage->device;
    for (int i = 0; i < n_in; i++) {
        tg_device di = in[i]->storage->device;
        if (di.kind != TG_VULKAN || di.index != d0.index) return TG_OK;     /* the caller runs it op by op */
    }
    tg_meta metas[3], om;
    tg__metas_of(n_in, in, metas);
    tg_op_call call = {def, attrs, n_in, metas, NULL};
    tg_status st = def->infer(&call, &om);
    if (st) return st;
    tg_tensor *y = tg__vk_alloc(d0.index, om.dtype, om.ndim, om.shape);
    if (!y) return tg_last_error_code();
    st = conv_run(&call, in, &y, act, act_attrs);
    if (st) tg_release(y);
    else *out = y;
    return st;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_conv;
#endif
