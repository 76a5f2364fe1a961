// Predicates into bools (bytes 0/1): op 0 isnan, 1 isinf, 2 isfinite,
// 3 logical_not. Tested on the bits, so a driver's fast-math cannot fold
// them away. T is float, double or uint8_t (bool input: never NaN or inf).
#version 450
#extension GL_GOOGLE_include_directive : require
#define TG_NO_VEC4
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) writeonly buffer O { uint8_t o[]; };
layout(std430, binding = 2) readonly buffer A { T a[]; };

uint8_t pred(int op, T x) {
#if defined(SRC_U8)
    bool zero = uint(x) == 0u, nan = false, inf = false;
#elif defined(TG_F64)
    uvec2 w = unpackDouble2x32(x);
    uint hi = w.y & 0x7fffffffu;
    bool zero = x == 0.0LF;
    bool nan = hi > 0x7ff00000u || (hi == 0x7ff00000u && w.x != 0u);
    bool inf = hi == 0x7ff00000u && w.x == 0u;
#else
    uint b = floatBitsToUint(x) & 0x7fffffffu;
    bool zero = b == 0u, nan = b > 0x7f800000u, inf = b == 0x7f800000u;
#endif
    bool r = op == 0 ? nan : op == 1 ? inf : op == 2 ? !(nan || inf) : zero;
    return uint8_t(r ? 1 : 0);
}

void main() {
    int op = p[2];
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = pred(op, a[tg_offset(i, 1)]);
        return;
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = pred(op, a[tg_dense(i, 1)]);
}
