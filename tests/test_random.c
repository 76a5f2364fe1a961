/* Philox 4x32-10 against Random123's known-answer vectors, the documented
 * stream layout, statistics of the draws, and independence from the thread
 * count. */
#include "support/check.h"
#include "tensor/tensor_impl.h"

#include <math.h>
#include <string.h>

TestSuite(random, .init = tg_clear_error);

Test(random, philox_known_answers) {
    /* Random123's kat_vectors for philox4x32_10 */
    struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        tg__philox4x32_10(kat[i].ctr, kat[i].key, out);
        for (int k = 0; k < 4; k++) cr_assert_eq(out[k], kat[i].out[k], "vector %zu lane %d: %08x", i, k, out[k]);
    }
}

Test(random, f32_uniform_follows_the_documented_layout) {
    /* seed 0, offset 0: block 0 is the first known answer; f32 takes the top 24 bits */
    tg_rng_set_state(0, 0);
    tg_tensor *u = tg_rand(TG_F32, 1, (int64_t[]){4});
    const uint32_t lanes[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    double want[4];
    for (int k = 0; k < 4; k++) want[k] = (double)(lanes[k] >> 8) * 0x1.0p-24;
    check_values_f64(u, 4, want, 0, "first block");
    uint64_t seed, off;
    tg_rng_get_state(&seed, &off);
    cr_assert_eq(off, 1, "one block used");
    tg_release(u);
}

Test(random, same_seed_same_stream_and_draws_advance) {
    tg_scope_begin();
    tg_manual_seed(7);
    tg_tensor *a = tg_randn(TG_F64, 1, (int64_t[]){10});
    tg_tensor *b = tg_randn(TG_F64, 1, (int64_t[]){10});
    tg_manual_seed(7);
    tg_tensor *c = tg_randn(TG_F64, 1, (int64_t[]){10});
    check_close(c, a, 0, 0, "replay");
    cr_assert(tg_item_f64(tg_sum(tg_eq(a, b), 0, NULL, false)) == 0, "second draw differs");
    tg_scope_end();
}

Test(random, moments_of_the_draws) {
    tg_scope_begin();
    tg_manual_seed(3);
    int64_t n = 1 << 20;
    /* 5 standard errors: a correct generator fails with probability ~1e-6 */
    tg_tensor *u = tg_uniform(TG_F64, 1, &n, -1, 3);
    cr_assert(fabs(tg_item_f64(tg_mean(u, 0, NULL, false)) - 1.0) < 5 * sqrt(16.0 / 12 / n));
    cr_assert(tg_item_f64(tg_min(u, 0, NULL, false)) >= -1 && tg_item_f64(tg_max(u, 0, NULL, false)) < 3);
    tg_tensor *z = tg_normal(TG_F32, 1, &n, 2.0, 0.5);
    cr_assert(fabs(tg_item_f64(tg_mean(z, 0, NULL, false)) - 2.0) < 5 * 0.5 / sqrt((double)n));
    cr_assert(fabs(tg_item_f64(tg_std(z, 0, NULL, 1, false)) - 0.5) < 0.005);
    tg_tensor *c = tg_randn(TG_C128, 1, &n);        /* E|z|^2 = 1, split between the parts */
    cr_assert(fabs(tg_item_f64(tg_mean(tg_square(tg_abs(c)), 0, NULL, false)) - 1.0) < 0.01);
    tg_tensor *r = tg_randint(TG_I32, 1, &n, -3, 4);
    cr_assert_eq(tg_item_i64(tg_min(r, 0, NULL, false)), -3);
    cr_assert_eq(tg_item_i64(tg_max(r, 0, NULL, false)), 3);
    tg_scope_end();
}

Test(random, randperm_is_a_permutation) {
    tg_scope_begin();
    tg_tensor *p = tg_randperm(1000);
    tg_tensor *s = NULL;
    check_status(tg_sort(p, 0, false, &s, NULL), TG_OK, "sort");
    check_close(s, tg_arange(TG_I64, 0, 1000, 1), 0, 0, "sorted permutation");
    check_error(tg_randperm(-1), TG_ERR_ARG, "negative n");
    check_error(tg_randint(TG_I32, 1, (int64_t[]){2}, 5, 5), TG_ERR_ARG, "empty range");
    check_error(tg_normal(TG_F64, 1, (int64_t[]){2}, 0, -1), TG_ERR_ARG, "negative std");
    tg_scope_end();
}

Test(random, results_do_not_depend_on_the_thread_count) {
    tg_scope_begin();
    int64_t n = 3 << 20;
    tg_tensor *r[2], *s[2], *m[2];
    for (int t = 0; t < 2; t++) {
        tg_set_num_threads(t + 1);
        tg_manual_seed(11);
        r[t] = tg_rand(TG_F32, 1, &n);
        s[t] = tg_sum(r[t], 0, NULL, false);
        m[t] = tg_sum(tg_reshape(r[t], 2, (int64_t[]){3072, 1024}), 1, (int[]){0}, false);
    }
    tg_set_num_threads(0);
    check_close(r[1], r[0], 0, 0, "draws");
    check_close(s[1], s[0], 0, 0, "full sum bitwise");
    check_close(m[1], m[0], 0, 0, "axis sum bitwise");
    tg_scope_end();
}
