/* Vulkan kernel-table entries: each looks at the op (c->def->name), checks
 * that the dtypes and sizes are ones its shaders handle, fills the
 * parameter block (gpu/shaders/common.glsl) and records a dispatch into
 * the device's current batch. What is not handled is TG_ERR_UNSUPPORTED
 * naming the op and the device: nothing falls back to reading device
 * memory on the CPU. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <string.h>

/* ---- copy, fill, cast ------------------------------------------------------ */
/* out (any layout on the device) = x converted; shapes equal or x
 * broadcastable to out. Pipe chosen by the dtypes. */
static bool is_int(tg_dtype t) { return t == TG_I32 || t == TG_I64; }
/* dtypes icast.comp converts between (gpu/shaders/icast.variants) */
static bool int_cast_ok(const tg_vkdev *d, tg_dtype t) {
    return is_int(t) || tg__vk_float_ok(d, t) || (t == TG_BOOL && d->int8);
}
static const char *icast_name(tg_dtype t) {
    return t == TG_BOOL ? "b" : t == TG_I32 ? "i32" : t == TG_I64 ? "i64" : t == TG_F32 ? "f32" : "f64";
}

/* f16/bf16 and the float dtypes half.comp converts them from and to */
static bool is_half(tg_dtype t) { return t == TG_F16 || t == TG_BF16; }
static bool half_cast_ok(const tg_vkdev *d, tg_dtype t) { return is_half(t) || tg__vk_float_ok(d, t); }

/* Casts with a complex side, part by part through the real casts: complex
 * to complex both parts, complex to real or integer the real part (as the
 * CPU), real to complex the real part and a broadcast zero. */
static tg_status complex_convert(const tg_op_call *c, tg_tensor *out, tg_tensor *x) {
    bool cs = tg_dtype_is_complex(x->dtype), ct = tg_dtype_is_complex(out->dtype);
    tg_tensor *xr = cs ? tg__complex_part(x, 0) : tg_retain(x), *yr = ct ? tg__complex_part(out, 0) : tg_retain(out);
    tg_status st = xr && yr ? tg__vk_convert_into(c, yr, xr) : TG_ERR_MEMORY;
    if (!st && ct) {
        tg_tensor *yi = tg__complex_part(out, 1), *xi = NULL;
        if (cs) {
            xi = tg__complex_part(x, 1);
        } else {                        /* a device zero of the real dtype, broadcast */
            tg_tensor *h = tg__alloc(yi ? yi->dtype : TG_F32, 0, NULL);
            if (h) memset(tg__ptr(h), 0, tg_dtype_size(h->dtype));
            xi = h ? tg__vk_transfer(h, out->storage->device) : NULL;
            tg_release(h);
        }
        st = yi && xi ? tg__vk_convert_into(c, yi, xi) : tg_last_error_code();
        tg_release(yi);
        tg_release(xi);
    }
    tg_release(xr);
    tg_release(yr);
    return st;
}

/* c64 as float pairs; c128 as double pairs, where the device has shaderFloat64 */
static bool complex_ok(const tg_vkdev *d, tg_dtype t) { return t == TG_C64 || (t == TG_C128 && d->f64); }

static tg_status record_unary(const tg_op_call *c, tg_vkdev *d, const char *pipe, int op, tg_tensor *x,
                              tg_tensor *out);

/* A bool of each complex element (gpu/shaders/cbinary.comp, UNARY and
 * TO_BOOL): op 0 isnan, 1 isinf, 2 isfinite, 3 logical_not, 4 nonzero. */
static tg_status complex_pred(const tg_op_call *c, tg_vkdev *d, int op, tg_tensor *x, tg_tensor *out) {
    return record_unary(c, d, x->dtype == TG_C128 ? "cbool_c128" : "cbool_c64", op, x, out);
}

tg_status tg__vk_convert_into(const tg_op_call *c, tg_tensor *out, tg_tensor *x) {
    tg_vkdev *d = tg__vk_dev_of(out);
    if (!d) return tg_last_error_code();
    char pipe[32];
    tg_dtype s = x->dtype, t = out->dtype;
    if (s != t && (tg_dtype_is_complex(s) || tg_dtype_is_complex(t))) {
        /* to bool a complex is true when either part is nonzero (NaN
         * included): not a part-by-part cast, cbinary.comp's TO_BOOL op 4 */
        if (t == TG_BOOL) {
            if (!complex_ok(d, s) || !d->int8) return tg__vk_unsupported(c, x, "casts from %s to bool", tg_dtype_name(s));
            return complex_pred(c, d, 4, x, out);
        }
        return complex_convert(c, out, x);
    }
    /* 2-byte elements live in uint words: gpu/shaders/half.comp */
    bool half = (s == t && tg__esize(s) == 2) ||
                ((is_half(s) || is_half(t)) && half_cast_ok(d, s) && half_cast_ok(d, t));
    if (half) {
        if (s == t) snprintf(pipe, sizeof pipe, "copy_w2");
        else snprintf(pipe, sizeof pipe, "half_%s_%s", tg_dtype_name(s), tg_dtype_name(t));
    } else if (s == t) {
        int64_t es = tg__esize(s);
        if (es != 1 && es != 4 && es != 8 && es != 16) return tg__vk_unsupported(c, x, "copies of %s", tg_dtype_name(s));
        if (es == 1 && !d->int8) return tg__vk_unsupported(c, x, "%s (the device has no 8-bit storage)", tg_dtype_name(s));
        snprintf(pipe, sizeof pipe, "copy_w%d", (int)es);
    } else {
        bool sf = tg__vk_float_ok(d, s), tf = tg__vk_float_ok(d, t);
        if (sf && tf) snprintf(pipe, sizeof pipe, "cast_%s_%s", tg__vk_sfx(s), tg__vk_sfx(t));
        else if (s == TG_BOOL && tf && d->int8) snprintf(pipe, sizeof pipe, "cast_u8_%s", tg__vk_sfx(t));
        else if (sf && t == TG_BOOL && d->int8) snprintf(pipe, sizeof pipe, "cast_%s_u8", tg__vk_sfx(s));
        else if (int_cast_ok(d, s) && int_cast_ok(d, t) && (is_int(s) || is_int(t)))
            snprintf(pipe, sizeof pipe, "icast_%s_%s", icast_name(s), icast_name(t));
        else {
            char what[64];
            snprintf(what, sizeof what, "%s to %s", tg_dtype_name(s), tg_dtype_name(t));
            return tg__vk_unsupported(c, x, "casts from %s", what);
        }
    }
    int32_t p[64];
    VkBuffer bufs[3];
    if (!tg__vk_elem_params(p, out, 1, &x, bufs)) return tg__vk_unsupported(c, x, "%s (offsets beyond 32 bits)", "this layout");
    if (p[0] == 0) return TG_OK;
    return tg__vk_record(d, pipe, p, 2, bufs, half ? tg__vk_groups_for(p[0]) : tg__vk_elem_groups(p), 1, 1);
}

tg_status tg__vk_cast_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return tg__vk_convert_into(c, out[0], in[0]);
}

static const tg_op_def vk_internal_copy = {.name = "contiguous", .n_in = 1, .n_out = 1};

static tg_tensor *copy_to_new(tg_tensor *x, bool readable) {
    int dev = x->storage->device.index;
    tg_tensor *y = readable ? tg__vk_alloc_readable(dev, x->dtype, x->ndim, x->shape)
                            : tg__vk_alloc(dev, x->dtype, x->ndim, x->shape);
    if (!y) return NULL;
    tg_meta m;
    tg__metas_of(1, &x, &m);
    tg_op_call c = {&vk_internal_copy, NULL, 1, &m, NULL};
    if (tg__vk_convert_into(&c, y, x)) { tg_release(y); return NULL; }
    return y;
}

tg_tensor *tg__vk_contiguous(tg_tensor *x) { return copy_to_new(x, false); }
tg_tensor *tg__vk_readable_copy(tg_tensor *x) { return copy_to_new(x, true); }

static const tg_op_def vk_internal_copy_ = {.name = "copy_", .n_in = 1, .n_out = 1};

tg_status tg__vk_copy_into(tg_tensor *dst, tg_tensor *src) {
    tg_tensor *s = tg_shares_memory(dst, src) ? tg__vk_contiguous(src) : tg_retain(src);
    if (!s) return tg_last_error_code();
    tg_meta m;
    tg__metas_of(1, &s, &m);
    tg_op_call c = {&vk_internal_copy_, NULL, 1, &m, NULL};
    tg_status st = tg__vk_convert_into(&c, dst, s);
    tg_release(s);
    return st;
}

/* ---- elementwise ------------------------------------------------------------- */

tg_status tg__vk_binary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    static const char *const arith[] = {"add", "sub", "mul", "div", "maximum", "minimum", "remainder"};
    static const char *const cmp[] = {"eq", "ne", "lt", "le", "gt", "ge"};
    int op = tg__vk_index_of(c->def->name, arith, 7);
    int cop = op < 0 ? tg__vk_index_of(c->def->name, cmp, 6) : -1;
    if (op < 0 && cop < 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    tg_vkdev *d = tg__vk_dev_of(out[0]);
    if (!d) return tg_last_error_code();
    tg_dtype cd = op >= 0 ? out[0]->dtype : tg__promote_meta(&c->in[0], &c->in[1]);
    /* i32/i64: gpu/shaders/ibinary.comp, all but division (which is never
     * integer here: div promotes to f64) */
    bool ints = is_int(cd) && op != 3;
    /* c64/c128 add, sub, mul, div: gpu/shaders/cbinary.comp */
    bool cplx = complex_ok(d, cd) && op >= 0 && op <= 3;
    if ((!ints && !cplx && !tg__vk_float_ok(d, cd)) || (op == 6 && tg_dtype_is_complex(cd)))
        return tg__vk_unsupported(c, in[0], "dtype %s", tg_dtype_name(cd));
    if (cop >= 0 && !d->int8) return tg__vk_unsupported(c, in[0], "%s (the device has no 8-bit storage)", "bool results");
    tg_tensor *x[2] = {tg__vk_cast_to(c, in[0], cd), NULL};
    if (x[0]) x[1] = tg__vk_cast_to(c, in[1], cd);
    tg_status st = x[0] && x[1] ? TG_OK : tg_last_error_code();
    int32_t p[64];
    VkBuffer bufs[3];
    if (!st && !tg__vk_elem_params(p, out[0], 2, x, bufs)) st = tg__vk_unsupported(c, in[0], "%s (offsets beyond 32 bits)", "this layout");
    if (!st && p[0] > 0) {
        char pipe[32];
        if (ints) snprintf(pipe, sizeof pipe, "%s_%s", op >= 0 ? "ibinary" : "icompare", cd == TG_I64 ? "i64" : "i32");
        else if (cplx) snprintf(pipe, sizeof pipe, "cbinary_%s", cd == TG_C128 ? "c128" : "c64");
        else snprintf(pipe, sizeof pipe, "%s_%s", op >= 0 ? "binary" : "compare", tg__vk_sfx(cd));
        p[2] = op >= 0 ? op : cop;
        st = tg__vk_record(d, pipe, p, 3, bufs, tg__vk_elem_groups(p), 1, 1);
    }
    tg_release(x[0]);
    tg_release(x[1]);
    return st;
}

/* out = pipe's op number op applied to x (one input, elementwise layout). */
static tg_status record_unary(const tg_op_call *c, tg_vkdev *d, const char *pipe, int op, tg_tensor *x,
                              tg_tensor *out) {
    int32_t p[64];
    VkBuffer bufs[3];
    if (!tg__vk_elem_params(p, out, 1, &x, bufs)) return tg__vk_unsupported(c, x, "%s (offsets beyond 32 bits)", "this layout");
    if (p[0] == 0) return TG_OK;
    p[2] = op;
    return tg__vk_record(d, pipe, p, 2, bufs, tg__vk_elem_groups(p), 1, 1);
}

/* neg, abs, relu, square, sign of i32/i64 (gpu/shaders/iunary.comp); op is
 * the unary op code of tg__vk_unary_kernel. */
static tg_status tg__vk_int_unary(const tg_op_call *c, tg_vkdev *d, int op, tg_tensor *x, tg_tensor *out) {
    if (op != 0 && op != 1 && op != 5 && op != 8 && op != 9)
        return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(x->dtype));
    return record_unary(c, d, x->dtype == TG_I64 ? "iunary_i64" : "iunary_i32", op, x, out);
}

/* The unary ops the CPU defines on c64/c128 (gpu/shaders/cbinary.comp with
 * UNARY: op codes 0-25 in this order), and abs and angle to the real dtype
 * (UNARY, TO_REAL: 0, 1). */
static tg_status tg__vk_complex_unary(const tg_op_call *c, tg_vkdev *d, tg_tensor *x, tg_tensor *out) {
    static const char *const to_real[] = {"abs", "angle"};
    static const char *const names[] = {"", "neg", "conj", "exp", "log", "sqrt", "square", "reciprocal",
                                        "log2", "log10", "rsqrt", "sin", "cos", "tan", "asin", "acos",
                                        "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
                                        "expm1", "log1p", "sigmoid", "sign"};
    int r = tg__vk_index_of(c->def->name, to_real, 2);
    int k = tg__vk_index_of(c->def->name, names, (int)(sizeof names / sizeof *names));
    bool c128 = x->dtype == TG_C128;
    if (r >= 0 && complex_ok(d, x->dtype) && out->dtype == tg_real_dtype(x->dtype))
        return record_unary(c, d, c128 ? "cabs_c128" : "cabs_c64", r, x, out);
    if (k <= 0 || !complex_ok(d, x->dtype) || out->dtype != x->dtype)
        return tg__vk_unsupported(c, x, "dtype %s", tg_dtype_name(x->dtype));
    char pipe[32];              /* the op specialised in, as unary.comp's */
    snprintf(pipe, sizeof pipe, "%s#%d", c128 ? "cunary_c128" : "cunary_c64", k - 1);
    return record_unary(c, d, pipe, k - 1, x, out);
}

tg_status tg__vk_unary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    /* op code = index: gpu/shaders/unary.comp's switch; append only */
    static const char *const names[] = {"neg",   "abs",   "exp",   "log",   "sqrt",  "relu",  "sigmoid", "tanh",
                                        "square", "sign", "reciprocal", "expm1", "log1p", "log2", "log10",
                                        "rsqrt", "floor", "ceil", "round", "trunc", "silu", "softplus",
                                        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                                        "asinh", "acosh", "atanh", "erf", "erfc", "gelu"};
    tg_vkdev *d = tg__vk_dev_of(out[0]);
    if (!d) return tg_last_error_code();
    tg_dtype t = in[0]->dtype, od = out[0]->dtype;
    if (tg_dtype_is_complex(t)) return tg__vk_complex_unary(c, d, in[0], out[0]);
    int op = tg__vk_index_of(c->def->name, names, (int)(sizeof names / sizeof *names));
    if (op < 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    if (t == od && is_int(t)) return tg__vk_int_unary(c, d, op, in[0], out[0]);
    /* float functions of bool/int inputs are computed in the output's float dtype */
    if (!tg__vk_float_ok(d, od) || !(t == od || is_int(t) || t == TG_BOOL))
        return tg__vk_unsupported(c, in[0], "dtype %s", tg_dtype_name(t));
    tg_tensor *x = tg__vk_cast_to(c, in[0], od);
    if (!x) return tg_last_error_code();
    char pipe[32];
    snprintf(pipe, sizeof pipe, "unary_%s#%d", tg__vk_sfx(od), op);   /* the op specialised in (unary.comp) */
    tg_status st = record_unary(c, d, pipe, op, x, out[0]);
    tg_release(x);
    return st;
}

/* isnan, isinf, isfinite, logical_not: float, complex or bool input, bool output. */
tg_status tg__vk_pred_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    static const char *const names[] = {"isnan", "isinf", "isfinite", "logical_not"};
    int op = tg__vk_index_of(c->def->name, names, 4);
    if (op < 0) return tg__vk_unsupported(c, in[0], "%s", "this op");
    tg_vkdev *d = tg__vk_dev_of(out[0]);
    if (!d) return tg_last_error_code();
    tg_dtype t = in[0]->dtype;
    if (!d->int8) return tg__vk_unsupported(c, in[0], "%s (the device has no 8-bit storage)", "bool results");
    if (complex_ok(d, t)) return complex_pred(c, d, op, in[0], out[0]);
    if (!tg__vk_float_ok(d, t) && t != TG_BOOL) return tg__vk_unsupported(c, in[0], "dtype %s", tg_dtype_name(t));
    return record_unary(c, d, t == TG_BOOL ? "pred_u8" : t == TG_F64 ? "pred_f64" : "pred_f32", op, in[0], out[0]);
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
