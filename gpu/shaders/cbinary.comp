// Elementwise complex ops (gpu/shaders/complex_funcs.glsl), NumPy
// broadcasting through strides. Binary op codes are binary.comp's (0 add,
// 1 sub, 2 mul, 3 div); with UNARY one input and op 0 neg, 1 conj, 2 exp,
// 3 log, 4 sqrt, 5 square, 6 reciprocal, 7 log2, 8 log10, 9 rsqrt, 10 sin,
// 11 cos, 12 tan, 13 asin, 14 acos, 15 atan, 16 sinh, 17 cosh, 18 tanh,
// 19 asinh, 20 acosh, 21 atanh, 22 expm1, 23 log1p, 24 sigmoid, 25 sign;
// with UNARY and TO_REAL a real result: op 0 abs, 1 angle; with UNARY and
// TO_BOOL a bool (byte): op 0 isnan, 1 isinf, 2 isfinite, 3 logical_not
// (pred.comp's codes), 4 the cast to bool (either part nonzero, NaN
// included). The dense path goes one element at a time (elements are
// already 8 or 16 bytes).
#version 450
#extension GL_GOOGLE_include_directive : require
#define TG_NO_VEC4
#ifdef TO_BOOL
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#endif
layout(local_size_x = 256) in;
#include "common.glsl"
#include "elementwise_funcs.glsl"
#include "complex_funcs.glsl"
#if defined(TO_BOOL)
layout(std430, binding = 1) writeonly buffer O { uint8_t o[]; };
#elif defined(TO_REAL)
layout(std430, binding = 1) writeonly buffer O { T o[]; };
#else
layout(std430, binding = 1) writeonly buffer O { CT o[]; };
#endif
layout(std430, binding = 2) readonly buffer A { CT a[]; };
#ifndef UNARY
layout(std430, binding = 3) readonly buffer B { CT b[]; };
#endif

#if defined(UNARY) && defined(TO_BOOL)
uint8_t apply(int op, CT x) {
    bool r;
    switch (op) {
    case 0: r = isnan(x.x) || isnan(x.y); break;
    case 1: r = isinf(x.x) || isinf(x.y); break;
    case 2: r = c_finite(x.x) && c_finite(x.y); break;
    case 3: r = x.x == T(0) && x.y == T(0); break;
    default: r = x.x != T(0) || x.y != T(0); break;
    }
    return uint8_t(r ? 1 : 0);
}
#elif defined(UNARY) && defined(TO_REAL)
T apply(int op, CT x) { return op == 0 ? r_abs(x) : r_atan2(x.y, x.x); }
#elif defined(UNARY)
CT apply(int op, CT x) {
    switch (op) {
    case 0: return u_neg(x);
    case 1: return u_conj(x);
    case 2: return u_exp(x);
    case 3: return u_log(x);
    case 4: return u_sqrt(x);
    case 5: return u_square(x);
    case 6: return c_recip(x);
    case 7: return u_log(x) * LOG2E;
    case 8: return u_log(x) * LOG10E;
    case 9: return c_recip(u_sqrt(x));
    case 10: return u_sin(x);
    case 11: return u_cos(x);
    case 12: return u_tan(x);
    case 13: return u_asin(x);
    case 14: return u_acos(x);
    case 15: return u_atan(x);
    case 16: return u_sinh(x);
    case 17: return u_cosh(x);
    case 18: return u_tanh(x);
    case 19: return u_asinh(x);
    case 20: return u_acosh(x);
    case 21: return u_atanh(x);
    case 22: return u_expm1(x);
    case 23: return u_log1p(x);
    case 24: return u_sigmoid(x);
    default: return u_sign(x);
    }
}
#else
CT apply(int op, CT x, CT y) {
    switch (op) {
    case 0: return b_add(x, y);
    case 1: return b_sub(x, y);
    case 2: return b_mul(x, y);
    default: return b_div(x, y);
    }
}
#endif

// The op as a specialization constant ("cunary_c64#<op>", gpu/elementwise.c):
// the driver compiles that op's code only (NVIDIA's compiler spends seconds
// on a module holding every f64 function), else the parameter p[2].
layout(constant_id = 0) const int TG_OP = -1;

void main() {
    int op = TG_OP >= 0 ? TG_OP : p[2];
#ifdef UNARY
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = apply(op, a[tg_offset(i, 1)]);
        return;
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = apply(op, a[tg_dense(i, 1)]);
#else
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = apply(op, a[tg_offset(i, 1)], b[tg_offset(i, 2)]);
        return;
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = apply(op, a[tg_dense(i, 1)], b[tg_dense(i, 2)]);
#endif
}
