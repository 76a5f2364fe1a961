/* Oracle harness: loads reference cases written by the generators under
 * oracles/ (format: oracles/README.md) and checks Tangent against them.
 *
 * A test file maps op names to adapters that call the public API:
 *
 *     static tg_status run_add(const oracle_case *c, int n_in, tg_tensor *const *in,
 *                              int n_out, tg_tensor **out) {
 *         out[0] = tg_add(in[0], in[1]);
 *         return out[0] ? TG_OK : tg_last_error_code();
 *     }
 *     static const oracle_entry table[] = {{"add", run_add}};
 *     Test(oracle_binary, all) { check_oracle_file("binary.json", table, 1); }
 *
 * Each case runs inside its own tg_scope, so adapters need not release what
 * they create; tensors stored in out[] are read before the scope ends. */
#ifndef TG_TEST_ORACLE_H
#define TG_TEST_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tangent/tangent.h>

#define ORACLE_MAX_IO 8      /* inputs or outputs per case */

typedef struct oracle_case oracle_case;
typedef tg_status (*oracle_fn)(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out);
typedef struct { const char *op; oracle_fn fn; } oracle_entry;

const char *oracle_case_name(const oracle_case *c);
/* Attributes of the case ("attrs" object). A missing key or a JSON null
 * gives dflt. */
int64_t     oracle_attr_int(const oracle_case *c, const char *key, int64_t dflt);
double      oracle_attr_f64(const oracle_case *c, const char *key, double dflt);   /* accepts "inf"/"-inf"/"nan" */
bool        oracle_attr_bool(const oracle_case *c, const char *key, bool dflt);
/* Copies up to max integers of a list attribute; returns the list's length,
 * -1 when the key is absent or null. */
int         oracle_attr_ints(const oracle_case *c, const char *key, int64_t *out, int max);
const char *oracle_attr_str(const oracle_case *c, const char *key, const char *dflt);
bool        oracle_attr_has(const oracle_case *c, const char *key);
/* dtype attribute by name ("f32", ...); dflt when absent or unknown. */
tg_dtype    oracle_attr_dtype(const oracle_case *c, const char *key, tg_dtype dflt);
/* "bool" "i32" ... "c128" -> dtype; -1 when unknown. */
int         oracle_dtype_from_name(const char *name);

/* Runs every case of TG_ORACLE_DIR/file whose op is in the table (a case
 * whose op is missing from the table is a failure), checks outputs (dtype,
 * shape, values with per-dtype tolerances from check.h's tol_for unless the
 * case overrides rtol/atol) or the expected error code, reports the case
 * name and worst element of every failing case, and fails if the file has
 * no cases. A case marked "xfail" must still fail (so the marker is removed
 * once the library is fixed). */
void check_oracle_file(const char *file, const oracle_entry *table, size_t n_entries);

/* Derivative cases in oracles/gen_grad.py's layout: attrs.n_primal primals,
 * then for "vjp:" the cotangents of fwd's outputs (out: the cotangents of the
 * primals listed in attrs.wrt, absent: all), for "jvp:" one tangent per wrt
 * primal (out: fwd's output tangents). Primals outside wrt are constants of
 * the function. TG_ERR_ARG when the case does not fit that layout. */
typedef tg_status (*oracle_fwd_fn)(const oracle_case *c, tg_tensor *const *primals, tg_tensor **out);
tg_status oracle_run_vjp(oracle_fwd_fn fwd, const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,
                         tg_tensor **out);
tg_status oracle_run_jvp(oracle_fwd_fn fwd, const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,
                         tg_tensor **out);

/* Derivative cases of the linalg generators: the first np inputs are the
 * primals of adapter fwd, all differentiated; then for "vjp:" one cotangent
 * per output of fwd, for "jvp:" one tangent per primal. fwd has attrs.nout
 * outputs (1 when absent). out: the primals' cotangents / the outputs'
 * tangents. Everything made stays in the caller's scope. ORACLE_VJP and
 * ORACLE_JVP define the adapters run_vjp_<op> / run_jvp_<op> of run_<op>. */
tg_status oracle_vjp_of(oracle_fn fwd, int np, const oracle_case *c, tg_tensor *const *in, tg_tensor **out);
tg_status oracle_jvp_of(oracle_fn fwd, int np, const oracle_case *c, tg_tensor *const *in, tg_tensor **out);
#define ORACLE_VJP(op, np)                                                                             \
    static tg_status run_vjp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,    \
                                  tg_tensor **out) {                                                  \
        (void)n_in; (void)n_out;                                                                      \
        return oracle_vjp_of(run_##op, np, c, in, out);                                               \
    }
#define ORACLE_JVP(op, np)                                                                             \
    static tg_status run_jvp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,    \
                                  tg_tensor **out) {                                                  \
        (void)n_in; (void)n_out;                                                                      \
        return oracle_jvp_of(run_##op, np, c, in, out);                                               \
    }

/* Inside an adapter: stores a tensor result in out[0] and returns its status. */
#define ORACLE_RETURN(expr)                                    \
    do {                                                       \
        out[0] = (expr);                                       \
        return out[0] ? TG_OK : tg_last_error_code();          \
    } while (0)
/* Defines an adapter run_<name> whose body is ORACLE_RETURN(expr); the
 * adapter's parameters are c, n_in, in, n_out, out. */
#define ORACLE_ADAPTER(name, expr)                                                                    \
    static tg_status run_##name(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,     \
                                tg_tensor **out) {                                                   \
        (void)c; (void)n_in; (void)in; (void)n_out;                                                  \
        ORACLE_RETURN(expr);                                                                         \
    }
#define ORACLE_ENTRY(name) {#name, run_##name}

#endif
