/* Graph passes run by tg_compile (DESIGN.md section 5): dead-code
 * elimination, common-subexpression elimination, constant folding,
 * algebraic simplification, and the narrowing of linear-algebra nodes whose
 * extra outputs (kept for derivatives) no derivative reads. They work on a
 * graph's copy: a value that a pass proves equal to another is aliased to
 * it, nodes that are no longer needed are dropped, and the node list is
 * compacted at the end. */
#include "autodiff/graph.h"
#include "tensor/ops/elementwise.h"

#include <stdlib.h>
#include <string.h>

extern const tg_op_def tg_op_mul, tg_op_add, tg_op_sub, tg_op_permute, tg_op_reshape;
extern const tg_op_def tg_op_linalg_solve, tg_op_linalg_solve_factor, tg_op_linalg_solve_lu, tg_op_linalg_eigh,
    tg_op_linalg_eigvalsh, tg_op_linalg_svd, tg_op_linalg_svdvals;

typedef struct {
    tg_graph *g;
    int *alias;           /* value -> value it equals (itself when none) */
    bool *dead;           /* node removed */
} pass_state;

static int resolve(const pass_state *s, int v) {
    while (s->alias[v] != v) v = s->alias[v];
    return v;
}

static bool same_meta(const tg_value *a, const tg_value *b) {
    return a->dtype == b->dtype && a->ndim == b->ndim && memcmp(a->shape, b->shape, (size_t)a->ndim * 8) == 0;
}

static bool has_symbolic_attrs(const tg_attrs *a) {
    for (int q = 0; q < a->n_int; q++) if (a->i[q] >= TG_SYM_BASE_INTERNAL) return true;
    return false;
}

/* ---- common subexpressions -------------------------------------------------- */
static bool same_node(const pass_state *s, const tg_gnode *a, const tg_gnode *b) {
    if (a->def != b->def || a->n_in != b->n_in || a->n_out != b->n_out) return false;
    if (a->attrs.n_int != b->attrs.n_int || a->attrs.n_real != b->attrs.n_real) return false;
    if (memcmp(a->attrs.i, b->attrs.i, (size_t)a->attrs.n_int * 8)) return false;
    for (int q = 0; q < a->attrs.n_real; q++)
        if (memcmp(&a->attrs.d[q], &b->attrs.d[q], sizeof(double))) return false;   /* bitwise: NaN and -0 */
    if ((a->attrs.str == NULL) != (b->attrs.str == NULL)) return false;
    if (a->attrs.str && strcmp(a->attrs.str, b->attrs.str)) return false;
    for (int i = 0; i < a->n_in; i++)
        if (resolve(s, a->in[i]) != resolve(s, b->in[i])) return false;
    return true;
}

static int cse(pass_state *s) {
    tg_graph *g = s->g;
    int merged = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        if (s->dead[k]) continue;
        for (int j = 0; j < k; j++) {
            if (s->dead[j] || !same_node(s, &g->nodes[j], &g->nodes[k])) continue;
            for (int o = 0; o < g->nodes[k].n_out; o++) s->alias[g->nodes[k].out[o]] = g->nodes[j].out[o];
            s->dead[k] = true;
            merged++;
            break;
        }
    }
    return merged;
}

/* ---- constant folding ------------------------------------------------------- */
static bool is_const(const pass_state *s, int v) { return s->g->values[resolve(s, v)].const_index >= 0; }
static tg_tensor *const_of(const pass_state *s, int v) {
    const tg_value *x = &s->g->values[resolve(s, v)];
    return s->g->consts[x->const_index];
}

static bool make_const(pass_state *s, int v, tg_tensor *t) {
    tg_graph *g = s->g;
    if (g->n_consts == g->cap_consts) {
        int cap = g->cap_consts ? 2 * g->cap_consts : 8;
        tg_tensor **c = realloc(g->consts, (size_t)cap * sizeof *c);
        if (!c) return false;
        g->consts = c;
        g->cap_consts = cap;
    }
    g->values[v].const_index = g->n_consts;
    g->values[v].producer = -1;
    g->consts[g->n_consts++] = tg_retain(t);
    return true;
}

#define FOLD_LIMIT ((int64_t)1 << 20)   /* elements: do not bloat the program with big constants */

static int fold(pass_state *s) {
    tg_graph *g = s->g;
    int folded = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        tg_gnode *nd = &g->nodes[k];
        if (s->dead[k] || nd->n_in == 0 || has_symbolic_attrs(&nd->attrs)) continue;
        bool all = true;
        for (int i = 0; i < nd->n_in && all; i++) all = is_const(s, nd->in[i]);
        for (int o = 0; o < nd->n_out && all; o++) {
            const tg_value *v = &g->values[nd->out[o]];
            all = !tg__has_symbolic(v->ndim, v->shape) && tg__numel(v->ndim, v->shape) <= FOLD_LIMIT;
        }
        if (!all) continue;
        tg_tensor *args[TG_MAX_OP_INPUTS], *res[TG_MAX_OP_OUTPUTS];
        for (int i = 0; i < nd->n_in; i++) args[i] = const_of(s, nd->in[i]);
        tg__stashed_error older;
        tg__error_stash(&older);
        tg_scope_begin();
        tg_no_grad_begin();
        tg_status st = tg__apply(nd->def, nd->n_in, args, &nd->attrs, nd->n_out, res);
        tg_no_grad_end();
        bool ok = st == TG_OK;
        for (int o = 0; o < nd->n_out && ok; o++) {
            /* views of constants are copied: a constant owns its storage */
            tg_tensor *c = tg__alloc(res[o]->dtype, res[o]->ndim, res[o]->shape);
            ok = c && (tg__copy_into(c, res[o]), make_const(s, nd->out[o], c));
            tg_release(c);
        }
        tg_scope_end();
        if (!ok) tg_clear_error();      /* leave it to run time, where errors are reported */
        tg__error_unstash(&older);
        if (!ok) continue;
        s->dead[k] = true;
        folded++;
    }
    return folded;
}

/* ---- algebraic simplification -------------------------------------------------- */
/* A constant whose every element equals value (real and imaginary parts). */
static bool const_all(const pass_state *s, int v, double value) {
    if (!is_const(s, v)) return false;
    tg__stashed_error older;
    tg__error_stash(&older);
    tg_tensor *c = tg__cast_raw(const_of(s, v), TG_C128);
    if (!c) tg_clear_error();
    tg__error_unstash(&older);
    if (!c) return false;
    int64_t n = tg__numel(c->ndim, c->shape);
    const tg_c128_t *p = (const tg_c128_t *)tg__ptr(c);
    bool all = true;
    for (int64_t i = 0; i < n && all; i++) all = creal(p[i]) == value && cimag(p[i]) == 0;
    tg_release(c);
    return all;
}

static int simplify(pass_state *s) {
    tg_graph *g = s->g;
    int done = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        tg_gnode *nd = &g->nodes[k];
        if (s->dead[k]) continue;
        const tg_value *out = &g->values[nd->out[0]];
        int keep = -1;                                   /* the input the output equals */
        if (nd->def == &tg_op_mul) {
            for (int i = 0; i < 2 && keep < 0; i++)
                if (const_all(s, nd->in[1 - i], 1.0) && same_meta(&g->values[resolve(s, nd->in[i])], out)) keep = i;
        } else if (nd->def == &tg_op_add) {
            for (int i = 0; i < 2 && keep < 0; i++)
                if (const_all(s, nd->in[1 - i], 0.0) && same_meta(&g->values[resolve(s, nd->in[i])], out)) keep = i;
        } else if (nd->def == &tg_op_sub) {
            if (const_all(s, nd->in[1], 0.0) && same_meta(&g->values[resolve(s, nd->in[0])], out)) keep = 0;
        } else if (nd->def == &tg_op_permute || nd->def == &tg_op_reshape) {
            int src = resolve(s, nd->in[0]);
            if (same_meta(&g->values[src], out) && nd->def == &tg_op_reshape) keep = 0;
            int p = g->values[src].producer;
            if (keep < 0 && p >= 0 && !s->dead[p] && g->nodes[p].def == nd->def) {
                /* a chain of two: fold into one reading the first one's input */
                tg_gnode *first = &g->nodes[p];
                if (nd->def == &tg_op_permute) {
                    int n = nd->attrs.n_int;
                    bool identity = true;
                    int64_t comp[TG_MAX_DIMS];
                    for (int i = 0; i < n; i++) {
                        int64_t a = nd->attrs.i[i] < 0 ? nd->attrs.i[i] + n : nd->attrs.i[i];
                        int64_t b = first->attrs.i[a] < 0 ? first->attrs.i[a] + n : first->attrs.i[a];
                        comp[i] = b;
                        identity = identity && b == i;
                    }
                    if (identity) { s->alias[nd->out[0]] = resolve(s, first->in[0]); done++; continue; }
                    memcpy(nd->attrs.i, comp, (size_t)n * 8);
                }
                nd->in[0] = first->in[0];
                done++;
                continue;
            }
        }
        if (keep >= 0) {
            s->alias[nd->out[0]] = resolve(s, nd->in[keep]);
            s->dead[k] = true;
            done++;
        }
    }
    return done;
}

/* ---- dead code ----------------------------------------------------------------------- */
static int dce(pass_state *s) {
    tg_graph *g = s->g;
    bool *live = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *live);
    if (!live) return 0;
    for (int j = 0; j < g->n_out; j++) live[resolve(s, g->outputs[j])] = true;
    int removed = 0;
    for (int k = g->n_nodes - 1; k >= 0; k--) {
        if (s->dead[k]) continue;
        tg_gnode *nd = &g->nodes[k];
        bool any = false;
        for (int o = 0; o < nd->n_out; o++) any = any || live[nd->out[o]];
        if (!any) { s->dead[k] = true; removed++; continue; }
        for (int i = 0; i < nd->n_in; i++) live[resolve(s, nd->in[i])] = true;
    }
    free(live);
    return removed;
}

/* ---- factorisations kept for derivatives that no derivative reads --------------- */
/* Linear algebra traces the form its derivative rules want (linalg/):
 * - a solve is linalg_solve_factor (A) -> (F, piv) then linalg_solve_lu
 *   (A, B, F, piv), so the rules solve with F instead of factoring A again;
 * - eigvalsh is linalg_eigh and svdvals linalg_svd (attribute i[1] set:
 *   only the values were asked for), whose rules read the vectors.
 * Where no rule reads the extra outputs (no gradient in the program, or one
 * that DCE left without them), each becomes the node eager mode runs for a
 * value that is not differentiated, bitwise the same: one linalg_solve (no
 * n x n factor buffer; small matrices take the fused kernel), eigvalsh or
 * svdvals (no vectors computed). A node's in[] and out[] are one array,
 * out = in + n_in, which copies of the graph rely on. */
static bool join_solve(pass_state *s, const int *readers, tg_gnode *nd) {
    tg_graph *g = s->g;
    if (nd->attrs.i[0] != 0) return false;               /* an adjoint solve is a rule's */
    int f = resolve(s, nd->in[2]), piv = resolve(s, nd->in[3]), p = g->values[f].producer;
    if (p < 0 || s->dead[p] || g->nodes[p].def != &tg_op_linalg_solve_factor) return false;
    const tg_gnode *fac = &g->nodes[p];
    if (fac->out[0] != f || fac->out[1] != piv || resolve(s, fac->in[0]) != resolve(s, nd->in[0])) return false;
    if (readers[f] != 1 || readers[piv] != 1) return false;
    nd->def = &tg_op_linalg_solve;
    nd->in[2] = nd->out[0];
    nd->out = nd->in + 2;
    nd->n_in = 2;
    memset(&nd->attrs, 0, sizeof nd->attrs);
    s->dead[p] = true;
    return true;
}

/* keep: the output that stays (the values) */
static bool narrow_to_values(tg_gnode *nd, const int *readers, const tg_op_def *to, int keep) {
    if (nd->attrs.n_int < 2 || !nd->attrs.i[1]) return false;     /* the caller asked for the vectors */
    for (int o = 0; o < nd->n_out; o++)
        if (o != keep && readers[nd->out[o]]) return false;
    nd->def = to;
    nd->out[0] = nd->out[keep];
    nd->n_out = 1;
    if (to == &tg_op_linalg_svdvals) memset(&nd->attrs, 0, sizeof nd->attrs);
    else nd->attrs.n_int = 1;                                     /* eigvalsh: uplo */
    return true;
}

static int narrow_factorisations(pass_state *s) {
    tg_graph *g = s->g;
    int *readers = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *readers);
    if (!readers) return 0;
    for (int k = 0; k < g->n_nodes; k++)
        if (!s->dead[k])
            for (int i = 0; i < g->nodes[k].n_in; i++) readers[resolve(s, g->nodes[k].in[i])]++;
    for (int j = 0; j < g->n_out; j++) readers[resolve(s, g->outputs[j])]++;
    int done = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        tg_gnode *nd = &g->nodes[k];
        if (s->dead[k]) continue;
        if (nd->def == &tg_op_linalg_solve_lu) done += join_solve(s, readers, nd);
        else if (nd->def == &tg_op_linalg_eigh) done += narrow_to_values(nd, readers, &tg_op_linalg_eigvalsh, 0);
        else if (nd->def == &tg_op_linalg_svd) done += narrow_to_values(nd, readers, &tg_op_linalg_svdvals, 1);
    }
    free(readers);
    return done;
}

/* Rewrites inputs through the aliases and drops dead nodes. */
static void compact(pass_state *s) {
    tg_graph *g = s->g;
    int w = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        tg_gnode *nd = &g->nodes[k];
        if (s->dead[k]) {
            free(nd->attr_str);
            free(nd->in);
            continue;
        }
        for (int i = 0; i < nd->n_in; i++) nd->in[i] = resolve(s, nd->in[i]);
        for (int o = 0; o < nd->n_out; o++) g->values[nd->out[o]].producer = w;
        g->nodes[w++] = *nd;
    }
    g->n_nodes = w;
    for (int j = 0; j < g->n_out; j++) g->outputs[j] = resolve(s, g->outputs[j]);
}

tg_status tg__graph_passes(tg_graph *g) {
    pass_state s = {g, malloc((size_t)(g->n_values ? g->n_values : 1) * sizeof(int)),
                    calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(bool))};
    if (!s.alias || !s.dead) {
        free(s.alias);
        free(s.dead);
        return tg__error(TG_ERR_MEMORY, "tg_compile: out of memory");
    }
    for (int v = 0; v < g->n_values; v++) s.alias[v] = v;
    /* to a fixed point: each pass can expose work for the others */
    for (int round = 0; round < 8; round++) {
        int changed = dce(&s) + cse(&s) + fold(&s) + simplify(&s);
        if (!changed) break;
    }
    dce(&s);
    narrow_factorisations(&s);    /* after DCE: a dropped gradient reads no factors */
    compact(&s);
    free(s.alias);
    free(s.dead);
    return TG_OK;
}
