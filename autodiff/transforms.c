/* Graph transforms (DESIGN.md section 5): each builds a new graph by tracing
 * a function that replays the source graph on tracers under the eager
 * machinery, tg_vjp or tg_jvp. The derivative rules are the eager ones;
 * there is no second set. Transforms compose: tg_graph_jvp(tg_graph_grad(g))
 * is a Hessian-vector product. Tangent and cotangent slots exist only for
 * float and complex inputs and outputs. */
#include "autodiff/graph.h"

#include <stdlib.h>
#include <string.h>

static bool is_float(const tg_value *v) { return tg_dtype_is_floating(v->dtype) || tg_dtype_is_complex(v->dtype); }
static const tg_value *in_value(const tg_graph *g, int i) { return &g->values[g->inputs[i]]; }
static const tg_value *out_value(const tg_graph *g, int j) { return &g->values[g->outputs[j]]; }

static tg_status replay_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    return tg__graph_replay((const tg_graph *)ctx, in, out, NULL, -1, NULL);
}

static tg_tensor *zeros_of(const tg_value *v) { return tg_zeros(v->dtype, v->ndim, v->shape); }

typedef struct {
    const tg_graph *g;
    int n_arg;                     /* grad: which inputs, in order */
    int arg[TG_MAX_OP_INPUTS];
    bool with_value;
} tctx;

/* Specs of a new graph: g's inputs, then extra slots like some of g's values. */
typedef struct {
    int n;
    tg_dtype dt[TG_MAX_OP_INPUTS];
    int nd[TG_MAX_OP_INPUTS];
    int64_t sh[TG_MAX_OP_INPUTS][TG_MAX_DIMS];
} specs;

static bool push_spec(specs *s, const tg_value *v) {
    if (s->n == TG_MAX_OP_INPUTS) return false;
    s->dt[s->n] = v->dtype;
    s->nd[s->n] = v->ndim;
    memcpy(s->sh[s->n], v->shape, sizeof v->shape);
    s->n++;
    return true;
}

static tg_graph *trace_with(const specs *s, tg_trace_fn body, tctx *c, int n_out, const char *what) {
    return tg__trace_shapes(body, c, s->n, s->dt, s->nd, (const int64_t(*)[TG_MAX_DIMS])s->sh, n_out, what);
}

/* ---- vjp: (inputs, cotangents of float outputs) -> (outputs, cotangents of float inputs) */
static tg_status vjp_body(void *p, tg_tensor *const *in, tg_tensor **out) {
    tctx *c = p;
    const tg_graph *g = c->g;
    tg_tensor *cot[TG_MAX_OP_OUTPUTS], *outs[TG_MAX_OP_OUTPUTS], *grads[TG_MAX_OP_INPUTS];
    for (int j = 0, k = g->n_in; j < g->n_out; j++) {
        cot[j] = is_float(out_value(g, j)) ? in[k++] : zeros_of(out_value(g, j));
        if (!cot[j]) return tg_last_error_code();
    }
    tg_status st = tg_vjp(replay_fn, (void *)g, g->n_in, in, g->n_out, cot, outs, grads);
    if (st) return st;
    int k = 0;
    for (int j = 0; j < g->n_out; j++) out[k++] = outs[j];
    for (int i = 0; i < g->n_in; i++)
        if (is_float(in_value(g, i))) out[k++] = grads[i];
    return TG_OK;
}

tg_graph *tg_graph_vjp(const tg_graph *g) {
    if (!g) return tg__error(TG_ERR_ARG, "tg_graph_vjp: graph is NULL"), NULL;
    specs s = {0};
    int n_out = g->n_out;
    bool ok = true;
    for (int i = 0; i < g->n_in; i++) ok = ok && push_spec(&s, in_value(g, i));
    for (int j = 0; j < g->n_out; j++) if (is_float(out_value(g, j))) ok = ok && push_spec(&s, out_value(g, j));
    for (int i = 0; i < g->n_in; i++) n_out += is_float(in_value(g, i));
    if (!ok || n_out > TG_MAX_OP_OUTPUTS) return tg__error(TG_ERR_UNSUPPORTED, "tg_graph_vjp: too many inputs"), NULL;
    tctx c = {.g = g};
    return trace_with(&s, vjp_body, &c, n_out, "tg_graph_vjp");
}

/* ---- jvp: (inputs, tangents of float inputs) -> (outputs, tangents of float outputs) */
static tg_status jvp_body(void *p, tg_tensor *const *in, tg_tensor **out) {
    tctx *c = p;
    const tg_graph *g = c->g;
    tg_tensor *tan[TG_MAX_OP_INPUTS], *outs[TG_MAX_OP_OUTPUTS], *otan[TG_MAX_OP_OUTPUTS];
    for (int i = 0, k = g->n_in; i < g->n_in; i++) {
        tan[i] = is_float(in_value(g, i)) ? in[k++] : zeros_of(in_value(g, i));
        if (!tan[i]) return tg_last_error_code();
    }
    tg_status st = tg_jvp(replay_fn, (void *)g, g->n_in, in, tan, g->n_out, outs, otan);
    if (st) return st;
    int k = 0;
    for (int j = 0; j < g->n_out; j++) out[k++] = outs[j];
    for (int j = 0; j < g->n_out; j++)
        if (is_float(out_value(g, j))) out[k++] = otan[j];
    return TG_OK;
}

tg_graph *tg_graph_jvp(const tg_graph *g) {
    if (!g) return tg__error(TG_ERR_ARG, "tg_graph_jvp: graph is NULL"), NULL;
    specs s = {0};
    int n_out = g->n_out;
    bool ok = true;
    for (int i = 0; i < g->n_in; i++) ok = ok && push_spec(&s, in_value(g, i));
    for (int i = 0; i < g->n_in; i++) if (is_float(in_value(g, i))) ok = ok && push_spec(&s, in_value(g, i));
    for (int j = 0; j < g->n_out; j++) n_out += is_float(out_value(g, j));
    if (!ok || n_out > TG_MAX_OP_OUTPUTS) return tg__error(TG_ERR_UNSUPPORTED, "tg_graph_jvp: too many inputs"), NULL;
    tctx c = {.g = g};
    return trace_with(&s, jvp_body, &c, n_out, "tg_graph_jvp");
}

/* ---- grad and value_and_grad of a scalar out[0] ------------------------------------ */
static tg_status grad_body(void *p, tg_tensor *const *in, tg_tensor **out) {
    tctx *c = p;
    const tg_graph *g = c->g;
    tg_tensor *cot[TG_MAX_OP_OUTPUTS], *outs[TG_MAX_OP_OUTPUTS], *grads[TG_MAX_OP_INPUTS];
    for (int j = 0; j < g->n_out; j++) {
        const tg_value *v = out_value(g, j);
        cot[j] = j == 0 ? tg_ones(v->dtype, v->ndim, v->shape) : zeros_of(v);
        if (!cot[j]) return tg_last_error_code();
    }
    tg_status st = tg_vjp(replay_fn, (void *)g, g->n_in, in, g->n_out, cot, outs, grads);
    if (st) return st;
    int k = 0;
    if (c->with_value) out[k++] = outs[0];
    for (int a = 0; a < c->n_arg; a++) out[k++] = grads[c->arg[a]];
    return TG_OK;
}

static tg_graph *grad_common(const tg_graph *g, int n_argnums, const int *argnums, bool with_value, const char *what) {
    if (!g) return tg__error(TG_ERR_ARG, "%s: graph is NULL", what), NULL;
    if (g->n_out < 1) return tg__error(TG_ERR_ARG, "%s: the graph has no output", what), NULL;
    const tg_value *y = out_value(g, 0);
    for (int d = 0; d < y->ndim; d++)
        if (y->shape[d] != 1)
            return tg__error(TG_ERR_SHAPE, "%s: output 0 must be a scalar (one element), not of rank %d", what,
                             y->ndim), NULL;
    if (!is_float(y)) return tg__error(TG_ERR_DTYPE, "%s: output 0 must be float or complex", what), NULL;
    tctx c = {.g = g, .with_value = with_value};
    if (n_argnums < 0 || (n_argnums > 0 && !argnums)) return tg__error(TG_ERR_ARG, "%s: bad argnums", what), NULL;
    if (n_argnums == 0) {
        for (int i = 0; i < g->n_in; i++) if (is_float(in_value(g, i))) c.arg[c.n_arg++] = i;
    } else {
        for (int a = 0; a < n_argnums; a++) {
            int i = argnums[a];
            if (i < 0 || i >= g->n_in) return tg__error(TG_ERR_ARG, "%s: argnum %d is out of range", what, i), NULL;
            if (!is_float(in_value(g, i)))
                return tg__error(TG_ERR_DTYPE, "%s: input %d is not float or complex", what, i), NULL;
            c.arg[c.n_arg++] = i;
        }
    }
    specs s = {0};
    for (int i = 0; i < g->n_in; i++) push_spec(&s, in_value(g, i));
    return trace_with(&s, grad_body, &c, c.n_arg + (with_value ? 1 : 0), what);
}

tg_graph *tg_graph_grad(const tg_graph *g, int n_argnums, const int *argnums) {
    return grad_common(g, n_argnums, argnums, false, "tg_graph_grad");
}

tg_graph *tg_graph_value_and_grad(const tg_graph *g, int n_argnums, const int *argnums) {
    return grad_common(g, n_argnums, argnums, true, "tg_graph_value_and_grad");
}
