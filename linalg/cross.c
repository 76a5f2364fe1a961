/* linalg_cross: torch.linalg.cross as a composite of select, mul, sub and
 * stack, so derivatives, tracing and compilation come from those ops. The
 * inputs broadcast against each other first; dim then indexes the
 * broadcast shape and must have size 3 there. */
#include "linalg/linalg_internal.h"

tg_tensor *tg_linalg_cross(tg_tensor *a, tg_tensor *b, int dim) {
    if (!a || !b) { tg__error(TG_ERR_ARG, "tg_linalg_cross: NULL operand"); return NULL; }
    int nd;
    int64_t shape[TG_MAX_DIMS];
    if (tg__broadcast_shapes("tg_linalg_cross", a->ndim, a->shape, b->ndim, b->shape, &nd, shape)) return NULL;
    if (nd == 0 || dim < -nd || dim >= nd) {
        tg__error(TG_ERR_ARG, "tg_linalg_cross: dim %d is out of range for %d-d inputs", dim, nd);
        return NULL;
    }
    if (dim < 0) dim += nd;
    if (shape[dim] != 3) {
        char s[160];
        tg__error(TG_ERR_SHAPE, "tg_linalg_cross: dim %d must have size 3, broadcast shape is %s", dim,
                  tg__fmt_shape(s, sizeof s, nd, shape));
        return NULL;
    }
    tg_scope_begin();
    tg_tensor *x = tg_broadcast_to(a, nd, shape), *y = tg_broadcast_to(b, nd, shape), *r = NULL;
    if (x && y) {
        tg_tensor *xi[3], *yi[3], *c[3];
        for (int i = 0; i < 3; i++) { xi[i] = tg_select(x, dim, i); yi[i] = tg_select(y, dim, i); }
        for (int i = 0; i < 3; i++) {   /* c_i = x_{i+1} y_{i+2} - x_{i+2} y_{i+1} */
            int j = (i + 1) % 3, k = (i + 2) % 3;
            c[i] = tg_sub(tg_mul(xi[j], yi[k]), tg_mul(xi[k], yi[j]));
        }
        r = tg_stack(3, c, dim);
    }
    tg_keep(r);
    tg_scope_end();
    return r;
}
