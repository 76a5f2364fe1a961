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
 * none) and returns their number. Clears earlier marks first. A group is
 * either a run of elementwise nodes (possibly ended by a reduction that
 * keeps axis 0), or a matmul and its epilogue: an add
 * of a bias and/or a relu right after it (tg_gnode.epilogue on the matmul:
 * how many nodes follow it in the group). */
int tg__graph_fuse(tg_graph *g);
/* The last node of the group that node k starts. */
int tg__fusion_group_end(const tg_graph *g, int k);
/* Runs nodes k..e (one group) block by block. attrs: each node's attributes
 * for this binding; escapes: per value, read after the group or returned;
 * val: the program's values (read for the group's inputs; the escaping
 * outputs are stored there, new references); shape: the group's
 * elementwise output shape for this binding; tail_shape: the output shape
 * of the reduction that ends the group (tg__fusion_has_tail), else NULL.
 * Every input must be a CPU tensor. */
tg_status tg__fusion_run(const tg_graph *g, int k, int e, const tg_attrs *attrs, const bool *escapes,
                         tg_tensor **val, const int64_t *shape, const int64_t *tail_shape);
/* The flat path of tg__fusion_run (autodiff/fusion_flat.c): runs nodes
 * k..e (no reduction tail) as their ops' raw loops over small blocks when
 * every op hands out its loop for these operands and every input from
 * outside the group is a contiguous array of the group's shape or one
 * element. full: per node, its whole output (escaping values) or NULL.
 * Returns 1 when it ran the group (*st: TG_OK or an error), 0 when the
 * group does not qualify (nothing done). */
int tg__fusion_run_flat(const tg_graph *g, int k, int e, const tg_attrs *attrs, tg_tensor *const *val,
                        tg_tensor *const *full, const int64_t *shape, tg_status *st);
/* Whether the group ending at node e ends with a reduction (a sum, prod,
 * max or min over axes other than 0 of the chain's last value). */
bool tg__fusion_has_tail(const tg_graph *g, int e);
/* Runs nodes k..e, a matmul's epilogue (add of a bias, relu), in place
 * over y, the matmul's product (a CPU tensor the caller owns, contiguous),
 * block by block with each node's own kernel: bitwise the unfused chain.
 * val: the program's values (the bias is read there). */
tg_status tg__fusion_run_epilogue(const tg_graph *g, int k, int e, const tg_attrs *attrs, tg_tensor *const *val,
                                  tg_tensor *y);

/* Groups run block by block so far in the process (tests), and of those
 * the ones that took the flat path. */
long long tg__fusion_group_runs(void);
long long tg__fusion_flat_runs(void);
/* Matmul epilogues run fused so far, on the CPU or a device (tests). */
long long tg__fusion_epilogue_runs(void);
void tg__fusion_count_epilogue(void);

#endif
