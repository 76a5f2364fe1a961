/* Linear algebra over LAPACK, batched over leading axes. */
#ifndef TANGENT_LINALG_H
#define TANGENT_LINALG_H
#include "tangent/tensor.h"
#ifdef __cplusplus
extern "C" {
#endif
tg_tensor *tg_linalg_solve(tg_tensor *a, tg_tensor *b);
tg_status  tg_linalg_svd(tg_tensor *a, bool full_matrices, tg_tensor **u, tg_tensor **s, tg_tensor **vh);
tg_status  tg_linalg_eigh(tg_tensor *a, tg_tensor **w, tg_tensor **v);   /* lower triangle; v may be NULL */
#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_LINALG_H
#include "tangent/location.h"
#endif
