// Elementwise binary ops on one float dtype T, NumPy broadcasting through
// strides (0 for a broadcast axis). op: 0 add, 1 sub, 2 mul, 3 div,
// 4 maximum, 5 minimum; the formulas are the b_<op> functions of
// elementwise_funcs.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
#include "elementwise_funcs.glsl"
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(std430, binding = 2) readonly buffer A { T a[]; };
layout(std430, binding = 3) readonly buffer B { T b[]; };

void main() {
    int op = p[2];
    TG_FOR_EACH(i) {
        T x = a[tg_offset(i, 1)], y = b[tg_offset(i, 2)], r;
        switch (op) {
        case 0: r = b_add(x, y); break;
        case 1: r = b_sub(x, y); break;
        case 2: r = b_mul(x, y); break;
        case 3: r = b_div(x, y); break;
        case 4: r = b_maximum(x, y); break;
        default: r = b_minimum(x, y); break;
        }
        o[tg_offset(i, 0)] = r;
    }
}
