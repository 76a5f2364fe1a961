// one_hot: out (i64, contiguous, written as two 32-bit words) [l, j] =
// index[l] == j. Indices were bounds-checked to [0, nc) before.
//   p[0] n * nc  p[1] index ndim  p[2] nc  p[4] index base  p[5] out base
//   p[8 + d] index shape  p[16 + d] index strides
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) writeonly buffer O { uvec2 o[]; };
layout(std430, binding = 2) readonly buffer X { uint ix[]; };

void main() {
    uint nc = uint(p[2]);
    TG_FOR_EACH(i) {
        int off = tg_offset(i / nc, 0);
#ifdef I64
        bool hit = ix[2 * off + 1] == 0u && ix[2 * off] == i % nc;
#else
        bool hit = ix[off] == i % nc;
#endif
        o[p[5] + int(i)] = uvec2(hit ? 1u : 0u, 0u);
    }
}
