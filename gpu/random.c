/* Philox draws on a Vulkan device (gpu/shaders/philox.comp): the random
 * factories of tensor/random.c on a Vulkan default device, and the dropout
 * mask (nn/dropout.c). Block j of a draw is philox(offset + j, seed), the
 * layout tensor/random.c defines, so a stream continues identically
 * whichever device draws; callers advance the thread's offset by the
 * blocks used. Uniforms, integers and masks equal the CPU's bit for bit.
 * Normals use the shader's own log and sin/cos series (GLSL's are f32 only
 * and loosely specified): f64 within about 1e-14 of the CPU, f32 within an
 * ulp where the device has f64 (double math, rounded once), else a few
 * ulps (float math); tests/test_gpu_random.c states the tolerances. */
#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <string.h>

static int64_t blocks_for(tg_dtype dtype, int64_t n) {
    int per = dtype == TG_F32 ? 4 : 2;
    return (n + per - 1) / per;
}

bool tg__vk_random_can(int dev, tg_dtype dtype, int64_t n) {
    if (dev < 0 || dev >= tg__vk_device_count() || !tg__vk_fits32(n)) return false;
    tg__stashed_error older;            /* no device only means "not here" */
    tg__error_stash(&older);
    tg_vkdev *d = tg__vk_dev(dev, "tangent");
    if (!d) tg_clear_error();
    tg__error_unstash(&older);
    if (!d) return false;
    return dtype == TG_I32 || dtype == TG_I64 || tg__vk_float_ok(d, dtype);
}

static void put_f64(int32_t *p, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    p[0] = (int32_t)(uint32_t)u;
    p[1] = (int32_t)(uint32_t)(u >> 32);
}
static void put_u64(int32_t *p, uint64_t u) {
    p[0] = (int32_t)(uint32_t)u;
    p[1] = (int32_t)(uint32_t)(u >> 32);
}

static tg_status run(tg_tensor *out, const char *pipe, int32_t *p, uint64_t seed, uint64_t offset, int64_t n,
                     int64_t blocks) {
    if (n == 0) return TG_OK;
    tg_vkdev *d = tg__vk_dev_of(out);
    if (!d) return tg_last_error_code();
    if (!tg__vk_fits32(n) || !tg__is_contiguous(out))
        return tg__error(TG_ERR_UNSUPPORTED, "no Vulkan Philox kernel for %lld values on %s", (long long)n, d->label);
    vk_loc l = tg__vk_locate(out);
    p[0] = (int32_t)blocks;
    p[1] = (int32_t)n;
    put_u64(p + 4, offset);
    put_u64(p + 6, seed);
    size_t unit = strcmp(pipe, "philox_int") == 0 ? 4 : (size_t)tg__esize(out->dtype);
    p[3] = (int32_t)(l.byte_off / unit);
    VkBuffer buf = l.block->buf;
    pthread_mutex_lock(&d->lock);
    tg__vk_capture_taint(d);            /* a replayed run would draw the same numbers */
    pthread_mutex_unlock(&d->lock);
    return tg__vk_record(d, pipe, p, 1, &buf, tg__vk_groups_for(blocks), 1, 1);
}

tg_status tg__vk_random_fill(tg_tensor *out, int kind, double a, double b, uint64_t seed, uint64_t offset) {
    tg_vkdev *d = tg__vk_dev_of(out);
    if (!d) return tg_last_error_code();
    tg_dtype dt = out->dtype;
    if (!tg__vk_float_ok(d, dt))
        return tg__error(TG_ERR_UNSUPPORTED, "no Vulkan Philox kernel for dtype %s on %s", tg_dtype_name(dt), d->label);
    int mode = kind & 3;
    /* f32 in double math where the device has it (CPU-equal uniforms),
     * unless the caller asks for the float build; the f32 mask compares
     * in float as the CPU kernel does */
    bool fmath = dt == TG_F32 && (!d->f64 || mode == 2 || (kind & TG_VK_RNG_F32_MATH));
    int32_t p[64] = {0};
    p[2] = mode;
    double w = mode == 0 ? b - a : b;      /* the CPU's a + (b - a) u */
    if (fmath) {
        float af = (float)a, wf = (float)w;
        memcpy(&p[8], &af, sizeof af);
        memcpy(&p[10], &wf, sizeof wf);
    } else {
        put_f64(p + 8, a);
        put_f64(p + 10, w);
    }
    const char *pipe = dt == TG_F64 ? "philox_f64" : fmath ? "philox_f32" : "philox_f32d";
    int64_t n = tg__numel(out->ndim, out->shape);
    return run(out, pipe, p, seed, offset, n, blocks_for(dt, n));
}

tg_status tg__vk_randint_fill(tg_tensor *out, int64_t lo, uint64_t width, uint64_t seed, uint64_t offset) {
    if (out->dtype != TG_I32 && out->dtype != TG_I64)
        return tg__error(TG_ERR_UNSUPPORTED, "no Vulkan Philox kernel for dtype %s", tg_dtype_name(out->dtype));
    int32_t p[64] = {0};
    put_u64(p + 8, (uint64_t)lo);
    put_u64(p + 10, width);
    p[12] = out->dtype == TG_I64;
    int64_t n = tg__numel(out->ndim, out->shape);
    return run(out, "philox_int", p, seed, offset, n, (n + 1) / 2);
}

/* nn_dropout_mask: m = u < keep ? 1 / keep : 0 from the thread's stream,
 * advancing its offset as the CPU kernel's tg_rand does. */
tg_status tg__vk_dropout_mask_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    tg_tensor *o = out[0];
    tg_vkdev *d = tg__vk_dev_of(o);
    if (!d) return tg_last_error_code();
    if (!tg__vk_float_ok(d, o->dtype)) return tg__vk_unsupported(c, in[0], "dtype %s", tg_dtype_name(o->dtype));
    int64_t n = tg__numel(o->ndim, o->shape);
    if (!tg__vk_fits32(n)) return tg__vk_unsupported(c, in[0], "%s (more than 2^31 elements)", "this size");
    double keep = 1.0 - c->attrs->d[0];
    uint64_t seed, offset;
    tg_rng_get_state(&seed, &offset);
    tg_status st = tg__vk_random_fill(o, 2, keep, 1.0 / keep, seed, offset);
    if (st) return st;
    tg_rng_set_state(seed, offset + (uint64_t)blocks_for(o->dtype, n));
    return TG_OK;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_random;
#endif
