// Philox 4x32-10 draws in tensor/random.c's stream layout: thread j makes
// block j = philox(counter = offset + j, key = seed) and writes the values
// that block gives (4 f32 or 2 f64/int), so the stream does not depend on
// the launch shape. One module per storage type; p[2] picks what is drawn.
//   p[0] blocks  p[1] n (values)  p[2] mode  p[3] out base (elements of T;
//   32-bit words in the integer build)
//   p[4], p[5] offset (low, high word)   p[6], p[7] seed (low, high)
//   mode 0 uniform: a + w u            p[8..9] a, p[10..11] w (= b - a)
//   mode 1 normal: a + w r cos|sin     (Box-Muller on the block's pairs)
//   mode 2 mask: u < a ? w : 0         (dropout: a = keep, w = 1 / keep)
// Reals arrive as double bits (low, high) in the f64 builds and as float
// bits in p[8], p[10] in the f32 build. Integer build (PHILOX_INT): out =
// lo + mulhi64(u64 of lanes (0,1) or (2,3), range), p[8..9] lo and
// p[10..11] range as 64-bit words, p[12] 1: i64 out (two words), 0: i32.
// T is the stored type, R the one computed in: double wherever TG_F64 is
// set. The f32-with-float-math build needs no shaderFloat64; f32 with
// double math (philox_f32d) gives uniforms bit-equal to the CPU's for any
// (a, b) and normals within an ulp of it. OUT_F64: the f64 layout (2 per
// block, 53 bits); otherwise 4 per block from the top 24 bits.
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

#ifdef PHILOX_INT
layout(std430, binding = 1) writeonly buffer O_ { uint o[]; };
#else
layout(std430, binding = 1) writeonly buffer O_ { T o[]; };
#endif

uvec4 philox(uvec4 c, uvec2 k) {
    for (int r = 0; r < 10; r++) {
        uint h0, l0, h1, l1;
        umulExtended(0xD2511F53u, c.x, h0, l0);
        umulExtended(0xCD9E8D57u, c.z, h1, l1);
        c = uvec4(h1 ^ c.y ^ k.x, l1, h0 ^ c.w ^ k.y, l0);
        k += uvec2(0x9E3779B9u, 0xBB67AE85u);
    }
    return c;
}

#ifdef PHILOX_INT
// High 64 bits of the 128-bit product of two 64-bit words (x, y: low, high).
uvec2 mulhi64(uvec2 x, uvec2 y) {
    uint h00, l00, h01, l01, h10, l10, h11, l11, c1, c2, c3;
    umulExtended(x.x, y.x, h00, l00);
    umulExtended(x.x, y.y, h01, l01);
    umulExtended(x.y, y.x, h10, l10);
    umulExtended(x.y, y.y, h11, l11);
    uint mid = uaddCarry(h00, l01, c1);       // bits 32..63
    mid = uaddCarry(mid, l10, c2);
    uint lo = uaddCarry(h01, h10, c3);       // bits 64..95
    uint c4, c5;
    lo = uaddCarry(lo, l11, c4);
    lo = uaddCarry(lo, c1 + c2, c5);
    return uvec2(lo, h11 + c3 + c4 + c5);
}
uvec2 add64(uvec2 x, uvec2 y) {
    uint c;
    uint lo = uaddCarry(x.x, y.x, c);
    return uvec2(lo, x.y + y.y + c);
}
#else

#if defined(TG_F64)
#define R double
#define RV2 dvec2
#define SQRT2 1.4142135623730951LF
#define PI_2 1.5707963267948966LF
R real_at(int i) { return packDouble2x32(uvec2(p[i], p[i + 1])); }
// log x for normal x > 0 (x = m 2^e, m in [sqrt(1/2), sqrt(2)]):
// 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, to 2^-53.
double log_r(double x) {
    uvec2 w = unpackDouble2x32(x);
    int e = int((w.y >> 20) & 0x7ffu) - 1023;
    double m = packDouble2x32(uvec2(w.x, (w.y & 0x000fffffu) | 0x3ff00000u));
    if (m > SQRT2) { m *= 0.5LF; e++; }
    double s = (m - 1.0LF) / (m + 1.0LF), z = s * s, t = 1.0LF / 25.0LF;
    for (int k = 11; k >= 0; k--) t = t * z + 1.0LF / double(2 * k + 1);
    // ln 2 split (fdlibm): e ln2_hi is exact
    return double(e) * 6.93147180369123816490e-01LF + (2.0LF * s * t + double(e) * 1.90821492927058770002e-10LF);
}
// (cos, sin) of r in [-pi/4, pi/4]: Taylor to r^18 (error < 2^-60).
dvec2 cossin_r(double r) {
    double z = r * r, s = 0.0LF, c = 0.0LF;
    for (int k = 8; k >= 1; k--) s = -(1.0LF + s) * z / double((2 * k) * (2 * k + 1));
    for (int k = 9; k >= 1; k--) c = -(1.0LF + c) * z / double((2 * k - 1) * (2 * k));
    return dvec2(1.0LF + c, r + r * s);
}
#else
#define R float
#define RV2 vec2
#define SQRT2 1.41421356f
#define PI_2 1.57079633f
R real_at(int i) { return intBitsToFloat(p[i]); }
float log_r(float x) {
    uint w = floatBitsToUint(x);
    int e = int((w >> 23) & 0xffu) - 127;
    float m = uintBitsToFloat((w & 0x007fffffu) | 0x3f800000u);
    if (m > SQRT2) { m *= 0.5; e++; }
    float s = (m - 1.0) / (m + 1.0), z = s * s, t = 1.0 / 13.0;
    for (int k = 5; k >= 0; k--) t = t * z + 1.0 / float(2 * k + 1);
    return float(e) * 6.9313812256e-01f + (2.0 * s * t + float(e) * 9.0580006145e-06f);
}
vec2 cossin_r(float r) {
    float z = r * r, s = 0.0, c = 0.0;
    for (int k = 5; k >= 1; k--) s = -(1.0 + s) * z / float((2 * k) * (2 * k + 1));
    for (int k = 6; k >= 1; k--) c = -(1.0 + c) * z / float((2 * k - 1) * (2 * k));
    return vec2(1.0 + c, r + r * s);
}
#endif

// (cos, sin) of 2 pi u, u in [0, 1): reduced exactly by quarter turns, so
// the polynomial sees |r| <= pi/4 whatever the driver's sin/cos accuracy.
RV2 cossin_turn(R u) {
    R t = 4.0 * u;
    R q = floor(t), f = t - q;
    if (f > 0.5) { f -= 1.0; q += 1.0; }
    precise R r = f * PI_2;
    RV2 cs = cossin_r(r);
    R c = cs.x, s = cs.y;
    int quad = int(q) & 3;
    if (quad == 0) return RV2(c, s);
    if (quad == 1) return RV2(-s, c);
    if (quad == 2) return RV2(-c, -s);
    return RV2(s, -c);
}

// The uniforms of one block: 4 f32 (top 24 bits) or 2 f64 (53 bits).
#if defined(OUT_F64)
#define PER 2
void uniforms(uvec4 r, out R u[4]) {
    u[0] = (double(r.x >> 5) * 67108864.0LF + double(r.y >> 6)) * (1.0LF / 9007199254740992.0LF);
    u[1] = (double(r.z >> 5) * 67108864.0LF + double(r.w >> 6)) * (1.0LF / 9007199254740992.0LF);
    u[2] = 0.0LF;
    u[3] = 0.0LF;
}
#else
#define PER 4
void uniforms(uvec4 r, out R u[4]) {
    u[0] = R(r.x >> 8) * R(1.0 / 16777216.0);
    u[1] = R(r.y >> 8) * R(1.0 / 16777216.0);
    u[2] = R(r.z >> 8) * R(1.0 / 16777216.0);
    u[3] = R(r.w >> 8) * R(1.0 / 16777216.0);
}
#endif
#endif

void main() {
    uint blocks = uint(p[0]), n = uint(p[1]);
    int mode = p[2], base = p[3];
    uvec2 key = uvec2(p[6], p[7]);
    for (uint j = gl_GlobalInvocationID.x; j < blocks; j += gl_NumWorkGroups.x * TG_LOCAL) {
        uint carry;
        uint c0 = uaddCarry(uint(p[4]), j, carry);
        uvec4 r = philox(uvec4(c0, uint(p[5]) + carry, 0u, 0u), key);
#ifdef PHILOX_INT
        uvec2 lo = uvec2(p[8], p[9]), range = uvec2(p[10], p[11]);
        bool wide = p[12] != 0;
        for (uint k = 0u; k < 2u && 2u * j + k < n; k++) {
            uvec2 u = k == 0u ? uvec2(r.y, r.x) : uvec2(r.w, r.z);      // (low, high) of lanes (2k, 2k+1)
            uvec2 v = add64(lo, mulhi64(u, range));
            uint i = 2u * j + k;
            if (wide) { o[base + int(2u * i)] = v.x; o[base + int(2u * i + 1u)] = v.y; }
            else o[base + int(i)] = v.x;
        }
#else
        R u[4];
        uniforms(r, u);
        R a = real_at(8), w = real_at(10), v[4];
        if (mode == 0) {
            for (int k = 0; k < PER; k++) { precise R x = a + w * u[k]; v[k] = x; }
        } else if (mode == 1) {
            for (int k = 0; k < PER; k += 2) {
                R rad = sqrt(-2.0 * log_r(1.0 - u[k]));
                RV2 cs = cossin_turn(u[k + 1]);
                v[k] = a + w * rad * cs.x;
                v[k + 1] = a + w * rad * cs.y;
            }
        } else {
            R keep = a;
            for (int k = 0; k < PER; k++) v[k] = u[k] < keep ? w : R(0);
        }
        for (uint k = 0u; k < uint(PER) && uint(PER) * j + k < n; k++) o[base + int(uint(PER) * j + k)] = T(v[k]);
#endif
    }
}
