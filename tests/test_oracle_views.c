/* View ops against oracles/data/views.json. Cases may also state whether
 * the result shares memory with the input ("shares_memory", from NumPy). */
#include <criterion/criterion.h>

#include "support/oracle.h"

static int shape_of(const oracle_case *c, int64_t *shape) {
    int n = oracle_attr_ints(c, "shape", shape, TG_MAX_DIMS);
    return n < 0 ? 0 : n;
}

#define SHAPED(op)                                                                                  \
    static tg_status run_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,     \
                              tg_tensor **out) {                                                   \
        int64_t s[TG_MAX_DIMS];                                                                    \
        int n = shape_of(c, s);                                                                    \
        ORACLE_RETURN(tg_##op(in[0], n, s));                                                       \
    }
SHAPED(reshape) SHAPED(view) SHAPED(expand) SHAPED(broadcast_to)

static tg_status run_permute(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    int64_t v[TG_MAX_DIMS];
    int perm[TG_MAX_DIMS] = {0};
    int n = oracle_attr_ints(c, "perm", v, TG_MAX_DIMS);
    for (int i = 0; i < n && i < TG_MAX_DIMS; i++) perm[i] = (int)v[i];
    ORACLE_RETURN(tg_permute(in[0], perm));
}

static tg_status run_squeeze(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    int64_t v[TG_MAX_DIMS];
    int axes[TG_MAX_DIMS] = {0};
    int n = oracle_attr_ints(c, "axes", v, TG_MAX_DIMS);
    for (int i = 0; i < n && i < TG_MAX_DIMS; i++) axes[i] = (int)v[i];
    ORACLE_RETURN(n < 0 ? tg_squeeze(in[0], 0, NULL) : tg_squeeze(in[0], n, axes));
}

#define AI(key) (int)oracle_attr_int(c, key, 0)
ORACLE_ADAPTER(flatten, tg_flatten(in[0]))
ORACLE_ADAPTER(transpose, tg_transpose(in[0], AI("axis0"), AI("axis1")))
ORACLE_ADAPTER(mT, tg_mT(in[0]))
ORACLE_ADAPTER(slice, tg_slice(in[0], AI("axis"), oracle_attr_int(c, "start", TG_NONE),
                               oracle_attr_int(c, "stop", TG_NONE), oracle_attr_int(c, "step", 1)))
ORACLE_ADAPTER(select, tg_select(in[0], AI("axis"), oracle_attr_int(c, "index", 0)))
ORACLE_ADAPTER(unsqueeze, tg_unsqueeze(in[0], AI("axis")))
ORACLE_ADAPTER(diagonal, tg_diagonal(in[0], oracle_attr_int(c, "offset", 0), AI("axis1"), AI("axis2")))
ORACLE_ADAPTER(real, tg_real(in[0]))
ORACLE_ADAPTER(imag, tg_imag(in[0]))
ORACLE_ADAPTER(contiguous, tg_contiguous(in[0]))
ORACLE_ADAPTER(copy, tg_copy(in[0]))

static const oracle_entry table[] = {
    ORACLE_ENTRY(reshape), ORACLE_ENTRY(view), ORACLE_ENTRY(flatten), ORACLE_ENTRY(permute),
    ORACLE_ENTRY(transpose), ORACLE_ENTRY(mT), ORACLE_ENTRY(slice), ORACLE_ENTRY(select), ORACLE_ENTRY(expand),
    ORACLE_ENTRY(broadcast_to), ORACLE_ENTRY(squeeze), ORACLE_ENTRY(unsqueeze), ORACLE_ENTRY(diagonal),
    ORACLE_ENTRY(real), ORACLE_ENTRY(imag), ORACLE_ENTRY(contiguous), ORACLE_ENTRY(copy),
};

TestSuite(oracle_views, .init = tg_clear_error);

Test(oracle_views, all_ops) { check_oracle_file("views.json", table, sizeof table / sizeof *table); }
