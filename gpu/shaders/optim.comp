// Adam's update of one parameter in place, one thread per element, in the
// order of operations of nn/optim.c's CPU loop and of its op-by-op device
// path (the b_/u_ formulas of elementwise_funcs.glsl; every intermediate
// precise, so nothing is contracted into a fused multiply-add):
//   m = m b1 + g (1 - b1)        v = v b2 + (g g)(1 - b2)
//   p = p + (m / (sqrt(v) / bc2s + eps)) (-step)
// p, g, m, v contiguous of dtype T (m = v = 0 before the first step gives
// that step's m = g (1 - b1) exactly); the scalars already rounded to T.
//   p[0] n  p[4..7] bases of p g m v (elements)
//   p[8..] the scalars b1, 1 - b1, b2, 1 - b2, bc2s, eps, -step as raw
//   bits: f32 one int each (p[8 + k]), f64 two (p[8 + 2k], low word first)
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
#include "elementwise_funcs.glsl"
layout(std430, binding = 1) buffer P_ { T pv[]; };
layout(std430, binding = 2) readonly buffer G_ { T gv[]; };
layout(std430, binding = 3) buffer M_ { T mv[]; };
layout(std430, binding = 4) buffer V_ { T vv[]; };

T scalar(int k) {
#ifdef TG_F64
    return packDouble2x32(uvec2(uint(p[8 + 2 * k]), uint(p[9 + 2 * k])));
#else
    return intBitsToFloat(p[8 + k]);
#endif
}

void main() {
    T b1 = scalar(0), c1 = scalar(1), b2 = scalar(2), c2 = scalar(3), bc2s = scalar(4), eps = scalar(5),
      nstep = scalar(6);
    int bp = p[4], bg = p[5], bm = p[6], bv = p[7];
    TG_FOR_EACH(i) {
        int k = int(i);
        T g = gv[bg + k];
        precise T m = b_add(b_mul(mv[bm + k], b1), b_mul(g, c1));
        precise T v = b_add(b_mul(vv[bv + k], b2), b_mul(b_mul(g, g), c2));
        precise T denom = b_add(b_div(u_sqrt(v), bc2s), eps);
        precise T upd = b_mul(b_div(m, denom), nstep);
        mv[bm + k] = m;
        vv[bv + k] = v;
        pv[bp + k] = b_add(pv[bp + k], upd);
    }
}
