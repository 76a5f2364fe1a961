/* A corpus of malformed tensor programs: each is traced with symbolic
 * specs and must be rejected AT TRACE TIME (tg_trace returns NULL), before
 * any data exists, with the right status and a message naming the op, the
 * (symbolic) shapes involved and the line in this file ("fail fast",
 * DESIGN.md section 5). Table-driven: one entry per program. */
#include "support/check.h"

#include <tangent/sizes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(trace_malformed, .init = tg_clear_error);

#define X in[0]
#define Y in[1]
#define Z in[2]
#define PROG(name, expr)                                                       \
    static tg_status name(void *c, tg_tensor *const *in, tg_tensor **out) {   \
        (void)c;                                                               \
        (void)in;                                                              \
        out[0] = (expr);                                                       \
        return out[0] ? TG_OK : tg_last_error_code();                          \
    }
#define SYM(s) tg_size_symbol(s)
#define DIM(t, a) tg_dim(t, a)
#define I64(...) ((int64_t[]){__VA_ARGS__})
#define AX(...) ((int[]){__VA_ARGS__})
#define NAX(...) ((int)(sizeof AX(__VA_ARGS__) / sizeof(int)))
#define CONST_I64(n, ...) tg_from_data(TG_I64, 1, I64(n), I64(__VA_ARGS__))

/* ---- matmul ------------------------------------------------------------------ */
PROG(p_matmul_fixed_inner, tg_matmul(X, Y))
PROG(p_matmul_symbolic_inner, tg_matmul(X, Y))
PROG(p_matmul_vector_inner, tg_matmul(X, Y))
PROG(p_matmul_batch_symbolic, tg_matmul(X, Y))
PROG(p_matmul_batch_fixed, tg_matmul(X, Y))
PROG(p_matmul_scalar, tg_matmul(X, Y))
PROG(p_matmul_bool, tg_matmul(X, Y))
PROG(p_matmul_after_transpose, tg_matmul(X, tg_mT(X)))      /* fine */
/* ---- elementwise broadcasting ---------------------------------------------------- */
PROG(p_add_n_vs_m, tg_add(X, Y))
PROG(p_mul_3_vs_4, tg_mul(X, Y))
PROG(p_sub_n_vs_3, tg_sub(X, Y))
PROG(p_div_n_vs_2n, tg_div(X, tg_concat(2, (tg_tensor *[]){Y, Y}, 0)))
PROG(p_maximum_transposed, tg_maximum(X, Y))
PROG(p_pow_expr_vs_symbol, tg_pow(tg_reshape(X, 1, I64(-1)), Y))
PROG(p_where_values, tg_where(X, Y, Z))
PROG(p_where_cond, tg_where(X, Y, Z))
PROG(p_complex_n_vs_m, tg_complex(X, Y))
/* ---- reshape ------------------------------------------------------------------- */
PROG(p_reshape_fixed_count, tg_reshape(X, 2, I64(DIM(X, 0), 5)))
PROG(p_reshape_minus1_not_dividing, tg_reshape(X, 2, I64(-1, 3)))
PROG(p_reshape_nc_into_cn2, tg_reshape(X, 3, I64(DIM(X, 1), DIM(X, 0), 2)))
PROG(p_reshape_new_symbol, tg_reshape(X, 2, I64(SYM("M"), 4)))
PROG(p_reshape_two_minus1, tg_reshape(X, 3, I64(-1, -1, 2)))
PROG(p_reshape_negative, tg_reshape(X, 2, I64(-3, DIM(X, 0))))
/* ---- concat / stack ------------------------------------------------------------------ */
PROG(p_concat_symbolic_other_axis, tg_concat(2, (tg_tensor *[]){X, Y}, 0))
PROG(p_concat_fixed_other_axis, tg_concat(2, (tg_tensor *[]){X, Y}, 1))
PROG(p_concat_rank, tg_concat(2, (tg_tensor *[]){X, Y}, 0))
PROG(p_concat_0d, tg_concat(2, (tg_tensor *[]){X, Y}, 0))
PROG(p_concat_axis_range, tg_concat(2, (tg_tensor *[]){X, Y}, 2))
PROG(p_stack_symbolic, tg_stack(2, (tg_tensor *[]){X, Y}, 0))
PROG(p_stack_fixed, tg_stack(2, (tg_tensor *[]){X, Y}, 1))
/* ---- axes ------------------------------------------------------------------------- */
PROG(p_sum_axis_range, tg_sum(X, 1, AX(2), false))
PROG(p_sum_axis_repeated, tg_sum(X, 2, AX(1, -1), false))
PROG(p_mean_axis_range, tg_mean(X, 1, AX(-3), false))
PROG(p_var_axis_repeated, tg_var(X, 2, AX(0, 0), 1, false))
PROG(p_logsumexp_axis, tg_logsumexp(X, 1, AX(2), false))
PROG(p_argmax_axis, tg_argmax(X, 3, false))
PROG(p_cumsum_axis, tg_cumsum(X, 2))
PROG(p_permute_repeated, tg_permute(X, AX(0, 0, 1)))
PROG(p_permute_range, tg_permute(X, AX(0, 3)))
PROG(p_transpose_range, tg_transpose(X, 0, 2))
PROG(p_mT_1d, tg_mT(X))
PROG(p_squeeze_symbolic, tg_squeeze(X, 1, AX(0)))
PROG(p_squeeze_fixed, tg_squeeze(X, 1, AX(1)))
PROG(p_squeeze_range, tg_squeeze(X, 1, AX(2)))
PROG(p_unsqueeze_range, tg_unsqueeze(X, 4))
PROG(p_unsqueeze_rank, tg_unsqueeze(X, 0))
PROG(p_flip_repeated, tg_flip(X, 2, AX(1, 1)))
PROG(p_diagonal_same_axis, tg_diagonal(X, 0, 1, -1))
PROG(p_sort_axis, tg_argsort(X, 2, false))
/* ---- expand ------------------------------------------------------------------------ */
PROG(p_expand_incompatible, tg_expand(X, 2, I64(DIM(X, 0), 4)))
PROG(p_expand_other_symbol, tg_expand(X, 2, I64(SYM("M"), 3)))
PROG(p_expand_lower_rank, tg_expand(X, 1, I64(3)))
PROG(p_broadcast_to_symbol, tg_broadcast_to(X, 2, I64(DIM(X, 0), SYM("M"))))
/* ---- indexing ------------------------------------------------------------------------ */
PROG(p_gather_rank, tg_gather(X, 1, CONST_I64(2, 0, 1)))
PROG(p_gather_float_index, tg_gather(X, 1, Y))
PROG(p_index_select_2d, tg_index_select(X, 1, tg_from_data(TG_I64, 2, I64(1, 2), I64(0, 1))))
PROG(p_index_select_float, tg_index_select(X, 0, Y))
PROG(p_scatter_add_src_dtype, tg_scatter_add(X, 1, tg_from_data(TG_I64, 2, I64(1, 1), I64(0)), Y))
PROG(p_scatter_add_rank, tg_scatter_add(X, 1, CONST_I64(1, 0), Y))
PROG(p_select_fixed_range, tg_select(X, 1, 3))
PROG(p_one_hot_float, tg_one_hot(X, 4))
PROG(p_tril_1d, tg_tril(X, 0))
PROG(p_triu_0d, tg_triu(X, 1))
PROG(p_pad_negative, tg_pad(X, I64(0, 0, -1, 0), 0.0))
PROG(p_slice_step0, tg_slice(X, 1, 0, 2, 0))
/* ---- dtypes ------------------------------------------------------------------------- */
PROG(p_erf_complex, tg_erf(X))
PROG(p_max_complex, tg_max(X, 0, NULL, false))
PROG(p_lt_complex, tg_lt(X, Y))
PROG(p_logsumexp_complex, tg_logsumexp(X, 1, AX(1), false))
PROG(p_argmax_complex, tg_argmax(X, 1, false))
PROG(p_sort_complex, tg_argsort(X, 1, false))
PROG(p_imag_real, tg_imag(X))
PROG(p_complex_of_complex, tg_complex(X, Y))
PROG(p_relu_complex, tg_relu(X))
PROG(p_f16_add, tg_add(X, Y))
PROG(p_logical_not_complex, tg_floor(X))
/* ---- empty axes, k and sizes -------------------------------------------------------- */
PROG(p_max_empty_axis, tg_max(X, 1, AX(1), false))
PROG(p_argmin_empty_axis, tg_argmin(X, 1, false))
PROG(p_topk_fixed_k, tg_topk(X, 5, 1, true, &out[0], NULL) ? NULL : out[0])
PROG(p_split_fixed_sizes, tg_split(X, 1, 2, I64(1, 2), out) ? NULL : out[0])
PROG(p_norm_p3, tg_norm(X, 3.0, 0, NULL, false))

/* ---- whole-program errors ----------------------------------------------------------- */
PROG(p_identity, tg_neg(X))
static tg_status p_null_output(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    (void)in;
    out[0] = NULL;
    return TG_OK;
}
static tg_status p_second_output_missing(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    out[0] = tg_neg(in[0]);
    return TG_OK;
}
static tg_status p_fails_silently(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    (void)in;
    (void)out;
    return TG_ERR_NUMERIC;
}
static tg_status p_copy_to_tracer(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    float buf[64];
    tg_status st = tg_copy_to(in[0], buf, sizeof buf);
    out[0] = st ? NULL : tg_neg(in[0]);
    return st;
}
static tg_status p_item_tracer(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    double v = tg_item_f64(tg_sum(in[0], 0, NULL, false));
    out[0] = tg_mul_scalar(in[0], v);
    return out[0] && tg_last_error_code() == TG_OK ? TG_OK : tg_last_error_code();
}
static tg_status p_data_tracer(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    const void *d = tg_data(in[0]);
    out[0] = d ? in[0] : NULL;
    return d ? TG_OK : tg_last_error_code();
}
static tg_status p_numel_symbolic(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    int64_t n = tg_numel(in[0]);
    out[0] = n < 0 ? NULL : tg_reshape(in[0], 1, &n);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status p_dim_range(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    int64_t n = tg_dim(in[0], 2);
    out[0] = tg_reshape(in[0], 2, I64(n, -1));
    return out[0] ? TG_OK : tg_last_error_code();
}
/* A tracer kept from one trace and used in another. */
static tg_tensor *stale;
static tg_status p_keep_tracer(void *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    stale = tg_retain(in[0]);
    out[0] = tg_neg(in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}
PROG(p_use_stale_tracer, tg_add(X, stale))
PROG(p_return_stale_tracer, X ? stale : NULL)

typedef struct {
    const char *name;
    tg_trace_fn fn;
    int n_in, n_out;
    tg_spec specs[3];
    tg_status code;
    const char *const *want; /* substrings of the message, NULL-terminated */
} malformed;

#define F32(s) {TG_F32, s}
#define F64(s) {TG_F64, s}
#define C64(s) {TG_C64, s}
#define I64S(s) {TG_I64, s}
#define BOOLS(s) {TG_BOOL, s}
#define F16(s) {TG_F16, s}
#define BADDT(s) {(tg_dtype)42, s}
#define W(...) ((const char *const[]){__VA_ARGS__, NULL})
#define E(fn_, nin, specs_, code_, ...) {#fn_, fn_, nin, 1, specs_, code_, W(__VA_ARGS__)}
#define S1(a) {a}
#define S2(a, b) {a, b}
#define S3(a, b, c) {a, b, c}

static const malformed corpus[] = {
    /* matmul */
    E(p_matmul_fixed_inner, 2, S2(F32("N, 3"), F32("4, 5")), TG_ERR_SHAPE, "tg_matmul", "inner", "(N, 3) f32", "(4, 5) f32"),
    E(p_matmul_symbolic_inner, 2, S2(F32("N, K"), F32("M, 3")), TG_ERR_SHAPE, "tg_matmul", "inner sizes differ (K vs M)", "(N, K) f32", "(M, 3) f32"),
    E(p_matmul_vector_inner, 2, S2(F64("N, K"), F64("M")), TG_ERR_SHAPE, "tg_matmul", "(K vs M)", "(N, K) f64", "(M,) f64"),
    E(p_matmul_batch_symbolic, 2, S2(F32("B, N, K"), F32("C, K, M")), TG_ERR_SHAPE, "tg_matmul", "batch axes (B,) and (C,)", "(B, N, K) f32", "(C, K, M) f32"),
    E(p_matmul_batch_fixed, 2, S2(F32("2, N, K"), F32("3, K, N")), TG_ERR_SHAPE, "tg_matmul", "batch", "(2, N, K) f32", "(3, K, N) f32"),
    E(p_matmul_scalar, 2, S2(F32(""), F32("N")), TG_ERR_SHAPE, "tg_matmul", "at least 1 axis", "() f32", "(N,) f32"),
    E(p_matmul_bool, 2, S2(BOOLS("N, K"), BOOLS("K, M")), TG_ERR_DTYPE, "tg_matmul", "bool", "(N, K) bool"),
    E(p_matmul_after_transpose, 1, S1(F32("N, K, 2")), TG_OK, "unused"),   /* control: well formed */
    /* elementwise broadcasting */
    E(p_add_n_vs_m, 2, S2(F32("N, 3"), F32("M, 3")), TG_ERR_SHAPE, "tg_add", "broadcast", "(N, 3) f32", "(M, 3) f32"),
    E(p_mul_3_vs_4, 2, S2(F32("N, 3"), F32("N, 4")), TG_ERR_SHAPE, "tg_mul", "broadcast", "(N, 3) f32", "(N, 4) f32"),
    E(p_sub_n_vs_3, 2, S2(F64("N"), F64("3")), TG_ERR_SHAPE, "tg_sub", "broadcast", "(N,) f64", "(3,) f64"),
    E(p_div_n_vs_2n, 2, S2(F32("N"), F32("N")), TG_ERR_SHAPE, "tg_div", "broadcast", "(N,) f32", "(2*N,) f32"),
    E(p_maximum_transposed, 2, S2(F32("N, M"), F32("M, N")), TG_ERR_SHAPE, "tg_maximum", "(N, M) f32", "(M, N) f32"),
    E(p_pow_expr_vs_symbol, 2, S2(F32("N, C"), F32("N")), TG_ERR_SHAPE, "tg_pow", "(N*C,) f32", "(N,) f32"),
    E(p_where_values, 3, S3(BOOLS("N, 3"), F32("N, 3"), F32("M, 3")), TG_ERR_SHAPE, "tg_where", "(N, 3)", "(M, 3)"),
    E(p_where_cond, 3, S3(BOOLS("N, 4"), F32("N, 3"), F32("N, 3")), TG_ERR_SHAPE, "tg_where", "(N, 4)", "(N, 3)"),
    E(p_complex_n_vs_m, 2, S2(F32("N"), F32("M")), TG_ERR_SHAPE, "tg_complex", "(N,) f32", "(M,) f32"),
    /* reshape */
    E(p_reshape_fixed_count, 1, S1(F32("N, 4")), TG_ERR_SHAPE, "tg_reshape", "cannot reshape (4*N,) elements", "(N, 5)", "(N, 4) f32"),
    E(p_reshape_minus1_not_dividing, 1, S1(F32("N, 4")), TG_ERR_SHAPE, "tg_reshape", "cannot infer the -1 size", "4*N", "(N, 4) f32"),
    E(p_reshape_nc_into_cn2, 1, S1(F32("N, C")), TG_ERR_SHAPE, "tg_reshape", "N*C", "(C, N, 2)", "(N, C) f32"),
    E(p_reshape_new_symbol, 1, S1(F32("N, 4")), TG_ERR_SHAPE, "tg_reshape", "(M, 4)", "(N, 4) f32"),
    E(p_reshape_two_minus1, 1, S1(F32("N, 4")), TG_ERR_SHAPE, "tg_reshape", "more than one size is -1", "(N, 4) f32"),
    E(p_reshape_negative, 1, S1(F32("N, 4")), TG_ERR_SHAPE, "tg_reshape", "-3", "(N, 4) f32"),
    /* concat / stack */
    E(p_concat_symbolic_other_axis, 2, S2(F32("N, C"), F32("M, D")), TG_ERR_SHAPE, "tg_concat", "all axes but 0 must match", "(N, C) f32", "(M, D) f32"),
    E(p_concat_fixed_other_axis, 2, S2(F32("N, 3"), F32("M, 4")), TG_ERR_SHAPE, "tg_concat", "all axes but 1 must match", "(N, 3) f32", "(M, 4) f32"),
    E(p_concat_rank, 2, S2(F32("N, 3"), F32("N")), TG_ERR_SHAPE, "tg_concat", "(N, 3) f32", "(N,) f32"),
    E(p_concat_0d, 2, S2(F32(""), F32("")), TG_ERR_SHAPE, "tg_concat", "0-d"),
    E(p_concat_axis_range, 2, S2(F32("N, 3"), F32("N, 3")), TG_ERR_ARG, "tg_concat", "axis 2 is out of range for rank 2"),
    E(p_stack_symbolic, 2, S2(F32("N"), F32("M")), TG_ERR_SHAPE, "tg_stack", "all must match", "(N,)", "(M,)"),
    E(p_stack_fixed, 2, S2(F32("N, 3"), F32("N, 4")), TG_ERR_SHAPE, "tg_stack", "(N, 3)", "(N, 4)"),
    /* axes */
    E(p_sum_axis_range, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_sum", "axis 2 is out of range for rank 2"),
    E(p_sum_axis_repeated, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_sum", "axis -1 is repeated"),
    E(p_mean_axis_range, 1, S1(F64("N, C")), TG_ERR_ARG, "tg_mean", "axis -3 is out of range for rank 2"),
    E(p_var_axis_repeated, 1, S1(F64("N, C")), TG_ERR_ARG, "tg_var", "axis 0 is repeated"),
    E(p_logsumexp_axis, 1, S1(F32("N, C")), TG_ERR_ARG, "tg_logsumexp", "axis 2 is out of range for rank 2"),
    E(p_argmax_axis, 1, S1(F32("N, C")), TG_ERR_ARG, "tg_argmax", "axis 3 is out of range for rank 2"),
    E(p_cumsum_axis, 1, S1(F32("N, C")), TG_ERR_ARG, "tg_cumsum", "axis 2 is out of range for rank 2"),
    E(p_permute_repeated, 1, S1(F32("N, C, 4")), TG_ERR_ARG, "tg_permute", "axis 0 is repeated", "(N, C, 4) f32"),
    E(p_permute_range, 1, S1(F32("N, C")), TG_ERR_ARG, "tg_permute", "axis 3 is out of range", "(N, C) f32"),
    E(p_transpose_range, 1, S1(F32("N, C")), TG_ERR_ARG, "tg_transpose", "axis 2 is out of range for rank 2"),
    E(p_mT_1d, 1, S1(F32("N")), TG_ERR_SHAPE, "tg_mT", "at least 2 axes, got 1"),
    E(p_squeeze_symbolic, 1, S1(F32("N, 1")), TG_ERR_SHAPE, "tg_squeeze", "axis 0 has size N, not 1", "(N, 1) f32"),
    E(p_squeeze_fixed, 1, S1(F32("N, 3")), TG_ERR_SHAPE, "tg_squeeze", "axis 1 has size 3, not 1", "(N, 3) f32"),
    E(p_squeeze_range, 1, S1(F32("N, 1")), TG_ERR_ARG, "tg_squeeze", "axis 2 is out of range for rank 2"),
    E(p_unsqueeze_range, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_unsqueeze", "axis 4 is out of range for rank 3"),
    E(p_unsqueeze_rank, 1, S1(F32("N, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1")), TG_ERR_SHAPE, "tg_unsqueeze", "rank would exceed 16", "(N, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1) f32"),
    E(p_flip_repeated, 1, S1(F32("N, C")), TG_ERR_ARG, "tg_flip", "axis 1 is repeated"),
    E(p_diagonal_same_axis, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_diagonal", "same axis", "(N, 3) f32"),
    E(p_sort_axis, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_sort", "axis 2 is out of range for rank 2"),
    /* expand */
    E(p_expand_incompatible, 1, S1(F32("N, 3")), TG_ERR_SHAPE, "tg_expand", "axis 1 of size 3 cannot expand to 4", "(N, 3) f32"),
    E(p_expand_other_symbol, 1, S1(F32("N, 3")), TG_ERR_SHAPE, "tg_expand", "axis 0 of size N cannot expand to M", "(N, 3) f32"),
    E(p_expand_lower_rank, 1, S1(F32("N, 3")), TG_ERR_SHAPE, "tg_expand", "rank", "(N, 3) f32"),
    E(p_broadcast_to_symbol, 1, S1(F32("N, C")), TG_ERR_SHAPE, "tg_expand", "axis 1 of size C cannot expand to M", "(N, C) f32"),
    /* indexing */
    E(p_gather_rank, 1, S1(F32("N, 4")), TG_ERR_SHAPE, "tg_gather", "differ in rank", "(N, 4) f32", "(2,) i64"),
    E(p_gather_float_index, 2, S2(F32("N, 4"), F32("N, 2")), TG_ERR_DTYPE, "tg_gather", "index dtype f32", "(N, 2) f32"),
    E(p_index_select_2d, 1, S1(F32("N, 4")), TG_ERR_SHAPE, "tg_index_select", "1-d", "(N, 4) f32", "(1, 2) i64"),
    E(p_index_select_float, 2, S2(F32("N, 4"), F64("K")), TG_ERR_DTYPE, "tg_index_select", "index dtype f64", "(K,) f64"),
    E(p_scatter_add_src_dtype, 2, S2(F32("N, 4"), F64("N, 4")), TG_ERR_DTYPE, "tg_scatter_add", "src dtype f64", "(N, 4) f32"),
    E(p_scatter_add_rank, 2, S2(F32("N, 4"), F32("N, 4")), TG_ERR_SHAPE, "tg_scatter_add", "differ in rank", "(N, 4) f32"),
    E(p_select_fixed_range, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_select", "index 3 is out of range for axis 1 of size 3", "(N, 3)"),
    E(p_one_hot_float, 1, S1(F32("N")), TG_ERR_DTYPE, "tg_one_hot", "f32", "(N,) f32"),
    E(p_tril_1d, 1, S1(F32("N")), TG_ERR_SHAPE, "tg_tril", "at least 2 axes", "(N,) f32"),
    E(p_triu_0d, 1, S1(F64("")), TG_ERR_SHAPE, "tg_triu", "at least 2 axes", "() f64"),
    E(p_pad_negative, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_pad", "pad -1 before axis 1 is negative", "(N, 3) f32"),
    E(p_slice_step0, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_slice", "step is zero", "(N, 3) f32"),
    /* dtypes */
    E(p_erf_complex, 1, S1(C64("N, 3")), TG_ERR_DTYPE, "tg_erf", "c64", "(N, 3) c64"),
    E(p_max_complex, 1, S1(C64("N")), TG_ERR_DTYPE, "tg_max", "c64", "(N,) c64"),
    E(p_lt_complex, 2, S2(C64("N"), F32("N")), TG_ERR_DTYPE, "tg_lt", "c64", "(N,) c64", "(N,) f32"),
    E(p_logsumexp_complex, 1, S1(C64("N, 3")), TG_ERR_DTYPE, "tg_logsumexp", "not defined for complex input"),
    E(p_argmax_complex, 1, S1(C64("N, 3")), TG_ERR_DTYPE, "tg_argmax", "c64", "(N, 3) c64"),
    E(p_sort_complex, 1, S1(C64("N, 3")), TG_ERR_DTYPE, "tg_sort", "c64", "no total order", "(N, 3) c64"),
    E(p_imag_real, 1, S1(F32("N")), TG_ERR_DTYPE, "tg_imag", "complex", "(N,) f32"),
    E(p_complex_of_complex, 2, S2(C64("N"), C64("N")), TG_ERR_DTYPE, "tg_complex", "c64", "(N,) c64"),
    E(p_relu_complex, 1, S1(C64("N")), TG_ERR_DTYPE, "tg_relu", "c64", "(N,) c64"),
    E(p_f16_add, 2, S2(F16("N"), F32("N")), TG_ERR_DTYPE, "tg_add", "f16", "(N,) f16"),
    E(p_logical_not_complex, 1, S1(C64("N")), TG_ERR_DTYPE, "tg_floor", "c64", "(N,) c64"),
    /* empty axes, k, sizes */
    E(p_max_empty_axis, 1, S1(F32("N, 0")), TG_ERR_SHAPE, "tg_max", "empty axis", "(N, 0) f32"),
    E(p_argmin_empty_axis, 1, S1(F32("N, 0")), TG_ERR_SHAPE, "tg_argmin", "empty", "(N, 0) f32"),
    E(p_topk_fixed_k, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_topk", "k = 5 is out of range", "(N, 3) f32"),
    E(p_split_fixed_sizes, 1, S1(F32("N, 4")), TG_ERR_SHAPE, "tg_split", "do not sum to 4", "(N, 4)"),
    E(p_norm_p3, 1, S1(F32("N")), TG_ERR_ARG, "tg_norm", "p = 3"),
    /* spec strings */
    E(p_identity, 1, S1(F32("N, *")), TG_ERR_ARG, "tg_size_parse_shape", "'*'", "\"N, *\""),
    E(p_identity, 1, S1(F32("N 3")), TG_ERR_ARG, "tg_size_parse_shape", "expected ','", "\"N 3\""),
    E(p_identity, 1, S1(F32("N, -1")), TG_ERR_ARG, "tg_size_parse_shape", "'-'", "\"N, -1\""),
    E(p_identity, 1, S1(F32("N,,3")), TG_ERR_ARG, "tg_size_parse_shape", "\"N,,3\""),
    E(p_identity, 1, S1(F32("1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17")), TG_ERR_SHAPE, "tg_size_parse_shape", "more than 16 sizes"),
    E(p_identity, 1, S1(F32("a_name_that_is_far_too_long_for_a_symbol")), TG_ERR_ARG, "tg_size_parse_shape", "name too long"),
    E(p_identity, 1, S1(BADDT("N")), TG_ERR_DTYPE, "tg_trace", "spec 0", "invalid dtype"),
    /* outputs and status */
    E(p_null_output, 1, S1(F32("N")), TG_ERR_ARG, "tg_trace", "output 0 NULL"),
    {"p_second_output_missing", p_second_output_missing, 1, 2, S1(F32("N")), TG_ERR_ARG, W("tg_trace", "output 1 NULL")},
    E(p_fails_silently, 1, S1(F32("N")), TG_ERR_NUMERIC, "tg_trace", "the traced function failed"),
    /* reading values of a tracer */
    E(p_copy_to_tracer, 1, S1(F32("N")), TG_ERR_ARG, "tg_copy_to", "no values until the traced program runs"),
    E(p_item_tracer, 1, S1(F32("N")), TG_ERR_ARG, "tg_item_f64", "no values until the traced program runs"),
    E(p_data_tracer, 1, S1(F32("N")), TG_ERR_ARG, "tg_data", "no values until the traced program runs"),
    E(p_numel_symbolic, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_numel", "symbolic"),
    E(p_dim_range, 1, S1(F32("N, 3")), TG_ERR_ARG, "tg_dim", "axis 2 is out of range"),
};
#define N_CORPUS ((int)(sizeof corpus / sizeof corpus[0]))

/* Traces e; true when it behaves as the entry says, else why[] says how not. */
static bool check_entry(const malformed *e, char *why, size_t n) {
    tg_clear_error();
    why[0] = 0;
    tg_graph *g = tg_trace(e->fn, NULL, e->n_in, e->specs, e->n_out);
    const char *m = tg_last_error();
    bool ok = true;
    if (e->code == TG_OK) {
        if (!g) snprintf(why, n, "%s: a well-formed control program must trace: %s", e->name, m), ok = false;
    } else if (g) {
        snprintf(why, n, "%s: malformed program was NOT rejected at trace time", e->name);
        ok = false;
    } else if (tg_last_error_code() != e->code) {
        snprintf(why, n, "%s: status %s, want %s: %s", e->name, tg_status_name(tg_last_error_code()),
                 tg_status_name(e->code), m);
        ok = false;
    } else {
        for (int k = 0; e->want[k] && ok; k++)
            if (!strstr(m, e->want[k])) snprintf(why, n, "%s: message lacks \"%s\": %s", e->name, e->want[k], m), ok = false;
        if (ok && !strstr(m, "test_trace_malformed.c:"))
            snprintf(why, n, "%s: message does not name the user's line: %s", e->name, m), ok = false;
    }
    if (getenv("TG_MALFORMED_VERBOSE")) fprintf(stderr, "%-32s %s\n", e->name, m);
    tg_graph_free(g);
    tg_clear_error();
    return ok;
}

Test(trace_malformed, corpus_is_rejected_at_trace_time_with_named_constraints) {
    int bad = 0, rejected = 0;
    char why[1200];
    for (int k = 0; k < N_CORPUS; k++) {
        if (!check_entry(&corpus[k], why, sizeof why)) {
            cr_expect(false, "%s", why);
            bad++;
        }
        rejected += corpus[k].code != TG_OK;
    }
    cr_assert_geq(rejected, 50, "the corpus holds at least 50 malformed programs");
    cr_assert_eq(bad, 0, "%d of %d programs misbehaved", bad, N_CORPUS);
}

/* The checker itself notices an accepted program, a wrong status and a
 * message without the wanted words. */
Test(trace_malformed, checker_catches_accepted_programs_and_poor_messages) {
    char why[1200];
    malformed accepted = {"p_identity", p_identity, 1, 1, {F32("N")}, TG_ERR_SHAPE, W("tg_neg")};
    cr_assert_not(check_entry(&accepted, why, sizeof why));
    cr_assert(strstr(why, "NOT rejected"), "%s", why);
    malformed wrong_code = {"p_add_n_vs_m", p_add_n_vs_m, 2, 1, {F32("N, 3"), F32("M, 3")}, TG_ERR_DTYPE, W("tg_add")};
    cr_assert_not(check_entry(&wrong_code, why, sizeof why));
    cr_assert(strstr(why, "want TG_ERR_DTYPE"), "%s", why);
    malformed wrong_words = {"p_add_n_vs_m", p_add_n_vs_m, 2, 1, {F32("N, 3"), F32("M, 3")}, TG_ERR_SHAPE, W("(K, 3)")};
    cr_assert_not(check_entry(&wrong_words, why, sizeof why));
    cr_assert(strstr(why, "lacks \"(K, 3)\""), "%s", why);
}

/* A tracer that escapes its trace: using it in another trace, or returning
 * it from another trace, is an error naming the op. */
Test(trace_malformed, tracer_from_another_trace_is_rejected) {
    tg_graph *g1 = tg_trace(p_keep_tracer, NULL, 1, (tg_spec[]){F32("N")}, 1);
    cr_assert_not_null(g1, "%s", tg_last_error());
    cr_assert_not_null(stale);
    tg_graph *g2 = tg_trace(p_use_stale_tracer, NULL, 1, (tg_spec[]){F32("N")}, 1);
    cr_expect_null(g2, "a tracer of another trace must be rejected");
    cr_expect_eq(tg_last_error_code(), TG_ERR_ARG, "%s", tg_last_error());
    cr_expect(strstr(tg_last_error(), "tg_add") && strstr(tg_last_error(), "another trace") &&
                  strstr(tg_last_error(), "test_trace_malformed.c:"),
              "%s", tg_last_error());
    tg_graph_free(g2);
    tg_clear_error();
    tg_graph *g3 = tg_trace(p_return_stale_tracer, NULL, 1, (tg_spec[]){F32("N")}, 1);
    cr_expect_null(g3, "returning a tracer of another trace must be rejected");
    cr_expect(strstr(tg_last_error(), "output 0 belongs to another trace"), "%s", tg_last_error());
    tg_graph_free(g3);
    tg_clear_error();
    /* eagerly, outside any trace */
    tg_tensor *y = tg_neg(stale);
    cr_expect_null(y);
    cr_expect(strstr(tg_last_error(), "tg_neg: a tracer used outside its tg_trace"), "%s", tg_last_error());
    tg_clear_error();
    tg_graph_free(g1);
    tg_release(stale);
    stale = NULL;
}

/* The same after the first graph is freed: the next graph may get the
 * freed one's address, and the stale tracer must still be refused. */
Test(trace_malformed, tracer_of_a_freed_trace_is_rejected) {
    for (int round = 0; round < 4; round++) {
        tg_graph *g1 = tg_trace(p_keep_tracer, NULL, 1, (tg_spec[]){F32("N")}, 1);
        cr_assert_not_null(g1, "%s", tg_last_error());
        tg_graph_free(g1);
        tg_graph *g2 = tg_trace(p_use_stale_tracer, NULL, 1, (tg_spec[]){F32("N")}, 1);
        cr_expect_null(g2, "round %d: a tracer of a freed trace must be rejected", round);
        cr_expect(strstr(tg_last_error(), "another trace"), "round %d: %s", round, tg_last_error());
        tg_graph_free(g2);
        tg_clear_error();
        tg_release(stale);
        stale = NULL;
    }
}
