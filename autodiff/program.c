/* Compiled programs: tg_compile copies the graph into an immutable program;
 * tg_run binds the symbols from the inputs' shapes, checks every fixed and
 * symbolic size, and executes the nodes with the eager kernels. A new
 * binding (a new batch size) never recompiles: tg_program_stats counts the
 * compiles and the distinct bindings seen. */
#include "autodiff/fusion.h"
#include "autodiff/graph.h"
#include "autodiff/replay.h"
#include "gpu/gpu.h"
#include "tangent/sizes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SYMBOLS 32
#define MAX_SEEN 64

struct tg_program {
    tg_graph *g;
    int *last_use;                 /* per value: last node reading it; n_nodes for outputs */
    bool *sym_attrs;               /* per node: attributes hold symbolic sizes (evaluated per run) */
    bool *escapes;                 /* per value: read outside its fusion group, or returned */
    tg_fused_kernel **fused;       /* per node starting a group: its generated GPU kernel, or NULL */
    tg_fused_kernel **fused_tail;  /* per group ending in a reduction: one kernel for all of it, or NULL */
    int n_sym;
    char sym[MAX_SYMBOLS][32];     /* symbol names bound from the inputs */
    pthread_mutex_t lock;          /* guards the statistics and the device constants */
    tg_tensor **dev_consts;        /* per constant: its copy on dev_of_consts (NULL: weak or none yet) */
    tg_device dev_of_consts;
    int n_seen;
    int64_t seen[MAX_SEEN][MAX_SYMBOLS];
    int64_t bindings;
    tg_replay_set *replays;        /* recorded device runs (autodiff/replay.c); NULL: off */
};

static uint64_t compiles;          /* atomic, process-wide */

/* ---- graph copies ------------------------------------------------------------- */
tg_graph *tg__graph_clone(const tg_graph *g) {
    tg_graph *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    *c = *g;
    c->values = malloc((size_t)(g->n_values ? g->n_values : 1) * sizeof(tg_value));
    c->nodes = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(tg_gnode));
    c->consts = malloc((size_t)(g->n_consts ? g->n_consts : 1) * sizeof(tg_tensor *));
    c->inputs = malloc((size_t)(g->n_in + g->n_out + 1) * sizeof(int));
    c->cap_values = g->n_values;
    c->cap_nodes = g->n_nodes;
    c->cap_consts = g->n_consts;
    c->n_nodes = 0;
    c->n_consts = 0;
    c->cons = g->n_cons ? malloc((size_t)g->n_cons * sizeof *c->cons) : NULL;
    c->cap_cons = g->n_cons;
    if (!c->values || !c->nodes || !c->consts || !c->inputs || (g->n_cons && !c->cons)) { tg_graph_free(c); return NULL; }
    if (g->n_cons) memcpy(c->cons, g->cons, (size_t)g->n_cons * sizeof *c->cons);
    memcpy(c->values, g->values, (size_t)g->n_values * sizeof(tg_value));
    memcpy(c->inputs, g->inputs, (size_t)(g->n_in + g->n_out) * sizeof(int));
    c->outputs = c->inputs + g->n_in;
    for (int i = 0; i < g->n_consts; i++) c->consts[c->n_consts++] = tg_retain(g->consts[i]);
    for (int k = 0; k < g->n_nodes; k++) {
        const tg_gnode *s = &g->nodes[k];
        tg_gnode *d = &c->nodes[k];
        *d = *s;
        d->attr_str = s->attr_str ? strdup(s->attr_str) : NULL;
        d->attrs.str = d->attr_str;
        d->in = malloc((size_t)(s->n_in + s->n_out + 1) * sizeof(int));
        c->n_nodes = k + 1;
        if (!d->in) { tg_graph_free(c); return NULL; }
        memcpy(d->in, s->in, (size_t)(s->n_in + s->n_out) * sizeof(int));
        d->out = d->in + s->n_in;
    }
    return c;
}

/* ---- compile -------------------------------------------------------------------- */
static bool symbol_name(int64_t h, char *name) {
    /* a spec size is a plain symbol: its text is its name */
    char buf[64];
    if (tg_size_format(h, buf, sizeof buf) < 0) return false;
    for (const char *p = buf; *p; p++)
        if (!(*p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return false;
    strcpy(name, buf);
    return true;
}

tg_status tg__graph_passes(tg_graph *g);

tg_graph *tg_graph_optimize(const tg_graph *g) {
    if (!g) return tg__error(TG_ERR_ARG, "tg_graph_optimize: graph is NULL"), NULL;
    tg_graph *c = tg__graph_clone(g);
    if (!c) return tg__error(TG_ERR_MEMORY, "tg_graph_optimize: out of memory"), NULL;
    if (tg__graph_passes(c)) { tg_graph_free(c); return NULL; }
    tg__graph_fuse(c);     /* marks only: tg_graph_print shows the groups a compile would run */
    return c;
}

tg_program *tg_compile(const tg_graph *g, const tg_compile_opts *opts) {
    (void)opts;
    if (!g) return tg__error(TG_ERR_ARG, "tg_compile: graph is NULL"), NULL;
    tg_program *p = calloc(1, sizeof *p);
    if (!p) return tg__error(TG_ERR_MEMORY, "tg_compile: out of memory"), NULL;
    pthread_mutex_init(&p->lock, NULL);
    p->g = tg__graph_clone(g);
    if (!p->g) { free(p); return tg__error(TG_ERR_MEMORY, "tg_compile: out of memory"), NULL; }
    if (!(opts && opts->no_passes) && tg__graph_passes(p->g)) { tg_program_free(p); return NULL; }
    if (opts && opts->no_fusion)
        for (int k = 0; k < p->g->n_nodes; k++) p->g->nodes[k].fusion_group = p->g->nodes[k].epilogue = 0;
    else tg__graph_fuse(p->g);
    /* Memory plan: every intermediate is released right after its last
     * reader, so the storage cache hands its block to the next op. */
    p->last_use = malloc((size_t)(p->g->n_values ? p->g->n_values : 1) * sizeof(int));
    if (!p->last_use) { tg_program_free(p); return tg__error(TG_ERR_MEMORY, "tg_compile: out of memory"), NULL; }
    for (int v = 0; v < p->g->n_values; v++) p->last_use[v] = -1;
    for (int k = 0; k < p->g->n_nodes; k++)
        for (int i = 0; i < p->g->nodes[k].n_in; i++) p->last_use[p->g->nodes[k].in[i]] = k;
    for (int j = 0; j < p->g->n_out; j++) p->last_use[p->g->outputs[j]] = p->g->n_nodes;
    p->sym_attrs = calloc((size_t)(p->g->n_nodes ? p->g->n_nodes : 1), sizeof(bool));
    if (!p->sym_attrs) { tg_program_free(p); return tg__error(TG_ERR_MEMORY, "tg_compile: out of memory"), NULL; }
    p->escapes = calloc((size_t)(p->g->n_values ? p->g->n_values : 1), sizeof(bool));
    if (!p->escapes) { tg_program_free(p); return tg__error(TG_ERR_MEMORY, "tg_compile: out of memory"), NULL; }
    for (int k = 0; k < p->g->n_nodes; k++)
        for (int i = 0; i < p->g->nodes[k].n_in; i++) {
            int v = p->g->nodes[k].in[i], prod = p->g->values[v].producer;
            if (prod >= 0 && p->g->nodes[prod].fusion_group != p->g->nodes[k].fusion_group) p->escapes[v] = true;
        }
    for (int j = 0; j < p->g->n_out; j++) p->escapes[p->g->outputs[j]] = true;
    /* Each group's GPU kernel is generated now, once: a run on a device
     * of any binding uses it (gpu/fused.c). */
    p->fused = calloc((size_t)(p->g->n_nodes ? p->g->n_nodes : 1), sizeof *p->fused);
    p->fused_tail = calloc((size_t)(p->g->n_nodes ? p->g->n_nodes : 1), sizeof *p->fused_tail);
    if (!p->fused || !p->fused_tail) {
        tg_program_free(p);
        return tg__error(TG_ERR_MEMORY, "tg_compile: out of memory"), NULL;
    }
    if (!(opts && (opts->no_fusion || opts->cpu_only)) && tg__vk_device_count() > 0)
        for (int k = 0; k < p->g->n_nodes; k++)
            if (p->g->nodes[k].fusion_group && !p->g->nodes[k].epilogue &&
                (k == 0 || p->g->nodes[k - 1].fusion_group != p->g->nodes[k].fusion_group)) {
                int e = tg__fusion_group_end(p->g, k);
                if (!tg__fusion_has_tail(p->g, e)) {
                    p->fused[k] = tg__fused_build(p->g, k, e, p->escapes);
                    continue;
                }
                /* a reduction ends the group: one kernel reduces as it
                 * computes the chain; where it cannot run, a kernel covers
                 * the chain and writes the reduction's input, which runs
                 * after it */
                p->fused_tail[k] = tg__fused_build_reduce(p->g, k, e, p->escapes);
                int v = p->g->nodes[e - 1].out[0];
                bool was = p->escapes[v];
                p->escapes[v] = true;
                if (e - 1 > k) p->fused[k] = tg__fused_build(p->g, k, e - 1, p->escapes);
                p->escapes[v] = was;
            }
    for (int k = 0; k < p->g->n_nodes; k++)
        for (int q = 0; q < p->g->nodes[k].attrs.n_int; q++)
            p->sym_attrs[k] = p->sym_attrs[k] || p->g->nodes[k].attrs.i[q] >= TG_SYM_BASE;
    for (int i = 0; i < g->n_in; i++) {
        const tg_value *v = &g->values[g->inputs[i]];
        for (int d = 0; d < v->ndim; d++) {
            if (!tg_is_symbolic(v->shape[d])) continue;
            char name[32];
            if (!symbol_name(v->shape[d], name)) continue;      /* an expression: checked after binding */
            bool have = false;
            for (int k = 0; k < p->n_sym && !have; k++) have = strcmp(p->sym[k], name) == 0;
            if (have) continue;
            if (p->n_sym == MAX_SYMBOLS) {
                tg_program_free(p);
                return tg__error(TG_ERR_UNSUPPORTED, "tg_compile: more than %d symbols", MAX_SYMBOLS), NULL;
            }
            strcpy(p->sym[p->n_sym++], name);
        }
    }
    if (!(opts && opts->no_replay) && tg__vk_device_count() > 0 &&
        !(p->replays = tg__replay_new(p->g->n_in, p->g->n_out, p->n_sym))) {
        tg_program_free(p);
        return tg__error(TG_ERR_MEMORY, "tg_compile: out of memory"), NULL;
    }
    __atomic_add_fetch(&compiles, 1, __ATOMIC_RELAXED);
    return p;
}

void tg_program_free(tg_program *p) {
    if (!p) return;
    tg__replay_free(p->replays);
    for (int k = 0; p->fused && k < p->g->n_nodes; k++) tg__fused_free(p->fused[k]);
    for (int k = 0; p->fused_tail && k < p->g->n_nodes; k++) tg__fused_free(p->fused_tail[k]);
    free(p->fused);
    free(p->fused_tail);
    for (int c = 0; p->dev_consts && c < p->g->n_consts; c++) tg_release(p->dev_consts[c]);
    free(p->dev_consts);
    tg_graph_free(p->g);
    free(p->last_use);
    free(p->sym_attrs);
    free(p->escapes);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void tg_program_stats(const tg_program *p, int64_t *total_compiles, int64_t *distinct_bindings) {
    if (total_compiles) *total_compiles = (int64_t)__atomic_load_n(&compiles, __ATOMIC_RELAXED);
    if (distinct_bindings) {
        *distinct_bindings = 0;
        if (p) {
            pthread_mutex_lock(&((tg_program *)p)->lock);
            *distinct_bindings = p->bindings;
            pthread_mutex_unlock(&((tg_program *)p)->lock);
        }
    }
}

/* ---- run ------------------------------------------------------------------------- */
static void note_binding(tg_program *p, const int64_t *vals) {
    pthread_mutex_lock(&p->lock);
    bool seen = false;
    for (int k = 0; k < p->n_seen && !seen; k++) seen = memcmp(p->seen[k], vals, (size_t)p->n_sym * 8) == 0;
    if (!seen) {
        p->bindings++;
        if (p->n_seen < MAX_SEEN) memcpy(p->seen[p->n_seen++], vals, (size_t)p->n_sym * 8);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Attributes of node k for this binding (symbolic sizes evaluated). */
static tg_status bind_attrs(const tg_program *p, int k, const int64_t *vals, const char *const *names, tg_attrs *a) {
    *a = p->g->nodes[k].attrs;
    if (!p->sym_attrs[k]) return TG_OK;
    for (int q = 0; q < a->n_int; q++)
        if (a->i[q] >= TG_SYM_BASE && (a->i[q] = tg_size_eval(a->i[q], p->n_sym, names, vals)) < 0)
            return tg_last_error_code();
    return TG_OK;
}

/* Nodes k..e, one fusion group, block by block (autodiff/fusion.c). *ran
 * false: not run (an input off the CPU); the caller runs them one by one. */
static tg_status run_group(const tg_program *p, int k, int e, tg_tensor **val, const int64_t *vals,
                           const char *const *names, bool *ran) {
    const tg_graph *g = p->g;
    *ran = false;
    const tg_value *ov = &g->values[g->nodes[k].out[0]];
    int64_t shape[TG_MAX_DIMS];
    int64_t elems = 1;
    for (int d = 0; d < ov->ndim; d++) {
        if ((shape[d] = tg_size_eval(ov->shape[d], p->n_sym, names, vals)) < 0) return tg_last_error_code();
        elems *= shape[d];
    }
    bool tail = tg__fusion_has_tail(g, e);
    int64_t tail_shape[TG_MAX_DIMS];
    if (tail) {
        const tg_value *tv = &g->values[g->nodes[e].out[0]];
        for (int d = 0; d < tv->ndim; d++)
            if ((tail_shape[d] = tg_size_eval(tv->shape[d], p->n_sym, names, vals)) < 0) return tg_last_error_code();
    }
    if (p->fused_tail[k]) {   /* inputs on a device: the whole group in one kernel, if it takes them */
        if (g->nodes[k].file) tg__set_location(g->nodes[k].file, g->nodes[k].line);
        const tg_value *tv = &g->values[g->nodes[e].out[0]];
        tg_tensor *y = NULL;
        tg_status st = tg__fused_run_reduce(p->fused_tail[k], val, ov->ndim, shape, tv->ndim, tail_shape, &y, ran);
        if (st || *ran) {
            if (y) val[g->nodes[e].out[0]] = y;
            return st;
        }
    }
    if (p->fused[k]) {        /* inputs on a device: the generated kernel, if it takes them */
        if (g->nodes[k].file) tg__set_location(g->nodes[k].file, g->nodes[k].line);
        tg_status st = tg__fused_run(p->fused[k], val, ov->ndim, shape, ran);
        if (st || (*ran && !tail)) return st;
        if (*ran) {   /* then the reduction ending the group, on the kernel's output */
            const tg_gnode *r = &g->nodes[e];
            tg_attrs a;
            tg_tensor *y = NULL;
            if (r->file) tg__set_location(r->file, r->line);
            if (!(st = bind_attrs(p, e, vals, names, &a)) && !(st = tg__apply(r->def, 1, &val[r->in[0]], &a, 1, &y)))
                val[r->out[0]] = tg__scope_take(y);
            return st;
        }
    }
    if (elems <= TG_FUSION_BLOCK_ELEMS) return TG_OK;   /* one block: op by op is as good and cheaper */
    for (int j = k; j <= e; j++)
        for (int i = 0; i < g->nodes[j].n_in; i++) {
            int v = g->nodes[j].in[i], prod = g->values[v].producer;
            if ((prod < k || prod > e) && (!val[v] || val[v]->storage->device.kind != TG_CPU)) return TG_OK;
        }
    tg_attrs attrs[TG_FUSION_MAX_NODES + 1];
    for (int j = k; j <= e; j++) {
        tg_status st = bind_attrs(p, j, vals, names, &attrs[j - k]);
        if (st) return st;
    }
    if (g->nodes[k].file) tg__set_location(g->nodes[k].file, g->nodes[k].line);
    *ran = true;
    return tg__fusion_run(g, k, e, attrs, p->escapes, val, shape, tail ? tail_shape : NULL);
}

/* Nodes k, k + 1: a convolution and an activation of its output. On the
 * CPU the activation runs in place over the output, block by block of
 * images; on a device the product kernel applies it as it stores
 * (gpu/conv.c, gpu/matmul.c). Bitwise the unfused pair either way. *ran
 * false: inputs on several devices. */
static tg_status run_conv_act(const tg_program *p, int k, tg_tensor **val, const int64_t *vals,
                               const char *const *names, bool *ran) {
    const tg_graph *g = p->g;
    const tg_gnode *cv = &g->nodes[k];
    *ran = false;
    tg_tensor *in[3];
    bool cpu = true;
    for (int i = 0; i < cv->n_in; i++) {
        in[i] = val[cv->in[i]];
        cpu = cpu && in[i]->storage->device.kind == TG_CPU;
    }
    tg_attrs attrs[2];
    for (int j = 0; j < 2; j++) {
        tg_status st = bind_attrs(p, k + j, vals, names, &attrs[j]);
        if (st) return st;
    }
    if (cv->file) tg__set_location(cv->file, cv->line);
    tg_tensor *y = NULL;
    tg_status st = cpu ? tg__apply_plain(cv->def, cv->n_in, in, &attrs[0], 1, &y)
                       : tg__vk_conv_act(cv->def, cv->n_in, in, &attrs[0], g->nodes[k + 1].def, &attrs[1], &y);
    if (st || !y) return st;
    if (cpu) st = tg__fusion_run_epilogue(g, k, k + 1, attrs + 1, val, y);
    else tg__fusion_count_epilogue();
    if (st) {
        tg_release(y);
        return st;
    }
    val[g->nodes[k + 1].out[0]] = y;
    *ran = true;
    return TG_OK;
}

/* Nodes k..e, a matmul and its epilogue (an add of a bias, an activation;
 * autodiff/fusion.c): on the CPU they run in place over the product, block
 * by block; on a device the matmul kernel adds the bias and applies a ReLU
 * as it stores the product, and another activation runs after it as its
 * own kernel. Bitwise the unfused chain either way. *ran false: operands on
 * several devices, or a layout or dtype the device path does not take; the
 * caller runs the nodes one by one. A convolution's group goes to
 * run_conv_act. */
static tg_status run_epilogue(const tg_program *p, int k, int e, tg_tensor **val, const int64_t *vals,
                              const char *const *names, bool *ran) {
    const tg_graph *g = p->g;
    const tg_gnode *mm = &g->nodes[k];
    if (strcmp(mm->def->name, "matmul") != 0) return run_conv_act(p, k, val, vals, names, ran);
    *ran = false;
    tg_tensor *a = val[mm->in[0]], *b = val[mm->in[1]], *bias = NULL;
    const tg_gnode *add = !strcmp(g->nodes[k + 1].def->name, "add") ? &g->nodes[k + 1] : NULL;
    if (add) bias = val[add->in[0] == mm->out[0] ? add->in[1] : add->in[0]];
    bool relu = !strcmp(g->nodes[e].def->name, "relu");
    /* another activation: the product's kernel built with it, where it can be */
    const char *act = e > k + (add ? 1 : 0) && !relu ? g->nodes[e].def->name : NULL;
    bool cpu = a->storage->device.kind == TG_CPU && b->storage->device.kind == TG_CPU &&
               (!bias || bias->storage->device.kind == TG_CPU);
    tg_attrs attrs[3];
    for (int j = k; j <= e; j++) {
        tg_status st = bind_attrs(p, j, vals, names, &attrs[j - k]);
        if (st) return st;
    }
    if (mm->file) tg__set_location(mm->file, mm->line);
    tg_tensor *y = NULL;
    bool applied = false, act_applied = false;
    tg_status st = cpu ? tg__apply_plain(mm->def, 2, (tg_tensor *[]){a, b}, &attrs[0], 1, &y)
                       : tg__vk_matmul_epilogue(a, b, bias, relu, act, &y, &applied, &act_applied);
    int done = act && !act_applied ? e - 1 : e;   /* on a device: the last node the product's path applied */
    if (st || !y) return st;
    if (cpu) {
        st = tg__fusion_run_epilogue(g, k, e, attrs + 1, val, y);
    } else {
        /* the nodes the product's path did not apply, op by op: the
         * activation other than a ReLU, or all when it stores plain */
        if (applied) tg__fusion_count_epilogue();
        for (int j = applied ? done + 1 : k + 1; j <= e && !st; j++) {
            const tg_gnode *nd = &g->nodes[j];
            tg_tensor *args[2], *r = NULL;
            for (int i = 0; i < nd->n_in; i++) args[i] = g->values[nd->in[i]].producer == j - 1 ? y : val[nd->in[i]];
            if (nd->file) tg__set_location(nd->file, nd->line);
            st = tg__apply(nd->def, nd->n_in, args, &attrs[j - k], 1, &r);
            tg_release(y);
            y = st ? NULL : tg__scope_take(r);
        }
    }
    if (st) {
        tg_release(y);
        return st;
    }
    val[g->nodes[e].out[0]] = y;
    *ran = true;
    return TG_OK;
}

/* The program's constants on dev, uploaded on its first run there and kept
 * (a run on another device replaces them), so a run uploads nothing; val[]
 * of each constant value gets a reference of the run's own (owned). */
static tg_status device_consts(tg_program *p, tg_device dev, tg_tensor **val, bool *owned) {
    const tg_graph *g = p->g;
    tg_status st = TG_OK;
    pthread_mutex_lock(&p->lock);
    bool same = p->dev_consts && p->dev_of_consts.kind == dev.kind && p->dev_of_consts.index == dev.index;
    if (!same && !p->dev_consts && !(p->dev_consts = calloc((size_t)(g->n_consts ? g->n_consts : 1), sizeof(tg_tensor *))))
        st = tg__error(TG_ERR_MEMORY, "tg_run: out of memory");
    for (int c = 0; c < g->n_consts && !same && !st; c++) {
        tg_release(p->dev_consts[c]);
        p->dev_consts[c] = NULL;
        tg_tensor *k = g->consts[c];
        if (k->storage->device.kind != TG_CPU || (k->flags & TG_TFLAG_WEAK)) continue;
        if (!(p->dev_consts[c] = tg__scope_take(tg_to_device(k, dev)))) st = tg_last_error_code();
    }
    if (!same && !st) p->dev_of_consts = dev;
    if (st && p->dev_consts) {          /* a half-made set: none kept */
        for (int c = 0; c < g->n_consts; c++) { tg_release(p->dev_consts[c]); p->dev_consts[c] = NULL; }
        p->dev_of_consts = (tg_device){TG_CPU, 0};
    }
    for (int v = 0; v < g->n_values && !st; v++) {
        int c = g->values[v].const_index;
        if (c >= 0 && p->dev_consts[c]) {
            val[v] = tg_retain(p->dev_consts[c]);
            owned[v] = true;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

/* Runs the nodes in order; out[] receive owned references (not handed out). */
static tg_status execute(tg_program *p, tg_tensor *const *in, tg_tensor **out, const int64_t *vals,
                         const char *const *names) {
    const tg_graph *g = p->g;
    tg_tensor **val = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *val);
    if (!val) return tg__error(TG_ERR_MEMORY, "tg_run: out of memory");
    bool *owned = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *owned);
    if (!owned) { free(val); return tg__error(TG_ERR_MEMORY, "tg_run: out of memory"); }
    for (int i = 0; i < g->n_in; i++) val[g->inputs[i]] = in[i];
    /* On a device run, the program's constants join the inputs' device
     * (weak scalars stay: the dispatcher passes them as numbers). */
    tg_device dev = {TG_CPU, 0};
    for (int i = 0; i < g->n_in; i++)
        if (in[i]->storage->device.kind != TG_CPU) dev = in[i]->storage->device;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].const_index >= 0) val[v] = g->consts[g->values[v].const_index];
    tg_status st = dev.kind != TG_CPU ? device_consts(p, dev, val, owned) : TG_OK;
    /* on a Vulkan device: this binding's recording, else capture this run */
    tg_replay_capture *cap = NULL;
    if (!st && dev.kind == TG_VULKAN && p->replays) {
        if (tg__replay_run(p->replays, dev, vals, in, out, &st)) goto done;
        tg_tensor **use = malloc((size_t)(g->n_in ? g->n_in : 1) * sizeof *use);   /* the recording's input buffers */
        if (use && (cap = tg__replay_begin(p->replays, dev, vals, in, use)))
            for (int i = 0; i < g->n_in; i++) val[g->inputs[i]] = use[i];
        free(use);
    }
    tg_scope_begin();
    tg_no_grad_begin();
    for (int k = 0; k < g->n_nodes && !st; k++) {
        const tg_gnode *nd = &g->nodes[k];
        if (nd->fusion_group && (k == 0 || g->nodes[k - 1].fusion_group != nd->fusion_group)) {
            int e = tg__fusion_group_end(g, k);
            bool ran = false;
            st = nd->epilogue ? run_epilogue(p, k, e, val, vals, names, &ran) : run_group(p, k, e, val, vals, names, &ran);
            if (ran) {
                for (int j = k; j <= e; j++) {
                    int o = g->nodes[j].out[0];
                    owned[o] = val[o] != NULL;
                    for (int i = 0; i < g->nodes[j].n_in; i++) {
                        int v = g->nodes[j].in[i];
                        if (owned[v] && p->last_use[v] == j) { tg_release(val[v]); val[v] = NULL; owned[v] = false; }
                    }
                }
                k = e;
                continue;
            }
            if (st) break;
        }
        tg_tensor *args[TG_MAX_OP_INPUTS], *res[TG_MAX_OP_OUTPUTS];
        for (int i = 0; i < nd->n_in; i++) args[i] = val[nd->in[i]];
        tg_attrs bound;
        const tg_attrs *a = &nd->attrs;
        if (p->sym_attrs[k]) {                 /* sizes in the attributes: evaluate for this binding */
            bound = nd->attrs;
            for (int q = 0; q < bound.n_int && !st; q++)
                if (bound.i[q] >= TG_SYM_BASE && (bound.i[q] = tg_size_eval(bound.i[q], p->n_sym, names, vals)) < 0)
                    st = tg_last_error_code();
            a = &bound;
        }
        if (st) break;
        if (nd->file) tg__set_location(nd->file, nd->line);
        /* the plain path needs CPU inputs; others (a device) take the dispatcher */
        bool plain = nd->def->kernel[TG_CPU] != NULL;
        for (int i = 0; i < nd->n_in && plain; i++) plain = args[i]->storage->device.kind == TG_CPU;
        st = plain ? tg__apply_plain(nd->def, nd->n_in, args, a, nd->n_out, res)
                   : tg__apply(nd->def, nd->n_in, args, a, nd->n_out, res);
        if (!st && plain && nd->n_in == 0 && dev.kind != TG_CPU) {
            /* a factory node (sizes of this binding, eye, full) on a device run */
            for (int o = 0; o < nd->n_out && !st; o++) {
                tg_tensor *moved = tg__scope_take(tg_to_device(res[o], dev));
                tg_release(res[o]);
                res[o] = moved;
                if (!moved) st = tg_last_error_code();
            }
            for (int o = 0; o < nd->n_out && st; o++) { tg_release(res[o]); res[o] = NULL; }
        }
        for (int o = 0; o < nd->n_out && !st; o++) {
            val[nd->out[o]] = plain ? res[o] : tg__scope_take(res[o]);
            owned[nd->out[o]] = true;
            if (p->last_use[nd->out[o]] < 0) {         /* never read (a dropped output) */
                tg_release(res[o]);
                val[nd->out[o]] = NULL;
                owned[nd->out[o]] = false;
            }
        }
        for (int i = 0; i < nd->n_in && !st; i++) {
            int v = nd->in[i];
            if (owned[v] && p->last_use[v] == k) { tg_release(val[v]); val[v] = NULL; owned[v] = false; }
        }
    }
    tg_no_grad_end();
    tg_scope_end();
    for (int j = 0; j < g->n_out && !st; j++) {
        out[j] = val[g->outputs[j]];
        if (owned[g->outputs[j]]) owned[g->outputs[j]] = false;   /* handed over (first use) */
        else tg_retain(out[j]);
    }
    if (cap) {
        /* the recording holds the device constants its commands read */
        tg_tensor **keep = malloc((size_t)(g->n_values ? g->n_values : 1) * sizeof *keep);
        int n_keep = 0;
        for (int v = 0; keep && v < g->n_values; v++)
            if (owned[v] && g->values[v].const_index >= 0) keep[n_keep++] = val[v];
        if (!keep && !st) st = tg__error(TG_ERR_MEMORY, "tg_run: out of memory");
        st = tg__replay_end(p->replays, cap, vals, n_keep, keep, out, st);
        free(keep);
    } else if (dev.kind == TG_VULKAN) {
        tg_status sub = tg__vk_submit_batch(dev.index);     /* the run's batch goes now */
        if (!st) st = sub;
    }
done:
    for (int v = 0; v < g->n_values; v++) if (owned[v]) tg_release(val[v]);
    free(val);
    free(owned);
    return st;
}

/* tg_size_eval for the checks, which report a failure themselves: its own
 * error is dropped, one pending from before the call is kept. */
static int64_t eval_quiet(int64_t size, int n, const char *const *names, const int64_t *vals) {
    if (!tg_is_symbolic(size)) return size;
    tg__stashed_error older;
    tg__error_stash(&older);
    int64_t v = tg_size_eval(size, n, names, vals);
    tg_clear_error();
    tg__error_unstash(&older);
    return v;
}

tg_status tg_run(const tg_program *cp, tg_tensor *const *in, tg_tensor **out) {
    tg_program *p = (tg_program *)cp;
    if (!p || (!in && p->g->n_in) || !out) return tg__error(TG_ERR_ARG, "tg_run: program, inputs and outputs are required");
    const tg_graph *g = p->g;
    for (int j = 0; j < g->n_out; j++) out[j] = NULL;
    int64_t vals[MAX_SYMBOLS] = {0};
    const char *names[MAX_SYMBOLS];
    for (int k = 0; k < p->n_sym; k++) names[k] = p->sym[k];
    /* bind the symbols from the inputs' shapes, checking the fixed sizes */
    for (int i = 0; i < g->n_in; i++) {
        const tg_value *v = &g->values[g->inputs[i]];
        tg_tensor *x = in[i];
        if (!x) return tg__error(TG_ERR_ARG, "tg_run: input %d is NULL", i);
        if (x->dtype != v->dtype || x->ndim != v->ndim) {
            char want[200], got[200];
            tg__fmt_meta(want, sizeof want, v->dtype, v->ndim, v->shape);
            tg__fmt_meta(got, sizeof got, x->dtype, x->ndim, x->shape);
            return tg__error(TG_ERR_SHAPE, "tg_run: input %d is %s, the program takes %s", i, got, want);
        }
        for (int d = 0; d < v->ndim; d++) {
            int64_t want = v->shape[d];
            char name[32];
            if (!tg_is_symbolic(want) || !symbol_name(want, name)) continue;
            int k = 0;
            while (strcmp(p->sym[k], name)) k++;
            if (vals[k] == 0) {
                if (x->shape[d] < 1)
                    return tg__error(TG_ERR_SHAPE, "tg_run: input %d axis %d binds %s to %lld; symbols are sizes >= 1",
                                     i, d, name, (long long)x->shape[d]);
                vals[k] = x->shape[d];
            } else if (vals[k] != x->shape[d]) {
                return tg__error(TG_ERR_SHAPE, "tg_run: input %d axis %d has size %lld but %s is %lld from an earlier "
                                 "input", i, d, (long long)x->shape[d], name, (long long)vals[k]);
            }
        }
    }
    for (int i = 0; i < g->n_in; i++) {             /* every size, fixed or expression, against the binding */
        const tg_value *v = &g->values[g->inputs[i]];
        for (int d = 0; d < v->ndim; d++) {
            int64_t want = eval_quiet(v->shape[d], p->n_sym, names, vals);
            if (want != in[i]->shape[d]) {
                char s[128];
                tg_size_format(v->shape[d], s, sizeof s);
                if (!tg_is_symbolic(v->shape[d]))
                    return tg__error(TG_ERR_SHAPE, "tg_run: input %d axis %d has size %lld, the program needs %lld", i,
                                     d, (long long)in[i]->shape[d], (long long)want);
                return tg__error(TG_ERR_SHAPE, "tg_run: input %d axis %d has size %lld, the program needs %s = %lld",
                                 i, d, (long long)in[i]->shape[d], s, (long long)want);
            }
        }
    }
    /* the constraints the trace could not decide, now that sizes are known */
    for (int k = 0; k < g->n_cons; k++) {
        int64_t l = eval_quiet(g->cons[k].lhs, p->n_sym, names, vals);
        int64_t r = eval_quiet(g->cons[k].rhs, p->n_sym, names, vals);
        if (l < 0 || r < 0 || l < r) {
            char ls[128], rs[128];
            tg_size_format(g->cons[k].lhs, ls, sizeof ls);
            tg_size_format(g->cons[k].rhs, rs, sizeof rs);
            return tg__error(TG_ERR_SHAPE, "tg_run: %s needs %s >= %s, which is %lld >= %lld for these inputs",
                             g->cons[k].what, ls, rs, (long long)l, (long long)r);
        }
    }
    note_binding(p, vals);
    tg_status st = execute(p, in, out, vals, names);
    for (int j = 0; j < g->n_out; j++) {
        if (st) { tg_release(out[j]); out[j] = NULL; }
        else tg__handout(out[j]);
    }
    return st;
}

const tg_graph *tg__program_graph(const tg_program *p) { return p ? p->g : NULL; }
