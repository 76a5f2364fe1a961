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

Test(core, views_share_storage_and_copies_do_not) {
    tg_scope_begin();
    tg_tensor *a = tg_arange(TG_F64, 0, 12, 1);
    tg_tensor *m = tg_reshape(a, 2, (int64_t[]){3, 4});
    cr_assert(tg_shares_memory(a, m), "reshape of a contiguous tensor is a view");
    cr_assert_eq(tg_data(m), tg_data(a));
    tg_tensor *t = tg_mT(m);
    cr_assert(tg_shares_memory(t, a) && !tg_is_contiguous(t));
    tg_tensor *r = tg_reshape(t, 1, (int64_t[]){12});    /* needs a copy */
    cr_assert(!tg_shares_memory(r, a));
    check_values_f64(r, 12, (double[]){0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, 0, "reshape of a transpose");
    tg_tensor *rev = tg_slice(a, 0, TG_NONE, TG_NONE, -3);
    cr_assert(tg_shares_memory(rev, a));
    cr_assert_eq(tg_strides(rev)[0], -3);
    check_values_f64(rev, 4, (double[]){11, 8, 5, 2}, 0, "negative step");
    cr_assert_eq(tg_contiguous(m), m, "contiguous of a contiguous tensor is itself");
    tg_tensor *c = tg_copy(m);
    cr_assert(!tg_shares_memory(c, m));
    tg_tensor *d = tg_diagonal(m, 1, 0, 1);
    check_values_f64(d, 3, (double[]){1, 6, 11}, 0, "diagonal offset 1");
    tg_tensor *z = tg_complex(tg_cast(a, TG_F64), tg_neg(a));
    tg_tensor *im = tg_imag(z);
    cr_assert(tg_shares_memory(im, z));
    /* writing through a view is seen by the base */
    check_status(tg_fill_(tg_select(m, 0, 1), -1.0), TG_OK, "fill a row");
    check_values_f64(tg_slice(a, 0, 4, 8, 1), 4, (double[]){-1, -1, -1, -1}, 0, "row written through view");
    tg_scope_end();
}

Test(core, dtypes_and_promotion) {
    cr_assert_eq(tg_promote_types(TG_F32, TG_I32), TG_F64);
    cr_assert_eq(tg_promote_types(TG_C64, TG_F64), TG_C128);
    cr_assert_eq(tg_promote_types(TG_BOOL, TG_I32), TG_I32);
    cr_assert_eq(tg_promote_types(TG_I32, TG_I64), TG_I64);
    cr_assert_eq(tg_promote_types(TG_F16, TG_F32), TG_F32);
    cr_assert_str_eq(tg_dtype_name(TG_C128), "c128");
    cr_assert_eq(tg_dtype_size(TG_C64), 8);
    tg_scope_begin();
    tg_tensor *f = tg_ones(TG_F32, 1, (int64_t[]){2}), *i = tg_ones(TG_I32, 1, (int64_t[]){2});
    cr_assert_eq(tg_dtype_of(tg_add_scalar(f, 2.5)), TG_F32, "weak float scalar keeps f32");
    cr_assert_eq(tg_dtype_of(tg_add_scalar(i, 2)), TG_I32, "weak int scalar keeps i32");
    cr_assert_eq(tg_dtype_of(tg_add_scalar(i, 2.5)), TG_F64, "int tensor, float scalar");
    cr_assert_eq(tg_dtype_of(tg_exp(i)), TG_F64, "float function of ints");
    cr_assert_eq(tg_dtype_of(tg_sum(i, 0, NULL, false)), TG_I64);
    cr_assert_eq(tg_dtype_of(tg_abs(tg_ones(TG_C64, 0, NULL))), TG_F32);
    tg_scope_end();
}

Test(core, items_and_version) {
    tg_scope_begin();
    cr_assert_float_eq(tg_item_f64(tg_scalar(TG_F32, 1.5)), 1.5, 0);
    cr_assert_eq(tg_item_i64(tg_full(TG_I64, 2, (int64_t[]){1, 1}, -7)), -7);
    double re, im;
    check_status(tg_item_c128(tg_scalar_complex(TG_C64, 1, -2), &re, &im), TG_OK, "item_c128");
    cr_assert(re == 1 && im == -2);
    cr_assert(tg_version()[0] != 0);
    tg_scope_end();
}
