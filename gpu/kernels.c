/* Vulkan kernel-table entries: each looks at the op (c->def->name), checks
 * that the dtypes and sizes are ones its shaders handle, fills the
 * parameter block (gpu/shaders/common.glsl) and records a dispatch into
 * the device's current batch. What is not handled is TG_ERR_UNSUPPORTED
 * naming the op and the device: nothing falls back to reading device
 * memory on the CPU. */
#ifdef TG_HAVE_VULKAN
#include "gpu/gpu_internal.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

#define LOCAL 256
#define MAX_GROUPS 65535u

static tg_vkdev *dev_of(const tg_tensor *t) { return tg__vk_dev(t->storage->device.index, "tangent"); }

static bool float_ok(const tg_vkdev *d, tg_dtype t) { return t == TG_F32 || (t == TG_F64 && d->f64); }
static const char *sfx(tg_dtype t) { return t == TG_F64 ? "f64" : "f32"; }

static bool fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

static tg_status unsupported(const tg_op_call *c, const tg_tensor *t, const char *fmt, const char *arg) {
    char what[200];
    snprintf(what, sizeof what, fmt, arg);
    return tg__op_error(c, TG_ERR_UNSUPPORTED, "no Vulkan kernel for %s on %s", what,
                        tg__vk_device_name(t->storage->device.index));
}

/* Elementwise parameters for out and n_in inputs read as if broadcast to
 * out's shape. Returns false when an offset or stride exceeds 32 bits. */
static bool elem_params(int32_t *p, tg_tensor *out, int n_in, tg_tensor *const *in, VkBuffer *bufs) {
    memset(p, 0, 64 * sizeof *p);
    int64_t n = tg__numel(out->ndim, out->shape);
    if (!fits32(n)) return false;
    p[0] = (int32_t)n;
    p[1] = out->ndim;
    tg_tensor *ops[4] = {out, n_in > 0 ? in[0] : NULL, n_in > 1 ? in[1] : NULL, NULL};
    for (int k = 0; k <= n_in; k++) {
        vk_loc l = tg__vk_locate(ops[k]);
        bufs[k] = l.block->buf;
        int64_t es = tg__esize(ops[k]->dtype), st[TG_MAX_DIMS];
        p[4 + k] = (int32_t)(l.byte_off / (size_t)es);
        tg__broadcast_strides(ops[k], out->ndim, out->shape, st);
        for (int dd = 0; dd < out->ndim; dd++) {
            if (!fits32(st[dd])) return false;
            p[16 + 8 * k + dd] = (int32_t)st[dd];
        }
    }
    for (int dd = 0; dd < out->ndim; dd++) p[8 + dd] = (int32_t)out->shape[dd];
    return true;
}

static uint32_t groups_for(int64_t n) {
    int64_t g = (n + LOCAL - 1) / LOCAL;
    return g > MAX_GROUPS ? MAX_GROUPS : (uint32_t)g;
}

static tg_status record(tg_vkdev *d, const char *pipe, const int32_t *p, int nbuf, const VkBuffer *bufs, uint32_t gx,
                        uint32_t gy, uint32_t gz) {
    pthread_mutex_lock(&d->lock);
    tg_status st = tg__vk_dispatch(d, pipe, p, 64 * sizeof *p, nbuf, bufs, gx, gy, gz);
    pthread_mutex_unlock(&d->lock);
    return st;
}

/* ---- copy, fill, cast ------------------------------------------------------ */
/* out (any layout on the device) = x converted; shapes equal or x
 * broadcastable to out. Pipe chosen by the dtypes. */
static tg_status convert_into(const tg_op_call *c, tg_tensor *out, tg_tensor *x) {
    tg_vkdev *d = dev_of(out);
    if (!d) return tg_last_error_code();
    char pipe[32];
    tg_dtype s = x->dtype, t = out->dtype;
    if (s == t) {
        int64_t es = tg__esize(s);
        if (es != 1 && es != 4 && es != 8) return unsupported(c, x, "copies of %s", tg_dtype_name(s));
        if (es == 1 && !d->int8) return unsupported(c, x, "%s (the device has no 8-bit storage)", tg_dtype_name(s));
        snprintf(pipe, sizeof pipe, "copy_w%d", (int)es);
    } else {
        bool sf = float_ok(d, s), tf = float_ok(d, t);
        if (sf && tf) snprintf(pipe, sizeof pipe, "cast_%s_%s", sfx(s), sfx(t));
        else if (s == TG_BOOL && tf && d->int8) snprintf(pipe, sizeof pipe, "cast_u8_%s", sfx(t));
        else if (sf && t == TG_BOOL && d->int8) snprintf(pipe, sizeof pipe, "cast_%s_u8", sfx(s));
        else {
            char what[64];
            snprintf(what, sizeof what, "%s to %s", tg_dtype_name(s), tg_dtype_name(t));
            return unsupported(c, x, "casts from %s", what);
        }
    }
    int32_t p[64];
    VkBuffer bufs[3];
    if (!elem_params(p, out, 1, &x, bufs)) return unsupported(c, x, "%s (offsets beyond 32 bits)", "this layout");
    if (p[0] == 0) return TG_OK;
    return record(d, pipe, p, 2, bufs, groups_for(p[0]), 1, 1);
}

tg_status tg__vk_cast_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return convert_into(c, out[0], in[0]);
}

static const tg_op_def vk_internal_copy = {.name = "contiguous", .n_in = 1, .n_out = 1};

tg_tensor *tg__vk_contiguous(tg_tensor *x) {
    tg_tensor *y = tg__vk_alloc(x->storage->device.index, x->dtype, x->ndim, x->shape);
    if (!y) return NULL;
    tg_meta m;
    tg__metas_of(1, &x, &m);
    tg_op_call c = {&vk_internal_copy, NULL, 1, &m, NULL};
    if (convert_into(&c, y, x)) { tg_release(y); return NULL; }
    return y;
}

static const tg_op_def vk_internal_copy_ = {.name = "copy_", .n_in = 1, .n_out = 1};

tg_status tg__vk_copy_into(tg_tensor *dst, tg_tensor *src) {
    tg_tensor *s = tg_shares_memory(dst, src) ? tg__vk_contiguous(src) : tg_retain(src);
    if (!s) return tg_last_error_code();
    tg_meta m;
    tg__metas_of(1, &s, &m);
    tg_op_call c = {&vk_internal_copy_, NULL, 1, &m, NULL};
    tg_status st = convert_into(&c, dst, s);
    tg_release(s);
    return st;
}

/* x as dtype t on its device: a new reference (x itself when it has t). */
static tg_tensor *cast_to(const tg_op_call *c, tg_tensor *x, tg_dtype t) {
    if (x->dtype == t) return tg_retain(x);
    tg_tensor *y = tg__vk_alloc(x->storage->device.index, t, x->ndim, x->shape);
    if (y && convert_into(c, y, x)) { tg_release(y); y = NULL; }
    return y;
}

/* ---- elementwise ------------------------------------------------------------- */
static int index_of(const char *name, const char *const *names, int n) {
    for (int i = 0; i < n; i++) if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

tg_status tg__vk_binary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    static const char *const arith[] = {"add", "sub", "mul", "div", "maximum", "minimum"};
    static const char *const cmp[] = {"eq", "ne", "lt", "le", "gt", "ge"};
    int op = index_of(c->def->name, arith, 6);
    int cop = op < 0 ? index_of(c->def->name, cmp, 6) : -1;
    if (op < 0 && cop < 0) return unsupported(c, in[0], "%s", "this op");
    tg_vkdev *d = dev_of(out[0]);
    if (!d) return tg_last_error_code();
    tg_dtype cd = op >= 0 ? out[0]->dtype : tg__promote_meta(&c->in[0], &c->in[1]);
    if (!float_ok(d, cd)) return unsupported(c, in[0], "dtype %s", tg_dtype_name(cd));
    if (cop >= 0 && !d->int8) return unsupported(c, in[0], "%s (the device has no 8-bit storage)", "bool results");
    tg_tensor *x[2] = {cast_to(c, in[0], cd), NULL};
    if (x[0]) x[1] = cast_to(c, in[1], cd);
    tg_status st = x[0] && x[1] ? TG_OK : tg_last_error_code();
    int32_t p[64];
    VkBuffer bufs[3];
    if (!st && !elem_params(p, out[0], 2, x, bufs)) st = unsupported(c, in[0], "%s (offsets beyond 32 bits)", "this layout");
    if (!st && p[0] > 0) {
        char pipe[32];
        snprintf(pipe, sizeof pipe, "%s_%s", op >= 0 ? "binary" : "compare", sfx(cd));
        p[2] = op >= 0 ? op : cop;
        st = record(d, pipe, p, 3, bufs, groups_for(p[0]), 1, 1);
    }
    tg_release(x[0]);
    tg_release(x[1]);
    return st;
}

tg_status tg__vk_unary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    static const char *const names[] = {"neg", "abs", "exp", "log", "sqrt", "relu", "sigmoid", "tanh", "square"};
    int op = index_of(c->def->name, names, 9);
    if (op < 0) return unsupported(c, in[0], "%s", "this op");
    tg_vkdev *d = dev_of(out[0]);
    if (!d) return tg_last_error_code();
    if (!float_ok(d, in[0]->dtype) || in[0]->dtype != out[0]->dtype)
        return unsupported(c, in[0], "dtype %s", tg_dtype_name(in[0]->dtype));
    int32_t p[64];
    VkBuffer bufs[3];
    if (!elem_params(p, out[0], 1, in, bufs)) return unsupported(c, in[0], "%s (offsets beyond 32 bits)", "this layout");
    if (p[0] == 0) return TG_OK;
    p[2] = op;
    char pipe[32];
    snprintf(pipe, sizeof pipe, "unary_%s", sfx(in[0]->dtype));
    return record(d, pipe, p, 2, bufs, groups_for(p[0]), 1, 1);
}

/* ---- sum ------------------------------------------------------------------------- */
/* One pass: out[m * G + g] = partial sums of output m over chunk g. */
static tg_status reduce_pass(tg_vkdev *d, tg_tensor *x, tg_tensor *dst, int nk, const int64_t *ks, const int64_t *kst,
                             int nr, const int64_t *rs, const int64_t *rst, int64_t M, int64_t R, int64_t G) {
    int32_t p[64] = {0};
    p[0] = (int32_t)M;
    p[1] = (int32_t)R;
    p[2] = (int32_t)G;
    p[3] = nk;
    p[4] = nr;
    vk_loc lx = tg__vk_locate(x), lo = tg__vk_locate(dst);
    p[5] = (int32_t)(lx.byte_off / (size_t)tg__esize(x->dtype));
    p[6] = (int32_t)(lo.byte_off / (size_t)tg__esize(dst->dtype));
    for (int i = 0; i < nk; i++) { p[8 + i] = (int32_t)ks[i]; p[16 + i] = (int32_t)kst[i]; }
    for (int i = 0; i < nr; i++) { p[24 + i] = (int32_t)rs[i]; p[32 + i] = (int32_t)rst[i]; }
    VkBuffer bufs[2] = {lo.block->buf, lx.block->buf};
    int64_t total = M * G;
    uint32_t gx = total > MAX_GROUPS ? MAX_GROUPS : (uint32_t)total;
    uint32_t gy = (uint32_t)((total + gx - 1) / gx);
    char pipe[32];
    snprintf(pipe, sizeof pipe, "reduce_%s", sfx(x->dtype));
    return record(d, pipe, p, 2, bufs, gx, gy, 1);
}

tg_status tg__vk_reduce_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    if (strcmp(c->def->name, "sum") != 0) return unsupported(c, in[0], "%s", "this op");
    tg_tensor *x = in[0];
    tg_vkdev *d = dev_of(x);
    if (!d) return tg_last_error_code();
    if (!float_ok(d, x->dtype) || out[0]->dtype != x->dtype)
        return unsupported(c, x, "dtype %s", tg_dtype_name(x->dtype));
    bool mask[TG_MAX_DIMS];
    int64_t na = c->attrs->i[1];
    const int *axes = NULL;
    int ax[TG_MAX_DIMS];
    for (int64_t k = 0; k < na && k < TG_MAX_DIMS; k++) ax[k] = (int)c->attrs->i[2 + k];
    if (na >= 0) axes = ax;
    if (tg__axes_mask("tg_sum", na < 0 ? 0 : (int)na, axes, x->ndim, mask)) return tg_last_error_code();
    int nk = 0, nr = 0;
    int64_t ks[TG_MAX_DIMS], kst[TG_MAX_DIMS], rs[TG_MAX_DIMS], rst[TG_MAX_DIMS], M = 1, R = 1;
    for (int i = 0; i < x->ndim; i++) {
        if (!fits32(x->strides[i])) return unsupported(c, x, "%s (strides beyond 32 bits)", "this layout");
        if (mask[i]) { rs[nr] = x->shape[i]; rst[nr++] = x->strides[i]; R *= x->shape[i]; }
        else { ks[nk] = x->shape[i]; kst[nk++] = x->strides[i]; M *= x->shape[i]; }
    }
    if (M == 0) return TG_OK;
    if (!fits32(R) || !fits32(M)) return unsupported(c, x, "%s (more than 2^31 elements)", "this size");
    /* Split each output's R elements over G workgroups of 256 threads
     * (4 elements per thread at least), then add the partials. */
    int64_t G = R / (LOCAL * 4);
    if (G > 1024) G = 1024;
    if (G < 1 || M > 4096) G = 1;
    if (G == 1) return reduce_pass(d, x, out[0], nk, ks, kst, nr, rs, rst, M, R, 1);
    int64_t pshape[2] = {M, G};
    tg_tensor *part = tg__vk_alloc(x->storage->device.index, x->dtype, 2, pshape);
    if (!part) return tg_last_error_code();
    tg_status st = reduce_pass(d, x, part, nk, ks, kst, nr, rs, rst, M, R, G);
    if (!st) {
        int64_t one_s = 1, gst = G;
        /* pass 2: part is (M, G) contiguous; kept axis M with stride G */
        st = reduce_pass(d, part, out[0], 1, &M, &gst, 1, &G, &one_s, M, G, 1);
    }
    tg_release(part);       /* safe: later work is ordered after this batch's reads */
    return st;
}

/* ---- matmul ------------------------------------------------------------------------ */
tg_status tg__vk_matmul_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *y = out[0];
    tg_vkdev *d = dev_of(y);
    if (!d) return tg_last_error_code();
    tg_dtype t = y->dtype;
    if (!float_ok(d, t)) return unsupported(c, in[0], "dtype %s", tg_dtype_name(t));
    tg_tensor *a = cast_to(c, in[0], t), *b = a ? cast_to(c, in[1], t) : NULL;
    tg_status st = a && b ? TG_OK : tg_last_error_code();
    int32_t p[64] = {0};
    int64_t M = 1, N = 1, K, ars, acs, brs, bcs;
    if (!st) {
        if (a->ndim == 1) { K = a->shape[0]; ars = 0; acs = a->strides[0]; }
        else { M = a->shape[a->ndim - 2]; K = a->shape[a->ndim - 1]; ars = a->strides[a->ndim - 2]; acs = a->strides[a->ndim - 1]; }
        if (b->ndim == 1) { brs = b->strides[0]; bcs = 0; }
        else { N = b->shape[b->ndim - 1]; brs = b->strides[b->ndim - 2]; bcs = b->strides[b->ndim - 1]; }
        int nb = y->ndim - (a->ndim > 1) - (b->ndim > 1);
        int nba = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0;
        int64_t batches = tg__numel(nb, y->shape);
        bool ok = nb <= 6 && batches <= MAX_GROUPS && M <= 16 * (int64_t)MAX_GROUPS && N <= 16 * (int64_t)MAX_GROUPS && fits32(M) && fits32(N) && fits32(K) && fits32(ars) &&
                  fits32(acs) && fits32(brs) && fits32(bcs) && fits32(M * N * batches);
        for (int i = 0; ok && i < nb; i++) {
            int ia = i - (nb - nba), ib = i - (nb - nbb);
            int64_t sa = ia >= 0 && a->shape[ia] != 1 ? a->strides[ia] : 0;
            int64_t sb = ib >= 0 && b->shape[ib] != 1 ? b->strides[ib] : 0;
            ok = fits32(sa) && fits32(sb);
            p[12 + i] = (int32_t)y->shape[i];
            p[18 + i] = (int32_t)sa;
            p[24 + i] = (int32_t)sb;
        }
        if (!ok) st = unsupported(c, in[0], "%s (more than 6 batch axes, 65535 batches or 2^31 elements)", "these sizes");
        if (!st && M * N * batches > 0) {
            vk_loc la = tg__vk_locate(a), lb = tg__vk_locate(b), lc = tg__vk_locate(y);
            int64_t es = tg__esize(t);
            p[0] = (int32_t)M; p[1] = (int32_t)N; p[2] = (int32_t)K; p[3] = (int32_t)batches; p[4] = nb;
            p[5] = (int32_t)(la.byte_off / (size_t)es);
            p[6] = (int32_t)(lb.byte_off / (size_t)es);
            p[7] = (int32_t)(lc.byte_off / (size_t)es);
            p[8] = (int32_t)ars; p[9] = (int32_t)acs; p[10] = (int32_t)brs; p[11] = (int32_t)bcs;
            VkBuffer bufs[3] = {lc.block->buf, la.block->buf, lb.block->buf};
            char pipe[32];
            snprintf(pipe, sizeof pipe, "matmul_%s", sfx(t));
            st = record(d, pipe, p, 3, bufs, (uint32_t)((N + 15) / 16), (uint32_t)((M + 15) / 16), (uint32_t)batches);
        }
    }
    tg_release(a);
    tg_release(b);
    return st;
}
/* ---- weak scalars from the CPU ------------------------------------------------------ */
tg_status tg__vk_move_scalars(int n, tg_tensor *const *in, tg_device dev, tg_tensor **moved) {
    int strong = -1;
    for (int i = 0; i < n; i++) {
        moved[i] = NULL;
        if (strong < 0 && in[i]->storage->device.kind == dev.kind && in[i]->storage->device.index == dev.index &&
            !(in[i]->flags & TG_TFLAG_WEAK)) strong = i;
    }
    for (int i = 0; i < n; i++) {
        if (in[i]->storage->device.kind != TG_CPU) continue;
        tg_tensor *s = in[i];
        tg_dtype sd = strong >= 0 ? in[strong]->dtype : s->dtype;
        /* a real number with a float tensor keeps the tensor's dtype (NEP 50) */
        bool convert = (sd == TG_F32 || sd == TG_F64) && !tg_dtype_is_complex(s->dtype);
        tg_tensor *h = convert ? tg__cast_raw(s, sd) : tg_retain(s);
        tg_tensor *up = h ? tg__vk_transfer(h, dev) : NULL;
        tg_release(h);
        if (!up) {
            for (int j = 0; j < i; j++) { tg_release(moved[j]); moved[j] = NULL; }
            return tg_last_error_code();
        }
        up->flags |= TG_TFLAG_WEAK;
        moved[i] = up;
    }
    return TG_OK;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_kernels;
#endif
