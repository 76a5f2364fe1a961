// Elementwise binary ops on one float dtype T, NumPy broadcasting through
// strides (0 for a broadcast axis). op: 0 add, 1 sub, 2 mul, 3 div,
// 4 maximum, 5 minimum, 6 remainder; the formulas are the b_<op> functions of
// elementwise_funcs.glsl.
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
#include "elementwise_funcs.glsl"
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(std430, binding = 2) readonly buffer A { T a[]; };
layout(std430, binding = 3) readonly buffer B { T b[]; };

#ifdef TG_F64
#define T4 dvec4
#else
#define T4 vec4
#endif
layout(std430, binding = 1) writeonly buffer O4 { T4 o4[]; };
layout(std430, binding = 2) readonly buffer A4 { T4 a4[]; };
layout(std430, binding = 3) readonly buffer B4 { T4 b4[]; };

T apply(int op, T x, T y) {
    switch (op) {
    case 0: return b_add(x, y);
    case 1: return b_sub(x, y);
    case 2: return b_mul(x, y);
    case 3: return b_div(x, y);
    case 4: return b_maximum(x, y);
    case 5: return b_minimum(x, y);
    default: return b_remainder(x, y);
    }
}

void main() {
    int op = p[2];
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = apply(op, a[tg_offset(i, 1)], b[tg_offset(i, 2)]);
        return;
    }
    if (p[3] == 2) {
        uint bo = tg_base4(0), ba = tg_base4(1), bb = tg_base4(2);
        TG_FOR_EACH_GROUP4(g) {
            T4 x = a4[ba + g], y = b4[bb + g];
            o4[bo + g] = T4(apply(op, x.x, y.x), apply(op, x.y, y.y), apply(op, x.z, y.z), apply(op, x.w, y.w));
        }
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = apply(op, a[tg_dense(i, 1)], b[tg_dense(i, 2)]);
}
