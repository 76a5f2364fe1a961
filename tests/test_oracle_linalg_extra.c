/* matrix_exp, matrix_norm, cond, pinv and lstsq against
 * oracles/data/linalg_extra.json (oracles/gen_linalg_extra.py: SciPy/NumPy
 * values, torch.linalg VJPs and forward-mode JVPs). attrs: "ord" (string or null), "keepdim"
 * (matrix_norm), "rtol", "hermitian" (pinv), "rcond" (lstsq; outputs x,
 * residuals, rank, sv). */
#include <criterion/criterion.h>

#include "support/oracle.h"

ORACLE_ADAPTER(matrix_exp, tg_linalg_matrix_exp(in[0]))
ORACLE_ADAPTER(matrix_norm, tg_linalg_matrix_norm(in[0], oracle_attr_str(c, "ord", NULL),
                                                  oracle_attr_bool(c, "keepdim", false)))
ORACLE_ADAPTER(cond, tg_linalg_cond(in[0], oracle_attr_str(c, "ord", NULL)))
ORACLE_ADAPTER(pinv, tg_linalg_pinv(in[0], oracle_attr_f64(c, "rtol", -1), oracle_attr_bool(c, "hermitian", false)))
static tg_status run_lstsq(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in;
    return tg_linalg_lstsq(in[0], in[1], oracle_attr_f64(c, "rcond", -1), &out[0], n_out > 1 ? &out[1] : NULL,
                           n_out > 2 ? &out[2] : NULL, n_out > 3 ? &out[3] : NULL);
}

/* ---- derivatives (tests/support/oracle.h): VJPs take (primals..., cotangent) and give the primals'
 * cotangents; JVPs take (primals..., one tangent per primal) and give the output's tangent ---- */
ORACLE_VJP(matrix_exp, 1) ORACLE_VJP(matrix_norm, 1) ORACLE_VJP(cond, 1) ORACLE_VJP(pinv, 1) ORACLE_VJP(lstsq, 2)
ORACLE_JVP(matrix_exp, 1) ORACLE_JVP(matrix_norm, 1) ORACLE_JVP(cond, 1) ORACLE_JVP(pinv, 1) ORACLE_JVP(lstsq, 2)

static const oracle_entry table[] = {
    ORACLE_ENTRY(matrix_exp), ORACLE_ENTRY(matrix_norm), ORACLE_ENTRY(cond), ORACLE_ENTRY(pinv), ORACLE_ENTRY(lstsq),
    {"vjp:matrix_exp", run_vjp_matrix_exp}, {"vjp:matrix_norm", run_vjp_matrix_norm}, {"vjp:cond", run_vjp_cond},
    {"vjp:pinv", run_vjp_pinv}, {"vjp:lstsq", run_vjp_lstsq},
    {"jvp:matrix_exp", run_jvp_matrix_exp}, {"jvp:matrix_norm", run_jvp_matrix_norm}, {"jvp:cond", run_jvp_cond},
    {"jvp:pinv", run_jvp_pinv}, {"jvp:lstsq", run_jvp_lstsq},
};
Test(oracle_linalg_extra, all) { check_oracle_file("linalg_extra.json", table, sizeof table / sizeof table[0]); }
