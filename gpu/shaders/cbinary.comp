// Elementwise complex ops (gpu/shaders/complex_funcs.glsl), NumPy
// broadcasting through strides. Binary op codes are binary.comp's (0 add,
// 1 sub, 2 mul, 3 div); with UNARY one input and op 0 neg, 1 conj.
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
#include "complex_funcs.glsl"
layout(std430, binding = 1) writeonly buffer O { CT o[]; };
layout(std430, binding = 2) readonly buffer A { CT a[]; };
#ifndef UNARY
layout(std430, binding = 3) readonly buffer B { CT b[]; };
#endif

void main() {
    int op = p[2];
    TG_FOR_EACH(i) {
        CT x = a[tg_offset(i, 1)], r;
#ifdef UNARY
        r = op == 0 ? u_neg(x) : u_conj(x);
#else
        CT y = b[tg_offset(i, 2)];
        switch (op) {
        case 0: r = b_add(x, y); break;
        case 1: r = b_sub(x, y); break;
        case 2: r = b_mul(x, y); break;
        default: r = b_div(x, y); break;
        }
#endif
        o[tg_offset(i, 0)] = r;
    }
}
