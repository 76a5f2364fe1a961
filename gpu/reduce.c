/* Vulkan reductions over any set of axes: sum prod max min all any
 * (gpu/shaders/reduce.comp; complex sum and prod too, as the CPU: no
 * complex max/min) and argmax argmin (gpu/shaders/reduce_arg.comp).
 * Semantics follow tensor/ops/reduce.c: max/min propagate NaN, an empty
 * reduction gives the identity (max/min/argmax/argmin of an empty axis are
 * rejected by the op's infer before a kernel runs), argmax/argmin return
 * the first NaN or else the first extreme as int64. Long reductions of few
 * outputs take two passes: G workgroups per output write partials (pairs
 * of value and index for argmax/argmin), a second pass combines them. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/iter.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

enum { OP_SUM, OP_PROD, OP_MAX, OP_MIN };

/* The reduced problem: kept axes (ks, kst) and reduced axes (rs, rst) of
 * the input, M outputs of R elements each. */
typedef struct red_geom {
    int nk, nr;
    int64_t ks[TG_MAX_DIMS], kst[TG_MAX_DIMS], rs[TG_MAX_DIMS], rst[TG_MAX_DIMS];
    int64_t M, R;
} red_geom;

static void geom_params(int32_t *p, const red_geom *g, int64_t G) {
    memset(p, 0, 64 * sizeof *p);
    p[0] = (int32_t)g->M;
    p[1] = (int32_t)g->R;
    p[2] = (int32_t)G;
    p[3] = g->nk;
    p[4] = g->nr;
    for (int i = 0; i < g->nk; i++) { p[8 + i] = (int32_t)g->ks[i]; p[16 + i] = (int32_t)g->kst[i]; }
    for (int i = 0; i < g->nr; i++) { p[24 + i] = (int32_t)g->rs[i]; p[32 + i] = (int32_t)g->rst[i]; }
}

/* The second pass's geometry: partials (M, G) contiguous. */
static red_geom partial_geom(int64_t M, int64_t G) {
    red_geom g = {.nk = 1, .nr = 1, .M = M, .R = G};
    g.ks[0] = M; g.kst[0] = G;
    g.rs[0] = G; g.rst[0] = 1;
    return g;
}

/* A grid of total workgroups: rows of at most TG_VK_MAX_GROUPS. */
static void grid_of(int64_t total, uint32_t *gx, uint32_t *gy) {
    *gx = total > TG_VK_MAX_GROUPS ? TG_VK_MAX_GROUPS : (uint32_t)total;
    *gy = (uint32_t)((total + *gx - 1) / *gx);
}

static tg_status record_groups(tg_vkdev *d, const char *pipe, const int32_t *p, int nbuf, const VkBuffer *bufs,
                               int64_t total) {
    uint32_t gx, gy;
    grid_of(total, &gx, &gy);
    return tg__vk_record(d, pipe, p, nbuf, bufs, gx, gy, 1);
}

/* Workgroups per output: R split in chunks of >= 4 elements per thread
 * when there are few outputs. */
static int64_t groups_per_output(int64_t M, int64_t R) {
    int64_t G = R / (TG_VK_LOCAL * 4);
    if (G > 1024) G = 1024;
    if (G < 1 || M > 4096) G = 1;
    return G;
}

/* reduce.comp's p[48]: 1 when each output's reduced elements are one
 * contiguous run (row-major over the reduced axes), 2 when also every
 * run starts at a multiple of 4 elements (read as 4-vectors). */
static int32_t dense_runs(const red_geom *g, int64_t base) {
    int64_t c = 1;
    for (int i = g->nr - 1; i >= 0; i--) {
        if (g->rs[i] > 1 && g->rst[i] != c) return 0;
        c *= g->rs[i];
    }
    bool aligned = base % 4 == 0;
    for (int i = 0; i < g->nk; i++) aligned = aligned && (g->ks[i] == 1 || g->kst[i] % 4 == 0);
    return aligned ? 2 : 1;
}

/* ---- sum prod max min all any ---------------------------------------------------- */
/* G: workgroups per output, or -1 for a thread per output. wide: the u8 pipeline's counts (sum of bools): x holds 32-bit counts
 * (an i32 partial) or bytes, dst 32-bit counts (i32) or int64 words.
 * gen: a fusion group's kernel built on reduce.comp (gpu/fused.c) in place
 * of pipe, reading a virtual dense input (x NULL, base 0) through its own
 * parameters (p[64..]) and buffers (bindings 2..). */
static tg_status reduce_pass(tg_vkdev *d, const char *pipe, int op, tg_tensor *x, tg_tensor *dst, const red_geom *g,
                             int64_t G, const tg_vk_generated *gen) {
    int32_t p[TG_VK_PARAM_BYTES_MAX / 4] = {0};
    bool per_thread = G < 0;            /* G = -1: a thread per output (p[49]) */
    if (per_thread) G = 1;
    geom_params(p, g, G);
    p[49] = per_thread;
    vk_loc lo = tg__vk_locate(dst);
    bool out_wide = dst->dtype == TG_I32 || dst->dtype == TG_I64;
    p[5] = x ? (int32_t)(tg__vk_locate(x).byte_off / (size_t)tg__esize(x->dtype)) : 0;
    p[6] = (int32_t)(lo.byte_off / (out_wide ? 4 : (size_t)tg__esize(dst->dtype)));
    p[7] = op;
    p[46] = x && x->dtype == TG_I32;
    p[47] = dst->dtype == TG_I32 ? 1 : dst->dtype == TG_I64 ? 2 : 0;
    p[48] = dense_runs(g, p[5]);
    int64_t total = per_thread ? (g->M + TG_VK_LOCAL - 1) / TG_VK_LOCAL : g->M * G;
    if (gen) {
        memcpy(p + 64, gen->ext, (size_t)gen->n_ext * sizeof *p);
        VkBuffer bufs[TG_VK_BINDINGS - 1] = {lo.block->buf};
        for (int i = 0; i < gen->nbuf; i++) bufs[1 + i] = gen->bufs[i];
        uint32_t gx, gy;
        grid_of(total, &gx, &gy);
        pthread_mutex_lock(&d->lock);
        tg_status st = tg__vk_dispatch_spirv(d, gen->name, gen->code, gen->size, p,
                                             (size_t)(64 + gen->n_ext) * sizeof *p, 1 + gen->nbuf, bufs, gx, gy, 1);
        pthread_mutex_unlock(&d->lock);
        return st;
    }
    VkBuffer lx = tg__vk_locate(x).block->buf;
    /* the u8 pipeline also binds the word views (3, 4) of the same blocks */
    VkBuffer bufs[4] = {lo.block->buf, lx, lo.block->buf, lx};
    return record_groups(d, pipe, p, strcmp(pipe, "reduce_u8") == 0 ? 4 : 2, bufs, total);
}

/* out = the reduction of x (or, with gen, of the virtual input gen reads)
 * in one pass, or in two through a partial of G per output. */
static tg_status reduce_run(tg_vkdev *d, const char *pipe, int op, tg_tensor *x, tg_tensor *out, const red_geom *g,
                            const tg_vk_generated *gen) {
    int64_t G = groups_per_output(g->M, g->R);
    /* short reductions of many outputs: a thread per output fills the device */
    if (g->R <= 64 && g->M >= 4096 && strcmp(pipe, "reduce_u8") != 0) return reduce_pass(d, pipe, op, x, out, g, -1, gen);
    if (G == 1) return reduce_pass(d, pipe, op, x, out, g, 1, gen);
    int64_t pshape[2] = {g->M, G};
    /* partial counts of a sum of bools are 32-bit words */
    tg_dtype pd = out->dtype == TG_I64 ? TG_I32 : x ? x->dtype : out->dtype;
    tg_tensor *part = tg__vk_alloc(out->storage->device.index, pd, 2, pshape);
    if (!part) return tg_last_error_code();
    tg_status st = reduce_pass(d, pipe, op, x, part, g, G, gen);
    red_geom g2 = partial_geom(g->M, G);
    if (!st) st = reduce_pass(d, pipe, op, part, out, &g2, 1, NULL);
    tg_release(part);       /* safe: later work is ordered after this batch's reads */
    return st;
}

/* ---- a fusion group's reduction (gpu/fused.c) ----------------------------------- */
tg_status tg__vk_reduce_generated(tg_vkdev *d, int op, int ndim, const int64_t *shape, const bool *mask,
                                  tg_tensor *out, const tg_vk_generated *k, bool *ran) {
    *ran = false;
    int64_t st_[TG_MAX_DIMS];
    tg__contiguous_strides(ndim, shape, st_);
    red_geom g = {.M = 1, .R = 1};
    for (int i = 0; i < ndim; i++) {
        if (!tg__vk_fits32(st_[i])) return TG_OK;
        if (mask[i]) { g.rs[g.nr] = shape[i]; g.rst[g.nr++] = st_[i]; g.R *= shape[i]; }
        else { g.ks[g.nk] = shape[i]; g.kst[g.nk++] = st_[i]; g.M *= shape[i]; }
    }
    /* as tg__vk_reduce_kernel does for the materialised input */
    g.nk = tg__collapse_axes(g.nk, g.ks, 1, &g.kst);
    g.nr = tg__collapse_axes(g.nr, g.rs, 1, &g.rst);
    if (!tg__vk_fits32(g.R) || !tg__vk_fits32(g.M) || !tg__vk_fits32(g.M * g.R)) return TG_OK;
    *ran = true;
    if (g.M == 0) return TG_OK;
    return reduce_run(d, out->dtype == TG_F64 ? "reduce_f64" : "reduce_f32", op, NULL, out, &g, k);
}

/* ---- argmax argmin ---------------------------------------------------------------- */
/* vals/idx: partial outputs (idx as uint words), or vals NULL and idx the
 * int64 output; in_idx: the partial indices read by the second pass. */
static tg_status arg_pass(tg_vkdev *d, int op, tg_tensor *x, tg_tensor *in_idx, tg_tensor *vals, tg_tensor *idx,
                          const red_geom *g, int64_t G) {
    int32_t p[64];
    geom_params(p, g, G);
    vk_loc lx = tg__vk_locate(x), li = tg__vk_locate(idx);
    vk_loc lv = vals ? tg__vk_locate(vals) : lx, lai = in_idx ? tg__vk_locate(in_idx) : lx;
    p[5] = (int32_t)(lx.byte_off / (size_t)tg__esize(x->dtype));
    p[6] = vals ? (int32_t)(lv.byte_off / (size_t)tg__esize(vals->dtype)) : 0;
    p[7] = op;
    p[40] = in_idx != NULL;
    p[41] = vals == NULL;
    p[42] = (int32_t)(li.byte_off / 4);
    p[43] = in_idx ? (int32_t)(lai.byte_off / 4) : 0;
    /* unused bindings get a valid buffer that the shader does not touch */
    VkBuffer bufs[4] = {lv.block->buf, li.block->buf, lx.block->buf, lai.block->buf};
    char pipe[32];
    snprintf(pipe, sizeof pipe, "reduce_arg_%s", tg__vk_sfx(x->dtype));
    return record_groups(d, pipe, p, 4, bufs, g->M * G);
}

static tg_status arg_run(tg_vkdev *d, int op, tg_tensor *x, tg_tensor *out, const red_geom *g) {
    int64_t G = groups_per_output(g->M, g->R);
    if (G == 1) return arg_pass(d, op, x, NULL, NULL, out, g, 1);
    int64_t pshape[2] = {g->M, G};
    int dev = x->storage->device.index;
    tg_tensor *pv = tg__vk_alloc(dev, x->dtype, 2, pshape);
    tg_tensor *pi = pv ? tg__vk_alloc(dev, TG_I32, 2, pshape) : NULL;
    tg_status st = pv && pi ? TG_OK : tg_last_error_code();
    if (!st) st = arg_pass(d, op, x, NULL, pv, pi, g, G);
    red_geom g2 = partial_geom(g->M, G);
    if (!st) st = arg_pass(d, op, pv, pi, NULL, out, &g2, 1);
    tg_release(pv);
    tg_release(pi);
    return st;
}

/* The reduced axes of c's attributes (i[1] count, i[2..] axes) as a mask over x's. */
static tg_status axes_mask(const tg_op_call *c, const tg_tensor *x, bool *mask) {
    int64_t na = c->attrs->i[1];
    if (na > c->attrs->n_int - 2 || na > TG_MAX_DIMS)
        return tg__op_error(c, TG_ERR_ARG, "%lld axes in %d attributes", (long long)na, c->attrs->n_int);
    int ax[TG_MAX_DIMS];
    for (int64_t k = 0; k < na; k++) ax[k] = (int)c->attrs->i[2 + k];
    char opname[64];
    snprintf(opname, sizeof opname, "tg_%s", c->def->name);
    if (tg__axes_mask(opname, na < 0 ? 0 : (int)na, na < 0 ? NULL : ax, x->ndim, mask)) return tg_last_error_code();
    return TG_OK;
}

/* x's axes split by mask into kept (ks, kst) and reduced (rs, rst) ones;
 * false (error recorded) when a stride does not fit the shader's 32 bits. */
static bool split_axes(const tg_op_call *c, const tg_tensor *x, const bool *mask, red_geom *g) {
    *g = (red_geom){.M = 1, .R = 1};
    for (int i = 0; i < x->ndim; i++) {
        if (!tg__vk_fits32(x->strides[i])) {
            tg__vk_unsupported(c, x, "%s (strides beyond 32 bits)", "this layout");
            return false;
        }
        if (mask[i]) { g->rs[g->nr] = x->shape[i]; g->rst[g->nr++] = x->strides[i]; g->R *= x->shape[i]; }
        else { g->ks[g->nk] = x->shape[i]; g->kst[g->nk++] = x->strides[i]; g->M *= x->shape[i]; }
    }
    return true;
}

/* A complex sum as the real sum of the (real, imaginary) pairs: x's real
 * part view (doubled strides) with one more kept axis of 2 (stride 1), y
 * written as 2 M reals. */
static tg_status complex_sum(const tg_op_call *c, tg_vkdev *d, tg_tensor *x, tg_tensor *y) {
    tg_dtype rt = tg_real_dtype(x->dtype);
    if (!tg__vk_float_ok(d, rt)) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(x->dtype));
    bool mask[TG_MAX_DIMS];
    if (axes_mask(c, x, mask)) return tg_last_error_code();
    tg_tensor *xr = tg__complex_part(x, 0);
    if (!xr) return TG_ERR_MEMORY;
    red_geom g;
    tg_status st = split_axes(c, xr, mask, &g) ? TG_OK : tg_last_error_code();
    if (!st && g.M > 0) {
        g.nk = tg__collapse_axes(g.nk, g.ks, 1, &g.kst);
        g.nr = tg__collapse_axes(g.nr, g.rs, 1, &g.rst);
        if (g.nk == TG_MAX_DIMS) {
            st = tg__vk_unsupported(c, x, "%s (8 kept axes)", "this layout");
        } else {
            g.ks[g.nk] = 2;              /* the pair: real, imaginary */
            g.kst[g.nk++] = 1;
            g.M *= 2;
        }
        if (!st && (!tg__vk_fits32(g.R) || !tg__vk_fits32(g.M) || !tg__vk_fits32(g.M * g.R)))
            st = tg__vk_unsupported(c, x, "%s (more than 2^31 elements)", "this size");
        int64_t n2 = g.M, one = 1;
        tg_tensor *yr = st ? NULL : tg__make_view(y, rt, 1, &n2, &one, 2 * y->offset);      /* y is contiguous */
        if (!st) st = yr ? reduce_run(d, rt == TG_F64 ? "reduce_f64" : "reduce_f32", 0, xr, yr, &g, NULL) : TG_ERR_MEMORY;
        tg_release(yr);
    }
    tg_release(xr);
    return st;
}

/* ---- the kernel-table entry ------------------------------------------------------- */
tg_status tg__vk_reduce_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    static const char *const names[] = {"sum", "prod", "max", "min", "all", "any", "argmax", "argmin"};
    int which = tg__vk_index_of(c->def->name, names, 8);
    if (which < 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    tg_tensor *x = in[0];
    tg_vkdev *d = tg__vk_dev_of(x);
    if (!d) return tg_last_error_code();
    tg_dtype xd = x->dtype, od = out[0]->dtype;
    if (which == 0 && tg_dtype_is_complex(xd) && od == xd) return complex_sum(c, d, x, out[0]);
    /* complex prod: reduce.comp's CPLX builds (c128 where the device has f64) */
    bool cprod = which == 1 && od == xd && (xd == TG_C64 || (xd == TG_C128 && d->f64));
    bool fl = tg__vk_float_ok(d, xd) || cprod;
    const char *u8 = "%s (the device has no 8-bit storage)";
    switch (which) {
    case 0: case 1:                      /* sum prod: float in, same dtype out; sum of bools: int64 */
        if (which == 0 && xd == TG_BOOL && od == TG_I64) {
            if (!d->int8) return tg__vk_unsupported(c, x, u8, "bool");
            break;
        }
        if (!fl || od != xd) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(xd));
        break;
    case 2: case 3:                      /* max min: float, or bool (bytes) */
        if (xd == TG_BOOL && !d->int8) return tg__vk_unsupported(c, x, u8, "bool");
        if ((!fl && xd != TG_BOOL) || od != xd) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(xd));
        break;
    case 4: case 5:                      /* all any: float or bool in, bool out */
        if ((!fl && xd != TG_BOOL) || od != TG_BOOL) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(xd));
        if (!d->int8) return tg__vk_unsupported(c, x, u8, "bool results");
        break;
    default:                             /* argmax argmin: float in, int64 out */
        if (!fl || od != TG_I64) return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(xd));
        break;
    }
    bool mask[TG_MAX_DIMS];
    if (axes_mask(c, x, mask)) return tg_last_error_code();
    red_geom g;
    if (!split_axes(c, x, mask, &g)) return tg_last_error_code();
    if (g.M == 0) return TG_OK;
    if (which < 4 || which >= 6) {     /* all/any below re-read the strides per original axis */
        g.nk = tg__collapse_axes(g.nk, g.ks, 1, &g.kst);
        g.nr = tg__collapse_axes(g.nr, g.rs, 1, &g.rst);
    }
    if (!tg__vk_fits32(g.R) || !tg__vk_fits32(g.M) || !tg__vk_fits32(g.M * g.R))
        return tg__vk_unsupported(c, x, "%s (more than 2^31 elements)", "this size");
    if (which >= 6) return arg_run(d, which - 6, x, out[0], &g);
    if (which >= 4) {                    /* all = min, any = max over bools */
        tg_tensor *b = tg__vk_cast_to(c, x, TG_BOOL);
        if (!b) return tg_last_error_code();
        /* b is contiguous when it was cast: its strides replace x's */
        for (int i = 0, k = 0, r = 0; i < x->ndim; i++) {
            if (mask[i]) g.rst[r++] = b->strides[i];
            else g.kst[k++] = b->strides[i];
        }
        tg_status st = reduce_run(d, "reduce_u8", which == 4 ? OP_MIN : OP_MAX, b, out[0], &g, NULL);
        tg_release(b);
        return st;
    }
    char pipe[32];
    snprintf(pipe, sizeof pipe, "reduce_%s", xd == TG_BOOL ? "u8" : cprod ? tg_dtype_name(xd) : tg__vk_sfx(xd));
    return reduce_run(d, pipe, which, x, out[0], &g, NULL);
}

#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_reduce;
#endif
