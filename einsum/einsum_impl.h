/* Private to einsum/: the parsed form of an einsum and the path optimizer.
 *
 * Labels are dense ids 0..n_labels-1. Ids below n_ell are the broadcast
 * ("...") axes, right-aligned across operands as in NumPy; the rest are the
 * user's labels in order of first appearance. */
#ifndef TG_EINSUM_IMPL_H
#define TG_EINSUM_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "tangent/einsum.h"

#define TG_EIN_MAX_OPS 64
#define TG_EIN_MAX_LABELS 128

typedef struct {
    int n;                                  /* operands */
    int rank[TG_EIN_MAX_OPS];               /* axes of operand i (its term, "..." expanded) */
    int lab[TG_EIN_MAX_OPS][TG_MAX_DIMS];   /* label id of each axis */
    int n_out;
    int out[TG_MAX_DIMS];
    int n_labels, n_ell;
    int64_t size[TG_EIN_MAX_LABELS];        /* broadcast size of each label (maybe symbolic) */
    bool int_labels;                        /* names are integers (tg_einsum_ints) */
    int name[TG_EIN_MAX_LABELS];            /* the user's label (char or int); -1 for "..." axes */
} tg_ein_spec;

/* A term as written: user labels (>= 0) and at most one ELL marker. */
#define TG_EIN_ELL (-1)
typedef struct {
    int n;
    int lab[TG_EIN_MAX_LABELS];
} tg_ein_term;

/* Parses "ij,jk->ik" into n input terms and the output term (*has_out false
 * for the implicit form). TG_ERR_ARG naming the problem. */
tg_status tg__ein_parse(const char *subscripts, int n, tg_ein_term *terms, tg_ein_term *out, bool *has_out);
/* Checks terms against operands and builds the spec (sizes, "..." axes,
 * implicit output). has_out false: NumPy's implicit output. */
tg_status tg__ein_build(int n, tg_tensor *const *ops, const tg_ein_term *terms, const tg_ein_term *out,
                        bool has_out, bool int_labels, tg_ein_spec *s);
/* "j", "7" or "..." for messages. */
const char *tg__ein_label_name(const tg_ein_spec *s, int id, char *buf, size_t n);

/* ---- path (path.c) ---- */
typedef enum { TG_EIN_AUTO, TG_EIN_OPTIMAL, TG_EIN_GREEDY } tg_ein_strategy;
/* Per operand after the preprocessing of contract.c: label sets as bitsets. */
typedef struct {
    int n;
    uint64_t set[TG_EIN_MAX_OPS][2];
    uint64_t out[2];
    double size[TG_EIN_MAX_LABELS];         /* sizes used for costs (symbolic: a guess) */
} tg_ein_sets;
/* Pairs in opt_einsum's convention (the two operands leave the list and the
 * result goes to its end): path[k][0] < path[k][1]. n - 1 steps. Returns the
 * optimized cost (FLOPs, opt_einsum's model). */
double tg__ein_path(const tg_ein_sets *in, tg_ein_strategy strat, int (*path)[2], double *largest);
/* Cost of one pairwise contraction and its result set. */
double tg__ein_pair_cost(const tg_ein_sets *in, const uint64_t *a, const uint64_t *b, const uint64_t *keep,
                         uint64_t *res);
/* The spec's label sets after diagonals/single sums; sizes guessed at 8 when symbolic. */
void tg__ein_sets_of(const tg_ein_spec *s, tg_ein_sets *out);
/* Contracts along a path (NULL: auto). */
tg_tensor *tg__ein_contract(const tg_ein_spec *s, tg_tensor *const *ops, const int (*path)[2]);

#endif
