/* tg_einsum beyond the oracle file: error messages naming the label and the
 * operand, integer labels, path optimality (optimal <= greedy, the known
 * optimum of a matrix chain), tg_einsum_path's report, and a traced einsum
 * with a symbolic batch axis equal to eager mode bitwise. */
#include "support/check.h"

#include <tangent/sizes.h>

#include "einsum/einsum_impl.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(einsum, .init = tg_clear_error);

#define OPS(...) (tg_tensor *[]){__VA_ARGS__}

static tg_tensor *mat(int64_t r, int64_t c) { return tg_randn(TG_F64, 2, (int64_t[]){r, c}); }

/* The call fails with code and a message holding every one of the strings. */
static void expect_error(tg_tensor *r, tg_status code, const char *s1, const char *s2, const char *what) {
    cr_expect_null(r, "%s: succeeded", what);
    cr_expect_eq(tg_last_error_code(), code, "%s: %s, want %s (%s)", what, tg_status_name(tg_last_error_code()),
                 tg_status_name(code), tg_last_error());
    cr_expect(strstr(tg_last_error(), s1) != NULL, "%s: message \"%s\" lacks \"%s\"", what, tg_last_error(), s1);
    if (s2) cr_expect(strstr(tg_last_error(), s2) != NULL, "%s: message \"%s\" lacks \"%s\"", what, tg_last_error(), s2);
    tg_clear_error();
}

Test(einsum, bad_input_errors_name_the_label_and_operand) {
    tg_scope_begin();
    tg_tensor *a = mat(3, 4), *b = mat(5, 2), *c = mat(4, 2), *v = tg_randn(TG_F64, 1, (int64_t[]){3});
    expect_error(tg_einsum("ij,jk->ik", 2, OPS(a, b)), TG_ERR_SHAPE,
                 "label j has size 4 in operand 0 and 5 in operand 1", NULL, "size conflict");
    expect_error(tg_einsum("ij,kj,jl->il", 3, OPS(a, c, a)), TG_ERR_SHAPE, "label j", "operand 1", "size conflict 3");
    expect_error(tg_einsum("ij->ii", 1, OPS(a)), TG_ERR_ARG, "output label i", "more than once", "repeated output");
    expect_error(tg_einsum("ij->ik", 1, OPS(a)), TG_ERR_ARG, "output label k", "no operand", "unknown output");
    expect_error(tg_einsum("ij,jk->ik", 1, OPS(a)), TG_ERR_ARG, "2 operand terms", "1 operand", "operand count");
    expect_error(tg_einsum("i,j", 3, OPS(a, a, a)), TG_ERR_ARG, "2 operand terms", "3 operands", "operand count 3");
    expect_error(tg_einsum("ijk", 1, OPS(a)), TG_ERR_SHAPE, "operand 0 has 2 dimensions", "3 labels", "rank");
    expect_error(tg_einsum("ij,j", 2, OPS(a, a)), TG_ERR_SHAPE, "operand 1 has 2 dimensions", "1 label", "rank 1");
    expect_error(tg_einsum("...ijk", 1, OPS(a)), TG_ERR_SHAPE, "operand 0", "3 labels and \"...\"", "rank ell");
    expect_error(tg_einsum("i1", 1, OPS(a)), TG_ERR_ARG, "invalid character '1'", "operand 0", "bad char");
    expect_error(tg_einsum("ij,j$", 2, OPS(a, c)), TG_ERR_ARG, "invalid character '$'", "operand 1", "bad char 1");
    expect_error(tg_einsum("ij->j#", 1, OPS(a)), TG_ERR_ARG, "invalid character '#'", "output", "bad char out");
    expect_error(tg_einsum("ij->j->i", 1, OPS(a)), TG_ERR_ARG, "more than one \"->\"", NULL, "two arrows");
    expect_error(tg_einsum("ij-i", 1, OPS(a)), TG_ERR_ARG, "\"->\"", NULL, "broken arrow");
    expect_error(tg_einsum("i..j", 1, OPS(a)), TG_ERR_ARG, "malformed \"...\"", "operand 0", "two dots");
    expect_error(tg_einsum("i......", 1, OPS(a)), TG_ERR_ARG, "more than one \"...\"", "operand 0", "two ellipses");
    expect_error(tg_einsum("...i->i", 1, OPS(a)), TG_ERR_ARG, "no \"...\"", NULL, "ellipsis dropped");
    expect_error(tg_einsum("ii", 1, OPS(a)), TG_ERR_SHAPE, "label i repeated in operand 0", "3 and 4", "diag sizes");
    expect_error(tg_einsum("ij,jk->ik", 2, OPS(a, NULL)), TG_ERR_ARG, "operand 1 is NULL", NULL, "NULL operand");
    expect_error(tg_einsum(NULL, 1, OPS(a)), TG_ERR_ARG, "NULL", NULL, "NULL subscripts");
    expect_error(tg_einsum("ij", 0, OPS(a)), TG_ERR_ARG, "operand count", NULL, "zero operands");
    expect_error(tg_einsum("i,i", 2, OPS(v, tg_randn(TG_F64, 1, (int64_t[]){4}))), TG_ERR_SHAPE,
                 "label i has size 3 in operand 0 and 4 in operand 1", NULL, "vectors");
    expect_error(tg_einsum("ij,ij->", 2, OPS(a, tg_cast(a, TG_BOOL))), TG_ERR_DTYPE, "operand 1 is bool", NULL, "bool");
    /* integer labels */
    const int la[2] = {7, 100}, lb[2] = {100, 9}, lo[2] = {7, 9}, bad[1] = {-3};
    expect_error(tg_einsum_ints(2, OPS(a, b), (const int *[]){la, lb}, (int[]){2, 2}, lo, 2), TG_ERR_SHAPE,
                 "label 100 has size 4 in operand 0 and 5 in operand 1", NULL, "ints size conflict");
    expect_error(tg_einsum_ints(1, OPS(v), (const int *[]){bad}, (int[]){1}, NULL, 0), TG_ERR_ARG, "negative label -3",
                 NULL, "ints negative");
    expect_error(tg_einsum_ints(1, OPS(a), (const int *[]){la}, (int[]){2}, (int[]){5}, 1), TG_ERR_ARG,
                 "output label 5", "no operand", "ints unknown output");
    expect_error(tg_einsum_ints(1, OPS(a), (const int *[]){la}, (int[]){2}, (int[]){7, 7}, 2), TG_ERR_ARG,
                 "output label 7", "more than once", "ints repeated output");
    expect_error(tg_einsum_ints(1, OPS(a), (const int *[]){la}, (int[]){1}, NULL, -1), TG_ERR_SHAPE,
                 "operand 0 has 2 dimensions", NULL, "ints rank");
    tg_scope_end();
}

Test(einsum, integer_labels_match_letters) {
    tg_scope_begin();
    tg_tensor *a = tg_randn(TG_F64, 3, (int64_t[]){2, 3, 4}), *b = mat(4, 5), *c = mat(5, 3);
    const int la[3] = {1000, 3, 42}, lb[2] = {42, 8}, lc[2] = {8, 3}, lo[2] = {1000, 3};
    tg_tensor *got = tg_einsum_ints(3, OPS(a, b, c), (const int *[]){la, lb, lc}, (int[]){3, 2, 2}, lo, 2);
    tg_tensor *want = tg_einsum("bik,kl,li->bi", 3, OPS(a, b, c));
    cr_assert(got && want, "%s", tg_last_error());
    check_close(got, want, 1e-12, 1e-12, "ints");
    /* implicit output: labels seen once, increasing */
    const int ia[2] = {5, 2}, ib[2] = {2, 1};
    tg_tensor *x = mat(3, 4), *y = mat(4, 6);
    got = tg_einsum_ints(2, OPS(x, y), (const int *[]){ia, ib}, (int[]){2, 2}, NULL, -1);
    want = tg_einsum("ij,jk->ki", 2, OPS(x, y));   /* 1 < 5: the output is (label 1, label 5) */
    cr_assert(got && want, "%s", tg_last_error());
    check_close(got, want, 1e-12, 1e-12, "ints implicit");
    tg_scope_end();
}

Test(einsum, integer_operands_and_empty_axes) {
    tg_scope_begin();
    tg_tensor *a = tg_reshape(tg_arange(TG_I64, 0, 6, 1), 2, (int64_t[]){2, 3});
    tg_tensor *r = tg_einsum("ij,kj->ik", 2, OPS(a, a));
    cr_assert(r, "%s", tg_last_error());
    cr_expect_eq(tg_dtype_of(r), TG_I64);
    check_values_f64(r, 4, (double[]){5, 14, 14, 50}, 0, "i64 einsum");
    tg_tensor *z = tg_einsum("ij,jk->ik", 2, OPS(mat(2, 0), mat(0, 3)));
    cr_assert(z, "%s", tg_last_error());
    check_values_f64(z, 6, (double[]){0, 0, 0, 0, 0, 0}, 0, "empty contraction");
    tg_scope_end();
}

Test(einsum, result_owned_by_the_caller_without_a_scope) {
    tg_tensor *a = mat(3, 3);
    tg_tensor *t = tg_einsum("ii", 1, OPS(a));
    tg_tensor *d = tg_einsum("ij->ij", 1, OPS(a));
    cr_assert(t && d, "%s", tg_last_error());
    cr_expect_eq(tg_ndim(t), 0);
    check_close(d, a, 0, 0, "identity");
    tg_release(t);
    tg_release(d);
    tg_release(a);
}

/* ---- paths ---------------------------------------------------------------- */
static double report_number(const char *rep, const char *key) {
    const char *p = strstr(rep, key);
    cr_assert(p, "report lacks \"%s\":\n%s", key, rep);
    return strtod(p + strlen(key), NULL);
}

static double path_flops(const char *sub, int n, tg_tensor *const *ops, const char *strategy, char **rep_out) {
    char *rep = NULL;
    tg_status st = tg_einsum_path(sub, n, ops, strategy, &rep);
    cr_assert_eq(st, TG_OK, "%s (%s): %s", sub, strategy, tg_last_error());
    double f = report_number(rep, "Optimized FLOP count:");
    if (rep_out) *rep_out = rep;
    else free(rep);
    return f;
}

/* Chain of matrices with these dimensions: "ab,bc,cd,...". */
static int chain(int n, const int64_t *dims, tg_tensor **ops, char *sub) {
    char *p = sub;
    for (int i = 0; i < n; i++) {
        ops[i] = tg_zeros(TG_F32, 2, (int64_t[]){dims[i], dims[i + 1]});
        p += sprintf(p, "%s%c%c", i ? "," : "", 'a' + i, 'a' + i + 1);
    }
    sprintf(p, "->a%c", 'a' + n);
    return n;
}

Test(einsum, optimal_path_of_a_matrix_chain_is_the_known_optimum) {
    tg_scope_begin();
    /* CLRS 15.2: 15125 scalar multiplications; opt_einsum's model counts 2 per
     * multiply-add, numpy.einsum_path adds 1. */
    const int64_t dims[7] = {30, 35, 15, 5, 10, 20, 25};
    tg_tensor *ops[6];
    char sub[64];
    chain(6, dims, ops, sub);
    char *rep;
    double opt = path_flops(sub, 6, ops, "optimal", &rep);
    cr_expect(strstr(rep, "Optimized FLOP count:  3.025e+04") != NULL, "optimal %g:\n%s", opt, rep);
    cr_expect(strstr(rep, "(1, 2)      5.250e+03    bd") != NULL, "%s", rep);   /* 2 * 35 * 15 * 5 */
    cr_expect(strstr(rep, "Path:  [(1, 2), (0, 4), (0, 1), (0, 2), (0, 1)]") != NULL, "%s", rep);
    cr_expect(strstr(rep, "Naive FLOP count:  2.362e+09") != NULL, "%s", rep);
    cr_expect(strstr(rep, "Largest intermediate:  7.500e+02 elements") != NULL, "%s", rep);
    free(rep);
    char *grep_ = NULL;
    double greedy = path_flops(sub, 6, ops, "greedy", &grep_);
    /* numpy.einsum_path(..., optimize='greedy') gives this path and count */
    cr_expect(strstr(grep_, "Path:  [(0, 1), (2, 3), (0, 2), (0, 1), (0, 1)]") != NULL, "%s", grep_);
    cr_expect(strstr(grep_, "Optimized FLOP count:  5.600e+04") != NULL, "%s", grep_);
    free(grep_);
    cr_expect_geq(greedy, opt);
    cr_expect_eq(path_flops(sub, 6, ops, "auto", NULL), opt, "auto is optimal up to 6 operands");
    cr_expect_eq(path_flops(sub, 6, ops, NULL, NULL), opt);
    tg_scope_end();
}

Test(einsum, optimal_never_worse_than_greedy) {
    tg_scope_begin();
    const int64_t chains[4][9] = {{10, 100, 5, 50, 2, 80, 3, 60, 7}, {2, 3, 4, 5, 6, 7, 8, 9, 10},
                                  {50, 2, 50, 2, 50, 2, 50, 2, 50}, {7, 7, 7, 7, 7, 7, 7, 7, 7}};
    for (int k = 0; k < 4; k++) {
        tg_tensor *ops[8];
        char sub[64];
        chain(8, chains[k], ops, sub);
        double o = path_flops(sub, 8, ops, "optimal", NULL), g = path_flops(sub, 8, ops, "greedy", NULL);
        cr_expect_leq(o, g, "chain %d: optimal %g > greedy %g", k, o, g);
        /* past 6 operands auto is random-greedy + subtree reconfiguration,
         * whose subtrees of 8 parts cover an 8-chain: the optimum */
        double a = path_flops(sub, 8, ops, "auto", NULL), r = path_flops(sub, 8, ops, "random-greedy", NULL);
        cr_expect_eq(a, o, "chain %d: auto %g, optimal %g", k, a, o);
        cr_expect_eq(r, o, "chain %d: random-greedy %g, optimal %g", k, r, o);
    }
    /* a network with a hub: optimal <= greedy as well */
    tg_tensor *h = tg_zeros(TG_F32, 4, (int64_t[]){3, 4, 5, 6});
    tg_tensor *ea = mat(7, 3), *fb = mat(2, 4), *gc = mat(9, 5), *hd = mat(3, 6);
    double o = path_flops("ea,fb,abcd,gc,hd->efgh", 5, OPS(ea, fb, h, gc, hd), "optimal", NULL);
    double g = path_flops("ea,fb,abcd,gc,hd->efgh", 5, OPS(ea, fb, h, gc, hd), "greedy", NULL);
    char *rep = NULL;
    path_flops("ea,fb,abcd,gc,hd->efgh", 5, OPS(ea, fb, h, gc, hd), "optimal", &rep);
    /* numpy.einsum_path(..., optimize='optimal') for these shapes */
    cr_expect(strstr(rep, "Path:  [(1, 2), (2, 3), (1, 2), (0, 1)]") != NULL, "%s", rep);
    cr_expect(strstr(rep, "Optimized FLOP count:  6.409e+03") != NULL, "%s", rep);
    cr_expect(strstr(rep, "Naive FLOP count:  6.804e+05") != NULL, "%s", rep);
    cr_expect(strstr(rep, "Largest intermediate:  3.780e+02 elements") != NULL, "%s", rep);
    free(rep);
    cr_expect_leq(o, g);
    tg_scope_end();
}

Test(einsum, path_report_content_and_errors) {
    tg_scope_begin();
    tg_tensor *a = mat(2, 3), *c = mat(3, 3), *b = mat(3, 4);
    char *rep = NULL;
    cr_assert_eq(tg_einsum_path("ij,jk,kl->il", 3, OPS(a, c, b), "optimal", &rep), TG_OK, "%s", tg_last_error());
    /* the figures numpy.einsum_path prints for these shapes */
    const char *want[] = {"Complete contraction:  ij,jk,kl->il", "Path:  [(0, 1), (0, 1)]",
                          "Naive FLOP count:  2.160e+02", "Optimized FLOP count:  8.500e+01",
                          "Theoretical speedup:  2.541", "Largest intermediate:  8.000e+00 elements", "ik", "il"};
    for (size_t k = 0; k < sizeof want / sizeof *want; k++)
        cr_expect(strstr(rep, want[k]) != NULL, "report lacks \"%s\":\n%s", want[k], rep);
    free(rep);
    rep = (char *)1;
    cr_expect_eq(tg_einsum_path("ij,jk", 2, OPS(a, b), "fastest", &rep), TG_ERR_ARG);
    cr_expect(strstr(tg_last_error(), "unknown strategy \"fastest\"") != NULL, "%s", tg_last_error());
    cr_expect_null(rep);
    tg_clear_error();
    cr_expect_eq(tg_einsum_path("ij,jk->iq", 2, OPS(a, c), "greedy", &rep), TG_ERR_ARG);
    cr_expect(strstr(tg_last_error(), "output label q") != NULL, "%s", tg_last_error());
    tg_clear_error();
    tg_tensor *many[11];
    char sub[64];
    const int64_t dims[12] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
    chain(11, dims, many, sub);
    cr_expect_eq(tg_einsum_path(sub, 11, many, "optimal", &rep), TG_ERR_ARG);
    tg_clear_error();
    cr_expect_eq(tg_einsum_path(sub, 11, many, "greedy", &rep), TG_OK, "%s", tg_last_error());
    free(rep);
    /* one operand: no pairs */
    cr_expect_eq(tg_einsum_path("ii", 1, OPS(c), NULL, &rep), TG_OK);
    cr_expect(strstr(rep, "Path:  []") != NULL, "%s", rep);
    free(rep);
    tg_scope_end();
}

/* The contraction along each strategy's path gives the same values. */
Test(einsum, long_chain_values_agree_with_matmul) {
    tg_scope_begin();
    const int64_t dims[9] = {3, 5, 2, 6, 4, 3, 5, 2, 4};
    tg_tensor *ops[8];
    char sub[64];
    chain(8, dims, ops, sub);
    tg_tensor *want = NULL;
    for (int i = 0; i < 8; i++) {
        ops[i] = tg_randn(TG_F64, 2, (int64_t[]){dims[i], dims[i + 1]});
        want = i ? tg_matmul(want, ops[i]) : ops[i];
    }
    tg_tensor *got = tg_einsum(sub, 8, ops);
    cr_assert(got, "%s", tg_last_error());
    check_close(got, want, 1e-10, 1e-12, "8-matrix chain");
    tg_scope_end();
}

/* ---- tracing ---------------------------------------------------------------- */
static tg_status batched(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_einsum("bij,bjk,k->bi", 3, in);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(einsum, traced_with_symbolic_batch_equals_eager_bitwise) {
    tg_scope_begin();
    tg_spec specs[3] = {{TG_F64, "N, 3, 4"}, {TG_F64, "N, 4, 5"}, {TG_F64, "5"}};
    tg_graph *g = tg_trace(batched, NULL, 3, specs, 1);
    cr_assert(g, "trace: %s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert(p, "compile: %s", tg_last_error());
    const int64_t ns[2] = {2, 7};
    for (int k = 0; k < 2; k++) {
        tg_tensor *in[3] = {tg_randn(TG_F64, 3, (int64_t[]){ns[k], 3, 4}), tg_randn(TG_F64, 3, (int64_t[]){ns[k], 4, 5}),
                            tg_randn(TG_F64, 1, (int64_t[]){5})};
        tg_tensor *eager = NULL, *run = NULL;
        cr_assert_eq(batched(NULL, in, &eager), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_run(p, in, &run), TG_OK, "N=%lld: %s", (long long)ns[k], tg_last_error());
        cr_expect_eq(tg_ndim(run), 2);
        cr_expect_eq(tg_dim(run, 0), ns[k]);
        cr_expect(bitwise_equal(run, eager), "N=%lld: compiled differs from eager", (long long)ns[k]);
    }
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

/* User input never aborts: random subscripts over a small alphabet either
 * give a tensor or fail with a recorded error (run under the sanitizers). */
Test(einsum, random_subscripts_fail_cleanly) {
    static const char alphabet[] = "ijkiij..,,->-> 1A";
    tg_scope_begin();
    tg_tensor *ops[3] = {tg_randn(TG_F64, 2, (int64_t[]){2, 2}), tg_randn(TG_F64, 1, (int64_t[]){2}),
                         tg_randn(TG_F64, 3, (int64_t[]){2, 1, 2})};
    uint64_t state = 12345;
    int ok = 0, failed = 0;
    for (int trial = 0; trial < 3000; trial++) {
        char sub[16];
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        int len = (int)(state >> 60);
        for (int k = 0; k < len; k++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            sub[k] = alphabet[(state >> 33) % (sizeof alphabet - 1)];
        }
        sub[len] = '\0';
        int n = 1 + (int)((state >> 20) % 3);
        tg_tensor *r = tg_einsum(sub, n, ops);
        if (r) {
            ok++;
        } else {
            cr_expect_neq(tg_last_error_code(), TG_OK, "\"%s\": NULL without an error", sub);
            cr_expect(tg_last_error()[0] != '\0', "\"%s\": empty message", sub);
            failed++;
        }
        tg_clear_error();
        char *rep = NULL;
        if (tg_einsum_path(sub, n, ops, "greedy", &rep) == TG_OK) free(rep);
        tg_clear_error();
    }
    cr_expect_gt(ok, 0);
    cr_expect_gt(failed, 0);
    tg_scope_end();
}

/* ---- UTF-8 labels, options, user paths, memory limit, many operands ------- */
Test(einsum, utf8_labels_equal_ascii_and_integer_forms) {
    tg_scope_begin();
    tg_tensor *a = mat(3, 4), *b = mat(4, 5), *c = tg_randn(TG_F64, 3, (int64_t[]){2, 3, 5});
    /* same labels in the same order: same path, same bits */
    tg_tensor *u = tg_einsum("\u03b1\u03b2,\u03b2\u03b3,\u00e9\u03b1\u03b3->\u00e9", 3, OPS(a, b, c));
    tg_tensor *s = tg_einsum("ij,jk,lik->l", 3, OPS(a, b, c));
    const int la[2] = {0, 1}, lb[2] = {1, 2}, lc[3] = {3, 0, 2}, lo[1] = {3};
    tg_tensor *n = tg_einsum_ints(3, OPS(a, b, c), (const int *[]){la, lb, lc}, (int[]){2, 2, 3}, lo, 1);
    cr_assert(u && s && n, "%s", tg_last_error());
    check_close(u, s, 0, 0, "utf8 vs ascii");
    check_close(n, s, 0, 0, "ints vs ascii");
    /* implicit output in code point order: U+03B1 < U+03B2, as 'a' < 'b';
     * a 4-byte label (U+1F600) and a 3-byte one (U+20AC) mixed with ASCII */
    tg_tensor *t1 = tg_einsum("\u03b2\u03b1", 1, OPS(a)), *t2 = tg_einsum("ba", 1, OPS(a));
    tg_tensor *m1 = tg_einsum("x\U0001F600,\U0001F600\u20ac", 2, OPS(a, b)), *m2 = tg_einsum("xy,yz", 2, OPS(a, b));
    cr_assert(t1 && t2 && m1 && m2, "%s", tg_last_error());
    check_close(t1, t2, 0, 0, "implicit utf8 transpose");
    cr_expect_eq(tg_dim(t1, 0), 4);
    check_close(m1, m2, 0, 0, "4-byte labels");
    /* errors name UTF-8 labels as written */
    expect_error(tg_einsum("\u00e9j,\u00e9k->jk", 2, OPS(a, b)), TG_ERR_SHAPE,
                 "label \u00e9 has size 3 in operand 0 and 4 in operand 1", NULL, "utf8 size conflict");
    expect_error(tg_einsum("ij->\u00e9", 1, OPS(a)), TG_ERR_ARG, "output label \u00e9", "no operand", "utf8 out");
    expect_error(tg_einsum("i\xc3(", 1, OPS(a)), TG_ERR_ARG, "malformed UTF-8", "operand 0", "bad continuation");
    expect_error(tg_einsum("i\xe2\x82", 1, OPS(a)), TG_ERR_ARG, "malformed UTF-8", NULL, "truncated");
    expect_error(tg_einsum("i\xc0\xaf", 1, OPS(a)), TG_ERR_ARG, "malformed UTF-8", NULL, "overlong");
    expect_error(tg_einsum("i\xed\xa0\x80", 1, OPS(a)), TG_ERR_ARG, "malformed UTF-8", NULL, "surrogate");
    expect_error(tg_einsum("ij->i\xff", 1, OPS(a)), TG_ERR_ARG, "malformed UTF-8", "output", "bad lead");
    tg_scope_end();
}

Test(einsum, more_than_52_utf8_labels_and_64_operands) {
    tg_scope_begin();
    /* a 70-matrix chain, labels U+0100.. (2 bytes each): past the 52 letters
     * and the old 64-operand limit; equal to the integer form bitwise and to
     * a product of tg_matmul calls up to rounding */
    enum { N = 70 };
    tg_tensor *ops[N];
    char sub[N * 6 + 16], *p = sub;
    int lab[N][2], nl[N];
    const int *labs[N];
    tg_tensor *prod = NULL;
    for (int i = 0; i < N; i++) {
        ops[i] = tg_div_scalar(mat(3, 3), 2.0);
        prod = prod ? tg_matmul(prod, ops[i]) : ops[i];
        for (int k = 0; k < 2; k++) {
            int cp = 0x100 + i + k;
            *p++ = (char)(0xc0 | cp >> 6);
            *p++ = (char)(0x80 | (cp & 0x3f));
            lab[i][k] = i + k;
        }
        *p++ = i + 1 < N ? ',' : '-';
        labs[i] = lab[i];
        nl[i] = 2;
    }
    *p++ = '>';
    p += sprintf(p, "\xc4\x80");   /* U+0100 */
    int cp = 0x100 + N;
    *p++ = (char)(0xc0 | cp >> 6);
    *p++ = (char)(0x80 | (cp & 0x3f));
    *p = 0;
    tg_tensor *u = tg_einsum(sub, N, ops);
    tg_tensor *n = tg_einsum_ints(N, ops, labs, nl, (int[]){0, N}, 2);
    cr_assert(u && n, "%s", tg_last_error());
    check_close(u, n, 0, 0, "utf8 vs ints, 70 operands");
    check_close(u, prod, 1e-12, 1e-9, "70-chain vs matmul");
    tg_scope_end();
}

Test(einsum, user_path_is_followed_and_checked) {
    tg_scope_begin();
    tg_tensor *a = mat(2, 30), *b = mat(30, 40), *c = mat(40, 3);
    /* (a b) c against a (b c): both equal matmul; costs as numpy.einsum_path
     * reports them for ((0, 1), (0, 1)) and ((1, 2), (0, 1)) */
    tg_einsum_opts left = {NULL, 0, (const int[][2]){{0, 1}, {0, 1}}};
    tg_einsum_opts right = {NULL, 0, (const int[][2]){{2, 1}, {1, 0}}};   /* either order in a pair */
    int p[2][2];
    double f, lg;
    cr_assert_eq(tg_einsum_path_opt("ij,jk,kl->il", 3, OPS(a, b, c), &left, p, &f, &lg, NULL), TG_OK, "%s",
                 tg_last_error());
    cr_expect_eq(f, 2.0 * 2 * 30 * 40 + 2.0 * 2 * 40 * 3);
    cr_expect_eq(lg, 80);
    cr_expect(p[0][0] == 0 && p[0][1] == 1 && p[1][0] == 0 && p[1][1] == 1);
    cr_assert_eq(tg_einsum_path_opt("ij,jk,kl->il", 3, OPS(a, b, c), &right, p, &f, &lg, NULL), TG_OK);
    cr_expect_eq(f, 2.0 * 30 * 40 * 3 + 2.0 * 2 * 30 * 3);
    cr_expect(p[0][0] == 1 && p[0][1] == 2 && p[1][0] == 0 && p[1][1] == 1, "normalised to i < j");
    tg_tensor *want = tg_matmul(tg_matmul(a, b), c);
    tg_tensor *l = tg_einsum_opt("ij,jk,kl->il", 3, OPS(a, b, c), &left);
    tg_tensor *r = tg_einsum_opt("ij,jk,kl->il", 3, OPS(a, b, c), &right);
    cr_assert(l && r, "%s", tg_last_error());
    /* not bitwise: the second step runs as (c^T (ab)^T)^T, and whether
     * BLAS rounds that as (ab) c depends on the CPU's kernels */
    check_close(l, want, 1e-13, 1e-13, "left path is matmul(matmul(a, b), c)");
    check_close(r, want, 1e-12, 1e-12, "right path");
    /* the default (auto) picks the cheaper (a b) first: 5280 < 7560 */
    cr_assert_eq(tg_einsum_path_opt("ij,jk,kl->il", 3, OPS(a, b, c), NULL, p, &f, NULL, NULL), TG_OK);
    cr_expect(p[0][0] == 0 && p[0][1] == 1, "auto path starts with (0, 1), got (%d, %d)", p[0][0], p[0][1]);
    cr_expect_eq(f, 5280);
    tg_einsum_opts bad1 = {NULL, 0, (const int[][2]){{0, 0}, {0, 1}}};
    tg_einsum_opts bad2 = {NULL, 0, (const int[][2]){{0, 1}, {0, 2}}};
    tg_einsum_opts bad3 = {"fastest", 0, NULL};
    expect_error(tg_einsum_opt("ij,jk,kl->il", 3, OPS(a, b, c), &bad1), TG_ERR_ARG, "path step 0 is (0, 0)", NULL,
                 "same position");
    expect_error(tg_einsum_opt("ij,jk,kl->il", 3, OPS(a, b, c), &bad2), TG_ERR_ARG, "path step 1 is (0, 2)", "0..1",
                 "out of range");
    expect_error(tg_einsum_opt("ij,jk,kl->il", 3, OPS(a, b, c), &bad3), TG_ERR_ARG, "unknown strategy", NULL,
                 "strategy");
    tg_scope_end();
}

Test(einsum, memory_limit_matches_numpy_optimal) {
    tg_scope_begin();
    /* numpy.einsum_path("ab,bc,cd,da->", shapes (3,10),(10,40),(40,10),(10,3)):
     * optimize=("optimal", 10**12): path (0,1),(0,2),(0,1), 4861 FLOPs,
     * largest 120; ("optimal", 119): (1,2),(0,2),(0,1), 8661, largest 100 */
    tg_tensor *ops[4] = {mat(3, 10), mat(10, 40), mat(40, 10), mat(10, 3)};
    const char *sub = "ab,bc,cd,da->";
    tg_einsum_opts none = {"optimal", 0, NULL}, cap = {"optimal", 119, NULL}, np_default = {"optimal", -1, NULL};
    int p[3][2];
    double f, lg;
    cr_assert_eq(tg_einsum_path_opt(sub, 4, ops, &none, p, &f, &lg, NULL), TG_OK, "%s", tg_last_error());
    cr_expect_eq(f + 1, 4861);
    cr_expect_eq(lg, 120);
    cr_expect(p[0][0] == 0 && p[0][1] == 1 && p[1][0] == 0 && p[1][1] == 2);
    char *rep = NULL;
    cr_assert_eq(tg_einsum_path_opt(sub, 4, ops, &cap, p, &f, &lg, &rep), TG_OK, "%s", tg_last_error());
    cr_expect_eq(f + 1, 8661);
    cr_expect_eq(lg, 100);
    cr_expect(p[0][0] == 1 && p[0][1] == 2 && p[1][0] == 0 && p[1][1] == 2 && p[2][0] == 0 && p[2][1] == 1);
    cr_expect(rep && strstr(rep, "Path:  [(1, 2), (0, 2), (0, 1)]"), "%s", rep ? rep : "");
    free(rep);
    /* NumPy's default cap (largest operand, 400 here) does not bind */
    cr_assert_eq(tg_einsum_path_opt(sub, 4, ops, &np_default, NULL, &f, NULL, NULL), TG_OK);
    cr_expect_eq(f + 1, 4861);
    /* greedy and random-greedy keep under the cap too, and the values agree */
    for (int k = 0; k < 2; k++) {
        tg_einsum_opts o = {k ? "random-greedy" : "greedy", 119, NULL};
        cr_assert_eq(tg_einsum_path_opt(sub, 4, ops, &o, NULL, &f, &lg, NULL), TG_OK);
        cr_expect_leq(lg, 119, "%s: largest %g", o.strategy, lg);
        tg_tensor *capped = tg_einsum_opt(sub, 4, ops, &o), *plain = tg_einsum(sub, 4, ops);
        cr_assert(capped && plain, "%s", tg_last_error());
        check_close(capped, plain, 1e-12, 1e-12, "capped path value");
    }
    tg_scope_end();
}

Test(einsum, wide_intermediates_past_max_dims) {
    tg_scope_begin();
    /* outer products of five matrices first: a 10-label intermediate (past
     * TG_MAX_DIMS), then a contraction whose operand needs 10 axis groups
     * permuted (interleaved a/b labels): done in passes */
    tg_tensor *ops[6];
    for (int i = 0; i < 5; i++) ops[i] = mat(2, 3);
    ops[5] = tg_randn(TG_F64, 5, (int64_t[]){3, 3, 3, 3, 3});
    const char *sub = "ab,cd,ef,gh,ij,bdfhj->acegi";
    tg_einsum_opts outer_first = {NULL, 0, (const int[][2]){{0, 1}, {0, 4}, {0, 3}, {0, 2}, {0, 1}}};
    double f, lg;
    cr_assert_eq(tg_einsum_path_opt(sub, 6, ops, &outer_first, NULL, &f, &lg, NULL), TG_OK, "%s", tg_last_error());
    cr_expect_eq(lg, 7776, "largest intermediate 6^5");
    tg_tensor *w = tg_einsum_opt(sub, 6, ops, &outer_first), *ref = tg_einsum(sub, 6, ops);
    cr_assert(w && ref, "%s", tg_last_error());
    cr_expect_eq(tg_ndim(w), 5);
    check_close(w, ref, 1e-12, 1e-12, "wide path vs auto path");
    /* and through autograd: the gradient of the sum equals the auto path's */
    tg_tensor *x = tg_detach(ops[5]);
    tg_set_requires_grad(x, true);
    tg_tensor *ops2[6] = {ops[0], ops[1], ops[2], ops[3], ops[4], x};
    cr_assert_eq(tg_backward(tg_sum(tg_einsum_opt(sub, 6, ops2, &outer_first), 0, NULL, false), NULL), TG_OK, "%s",
                 tg_last_error());
    tg_tensor *g1 = tg_contiguous(tg_grad(x));
    tg_zero_grad(x);
    cr_assert_eq(tg_backward(tg_sum(tg_einsum(sub, 6, ops2), 0, NULL, false), NULL), TG_OK);
    check_close(g1, tg_grad(x), 1e-12, 1e-12, "gradient through the wide path");
    tg_scope_end();
}

Test(einsum, random_greedy_reaches_the_optimum_of_small_chains) {
    tg_scope_begin();
    /* subtree reconfiguration over 10 parts covers a 10-chain: random-greedy
     * must equal optimal; greedy is worse on some */
    const int64_t chains[3][11] = {{10, 100, 5, 50, 2, 80, 3, 60, 7, 90, 4}, {30, 35, 15, 5, 10, 20, 25, 3, 40, 2, 9},
                                   {50, 2, 50, 2, 50, 2, 50, 2, 50, 2, 50}};
    bool greedy_worse = false;
    for (int k = 0; k < 3; k++) {
        tg_tensor *ops[10];
        char sub[64];
        chain(10, chains[k], ops, sub);
        double o = path_flops(sub, 10, ops, "optimal", NULL), r = path_flops(sub, 10, ops, "random-greedy", NULL);
        double g = path_flops(sub, 10, ops, "greedy", NULL), a = path_flops(sub, 10, ops, "auto", NULL);
        cr_expect_eq(r, o, "chain %d: random-greedy %g, optimal %g", k, r, o);
        cr_expect_leq(a, g, "chain %d: auto %g, greedy %g", k, a, g);
        cr_expect_geq(a, o);
        greedy_worse |= g > o;
    }
    cr_expect(greedy_worse, "the chains should include one where plain greedy is not optimal");
    tg_scope_end();
}

/* layout.c: an MPS site E(x, y) A(p, x, f) must copy A (x sits between p
 * and f). With the partner of the next step known, B(p, y, e), the result
 * is laid out (f, p, y): A is read as (f p | x) (its copy), E as it is, and
 * the next step reads the result as (f | p y) and B as (p y | e), both
 * views. The default order (y, p, f) would copy the result again there. */
Test(einsum, layout_orders_the_result_for_its_next_step) {
    tg_scope_begin();
    static tg_ein_spec s;
    memset(&s, 0, sizeof s);
    enum { X, Y, P, F, E };
    const int64_t size[5] = {3, 3, 5, 4, 4};
    s.n_labels = 5;
    memcpy(s.size, size, sizeof size);
    ein_op env = {tg_randn(TG_F64, 2, (int64_t[]){3, 3}), 2, true, {X, Y}};
    ein_op a = {tg_randn(TG_F64, 3, (int64_t[]){5, 3, 4}), 3, false, {P, X, F}};
    ein_op b = {tg_randn(TG_F64, 3, (int64_t[]){5, 3, 4}), 3, false, {P, Y, E}};
    /* the default pair() hands over: con in a's order, env's free labels first */
    const tg_ein_layout given = {.ncon = 1, .con = {X}, .n1 = 1, .f1 = {Y}, .n2 = 2, .f2 = {P, F}};
    tg_ein_layout lay = given;
    tg__ein_layout(&s, &env, &a, &a, &b, &lay);
    cr_assert(lay.swap, "A should be the left operand (its copy puts the free labels first)");
    cr_assert_eq(lay.n1, 2);
    cr_assert_eq(lay.n2, 1);
    cr_expect(lay.f1[0] == F && lay.f1[1] == P && lay.f2[0] == Y, "result (%d %d %d), want (f p y)", lay.f1[0],
              lay.f1[1], lay.f2[0]);
    /* no partner known: the default, bat/con in the leading operand's order, a first */
    lay = given;
    tg__ein_layout(&s, &env, &a, &a, NULL, &lay);
    cr_expect(!lay.swap && lay.f1[0] == Y && lay.f2[0] == P && lay.f2[1] == F, "default layout changed");
    tg_scope_end();
}

/* The same chain through tg_einsum along that path, against plain loops. */
Test(einsum, mps_site_values_with_reordered_intermediates) {
    tg_scope_begin();
    tg_manual_seed(5);
    tg_tensor *env = mat(3, 3), *a = tg_randn(TG_F64, 3, (int64_t[]){5, 3, 4}),
              *b = tg_randn(TG_F64, 3, (int64_t[]){5, 3, 4});
    int path[2][2] = {{0, 1}, {0, 1}};
    tg_einsum_opts o = {NULL, 0, (const int (*)[2])path};
    tg_tensor *r = tg_einsum_opt("xy,pxf,pye->fe", 3, OPS(env, a, b), &o);
    cr_assert_not_null(r, "%s", tg_last_error());
    tg_tensor *rc = tg_contiguous(r);
    const double *ev = tg_data(env), *av = tg_data(a), *bv = tg_data(b), *rv = tg_data(rc);
    for (int f = 0; f < 4; f++)
        for (int e = 0; e < 4; e++) {
            double want = 0;
            for (int x = 0; x < 3; x++)
                for (int y = 0; y < 3; y++)
                    for (int p = 0; p < 5; p++) want += ev[x * 3 + y] * av[(p * 3 + x) * 4 + f] * bv[(p * 3 + y) * 4 + e];
            cr_expect(fabs(rv[f * 4 + e] - want) <= 1e-12 * (1 + fabs(want)), "r[%d][%d] = %.17g, want %.17g", f, e,
                      rv[f * 4 + e], want);
        }
    tg_scope_end();
}

/* The path search must match or beat the paths stored with the shared
 * instances (issue 6). str_nw_mera_open_26 (its non-ASCII labels renamed
 * K-S): greedy trials reconfigured by their costliest parts alone stayed at
 * 2.28x the stored opt_flops path's FLOPs; opening subtrees by result size
 * and by depth as well finds the stored cost. Paths only: no data. */
Test(einsum, mera_path_matches_the_stored_one) {
    tg_scope_begin();
    static const int64_t shapes[26][4] = {
        {13, 9}, {13, 5, 46}, {9, 27, 7}, {5, 17, 19}, {27, 10, 68}, {17, 17, 3}, {10, 79, 3}, {46, 7, 15, 25},
        {15, 6, 26}, {25, 24, 9}, {19, 6, 68, 22}, {68, 5, 7}, {22, 22, 11, 56}, {26, 24, 22, 7}, {7, 8, 7, 48},
        {9, 68, 8, 6}, {6, 4, 11}, {17, 5, 9}, {7, 11, 9}, {56, 7, 9}, {48, 4, 9}, {11, 20, 9}, {20, 5},
        {5, 6, 9}, {6, 25}, {25, 79, 9}};
    static const int stored[25][2] = {{4, 15}, {7, 12}, {0, 1}, {4, 22}, {0, 21}, {3, 20}, {18, 19}, {17, 18}, {3, 4},
                                      {1, 6}, {0, 15}, {13, 14}, {2, 6}, {10, 12}, {2, 11}, {1, 3}, {1, 9}, {6, 8},
                                      {6, 7}, {1, 2}, {4, 5}, {2, 3}, {0, 3}, {0, 2}, {0, 1}};
    const char *f = "ab,acg,bdh,cek,dft,ewP,fJQ,ghij,ilo,jps,klmn,mxy,nqzA,opqr,ruBC,stuv,vDE,wxK,yzL,ABM,CDN,EFO,FG,"
                    "GHR,HI,IJS->PQKLMNORS";
    tg_tensor *ops[26];
    for (int i = 0; i < 26; i++) {
        int nd = shapes[i][2] ? (shapes[i][3] ? 4 : 3) : 2;
        ops[i] = tg_empty(TG_F64, nd, shapes[i]);
    }
    double want = 0, got = 0;
    cr_assert_eq(tg_einsum_path_opt(f, 26, ops, &(tg_einsum_opts){NULL, 0, stored}, NULL, &want, NULL, NULL), TG_OK,
                 "%s", tg_last_error());
    cr_expect(fabs(want - 3.1032e10) < 1e7, "the stored path costs %.6g (opt_einsum: 10^10.4918)", want);
    const char *strategies[2] = {"auto", "random-greedy"};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(tg_einsum_path_opt(f, 26, ops, &(tg_einsum_opts){strategies[k], 0, NULL}, NULL, &got, NULL, NULL),
                     TG_OK, "%s", tg_last_error());
        cr_expect(got <= want * (1 + 1e-12), "%s: %.6g FLOPs, the stored path %.6g", strategies[k], got, want);
    }
    tg_scope_end();
}
