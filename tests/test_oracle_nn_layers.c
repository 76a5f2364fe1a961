/* nn layers and optimisers against oracles/data/nn_layers.json
 * (oracles/gen_nn_layers.py, PyTorch 1.13): softmax, log_softmax, linear
 * (+ReLU), cross_entropy values, VJPs and JVPs (f32 and f64, non-contiguous
 * inputs, error cases), and 5 steps of torch.optim.SGD / Adam. */
#include <criterion/criterion.h>
#include <string.h>

#include "support/oracle.h"

typedef tg_status (*fwd_fn)(const oracle_case *c, tg_tensor *const *in, tg_tensor **out);

static tg_status fwd_softmax(const oracle_case *c, tg_tensor *const *in, tg_tensor **out) {
    out[0] = tg_nn_softmax(in[0], (int)oracle_attr_int(c, "axis", -1));
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status fwd_log_softmax(const oracle_case *c, tg_tensor *const *in, tg_tensor **out) {
    out[0] = tg_nn_log_softmax(in[0], (int)oracle_attr_int(c, "axis", -1));
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_activation act_of(const oracle_case *c) {
    return strcmp(oracle_attr_str(c, "act", "none"), "relu") ? TG_ACT_NONE : TG_ACT_RELU;
}
/* linear's primals: x, w and (when the case has three) b; n_primal says how many */
static int lin_n;
static tg_status fwd_linear(const oracle_case *c, tg_tensor *const *in, tg_tensor **out) {
    out[0] = tg_nn_linear(in[0], in[1], lin_n > 2 ? in[2] : NULL, act_of(c));
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status fwd_cross_entropy(const oracle_case *c, tg_tensor *const *in, tg_tensor **out) {
    out[0] = tg_nn_cross_entropy(in[0], in[1], oracle_attr_str(c, "reduction", NULL));
    return out[0] ? TG_OK : tg_last_error_code();
}

#define VALUE(op)                                                                                        \
    static tg_status run_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,          \
                              tg_tensor **out) {                                                        \
        (void)n_out;                                                                                    \
        lin_n = n_in;                                                                                   \
        return fwd_##op(c, in, out);                                                                    \
    }
VALUE(softmax) VALUE(log_softmax) VALUE(linear) VALUE(cross_entropy)

/* ---- vjp:/jvp: cases (layout of gen_grad.py: n_primal primals, then cotangents or tangents) ---- */
typedef struct {
    const oracle_case *c;
    fwd_fn fn;
    int n_primal, n_wrt, wrt[ORACLE_MAX_IO];
    tg_tensor *prim[ORACLE_MAX_IO];
} grad_ctx;

static tg_status traced(void *vctx, tg_tensor *const *in, tg_tensor **out) {
    grad_ctx *g = vctx;
    tg_tensor *p[ORACLE_MAX_IO];
    memcpy(p, g->prim, sizeof p);
    for (int i = 0; i < g->n_wrt; i++) p[g->wrt[i]] = in[i];
    return g->fn(g->c, p, out);
}

static bool setup(grad_ctx *g, fwd_fn fn, const oracle_case *c, int n_in, tg_tensor *const *in) {
    memset(g, 0, sizeof *g);
    g->c = c;
    g->fn = fn;
    g->n_primal = (int)oracle_attr_int(c, "n_primal", -1);
    if (g->n_primal < 1 || g->n_primal > n_in) return false;
    lin_n = g->n_primal;
    int64_t w[ORACLE_MAX_IO];
    int n = oracle_attr_ints(c, "wrt", w, ORACLE_MAX_IO);
    if (n < 0) {
        n = g->n_primal;
        for (int i = 0; i < n; i++) w[i] = i;
    }
    g->n_wrt = n;
    for (int i = 0; i < n; i++) {
        if (w[i] < 0 || w[i] >= g->n_primal) return false;
        g->wrt[i] = (int)w[i];
    }
    for (int i = 0; i < g->n_primal; i++) g->prim[i] = in[i];
    return true;
}

static tg_status run_vjp(fwd_fn fn, const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,
                         tg_tensor **out) {
    grad_ctx g;
    if (!setup(&g, fn, c, n_in, in) || n_out != g.n_wrt) return TG_ERR_ARG;
    tg_tensor *diff[ORACLE_MAX_IO];
    for (int i = 0; i < g.n_wrt; i++) diff[i] = in[g.wrt[i]];
    return tg_vjp(traced, &g, g.n_wrt, diff, n_in - g.n_primal, in + g.n_primal, NULL, out);
}
static tg_status run_jvp(fwd_fn fn, const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,
                         tg_tensor **out) {
    grad_ctx g;
    if (!setup(&g, fn, c, n_in, in) || n_in != g.n_primal + g.n_wrt) return TG_ERR_ARG;
    tg_tensor *diff[ORACLE_MAX_IO], *primal_out[ORACLE_MAX_IO];
    for (int i = 0; i < g.n_wrt; i++) diff[i] = in[g.wrt[i]];
    return tg_jvp(traced, &g, g.n_wrt, diff, in + g.n_primal, n_out, primal_out, out);
}
#define GRAD(op)                                                                                        \
    static tg_status vjp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,         \
                              tg_tensor **out) {                                                        \
        return run_vjp(fwd_##op, c, n_in, in, n_out, out);                                              \
    }                                                                                                   \
    static tg_status jvp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,         \
                              tg_tensor **out) {                                                        \
        return run_jvp(fwd_##op, c, n_in, in, n_out, out);                                              \
    }
GRAD(softmax) GRAD(log_softmax) GRAD(linear) GRAD(cross_entropy)

/* ---- optimisers: in[0] the initial parameter, in[1..5] the gradients; out[k] the parameter after step k+1.
 * via "grads": tg_optim_step(o, grads); via "tape": the gradient reaches tg_grad through
 * backward of sum(p * g_k), then tg_optim_step(o, NULL) and tg_optim_zero_grad. */
static tg_status run_optim(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out,
                           bool adam) {
    if (n_in != n_out + 1) return TG_ERR_ARG;
    bool tape = !strcmp(oracle_attr_str(c, "via", "grads"), "tape");
    tg_tensor *p = tg_copy(in[0]);
    if (!p || (tape && tg_set_requires_grad(p, true))) return tg_last_error_code();
    double lr = oracle_attr_f64(c, "lr", 0);
    tg_optimizer *o = adam ? tg_optim_adam(1, &p, lr, oracle_attr_f64(c, "beta1", 0), oracle_attr_f64(c, "beta2", 0),
                                           oracle_attr_f64(c, "eps", 0))
                           : tg_optim_sgd(1, &p, lr, oracle_attr_f64(c, "momentum", 0),
                                          oracle_attr_f64(c, "weight_decay", 0));
    if (!o) return tg_last_error_code();
    tg_status st = TG_OK;
    for (int k = 0; k < n_out && !st; k++) {
        if (tape) {
            tg_tensor *loss = tg_sum(tg_mul(p, in[k + 1]), 0, NULL, false);
            st = loss ? tg_backward(loss, NULL) : tg_last_error_code();
            if (!st) st = tg_optim_step(o, NULL);
            if (!st) st = tg_optim_zero_grad(o);
        } else {
            st = tg_optim_step(o, &in[k + 1]);
        }
        if (!st && !(out[k] = tg_copy(tg_detach(p)))) st = tg_last_error_code();
    }
    tg_optim_free(o);
    return st;
}
static tg_status run_optim_sgd(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    return run_optim(c, n_in, in, n_out, out, false);
}
static tg_status run_optim_adam(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    return run_optim(c, n_in, in, n_out, out, true);
}

#define ENTRIES(op) ORACLE_ENTRY(op), {"vjp:" #op, vjp_##op}, {"jvp:" #op, jvp_##op}
static const oracle_entry table[] = {
    ENTRIES(softmax), ENTRIES(log_softmax), ENTRIES(linear), ENTRIES(cross_entropy),
    ORACLE_ENTRY(optim_sgd), ORACLE_ENTRY(optim_adam),
};
Test(oracle_nn_layers, pytorch) { check_oracle_file("nn_layers.json", table, sizeof table / sizeof table[0]); }
