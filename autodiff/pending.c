/* Entry points of the API contract whose modules are not built yet. Each
 * reports TG_ERR_UNSUPPORTED with the issue that builds it, so programs
 * written against the contract link and fail clearly at run time. */
#include "tensor/tensor_impl.h"
#include "tangent/autodiff.h"
#include "tangent/einsum.h"
#include "tangent/fft.h"
#include "tangent/linalg.h"

#define PENDING(what) tg__error(TG_ERR_UNSUPPORTED, "%s is not implemented yet (%s)", __func__, what)

tg_status tg_linalg_svd(tg_tensor *a, bool full, tg_tensor **u, tg_tensor **s, tg_tensor **vh) {
    (void)a; (void)full; (void)u; (void)s; (void)vh;
    return PENDING("linalg");
}
tg_status tg_linalg_eigh(tg_tensor *a, tg_tensor **w, tg_tensor **v) { (void)a; (void)w; (void)v; return PENDING("linalg"); }
