/* Einsum with NumPy's grammar. */
#ifndef TANGENT_EINSUM_H
#define TANGENT_EINSUM_H
#include "tangent/tensor.h"
#ifdef __cplusplus
extern "C" {
#endif
/* NumPy's einsum: "ij,jk->ik", implicit output ("ij,jk": labels seen once,
 * sorted), "..." broadcasting, repeated labels (diagonals), size-1
 * broadcast. Labels a-z A-Z and, in UTF-8, any non-ASCII character (one
 * code point, one label). Contracts pairwise along the 'auto' path
 * (tg_einsum_path). Differentiable in every mode. */
tg_tensor *tg_einsum(const char *subscripts, int n, tg_tensor *const *operands);
/* The same with integer labels (>= 0): labels[i] has n_labels[i] entries,
 * one per axis of operands[i]; the output has n_out labels (n_out < 0:
 * implicit output, labels seen once in increasing order). */
tg_tensor *tg_einsum_ints(int n, tg_tensor *const *operands, const int *const *labels, const int *n_labels,
                          const int *out_labels, int n_out);
/* Contraction path like numpy.einsum_path: strategy "optimal" (dynamic
 * programming, up to 10 operands), "greedy", "random-greedy" or "auto"
 * (NULL: auto). *report
 * gets a malloc'd text (free it): the path as pairs, naive and optimized
 * FLOP counts (opt_einsum's model), largest intermediate. */
tg_status tg_einsum_path(const char *subscripts, int n, tg_tensor *const *operands, const char *strategy,
                         char **report);
/* Path options. strategy: as tg_einsum_path. memory_limit: the largest
 * intermediate a step may create, in elements (numpy.einsum_path's
 * memory_limit); 0: no limit; < 0: NumPy's default, the largest operand or
 * the output. path: a contraction path to use instead of searching one,
 * n - 1 pairs in opt_einsum's convention (the pair leaves the list, its
 * result goes to the end; either order within a pair); NULL: search. */
typedef struct tg_einsum_opts {
    const char *strategy;
    double memory_limit;
    const int (*path)[2];
} tg_einsum_opts;
/* tg_einsum / tg_einsum_ints with options (opts NULL: the defaults). */
tg_tensor *tg_einsum_opt(const char *subscripts, int n, tg_tensor *const *operands, const tg_einsum_opts *opts);
tg_tensor *tg_einsum_ints_opt(int n, tg_tensor *const *operands, const int *const *labels, const int *n_labels,
                              const int *out_labels, int n_out, const tg_einsum_opts *opts);
/* The path tg_einsum_opt would take (opts->path given: that path, checked
 * and costed): path gets n - 1 pairs (i < j), *flops the optimized cost in
 * opt_einsum's model (sum of the steps), *largest the largest intermediate
 * (elements), *report a malloc'd text as tg_einsum_path's. Any of the four
 * may be NULL. */
tg_status tg_einsum_path_opt(const char *subscripts, int n, tg_tensor *const *operands, const tg_einsum_opts *opts,
                             int (*path)[2], double *flops, double *largest, char **report);
tg_status tg_einsum_ints_path(int n, tg_tensor *const *operands, const int *const *labels, const int *n_labels,
                              const int *out_labels, int n_out, const tg_einsum_opts *opts, int (*path)[2],
                              double *flops, double *largest);
#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_EINSUM_H
#include "tangent/location.h"
#endif
