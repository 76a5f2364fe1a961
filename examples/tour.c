/* The README's tour, compiled and run as an example so it stays true:
 * keep the two in step. */
#include <tangent/tangent.h>

#include <stdio.h>

int main(void) {
    tg_scope_begin();                                   /* results below are freed at scope end */
    float data[6] = {1, 2, 3, 4, 5, 6};
    tg_tensor *a = tg_from_data(TG_F32, 2, (int64_t[]){2, 3}, data);
    tg_tensor *b = tg_add(a, tg_arange(TG_F32, 0, 3, 1));        /* (2,3) + (3,): NumPy broadcasting */
    tg_print(b);                                                 /* NumPy-style, then shape/dtype/device */
    tg_tensor *t = tg_mT(a);                                     /* a view: shares a's storage */
    tg_tensor *y = tg_matmul(tg_exp(tg_mul_scalar(a, 0.1)), t);  /* f32 * 0.1 stays f32 (weak scalar) */
    tg_print(y);
    double s = tg_item_f64(tg_sum(y, 0, NULL, false));

    tg_tensor *bad = tg_add(a, tg_ones(TG_F32, 1, (int64_t[]){4}));
    if (!bad) puts(tg_last_error());   /* tg_add: shapes cannot be broadcast [operands: (2, 3) f32, (4,) f32] (at demo.c:12) */
    tg_clear_error();

    /* reverse mode */
    tg_tensor *w = tg_randn(TG_F64, 2, (int64_t[]){3, 2});
    tg_set_requires_grad(w, true);
    tg_tensor *loss = tg_mean(tg_square(tg_tanh(tg_matmul(tg_cast(a, TG_F64), w))), 0, NULL, false);
    tg_backward(loss, NULL);                           /* opts: seed, retain_graph, create_graph */
    tg_tensor *gw = tg_grad(w);                        /* borrowed, accumulates until tg_zero_grad */

    /* forward mode and the functional API: tg_jvp(f, ...), tg_vjp(f, ...), tg_grad_fn(f, ...) */
    /* checks: tg_gradcheck(f, ctx, n_in, inputs, n_out, NULL) == TG_OK */
    tg_scope_end();
    printf("sum = %g, grad of w has %lld elements\n", s, (long long)tg_numel(gw));
    return 0;
}
