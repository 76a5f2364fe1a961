/* A build without the Vulkan backend (TANGENT_VULKAN=OFF): no devices, so
 * no tensor ever lives on a GPU and the kernel entries are never reached;
 * they exist so that the kernel tables link. */
#ifndef TG_HAVE_VULKAN
#include "gpu/gpu.h"

static tg_tensor *no_vulkan(int dev) {
    tg__error(TG_ERR_DEVICE, "no Vulkan device vulkan:%d (this build has no Vulkan backend: TANGENT_VULKAN=OFF)", dev);
    return NULL;
}

int tg__vk_device_count(void) { return 0; }
const char *tg__vk_device_name(int dev) { (void)dev; return "vulkan:?"; }
tg_tensor *tg__vk_alloc(int dev, tg_dtype dtype, int ndim, const int64_t *shape) {
    (void)dtype; (void)ndim; (void)shape;
    return no_vulkan(dev);
}
tg_tensor *tg__vk_transfer(tg_tensor *x, tg_device dev) { (void)x; return no_vulkan(dev.index); }
tg_tensor *tg__vk_contiguous(tg_tensor *x) { return no_vulkan(x->storage->device.index); }
tg_tensor *tg__vk_readable_copy(tg_tensor *x) { return no_vulkan(x->storage->device.index); }
tg_status tg__vk_synchronize(void) { return TG_OK; }
tg_status tg__vk_copy_into(tg_tensor *dst, tg_tensor *src) {
    (void)src;
    no_vulkan(dst->storage->device.index);
    return TG_ERR_DEVICE;
}
tg_status tg__vk_move_scalars(int n, tg_tensor *const *in, tg_device dev, tg_tensor **moved) {
    (void)n; (void)in; (void)moved;
    no_vulkan(dev.index);
    return TG_ERR_DEVICE;
}
tg_status tg__vk_matmul_epilogue(tg_tensor *a, tg_tensor *b, tg_tensor *bias, bool relu, const char *act,
                                 tg_tensor **product, bool *applied, bool *act_applied) {
    (void)a; (void)b; (void)bias; (void)relu; (void)act;
    *product = NULL;
    *applied = *act_applied = false;
    return TG_OK;
}
tg_status tg__vk_conv_act(const tg_op_def *def, int n_in, tg_tensor *const *in, const tg_attrs *attrs,
                          const tg_op_def *act, const tg_attrs *act_attrs, tg_tensor **out) {
    (void)def; (void)n_in; (void)in; (void)attrs; (void)act; (void)act_attrs;
    *out = NULL;
    return TG_OK;
}
static tg_status no_kernel(const tg_op_call *c) {
    return tg__op_error(c, TG_ERR_UNSUPPORTED, "this build has no Vulkan backend");
}
tg_status tg__vk_binary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) { (void)in; (void)out; return no_kernel(c); }
tg_status tg__vk_unary_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) { (void)in; (void)out; return no_kernel(c); }
tg_status tg__vk_reduce_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) { (void)in; (void)out; return no_kernel(c); }
tg_status tg__vk_matmul_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) { (void)in; (void)out; return no_kernel(c); }
tg_status tg__vk_cast_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) { (void)in; (void)out; return no_kernel(c); }
bool tg__vk_random_can(int dev, tg_dtype dtype, int64_t n) { (void)dev; (void)dtype; (void)n; return false; }
tg_status tg__vk_random_fill(tg_tensor *out, int kind, double a, double b, uint64_t seed, uint64_t offset) {
    (void)kind; (void)a; (void)b; (void)seed; (void)offset;
    no_vulkan(out->storage->device.index);
    return TG_ERR_DEVICE;
}
tg_status tg__vk_randint_fill(tg_tensor *out, int64_t lo, uint64_t width, uint64_t seed, uint64_t offset) {
    (void)lo; (void)width; (void)seed; (void)offset;
    no_vulkan(out->storage->device.index);
    return TG_ERR_DEVICE;
}
tg_status tg__vk_adam_step(tg_tensor *prm, tg_tensor *g, tg_tensor *m, tg_tensor *v, const double sc[7], bool *done) {
    (void)prm; (void)g; (void)m; (void)v; (void)sc;
    *done = false;
    return TG_OK;
}
int tg__vk_profile_stats(int dev, const char *kernel, uint64_t *calls, double *ns) {
    (void)kernel; (void)calls; (void)ns;
    no_vulkan(dev);
    return -1;
}
tg_vk_capture *tg__vk_capture_begin(int dev) {
    (void)dev;
    return NULL;
}
tg_status tg__vk_capture_end(tg_vk_capture *c, bool *replayable) {
    (void)c;
    *replayable = false;
    return TG_OK;
}
bool tg__vk_capture_permanent(const tg_vk_capture *c) { (void)c; return true; }
uint64_t tg__vk_capture_dispatches(const tg_vk_capture *c) { (void)c; return 0; }
tg_status tg__vk_capture_replay(tg_vk_capture *c) {
    (void)c;
    return TG_ERR_DEVICE;
}
tg_status tg__vk_submit_batch(int dev) {
    no_vulkan(dev);
    return TG_ERR_DEVICE;
}
void tg__vk_capture_free(tg_vk_capture *c) { (void)c; }
int tg__vk_queue_stats(int dev, tg_vk_queue_stats *out) {
    (void)out;
    no_vulkan(dev);
    return -1;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int tg__vk_stubs_unused;
#endif
