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

#ifdef TG_F64
#define T4 dvec4
#else
#define T4 vec4
#endif
layout(std430, binding = 1) writeonly buffer O4 { T4 o4[]; };
layout(std430, binding = 2) readonly buffer A4 { T4 a4[]; };

T apply(int op, T x) {
    switch (op) {
    case 0: return u_neg(x);
    case 1: return u_abs(x);
    case 2: return u_exp(x);
    case 3: return u_log(x);
    case 4: return u_sqrt(x);
    case 5: return u_relu(x);
    case 6: return u_sigmoid(x);
    case 7: return u_tanh(x);
    case 8: return u_square(x);
    case 9: return u_sign(x);
    case 10: return u_reciprocal(x);
    case 11: return u_expm1(x);
    case 12: return u_log1p(x);
    case 13: return u_log2(x);
    case 14: return u_log10(x);
    case 15: return u_rsqrt(x);
    case 16: return u_floor(x);
    case 17: return u_ceil(x);
    case 18: return u_round(x);
    case 19: return u_trunc(x);
    case 20: return u_silu(x);
    case 21: return u_softplus(x);
    case 22: return u_sin(x);
    case 23: return u_cos(x);
    case 24: return u_tan(x);
    case 25: return u_asin(x);
    case 26: return u_acos(x);
    case 27: return u_atan(x);
    case 28: return u_sinh(x);
    case 29: return u_cosh(x);
    case 30: return u_asinh(x);
    case 31: return u_acosh(x);
    case 32: return u_atanh(x);
    case 33: return u_erf(x);
    case 34: return u_erfc(x);
    default: return u_gelu(x);
    }
}

// The op as a specialization constant (gpu/elementwise.c names the
// pipeline unary_<dtype>#<op>): the driver compiles that op's branch only.
// With every formula in one switch, NVIDIA's compiler took 26 s for this
// module on first use; -1 reads the op from p[2].
layout(constant_id = 0) const int TG_OP = -1;

void main() {
    int op = TG_OP >= 0 ? TG_OP : p[2];
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = apply(op, a[tg_offset(i, 1)]);
        return;
    }
    if (p[3] == 2) {
        uint bo = tg_base4(0), ba = tg_base4(1);
        TG_FOR_EACH_GROUP4(g) {
            T4 x = a4[ba + g];
            o4[bo + g] = T4(apply(op, x.x), apply(op, x.y), apply(op, x.z), apply(op, x.w));
        }
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = apply(op, a[tg_dense(i, 1)]);
}
