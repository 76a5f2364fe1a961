// Elementwise binary ops and comparisons on one integer dtype I (int for
// i32, uvec2 for i64: gpu/shaders/int_funcs.glsl), NumPy broadcasting
// through strides. Arithmetic op codes are binary.comp's (0 add, 1 sub,
// 2 mul, 4 maximum, 5 minimum; no integer division); with CMP the result
// is a bool (byte) and op is compare.comp's (0 eq, 1 ne, 2 lt, 3 le, 4 gt,
// 5 ge).
#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef CMP
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#endif
layout(local_size_x = 256) in;
#include "common.glsl"
#include "int_funcs.glsl"
#ifdef CMP
layout(std430, binding = 1) writeonly buffer O { uint8_t o[]; };
#else
layout(std430, binding = 1) writeonly buffer O { I o[]; };
#endif
layout(std430, binding = 2) readonly buffer A { I a[]; };
layout(std430, binding = 3) readonly buffer B { I b[]; };

void main() {
    int op = p[2];
    TG_FOR_EACH(i) {
        I x = a[tg_offset(i, 1)], y = b[tg_offset(i, 2)];
#ifdef CMP
        bool r;
        switch (op) {
        case 0: r = c_eq(x, y); break;
        case 1: r = c_ne(x, y); break;
        case 2: r = c_lt(x, y); break;
        case 3: r = c_le(x, y); break;
        case 4: r = c_gt(x, y); break;
        default: r = c_ge(x, y); break;
        }
        o[tg_offset(i, 0)] = uint8_t(r ? 1 : 0);
#else
        I r;
        switch (op) {
        case 0: r = b_add(x, y); break;
        case 1: r = b_sub(x, y); break;
        case 2: r = b_mul(x, y); break;
        case 4: r = b_maximum(x, y); break;
        default: r = b_minimum(x, y); break;
        }
        o[tg_offset(i, 0)] = r;
#endif
    }
}
