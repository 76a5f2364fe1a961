// Dtype conversion S -> D between f32, f64 and bool (bytes 0/1); S4 and D4
// are their 4-vectors (the dense path's aligned groups, common.glsl).
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
layout(std430, binding = 1) writeonly buffer O4 { D4 o4[]; };
layout(std430, binding = 2) readonly buffer A4 { S4 a4[]; };

D conv(S x) {
#if defined(SRC_U8)
    return D(uint(x) != 0u ? 1 : 0);
#elif defined(DST_U8)
    return uint8_t(x != S(0) ? 1 : 0);
#else
    return D(x);
#endif
}

void main() {
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = conv(a[tg_offset(i, 1)]);
        return;
    }
    if (p[3] == 2) {
        uint bo = tg_base4(0), ba = tg_base4(1);
        TG_FOR_EACH_GROUP4(g) {
            S4 x = a4[ba + g];
            o4[bo + g] = D4(conv(x.x), conv(x.y), conv(x.z), conv(x.w));
        }
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = conv(a[tg_dense(i, 1)]);
}
