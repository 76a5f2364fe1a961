// Bounds check of an index tensor (i32, or i64 read as two 32-bit words,
// so no shaderInt64 is needed) before gather, index_select, scatter_add or
// one_hot reads or writes through it. The first bad position (row-major
// over the index's shape) goes to flag[p[5]] by atomicMin; the host fills
// the flag with INT_MAX before and reads it back after (a synchronous
// round trip, docs/gpu.md).
//   p[0] n  p[1] ndim  p[2] size (valid: [-size, size), or [0, size))
//   p[3] 1: negative values count from the end  p[4] index base  p[5] flag base
//   p[8 + d] index shape  p[16 + d] index strides (elements)
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) buffer F { int flag[]; };
layout(std430, binding = 2) readonly buffer X { uint ix[]; };

void main() {
    int size = p[2];
    bool neg = p[3] != 0;
    TG_FOR_EACH(i) {
        int off = tg_offset(i, 0);
#ifdef I64
        uint lo = ix[2 * off], hi = ix[2 * off + 1];
        bool ok = (hi == 0u && lo < uint(size)) || (neg && hi == 0xffffffffu && int(lo) < 0 && int(lo) >= -size);
#else
        int v = int(ix[off]);
        bool ok = v < size && (v >= 0 || (neg && v >= -size));
#endif
        if (!ok) atomicMin(flag[p[5]], int(i));
    }
}
