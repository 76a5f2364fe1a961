// The epilogue of nn_linear / nn_linear_nobias on a contiguous (M, n)
// matmul result of one float dtype T, in place: y = act(y + b[j]), act
// none or ReLU (v < 0 ? 0 : v, as tg_relu: NaN propagates). Also the bias
// of nn_conv2d_bias (gpu/conv.c): the channel of element i is (i / L) % n.
//   p[0] elements  p[1] n (bias length)  p[2] has bias  p[3] relu
//   p[4] L (elements per bias entry: 1 for linear, oh ow for conv)
//   p[20] y base  p[21] bias base  p[22] bias stride
// With p[5] != 0, a bias over the last two axes of a (.., M, N) result
// (a compiled program's matmul epilogue group whose product took a path
// that stores it plain): b[r * p[23] + c * p[22]], r = (i / N) % M,
// c = i % N, N = p[6], M = p[7].
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) buffer Y_ { T y[]; };
layout(std430, binding = 2) readonly buffer B_ { T b[]; };

void main() {
    TG_FOR_EACH(i) {
        int k = p[20] + int(i);
        T v = y[k];
        if (p[2] != 0 && p[5] != 0)
            v += b[p[21] + int((i / uint(p[6])) % uint(p[7])) * p[23] + int(i % uint(p[6])) * p[22]];
        else if (p[2] != 0)
            v += b[p[21] + int((i / uint(p[4])) % uint(p[1])) * p[22]];
        if (p[3] != 0) v = v < T(0) ? T(0) : v;
        y[k] = v;
    }
}
