/* Derivative rules against PyTorch 1.13: oracles/data/grad.json
 * (oracles/gen_grad.py). A case "vjp:<op>" holds the op's primal inputs
 * (attrs.n_primal of them), then the cotangent of its output; its outputs are
 * the cotangents of the primals listed in attrs.wrt (absent: all), from
 * torch.autograd.grad. A case "jvp:<op>" holds the primals, then one tangent
 * per primal of wrt; its output is the output tangent, from
 * torch.autograd.forward_ad. The other primals (index and condition tensors)
 * are constants of the function. Each forward function below calls one op
 * with the case's attrs. */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "support/oracle.h"

#define MAXAX 8

#define RET(expr) do { out[0] = (expr); return out[0] ? TG_OK : tg_last_error_code(); } while (0)
#define FWD(name, expr)                                                                   \
    static tg_status fwd_##name(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) { \
        (void)c;                                                                          \
        RET(expr);                                                                        \
    }

/* ---- attrs (axes absent: all, passed as NULL) ---------------------------------------------------------------- */
static int axes_of(const oracle_case *c, int *axes) {
    int64_t a[MAXAX];
    int n = oracle_attr_ints(c, "axes", a, MAXAX);
    if (n < 0) return 0;                        /* absent: all axes */
    for (int i = 0; i < n; i++) axes[i] = (int)a[i];
    return n;
}
static int ax(const oracle_case *c) { return (int)oracle_attr_int(c, "axis", 0); }
static bool keep(const oracle_case *c) { return oracle_attr_bool(c, "keepdim", false); }

/* ---- unary ------------------------------------------------------------------ */
#define U(op) FWD(op, tg_##op(p[0]))
U(neg) U(exp) U(log) U(log2) U(log10) U(sqrt) U(sin) U(cos) U(tan) U(tanh) U(sigmoid) U(asin) U(acos) U(atan)
U(sinh) U(cosh) U(asinh) U(acosh) U(atanh) U(expm1) U(log1p) U(rsqrt) U(reciprocal) U(square) U(abs) U(sign)
U(angle) U(conj) U(real) U(imag) U(relu) U(gelu) U(silu) U(softplus) U(erf) U(erfc) U(floor)

/* ---- binary ----------------------------------------------------------------- */
#define B(op) FWD(op, tg_##op(p[0], p[1]))
B(add) B(sub) B(mul) B(div) B(pow) B(maximum) B(minimum) B(atan2) B(matmul)
FWD(where, tg_where(p[0], p[1], p[2]))

/* ---- reductions ------------------------------------------------------------- */
#define RED(op)                                                                           \
    static tg_status fwd_##op(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) { \
        int axes[MAXAX];                                                                  \
        int n = axes_of(c, axes);                                                         \
        RET(tg_##op(p[0], n, n ? axes : NULL, keep(c)));                                             \
    }
RED(sum) RED(mean) RED(prod) RED(max) RED(min) RED(logsumexp)
static tg_status fwd_var(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    int axes[MAXAX];
    int n = axes_of(c, axes);
    RET(tg_var(p[0], n, n ? axes : NULL, oracle_attr_int(c, "correction", 0), keep(c)));
}
static tg_status fwd_std(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    int axes[MAXAX];
    int n = axes_of(c, axes);
    RET(tg_std(p[0], n, n ? axes : NULL, oracle_attr_int(c, "correction", 0), keep(c)));
}
static tg_status fwd_norm(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    int axes[MAXAX];
    int n = axes_of(c, axes);
    RET(tg_norm(p[0], oracle_attr_f64(c, "p", 2), n, n ? axes : NULL, keep(c)));
}

/* ---- views -------------------------------------------------------------------- */
static tg_status fwd_reshape(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    int64_t s[MAXAX];
    int n = oracle_attr_ints(c, "shape", s, MAXAX);
    RET(tg_reshape(p[0], n, s));
}
static tg_status fwd_expand(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    int64_t s[MAXAX];
    int n = oracle_attr_ints(c, "shape", s, MAXAX);
    RET(tg_expand(p[0], n, s));
}
static tg_status fwd_permute(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    int64_t a[MAXAX];
    int perm[MAXAX];
    int n = oracle_attr_ints(c, "perm", a, MAXAX);
    for (int i = 0; i < n; i++) perm[i] = (int)a[i];
    RET(tg_permute(p[0], perm));
}
static tg_status fwd_slice(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    RET(tg_slice(p[0], ax(c), oracle_attr_int(c, "start", TG_NONE), oracle_attr_int(c, "stop", TG_NONE),
                 oracle_attr_int(c, "step", TG_NONE)));
}
FWD(diagonal, tg_diagonal(p[0], oracle_attr_int(c, "offset", 0), (int)oracle_attr_int(c, "axis1", 0),
                          (int)oracle_attr_int(c, "axis2", 1)))
FWD(select, tg_select(p[0], ax(c), oracle_attr_int(c, "index", 0)))
static tg_status fwd_flip(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    int axes[MAXAX];
    int n = axes_of(c, axes);
    RET(tg_flip(p[0], n, n ? axes : NULL));
}

/* ---- indexing, shaping, scans, sorting ------------------------------------------ */
FWD(gather, tg_gather(p[0], ax(c), p[1]))
FWD(index_select, tg_index_select(p[0], ax(c), p[1]))
FWD(scatter_add, tg_scatter_add(p[0], ax(c), p[1], p[2]))
FWD(cumsum, tg_cumsum(p[0], ax(c)))
FWD(cumprod, tg_cumprod(p[0], ax(c)))
static tg_status fwd_concat(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    RET(tg_concat((int)oracle_attr_int(c, "n_primal", 0), p, ax(c)));
}
static tg_status fwd_pad(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    int64_t pads[2 * MAXAX];
    oracle_attr_ints(c, "pads", pads, 2 * MAXAX);
    RET(tg_pad(p[0], pads, oracle_attr_f64(c, "value", 0)));
}
static tg_status fwd_sort(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    return tg_sort(p[0], ax(c), oracle_attr_bool(c, "descending", false), &out[0], NULL);
}
static tg_status fwd_topk(const oracle_case *c, tg_tensor *const *p, tg_tensor **out) {
    return tg_topk(p[0], oracle_attr_int(c, "k", 1), ax(c), oracle_attr_bool(c, "largest", true), &out[0], NULL);
}

/* Harness table: "vjp:<op>" and "jvp:<op>" for every forward function. */
#define GRAD(op)                                                                                      \
    static tg_status vjp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,       \
                              tg_tensor **out) {                                                     \
        return oracle_run_vjp(fwd_##op, c, n_in, in, n_out, out);                                           \
    }                                                                                                \
    static tg_status jvp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,       \
                              tg_tensor **out) {                                                     \
        return oracle_run_jvp(fwd_##op, c, n_in, in, n_out, out);                                           \
    }
#define OPS(X)                                                                                         \
    X(neg) X(exp) X(log) X(log2) X(log10) X(sqrt) X(sin) X(cos) X(tan) X(tanh) X(sigmoid) X(asin)     \
    X(acos) X(atan) X(sinh) X(cosh) X(asinh) X(acosh) X(atanh) X(expm1) X(log1p) X(rsqrt)             \
    X(reciprocal) X(square) X(abs) X(sign) X(angle) X(conj) X(real) X(imag) X(relu) X(gelu) X(silu)   \
    X(softplus) X(erf) X(erfc) X(floor)                                                               \
    X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum) X(atan2) X(where) X(matmul)              \
    X(sum) X(mean) X(prod) X(max) X(min) X(logsumexp) X(var) X(std) X(norm)                           \
    X(reshape) X(expand) X(permute) X(slice) X(diagonal) X(select) X(flip)                            \
    X(gather) X(index_select) X(scatter_add) X(concat) X(pad) X(cumsum) X(cumprod) X(sort) X(topk)
OPS(GRAD)
#define ENTRIES(op) {"vjp:" #op, vjp_##op}, {"jvp:" #op, jvp_##op},
static const oracle_entry table[] = {OPS(ENTRIES)};

/* The device pass compiles many lavapipe pipelines (the complex ones are
 * large): 31 s in a debug build, over 120 s under AddressSanitizer. The
 * limit only catches a hang. */
TestSuite(oracle_grad, .init = tg_clear_error, .timeout = 900);

Test(oracle_grad, pytorch_vjp_and_jvp) { check_oracle_file("grad.json", table, sizeof table / sizeof *table); }
