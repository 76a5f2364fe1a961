/* tg_einsum against oracles/data/einsum.json (oracles/gen_einsum.py):
 * values from numpy.einsum, cotangents ("vjp:einsum") from torch.einsum. */
#include <criterion/criterion.h>

#include "support/oracle.h"

static tg_status run_einsum(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_out;
    ORACLE_RETURN(tg_einsum(oracle_attr_str(c, "subscripts", ""), n_in, in));
}


typedef struct { const char *sub; int n; } vjp_ctx;

static tg_status vjp_fn(void *vctx, tg_tensor *const *in, tg_tensor **out) {
    vjp_ctx *v = vctx;
    out[0] = tg_einsum(v->sub, v->n, in);
    return out[0] ? TG_OK : tg_last_error_code();
}

static tg_status run_vjp(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    vjp_ctx v = {oracle_attr_str(c, "subscripts", ""), (int)oracle_attr_int(c, "n_primal", -1)};
    if (v.n < 1 || v.n + 1 != n_in || n_out != v.n) return TG_ERR_ARG;
    return tg_vjp(vjp_fn, &v, v.n, in, 1, in + v.n, NULL, out);
}

static const oracle_entry table[] = {{"einsum", run_einsum}, {"vjp:einsum", run_vjp}};

TestSuite(oracle_einsum, .init = tg_clear_error);

Test(oracle_einsum, all) { check_oracle_file("einsum.json", table, sizeof table / sizeof *table); }
