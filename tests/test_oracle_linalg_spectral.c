/* eigh / eigvalsh / svd / svdvals against oracles/data/linalg_spectral.json
 * (oracles/gen_linalg_spectral.py: numpy.linalg values, torch.linalg VJPs).
 * Vectors are compared through gauge-invariant quantities (the "loss"
 * attribute): eigh w_absv (w, |V|^2), sinw (V diag(sin w) V^H), w
 * (eigvalsh); svd s (svdvals), s_full, recon (U1 diag(S) Vh1), abs (|U1|^2,
 * |Vh1|^2), uvh (U1 Vh1), orth (U^H U, Vh Vh^H); U1, Vh1 are the first
 * k = min(m, n) columns / rows. attrs: upper, full; "nout" for VJPs. */
#include <criterion/criterion.h>
#include <string.h>

#include "support/oracle.h"

static tg_tensor *abs2(tg_tensor *x) { return tg_square(tg_abs(x)); }
static tg_tensor *mH(tg_tensor *x) { return tg_conj(tg_mT(x)); }

static tg_status run_eigh_loss(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    const char *loss = oracle_attr_str(c, "loss", "w");
    bool upper = oracle_attr_bool(c, "upper", false);
    if (!strcmp(loss, "w")) ORACLE_RETURN(tg_linalg_eigvalsh(in[0], upper));
    tg_tensor *w = NULL, *v = NULL;
    tg_status st = upper ? tg_linalg_eigh_uplo(in[0], true, &w, &v) : tg_linalg_eigh(in[0], &w, &v);
    if (st) return st;
    if (!strcmp(loss, "w_absv")) {
        out[0] = w;
        out[1] = abs2(v);
        return out[1] ? TG_OK : tg_last_error_code();
    }
    ORACLE_RETURN(tg_matmul(tg_mul(v, tg_unsqueeze(tg_sin(w), -2)), mH(v)));   /* sinw */
}

static tg_status run_svd_loss(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    const char *loss = oracle_attr_str(c, "loss", "s");
    bool full = oracle_attr_bool(c, "full", false);
    if (!strcmp(loss, "s")) ORACLE_RETURN(tg_linalg_svdvals(in[0]));
    tg_tensor *u = NULL, *s = NULL, *vh = NULL;
    tg_status st = tg_linalg_svd(in[0], full, &u, &s, &vh);
    if (st) return st;
    int64_t k = tg_dim(s, -1);
    int nd = tg_ndim(u);
    tg_tensor *u1 = tg_slice(u, nd - 1, 0, k, 1), *vh1 = tg_slice(vh, nd - 2, 0, k, 1);
    if (!strcmp(loss, "s_full")) ORACLE_RETURN(s);
    if (!strcmp(loss, "recon")) ORACLE_RETURN(tg_matmul(tg_mul(u1, tg_unsqueeze(s, -2)), vh1));
    if (!strcmp(loss, "uvh")) ORACLE_RETURN(tg_matmul(u1, vh1));
    if (!strcmp(loss, "abs")) {
        out[0] = abs2(u1);
        out[1] = abs2(vh1);
    } else if (!strcmp(loss, "orth")) {
        out[0] = tg_matmul(mH(u), u);
        out[1] = tg_matmul(vh, mH(vh));
    } else {
        return TG_ERR_ARG;
    }
    return out[0] && out[1] ? TG_OK : tg_last_error_code();
}

/* ---- derivatives (tests/support/oracle.h; attrs.nout outputs): VJPs take (A, one cotangent per
 * output) and give A-bar; JVPs take (A, A-dot) and give the outputs' tangents ---- */
ORACLE_VJP(eigh_loss, 1) ORACLE_VJP(svd_loss, 1)
ORACLE_JVP(eigh_loss, 1) ORACLE_JVP(svd_loss, 1)

static const oracle_entry table[] = {
    ORACLE_ENTRY(eigh_loss), ORACLE_ENTRY(svd_loss),
    {"vjp:eigh_loss", run_vjp_eigh_loss}, {"vjp:svd_loss", run_vjp_svd_loss},
    {"jvp:eigh_loss", run_jvp_eigh_loss}, {"jvp:svd_loss", run_jvp_svd_loss},
};
Test(oracle_linalg_spectral, all) {
    check_oracle_file("linalg_spectral.json", table, sizeof table / sizeof table[0]);
}
