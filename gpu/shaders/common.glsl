// Shared by every Tangent compute shader (gpu/shaders/<family>.comp).
//
// Binding 0 holds the kernel's parameters as 32-bit ints (a slice of the
// per-batch parameter arena, gpu/kernel_util.c); bindings 1..5 are the data
// buffers (whole sub-allocator blocks; operands are located by an element
// offset). Elementwise kernels share one parameter layout:
//   p[0] n (elements)   p[1] ndim   p[2] op   p[3] unused
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
#define TG_FOR_EACH(i) \
    for (uint i = gl_GlobalInvocationID.x; i < uint(p[0]); i += gl_NumWorkGroups.x * TG_LOCAL)
