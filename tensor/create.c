/* Creating tensors: from C arrays, wrapping user memory, constants, ranges. */
#include "tensor/ops/elementwise.h"
#include "gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- full: the creation op a trace records for symbolic shapes --------------- */
/* attrs: i[0] dtype, i[1] rank, i[2..] shape; d[0], d[1] the value. */
static tg_status full_infer(const tg_op_call *c, tg_meta *out) {
    /* attrs from a file (tg_program_load) are not trusted */
    if (c->attrs->n_int < 2 || c->attrs->i[0] < 0 || c->attrs->i[0] >= TG_NUM_DTYPES || c->attrs->i[1] < 0 ||
        c->attrs->i[1] > TG_MAX_DIMS || c->attrs->i[1] > c->attrs->n_int - 2 || c->attrs->n_real < 2)
        return tg__op_error(c, TG_ERR_ARG, "bad attributes (dtype, rank, sizes, value)");
    for (int i = 0; i < c->attrs->i[1]; i++)
        if (c->attrs->i[2 + i] < 0) return tg__op_error(c, TG_ERR_ARG, "negative size in the attributes");
    out->dtype = (tg_dtype)c->attrs->i[0];
    out->ndim = (int)c->attrs->i[1];
    for (int i = 0; i < out->ndim; i++) out->shape[i] = c->attrs->i[2 + i];
    return TG_OK;
}
static tg_status full_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    (void)in;
    tg_tensor *v = tg__alloc(TG_C128, 0, NULL);
    if (!v) return TG_ERR_MEMORY;
    *(tg_c128_t *)tg__ptr(v) = c->attrs->d[0] + c->attrs->d[1] * I;
    tg__copy_into(out[0], v);
    tg_release(v);
    return TG_OK;
}
const tg_op_def tg_op_full = {.name = "full", .n_in = 0, .n_out = 1, .flags = TG_OP_NONDIFF,
                              .infer = full_infer, .kernel = {[TG_CPU] = full_kernel}};
/* size_value: a 0-d tensor holding a (symbolic) size, for the divisions of
 * mean and var under a trace. attrs: i[0] the size, i[1] the dtype. */
static tg_status size_value_infer(const tg_op_call *c, tg_meta *out) {
    if (c->attrs->n_int < 2 || c->attrs->i[1] < 0 || c->attrs->i[1] >= TG_NUM_DTYPES)   /* from a file? */
        return tg__op_error(c, TG_ERR_ARG, "bad attributes (size, dtype)");
    out->dtype = (tg_dtype)c->attrs->i[1];
    out->ndim = 0;
    return TG_OK;
}
static tg_status size_value_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    (void)in;
    tg_tensor *v = tg__alloc(TG_F64, 0, NULL);
    if (!v) return TG_ERR_MEMORY;
    *(double *)tg__ptr(v) = (double)c->attrs->i[0];
    tg__copy_into(out[0], v);
    tg_release(v);
    return TG_OK;
}
const tg_op_def tg_op_size_value = {.name = "size_value", .n_in = 0, .n_out = 1, .flags = TG_OP_NONDIFF,
                                    .infer = size_value_infer, .kernel = {[TG_CPU] = size_value_kernel}};
/* eye: the identity a trace records for symbolic sizes. attrs: i[0] dtype,
 * i[1] n, i[2] m (sizes, evaluated per run). */
static tg_status eye_infer(const tg_op_call *c, tg_meta *out) {
    if (c->attrs->n_int < 3 || c->attrs->i[0] < 0 || c->attrs->i[0] >= TG_NUM_DTYPES || c->attrs->i[1] < 0 ||
        c->attrs->i[2] < 0)   /* from a file? */
        return tg__op_error(c, TG_ERR_ARG, "bad attributes (dtype, n, m)");
    out->dtype = (tg_dtype)c->attrs->i[0];
    out->ndim = 2;
    out->shape[0] = c->attrs->i[1];
    out->shape[1] = c->attrs->i[2];
    return TG_OK;
}
static tg_status eye_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c; (void)in;
    tg_tensor *t = out[0];
    int64_t n = t->shape[0], m = t->shape[1], es = tg_dtype_size(t->dtype), k = n < m ? n : m, dstride = m + 1;
    memset(tg__ptr(t), 0, (size_t)(n * m * es));
    tg_tensor *one = tg__alloc(TG_F64, 0, NULL);
    if (!one) return TG_ERR_MEMORY;
    *(double *)tg__ptr(one) = 1.0;
    tg_tensor *diag = tg__make_view(t, t->dtype, 1, &k, &dstride, 0);
    if (diag) tg__copy_into(diag, one);
    tg_release(diag);
    tg_release(one);
    return diag ? TG_OK : tg_last_error_code();
}
const tg_op_def tg_op_eye = {.name = "eye", .n_in = 0, .n_out = 1, .flags = TG_OP_NONDIFF,
                             .infer = eye_infer, .kernel = {[TG_CPU] = eye_kernel}};
TG_REGISTER_OPS(create, &tg_op_full, &tg_op_size_value, &tg_op_eye)

tg_tensor *tg__size_tensor(int64_t size, tg_dtype dtype) {
    tg_attrs a = {.n_int = 2, .i = {size, dtype}};
    return tg__apply1(&tg_op_size_value, 0, NULL, &a);
}

static tg_tensor *full_symbolic(tg_dtype dtype, int ndim, const int64_t *shape, double re, double im) {
    tg_attrs a = {.n_int = 2 + ndim, .n_real = 2, .i = {dtype, ndim}, .d = {re, im}};
    for (int i = 0; i < ndim; i++) a.i[2 + i] = shape[i];
    return tg__apply1(&tg_op_full, 0, NULL, &a);
}

/* ---- the default device (DESIGN.md section 3: per-thread state) --------------- */
/* Each thread starts with TANGENT_DEVICE ("cpu", "vulkan", "vulkan:1"; unset
 * or unreadable: the CPU); tg_set_default_device changes the calling
 * thread's (the issue asks for a per-thread setter; DESIGN.md section 3
 * makes the default device per-thread state). */
static _Thread_local bool default_known;
static _Thread_local tg_device default_dev;
static _Thread_local int cpu_only;       /* > 0: factories stay on the CPU (*_like) */

static tg_device env_device(void) {
    const char *e = getenv("TANGENT_DEVICE");
    tg_device d = {TG_CPU, 0};
    if (!e || !*e || strcmp(e, "cpu") == 0 || strcmp(e, "cpu:0") == 0) return d;
    char *end = NULL;
    if (strncmp(e, "vulkan", 6) == 0 && (e[6] == 0 || e[6] == ':')) {
        long i = e[6] == ':' ? strtol(e + 7, &end, 10) : 0;
        if ((e[6] == 0 || (end != e + 7 && *end == 0)) && i >= 0 && i < 1 << 20)
            return (tg_device){TG_VULKAN, (int)i};
    }
    if (getenv("TANGENT_DEBUG"))
        fprintf(stderr, "tangent: TANGENT_DEVICE=%s is not cpu, vulkan or vulkan:N; using the CPU\n", e);
    return d;
}
tg_device tg__default_device(void) {
    if (!default_known) { default_dev = env_device(); default_known = true; }
    return default_dev;
}
void tg__set_default_device(tg_device dev) {
    default_dev = dev;
    default_known = true;
}

tg_device tg_default_device(void) { return tg__default_device(); }

tg_status tg_set_default_device(tg_device dev) {
    bool ok = (dev.kind == TG_CPU && dev.index == 0) ||
              (dev.kind == TG_VULKAN && dev.index >= 0 && dev.index < tg_device_count(TG_VULKAN));
    if (!ok)
        return tg__error(TG_ERR_DEVICE, "tg_set_default_device: no device %s:%d (%d Vulkan device(s))",
                         dev.kind == TG_CPU ? "cpu" : dev.kind == TG_VULKAN ? "vulkan" : "?", dev.index,
                         tg_device_count(TG_VULKAN));
    tg__set_default_device(dev);
    return TG_OK;
}

/* t (fresh, CPU, not handed out) on the default device, handed out. */
static tg_tensor *place(tg_tensor *t) {
    tg_device d = cpu_only ? (tg_device){TG_CPU, 0} : tg__default_device();
    if (!t || d.kind == TG_CPU) return tg__handout(t);
    tg_tensor *y = tg__vk_transfer(t, d);
    tg_release(t);
    return tg__handout(y);
}

tg_tensor *tg_empty(tg_dtype dtype, int ndim, const int64_t *shape) {
    if (tg__check_shape("tg_empty", dtype, ndim, shape)) return NULL;
    if (tg__has_symbolic(ndim, shape)) return full_symbolic(dtype, ndim, shape, 0, 0);
    return place(tg__alloc(dtype, ndim, shape));
}

tg_tensor *tg_from_data(tg_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    if (tg__check_shape("tg_from_data", dtype, ndim, shape)) return NULL;
    int64_t n = tg__numel(ndim, shape);
    if (n > 0 && !data) return tg__error(TG_ERR_ARG, "tg_from_data: data is NULL"), NULL;
    tg_tensor *t = tg__alloc(dtype, ndim, shape);
    if (!t) return NULL;
    if (n > 0) memcpy(tg__ptr(t), data, (size_t)n * tg_dtype_size(dtype));
    if (dtype == TG_BOOL) {                  /* bools are stored as 0/1 */
        uint8_t *b = (uint8_t *)tg__ptr(t);
        for (int64_t i = 0; i < n; i++) b[i] = b[i] != 0;
    }
    return place(t);
}

tg_tensor *tg__wrap_raw(tg_dtype dtype, int ndim, const int64_t *shape, const int64_t *strides,
                        void *data, void (*deleter)(void *data, void *ctx), void *ctx) {
    if (tg__check_shape("tg_wrap", dtype, ndim, shape)) return NULL;
    if (!data) return tg__error(TG_ERR_ARG, "tg_wrap: data is NULL"), NULL;
    size_t es = tg_dtype_size(dtype);
    size_t align = tg_dtype_is_complex(dtype) ? es / 2 : es;
    if ((uintptr_t)data % align)
        return tg__error(TG_ERR_ARG, "tg_wrap: data %p is not aligned to %zu bytes for %s", data, align,
                         tg_dtype_name(dtype)), NULL;
    int64_t st[TG_MAX_DIMS];
    if (strides) memcpy(st, strides, (size_t)ndim * sizeof *st);
    else tg__contiguous_strides(ndim, shape, st);
    /* The span of addressed elements must be representable; negative strides
     * would address memory before data, which a wrap cannot own. */
    int64_t span = 1;
    bool empty = tg__numel(ndim, shape) == 0;
    for (int i = 0; i < ndim && !empty; i++) {
        if (st[i] < 0)
            return tg__error(TG_ERR_ARG, "tg_wrap: stride %lld of axis %d is negative", (long long)st[i], i), NULL;
        if (shape[i] > 1 && st[i] > (INT64_MAX / 16 - span) / (shape[i] - 1))
            return tg__error(TG_ERR_ARG, "tg_wrap: strides overflow the addressable range"), NULL;
        span += (shape[i] - 1) * st[i];
    }
    tg_storage *s = malloc(sizeof *s);
    if (!s) return tg__error(TG_ERR_MEMORY, "tg_wrap: out of memory"), NULL;
    memset(s, 0, sizeof *s);
    s->refcount = 1;
    s->device = (tg_device){TG_CPU, 0};
    s->data = data;
    s->nbytes = empty ? 0 : (size_t)span * es;
    s->deleter = deleter;
    s->deleter_ctx = ctx;
    s->external = true;
    tg_tensor *t = tg__tensor_new(dtype, ndim, shape, s);
    if (!t) return NULL;
    memcpy(t->strides, st, (size_t)ndim * sizeof *st);
    return t;
}

tg_tensor *tg_wrap(tg_dtype dtype, int ndim, const int64_t *shape, const int64_t *strides,
                   void *data, void (*deleter)(void *data, void *ctx), void *ctx) {
    return tg__handout(tg__wrap_raw(dtype, ndim, shape, strides, data, deleter, ctx));
}

tg_tensor *tg_full_complex(tg_dtype dtype, int ndim, const int64_t *shape, double re, double im) {
    if (tg__check_shape("tg_full", dtype, ndim, shape)) return NULL;
    if (tg__has_symbolic(ndim, shape)) return full_symbolic(dtype, ndim, shape, re, im);
    if (im != 0 && !tg_dtype_is_complex(dtype))
        return tg__error(TG_ERR_DTYPE, "tg_full: imaginary value for real dtype %s", tg_dtype_name(dtype)), NULL;
    tg_tensor *t = tg__alloc(dtype, ndim, shape);
    tg_tensor *v = tg__alloc(TG_C128, 0, NULL);
    if (!t || !v) { tg_release(t); tg_release(v); return NULL; }
    *(tg_c128_t *)tg__ptr(v) = re + im * I;
    tg__copy_into(t, v);
    tg_release(v);
    return place(t);
}

tg_tensor *tg_full(tg_dtype dtype, int ndim, const int64_t *shape, double value) {
    return tg_full_complex(dtype, ndim, shape, value, 0);
}
tg_tensor *tg_zeros(tg_dtype dtype, int ndim, const int64_t *shape) {
    if (tg__check_shape("tg_zeros", dtype, ndim, shape)) return NULL;
    if (tg__has_symbolic(ndim, shape)) return full_symbolic(dtype, ndim, shape, 0, 0);
    tg_tensor *t = tg__alloc(dtype, ndim, shape);
    if (t) memset(tg__ptr(t), 0, (size_t)tg__numel(ndim, shape) * tg_dtype_size(dtype));
    return place(t);
}
tg_tensor *tg_ones(tg_dtype dtype, int ndim, const int64_t *shape) { return tg_full(dtype, ndim, shape, 1.0); }
tg_tensor *tg_scalar(tg_dtype dtype, double value) { return tg_full(dtype, 0, NULL, value); }
tg_tensor *tg_scalar_complex(tg_dtype dtype, double re, double im) { return tg_full_complex(dtype, 0, NULL, re, im); }

#define LIKE(x, call)                                                     \
    do {                                                                  \
        if (!x) return tg__error(TG_ERR_ARG, "%s: input is NULL", __func__), NULL; \
        return call;                                                      \
    } while (0)
/* On x's device, as PyTorch's *_like, whatever the default device (a device
 * tensor is filled on the CPU and copied: no GPU fill for tg_full yet). */
static tg_tensor *on_device_of(tg_tensor *x, bool zeros, double v) {
    cpu_only++;
    tg_tensor *t = zeros ? tg_zeros(x->dtype, x->ndim, x->shape) : tg_full(x->dtype, x->ndim, x->shape, v);
    cpu_only--;
    if (!t || tg__is_tracer(x) || tg__is_tracer(t) || x->storage->device.kind == TG_CPU) return t;
    tg_tensor *y = tg__vk_transfer(t, x->storage->device);
    tg_release(tg__scope_take(t));
    return tg__handout(y);
}
tg_tensor *tg_zeros_like(tg_tensor *x) { LIKE(x, on_device_of(x, true, 0)); }
tg_tensor *tg_ones_like(tg_tensor *x) { LIKE(x, on_device_of(x, false, 1)); }
tg_tensor *tg_full_like(tg_tensor *x, double v) { LIKE(x, on_device_of(x, false, v)); }

tg_tensor *tg__weak_scalar(double s) {
    bool integral = s == s && s == (double)(int64_t)s && fabs(s) < 9.0e18;
    tg_tensor *t = tg__alloc(integral ? TG_I64 : TG_F64, 0, NULL);
    if (!t) return NULL;
    if (integral) *(int64_t *)tg__ptr(t) = (int64_t)s;
    else *(double *)tg__ptr(t) = s;
    t->flags |= TG_TFLAG_WEAK;
    return t;
}

/* Values computed in f64 then converted, as NumPy's arange/linspace do. */
static tg_tensor *from_f64_values(const char *op, tg_dtype dtype, int64_t n, double a, double step, double last,
                                  bool use_last) {
    if ((unsigned)dtype >= TG_NUM_DTYPES) return tg__error(TG_ERR_DTYPE, "%s: invalid dtype", op), NULL;
    int64_t shape[1] = {n};
    tg_tensor *v = tg__alloc(TG_F64, 1, shape);
    if (!v) return NULL;
    double *p = (double *)tg__ptr(v);
    for (int64_t i = 0; i < n; i++) p[i] = a + (double)i * step;
    if (use_last && n > 1) p[n - 1] = last;
    if (use_last && (dtype == TG_I32 || dtype == TG_I64))     /* NumPy's linspace floors for int dtypes */
        for (int64_t i = 0; i < n; i++) p[i] = floor(p[i]);
    tg_tensor *r = tg__cast_raw(v, dtype);
    tg_release(v);
    return place(r);
}

tg_tensor *tg_arange(tg_dtype dtype, double start, double stop, double step) {
    if (step == 0 || step != step || start != start || stop != stop)
        return tg__error(TG_ERR_ARG, "tg_arange: step must be nonzero and bounds finite"), NULL;
    double len = ceil((stop - start) / step);
    if (!(len < 1e15)) return tg__error(TG_ERR_ARG, "tg_arange: too many elements"), NULL;
    int64_t n = len > 0 ? (int64_t)len : 0;
    return from_f64_values("tg_arange", dtype, n, start, step, 0, false);
}

tg_tensor *tg_linspace(tg_dtype dtype, double start, double stop, int64_t num) {
    if (num < 0) return tg__error(TG_ERR_ARG, "tg_linspace: num %lld is negative", (long long)num), NULL;
    double step = num > 1 ? (stop - start) / (double)(num - 1) : 0;
    return from_f64_values("tg_linspace", dtype, num, start, step, stop, true);
}

tg_tensor *tg_eye(tg_dtype dtype, int64_t n, int64_t m) {
    if (m < 0) m = n;
    int64_t shape[2] = {n, m};
    if (tg__check_shape("tg_eye", dtype, 2, shape)) return NULL;
    if (tg__has_symbolic(2, shape)) {   /* under a trace: an op the program runs per binding */
        tg_attrs a = {.n_int = 3, .i = {dtype, n, m}};
        return tg__apply1(&tg_op_eye, 0, NULL, &a);
    }
    tg_tensor *t = tg__alloc(dtype, 2, shape);
    tg_tensor *one = tg__alloc(TG_F64, 0, NULL);
    if (!t || !one) { tg_release(t); tg_release(one); return NULL; }
    memset(tg__ptr(t), 0, (size_t)(n * m) * tg_dtype_size(dtype));
    *(double *)tg__ptr(one) = 1.0;
    int64_t k = n < m ? n : m, dstride = m + 1;
    tg_tensor *diag = tg__make_view(t, dtype, 1, &k, &dstride, 0);
    if (diag) tg__copy_into(diag, one);
    tg_release(diag);
    tg_release(one);
    return place(t);
}

tg_tensor *tg__eye_like(const tg_tensor *like, tg_dtype dtype, int64_t n, int64_t m) {
    tg_device saved = tg__default_device();
    tg__set_default_device(like ? like->storage->device : (tg_device){TG_CPU, 0});
    tg_tensor *e = tg_eye(dtype, n, m);
    tg__set_default_device(saved);
    return e;
}
