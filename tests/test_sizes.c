/* Symbolic sizes: normal form, interning, floor division, evaluation,
 * printing and spec parsing. */
#include "support/check.h"

#include <string.h>

TestSuite(sizes, .init = tg_clear_error);

static void check_text(int64_t s, const char *want) {
    char buf[256];
    cr_assert(tg_size_format(s, buf, sizeof buf) >= 0);
    cr_assert_str_eq(buf, want);
}

Test(sizes, normal_form_makes_equal_expressions_equal_handles) {
    int64_t N = tg_size_symbol("N"), C = tg_size_symbol("C");
    cr_assert(tg_is_symbolic(N) && !tg_is_symbolic(28));
    cr_assert_eq(tg_size_symbol("N"), N, "symbols are interned by name");
    cr_assert_neq(N, C);
    int64_t a = tg_size_mul(tg_size_add(N, C), 2);                     /* 2(N + C) */
    int64_t b = tg_size_add(tg_size_mul(C, 2), tg_size_add(N, N));      /* 2C + 2N */
    cr_assert_eq(a, b);
    cr_assert_eq(tg_size_mul(N, C), tg_size_mul(C, N), "commutative");
    cr_assert_eq(tg_size_sub(tg_size_add(N, 5), N), 5, "a constant expression is a plain size");
    cr_assert_eq(tg_size_sub(N, N), 0);
    cr_assert_eq(tg_size_add(3, 4), 7);
    cr_assert_neq(tg_size_add(N, 1), N);
    check_text(tg_size_add(tg_size_mul(tg_size_mul(N, C), 2), 1), "2*N*C + 1");
    check_text(tg_size_sub(tg_size_mul(N, N), C), "N*N - C");
}

Test(sizes, floor_division_exact_and_atoms) {
    int64_t N = tg_size_symbol("N"), C = tg_size_symbol("C"), H = tg_size_symbol("H");
    cr_assert_eq(tg_size_floordiv(tg_size_mul(N, C), C), N, "N*C / C");
    cr_assert_eq(tg_size_floordiv(tg_size_add(tg_size_mul(N, 2), 4), 2), tg_size_add(N, 2), "(2N + 4) / 2");
    cr_assert_eq(tg_size_floordiv(tg_size_mul(N, 784), 784), N);
    cr_assert_eq(tg_size_floordiv(7, 2), 3);
    /* a strided window: (H - 3) // 2 + 1 stays symbolic and evaluates with floor */
    int64_t w = tg_size_add(tg_size_floordiv(tg_size_sub(H, 3), 2), 1);
    cr_assert(tg_is_symbolic(w));
    check_text(w, "(H - 3) // 2 + 1");
    cr_assert_eq(w, tg_size_add(tg_size_floordiv(tg_size_sub(H, 3), 2), 1), "interned");
    const char *names[] = {"H"};
    cr_assert_eq(tg_size_eval(w, 1, names, (int64_t[]){28}), 13);
    cr_assert_eq(tg_size_eval(w, 1, names, (int64_t[]){27}), 13);
    cr_assert_eq(tg_size_eval(w, 1, names, (int64_t[]){3}), 1);
    cr_assert_eq(tg_last_error_code(), TG_OK, "%s", tg_last_error());
}

Test(sizes, evaluation_with_bindings) {
    int64_t N = tg_size_symbol("N"), M = tg_size_symbol("M");
    int64_t e = tg_size_add(tg_size_mul(N, 3), tg_size_mul(M, M));       /* 3N + M^2 */
    const char *names[] = {"M", "N"};
    cr_assert_eq(tg_size_eval(e, 2, names, (int64_t[]){4, 10}), 46);
    cr_assert_eq(tg_size_eval(17, 0, NULL, NULL), 17);
    cr_assert_eq(tg_size_eval(e, 1, names, (int64_t[]){4}), -1);
    cr_assert(strstr(tg_last_error(), "symbol N is not bound"), "%s", tg_last_error());
    tg_clear_error();
    cr_assert_eq(tg_size_eval(tg_size_mul(N, N), 1, (const char *[]){"N"}, (int64_t[]){INT64_MAX / 2}), -1);
    check_status(tg_last_error_code(), TG_ERR_SHAPE, "overflow");
}

Test(sizes, spec_parsing_and_bad_input) {
    int64_t shape[TG_MAX_DIMS];
    cr_assert_eq(tg_size_parse_shape("N, 28, 28", shape), 3);
    cr_assert_eq(shape[0], tg_size_symbol("N"));
    cr_assert(shape[1] == 28 && shape[2] == 28);
    cr_assert_eq(tg_size_parse_shape("  ", shape), 0, "0-d");
    cr_assert_eq(tg_size_parse_shape("batch_size,3", shape), 2);
    cr_assert_eq(tg_size_parse_shape("N, *", shape), -1);
    check_status(tg_last_error_code(), TG_ERR_ARG, "bad character");
    cr_assert_eq(tg_size_parse_shape("N 3", shape), -1);
    check_status(tg_last_error_code(), TG_ERR_ARG, "missing comma");
    cr_assert_eq(tg_size_parse_shape("1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1", shape), -1);
    check_status(tg_last_error_code(), TG_ERR_SHAPE, "rank 17");
    cr_assert_eq(tg_size_symbol("9lives"), -1);
    check_status(tg_last_error_code(), TG_ERR_ARG, "bad name");
    cr_assert_eq(tg_size_sub(2, 5), -1);
    check_status(tg_last_error_code(), TG_ERR_SHAPE, "negative plain size");
    cr_assert_eq(tg_size_floordiv(tg_size_symbol("N"), 0), -1);
    check_status(tg_last_error_code(), TG_ERR_ARG, "division by zero");
    cr_assert_eq(tg_size_add(-3, 1), -1);
    check_status(tg_last_error_code(), TG_ERR_ARG, "not a size");
    /* past the normal form's limits: a degree-9 monomial */
    int64_t N = tg_size_symbol("N"), p = N;
    for (int i = 0; i < 8; i++) p = tg_size_mul(p, N);
    cr_assert_eq(p, -1);
    check_status(tg_last_error_code(), TG_ERR_UNSUPPORTED, "degree limit");
}

/* Leaves a recognisable pattern on the stack below the caller's frame. */
static __attribute__((noinline)) void dirty_stack(unsigned char v) {
    volatile unsigned char buf[1 << 16];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = v;
}

/* Equal expressions are one handle whatever the arithmetic's scratch held:
 * the shape checks compare sizes with ==. */
Test(sizes, equal_expressions_intern_once_whatever_the_stack_held) {
    int64_t n = tg_size_symbol("N"), m = tg_size_symbol("M");
    for (int v = 0; v < 4; v++) {
        dirty_stack((unsigned char)(0x11 * (v + 1)));
        cr_expect_eq(tg_size_floordiv(tg_size_mul(n, 3136), 3136), n, "N*3136 // 3136 is N");
        dirty_stack((unsigned char)(0xA5 ^ v));
        cr_expect_eq(tg_size_sub(tg_size_add(n, m), m), n, "(N + M) - M is N");
        dirty_stack((unsigned char)(0x5A + v));
        int64_t e1 = tg_size_add(tg_size_mul(n, m), 2);
        dirty_stack((unsigned char)(0xFF - v));
        cr_expect_eq(tg_size_add(tg_size_mul(m, n), 2), e1, "N*M + 2 is M*N + 2");
    }
}
