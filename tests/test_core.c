/* Tensor core basics: creation, inspection, scopes, errors. */
#include "support/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Permuted copies take the tiled path (tensor/copy_tiled.c) for every
 * element size: each output element is the source's element at the
 * permuted index, on planes of sizes that leave partial tiles, with outer
 * axes, a negative stride and a broadcast axis, and into a transposed
 * destination. Values encode the source index (mod m, exact in the dtype). */
static void check_permuted_copy(tg_dtype dt, int64_t m, int nd, const int64_t *shape, const int *perm, bool flip0) {
    int64_t n = 1, xs[4], idx[4];
    for (int a = 0; a < nd; a++) n *= shape[a];
    double *v = malloc((size_t)n * sizeof *v), *want = malloc((size_t)n * sizeof *want);
    for (int64_t k = 0; k < n; k++) v[k] = (double)(k % m);
    tg_tensor *x = tg_cast(tg_from_data(TG_F64, nd, shape, v), dt);
    if (flip0) x = tg_flip(x, 1, (int[]){0});
    tg_tensor *y = tg_contiguous(tg_permute(x, perm));
    cr_assert(y, "%s", tg_last_error());
    xs[nd - 1] = 1;
    for (int a = nd - 2; a >= 0; a--) xs[a] = xs[a + 1] * shape[a + 1];
    int64_t ys[4];
    for (int a = 0; a < nd; a++) ys[a] = shape[perm[a]];
    for (int64_t k = 0; k < n; k++) {
        int64_t r = k, src = 0;
        for (int a = nd - 1; a >= 0; a--) { idx[a] = r % ys[a]; r /= ys[a]; }
        for (int a = 0; a < nd; a++) {
            int64_t i = idx[a];
            if (flip0 && perm[a] == 0) i = shape[0] - 1 - i;
            src += i * xs[perm[a]];
        }
        want[k] = (double)(src % m);
    }
    char what[64];
    snprintf(what, sizeof what, "%s permuted copy, rank %d", tg_dtype_name(dt), nd);
    check_values_f64(tg_cast(y, TG_F64), n, want, 0, what);     /* c128: the real part */
    free(v);
    free(want);
}

Test(core, permuted_copies_every_element_size) {
    tg_scope_begin();
    const struct { tg_dtype dt; int64_t m; } types[] = {{TG_BOOL, 2}, {TG_F16, 1024}, {TG_I32, 1 << 30},
                                                        {TG_F64, 1 << 30}, {TG_C128, 1 << 30}};
    for (int t = 0; t < 5; t++) {
        check_permuted_copy(types[t].dt, types[t].m, 2, (int64_t[]){37, 45}, (int[]){1, 0}, false);
        check_permuted_copy(types[t].dt, types[t].m, 3, (int64_t[]){5, 33, 40}, (int[]){2, 1, 0}, false);
        check_permuted_copy(types[t].dt, types[t].m, 3, (int64_t[]){5, 33, 40}, (int[]){0, 2, 1}, false);
        check_permuted_copy(types[t].dt, types[t].m, 4, (int64_t[]){3, 9, 4, 70}, (int[]){3, 1, 2, 0}, true);
    }
    /* a broadcast axis outside the plane, and a transposed destination */
    tg_tensor *col = tg_arange(TG_F64, 0, 64 * 40, 1);
    tg_tensor *b = tg_expand(tg_reshape(col, 3, (int64_t[]){1, 64, 40}), 3, (int64_t[]){3, 64, 40});
    tg_tensor *bt = tg_contiguous(tg_permute(b, (int[]){0, 2, 1}));
    tg_tensor *dst = tg_mT(tg_zeros(TG_F64, 2, (int64_t[]){40, 64}));    /* (64, 40), i strided */
    check_status(tg_copy_(dst, tg_mT(tg_reshape(col, 2, (int64_t[]){40, 64}))), TG_OK, "copy_ into a transpose");
    double *w = malloc(3 * 64 * 40 * sizeof *w);
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 40; i++)
            for (int j = 0; j < 64; j++) w[(r * 40 + i) * 64 + j] = j * 40 + i;
    check_values_f64(bt, 3 * 64 * 40, w, 0, "permuted broadcast");
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 40; j++) w[i * 40 + j] = j * 64 + i;
    check_values_f64(tg_contiguous(dst), 64 * 40, w, 0, "transposed destination");
    free(w);
    tg_scope_end();
}

/* Outputs of 16 MiB and more are stored with non-temporal stores in blocks
 * of 64 bytes (tensor/iter.h, elementwise.h): every element, the unaligned
 * head and the tail included, must equal the plain loop's. Checked against
 * the values computed here element by element, for a binary op, a unary
 * op, a cast and a copy into an output that starts off a 64-byte line. */
Test(core, large_outputs_streamed_element_for_element) {
    tg_scope_begin();
    const int64_t n = ((int64_t)16 << 20) / 8 + 37;         /* 16 MiB of f64 and a tail */
    tg_manual_seed(5);
    tg_tensor *base = tg_randn(TG_F64, 1, (int64_t[]){n + 3});
    tg_tensor *x = tg_slice(base, 0, 1, n + 1, 1), *y = tg_slice(base, 0, 3, n + 3, 1);   /* off the line */
    const double *b = tg_data(base);
    tg_tensor *prod = tg_mul(x, y), *neg = tg_neg(x), *wide = tg_cast(tg_cast(x, TG_F32), TG_F64);
    cr_assert(prod && neg && wide, "%s", tg_last_error());
    const double *p = tg_data(prod), *q = tg_data(neg), *w = tg_data(wide);
    int64_t bad = -1;
    for (int64_t i = 0; i < n && bad < 0; i++)
        if (p[i] != b[i + 1] * b[i + 3] || q[i] != -b[i + 1] || w[i] != (double)(float)b[i + 1]) bad = i;
    cr_expect_eq(bad, -1, "first wrong element %lld of %lld", (long long)bad, (long long)n);
    /* a copy into a destination 8 bytes past a line (a view of a bigger tensor) */
    tg_tensor *big = tg_zeros(TG_F64, 1, (int64_t[]){n + 1});
    tg_tensor *dst = tg_slice(big, 0, 1, n + 1, 1);
    cr_assert_eq(tg_copy_(dst, y), TG_OK, "%s", tg_last_error());
    const double *d = tg_data(big);
    bad = d[0] == 0 ? -1 : 0;
    for (int64_t i = 0; i < n && bad < 0; i++)
        if (d[i + 1] != b[i + 3]) bad = i + 1;
    cr_expect_eq(bad, -1, "copy: first wrong element %lld", (long long)bad);
    tg_scope_end();
}
