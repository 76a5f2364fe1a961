/* nn layers and optimisers against oracles/data/nn_layers.json
 * (oracles/gen_nn_layers.py, PyTorch 1.13): softmax, log_softmax, linear
 * (+ReLU), cross_entropy values, VJPs and JVPs (f32 and f64, non-contiguous
 * inputs, error cases), and 5 steps of torch.optim.SGD / Adam. */
#include <criterion/criterion.h>
#include <string.h>

#include "support/oracle.h"

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

/* ---- vjp:/jvp: cases (gen_grad.py's layout, tests/support/oracle.h) ---- */
#define GRAD(op)                                                                                        \
    static tg_status vjp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,         \
                              tg_tensor **out) {                                                        \
        lin_n = (int)oracle_attr_int(c, "n_primal", n_in);                                              \
        return oracle_run_vjp(fwd_##op, c, n_in, in, n_out, out);                                       \
    }                                                                                                   \
    static tg_status jvp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,         \
                              tg_tensor **out) {                                                        \
        lin_n = (int)oracle_attr_int(c, "n_primal", n_in);                                              \
        return oracle_run_jvp(fwd_##op, c, n_in, in, n_out, out);                                       \
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
