// Strided copy (op 0: out = a, e.g. contiguous() of a view) and fill
// (op 1: out = the value p[40..43]) of W-byte elements (1, 4, 8, 16), any
// dtype: c128 moves as one 16-byte element. E4 holds 4 elements (the
// dense path's aligned groups, common.glsl).
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
#if W == 1
#define E4 u8vec4
#else
struct E4 { uvec4 v[W / 4]; };
#endif
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) writeonly buffer O { E o[]; };
layout(std430, binding = 2) readonly buffer A { E a[]; };
layout(std430, binding = 1) writeonly buffer O4 { E4 o4[]; };
layout(std430, binding = 2) readonly buffer A4 { E4 a4[]; };

E4 fill4() {
#if W == 1
    return u8vec4(FILL);
#else
    // 4 elements of W bytes are W uint words, repeating p[40 .. 40 + W/4)
    E4 r;
    for (int k = 0; k < W / 4; k++)
        for (int c = 0; c < 4; c++) r.v[k][c] = uint(p[40 + (4 * k + c) % (W / 4)]);
    return r;
#endif
}

void main() {
    bool fill = p[2] == 1;
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = fill ? FILL : a[tg_offset(i, 1)];
        return;
    }
    if (p[3] == 2) {
        uint bo = tg_base4(0), ba = tg_base4(1);
        if (fill) {
            E4 f = fill4();
            TG_FOR_EACH_GROUP4(g) o4[bo + g] = f;
        } else {
            TG_FOR_EACH_GROUP4(g) o4[bo + g] = a4[ba + g];
        }
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = fill ? FILL : a[tg_dense(i, 1)];
}
