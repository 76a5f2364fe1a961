/* The op registry and the one dispatcher every public op goes through. */
#include "tensor/registry.h"
#include "gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- name table (builtins at load time; user ops later) -------------- */
#define MAX_OPS 1024
static const tg_op_def *op_table[MAX_OPS];
static int op_count;

bool tg__op_register_builtin(const tg_op_def *def) {
    if (op_count >= MAX_OPS) return false;
    op_table[op_count++] = def;
    return true;
}

const tg_op_def *tg__op_lookup(const char *name) {
    for (int i = 0; i < op_count; i++)
        if (strcmp(op_table[i]->name, name) == 0) return op_table[i];
    return NULL;
}

int tg__op_count(void) { return op_count; }
const tg_op_def *tg__op_at(int i) { return i >= 0 && i < op_count ? op_table[i] : NULL; }

/* ---- errors naming the operands --------------------------------------- */
tg_status tg__op_error(const tg_op_call *call, tg_status code, const char *fmt, ...) {
    char msg[1024];
    size_t k = (size_t)snprintf(msg, sizeof msg, "tg_%s: ", call->def->name);
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(msg + k, sizeof msg - k, fmt, ap);
    va_end(ap);
    if (w > 0) k += (size_t)w;
    for (int i = 0; i < call->n_in && k < sizeof msg; i++) {
        char m[200];
        const tg_meta *x = &call->in[i];
        tg__fmt_meta(m, sizeof m, x->dtype, x->ndim, x->shape);
        w = snprintf(msg + k, sizeof msg - k, "%s%s", i ? ", " : " [operands: ", m);
        if (w > 0) k += (size_t)w;
        if (i == call->n_in - 1 && k < sizeof msg) k += (size_t)snprintf(msg + k, sizeof msg - k, "]");
    }
    return tg__error(code, "%s", msg);
}

/* ---- dispatch ---------------------------------------------------------- */
/* The caller's file:line (set by the location macros) is kept after the op
 * returns: an op called in another op's arguments, tg_add(x, tg_mul(a, b)),
 * may run after the outer call's macro set the line, and clearing it then
 * left the outer op's error (and its trace node) without a location. The
 * next macro call overwrites it. */

/* Traced mode takes over when an input is a tracer or a size is symbolic
 * (autodiff/trace.c); weak so the core links without it. */
tg_status tg__trace_apply(const tg_op_def *def, int n_in, tg_tensor *const *in, const tg_attrs *attrs, int n_out,
                          tg_tensor **out) __attribute__((weak));

static bool needs_trace(int n_in, tg_tensor *const *in, const tg_attrs *attrs) {
    for (int i = 0; i < n_in; i++) if (tg__is_tracer(in[i])) return true;
    for (int q = 0; q < attrs->n_int; q++) if (attrs->i[q] >= TG_SYM_BASE_INTERNAL) return true;
    return false;
}

/* Autograd hooks in here (autodiff/); weak so the core links without it. */
tg_status tg__record_hook(const tg_op_def *def, const tg_attrs *attrs, int n_in, tg_tensor *const *in,
                          int n_out, tg_tensor **out) __attribute__((weak));

/* "cpu" or "vulkan:0 (device name)". */
static const char *device_name(char *buf, size_t n, tg_device d) {
    if (d.kind == TG_CPU) snprintf(buf, n, "cpu");
    else snprintf(buf, n, "%s", tg__vk_device_name(d.index));
    return buf;
}

/* Inputs on more than one device: an error naming two of them, unless the
 * only CPU inputs are weak scalars (Python-like numbers, as PyTorch lets a
 * CPU scalar join CUDA tensors); then *dev is the device of the others. */
static tg_status mixed_devices(const tg_op_def *def, int n_in, tg_tensor *const *in, tg_device *dev) {
    int first = -1;
    for (int i = 0; i < n_in && first < 0; i++) {
        const tg_tensor *t = in[i];
        bool scalar = t->storage->device.kind == TG_CPU && (t->flags & TG_TFLAG_WEAK) && tg__numel(t->ndim, t->shape) == 1;
        if (!scalar) first = i;
    }
    if (first < 0) first = 0;
    tg_device d0 = in[first]->storage->device;
    for (int i = 0; i < n_in; i++) {
        const tg_tensor *t = in[i];
        tg_device d = t->storage->device;
        if (d.kind == d0.kind && d.index == d0.index) continue;
        bool scalar = d.kind == TG_CPU && (t->flags & TG_TFLAG_WEAK) && tg__numel(t->ndim, t->shape) == 1;
        if (scalar) continue;
        char a[320], b[320];
        return tg__error(TG_ERR_DEVICE, "tg_%s: inputs live on different devices (input %d on %s, input %d on %s); "
                         "use tg_to_device", def->name, first, device_name(a, sizeof a, d0), i,
                         device_name(b, sizeof b, d));
    }
    *dev = d0;
    return TG_OK;
}

/* The Vulkan kernels' parameter blocks hold TG_VK_MAX_DIMS axes. */
static tg_status vk_rank_check(const tg_op_call *c, int n_in, tg_tensor *const *in, int n_out, const tg_meta *out) {
    for (int k = 0; k < n_in + n_out; k++) {
        int nd = k < n_in ? in[k]->ndim : out[k - n_in].ndim;
        if (nd > TG_VK_MAX_DIMS)
            return tg__op_error(c, TG_ERR_UNSUPPORTED, "no Vulkan kernel for tensors of more than %d axes (%s %d has %d)",
                                TG_VK_MAX_DIMS, k < n_in ? "input" : "output", k < n_in ? k : k - n_in, nd);
    }
    return TG_OK;
}

tg_status tg__apply(const tg_op_def *def, int n_in, tg_tensor *const *in,
                    const tg_attrs *attrs, int n_out, tg_tensor **out) {
    static const tg_attrs no_attrs;
    if (!attrs) attrs = &no_attrs;
    if (n_in > TG_MAX_OP_INPUTS || n_out > TG_MAX_OP_OUTPUTS) {
        for (int j = 0; j < n_out; j++) out[j] = NULL;
        return tg__error(TG_ERR_ARG, "tg_%s: too many operands (%d in, %d out)", def->name, n_in, n_out);
    }
    int null_in = -1;
    for (int i = 0; i < n_in && null_in < 0; i++)
        if (!in[i]) null_in = i;
    /* out[] is cleared after in[] is read: GCC turns the clearing loop into
     * a call of memset, and loads of in[] right after it stalled (about 10 ns
     * of every op) */
    for (int j = 0; j < n_out; j++) out[j] = NULL;
    /* NULL propagates: keep the error of whatever produced it. */
    if (null_in >= 0) return tg__error(TG_ERR_ARG, "tg_%s: input %d is NULL", def->name, null_in);
    if (tg__trace_apply && needs_trace(n_in, in, attrs)) {
        return tg__trace_apply(def, n_in, in, attrs, n_out, out);
    }
    tg_meta metas[TG_MAX_OP_INPUTS];
    tg_device dev = {TG_CPU, 0};
    bool cpu_scalars = false;     /* weak CPU scalars with device inputs (rare path) */
    tg__metas_of(n_in, in, metas);
    for (int i = 0; i < n_in; i++) {
        tg_device d = in[i]->storage->device;
        if (i == 0) dev = d;
        else if (d.kind != dev.kind || d.index != dev.index) {
            tg_status ds = mixed_devices(def, n_in, in, &dev);
            if (ds) return ds;
            cpu_scalars = true;
            break;
        }
    }
    tg_op_call call = {def, attrs, n_in, metas, NULL};
    tg_meta out_meta[TG_MAX_OP_OUTPUTS];
    memset(out_meta, 0, (size_t)n_out * sizeof *out_meta);
    tg_status st = def->infer ? def->infer(&call, out_meta) : TG_OK;
    if (st) goto done;
    tg_kernel_fn kernel = def->kernel[dev.kind];
    if (!kernel) {
        char dn[320];
        st = tg__op_error(&call, TG_ERR_UNSUPPORTED, "no kernel for inputs on %s",
                          device_name(dn, sizeof dn, dev));
        goto done;
    }
    if (dev.kind == TG_VULKAN && (st = vk_rank_check(&call, n_in, in, n_out, out_meta))) goto done;
    if (!(def->flags & TG_OP_MAKES_OUTPUTS)) {
        for (int j = 0; j < n_out; j++) {
            out[j] = dev.kind == TG_CPU ? tg__alloc(out_meta[j].dtype, out_meta[j].ndim, out_meta[j].shape)
                                        : tg__vk_alloc(dev.index, out_meta[j].dtype, out_meta[j].ndim, out_meta[j].shape);
            if (!out[j]) { st = TG_ERR_MEMORY; goto fail; }
        }
    }
    if (cpu_scalars) {
        /* weak CPU scalars join the device inputs: uploaded for the kernel */
        tg_tensor *moved[TG_MAX_OP_INPUTS], *kin[TG_MAX_OP_INPUTS];
        st = tg__vk_move_scalars(n_in, in, dev, moved);
        if (st) goto fail;
        for (int i = 0; i < n_in; i++) kin[i] = moved[i] ? moved[i] : in[i];
        st = kernel(&call, kin, out);
        for (int i = 0; i < n_in; i++) tg_release(moved[i]);
    } else {
        st = kernel(&call, in, out);
    }
    if (st) goto fail;
    if (tg__record_hook && !(def->flags & TG_OP_NONDIFF)) {
        st = tg__record_hook(def, attrs, n_in, in, n_out, out);
        if (st) goto fail;
    }
    for (int j = 0; j < n_out; j++) tg__handout(out[j]);
    goto done;
fail:
    for (int j = 0; j < n_out; j++) { tg_release(out[j]); out[j] = NULL; }
done:
    return st;
}

/* The compiled executor's path: inputs known non-NULL, on one CPU device,
 * not tracers; nothing recorded (tg_run is not differentiated) and nothing
 * handed out (out[] are the caller's). Shape inference still runs: it
 * validates the binding's sizes and gives the output shapes. */
tg_status tg__apply_plain(const tg_op_def *def, int n_in, tg_tensor *const *in, const tg_attrs *attrs, int n_out,
                          tg_tensor **out) {
    tg_meta metas[TG_MAX_OP_INPUTS], out_meta[TG_MAX_OP_OUTPUTS];
    for (int j = 0; j < n_out; j++) out[j] = NULL;
    tg__metas_of(n_in, in, metas);
    tg_op_call call = {def, attrs, n_in, metas, NULL};
    tg_status st = def->infer ? def->infer(&call, out_meta) : TG_OK;
    if (st) return st;
    if (!(def->flags & TG_OP_MAKES_OUTPUTS)) {
        for (int j = 0; j < n_out; j++) {
            out[j] = tg__alloc(out_meta[j].dtype, out_meta[j].ndim, out_meta[j].shape);
            if (!out[j]) { st = TG_ERR_MEMORY; break; }
        }
    }
    if (!st) st = def->kernel[TG_CPU](&call, in, out);
    if (st) for (int j = 0; j < n_out; j++) { tg_release(out[j]); out[j] = NULL; }
    return st;
}

tg_tensor *tg__apply1(const tg_op_def *def, int n_in, tg_tensor *const *in, const tg_attrs *attrs) {
    tg_tensor *out = NULL;
    tg__apply(def, n_in, in, attrs, 1, &out);
    return out;
}
