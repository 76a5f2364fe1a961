/* Elementwise unary ops: one tg_op_def each, loops per dtype, one kernel.
 * Derivative rules are attached by the autodiff work (autodiff/rules_*.c). */
#include "tensor/ops/elementwise.h"

enum rule {
    RULE_SAME,     /* output dtype = input dtype */
    RULE_FLOAT,    /* bool/int input computed in f64 */
    RULE_TO_REAL,  /* complex input gives its real dtype (abs, angle) */
    RULE_TO_BOOL,  /* predicates */
};

typedef struct unary_impl {
    enum rule rule;
    bool float_ints;            /* RULE_TO_REAL/TO_BOOL: compute ints in f64 */
    tg_loop_fn loop[TG_NUM_DTYPES];   /* indexed by the compute dtype */
} unary_impl;

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
    tg_tensor *x = tg__cast_raw(in[0], cd);
    if (!x) return tg_last_error_code();
    tg_iter_apply(u->loop[cd], NULL, out[0], 1, &x);
    tg_release(x);
    return TG_OK;
}

#define DEF_UNARY(op)                                                                    \
    const tg_op_def tg_op_##op = {.name = #op, .n_in = 1, .n_out = 1, .infer = unary_infer, \
                                  .kernel = {[TG_CPU] = unary_kernel}, .impl = &op##_impl}; \
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
    static const unary_impl op##_impl = {RULE_FLOAT, false, {TABLE_FLOAT(op)}}; \
    DEF_UNARY(op)
#define REAL_OP(op, EF, ED)                                               \
    LOOPS_REAL(op, EF, ED)                                                \
    static const unary_impl op##_impl = {RULE_FLOAT, false, {TABLE_REAL(op)}}; \
    DEF_UNARY(op)

/* Two's-complement wrap without signed overflow (UBSan-clean). */
#define NEG32(x) ((int32_t)(0u - (uint32_t)(x)))
#define NEG64(x) ((int64_t)(0ull - (uint64_t)(x)))

/* ---- sign-preserving and integer-friendly ops ------------------------- */
LOOPS_FLOAT(neg, -x, -x, -x, -x)
LOOPS_INT(neg, NEG32(x), NEG64(x))
static const unary_impl neg_impl = {RULE_SAME, false, {TABLE_FLOAT(neg), TABLE_INT(neg)}};
DEF_UNARY(neg)

TG_UNARY_LOOP(abs_f32, float, float, fabsf(x))
TG_UNARY_LOOP(abs_f64, double, double, fabs(x))
TG_UNARY_LOOP(abs_c64, tg_c64_t, float, cabsf(x))
TG_UNARY_LOOP(abs_c128, tg_c128_t, double, cabs(x))
TG_UNARY_LOOP(abs_bool, tg_bool_t, tg_bool_t, x)
LOOPS_INT(abs, x < 0 ? NEG32(x) : x, x < 0 ? NEG64(x) : x)
static const unary_impl abs_impl = {RULE_TO_REAL, false,
    {TABLE_FLOAT(abs), TABLE_INT(abs), [TG_BOOL] = abs_bool}};
DEF_UNARY(abs)

static inline float complex csgnf(float complex z) { float r = cabsf(z); return r == 0 ? 0 : z / r; }
static inline double complex csgn(double complex z) { double r = cabs(z); return r == 0 ? 0 : z / r; }
LOOPS_FLOAT(sign, x != x ? x : (float)((x > 0) - (x < 0)), x != x ? x : (double)((x > 0) - (x < 0)),
            csgnf(x), csgn(x))
LOOPS_INT(sign, (x > 0) - (x < 0), (x > 0) - (x < 0))
static const unary_impl sign_impl = {RULE_SAME, false, {TABLE_FLOAT(sign), TABLE_INT(sign)}};
DEF_UNARY(sign)

LOOPS_FLOAT(square, x * x, x * x, x * x, x * x)
LOOPS_INT(square, (int32_t)((uint32_t)x * (uint32_t)x), (int64_t)((uint64_t)x * (uint64_t)x))
static const unary_impl square_impl = {RULE_SAME, false, {TABLE_FLOAT(square), TABLE_INT(square)}};
DEF_UNARY(square)

LOOPS_REAL(relu, x < 0 ? 0.0f : x, x < 0 ? 0.0 : x)
LOOPS_INT(relu, x < 0 ? 0 : x, x < 0 ? 0 : x)
static const unary_impl relu_impl = {RULE_SAME, false, {TABLE_REAL(relu), TABLE_INT(relu)}};
DEF_UNARY(relu)

/* ---- float functions (ints computed in f64) ---------------------------- */
FLOAT_OP(reciprocal, 1.0f / x, 1.0 / x, 1.0f / x, 1.0 / x)
FLOAT_OP(exp, expf(x), exp(x), cexpf(x), cexp(x))
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
FLOAT_OP(sigmoid, 1.0f / (1.0f + expf(-x)), 1.0 / (1.0 + exp(-x)),
         1.0f / (1.0f + cexpf(-x)), 1.0 / (1.0 + cexp(-x)))
REAL_OP(gelu, 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)), 0.5 * x * (1.0 + erf(x * M_SQRT1_2)))
REAL_OP(silu, x / (1.0f + expf(-x)), x / (1.0 + exp(-x)))
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
static const unary_impl conj_impl = {RULE_SAME, false, {[TG_C64] = conj_c64, [TG_C128] = conj_c128}};
const tg_op_def tg_op_conj = {.name = "conj", .n_in = 1, .n_out = 1, .infer = unary_infer,
                              .kernel = {[TG_CPU] = unary_kernel}, .impl = &conj_impl};
tg_tensor *tg_conj(tg_tensor *x) {
    if (x && !tg_dtype_is_complex(x->dtype)) return tg__handout(tg_retain(x));
    return tg__apply1(&tg_op_conj, 1, &x, NULL);
}

TG_UNARY_LOOP(angle_f32, float, float, atan2f(0.0f, x))
TG_UNARY_LOOP(angle_f64, double, double, atan2(0.0, x))
TG_UNARY_LOOP(angle_c64, tg_c64_t, float, cargf(x))
TG_UNARY_LOOP(angle_c128, tg_c128_t, double, carg(x))
static const unary_impl angle_impl = {RULE_TO_REAL, true, {TABLE_FLOAT(angle)}};
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
        {TABLE_FLOAT(op), TABLE_INT(op), [TG_BOOL] = op##_bool}};          \
    const tg_op_def tg_op_##op = {.name = #op, .n_in = 1, .n_out = 1, .flags = TG_OP_NONDIFF, \
        .infer = unary_infer, .kernel = {[TG_CPU] = unary_kernel}, .impl = &op##_impl}; \
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
