/* The reverse-mode engine: tg_backward runs the VJP rules of the nodes
 * reachable from y in reverse creation order (a topological order, since a
 * node is always newer than its inputs' producers) and accumulates into
 * leaves' gradients. */
#include "autodiff/node.h"
#include "tangent/autodiff.h"

#include <stdlib.h>
#include <string.h>

typedef struct { tg_node **v; int64_t n, cap; } node_list;

static bool list_push(node_list *l, tg_node *n) {
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 64;
        tg_node **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = n;
    return true;
}

static int by_seq_desc(const void *a, const void *b) {
    uint64_t x = (*(tg_node *const *)a)->seq, y = (*(tg_node *const *)b)->seq;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Every node reachable from root, each once; checks the graph is usable. */
static tg_status collect(tg_node *root, node_list *out) {
    node_list stack = {0};
    tg_status st = TG_OK;
    if (!list_push(&stack, root)) return tg__error(TG_ERR_MEMORY, "tg_backward: out of memory");
    root->visited = true;
    while (stack.n && !st) {
        tg_node *n = stack.v[--stack.n];
        if (!list_push(out, n)) { st = tg__error(TG_ERR_MEMORY, "tg_backward: out of memory"); break; }
        if (n->freed) {
            st = tg__error(TG_ERR_AUTOGRAD, "tg_backward: the graph through tg_%s was already freed by an earlier "
                           "backward; pass retain_graph to backward twice", n->def->name);
            break;
        }
        if (n->capture) continue;       /* tg_vjp stops here: what is beyond is not ours */
        for (int i = 0; i < n->n_in && !st; i++) {
            if (n->in[i] && n->in[i]->storage->version != n->in_version[i])
                st = tg__error(TG_ERR_AUTOGRAD, "tg_backward: input %d of tg_%s was modified in place after it was "
                               "saved for backward", i, n->def->name);
            tg_node *p = n->in_node[i];
            if (p && !p->visited) {
                p->visited = true;
                if (!list_push(&stack, p)) st = tg__error(TG_ERR_MEMORY, "tg_backward: out of memory");
            }
        }
        for (int j = 0; j < n->n_out && !st; j++)
            if (n->out[j] && n->out[j]->storage->version != n->out_version[j])
                st = tg__error(TG_ERR_AUTOGRAD, "tg_backward: the output of tg_%s was modified in place after it "
                               "was saved for backward", n->def->name);
    }
    for (int64_t k = 0; k < stack.n; k++) stack.v[k]->visited = false;   /* left over on error */
    free(stack.v);
    return st;
}

/* g as a cotangent for a tensor like x: x's dtype (a real input of a complex
 * op takes the real part), x's shape (a wrong shape is the rule's bug). */
static tg_tensor *fit_cotangent(tg_node *n, int i, tg_tensor *g, const tg_tensor *x) {
    if (g->ndim != x->ndim || memcmp(g->shape, x->shape, (size_t)x->ndim * sizeof(int64_t))) {
        char a[160], b[160];
        tg__error(TG_ERR_AUTOGRAD, "tg_backward: the VJP rule of tg_%s returned a cotangent of shape %s for input %d "
                  "of shape %s", n->def->name, tg__fmt_shape(a, sizeof a, g->ndim, g->shape), i,
                  tg__fmt_shape(b, sizeof b, x->ndim, x->shape));
        return NULL;
    }
    if (g->dtype == x->dtype) return g;
    if (tg_dtype_is_complex(g->dtype) && !tg_dtype_is_complex(x->dtype)) g = tg_real(g);
    return g->dtype == x->dtype ? g : tg_cast(g, x->dtype);
}

static tg_status accumulate(tg_tensor **slot, tg_tensor *g) {
    tg_tensor *sum = *slot ? tg_add(*slot, g) : g;
    if (!sum) return tg_last_error_code();
    tg_retain(sum);
    tg_release(*slot);
    *slot = sum;
    return TG_OK;
}

static tg_status run_node(tg_node *n, bool create_graph) {
    bool any = false;
    for (int j = 0; j < n->n_out; j++) any = any || n->grad[j];
    if (!any) return TG_OK;
    if (n->capture) return accumulate(n->capture, n->grad[0]);     /* tg_vjp's stop */
    if (!n->def->vjp)
        return tg__error(TG_ERR_AUTOGRAD, "tg_backward: tg_%s has no derivative rule", n->def->name);
    tg_tensor *out[TG_MAX_OP_OUTPUTS], *cot[TG_MAX_OP_OUTPUTS], *in_cot[TG_MAX_OP_INPUTS];
    tg_meta metas[TG_MAX_OP_INPUTS];
    tg__metas_of(n->n_in, n->in, metas);
    for (int i = 0; i < n->n_in; i++) in_cot[i] = NULL;
    for (int j = 0; j < n->n_out; j++) {
        /* Under create_graph the rules see outputs with their history. */
        out[j] = n->out[j] && create_graph ? tg__handout(tg__node_unpack_out(n, j)) : n->out[j];
        bool absent = !n->grad[j] && (n->def->flags & TG_OP_VJP_NULL_COTANGENTS);
        cot[j] = n->grad[j] || absent ? n->grad[j]
                                      : tg_zeros(n->out_meta[j].dtype, n->out_meta[j].ndim, n->out_meta[j].shape);
        if ((n->out[j] && !out[j]) || (!cot[j] && !absent)) return tg_last_error_code();
    }
    tg_op_call call = {n->def, &n->attrs, n->n_in, metas, n->in_needs};
    tg_status st = n->def->vjp(&call, n->in, out, cot, in_cot);
    if (st) return st;
    for (int i = 0; i < n->n_in && !st; i++) {
        if (!n->in_needs[i] || !in_cot[i]) continue;
        tg_tensor *g = fit_cotangent(n, i, in_cot[i], n->in[i]);
        if (!g) return tg_last_error_code();
        if (n->in_node[i]) st = accumulate(&n->in_node[i]->grad[n->in_index[i]], g);
        else st = accumulate(&n->in_leaf[i]->grad, g);
    }
    return st;
}

tg_status tg__backward_run(tg_tensor *y, tg_tensor *seed, bool retain_graph, bool create_graph) {
    tg_status st = TG_OK;
    if (!create_graph) tg_no_grad_begin();
    if (!y->grad_fn) {                          /* y is itself a leaf */
        st = accumulate(&y->grad, seed);
    } else {
        node_list nodes = {0};
        st = collect(y->grad_fn, &nodes);
        for (int64_t k = 0; k < nodes.n; k++) nodes.v[k]->visited = false;
        if (!st) {
            qsort(nodes.v, (size_t)nodes.n, sizeof *nodes.v, by_seq_desc);
            int j = (int)((y->flags >> 8) & 0xff);
            st = accumulate(&y->grad_fn->grad[j], seed);
            for (int64_t k = 0; k < nodes.n && !st; k++) {
                tg_node *n = nodes.v[k];
                tg_scope_begin();        /* this node's temporaries */
                st = run_node(n, create_graph);
                tg_scope_end();
                for (int jj = 0; jj < n->n_out; jj++) { tg_release(n->grad[jj]); n->grad[jj] = NULL; }
                if (!retain_graph && !n->capture) tg__node_free_saved(n);
            }
        }
        for (int64_t k = 0; k < nodes.n; k++)
            for (int jj = 0; jj < nodes.v[k]->n_out; jj++) { tg_release(nodes.v[k]->grad[jj]); nodes.v[k]->grad[jj] = NULL; }
        free(nodes.v);
    }
    if (!create_graph) tg_no_grad_end();
    return st;
}

tg_status tg_backward(tg_tensor *y, const tg_backward_opts *opts) {
    static const tg_backward_opts defaults;
    if (!opts) opts = &defaults;
    if (!y) return tg__error(TG_ERR_ARG, "tg_backward: tensor is NULL");
    if (!tg__needs_grad(y))
        return tg__error(TG_ERR_AUTOGRAD, "tg_backward: the tensor does not require grad (no input of its "
                         "computation was marked with tg_set_requires_grad)");
    tg_status st = TG_OK;
    tg_scope_begin();
    tg_tensor *seed = opts->seed;
    if (!seed) {
        if (tg__numel(y->ndim, y->shape) != 1) {
            char s[160];
            st = tg__error(TG_ERR_AUTOGRAD, "tg_backward: y of shape %s is not a scalar; pass a seed cotangent",
                           tg__fmt_shape(s, sizeof s, y->ndim, y->shape));
            goto out;
        }
        seed = tg_ones_like(y);
    } else {
        if (seed->ndim != y->ndim || memcmp(seed->shape, y->shape, (size_t)y->ndim * sizeof(int64_t))) {
            char a[160], b[160];
            st = tg__error(TG_ERR_SHAPE, "tg_backward: seed of shape %s does not match y of shape %s",
                           tg__fmt_shape(a, sizeof a, seed->ndim, seed->shape),
                           tg__fmt_shape(b, sizeof b, y->ndim, y->shape));
            goto out;
        }
        if (seed->dtype != y->dtype) seed = tg_cast(seed, y->dtype);
        if (!opts->create_graph) seed = tg_detach(seed);
    }
    if (!seed) { st = tg_last_error_code(); goto out; }
    /* As PyTorch: retain_graph defaults to create_graph. */
    st = tg__backward_run(y, seed, opts->retain_graph || opts->create_graph, opts->create_graph);
out:
    tg_scope_end();
    return st;
}
