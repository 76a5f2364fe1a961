/* Getters, reading values out, and the device API. Reading a device tensor
 * (tg_copy_to, tg_item_*) copies it to the host, waiting for its producer;
 * tg_data (a borrowed pointer) stays CPU-only. */
#include "tensor/ops/elementwise.h"
#include "gpu/gpu.h"

#include <string.h>

#define NULL_CHECK(t, ret) \
    do { if (!(t)) { tg__error(TG_ERR_ARG, "%s: tensor is NULL", __func__); return ret; } } while (0)

int tg_ndim(const tg_tensor *t) { NULL_CHECK(t, -1); return t->ndim; }
const int64_t *tg_shape(const tg_tensor *t) { NULL_CHECK(t, NULL); return t->shape; }
const int64_t *tg_strides(const tg_tensor *t) { NULL_CHECK(t, NULL); return t->strides; }
tg_dtype tg_dtype_of(const tg_tensor *t) { NULL_CHECK(t, (tg_dtype)-1); return t->dtype; }
int64_t tg_numel(const tg_tensor *t) {
    NULL_CHECK(t, -1);
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] >= TG_SYM_BASE_INTERNAL) {
            tg__error(TG_ERR_ARG, "tg_numel: the tracer's size is symbolic; use tg_dim and tg_size_mul");
            return -1;
        }
    return tg__numel(t->ndim, t->shape);
}
bool tg_is_contiguous(const tg_tensor *t) { NULL_CHECK(t, false); return tg__is_contiguous(t); }

int64_t tg_dim(const tg_tensor *t, int axis) {
    NULL_CHECK(t, -1);
    int a;
    if (tg__norm_axis("tg_dim", axis, t->ndim, &a)) return -1;
    return t->shape[a];
}

/* Byte range [lo, hi) that t can address. */
static void byte_span(const tg_tensor *t, intptr_t *lo, intptr_t *hi) {
    intptr_t base = (intptr_t)tg__ptr(t), a = 0, b = 0;
    int64_t es = (int64_t)tg_dtype_size(t->dtype);
    for (int i = 0; i < t->ndim; i++) {
        int64_t ext = (t->shape[i] - 1) * t->strides[i] * es;
        if (ext < 0) a += ext; else b += ext;
    }
    *lo = base + a;
    *hi = base + b + es;
}

bool tg_shares_memory(const tg_tensor *a, const tg_tensor *b) {
    if (!a || !b) return false;
    if (tg__is_tracer(a) || tg__is_tracer(b)) return false;
    if (tg__numel(a->ndim, a->shape) == 0 || tg__numel(b->ndim, b->shape) == 0) return false;
    if (a->storage != b->storage) return false;
    intptr_t alo, ahi, blo, bhi;
    byte_span(a, &alo, &ahi);
    byte_span(b, &blo, &bhi);
    return alo < bhi && blo < ahi;
}

static bool on_cpu(const char *op, const tg_tensor *t) {
    if (tg__is_tracer(t)) {
        tg__error(TG_ERR_ARG, "%s: a tracer has no values until the traced program runs (tg_compile, tg_run)", op);
        return false;
    }
    if (t->storage->device.kind == TG_CPU) return true;
    tg__error(TG_ERR_DEVICE, "%s: tensor is not on the CPU; use tg_to_device first", op);
    return false;
}

/* A device tensor's values on the host: a new reference (waits for the
 * work that produces them). */
static bool on_device(const tg_tensor *t) { return !tg__is_tracer(t) && t->storage->device.kind != TG_CPU; }
static tg_tensor *to_host(const tg_tensor *t) { return tg__vk_transfer((tg_tensor *)t, (tg_device){TG_CPU, 0}); }

tg_status tg_copy_to(const tg_tensor *t, void *dst, size_t dst_bytes) {
    if (!t) return tg__error(TG_ERR_ARG, "tg_copy_to: tensor is NULL");
    if (on_device(t)) {
        size_t need = (size_t)tg__numel(t->ndim, t->shape) * tg_dtype_size(t->dtype);
        if (dst_bytes < need)
            return tg__error(TG_ERR_ARG, "tg_copy_to: destination has %zu bytes, %zu needed", dst_bytes, need);
        tg_tensor *h = to_host(t);
        if (!h) return tg_last_error_code();
        tg_status st = tg_copy_to(h, dst, dst_bytes);
        tg_release(h);
        return st;
    }
    if (!on_cpu("tg_copy_to", t)) return tg_last_error_code();
    int64_t n = tg__numel(t->ndim, t->shape);
    size_t need = (size_t)n * tg_dtype_size(t->dtype);
    if (n > 0 && !dst) return tg__error(TG_ERR_ARG, "tg_copy_to: destination is NULL");
    if (dst_bytes < need)
        return tg__error(TG_ERR_ARG, "tg_copy_to: destination has %zu bytes, %zu needed", dst_bytes, need);
    if (!on_cpu("tg_copy_to", t)) return TG_ERR_DEVICE;
    if (n == 0) return TG_OK;
    if (tg__is_contiguous(t)) {
        memcpy(dst, tg__ptr(t), need);
        return TG_OK;
    }
    tg_tensor *d = tg__wrap_raw(t->dtype, t->ndim, t->shape, NULL, dst, NULL, NULL);
    if (!d) return tg_last_error_code();
    tg__copy_into(d, (tg_tensor *)t);
    tg_release(d);
    return TG_OK;
}

const void *tg_data(const tg_tensor *t) {
    NULL_CHECK(t, NULL);
    if (!on_cpu("tg_data", t)) return NULL;
    if (!tg__is_contiguous(t)) {
        tg__error(TG_ERR_ARG, "tg_data: tensor is not contiguous; call tg_contiguous first");
        return NULL;
    }
    return tg__ptr(t);
}

void *tg_data_mut(tg_tensor *t) { return (void *)tg_data(t); }

static bool one_element(const char *op, const tg_tensor *t) {
    if (!t) { tg__error(TG_ERR_ARG, "%s: tensor is NULL", op); return false; }
    if (tg__numel(t->ndim, t->shape) != 1) {
        char s[160];
        tg__error(TG_ERR_SHAPE, "%s: tensor of shape %s has %lld elements, not 1", op,
                  tg__fmt_shape(s, sizeof s, t->ndim, t->shape), (long long)tg__numel(t->ndim, t->shape));
        return false;
    }
    return on_cpu(op, t);
}

/* Reads the single element converted to c128 (through the cast table). */
static bool read_c128(const char *op, const tg_tensor *t, tg_c128_t *v) {
    if (t && on_device(t) && tg__numel(t->ndim, t->shape) == 1) {
        tg_tensor *h = to_host(t);
        bool ok = h && read_c128(op, h, v);
        tg_release(h);
        return ok;
    }
    if (!one_element(op, t)) return false;
    tg_tensor *c = tg__cast_raw((tg_tensor *)t, TG_C128);
    if (!c) return false;
    *v = *(tg_c128_t *)tg__ptr(c);
    tg_release(c);
    return true;
}

double tg_item_f64(const tg_tensor *t) {
    tg_c128_t v;
    return read_c128("tg_item_f64", t, &v) ? creal(v) : NAN;
}

int64_t tg_item_i64(const tg_tensor *t) {
    if (t && on_device(t) && tg__numel(t->ndim, t->shape) == 1) {
        tg_tensor *h = to_host(t);
        int64_t v = h ? tg_item_i64(h) : 0;
        tg_release(h);
        return v;
    }
    if (!one_element("tg_item_i64", t)) return 0;
    tg_tensor *c = tg__cast_raw((tg_tensor *)t, TG_I64);
    if (!c) return 0;
    int64_t v = *(int64_t *)tg__ptr(c);
    tg_release(c);
    return v;
}

tg_status tg_item_c128(const tg_tensor *t, double *re, double *im) {
    tg_c128_t v;
    if (!read_c128("tg_item_c128", t, &v)) return tg_last_error_code();
    if (re) *re = creal(v);
    if (im) *im = cimag(v);
    return TG_OK;
}

/* ---- devices ------------------------------------------------------------- */
int tg_device_count(tg_device_kind kind) {
    return kind == TG_CPU ? 1 : kind == TG_VULKAN ? tg__vk_device_count() : 0;
}

tg_device tg_device_of(const tg_tensor *t) {
    if (!t) { tg__error(TG_ERR_ARG, "tg_device_of: tensor is NULL"); return (tg_device){TG_CPU, -1}; }
    return t->storage->device;
}

tg_tensor *tg_to_device(tg_tensor *t, tg_device dev) {
    if (!t) return tg__error(TG_ERR_ARG, "tg_to_device: tensor is NULL"), NULL;
    if (tg__is_tracer(t))
        return tg__error(TG_ERR_UNSUPPORTED, "tg_to_device: not available on tracers (a compiled program runs on "
                         "the device of its inputs)"), NULL;
    tg_device from = t->storage->device;
    if (dev.kind == TG_CPU && dev.index != 0)
        return tg__error(TG_ERR_DEVICE, "tg_to_device: no device cpu:%d (the CPU is device cpu:0)", dev.index), NULL;
    if (dev.kind != TG_CPU && dev.kind != TG_VULKAN)
        return tg__error(TG_ERR_DEVICE, "tg_to_device: unknown device kind %d", (int)dev.kind), NULL;
    if (dev.kind == from.kind && dev.index == from.index) return tg__handout(tg_retain(t));
    return tg__handout(tg__vk_transfer(t, dev));
}

tg_status tg_synchronize(void) { return tg__vk_synchronize(); }
