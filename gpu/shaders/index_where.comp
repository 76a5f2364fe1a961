// where(cond, a, b): out = cond ? a : b, NumPy broadcasting through strides.
// cond is bool (bytes 0/1); a, b and out share one W-byte dtype (1, 4, 8, 16).
// Parameters as common.glsl with four operands: 0 out, 1 cond, 2 a, 3 b
// (bases p[4..7], strides p[16 + 8 k + d]). p[3] == 1: out and cond are
// dense in out's order and a and b each dense too or one broadcast element,
// so offsets come from tg_dense, with no div/mod per axis (relu's rules:
// where(y > 0, g, 0)).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#if W == 1
#define E uint8_t
#elif W == 4
#define E uint
#elif W == 8
#define E uvec2
#else
#define E uvec4
#endif
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) writeonly buffer O { E o[]; };
layout(std430, binding = 2) readonly buffer C { uint8_t c[]; };
layout(std430, binding = 3) readonly buffer A { E a[]; };
layout(std430, binding = 4) readonly buffer B { E b[]; };

void main() {
    if (p[3] == 1) {
        TG_FOR_EACH(i) o[tg_dense(i, 0)] = uint(c[tg_dense(i, 1)]) != 0u ? a[tg_dense(i, 2)] : b[tg_dense(i, 3)];
        return;
    }
    TG_FOR_EACH(i) {
        o[tg_offset(i, 0)] = uint(c[tg_offset(i, 1)]) != 0u ? a[tg_offset(i, 2)] : b[tg_offset(i, 3)];
    }
}
