/* Elementwise binary ops with NumPy broadcasting and NEP 50 promotion,
 * comparisons, logical ops, where, complex(re, im), and scalar variants. */
#include "tensor/ops/elementwise.h"
#include "gpu/gpu.h"

#include <stdio.h>

enum brule {
    B_ARITH,      /* out = promoted dtype */
    B_TRUEDIV,    /* bool/int promoted to f64 */
    B_INTPOW,     /* bool promoted to i64 */
    B_COMPARE,    /* out bool, compute in promoted dtype */
    B_LOGICAL,    /* both cast to bool */
    B_COMPLEX,    /* real parts in, complex out */
};

typedef struct binary_impl {
    enum brule rule;
    tg_loop_fn loop[TG_NUM_DTYPES];   /* indexed by compute dtype */
} binary_impl;

static int kind(tg_dtype d) {
    return d == TG_BOOL ? 0 : tg_dtype_is_integer(d) ? 1 : tg_dtype_is_complex(d) ? 3 : 2;
}

tg_dtype tg__promote_meta(const tg_meta *a, const tg_meta *b) {
    if (a->weak == b->weak) return tg_promote_types(a->dtype, b->dtype);
    const tg_meta *s = a->weak ? b : a, *w = a->weak ? a : b;   /* strong, weak */
    int ks = kind(s->dtype), kw = kind(w->dtype);
    if (kw <= ks) return s->dtype;
    if (kw == 3) return tg_complex_dtype(s->dtype);
    if (kw == 2) return TG_F64;                 /* int/bool tensor with a float scalar */
    return TG_I64;                              /* bool tensor with an int scalar */
}

static tg_dtype compute_dtype(const binary_impl *b, tg_dtype p) {
    switch (b->rule) {
    case B_TRUEDIV: return kind(p) <= 1 ? TG_F64 : p;
    case B_INTPOW: return p == TG_BOOL ? TG_I64 : p;
    case B_LOGICAL: return TG_BOOL;
    case B_COMPLEX: return kind(p) <= 1 ? TG_F64 : p;
    default: return p;
    }
}

static tg_status binary_infer(const tg_op_call *c, tg_meta *out) {
    const binary_impl *b = c->def->impl;
    const tg_meta *x = &c->in[0], *y = &c->in[1];
    for (int i = 0; i < 2; i++)
        if (c->in[i].dtype == TG_F16 || c->in[i].dtype == TG_BF16)
            return tg__op_error(c, TG_ERR_DTYPE, "%s is a storage type; cast to f32 first",
                                tg_dtype_name(c->in[i].dtype));
    tg_dtype cd = compute_dtype(b, tg__promote_meta(x, y));
    if (!b->loop[cd])
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s", tg_dtype_name(cd));
    if (b->rule == B_COMPLEX && kind(cd) == 3)
        return tg__op_error(c, TG_ERR_DTYPE, "real and imaginary parts must be real");
    if (tg__broadcast_shapes(NULL, x->ndim, x->shape, y->ndim, y->shape, &out->ndim, out->shape))
        return tg__op_error(c, TG_ERR_SHAPE, "shapes cannot be broadcast");
    out->dtype = b->rule == B_COMPARE || b->rule == B_LOGICAL ? TG_BOOL
               : b->rule == B_COMPLEX ? tg_complex_dtype(cd) : cd;
    return TG_OK;
}

static tg_status binary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    const binary_impl *b = c->def->impl;
    tg_dtype cd = compute_dtype(b, tg__promote_meta(&c->in[0], &c->in[1]));
    tg_tensor *x[2];
    if (!tg__cast_inputs(2, in, cd, x)) return tg_last_error_code();
    tg_iter_apply(b->loop[cd], NULL, out[0], 2, x);
    tg__release_casts(2, in, x);
    return TG_OK;
}

static bool binary_cpu_loop(const tg_op_call *c, tg_loop_fn *fn, tg_dtype *in_dtype) {
    const binary_impl *b = c->def->impl;
    tg_dtype cd = compute_dtype(b, tg__promote_meta(&c->in[0], &c->in[1]));
    if (!b->loop[cd]) return false;
    *fn = b->loop[cd];
    in_dtype[0] = in_dtype[1] = cd;
    return true;
}

/* ---- derivative rules (AD-REFERENCE.md sections 1 and 3) ----------------- */
/* Cotangents of broadcast operands are summed back to their shapes. */
#define SUM_TO(g, x) tg__sum_to((g), (x)->ndim, (x)->shape)

static tg_status add_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)out;
    if (TG_NEEDS(c, 0)) ic[0] = SUM_TO(g[0], in[0]);
    if (TG_NEEDS(c, 1)) ic[1] = SUM_TO(g[0], in[1]);
    return TG_RULE_RESULT((!TG_NEEDS(c, 0) || ic[0]) && (!TG_NEEDS(c, 1) || ic[1]));
}
static tg_status add_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)c; (void)in; (void)out;
    ot[0] = t[0] && t[1] ? tg_add(t[0], t[1]) : t[0] ? t[0] : t[1];
    return TG_RULE_RESULT(ot[0]);
}
static tg_status sub_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)out;
    if (TG_NEEDS(c, 0)) ic[0] = SUM_TO(g[0], in[0]);
    if (TG_NEEDS(c, 1)) ic[1] = SUM_TO(tg_neg(g[0]), in[1]);
    return TG_RULE_RESULT((!TG_NEEDS(c, 0) || ic[0]) && (!TG_NEEDS(c, 1) || ic[1]));
}
static tg_status sub_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)c; (void)in; (void)out;
    ot[0] = t[0] && t[1] ? tg_sub(t[0], t[1]) : t[0] ? t[0] : tg_neg(t[1]);
    return TG_RULE_RESULT(ot[0]);
}
static tg_status mul_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)out;
    if (TG_NEEDS(c, 0)) ic[0] = SUM_TO(tg_mul(g[0], tg_conj(in[1])), in[0]);
    if (TG_NEEDS(c, 1)) ic[1] = SUM_TO(tg_mul(g[0], tg_conj(in[0])), in[1]);
    return TG_RULE_RESULT((!TG_NEEDS(c, 0) || ic[0]) && (!TG_NEEDS(c, 1) || ic[1]));
}
/* JVP of a bilinear op: t0 * b + a * t1 with absent tangents left out. */
static tg_tensor *bilinear(tg_tensor *(*f)(tg_tensor *, tg_tensor *), tg_tensor *const *in, tg_tensor *const *t) {
    tg_tensor *p = t[0] ? f(t[0], in[1]) : NULL, *q = t[1] ? f(in[0], t[1]) : NULL;
    return p && q ? tg_add(p, q) : p ? p : q;
}
static tg_status mul_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)c; (void)out;
    ot[0] = bilinear(tg_mul, in, t);
    return TG_RULE_RESULT(ot[0]);
}
static tg_status div_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {
    (void)c;
    tg_tensor *ga = tg_div(g[0], tg_conj(in[1]));          /* g / conj(b) */
    ic[0] = SUM_TO(ga, in[0]);
    ic[1] = SUM_TO(tg_neg(tg_mul(ga, tg_conj(out[0]))), in[1]);   /* -g conj(y / b) */
    return TG_RULE_RESULT(ic[0] && ic[1]);
}
static tg_status div_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)c;
    tg_tensor *p = t[0] ? tg_div(t[0], in[1]) : NULL;
    tg_tensor *q = t[1] ? tg_neg(tg_div(tg_mul(t[1], out[0]), in[1])) : NULL;
    ot[0] = p && q ? tg_add(p, q) : p ? p : q;
    return TG_RULE_RESULT(ot[0]);
}
/* pow: d/da = b a^(b-1) (0 where b == 0), d/db = y log(a) (0 where a == 0
 * and b >= 0; for complex b: b real and >= 0), PyTorch's conventions at
 * those points. log(a) is taken in the result's dtype, so a real base of a
 * complex power gets the complex log. */
static tg_tensor *pow_da(tg_tensor *a, tg_tensor *b) {
    tg_tensor *d = tg_mul(b, tg_pow(a, tg_sub_scalar(b, 1.0)));
    return tg_where(tg_eq_scalar(b, 0.0), tg_zeros_like(d), d);
}
static tg_tensor *pow_db(tg_tensor *a, tg_tensor *b, tg_tensor *y) {
    tg_tensor *d = tg_mul(y, tg_log(tg_cast(a, y->dtype)));
    tg_tensor *b_nonneg = tg_dtype_is_complex(b->dtype)
        ? tg_logical_and(tg_eq_scalar(tg_imag(b), 0.0), tg_logical_not(tg_lt_scalar(tg_real(b), 0.0)))
        : tg_logical_not(tg_lt_scalar(b, 0.0));
    return tg_where(tg_logical_and(tg_eq_scalar(a, 0.0), b_nonneg), tg_zeros_like(d), d);
}
static tg_status pow_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                         tg_tensor **ic) {

    if (TG_NEEDS(c, 0)) ic[0] = SUM_TO(tg_mul(g[0], tg_conj(pow_da(in[0], in[1]))), in[0]);
    if (TG_NEEDS(c, 1)) ic[1] = SUM_TO(tg_mul(g[0], tg_conj(pow_db(in[0], in[1], out[0]))), in[1]);
    return TG_RULE_RESULT((!TG_NEEDS(c, 0) || ic[0]) && (!TG_NEEDS(c, 1) || ic[1]));
}
static tg_status pow_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                         tg_tensor **ot) {
    (void)c;
    tg_tensor *p = t[0] ? tg_mul(t[0], pow_da(in[0], in[1])) : NULL;
    tg_tensor *q = t[1] ? tg_mul(t[1], pow_db(in[0], in[1], out[0])) : NULL;
    ot[0] = p && q ? tg_add(p, q) : p ? p : q;
    return TG_RULE_RESULT(ot[0]);
}
/* maximum/minimum: the larger (smaller) operand takes the gradient, ties
 * split it 0.5/0.5 (AD-REFERENCE.md section 2). wa is a's weight. */
static tg_tensor *extreme_weight(tg_tensor *a, tg_tensor *b, bool is_max, tg_dtype d) {
    tg_tensor *win = is_max ? tg_gt(a, b) : tg_lt(a, b), *lose = is_max ? tg_lt(a, b) : tg_gt(a, b);
    /* a NaN operand (neither wins nor loses, nor ties) takes it fully, as PyTorch */
    tg_tensor *w = tg_where(tg_eq(a, b), tg_scalar(d, 0.5), tg_where(lose, tg_scalar(d, 0.0), tg_scalar(d, 1.0)));
    (void)win;
    return w;
}
static tg_status extreme_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *g, tg_tensor **ic,
                             bool is_max) {
    (void)c;
    tg_tensor *wa = extreme_weight(in[0], in[1], is_max, g[0]->dtype), *wb = extreme_weight(in[1], in[0], is_max, g[0]->dtype);
    ic[0] = SUM_TO(tg_mul(g[0], wa), in[0]);
    ic[1] = SUM_TO(tg_mul(g[0], wb), in[1]);
    return TG_RULE_RESULT(ic[0] && ic[1]);
}
static tg_status extreme_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                             tg_tensor **ot, bool is_max) {
    (void)c;
    tg_dtype d = out[0]->dtype;
    tg_tensor *p = t[0] ? tg_mul(t[0], extreme_weight(in[0], in[1], is_max, d)) : NULL;
    tg_tensor *q = t[1] ? tg_mul(t[1], extreme_weight(in[1], in[0], is_max, d)) : NULL;
    ot[0] = p && q ? tg_add(p, q) : p ? p : q;
    return TG_RULE_RESULT(ot[0]);
}
static tg_status maximum_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                             tg_tensor **ic) { (void)out; return extreme_vjp(c, in, g, ic, true); }
static tg_status minimum_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                             tg_tensor **ic) { (void)out; return extreme_vjp(c, in, g, ic, false); }
static tg_status maximum_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                             tg_tensor **ot) { return extreme_jvp(c, in, out, t, ot, true); }
static tg_status minimum_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                             tg_tensor **ot) { return extreme_jvp(c, in, out, t, ot, false); }
/* atan2(a, b): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2). */
static tg_status atan2_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                           tg_tensor **ic) {
    (void)out;
    tg_tensor *r = tg_div(g[0], tg_add(tg_square(in[0]), tg_square(in[1])));
    if (TG_NEEDS(c, 0)) ic[0] = SUM_TO(tg_mul(r, in[1]), in[0]);
    if (TG_NEEDS(c, 1)) ic[1] = SUM_TO(tg_neg(tg_mul(r, in[0])), in[1]);
    return TG_RULE_RESULT((!TG_NEEDS(c, 0) || ic[0]) && (!TG_NEEDS(c, 1) || ic[1]));
}
static tg_status atan2_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                           tg_tensor **ot) {
    (void)c; (void)out;
    tg_tensor *den = tg_add(tg_square(in[0]), tg_square(in[1]));
    tg_tensor *p = t[0] ? tg_mul(t[0], in[1]) : NULL, *q = t[1] ? tg_neg(tg_mul(t[1], in[0])) : NULL;
    ot[0] = tg_div(p && q ? tg_add(p, q) : p ? p : q, den);
    return TG_RULE_RESULT(ot[0]);
}
/* remainder: a - floor(a / b) b, so d/da = 1 and d/db = -floor(a / b). */
static tg_status remainder_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                               tg_tensor **ic) {
    (void)out;
    if (TG_NEEDS(c, 0)) ic[0] = SUM_TO(g[0], in[0]);
    if (TG_NEEDS(c, 1)) ic[1] = SUM_TO(tg_neg(tg_mul(g[0], tg_floor(tg_div(in[0], in[1])))), in[1]);
    return TG_RULE_RESULT((!TG_NEEDS(c, 0) || ic[0]) && (!TG_NEEDS(c, 1) || ic[1]));
}
static tg_status remainder_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                               tg_tensor **ot) {
    (void)c; (void)out;
    tg_tensor *q = t[1] ? tg_neg(tg_mul(t[1], tg_floor(tg_div(in[0], in[1])))) : NULL;
    ot[0] = t[0] && q ? tg_add(t[0], q) : t[0] ? t[0] : q;
    return TG_RULE_RESULT(ot[0]);
}
/* complex(re, im): a real loss's gradient splits into real and imaginary parts. */
static tg_status complex_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                             tg_tensor **ic) {
    (void)out;
    if (TG_NEEDS(c, 0)) ic[0] = SUM_TO(tg_real(g[0]), in[0]);
    if (TG_NEEDS(c, 1)) ic[1] = SUM_TO(tg_imag(g[0]), in[1]);
    return TG_RULE_RESULT((!TG_NEEDS(c, 0) || ic[0]) && (!TG_NEEDS(c, 1) || ic[1]));
}
static tg_status complex_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                             tg_tensor **ot) {
    (void)c; (void)out;
    ot[0] = tg_complex(t[0] ? t[0] : tg_zeros_like(in[0]), t[1] ? t[1] : tg_zeros_like(in[1]));
    return TG_RULE_RESULT(ot[0]);
}
/* where(c, a, b): the cotangent goes to the operand that was chosen. */
static tg_status where_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                           tg_tensor **ic) {
    (void)c; (void)out;
    tg_tensor *z = tg_zeros_like(g[0]);
    ic[1] = SUM_TO(tg_where(in[0], g[0], z), in[1]);
    ic[2] = SUM_TO(tg_where(in[0], z, g[0]), in[2]);
    return TG_RULE_RESULT(ic[1] && ic[2]);
}
static tg_status where_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                           tg_tensor **ot) {
    (void)c;
    ot[0] = tg_where(in[0], t[1] ? t[1] : tg_zeros_like(out[0]), t[2] ? t[2] : tg_zeros_like(out[0]));
    return TG_RULE_RESULT(ot[0]);
}

#define DEF_BINARY_RULES(op, extra_flags, vjp_, jvp_)                                     \
    const tg_op_def tg_op_##op = {.name = #op, .n_in = 2, .n_out = 1, .flags = (extra_flags) | TG_OP_ELEMENTWISE, \
                                  .infer = binary_infer,                                    \
                                  .kernel = {[TG_CPU] = binary_kernel, [TG_VULKAN] = tg__vk_binary_kernel}, \
                                  .vjp = vjp_, .jvp = jvp_, .impl = &op##_impl, .cpu_loop = binary_cpu_loop}; \
    tg_tensor *tg_##op(tg_tensor *a, tg_tensor *b) {                                      \
        tg_tensor *in[2] = {a, b};                                                        \
        return tg__apply1(&tg_op_##op, 2, in, NULL);                                      \
    }
#define DEF_BINARY(op, extra_flags) DEF_BINARY_RULES(op, extra_flags, op##_vjp, op##_jvp)
#define DEF_BINARY_NONDIFF(op) DEF_BINARY_RULES(op, TG_OP_NONDIFF, NULL, NULL)

#define LOOPS4(op, R32, R64, RC64, RC128, E)                                 \
    TG_BINARY_LOOP(op##_f32, float, R32, E)                                  \
    TG_BINARY_LOOP(op##_f64, double, R64, E)                                 \
    TG_BINARY_LOOP(op##_c64, tg_c64_t, RC64, E)                              \
    TG_BINARY_LOOP(op##_c128, tg_c128_t, RC128, E)
#define T_FLOAT(op) [TG_F32] = op##_f32, [TG_F64] = op##_f64
#define T_CPLX(op) [TG_C64] = op##_c64, [TG_C128] = op##_c128
#define T_INT(op) [TG_I32] = op##_i32, [TG_I64] = op##_i64
#define LOOPS_INT(op, E32, E64)                                              \
    TG_BINARY_LOOP(op##_i32, int32_t, int32_t, E32)                          \
    TG_BINARY_LOOP(op##_i64, int64_t, int64_t, E64)

/* Wrapping integer arithmetic without signed overflow. */
#define W32(e) ((int32_t)(e))
#define W64(e) ((int64_t)(e))

/* ---- arithmetic --------------------------------------------------------- */
LOOPS4(add, float, double, tg_c64_t, tg_c128_t, a + b)
LOOPS_INT(add, W32((uint32_t)a + (uint32_t)b), W64((uint64_t)a + (uint64_t)b))
TG_BINARY_LOOP(add_bool, tg_bool_t, tg_bool_t, a | b)
static const binary_impl add_impl = {B_ARITH, {T_FLOAT(add), T_CPLX(add), T_INT(add), [TG_BOOL] = add_bool}};
DEF_BINARY(add, TG_OP_RULES_IGNORE_OUTPUT)

LOOPS4(sub, float, double, tg_c64_t, tg_c128_t, a - b)
LOOPS_INT(sub, W32((uint32_t)a - (uint32_t)b), W64((uint64_t)a - (uint64_t)b))
static const binary_impl sub_impl = {B_ARITH, {T_FLOAT(sub), T_CPLX(sub), T_INT(sub)}};
DEF_BINARY(sub, TG_OP_RULES_IGNORE_OUTPUT)

LOOPS4(mul, float, double, tg_c64_t, tg_c128_t, a * b)
LOOPS_INT(mul, W32((uint32_t)a * (uint32_t)b), W64((uint64_t)a * (uint64_t)b))
TG_BINARY_LOOP(mul_bool, tg_bool_t, tg_bool_t, a & b)
static const binary_impl mul_impl = {B_ARITH, {T_FLOAT(mul), T_CPLX(mul), T_INT(mul), [TG_BOOL] = mul_bool}};
DEF_BINARY(mul, TG_OP_RULES_IGNORE_OUTPUT)

LOOPS4(div, float, double, tg_c64_t, tg_c128_t, a / b)
static const binary_impl div_impl = {B_TRUEDIV, {T_FLOAT(div), T_CPLX(div)}};
DEF_BINARY(div, 0)

/* Integer power by squaring; negative exponents give 0 except for |a| == 1. */
static inline int64_t ipow64(int64_t a, int64_t b) {
    if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    uint64_t r = 1, x = (uint64_t)a;
    while (b) { if (b & 1) r *= x; x *= x; b >>= 1; }
    return (int64_t)r;
}
TG_BINARY_LOOP(pow_f32, float, float, powf(a, b))
TG_BINARY_LOOP(pow_f64, double, double, pow(a, b))
TG_BINARY_LOOP(pow_c64, tg_c64_t, tg_c64_t, (b == 0 ? 1.0f : cpowf(a, b)))
TG_BINARY_LOOP(pow_c128, tg_c128_t, tg_c128_t, (b == 0 ? 1.0 : cpow(a, b)))
LOOPS_INT(pow, (int32_t)ipow64(a, b), ipow64(a, b))
static const binary_impl pow_impl = {B_INTPOW, {T_FLOAT(pow), T_CPLX(pow), T_INT(pow)}};
DEF_BINARY(pow, 0)

/* NaN-propagating max/min, as NumPy's maximum/minimum. */
#define MAXE(a, b) ((a) != (a) ? (a) : (b) != (b) ? (b) : (a) > (b) ? (a) : (b))
#define MINE(a, b) ((a) != (a) ? (a) : (b) != (b) ? (b) : (a) < (b) ? (a) : (b))
TG_BINARY_LOOP(maximum_f32, float, float, MAXE(a, b))
TG_BINARY_LOOP(maximum_f64, double, double, MAXE(a, b))
LOOPS_INT(maximum, a > b ? a : b, a > b ? a : b)
TG_BINARY_LOOP(maximum_bool, tg_bool_t, tg_bool_t, a | b)
static const binary_impl maximum_impl = {B_ARITH, {T_FLOAT(maximum), T_INT(maximum), [TG_BOOL] = maximum_bool}};
DEF_BINARY(maximum, 0)
TG_BINARY_LOOP(minimum_f32, float, float, MINE(a, b))
TG_BINARY_LOOP(minimum_f64, double, double, MINE(a, b))
LOOPS_INT(minimum, a < b ? a : b, a < b ? a : b)
TG_BINARY_LOOP(minimum_bool, tg_bool_t, tg_bool_t, a & b)
static const binary_impl minimum_impl = {B_ARITH, {T_FLOAT(minimum), T_INT(minimum), [TG_BOOL] = minimum_bool}};
DEF_BINARY(minimum, 0)

TG_BINARY_LOOP(atan2_f32, float, float, atan2f(a, b))
TG_BINARY_LOOP(atan2_f64, double, double, atan2(a, b))
static const binary_impl atan2_impl = {B_TRUEDIV, {T_FLOAT(atan2)}};
DEF_BINARY(atan2, 0)

/* Python's %: the result takes the divisor's sign; x % 0 is NaN (floats) or 0. */
static inline float fremf(float a, float b) {
    float r = fmodf(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
static inline double fremd(double a, double b) {
    double r = fmod(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
static inline int64_t iremd(int64_t a, int64_t b) {
    if (b == 0) return 0;
    if (b == -1) return 0;                       /* avoids INT64_MIN % -1 */
    int64_t r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
TG_BINARY_LOOP(remainder_f32, float, float, fremf(a, b))
TG_BINARY_LOOP(remainder_f64, double, double, fremd(a, b))
LOOPS_INT(remainder, (int32_t)iremd(a, b), iremd(a, b))
static const binary_impl remainder_impl = {B_INTPOW, {T_FLOAT(remainder), T_INT(remainder)}};
DEF_BINARY(remainder, 0)

/* ---- comparisons --------------------------------------------------------- */
#define CMP_OP(op, E, with_complex)                                              \
    LOOPS4(op, tg_bool_t, tg_bool_t, tg_bool_t, tg_bool_t, E)                   \
    TG_BINARY_LOOP(op##_i32, int32_t, tg_bool_t, E)                              \
    TG_BINARY_LOOP(op##_i64, int64_t, tg_bool_t, E)                              \
    TG_BINARY_LOOP(op##_bool, tg_bool_t, tg_bool_t, E)
#define CMP_TABLE_REAL(op) T_FLOAT(op), T_INT(op), [TG_BOOL] = op##_bool
CMP_OP(eq, a == b, 1)
CMP_OP(ne, a != b, 1)
static const binary_impl eq_impl = {B_COMPARE, {CMP_TABLE_REAL(eq), T_CPLX(eq)}};
static const binary_impl ne_impl = {B_COMPARE, {CMP_TABLE_REAL(ne), T_CPLX(ne)}};
DEF_BINARY_NONDIFF(eq)
DEF_BINARY_NONDIFF(ne)
#define CMP_REAL(op, E)                                                          \
    TG_BINARY_LOOP(op##_f32, float, tg_bool_t, E)                                \
    TG_BINARY_LOOP(op##_f64, double, tg_bool_t, E)                               \
    TG_BINARY_LOOP(op##_i32, int32_t, tg_bool_t, E)                              \
    TG_BINARY_LOOP(op##_i64, int64_t, tg_bool_t, E)                              \
    TG_BINARY_LOOP(op##_bool, tg_bool_t, tg_bool_t, E)                           \
    static const binary_impl op##_impl = {B_COMPARE, {CMP_TABLE_REAL(op)}};      \
    DEF_BINARY_NONDIFF(op)
CMP_REAL(lt, a < b)
CMP_REAL(le, a <= b)
CMP_REAL(gt, a > b)
CMP_REAL(ge, a >= b)

TG_BINARY_LOOP(logical_and_bool, tg_bool_t, tg_bool_t, a & b)
TG_BINARY_LOOP(logical_or_bool, tg_bool_t, tg_bool_t, a | b)
TG_BINARY_LOOP(logical_xor_bool, tg_bool_t, tg_bool_t, a ^ b)
static const binary_impl logical_and_impl = {B_LOGICAL, {[TG_BOOL] = logical_and_bool}};
static const binary_impl logical_or_impl = {B_LOGICAL, {[TG_BOOL] = logical_or_bool}};
static const binary_impl logical_xor_impl = {B_LOGICAL, {[TG_BOOL] = logical_xor_bool}};
DEF_BINARY_NONDIFF(logical_and)
DEF_BINARY_NONDIFF(logical_or)
DEF_BINARY_NONDIFF(logical_xor)

TG_BINARY_LOOP(complex_f32, float, tg_c64_t, a + b * I)
TG_BINARY_LOOP(complex_f64, double, tg_c128_t, a + b * I)
static const binary_impl complex_impl = {B_COMPLEX, {T_FLOAT(complex)}};
DEF_BINARY_RULES(complex, 0, complex_vjp, complex_jvp)   /* complex is a macro: no DEF_BINARY */

/* ---- where(cond, a, b) --------------------------------------------------- */
/* Contiguous runs, a or b possibly a broadcast scalar (relu's rules: where(x
 * > 0, g, 0)), take branch-free loops the compiler vectorises into blends;
 * the strided loop's branch mispredicts on random conditions. */
#define WHERE_RUN(A, B)                                                               \
    for (int64_t i = 0; i < n; i++) o[i] = c[i] ? (A) : (B);
#define WHERE_LOOP(name, T)                                                           \
    TG_SIMD_CLONES static void name(int64_t n, char *const *p, const int64_t *s, const void *ctx) { \
        (void)ctx;                                                                    \
        const int64_t es = (int64_t)sizeof(T);                                        \
        if (n <= 0) return;     /* a0 and b0 below read an element */                 \
        if (s[0] == es && s[1] == (int64_t)sizeof(tg_bool_t) && (s[2] == es || s[2] == 0) && \
            (s[3] == es || s[3] == 0)) {                                              \
            T *o = (T *)p[0];                                                         \
            const tg_bool_t *c = (const tg_bool_t *)p[1];                             \
            const T *a = (const T *)p[2], *b = (const T *)p[3];                       \
            const T a0 = *a, b0 = *b;                                                 \
            if (s[2] && s[3]) WHERE_RUN(a[i], b[i])                                   \
            else if (s[2]) WHERE_RUN(a[i], b0)                                        \
            else if (s[3]) WHERE_RUN(a0, b[i])                                        \
            else WHERE_RUN(a0, b0)                                                    \
            return;                                                                   \
        }                                                                             \
        char *o = p[0];                                                               \
        const char *c = p[1], *a = p[2], *b = p[3];                                   \
        for (int64_t i = 0; i < n; i++, o += s[0], c += s[1], a += s[2], b += s[3])   \
            *(T *)o = *(const tg_bool_t *)c ? *(const T *)a : *(const T *)b;          \
    }
WHERE_LOOP(where_1, uint8_t)
WHERE_LOOP(where_4, uint32_t)
WHERE_LOOP(where_8, uint64_t)
WHERE_LOOP(where_16, tg_c128_t)

static tg_status where_infer(const tg_op_call *c, tg_meta *out) {
    int n1;
    int64_t s1[TG_MAX_DIMS];
    if (tg__broadcast_shapes("tg_where", c->in[0].ndim, c->in[0].shape, c->in[1].ndim, c->in[1].shape, &n1, s1) ||
        tg__broadcast_shapes("tg_where", n1, s1, c->in[2].ndim, c->in[2].shape, &out->ndim, out->shape))
        return TG_ERR_SHAPE;
    out->dtype = tg__promote_meta(&c->in[1], &c->in[2]);
    if (out->dtype == TG_F16 || out->dtype == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "f16/bf16 are storage types; cast to f32 first");
    return TG_OK;
}

/* where's loop for values of dtype d (by element size; NULL for 2-byte
 * storage types, which where_infer refuses). */
static tg_loop_fn where_loop(tg_dtype d) {
    switch (tg_dtype_size(d)) {
    case 1: return where_1;
    case 4: return where_4;
    case 8: return where_8;
    case 16: return where_16;
    default: return NULL;
    }
}

static tg_status where_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_dtype d = out[0]->dtype;
    tg_tensor *x[3] = {tg__cast_raw(in[0], TG_BOOL), tg__cast_raw(in[1], d), tg__cast_raw(in[2], d)};
    tg_status st = TG_OK;
    if (x[0] && x[1] && x[2]) {
        tg_iter_apply(where_loop(d), NULL, out[0], 3, x);
    } else {
        st = tg_last_error_code();
    }
    for (int i = 0; i < 3; i++) tg_release(x[i]);
    return st;
}

static bool where_cpu_loop(const tg_op_call *c, tg_loop_fn *fn, tg_dtype *in_dtype) {
    tg_dtype d = tg__promote_meta(&c->in[1], &c->in[2]);
    if (!(*fn = where_loop(d))) return false;
    in_dtype[0] = TG_BOOL;
    in_dtype[1] = in_dtype[2] = d;
    return true;
}

const tg_op_def tg_op_where = {.name = "where", .n_in = 3, .n_out = 1, .flags = TG_OP_ELEMENTWISE, .infer = where_infer,
                               .kernel = {[TG_CPU] = where_kernel, [TG_VULKAN] = TG_VK(tg__vk_where_kernel)}, .vjp = where_vjp, .jvp = where_jvp,
                               .cpu_loop = where_cpu_loop};
tg_tensor *tg_where(tg_tensor *cond, tg_tensor *a, tg_tensor *b) {
    tg_tensor *in[3] = {cond, a, b};
    return tg__apply1(&tg_op_where, 3, in, NULL);
}

/* ---- scalar variants (weak scalars) -------------------------------------- */
#define SCALAR_OP(name, call)                                   \
    tg_tensor *name {                                           \
        if (!x) return tg__error(TG_ERR_ARG, #name ": input is NULL"), NULL; \
        tg_tensor *k = tg__weak_scalar(s);                      \
        if (!k) return NULL;                                    \
        tg_tensor *r = call;                                    \
        tg_release(k);                                          \
        return r;                                               \
    }
SCALAR_OP(tg_add_scalar(tg_tensor *x, double s), tg_add(x, k))
SCALAR_OP(tg_sub_scalar(tg_tensor *x, double s), tg_sub(x, k))
SCALAR_OP(tg_rsub_scalar(double s, tg_tensor *x), tg_sub(k, x))
SCALAR_OP(tg_mul_scalar(tg_tensor *x, double s), tg_mul(x, k))
SCALAR_OP(tg_div_scalar(tg_tensor *x, double s), tg_div(x, k))
SCALAR_OP(tg_rdiv_scalar(double s, tg_tensor *x), tg_div(k, x))
SCALAR_OP(tg_pow_scalar(tg_tensor *x, double s), tg_pow(x, k))
SCALAR_OP(tg_maximum_scalar(tg_tensor *x, double s), tg_maximum(x, k))
SCALAR_OP(tg_minimum_scalar(tg_tensor *x, double s), tg_minimum(x, k))
SCALAR_OP(tg_eq_scalar(tg_tensor *x, double s), tg_eq(x, k))
SCALAR_OP(tg_lt_scalar(tg_tensor *x, double s), tg_lt(x, k))
SCALAR_OP(tg_gt_scalar(tg_tensor *x, double s), tg_gt(x, k))

tg_tensor *tg_clamp(tg_tensor *x, double lo, double hi) {
    if (!x) return tg__error(TG_ERR_ARG, "tg_clamp: input is NULL"), NULL;
    if (lo > hi) return tg__error(TG_ERR_ARG, "tg_clamp: lower bound %g exceeds upper bound %g", lo, hi), NULL;
    tg_scope_begin();
    tg_tensor *r = x;
    if (hi != INFINITY) r = tg_minimum_scalar(r, hi);
    if (lo != -INFINITY) r = tg_maximum_scalar(r, lo);
    if (r == x) r = tg_add_scalar(x, 0);   /* a new tensor either way */
    tg_keep(r);
    tg_scope_end();
    return r;
}

TG_REGISTER_OPS(binary, &tg_op_add, &tg_op_sub, &tg_op_mul, &tg_op_div, &tg_op_pow, &tg_op_maximum,
                &tg_op_minimum, &tg_op_atan2, &tg_op_remainder, &tg_op_eq, &tg_op_ne, &tg_op_lt,
                &tg_op_le, &tg_op_gt, &tg_op_ge, &tg_op_logical_and, &tg_op_logical_or,
                &tg_op_logical_xor, &tg_op_complex, &tg_op_where)
