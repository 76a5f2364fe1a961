/* Tensor core basics: creation, inspection, scopes, errors. */
#include "support/check.h"

#include <math.h>
#include <string.h>

TestSuite(core, .init = tg_clear_error);

Test(core, from_data_roundtrip) {
    int64_t shape[2] = {2, 3};
    double d[6] = {1, 2, 3, 4, 5, 6}, out[6] = {0};
    tg_tensor *t = tg_from_data(TG_F64, 2, shape, d);
    cr_assert_not_null(t);
    cr_assert_eq(tg_ndim(t), 2);
    cr_assert_eq(tg_shape(t)[1], 3);
    cr_assert(tg_is_contiguous(t));
    check_status(tg_copy_to(t, out, sizeof out), TG_OK, "copy_to");
    cr_assert(memcmp(d, out, sizeof d) == 0);
    tg_release(t);
}
