/* Elementwise fusion of compiled programs (autodiff/fusion.c). */
#ifndef TG_FUSION_H
#define TG_FUSION_H

#include "autodiff/graph.h"

/* Longest group: longer runs split into several groups. */
#define TG_FUSION_MAX_NODES 64

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

#endif
