// The data-movement halves of 2-D convolution (NCHW) through column
// buffers, one float dtype T; gpu/conv.c does the products with the matmul
// kernel. Chosen by a define:
//   CONV_IM2COL  cols[n, g, kg, l] = x[n0 + n, g Cg + ci, iy, ix] (0 in the
//                padding), kg = (ci kh + ky) kw + kx, l = oy ow + ox; cols
//                written through strides (the caller picks (n, g, kg, l) or
//                (g, kg, n, l) order). Grid: x the pixel l, y the row
//                (c, ky, kx) from p[17], z p[19] images from p[18] on
//                (a thread loops over them): the row and images come from
//                the workgroup, so a thread divides only to split l, and
//                there are few enough workgroups that starting them is not
//                the kernel's cost
//   CONV_COL2IM  gx[n, c, iy, ix] = sum of the column elements that read
//                this pixel: a thread per pixel gathering them (no
//                atomics, the same order on every run). Grid: x the pixel
//                iy W + ix, y the channel c from p[17], z the image from p[18]
//   CONV_ACC     o[i] += a[i] (a weight gradient summed over chunks)
//   p[0] work items (ACC)  p[1] images in the chunk  p[2] C  p[3] H  p[4] W
//   p[5] groups  p[6] oh  p[7] ow  p[8] kh  p[9] kw  p[10] sh  p[11] sw
//   p[12] ph  p[13] pw  p[14] dh  p[15] dw  p[17] first row/channel
//   p[18] first image  p[19] images per thread (IM2COL)  p[20] out base
//   p[21] in base
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
    int l = int(gl_GlobalInvocationID.x);
    if (l >= L) return;
    int row = p[17] + int(gl_WorkGroupID.y), n0 = p[18] + int(gl_WorkGroupID.z) * p[19];
    int n1 = min(n0 + p[19], p[1]);
    int c = row / (KH * KW), r = row - c * (KH * KW), ky = r / KW, kx = r - ky * KW;
    int oy = l / OW, ox = l - oy * OW;
    int iy = oy * SH - PH + ky * DH, ix = ox * SW - PW + kx * DW;
    bool inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
    int g = c / Cg, src = p[21] + c * p[25] + iy * p[26] + ix * p[27];
    int dst = p[20] + cols_at(0, g, (c - g * Cg) * (KH * KW) + r, l);
    for (int n = n0; n < n1; n++) o[dst + n * p[28]] = inside ? a[src + n * p[24]] : T(0);
#else /* CONV_COL2IM */
    int pix = int(gl_GlobalInvocationID.x);
    if (pix >= H * W) return;
    int c = p[17] + int(gl_WorkGroupID.y), n = p[18] + int(gl_WorkGroupID.z);
    int iy = pix / W, ix = pix - iy * W;
    int g = c / Cg, kg0 = (c - g * Cg) * KH * KW;
    bool unit = SH == 1 && SW == 1;      // the common case: no division in the loop
    T acc = T(0);
    for (int ky = 0; ky < KH; ky++) {
        int ty = iy + PH - ky * DH, oy = unit ? ty : ty / SH;
        if (ty < 0 || (!unit && oy * SH != ty) || oy >= OH) continue;
        for (int kx = 0; kx < KW; kx++) {
            int tx = ix + PW - kx * DW, ox = unit ? tx : tx / SW;
            if (tx < 0 || (!unit && ox * SW != tx) || ox >= OW) continue;
            acc += a[p[21] + cols_at(n, g, kg0 + ky * KW + kx, oy * OW + ox)];
        }
    }
    o[p[20] + ((n * C + c) * H + iy) * W + ix] = acc;
#endif
#endif
}
