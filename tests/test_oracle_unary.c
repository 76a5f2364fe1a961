/* Unary elementwise ops against oracles/data/unary.json (oracles/gen_core.py). */
#include <criterion/criterion.h>

#include "support/oracle.h"

#define U(op) ORACLE_ADAPTER(op, tg_##op(in[0]))
U(neg) U(abs) U(sign) U(square) U(reciprocal) U(exp) U(expm1) U(log) U(log1p) U(log2) U(log10) U(sqrt)
U(rsqrt) U(sin) U(cos) U(tan) U(asin) U(acos) U(atan) U(sinh) U(cosh) U(tanh) U(asinh) U(acosh) U(atanh)
U(sigmoid) U(relu) U(gelu) U(silu) U(softplus) U(erf) U(erfc) U(floor) U(ceil) U(round) U(trunc) U(conj)
U(angle) U(isnan) U(isinf) U(isfinite) U(logical_not)

static const oracle_entry table[] = {
    ORACLE_ENTRY(neg), ORACLE_ENTRY(abs), ORACLE_ENTRY(sign), ORACLE_ENTRY(square), ORACLE_ENTRY(reciprocal),
    ORACLE_ENTRY(exp), ORACLE_ENTRY(expm1), ORACLE_ENTRY(log), ORACLE_ENTRY(log1p), ORACLE_ENTRY(log2),
    ORACLE_ENTRY(log10), ORACLE_ENTRY(sqrt), ORACLE_ENTRY(rsqrt), ORACLE_ENTRY(sin), ORACLE_ENTRY(cos),
    ORACLE_ENTRY(tan), ORACLE_ENTRY(asin), ORACLE_ENTRY(acos), ORACLE_ENTRY(atan), ORACLE_ENTRY(sinh),
    ORACLE_ENTRY(cosh), ORACLE_ENTRY(tanh), ORACLE_ENTRY(asinh), ORACLE_ENTRY(acosh), ORACLE_ENTRY(atanh),
    ORACLE_ENTRY(sigmoid), ORACLE_ENTRY(relu), ORACLE_ENTRY(gelu), ORACLE_ENTRY(silu), ORACLE_ENTRY(softplus),
    ORACLE_ENTRY(erf), ORACLE_ENTRY(erfc), ORACLE_ENTRY(floor), ORACLE_ENTRY(ceil), ORACLE_ENTRY(round),
    ORACLE_ENTRY(trunc), ORACLE_ENTRY(conj), ORACLE_ENTRY(angle), ORACLE_ENTRY(isnan), ORACLE_ENTRY(isinf),
    ORACLE_ENTRY(isfinite), ORACLE_ENTRY(logical_not),
};

TestSuite(oracle_unary, .init = tg_clear_error);

Test(oracle_unary, all_ops) { check_oracle_file("unary.json", table, sizeof table / sizeof *table); }
