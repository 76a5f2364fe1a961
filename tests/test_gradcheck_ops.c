/* Every differentiable op of the tensor core through tg_gradcheck (reverse
 * and forward mode against finite differences, and the dot-product test)
 * and tg_gradgradcheck, table-driven as PyTorch's OpInfo: one entry per op,
 * run on contiguous f64 inputs, on non-contiguous (transposed) inputs, and
 * on c128 inputs where the op is defined for complex numbers. */
#include "support/check.h"
#include "support/op_funcs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum {
    CPLX = 1 << 0,       /* also check c128 inputs */
    NO_2ND = 1 << 1,     /* skip second order (not twice differentiable at the samples, or costly) */
    CPLX_ONLY = 1 << 2,  /* defined for complex input only */
};

typedef struct {
    const char *name;
    tg_trace_fn fn;
    int n_in;
    int ndim[3];
    int64_t shape[3][3];
    double lo, hi;       /* uniform sampling range of real (and imaginary) parts */
    unsigned flags;
} op_entry;

#define S1(n0) {1}, {{n0}}
#define S2(n0, n1) {2}, {{n0, n1}}
#define S22(a0, a1, b0, b1) {2, 2}, {{a0, a1}, {b0, b1}}
#define U(name, lo, hi, fl) {#name, f_##name, 1, S2(3, 4), lo, hi, fl}

static const op_entry ops[] = {
    U(neg, -2, 2, CPLX), U(abs, -2, 2, CPLX | NO_2ND), U(square, -2, 2, CPLX), U(reciprocal, 0.5, 2, CPLX),
    U(exp, -2, 2, CPLX), U(expm1, -2, 2, CPLX), U(log, 0.5, 3, CPLX), U(log1p, 0.1, 3, CPLX),
    U(log2, 0.5, 3, CPLX), U(log10, 0.5, 3, CPLX), U(sqrt, 0.5, 3, CPLX), U(rsqrt, 0.5, 3, CPLX),
    U(sin, -2, 2, CPLX), U(cos, -2, 2, CPLX), U(tan, -1, 1, CPLX), U(asin, -0.8, 0.8, CPLX),
    U(acos, -0.8, 0.8, CPLX), U(atan, -0.8, 0.8, CPLX), U(sinh, -2, 2, CPLX), U(cosh, -2, 2, CPLX),
    U(tanh, -2, 2, CPLX), U(asinh, -2, 2, CPLX), U(acosh, 1.2, 3, CPLX), U(atanh, -0.8, 0.8, CPLX),
    U(sigmoid, -3, 3, CPLX), U(relu, -2, 2, NO_2ND), U(gelu, -3, 3, 0), U(silu, -3, 3, 0),
    U(softplus, -3, 3, 0), U(erf, -2, 2, 0), U(erfc, -2, 2, 0), U(floor, -3, 3, 0), U(sign, -2, 2, CPLX),
    U(conj, -2, 2, CPLX), U(angle, -2, 2, CPLX), U(real, -2, 2, CPLX), U(clamp, -1, 1, NO_2ND),
    U(add_scalar, -2, 2, CPLX), U(rdiv_scalar, 0.5, 2, CPLX), U(pow_scalar, 0.5, 2, CPLX), U(cast_c128, -2, 2, 0),
    {"imag", f_imag, 1, S2(3, 4), -2, 2, CPLX | CPLX_ONLY},
    {"add", f_add, 2, S22(3, 4, 1, 4), -2, 2, CPLX}, {"sub", f_sub, 2, S22(3, 1, 3, 4), -2, 2, CPLX},
    {"mul", f_mul, 2, S22(3, 4, 3, 4), -2, 2, CPLX}, {"div", f_div, 2, S22(3, 4, 1, 4), 0.5, 2, CPLX},
    {"pow", f_pow, 2, S22(3, 4, 3, 4), 0.5, 2, CPLX}, {"maximum", f_maximum, 2, S22(3, 4, 3, 4), -2, 2, NO_2ND},
    {"minimum", f_minimum, 2, S22(3, 4, 1, 4), -2, 2, NO_2ND}, {"atan2", f_atan2, 2, S22(3, 4, 3, 4), 0.5, 2, 0},
    {"remainder", f_remainder, 2, S22(3, 4, 3, 4), 0.7, 2, NO_2ND},
    {"complex", f_complex, 2, S22(3, 4, 3, 4), -2, 2, 0},
    {"where", f_where, 2, S22(3, 4, 3, 4), -2, 2, CPLX},
    {"matmul", f_matmul, 2, S22(3, 4, 4, 2), -2, 2, CPLX},
    {"matmul_vec", f_matmul, 2, {2, 1}, {{3, 4}, {4}}, -2, 2, CPLX},
    {"matmul_batched", f_matmul, 2, {3, 2}, {{2, 3, 4}, {4, 2}}, -2, 2, CPLX},
    {"einsum_matmul", f_einsum_matmul, 2, S22(3, 4, 4, 2), -2, 2, CPLX},
    {"einsum_inner", f_einsum_inner, 2, S22(2, 3, 3, 4), -2, 2, CPLX},
    {"einsum_trace_mul", f_einsum_trace_mul, 2, S22(3, 3, 3, 2), -2, 2, CPLX},
    {"einsum_batched", f_einsum_batched, 2, {3, 3}, {{2, 3, 4}, {2, 4, 2}}, -2, 2, CPLX},
    {"einsum_outer", f_einsum_outer, 2, {1, 1}, {{3}, {4}}, -2, 2, CPLX},
    {"einsum_ellipsis", f_einsum_ellipsis, 2, {3, 2}, {{2, 3, 4}, {4, 2}}, -2, 2, CPLX},
    {"einsum_bilinear", f_einsum_bilinear, 3, {1, 2, 1}, {{3}, {3, 4}, {4}}, -2, 2, CPLX},
    {"einsum_chain", f_einsum_chain, 3, {2, 2, 2}, {{2, 3}, {3, 4}, {4, 2}}, -2, 2, CPLX},
    U(sum_all, -2, 2, CPLX), U(sum_ax1_keep, -2, 2, CPLX), U(sum_ax0, -2, 2, CPLX), U(mean, -2, 2, CPLX),
    U(prod, 0.5, 2, CPLX), U(max_ax1, -2, 2, NO_2ND), U(min_all, -2, 2, NO_2ND), U(logsumexp, -2, 2, 0),
    U(var, -2, 2, CPLX), U(std, -2, 2, 0), U(norm1, 0.2, 2, NO_2ND), U(norm2, -2, 2, CPLX),
    U(norm_inf, -2, 2, NO_2ND), U(cumsum, -2, 2, CPLX), U(cumprod, 0.5, 2, CPLX),
    U(reshape, -2, 2, CPLX), U(permute, -2, 2, CPLX), U(slice, -2, 2, CPLX), U(select, -2, 2, CPLX),
    {"expand", f_expand, 1, S2(3, 1), -2, 2, CPLX},
    U(squeeze, -2, 2, CPLX), U(diagonal, -2, 2, CPLX), U(flatten, -2, 2, CPLX), U(copy, -2, 2, CPLX),
    U(flip, -2, 2, CPLX), U(tril, -2, 2, CPLX), U(triu, -2, 2, CPLX), U(pad, -2, 2, CPLX),
    {"concat", f_concat, 2, S22(3, 4, 2, 4), -2, 2, CPLX}, {"stack", f_stack, 2, S22(3, 4, 3, 4), -2, 2, CPLX},
    U(split, -2, 2, CPLX), U(sort, -2, 2, NO_2ND), U(topk, -2, 2, NO_2ND),
    U(gather, -2, 2, CPLX), U(index_select, -2, 2, CPLX),
    {"scatter_add", f_scatter_add, 2, S22(3, 4, 2, 2), -2, 2, CPLX},
};
#define N_OPS ((int)(sizeof ops / sizeof ops[0]))

static int n_outputs(const op_entry *e) { return e->fn == f_split ? 2 : 1; }

/* Inputs with values in [lo, hi); transposed storage when strided is set. */
static tg_tensor *sample(const op_entry *e, int i, bool complex_, bool strided) {
    int nd = e->ndim[i];
    const int64_t *s = e->shape[i];
    int64_t rs[3] = {0};
    for (int d = 0; d < nd; d++) rs[d] = s[nd - 1 - d];
    bool transpose = strided && nd == 2;
    const int64_t *shape = transpose ? rs : s;
    tg_tensor *x = tg_uniform(TG_F64, nd, shape, e->lo, e->hi);
    if (complex_) x = tg_complex(x, tg_uniform(TG_F64, nd, shape, e->lo, e->hi));
    return transpose ? tg_mT(x) : x;
}

static void check_entry(const op_entry *e, bool complex_, bool strided, bool second) {
    if (!complex_ && (e->flags & CPLX_ONLY)) return;
    tg_scope_begin();
    tg_manual_seed(1234);
    tg_tensor *in[3];
    for (int i = 0; i < e->n_in; i++) in[i] = sample(e, i, complex_, strided);
    char what[96];
    snprintf(what, sizeof what, "%s (%s%s)", e->name, complex_ ? "c128" : "f64", strided ? ", strided" : "");
    tg_gradcheck_opts o = {0};
    tg_status st = tg_gradcheck(e->fn, NULL, e->n_in, in, n_outputs(e), &o);
    cr_expect_eq(st, TG_OK, "gradcheck %s: %s", what, tg_last_error());
    tg_clear_error();
    if (second && !(e->flags & NO_2ND)) {
        st = tg_gradgradcheck(e->fn, NULL, e->n_in, in, n_outputs(e), &o);
        cr_expect_eq(st, TG_OK, "gradgradcheck %s: %s", what, tg_last_error());
        tg_clear_error();
    }
    tg_scope_end();
}

TestSuite(gradcheck_ops, .init = tg_clear_error, .timeout = 300);

Test(gradcheck_ops, real_contiguous_first_and_second_order) {
    for (int k = 0; k < N_OPS; k++) check_entry(&ops[k], false, false, true);
}

Test(gradcheck_ops, real_strided_inputs) {
    for (int k = 0; k < N_OPS; k++) check_entry(&ops[k], false, true, false);
}

Test(gradcheck_ops, complex_inputs) {
    for (int k = 0; k < N_OPS; k++)
        if (ops[k].flags & CPLX) check_entry(&ops[k], true, false, true);
}

/* The checker itself must catch a wrong rule: a function whose "gradient"
 * disagrees with its values (a detached factor) fails. */
static tg_status f_wrong(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    RET(tg_mul(in[0], tg_detach(in[0])));      /* values x^2, reverse mode sees x */
}
Test(gradcheck_ops, checker_rejects_a_wrong_derivative) {
    tg_scope_begin();
    tg_tensor *x = tg_uniform(TG_F64, 1, (int64_t[]){3}, 0.5, 1.5);
    tg_status st = tg_gradcheck(f_wrong, NULL, 1, &x, 1, NULL);
    cr_assert_eq(st, TG_ERR_NUMERIC);
    cr_assert(strstr(tg_last_error(), "finite differences"), "%s", tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

/* relu's VJP and JVP pass the cotangent (tangent) where x > 0 and give
 * exactly 0 elsewhere, an Inf or NaN there included (PyTorch's
 * threshold_backward; a product with the 0/1 mask would give NaN). */
Test(gradcheck_ops, relu_rules_pass_or_zero) {
    tg_scope_begin();
    const double xv[6] = {-1.5, -0.0, 0.0, 0.25, 2.0, -3.0}, gv[6] = {INFINITY, NAN, -INFINITY, 7.5, -2.0, 4.0};
    const double want[6] = {0, 0, 0, 7.5, -2.0, 0};
    tg_tensor *x = tg_from_data(TG_F64, 1, (int64_t[]){6}, xv), *g = tg_from_data(TG_F64, 1, (int64_t[]){6}, gv);
    tg_tensor *gx = NULL, *y = NULL, *y2 = NULL, *ty = NULL;
    cr_assert_eq(tg_vjp(f_relu, NULL, 1, &x, 1, &g, &y, &gx), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_jvp(f_relu, NULL, 1, &x, &g, 1, &y2, &ty), TG_OK, "%s", tg_last_error());
    const double *a = tg_data(gx), *b = tg_data(ty);
    for (int i = 0; i < 6; i++) {
        cr_assert(a[i] == want[i] && !signbit(a[i]) == !signbit(want[i]), "vjp[%d] = %g, want %g", i, a[i], want[i]);
        cr_assert(b[i] == want[i] && !signbit(b[i]) == !signbit(want[i]), "jvp[%d] = %g, want %g", i, b[i], want[i]);
    }
    tg_scope_end();
}

static tg_status f_tanh_sum(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_tanh(in[0]), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

/* Outside any scope the checks release everything they make (a leak here
 * fails the ASan run: LeakSanitizer aborts the worker). */
Test(gradcheck_ops, no_scope_no_leak) {
    tg_tensor *x = tg_randn(TG_F64, 1, (int64_t[]){3});
    cr_assert_not_null(x);
    cr_expect_eq(tg_gradcheck(f_tanh_sum, NULL, 1, &x, 1, NULL), TG_OK, "%s", tg_last_error());
    cr_expect_eq(tg_gradgradcheck(f_tanh_sum, NULL, 1, &x, 1, NULL), TG_OK, "%s", tg_last_error());
    tg_release(x);
}

/* Tensors of TG_MAX_DIMS (16) axes: views whose VJPs scatter into the base
 * (slice), pad with its 32 attributes, permute, broadcasting multiply and
 * reductions over scattered axes, to second order, real and complex. */
static const int64_t shape16[16] = {2, 1, 3, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2};
static tg_status f_rank16(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    int64_t pads[32] = {0};
    pads[2 * 15] = 1;               /* axis 15: 2 -> 3 */
    pads[2 * 2 + 1] = 1;            /* axis 2: 3 -> 4 */
    int perm[16];
    for (int i = 0; i < 16; i++) perm[i] = 15 - i;
    tg_tensor *p = tg_pad(in[0], pads, 0.5);
    tg_tensor *s = tg_slice(tg_slice(p, 2, 1, 4, 1), 15, 0, 2, 1);  /* x's shape, shifted values */
    tg_tensor *m = tg_mul(tg_permute(s, perm), tg_permute(in[0], perm));
    out[0] = tg_sum(tg_square(m), 3, (int[]){0, 13, 15}, false);
    return out[0] ? TG_OK : tg_last_error_code();
}
Test(gradcheck_ops, sixteen_axes) {
    tg_scope_begin();
    cr_assert_eq(TG_MAX_DIMS, 16);
    for (int cplx = 0; cplx < 2; cplx++) {
        tg_manual_seed(16);
        tg_tensor *x = tg_uniform(TG_F64, 16, shape16, -2, 2);
        if (cplx) x = tg_complex(x, tg_uniform(TG_F64, 16, shape16, -2, 2));
        tg_tensor *y = NULL;
        cr_assert_eq(f_rank16(NULL, &x, &y), TG_OK, "%s", tg_last_error());
        cr_expect_eq(tg_ndim(y), 13);
        cr_expect_eq(tg_gradcheck(f_rank16, NULL, 1, &x, 1, NULL), TG_OK, "%s", tg_last_error());
        cr_expect_eq(tg_gradgradcheck(f_rank16, NULL, 1, &x, 1, NULL), TG_OK, "%s", tg_last_error());
        tg_clear_error();
    }
    tg_scope_end();
}

/* The same function traced with 16 symbolic-or-fixed axes, its gradient
 * compiled: the graph's values and the eager ones agree. */
static tg_status f_rank16_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    tg_status st = f_rank16(ctx, in, out);
    if (!st) out[0] = tg_sum(out[0], 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}
Test(gradcheck_ops, sixteen_axes_traced) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_rank16_loss, NULL, 1,
                           (tg_spec[]){{TG_F64, "N, 1, 3, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2"}}, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 0, NULL);
    cr_assert(vg, "%s", tg_last_error());
    tg_program *p = tg_compile(vg, NULL);
    cr_assert(p, "%s", tg_last_error());
    for (int n = 2; n <= 3; n++) {
        int64_t sh[16];
        memcpy(sh, shape16, sizeof sh);
        sh[0] = n;
        tg_tensor *x = tg_uniform(TG_F64, 16, sh, -2, 2), *y[2];
        cr_assert_eq(tg_run(p, &x, y), TG_OK, "%s", tg_last_error());
        tg_tensor *xe = tg_detach(x);
        tg_set_requires_grad(xe, true);
        tg_tensor *l = NULL;
        cr_assert_eq(f_rank16_loss(NULL, &xe, &l), TG_OK);
        cr_assert_eq(tg_backward(l, NULL), TG_OK, "%s", tg_last_error());
        check_close(y[0], l, 1e-12, 1e-12, "traced value");
        check_close(y[1], tg_grad(xe), 1e-12, 1e-12, "traced gradient");
        tg_release(y[0]);
        tg_release(y[1]);
    }
    tg_program_free(p);
    tg_graph_free(vg);
    tg_graph_free(g);
    tg_scope_end();
}
