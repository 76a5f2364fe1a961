// Sum of one float dtype T. Output m (of M, kept axes) sums R elements
// (reduced axes); the R elements are split over G workgroups, each writing
// a partial sum to out[m * G + g] (a second pass adds the G partials).
// Shared-memory tree within a workgroup: no subgroup-size assumption.
//   p[0] M  p[1] R  p[2] G  p[3] nk  p[4] nr  p[5] in base  p[6] out base
//   p[8 + d] kept sizes    p[16 + d] their input strides
//   p[24 + d] reduced sizes p[32 + d] their input strides
#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Params { int p[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(std430, binding = 2) readonly buffer A { T a[]; };
shared T part[256];

int offset_of(uint i, int nd, int sizes, int strides) {
    int o = 0;
    for (int d = nd - 1; d >= 0; d--) {
        uint s = uint(p[sizes + d]);
        o += int(i % s) * p[strides + d];
        i /= s;
    }
    return o;
}

void main() {
    uint M = uint(p[0]), R = uint(p[1]), G = uint(p[2]);
    uint id = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (id >= M * G) return;           /* uniform across the workgroup */
    uint m = id / G, g = id % G, lid = gl_LocalInvocationID.x;
    int base = p[5] + offset_of(m, p[3], 8, 16);
    T acc = T(0);
    for (uint r = g * 256u + lid; r < R; r += G * 256u) acc += a[base + offset_of(r, p[4], 24, 32)];
    part[lid] = acc;
    barrier();
    for (uint w = 128u; w > 0u; w >>= 1) {
        if (lid < w) part[lid] += part[lid + w];
        barrier();
    }
    if (lid == 0u) o[p[6] + int(id)] = part[0];
}
