/* Definitions of tests/support/op_funcs.h. */
#include "support/op_funcs.h"

#include <math.h>

#undef F1
#undef F2
#define F1(name, expr) tg_status f_##name(void *c, tg_tensor *const *in, tg_tensor **out) { (void)c; tg_tensor *x = in[0]; RET(expr); }
#define F2(name, expr) tg_status f_##name(void *c, tg_tensor *const *in, tg_tensor **out) { (void)c; tg_tensor *a = in[0], *b = in[1]; RET(expr); }

F1(neg, tg_neg(x)) F1(abs, tg_abs(x)) F1(square, tg_square(x)) F1(reciprocal, tg_reciprocal(x))
F1(exp, tg_exp(x)) F1(expm1, tg_expm1(x)) F1(log, tg_log(x)) F1(log1p, tg_log1p(x)) F1(log2, tg_log2(x))
F1(log10, tg_log10(x)) F1(sqrt, tg_sqrt(x)) F1(rsqrt, tg_rsqrt(x)) F1(sin, tg_sin(x)) F1(cos, tg_cos(x))
F1(tan, tg_tan(x)) F1(asin, tg_asin(x)) F1(acos, tg_acos(x)) F1(atan, tg_atan(x)) F1(sinh, tg_sinh(x))
F1(cosh, tg_cosh(x)) F1(tanh, tg_tanh(x)) F1(asinh, tg_asinh(x)) F1(acosh, tg_acosh(x)) F1(atanh, tg_atanh(x))
F1(sigmoid, tg_sigmoid(x)) F1(relu, tg_relu(x)) F1(gelu, tg_gelu(x)) F1(silu, tg_silu(x))
F1(softplus, tg_softplus(x)) F1(erf, tg_erf(x)) F1(erfc, tg_erfc(x)) F1(floor, tg_floor(x))
F1(sign, tg_sign(x)) F1(conj, tg_conj(x)) F1(angle, tg_angle(x)) F1(real, tg_real(x)) F1(imag, tg_imag(x))
F1(clamp, tg_clamp(x, -0.5, 0.5)) F1(add_scalar, tg_add_scalar(x, 2.5)) F1(rdiv_scalar, tg_rdiv_scalar(2.0, x))
F1(pow_scalar, tg_pow_scalar(x, 2.5)) F1(cast_c128, tg_cast(x, TG_C128))
F2(add, tg_add(a, b)) F2(sub, tg_sub(a, b)) F2(mul, tg_mul(a, b)) F2(div, tg_div(a, b)) F2(pow, tg_pow(a, b))
F2(maximum, tg_maximum(a, b)) F2(minimum, tg_minimum(a, b)) F2(atan2, tg_atan2(a, b))
F2(remainder, tg_remainder(a, b)) F2(complex, tg_complex(a, b)) F2(matmul, tg_matmul(a, b))
F2(where, tg_where(tg_gt_scalar(tg_real(a), 0.0), a, b))
/* einsum */
#define E2(name, sub) F2(name, tg_einsum(sub, 2, (tg_tensor *[]){a, b}))
E2(einsum_matmul, "ij,jk->ik") E2(einsum_inner, "ij,jk") E2(einsum_trace_mul, "ii,ij->j")
E2(einsum_batched, "bij,bjk->bik") E2(einsum_outer, "i,j->ij") E2(einsum_ellipsis, "...ij,jk->...ik")
tg_status f_einsum_bilinear(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    RET(tg_einsum("i,ij,j->", 3, in));
}
tg_status f_einsum_chain(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    RET(tg_einsum("ij,jk,kl->il", 3, in));
}
/* reductions */
F1(sum_all, tg_sum(x, 0, NULL, false)) F1(sum_ax1_keep, tg_sum(x, 1, (int[]){1}, true))
F1(sum_ax0, tg_sum(x, 1, (int[]){-2}, false)) F1(mean, tg_mean(x, 1, (int[]){0}, false))
F1(prod, tg_prod(x, 1, (int[]){1}, false)) F1(max_ax1, tg_max(x, 1, (int[]){1}, false))
F1(min_all, tg_min(x, 0, NULL, false)) F1(logsumexp, tg_logsumexp(x, 1, (int[]){1}, false))
F1(var, tg_var(x, 1, (int[]){0}, 1, false)) F1(std, tg_std(x, 0, NULL, 0, false))
F1(norm1, tg_norm(x, 1, 1, (int[]){1}, false)) F1(norm2, tg_norm(x, 2, 0, NULL, false))
F1(norm_inf, tg_norm(x, INFINITY, 1, (int[]){0}, true))
F1(cumsum, tg_cumsum(x, 1)) F1(cumprod, tg_cumprod(x, 0))
/* views and shaping */
F1(reshape, tg_reshape(x, 2, (int64_t[]){3, -1})) F1(permute, tg_permute(x, (int[]){1, 0}))
F1(slice, tg_slice(x, 1, TG_NONE, TG_NONE, -2)) F1(select, tg_select(x, 0, -1))
F1(expand, tg_expand(x, 3, (int64_t[]){2, 3, 4})) F1(squeeze, tg_squeeze(tg_unsqueeze(x, 1), 1, (int[]){1}))
F1(diagonal, tg_diagonal(x, 1, 0, 1)) F1(flatten, tg_flatten(tg_mT(x))) F1(copy, tg_copy(x))
F1(flip, tg_flip(x, 1, (int[]){0})) F1(tril, tg_tril(x, 0)) F1(triu, tg_triu(x, 1))
F1(pad, tg_pad(x, (int64_t[]){1, 0, 2, 1}, 3.0))
F2(concat, tg_concat(2, (tg_tensor *[]){a, b}, 0)) F2(stack, tg_stack(2, (tg_tensor *[]){a, b}, 1))
tg_status f_split(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    return tg_split(in[0], 1, 2, (int64_t[]){1, 3}, out);
}
tg_status f_sort(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    return tg_sort(in[0], 1, true, &out[0], NULL);
}
tg_status f_topk(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    return tg_topk(in[0], 2, 0, false, &out[0], NULL);
}
/* index ops: the index is a constant of the function */
tg_status f_gather(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    tg_tensor *ix = tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, (int64_t[]){3, 0, 1, 3});
    RET(tg_gather(in[0], 1, ix));
}
tg_status f_index_select(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    tg_tensor *ix = tg_from_data(TG_I64, 1, (int64_t[]){3}, (int64_t[]){2, 0, 2});
    RET(tg_index_select(in[0], 1, ix));
}
tg_status f_scatter_add(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    tg_tensor *ix = tg_from_data(TG_I64, 2, (int64_t[]){2, 2}, (int64_t[]){1, 1, 0, 3});
    RET(tg_scatter_add(in[0], 1, ix, in[1]));
}

