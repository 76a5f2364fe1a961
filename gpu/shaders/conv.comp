// The data-movement halves of 2-D convolution (NCHW) through column
// buffers, one float dtype T; gpu/conv.c does the products with the matmul
// kernel. Chosen by a define:
//   CONV_IM2COL  cols[n, g, kg, l] = x[n0 + n, g Cg + ci, iy, ix] (0 in the
//                padding), kg = (ci kh + ky) kw + kx, l = oy ow + ox; a
//                thread per column element, cols written through strides
//                (the caller picks (n, g, kg, l) or (g, kg, n, l) order)
//   CONV_COL2IM  gx[n, c, iy, ix] = sum of the column elements that read
//                this pixel: a thread per pixel gathering them (no
//                atomics, the same order on every run)
//   CONV_ACC     o[i] += a[i] (a weight gradient summed over chunks)
//   p[0] work items  p[1] images in the chunk  p[2] C  p[3] H  p[4] W
//   p[5] groups  p[6] oh  p[7] ow  p[8] kh  p[9] kw  p[10] sh  p[11] sw
//   p[12] ph  p[13] pw  p[14] dh  p[15] dw
//   p[20] out base  p[21] in base
//   p[24..27] x strides (IM2COL)  p[28..31] cols strides along (n, g, kg, l)
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
#ifdef CONV_ACC
layout(std430, binding = 1) buffer O_ { T o[]; };
#else
layout(std430, binding = 1) writeonly buffer O_ { T o[]; };
#endif
layout(std430, binding = 2) readonly buffer A_ { T a[]; };

int cols_at(int n, int g, int kg, int l) { return n * p[28] + g * p[29] + kg * p[30] + l * p[31]; }

void main() {
#if defined(CONV_ACC)
    TG_FOR_EACH(i) o[p[20] + int(i)] += a[p[21] + int(i)];
#else
    int C = p[2], H = p[3], W = p[4], G = p[5], OH = p[6], OW = p[7];
    int KH = p[8], KW = p[9], SH = p[10], SW = p[11], PH = p[12], PW = p[13], DH = p[14], DW = p[15];
    int Cg = C / G, L = OH * OW;
#if defined(CONV_IM2COL)
    TG_FOR_EACH(i) {
        int l = int(i % uint(L)), ox = l % OW, oy = l / OW;
        uint q = i / uint(L);
        int kx = int(q % uint(KW)), ky = int((q / uint(KW)) % uint(KH));
        int c = int((q / uint(KW * KH)) % uint(C)), n = int(q / uint(KW * KH * C));
        int iy = oy * SH - PH + ky * DH, ix = ox * SW - PW + kx * DW;
        T v = T(0);
        if (iy >= 0 && iy < H && ix >= 0 && ix < W)
            v = a[p[21] + n * p[24] + c * p[25] + iy * p[26] + ix * p[27]];
        o[p[20] + cols_at(n, c / Cg, ((c % Cg) * KH + ky) * KW + kx, l)] = v;
    }
#else /* CONV_COL2IM */
    TG_FOR_EACH(i) {
        int ix = int(i % uint(W)), iy = int((i / uint(W)) % uint(H));
        int c = int((i / uint(W * H)) % uint(C)), n = int(i / uint(W * H * C));
        int g = c / Cg, kg0 = (c % Cg) * KH * KW;
        T acc = T(0);
        for (int ky = 0; ky < KH; ky++) {
            int ty = iy + PH - ky * DH;
            if (ty < 0 || ty % SH != 0 || ty / SH >= OH) continue;
            for (int kx = 0; kx < KW; kx++) {
                int tx = ix + PW - kx * DW;
                if (tx < 0 || tx % SW != 0 || tx / SW >= OW) continue;
                acc += a[p[21] + cols_at(n, g, kg0 + ky * KW + kx, (ty / SH) * OW + tx / SW)];
            }
        }
        o[p[20] + int(i)] = acc;
    }
#endif
#endif
}
