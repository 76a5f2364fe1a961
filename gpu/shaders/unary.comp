// Elementwise unary ops on one float dtype T; the formulas are the u_<op>
// functions of elementwise_funcs.glsl.
// op: 0 neg, 1 abs, 2 exp, 3 log, 4 sqrt, 5 relu, 6 sigmoid, 7 tanh, 8 square,
// 9 sign, 10 reciprocal, 11 expm1, 12 log1p, 13 log2, 14 log10, 15 rsqrt,
// 16 floor, 17 ceil, 18 round (half to even), 19 trunc, 20 silu, 21 softplus,
// 22 sin, 23 cos, 24 tan, 25 asin, 26 acos, 27 atan, 28 sinh, 29 cosh,
// 30 asinh, 31 acosh, 32 atanh, 33 erf, 34 erfc, 35 gelu.
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
#include "elementwise_funcs.glsl"
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(std430, binding = 2) readonly buffer A { T a[]; };

void main() {
    int op = p[2];
    TG_FOR_EACH(i) {
        T x = a[tg_offset(i, 1)], r;
        switch (op) {
        case 0: r = u_neg(x); break;
        case 1: r = u_abs(x); break;
        case 2: r = u_exp(x); break;
        case 3: r = u_log(x); break;
        case 4: r = u_sqrt(x); break;
        case 5: r = u_relu(x); break;
        case 6: r = u_sigmoid(x); break;
        case 7: r = u_tanh(x); break;
        case 8: r = u_square(x); break;
        case 9: r = u_sign(x); break;
        case 10: r = u_reciprocal(x); break;
        case 11: r = u_expm1(x); break;
        case 12: r = u_log1p(x); break;
        case 13: r = u_log2(x); break;
        case 14: r = u_log10(x); break;
        case 15: r = u_rsqrt(x); break;
        case 16: r = u_floor(x); break;
        case 17: r = u_ceil(x); break;
        case 18: r = u_round(x); break;
        case 19: r = u_trunc(x); break;
        case 20: r = u_silu(x); break;
        case 21: r = u_softplus(x); break;
        case 22: r = u_sin(x); break;
        case 23: r = u_cos(x); break;
        case 24: r = u_tan(x); break;
        case 25: r = u_asin(x); break;
        case 26: r = u_acos(x); break;
        case 27: r = u_atan(x); break;
        case 28: r = u_sinh(x); break;
        case 29: r = u_cosh(x); break;
        case 30: r = u_asinh(x); break;
        case 31: r = u_acosh(x); break;
        case 32: r = u_atanh(x); break;
        case 33: r = u_erf(x); break;
        case 34: r = u_erfc(x); break;
        default: r = u_gelu(x); break;
        }
        o[tg_offset(i, 0)] = r;
    }
}
