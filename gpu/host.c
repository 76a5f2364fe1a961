/* The Vulkan entry of ops that run on the CPU even for device tensors
 * (LAPACK linear algebra and FFTW transforms, DESIGN.md section 7 and
 * docs/gpu.md): the inputs are copied to the host (which waits for their
 * producers), the op's CPU kernel runs, and the results are copied back to
 * the device. The caller sees a device op; the cost is two transfers and a
 * synchronisation, which docs/gpu.md states per op. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"

static const tg_device host = {TG_CPU, 0};

tg_status tg__vk_host_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    const tg_op_def *def = c->def;
    int n_out = def->n_out;
    tg_device dev = {TG_CPU, 0};
    tg_tensor *hin[TG_MAX_OP_INPUTS] = {0}, *hout[TG_MAX_OP_OUTPUTS] = {0};
    tg_status st = TG_OK;
    for (int i = 0; i < c->n_in && !st; i++) {
        if (in[i]->storage->device.kind != TG_CPU) dev = in[i]->storage->device;
        hin[i] = in[i]->storage->device.kind == TG_CPU ? tg_retain(in[i]) : tg__vk_transfer(in[i], host);
        if (!hin[i]) st = tg_last_error_code();
    }
    bool makes = def->flags & TG_OP_MAKES_OUTPUTS;
    for (int j = 0; j < n_out && !st && !makes; j++) {
        hout[j] = tg__alloc(out[j]->dtype, out[j]->ndim, out[j]->shape);
        if (!hout[j]) st = TG_ERR_MEMORY;
    }
    if (!st) st = def->kernel[TG_CPU](c, hin, hout);
    for (int j = 0; j < n_out && !st; j++) {
        tg_tensor *up = tg__vk_transfer(hout[j], dev);
        if (!up) { st = tg_last_error_code(); break; }
        if (makes) out[j] = up;
        else {
            st = tg__vk_convert_into(c, out[j], up);
            tg_release(up);
        }
    }
    if (st && makes)
        for (int j = 0; j < n_out; j++) { tg_release(out[j]); out[j] = NULL; }
    for (int i = 0; i < c->n_in; i++) tg_release(hin[i]);
    for (int j = 0; j < n_out; j++) tg_release(hout[j]);
    return st;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_host;
#endif
