// Max pooling (NCHW) with the argmax recomputed from x: the three ops of
// nn/pool.c, chosen by a define. x has dtype TX, the values (v) and the
// output dtype TV (POOL_MAX: TX = TV). Per window the first maximum in
// row-major order wins; a later element replaces it only when strictly
// larger or NaN (as the CPU kernel); padding is never selected.
//   POOL_MAX      y (N, C, oh, ow) = max of each window of x
//   POOL_GATHER   y (N, C, oh, ow) = v (N, C, H, W) at each window's argmax
//   POOL_SCATTER  y (N, C, H, W) = sum of v (N, C, oh, ow) over the windows
//                 whose argmax is this pixel (a thread per pixel, windows in
//                 row-major order: no atomics, the CPU's order of additions);
//                 with p[12] set the windows tile the plane exactly (kernel =
//                 stride, no padding, H = oh sh, W = ow sw: 2x2/2 pooling), so
//                 a thread per window writes its pixels (0 + v at the argmax,
//                 the sum the gather would make; 0 elsewhere), p[0] windows
// The output is contiguous; x and v have any strides.
//   p[0] work items  p[1] C  p[2] H  p[3] W  p[4] oh  p[5] ow
//   p[6] kh  p[7] kw  p[8] sh  p[9] sw  p[10] ph  p[11] pw
//   p[20] out base  p[21] x base  p[22] v base
//   p[24..27] x strides  p[28..31] v strides
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) writeonly buffer O_ { TV o[]; };
layout(std430, binding = 2) readonly buffer X_ { TX x[]; };
#ifndef POOL_MAX
layout(std430, binding = 3) readonly buffer V_ { TV v[]; };
int v_at(int n, int c, int i, int j) { return p[22] + n * p[28] + c * p[29] + i * p[30] + j * p[31]; }
#endif

int x_at(int n, int c, int i, int j) { return p[21] + n * p[24] + c * p[25] + i * p[26] + j * p[27]; }

// The first maximum of window (oy, ox) of plane (n, c): its row and column.
ivec2 argmax_of(int n, int c, int oy, int ox, out TX m) {
    int H = p[2], W = p[3];
    int ys = oy * p[8] - p[10], xs = ox * p[9] - p[11];
    int y0 = max(ys, 0), y1 = min(ys + p[6], H), x0 = max(xs, 0), x1 = min(xs + p[7], W);
    ivec2 best = ivec2(y0, x0);
    m = x[x_at(n, c, y0, x0)];
    for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) {
            TX e = x[x_at(n, c, iy, ix)];
            if (e > m || isnan(e)) { m = e; best = ivec2(iy, ix); }
        }
    return best;
}

void main() {
    int C = p[1], H = p[2], W = p[3], OH = p[4], OW = p[5];
#ifdef POOL_SCATTER
    if (p[12] != 0) {
        TG_FOR_EACH(i) {
            int ox = int(i % uint(OW)), oy = int((i / uint(OW)) % uint(OH));
            int c = int((i / uint(OW * OH)) % uint(C)), n = int(i / uint(OW * OH * C));
            TX m;
            ivec2 at = argmax_of(n, c, oy, ox, m);
            TV val = TV(0) + v[v_at(n, c, oy, ox)];
            for (int ky = 0; ky < p[6]; ky++)
                for (int kx = 0; kx < p[7]; kx++) {
                    int iy = oy * p[6] + ky, ix = ox * p[7] + kx;
                    o[p[20] + ((n * C + c) * H + iy) * W + ix] = ivec2(iy, ix) == at ? val : TV(0);
                }
        }
        return;
    }
    TG_FOR_EACH(i) {
        int ix = int(i % uint(W)), iy = int((i / uint(W)) % uint(H));
        int c = int((i / uint(W * H)) % uint(C)), n = int(i / uint(W * H * C));
        // windows oy with oy sh - ph <= iy < oy sh - ph + kh
        int ty = iy + p[10], tx = ix + p[11];
        int oy0 = ty - p[6] + 1 <= 0 ? 0 : (ty - p[6] + p[8]) / p[8], oy1 = min(ty / p[8], OH - 1);
        int ox0 = tx - p[7] + 1 <= 0 ? 0 : (tx - p[7] + p[9]) / p[9], ox1 = min(tx / p[9], OW - 1);
        TV acc = TV(0);
        for (int oy = oy0; oy <= oy1; oy++)
            for (int ox = ox0; ox <= ox1; ox++) {
                TX m;
                if (argmax_of(n, c, oy, ox, m) == ivec2(iy, ix)) acc += v[v_at(n, c, oy, ox)];
            }
        o[p[20] + int(i)] = acc;
    }
#else
    TG_FOR_EACH(i) {
        int ox = int(i % uint(OW)), oy = int((i / uint(OW)) % uint(OH));
        int c = int((i / uint(OW * OH)) % uint(C)), n = int(i / uint(OW * OH * C));
        TX m;
        ivec2 at = argmax_of(n, c, oy, ox, m);
#ifdef POOL_MAX
        o[p[20] + int(i)] = m;
#else
        o[p[20] + int(i)] = v[v_at(n, c, at.x, at.y)];
#endif
    }
#endif
}
