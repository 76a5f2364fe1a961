/* Einsum with NumPy's grammar. */
#ifndef TANGENT_EINSUM_H
#define TANGENT_EINSUM_H
#include "tangent/tensor.h"
#ifdef __cplusplus
extern "C" {
#endif
/* NumPy's einsum: "ij,jk->ik", implicit output ("ij,jk": labels seen once,
 * sorted), "..." broadcasting, repeated labels (diagonals), size-1
 * broadcast. Labels a-z A-Z. Contracts pairwise along the 'auto' path
 * (tg_einsum_path). Differentiable in every mode. */
tg_tensor *tg_einsum(const char *subscripts, int n, tg_tensor *const *operands);
/* The same with integer labels (>= 0): labels[i] has n_labels[i] entries,
 * one per axis of operands[i]; the output has n_out labels (n_out < 0:
 * implicit output, labels seen once in increasing order). */
tg_tensor *tg_einsum_ints(int n, tg_tensor *const *operands, const int *const *labels, const int *n_labels,
                          const int *out_labels, int n_out);
/* Contraction path like numpy.einsum_path: strategy "optimal" (dynamic
 * programming, up to 8 operands), "greedy" or "auto" (NULL: auto). *report
 * gets a malloc'd text (free it): the path as pairs, naive and optimized
 * FLOP counts (opt_einsum's model), largest intermediate. */
tg_status tg_einsum_path(const char *subscripts, int n, tg_tensor *const *operands, const char *strategy,
                         char **report);
#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_EINSUM_H
#include "tangent/location.h"
#endif
