// Batched matmul C[b] = A[b] B[b] of one float dtype T, 16x16 tiles in
// shared memory, any strides (a transposed view costs no copy). An operand
// whose unit stride runs along the tile's other axis (A along m, B along
// k: transposed views) is loaded with the tile's threads swapped, so that
// neighbouring threads read neighbouring elements either way.
//   p[0] M  p[1] N  p[2] K  p[3] batches  p[4] batch axes (<= 6)
//   p[5] a base  p[6] b base  p[7] c base (C contiguous)
//   p[8] a row stride  p[9] a col stride  p[10] b row stride  p[11] b col stride
//   p[12 + d] batch sizes  p[18 + d] a batch strides  p[24 + d] b batch strides
//   p[40] epilogue (the EPILOGUE builds only): bit 0 adds e[p[41] + row p[42] + col p[43]] (a bias
//         broadcast over the product, binding 4; p[45] > 0: plus (batch % p[45]) p[44], a
//         grouped convolution's bias slice), bit 1 then applies ReLU;
//         the same operations, in the same order, as the separate pass of
//         linear.comp, so fused and unfused results are equal bit for bit;
//         builds made at run time (gpu/matmul.c) define EP_ACT, the formula
//         of an activation applied last (elementwise_funcs.glsl's u_<op>)
#version 450
// TG_FORMULAS (gpu/matmul.c puts the formulas here in a generated build)
#ifdef EP_ACT
// The activation behind a function boundary: `precise` marks the
// operations a precise value is computed from, and here that stops at the
// parameter, so the product's own arithmetic keeps the fused multiply-adds
// of the plain build (a precise result at the call site made NVIDIA's
// compiler round the whole accumulation apart: other bits than the
// product's kernel followed by the op's).
T ep_act(T x) { precise T y = EP_ACT(x); return y; }
#endif
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer Params { int p[]; };
layout(std430, binding = 1) writeonly buffer C { T c[]; };
layout(std430, binding = 2) readonly buffer A { T a[]; };
layout(std430, binding = 3) readonly buffer B { T b[]; };
#ifdef EPILOGUE
layout(std430, binding = 4) readonly restrict buffer E { T e[]; };
#endif
shared T As[16][17];                // padded: the swapped stores hit distinct banks
shared T Bs[16][17];

void main() {
    int M = p[0], N = p[1], K = p[2];
    uint batch = gl_WorkGroupID.z, i = batch;
    int ab = p[5], bb = p[6];
    for (int d = p[4] - 1; d >= 0; d--) {
        uint s = uint(p[12 + d]);
        int k = int(i % s);
        i /= s;
        ab += k * p[18 + d];
        bb += k * p[24 + d];
    }
    int tx = int(gl_LocalInvocationID.x), ty = int(gl_LocalInvocationID.y);
    int row0 = int(gl_WorkGroupID.y) * 16, col0 = int(gl_WorkGroupID.x) * 16;
    int row = row0 + ty, col = col0 + tx;
    bool aswap = p[8] == 1 && p[9] != 1, bswap = p[10] == 1 && p[11] != 1;
    T acc = T(0);
    for (int t = 0; t < K; t += 16) {
        if (aswap) As[tx][ty] = (row0 + tx < M && t + ty < K) ? a[ab + (row0 + tx) * p[8] + (t + ty) * p[9]] : T(0);
        else As[ty][tx] = (row < M && t + tx < K) ? a[ab + row * p[8] + (t + tx) * p[9]] : T(0);
        if (bswap) Bs[tx][ty] = (t + tx < K && col0 + ty < N) ? b[bb + (t + tx) * p[10] + (col0 + ty) * p[11]] : T(0);
        else Bs[ty][tx] = (t + ty < K && col < N) ? b[bb + (t + ty) * p[10] + col * p[11]] : T(0);
        barrier();
        for (int k = 0; k < 16; k++) acc += As[ty][k] * Bs[k][tx];
        barrier();
    }
    if (row < M && col < N) {
        T v = acc;
#ifdef EPILOGUE
        if ((p[40] & 1) != 0)
            v += e[p[41] + (p[45] > 0 ? int(batch % uint(p[45])) * p[44] : 0) + row * p[42] + col * p[43]];
        if ((p[40] & 2) != 0) v = v < T(0) ? T(0) : v;
#ifdef EP_ACT
        v = ep_act(v);                  // a generated build (gpu/matmul.c): the group's activation
#endif
#endif
        c[p[7] + int(batch) * M * N + row * N + col] = v;
    }
}
