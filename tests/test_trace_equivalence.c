/* Traced mode against eager mode, op by op: every differentiable op of
 * tests/test_gradcheck_ops.c's table is traced (with a symbolic leading
 * axis N where the op allows it, else with fixed shapes), compiled once and
 * run on two bindings of N; outputs must equal eager mode BITWISE (the same
 * kernels run), and so must the cotangents of the compiled tg_graph_vjp
 * program against eager tg_vjp for a random cotangent. Then one compiled
 * program runs from 4 threads at once with different batch sizes. */
#include "support/check.h"
#include "support/op_funcs.h"

#include <tangent/sizes.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    CPLX = 1 << 0,       /* also check c128 inputs */
    CPLX_ONLY = 1 << 1,  /* defined for complex input only */
    FIXED = 1 << 2,      /* not traceable with a symbolic N: fixed shapes (reason in the table) */
};

typedef struct {
    const char *name;
    tg_trace_fn fn;
    int n_in, n_out;
    const char *shape[3];   /* spec shapes; "N" is the symbolic leading axis */
    double lo, hi;
    unsigned flags;
} op_entry;

/* symbolic variants of the ops that need fixed shapes as the table writes them */
F1(select_ax1, tg_select(x, 1, -1)) F1(reshape_sym, tg_reshape(x, 3, (int64_t[]){-1, 2, 2}))
F1(expand_sym, tg_expand(x, 3, (int64_t[]){2, -1, 4}))
F1(cumprod_ax1, tg_cumprod(x, 1)) F1(flip_ax1, tg_flip(x, 1, (int[]){1}))
F1(pad_ax1, tg_pad(x, (int64_t[]){0, 0, 2, 1}, 3.0)) F2(concat_ax1, tg_concat(2, (tg_tensor *[]){a, b}, 1))
F1(detach_mul, tg_mul(x, tg_detach(tg_square(x))))   /* gradient x^2, not 3 x^2 */

#define U(name, lo, hi, fl) {#name, f_##name, 1, 1, {"N, 4"}, lo, hi, fl}
#define UF(name, lo, hi, fl) {#name, f_##name, 1, 1, {"3, 4"}, lo, hi, (fl) | FIXED}
#define B(name, s0, s1, lo, hi, fl) {#name, f_##name, 2, 1, {s0, s1}, lo, hi, fl}

static const op_entry ops[] = {
    U(neg, -2, 2, CPLX), U(abs, -2, 2, CPLX), U(square, -2, 2, CPLX), U(reciprocal, 0.5, 2, CPLX),
    U(exp, -2, 2, CPLX), U(expm1, -2, 2, CPLX), U(log, 0.5, 3, CPLX), U(log1p, 0.1, 3, CPLX),
    U(log2, 0.5, 3, CPLX), U(log10, 0.5, 3, CPLX), U(sqrt, 0.5, 3, CPLX), U(rsqrt, 0.5, 3, CPLX),
    U(sin, -2, 2, CPLX), U(cos, -2, 2, CPLX), U(tan, -1, 1, CPLX), U(asin, -0.8, 0.8, CPLX),
    U(acos, -0.8, 0.8, CPLX), U(atan, -0.8, 0.8, CPLX), U(sinh, -2, 2, CPLX), U(cosh, -2, 2, CPLX),
    U(tanh, -2, 2, CPLX), U(asinh, -2, 2, CPLX), U(acosh, 1.2, 3, CPLX), U(atanh, -0.8, 0.8, CPLX),
    U(sigmoid, -3, 3, CPLX), U(relu, -2, 2, 0), U(gelu, -3, 3, 0), U(silu, -3, 3, 0),
    U(softplus, -3, 3, 0), U(erf, -2, 2, 0), U(erfc, -2, 2, 0), U(floor, -3, 3, 0), U(sign, -2, 2, CPLX),
    U(conj, -2, 2, CPLX), U(angle, -2, 2, CPLX), U(real, -2, 2, CPLX), U(clamp, -1, 1, 0),
    U(add_scalar, -2, 2, CPLX), U(rdiv_scalar, 0.5, 2, CPLX), U(pow_scalar, 0.5, 2, CPLX), U(cast_c128, -2, 2, 0),
    U(imag, -2, 2, CPLX | CPLX_ONLY),
    B(add, "N, 4", "1, 4", -2, 2, CPLX), B(sub, "N, 1", "N, 4", -2, 2, CPLX),
    B(mul, "N, 4", "N, 4", -2, 2, CPLX), B(div, "N, 4", "1, 4", 0.5, 2, CPLX),
    B(pow, "N, 4", "N, 4", 0.5, 2, CPLX), B(maximum, "N, 4", "N, 4", -2, 2, 0),
    B(minimum, "N, 4", "1, 4", -2, 2, 0), B(atan2, "N, 4", "N, 4", 0.5, 2, 0),
    B(remainder, "N, 4", "N, 4", 0.7, 2, 0), B(complex, "N, 4", "N, 4", -2, 2, 0),
    B(where, "N, 4", "N, 4", -2, 2, CPLX),
    B(einsum_matmul, "N, 4", "4, 2", -2, 2, CPLX), B(einsum_inner, "3, N", "N, 2", -2, 2, CPLX),
    B(einsum_trace_mul, "3, 3", "3, N", -2, 2, CPLX), B(einsum_batched, "N, 3, 4", "N, 4, 2", -2, 2, CPLX),
    B(einsum_outer, "N", "4", -2, 2, CPLX), B(einsum_ellipsis, "N, 3, 4", "4, 2", -2, 2, CPLX),
    /* a traced einsum fixes its path at trace time (symbolic sizes guessed 8): shapes whose best path is
     * the same for N = 3, 5 and 8, so the same kernels run in the same order */
    {"einsum_bilinear", f_einsum_bilinear, 3, 1, {"2", "2, N", "N"}, -2, 2, CPLX},
    {"einsum_chain", f_einsum_chain, 3, 1, {"2, N", "N, 4", "4, 3"}, -2, 2, CPLX},
    B(matmul, "N, 4", "4, 2", -2, 2, CPLX),
    {"matmul_vec", f_matmul, 2, 1, {"N, 4", "4"}, -2, 2, CPLX},
    {"matmul_batched", f_matmul, 2, 1, {"N, 3, 4", "4, 2"}, -2, 2, CPLX},
    {"matmul_inner_N", f_matmul, 2, 1, {"3, N", "N, 2"}, -2, 2, CPLX},
    U(sum_all, -2, 2, CPLX), U(sum_ax1_keep, -2, 2, CPLX), U(sum_ax0, -2, 2, CPLX), U(mean, -2, 2, CPLX),
    U(prod, 0.5, 2, CPLX), U(max_ax1, -2, 2, 0), U(min_all, -2, 2, 0), U(logsumexp, -2, 2, 0),
    U(var, -2, 2, CPLX), U(std, -2, 2, 0), U(norm1, 0.2, 2, 0), U(norm2, -2, 2, CPLX),
    U(norm_inf, -2, 2, 0), U(cumsum, -2, 2, CPLX),
    UF(cumprod, 0.5, 2, CPLX),           /* its VJP slices the symbolic axis 0 with bounds */
    U(cumprod_ax1, 0.5, 2, CPLX),
    UF(reshape, -2, 2, CPLX),            /* (3, -1) of N*4 elements: -1 is not exact for every N */
    U(reshape_sym, -2, 2, CPLX),
    U(permute, -2, 2, CPLX), U(slice, -2, 2, CPLX),
    UF(select, -2, 2, CPLX),             /* index -1 on the symbolic axis: slicing it with bounds */
    U(select_ax1, -2, 2, CPLX),
    {"expand", f_expand, 1, 1, {"3, 1"}, -2, 2, CPLX | FIXED},   /* to (2, 3, 4): the 3 is literal */
    {"expand_sym", f_expand_sym, 1, 1, {"N, 1"}, -2, 2, CPLX},
    U(squeeze, -2, 2, CPLX),
    UF(diagonal, -2, 2, CPLX),           /* the diagonal of symbolic axes is not supported yet */
    U(flatten, -2, 2, CPLX), U(copy, -2, 2, CPLX),
    UF(flip, -2, 2, CPLX),               /* flip of the symbolic axis: its VJP slices it with bounds */
    U(flip_ax1, -2, 2, CPLX), U(tril, -2, 2, CPLX), U(triu, -2, 2, CPLX),
    UF(pad, -2, 2, CPLX),                /* pad of the symbolic axis: its VJP slices it with bounds */
    U(pad_ax1, -2, 2, CPLX),
    {"concat", f_concat, 2, 1, {"3, 4", "2, 4"}, -2, 2, CPLX | FIXED},  /* VJP slices the N + 2 axis */
    B(concat_ax1, "N, 4", "N, 2", -2, 2, CPLX),
    U(detach_mul, -2, 2, CPLX), B(stack, "N, 4", "N, 4", -2, 2, CPLX),
    {"split", f_split, 1, 2, {"N, 4"}, -2, 2, CPLX},
    U(sort, -2, 2, 0), U(topk, -2, 2, 0),
    U(gather, -2, 2, CPLX), U(index_select, -2, 2, CPLX),
    B(scatter_add, "N, 4", "2, 2", -2, 2, CPLX),
};
#define N_OPS ((int)(sizeof ops / sizeof ops[0]))

/* The shape of a spec with N bound to n. */
static int bind_shape(const char *spec, int64_t n, int64_t *shape) {
    int nd = 0;
    for (const char *p = spec; *p;) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        if (*p == 'N') { shape[nd++] = n; p++; }
        else shape[nd++] = strtoll(p, (char **)&p, 10);
    }
    return nd;
}

static tg_tensor *sample(tg_dtype dt, int nd, const int64_t *shape, double lo, double hi) {
    tg_tensor *x = tg_uniform(TG_F64, nd, shape, lo, hi);
    return dt == TG_C128 ? tg_complex(x, tg_uniform(TG_F64, nd, shape, lo, hi)) : x;
}
static tg_tensor *cotangent_like(const tg_tensor *y) {
    tg_tensor *u = tg_randn(TG_F64, tg_ndim(y), tg_shape(y));
    return tg_dtype_is_complex(tg_dtype_of(y)) ? tg_complex(u, tg_randn(TG_F64, tg_ndim(y), tg_shape(y))) : u;
}

/* Same dtype, same shape and the same bytes, element by element. */
static bool same_bits(const tg_tensor *got, const tg_tensor *want, char *why, size_t n) {
    if (!got || !want) return snprintf(why, n, "NULL result (%s)", tg_last_error()), false;
    if (tg_dtype_of(got) != tg_dtype_of(want))
        return snprintf(why, n, "dtype %s vs %s", tg_dtype_name(tg_dtype_of(got)), tg_dtype_name(tg_dtype_of(want))), false;
    if (tg_ndim(got) != tg_ndim(want) ||
        memcmp(tg_shape(got), tg_shape(want), (size_t)tg_ndim(got) * sizeof(int64_t)) != 0)
        return snprintf(why, n, "shapes differ"), false;
    size_t es = tg_dtype_size(tg_dtype_of(got)), bytes = (size_t)tg_numel(got) * es;
    unsigned char *a = malloc(bytes + 1), *b = malloc(bytes + 1);
    bool ok = a && b && tg_copy_to(got, a, bytes) == TG_OK && tg_copy_to(want, b, bytes) == TG_OK;
    if (ok && memcmp(a, b, bytes) != 0) {
        size_t i = 0;
        while (memcmp(a + i * es, b + i * es, es) == 0) i++;
        snprintf(why, n, "element %zu differs in its bits", i);
        ok = false;
    } else if (!ok) {
        snprintf(why, n, "copy failed: %s", tg_last_error());
    }
    free(a);
    free(b);
    return ok;
}

#define EXPECT_SAME(got, want, ...)                                                         \
    do {                                                                                    \
        char why_[256];                                                                     \
        if (!same_bits(got, want, why_, sizeof why_)) {                                     \
            char what_[160];                                                                \
            snprintf(what_, sizeof what_, __VA_ARGS__);                                     \
            cr_expect(false, "%s: %s", what_, why_);                                        \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

static int failures;
static int n_symbolic, n_fixed;

static void run_entry(const op_entry *e, tg_dtype dt) {
    tg_scope_begin();
    const char *dn = tg_dtype_name(dt);
    tg_spec specs[3];
    for (int i = 0; i < e->n_in; i++) specs[i] = (tg_spec){dt, e->shape[i]};
    tg_graph *g = tg_trace(e->fn, NULL, e->n_in, specs, e->n_out);
    tg_graph *vg = g ? tg_graph_vjp(g) : NULL;
    if (!g || !vg) {
        cr_expect(false, "%s (%s): trace or vjp failed: %s", e->name, dn, tg_last_error());
        failures++;
        tg_graph_free(g);
        tg_clear_error();
        tg_scope_end();
        return;
    }
    int64_t compiles0, compiles1, bindings;
    tg_program_stats(NULL, &compiles0, NULL);
    tg_program *p = tg_compile(g, NULL), *pv = tg_compile(vg, NULL);
    cr_assert(p && pv, "%s: compile: %s", e->name, tg_last_error());
    tg_program_stats(NULL, &compiles1, NULL);
    cr_expect_eq(compiles1 - compiles0, 2, "%s: two programs, two compiles", e->name);
    bool symbolic = !(e->flags & FIXED);
    const int64_t ns[2] = {3, 5};
    for (int b = 0; b < 2; b++) {
        int64_t n = ns[b];
        tg_manual_seed(1000 + (uint64_t)b);
        tg_tensor *in[3], *cot[2], *eo[2] = {0}, *eg[3] = {0}, *ro[2] = {0}, *rv[2 + 2 + 3] = {0};
        for (int i = 0; i < e->n_in; i++) {
            int64_t shape[TG_MAX_DIMS];
            int nd = bind_shape(e->shape[i], n, shape);
            in[i] = sample(dt, nd, shape, e->lo, e->hi);
        }
        cr_assert_eq(e->fn(NULL, in, eo), TG_OK, "%s: eager: %s", e->name, tg_last_error());
        for (int j = 0; j < e->n_out; j++) cot[j] = cotangent_like(eo[j]);
        cr_assert_eq(tg_vjp(e->fn, NULL, e->n_in, in, e->n_out, cot, NULL, eg), TG_OK, "%s: eager vjp: %s", e->name,
                     tg_last_error());
        tg_status st = tg_run(p, in, ro);
        cr_expect_eq(st, TG_OK, "%s (%s, N=%lld): run: %s", e->name, dn, (long long)n, tg_last_error());
        tg_clear_error();
        for (int j = 0; st == TG_OK && j < e->n_out; j++)
            EXPECT_SAME(ro[j], eo[j], "%s (%s, N=%lld): output %d", e->name, dn, (long long)n, j);
        tg_tensor *vin[5];
        for (int i = 0; i < e->n_in; i++) vin[i] = in[i];
        for (int j = 0; j < e->n_out; j++) vin[e->n_in + j] = cot[j];
        st = tg_run(pv, vin, rv);
        cr_expect_eq(st, TG_OK, "%s (%s, N=%lld): run vjp: %s", e->name, dn, (long long)n, tg_last_error());
        tg_clear_error();
        for (int j = 0; st == TG_OK && j < e->n_out; j++)
            EXPECT_SAME(rv[j], eo[j], "%s (%s, N=%lld): vjp program output %d", e->name, dn, (long long)n, j);
        for (int i = 0; st == TG_OK && i < e->n_in; i++)
            EXPECT_SAME(rv[e->n_out + i], eg[i], "%s (%s, N=%lld): cotangent of input %d", e->name, dn,
                        (long long)n, i);
        if (!symbolic) break;            /* fixed shapes: one binding */
    }
    int64_t compiles2;
    tg_program_stats(p, &compiles2, &bindings);
    cr_expect_eq(compiles2, compiles1, "%s: running never compiles", e->name);
    cr_expect_eq(bindings, symbolic ? 2 : 1, "%s: bindings counted", e->name);
    tg_program_stats(pv, NULL, &bindings);
    cr_expect_eq(bindings, symbolic ? 2 : 1, "%s: vjp bindings counted", e->name);
    if (symbolic) n_symbolic++;
    else n_fixed++;
    tg_program_free(p);
    tg_program_free(pv);
    tg_graph_free(vg);
    tg_graph_free(g);
    tg_scope_end();
}

TestSuite(trace_equivalence, .init = tg_clear_error, .timeout = 300);

Test(trace_equivalence, every_op_compiled_equals_eager_bitwise_values_and_cotangents) {
    failures = n_symbolic = n_fixed = 0;
    for (int k = 0; k < N_OPS; k++) {
        if (!(ops[k].flags & CPLX_ONLY)) run_entry(&ops[k], TG_F64);
        if (ops[k].flags & CPLX) run_entry(&ops[k], TG_C128);
    }
    cr_assert_eq(failures, 0, "%d mismatches", failures);
    cr_assert_geq(n_symbolic, 100, "symbolic runs: %d", n_symbolic);
    cr_log_info("equivalence: %d ops, %d symbolic runs, %d fixed runs", N_OPS, n_symbolic, n_fixed);
}

/* The comparison itself must be able to fail: one flipped bit is caught. */
Test(trace_equivalence, bitwise_comparison_catches_one_ulp) {
    tg_scope_begin();
    tg_tensor *a = tg_from_data(TG_F64, 1, (int64_t[]){2}, (double[]){1.0, 2.0});
    tg_tensor *b = tg_from_data(TG_F64, 1, (int64_t[]){2}, (double[]){1.0, nextafter(2.0, 3.0)});
    char why[256];
    cr_assert(same_bits(a, a, why, sizeof why), "%s", why);
    cr_assert_not(same_bits(a, b, why, sizeof why));
    cr_assert(strstr(why, "element 1"), "%s", why);
    tg_scope_end();
}

/* ---- one program, four threads, four batch sizes ----------------------------------- */
typedef struct { tg_tensor *w, *b; } layer;

static tg_status f_model(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    layer *m = ctx;
    tg_tensor *h = tg_tanh(tg_add(tg_matmul(in[0], m->w), m->b));
    out[0] = tg_mean(tg_square(tg_sub(h, in[1])), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

#define N_THREADS 4
#define ITERS 25
typedef struct {
    const tg_program *p;
    tg_tensor *x, *t;          /* inputs of this thread's batch size */
    tg_tensor *want[3];        /* eager value and gradients */
    int mismatches, errors;
    char first[400];
} worker;

static void *work(void *arg) {
    worker *w = arg;
    for (int it = 0; it < ITERS; it++) {
        tg_tensor *r[3] = {0};
        if (tg_run(w->p, (tg_tensor *[]){w->x, w->t}, r) != TG_OK) {
            if (!w->errors++) snprintf(w->first, sizeof w->first, "run: %s", tg_last_error());
            tg_clear_error();
            continue;
        }
        for (int j = 0; j < 3; j++) {
            char why[256];
            if (!same_bits(r[j], w->want[j], why, sizeof why) && !w->mismatches++)
                snprintf(w->first, sizeof w->first, "iteration %d output %d: %s", it, j, why);
            tg_release(r[j]);
        }
    }
    return NULL;
}

Test(trace_equivalence, one_program_four_threads_different_batch_sizes) {
    tg_scope_begin();
    tg_manual_seed(77);
    layer m = {tg_randn(TG_F64, 2, (int64_t[]){8, 5}), tg_randn(TG_F64, 1, (int64_t[]){5})};
    tg_graph *g = tg_trace(f_model, &m, 2, (tg_spec[]){{TG_F64, "B, 8"}, {TG_F64, "B, 5"}}, 1);
    tg_graph *vg = g ? tg_graph_value_and_grad(g, 0, NULL) : NULL;
    cr_assert(g && vg, "%s", tg_last_error());
    tg_program *p = tg_compile(vg, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    int64_t compiles0;
    tg_program_stats(p, &compiles0, NULL);
    worker w[N_THREADS];
    const int64_t batch[N_THREADS] = {1, 7, 32, 129};
    for (int k = 0; k < N_THREADS; k++) {
        memset(&w[k], 0, sizeof w[k]);
        w[k].p = p;
        w[k].x = tg_randn(TG_F64, 2, (int64_t[]){batch[k], 8});
        w[k].t = tg_randn(TG_F64, 2, (int64_t[]){batch[k], 5});
        tg_tensor *grads[2];
        cr_assert_eq(tg_grad_fn(f_model, &m, 2, (tg_tensor *[]){w[k].x, w[k].t}, &w[k].want[0], grads), TG_OK,
                     "%s", tg_last_error());
        w[k].want[1] = grads[0];
        w[k].want[2] = grads[1];
    }
    pthread_t th[N_THREADS];
    for (int k = 0; k < N_THREADS; k++) cr_assert_eq(pthread_create(&th[k], NULL, work, &w[k]), 0);
    for (int k = 0; k < N_THREADS; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < N_THREADS; k++) {
        cr_expect_eq(w[k].errors, 0, "thread %d (B=%lld): %s", k, (long long)batch[k], w[k].first);
        cr_expect_eq(w[k].mismatches, 0, "thread %d (B=%lld): %s", k, (long long)batch[k], w[k].first);
    }
    int64_t compiles1, bindings;
    tg_program_stats(p, &compiles1, &bindings);
    cr_expect_eq(compiles1, compiles0, "threads never recompile");
    cr_expect_eq(bindings, N_THREADS, "one binding per batch size");
    tg_program_free(p);
    tg_graph_free(vg);
    tg_graph_free(g);
    tg_scope_end();
}
