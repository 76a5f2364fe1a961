/* The flat path of the CPU fusion executor (autodiff/fusion.c): a group of
 * elementwise nodes run as raw loops over blocks of a few KiB.
 *
 * The block path runs each node's kernel on tensor views of each block: a
 * view, an output allocation, shape inference and a dispatch per node and
 * block, about 0.2 us, which blocks of 64 KiB pay for but which also put a
 * 20-node chain's traffic in L2 rather than L1 (each op reads and writes
 * its block there: 34 ms for 20 ops on 2^24 f32, one thread). When every
 * node's op hands out the loop its kernel would run (tg_op_def.cpu_loop:
 * unary and binary ops, where, cast), every array it reads is in the dtype
 * that loop reads (a single element of another, a weak scalar, is
 * converted once, as the kernel converts it) and every input from outside
 * the group is a contiguous array of the group's shape or a single
 * element, the group runs here instead: the nodes' loops called directly on
 * blocks of FLAT_BLOCK_BYTES, the values the group keeps to itself in a few
 * scratch blocks reused as soon as their last reader has run. The loops
 * are the kernels' own, so results equal the unfused program's bitwise. */
#include "autodiff/fusion.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tensor/ops/elementwise.h"

/* Per value and block: the live values of a block stay in L1 (1 Ki f32;
 * 4, 8 and 16 KiB gave 19.5, 22 and 21 ms for bench_fusion's chain). */
#define FLAT_BLOCK_BYTES 4096
/* Below this many elements a group runs on one thread (as fusion.c). */
#define FLAT_PAR_MIN_ELEMS (1 << 17)

enum { FROM_SLOT, FROM_ARRAY, FROM_ELEMENT };

typedef struct {
    tg_loop_fn fn;
    int n_in;
    int out_slot;                       /* scratch slot, or -1: out_base */
    char *out_base;                     /* the escaping value's whole output */
    int64_t out_es;
    int kind[TG_MAX_OP_INPUTS];
    int slot[TG_MAX_OP_INPUTS];
    char *base[TG_MAX_OP_INPUTS];       /* FROM_ARRAY: element 0; FROM_ELEMENT: the element */
    int64_t es[TG_MAX_OP_INPUTS];
} flat_node;

/* Whether x, read by the group, can be read as raw memory: a CPU array of
 * the group's shape in row-major order, or one element. */
static int input_kind(const tg_tensor *x, int nd, const int64_t *shape, int64_t total) {
    if (tg__is_tracer(x)) return -1;
    if (tg__numel(x->ndim, x->shape) == 1) return FROM_ELEMENT;
    if (x->ndim != nd || tg__numel(nd, x->shape) != total || !tg__is_contiguous(x)) return -1;
    for (int d = 0; d < nd; d++)
        if (x->shape[d] != shape[d]) return -1;
    return FROM_ARRAY;
}

/* Plans nodes k..e into fl; false when the group does not qualify. A
 * single-element input of another dtype than its loop reads (a weak scalar)
 * is converted once, as the kernel would convert it: casts[] holds those
 * copies (*n_casts), for the caller to release, whatever the result. */
static bool plan(const tg_graph *g, int k, int e, const tg_attrs *attrs, tg_tensor *const *val, tg_tensor *const *full,
                 const int64_t *shape, int64_t total, flat_node *fl, int *n_slots, int64_t *max_es, tg_tensor **casts,
                 int *n_casts) {
    int n = e - k + 1, nd = g->values[g->nodes[k].out[0]].ndim;
    int last_use[TG_FUSION_MAX_NODES + 1], slot_of[TG_FUSION_MAX_NODES + 1];
    for (int j = 0; j < n; j++) last_use[j] = j;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < g->nodes[k + j].n_in; i++) {
            int p = g->values[g->nodes[k + j].in[i]].producer;
            if (p >= k && p <= e) last_use[p - k] = j;
        }
    bool slot_free[TG_FUSION_MAX_NODES + 1];
    *n_slots = 0;
    *max_es = 1;
    for (int j = 0; j < n; j++) {
        const tg_gnode *node = &g->nodes[k + j];
        flat_node *f = &fl[j];
        if (!node->def->cpu_loop || node->n_in > TG_MAX_OP_INPUTS || node->n_out != 1) return false;
        tg_meta metas[TG_MAX_OP_INPUTS];
        tg_tensor *outside[TG_MAX_OP_INPUTS];
        f->n_in = node->n_in;
        for (int i = 0; i < node->n_in; i++) {
            int v = node->in[i], p = g->values[v].producer;
            bool inside = p >= k && p <= e;
            outside[i] = inside ? NULL : val[v];
            if (!inside && !outside[i]) return false;
            if (!inside) {
                if ((f->kind[i] = input_kind(outside[i], nd, shape, total)) < 0) return false;
                tg__metas_of(1, &outside[i], &metas[i]);
            } else {                                /* made by the group */
                metas[i] = (tg_meta){.dtype = g->values[v].dtype, .ndim = nd};
                for (int d = 0; d < nd; d++) metas[i].shape[d] = shape[d];
                f->kind[i] = full[p - k] ? FROM_ARRAY : FROM_SLOT;
                if (!full[p - k]) f->slot[i] = slot_of[p - k];
                else f->base[i] = tg__ptr(full[p - k]);
            }
        }
        tg_dtype want[TG_MAX_OP_INPUTS];
        tg_op_call call = {node->def, &attrs[j], node->n_in, metas, NULL};
        if (!node->def->cpu_loop(&call, &f->fn, want)) return false;
        for (int i = 0; i < node->n_in; i++) {
            f->es[i] = tg__esize(want[i]);
            if (!outside[i] || f->kind[i] == FROM_ARRAY) {
                if (metas[i].dtype != want[i]) return false;    /* the kernel would convert a whole array */
                if (outside[i]) f->base[i] = tg__ptr(outside[i]);
                continue;
            }
            tg_tensor *x = outside[i];                          /* one element */
            if (x->dtype != want[i]) {
                tg__stashed_error older;        /* a failed cast only means "not flat" */
                tg__error_stash(&older);
                if (!(x = tg__cast_raw(x, want[i]))) tg_clear_error();
                tg__error_unstash(&older);
                if (!x) return false;
                casts[(*n_casts)++] = x;
            }
            f->base[i] = tg__ptr(x);
        }
        f->out_es = tg__esize(g->values[node->out[0]].dtype);
        if (f->out_es > *max_es) *max_es = f->out_es;
        if (full[j]) {
            f->out_slot = -1;
            f->out_base = tg__ptr(full[j]);
        } else {                                    /* the first free slot: inputs still hold theirs */
            int s = 0;
            while (s < *n_slots && !slot_free[s]) s++;
            if (s == *n_slots) (*n_slots)++;
            slot_free[s] = false;
            f->out_slot = slot_of[j] = s;
        }
        for (int i = 0; i < j; i++)
            if (last_use[i] == j && !full[i]) slot_free[slot_of[i]] = true;
    }
    return true;
}

static atomic_llong flat_runs;
long long tg__fusion_flat_runs(void) { return atomic_load(&flat_runs); }

int tg__fusion_run_flat(const tg_graph *g, int k, int e, const tg_attrs *attrs, tg_tensor *const *val,
                        tg_tensor *const *full, const int64_t *shape, tg_status *st) {
    int n = e - k + 1, nd = g->values[g->nodes[k].out[0]].ndim;
    if (n > TG_FUSION_MAX_NODES) return 0;
    int64_t total = tg__numel(nd, shape);
    flat_node fl[TG_FUSION_MAX_NODES + 1];
    tg_tensor *casts[TG_FUSION_MAX_NODES * TG_MAX_OP_INPUTS];
    int n_slots, n_casts = 0;
    int64_t max_es;
    bool ok = total > 0 && plan(g, k, e, attrs, val, full, shape, total, fl, &n_slots, &max_es, casts, &n_casts);
    if (!ok) {
        for (int i = 0; i < n_casts; i++) tg_release(casts[i]);
        return 0;
    }
    atomic_fetch_add(&flat_runs, 1);
    int64_t block = FLAT_BLOCK_BYTES / max_es, blocks = (total + block - 1) / block;
    int nth = total >= FLAT_PAR_MIN_ELEMS ? tg__num_threads() : 1;
    if (nth > blocks) nth = (int)blocks;
    size_t slot_bytes = (size_t)FLAT_BLOCK_BYTES;
    int failed = 0;
#pragma omp parallel num_threads(nth) if (nth > 1)
    {
        char *scratch = n_slots ? aligned_alloc(64, (size_t)n_slots * slot_bytes) : NULL;
        if (n_slots && !scratch) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int64_t b = 0; b < blocks; b++) {
            if (!scratch && n_slots) continue;
            int64_t off = b * block, len = total - off < block ? total - off : block;
            for (int j = 0; j < n; j++) {
                const flat_node *f = &fl[j];
                char *ptrs[TG_MAX_OP_INPUTS + 1];
                int64_t steps[TG_MAX_OP_INPUTS + 1];
                ptrs[0] = f->out_slot >= 0 ? scratch + (size_t)f->out_slot * slot_bytes : f->out_base + off * f->out_es;
                steps[0] = f->out_es;
                for (int i = 0; i < f->n_in; i++) {
                    switch (f->kind[i]) {
                    case FROM_SLOT: ptrs[i + 1] = scratch + (size_t)f->slot[i] * slot_bytes; break;
                    case FROM_ARRAY: ptrs[i + 1] = f->base[i] + off * f->es[i]; break;
                    default: ptrs[i + 1] = f->base[i]; break;
                    }
                    steps[i + 1] = f->kind[i] == FROM_ELEMENT ? 0 : f->es[i];
                }
                f->fn(len, ptrs, steps, NULL);
            }
        }
        free(scratch);
    }
    for (int i = 0; i < n_casts; i++) tg_release(casts[i]);
    *st = failed ? tg__error(TG_ERR_MEMORY, "compiled program: out of memory for a fused group's blocks") : TG_OK;
    return 1;
}
