// f16 batched matmul on NVIDIA's cooperative matrices (GL_NV_cooperative_matrix:
// Debian 12's glslang has no KHR version): C[b] = A[b] B[b], f16 operands,
// f32 accumulation, f16 result rounded to nearest even (the CPU's rounding).
//
// A workgroup of WM x WN subgroups (32 lanes each, checked on the host)
// computes a BM x BN tile of C, each subgroup FM x FN accumulators of 16 x 8
// (the 16x8x16 shape NVIDIA offers for f16). Tiles of A and B of depth BK
// are staged in shared memory as uvec4 (8 f16 each, so no 16-bit storage is
// needed), the next one read from global memory into registers while the
// current one is multiplied.
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

// Tile shape (matmul_coop.variants): WM x WN subgroups, each FM x FN
// accumulators of 16 x 8; BK deep steps; DB 1: two shared buffers (one
// barrier per step), 0: one (two barriers per step).
#ifndef WM
#define WM 2
#define WN 2
#define FM 4
#define FN 8
#define BK 32
#define DB 1
#endif
#define NT (WM * WN * 32)
#define BM (WM * FM * 16)
#define BN (WN * FN * 8)
#define AROW (BK / 8 + 1)          // padded row strides (uvec4) of the staged tiles
#define ACOL (BM / 8 + 1)
#define BROW (BN / 8 + 1)
#define BCOL (BK / 8 + 1)
#define SA_ (BM * AROW > BK * ACOL ? BM * AROW : BK * ACOL)
#define SB_ (BK * BROW > BN * BCOL ? BK * BROW : BN * BCOL)
#define LA (BM * BK / 8 / NT)      // uvec4 slots each thread loads per tile
#define LB (BK * BN / 8 / NT)
#define NBUF (DB + 1)

layout(local_size_x = NT) in;
layout(std430, binding = 0) readonly buffer Params { int p[]; };
layout(std430, binding = 1) writeonly buffer C { uint cw[]; };
layout(std430, binding = 2) readonly restrict buffer A { uvec4 a8[]; };
layout(std430, binding = 3) readonly restrict buffer B { uvec4 b8[]; };

shared uvec4 As[NBUF][SA_];
shared uvec4 Bs[NBUF][SB_];
shared float Cs[WM * WN][16 * 8];

int M, N, K, ab, bb, ars, acs, brs, bcs, m0, n0, tid;
bool acol, bcol;
uvec4 ra[LA], rb[LB];

// Shared layouts (uvec4 units): A row-major: As[m][k/8], row stride AROW;
// A column-major: As[k][m/8], ACOL. B row-major: Bs[k][n/8], BROW;
// B column-major: Bs[n][k/8], BCOL. The padding spreads rows over banks.
void load_tiles(int k0) {
    [[unroll]] for (int s = 0; s < LA; s++) {
        int v = tid + s * NT;
        uvec4 r = uvec4(0);
        if (!acol) {
            int m = m0 + v / (BK / 8), k = k0 + (v % (BK / 8)) * 8;
            if (m < M && k < K) r = a8[(ab + m * ars + k) >> 3];
        } else {
            int k = k0 + v / (BM / 8), m = m0 + (v % (BM / 8)) * 8;
            if (k < K && m < M) r = a8[(ab + k * acs + m) >> 3];
        }
        ra[s] = r;
    }
    [[unroll]] for (int s = 0; s < LB; s++) {
        int v = tid + s * NT;
        uvec4 r = uvec4(0);
        if (!bcol) {
            int k = k0 + v / (BN / 8), n = n0 + (v % (BN / 8)) * 8;
            if (k < K && n < N) r = b8[(bb + k * brs + n) >> 3];
        } else {
            int n = n0 + v / (BK / 8), k = k0 + (v % (BK / 8)) * 8;
            if (n < N && k < K) r = b8[(bb + n * bcs + k) >> 3];
        }
        rb[s] = r;
    }
}

void store_tiles(int buf) {
    [[unroll]] for (int s = 0; s < LA; s++) {
        int v = tid + s * NT;
        As[buf][!acol ? (v / (BK / 8)) * AROW + v % (BK / 8) : (v / (BM / 8)) * ACOL + v % (BM / 8)] = ra[s];
    }
    [[unroll]] for (int s = 0; s < LB; s++) {
        int v = tid + s * NT;
        Bs[buf][!bcol ? (v / (BN / 8)) * BROW + v % (BN / 8) : (v / (BK / 8)) * BCOL + v % (BK / 8)] = rb[s];
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
    int wm = (w / WN) * (FM * 16), wn = (w % WN) * (FN * 8);    // this subgroup's part
    m0 = int(gl_WorkGroupID.y) * BM;
    n0 = int(gl_WorkGroupID.x) * BN;

    fcoopmatNV<32, gl_ScopeSubgroup, 16, 8> acc[FM][FN];
    [[unroll]] for (int i = 0; i < FM; i++)
        [[unroll]] for (int j = 0; j < FN; j++) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>(0.0);

    int ntiles = (K + BK - 1) / BK;
    if (ntiles > 0) {
        load_tiles(0);
        store_tiles(0);
        barrier();
    }
    for (int t = 0; t < ntiles; t++) {
        int buf = DB == 1 ? t & 1 : 0;
        bool more = t + 1 < ntiles;
        if (more) load_tiles((t + 1) * BK);
        [[unroll]] for (int kk = 0; kk < BK; kk += 16) {
            fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> fa[FM];
            fcoopmatNV<16, gl_ScopeSubgroup, 16, 8> fb[FN];
            [[unroll]] for (int i = 0; i < FM; i++) {
                int m = wm + i * 16;
                if (!acol) coopMatLoadNV(fa[i], As[buf], uint(m * AROW + kk / 8), uint(AROW), false);
                else coopMatLoadNV(fa[i], As[buf], uint(kk * ACOL + m / 8), uint(ACOL), true);
            }
            [[unroll]] for (int j = 0; j < FN; j++) {
                int n = wn + j * 8;
                if (!bcol) coopMatLoadNV(fb[j], Bs[buf], uint(kk * BROW + n / 8), uint(BROW), false);
                else coopMatLoadNV(fb[j], Bs[buf], uint(n * BCOL + kk / 8), uint(BCOL), true);
            }
            [[unroll]] for (int i = 0; i < FM; i++)
                [[unroll]] for (int j = 0; j < FN; j++) acc[i][j] = coopMatMulAddNV(fa[i], fb[j], acc[i][j]);
        }
#if DB == 0
        barrier();
#endif
        if (more) store_tiles(DB == 1 ? buf ^ 1 : 0);
        barrier();
    }

    // Each accumulator goes through this subgroup's 16 x 8 scratch; lane l
    // writes row l / 2, columns 4 (l % 2) .. + 3 as two f16 pairs.
    int cb = p[7] + int(batch) * M * N;
    int row = lane / 2, col = (lane % 2) * 4;
    [[unroll]] for (int i = 0; i < FM; i++)
        [[unroll]] for (int j = 0; j < FN; j++) {
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
