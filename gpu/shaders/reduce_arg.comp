// argmax (op p[7] = 0) / argmin (1) of one float dtype T: the first NaN
// wins, then the first extreme (ties -> the lowest index), as NumPy and the
// CPU kernel. Output m (of M) scans R elements split over G workgroups;
// each writes a (value, index) pair: with G > 1 to the partial buffers
// (values ov, indices oi as uint), reduced by a second pass that reads the
// pairs back (p[40] = 1: indices from ai). The final pass writes int64
// indices as two uint words (low, high = 0) at oi[p[42] + 2 m].
//   p[0] M  p[1] R  p[2] G  p[3] nk  p[4] nr  p[5] in base  p[6] ov base
//   p[8 + d] kept sizes    p[16 + d] their input strides
//   p[24 + d] reduced sizes p[32 + d] their input strides
//   p[40] indices from ai  p[41] final (int64 output)  p[42] oi base (words)
//   p[43] ai base (words)
#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Params { int p[]; };
layout(std430, binding = 1) writeonly buffer OV { T ov[]; };
layout(std430, binding = 2) writeonly buffer OI { uint oi[]; };
layout(std430, binding = 3) readonly buffer A { T a[]; };
layout(std430, binding = 4) readonly buffer AI { uint ai[]; };
shared T sv[256];
shared uint si[256];

const uint NONE = 0xffffffffu;

int offset_of(uint i, int nd, int sizes, int strides) {
    int o = 0;
    for (int d = nd - 1; d >= 0; d--) {
        uint s = uint(p[sizes + d]);
        o += int(i % s) * p[strides + d];
        i /= s;
    }
    return o;
}

// (v1, i1) is preferred over (v2, i2).
bool better(bool amax, T v1, uint i1, T v2, uint i2) {
    if (i2 == NONE) return i1 != NONE;
    if (i1 == NONE) return false;
    bool n1 = isnan(v1), n2 = isnan(v2);
    if (n1 || n2) return n1 && (!n2 || i1 < i2);
    if (v1 == v2) return i1 < i2;
    return amax ? v1 > v2 : v1 < v2;
}

void main() {
    uint M = uint(p[0]), R = uint(p[1]), G = uint(p[2]);
    bool amax = p[7] == 0, pairs = p[40] != 0;
    uint id = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (id >= M * G) return;           /* uniform across the workgroup */
    uint m = id / G, g = id % G, lid = gl_LocalInvocationID.x;
    int kb = offset_of(m, p[3], 8, 16);
    T bv = T(0);
    uint bi = NONE;
    for (uint r = g * 256u + lid; r < R; r += G * 256u) {
        int off = kb + offset_of(r, p[4], 24, 32);
        T v = a[p[5] + off];
        uint i = pairs ? ai[p[43] + off] : r;
        if (better(amax, v, i, bv, bi)) { bv = v; bi = i; }
    }
    sv[lid] = bv;
    si[lid] = bi;
    barrier();
    for (uint w = 128u; w > 0u; w >>= 1) {
        if (lid < w && better(amax, sv[lid + w], si[lid + w], sv[lid], si[lid])) {
            sv[lid] = sv[lid + w];
            si[lid] = si[lid + w];
        }
        barrier();
    }
    if (lid == 0u) {
        if (p[41] != 0) {
            oi[p[42] + 2 * int(id)] = si[0];
            oi[p[42] + 2 * int(id) + 1] = 0u;
        } else {
            ov[p[6] + int(id)] = sv[0];
            oi[p[42] + int(id)] = si[0];
        }
    }
}
