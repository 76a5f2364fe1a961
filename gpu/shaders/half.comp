// Casts with a 2-byte float side and copies of 2-byte elements: SRC -> DST
// where 1 is f16, 2 bf16, 4 f32, 5 f64, at least one of them 1 or 2; COPY
// moves raw 16-bit elements (op 1: fill with p[40]'s low 16 bits), any
// 2-byte dtype. No 16-bit storage needed: 2-byte elements are halves of
// uint words (element e of a buffer is word e / 2, low half when e is
// even), and every conversion works on the bits, as tensor/ops/cast.c does
// (round to nearest even; f32 -> f16 quiets NaN to sign | 0x7e00, f32 ->
// bf16 keeps the top of a NaN's payload and sets the quiet bit; f64 goes
// through f32, rounding twice as the CPU does). So no driver rounding mode,
// denormal flush or NaN canonicalisation can change a result.
// Writes: the dense path (p[3] != 0) gives each invocation a whole output
// word (two elements); only the two edge words, whose other half is not
// this output's, are read, modified and written (no one else writes them
// during the dispatch). The general path's elements may share a word with
// another invocation's, so it sets its half with atomicAnd / atomicOr.
#version 450
#extension GL_GOOGLE_include_directive : require
#define TG_NO_VEC4
layout(local_size_x = 256) in;
#include "common.glsl"
#include "half_bits.glsl"
layout(std430, binding = 1) buffer O { uint ow[]; };
layout(std430, binding = 1) writeonly buffer O64 { uvec2 o64[]; };
layout(std430, binding = 2) readonly buffer A { uint aw[]; };
#if SRC == 5
layout(std430, binding = 2) readonly buffer A64 { double a64[]; };
#endif

uint get16(uint e) { return (aw[e >> 1] >> ((e & 1u) * 16u)) & 0xffffu; }

uint f16_to_f32_bits(uint h) {
    uint sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0u) {
        if (m == 0u) return sign;
        // subnormal: shift the leading 1 up to bit 10 (the implicit bit)
        int sh = 10 - findMSB(m);
        return sign | uint(113 - sh) << 23 | ((m << uint(sh)) & 0x3ffu) << 13;
    }
    if (e == 31u) return sign | 0x7f800000u | m << 13;
    return sign | (e + 112u) << 23 | m << 13;
}

uint f32_to_bf16_bits(uint x) {
    if ((x & 0x7fffffffu) > 0x7f800000u) return (x >> 16) | 0x40u;     // quiet NaN
    x += 0x7fffu + ((x >> 16) & 1u);
    return x >> 16;
}

// f32 bits -> f64 words (low, high), exact; a NaN is quieted as x86's
// cvtss2sd (the CPU's (double)f) does.
uvec2 f32_to_f64_bits(uint x) {
    uint sign = x & 0x80000000u, e = (x >> 23) & 0xffu, m = x & 0x7fffffu, E;
    if (e == 255u) {
        if (m != 0u) m |= 0x400000u;
        E = 0x7ffu;
    } else if (e == 0u) {
        if (m == 0u) return uvec2(0u, sign);
        int k = findMSB(m);                                // bf16's subnormals: m 2^-149
        E = uint(k + 874);
        m = (m << uint(23 - k)) & 0x7fffffu;
    } else {
        E = e + 896u;
    }
    return uvec2(m << 29, sign | E << 20 | m >> 3);
}

// Source element e as f32 bits.
uint load_f32(uint e) {
#if SRC == 1
    return f16_to_f32_bits(get16(e));
#elif SRC == 2
    return get16(e) << 16;
#elif SRC == 4
    return aw[e];
#else
    return floatBitsToUint(float(a64[e]));
#endif
}

#if DST <= 2
// The 16 bits of output element from source element e.
uint value16(uint e) {
#if defined(COPY)
    return p[2] == 1 ? uint(p[40]) & 0xffffu : get16(e);
#elif DST == 1
    return f32_to_f16_bits(load_f32(e));
#else
    return f32_to_bf16_bits(load_f32(e));
#endif
}
#endif

void main() {
#if DST <= 2
    if (p[3] == 0) {
        TG_FOR_EACH(i) {
            uint o = uint(tg_offset(i, 0)), sh = (o & 1u) * 16u;
            uint v = value16(uint(tg_offset(i, 1)));
            atomicAnd(ow[o >> 1], ~(0xffffu << sh));
            atomicOr(ow[o >> 1], v << sh);
        }
        return;
    }
    uint ob = uint(p[4]), n = uint(p[0]), w0 = ob >> 1, nw = ((ob + n + 1u) >> 1) - w0;
    for (uint k = gl_GlobalInvocationID.x; k < nw; k += TG_STEP) {
        // output element e0 = 2 w - ob is the low half (-1 before the first)
        uint w = w0 + k;
        int e0 = int(2u * w) - int(ob);
        bool lo = e0 >= 0, hi = uint(e0 + 1) < n;
        uint vl = lo ? value16(tg_dense(uint(e0), 1)) : 0u;
        uint vh = hi ? value16(tg_dense(uint(e0 + 1), 1)) : 0u;
        if (lo && hi) ow[w] = vl | vh << 16;
        else if (lo) ow[w] = (ow[w] & 0xffff0000u) | vl;
        else ow[w] = (ow[w] & 0xffffu) | vh << 16;
    }
#else
    if (p[3] == 0) {
        TG_FOR_EACH(i) {
#if DST == 4
            ow[tg_offset(i, 0)] = load_f32(uint(tg_offset(i, 1)));
#else
            o64[tg_offset(i, 0)] = f32_to_f64_bits(load_f32(uint(tg_offset(i, 1))));
#endif
        }
        return;
    }
    TG_FOR_EACH_DENSE(i) {
#if DST == 4
        ow[tg_dense(i, 0)] = load_f32(tg_dense(i, 1));
#else
        o64[tg_dense(i, 0)] = f32_to_f64_bits(load_f32(tg_dense(i, 1)));
#endif
    }
#endif
}
