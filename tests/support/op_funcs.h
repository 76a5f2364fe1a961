/* The op functions shared by the table-driven tests (test_gradcheck_ops.c,
 * test_trace_equivalence.c): f_<name>(ctx, in, out) applies one op, or one
 * op with fixed attributes, to in[] and stores its result(s) in out[]. */
#ifndef TG_TEST_OP_FUNCS_H
#define TG_TEST_OP_FUNCS_H

#include <tangent/tangent.h>

tg_status f_name(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_neg(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_abs(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_square(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_reciprocal(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_exp(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_expm1(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_log(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_log1p(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_log2(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_log10(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sqrt(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_rsqrt(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sin(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_cos(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_tan(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_asin(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_acos(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_atan(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sinh(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_cosh(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_tanh(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_asinh(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_acosh(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_atanh(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sigmoid(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_relu(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_gelu(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_silu(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_softplus(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_erf(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_erfc(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_floor(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sign(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_conj(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_angle(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_real(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_imag(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_clamp(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_add_scalar(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_rdiv_scalar(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_pow_scalar(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_cast_c128(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_add(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sub(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_mul(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_div(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_pow(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_maximum(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_minimum(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_atan2(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_remainder(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_complex(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_matmul(void *c, tg_tensor *const *in, tg_tensor **out);
/* einsum (einsum/) */
tg_status f_einsum_matmul(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_einsum_inner(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_einsum_trace_mul(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_einsum_bilinear(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_einsum_batched(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_einsum_outer(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_einsum_ellipsis(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_einsum_chain(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_where(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sum_all(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sum_ax1_keep(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sum_ax0(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_mean(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_prod(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_max_ax1(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_min_all(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_logsumexp(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_var(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_std(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_norm1(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_norm2(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_norm_inf(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_cumsum(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_cumprod(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_reshape(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_permute(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_slice(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_select(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_expand(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_squeeze(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_diagonal(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_flatten(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_copy(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_flip(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_tril(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_triu(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_pad(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_concat(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_stack(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_split(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_sort(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_topk(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_gather(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_index_select(void *c, tg_tensor *const *in, tg_tensor **out);
tg_status f_scatter_add(void *c, tg_tensor *const *in, tg_tensor **out);

/* Helpers for writing more of them in a test file. */
#define RET(expr) do { out[0] = (expr); return out[0] ? TG_OK : tg_last_error_code(); } while (0)
#define F1(name, expr) static tg_status f_##name(void *c, tg_tensor *const *in, tg_tensor **out) { (void)c; tg_tensor *x = in[0]; RET(expr); }
#define F2(name, expr) static tg_status f_##name(void *c, tg_tensor *const *in, tg_tensor **out) { (void)c; tg_tensor *a = in[0], *b = in[1]; RET(expr); }

#endif
