// Reductions of one storage dtype S accumulated as ACC: op p[7] is
// 0 sum, 1 prod, 2 max, 3 min (max/min propagate NaN, as the CPU kernel).
// The CPLX builds (c64, c128 as float/double pairs; TG_F64 for c128) do
// sum and prod only, prod with C's complex product.
// The u8 build (TG_U8: bools as bytes 0/1, ACC uint) serves all (min), any
// (max), max/min of bools and the sum of bools (a count, int64 out): then
// p[46] = 1 reads 32-bit counts from aw (a second pass) and p[47] writes
// 1: 32-bit counts to ow, 2: int64 (two words, high 0) to ow; bases and
// strides of aw/ow are in 32-bit words. Output m (of M, kept axes) reduces R elements
// (reduced axes); the R elements are split over G workgroups, each writing
// a partial to out[m * G + g] (a second pass reduces the G partials).
// Shared-memory tree within a workgroup: no subgroup-size assumption.
//   p[0] M  p[1] R  p[2] G  p[3] nk  p[4] nr  p[5] in base  p[6] out base
//   p[7] op
//   p[8 + d] kept sizes    p[16 + d] their input strides
//   p[24 + d] reduced sizes p[32 + d] their input strides
//   p[44] 1: divide the result by p[45] (a mean; 0 / 0 is NaN)
//   p[48] (not TG_U8) 0: general; 1: each output's R elements are one
//   contiguous run, element r at base + r; 2: that and every run starts
//   at a multiple of 4 elements, so threads read 4-vectors (gpu/reduce.c)
//   p[49] (not TG_U8) 1: a thread per output (G = 1, one workgroup per 256
//   outputs) looping over its R elements: short reductions of many outputs,
//   such as the split-K partial sums, where a workgroup per output would
//   spend its time starting workgroups and combining mostly empty trees
// Elements are read through elem(o) / elem4(q) (a[o], a4[q]). gpu/fused.c
// builds this text with FUSED_LOAD defined after its own header (the
// parameter block, the operands' buffers and elem(o): a fusion group's
// chain evaluated at element o of its dense output), so a reduction that
// ends a group runs in the group's one kernel, visiting the elements in
// the order the plain kernel reads them (the same bits); it drops the
// #version line below, which must come first.
#version 450
#ifdef TG_U8
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#define S uint8_t
#define ACC uint
#define IS_NAN(x) false
#define POS_INF 1u
#define NEG_INF 0u
#elif defined(CPLX)
// c64/c128 (vec2/dvec2 pairs): sum and prod only, no 4-vector path
#ifdef TG_F64
#define S dvec2
#else
#define S vec2
#endif
#define ACC S
#else
#define S T
#define ACC T
#define IS_NAN(x) isnan(x)
#ifdef TG_F64
#define POS_INF (1.0LF / 0.0LF)
#define NEG_INF (-1.0LF / 0.0LF)
#else
#define POS_INF uintBitsToFloat(0x7f800000u)
#define NEG_INF uintBitsToFloat(0xff800000u)
#endif
#endif
layout(local_size_x = 256) in;
#ifndef FUSED_LOAD
layout(std430, binding = 0) readonly buffer Params { int p[]; };
layout(std430, binding = 2) readonly buffer A { S a[]; };
#define elem(o) a[o]
#endif
layout(std430, binding = 1) writeonly buffer O { S o[]; };
#ifdef TG_U8
layout(std430, binding = 3) writeonly buffer OW { uint ow[]; };
layout(std430, binding = 4) readonly buffer AW { uint aw[]; };
#endif
#ifndef TG_U8
#ifdef TG_F64
#define T4 dvec4
#else
#define T4 vec4
#endif
#ifdef FUSED_LOAD
#define elem4(q) T4(elem(4 * int(q)), elem(4 * int(q) + 1), elem(4 * int(q) + 2), elem(4 * int(q) + 3))
#else
layout(std430, binding = 2) readonly buffer A4 { T4 a4[]; };
#define elem4(q) a4[q]
#endif
#endif
shared ACC part[256];

int offset_of(uint i, int nd, int sizes, int strides) {
    int o = 0;
    for (int d = nd - 1; d >= 0; d--) {
        uint s = uint(p[sizes + d]);
        o += int(i % s) * p[strides + d];
        i /= s;
    }
    return o;
}

#ifdef CPLX
ACC identity(int op) { return op == 1 ? ACC(1, 0) : ACC(0); }
// C's complex product (the finite case of Annex G's)
ACC combine(int op, ACC x, ACC y) {
    if (op != 1) return x + y;
    return ACC(x.x * y.x - x.y * y.y, x.x * y.y + x.y * y.x);
}
#else
ACC identity(int op) {
    switch (op) {
    case 0: return ACC(0);
    case 1: return ACC(1);
    case 2: return NEG_INF;
    default: return POS_INF;
    }
}

// x: new value, y: accumulator (the CPU kernel's MAX_E / MIN_E).
ACC combine(int op, ACC x, ACC y) {
    switch (op) {
    case 0: return x + y;
    case 1: return x * y;
    case 2: return (x > y || IS_NAN(x)) ? x : y;
    default: return (x < y || IS_NAN(x)) ? x : y;
    }
}
#endif

#if !defined(TG_U8) && !defined(CPLX)
T4 combine4(int op, T4 x, T4 y) {
    switch (op) {
    case 0: return x + y;
    case 1: return x * y;
    default: return T4(combine(op, x.x, y.x), combine(op, x.y, y.y), combine(op, x.z, y.z), combine(op, x.w, y.w));
    }
}

// This thread's share of the contiguous run a[base .. base + R): the same
// grid-stride split as the general loop, in 4-vectors where aligned, with
// 4 independent loads in flight per iteration; 4 accumulator lanes.
ACC dense_run(int op, uint base, uint R, uint first, uint step) {
    ACC acc = identity(op);
    uint r = first;
    if (p[48] == 2) {
        uint R4 = R / 4u, b4 = base / 4u, q = first;
        T4 acc4 = T4(identity(op));
        for (; q + 3u * step < R4; q += 4u * step) {
            T4 v0 = elem4(b4 + q), v1 = elem4(b4 + q + step), v2 = elem4(b4 + q + 2u * step), v3 = elem4(b4 + q + 3u * step);
            acc4 = combine4(op, v0, acc4);
            acc4 = combine4(op, v1, acc4);
            acc4 = combine4(op, v2, acc4);
            acc4 = combine4(op, v3, acc4);
        }
        for (; q < R4; q += step) acc4 = combine4(op, elem4(b4 + q), acc4);
        acc = combine(op, acc4.x, acc);
        acc = combine(op, acc4.y, acc);
        acc = combine(op, acc4.z, acc);
        acc = combine(op, acc4.w, acc);
        r = R4 * 4u + first;
    }
    for (; r < R; r += step) acc = combine(op, elem(int(base + r)), acc);
    return acc;
}
#endif

void main() {
    uint M = uint(p[0]), R = uint(p[1]), G = uint(p[2]);
    int op = p[7];
    uint id = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
#ifndef TG_U8
    if (p[49] != 0) {                  /* uniform: no barrier on this path */
        uint t = id * 256u + gl_LocalInvocationID.x;
        if (t >= M) return;
        int tb = p[5] + offset_of(t, p[3], 8, 16);
        ACC tacc = identity(op);
        if (p[4] == 1)
            for (uint r = 0u; r < R; r++) tacc = combine(op, elem(tb + int(r) * p[32]), tacc);
        else
            for (uint r = 0u; r < R; r++) tacc = combine(op, elem(tb + offset_of(r, p[4], 24, 32)), tacc);
        if (p[44] != 0) tacc = tacc / T(p[45]);
        o[p[6] + int(t)] = S(tacc);
        return;
    }
#endif
    if (id >= M * G) return;           /* uniform across the workgroup */
    uint m = id / G, g = id % G, lid = gl_LocalInvocationID.x;
    int base = p[5] + offset_of(m, p[3], 8, 16);
    ACC acc = identity(op);
#if defined(CPLX)
    if (p[48] != 0)
        for (uint r = g * 256u + lid; r < R; r += G * 256u) acc = combine(op, elem(base + int(r)), acc);
    else
#elif !defined(TG_U8)
    if (p[48] != 0) acc = dense_run(op, uint(base), R, g * 256u + lid, G * 256u);
    else
#endif
    for (uint r = g * 256u + lid; r < R; r += G * 256u) {
        int off = base + offset_of(r, p[4], 24, 32);
#ifdef TG_U8
        ACC v = p[46] != 0 ? aw[off] : ACC(a[off]);
#else
        ACC v = elem(off);
#endif
        acc = combine(op, v, acc);
    }
    part[lid] = acc;
    barrier();
    for (uint w = 128u; w > 0u; w >>= 1) {
        if (lid < w) part[lid] = combine(op, part[lid + w], part[lid]);
        barrier();
    }
    if (lid == 0u) {
        ACC r = part[0];
#ifdef TG_U8
        if (p[47] == 1) ow[p[6] + int(id)] = r;
        else if (p[47] == 2) { ow[p[6] + 2 * int(id)] = r; ow[p[6] + 2 * int(id) + 1] = 0u; }
        else o[p[6] + int(id)] = S(r);
#else
        if (p[44] != 0) r = r / T(p[45]);
        o[p[6] + int(id)] = S(r);
#endif
    }
}
