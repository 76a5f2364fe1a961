/* Helpers shared by the Vulkan kernel-table entries (gpu/elementwise.c,
 * gpu/reduce.c, gpu/matmul.c, ...): parameter blocks, dispatch recording,
 * dtype checks and the TG_ERR_UNSUPPORTED message. Each kernel family has
 * its own .c file and its shaders in gpu/shaders/<family>*.comp, with the
 * SPIR-V variants listed in gpu/shaders/<family>.variants. */
#ifndef TG_GPU_KERNEL_UTIL_H
#define TG_GPU_KERNEL_UTIL_H

#ifdef TG_HAVE_VULKAN
#include "gpu/gpu_internal.h"

#define TG_VK_LOCAL 256             /* threads per workgroup of 1-D kernels */
#define TG_VK_MAX_GROUPS 65535u     /* per dispatch dimension */

/* The device of a Vulkan tensor; NULL with an error recorded. */
tg_vkdev *tg__vk_dev_of(const tg_tensor *t);
/* f32 everywhere, f64 where the device has shaderFloat64. */
bool tg__vk_float_ok(const tg_vkdev *d, tg_dtype t);
/* "f32" / "f64": the suffix of a float pipeline's name. */
const char *tg__vk_sfx(tg_dtype t);
bool tg__vk_fits32(int64_t v);
/* TG_ERR_UNSUPPORTED "no Vulkan kernel for <fmt % arg> on <device>",
 * recorded against the op of c. */
tg_status tg__vk_unsupported(const tg_op_call *c, const tg_tensor *t, const char *fmt, const char *arg);
/* Elementwise parameters (gpu/shaders/common.glsl) for out and n_in (<= 3)
 * inputs read as if broadcast to out's shape; bufs[k] gets operand k's
 * block (0 out, 1.. inputs). p has 64 ints; p[3] says whether the dense
 * paths apply. False when an offset or stride exceeds 32 bits. */
bool tg__vk_elem_params(int32_t *p, tg_tensor *out, int n_in, tg_tensor *const *in, VkBuffer *bufs);
/* p[TG_VK_DENSE_STEP + k]: operand k's step on the dense path (1 dense, 0
 * one broadcast element; common.glsl's tg_dense). */
#define TG_VK_DENSE_STEP 60
/* Workgroups for an elementwise dispatch with parameters p (made by
 * tg__vk_elem_params): a thread per 4 elements on the 4-vector path. */
uint32_t tg__vk_elem_groups(const int32_t *p);
/* Workgroups of TG_VK_LOCAL threads for n elements (grid-stride beyond
 * TG_VK_MAX_GROUPS). */
uint32_t tg__vk_groups_for(int64_t n);
/* Records one dispatch of pipeline pipe (a name from a .variants file)
 * with 64 ints of parameters, taking the device lock. */
tg_status tg__vk_record(tg_vkdev *d, const char *pipe, const int32_t *p, int nbuf, const VkBuffer *bufs, uint32_t gx,
                        uint32_t gy, uint32_t gz);
/* out (a Vulkan tensor, any layout) = x broadcast to out's shape and
 * converted to out's dtype (gpu/elementwise.c). */
tg_status tg__vk_convert_into(const tg_op_call *c, tg_tensor *out, tg_tensor *x);
/* x as dtype t on its device: a new reference (x itself when it has t). */
tg_tensor *tg__vk_cast_to(const tg_op_call *c, tg_tensor *x, tg_dtype t);
/* Index of name in names[0..n), -1 when absent. */
int tg__vk_index_of(const char *name, const char *const *names, int n);
/* Element offset of t's first element in its block. */
int64_t tg__vk_elem_offset(const tg_tensor *t);
/* An epilogue the matmul kernels apply as they store C (gpu/matmul.c):
 * C[.., r, c] = act(relu(A B + bias[r * rs + c * cs])) with bias (NULL:
 * none) of C's dtype on C's device, the ReLU when relu, act (an elementwise
 * op's name, NULL: none) through a kernel built at run time. applied: set
 * when the kernel did bias and relu; false (the product stored plain) for
 * the paths that do not take one (split-K, complex, f16/bf16, the wide
 * tile), so the caller does it itself; act_applied likewise for act. */
typedef struct tg_vk_epilogue {
    tg_tensor *bias;
    int64_t rs, cs;
    bool relu, applied;
    const char *act;        /* an activation applied last (its op name), or NULL */
    bool act_applied;       /* set when the kernel applied act (a build made at run time) */
    int64_t bs, bmod;       /* bmod > 0: product b's bias starts (b % bmod) * bs further on
                             * (a grouped convolution: one bias slice per group) */
} tg_vk_epilogue;
/* out[0] = in[0] @ in[1] as tg__vk_matmul_kernel, with the epilogue ep. */
tg_status tg__vk_matmul_ep(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out, tg_vk_epilogue *ep);
/* A generated kernel built on reduce.comp (gpu/fused.c): its pipeline
 * name and SPIR-V, its own parameters (p[64 ..], n_ext ints) and the
 * buffers it reads (bindings 2 .. 1 + nbuf; binding 1 is the output's). */
typedef struct tg_vk_generated {
    const char *name;
    const uint32_t *code;
    size_t size;
    const int32_t *ext;
    int n_ext, nbuf;
    const VkBuffer *bufs;
} tg_vk_generated;
/* out (contiguous, the kept axes in order) = reduction op (0 sum, 1 prod,
 * 2 max, 3 min) along mask of a dense input of shape (ndim, shape) that k
 * reads element by element, with the geometry and passes the plain
 * reduction kernel would use on a contiguous tensor of that shape, so the
 * result has its bits (gpu/reduce.c). *ran false (TG_OK, nothing
 * recorded): sizes beyond the kernel's 32-bit indices. */
tg_status tg__vk_reduce_generated(tg_vkdev *d, int op, int ndim, const int64_t *shape, const bool *mask,
                                  tg_tensor *out, const tg_vk_generated *k, bool *ran);
#endif

#endif
