/* sort, argsort, topk, cumsum, cumprod: oracle cases from
 * oracles/data/indexing.json plus optional outputs, errors and threading. */
#include "indexing_cases.h"

TestSuite(sort, .init = tg_clear_error);

Test(sort, sort_oracle) { check_cases("sort"); }
Test(sort, argsort_oracle) { check_cases("argsort"); }
Test(sort, topk_oracle) { check_cases("topk"); }
Test(sort, cumsum_oracle) { check_cases("cumsum"); }
Test(sort, cumprod_oracle) { check_cases("cumprod"); }

Test(sort, optional_outputs) {
    tg_scope_begin();
    double d[5] = {3, 1, 2, 1, 0};
    int64_t n = 5;
    tg_tensor *x = tg_from_data(TG_F64, 1, &n, d), *v = NULL, *i = NULL;
    check_status(tg_sort(x, 0, false, &v, NULL), TG_OK, "values only");
    check_values_f64(v, 5, (double[]){0, 1, 1, 2, 3}, 0, "values");
    check_status(tg_sort(x, 0, true, NULL, &i), TG_OK, "indices only");
    check_values_f64(i, 5, (double[]){0, 2, 1, 3, 4}, 0, "descending stable indices");
    check_status(tg_sort(x, 0, false, NULL, NULL), TG_OK, "neither");
    check_status(tg_topk(x, 2, 0, false, NULL, &i), TG_OK, "topk indices");
    check_values_f64(i, 2, (double[]){4, 1}, 0, "topk smallest ties");
    tg_scope_end();
}

Test(sort, null_and_bad_arguments) {
    tg_tensor *v = (tg_tensor *)1, *i = (tg_tensor *)1;
    check_status(tg_sort(NULL, 0, false, &v, &i), TG_ERR_ARG, "sort NULL");
    cr_assert(v == NULL && i == NULL);
    check_error(tg_argsort(NULL, 0, false), TG_ERR_ARG, "argsort NULL");
    check_status(tg_topk(NULL, 1, 0, true, &v, &i), TG_ERR_ARG, "topk NULL");
    check_error(tg_cumsum(NULL, 0), TG_ERR_ARG, "cumsum NULL");
    check_error(tg_cumprod(NULL, 0), TG_ERR_ARG, "cumprod NULL");
    tg_scope_begin();
    tg_tensor *h = tg_cast(tg_ones(TG_F32, 1, (int64_t[]){3}), TG_F16);
    check_error(tg_cumsum(h, 0), TG_ERR_DTYPE, "cumsum f16");
    check_status(tg_sort(h, 0, false, &v, NULL), TG_ERR_DTYPE, "sort f16");
    tg_tensor *x = tg_ones(TG_F32, 1, (int64_t[]){3});
    tg_status st = tg_topk(x, 4, 0, true, &v, &i);
    cr_assert(strstr(tg_last_error(), "tg_topk") && strstr(tg_last_error(), "k = 4"), "%s", tg_last_error());
    check_status(st, TG_ERR_ARG, "topk k > n");
    tg_scope_end();
}

Test(sort, zero_d) {
    tg_scope_begin();
    tg_tensor *x = tg_scalar(TG_I32, 4);
    tg_tensor *c = tg_cumsum(x, -1);
    cr_assert_not_null(c, "%s", tg_last_error());
    cr_assert_eq(tg_ndim(c), 0);
    cr_assert_eq(tg_dtype_of(c), TG_I64);
    cr_assert_eq(tg_item_i64(c), 4);
    tg_tensor *i = tg_argsort(x, 0, false);
    cr_assert_eq(tg_item_i64(i), 0);
    check_error(tg_cumsum(x, 1), TG_ERR_ARG, "0-d axis 1");
    tg_scope_end();
}

/* Sorted, a permutation, stable, and the same on 1 and 2 threads. */
Test(sort, large_thread_count_independent) {
    tg_scope_begin();
    tg_manual_seed(9);
    int64_t sh[2] = {64, 1000};
    tg_tensor *x = tg_randint(TG_I32, 2, sh, 0, 50);
    tg_tensor *v1, *i1, *v2, *i2, *t1, *t2;
    tg_set_num_threads(1);
    check_status(tg_sort(x, 1, true, &v1, &i1), TG_OK, "sort 1 thread");
    check_status(tg_topk(x, 10, 1, false, &t1, NULL), TG_OK, "topk 1 thread");
    tg_tensor *c1 = tg_cumsum(tg_cast(x, TG_F32), 1);
    tg_set_num_threads(2);
    check_status(tg_sort(x, 1, true, &v2, &i2), TG_OK, "sort 2 threads");
    check_status(tg_topk(x, 10, 1, false, &t2, NULL), TG_OK, "topk 2 threads");
    tg_tensor *c2 = tg_cumsum(tg_cast(x, TG_F32), 1);
    tg_set_num_threads(0);
    check_close(v1, v2, 0, 0, "values");
    check_close(i1, i2, 0, 0, "indices");
    check_close(t1, t2, 0, 0, "topk");
    check_close(c1, c2, 0, 0, "cumsum");
    check_close(tg_gather(x, 1, i1), v1, 0, 0, "values == x[indices]");
    const int32_t *vd = tg_data(v1);
    const int64_t *id = tg_data(i1);
    for (int64_t r = 0; r < 64; r++)
        for (int64_t c = 1; c < 1000; c++) {
            int64_t k = r * 1000 + c;
            cr_assert(vd[k - 1] >= vd[k], "not descending at %lld", (long long)k);
            if (vd[k - 1] == vd[k]) cr_assert(id[k - 1] < id[k], "unstable at %lld", (long long)k);
        }
    /* every index once per row */
    tg_tensor *cnt = tg_sum(tg_one_hot(i1, 1000), 1, (int[]){1}, false);
    check_close(cnt, tg_ones(TG_I64, 2, sh), 0, 0, "permutation");
    tg_scope_end();
}
