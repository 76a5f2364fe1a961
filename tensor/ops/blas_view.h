/* How BLAS reads one strided matrix, shared by matmul (which calls BLAS on
 * views where it can) and einsum's layout choice (which must predict when
 * a view is enough and a copy is not needed). */
#ifndef TG_OPS_BLAS_VIEW_H
#define TG_OPS_BLAS_VIEW_H

#include <stdbool.h>
#include <stdint.h>

/* How BLAS reads a rows x cols matrix of element strides rs, cs: ok, and
 * whether as a transposed matrix with leading dimension ld. */
typedef struct { bool ok, trans; int64_t ld; } tg__blas_view;

static inline tg__blas_view tg__blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
    if (rows == 1 && cols == 1) return (tg__blas_view){true, false, 1};
    if (rows == 1) {                     /* a row: the row stride is free */
        if (cs == 1) return (tg__blas_view){true, false, cols};
        if (cs > 1) return (tg__blas_view){true, true, cs};
        return (tg__blas_view){false, false, 0};
    }
    if (cols == 1) {                     /* a column: the column stride is free */
        if (rs >= 1) return (tg__blas_view){true, false, rs};
        return (tg__blas_view){false, false, 0};
    }
    if (cs == 1 && rs >= cols) return (tg__blas_view){true, false, rs};
    if (rs == 1 && cs >= rows) return (tg__blas_view){true, true, cs};
    return (tg__blas_view){false, false, 0};
}

#endif
