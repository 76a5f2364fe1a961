/* tg_dataloader (nn/dataloader.c): batch order, shapes and copies, the
 * per-epoch permutation (the library's Philox stream under the loader's
 * seed, without touching the caller's stream), identical sequences with and
 * without the prefetch thread, freeing mid-epoch, scopes, and bad input. */
#include "support/check.h"

#include <stdlib.h>
#include <string.h>

TestSuite(dataloader, .init = tg_clear_error);

/* x (n, 2, 3) f64 with x[i, a, b] = 100 i + 10 a + b; y (n) i64 = 7 i + 1 */
static void make_data(int64_t n, tg_tensor **x, tg_tensor **y) {
    int64_t xs[3] = {n, 2, 3}, ys[1] = {n};
    double *xv = malloc((size_t)(n ? n : 1) * 6 * sizeof *xv);
    int64_t *yv = malloc((size_t)(n ? n : 1) * sizeof *yv);
    for (int64_t i = 0; i < n; i++) {
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 3; b++) xv[i * 6 + a * 3 + b] = 100.0 * (double)i + 10 * a + b;
        yv[i] = 7 * i + 1;
    }
    *x = tg_from_data(TG_F64, 3, xs, xv);
    *y = tg_from_data(TG_I64, 1, ys, yv);
    free(xv);
    free(yv);
    cr_assert(*x && *y);
}

/* The row index a batch row holds, checking that x and y agree on it. */
static int64_t row_of(const tg_tensor *bx, const tg_tensor *by, int64_t r) {
    const double *xv = tg_data(bx);
    const int64_t *yv = tg_data(by);
    int64_t i = (yv[r] - 1) / 7;
    cr_assert_eq(yv[r], 7 * i + 1, "batch row %lld: y = %lld is not a label", (long long)r, (long long)yv[r]);
    for (int k = 0; k < 6; k++)
        cr_assert_eq(xv[r * 6 + k], 100.0 * (double)i + 10 * (k / 3) + k % 3, "batch row %lld: x and y disagree",
                     (long long)r);
    return i;
}

/* One epoch: the rows in the order seen; checks batch sizes and layout. */
static int64_t epoch(tg_dataloader *dl, int64_t n, int64_t batch, int64_t *rows) {
    int64_t k = 0, nb = 0;
    tg_tensor *bx, *by;
    while (tg_dataloader_next(dl, &bx, &by)) {
        int64_t want = n - k < batch ? n - k : batch;
        cr_assert_eq(tg_ndim(bx), 3);
        cr_assert_eq(tg_shape(bx)[0], want, "batch %lld has %lld rows, expected %lld", (long long)nb,
                     (long long)tg_shape(bx)[0], (long long)want);
        cr_assert(tg_shape(bx)[1] == 2 && tg_shape(bx)[2] == 3);
        cr_assert(tg_ndim(by) == 1 && tg_shape(by)[0] == want);
        cr_assert(tg_dtype_of(bx) == TG_F64 && tg_dtype_of(by) == TG_I64);
        cr_assert(tg_is_contiguous(bx) && tg_is_contiguous(by));
        for (int64_t r = 0; r < want; r++) rows[k + r] = row_of(bx, by, r);
        k += want;
        nb++;
        tg_release(bx);
        tg_release(by);
        cr_assert(nb <= tg_dataloader_batches(dl), "more batches than announced");
    }
    cr_assert_eq(tg_last_error_code(), TG_OK, "%s", tg_last_error());
    cr_assert_eq(k, n, "an epoch gave %lld rows of %lld", (long long)k, (long long)n);
    cr_assert_eq(nb, tg_dataloader_batches(dl));
    return nb;
}

static void check_is_permutation(const int64_t *rows, int64_t n) {
    char *seen = calloc((size_t)n + 1, 1);
    for (int64_t i = 0; i < n; i++) {
        cr_assert(rows[i] >= 0 && rows[i] < n, "row %lld out of range", (long long)rows[i]);
        cr_assert(!seen[rows[i]], "row %lld seen twice in one epoch", (long long)rows[i]);
        seen[rows[i]] = 1;
    }
    free(seen);
}

Test(dataloader, sequential_batches_in_order) {
    tg_tensor *x, *y;
    make_data(10, &x, &y);
    for (int pf = 0; pf < 2; pf++) {
        tg_dataloader *dl = tg_dataloader_new(x, y, 4, false, 0, pf);
        cr_assert(dl, "%s", tg_last_error());
        cr_assert_eq(tg_dataloader_batches(dl), 3);
        int64_t rows[10];
        for (int e = 0; e < 3; e++) {
            cr_assert_eq(epoch(dl, 10, 4, rows), 3);
            for (int64_t i = 0; i < 10; i++) cr_assert_eq(rows[i], i, "epoch %d row %lld", e, (long long)i);
        }
        tg_dataloader_free(dl);
    }
    tg_release(x);
    tg_release(y);
}

Test(dataloader, batch_sizes) {
    tg_tensor *x, *y;
    make_data(7, &x, &y);
    int64_t rows[7];
    static const int64_t batches[][2] = {{1, 7}, {3, 3}, {7, 1}, {100, 1}};
    for (size_t c = 0; c < 4; c++) {
        tg_dataloader *dl = tg_dataloader_new(x, y, batches[c][0], true, 5, c % 2);
        cr_assert(dl);
        cr_assert_eq(tg_dataloader_batches(dl), batches[c][1]);
        cr_assert_eq(epoch(dl, 7, batches[c][0], rows), batches[c][1]);
        check_is_permutation(rows, 7);
        tg_dataloader_free(dl);
    }
    tg_release(x);
    tg_release(y);
}

/* Epoch e is the (e+1)-th tg_randperm(n) after tg_manual_seed(seed). */
Test(dataloader, shuffle_follows_the_library_stream) {
    const int64_t n = 1000, batch = 64;
    const uint64_t seed = 42;
    tg_tensor *x, *y;
    make_data(n, &x, &y);
    tg_manual_seed(seed);
    tg_tensor *p[3];
    for (int e = 0; e < 3; e++) p[e] = tg_randperm(n);

    tg_manual_seed(7);
    uint64_t s0, o0, s1, o1;
    tg_rng_get_state(&s0, &o0);
    tg_dataloader *dl = tg_dataloader_new(x, y, batch, true, seed, false);
    int64_t *rows = malloc((size_t)n * sizeof *rows);
    for (int e = 0; e < 3; e++) {
        epoch(dl, n, batch, rows);
        check_is_permutation(rows, n);
        const int64_t *pe = tg_data(p[e]);
        for (int64_t i = 0; i < n; i++)
            cr_assert_eq(rows[i], pe[i], "epoch %d position %lld: row %lld, tg_randperm says %lld", e, (long long)i,
                         (long long)rows[i], (long long)pe[i]);
    }
    /* successive epochs differ */
    cr_assert(memcmp(tg_data(p[0]), tg_data(p[1]), (size_t)n * 8) != 0);
    /* the caller's stream is where it was */
    tg_rng_get_state(&s1, &o1);
    cr_assert(s0 == s1 && o0 == o1, "the loader moved the global RNG state");
    tg_dataloader_free(dl);

    /* a different seed gives a different order */
    dl = tg_dataloader_new(x, y, batch, true, seed + 1, true);
    epoch(dl, n, batch, rows);
    cr_assert(memcmp(rows, tg_data(p[0]), (size_t)n * 8) != 0);
    tg_dataloader_free(dl);
    free(rows);
    for (int e = 0; e < 3; e++) tg_release(p[e]);
    tg_release(x);
    tg_release(y);
}

Test(dataloader, global_stream_undisturbed_while_prefetching) {
    tg_tensor *x, *y;
    make_data(500, &x, &y);
    int64_t shape[1] = {16};
    tg_manual_seed(99);
    tg_tensor *a1 = tg_rand(TG_F64, 1, shape), *a2 = tg_rand(TG_F64, 1, shape);
    tg_manual_seed(99);
    tg_dataloader *dl = tg_dataloader_new(x, y, 32, true, 3, true);
    int64_t rows[500];
    tg_tensor *b1 = tg_rand(TG_F64, 1, shape);
    epoch(dl, 500, 32, rows);      /* the worker draws permutations meanwhile */
    epoch(dl, 500, 32, rows);
    tg_tensor *b2 = tg_rand(TG_F64, 1, shape);
    cr_assert(memcmp(tg_data(a1), tg_data(b1), 16 * 8) == 0, "first draw changed");
    cr_assert(memcmp(tg_data(a2), tg_data(b2), 16 * 8) == 0, "second draw changed");
    tg_dataloader_free(dl);
    tg_release(a1); tg_release(a2); tg_release(b1); tg_release(b2);
    tg_release(x);
    tg_release(y);
}

/* The same batches, byte for byte, with and without the prefetch thread. */
Test(dataloader, prefetch_gives_the_same_sequence) {
    const int64_t n = 300, batch = 17;
    tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){n, 5});
    tg_tensor *yb = tg_rand(TG_F64, 1, (int64_t[]){n});
    tg_tensor *half = tg_full(TG_F64, 1, (int64_t[]){n}, 0.5);
    tg_tensor *y = tg_lt(yb, half);     /* bool labels */
    tg_tensor *z = tg_randn(TG_C128, 2, (int64_t[]){n, 2});
    cr_assert(x && y && z, "%s", tg_last_error());
    for (int pair = 0; pair < 2; pair++) {
        tg_tensor *second = pair ? z : y;
        tg_dataloader *a = tg_dataloader_new(x, second, batch, true, 2024, false);
        tg_dataloader *b = tg_dataloader_new(x, second, batch, true, 2024, true);
        cr_assert(a && b);
        for (int e = 0; e < 3; e++) {
            int64_t nb = 0;
            for (;;) {
                tg_tensor *ax, *ay, *bx, *by;
                bool ha = tg_dataloader_next(a, &ax, &ay), hb = tg_dataloader_next(b, &bx, &by);
                cr_assert_eq(ha, hb, "epoch %d batch %lld: one loader ended early", e, (long long)nb);
                if (!ha) break;
                cr_assert_eq(tg_dtype_of(ay), tg_dtype_of(second));
                cr_assert_eq(tg_numel(ax), tg_numel(bx));
                cr_assert(memcmp(tg_data(ax), tg_data(bx), (size_t)tg_numel(ax) * 4) == 0,
                          "epoch %d batch %lld: x differs", e, (long long)nb);
                size_t yb_bytes = (size_t)tg_numel(ay) * (pair ? 16 : 1);
                cr_assert(memcmp(tg_data(ay), tg_data(by), yb_bytes) == 0, "epoch %d batch %lld: y differs", e,
                          (long long)nb);
                tg_release(ax); tg_release(ay); tg_release(bx); tg_release(by);
                nb++;
            }
            cr_assert_eq(nb, 18);
        }
        tg_dataloader_free(a);
        tg_dataloader_free(b);
    }
    tg_release(x); tg_release(yb); tg_release(half); tg_release(y); tg_release(z);
}

Test(dataloader, strided_inputs_and_copies) {
    /* x as the transpose of a (3, n) tensor: non-contiguous rows */
    const int64_t n = 9;
    tg_tensor *base = tg_arange(TG_F32, 0, 3 * (double)n, 1);
    tg_tensor *m = tg_reshape(base, 2, (int64_t[]){3, n});
    tg_tensor *x = tg_transpose(m, 0, 1);          /* x[i, c] = c n + i */
    tg_tensor *y = tg_arange(TG_I32, 0, (double)n, 1);
    cr_assert(x && y && !tg_is_contiguous(x));
    for (int pf = 0; pf < 2; pf++) {
        tg_dataloader *dl = tg_dataloader_new(x, y, 4, true, 11, pf);
        tg_tensor *bx, *by;
        int64_t seen = 0;
        while (tg_dataloader_next(dl, &bx, &by)) {
            cr_assert(tg_is_contiguous(bx));
            cr_assert(!tg_shares_memory(bx, x), "a batch aliases x");
            const float *xv = tg_data(bx);
            const int32_t *yv = tg_data(by);
            for (int64_t r = 0; r < tg_shape(bx)[0]; r++)
                for (int c = 0; c < 3; c++)
                    cr_assert_eq(xv[r * 3 + c], (float)(c * n + yv[r]), "row %lld col %d", (long long)r, c);
            seen += tg_shape(bx)[0];
            /* writing into a batch leaves the data alone */
            tg_fill_(bx, -1.0);
            tg_release(bx);
            tg_release(by);
        }
        cr_assert_eq(seen, n);
        tg_dataloader_free(dl);
    }
    tg_scope_begin();
    double x12 = tg_item_f64(tg_select(tg_select(x, 0, 1), 0, 2));
    tg_scope_end();
    cr_assert_eq(x12, (double)(2 * n + 1), "the data changed: x[1, 2] = %g", x12);
    tg_release(base); tg_release(m); tg_release(x); tg_release(y);
}

Test(dataloader, scope_owns_the_batches) {
    tg_tensor *x, *y;
    make_data(20, &x, &y);
    tg_dataloader *dl = tg_dataloader_new(x, y, 6, true, 1, true);
    for (int e = 0; e < 2; e++) {
        tg_scope_begin();
        tg_tensor *bx, *by;
        int64_t k = 0;
        while (tg_dataloader_next(dl, &bx, &by)) k += tg_shape(bx)[0];   /* no release: the scope owns them */
        cr_assert_eq(k, 20);
        tg_scope_end();
    }
    tg_dataloader_free(dl);
    /* the loader holds its own reference: releasing x and y first is fine */
    dl = tg_dataloader_new(x, y, 6, false, 1, true);
    tg_release(x);
    tg_release(y);
    tg_tensor *bx, *by;
    cr_assert(tg_dataloader_next(dl, &bx, &by));
    cr_assert_eq(((const int64_t *)tg_data(by))[5], 36);
    tg_release(bx);
    tg_release(by);
    tg_dataloader_free(dl);
}

Test(dataloader, free_mid_epoch_and_at_any_time) {
    tg_tensor *x, *y;
    make_data(1000, &x, &y);
    for (int pf = 0; pf < 2; pf++) {
        tg_dataloader_free(tg_dataloader_new(x, y, 10, true, 0, pf));      /* before any batch */
        for (int taken = 1; taken <= 101; taken += 50) {
            tg_dataloader *dl = tg_dataloader_new(x, y, 10, true, 0, pf);
            cr_assert_not_null(dl, "%s", tg_last_error());
            for (int k = 0; k < taken; k++) {
                tg_tensor *bx, *by;
                bool got = tg_dataloader_next(dl, &bx, &by);
                cr_expect_eq(got, k < 100, "batch %d of 100 (prefetch %d)", k, pf);   /* the epoch's end at k = 100 */
                cr_expect_eq(tg_last_error_code(), TG_OK, "%s", tg_last_error());
                if (!got) continue;
                cr_expect_eq(tg_shape(bx)[0], 10);
                tg_release(bx);
                tg_release(by);
            }
            tg_dataloader_free(dl);    /* the worker may be mid-batch or waiting */
        }
    }
    tg_dataloader_free(NULL);
    tg_release(x);
    tg_release(y);
}

Test(dataloader, many_epochs_with_prefetch) {
    tg_tensor *x, *y;
    make_data(37, &x, &y);
    tg_dataloader *a = tg_dataloader_new(x, y, 5, true, 77, true);
    tg_dataloader *b = tg_dataloader_new(x, y, 5, true, 77, false);
    int64_t ra[37], rb[37];
    for (int e = 0; e < 200; e++) {
        epoch(a, 37, 5, ra);
        epoch(b, 37, 5, rb);
        check_is_permutation(ra, 37);
        cr_assert(memcmp(ra, rb, sizeof ra) == 0, "epoch %d differs", e);
    }
    tg_dataloader_free(a);
    tg_dataloader_free(b);
    tg_release(x);
    tg_release(y);
}

Test(dataloader, empty_dataset) {
    tg_tensor *x = tg_zeros(TG_F32, 2, (int64_t[]){0, 4}), *y = tg_zeros(TG_I32, 1, (int64_t[]){0});
    for (int pf = 0; pf < 2; pf++) {
        tg_dataloader *dl = tg_dataloader_new(x, y, 8, true, 0, pf);
        cr_assert(dl, "%s", tg_last_error());
        cr_assert_eq(tg_dataloader_batches(dl), 0);
        tg_tensor *bx = NULL, *by = NULL;
        for (int k = 0; k < 3; k++) cr_assert(!tg_dataloader_next(dl, &bx, &by));
        cr_assert(bx == NULL && by == NULL, "nothing may be stored at an epoch's end");
        cr_assert_eq(tg_last_error_code(), TG_OK);
        tg_dataloader_free(dl);
    }
    tg_release(x);
    tg_release(y);
}

Test(dataloader, bad_input) {
    tg_tensor *x, *y;
    make_data(10, &x, &y);
    tg_tensor *y9 = tg_zeros(TG_I32, 1, (int64_t[]){9});
    tg_tensor *s = tg_scalar(TG_F32, 1);
    check_error(tg_dataloader_new(NULL, y, 2, false, 0, false), TG_ERR_ARG, "x NULL");
    check_error(tg_dataloader_new(x, NULL, 2, false, 0, false), TG_ERR_ARG, "y NULL");
    cr_assert_null(tg_dataloader_new(x, y9, 2, false, 0, true));
    cr_assert(strstr(tg_last_error(), "(10, 2, 3)") && strstr(tg_last_error(), "(9,)"), "%s", tg_last_error());
    check_error(NULL, TG_ERR_SHAPE, "first dims differ");
    check_error(tg_dataloader_new(x, y, 0, false, 0, false), TG_ERR_ARG, "batch 0");
    check_error(tg_dataloader_new(x, y, -3, true, 0, true), TG_ERR_ARG, "batch -3");
    check_error(tg_dataloader_new(s, s, 1, false, 0, false), TG_ERR_SHAPE, "0-d x");
    tg_dataloader *dl = tg_dataloader_new(x, y, 3, false, 0, false);
    tg_tensor *bx, *by;
    cr_assert(!tg_dataloader_next(dl, NULL, &by));
    check_status(tg_last_error_code(), TG_ERR_ARG, "next with x NULL");
    cr_assert(!tg_dataloader_next(NULL, &bx, &by));
    check_status(tg_last_error_code(), TG_ERR_ARG, "next with loader NULL");
    cr_assert_eq(tg_dataloader_batches(NULL), -1);
    check_status(tg_last_error_code(), TG_ERR_ARG, "batches of NULL");
    tg_dataloader_free(dl);
    tg_release(x); tg_release(y); tg_release(y9); tg_release(s);
}

/* A tracer has no data: the loader refuses it at trace time. */
static tg_status f_loader_in_trace(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    tg_dataloader *dl = tg_dataloader_new(in[0], in[0], 2, false, 0, false);
    *(tg_status *)ctx = dl ? TG_OK : tg_last_error_code();
    tg_dataloader_free(dl);
    tg_clear_error();
    out[0] = tg_neg(in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(dataloader, tracers_refused_and_batches_carry_no_history) {
    tg_status seen = TG_OK;
    tg_graph *g = tg_trace(f_loader_in_trace, &seen, 1, (tg_spec[]){{TG_F32, "N, 4"}}, 1);
    cr_assert(g, "%s", tg_last_error());
    cr_assert_eq(seen, TG_ERR_ARG, "a tracer gave %s", tg_status_name(seen));
    tg_graph_free(g);

    tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){6, 2}), *y = tg_zeros(TG_I64, 1, (int64_t[]){6});
    cr_assert_eq(tg_set_requires_grad(x, true), TG_OK);
    tg_dataloader *dl = tg_dataloader_new(x, y, 4, true, 0, true);
    tg_tensor *bx, *by;
    cr_assert(tg_dataloader_next(dl, &bx, &by));
    cr_assert(!tg_requires_grad(bx), "a batch is a plain copy of the data");
    tg_release(bx);
    tg_release(by);
    tg_dataloader_free(dl);
    tg_release(x);
    tg_release(y);
}
