// im2col (nn_unfold) and col2im (nn_fold), NCHW (nn/unfold.c), a thread per
// output element; the output is contiguous, the input has any strides.
//   UNFOLD: out (N, C kh kw, L) = x (N, C, H, W) at each window position, 0
//     in the padding. Moves bits: E is the element as 1, 2 or 4 words.
//   FOLD: out (N, C, H, W) = the sum of the column entries read from each
//     pixel, gathered (no atomics) in ascending kernel offset (i, j): the
//     CPU kernel's order of additions, so results equal it bit for bit.
//     T is the element type; FOLD_I64 adds 64-bit words with a carry.
//   p[0] work items  p[1] C  p[2] H  p[3] W  p[4] oh  p[5] ow  p[6] kh
//   p[7] kw  p[8] sh  p[9] sw  p[10] ph  p[11] pw  p[12] dh  p[13] dw
//   p[20] out base  p[21] in base (elements)  p[24 + k] input strides
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

#ifdef UNFOLD
layout(std430, binding = 1) writeonly buffer O_ { E o[]; };
layout(std430, binding = 2) readonly buffer X_ { E x[]; };

void main() {
    int C = p[1], H = p[2], W = p[3], OH = p[4], OW = p[5], KH = p[6], KW = p[7];
    uint L = uint(OH * OW), CK = uint(C * KH * KW);
    TG_FOR_EACH(t) {
        int l = int(t % L), q = int((t / L) % CK), n = int(t / (L * CK));
        int j = q % KW, i = (q / KW) % KH, c = q / (KW * KH);
        int y = (l / OW) * p[8] - p[10] + i * p[12], xx = (l % OW) * p[9] - p[11] + j * p[13];
        E v = E(0);
        if (y >= 0 && y < H && xx >= 0 && xx < W) v = x[p[21] + n * p[24] + c * p[25] + y * p[26] + xx * p[27]];
        o[p[20] + int(t)] = v;
    }
}
#else
#ifdef FOLD_I64
#define T uvec2
layout(std430, binding = 1) writeonly buffer O_ { uvec2 o[]; };
layout(std430, binding = 2) readonly buffer X_ { uvec2 x[]; };
uvec2 add(uvec2 a, uvec2 b) {
    uint c;
    uint lo = uaddCarry(a.x, b.x, c);
    return uvec2(lo, a.y + b.y + c);
}
#else
layout(std430, binding = 1) writeonly buffer O_ { T o[]; };
layout(std430, binding = 2) readonly buffer X_ { T x[]; };
T add(T a, T b) { precise T s = a + b; return s; }
#endif

void main() {
    int C = p[1], H = p[2], W = p[3], OH = p[4], OW = p[5], KH = p[6], KW = p[7];
    TG_FOR_EACH(t) {
        int px = int(t % uint(W)), py = int((t / uint(W)) % uint(H));
        int c = int((t / uint(W * H)) % uint(C)), n = int(t / uint(W * H * C));
        T acc = T(0);
        for (int i = 0; i < KH; i++) {
            int ty = py + p[10] - i * p[12];       // oy sh = ty
            if (ty < 0) break;
            if (ty % p[8] != 0 || ty / p[8] >= OH) continue;
            int oy = ty / p[8];
            for (int j = 0; j < KW; j++) {
                int tx = px + p[11] - j * p[13];
                if (tx < 0) break;
                if (tx % p[9] != 0 || tx / p[9] >= OW) continue;
                int row = (c * KH + i) * KW + j, col = oy * OW + tx / p[9];
                acc = add(acc, x[p[21] + n * p[24] + row * p[25] + col * p[26]]);
            }
        }
        o[p[20] + int(t)] = acc;
    }
}
#endif
