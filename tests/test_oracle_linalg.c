/* The linalg module against oracles/data/linalg.json (oracles/gen_linalg.py:
 * numpy.linalg / scipy values, torch.linalg VJPs and forward-mode JVPs). attrs: "upper", "left",
 * "unit" (triangular_solve, cholesky), "n" (matrix_power), "dim" (cross), "ord", "axes",
 * "keepdim" (vector_norm). */
#include <criterion/criterion.h>

#include "support/oracle.h"

ORACLE_ADAPTER(solve, tg_linalg_solve(in[0], in[1]))
/* A given transposed: solve through the strided view mT(A^T) */
ORACLE_ADAPTER(solve_mT, tg_linalg_solve(tg_mT(in[0]), in[1]))
ORACLE_ADAPTER(inv, tg_linalg_inv(in[0]))
ORACLE_ADAPTER(det, tg_linalg_det(in[0]))
ORACLE_ADAPTER(cross, tg_linalg_cross(in[0], in[1], (int)oracle_attr_int(c, "dim", -1)))
static tg_status run_vector_norm(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    int64_t ax[TG_MAX_DIMS];
    int axes[TG_MAX_DIMS], na = oracle_attr_ints(c, "axes", ax, TG_MAX_DIMS);
    for (int i = 0; i < na; i++) axes[i] = (int)ax[i];
    out[0] = tg_linalg_vector_norm(in[0], oracle_attr_f64(c, "ord", 2), na > 0 ? na : 0, na > 0 ? axes : NULL,
                                   oracle_attr_bool(c, "keepdim", false));
    return out[0] ? TG_OK : tg_last_error_code();
}
ORACLE_ADAPTER(matrix_power, tg_linalg_matrix_power(in[0], oracle_attr_int(c, "n", 1)))
ORACLE_ADAPTER(triangular_solve,
               tg_linalg_triangular_solve(in[0], in[1], oracle_attr_bool(c, "upper", false),
                                          oracle_attr_bool(c, "left", true), oracle_attr_bool(c, "unit", false)))
ORACLE_ADAPTER(cholesky, tg_linalg_cholesky(in[0], oracle_attr_bool(c, "upper", false)))
static tg_status run_slogdet(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)c; (void)n_in; (void)n_out;
    return tg_linalg_slogdet(in[0], &out[0], &out[1]);
}

/* ---- derivatives (tests/support/oracle.h): VJPs take (primals..., cotangent) and give the primals'
 * cotangents; JVPs take (primals..., one tangent per primal) and give the output's tangent ---- */
ORACLE_VJP(solve, 2) ORACLE_VJP(inv, 1) ORACLE_VJP(det, 1) ORACLE_VJP(cholesky, 1) ORACLE_VJP(matrix_power, 1)
ORACLE_VJP(cross, 2) ORACLE_VJP(vector_norm, 1)
ORACLE_JVP(solve, 2) ORACLE_JVP(inv, 1) ORACLE_JVP(det, 1) ORACLE_JVP(cholesky, 1) ORACLE_JVP(matrix_power, 1)

static const oracle_entry table[] = {
    ORACLE_ENTRY(solve), ORACLE_ENTRY(solve_mT), ORACLE_ENTRY(inv), ORACLE_ENTRY(det), ORACLE_ENTRY(slogdet),
    ORACLE_ENTRY(triangular_solve), ORACLE_ENTRY(cholesky), ORACLE_ENTRY(matrix_power), ORACLE_ENTRY(cross),
    ORACLE_ENTRY(vector_norm),
    {"vjp:solve", run_vjp_solve}, {"vjp:inv", run_vjp_inv}, {"vjp:det", run_vjp_det},
    {"vjp:cholesky", run_vjp_cholesky}, {"vjp:matrix_power", run_vjp_matrix_power},
    {"vjp:cross", run_vjp_cross}, {"vjp:vector_norm", run_vjp_vector_norm},
    {"jvp:solve", run_jvp_solve}, {"jvp:inv", run_jvp_inv}, {"jvp:det", run_jvp_det},
    {"jvp:cholesky", run_jvp_cholesky}, {"jvp:matrix_power", run_jvp_matrix_power},
};
Test(oracle_linalg, all) { check_oracle_file("linalg.json", table, sizeof table / sizeof table[0]); }
