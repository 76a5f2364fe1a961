/* Internal layout of tensors and storage, shared by every module (a module
 * may use tensor/'s private headers; see DESIGN.md section 1). */
#ifndef TG_TENSOR_IMPL_H
#define TG_TENSOR_IMPL_H

#include "tangent/tensor.h"
#include "tangent/device.h"

#include <stdarg.h>

/* A refcounted buffer on one device. Views share it. */
typedef struct tg_storage {
    int refcount;                 /* atomic via __atomic builtins */
    tg_device device;
    void *data;
    size_t nbytes;
    void (*deleter)(void *data, void *ctx);   /* run on free when set */
    void *deleter_ctx;
    bool external;                /* data is user memory; the header was malloc'd alone */
    size_t capacity;              /* bytes of the block behind data (owned storage) */
    struct tg_storage *next_free; /* link in a per-thread cache of free blocks */
    uint64_t version;             /* bumped by in-place writes (autograd checks it) */
} tg_storage;

enum {
    TG_TFLAG_REQUIRES_GRAD = 1u << 0,
    TG_TFLAG_WEAK = 1u << 1,      /* a Python-like scalar: NEP 50 weak promotion */
    /* bits 8..15: which output of its grad_fn node this tensor is */
};

struct tg_node;                   /* autograd graph node (autodiff/) */

struct tg_tensor {
    int refcount;
    tg_dtype dtype;
    int ndim;
    uint32_t flags;
    int64_t offset;               /* in elements, into storage */
    int64_t shape[TG_MAX_DIMS];
    int64_t strides[TG_MAX_DIMS]; /* in elements; may be 0 (broadcast) or negative */
    tg_storage *storage;
    tg_tensor *grad;              /* accumulated gradient of a leaf */
    struct tg_node *grad_fn;      /* node that produced this tensor, if recorded */
    tg_tensor *tangent;           /* forward-mode tangent inside tg_jvp, or NULL */
    /* A tracer (traced mode) has no data: it names value trace_value of the
     * graph being traced, and its storage is tg__trace_storage. */
    int32_t trace_value;          /* -1 for ordinary tensors */
    struct tg_graph *trace_graph;
    uint64_t trace_serial;        /* trace_graph's serial: a freed graph's address may be reused */
};

/* Sizes at or above this are symbolic handles (tangent/sizes.h). */
#define TG_SYM_BASE_INTERNAL ((int64_t)1 << 62)
/* A size in the symbolic range (tg_is_symbolic also checks the handle exists). */
static inline bool tg__is_sym_size(int64_t size) { return size >= TG_SYM_BASE_INTERNAL; }
static inline bool tg__has_symbolic(int ndim, const int64_t *shape) {
    for (int i = 0; i < ndim; i++) if (tg__is_sym_size(shape[i])) return true;
    return false;
}

/* Requires lhs >= rhs for sizes that may be symbolic: plain sizes are
 * decided now (TG_ERR_SHAPE naming what), symbolic ones are recorded in the
 * graph being traced and checked when tg_run binds the symbols. */
tg_status tg__require(int64_t lhs, int64_t rhs, const char *what);

/* The storage every tracer points at: no data, never freed. */
extern tg_storage tg__trace_storage;
static inline bool tg__is_tracer(const tg_tensor *t) { return t->trace_value >= 0; }

/* ---- errors (tensor/error.c) ------------------------------------------ */
/* Record an error unless one is already pending; returns code. The message
 * gets the caller's file:line appended when the location macros set it. */
tg_status tg__error(tg_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
tg_status tg__verror(tg_status code, const char *fmt, va_list ap);
void tg__set_location(const char *file, int line);
void tg__clear_location(void);
void tg__get_location(const char **file, int *line);
/* Code that tries one path and falls back on failure must not lose an
 * error the caller has not read yet: tg__error_stash sets it aside and
 * clears it, so the try sees (and may clear) only its own errors;
 * tg__error_unstash puts an older error back as the first one, or leaves
 * the try's state as it is when there was none. */
typedef struct tg__stashed_error { tg_status code; char msg[1024]; } tg__stashed_error;
void tg__error_stash(tg__stashed_error *s);
void tg__error_unstash(const tg__stashed_error *s);
/* "(2, 3) f32" into buf; returns buf. */
const char *tg__fmt_meta(char *buf, size_t n, tg_dtype dtype, int ndim, const int64_t *shape);
const char *tg__fmt_shape(char *buf, size_t n, int ndim, const int64_t *shape);
/* One size as text: the number, or the symbolic expression ("N", "2*N + 1"). */
const char *tg__fmt_size(char *buf, size_t n, int64_t size);

/* ---- allocation (tensor/memory.c) ------------------------------------- */
/* A new tensor header (refcount 1) over storage s (reference taken over). */
tg_tensor *tg__tensor_new(tg_dtype dtype, int ndim, const int64_t *shape, tg_storage *s);
/* A contiguous tensor with fresh, uninitialised CPU storage. */
tg_tensor *tg__alloc(tg_dtype dtype, int ndim, const int64_t *shape);
/* A view header over x's storage with the given geometry. */
tg_tensor *tg__make_view(tg_tensor *x, tg_dtype dtype, int ndim, const int64_t *shape,
                         const int64_t *strides, int64_t offset);
/* The real (which 0) or imaginary (1) part of complex z as a real view of
 * its storage (a new reference, not handed out): tg_real/tg_imag's kernel. */
tg_tensor *tg__complex_part(tg_tensor *z, int which);
tg_storage *tg__storage_new(size_t nbytes);
/* Zero-copy wrap of user memory (no scope hand-out). */
tg_tensor *tg__wrap_raw(tg_dtype dtype, int ndim, const int64_t *shape, const int64_t *strides,
                        void *data, void (*deleter)(void *data, void *ctx), void *ctx);
void tg__storage_retain(tg_storage *s);
void tg__storage_release(tg_storage *s);
/* Hand a fresh reference to the innermost scope if one is open; returns t. */
tg_tensor *tg__handout(tg_tensor *t);
/* Take t out of the innermost scope: the caller now owns that reference. */
tg_tensor *tg__scope_take(tg_tensor *t);
/* Free a tensor that was never handed out (refcount 1, not in a scope). */
void tg__discard(tg_tensor *t);

/* Element size without a call (t->dtype is always valid inside the library). */
static inline int64_t tg__esize(tg_dtype d) {
    static const int8_t sizes[TG_NUM_DTYPES] = {1, 4, 8, 4, 8, 8, 16, 2, 2};
    return sizes[d];
}
static inline char *tg__ptr(const tg_tensor *t) {
    return (char *)t->storage->data + t->offset * tg__esize(t->dtype);
}
static inline int64_t tg__numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        /* a tracer's symbolic size: not a count, but never 0 or 1 either */
        if (shape[i] >= ((int64_t)1 << 62)) return (int64_t)1 << 62;
        n *= shape[i];
    }
    return n;
}
static inline void tg__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    /* unsigned: a tracer's symbolic sizes make meaningless strides, not UB */
    uint64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) { strides[i] = (int64_t)s; s *= shape[i] > 0 ? (uint64_t)shape[i] : 1; }
}
bool tg__is_contiguous(const tg_tensor *t);
static inline void tg__bump_version(tg_tensor *t) { t->storage->version++; }

/* ---- shape helpers (tensor/shape.c) ----------------------------------- */
/* Validate ndim and sizes (0 <= ndim <= TG_MAX_DIMS, sizes >= 0, numel and
 * bytes without overflow). op names the caller for the message. */
tg_status tg__check_shape(const char *op, tg_dtype dtype, int ndim, const int64_t *shape);
/* Normalise axis into [0, ndim); error naming op otherwise. */
tg_status tg__norm_axis(const char *op, int axis, int ndim, int *out);
/* Normalise an axis list into a mask; repeated axes are an error. naxes == 0
 * with axes == NULL selects all axes. */
tg_status tg__axes_mask(const char *op, int naxes, const int *axes, int ndim, bool *mask);
/* NumPy broadcast of two shapes; error naming op and both shapes (op NULL:
 * return TG_ERR_SHAPE without recording, for callers that report it). */
tg_status tg__broadcast_shapes(const char *op, int na, const int64_t *a, int nb, const int64_t *b,
                               int *nout, int64_t *out);
/* Strides (elements) to read x as if broadcast to (ndim, shape). */
void tg__broadcast_strides(const tg_tensor *x, int ndim, const int64_t *shape, int64_t *strides);

/* ---- random (tensor/random.c) ----------------------------------------- */
void tg__philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* ---- threads (tensor/threads.c) --------------------------------------- */
int tg__num_threads(void);
/* Elements below which loops stay on one thread. */
#define TG_PARALLEL_GRAIN 32768

/* TG_PARALLEL_FOR(cond, for (...) body): an OpenMP loop when cond holds,
 * the plain loop otherwise. OpenMP's own if() clause still builds a team
 * (about a microsecond), which a tiny op cannot afford. */
#define TG_PARALLEL_FOR(cond, ...)                                                      \
    do {                                                                                \
        if (cond) {                                                                     \
            _Pragma("omp parallel for schedule(static) num_threads(tg__num_threads())") \
            __VA_ARGS__                                                                 \
        } else {                                                                        \
            __VA_ARGS__                                                                 \
        }                                                                               \
    } while (0)

#endif
