// Register-tiled batched matmul C[b] = A[b] B[b] of one float dtype T
// (V: its 4-vector). A workgroup of NT = (BM/TM)(BN/TN) threads computes a
// BM x BN tile of C; each thread holds a TM x TN micro-tile in registers,
// as TM/4 x TN/4 blocks of 4x4 spread over the tile (rows
// i*4*TY + 4*ty + 0..3, columns j*4*TX + 4*tx + 0..3), so that its operand
// fragments are whole vec4s of shared memory. A (stored transposed, k-major)
// and B tiles of depth BK are staged in two shared buffers: the next tile is
// read from global memory into registers while the current one is
// multiplied, then stored into the other buffer, one barrier per step.
//
// Parameters: those of matmul.comp, plus
//   p[30] A mode: bit 1 set: A is read with m fastest (column stride 1),
//         else k fastest; bit 0 set: vec4 loads along the fast axis are
//         aligned (unit stride, the other strides and base multiples of 4)
//   p[31] B mode: bit 1 set: B is read with k fastest (row stride 1), else n
//         fastest; bit 0: vec4 loads aligned, as for A
//   p[32] 1: C rows may be written as vec4 (N and the C base multiples of 4)
//   p[40..45] the epilogue of matmul.comp (EPILOGUE builds: bias from
//         binding 4, ReLU; separate modules, so plain products carry none of it;
//         run-time builds add EP_ACT, an activation applied last)
// Edges (M, N, K not multiples of the tile) are bounds-checked per vec4:
// partial vectors fall back to scalar loads/stores.
#version 450
#extension GL_EXT_control_flow_attributes : require
// TG_FORMULAS (gpu/matmul.c puts the formulas here in a generated build)
#ifdef EP_ACT
// The activation behind a function boundary: `precise` marks the
// operations a precise value is computed from, and here that stops at the
// parameter, so the product's own arithmetic keeps the fused multiply-adds
// of the plain build (a precise result at the call site made NVIDIA's
// compiler round the whole accumulation apart: other bits than the
// product's kernel followed by the op's).
T ep_act(T x) { precise T y = EP_ACT(x); return y; }
#endif

#define TX (BN / TN)
#define TY (BM / TM)
#define NT (TX * TY)
#define RM (TM / 4)
#define RN (TN / 4)
#define LA (BM * BK / 4 / NT)   // vec4 slots of the A tile per thread
#define LB (BK * BN / 4 / NT)
#ifndef PAD
#define PAD 1                   // padded rows: conflict-free transposed stores
#endif
#ifndef GROUP
#define GROUP 8                 // tile rows per group of the workgroup order
#endif
#define APAD (BM / 4 + PAD)
#define BPAD (BN / 4 + PAD)

layout(local_size_x = NT) in;
layout(std430, binding = 0) readonly buffer Params { int p[]; };
layout(std430, binding = 1) writeonly buffer C { T c[]; };
layout(std430, binding = 1) writeonly buffer C4 { V c4[]; };
layout(std430, binding = 2) readonly restrict buffer A { T a[]; };
layout(std430, binding = 2) readonly restrict buffer A4 { V a4[]; };
layout(std430, binding = 3) readonly restrict buffer B { T b[]; };
layout(std430, binding = 3) readonly restrict buffer B4 { V b4[]; };
#ifdef EPILOGUE
layout(std430, binding = 4) readonly restrict buffer E { T e[]; };
#endif

shared V As[2][BK][APAD];
shared V Bs[2][BK][BPAD];

int M, N, K, ab, bb, ars, acs, brs, bcs, m0, n0, tid;
bool amfast, avec, bkfast, bvec;
V ra[LA], rb[LB];

// Global -> registers: slot s of the A tile starting at depth k0.
void load_a(int k0) {
    [[unroll]] for (int s = 0; s < LA; s++) {
        int v = tid + s * NT;
        V r = V(0);
        if (!amfast) {
            int row = m0 + v / (BK / 4), kk = k0 + (v % (BK / 4)) * 4;
            int o = ab + row * ars + kk * acs;
            if (avec && row < M && kk + 3 < K) r = a4[uint(o) >> 2];
            else if (row < M)
                [[unroll]] for (int j = 0; j < 4; j++) if (kk + j < K) r[j] = a[o + j * acs];
        } else {
            int kk = k0 + v / (BM / 4), mm = m0 + (v % (BM / 4)) * 4;
            int o = ab + mm * ars + kk * acs;
            if (avec && mm + 3 < M && kk < K) r = a4[uint(o) >> 2];
            else if (kk < K)
                [[unroll]] for (int j = 0; j < 4; j++) if (mm + j < M) r[j] = a[o + j * ars];
        }
        ra[s] = r;
    }
}

void load_b(int k0) {
    [[unroll]] for (int s = 0; s < LB; s++) {
        int v = tid + s * NT;
        V r = V(0);
        if (!bkfast) {
            int kk = k0 + v / (BN / 4), nn = n0 + (v % (BN / 4)) * 4;
            int o = bb + kk * brs + nn * bcs;
            if (bvec && nn + 3 < N && kk < K) r = b4[uint(o) >> 2];
            else if (kk < K)
                [[unroll]] for (int j = 0; j < 4; j++) if (nn + j < N) r[j] = b[o + j * bcs];
        } else {
            int col = n0 + v / (BK / 4), kk = k0 + (v % (BK / 4)) * 4;
            int o = bb + kk * brs + col * bcs;
            if (bvec && col < N && kk + 3 < K) r = b4[uint(o) >> 2];
            else if (col < N)
                [[unroll]] for (int j = 0; j < 4; j++) if (kk + j < K) r[j] = b[o + j * brs];
        }
        rb[s] = r;
    }
}

// Registers -> shared buffer buf (A transposed: As[k][m]).
void store_tiles(int buf) {
    [[unroll]] for (int s = 0; s < LA; s++) {
        int v = tid + s * NT;
        if (!amfast) {
            int m = v / (BK / 4), kq = (v % (BK / 4)) * 4;
            [[unroll]] for (int j = 0; j < 4; j++) As[buf][kq + j][m >> 2][m & 3] = ra[s][j];
        } else {
            As[buf][v / (BM / 4)][v % (BM / 4)] = ra[s];
        }
    }
    [[unroll]] for (int s = 0; s < LB; s++) {
        int v = tid + s * NT;
        if (!bkfast) {
            Bs[buf][v / (BN / 4)][v % (BN / 4)] = rb[s];
        } else {
            int n = v / (BK / 4), kq = (v % (BK / 4)) * 4;
            [[unroll]] for (int j = 0; j < 4; j++) Bs[buf][kq + j][n >> 2][n & 3] = rb[s][j];
        }
    }
}

#ifdef EPILOGUE
// The bias and ReLU of four outputs (row, col .. col + 3) as whole-vector
// operations: per component the separate pass's v + b, then v < 0 ? 0 : v
// (mix keeps NaN and -0 as that does). Columns past N get 0 (never stored).
// eb: the product's bias slice (matmul.comp's p[44], p[45]).
V epilogue(V r, int row, int col, int eb) {
    int ep = p[40];
    if ((ep & 1) != 0) {
        int o = p[41] + eb + row * p[42] + col * p[43];
        V bias = V(col < N ? e[o] : T(0), col + 1 < N ? e[o + p[43]] : T(0), col + 2 < N ? e[o + 2 * p[43]] : T(0),
                   col + 3 < N ? e[o + 3 * p[43]] : T(0));
        r += bias;
    }
    if ((ep & 2) != 0) r = mix(r, V(0), lessThan(r, V(0)));
#ifdef EP_ACT
    r = V(ep_act(r.x), ep_act(r.y), ep_act(r.z), ep_act(r.w));
#endif
    return r;
}
#endif

void main() {
    M = p[0]; N = p[1]; K = p[2];
    ars = p[8]; acs = p[9]; brs = p[10]; bcs = p[11];
    amfast = (p[30] & 2) != 0; avec = (p[30] & 1) != 0;
    bkfast = (p[31] & 2) != 0; bvec = (p[31] & 1) != 0;
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
    int tx = tid % TX, ty = tid / TX;
    // Grouped order: consecutive workgroups sweep GROUP tile rows column by
    // column, so the A rows and B columns they read stay in L2 together.
    int gx = int(gl_NumWorkGroups.x), gy = int(gl_NumWorkGroups.y);
    int id = int(gl_WorkGroupID.y) * gx + int(gl_WorkGroupID.x);
    int first = (id / (GROUP * gx)) * GROUP, rows = min(gy - first, GROUP), r = id % (GROUP * gx);
    m0 = (first + r % rows) * BM;
    n0 = (r / rows) * BN;

    V acc[TM][RN];
    [[unroll]] for (int i = 0; i < TM; i++)
        [[unroll]] for (int j = 0; j < RN; j++) acc[i][j] = V(0);

    int ntiles = (K + BK - 1) / BK;
    if (ntiles > 0) {
        load_a(0);
        load_b(0);
        store_tiles(0);
        barrier();
    }
    for (int t = 0; t < ntiles; t++) {
        int buf = t & 1;
        bool more = t + 1 < ntiles;
        if (more) {
            load_a((t + 1) * BK);
            load_b((t + 1) * BK);
        }
        [[unroll]] for (int k = 0; k < BK; k++) {
            V af[RM], bf[RN];
            [[unroll]] for (int i = 0; i < RM; i++) af[i] = As[buf][k][i * TY + ty];
            [[unroll]] for (int j = 0; j < RN; j++) bf[j] = Bs[buf][k][j * TX + tx];
            [[unroll]] for (int i = 0; i < RM; i++)
                [[unroll]] for (int ii = 0; ii < 4; ii++)
                    [[unroll]] for (int j = 0; j < RN; j++) acc[i * 4 + ii][j] += af[i][ii] * bf[j];
        }
        if (more) store_tiles(buf ^ 1);
        barrier();
    }

    bool cvec = p[32] != 0;
    int cb = p[7] + int(batch) * M * N;
#ifdef EPILOGUE
    int eb = p[45] > 0 ? int(batch % uint(p[45])) * p[44] : 0;
#endif
    [[unroll]] for (int i = 0; i < RM; i++)
        [[unroll]] for (int ii = 0; ii < 4; ii++) {
            int row = m0 + i * 4 * TY + ty * 4 + ii;
            if (row >= M) continue;
            [[unroll]] for (int j = 0; j < RN; j++) {
                int col = n0 + j * 4 * TX + tx * 4;
                int o = cb + row * N + col;
                V r = acc[i * 4 + ii][j];
#ifdef EPILOGUE
                r = epilogue(r, row, col, eb);
#endif
                if (cvec && col + 3 < N) c4[uint(o) >> 2] = r;
                else
                    [[unroll]] for (int q = 0; q < 4; q++) if (col + q < N) c[o + q] = r[q];
            }
        }
}
