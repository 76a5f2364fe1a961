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

/* where's contiguous loops: each of a and b an array or a broadcast
 * scalar, over a length that is no multiple of a vector, in f32 and f64
 * (the reference is the select itself, element by element). */
Test(oracle_binary, where_contiguous_with_scalar_branches) {
    tg_scope_begin();
    enum { N = 37 };
    bool cv[N];
    double av[N], bv[N];
    for (int i = 0; i < N; i++) {
        cv[i] = (i * 7) % 3 == 0;
        av[i] = 1.0 + i;
        bv[i] = -0.5 - i;
    }
    for (int d = 0; d < 2; d++) {
        tg_dtype dt = d ? TG_F64 : TG_F32;
        tg_tensor *c = tg_from_data(TG_BOOL, 1, (int64_t[]){N}, cv);
        tg_tensor *a = tg_cast(tg_from_data(TG_F64, 1, (int64_t[]){N}, av), dt);
        tg_tensor *b = tg_cast(tg_from_data(TG_F64, 1, (int64_t[]){N}, bv), dt);
        tg_tensor *a0 = tg_scalar(dt, 2.25), *b0 = tg_scalar(dt, -3.5);
        for (int k = 0; k < 4; k++) {
            bool sa = k & 1, sb = k & 2;
            tg_tensor *r = tg_cast(tg_where(c, sa ? a0 : a, sb ? b0 : b), TG_F64);
            cr_assert_not_null(r, "%s", tg_last_error());
            cr_assert_eq(tg_numel(r), N);
            const double *rv = tg_data(r);
            for (int i = 0; i < N; i++) {
                double want = cv[i] ? (sa ? 2.25 : av[i]) : (sb ? -3.5 : bv[i]);
                cr_assert_eq(rv[i], want, "%s, scalar a %d, scalar b %d: [%d] = %g, want %g", tg_dtype_name(dt), sa,
                             sb, i, rv[i], want);
            }
        }
    }
    tg_scope_end();
}
