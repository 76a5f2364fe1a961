// Strided copy (op 0: out = a, e.g. contiguous() of a view) and fill
// (op 1: out = the value p[40..43]) of W-byte elements (1, 4, 8, 16), any
// dtype: c128 moves as one 16-byte element.
#version 450
#extension GL_GOOGLE_include_directive : require
#if W == 1
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#define E uint8_t
#define FILL uint8_t(p[40] & 255)
#elif W == 4
#define E uint
#define FILL uint(p[40])
#elif W == 8
#define E uvec2
#define FILL uvec2(uint(p[40]), uint(p[41]))
#else
#define E uvec4
#define FILL uvec4(uint(p[40]), uint(p[41]), uint(p[42]), uint(p[43]))
#endif
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) writeonly buffer O { E o[]; };
layout(std430, binding = 2) readonly buffer A { E a[]; };

void main() {
    bool fill = p[2] == 1;
    TG_FOR_EACH(i) {
        o[tg_offset(i, 0)] = fill ? FILL : a[tg_offset(i, 1)];
    }
}
