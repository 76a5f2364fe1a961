/* Einsum with NumPy's grammar. */
#ifndef TANGENT_EINSUM_H
#define TANGENT_EINSUM_H
#include "tangent/tensor.h"
#ifdef __cplusplus
extern "C" {
#endif
tg_tensor *tg_einsum(const char *subscripts, int n, tg_tensor *const *operands);
#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_EINSUM_H
#include "tangent/location.h"
#endif
