/* Elementwise fusion of compiled programs (autodiff/fusion.c). */
#ifndef TG_FUSION_H
#define TG_FUSION_H

#include "autodiff/graph.h"

/* Longest group: longer runs split into several groups. */
#define TG_FUSION_MAX_NODES 64
/* Elements per block: 16 Ki elements (64 KiB of f32) per value keeps a
 * few live values of a block in L2. A group of at most one block gains
 * nothing (its values stay in cache anyway) and runs op by op, without the
 * block machinery's cost (a 1-element add node: 62 against 115 ns). */
#define TG_FUSION_BLOCK_ELEMS (1 << 14)

/* Marks the groups in g (tg_gnode.fusion_group: 1, 2, ...; 0 for nodes in
 * none) and returns their number. Clears earlier marks first. */
int tg__graph_fuse(tg_graph *g);
/* The last node of the group that node k starts. */
int tg__fusion_group_end(const tg_graph *g, int k);
/* Runs nodes k..e (one group) block by block. attrs: each node's attributes
 * for this binding; escapes: per value, read after the group or returned;
 * val: the program's values (read for the group's inputs; the escaping
 * outputs are stored there, new references); shape: the group's output
 * shape for this binding. Every input must be a CPU tensor. */
tg_status tg__fusion_run(const tg_graph *g, int k, int e, const tg_attrs *attrs, const bool *escapes,
                         tg_tensor **val, const int64_t *shape);

/* Groups run block by block so far in the process (tests). */
long long tg__fusion_group_runs(void);

#endif
