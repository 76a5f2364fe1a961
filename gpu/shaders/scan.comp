// cumsum / cumprod along one axis (tensor/ops/scan.c). A line is the n
// elements along the axis at one position of the other axes.
//   pass 0: a thread per line, sequential: the CPU's order of operations
//   long lines, split into chunks of K (three dispatches):
//   pass 1: a thread per (line, chunk) writes the chunk's total to w
//   pass 2: a thread per line turns its chunk totals into exclusive prefixes
//   pass 3: a thread per (line, chunk) scans the chunk from its prefix
// Floats accumulate in T; integers (SCAN_INT, i32 or i64 in: X_I64) in
// 64 bits as two 32-bit words (no shaderInt64), wrapping as the CPU's, and
// write i64 (words).
//   p[0] work items  p[1] n  p[2] other axes  p[3] x axis stride
//   p[4] out axis stride  p[5] x base  p[6] out base  p[7] op (0 sum, 1 prod)
//   p[10] pass  p[11] K  p[12] chunks per line  p[13] w base
//   p[16 + k] size of other axis k, p[24 + k] its x stride, p[32 + k] out's
// Bases and strides count elements (i64: word index = 2 element index).
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

#ifdef SCAN_INT
#define ACC uvec2
layout(std430, binding = 1) buffer O_ { uint o[]; };
layout(std430, binding = 2) readonly buffer X_ { uint x[]; };
layout(std430, binding = 3) buffer W_ { uint w[]; };
ACC load(int i) {
#ifdef X_I64
    return uvec2(x[2 * i], x[2 * i + 1]);
#else
    int v = int(x[i]);
    return uvec2(uint(v), v < 0 ? 0xffffffffu : 0u);
#endif
}
void store(int i, ACC v) { o[2 * i] = v.x; o[2 * i + 1] = v.y; }
ACC wload(int i) { return uvec2(w[2 * i], w[2 * i + 1]); }
void wstore(int i, ACC v) { w[2 * i] = v.x; w[2 * i + 1] = v.y; }
ACC ident() { return p[7] == 0 ? uvec2(0u) : uvec2(1u, 0u); }
ACC combine(ACC a, ACC b) {
    uint c, h, l;
    if (p[7] == 0) {
        uint lo = uaddCarry(a.x, b.x, c);
        return uvec2(lo, a.y + b.y + c);
    }
    umulExtended(a.x, b.x, h, l);      // the low 64 bits of the product
    return uvec2(l, h + a.x * b.y + a.y * b.x);
}
#else
#define ACC T
layout(std430, binding = 1) buffer O_ { T o[]; };
layout(std430, binding = 2) readonly buffer X_ { T x[]; };
layout(std430, binding = 3) buffer W_ { T w[]; };
ACC load(int i) { return x[i]; }
void store(int i, ACC v) { o[i] = v; }
ACC wload(int i) { return w[i]; }
void wstore(int i, ACC v) { w[i] = v; }
ACC ident() { return p[7] == 0 ? T(0) : T(1); }
ACC combine(ACC a, ACC b) {
    if (p[7] == 0) { precise T s = a + b; return s; }
    precise T m = a * b;
    return m;
}
#endif

// First x and out elements of line l.
ivec2 line_base(uint l) {
    ivec2 b = ivec2(p[5], p[6]);
    for (int d = p[2] - 1; d >= 0; d--) {
        uint s = uint(p[16 + d]);
        int r = int(l % s);
        b += r * ivec2(p[24 + d], p[32 + d]);
        l /= s;
    }
    return b;
}

void main() {
    int n = p[1], xs = p[3], os = p[4], pass = p[10], K = p[11], nc = p[12];
    TG_FOR_EACH(t) {
        uint line = pass == 1 || pass == 3 ? t / uint(nc) : t;
        int c = pass == 1 || pass == 3 ? int(t % uint(nc)) : 0;
        ivec2 b = line_base(line);
        if (pass == 2) {
            ACC acc = ident();
            for (int k = 0; k < nc; k++) {
                int at = p[13] + int(t) * nc + k;
                ACC v = wload(at);
                wstore(at, acc);
                acc = combine(acc, v);
            }
            continue;
        }
        int i0 = c * K, i1 = pass == 0 ? n : min(i0 + K, n);
        ACC acc = pass == 3 ? wload(p[13] + int(t)) : ident();
        for (int i = i0; i < i1; i++) {
            acc = combine(acc, load(b.x + i * xs));
            if (pass != 1) store(b.y + i * os, acc);
        }
        if (pass == 1) wstore(p[13] + int(t), acc);
    }
}
