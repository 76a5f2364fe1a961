// gather and index_select: out[l] = x at the coordinates of l with the
// coordinate on `axis` replaced by index[l] (negative: from the end).
// Elements are copied as W-byte words (any dtype of 1, 4, 8 or 16 bytes).
// index_select passes the 1-d index with stride 0 on every other axis.
// The indices were bounds-checked (index_check.comp) before this runs; a
// value out of range still reads nothing (it writes zero bits).
//   p[0] n (out elements)  p[1] ndim  p[2] axis  p[3] size of x on axis
//   p[4] out base  p[5] x base  p[6] index base
//   p[8 + d] out shape  p[16 + d] out strides  p[24 + d] x strides
//   p[32 + d] index strides
#version 450
#extension GL_GOOGLE_include_directive : require
#if W == 1
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
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
layout(std430, binding = 2) readonly buffer A { E x[]; };
layout(std430, binding = 3) readonly buffer X { uint ix[]; };

void main() {
    int axis = p[2], size = p[3];
    TG_FOR_EACH(i) {
        uint r = i;
        int oo = p[4], xo = p[5], io = p[6];
        for (int d = p[1] - 1; d >= 0; d--) {
            uint s = uint(p[8 + d]);
            int c = int(r % s);
            r /= s;
            oo += c * p[16 + d];
            io += c * p[32 + d];
            if (d != axis) xo += c * p[24 + d];
        }
#ifdef I64
        int v = int(ix[2 * io]);
        bool ok = ix[2 * io + 1] == (v < 0 ? 0xffffffffu : 0u);
#else
        int v = int(ix[io]);
        bool ok = true;
#endif
        if (v < 0) v += size;
        o[oo] = ok && v >= 0 && v < size ? x[xo + v * p[24 + axis]] : E(0);
    }
}
