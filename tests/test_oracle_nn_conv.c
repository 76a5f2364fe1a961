/* Convolution and pooling against oracles/data/nn_conv.json
 * (oracles/gen_nn_conv.py: torch.nn.functional values and autograd VJPs of
 * a weighted sum, f32 and f64, non-contiguous inputs, shape errors).
 * attrs: "kh", "kw" (unfold), "stride", "padding", "dilation", "groups",
 * "exact" (conv), "kernel", "stride", "padding", "exact" (pools; stride 0 =
 * the kernel). */
#include <criterion/criterion.h>

#include "support/oracle.h"

static void pair(const oracle_case *c, const char *key, int64_t *v) {
    v[0] = v[1] = 0;
    oracle_attr_ints(c, key, v, 2);
}
static tg_conv2d_opts conv_opts(const oracle_case *c) {
    tg_conv2d_opts o = {0};
    pair(c, "stride", o.stride);
    pair(c, "padding", o.padding);
    pair(c, "dilation", o.dilation);
    o.groups = oracle_attr_int(c, "groups", 1);
    o.exact = oracle_attr_bool(c, "exact", false);
    return o;
}
static tg_pool2d_opts pool_opts(const oracle_case *c) {
    tg_pool2d_opts o = {0};
    pair(c, "kernel", o.kernel);
    pair(c, "stride", o.stride);
    pair(c, "padding", o.padding);
    o.exact = oracle_attr_bool(c, "exact", false);
    return o;
}

static tg_status run_unfold(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    tg_conv2d_opts o = conv_opts(c);
    ORACLE_RETURN(tg_nn_unfold(in[0], oracle_attr_int(c, "kh", 1), oracle_attr_int(c, "kw", 1), &o));
}
static tg_status run_conv2d(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_out;
    tg_conv2d_opts o = conv_opts(c);
    ORACLE_RETURN(tg_nn_conv2d(in[0], in[1], n_in > 2 ? in[2] : NULL, &o));
}
static tg_status run_max_pool2d(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    tg_pool2d_opts o = pool_opts(c);
    ORACLE_RETURN(tg_nn_max_pool2d(in[0], &o));
}
static tg_status run_avg_pool2d(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    (void)n_in; (void)n_out;
    tg_pool2d_opts o = pool_opts(c);
    ORACLE_RETURN(tg_nn_avg_pool2d(in[0], &o));
}

/* ---- VJPs: inputs (primals..., cotangent), outputs the primals' cotangents ---- */
typedef struct { const oracle_case *c; oracle_fn fwd; int n; } vjp_ctx;
static tg_status vjp_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    vjp_ctx *v = ctx;
    return v->fwd(v->c, v->n, in, 1, out);
}
#define VJP(op)                                                                                     \
    static tg_status run_vjp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out, \
                                  tg_tensor **out) {                                               \
        (void)n_out;                                                                               \
        vjp_ctx v = {c, run_##op, n_in - 1};                                                       \
        return tg_vjp(vjp_fn, &v, n_in - 1, in, 1, &in[n_in - 1], NULL, out);                      \
    }
VJP(unfold)
VJP(conv2d)
VJP(max_pool2d)
VJP(avg_pool2d)

static const oracle_entry table[] = {
    ORACLE_ENTRY(unfold), ORACLE_ENTRY(conv2d), ORACLE_ENTRY(max_pool2d), ORACLE_ENTRY(avg_pool2d),
    {"vjp:unfold", run_vjp_unfold}, {"vjp:conv2d", run_vjp_conv2d},
    {"vjp:max_pool2d", run_vjp_max_pool2d}, {"vjp:avg_pool2d", run_vjp_avg_pool2d},
};

Test(oracle_nn_conv, all) { check_oracle_file("nn_conv.json", table, sizeof table / sizeof table[0]); }
