/* Autograd graph nodes (DESIGN.md section 4). A node records one op
 * application whose inputs required grad: the op def and attributes, the
 * tensors its rules need, and an edge per input to whatever produced it.
 * Output tensors own their node (grad_fn); nodes own their inputs' nodes.
 * There is no global tape: releasing the last tensor of a computation
 * frees its nodes. */
#ifndef TG_NODE_H
#define TG_NODE_H

#include "tensor/registry.h"

typedef struct tg_node {
    int refcount;
    const tg_op_def *def;
    tg_attrs attrs;
    char *attr_str;               /* owned copy of attrs.str */
    int n_in, n_out;
    tg_tensor **in;               /* saved inputs (retained; keep their own history) */
    tg_tensor **out;              /* saved outputs as detached aliases (no cycle); NULL for
                                   * ops flagged TG_OP_RULES_IGNORE_OUTPUT */
    uint64_t *in_version, *out_version;
    struct tg_node **in_node;     /* producer of each input, or NULL */
    int *in_index;                /* which output of the producer */
    tg_tensor **in_leaf;          /* the leaf to accumulate into (alive through in[i]), or NULL */
    bool *in_needs;               /* input needs a gradient */
    tg_meta *out_meta;            /* for zero cotangents of unused outputs */
    uint64_t seq;                 /* creation order: reverse order is topological */
    bool freed;                   /* saved tensors dropped after a backward */
    tg_tensor **capture;          /* set by tg_vjp: deliver grad[0] here, stop */
    /* backward bookkeeping (valid during one backward pass) */
    tg_tensor **grad;             /* accumulated cotangent per output */
    int pending;
    bool visited;
} tg_node;

void tg__node_retain(tg_node *n);
void tg__node_release(tg_node *n);
/* Drop saved tensors (after a backward without retain_graph). */
void tg__node_free_saved(tg_node *n);

static inline bool tg__needs_grad(const tg_tensor *t) {
    return t->grad_fn != NULL || (t->flags & TG_TFLAG_REQUIRES_GRAD);
}
static inline bool tg__differentiable_dtype(tg_dtype d) {
    return tg_dtype_is_floating(d) || tg_dtype_is_complex(d);
}

/* A view of a saved output with its history re-attached, for rules that use
 * the output under create_graph. New reference. */
tg_tensor *tg__node_unpack_out(tg_node *n, int j);

/* Forward-mode tangents (autodiff/forward.c): the tangent attached to t in
 * the current tg_jvp, or NULL. */
tg_tensor *tg__tangent_of(const tg_tensor *t);
bool tg__forward_active(void);
tg_status tg__forward_hook(const tg_op_def *def, const tg_attrs *attrs, int n_in, tg_tensor *const *in,
                           int n_out, tg_tensor **out);

/* Reverse pass from y with cotangent seed (y's shape and dtype). */
tg_status tg__backward_run(tg_tensor *y, tg_tensor *seed, bool retain_graph, bool create_graph);

#endif
