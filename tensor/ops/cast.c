/* dtype conversion and copies: cast, contiguous, copy, in-place copy_/fill_
 * and the in-place arithmetic used by optimisers. */
#include "tensor/ops/elementwise.h"
#include "tensor/copy_tiled.h"
#include "gpu/gpu.h"

#include <string.h>

/* ---- f16 / bf16 storage conversions (round to nearest even) ------------ */
static inline float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else {                                  /* subnormal: normalise */
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400));
            bits = sign | (uint32_t)(112 - e) << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | man << 13;
    else bits = sign | (exp + 112) << 23 | man << 13;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
static inline uint16_t f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);     /* overflow to inf */
    if (ax < 0x38800000u) {                                      /* subnormal or zero */
        if (ax < 0x33000000u) return (uint16_t)sign;
        uint32_t man = (ax & 0x7fffff) | 0x800000;
        int shift = 126 - (int)(ax >> 23);          /* f16 subnormal unit is 2^-24 */
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t r = ax - 0x38000000u;                               /* rebias exponent */
    uint32_t half = r >> 13, rem = r & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}
static inline float bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
static inline uint16_t f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);   /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

/* Float to int as x86 does it (NumPy's behaviour): NaN and out of range give
 * the minimum; written without C's undefined overflowing conversion. */
static inline int32_t f2i32(double v) {
    return (v != v || v >= 2147483648.0 || v < -2147483648.0) ? INT32_MIN : (int32_t)v;
}
static inline int64_t f2i64(double v) {
    return (v != v || v >= 9223372036854775808.0 || v < -9223372036854775808.0) ? INT64_MIN : (int64_t)v;
}

#define RE(x) _Generic((x), tg_c64_t: crealf(x), tg_c128_t: creal(x), default: (x))
#define TO_b(x) ((tg_bool_t)((x) != 0))
#define TO_i32(x) _Generic((x), float: f2i32(x), double: f2i32(x), tg_c64_t: f2i32(crealf(x)), \
                           tg_c128_t: f2i32(creal(x)), default: (int32_t)(x))
#define TO_i64(x) _Generic((x), float: f2i64(x), double: f2i64(x), tg_c64_t: f2i64(crealf(x)), \
                           tg_c128_t: f2i64(creal(x)), default: (int64_t)(x))
#define TO_f32(x) ((float)RE(x))
#define TO_f64(x) ((double)RE(x))
#define TO_c64(x) ((tg_c64_t)(x))
#define TO_c128(x) ((tg_c128_t)(x))
#define TO_f16(x) f32_to_f16(TO_f32(x))
#define TO_bf16(x) f32_to_bf16(TO_f32(x))

#define LD_b(v) (v)
#define LD_i32(v) (v)
#define LD_i64(v) (v)
#define LD_f32(v) (v)
#define LD_f64(v) (v)
#define LD_c64(v) (v)
#define LD_c128(v) (v)
#define LD_f16(v) f16_to_f32(v)
#define LD_bf16(v) bf16_to_f32(v)

typedef uint8_t tg_b_t;
typedef uint16_t tg_f16_t;
typedef uint16_t tg_bf16_t;
typedef int32_t tg_i32_t;
typedef int64_t tg_i64_t;
typedef float tg_f32_t;
typedef double tg_f64_t;

#define CAST_LOOP(S, D) TG_UNARY_LOOP(cast_##S##_##D, tg_##S##_t, tg_##D##_t, TO_##D(LD_##S(x)))
#define CAST_ROW(S) CAST_LOOP(S, b) CAST_LOOP(S, i32) CAST_LOOP(S, i64) CAST_LOOP(S, f32) \
    CAST_LOOP(S, f64) CAST_LOOP(S, c64) CAST_LOOP(S, c128) CAST_LOOP(S, f16) CAST_LOOP(S, bf16)
CAST_ROW(b) CAST_ROW(i32) CAST_ROW(i64) CAST_ROW(f32) CAST_ROW(f64)
CAST_ROW(c64) CAST_ROW(c128) CAST_ROW(f16) CAST_ROW(bf16)

#define TROW(S) {cast_##S##_b, cast_##S##_i32, cast_##S##_i64, cast_##S##_f32, cast_##S##_f64, \
                 cast_##S##_c64, cast_##S##_c128, cast_##S##_f16, cast_##S##_bf16}
static const tg_loop_fn cast_table[TG_NUM_DTYPES][TG_NUM_DTYPES] = {
    TROW(b), TROW(i32), TROW(i64), TROW(f32), TROW(f64), TROW(c64), TROW(c128), TROW(f16), TROW(bf16)};

/* Same-dtype copies by element size. */
#define COPY_LOOP(name, T) TG_UNARY_LOOP(name, T, T, x)
COPY_LOOP(copy_1, uint8_t)
COPY_LOOP(copy_2, uint16_t)
COPY_LOOP(copy_4, uint32_t)
COPY_LOOP(copy_8, uint64_t)
COPY_LOOP(copy_16, tg_c128_t)

static tg_loop_fn copy_loop(tg_dtype src, tg_dtype dst) {
    if (src != dst) return cast_table[src][dst];
    switch (tg_dtype_size(src)) {
    case 1: return copy_1;
    case 2: return copy_2;
    case 4: return copy_4;
    case 8: return copy_8;
    default: return copy_16;
    }
}

/* dst (any strides) = src broadcast and converted; no checks. */
void tg__copy_into(tg_tensor *dst, tg_tensor *src) {
    if (tg__copy_tiled(dst, src)) return;
    tg_iter_apply(copy_loop(src->dtype, dst->dtype), NULL, dst, 1, &src);
}

tg_tensor *tg__cast_raw(tg_tensor *x, tg_dtype dtype) {
    if (x->dtype == dtype) return tg_retain(x);
    tg_tensor *y = tg__alloc(dtype, x->ndim, x->shape);
    if (y) tg__copy_into(y, x);
    return y;
}

/* ---- cast / copy / contiguous as registered ops ------------------------- */
static tg_status cast_infer(const tg_op_call *c, tg_meta *out) {
    int64_t d = c->attrs->i[0];
    if (d < 0 || d >= TG_NUM_DTYPES) return tg__op_error(c, TG_ERR_DTYPE, "invalid target dtype %lld", (long long)d);
    out->dtype = (tg_dtype)d;
    tg__meta_copy_shape(out, &c->in[0]);
    return TG_OK;
}
static tg_status cast_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    tg__copy_into(out[0], in[0]);
    return TG_OK;
}
/* cast is linear: the cotangent goes back to the input dtype (a complex to
 * real cast passes the real part forward, so its VJP is the real cotangent
 * embedded as complex, and the reverse takes the real part). */
static tg_status cast_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    (void)c; (void)out;
    tg_tensor *x = g[0];
    if (tg_dtype_is_complex(x->dtype) && !tg_dtype_is_complex(in[0]->dtype)) x = tg_real(x);
    ic[0] = tg_cast(x, in[0]->dtype);
    return TG_RULE_RESULT(ic[0]);
}
static tg_status cast_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    (void)c; (void)in;
    ot[0] = tg_cast(t[0], out[0]->dtype);
    return TG_RULE_RESULT(ot[0]);
}
/* The fusion executor's raw loop: the conversion tg__copy_into runs on a
 * contiguous array (tg__copy_tiled only takes permuted layouts). */
static bool cast_cpu_loop(const tg_op_call *c, tg_loop_fn *fn, tg_dtype *in_dtype) {
    tg_loop_fn f = copy_loop(c->in[0].dtype, (tg_dtype)c->attrs->i[0]);
    if (!f) return false;
    *fn = f;
    in_dtype[0] = c->in[0].dtype;
    return true;
}
const tg_op_def tg_op_cast = {.name = "cast", .n_in = 1, .n_out = 1, .flags = TG_OP_ELEMENTWISE, .infer = cast_infer,
                              .kernel = {[TG_CPU] = cast_kernel, [TG_VULKAN] = tg__vk_cast_kernel}, .vjp = cast_vjp, .jvp = cast_jvp,
                              .cpu_loop = cast_cpu_loop};

tg_tensor *tg_cast(tg_tensor *x, tg_dtype dtype) {
    tg_attrs a = {.n_int = 1, .i = {dtype}};
    return tg__apply1(&tg_op_cast, 1, &x, &a);
}

tg_tensor *tg_copy(tg_tensor *x) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_copy: input is NULL"), NULL;
    return tg_cast(x, x->dtype);
}

tg_tensor *tg_contiguous(tg_tensor *x) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_contiguous: input is NULL"), NULL;
    if (tg__is_contiguous(x)) return tg__handout(tg_retain(x));
    return tg_copy(x);
}

/* ---- in place ------------------------------------------------------------- */
static tg_status check_inplace(const char *op, tg_tensor *dst) {
    if (!dst) return tg__error(TG_ERR_ARG, "%s: destination is NULL", op);
    if (dst->flags & TG_TFLAG_REQUIRES_GRAD) {
        extern bool tg_grad_enabled(void) __attribute__((weak));
        if (!tg_grad_enabled || tg_grad_enabled())
            return tg__error(TG_ERR_AUTOGRAD, "%s: cannot modify a leaf that requires grad outside no-grad mode", op);
    }
    /* A destination with overlapping elements (an expanded view) would be
     * written by several elements at once. */
    for (int i = 0; i < dst->ndim; i++)
        if (dst->strides[i] == 0 && dst->shape[i] > 1)
            return tg__error(TG_ERR_ARG, "%s: destination has broadcast (stride 0) axes", op);
    return TG_OK;
}

tg_status tg_copy_(tg_tensor *dst, tg_tensor *src) {
    if (check_inplace("tg_copy_", dst)) return tg_last_error_code();
    if (!src) return tg__error(TG_ERR_ARG, "tg_copy_: source is NULL");
    int n;
    int64_t shape[TG_MAX_DIMS];
    if (tg__broadcast_shapes("tg_copy_", dst->ndim, dst->shape, src->ndim, src->shape, &n, shape))
        return TG_ERR_SHAPE;
    if (n != dst->ndim || memcmp(shape, dst->shape, (size_t)n * sizeof *shape)) {
        char a[160], b[160];
        return tg__error(TG_ERR_SHAPE, "tg_copy_: source %s does not broadcast to destination %s",
                         tg__fmt_shape(a, sizeof a, src->ndim, src->shape),
                         tg__fmt_shape(b, sizeof b, dst->ndim, dst->shape));
    }
    if (src->storage->device.kind != dst->storage->device.kind ||
        src->storage->device.index != dst->storage->device.index)
        return tg__error(TG_ERR_DEVICE, "tg_copy_: source and destination are on different devices");
    if (dst->storage->device.kind != TG_CPU) {          /* a copy kernel on the device */
        tg_status st = tg__vk_copy_into(dst, src);
        if (!st) tg__bump_version(dst);
        return st;
    }
    /* Overlapping source and destination: go through a temporary. */
    tg_tensor *s = tg_retain(src);
    if (tg_shares_memory(dst, src)) {
        tg_release(s);
        s = tg__alloc(src->dtype, src->ndim, src->shape);
        if (s) tg__copy_into(s, src);
    }
    if (!s) return tg_last_error_code();
    tg__copy_into(dst, s);
    tg_release(s);
    tg__bump_version(dst);
    return TG_OK;
}

tg_status tg_fill_(tg_tensor *dst, double value) {
    if (check_inplace("tg_fill_", dst)) return tg_last_error_code();
    tg_tensor *v = tg__alloc(TG_F64, 0, NULL);
    if (!v) return TG_ERR_MEMORY;
    *(double *)tg__ptr(v) = value;
    if (dst->storage->device.kind != TG_CPU) {          /* the value uploaded, copied on the device */
        tg_tensor *h = tg__cast_raw(v, dst->dtype);
        tg_tensor *d = h ? tg__vk_transfer(h, dst->storage->device) : NULL;
        tg_status st = d ? tg__vk_copy_into(dst, d) : tg_last_error_code();
        tg_release(d);
        tg_release(h);
        tg_release(v);
        if (!st) tg__bump_version(dst);
        return st;
    }
    tg__copy_into(dst, v);
    tg_release(v);
    tg__bump_version(dst);
    return TG_OK;
}

/* bool < integer < floating < complex */
static int dtype_kind(tg_dtype d) {
    return d == TG_BOOL ? 0 : tg_dtype_is_integer(d) ? 1 : tg_dtype_is_complex(d) ? 3 : 2;
}

/* a op= b: computes out of place, then copies back (a keeps its dtype, as in
 * PyTorch; the result must be castable without changing kind). */
static tg_status inplace(const char *op, tg_tensor *a, tg_tensor *b, tg_tensor *(*fn)(tg_tensor *, tg_tensor *)) {
    if (check_inplace(op, a)) return tg_last_error_code();
    if (!b) return tg__error(TG_ERR_ARG, "%s: operand is NULL", op);
    tg_scope_begin();
    tg_tensor *r = fn(a, b);
    tg_status st = TG_OK;
    if (!r) st = tg_last_error_code();
    else if (dtype_kind(r->dtype) > dtype_kind(a->dtype))
        st = tg__error(TG_ERR_DTYPE, "%s: result dtype %s cannot be stored in %s", op,
                       tg_dtype_name(r->dtype), tg_dtype_name(a->dtype));
    else st = tg_copy_(a, r);
    tg_scope_end();
    return st;
}
tg_status tg_add_(tg_tensor *a, tg_tensor *b) { return inplace("tg_add_", a, b, tg_add); }
tg_status tg_sub_(tg_tensor *a, tg_tensor *b) { return inplace("tg_sub_", a, b, tg_sub); }
tg_status tg_mul_(tg_tensor *a, tg_tensor *b) { return inplace("tg_mul_", a, b, tg_mul); }
tg_status tg_div_(tg_tensor *a, tg_tensor *b) { return inplace("tg_div_", a, b, tg_div); }

TG_REGISTER_OPS(cast, &tg_op_cast)
