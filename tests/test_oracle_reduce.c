/* Reductions against oracles/data/reduce.json. attrs: "axes" (absent: all
 * axes; [] : none), "keepdim", "correction" (var/std), "p" (norm), "axis"
 * (argmax/argmin). */
#include <criterion/criterion.h>
#include <math.h>

#include "support/oracle.h"

/* Axis list of the case: returns naxes and sets *axes (NULL for all axes). */
static int axes_of(const oracle_case *c, int *buf, const int **axes) {
    int64_t v[TG_MAX_DIMS];
    int n = oracle_attr_ints(c, "axes", v, TG_MAX_DIMS);
    if (n < 0) { *axes = NULL; return 0; }
    for (int i = 0; i < n && i < TG_MAX_DIMS; i++) buf[i] = (int)v[i];
    *axes = buf;
    return n;
}

#define R(op)                                                                                       \
    static tg_status run_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,     \
                              tg_tensor **out) {                                                   \
        int buf[TG_MAX_DIMS];                                                                      \
        const int *axes;                                                                           \
        int n = axes_of(c, buf, &axes);                                                            \
        ORACLE_RETURN(tg_##op(in[0], n, axes, oracle_attr_bool(c, "keepdim", false)));             \
    }
R(sum) R(mean) R(prod) R(max) R(min) R(all) R(any) R(logsumexp)

#define RV(op)                                                                                      \
    static tg_status run_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,     \
                              tg_tensor **out) {                                                   \
        int buf[TG_MAX_DIMS];                                                                      \
        const int *axes;                                                                           \
        int n = axes_of(c, buf, &axes);                                                            \
        ORACLE_RETURN(tg_##op(in[0], n, axes, oracle_attr_int(c, "correction", 1),                 \
                              oracle_attr_bool(c, "keepdim", false)));                             \
    }
RV(var) RV(std)

static tg_status run_norm(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    int buf[TG_MAX_DIMS];
    const int *axes;
    int n = axes_of(c, buf, &axes);
    ORACLE_RETURN(tg_norm(in[0], oracle_attr_f64(c, "p", 2), n, axes, oracle_attr_bool(c, "keepdim", false)));
}

ORACLE_ADAPTER(argmax, tg_argmax(in[0], (int)oracle_attr_int(c, "axis", 0), oracle_attr_bool(c, "keepdim", false)))
ORACLE_ADAPTER(argmin, tg_argmin(in[0], (int)oracle_attr_int(c, "axis", 0), oracle_attr_bool(c, "keepdim", false)))

static const oracle_entry table[] = {
    ORACLE_ENTRY(sum), ORACLE_ENTRY(mean), ORACLE_ENTRY(prod), ORACLE_ENTRY(max), ORACLE_ENTRY(min),
    ORACLE_ENTRY(all), ORACLE_ENTRY(any), ORACLE_ENTRY(logsumexp), ORACLE_ENTRY(var), ORACLE_ENTRY(std),
    ORACLE_ENTRY(norm), ORACLE_ENTRY(argmax), ORACLE_ENTRY(argmin),
};

TestSuite(oracle_reduce, .init = tg_clear_error);

Test(oracle_reduce, all_ops) { check_oracle_file("reduce.json", table, sizeof table / sizeof *table); }
