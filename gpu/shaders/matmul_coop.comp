// f16 batched matmul on NVIDIA's cooperative matrices (GL_NV_cooperative_matrix:
// Debian 12's glslang has no KHR version): C[b] = A[b] B[b], f16 operands,
// f32 accumulation, f16 result rounded to nearest even (the CPU's rounding).
//
// A workgroup of 4 subgroups (32 lanes each, checked on the host) computes a
// BM x BN = 128 x 128 tile of C, each subgroup a 64 x 64 quarter as 4 x 8
// accumulators of 16 x 8 (the 16x8x16 shape NVIDIA offers for f16). Tiles
// of A and B of depth BK = 32 are staged in shared memory as uvec4 (8 f16
// each, so no 16-bit storage is needed), the next one read from global
// memory into registers while the current one is multiplied, then stored
// into the other of two shared buffers: one barrier per step.
//
// Parameters: those of matmul.comp (p[0..29], element offsets and strides
// in f16 elements), plus
//   p[30] 1: A is read with m fastest (column-major, ars == 1), else k fastest
//   p[31] 1: B is read with k fastest (column-major, brs == 1), else n fastest
// The host checks that the fast axis has unit stride and a size that is a
// multiple of 8, that the other strides and the bases are multiples of 8,
// and that C is contiguous with N and its base even (pairs of f16 are
// written as uints). Rows and columns beyond M, N, K are bounds-checked.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require

#include "half_bits.glsl"

#define BM 128
#define BN 128
#define BK 32
#define NT 128
#define SA 640          // uvec4 slots of one staged A (or B) tile, padded
#define LS 4            // uvec4 slots each thread loads per tile and operand

layout(local_size_x = NT) in;
layout(std430, binding = 0) readonly buffer Params { int p[]; };
layout(std430, binding = 1) writeonly buffer C { uint cw[]; };
layout(std430, binding = 2) readonly restrict buffer A { uvec4 a8[]; };
layout(std430, binding = 3) readonly restrict buffer B { uvec4 b8[]; };

shared uvec4 As[2][SA];
shared uvec4 Bs[2][SA];
shared float Cs[4][16 * 8];

int M, N, K, ab, bb, ars, acs, brs, bcs, m0, n0, tid;
bool acol, bcol;
uvec4 ra[LS], rb[LS];

// Shared layouts (uvec4 units): A row-major: As[m][k/8], row stride 5;
// A column-major: As[k][m/8], row stride 17. B row-major: Bs[k][n/8], 17;
// B column-major: Bs[n][k/8], 5. The padding spreads rows over banks.
void load_tiles(int k0) {
    [[unroll]] for (int s = 0; s < LS; s++) {
        int v = tid + s * NT;
        uvec4 r = uvec4(0);
        if (!acol) {
            int m = m0 + v / 4, k = k0 + (v % 4) * 8;
            if (m < M && k < K) r = a8[(ab + m * ars + k) >> 3];
        } else {
            int k = k0 + v / 16, m = m0 + (v % 16) * 8;
            if (k < K && m < M) r = a8[(ab + k * acs + m) >> 3];
        }
        ra[s] = r;
        r = uvec4(0);
        if (!bcol) {
            int k = k0 + v / 16, n = n0 + (v % 16) * 8;
            if (k < K && n < N) r = b8[(bb + k * brs + n) >> 3];
        } else {
            int n = n0 + v / 4, k = k0 + (v % 4) * 8;
            if (n < N && k < K) r = b8[(bb + n * bcs + k) >> 3];
        }
        rb[s] = r;
    }
}

void store_tiles(int buf) {
    [[unroll]] for (int s = 0; s < LS; s++) {
        int v = tid + s * NT;
        As[buf][!acol ? (v / 4) * 5 + v % 4 : (v / 16) * 17 + v % 16] = ra[s];
        Bs[buf][!bcol ? (v / 16) * 17 + v % 16 : (v / 4) * 5 + v % 4] = rb[s];
    }
}

void main() {
    M = p[0]; N = p[1]; K = p[2];
    ars = p[8]; acs = p[9]; brs = p[10]; bcs = p[11];
    acol = p[30] != 0;
    bcol = p[31] != 0;
    uint batch = gl_WorkGroupID.z, bi = batch;
    ab = p[5]; bb = p[6];
    for (int d = p[4] - 1; d >= 0; d--) {
        uint s = uint(p[12 + d]);
        int k = int(bi % s);
        bi /= s;
        ab += k * p[18 + d];
        bb += k * p[24 + d];
    }
    tid = int(gl_LocalInvocationID.x);
    int w = tid / 32, lane = tid % 32;
    int wm = (w / 2) * 64, wn = (w % 2) * 64;    // this subgroup's quarter
    m0 = int(gl_WorkGroupID.y) * BM;
    n0 = int(gl_WorkGroupID.x) * BN;

    fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> acc[4][8];
    [[unroll]] for (int i = 0; i < 4; i++)
        [[unroll]] for (int j = 0; j < 8; j++) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);

    int ntiles = (K + BK - 1) / BK;
    if (ntiles > 0) {
        load_tiles(0);
        store_tiles(0);
        barrier();
    }
    for (int t = 0; t < ntiles; t++) {
        int buf = t & 1;
        bool more = t + 1 < ntiles;
        if (more) load_tiles((t + 1) * BK);
        [[unroll]] for (int kk = 0; kk < BK; kk += 16) {
            fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> fa[4];
            fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> fb[8];
            [[unroll]] for (int i = 0; i < 4; i++) {
                int m = wm + i * 16;
                if (!acol) coopMatLoadNV(fa[i], As[buf], uint(m * 5 + kk / 8), 5u, false);
                else coopMatLoadNV(fa[i], As[buf], uint(kk * 17 + m / 8), 17u, true);
            }
            [[unroll]] for (int j = 0; j < 8; j++) {
                int n = wn + j * 8;
                if (!bcol) coopMatLoadNV(fb[j], Bs[buf], uint(kk * 17 + n / 8), 17u, false);
                else coopMatLoadNV(fb[j], Bs[buf], uint(n * 5 + kk / 8), 5u, true);
            }
            [[unroll]] for (int i = 0; i < 4; i++)
                [[unroll]] for (int j = 0; j < 8; j++) acc[i][j] = coopMatMulAddNV(fa[i], fb[j], acc[i][j]);
        }
        if (more) store_tiles(buf ^ 1);
        barrier();
    }

    // Each accumulator goes through this subgroup's 16 x 8 scratch; lane l
    // writes row l / 2, columns 4 (l % 2) .. + 3 as two f16 pairs.
    int cb = p[7] + int(batch) * M * N;
    int row = lane / 2, col = (lane % 2) * 4;
    [[unroll]] for (int i = 0; i < 4; i++)
        [[unroll]] for (int j = 0; j < 8; j++) {
            coopMatStoreNV(acc[i][j], Cs[w], 0u, 8u, false);
            subgroupMemoryBarrierShared();
            subgroupBarrier();
            int m = m0 + wm + i * 16 + row, n = n0 + wn + j * 8 + col;
            if (m < M) {
                int o = cb + m * N + n;
                [[unroll]] for (int q = 0; q < 4; q += 2)
                    if (n + q < N) {
                        uint lo = f32_to_f16_bits(floatBitsToUint(Cs[w][row * 8 + col + q]));
                        uint hi = f32_to_f16_bits(floatBitsToUint(Cs[w][row * 8 + col + q + 1]));
                        cw[(o + q) >> 1] = lo | hi << 16;
                    }
            }
            subgroupBarrier();
        }
}
