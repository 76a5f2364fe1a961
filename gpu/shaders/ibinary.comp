// Elementwise binary ops and comparisons on one integer dtype I (int for
// i32, uvec2 for i64: gpu/shaders/int_funcs.glsl), NumPy broadcasting
// through strides. Arithmetic op codes are binary.comp's (0 add, 1 sub,
// 2 mul, 4 maximum, 5 minimum, 6 remainder; no integer division); with CMP the result
// is a bool (byte) and op is compare.comp's (0 eq, 1 ne, 2 lt, 3 le, 4 gt,
// 5 ge). i32 has the 4-vector dense path (I4 ivec4); i64 builds with
// TG_NO_VEC4.
#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef CMP
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#define R uint8_t
#define R4 u8vec4
#else
#define R I
#define R4 I4
#endif
layout(local_size_x = 256) in;
#include "common.glsl"
#include "int_funcs.glsl"
layout(std430, binding = 1) writeonly buffer O { R o[]; };
layout(std430, binding = 2) readonly buffer A { I a[]; };
layout(std430, binding = 3) readonly buffer B { I b[]; };
#ifndef TG_NO_VEC4
layout(std430, binding = 1) writeonly buffer O4 { R4 o4[]; };
layout(std430, binding = 2) readonly buffer A4 { I4 a4[]; };
layout(std430, binding = 3) readonly buffer B4 { I4 b4[]; };
#endif

R apply(int op, I x, I y) {
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
    return uint8_t(r ? 1 : 0);
#else
    switch (op) {
    case 0: return b_add(x, y);
    case 1: return b_sub(x, y);
    case 2: return b_mul(x, y);
    case 4: return b_maximum(x, y);
    case 5: return b_minimum(x, y);
    default: return b_remainder(x, y);
    }
#endif
}

void main() {
    int op = p[2];
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = apply(op, a[tg_offset(i, 1)], b[tg_offset(i, 2)]);
        return;
    }
#ifndef TG_NO_VEC4
    if (p[3] == 2) {
        uint bo = tg_base4(0), ba = tg_base4(1), bb = tg_base4(2);
        TG_FOR_EACH_GROUP4(g) {
            I4 x = a4[ba + g], y = b4[bb + g];
            o4[bo + g] = R4(apply(op, x.x, y.x), apply(op, x.y, y.y), apply(op, x.z, y.z), apply(op, x.w, y.w));
        }
    }
#endif
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = apply(op, a[tg_dense(i, 1)], b[tg_dense(i, 2)]);
}
