// Dtype conversion S -> D between f32, f64 and bool (bytes 0/1).
#version 450
#extension GL_GOOGLE_include_directive : require
#if defined(SRC_U8) || defined(DST_U8)
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#endif
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) writeonly buffer O { D o[]; };
layout(std430, binding = 2) readonly buffer A { S a[]; };

void main() {
    TG_FOR_EACH(i) {
        S x = a[tg_offset(i, 1)];
#if defined(SRC_U8)
        D r = D(uint(x) != 0u ? 1 : 0);
#elif defined(DST_U8)
        D r = uint8_t(x != S(0) ? 1 : 0);
#else
        D r = D(x);
#endif
        o[tg_offset(i, 0)] = r;
    }
}
