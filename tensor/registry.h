/* The op registry (DESIGN.md section 2): every primitive is one tg_op_def,
 * and every public op runs through tg__apply(), which validates inputs,
 * infers output metadata, allocates outputs, picks the kernel for the
 * inputs' device and hands the results out. Autograd and tracing hook in
 * here, so no op needs a second code path for them. */
#ifndef TG_REGISTRY_H
#define TG_REGISTRY_H

#include "tensor/tensor_impl.h"

#define TG_MAX_ATTR_INTS 48
#define TG_MAX_ATTR_REALS 4
#define TG_MAX_OP_INPUTS 64
#define TG_MAX_OP_OUTPUTS 64

/* Attributes of one op application: axes, flags, sizes, scalars. */
typedef struct tg_attrs {
    int n_int, n_real;
    int64_t i[TG_MAX_ATTR_INTS];
    double d[TG_MAX_ATTR_REALS];
    const char *str;              /* e.g. einsum subscripts; borrowed */
} tg_attrs;

/* What infer sees of a tensor: enough to work on symbolic shapes later. */
typedef struct tg_meta {
    tg_dtype dtype;
    int ndim;
    bool weak;                    /* weak scalar (NEP 50) */
    int64_t shape[TG_MAX_DIMS];
} tg_meta;

typedef struct tg_op_def tg_op_def;

typedef struct tg_op_call {
    const tg_op_def *def;
    const tg_attrs *attrs;
    int n_in;
    const tg_meta *in;
    const bool *needs;            /* VJP rules: which inputs want a cotangent (NULL: all) */
} tg_op_call;

/* In a VJP rule: does input i want a cotangent? Rules skip the others. */
#define TG_NEEDS(c, i) (!(c)->needs || (c)->needs[i])

enum {
    /* The kernel creates its outputs itself (views and the like): tg__apply
     * allocates nothing and infer only validates. */
    TG_OP_MAKES_OUTPUTS = 1u << 0,
    /* Outputs are not differentiable (comparisons, argmax, ...). */
    TG_OP_NONDIFF = 1u << 1,
    /* The VJP and JVP rules never read the op's outputs (out[] is NULL in
     * them), so the tape does not save them. */
    TG_OP_RULES_IGNORE_OUTPUT = 1u << 2,
    /* The VJP rule takes NULL for an output no cotangent reached (instead of
     * zeros): decompositions whose vector terms divide by eigenvalue gaps
     * stay finite at degenerate spectra when only the values are used. */
    TG_OP_VJP_NULL_COTANGENTS = 1u << 3,
    /* Output element i depends only on element i of each (broadcast) input,
     * the output has the broadcast shape, and the CPU kernel writes into
     * any contiguous output it is given: the compiler's fusion pass
     * (autodiff/fusion.c) may run such ops block by block. */
    TG_OP_ELEMENTWISE = 1u << 4,
};

typedef tg_status (*tg_infer_fn)(const tg_op_call *call, tg_meta *out);
typedef tg_status (*tg_kernel_fn)(const tg_op_call *call, tg_tensor *const *in, tg_tensor **out);
/* in_cot[i] may be left NULL for an input with no gradient. */
typedef tg_status (*tg_vjp_fn)(const tg_op_call *call, tg_tensor *const *in, tg_tensor *const *out,
                               tg_tensor *const *out_cot, tg_tensor **in_cot);
/* in_tan[i] may be NULL (zero tangent). */
typedef tg_status (*tg_jvp_fn)(const tg_op_call *call, tg_tensor *const *in, tg_tensor *const *out,
                               tg_tensor *const *in_tan, tg_tensor **out_tan);

struct tg_op_def {
    const char *name;             /* public name, e.g. "add" */
    int n_in;                     /* -1: variadic (attrs say how many) */
    int n_out;                    /* -1: given by attrs (split) */
    unsigned flags;
    tg_infer_fn infer;
    tg_kernel_fn kernel[TG_NUM_DEVICE_KINDS];
    tg_vjp_fn vjp;                /* filled by the autodiff work */
    tg_jvp_fn jvp;
    const void *impl;             /* kernel tables private to the op family */
    /* Elementwise ops: the loop (tensor/iter.h's tg_loop_fn, ctx NULL) the
     * CPU kernel runs for call's operands, and the dtype it reads each
     * input in (in_dtype[i]: the kernel casts an input of another dtype to
     * it first); false when the kernel runs no such loop. The fusion
     * executor then calls it on raw blocks (autodiff/fusion_flat.c). NULL:
     * never. */
    bool (*cpu_loop)(const tg_op_call *call,
                     void (**fn)(int64_t n, char *const *ptrs, const int64_t *steps, const void *ctx),
                     tg_dtype *in_dtype);
};

/* Run def on inputs. out[] receives n_out new references (handed out to the
 * current scope when one is open). On failure out[] is all NULL. */
tg_status tg__apply(const tg_op_def *def, int n_in, tg_tensor *const *in,
                    const tg_attrs *attrs, int n_out, tg_tensor **out);
tg_tensor *tg__apply1(const tg_op_def *def, int n_in, tg_tensor *const *in, const tg_attrs *attrs);
/* For the compiled executor: CPU tensors, no tracers, no recording, out[]
 * owned by the caller (not handed to a scope). */
tg_status tg__apply_plain(const tg_op_def *def, int n_in, tg_tensor *const *in, const tg_attrs *attrs, int n_out,
                          tg_tensor **out);

/* Error naming the op of call, its operands' shapes and dtypes, and a reason. */
tg_status tg__op_error(const tg_op_call *call, tg_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lookup by name (user-registered ops too); NULL when unknown. */
const tg_op_def *tg__op_lookup(const char *name);
/* The registered ops, i < tg__op_count() (tests walk them). */
int tg__op_count(void);
const tg_op_def *tg__op_at(int i);
/* Ops register themselves at load time with this constructor helper. */
bool tg__op_register_builtin(const tg_op_def *def);
#define TG_REGISTER_OPS(tag, ...)                                              \
    __attribute__((constructor)) static void tg__register_##tag(void) {        \
        const tg_op_def *defs_[] = {__VA_ARGS__};                              \
        for (size_t k_ = 0; k_ < sizeof defs_ / sizeof defs_[0]; k_++)         \
            tg__op_register_builtin(defs_[k_]);                                \
    }

/* What infer sees of each input tensor. */
static inline void tg__metas_of(int n, tg_tensor *const *in, tg_meta *metas) {
    for (int i = 0; i < n; i++) {
        metas[i].dtype = in[i]->dtype;
        metas[i].ndim = in[i]->ndim;
        metas[i].weak = (in[i]->flags & TG_TFLAG_WEAK) != 0;
        for (int d = 0; d < in[i]->ndim; d++) metas[i].shape[d] = in[i]->shape[d];
    }
}

static inline void tg__meta_copy_shape(tg_meta *dst, const tg_meta *src) {
    dst->ndim = src->ndim;
    for (int i = 0; i < src->ndim; i++) dst->shape[i] = src->shape[i];
}

#endif
