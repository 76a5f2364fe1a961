/* Tracing: tg_trace runs the user's function on tracer tensors; every op
 * goes through the same dispatcher, which here runs the op's shape
 * inference on symbolic shapes and records a node instead of computing.
 * A shape that cannot be proven compatible fails right there, naming the
 * op, the symbolic shapes and the user's file:line ("fail fast"). */
#include "autodiff/graph.h"
#include "autodiff/node.h"
#include "tangent/sizes.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRACE_DEPTH 8
static _Thread_local tg_graph *trace_stack[MAX_TRACE_DEPTH];
static _Thread_local int trace_depth;

bool tg__graph_trace_active(void) { return trace_depth > 0; }

static bool grow(void **p, int *cap, int need, size_t elem);

static _Thread_local tg_graph *sinks[MAX_TRACE_DEPTH + 1];
static _Thread_local int n_sinks;
void tg__constraint_sink_push(tg_graph *g) { if (n_sinks <= MAX_TRACE_DEPTH) sinks[n_sinks++] = g; }
void tg__constraint_sink_pop(void) { if (n_sinks > 0) n_sinks--; }

tg_status tg__require(int64_t lhs, int64_t rhs, const char *what) {
    if (lhs < TG_SYM_BASE && rhs < TG_SYM_BASE) {
        if (lhs >= rhs) return TG_OK;
        return tg__error(TG_ERR_SHAPE, "%s does not hold (%lld < %lld)", what, (long long)lhs, (long long)rhs);
    }
    tg_graph *g = n_sinks ? sinks[n_sinks - 1] : NULL;
    if (!g) return tg__error(TG_ERR_ARG, "%s: a symbolic size outside a trace", what);
    if (!grow((void **)&g->cons, &g->cap_cons, g->n_cons + 1, sizeof *g->cons))
        return tg__error(TG_ERR_MEMORY, "tg_trace: out of memory");
    struct tg_constraint *c = &g->cons[g->n_cons++];
    c->lhs = lhs;
    c->rhs = rhs;
    const char *file;
    int line;
    tg__get_location(&file, &line);
    if (file) snprintf(c->what, sizeof c->what, "%s (at %s:%d)", what, file, line);
    else snprintf(c->what, sizeof c->what, "%s", what);
    return TG_OK;
}
static tg_graph *current(void) { return trace_depth ? trace_stack[trace_depth - 1] : NULL; }

/* ---- building ----------------------------------------------------------------- */
static bool grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return true;
    int c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static int add_value(tg_graph *g, tg_dtype dtype, int ndim, const int64_t *shape, int producer) {
    if (!grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof(tg_value))) return -1;
    tg_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->dtype = dtype;
    v->ndim = ndim;
    memcpy(v->shape, shape, (size_t)ndim * sizeof(int64_t));
    v->producer = producer;
    v->const_index = -1;
    return g->n_values++;
}

/* A concrete tensor used by the traced function: copied into the graph. */
static int add_const(tg_graph *g, tg_tensor *t) {
    for (int i = 0; i < g->n_consts; i++)
        if (g->consts[i] == t) return -2;                  /* never: consts are copies */
    tg_tensor *c = tg__alloc(t->dtype, t->ndim, t->shape);
    if (!c) return -1;
    tg__copy_into(c, t);
    c->flags |= t->flags & TG_TFLAG_WEAK;     /* a weak scalar must promote the same way at run time */
    if (!grow((void **)&g->consts, &g->cap_consts, g->n_consts + 1, sizeof(tg_tensor *))) { tg_release(c); return -1; }
    int id = add_value(g, t->dtype, t->ndim, t->shape, -1);
    if (id < 0) { tg_release(c); return -1; }
    g->values[id].const_index = g->n_consts;
    g->consts[g->n_consts++] = c;
    return id;
}

static tg_tensor *make_tracer(tg_graph *g, int id) {
    const tg_value *v = &g->values[id];
    tg__storage_retain(&tg__trace_storage);
    tg_tensor *t = tg__tensor_new(v->dtype, v->ndim, v->shape, &tg__trace_storage);
    if (!t) return NULL;
    for (int i = 0; i < v->ndim; i++) t->strides[i] = 0;    /* meaningless for a tracer */
    t->trace_value = id;
    t->trace_graph = g;
    t->trace_serial = g->serial;
    return t;
}

tg_status tg__record_hook(const tg_op_def *def, const tg_attrs *attrs, int n_in, tg_tensor *const *in, int n_out,
                          tg_tensor **out);

/* The dispatcher's trace path (tensor/registry.c). */
tg_status tg__trace_apply(const tg_op_def *def, int n_in, tg_tensor *const *in, const tg_attrs *attrs, int n_out,
                          tg_tensor **out) {
    tg_graph *g = current();
    if (!g) {
        for (int i = 0; i < n_in; i++)
            if (tg__is_tracer(in[i])) return tg__error(TG_ERR_ARG, "tg_%s: a tracer used outside its tg_trace", def->name);
        /* no tracer: an attribute in the symbolic range (a size or index of 2^62 or more) */
        for (int q = 0; attrs && q < attrs->n_int; q++)
            if (attrs->i[q] >= TG_SYM_BASE_INTERNAL)
                return tg__error(TG_ERR_ARG, "tg_%s: %lld is out of range (values from 2^62 on are symbolic sizes, "
                                 "which need a tg_trace)", def->name, (long long)attrs->i[q]);
        return tg__error(TG_ERR_ARG, "tg_%s: a tracer used outside its tg_trace", def->name);
    }
    tg_meta metas[TG_MAX_OP_INPUTS], out_meta[TG_MAX_OP_OUTPUTS];
    int ids[TG_MAX_OP_INPUTS];
    for (int i = 0; i < n_in; i++) {
        tg_tensor *x = in[i];
        if (tg__is_tracer(x) && (x->trace_graph != g || x->trace_serial != g->serial))
            return tg__error(TG_ERR_ARG, "tg_%s: input %d belongs to another trace", def->name, i);
    }
    tg__metas_of(n_in, in, metas);
    memset(out_meta, 0, (size_t)n_out * sizeof *out_meta);
    tg_op_call call = {def, attrs, n_in, metas, NULL};
    tg_status st;
    if (def->infer) {
        st = def->infer(&call, out_meta);
    } else if (n_in == 1 && n_out == 1) {                 /* identity-like (alias) */
        out_meta[0] = metas[0];
        st = TG_OK;
    } else {
        st = tg__error(TG_ERR_UNSUPPORTED, "tg_%s cannot be traced yet", def->name);
    }
    if (st) return st;
    for (int i = 0; i < n_in; i++) {
        ids[i] = tg__is_tracer(in[i]) ? in[i]->trace_value : add_const(g, in[i]);
        if (ids[i] < 0) return tg__error(TG_ERR_MEMORY, "tg_trace: out of memory");
    }
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(tg_gnode)))
        return tg__error(TG_ERR_MEMORY, "tg_trace: out of memory");
    tg_gnode *nd = &g->nodes[g->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->def = def;
    nd->attrs = *attrs;
    if (attrs->str) {
        nd->attr_str = strdup(attrs->str);
        nd->attrs.str = nd->attr_str;
    }
    nd->n_in = n_in;
    nd->n_out = n_out;
    nd->in = malloc((size_t)(n_in + n_out + 1) * sizeof(int));
    if (!nd->in) return tg__error(TG_ERR_MEMORY, "tg_trace: out of memory");
    nd->out = nd->in + n_in;
    memcpy(nd->in, ids, (size_t)n_in * sizeof(int));
    tg__get_location(&nd->file, &nd->line);
    int node_index = g->n_nodes++;
    for (int j = 0; j < n_out; j++) {
        int id = add_value(g, out_meta[j].dtype, out_meta[j].ndim, out_meta[j].shape, node_index);
        g->nodes[node_index].out[j] = id;
        out[j] = id < 0 ? NULL : make_tracer(g, id);
        if (!out[j]) {
            for (int k = 0; k < j; k++) { tg_release(out[k]); out[k] = NULL; }
            return tg__error(TG_ERR_MEMORY, "tg_trace: out of memory");
        }
    }
    /* Autograd and forward mode record on tracers as on tensors: that is how
     * the graph transforms reuse the eager machinery. */
    if (!(def->flags & TG_OP_NONDIFF)) {
        st = tg__record_hook(def, attrs, n_in, in, n_out, out);
        if (st) {
            for (int j = 0; j < n_out; j++) { tg_release(out[j]); out[j] = NULL; }
            return st;
        }
    }
    for (int j = 0; j < n_out; j++) tg__handout(out[j]);
    return TG_OK;
}

/* ---- tracing a function --------------------------------------------------------- */
void tg_graph_free(tg_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++) {
        free(g->nodes[i].attr_str);
        free(g->nodes[i].in);
    }
    for (int i = 0; i < g->n_consts; i++) tg_release(g->consts[i]);
    free(g->nodes);
    free(g->values);
    free(g->cons);
    free(g->consts);
    free(g->inputs);
    free(g);
}

tg_graph *tg__trace_shapes(tg_trace_fn fn, void *ctx, int n_in, const tg_dtype *dtypes, const int *ndims,
                           const int64_t (*shapes)[TG_MAX_DIMS], int n_out, const char *what) {
    if (trace_depth == MAX_TRACE_DEPTH) return tg__error(TG_ERR_ARG, "%s: traces nested too deeply", what), NULL;
    const char *call_file;
    int call_line;
    tg__get_location(&call_file, &call_line);       /* the tg_trace call: for errors about the whole function */
    tg_graph *g = calloc(1, sizeof *g);
    if (!g || !(g->inputs = malloc((size_t)(n_in + n_out + 1) * sizeof(int)))) {
        free(g);
        return tg__error(TG_ERR_MEMORY, "%s: out of memory", what), NULL;
    }
    static _Atomic uint64_t serials;
    g->serial = ++serials;
    g->outputs = g->inputs + n_in;
    g->n_in = n_in;
    g->n_out = n_out;
    trace_stack[trace_depth++] = g;
    tg__constraint_sink_push(g);
    tg_status st = TG_OK;
    tg_tensor *in[TG_MAX_OP_INPUTS] = {0}, *out[TG_MAX_OP_OUTPUTS] = {0};
    tg_scope_begin();
    for (int i = 0; i < n_in && !st; i++) {
        int id = add_value(g, dtypes[i], ndims[i], shapes[i], -1);
        in[i] = id < 0 ? NULL : tg__handout(make_tracer(g, id));
        g->inputs[i] = id;
        if (!in[i]) st = tg__error(TG_ERR_MEMORY, "%s: out of memory", what);
    }
    if (!st) {
        st = fn(ctx, in, out);
        if (tg_last_error_code() == TG_OK) tg__set_location(call_file, call_line);
        if (st && tg_last_error_code() == TG_OK) tg__error(st, "%s: the traced function failed", what);
    }
    for (int j = 0; j < n_out && !st; j++) {
        if (!out[j]) { st = tg__error(TG_ERR_ARG, "%s: the function left output %d NULL", what, j); break; }
        if (tg__is_tracer(out[j]) && (out[j]->trace_graph != g || out[j]->trace_serial != g->serial)) {
            st = tg__error(TG_ERR_ARG, "%s: output %d belongs to another trace", what, j);
            break;
        }
        g->outputs[j] = tg__is_tracer(out[j]) ? out[j]->trace_value : add_const(g, out[j]);
        if (g->outputs[j] < 0) st = tg__error(TG_ERR_MEMORY, "%s: out of memory", what);
    }
    tg_scope_end();
    trace_depth--;
    tg__constraint_sink_pop();
    if (st) {
        if (tg_last_error_code() == TG_OK) tg__error(st, "%s failed", what);
        tg_graph_free(g);
        return NULL;
    }
    return g;
}

tg_graph *tg_trace(tg_trace_fn fn, void *ctx, int n_in, const tg_spec *specs, int n_out) {
    if (!fn || n_in < 0 || n_out < 1 || (n_in && !specs) || n_in > TG_MAX_OP_INPUTS || n_out > TG_MAX_OP_OUTPUTS)
        return tg__error(TG_ERR_ARG, "tg_trace: bad arguments (fn, counts or specs)"), NULL;
    tg_dtype dt[TG_MAX_OP_INPUTS];
    int nd[TG_MAX_OP_INPUTS];
    int64_t sh[TG_MAX_OP_INPUTS][TG_MAX_DIMS];
    for (int i = 0; i < n_in; i++) {
        if ((unsigned)specs[i].dtype >= TG_NUM_DTYPES)
            return tg__error(TG_ERR_DTYPE, "tg_trace: spec %d has an invalid dtype", i), NULL;
        dt[i] = specs[i].dtype;
        nd[i] = tg_size_parse_shape(specs[i].shape ? specs[i].shape : "", sh[i]);
        if (nd[i] < 0) return NULL;
    }
    return tg__trace_shapes(fn, ctx, n_in, dt, nd, (const int64_t(*)[TG_MAX_DIMS])sh, n_out, "tg_trace");
}

/* ---- replay: the graph's nodes on other tensors --------------------------------- */
tg_status tg__graph_replay(const tg_graph *g, tg_tensor *const *in, tg_tensor **out, const int64_t *binding_values,
                           int n_binding, const char *const *binding_names) {
    tg_tensor **val = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *val);
    if (!val) return tg__error(TG_ERR_MEMORY, "graph replay: out of memory");
    tg_status st = TG_OK;
    for (int i = 0; i < g->n_in; i++) val[g->inputs[i]] = in[i];
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].const_index >= 0) val[v] = g->consts[g->values[v].const_index];
    for (int k = 0; k < g->n_nodes && !st; k++) {
        const tg_gnode *nd = &g->nodes[k];
        tg_tensor *args[TG_MAX_OP_INPUTS], *res[TG_MAX_OP_OUTPUTS];
        for (int i = 0; i < nd->n_in; i++) args[i] = val[nd->in[i]];
        tg_attrs a = nd->attrs;
        for (int q = 0; q < a.n_int && n_binding >= 0; q++) {
            if (a.i[q] >= TG_SYM_BASE && binding_values) {
                a.i[q] = tg_size_eval(a.i[q], n_binding, binding_names, binding_values);
                if (a.i[q] < 0) { st = tg_last_error_code(); break; }
            }
        }
        if (st) break;
        if (nd->file) tg__set_location(nd->file, nd->line);
        st = tg__apply(nd->def, nd->n_in, args, &a, nd->n_out, res);
        for (int j = 0; j < nd->n_out && !st; j++) val[nd->out[j]] = res[j];
    }
    for (int j = 0; j < g->n_out && !st; j++) out[j] = val[g->outputs[j]];
    free(val);
    return st;
}

/* ---- printing ---------------------------------------------------------------------- */
static void fmt_value(const tg_graph *g, int id, char *buf, size_t n) {
    const tg_value *v = &g->values[id];
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < v->ndim && k < n; i++) {
        char s[128];
        tg_size_format(v->shape[i], s, sizeof s);
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", s);
    }
    if (k < n) snprintf(buf + k, n - k, "%s) %s", v->ndim == 1 ? "," : "", tg_dtype_name(v->dtype));
}

/* The label of an epilogue group headed by node k (autodiff/fusion.c). */
static const char *epilogue_label(const tg_graph *g, int k) {
    return strcmp(g->nodes[k].def->name, "matmul") == 0 ? ": matmul epilogue" : ": conv2d epilogue";
}

/* The label of node k's group when it is an epilogue group, else "". */
static const char *in_epilogue(const tg_graph *g, int k) {
    int grp = g->nodes[k].fusion_group;
    while (k > 0 && g->nodes[k - 1].fusion_group == grp) k--;
    return grp && g->nodes[k].epilogue ? epilogue_label(g, k) : "";
}

tg_status tg_graph_print(const tg_graph *g, FILE *f) {
    if (!g || !f) return tg__error(TG_ERR_ARG, "tg_graph_print: graph and file are required");
    char s[512];
    fprintf(f, "graph(");
    for (int i = 0; i < g->n_in; i++) {
        fmt_value(g, g->inputs[i], s, sizeof s);
        fprintf(f, "%s%%%d: %s", i ? ", " : "", g->inputs[i], s);
    }
    fprintf(f, ") {\n");
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].const_index >= 0) {
            fmt_value(g, v, s, sizeof s);
            fprintf(f, "  %%%d = constant : %s\n", v, s);
        }
    for (int k = 0; k < g->n_nodes; k++) {
        const tg_gnode *nd = &g->nodes[k];
        fprintf(f, "  ");
        for (int j = 0; j < nd->n_out; j++) fprintf(f, "%s%%%d", j ? ", " : "", nd->out[j]);
        fprintf(f, " = %s(", nd->def->name);
        for (int i = 0; i < nd->n_in; i++) fprintf(f, "%s%%%d", i ? ", " : "", nd->in[i]);
        fprintf(f, ")");
        if (nd->attrs.n_int) {
            fprintf(f, " [");
            for (int q = 0; q < nd->attrs.n_int; q++) {
                tg_size_format(nd->attrs.i[q] >= TG_SYM_BASE ? nd->attrs.i[q] : 0, s, sizeof s);
                if (nd->attrs.i[q] >= TG_SYM_BASE) fprintf(f, "%s%s", q ? " " : "", s);
                else fprintf(f, "%s%lld", q ? " " : "", (long long)nd->attrs.i[q]);
            }
            fprintf(f, "]");
        }
        for (int j = 0; j < nd->n_out; j++) {
            fmt_value(g, nd->out[j], s, sizeof s);
            fprintf(f, " : %s", s);
        }
        if (nd->fusion_group) fprintf(f, "   {fused %d%s}", nd->fusion_group, in_epilogue(g, k));
        if (nd->file) fprintf(f, "   # %s:%d", nd->file, nd->line);
        fprintf(f, "\n");
    }
    fprintf(f, "  return ");
    for (int j = 0; j < g->n_out; j++) fprintf(f, "%s%%%d", j ? ", " : "", g->outputs[j]);
    fprintf(f, "\n}\n");
    return TG_OK;
}

tg_status tg_graph_to_dot(const tg_graph *g, FILE *f) {
    if (!g || !f) return tg__error(TG_ERR_ARG, "tg_graph_to_dot: graph and file are required");
    char s[512];
    fprintf(f, "digraph tangent {\n  rankdir=TB;\n  node [fontname=\"monospace\"];\n");
    for (int i = 0; i < g->n_in; i++) {
        fmt_value(g, g->inputs[i], s, sizeof s);
        fprintf(f, "  v%d [shape=ellipse, label=\"in %d\\n%s\"];\n", g->inputs[i], i, s);
    }
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].const_index >= 0) fprintf(f, "  v%d [shape=note, label=\"constant\"];\n", v);
    for (int k = 0; k < g->n_nodes; k++) {
        const tg_gnode *nd = &g->nodes[k];
        fprintf(f, "  n%d [shape=box, label=\"%s\"];\n", k, nd->def->name);
        for (int i = 0; i < nd->n_in; i++) {
            int v = nd->in[i], p = g->values[v].producer;
            if (p >= 0) fprintf(f, "  n%d -> n%d;\n", p, k);
            else fprintf(f, "  v%d -> n%d;\n", v, k);
        }
    }
    /* a cluster per fused group (autodiff/fusion.c) */
    for (int k = 0; k < g->n_nodes; k++) {
        int grp = g->nodes[k].fusion_group;
        if (!grp || (k > 0 && g->nodes[k - 1].fusion_group == grp)) continue;
        fprintf(f, "  subgraph cluster_fused_%d {\n    label=\"fused %d%s\"; style=dashed;\n    ", grp, grp,
                g->nodes[k].epilogue ? epilogue_label(g, k) : "");
        for (int j = k; j < g->n_nodes && g->nodes[j].fusion_group == grp; j++) fprintf(f, "n%d; ", j);
        fprintf(f, "\n  }\n");
    }
    for (int j = 0; j < g->n_out; j++) {
        int v = g->outputs[j], p = g->values[v].producer;
        fmt_value(g, v, s, sizeof s);
        fprintf(f, "  out%d [shape=ellipse, label=\"out %d\\n%s\"];\n", j, j, s);
        if (p >= 0) fprintf(f, "  n%d -> out%d;\n", p, j);
        else fprintf(f, "  v%d -> out%d;\n", v, j);
    }
    fprintf(f, "}\n");
    return TG_OK;
}

int tg_graph_num_nodes(const tg_graph *g) { return g ? g->n_nodes : -1; }
