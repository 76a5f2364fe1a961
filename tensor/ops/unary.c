/* Elementwise unary ops: one tg_op_def each, loops per dtype, one kernel.
 * Derivative rules are attached by the autodiff work (autodiff/rules_*.c). */
#include "tensor/ops/elementwise.h"
#include "gpu/gpu.h"
#include "tensor/ops/vecmath.h"

enum rule {
    RULE_SAME,     /* output dtype = input dtype */
    RULE_FLOAT,    /* bool/int input computed in f64 */
    RULE_TO_REAL,  /* complex input gives its real dtype (abs, angle) */
    RULE_TO_BOOL,  /* predicates */
};

typedef tg_tensor *(*deriv_fn)(tg_tensor *x, tg_tensor *y);

typedef struct unary_impl {
    enum rule rule;
    bool float_ints;            /* RULE_TO_REAL/TO_BOOL: compute ints in f64 */
    tg_loop_fn loop[TG_NUM_DTYPES];   /* indexed by the compute dtype */
    /* Holomorphic (or real) ops: f'(x) from x and y = f(x). The VJP is
     * g * conj(f'), the JVP t * f' (AD-REFERENCE.md section 1). */
    deriv_fn deriv;
    /* Other ops (abs, angle, sign of complex ...) give their own rules. */
    tg_vjp_fn vjp;
    tg_jvp_fn jvp;
} unary_impl;

/* ---- derivative rules (AD-REFERENCE.md section 1) ------------------------ */
/* Written with public ops, so they record on the tape under create_graph
 * and give higher derivatives. */
static tg_tensor *d_neg(tg_tensor *x, tg_tensor *y) { (void)y; return tg_full_like(x, -1.0); }
static tg_tensor *d_zero(tg_tensor *x, tg_tensor *y) { (void)y; return tg_zeros_like(x); }
#define d_floor d_zero
#define d_ceil d_zero
#define d_round d_zero
#define d_trunc d_zero
static tg_tensor *d_exp(tg_tensor *x, tg_tensor *y) { (void)x; return y; }
static tg_tensor *d_expm1(tg_tensor *x, tg_tensor *y) { (void)x; return tg_add_scalar(y, 1.0); }
static tg_tensor *d_log(tg_tensor *x, tg_tensor *y) { (void)y; return tg_reciprocal(x); }
static tg_tensor *d_log1p(tg_tensor *x, tg_tensor *y) { (void)y; return tg_reciprocal(tg_add_scalar(x, 1.0)); }
static tg_tensor *d_log2(tg_tensor *x, tg_tensor *y) { (void)y; return tg_reciprocal(tg_mul_scalar(x, M_LN2)); }
static tg_tensor *d_log10(tg_tensor *x, tg_tensor *y) { (void)y; return tg_reciprocal(tg_mul_scalar(x, M_LN10)); }
static tg_tensor *d_sqrt(tg_tensor *x, tg_tensor *y) { (void)x; return tg_rdiv_scalar(0.5, y); }
static tg_tensor *d_rsqrt(tg_tensor *x, tg_tensor *y) { return tg_mul_scalar(tg_div(y, x), -0.5); }
static tg_tensor *d_sin(tg_tensor *x, tg_tensor *y) { (void)y; return tg_cos(x); }
static tg_tensor *d_cos(tg_tensor *x, tg_tensor *y) { (void)y; return tg_neg(tg_sin(x)); }
static tg_tensor *d_tan(tg_tensor *x, tg_tensor *y) { (void)x; return tg_add_scalar(tg_square(y), 1.0); }
static tg_tensor *d_asin(tg_tensor *x, tg_tensor *y) { (void)y; return tg_rsqrt(tg_rsub_scalar(1.0, tg_square(x))); }
static tg_tensor *d_acos(tg_tensor *x, tg_tensor *y) { return tg_neg(d_asin(x, y)); }
static tg_tensor *d_atan(tg_tensor *x, tg_tensor *y) { (void)y; return tg_reciprocal(tg_add_scalar(tg_square(x), 1.0)); }
static tg_tensor *d_sinh(tg_tensor *x, tg_tensor *y) { (void)y; return tg_cosh(x); }
static tg_tensor *d_cosh(tg_tensor *x, tg_tensor *y) { (void)y; return tg_sinh(x); }
static tg_tensor *d_tanh(tg_tensor *x, tg_tensor *y) { (void)x; return tg_rsub_scalar(1.0, tg_square(y)); }
static tg_tensor *d_asinh(tg_tensor *x, tg_tensor *y) { (void)y; return tg_rsqrt(tg_add_scalar(tg_square(x), 1.0)); }
static tg_tensor *d_acosh(tg_tensor *x, tg_tensor *y) {
    (void)y;   /* 1 / (sqrt(x - 1) sqrt(x + 1)): right on the complex plane too */
    return tg_reciprocal(tg_mul(tg_sqrt(tg_sub_scalar(x, 1.0)), tg_sqrt(tg_add_scalar(x, 1.0))));
}
static tg_tensor *d_atanh(tg_tensor *x, tg_tensor *y) { (void)y; return tg_reciprocal(tg_rsub_scalar(1.0, tg_square(x))); }
static tg_tensor *d_sigmoid(tg_tensor *x, tg_tensor *y) { (void)x; return tg_mul(y, tg_rsub_scalar(1.0, y)); }
static tg_tensor *d_reciprocal(tg_tensor *x, tg_tensor *y) { (void)x; return tg_neg(tg_square(y)); }
static tg_tensor *d_square(tg_tensor *x, tg_tensor *y) { (void)y; return tg_mul_scalar(x, 2.0); }
static tg_tensor *d_erf(tg_tensor *x, tg_tensor *y) {
    (void)y;
    return tg_mul_scalar(tg_exp(tg_neg(tg_square(x))), M_2_SQRTPI);
}
static tg_tensor *d_erfc(tg_tensor *x, tg_tensor *y) { return tg_neg(d_erf(x, y)); }
static tg_tensor *d_gelu(tg_tensor *x, tg_tensor *y) {
    (void)y;   /* Phi(x) + x phi(x) */
    tg_tensor *cdf = tg_mul_scalar(tg_add_scalar(tg_erf(tg_mul_scalar(x, M_SQRT1_2)), 1.0), 0.5);
    tg_tensor *pdf = tg_mul_scalar(tg_exp(tg_mul_scalar(tg_square(x), -0.5)), 0.5 * M_2_SQRTPI * M_SQRT1_2);
    return tg_add(cdf, tg_mul(x, pdf));
}
static tg_tensor *d_silu(tg_tensor *x, tg_tensor *y) {
    (void)y;   /* s (1 + x (1 - s)) */
    tg_tensor *s = tg_sigmoid(x);
    return tg_mul(s, tg_add_scalar(tg_mul(x, tg_rsub_scalar(1.0, s)), 1.0));
}
static tg_tensor *d_softplus(tg_tensor *x, tg_tensor *y) { (void)y; return tg_sigmoid(x); }

static tg_status unary_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                           tg_tensor *const *g, tg_tensor **in_cot) {
    const unary_impl *u = c->def->impl;
    if (u->vjp) return u->vjp(c, in, out, g, in_cot);
    in_cot[0] = tg_mul(g[0], tg_conj(u->deriv(in[0], out[0])));
    return in_cot[0] ? TG_OK : tg_last_error_code();
}

static tg_status unary_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                           tg_tensor *const *t, tg_tensor **out_tan) {
    const unary_impl *u = c->def->impl;
    if (!t[0]) return TG_OK;
    if (u->jvp) return u->jvp(c, in, out, t, out_tan);
    out_tan[0] = tg_mul(t[0], u->deriv(in[0], out[0]));
    return out_tan[0] ? TG_OK : tg_last_error_code();
}

/* abs: real sign(x); complex x / |x| (0 at 0), as PyTorch. */
static tg_status abs_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                         tg_tensor *const *g, tg_tensor **in_cot) {
    (void)c; (void)out;
    in_cot[0] = tg_mul(g[0], tg_sign(in[0]));
    return in_cot[0] ? TG_OK : tg_last_error_code();
}
static tg_status abs_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                         tg_tensor *const *t, tg_tensor **out_tan) {
    (void)c; (void)out;
    tg_tensor *d = tg_mul(tg_conj(tg_sign(in[0])), t[0]);
    out_tan[0] = tg_real(d);
    return out_tan[0] ? TG_OK : tg_last_error_code();
}

/* sign: zero for real x. For complex, sgn(z) = z/r has df/dz = 1/(2r) and
 * df/dz* = -z^2/(2r^3), so the VJP is g/(2r) - conj(g) z^2/(2r^3), 0 at z = 0. */
static tg_tensor *masked_at_zero(tg_tensor *r, tg_tensor *v) { return tg_where(tg_eq_scalar(r, 0.0), tg_zeros_like(v), v); }
static tg_status sign_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                          tg_tensor *const *g, tg_tensor **in_cot) {
    (void)c; (void)out;
    tg_tensor *x = in[0];
    if (!tg_dtype_is_complex(x->dtype)) { in_cot[0] = tg_zeros_like(x); return in_cot[0] ? TG_OK : tg_last_error_code(); }
    tg_tensor *r = tg_abs(x), *r2 = tg_mul_scalar(r, 2.0);
    tg_tensor *v = tg_sub(tg_div(g[0], r2), tg_div(tg_mul(tg_conj(g[0]), tg_square(x)), tg_mul(r2, tg_square(r))));
    in_cot[0] = masked_at_zero(r, v);
    return in_cot[0] ? TG_OK : tg_last_error_code();
}
static tg_status sign_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                          tg_tensor *const *t, tg_tensor **out_tan) {
    (void)c;
    tg_tensor *x = in[0];
    if (!tg_dtype_is_complex(x->dtype)) { out_tan[0] = tg_zeros_like(out[0]); return out_tan[0] ? TG_OK : tg_last_error_code(); }
    tg_tensor *r = tg_abs(x), *r2 = tg_mul_scalar(r, 2.0);
    tg_tensor *v = tg_sub(tg_div(t[0], r2), tg_div(tg_mul(tg_square(x), tg_conj(t[0])), tg_mul(r2, tg_square(r))));
    out_tan[0] = masked_at_zero(r, v);
    return out_tan[0] ? TG_OK : tg_last_error_code();
}

static tg_status conj_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                          tg_tensor *const *g, tg_tensor **in_cot) {
    (void)c; (void)in; (void)out;
    in_cot[0] = tg_conj(g[0]);
    return in_cot[0] ? TG_OK : tg_last_error_code();
}
static tg_status conj_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                          tg_tensor *const *t, tg_tensor **out_tan) {
    (void)c; (void)in; (void)out;
    out_tan[0] = tg_conj(t[0]);
    return out_tan[0] ? TG_OK : tg_last_error_code();
}

/* angle: zero for real x; for complex, d angle = Im(conj(z) dz) / |z|^2, whose
 * PyTorch-convention VJP is g * i z / |z|^2. */
static tg_status angle_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                           tg_tensor *const *g, tg_tensor **in_cot) {
    (void)c; (void)out;
    tg_tensor *z = in[0];
    if (!tg_dtype_is_complex(z->dtype)) in_cot[0] = tg_zeros_like(z);
    else in_cot[0] = tg_mul(g[0], tg_div(tg_mul(z, tg_scalar_complex(z->dtype, 0, 1)), tg_square(tg_abs(z))));
    return in_cot[0] ? TG_OK : tg_last_error_code();
}
static tg_status angle_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out,
                           tg_tensor *const *t, tg_tensor **out_tan) {
    (void)c;
    tg_tensor *z = in[0];
    if (!tg_dtype_is_complex(z->dtype)) out_tan[0] = tg_zeros_like(out[0]);
    else out_tan[0] = tg_div(tg_imag(tg_mul(tg_conj(z), t[0])), tg_square(tg_abs(z)));
    return out_tan[0] ? TG_OK : tg_last_error_code();
}

static tg_dtype compute_dtype(const unary_impl *u, tg_dtype in) {
    bool floaty = tg_dtype_is_floating(in) || tg_dtype_is_complex(in);
    if (u->rule == RULE_FLOAT || u->float_ints) return floaty ? in : TG_F64;
    return in;
}

static tg_status unary_infer(const tg_op_call *c, tg_meta *out) {
    const unary_impl *u = c->def->impl;
    tg_dtype in = c->in[0].dtype, cd = compute_dtype(u, in);
    if (in == TG_F16 || in == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "%s is a storage type; cast to f32 first", tg_dtype_name(in));
    if (!u->loop[cd])
        return tg__op_error(c, TG_ERR_DTYPE, "not defined for dtype %s", tg_dtype_name(in));
    out->dtype = u->rule == RULE_TO_BOOL ? TG_BOOL : u->rule == RULE_TO_REAL ? tg_real_dtype(cd) : cd;
    tg__meta_copy_shape(out, &c->in[0]);
    return TG_OK;
}

static tg_status unary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    const unary_impl *u = c->def->impl;
    tg_dtype cd = compute_dtype(u, in[0]->dtype);
    tg_tensor *x;
    if (!tg__cast_inputs(1, in, cd, &x)) return tg_last_error_code();
    tg_iter_apply(u->loop[cd], NULL, out[0], 1, &x);
    tg__release_casts(1, in, &x);
    return TG_OK;
}

static bool unary_cpu_loop(const tg_op_call *c, tg_loop_fn *fn, tg_dtype *in_dtype) {
    const unary_impl *u = c->def->impl;
    tg_dtype cd = compute_dtype(u, c->in[0].dtype);
    if (!u->loop[cd]) return false;
    *fn = u->loop[cd];
    in_dtype[0] = cd;
    return true;
}

#define DEF_UNARY(op) DEF_UNARY_FLAGS(op, 0)
/* Ops whose rules read only the input pass TG_OP_RULES_IGNORE_OUTPUT. */
#define DEF_UNARY_FLAGS(op, flags_)                                                      \
    const tg_op_def tg_op_##op = {.name = #op, .n_in = 1, .n_out = 1, .flags = (flags_) | TG_OP_ELEMENTWISE, \
                                  .infer = unary_infer,                                     \
                                  .kernel = {[TG_CPU] = unary_kernel, [TG_VULKAN] = tg__vk_unary_kernel}, \
                                  .vjp = unary_vjp,                                         \
                                  .jvp = unary_jvp, .impl = &op##_impl, .cpu_loop = unary_cpu_loop}; \
    tg_tensor *tg_##op(tg_tensor *x) { return tg__apply1(&tg_op_##op, 1, &x, NULL); }

/* Loops for the four float dtypes from real and complex expressions. */
#define LOOPS_FLOAT(op, EF, ED, ECF, ECD)                                 \
    TG_UNARY_LOOP(op##_f32, float, float, EF)                             \
    TG_UNARY_LOOP(op##_f64, double, double, ED)                           \
    TG_UNARY_LOOP(op##_c64, tg_c64_t, tg_c64_t, ECF)                      \
    TG_UNARY_LOOP(op##_c128, tg_c128_t, tg_c128_t, ECD)
#define TABLE_FLOAT(op) [TG_F32] = op##_f32, [TG_F64] = op##_f64, [TG_C64] = op##_c64, [TG_C128] = op##_c128
#define LOOPS_REAL(op, EF, ED)                                            \
    TG_UNARY_LOOP(op##_f32, float, float, EF)                             \
    TG_UNARY_LOOP(op##_f64, double, double, ED)
#define TABLE_REAL(op) [TG_F32] = op##_f32, [TG_F64] = op##_f64
#define LOOPS_INT(op, E32, E64)                                           \
    TG_UNARY_LOOP(op##_i32, int32_t, int32_t, E32)                        \
    TG_UNARY_LOOP(op##_i64, int64_t, int64_t, E64)
#define TABLE_INT(op) [TG_I32] = op##_i32, [TG_I64] = op##_i64

#define FLOAT_OP(op, EF, ED, ECF, ECD)                                    \
    LOOPS_FLOAT(op, EF, ED, ECF, ECD)                                     \
    static const unary_impl op##_impl = {RULE_FLOAT, false, {TABLE_FLOAT(op)}, .deriv = d_##op}; \
    DEF_UNARY(op)
#define REAL_OP(op, EF, ED)                                               \
    LOOPS_REAL(op, EF, ED)                                                \
    static const unary_impl op##_impl = {RULE_FLOAT, false, {TABLE_REAL(op)}, .deriv = d_##op}; \
    DEF_UNARY(op)

/* Two's-complement wrap without signed overflow (UBSan-clean). */
#define NEG32(x) ((int32_t)(0u - (uint32_t)(x)))
#define NEG64(x) ((int64_t)(0ull - (uint64_t)(x)))

/* ---- sign-preserving and integer-friendly ops ------------------------- */
LOOPS_FLOAT(neg, -x, -x, -x, -x)
LOOPS_INT(neg, NEG32(x), NEG64(x))
static const unary_impl neg_impl = {RULE_SAME, false, {TABLE_FLOAT(neg), TABLE_INT(neg)}, .deriv = d_neg};
DEF_UNARY_FLAGS(neg, TG_OP_RULES_IGNORE_OUTPUT)

TG_UNARY_LOOP(abs_f32, float, float, fabsf(x))
TG_UNARY_LOOP(abs_f64, double, double, fabs(x))
TG_UNARY_LOOP(abs_c64, tg_c64_t, float, cabsf(x))
TG_UNARY_LOOP(abs_c128, tg_c128_t, double, cabs(x))
TG_UNARY_LOOP(abs_bool, tg_bool_t, tg_bool_t, x)
LOOPS_INT(abs, x < 0 ? NEG32(x) : x, x < 0 ? NEG64(x) : x)
static const unary_impl abs_impl = {RULE_TO_REAL, false,
    {TABLE_FLOAT(abs), TABLE_INT(abs), [TG_BOOL] = abs_bool}, .vjp = abs_vjp, .jvp = abs_jvp};
DEF_UNARY(abs)

static inline float complex csgnf(float complex z) { float r = cabsf(z); return r == 0 ? 0 : z / r; }
static inline double complex csgn(double complex z) { double r = cabs(z); return r == 0 ? 0 : z / r; }
LOOPS_FLOAT(sign, x != x ? x : (float)((x > 0) - (x < 0)), x != x ? x : (double)((x > 0) - (x < 0)),
            csgnf(x), csgn(x))
LOOPS_INT(sign, (x > 0) - (x < 0), (x > 0) - (x < 0))
static const unary_impl sign_impl = {RULE_SAME, false, {TABLE_FLOAT(sign), TABLE_INT(sign)}, .vjp = sign_vjp, .jvp = sign_jvp};
DEF_UNARY(sign)

LOOPS_FLOAT(square, x * x, x * x, x * x, x * x)
LOOPS_INT(square, (int32_t)((uint32_t)x * (uint32_t)x), (int64_t)((uint64_t)x * (uint64_t)x))
static const unary_impl square_impl = {RULE_SAME, false, {TABLE_FLOAT(square), TABLE_INT(square)}, .deriv = d_square};
DEF_UNARY_FLAGS(square, TG_OP_RULES_IGNORE_OUTPUT)

LOOPS_REAL(relu, x < 0 ? 0.0f : x, x < 0 ? 0.0 : x)
LOOPS_INT(relu, x < 0 ? 0 : x, x < 0 ? 0 : x)
/* relu's VJP and JVP alike (the two rule types are the same): v, the
 * output's cotangent or the input's tangent, where y = relu(x) > 0 (exactly
 * where x > 0, NaN included), else 0, in one pass (where) instead of a cast
 * and a product; as PyTorch's threshold_backward, an Inf or NaN cotangent
 * at x <= 0 gives 0. The rule reads the output, not the input: a traced
 * convolution's output is then read by the relu alone, so the relu runs in
 * place over it as its epilogue (autodiff/fusion.c), in training as in
 * inference. */
static tg_status relu_rule(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *v,
                           tg_tensor **r) {
    (void)c;
    (void)in;
    tg_tensor *zero = tg__weak_scalar(0.0);     /* any device, v's dtype */
    r[0] = zero ? tg_where(tg_gt_scalar(out[0], 0.0), v[0], zero) : NULL;
    tg_release(zero);
    return TG_RULE_RESULT(r[0]);
}
static const unary_impl relu_impl = {RULE_SAME, false, {TABLE_REAL(relu), TABLE_INT(relu)},
                                     .vjp = relu_rule, .jvp = relu_rule};
DEF_UNARY(relu)

/* ---- float functions (ints computed in f64) ---------------------------- */
FLOAT_OP(reciprocal, 1.0f / x, 1.0 / x, 1.0f / x, 1.0 / x)
TG_UNARY_LOOP_SIMD(exp_f32, float, float, tg_expf_vec(x), tg_expf_vec(x))
TG_UNARY_LOOP(exp_f64, double, double, exp(x))
TG_UNARY_LOOP(exp_c64, tg_c64_t, tg_c64_t, cexpf(x))
TG_UNARY_LOOP(exp_c128, tg_c128_t, tg_c128_t, cexp(x))
static const unary_impl exp_impl = {RULE_FLOAT, false, {TABLE_FLOAT(exp)}, .deriv = d_exp};
DEF_UNARY(exp)
FLOAT_OP(expm1, expm1f(x), expm1(x), cexpf(x) - 1.0f, cexp(x) - 1.0)
FLOAT_OP(log, logf(x), log(x), clogf(x), clog(x))
FLOAT_OP(log1p, log1pf(x), log1p(x), clogf(1.0f + x), clog(1.0 + x))
FLOAT_OP(log2, log2f(x), log2(x), clogf(x) / (float)M_LN2, clog(x) / M_LN2)
FLOAT_OP(log10, log10f(x), log10(x), clogf(x) / (float)M_LN10, clog(x) / M_LN10)
FLOAT_OP(sqrt, sqrtf(x), sqrt(x), csqrtf(x), csqrt(x))
FLOAT_OP(rsqrt, 1.0f / sqrtf(x), 1.0 / sqrt(x), 1.0f / csqrtf(x), 1.0 / csqrt(x))
FLOAT_OP(sin, sinf(x), sin(x), csinf(x), csin(x))
FLOAT_OP(cos, cosf(x), cos(x), ccosf(x), ccos(x))
FLOAT_OP(tan, tanf(x), tan(x), ctanf(x), ctan(x))
FLOAT_OP(asin, asinf(x), asin(x), casinf(x), casin(x))
FLOAT_OP(acos, acosf(x), acos(x), cacosf(x), cacos(x))
FLOAT_OP(atan, atanf(x), atan(x), catanf(x), catan(x))
FLOAT_OP(sinh, sinhf(x), sinh(x), csinhf(x), csinh(x))
FLOAT_OP(cosh, coshf(x), cosh(x), ccoshf(x), ccosh(x))
FLOAT_OP(tanh, tanhf(x), tanh(x), ctanhf(x), ctanh(x))
FLOAT_OP(asinh, asinhf(x), asinh(x), casinhf(x), casinh(x))
FLOAT_OP(acosh, acoshf(x), acosh(x), cacoshf(x), cacosh(x))
FLOAT_OP(atanh, atanhf(x), atanh(x), catanhf(x), catanh(x))
TG_UNARY_LOOP_SIMD(sigmoid_f32, float, float, 1.0f / (1.0f + tg_expf_vec(-x)), 1.0f / (1.0f + tg_expf_vec(-x)))
TG_UNARY_LOOP(sigmoid_f64, double, double, 1.0 / (1.0 + exp(-x)))
TG_UNARY_LOOP(sigmoid_c64, tg_c64_t, tg_c64_t, 1.0f / (1.0f + cexpf(-x)))
TG_UNARY_LOOP(sigmoid_c128, tg_c128_t, tg_c128_t, 1.0 / (1.0 + cexp(-x)))
static const unary_impl sigmoid_impl = {RULE_FLOAT, false, {TABLE_FLOAT(sigmoid)}, .deriv = d_sigmoid};
DEF_UNARY(sigmoid)
REAL_OP(gelu, 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)), 0.5 * x * (1.0 + erf(x * M_SQRT1_2)))
TG_UNARY_LOOP_SIMD(silu_f32, float, float, x / (1.0f + tg_expf_vec(-x)), x / (1.0f + tg_expf_vec(-x)))
TG_UNARY_LOOP(silu_f64, double, double, x / (1.0 + exp(-x)))
static const unary_impl silu_impl = {RULE_FLOAT, false, {TABLE_REAL(silu)}, .deriv = d_silu};
DEF_UNARY(silu)
REAL_OP(softplus, fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))), fmax(x, 0.0) + log1p(exp(-fabs(x))))
REAL_OP(erf, erff(x), erf(x))
REAL_OP(erfc, erfcf(x), erfc(x))
REAL_OP(floor, floorf(x), floor(x))
REAL_OP(ceil, ceilf(x), ceil(x))
REAL_OP(round, rintf(x), rint(x))
REAL_OP(trunc, truncf(x), trunc(x))

/* ---- complex-specific ---------------------------------------------------- */
TG_UNARY_LOOP(conj_c64, tg_c64_t, tg_c64_t, conjf(x))
TG_UNARY_LOOP(conj_c128, tg_c128_t, tg_c128_t, conj(x))
static const unary_impl conj_impl = {RULE_SAME, false, {[TG_C64] = conj_c64, [TG_C128] = conj_c128}, .vjp = conj_vjp, .jvp = conj_jvp};
const tg_op_def tg_op_conj = {.name = "conj", .n_in = 1, .n_out = 1, .flags = TG_OP_ELEMENTWISE, .infer = unary_infer,
                              .kernel = {[TG_CPU] = unary_kernel, [TG_VULKAN] = TG_VK(tg__vk_unary_kernel)},
                              .vjp = unary_vjp, .jvp = unary_jvp, .impl = &conj_impl};
tg_tensor *tg_conj(tg_tensor *x) {
    if (x && !tg_dtype_is_complex(x->dtype)) return tg__handout(tg_retain(x));
    return tg__apply1(&tg_op_conj, 1, &x, NULL);
}

TG_UNARY_LOOP(angle_f32, float, float, atan2f(0.0f, x))
TG_UNARY_LOOP(angle_f64, double, double, atan2(0.0, x))
TG_UNARY_LOOP(angle_c64, tg_c64_t, float, cargf(x))
TG_UNARY_LOOP(angle_c128, tg_c128_t, double, carg(x))
static const unary_impl angle_impl = {RULE_TO_REAL, true, {TABLE_FLOAT(angle)}, .vjp = angle_vjp, .jvp = angle_jvp};
DEF_UNARY(angle)

/* ---- predicates ---------------------------------------------------------- */
/* Results are normalised to 0/1: glibc's isinf() returns -1 for -inf. */
#define PRED_LOOPS(op, EF, EC, EI)                                         \
    TG_UNARY_LOOP(op##_f32, float, tg_bool_t, (EF) != 0)                   \
    TG_UNARY_LOOP(op##_f64, double, tg_bool_t, (EF) != 0)                  \
    TG_UNARY_LOOP(op##_c64, tg_c64_t, tg_bool_t, (EC) != 0)                \
    TG_UNARY_LOOP(op##_c128, tg_c128_t, tg_bool_t, (EC) != 0)              \
    TG_UNARY_LOOP(op##_i32, int32_t, tg_bool_t, (EI) != 0)                 \
    TG_UNARY_LOOP(op##_i64, int64_t, tg_bool_t, (EI) != 0)                 \
    TG_UNARY_LOOP(op##_bool, tg_bool_t, tg_bool_t, (EI) != 0)              \
    static const unary_impl op##_impl = {RULE_TO_BOOL, false,              \
        {TABLE_FLOAT(op), TABLE_INT(op), [TG_BOOL] = op##_bool}, .deriv = NULL}; \
    const tg_op_def tg_op_##op = {.name = #op, .n_in = 1, .n_out = 1, .flags = TG_OP_NONDIFF | TG_OP_ELEMENTWISE, \
        .infer = unary_infer, .kernel = {[TG_CPU] = unary_kernel, [TG_VULKAN] = TG_VK(tg__vk_pred_kernel)}, \
        .impl = &op##_impl}; \
    tg_tensor *tg_##op(tg_tensor *x) { return tg__apply1(&tg_op_##op, 1, &x, NULL); }

PRED_LOOPS(isnan, isnan(x), isnan(creal(x)) || isnan(cimag(x)), ((void)x, 0))
PRED_LOOPS(isinf, isinf(x), isinf(creal(x)) || isinf(cimag(x)), ((void)x, 0))
PRED_LOOPS(isfinite, isfinite(x), isfinite(creal(x)) && isfinite(cimag(x)), ((void)x, 1))
PRED_LOOPS(logical_not, x == 0, x == 0, x == 0)

TG_REGISTER_OPS(unary, &tg_op_neg, &tg_op_abs, &tg_op_sign, &tg_op_square, &tg_op_relu,
                &tg_op_reciprocal, &tg_op_exp, &tg_op_expm1, &tg_op_log, &tg_op_log1p, &tg_op_log2,
                &tg_op_log10, &tg_op_sqrt, &tg_op_rsqrt, &tg_op_sin, &tg_op_cos, &tg_op_tan,
                &tg_op_asin, &tg_op_acos, &tg_op_atan, &tg_op_sinh, &tg_op_cosh, &tg_op_tanh,
                &tg_op_asinh, &tg_op_acosh, &tg_op_atanh, &tg_op_sigmoid, &tg_op_gelu, &tg_op_silu,
                &tg_op_softplus, &tg_op_erf, &tg_op_erfc, &tg_op_floor, &tg_op_ceil, &tg_op_round,
                &tg_op_trunc, &tg_op_conj, &tg_op_angle, &tg_op_isnan, &tg_op_isinf,
                &tg_op_isfinite, &tg_op_logical_not)
