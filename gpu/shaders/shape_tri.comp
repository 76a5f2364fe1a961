// tril / triu (batched): out = x where kept, zero bits elsewhere (0 in
// every dtype). tril keeps j - i <= k, triu keeps j - i >= k (NumPy).
// Elementwise parameters (common.glsl, out and one input) plus
//   p[2] 1: triu  p[48] rows R  p[49] cols C  p[50] k (clamped to [-R-1, C+1])
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
layout(std430, binding = 2) readonly buffer A { E a[]; };

void main() {
    bool upper = p[2] != 0;
    uint R = uint(p[48]), C = uint(p[49]);
    int k = p[50];
    TG_FOR_EACH(i) {
        int col = int(i % C), row = int((i / C) % R);
        bool keep = upper ? col - row >= k : col - row <= k;
        o[tg_offset(i, 0)] = keep ? a[tg_offset(i, 1)] : E(0);
    }
}
