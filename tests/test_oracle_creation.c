/* Creation functions against oracles/data/creation.json. */
#include <criterion/criterion.h>
#include <math.h>

#include "support/oracle.h"

#define DT oracle_attr_dtype(c, "dtype", (tg_dtype)-1)

static int shape_of(const oracle_case *c, int64_t *shape) {
    int n = oracle_attr_ints(c, "shape", shape, TG_MAX_DIMS);
    return n < 0 ? 0 : n;
}

static tg_status run_zeros(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    int64_t s[TG_MAX_DIMS];
    int n = shape_of(c, s);
    ORACLE_RETURN(tg_zeros(DT, n, s));
}
static tg_status run_ones(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    int64_t s[TG_MAX_DIMS];
    int n = shape_of(c, s);
    ORACLE_RETURN(tg_ones(DT, n, s));
}
static tg_status run_full(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    int64_t s[TG_MAX_DIMS];
    int n = shape_of(c, s);
    ORACLE_RETURN(tg_full(DT, n, s, oracle_attr_f64(c, "value", NAN)));
}
static tg_status run_full_complex(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,
                                  tg_tensor **out) {
    int64_t s[TG_MAX_DIMS];
    int n = shape_of(c, s);
    ORACLE_RETURN(tg_full_complex(DT, n, s, oracle_attr_f64(c, "re", NAN), oracle_attr_f64(c, "im", NAN)));
}
ORACLE_ADAPTER(scalar, tg_scalar(DT, oracle_attr_f64(c, "value", NAN)))
ORACLE_ADAPTER(scalar_complex, tg_scalar_complex(DT, oracle_attr_f64(c, "re", NAN), oracle_attr_f64(c, "im", NAN)))
ORACLE_ADAPTER(zeros_like, tg_zeros_like(in[0]))
ORACLE_ADAPTER(ones_like, tg_ones_like(in[0]))
ORACLE_ADAPTER(full_like, tg_full_like(in[0], oracle_attr_f64(c, "value", NAN)))
ORACLE_ADAPTER(eye, tg_eye(DT, oracle_attr_int(c, "n", 0), oracle_attr_int(c, "m", -1)))
ORACLE_ADAPTER(arange, tg_arange(DT, oracle_attr_f64(c, "start", NAN), oracle_attr_f64(c, "stop", NAN),
                                 oracle_attr_f64(c, "step", NAN)))
ORACLE_ADAPTER(linspace, tg_linspace(DT, oracle_attr_f64(c, "start", NAN), oracle_attr_f64(c, "stop", NAN),
                                     oracle_attr_int(c, "num", 0)))

static const oracle_entry table[] = {
    ORACLE_ENTRY(zeros), ORACLE_ENTRY(ones), ORACLE_ENTRY(full), ORACLE_ENTRY(full_complex), ORACLE_ENTRY(scalar),
    ORACLE_ENTRY(scalar_complex), ORACLE_ENTRY(zeros_like), ORACLE_ENTRY(ones_like), ORACLE_ENTRY(full_like),
    ORACLE_ENTRY(eye), ORACLE_ENTRY(arange), ORACLE_ENTRY(linspace),
};

TestSuite(oracle_creation, .init = tg_clear_error);

Test(oracle_creation, all) { check_oracle_file("creation.json", table, sizeof table / sizeof *table); }
