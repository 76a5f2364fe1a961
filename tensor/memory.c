/* Tensor headers, storage, reference counts and scopes.
 *
 * Small-op path: tensor headers come from a per-thread free list, and a
 * storage's data lives in the same allocation as its header, so a tiny op
 * costs two cheap allocations. */
#include "tensor/tensor_impl.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#define STORAGE_ALIGN 64
#define HUGE_THRESHOLD ((size_t)4 << 20)
#define HUGE_ALIGN ((size_t)2 << 20)
#define HEADER_CACHE_MAX 256

struct tg_node;
void tg__node_release(struct tg_node *n) __attribute__((weak));

/* ---- tensor headers and storage ---------------------------------------- */
/* Storage blocks are recycled through per-thread bins of size classes (64
 * bytes, then four classes per power of two), up to CACHE_BUDGET bytes per
 * thread. Handing memory back to the system at every scope end costs a page
 * fault per 4 KiB on the next step; a training step reuses the same sizes. */
#define SMALL_BYTES 64
#define N_CLASSES 168   /* up to 2^46 bytes */
#define CACHE_BUDGET ((size_t)256 << 20)

/* A thread's caches: tensor headers and storage bins. One thread-local
 * object rather than several, so that in the shared library (TLS reached
 * through a descriptor call per variable) a function finds them all with
 * one call. */
static _Thread_local struct {
    tg_tensor *headers[HEADER_CACHE_MAX];
    int n_headers;
    bool registered;              /* cache_flush runs at thread exit */
    tg_storage *bins[N_CLASSES];
    size_t cached_bytes, cached_large;
} tc;

/* Work whose tensors peak above CACHE_BUDGET (an einsum network's
 * intermediates: 330 MB) would hand the excess back at every call and
 * fault it in again at the next, the kernel zeroing every page. So a
 * thread may cache as much as the large blocks the process ever held live
 * at once: memory it has used already. Only blocks of LARGE_BYTES and more
 * are counted, so small tensors pay no atomic; small blocks keep the
 * CACHE_BUDGET of their own. */
#define LARGE_BYTES ((size_t)1 << 20)
static _Atomic size_t large_live, large_peak;
static void large_alloc(size_t cap) {
    if (cap < LARGE_BYTES) return;
    size_t now = atomic_fetch_add(&large_live, cap) + cap, peak = atomic_load(&large_peak);
    while (now > peak && !atomic_compare_exchange_weak(&large_peak, &peak, now)) {}
}
static void large_free(size_t cap) {
    if (cap >= LARGE_BYTES) atomic_fetch_sub(&large_live, cap);
}
/* Small blocks share CACHE_BUDGET; large ones may fill the peak. */
static bool cache_takes(size_t cap) {
    if (cap < LARGE_BYTES) return tc.cached_bytes - tc.cached_large + cap <= CACHE_BUDGET;
    size_t peak = atomic_load(&large_peak);
    return tc.cached_large + cap <= (peak > CACHE_BUDGET ? peak : CACHE_BUDGET);
}
static void cache_register(void);
static void scopes_free(void);

static int class_of(size_t n) {
    if (n <= SMALL_BYTES) return 0;
    int k = 63 - __builtin_clzll((unsigned long long)(n - 1));     /* n in (2^k, 2^(k+1)] */
    size_t step = (size_t)1 << (k - 2);
    int sub = (int)((n - ((size_t)1 << k) + step - 1) / step);     /* 1..4 */
    return 1 + (k - 6) * 4 + (sub - 1);
}
static size_t class_bytes(int c) {
    if (c == 0) return SMALL_BYTES;
    int k = (c - 1) / 4 + 6, sub = (c - 1) % 4 + 1;
    return ((size_t)1 << k) + (size_t)sub * ((size_t)1 << (k - 2));
}

tg_storage *tg__storage_new(size_t nbytes) {
    size_t head = (sizeof(tg_storage) + STORAGE_ALIGN - 1) / STORAGE_ALIGN * STORAGE_ALIGN;
    if (nbytes > ((size_t)1 << 46)) {
        if (nbytes == SIZE_MAX) tg__error(TG_ERR_MEMORY, "out of memory: the byte count overflows");
        else tg__error(TG_ERR_MEMORY, "out of memory: %zu bytes requested", nbytes);
        return NULL;
    }
    int c = class_of(nbytes);
    tg_storage *s = tc.bins[c];
    if (s) {
        tc.bins[c] = s->next_free;
        tc.cached_bytes -= s->capacity;
        if (s->capacity >= LARGE_BYTES) tc.cached_large -= s->capacity;
    } else {
        size_t body = class_bytes(c);
        if (head + body >= HUGE_THRESHOLD) {
            /* Large buffers: 2 MiB aligned and backed by transparent huge
             * pages, as NumPy does. */
            size_t total = (head + body + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
            s = aligned_alloc(HUGE_ALIGN, total);
            if (s) madvise(s, total, MADV_HUGEPAGE);
        } else {
            /* C11 wants the size a multiple of the alignment */
            s = aligned_alloc(STORAGE_ALIGN, (head + body + STORAGE_ALIGN - 1) / STORAGE_ALIGN * STORAGE_ALIGN);
        }
        if (!s) {
            tg__error(TG_ERR_MEMORY, "out of memory: %zu bytes requested", nbytes);
            return NULL;
        }
        memset(s, 0, sizeof *s);
        s->capacity = body;
        s->data = (char *)s + head;
    }
    large_alloc(s->capacity);
    s->refcount = 1;
    s->device = (tg_device){TG_CPU, 0};
    s->nbytes = nbytes;
    s->version = 0;
    s->next_free = NULL;
    return s;
}

void tg__storage_retain(tg_storage *s) { __atomic_add_fetch(&s->refcount, 1, __ATOMIC_RELAXED); }

void tg__storage_release(tg_storage *s) {
    if (!s || __atomic_sub_fetch(&s->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (s->deleter) s->deleter(s->data, s->deleter_ctx);
    if (!s->external) large_free(s->capacity);
    if (!s->external && cache_takes(s->capacity)) {
        cache_register();
        int c = class_of(s->capacity);
        s->next_free = tc.bins[c];
        tc.bins[c] = s;
        tc.cached_bytes += s->capacity;
        if (s->capacity >= LARGE_BYTES) tc.cached_large += s->capacity;
        return;
    }
    free(s);
}

static tg_tensor *header_alloc(void) {
    tg_tensor *t = tc.n_headers ? tc.headers[--tc.n_headers] : malloc(sizeof(tg_tensor));
    if (!t) tg__error(TG_ERR_MEMORY, "out of memory for a tensor header");
    return t;
}

/* Cached headers go back to the heap when their thread exits. */
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static void cache_flush(void *unused) {
    (void)unused;
    while (tc.n_headers) free(tc.headers[--tc.n_headers]);
    for (int c = 0; c < N_CLASSES; c++)
        while (tc.bins[c]) { tg_storage *s = tc.bins[c]; tc.bins[c] = s->next_free; free(s); }
    tc.cached_bytes = tc.cached_large = 0;
    scopes_free();
}
static void cache_key_init(void) { pthread_key_create(&cache_key, cache_flush); }
static void cache_register(void) {
    if (tc.registered) return;
    tc.registered = true;
    pthread_once(&cache_once, cache_key_init);
    pthread_setspecific(cache_key, (void *)1);
}

static void header_free(tg_tensor *t) {
    if (tc.n_headers == 0) cache_register();
    if (tc.n_headers < HEADER_CACHE_MAX) tc.headers[tc.n_headers++] = t;
    else free(t);
}

tg_tensor *tg__tensor_new(tg_dtype dtype, int ndim, const int64_t *shape, tg_storage *s) {
    tg_tensor *t = header_alloc();
    if (!t) { tg__storage_release(s); return NULL; }
    t->refcount = 1;
    t->dtype = dtype;
    t->ndim = ndim;
    t->flags = 0;
    t->offset = 0;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    tg__contiguous_strides(ndim, shape, t->strides);
    t->storage = s;
    t->grad = NULL;
    t->grad_fn = NULL;
    t->tangent = NULL;
    t->trace_value = -1;
    t->trace_graph = NULL;
    t->trace_serial = 0;
    return t;
}

tg_tensor *tg__alloc(tg_dtype dtype, int ndim, const int64_t *shape) {
    /* the byte count saturates instead of wrapping (tg_linspace of 2^61
     * points asked for 0 bytes and wrote past them): tg__storage_new then
     * refuses it as out of memory */
    size_t bytes = tg_dtype_size(dtype);
    for (int i = 0; i < ndim; i++)
        if (__builtin_mul_overflow(bytes, (size_t)shape[i], &bytes)) { bytes = SIZE_MAX; break; }
    tg_storage *s = tg__storage_new(bytes);
    return s ? tg__tensor_new(dtype, ndim, shape, s) : NULL;
}

/* Tracers share one storage that is never freed (refcount kept far from 0). */
tg_storage tg__trace_storage = {.refcount = 1 << 30, .device = {TG_CPU, -1}, .external = true};

tg_tensor *tg__make_view(tg_tensor *x, tg_dtype dtype, int ndim, const int64_t *shape,
                         const int64_t *strides, int64_t offset) {
    tg__storage_retain(x->storage);
    tg_tensor *t = tg__tensor_new(dtype, ndim, shape, x->storage);
    if (!t) return NULL;
    /* An alias of a tracer names the same graph value. */
    t->trace_value = x->trace_value;
    t->trace_graph = x->trace_graph;
    t->trace_serial = x->trace_serial;
    for (int i = 0; i < ndim; i++) t->strides[i] = strides[i];
    t->offset = offset;
    return t;
}

static void tensor_free(tg_tensor *t) {
    if (t->grad) tg_release(t->grad);
    if (t->tangent) tg_release(t->tangent);
    if (t->grad_fn && tg__node_release) tg__node_release(t->grad_fn);
    tg__storage_release(t->storage);
    header_free(t);
}

tg_tensor *tg_retain(tg_tensor *t) {
    if (!t) { tg__error(TG_ERR_ARG, "tg_retain: tensor is NULL"); return NULL; }
    __atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
    return t;
}

void tg_release(tg_tensor *t) {
    if (!t) return;
    if (__atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) == 0) tensor_free(t);
}

void tg__discard(tg_tensor *t) { tg_release(t); }

/* ---- scopes ----------------------------------------------------------- */
typedef struct scope {
    tg_tensor **items;
    int64_t n, cap;
} scope;

static _Thread_local scope *scopes;
static _Thread_local int scope_n, scope_cap;
#define SCOPE_KEEP 1024     /* entries a fully unwound scope keeps */
static void scopes_free(void) {
    for (int i = 0; i < scope_cap; i++) free(scopes[i].items);
    free(scopes);
    scopes = NULL;
    scope_n = scope_cap = 0;
}

void tg_scope_begin(void) {
    if (scope_n == scope_cap) {
        int cap = scope_cap ? 2 * scope_cap : 8;
        scope *ns = realloc(scopes, (size_t)cap * sizeof *ns);
        if (!ns) { tg__error(TG_ERR_MEMORY, "tg_scope_begin: out of memory"); return; }
        scopes = ns;
        for (int i = scope_cap; i < cap; i++) scopes[i] = (scope){0};
        scope_cap = cap;
    }
    scopes[scope_n++].n = 0;
}

void tg_scope_end(void) {
    if (scope_n == 0) {
        tg__error(TG_ERR_ARG, "tg_scope_end: no scope is open");
        return;
    }
    scope *s = &scopes[--scope_n];
    /* Release newest first: later tensors may hold graph nodes of earlier ones. */
    for (int64_t i = s->n - 1; i >= 0; i--) tg_release(s->items[i]);
    s->n = 0;
    if (scope_n == 0) {
        /* Fully unwound: large lists go back to the heap; small ones stay
         * for the next scope (a loop of scoped steps would otherwise pay a
         * malloc and free per step) until the thread exits. */
        for (int i = 0; i < scope_cap; i++)
            if (scopes[i].cap > SCOPE_KEEP) {
                free(scopes[i].items);
                scopes[i] = (scope){0};
            }
        cache_register();
    }
}

int tg_scope_depth(void) { return scope_n; }

static bool scope_push(scope *s, tg_tensor *t) {
    if (s->n == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 64;
        tg_tensor **ni = realloc(s->items, (size_t)cap * sizeof *ni);
        if (!ni) return false;
        s->items = ni;
        s->cap = cap;
    }
    s->items[s->n++] = t;
    return true;
}

tg_tensor *tg__handout(tg_tensor *t) {
    if (!t || scope_n == 0) return t;
    if (!scope_push(&scopes[scope_n - 1], t)) {
        tg__error(TG_ERR_MEMORY, "scope: out of memory");
        tg_release(t);
        return NULL;
    }
    return t;
}

tg_tensor *tg__scope_take(tg_tensor *t) {
    if (!t || scope_n == 0) return t;
    scope *s = &scopes[scope_n - 1];
    for (int64_t i = s->n - 1; i >= 0; i--) {
        if (s->items[i] == t) {
            memmove(&s->items[i], &s->items[i + 1], (size_t)(s->n - i - 1) * sizeof(tg_tensor *));
            s->n--;
            return t;
        }
    }
    return t;
}

tg_tensor *tg_keep(tg_tensor *t) {
    if (!t) return NULL;
    if (scope_n == 0) return t;
    scope *s = &scopes[scope_n - 1];
    for (int64_t i = s->n - 1; i >= 0; i--) {
        if (s->items[i] == t) {
            memmove(&s->items[i], &s->items[i + 1], (size_t)(s->n - i - 1) * sizeof(tg_tensor *));
            s->n--;
            if (scope_n >= 2 && !scope_push(&scopes[scope_n - 2], t)) {
                tg__error(TG_ERR_MEMORY, "tg_keep: out of memory");
                return NULL;
            }
            return t;
        }
    }
    /* Not owned by the innermost scope: it already belongs to an outer scope
     * or to the caller, which is where keeping it would move it. */
    return t;
}
