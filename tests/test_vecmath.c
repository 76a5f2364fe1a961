/* The vectorised f32 exp (tensor/ops/vecmath.h) against the correctly
 * rounded value from libm's double exp: within 2 ulp everywhere, special
 * values exact, and the same bits for short and long runs. */
#include "support/check.h"

#include <math.h>

TestSuite(vecmath, .init = tg_clear_error);

static double ulp_error(float got, double want) {
    float w = (float)want;
    if (isinf(w)) return got == w ? 0 : INFINITY;
    double ulp = w == 0 ? 0x1p-149 : fabs((double)nextafterf(w, INFINITY) - w);
    if (ulp == 0) ulp = 0x1p-149;
    return fabs((double)got - want) / ulp;
}

Test(vecmath, exp_f32_within_2_ulp_over_the_whole_range) {
    int64_t n = 2000001;
    tg_tensor *x = tg_linspace(TG_F32, -104, 89, n);
    tg_tensor *y = tg_exp(x);
    const float *xp = tg_data(x), *yp = tg_data(y);
    double worst = 0, at = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = ulp_error(yp[i], exp((double)xp[i]));
        if (e > worst) { worst = e; at = xp[i]; }
    }
    cr_assert(worst <= 2.0, "worst error %.3f ulp at x = %.9g", worst, at);
    tg_release(x);
    tg_release(y);
}

Test(vecmath, exp_f32_special_values) {
    float in[8] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f, 89.0f, -110.0f, -100.0f};
    tg_tensor *x = tg_from_data(TG_F32, 1, (int64_t[]){8}, in);
    tg_tensor *y = tg_exp(x);
    const float *p = tg_data(y);
    cr_assert(isinf(p[0]) && p[0] > 0);
    cr_assert_eq(p[1], 0.0f);
    cr_assert(isnan(p[2]));
    cr_assert_eq(p[3], 1.0f);
    cr_assert_eq(p[4], 1.0f);
    cr_assert(isinf(p[5]), "exp(89) overflows f32");
    cr_assert_eq(p[6], 0.0f);
    cr_assert(ulp_error(p[7], exp(-100.0)) <= 2.0, "subnormal result %g", p[7]);
    tg_release(x);
    tg_release(y);
}

Test(vecmath, short_and_long_runs_give_the_same_bits) {
    tg_tensor *x = tg_linspace(TG_F32, -20, 20, 40);
    tg_tensor *whole = tg_exp(x);                       /* one run of 40 */
    const float *w = tg_data(whole);
    for (int i = 0; i < 40; i++) {
        tg_tensor *one = tg_slice(x, 0, i, i + 1, 1);
        tg_tensor *e = tg_exp(one);                     /* a run of 1 */
        cr_assert_eq(*(const float *)tg_data(e), w[i], "element %d", i);
        tg_release(one);
        tg_release(e);
    }
    tg_release(x);
    tg_release(whole);
}
