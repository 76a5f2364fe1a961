/* Elementwise fusion for compiled programs on the CPU (docs/autodiff.md,
 * "Fusion").
 *
 * The pass groups runs of consecutive nodes whose ops are elementwise
 * (TG_OP_ELEMENTWISE: unary and binary ops, comparisons, where, cast) and
 * whose outputs have one shape. The executor then runs a group block by
 * block of rows (axis 0), every node of the group over one block before the
 * next block: values produced and consumed inside the group live in
 * block-sized scratch tensors that stay in cache, and only the values read
 * after the group (or returned) are written out whole. A chain of k ops on
 * an array larger than the cache then reads and writes main memory once
 * instead of k times.
 *
 * Each node still runs its own eager kernel, on row slices of its operands,
 * so the arithmetic is the same and fused results equal unfused ones
 * bitwise (the kernels' short and long loops use the same expressions).
 * Most groups take the flat path instead (autodiff/fusion_flat.c): the
 * same kernels' loops called on raw blocks of 4 KiB.
 * Blocks are spread over threads for large groups; each kernel then runs on
 * one thread (nested OpenMP regions are serial). */
#include "autodiff/fusion.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tangent/sizes.h"

/* Below this many elements a group runs on one thread. */
#define PAR_MIN_ELEMS (1 << 17)

static bool fusible(const tg_graph *g, int k) {
    const tg_gnode *nd = &g->nodes[k];
    if (!(nd->def->flags & TG_OP_ELEMENTWISE) || nd->n_out != 1 || !nd->def->kernel[TG_CPU]) return false;
    const tg_value *o = &g->values[nd->out[0]];
    if (o->ndim < 1) return false;
    for (int i = 0; i < nd->n_in; i++)
        if (g->values[nd->in[i]].ndim > o->ndim) return false;
    return true;
}

static bool same_shape(const tg_value *a, const tg_value *b) {
    if (a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return false;   /* symbolic sizes are interned: equal handles */
    return true;
}

static bool is_op(const tg_gnode *nd, const char *name) { return !strcmp(nd->def->name, name); }

/* A value the epilogue may absorb: read once (by the next node of the
 * chain) and not returned, so no one needs it written out. */
static bool private_value(const int *uses, const bool *returned, int v) { return uses[v] == 1 && !returned[v]; }

/* Whether node j is an activation of value v an epilogue may end with: a
 * one-input elementwise op of v (relu, gelu, tanh, sigmoid, ...) that keeps
 * its dtype and has a CPU kernel (it then runs in place over the product's
 * blocks). */
static bool activation_of(const tg_graph *g, int j, int v) {
    if (j >= g->n_nodes) return false;
    const tg_gnode *nd = &g->nodes[j];
    return (nd->def->flags & TG_OP_ELEMENTWISE) && nd->n_in == 1 && nd->n_out == 1 && nd->in[0] == v &&
           nd->def->kernel[TG_CPU] && g->values[nd->out[0]].dtype == g->values[v].dtype;
}

/* How many nodes after matmul node k form its epilogue: an add of the
 * product and a bias, then an activation, or either alone; 0 when none. The bias
 * is any value of the product's dtype that broadcasts to it without
 * growing it and varies only along its last two axes (the matmul kernels
 * read it as bias[r * rs + c * cs]); weak scalars are left to the add. */
static int epilogue_len(const tg_graph *g, const int *uses, const bool *returned, int k) {
    const tg_gnode *mm = &g->nodes[k];
    if (!is_op(mm, "matmul") || mm->n_out != 1) return 0;
    int v = mm->out[0];
    const tg_value *pv = &g->values[v];
    if (pv->ndim < 2 || (pv->dtype != TG_F32 && pv->dtype != TG_F64)) return 0;
    int n = 0;
    if (k + 1 < g->n_nodes && is_op(&g->nodes[k + 1], "add") && private_value(uses, returned, v)) {
        const tg_gnode *ad = &g->nodes[k + 1];
        int bias = ad->in[0] == v ? ad->in[1] : ad->in[0];
        const tg_value *b = &g->values[bias], *o = &g->values[ad->out[0]];
        bool ok = bias != v && (ad->in[0] == v || ad->in[1] == v) && same_shape(o, pv) && b->dtype == pv->dtype &&
                  b->ndim <= pv->ndim && o->dtype == pv->dtype;
        for (int d = 0; ok && d + 2 < b->ndim; d++) ok = b->shape[d] == 1;
        if (ok && b->const_index >= 0) ok = !(g->consts[b->const_index]->flags & TG_TFLAG_WEAK);
        if (ok) {
            n = 1;
            v = ad->out[0];
        }
    }
    if (activation_of(g, k + n + 1, v) && private_value(uses, returned, v)) n++;
    return n;
}

/* The epilogue of a convolution node k (nn_conv2d, nn_conv2d_bias, f32 or
 * f64; the bias is the op's own): 1 when an activation of its output,
 * which nobody else reads and which is not returned, comes right after it. */
static int conv_epilogue_len(const tg_graph *g, const int *uses, const bool *returned, int k) {
    const tg_gnode *cv = &g->nodes[k];
    if (!(is_op(cv, "nn_conv2d") || is_op(cv, "nn_conv2d_bias")) || cv->n_out != 1) return 0;
    int v = cv->out[0];
    tg_dtype t = g->values[v].dtype;
    if (t != TG_F32 && t != TG_F64) return 0;
    return activation_of(g, k + 1, v) && private_value(uses, returned, v);
}

/* Whether node t can end the elementwise run that ends at node e: a sum,
 * prod, max or min of e's output (read by nobody else, not returned) that
 * keeps axis 0. Each block of rows then reduces its own rows with the
 * reduction's own kernel, so the chain's output is never written whole
 * and the values equal the unfused reduction's bitwise (a row's result
 * depends only on that row). */
static bool reduction_tail(const tg_graph *g, const int *uses, const bool *returned, int e, int t) {
    if (!uses || t >= g->n_nodes) return false;
    const tg_gnode *nd = &g->nodes[t];
    if (!(is_op(nd, "sum") || is_op(nd, "prod") || is_op(nd, "max") || is_op(nd, "min")) || nd->n_in != 1 ||
        nd->n_out != 1 || !nd->def->kernel[TG_CPU])
        return false;
    int v = g->nodes[e].out[0];
    const tg_value *x = &g->values[v];
    if (nd->in[0] != v || !private_value(uses, returned, v) || x->ndim < 2 || nd->attrs.n_int < 2) return false;
    int64_t naxes = nd->attrs.i[1];
    if (naxes < 0) return false;   /* every axis */
    for (int q = 0; q < naxes && 2 + q < nd->attrs.n_int; q++)
        if (nd->attrs.i[2 + q] == 0 || nd->attrs.i[2 + q] == -x->ndim) return false;
    return naxes <= nd->attrs.n_int - 2;
}

bool tg__fusion_has_tail(const tg_graph *g, int e) { return !(g->nodes[e].def->flags & TG_OP_ELEMENTWISE); }

int tg__graph_fuse(tg_graph *g) {
    int groups = 0;
    for (int k = 0; k < g->n_nodes; k++) g->nodes[k].fusion_group = g->nodes[k].epilogue = 0;
    int *uses = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *uses);
    bool *returned = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *returned);
    if (!uses || !returned) {   /* no epilogues then: only an optimisation */
        free(uses);
        free(returned);
        uses = NULL;
        returned = NULL;
    }
    for (int k = 0; uses && k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k].n_in; i++) uses[g->nodes[k].in[i]]++;
    for (int j = 0; uses && j < g->n_out; j++) returned[g->outputs[j]] = true;
    for (int k = 0; k < g->n_nodes;) {
        int ep = uses ? epilogue_len(g, uses, returned, k) + conv_epilogue_len(g, uses, returned, k) : 0;
        if (ep) {
            groups++;
            g->nodes[k].epilogue = ep;
            for (int j = k; j <= k + ep; j++) g->nodes[j].fusion_group = groups;
            k += ep + 1;
            continue;
        }
        if (!fusible(g, k)) { k++; continue; }
        const tg_value *shape = &g->values[g->nodes[k].out[0]];
        int end = k;
        while (end + 1 < g->n_nodes && end + 1 - k < TG_FUSION_MAX_NODES && fusible(g, end + 1) &&
               same_shape(&g->values[g->nodes[end + 1].out[0]], shape))
            end++;
        if (reduction_tail(g, uses, returned, end, end + 1)) end++;
        if (end > k) {
            groups++;
            for (int j = k; j <= end; j++) g->nodes[j].fusion_group = groups;
        }
        k = end + 1;
    }
    free(uses);
    free(returned);
    return groups;
}

int tg__fusion_group_end(const tg_graph *g, int k) {
    int grp = g->nodes[k].fusion_group, e = k;
    while (e + 1 < g->n_nodes && g->nodes[e + 1].fusion_group == grp) e++;
    return e;
}

/* Rows [r0, r0 + n) of x (a view), or x itself (a new reference) when x is
 * broadcast along the block axis (fewer dims, or size 1 there). */
static tg_tensor *rows_of(tg_tensor *x, int ndim, int64_t rows, int64_t r0, int64_t n) {
    if (x->ndim < ndim || x->shape[0] != rows || rows == 1) return tg_retain(x);
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
    shape[0] = n;
    return tg__make_view(x, x->dtype, x->ndim, shape, x->strides, x->offset + r0 * x->strides[0]);
}

/* One node's kernel into out (its shape already the inferred one). */
static tg_status run_into(const tg_gnode *nd, const tg_attrs *a, tg_tensor *const *in, tg_tensor *out) {
    tg_meta metas[TG_MAX_OP_INPUTS], om;
    tg__metas_of(nd->n_in, in, metas);
    tg_op_call call = {nd->def, a, nd->n_in, metas, NULL};
    tg_status st = nd->def->infer ? nd->def->infer(&call, &om) : TG_OK;
    if (st) return st;
    tg_tensor *outs[1] = {out};
    return nd->def->kernel[TG_CPU](&call, in, outs);
}

/* Rows per block (16 Ki elements of rows of inner elements, at least one
 * row), their count, and the threads to spread them over. */
static int plan_blocks(int64_t rows, int64_t inner, int64_t *block, int64_t *blocks) {
    *block = inner >= TG_FUSION_BLOCK_ELEMS ? 1 : TG_FUSION_BLOCK_ELEMS / (inner ? inner : 1);
    *blocks = rows ? (rows + *block - 1) / *block : 0;
    int nth = rows * inner >= PAR_MIN_ELEMS ? tg__num_threads() : 1;
    return nth > *blocks ? (int)(*blocks ? *blocks : 1) : nth;
}

static atomic_llong group_runs, epilogue_runs;
long long tg__fusion_group_runs(void) { return atomic_load(&group_runs); }
long long tg__fusion_epilogue_runs(void) { return atomic_load(&epilogue_runs); }
void tg__fusion_count_epilogue(void) { atomic_fetch_add(&epilogue_runs, 1); }

tg_status tg__fusion_run(const tg_graph *g, int k, int e, const tg_attrs *attrs, const bool *escapes,
                         tg_tensor **val, const int64_t *shape, const int64_t *tail_shape) {
    atomic_fetch_add(&group_runs, 1);
    const tg_value *ov = &g->values[g->nodes[k].out[0]];
    int nd = ov->ndim;
    int64_t rows = shape[0], inner = 1;
    for (int d = 1; d < nd; d++) inner *= shape[d];
    int n = e - k + 1;
    int tail = tail_shape ? n - 1 : -1;                 /* the reduction ending the group, if any */
    int tail_nd = tail_shape ? g->values[g->nodes[e].out[0]].ndim : 0;
    tg_tensor *full[TG_FUSION_MAX_NODES + 1] = {NULL};  /* whole outputs of the values read after the group */
    tg_status st = TG_OK;
    for (int j = 0; j < n && !st; j++) {
        const tg_gnode *node = &g->nodes[k + j];
        if (!escapes[node->out[0]]) continue;
        full[j] = tg__alloc(g->values[node->out[0]].dtype, j == tail ? tail_nd : nd, j == tail ? tail_shape : shape);
        if (!full[j]) st = tg_last_error_code();
    }
    bool flat = !st && !tail_shape && tg__fusion_run_flat(g, k, e, attrs, val, full, shape, &st);
    int64_t block, blocks;
    int nth = plan_blocks(rows, inner, &block, &blocks);
    char msg[512] = "";
    int bad = TG_OK;   /* an int for omp atomic */
    if (!st && !flat) {
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static)
        for (int64_t b = 0; b < blocks; b++) {
            int seen;
#pragma omp atomic read
            seen = bad;
            if (seen) continue;
            tg_status my = TG_OK;
            int64_t r0 = b * block, len = rows - r0 < block ? rows - r0 : block;
            int64_t bshape[TG_MAX_DIMS];
            memcpy(bshape, shape, sizeof(int64_t) * (size_t)nd);
            bshape[0] = len;
            tg_tensor *local[TG_FUSION_MAX_NODES + 1] = {NULL};   /* this block of each node's output */
            for (int j = 0; j < n && !my; j++) {
                const tg_gnode *node = &g->nodes[k + j];
                tg_tensor *args[TG_MAX_OP_INPUTS];
                int n_args = 0;
                for (int i = 0; i < node->n_in && !my; i++) {
                    int v = node->in[i], p = g->values[v].producer;
                    if (p >= k && p <= e) args[n_args++] = tg_retain(local[p - k]);
                    else if (!(args[n_args++] = rows_of(val[v], nd, rows, r0, len))) my = tg_last_error_code();
                }
                if (!my && j == tail) {   /* this block's rows of the reduction */
                    int64_t tshape[TG_MAX_DIMS];
                    memcpy(tshape, tail_shape, sizeof(int64_t) * (size_t)tail_nd);
                    tshape[0] = len;
                    local[j] = full[j] ? rows_of(full[j], tail_nd, rows, r0, len)
                                       : tg__alloc(g->values[node->out[0]].dtype, tail_nd, tshape);
                    my = local[j] ? run_into(node, &attrs[j], args, local[j]) : tg_last_error_code();
                } else if (!my) {
                    local[j] = full[j] ? rows_of(full[j], nd, rows, r0, len)
                                       : tg__alloc(g->values[node->out[0]].dtype, nd, bshape);
                    my = local[j] ? run_into(node, &attrs[j], args, local[j]) : tg_last_error_code();
                }
                for (int i = 0; i < n_args; i++) tg_release(args[i]);
            }
            for (int j = 0; j < n; j++) tg_release(local[j]);
            if (my) {
#pragma omp critical(tg_fusion_error)
                if (!bad) {
                    bad = my;
                    snprintf(msg, sizeof msg, "%s", tg_last_error());
                }
            }
        }
        if (bad) st = tg__error((tg_status)bad, "%s", msg);
    }
    for (int j = 0; j < n; j++) {
        int v = g->nodes[k + j].out[0];
        if (!st && full[j]) val[v] = full[j];
        else tg_release(full[j]);
    }
    return st;
}

tg_status tg__fusion_run_epilogue(const tg_graph *g, int k, int e, const tg_attrs *attrs, tg_tensor *const *val,
                                  tg_tensor *y) {
    tg__fusion_count_epilogue();
    int nd = y->ndim;
    int64_t rows = y->shape[0], inner = tg__numel(nd - 1, y->shape + 1);
    int64_t block, blocks;
    int nth = plan_blocks(rows, inner, &block, &blocks);
    int bad = TG_OK;   /* an int for omp atomic */
    char msg[512] = "";
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        int seen;
#pragma omp atomic read
        seen = bad;
        if (seen) continue;
        int64_t r0 = b * block, len = rows - r0 < block ? rows - r0 : block;
        tg_tensor *cur = rows_of(y, nd, rows, r0, len);   /* this block of the product, then of each output */
        tg_status my = cur ? TG_OK : tg_last_error_code();
        for (int j = k + 1; j <= e && !my; j++) {
            const tg_gnode *node = &g->nodes[j];
            int chain = g->values[node->in[0]].producer == j - 1 ? 0 : 1;   /* which input is the chain's */
            tg_tensor *args[2] = {NULL, NULL};
            for (int i = 0; i < node->n_in; i++)
                args[i] = i == chain ? tg_retain(cur) : rows_of(val[node->in[i]], nd, rows, r0, len);
            for (int i = 0; i < node->n_in; i++)
                if (!args[i]) my = tg_last_error_code();
            if (!my) my = run_into(node, &attrs[j - k - 1], args, cur);   /* in place: elementwise */
            for (int i = 0; i < node->n_in; i++) tg_release(args[i]);
        }
        tg_release(cur);
        if (my) {
#pragma omp critical(tg_fusion_error)
            if (!bad) {
                bad = my;
                snprintf(msg, sizeof msg, "%s", tg_last_error());
            }
        }
    }
    return bad ? tg__error((tg_status)bad, "%s", msg) : TG_OK;
}
