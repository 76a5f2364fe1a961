// scatter_add, deterministic: one thread per output element that some
// index entry can reach (the index's shape with `axis` replaced by the
// output's size there); it walks the J index entries along `axis` in order
// and adds the matching src values, so the additions happen in the CPU's
// order and the result is bitwise the CPU's, run after run. No atomics.
// Cost: J reads of the index per output element (numel(index) * size).
// out already holds x; indices were bounds-checked (index_check.comp).
//   p[0] n (domain elements)  p[1] ndim  p[2] axis  p[3] size (out on axis)
//   p[4] out base  p[5] src base  p[6] index base  p[7] J (index on axis)
//   p[8 + d] domain shape  p[16 + d] out strides  p[24 + d] src strides
//   p[32 + d] index strides
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) buffer O { T o[]; };
layout(std430, binding = 2) readonly buffer S { T s[]; };
layout(std430, binding = 3) readonly buffer X { uint ix[]; };

void main() {
    int axis = p[2], size = p[3], J = p[7];
    int sa = p[24 + axis], ia = p[32 + axis];
    TG_FOR_EACH(i) {
        uint r = i;
        int oo = p[4], so = p[5], io = p[6], ca = 0;
        for (int d = p[1] - 1; d >= 0; d--) {
            uint sz = uint(p[8 + d]);
            int c = int(r % sz);
            r /= sz;
            oo += c * p[16 + d];
            if (d == axis) ca = c;
            else { so += c * p[24 + d]; io += c * p[32 + d]; }
        }
        T acc = o[oo];
        for (int j = 0; j < J; j++) {
#ifdef I64
            int v = int(ix[2 * (io + j * ia)]);
#else
            int v = int(ix[io + j * ia]);
#endif
            if (v < 0) v += size;
            if (v == ca) acc += s[so + j * sa];
        }
        o[oo] = acc;
    }
}
