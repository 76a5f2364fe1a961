/* Tiled copy of a permuted source (tensor/copy_tiled.c). */
#ifndef TG_COPY_TILED_H
#define TG_COPY_TILED_H

#include "tensor/tensor_impl.h"

/* dst = src (same dtype, src broadcast to dst's shape) in tiles when src's
 * unit-stride axis is not dst's inner one; false (nothing done) when the
 * layouts do not call for it. */
bool tg__copy_tiled(tg_tensor *dst, tg_tensor *src);

#endif
