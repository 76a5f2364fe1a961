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
/* torch.linalg.svd: A (..., m, n) = U diag(S) Vh, S real and descending.
 * full_matrices: U (..., m, m), Vh (..., n, n); else k = min(m, n) columns.
 * u and vh may both be NULL (singular values only, torch.linalg.svdvals). */
tg_status  tg_linalg_svd(tg_tensor *a, bool full_matrices, tg_tensor **u, tg_tensor **s, tg_tensor **vh);
/* torch.linalg.svdvals. */
tg_tensor *tg_linalg_svdvals(tg_tensor *a);
/* torch.linalg.eigh from the lower triangle: w real ascending, columns of v
 * orthonormal eigenvectors; v may be NULL (eigenvalues only). */
tg_status  tg_linalg_eigh(tg_tensor *a, tg_tensor **w, tg_tensor **v);
/* eigh reading the triangle named by upper (torch's UPLO). */
tg_status  tg_linalg_eigh_uplo(tg_tensor *a, bool upper, tg_tensor **w, tg_tensor **v);
/* torch.linalg.eigvalsh. */
tg_tensor *tg_linalg_eigvalsh(tg_tensor *a, bool upper);
/* torch.linalg.eig for general square A: w and v complex (c64 for f32/c64
 * input, c128 otherwise), eigenvectors of unit norm; v may be NULL. */
tg_status  tg_linalg_eig(tg_tensor *a, tg_tensor **w, tg_tensor **v);
/* torch.linalg.eigvals. */
tg_tensor *tg_linalg_eigvals(tg_tensor *a);
/* torch.linalg.qr: A (..., m, n) = Q R. complete: Q (..., m, m), R (..., m, n);
 * else reduced with k = min(m, n): Q (..., m, k), R (..., k, n). */
tg_status  tg_linalg_qr(tg_tensor *a, bool complete, tg_tensor **q, tg_tensor **r);
/* torch.linalg.lu_factor: LU packed (..., m, n) and pivots (..., min(m, n))
 * as 1-based int32 row swaps (LAPACK getrf). */
tg_status  tg_linalg_lu_factor(tg_tensor *a, tg_tensor **lu, tg_tensor **pivots);
/* torch.linalg.lu: A = P L U with P a permutation matrix, L unit lower
 * (..., m, k), U upper (..., k, n); p may be NULL. */
tg_status  tg_linalg_lu(tg_tensor *a, tg_tensor **p, tg_tensor **l, tg_tensor **u);
/* torch.linalg.lu_solve from lu_factor's output: solves A X = B, or
 * A^H X = B when adjoint. */
tg_tensor *tg_linalg_lu_solve(tg_tensor *lu, tg_tensor *pivots, tg_tensor *b, bool adjoint);
/* torch.linalg.lstsq: min ||A X - B||, A (..., m, n), B (..., m, k) or
 * (..., m). rcond < 0 means eps * max(m, n). Any of residuals (squared,
 * (..., k), empty unless m > n and rank n), rank (i64) and sv may be NULL. */
tg_status  tg_linalg_lstsq(tg_tensor *a, tg_tensor *b, double rcond, tg_tensor **x, tg_tensor **residuals,
                           tg_tensor **rank, tg_tensor **sv);
/* torch.linalg.pinv: singular values below rtol * max(S) are dropped
 * (rtol < 0: eps * max(m, n)); hermitian uses eigh. */
tg_tensor *tg_linalg_pinv(tg_tensor *a, double rtol, bool hermitian);
/* torch.linalg.matrix_norm over the last two axes; ord is one of "fro",
 * "nuc", "1", "-1", "2", "-2", "inf", "-inf" (NULL: "fro"). Real result. */
tg_tensor *tg_linalg_matrix_norm(tg_tensor *a, const char *ord, bool keepdim);
/* torch.linalg.cond: ||A|| ||A^-1|| for ord as matrix_norm (NULL: "2",
 * computed from singular values, defined for non-square A). */
tg_tensor *tg_linalg_cond(tg_tensor *a, const char *ord);
/* torch.linalg.matrix_exp of square A (scaling and squaring, Pade 13). */
tg_tensor *tg_linalg_matrix_exp(tg_tensor *a);
#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_LINALG_H
#include "tangent/location.h"
#endif
