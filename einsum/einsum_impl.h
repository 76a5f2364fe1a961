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
#include "tangent/sizes.h"

/* Tensor networks (the shared instances) reach 415 operands and ~300
 * labels; intermediates may carry more labels than TG_MAX_DIMS (they are
 * stored with consecutive labels fused into one axis). */
#define TG_EIN_MAX_OPS 512
#define TG_EIN_MAX_LABELS 512
#define TG_EIN_W (TG_EIN_MAX_LABELS / 64)   /* bitset words */
#define TG_EIN_MAX_RANK 64                  /* labels of one intermediate */

typedef struct {
    int n;                                  /* operands */
    int rank[TG_EIN_MAX_OPS];               /* axes of operand i (its term, "..." expanded) */
    int lab[TG_EIN_MAX_OPS][TG_MAX_DIMS];   /* label id of each axis */
    int n_out;
    int out[TG_MAX_DIMS];
    int n_labels, n_ell;
    int64_t size[TG_EIN_MAX_LABELS];        /* broadcast size of each label (maybe symbolic) */
    bool int_labels;                        /* names are integers (tg_einsum_ints) */
    int name[TG_EIN_MAX_LABELS];            /* the user's label (code point or int); -1 for "..." axes */
} tg_ein_spec;

/* A term as written: user labels (>= 0) and at most one ELL marker. */
#define TG_EIN_ELL (-1)
typedef struct {
    int n;
    int lab[TG_EIN_MAX_LABELS];
} tg_ein_term;

/* Parses "ij,jk->ik" into n input terms and the output term (*has_out false
 * for the implicit form). Labels are a-z, A-Z and any non-ASCII code point
 * (UTF-8). TG_ERR_ARG naming the problem. */
tg_status tg__ein_parse(const char *subscripts, int n, tg_ein_term *terms, tg_ein_term *out, bool *has_out);
/* Checks terms against operands and builds the spec (sizes, "..." axes,
 * implicit output). has_out false: NumPy's implicit output. */
tg_status tg__ein_build(int n, tg_tensor *const *ops, const tg_ein_term *terms, const tg_ein_term *out,
                        bool has_out, bool int_labels, tg_ein_spec *s);
/* "j", "7", "é" or "..." for messages. */
const char *tg__ein_label_name(const tg_ein_spec *s, int id, char *buf, size_t n);

/* Both entry forms: checks the operands (1..TG_EIN_MAX_OPS, none NULL),
 * parses and builds the spec. */
tg_status tg__ein_spec_str(const char *subscripts, int n, tg_tensor *const *ops, tg_ein_spec *s);
tg_status tg__ein_spec_ints(int n, tg_tensor *const *ops, const int *const *labels, const int *n_labels,
                            const int *out_labels, int n_out, tg_ein_spec *s);

/* ---- path (path.c) ---- */
typedef enum { TG_EIN_AUTO, TG_EIN_OPTIMAL, TG_EIN_GREEDY, TG_EIN_RANDOM } tg_ein_strategy;
/* Per operand after the preprocessing of contract.c: label sets as bitsets
 * of nw words. */
typedef struct {
    int n, nw;
    uint64_t set[TG_EIN_MAX_OPS][TG_EIN_W];
    uint64_t out[TG_EIN_W];
    double size[TG_EIN_MAX_LABELS];         /* sizes used for costs (symbolic: a guess) */
} tg_ein_sets;
/* Pairs in opt_einsum's convention (the two operands leave the list and the
 * result goes to its end): path[k][0] < path[k][1]. n - 1 steps. Returns the
 * optimized cost (FLOPs, opt_einsum's model). limit > 0 caps intermediates
 * (elements; a step that cannot be kept under it takes the smallest result). */
double tg__ein_path(const tg_ein_sets *in, tg_ein_strategy strat, double limit, int (*path)[2], double *largest);
/* Cost (opt_einsum's model) and largest intermediate of a given path; false
 * when the path is malformed. */
bool tg__ein_path_cost(const tg_ein_sets *in, const int (*path)[2], double *flops, double *largest);
/* Cost of one pairwise contraction and its result set. */
double tg__ein_pair_cost(const tg_ein_sets *in, const uint64_t *a, const uint64_t *b, const uint64_t *keep,
                         uint64_t *res);
double tg__ein_set_size(const tg_ein_sets *in, const uint64_t *s);
/* The spec's label sets after diagonals/single sums; sizes guessed at 8 when symbolic. */
void tg__ein_sets_of(const tg_ein_spec *s, tg_ein_sets *out);
/* Contracts along a checked path (NULL: auto). */
tg_tensor *tg__ein_contract(const tg_ein_spec *s, tg_tensor *const *ops, const int (*path)[2]);
/* Checks a user path (n - 1 pairs of distinct in-range positions) and
 * normalises it to path[k][0] < path[k][1] in out. */
tg_status tg__ein_check_path(int n, const int (*path)[2], int (*out)[2]);
/* Parses a strategy name; TG_ERR_ARG for an unknown one. */
tg_status tg__ein_strategy(const char *name, tg_ein_strategy *st);
/* The path for s under opts (NULL: auto): sets filled, path gets n - 1
 * pairs (i < j), *flops its cost, *largest its largest intermediate
 * (path_report.c). */
tg_status tg__ein_plan(const tg_ein_spec *s, const tg_einsum_opts *opts, tg_ein_sets *sets, int (*path)[2],
                       double *flops, double *largest);

/* ---- execution (contract.c, layout.c) ---- */
/* An operand or intermediate: its labels in storage order. flat: t is
 * row-major contiguous and its axes are groups of consecutive labels
 * (intermediates may carry more labels than TG_MAX_DIMS); otherwise one
 * axis per label (prepared inputs, maybe strided views). */
typedef struct {
    tg_tensor *t;
    int nl;
    bool flat;
    int lab[TG_EIN_MAX_RANK];
} ein_op;
/* Where label l sits in lab[0..n), or -1. */
static inline int ein_index_of(const int *lab, int n, int l) {
    for (int k = 0; k < n; k++)
        if (lab[k] == l) return k;
    return -1;
}
/* Elements of a tensor with these labels (concrete sizes; saturating). */
static inline int64_t ein_labels_size(const tg_ein_spec *s, const int *lab, int n) {
    int64_t p = 1;
    for (int k = 0; k < n; k++) p = tg_size_mul(p, s->size[lab[k]]);
    return p;
}
/* The label orders of one contraction by batched GEMM: X read as
 * (bat, f1, con), Y as (bat, con, f2), the result (bat, f1, f2) row-major;
 * (X, Y) is (a, b), or (b, a) when swap. */
typedef struct {
    bool swap;
    int nbat, ncon, n1, n2;
    int bat[TG_EIN_MAX_RANK], con[TG_EIN_MAX_RANK], f1[TG_EIN_MAX_RANK], f2[TG_EIN_MAX_RANK];
} tg_ein_layout;
/* The layout of a (x) b copying the fewest elements (layout.c). On entry
 * *lay is the default: not swapped, bat and con in lead's order, f1 a's
 * free labels and f2 b's, each in its operand's order; it is replaced by
 * the cheapest layout found. partner, when known, is the operand the
 * result meets at its next step. */
void tg__ein_layout(const tg_ein_spec *s, const ein_op *a, const ein_op *b, const ein_op *lead, const ein_op *partner,
                    tg_ein_layout *lay);

#endif
