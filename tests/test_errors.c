/* Bad input on purpose: every case returns NULL or a status with a clear,
 * first-kept error, and never aborts. */
#include "support/check.h"

#include <math.h>
#include <string.h>

TestSuite(errors, .init = tg_clear_error);

Test(errors, message_names_op_shapes_dtypes_and_caller_line) {
    tg_scope_begin();
    tg_tensor *a = tg_zeros(TG_F32, 2, (int64_t[]){2, 3});
    tg_tensor *b = tg_zeros(TG_F64, 1, (int64_t[]){4});
    int line = __LINE__ + 1;
    tg_tensor *c = tg_add(a, b);
    cr_assert_null(c);
    cr_assert_eq(tg_last_error_code(), TG_ERR_SHAPE);
    const char *m = tg_last_error();
    cr_assert(strstr(m, "tg_add"), "%s", m);
    cr_assert(strstr(m, "(2, 3)") && strstr(m, "(4,)"), "%s", m);
    char where[64];
    snprintf(where, sizeof where, "test_errors.c:%d", line);
    cr_assert(strstr(m, where), "message lacks the caller's location %s: %s", where, m);
    tg_scope_end();
}

Test(errors, first_error_is_kept_and_null_propagates) {
    tg_scope_begin();
    tg_tensor *a = tg_zeros(TG_F32, 1, (int64_t[]){3});
    tg_tensor *bad = tg_sum(a, 1, (int[]){5}, false);          /* first error: axis */
    tg_tensor *chain = tg_exp(tg_mul(bad, a));                   /* NULL flows through */
    cr_assert_null(chain);
    cr_assert_eq(tg_last_error_code(), TG_ERR_ARG);
    cr_assert(strstr(tg_last_error(), "tg_sum"), "%s", tg_last_error());
    tg_tensor *ok = tg_add(a, a);                                /* success keeps the error */
    cr_assert_not_null(ok);
    cr_assert(strstr(tg_last_error(), "tg_sum"));
    tg_clear_error();
    cr_assert_eq(tg_last_error_code(), TG_OK);
    cr_assert_str_eq(tg_last_error(), "");
    tg_scope_end();
}

Test(errors, bad_shapes_and_sizes) {
    check_error(tg_zeros(TG_F32, TG_MAX_DIMS + 1, (int64_t[TG_MAX_DIMS + 1]){0}), TG_ERR_SHAPE, "rank over max");
    check_error(tg_zeros(TG_F32, -1, NULL), TG_ERR_SHAPE, "negative rank");
    check_error(tg_zeros(TG_F32, 2, (int64_t[]){3, -2}), TG_ERR_SHAPE, "negative size");
    check_error(tg_zeros(TG_F32, 3, (int64_t[]){INT64_MAX / 2, 4, 4}), TG_ERR_SHAPE, "overflowing size");
    check_error(tg_zeros(TG_F32, 2, NULL), TG_ERR_ARG, "NULL shape");
    check_error(tg_zeros((tg_dtype)42, 1, (int64_t[]){1}), TG_ERR_DTYPE, "invalid dtype");
    check_error(tg_from_data(TG_F32, 1, (int64_t[]){3}, NULL), TG_ERR_ARG, "NULL data");
}

/* Sizes whose byte count overflows size_t are refused as out of memory,
 * never allocated short and written past (ASan would see that). */
Test(errors, byte_counts_that_overflow) {
    tg_scope_begin();
    int64_t huge = (int64_t)1 << 61;
    check_error(tg_linspace(TG_F64, 0, 1, huge), TG_ERR_MEMORY, "linspace of 2^61 points");
    int64_t big = (int64_t)1 << 50;
    check_error(tg_contiguous(tg_expand(tg_scalar(TG_C128, 1), 1, &big)), TG_ERR_MEMORY,
                "a contiguous copy of 2^50 broadcast elements");
    check_error(tg_randperm(huge), TG_ERR_SHAPE, "randperm of 2^61");
    /* a broadcast view whose element count overflows int64 (a sum over it counted past INT64_MAX) */
    tg_tensor *x = tg_zeros(TG_F64, 2, (int64_t[]){3, 4});
    check_error(tg_expand(x, 3, (int64_t[]){huge, 3, 4}), TG_ERR_SHAPE, "expand to 2^61 x 3 x 4");
    /* values in the symbolic range outside a trace: named as such, not as a stray tracer */
    check_error(tg_slice(x, 0, 0, INT64_MAX, 1), TG_ERR_ARG, "slice to INT64_MAX");
    tg_slice(x, 0, 0, INT64_MAX, 1);
    cr_expect(strstr(tg_last_error(), "9223372036854775807 is out of range") && strstr(tg_last_error(), "2^62"),
              "message: %s", tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

/* Extreme sizes, indices and window parameters across the API: each call
 * fails with the error code named, under ASan and UBSan too (a sweep of
 * INT64_MAX, INT64_MIN and 2^61 in every size argument found the two
 * overflows above; these keep the rest in place). */
Test(errors, extreme_arguments_fail_cleanly) {
    tg_scope_begin();
    const int64_t H = (int64_t)1 << 61, M = INT64_MAX, m = INT64_MIN;
    tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){3, 4}), *img = tg_randn(TG_F32, 4, (int64_t[]){1, 1, 5, 5});
    tg_tensor *w = tg_randn(TG_F32, 4, (int64_t[]){1, 1, 3, 3}), *v[2];
    check_error(tg_pad(x, (int64_t[]){0, H, 0, 0}, 0), TG_ERR_SHAPE, "pad by 2^61");
    check_error(tg_pad(x, (int64_t[]){0, -1, 0, 0}, 0), TG_ERR_ARG, "negative pad");
    check_error(tg_pad(x, (int64_t[]){M, M, 0, 0}, 0), TG_ERR_ARG, "pad by INT64_MAX");
    check_error(tg_tril(x, M), TG_ERR_ARG, "tril at INT64_MAX");
    check_error(tg_one_hot(tg_zeros(TG_I64, 1, (int64_t[]){3}), H), TG_ERR_SHAPE, "one_hot of 2^61 classes");
    check_error(tg_one_hot(tg_full(TG_I64, 1, (int64_t[]){3}, -5), 4), TG_ERR_ARG, "one_hot of -5");
    check_error(tg_randint(TG_I32, 1, (int64_t[]){3}, m, M), TG_ERR_ARG, "randint range past i32");
    check_status(tg_topk(x, m, 1, true, &v[0], &v[1]), TG_ERR_ARG, "topk of INT64_MIN");
    check_status(tg_split(x, 1, 2, (int64_t[]){H, -H + 4}, v), TG_ERR_ARG, "split into 2^61 and 4 - 2^61");
    check_error(tg_index_select(x, 0, tg_full(TG_I64, 1, (int64_t[]){2}, (double)H)), TG_ERR_ARG, "index 2^61");
    check_error(tg_reshape(x, 3, (int64_t[]){H, H, 0}), TG_ERR_SHAPE, "reshape to 2^61 x 2^61 x 0");
    check_error(tg_select(x, 0, m), TG_ERR_ARG, "select INT64_MIN");
    tg_conv2d_opts pad = {.stride = {1, 1}, .padding = {H, H}, .dilation = {1, 1}, .groups = 1};
    check_error(tg_nn_conv2d(img, w, NULL, &pad), TG_ERR_SHAPE, "conv2d padded by 2^61");
    tg_conv2d_opts dil = {.stride = {1, 1}, .dilation = {H, H}, .groups = 1};
    check_error(tg_nn_conv2d(img, w, NULL, &dil), TG_ERR_SHAPE, "conv2d dilated by 2^61");
    tg_conv2d_opts grp = {.stride = {1, 1}, .dilation = {1, 1}, .groups = m};
    check_error(tg_nn_conv2d(img, w, NULL, &grp), TG_ERR_SHAPE, "conv2d with INT64_MIN groups");
    tg_pool2d_opts stride = {.kernel = {2, 2}, .stride = {m, m}};
    check_error(tg_nn_max_pool2d(img, &stride), TG_ERR_SHAPE, "max_pool2d with stride INT64_MIN");
    check_error(tg_fft_fft(tg_randn(TG_C128, 1, (int64_t[]){4}), H, 0, NULL), TG_ERR_SHAPE, "fft of 2^61 points");
    check_error(tg_linalg_matrix_power(tg_randn(TG_F64, 2, (int64_t[]){3, 3}), m), TG_ERR_ARG,
                "matrix_power INT64_MIN");
    check_error(tg_arange(TG_I64, -1e18, 1e18, 1e3), TG_ERR_ARG, "arange of 2e15 elements");
    tg_scope_end();
}

static tg_status f_square_sum(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_mul(in[0], in[0]), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

/* tg_run's input checks: a fixed size is named as a number, a symbolic one
 * with its expression; an error pending from before stays the first one
 * (the checks used to clear it); a spec ending in a comma names the gap. */
Test(errors, run_input_checks_and_an_older_error) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_square_sum, NULL, 1, (tg_spec[]){{TG_F64, "N, 4"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    tg_tensor *bad = tg_zeros(TG_F64, 2, (int64_t[]){3, 5}), *out = NULL;
    check_status(tg_run(p, &bad, &out), TG_ERR_SHAPE, "axis 1 of size 5");
    tg_run(p, &bad, &out);
    cr_expect(strstr(tg_last_error(), "has size 5, the program needs 4 ("), "message: %s", tg_last_error());
    tg_clear_error();
    cr_assert_null(tg_reshape(bad, 1, (int64_t[]){7}), "the older error");
    cr_expect_neq(tg_run(p, &bad, &out), TG_OK);
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE);
    cr_expect(strstr(tg_last_error(), "tg_reshape"), "the older error was replaced: %s", tg_last_error());
    tg_clear_error();
    cr_expect_null(tg_trace(f_square_sum, NULL, 1, (tg_spec[]){{TG_F64, "N, N, "}}, 1));
    cr_expect(strstr(tg_last_error(), "a size is missing at the end of \"N, N, \""), "message: %s", tg_last_error());
    tg_clear_error();
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

Test(errors, null_handles) {
    check_error(tg_add(NULL, NULL), TG_ERR_ARG, "add NULL");
    check_error(tg_reshape(NULL, 1, (int64_t[]){1}), TG_ERR_ARG, "reshape NULL");
    check_error(tg_matmul(NULL, NULL), TG_ERR_ARG, "matmul NULL");
    cr_assert_eq(tg_ndim(NULL), -1);
    check_status(tg_last_error_code(), TG_ERR_ARG, "ndim NULL");
    cr_assert_null(tg_shape(NULL));
    check_status(tg_last_error_code(), TG_ERR_ARG, "shape NULL");
    cr_assert_eq((int)tg_dtype_of(NULL), -1);
    check_status(tg_last_error_code(), TG_ERR_ARG, "dtype NULL");
    check_status(tg_copy_to(NULL, NULL, 0), TG_ERR_ARG, "copy_to NULL");
    tg_release(NULL);          /* a no-op, like free(NULL) */
}

Test(errors, out_of_range_axes_and_slices) {
    tg_scope_begin();
    tg_tensor *a = tg_zeros(TG_F64, 2, (int64_t[]){2, 3});
    check_error(tg_sum(a, 1, (int[]){2}, false), TG_ERR_ARG, "axis 2 of rank 2");
    check_error(tg_sum(a, 1, (int[]){-3}, false), TG_ERR_ARG, "axis -3 of rank 2");
    check_error(tg_sum(a, 2, (int[]){1, -1}, false), TG_ERR_ARG, "repeated axis");
    check_error(tg_slice(a, 2, 0, 1, 1), TG_ERR_ARG, "slice axis");
    check_error(tg_slice(a, 0, 0, 1, 0), TG_ERR_ARG, "slice step 0");
    check_error(tg_select(a, 0, 2), TG_ERR_ARG, "select index");
    check_error(tg_permute(a, (int[]){0, 0}), TG_ERR_ARG, "permute repeated");
    check_error(tg_reshape(a, 2, (int64_t[]){4, 2}), TG_ERR_SHAPE, "reshape count");
    check_error(tg_reshape(a, 2, (int64_t[]){-1, -1}), TG_ERR_SHAPE, "two -1");
    check_error(tg_expand(a, 2, (int64_t[]){4, 3}), TG_ERR_SHAPE, "expand non-1 axis");
    check_error(tg_squeeze(a, 1, (int[]){0}), TG_ERR_SHAPE, "squeeze size 2");
    check_error(tg_diagonal(a, 0, 1, 1), TG_ERR_ARG, "diagonal same axes");
    check_error(tg_imag(a), TG_ERR_DTYPE, "imag of real");
    check_error(tg_view(tg_mT(a), 1, (int64_t[]){6}), TG_ERR_SHAPE, "view needs a copy");
    tg_scope_end();
}

Test(errors, wrong_dtypes) {
    tg_scope_begin();
    tg_tensor *c = tg_zeros(TG_C64, 1, (int64_t[]){3});
    tg_tensor *i = tg_zeros(TG_I32, 1, (int64_t[]){3});
    check_error(tg_max(c, 0, NULL, false), TG_ERR_DTYPE, "max of complex");
    check_error(tg_lt(c, c), TG_ERR_DTYPE, "ordering complex");
    check_error(tg_erf(c), TG_ERR_DTYPE, "erf of complex");
    check_error(tg_complex(c, c), TG_ERR_DTYPE, "complex of complex");
    check_error(tg_rand(TG_I32, 1, (int64_t[]){2}), TG_ERR_DTYPE, "rand int");
    check_error(tg_matmul(tg_zeros(TG_BOOL, 2, (int64_t[]){2, 2}), tg_zeros(TG_BOOL, 2, (int64_t[]){2, 2})),
                TG_ERR_DTYPE, "bool matmul");
    tg_tensor *h = tg_cast(i, TG_F16);
    cr_assert_not_null(h);
    check_error(tg_exp(h), TG_ERR_DTYPE, "exp of f16 storage");
    tg_scope_end();
}

Test(errors, copy_to_checks_the_destination_size) {
    tg_scope_begin();
    tg_tensor *a = tg_ones(TG_F64, 1, (int64_t[]){4});
    double out[3];
    check_status(tg_copy_to(a, out, sizeof out), TG_ERR_ARG, "small destination");
    cr_assert(isnan(tg_item_f64(a)));
    check_status(tg_last_error_code(), TG_ERR_SHAPE, "item of 4 elements");
    tg_scope_end();
}

Test(errors, matmul_shape_mismatch_names_sizes) {
    tg_scope_begin();
    tg_tensor *a = tg_zeros(TG_F32, 2, (int64_t[]){2, 3});
    tg_tensor *r = tg_matmul(a, a);
    cr_assert_null(r);
    cr_assert(strstr(tg_last_error(), "inner sizes differ (3 vs 2)"), "%s", tg_last_error());
    tg_clear_error();
    tg_scope_end();
}
