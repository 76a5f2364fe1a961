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

void main() {
    int op = p[2];
    TG_FOR_EACH(i) {
        T x = a[tg_offset(i, 1)], y = b[tg_offset(i, 2)];
        bool r;
        switch (op) {
        case 0: r = x == y; break;
        case 1: r = x != y; break;
        case 2: r = x < y; break;
        case 3: r = x <= y; break;
        case 4: r = x > y; break;
        default: r = x >= y; break;
        }
        o[tg_offset(i, 0)] = uint8_t(r ? 1 : 0);
    }
}
