/* gather, index_select, scatter_add, one_hot: oracle cases from
 * oracles/data/indexing.json plus error, aliasing and threading checks. */
#include "indexing_cases.h"

TestSuite(indexing, .init = tg_clear_error);

Test(indexing, gather_oracle) { check_cases("gather"); }
Test(indexing, index_select_oracle) { check_cases("index_select"); }
Test(indexing, scatter_add_oracle) { check_cases("scatter_add"); }
Test(indexing, one_hot_oracle) { check_cases("one_hot"); }

Test(indexing, null_inputs) {
    tg_scope_begin();
    int64_t sh[2] = {2, 2};
    tg_tensor *x = tg_zeros(TG_F32, 2, sh), *ix = tg_zeros(TG_I64, 2, sh);
    check_error(tg_gather(NULL, 0, ix), TG_ERR_ARG, "gather x NULL");
    check_error(tg_gather(x, 0, NULL), TG_ERR_ARG, "gather index NULL");
    check_error(tg_index_select(x, 0, NULL), TG_ERR_ARG, "index_select index NULL");
    check_error(tg_scatter_add(x, 0, ix, NULL), TG_ERR_ARG, "scatter_add src NULL");
    check_error(tg_one_hot(NULL, 3), TG_ERR_ARG, "one_hot NULL");
    check_error(tg_one_hot(ix, -1), TG_ERR_ARG, "one_hot negative classes");
    tg_scope_end();
}

Test(indexing, out_of_range_message_names_op_axis_value) {
    tg_scope_begin();
    int64_t sh[2] = {2, 3}, ish[2] = {1, 2};
    int64_t bad[2] = {0, 7};
    tg_tensor *x = tg_zeros(TG_F64, 2, sh), *ix = tg_from_data(TG_I64, 2, ish, bad);
    cr_assert_null(tg_gather(x, -1, ix));
    const char *m = tg_last_error();
    cr_assert(strstr(m, "tg_gather") && strstr(m, "axis 1") && strstr(m, "index 7") && strstr(m, "(2, 3)"), "%s", m);
    tg_clear_error();
    int64_t one = 1;
    cr_assert_null(tg_index_select(x, 0, tg_from_data(TG_I64, 1, &one, bad + 1)));
    m = tg_last_error();
    cr_assert(strstr(m, "tg_index_select") && strstr(m, "index 7") && strstr(m, "axis 0"), "%s", m);
    tg_clear_error();
    tg_scope_end();
}

Test(indexing, storage_dtypes) {
    tg_scope_begin();
    int64_t sh[2] = {2, 2};
    tg_tensor *h = tg_cast(tg_ones(TG_F32, 2, sh), TG_F16), *ix = tg_zeros(TG_I64, 2, sh);
    tg_tensor *g = tg_gather(h, 0, ix);     /* pure data movement works for f16 */
    cr_assert_not_null(g, "%s", tg_last_error());
    cr_assert_eq(tg_dtype_of(g), TG_F16);
    cr_assert_float_eq(tg_item_f64(tg_sum(tg_cast(g, TG_F32), 0, NULL, false)), 4.0, 1e-6);
    check_error(tg_scatter_add(h, 0, ix, h), TG_ERR_DTYPE, "scatter_add f16");
    tg_scope_end();
}

/* <gather(x, idx), y> == <x, scatter_add(0, idx, y)>: the VJP pairing. */
Test(indexing, gather_scatter_adjoint) {
    tg_scope_begin();
    tg_manual_seed(3);
    int64_t xs[3] = {4, 5, 6}, is[3] = {3, 7, 6};
    tg_tensor *x = tg_randn(TG_F64, 3, xs), *ix = tg_randint(TG_I64, 3, is, -5, 5), *y = tg_randn(TG_F64, 3, is);
    double lhs = tg_item_f64(tg_sum(tg_mul(tg_gather(x, 1, ix), y), 0, NULL, false));
    double rhs = tg_item_f64(tg_sum(tg_mul(x, tg_scatter_add(tg_zeros_like(x), 1, ix, y)), 0, NULL, false));
    cr_assert_float_eq(lhs, rhs, 1e-10);
    tg_scope_end();
}

/* Above the parallel grain: same result on 1 and 2 threads, and equal to a
 * plain loop. */
Test(indexing, large_thread_count_independent) {
    tg_scope_begin();
    tg_manual_seed(11);
    int64_t xs[2] = {300, 400}, is[2] = {300, 500};
    tg_tensor *x = tg_randn(TG_F32, 2, xs), *ix = tg_randint(TG_I32, 2, is, -400, 400);
    tg_tensor *src = tg_randn(TG_F32, 2, is);
    int64_t isel_n = 1000;
    tg_tensor *isel = tg_randint(TG_I64, 1, &isel_n, 0, 300);
    tg_set_num_threads(1);
    tg_tensor *g1 = tg_gather(x, 1, ix), *s1 = tg_scatter_add(x, 1, ix, src), *i1 = tg_index_select(x, 0, isel);
    tg_set_num_threads(2);
    tg_tensor *g2 = tg_gather(x, 1, ix), *s2 = tg_scatter_add(x, 1, ix, src), *i2 = tg_index_select(x, 0, isel);
    tg_set_num_threads(0);
    check_close(g1, g2, 0, 0, "gather threads");
    check_close(s1, s2, 0, 0, "scatter_add threads");
    check_close(i1, i2, 0, 0, "index_select threads");
    const float *xd = tg_data(x), *gd = tg_data(g1);
    const int32_t *id = tg_data(ix);
    for (int64_t r = 0; r < 300; r++)
        for (int64_t c = 0; c < 500; c++) {
            int64_t v = id[r * 500 + c];
            v = v < 0 ? v + 400 : v;
            cr_assert_eq(gd[r * 500 + c], xd[r * 400 + v]);
        }
    tg_scope_end();
}

Test(indexing, zero_d_gather) {
    tg_scope_begin();
    tg_tensor *x = tg_scalar(TG_F64, 2.5), *ix = tg_scalar(TG_I64, 0);
    tg_tensor *g = tg_gather(x, 0, ix);
    cr_assert_not_null(g, "%s", tg_last_error());
    cr_assert_eq(tg_ndim(g), 0);
    cr_assert_float_eq(tg_item_f64(g), 2.5, 0);
    tg_scope_end();
}
