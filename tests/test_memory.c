/* Ownership rules (DESIGN.md section 3): references, scopes, tg_keep, views
 * keeping storage alive, wrapped memory and its deleter. */
#include "support/check.h"

#include <stdlib.h>

TestSuite(memory, .init = tg_clear_error);

Test(memory, scope_releases_and_keep_moves_out) {
    tg_tensor *kept;
    tg_scope_begin();
    cr_assert_eq(tg_scope_depth(), 1);
    tg_tensor *a = tg_ones(TG_F32, 1, (int64_t[]){4});
    tg_tensor *b = tg_add(a, a);
    kept = tg_keep(tg_mul(b, b));
    tg_scope_end();
    cr_assert_eq(tg_scope_depth(), 0);
    /* kept is now the caller's: its values are intact after the scope ended */
    check_values_f64(kept, 4, (double[]){4, 4, 4, 4}, 0, "kept value");
    tg_release(kept);
}

Test(memory, keep_in_nested_scope_goes_to_enclosing_scope) {
    tg_scope_begin();
    tg_tensor *outer;
    tg_scope_begin();
    outer = tg_keep(tg_full(TG_F64, 1, (int64_t[]){2}, 7.0));
    tg_scope_end();
    cr_assert_eq(tg_scope_depth(), 1);
    check_values_f64(outer, 2, (double[]){7, 7}, 0, "survives inner scope");
    tg_scope_end();          /* released here; LeakSanitizer checks the rest */
}

Test(memory, view_keeps_storage_alive) {
    tg_tensor *a = tg_arange(TG_F64, 0, 6, 1);
    tg_tensor *v = tg_slice(a, 0, 1, 5, 2);
    cr_assert(tg_shares_memory(v, a));
    tg_release(a);
    check_values_f64(v, 2, (double[]){1, 3}, 0, "view after base released");
    tg_release(v);
}

Test(memory, retain_gives_an_extra_reference) {
    tg_tensor *a = tg_zeros(TG_I32, 1, (int64_t[]){3});
    cr_assert_eq(tg_retain(a), a);
    tg_release(a);
    cr_assert_eq(tg_numel(a), 3);     /* still alive: one reference left */
    tg_release(a);
}

static int deleted;
static void count_delete(void *data, void *ctx) {
    cr_assert_eq(ctx, (void *)&deleted);
    free(data);
    deleted++;
}

Test(memory, wrap_is_zero_copy_and_runs_deleter_once) {
    double *buf = malloc(6 * sizeof *buf);
    for (int i = 0; i < 6; i++) buf[i] = i;
    deleted = 0;
    tg_tensor *w = tg_wrap(TG_F64, 2, (int64_t[]){2, 3}, NULL, buf, count_delete, &deleted);
    cr_assert_not_null(w);
    cr_assert_eq(tg_data(w), buf, "wrap must not copy");
    buf[4] = 40;                                   /* visible through the tensor */
    tg_tensor *t = tg_mT(w);
    tg_release(w);
    cr_assert_eq(deleted, 0, "a live view keeps the memory");
    check_values_f64(t, 6, (double[]){0, 3, 1, 40, 2, 5}, 0, "transposed wrap");
    tg_release(t);
    cr_assert_eq(deleted, 1);
}

Test(memory, wrap_with_strides_reads_a_column) {
    float buf[6] = {1, 2, 3, 4, 5, 6};                /* 2x3 row-major */
    tg_tensor *col = tg_wrap(TG_F32, 1, (int64_t[]){2}, (int64_t[]){3}, buf, NULL, NULL);
    check_values_f64(col, 2, (double[]){1, 4}, 0, "strided wrap");
    cr_assert(!tg_is_contiguous(col));
    tg_release(col);
}

Test(memory, wrap_rejects_impossible_input) {
    float buf[4] = {0};
    check_error(tg_wrap(TG_F32, 1, (int64_t[]){2}, (int64_t[]){-1}, buf, NULL, NULL), TG_ERR_ARG, "negative stride");
    check_error(tg_wrap(TG_F32, 2, (int64_t[]){1 << 20, 4}, (int64_t[]){INT64_MAX / 4, 1}, buf, NULL, NULL),
                TG_ERR_ARG, "overflowing strides");
    check_error(tg_wrap(TG_F32, 1, (int64_t[]){2}, NULL, NULL, NULL, NULL), TG_ERR_ARG, "NULL data");
    check_error(tg_wrap(TG_F64, 1, (int64_t[]){1}, NULL, (char *)buf + 1, NULL, NULL), TG_ERR_ARG, "misaligned data");
    check_error(tg_wrap(TG_F32, TG_MAX_DIMS + 1, (int64_t[TG_MAX_DIMS + 1]){0}, NULL, buf, NULL, NULL),
                TG_ERR_SHAPE, "rank over max");
}

Test(memory, scope_end_without_scope_is_an_error_not_a_crash) {
    tg_scope_end();
    check_status(tg_last_error_code(), TG_ERR_ARG, "unbalanced scope_end");
}

Test(memory, many_small_ops_in_a_scope_per_step_do_not_grow) {
    tg_tensor *x = tg_ones(TG_F32, 1, (int64_t[]){8});
    for (int step = 0; step < 1000; step++) {
        tg_scope_begin();
        tg_tensor *y = tg_exp(tg_add(x, x));
        cr_assert_not_null(y);
        tg_scope_end();
    }
    tg_release(x);      /* LeakSanitizer in the asan preset proves nothing leaked */
}

/* Tensors live at once beyond the storage cache's 256 MiB floor (five of
 * 64 MiB) come back from the cache on the next step: the cache may hold
 * as much as the process has held live. A cached block keeps its old
 * contents, which tg_empty shows; a fresh one would be the kernel's zero
 * pages (or the sanitizer's fill). */
Test(memory, steps_above_the_cache_floor_reuse_every_block) {
    enum { N = 5 };
    int64_t n = (int64_t)16 << 20;                 /* 64 MiB of f32 */
    tg_tensor *t[N];
    for (int k = 0; k < N; k++) cr_assert_not_null(t[k] = tg_full(TG_F32, 1, &n, 7.0));
    for (int k = 0; k < N; k++) tg_release(t[k]);
    float first[N];
    for (int k = 0; k < N; k++) {
        cr_assert_not_null(t[k] = tg_empty(TG_F32, 1, &n));
        first[k] = ((const float *)tg_data(t[k]))[0];
    }
    for (int k = 0; k < N; k++) tg_release(t[k]);
    for (int k = 0; k < N; k++)
        cr_expect_eq(first[k], 7.0f, "block %d is not a cached one (first element %g)", k, first[k]);
}
