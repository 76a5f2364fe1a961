// Casts with an integer side: SRC -> DST where SRC and DST are 1 bool
// (byte), 2 i32, 3 i64 (two 32-bit words, no shaderInt64 needed), 4 f32,
// 5 f64, at least one of them 2 or 3. As the CPU (NumPy on x86): float to
// int truncates, and NaN or out of range gives the type's minimum; int to
// float rounds once (i64 to f32 may round twice above 2^32 in magnitude).
#version 450
#extension GL_GOOGLE_include_directive : require
#define TG_NO_VEC4
#if SRC == 1 || DST == 1
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#endif
layout(local_size_x = 256) in;
#include "common.glsl"
#if SRC == 1
#define S uint8_t
#elif SRC == 2
#define S int
#elif SRC == 3
#define S uvec2
#elif SRC == 4
#define S float
#else
#define S double
#endif
#if DST == 1
#define D uint8_t
#elif DST == 2
#define D int
#elif DST == 3
#define D uvec2
#elif DST == 4
#define D float
#else
#define D double
#endif
layout(std430, binding = 1) writeonly buffer O { D o[]; };
layout(std430, binding = 2) readonly buffer A { S a[]; };

D conv(S x) {
    D r;
#if SRC <= 3
    // integer source as a 64-bit two's complement (lo, hi)
#if SRC == 1
    uint lo = uint(x) != 0u ? 1u : 0u;
    int hi = 0;
#elif SRC == 2
    uint lo = uint(x);
    int hi = x < 0 ? -1 : 0;
#else
    uint lo = x.x;
    int hi = int(x.y);
#endif
#if DST == 1
    r = uint8_t((lo | uint(hi)) != 0u ? 1 : 0);
#elif DST == 2
    r = int(lo);
#elif DST == 3
    r = uvec2(lo, uint(hi));
#else
    bool small = (hi == 0 && lo < 0x80000000u) || (hi == -1 && lo >= 0x80000000u);
    r = small ? D(int(lo)) : D(hi) * D(4294967296.0) + D(lo);
#endif
#else
    // float source
#if DST == 1
    r = uint8_t(x != S(0) ? 1 : 0);
#elif DST == 2
    r = (x != x || x >= S(2147483648.0) || x < S(-2147483648.0)) ? int(0x80000000u) : int(x);
#else
    if (x != x || x >= S(9223372036854775808.0) || x < S(-9223372036854775808.0)) {
        r = uvec2(0u, 0x80000000u);
    } else if (abs(x) < S(2147483648.0)) {
        int v = int(x);
        r = uvec2(uint(v), v < 0 ? 0xffffffffu : 0u);
    } else {
        S t = trunc(x);
        S h = floor(t / S(4294967296.0));
        S l = t - h * S(4294967296.0);
        r = uvec2(uint(l), uint(int(h)));
    }
#endif
#endif
    return r;
}

void main() {
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = conv(a[tg_offset(i, 1)]);
        return;
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = conv(a[tg_dense(i, 1)]);
}
