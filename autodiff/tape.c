/* Recording: the hook tg__apply calls after every op, node lifetime, leaf
 * flags, grad mode. */
#include "autodiff/node.h"
#include "tangent/autodiff.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local int no_grad_depth;
static uint64_t node_seq;          /* atomic */

void tg_no_grad_begin(void) { no_grad_depth++; }
void tg_no_grad_end(void) { if (no_grad_depth > 0) no_grad_depth--; }
bool tg_grad_enabled(void) { return no_grad_depth == 0; }

tg_status tg_set_requires_grad(tg_tensor *t, bool on) {
    if (!t) return tg__error(TG_ERR_ARG, "tg_set_requires_grad: tensor is NULL");
    if (on && !tg__differentiable_dtype(t->dtype))
        return tg__error(TG_ERR_DTYPE, "tg_set_requires_grad: only float and complex tensors can require grad, not %s",
                         tg_dtype_name(t->dtype));
    if (t->grad_fn)
        return tg__error(TG_ERR_AUTOGRAD, "tg_set_requires_grad: only leaves can be marked (this tensor was computed; "
                         "use tg_detach for a new leaf)");
    if (on) t->flags |= TG_TFLAG_REQUIRES_GRAD;
    else t->flags &= ~(uint32_t)TG_TFLAG_REQUIRES_GRAD;
    return TG_OK;
}

bool tg_requires_grad(const tg_tensor *t) { return t && tg__needs_grad(t); }

tg_tensor *tg_grad(const tg_tensor *t) {
    if (!t) { tg__error(TG_ERR_ARG, "tg_grad: tensor is NULL"); return NULL; }
    return t->grad;
}

tg_status tg_zero_grad(tg_tensor *t) {
    if (!t) return tg__error(TG_ERR_ARG, "tg_zero_grad: tensor is NULL");
    tg_release(t->grad);
    t->grad = NULL;
    return TG_OK;
}

/* ---- nodes ---------------------------------------------------------------- */
void tg__node_retain(tg_node *n) { __atomic_add_fetch(&n->refcount, 1, __ATOMIC_RELAXED); }

void tg__node_free_saved(tg_node *n) {
    if (n->freed) return;
    n->freed = true;
    for (int i = 0; i < n->n_in; i++) { tg_release(n->in[i]); n->in[i] = NULL; }
    for (int j = 0; j < n->n_out; j++) { tg_release(n->out[j]); n->out[j] = NULL; }
}

/* Nodes of the common arities are recycled per thread (as tensor headers are). */
#define NODE_CACHE_MAX 64
static _Thread_local tg_node *node_cache[16][NODE_CACHE_MAX];
static _Thread_local int node_cached[16];
static pthread_key_t node_key;
static pthread_once_t node_once = PTHREAD_ONCE_INIT;
static _Thread_local bool node_registered;

static size_t node_bytes(int n_in, int n_out) {
    return sizeof(tg_node) +
           (size_t)n_in * (2 * sizeof(tg_tensor *) + sizeof(uint64_t) + sizeof(tg_node *) + sizeof(int) + sizeof(bool)) +
           (size_t)n_out * (2 * sizeof(tg_tensor *) + sizeof(uint64_t) + sizeof(tg_meta)) + 64;
}
static int cache_key(int n_in, int n_out) { return n_in <= 3 && n_out <= 3 ? n_in * 4 + n_out : -1; }
static void node_cache_flush(void *unused) {
    (void)unused;
    for (int k = 0; k < 16; k++)
        while (node_cached[k]) free(node_cache[k][--node_cached[k]]);
}
static void node_key_init(void) { pthread_key_create(&node_key, node_cache_flush); }

static void node_free(tg_node *n) {
    int k = cache_key(n->n_in, n->n_out);
    if (k < 0 || node_cached[k] == NODE_CACHE_MAX) { free(n); return; }
    if (!node_registered) {
        node_registered = true;
        pthread_once(&node_once, node_key_init);
        pthread_setspecific(node_key, (void *)1);
    }
    node_cache[k][node_cached[k]++] = n;
}

void tg__node_release(tg_node *n) {
    /* Iterative, so a long chain of nodes does not overflow the stack. */
    while (n && __atomic_sub_fetch(&n->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        tg_node *next = NULL;
        tg__node_free_saved(n);
        for (int i = 0; i < n->n_in; i++) {
            if (n->in_node[i]) {
                if (!next) next = n->in_node[i];
                else tg__node_release(n->in_node[i]);
            }
        }
        free(n->attr_str);
        node_free(n);
        n = next;
    }
}

/* One allocation holds the node and its arrays. */
static tg_node *node_alloc(int n_in, int n_out) {
    size_t sz = node_bytes(n_in, n_out);
    tg_node *n = NULL;
    int k = cache_key(n_in, n_out);
    if (k >= 0 && node_cached[k]) {
        n = node_cache[k][--node_cached[k]];
        memset(n, 0, sz);
    } else {
        n = calloc(1, sz);
    }
    if (!n) return NULL;
    char *p = (char *)(n + 1);
#define TAKE(field, count, type) do { n->field = (type *)p; p += (size_t)(count) * sizeof(type); } while (0)
    TAKE(out_meta, n_out, tg_meta);
    TAKE(in_version, n_in, uint64_t);
    TAKE(out_version, n_out, uint64_t);
    TAKE(in, n_in, tg_tensor *);
    TAKE(out, n_out, tg_tensor *);
    TAKE(in_leaf, n_in, tg_tensor *);
    TAKE(grad, n_out, tg_tensor *);
    TAKE(in_node, n_in, tg_node *);
    TAKE(in_index, n_in, int);
    TAKE(in_needs, n_in, bool);
#undef TAKE
    n->n_in = n_in;
    n->n_out = n_out;
    n->refcount = 0;
    return n;
}

static int output_index(const tg_node *producer, const tg_tensor *t) {
    (void)producer;
    return (int)((t->flags >> 8) & 0xff);
}

tg_tensor *tg__node_unpack_out(tg_node *n, int j) {
    tg_tensor *o = n->out[j];
    if (!o) return NULL;
    tg_tensor *v = tg__make_view(o, o->dtype, o->ndim, o->shape, o->strides, o->offset);
    if (!v) return NULL;
    tg__node_retain(n);
    v->grad_fn = n;
    v->flags |= (uint32_t)j << 8;
    if (o->tangent) v->tangent = tg_retain(o->tangent);
    return v;
}

/* Called by tg__apply after a successful kernel (tensor/registry.c). */
tg_status tg__record_hook(const tg_op_def *def, const tg_attrs *attrs, int n_in, tg_tensor *const *in, int n_out,
                          tg_tensor **out) {
    if (tg__forward_active()) {
        tg_status st = tg__forward_hook(def, attrs, n_in, in, n_out, out);
        if (st) return st;
    }
    if (no_grad_depth) return TG_OK;
    bool any = false;
    for (int i = 0; i < n_in && !any; i++) any = tg__needs_grad(in[i]);
    if (!any) return TG_OK;
    bool any_out = false;
    for (int j = 0; j < n_out; j++) any_out = any_out || tg__differentiable_dtype(out[j]->dtype);
    if (!any_out) return TG_OK;
    tg_node *n = node_alloc(n_in, n_out);
    if (!n) return tg__error(TG_ERR_MEMORY, "autograd: out of memory recording tg_%s", def->name);
    n->def = def;
    n->attrs = *attrs;
    if (attrs->str) {
        n->attr_str = strdup(attrs->str);
        if (!n->attr_str) { free(n); return tg__error(TG_ERR_MEMORY, "autograd: out of memory"); }
        n->attrs.str = n->attr_str;
    }
    n->seq = __atomic_add_fetch(&node_seq, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < n_in; i++) {
        tg_tensor *x = in[i];
        n->in[i] = tg_retain(x);
        n->in_version[i] = x->storage->version;
        n->in_needs[i] = tg__needs_grad(x) && tg__differentiable_dtype(x->dtype);
        if (!n->in_needs[i]) continue;
        if (x->grad_fn) {
            n->in_node[i] = x->grad_fn;
            n->in_index[i] = output_index(x->grad_fn, x);
            tg__node_retain(x->grad_fn);
        } else {
            n->in_leaf[i] = x;      /* kept alive by n->in[i] while the node can run */
        }
    }
    for (int j = 0; j < n_out; j++) {
        tg_tensor *o = out[j];
        /* Saved as a detached alias (no cycle through grad_fn), and only for
         * ops whose rules read their outputs. */
        if (!(def->flags & TG_OP_RULES_IGNORE_OUTPUT)) {
            n->out[j] = tg__make_view(o, o->dtype, o->ndim, o->shape, o->strides, o->offset);
            /* under tg_jvp the saved output keeps its tangent (forward over reverse) */
            if (n->out[j] && o->tangent) n->out[j]->tangent = tg_retain(o->tangent);
        }
        n->out_version[j] = o->storage->version;
        n->out_meta[j].dtype = o->dtype;
        n->out_meta[j].ndim = o->ndim;
        memcpy(n->out_meta[j].shape, o->shape, (size_t)o->ndim * sizeof(int64_t));
        if (!tg__differentiable_dtype(o->dtype)) continue;
        tg__node_retain(n);
        o->grad_fn = n;
        o->flags = (o->flags & ~0xff00u) | (uint32_t)j << 8;
    }
    return TG_OK;
}
