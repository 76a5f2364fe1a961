/* Functional derivatives that leave the caller's tensors untouched:
 * tg_vjp and tg_grad_fn. The function sees an alias of each primal whose
 * gradient is captured by the engine instead of accumulated into a leaf, so
 * an input that itself requires grad keeps its history and the results can
 * be differentiated again (grad of grad) without any state on leaves. */
#include "autodiff/node.h"
#include "tangent/autodiff.h"

#include <string.h>

/* alias: identity with its own node, the capture point of tg_vjp. */
static tg_status alias_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    (void)c;
    tg_tensor *x = in[0];
    out[0] = tg__make_view(x, x->dtype, x->ndim, x->shape, x->strides, x->offset);
    return out[0] ? TG_OK : TG_ERR_MEMORY;
}
static tg_status alias_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                           tg_tensor **ic) {
    (void)c; (void)in; (void)out;
    ic[0] = g[0];
    return TG_OK;
}
static tg_status alias_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                           tg_tensor **ot) {
    (void)c; (void)in; (void)out;
    ot[0] = t[0];
    return TG_OK;
}
const tg_op_def tg_op_alias = {.name = "alias", .n_in = 1, .n_out = 1, .flags = TG_OP_MAKES_OUTPUTS,
                               .kernel = {[TG_CPU] = alias_kernel}, .vjp = alias_vjp, .jvp = alias_jvp};
TG_REGISTER_OPS(functional, &tg_op_alias)

/* A capture point for primal p: a recorded alias of p when p has history
 * (so it stays differentiable), else a fresh leaf alias. */
static tg_tensor *capture_alias(tg_tensor *p, tg_tensor **slot) {
    if (tg__needs_grad(p) && tg_grad_enabled()) {
        tg_tensor *a = tg__apply1(&tg_op_alias, 1, &p, NULL);
        if (a && a->grad_fn) a->grad_fn->capture = slot;
        return a;
    }
    tg_tensor *a = tg__handout(tg__make_view(p, p->dtype, p->ndim, p->shape, p->strides, p->offset));
    if (a && tg__differentiable_dtype(a->dtype)) a->flags |= TG_TFLAG_REQUIRES_GRAD;
    if (a && p->tangent) a->tangent = tg_retain(p->tangent);     /* forward over reverse */
    return a;
}

/* cotangents NULL: tg_grad_fn's case, one output that must be a scalar and
 * is seeded with 1 once it exists (the function runs once). */
static tg_status vjp_run(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *primals, int n_out,
                         tg_tensor *const *cotangents, tg_tensor **outs, tg_tensor **grads) {
    if (n_in > TG_MAX_OP_INPUTS || n_out > TG_MAX_OP_OUTPUTS)
        return tg__error(TG_ERR_ARG, "tg_vjp: too many inputs or outputs");
    for (int i = 0; i < n_in; i++) grads[i] = NULL;
    if (outs) for (int j = 0; j < n_out; j++) outs[j] = NULL;
    bool create = false;
    for (int i = 0; i < n_in; i++) {
        if (!primals[i]) return tg__error(TG_ERR_ARG, "tg_vjp: primal %d is NULL", i);
        create = create || (tg__needs_grad(primals[i]) && tg_grad_enabled());
    }
    for (int j = 0; cotangents && j < n_out; j++) {
        if (!cotangents[j]) return tg__error(TG_ERR_ARG, "tg_vjp: cotangent %d is NULL", j);
        create = create || (tg__needs_grad(cotangents[j]) && tg_grad_enabled());
    }
    tg_tensor *slot[TG_MAX_OP_INPUTS] = {0}, *alias[TG_MAX_OP_INPUTS] = {0}, *res[TG_MAX_OP_OUTPUTS] = {0};
    tg_status st = TG_OK;
    tg_scope_begin();
    for (int i = 0; i < n_in && !st; i++) {
        alias[i] = capture_alias(primals[i], &slot[i]);
        if (!alias[i]) st = tg_last_error_code();
    }
    if (!st) st = fn(ctx, alias, res);
    tg_tensor *seed[1] = {NULL};
    if (!cotangents && !st) {
        if (!res[0]) {
            st = tg__error(TG_ERR_ARG, "tg_grad_fn: the function returned no output (%s)", tg_last_error());
        } else if (tg__numel(res[0]->ndim, res[0]->shape) != 1) {
            char sh[160];
            st = tg__error(TG_ERR_SHAPE, "tg_grad_fn: the function's output of shape %s is not a scalar",
                           tg__fmt_shape(sh, sizeof sh, res[0]->ndim, res[0]->shape));
        } else if (!(seed[0] = tg_ones_like(res[0]))) {
            st = tg_last_error_code();
        }
        cotangents = seed;
    }
    for (int j = 0; j < n_out && !st; j++)
        if (!res[j]) st = tg__error(TG_ERR_ARG, "tg_vjp: the function left output %d NULL (%s)", j, tg_last_error());
    /* One backward pass over the sum of <cotangent_j, out_j>: seeding each
     * output in turn would revisit shared nodes. */
    tg_tensor *total = NULL;
    for (int j = 0; j < n_out && !st; j++) {
        tg_tensor *o = res[j], *u = cotangents[j];
        if (u->ndim != o->ndim || memcmp(u->shape, o->shape, (size_t)o->ndim * sizeof(int64_t))) {
            char a[160], b[160];
            st = tg__error(TG_ERR_SHAPE, "tg_vjp: cotangent %d has shape %s, its output %s", j,
                           tg__fmt_shape(a, sizeof a, u->ndim, u->shape), tg__fmt_shape(b, sizeof b, o->ndim, o->shape));
            break;
        }
        if (!tg__needs_grad(o)) continue;
        /* Re <u, o> = sum(real(conj(u) * o)) has gradient u with respect to o. */
        tg_tensor *term = tg_sum(tg_real(tg_mul(tg_conj(u), o)), 0, NULL, false);
        total = total ? tg_add(total, term) : term;
        if (!total) st = tg_last_error_code();
    }
    if (!st && total) {
        tg_tensor *one = tg_ones_like(total);
        st = one ? tg__backward_run(total, one, create, create) : tg_last_error_code();
    }
    /* The alias nodes outlive this call inside the results' history: later
     * passes must flow through them like any identity, not into our slots. */
    for (int i = 0; i < n_in; i++)
        if (alias[i] && alias[i]->grad_fn) alias[i]->grad_fn->capture = NULL;
    for (int i = 0; i < n_in && !st; i++) {
        tg_tensor *g = slot[i];
        if (!g && alias[i]->grad) { g = alias[i]->grad; alias[i]->grad = NULL; }   /* leaf alias */
        else if (alias[i]->grad) { tg_release(alias[i]->grad); alias[i]->grad = NULL; }
        if (!g) {                          /* independent of this input */
            g = tg_zeros_like(primals[i]);
            if (g) tg_retain(g);
        }
        if (!g) { st = tg_last_error_code(); break; }
        grads[i] = g;
        slot[i] = NULL;
    }
    for (int j = 0; outs && j < n_out && !st; j++) outs[j] = tg_retain(res[j]);
    for (int i = 0; i < n_in; i++) tg_release(slot[i]);
    tg_scope_end();
    for (int i = 0; i < n_in; i++) {
        if (st) { tg_release(grads[i]); grads[i] = NULL; }
        else tg__handout(grads[i]);
    }
    for (int j = 0; outs && j < n_out; j++) {
        if (st) { tg_release(outs[j]); outs[j] = NULL; }
        else tg__handout(outs[j]);
    }
    return st;
}

tg_status tg_vjp(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *primals, int n_out,
                 tg_tensor *const *cotangents, tg_tensor **outs, tg_tensor **grads) {
    if (!fn || n_in < 1 || n_out < 1 || !primals || !cotangents || !grads)
        return tg__error(TG_ERR_ARG, "tg_vjp: bad arguments (fn, counts or arrays missing)");
    return vjp_run(fn, ctx, n_in, primals, n_out, cotangents, outs, grads);
}

tg_status tg_grad_fn(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *primals, tg_tensor **value,
                     tg_tensor **grads) {
    if (!fn || n_in < 1 || !primals || !grads) return tg__error(TG_ERR_ARG, "tg_grad_fn: bad arguments");
    if (value) *value = NULL;
    tg_tensor *outs[1] = {NULL};
    tg_status st = vjp_run(fn, ctx, n_in, primals, 1, NULL, value ? outs : NULL, grads);
    if (value) *value = outs[0];
    return st;
}
