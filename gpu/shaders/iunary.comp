// Elementwise unary ops on one integer dtype I (int for i32, uvec2 for
// i64: gpu/shaders/int_funcs.glsl). Op codes are unary.comp's: 0 neg,
// 1 abs, 5 relu, 8 square, 9 sign. i32 has the 4-vector dense path (I4
// ivec4); i64 builds with TG_NO_VEC4.
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
#include "int_funcs.glsl"
layout(std430, binding = 1) writeonly buffer O { I o[]; };
layout(std430, binding = 2) readonly buffer A { I a[]; };
#ifndef TG_NO_VEC4
layout(std430, binding = 1) writeonly buffer O4 { I4 o4[]; };
layout(std430, binding = 2) readonly buffer A4 { I4 a4[]; };
#endif

I apply(int op, I x) {
    switch (op) {
    case 0: return u_neg(x);
    case 1: return u_abs(x);
    case 5: return u_relu(x);
    case 8: return u_square(x);
    default: return u_sign(x);
    }
}

void main() {
    int op = p[2];
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = apply(op, a[tg_offset(i, 1)]);
        return;
    }
#ifndef TG_NO_VEC4
    if (p[3] == 2) {
        uint bo = tg_base4(0), ba = tg_base4(1);
        TG_FOR_EACH_GROUP4(g) {
            I4 x = a4[ba + g];
            o4[bo + g] = I4(apply(op, x.x), apply(op, x.y), apply(op, x.z), apply(op, x.w));
        }
    }
#endif
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = apply(op, a[tg_dense(i, 1)]);
}
