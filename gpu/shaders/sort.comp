// sort / topk along one axis (tensor/ops/sort.c): a workgroup per line, a
// bitonic sort of (key, index) pairs in shared memory (lines up to MAXN,
// padded to a power of two P with entries that sort last). Ties break on
// the original index, so the order is the CPU's stable one: ascending puts
// NaN last, descending reverses the comparison (NaN first), equal keys
// keep their order. The first k entries are written: values (T) and i64
// indices (two words, high 0).
//   p[0] lines  p[1] n  p[2] P  p[3] k  p[4] descending  p[5] other axes
//   p[6] x axis stride  p[7] v axis stride  p[8] i axis stride
//   p[9] x base  p[10] v base  p[11] i base (elements)
//   p[16 + d] size of other axis d, p[24 + d] x, p[32 + d] v, p[40 + d] i strides
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

layout(std430, binding = 1) writeonly buffer V_ { T v[]; };
layout(std430, binding = 2) writeonly buffer I_ { uint ix[]; };
layout(std430, binding = 3) readonly buffer X_ { T x[]; };

shared T key[MAXN];
shared int idx[MAXN];

#ifdef INT_KEYS
bool lt(T a, T b) { return a < b; }
#else
bool lt(T a, T b) { return a < b || (isnan(b) && !isnan(a)); }     // NaN after every number
#endif

// Entry (ka, ia) goes strictly before (kb, ib); padding (index -1) goes last.
bool before(T ka, int ia, T kb, int ib, bool desc) {
    if (ia < 0) return false;
    if (ib < 0) return true;
    bool l = desc ? lt(kb, ka) : lt(ka, kb), g = desc ? lt(ka, kb) : lt(kb, ka);
    return l || (!g && ia < ib);
}

void main() {
    int n = p[1], P = p[2], K = p[3];
    bool desc = p[4] != 0;
    uint tid = gl_LocalInvocationID.x;
    for (uint line = gl_WorkGroupID.x; line < uint(p[0]); line += gl_NumWorkGroups.x) {
        ivec3 b = ivec3(p[9], p[10], p[11]);
        uint l = line;
        for (int d = p[5] - 1; d >= 0; d--) {
            uint s = uint(p[16 + d]);
            int r = int(l % s);
            b += r * ivec3(p[24 + d], p[32 + d], p[40 + d]);
            l /= s;
        }
        for (int i = int(tid); i < P; i += TG_LOCAL) {
            idx[i] = i < n ? i : -1;
            key[i] = i < n ? x[b.x + i * p[6]] : T(0);
        }
        barrier();
        for (int k = 2; k <= P; k <<= 1)
            for (int j = k >> 1; j > 0; j >>= 1) {
                for (int i = int(tid); i < P; i += TG_LOCAL) {
                    int o = i ^ j;
                    if (o > i) {
                        bool up = (i & k) == 0;
                        T ki = key[i], ko = key[o];
                        int ii = idx[i], io = idx[o];
                        if (up ? before(ko, io, ki, ii, desc) : before(ki, ii, ko, io, desc)) {
                            key[i] = ko; key[o] = ki;
                            idx[i] = io; idx[o] = ii;
                        }
                    }
                }
                barrier();
            }
        for (int i = int(tid); i < K; i += TG_LOCAL) {
            v[b.y + i * p[7]] = key[i];
            int w = b.z + i * p[8];
            ix[2 * w] = uint(idx[i]);
            ix[2 * w + 1] = 0u;
        }
        barrier();      // the next line reuses the shared arrays
    }
}
