// Shared by every Tangent compute shader (gpu/shaders/<family>.comp).
//
// Binding 0 holds the kernel's parameters as 32-bit ints (a slice of the
// per-batch parameter arena, gpu/kernel_util.c); bindings 1..5 are the data
// buffers (whole sub-allocator blocks; operands are located by an element
// offset). Elementwise kernels share one parameter layout:
//   p[0] n (elements)   p[1] ndim   p[2] op
//   p[3] 0: general; 1 dense: every operand is contiguous in out's layout
//        with no broadcast, so operand k's element i is at p[4 + k] + i;
//        2: dense and every base a multiple of 4, so aligned groups of 4
//        elements can move as 4-vectors (kernel_util.c decides)
//   p[4] out base       p[5] a base p[6] b base
//   p[8 + d] shape[d]
//   p[16 + 8 k + d] stride of operand k (0 out, 1 a, 2 b) along axis d
//   p[40], p[41] raw bits of a fill value (copy.comp)
layout(std430, binding = 0) readonly buffer Params { int p[]; };

// Element offset of operand k for the row-major linear index i.
int tg_offset(uint i, int k) {
    int o = p[4 + k];
    for (int d = p[1] - 1; d >= 0; d--) {
        uint s = uint(p[8 + d]);
        o += int(i % s) * p[16 + 8 * k + d];
        i /= s;
    }
    return o;
}

#define TG_LOCAL 256
#define TG_STEP (gl_NumWorkGroups.x * TG_LOCAL)
// (the bound is read once: a store to a data buffer might alias p[] as far
// as the compiler knows)
#define TG_FOR_EACH(i) \
    for (uint i = gl_GlobalInvocationID.x, tg_n_ = uint(p[0]); i < tg_n_; i += TG_STEP)

// The dense paths (p[3] != 0) skip tg_offset's div/mod loop. With p[3] == 2
// each thread first takes whole groups of 4 elements (grid-stride; group g
// of operand k is 4-vector tg_base4(k) + g of a vector view of its buffer),
// then TG_FOR_EACH_DENSE does the rest one element at a time from
// tg_dense_start(): the tail, or everything when p[3] == 1.
#define TG_FOR_EACH_GROUP4(g) \
    for (uint g = gl_GlobalInvocationID.x, tg_n_ = uint(p[0]) / 4u; g < tg_n_; g += TG_STEP)
#define TG_FOR_EACH_DENSE(i) \
    for (uint i = tg_dense_start() + gl_GlobalInvocationID.x, tg_n_ = uint(p[0]); i < tg_n_; i += TG_STEP)
// A shader without 4-vector views defines TG_NO_VEC4: all one by one.
#ifdef TG_NO_VEC4
uint tg_dense_start() { return 0u; }
#else
uint tg_dense_start() { return p[3] == 2 ? uint(p[0]) & ~3u : 0u; }
#endif
uint tg_base4(int k) { return uint(p[4 + k]) >> 2; }
// Element i's offset in operand k on the dense path: operand k is dense
// (p[60 + k] == 1) or one element broadcast (0; never on the 4-vector path).
uint tg_dense(uint i, int k) { return uint(p[4 + k]) + i * uint(p[60 + k]); }
