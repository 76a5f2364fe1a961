/* A tour of Tangent's tensor core: create, view, compute, reduce, read back.
 * Build and run: make demo */
#include <tangent/tangent.h>

#include <stdio.h>

static int fail(const char *what) {
    fprintf(stderr, "%s failed: %s\n", what, tg_last_error());
    return 1;
}

int main(void) {
    tg_scope_begin();                      /* everything below is released at scope end */

    /* A 2x3 matrix from a C array, and a broadcast row. */
    float data[6] = {1, 2, 3, 4, 5, 6};
    tg_tensor *a = tg_from_data(TG_F32, 2, (int64_t[]){2, 3}, data);
    tg_tensor *row = tg_arange(TG_F32, 0, 3, 1);
    tg_tensor *b = tg_add(a, row);                     /* (2,3) + (3,) broadcasts */
    printf("a + arange(3) =\n");
    tg_print(b);

    /* Views share storage: a transpose and a reversed slice. */
    tg_tensor *t = tg_mT(a);
    tg_tensor *rev = tg_slice(a, 1, TG_NONE, TG_NONE, -1);
    printf("a.T shares memory with a: %s\n", tg_shares_memory(t, a) ? "yes" : "no");
    tg_print(rev);

    /* Elementwise math, a reduction, a matrix product through BLAS. */
    tg_tensor *y = tg_matmul(tg_exp(tg_mul_scalar(a, 0.1)), t);     /* (2,3) @ (3,2) */
    tg_tensor *s = tg_sum(y, 0, NULL, false);
    if (!s) return fail("matmul/sum");
    printf("sum(exp(0.1 a) @ a.T) = %.6f\n", tg_item_f64(s));

    /* Random numbers from a seeded Philox stream; mean and std over axis 0. */
    tg_manual_seed(42);
    tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){10000, 3});
    int axis0 = 0;
    tg_tensor *mu = tg_mean(x, 1, &axis0, false), *sd = tg_std(x, 1, &axis0, 1, false);
    printf("randn mean per column:\n");
    tg_print(mu);
    printf("randn std per column:\n");
    tg_print(sd);

    /* Errors never abort: a bad broadcast returns NULL with a clear message. */
    tg_tensor *bad = tg_add(a, tg_ones(TG_F32, 1, (int64_t[]){4}));
    if (!bad) printf("expected error: %s\n", tg_last_error());
    tg_clear_error();

    tg_scope_end();
    return 0;
}
