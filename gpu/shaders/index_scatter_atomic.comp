// scatter_add for large problems: one thread per index element adds its
// src value into the output with an atomic: i32 by atomicAdd (wrapping, as
// the CPU), f32 by an atomicCompSwap loop on the float's bits (float
// atomics are not portable). The order of the additions is the hardware's,
// so f32 results can differ from run to run in the last bits
// (index_scatter.comp is the deterministic formulation). out already holds
// x; indices were bounds-checked (index_check.comp).
//   p[0] n (index elements)  p[1] ndim  p[2] axis  p[3] size (out on axis)
//   p[4] out base  p[5] src base  p[6] index base
//   p[8 + d] index shape  p[16 + d] out strides  p[24 + d] src strides
//   p[32 + d] index strides
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) buffer O { uint o[]; };
layout(std430, binding = 2) readonly buffer S { T s[]; };
layout(std430, binding = 3) readonly buffer X { uint ix[]; };

void main() {
    int axis = p[2], size = p[3];
    TG_FOR_EACH(i) {
        uint r = i;
        int oo = p[4], so = p[5], io = p[6];
        for (int d = p[1] - 1; d >= 0; d--) {
            uint sz = uint(p[8 + d]);
            int c = int(r % sz);
            r /= sz;
            so += c * p[24 + d];
            io += c * p[32 + d];
            if (d != axis) oo += c * p[16 + d];
        }
#ifdef I64
        int v = int(ix[2 * io]);
#else
        int v = int(ix[io]);
#endif
        if (v < 0) v += size;
        if (v < 0 || v >= size) continue;
        oo += v * p[16 + axis];
#ifdef FLOAT
        T add = s[so];
        uint old = o[oo], seen;
        do {
            seen = old;
            old = atomicCompSwap(o[oo], seen, floatBitsToUint(uintBitsToFloat(seen) + add));
        } while (old != seen);
#else
        atomicAdd(o[oo], uint(s[so]));
#endif
    }
}
