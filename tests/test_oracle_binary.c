/* Binary elementwise ops, where, clamp, complex, the *_scalar variants and
 * the in-place ops against oracles/data/binary.json. */
#include <criterion/criterion.h>
#include <math.h>

#include "support/oracle.h"

#define B(op) ORACLE_ADAPTER(op, tg_##op(in[0], in[1]))
B(add) B(sub) B(mul) B(div) B(pow) B(maximum) B(minimum) B(atan2) B(remainder) B(eq) B(ne) B(lt) B(le)
B(gt) B(ge) B(logical_and) B(logical_or) B(logical_xor) B(complex)
ORACLE_ADAPTER(where, tg_where(in[0], in[1], in[2]))
ORACLE_ADAPTER(clamp, tg_clamp(in[0], oracle_attr_f64(c, "lo", -INFINITY), oracle_attr_f64(c, "hi", INFINITY)))

#define S(op) ORACLE_ADAPTER(op, tg_##op(in[0], oracle_attr_f64(c, "scalar", NAN)))
S(add_scalar) S(sub_scalar) S(mul_scalar) S(div_scalar) S(pow_scalar) S(maximum_scalar) S(minimum_scalar)
S(eq_scalar) S(lt_scalar) S(gt_scalar)
ORACLE_ADAPTER(rsub_scalar, tg_rsub_scalar(oracle_attr_f64(c, "scalar", NAN), in[0]))
ORACLE_ADAPTER(rdiv_scalar, tg_rdiv_scalar(oracle_attr_f64(c, "scalar", NAN), in[0]))

/* In place: the (fresh) first input is modified and is the output. */
#define IP(op)                                                                                        \
    static tg_status run_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,       \
                              tg_tensor **out) {                                                     \
        tg_status st = tg_##op(in[0], in[1]);                                                        \
        out[0] = in[0];                                                                              \
        return st;                                                                                   \
    }
IP(add_) IP(sub_) IP(mul_) IP(div_) IP(copy_)
static tg_status run_fill_(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    tg_status st = tg_fill_(in[0], oracle_attr_f64(c, "value", NAN));
    out[0] = in[0];
    return st;
}

static const oracle_entry table[] = {
    ORACLE_ENTRY(add), ORACLE_ENTRY(sub), ORACLE_ENTRY(mul), ORACLE_ENTRY(div), ORACLE_ENTRY(pow),
    ORACLE_ENTRY(maximum), ORACLE_ENTRY(minimum), ORACLE_ENTRY(atan2), ORACLE_ENTRY(remainder), ORACLE_ENTRY(eq),
    ORACLE_ENTRY(ne), ORACLE_ENTRY(lt), ORACLE_ENTRY(le), ORACLE_ENTRY(gt), ORACLE_ENTRY(ge),
    ORACLE_ENTRY(logical_and), ORACLE_ENTRY(logical_or), ORACLE_ENTRY(logical_xor), ORACLE_ENTRY(complex),
    ORACLE_ENTRY(where), ORACLE_ENTRY(clamp), ORACLE_ENTRY(add_scalar), ORACLE_ENTRY(sub_scalar),
    ORACLE_ENTRY(rsub_scalar), ORACLE_ENTRY(mul_scalar), ORACLE_ENTRY(div_scalar), ORACLE_ENTRY(rdiv_scalar),
    ORACLE_ENTRY(pow_scalar), ORACLE_ENTRY(maximum_scalar), ORACLE_ENTRY(minimum_scalar), ORACLE_ENTRY(eq_scalar),
    ORACLE_ENTRY(lt_scalar), ORACLE_ENTRY(gt_scalar), ORACLE_ENTRY(add_), ORACLE_ENTRY(sub_), ORACLE_ENTRY(mul_),
    ORACLE_ENTRY(div_), ORACLE_ENTRY(copy_), ORACLE_ENTRY(fill_),
};

TestSuite(oracle_binary, .init = tg_clear_error);

Test(oracle_binary, all_ops) { check_oracle_file("binary.json", table, sizeof table / sizeof *table); }
