/* Traced graphs (DESIGN.md section 5): a flat SSA list of nodes over values
 * with symbolic shapes. A value is a graph input, a constant (a concrete
 * tensor copied at trace time) or an output of one node. */
#ifndef TG_GRAPH_H
#define TG_GRAPH_H

#include "tensor/registry.h"
#include "tangent/autodiff.h"

typedef struct tg_value {
    tg_dtype dtype;
    int ndim;
    int64_t shape[TG_MAX_DIMS];   /* plain sizes or symbolic handles */
    int producer;                 /* node index; -1 for inputs and constants */
    int const_index;              /* index into consts, or -1 */
} tg_value;

typedef struct tg_gnode {
    const tg_op_def *def;
    tg_attrs attrs;
    char *attr_str;               /* owned copy of attrs.str */
    int n_in, n_out;
    int *in, *out;                /* value ids */
    const char *file;             /* where the user's code called the op */
    int line;
    int fusion_group;             /* autodiff/fusion.c: 1, 2, ... or 0 (not fused) */
    int epilogue;                 /* a matmul whose store also runs the next 1-2 nodes (fusion.c) */
} tg_gnode;

struct tg_graph {
    int n_values, cap_values;
    tg_value *values;
    int n_nodes, cap_nodes;
    tg_gnode *nodes;
    int n_in, n_out;
    int *inputs, *outputs;        /* value ids */
    int n_consts, cap_consts;
    tg_tensor **consts;
    uint64_t serial;              /* unique per trace: tells a stale tracer from a live one */
    /* Constraints shape inference could not decide at trace time (a slice
     * bound on a symbolic axis): lhs >= rhs, checked when tg_run binds. */
    int n_cons, cap_cons;
    struct tg_constraint { int64_t lhs, rhs; char what[120]; } *cons;
};

/* Where tg__require records constraints: the graph being traced, or one
 * being loaded (its inference re-run). */
void tg__constraint_sink_push(tg_graph *g);
void tg__constraint_sink_pop(void);

/* Traces fn with tracer inputs of the given (symbolic) shapes. */
tg_graph *tg__trace_shapes(tg_trace_fn fn, void *ctx, int n_in, const tg_dtype *dtypes, const int *ndims,
                           const int64_t (*shapes)[TG_MAX_DIMS], int n_out, const char *what);
/* Runs the graph's nodes on in[] (tracers of another trace, or concrete
 * tensors) through the dispatcher; out[] are new references (scope rules). */
tg_status tg__graph_replay(const tg_graph *g, tg_tensor *const *in, tg_tensor **out, const int64_t *binding_values,
                           int n_binding, const char *const *binding_names);
/* The graph a program runs (autodiff/program.c). */
const tg_graph *tg__program_graph(const tg_program *p);
/* A symbolic attr evaluated under a binding (values < TG_SYM_BASE unchanged). */
bool tg__graph_trace_active(void);

#endif
