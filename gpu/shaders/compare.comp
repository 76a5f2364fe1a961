// Comparisons of one float dtype T into bools (bytes holding 0 or 1).
// op: 0 eq, 1 ne, 2 lt, 3 le, 4 gt, 5 ge.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) writeonly buffer O { uint8_t o[]; };
layout(std430, binding = 2) readonly buffer A { T a[]; };
layout(std430, binding = 3) readonly buffer B { T b[]; };

#ifdef TG_F64
#define T4 dvec4
#else
#define T4 vec4
#endif
layout(std430, binding = 1) writeonly buffer O4 { u8vec4 o4[]; };
layout(std430, binding = 2) readonly buffer A4 { T4 a4[]; };
layout(std430, binding = 3) readonly buffer B4 { T4 b4[]; };

uint8_t apply(int op, T x, T y) {
    bool r;
    switch (op) {
    case 0: r = x == y; break;
    case 1: r = x != y; break;
    case 2: r = x < y; break;
    case 3: r = x <= y; break;
    case 4: r = x > y; break;
    default: r = x >= y; break;
    }
    return uint8_t(r ? 1 : 0);
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
            o4[bo + g] = u8vec4(apply(op, x.x, y.x), apply(op, x.y, y.y), apply(op, x.z, y.z), apply(op, x.w, y.w));
        }
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = apply(op, a[tg_dense(i, 1)], b[tg_dense(i, 2)]);
}
