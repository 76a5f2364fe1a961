// Elementwise unary ops on one integer dtype I (int for i32, uvec2 for
// i64: gpu/shaders/int_funcs.glsl). Op codes are unary.comp's: 0 neg,
// 1 abs, 5 relu, 8 square, 9 sign.
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
#include "int_funcs.glsl"
layout(std430, binding = 1) writeonly buffer O { I o[]; };
layout(std430, binding = 2) readonly buffer A { I a[]; };

void main() {
    int op = p[2];
    TG_FOR_EACH(i) {
        I x = a[tg_offset(i, 1)], r;
        switch (op) {
        case 0: r = u_neg(x); break;
        case 1: r = u_abs(x); break;
        case 5: r = u_relu(x); break;
        case 8: r = u_square(x); break;
        default: r = u_sign(x); break;
        }
        o[tg_offset(i, 0)] = r;
    }
}
