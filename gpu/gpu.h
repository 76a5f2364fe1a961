/* What the tensor core calls of the Vulkan backend (gpu/). Every build has
 * these functions: without TANGENT_VULKAN, gpu/stubs.c reports no devices
 * and the kernels are never reached (no tensor can live on a GPU). */
#ifndef TG_GPU_H
#define TG_GPU_H

#include "tensor/registry.h"

/* Tensors on a Vulkan device have at most this many axes (the kernels'
 * parameter blocks hold 8 shapes and strides); the CPU takes TG_MAX_DIMS. */
#define TG_VK_MAX_DIMS 8

int tg__vk_device_count(void);                      /* 0: no loader, driver or device */
/* "vulkan:0 (llvmpipe ...)" for messages. */
const char *tg__vk_device_name(int dev);
/* A contiguous tensor with uninitialised storage on Vulkan device dev
 * (not handed out). */
tg_tensor *tg__vk_alloc(int dev, tg_dtype dtype, int ndim, const int64_t *shape);
/* tg_to_device's work: x copied to dev (CPU <-> Vulkan, Vulkan <-> Vulkan);
 * a new, not handed-out reference. Waits for x's producer. */
tg_tensor *tg__vk_transfer(tg_tensor *x, tg_device dev);
/* A contiguous copy of Vulkan tensor x on its device (not handed out). */
tg_tensor *tg__vk_contiguous(tg_tensor *x);
/* The same, placed where the host reads it without a transfer: the
 * device's tensor memory where that is mapped (lavapipe, ReBAR), else
 * host-visible memory the GPU writes across the bus (a compiled program's
 * outputs: reading them then submits nothing). Kernels read it like any
 * device tensor, more slowly where it is host memory. */
tg_tensor *tg__vk_readable_copy(tg_tensor *x);
tg_status tg__vk_synchronize(void);
/* dst (a Vulkan tensor, any layout) = src (same device, broadcast to dst's
 * shape, converted to dst's dtype); overlapping operands go through a
 * temporary. */
tg_status tg__vk_copy_into(tg_tensor *dst, tg_tensor *src);
/* The dispatcher's inputs for an op on Vulkan device dev: weak CPU scalars
 * (Python-like numbers, NEP 50) are uploaded, converted to the dtype of the
 * strong operand first when the promotion keeps that dtype. moved[i] is a
 * new reference or NULL (then in[i] is used as is). */
tg_status tg__vk_move_scalars(int n, tg_tensor *const *in, tg_device dev, tg_tensor **moved);

/* The persistent pipeline cache of a device (gpu/pipeline_cache.c), for
 * tests and benchmarks. loaded: 1 a cache file was loaded, 0 there was
 * none (or caching is off), -1 one was found and ignored (rejected says
 * why). pipelines: pipelines created in this process; cache_hits: those the
 * driver reported as found in the cache (needs
 * VK_EXT_pipeline_creation_feedback; feedback says whether it reports). */
typedef struct tg_vk_pcache_stats {
    int loaded;
    size_t bytes_loaded;
    uint64_t pipelines, cache_hits, saves;
    double create_ms;               /* time spent creating pipelines */
    bool feedback;
    char rejected[96];
} tg_vk_pcache_stats;
/* 0 and *out filled; -1 when dev is not a Vulkan device (error recorded). */
int tg__vk_pipeline_cache_stats(int dev, tg_vk_pcache_stats *out);

/* Work a device has been given since it was set up: queue submissions
 * (a full batch, or one the host waits for), dispatches recorded, host to
 * device copies (uploads), and those of them small enough to be recorded
 * into the command stream instead of submitted (updates). Tests take
 * differences around a call. */
typedef struct tg_vk_queue_stats {
    uint64_t submits, dispatches, updates, uploads;
    uint64_t replays;               /* captured runs recorded again (gpu/capture.c) */
} tg_vk_queue_stats;
int tg__vk_queue_stats(int dev, tg_vk_queue_stats *out);
/* Kernel timings (TANGENT_VK_PROFILE set when the device was first used):
 * the dispatches of the named kernel whose batches have finished, and their
 * GPU time in ns. 0 and filled; -1 when dev is not a Vulkan device or
 * profiling is off. */
int tg__vk_profile_stats(int dev, const char *kernel, uint64_t *calls, double *ns);

/* Captured runs (gpu/capture.c, docs/gpu.md "Replayed runs"): a compiled
 * program's run recorded once on a Vulkan device and replayed while its
 * binding is unchanged.
 *   begin: captures the calling thread's work on device dev from now on
 *     (other threads' work, and their own captures, go on beside it);
 *     NULL (no error) when it cannot (the thread has a capture open there,
 *     or kernel profiling is on).
 *   end: closes it; the captured commands go into the current batch (this
 *     run executes them); *replayable false when the run could not be
 *     captured whole; permanent: whether that cause would stop every
 *     capture of the program; dispatches: how many it holds.
 *   replay: records the captured commands into the current batch again.
 *   submit_batch: submits dev's current batch (no wait).
 *   free: after the queued work that may use it. */
typedef struct tg_vk_capture tg_vk_capture;
tg_vk_capture *tg__vk_capture_begin(int dev);
tg_status tg__vk_capture_end(tg_vk_capture *c, bool *replayable);
bool tg__vk_capture_permanent(const tg_vk_capture *c);
uint64_t tg__vk_capture_dispatches(const tg_vk_capture *c);
tg_status tg__vk_capture_replay(tg_vk_capture *c);
tg_status tg__vk_submit_batch(int dev);
void tg__vk_capture_free(tg_vk_capture *c);

/* Kernels generated at run time (gpu/spirv_cache.c), process-wide:
 * compiles (GLSL to SPIR-V by the glslang plugin) and failures, lookups in
 * memory or on disk that found the kernel, files written, and files found but
 * ignored (truncated, corrupted, foreign). */
typedef struct tg_vk_shader_stats {
    uint64_t compiles, failures, memory_hits, disk_hits, disk_writes, disk_rejected;
    double compile_ms;
    int compiler;                   /* 1 the plugin is loaded, 0 not needed yet, -1 missing */
} tg_vk_shader_stats;
void tg__vk_shader_stats(tg_vk_shader_stats *out);

/* A fusion group's generated kernel (gpu/fused.c). build: the kernel of
 * nodes k..e of g (escapes: per value, read after the group), its SPIR-V
 * made or found in the cache; NULL when the group has an op or dtype the
 * generator does not cover, or the compiler plugin is missing. run: the group on
 * val[]'s device tensors for this binding's output shape; *ran false (and
 * nothing changed) when the inputs are not all on one Vulkan device or the
 * run does not fit the kernel's limits: the caller runs the nodes one by
 * one. The written values get new references in val[]. */
struct tg_graph;
typedef struct tg_fused_kernel tg_fused_kernel;
tg_fused_kernel *tg__fused_build(const struct tg_graph *g, int k, int e, const bool *escapes);
tg_status tg__fused_run(const tg_fused_kernel *f, tg_tensor **val, int ndim, const int64_t *shape, bool *ran);
void tg__fused_free(tg_fused_kernel *f);
const char *tg__fused_source(const tg_fused_kernel *f);     /* the GLSL text */
/* A group that ends in a reduction (sum, prod, max or min, node e, of the
 * chain k..e-1's output) as one kernel: the chain is evaluated as the
 * reduction kernel reads each element, in the plain kernel's order, so the
 * result has the bits of the chain's kernel followed by the reduction's.
 * NULL when another chain value is read after the group, or as for build.
 * run: *out the reduction's result (new, shape out_shape) for the chain's
 * shape (ndim, shape); *ran false (nothing recorded) when the inputs are not
 * dense in that shape on one device or use more than 4 memory blocks. */
tg_fused_kernel *tg__fused_build_reduce(const struct tg_graph *g, int k, int e, const bool *escapes);
tg_status tg__fused_run_reduce(const tg_fused_kernel *f, tg_tensor **val, int ndim, const int64_t *shape,
                               int out_ndim, const int64_t *out_shape, tg_tensor **out, bool *ran);

/* A compiled program's matmul epilogue group (autodiff/fusion.c) on the
 * device (gpu/linear.c): *product = act(relu(a @ b + bias)) (act: another
 * activation's op name, or NULL; *act_applied when the product's kernel,
 * built at run time, applied it), the ReLU when relu,
 * bias NULL or varying only along the product's last two axes, in one
 * dispatch. *applied false: the path the product took stores it plain
 * (split-K, the wide tile), so the caller runs the add and relu itself.
 * *product NULL (and TG_OK, nothing dispatched): the operands are not
 * f32/f64 of one dtype with at least 2 axes on one Vulkan device. */
tg_status tg__vk_matmul_epilogue(tg_tensor *a, tg_tensor *b, tg_tensor *bias, bool relu, const char *act,
                                 tg_tensor **product, bool *applied, bool *act_applied);
/* A compiled program's conv2d -> activation group on the device
 * (gpu/conv.c): *out = act(def(in)) for def nn_conv2d or nn_conv2d_bias
 * with its attrs and act a one-input elementwise op with act_attrs: a ReLU
 * applied as the product is stored (bias first), another activation by a
 * product kernel built at run time with its formula (gpu/matmul.c); where
 * the kernel cannot, in place over each chunk. *out NULL (and TG_OK,
 * nothing dispatched): the inputs are not all on one Vulkan device. */
tg_status tg__vk_conv_act(const tg_op_def *def, int n_in, tg_tensor *const *in, const tg_attrs *attrs,
                          const tg_op_def *act, const tg_attrs *act_attrs, tg_tensor **out);

/* The calling thread's default device (tensor/create.c): where tg_zeros,
 * tg_ones, tg_full, tg_empty and tg_from_data create. Starts as
 * TANGENT_DEVICE; DESIGN.md section 10 has no public setter. */
tg_device tg__default_device(void);
void tg__set_default_device(tg_device dev);

/* Philox draws on Vulkan device tensors (gpu/random.c) in tensor/random.c's
 * stream layout; the caller advances the thread's offset by the blocks
 * used (as the CPU draw would). can: whether device dev draws dtype (n values)
 * there (false: draw on the CPU and upload; records no error). fill: out
 * (contiguous, on the device) from blocks offset.. of key seed; kind
 * 0 uniform a + (b - a) u, 1 normal (mean a, std b), 2 mask
 * (u < a ? b : 0), | TG_VK_RNG_F32_MATH: f32 in float math even where the
 * device has f64 (tests). randint: lo + mulhi(u64, width), i32 or i64. */
#define TG_VK_RNG_F32_MATH 8
bool tg__vk_random_can(int dev, tg_dtype dtype, int64_t n);
tg_status tg__vk_random_fill(tg_tensor *out, int kind, double a, double b, uint64_t seed, uint64_t offset);
tg_status tg__vk_randint_fill(tg_tensor *out, int64_t lo, uint64_t width, uint64_t seed, uint64_t offset);

/* Adam's step of a parameter on a Vulkan device in one kernel (gpu/optim.c):
 * prm, m, v updated in place from g; sc: b1, 1 - b1, b2, 1 - b2,
 * sqrt(bias correction 2), eps, -lr / bias correction 1, each already
 * rounded to the dtype. *done false (TG_OK, nothing recorded) when the
 * tensors are not all contiguous of prm's dtype and size on its device:
 * the caller then takes the op-by-op path. */
tg_status tg__vk_adam_step(tg_tensor *prm, tg_tensor *g, tg_tensor *m, tg_tensor *v, const double sc[7], bool *done);

/* Kernel-table entries ([TG_VULKAN]). New families register as
 * `[TG_VULKAN] = TG_VK(tg__vk_<family>_kernel)`: without the backend the
 * entry is NULL (the dispatcher's "no kernel" error) and needs no stub. */
#ifdef TG_HAVE_VULKAN
#define TG_VK(fn) fn
#else
#define TG_VK(fn) NULL
#endif
tg_status tg__vk_binary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_unary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_pred_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_reduce_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_softmax_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_cross_entropy_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_matmul_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_cast_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
/* Ops that run their CPU kernel on device tensors, with transfers
 * (gpu/host.c): linalg and fft. */
tg_status tg__vk_host_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_conv_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_pool_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_linear_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);

tg_status tg__vk_gather_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_index_select_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_scatter_add_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_one_hot_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_where_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_concat_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_pad_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_tri_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_dropout_mask_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_scan_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_unfold_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
tg_status tg__vk_sort_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out);
#endif
