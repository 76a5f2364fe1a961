/* concat, stack, split, pad, flip, tril, triu: oracle cases from
 * oracles/data/indexing.json plus views, errors and threading checks. */
#include "indexing_cases.h"

TestSuite(shaping, .init = tg_clear_error);

Test(shaping, concat_oracle) { check_cases("concat"); }
Test(shaping, stack_oracle) { check_cases("stack"); }
Test(shaping, split_oracle) { check_cases("split"); }
Test(shaping, pad_oracle) { check_cases("pad"); }
Test(shaping, flip_oracle) { check_cases("flip"); }
Test(shaping, tril_triu_oracle) { check_cases("tril", "triu"); }

Test(shaping, split_pieces_are_views) {
    tg_scope_begin();
    int64_t sh[2] = {3, 6}, sizes[3] = {1, 3, 2};
    tg_tensor *x = tg_arange(TG_F32, 0, 18, 1);
    x = tg_reshape(x, 2, sh);
    tg_tensor *p[3];
    check_status(tg_split(x, -1, 3, sizes, p), TG_OK, "split");
    for (int i = 0; i < 3; i++) cr_assert(tg_shares_memory(p[i], x), "piece %d is not a view", i);
    cr_assert_eq(tg_shape(p[1])[1], 3);
    cr_assert_float_eq(tg_item_f64(tg_select(tg_select(p[2], 0, 1), 0, 0)), 10.0, 0);
    /* writing through the input shows in the piece */
    check_status(tg_fill_(x, 7.0), TG_OK, "fill");
    cr_assert_float_eq(tg_item_f64(tg_sum(p[1], 0, NULL, false)), 63.0, 0);
    tg_scope_end();
}

Test(shaping, split_without_scope_caller_owns) {
    int64_t n = 4;
    tg_tensor *x = tg_zeros(TG_I64, 1, &n), *p[2];
    check_status(tg_split(x, 0, 2, NULL, p), TG_OK, "split");
    tg_release(x);
    cr_assert_eq(tg_numel(p[0]), 2);
    tg_release(p[0]);
    tg_release(p[1]);
}

Test(shaping, flip_is_negative_stride_view) {
    tg_scope_begin();
    tg_tensor *x = tg_arange(TG_I64, 0, 5, 1), *f = tg_flip(x, 0, NULL);
    cr_assert(tg_shares_memory(f, x));
    cr_assert_lt(tg_strides(f)[0], 0);
    cr_assert_eq(tg_item_i64(tg_select(f, 0, 0)), 4);
    tg_tensor *ff = tg_flip(f, 0, NULL);
    check_close(ff, x, 0, 0, "flip twice");
    tg_tensor *s = tg_flip(tg_scalar(TG_F32, 1.0f), 0, NULL);   /* 0-d: nothing to flip */
    cr_assert_not_null(s, "%s", tg_last_error());
    tg_scope_end();
}

Test(shaping, null_and_bad_arguments) {
    tg_scope_begin();
    int64_t sh[2] = {2, 2};
    tg_tensor *x = tg_zeros(TG_F32, 2, sh), *xs[2] = {x, NULL}, *p[2] = {x, x};
    check_error(tg_concat(2, xs, 0), TG_ERR_ARG, "concat NULL element");
    check_error(tg_concat(0, xs, 0), TG_ERR_ARG, "concat n = 0");
    check_error(tg_concat(1, NULL, 0), TG_ERR_ARG, "concat xs NULL");
    check_error(tg_stack(2, xs, 0), TG_ERR_ARG, "stack NULL element");
    check_error(tg_stack(0, xs, 0), TG_ERR_ARG, "stack n = 0");
    check_status(tg_split(NULL, 0, 2, NULL, p), TG_ERR_ARG, "split NULL");
    cr_assert(p[0] == NULL && p[1] == NULL);
    check_status(tg_split(x, 0, 2, NULL, NULL), TG_ERR_ARG, "split outs NULL");
    check_status(tg_split(x, 0, 0, NULL, p), TG_ERR_ARG, "split n_out 0");
    check_error(tg_pad(NULL, NULL, 0), TG_ERR_ARG, "pad NULL");
    check_error(tg_pad(x, NULL, 0), TG_ERR_ARG, "pad pads NULL");
    check_error(tg_flip(NULL, 0, NULL), TG_ERR_ARG, "flip NULL");
    check_error(tg_tril(NULL, 0), TG_ERR_ARG, "tril NULL");
    check_error(tg_triu(tg_scalar(TG_F32, 1), 0), TG_ERR_SHAPE, "triu 0-d");
    tg_scope_end();
}

Test(shaping, concat_shape_error_names_both_shapes) {
    tg_scope_begin();
    int64_t a[2] = {2, 3}, b[2] = {4, 5};
    tg_tensor *xs[2] = {tg_zeros(TG_F32, 2, a), tg_zeros(TG_F32, 2, b)};
    cr_assert_null(tg_concat(2, xs, 0));
    const char *m = tg_last_error();
    cr_assert(strstr(m, "tg_concat") && strstr(m, "(2, 3)") && strstr(m, "(4, 5)"), "%s", m);
    tg_clear_error();
    tg_scope_end();
}

/* More inputs than one op application takes (64): grouped. */
Test(shaping, concat_many_inputs) {
    tg_scope_begin();
    enum { N = 150 };
    tg_tensor *xs[N];
    for (int i = 0; i < N; i++) xs[i] = tg_full(i % 2 ? TG_I32 : TG_I64, 1, (int64_t[]){1}, i);
    tg_tensor *c = tg_concat(N, xs, 0);
    check_close(c, tg_arange(TG_I64, 0, N, 1), 0, 0, "concat 150");
    tg_tensor *s = tg_stack(N, xs, -1);
    cr_assert_not_null(s, "%s", tg_last_error());
    cr_assert_eq(tg_shape(s)[0], 1);
    cr_assert_eq(tg_shape(s)[1], N);
    tg_scope_end();
}

Test(shaping, stack_0d) {
    tg_scope_begin();
    tg_tensor *xs[3] = {tg_scalar(TG_F64, 1), tg_scalar(TG_F64, 2), tg_scalar(TG_F64, 3)};
    tg_tensor *s = tg_stack(3, xs, 0);
    check_values_f64(s, 3, (double[]){1, 2, 3}, 0, "stack 0-d");
    cr_assert_eq(tg_ndim(s), 1);
    tg_scope_end();
}

Test(shaping, large_thread_count_independent) {
    tg_scope_begin();
    tg_manual_seed(5);
    int64_t sh[3] = {4, 200, 300};
    tg_tensor *x = tg_randn(TG_F64, 3, sh);
    int64_t pads[6] = {1, 0, 2, 3, 0, 5};
    tg_set_num_threads(1);
    tg_tensor *l1 = tg_tril(x, 3), *u1 = tg_triu(x, -2), *p1 = tg_pad(x, pads, 1.5);
    tg_tensor *xs[2] = {x, x}, *c1 = tg_concat(2, xs, 1);
    tg_set_num_threads(2);
    tg_tensor *l2 = tg_tril(x, 3), *u2 = tg_triu(x, -2), *p2 = tg_pad(x, pads, 1.5), *c2 = tg_concat(2, xs, 1);
    tg_set_num_threads(0);
    check_close(l1, l2, 0, 0, "tril");
    check_close(u1, u2, 0, 0, "triu");
    check_close(p1, p2, 0, 0, "pad");
    check_close(c1, c2, 0, 0, "concat");
    /* tril(x, k) + triu(x, k + 1) == x */
    check_close(tg_add(l1, tg_triu(x, 4)), x, 0, 0, "tril + triu");
    tg_scope_end();
}
