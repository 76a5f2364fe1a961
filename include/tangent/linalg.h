/* Linear algebra over LAPACK, batched over leading axes. */
#ifndef TANGENT_LINALG_H
#define TANGENT_LINALG_H
#include "tangent/tensor.h"
#ifdef __cplusplus
extern "C" {
#endif
/* torch.linalg.solve: A (..., n, n), B (..., n, k) or a vector (..., n);
 * batch axes broadcast. Bool/int inputs compute in f64 (NumPy). Singular A:
 * TG_ERR_NUMERIC naming the batch index. */
tg_tensor *tg_linalg_solve(tg_tensor *a, tg_tensor *b);
/* torch.linalg.solve_triangular: left: A X = B, else X A = B; only the
 * triangle named by upper is read; unitriangular: the diagonal is taken as 1. */
tg_tensor *tg_linalg_triangular_solve(tg_tensor *a, tg_tensor *b, bool upper, bool left, bool unitriangular);
tg_tensor *tg_linalg_inv(tg_tensor *a);
tg_tensor *tg_linalg_det(tg_tensor *a);
/* numpy.linalg.matrix_power: A^n for square A (..., m, m); n < 0 inverts A
 * (singular: TG_ERR_NUMERIC), n = 0 gives identities. Differentiable as a
 * composite of matmul and inv. Bool/int inputs compute in f64. */
tg_tensor *tg_linalg_matrix_power(tg_tensor *a, int64_t n);
/* torch.linalg.cross: a and b broadcast; dim (negative counts from the end)
 * indexes the broadcast shape and must have size 3 there. Result dtype as
 * tg_mul's. Differentiable as a composite of select, mul, sub and stack. */
tg_tensor *tg_linalg_cross(tg_tensor *a, tg_tensor *b, int dim);
/* torch.linalg.vector_norm over axes (as tg_sum: naxes 0 and axes NULL is
 * all axes). ord a nonzero number: (sum |x|^ord)^(1/ord); INFINITY: max |x|;
 * -INFINITY: min |x|; ord 0 or NaN is TG_ERR_ARG. Real result; bool/int inputs compute in f64. The gradient
 * where the norm is 0 is 0 (ord >= 1, as PyTorch). */
tg_tensor *tg_linalg_vector_norm(tg_tensor *x, double ord, int naxes, const int *axes, bool keepdim);
/* sign (dtype of a; |sign| = 1, or 0 for singular a) and log|det| (real). */
tg_status  tg_linalg_slogdet(tg_tensor *a, tg_tensor **sign, tg_tensor **logabsdet);
/* A = L L^H from the lower triangle of A; upper: returns U = L^H. Not
 * positive definite: TG_ERR_NUMERIC naming the batch index and the minor. */
tg_tensor *tg_linalg_cholesky(tg_tensor *a, bool upper);
tg_status  tg_linalg_svd(tg_tensor *a, bool full_matrices, tg_tensor **u, tg_tensor **s, tg_tensor **vh);
tg_status  tg_linalg_eigh(tg_tensor *a, tg_tensor **w, tg_tensor **v);   /* lower triangle; v may be NULL */
#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_LINALG_H
#include "tangent/location.h"
#endif
