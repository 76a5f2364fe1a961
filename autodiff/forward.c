/* Forward mode (dual numbers): inside tg_jvp every op whose inputs carry
 * tangents computes its outputs' tangents with its JVP rule. One level of
 * forward mode at a time; reverse mode records as usual meanwhile, so
 * reverse-over-forward works. */
#include "autodiff/node.h"
#include "tangent/autodiff.h"

#include <string.h>

static _Thread_local int fw_depth;     /* tg_jvp calls active */
static _Thread_local int fw_in_rule;   /* JVP rules themselves do not propagate */

bool tg__forward_active(void) { return fw_depth > 0 && !fw_in_rule; }
tg_tensor *tg__tangent_of(const tg_tensor *t) { return t ? t->tangent : NULL; }

/* t made to look like a tangent of x: x's dtype and shape. */
static tg_tensor *fit_tangent(tg_tensor *t, const tg_tensor *x) {
    if (t->dtype != x->dtype) {
        if (tg_dtype_is_complex(t->dtype) && !tg_dtype_is_complex(x->dtype)) t = tg_real(t);
        t = tg_cast(t, x->dtype);
    }
    if (t && (t->ndim != x->ndim || memcmp(t->shape, x->shape, (size_t)x->ndim * sizeof(int64_t))))
        t = tg_expand(t, x->ndim, x->shape);
    return t;
}

tg_status tg__forward_hook(const tg_op_def *def, const tg_attrs *attrs, int n_in, tg_tensor *const *in,
                           int n_out, tg_tensor **out) {
    tg_tensor *tan[TG_MAX_OP_INPUTS], *out_tan[TG_MAX_OP_OUTPUTS] = {0};
    bool any = false;
    for (int i = 0; i < n_in; i++) { tan[i] = in[i]->tangent; any = any || tan[i]; }
    if (!any) return TG_OK;
    if (!def->jvp) return tg__error(TG_ERR_AUTOGRAD, "tg_jvp: tg_%s has no forward-mode rule", def->name);
    tg_meta metas[TG_MAX_OP_INPUTS];
    tg__metas_of(n_in, in, metas);
    tg_op_call call = {def, attrs, n_in, metas, NULL};
    /* The rules see the outputs detached: an output's saved alias holds its
     * tangent, and a tangent whose history held the output would close a
     * reference cycle. (Reverse mode through tangents then treats outputs
     * used by a JVP rule as constants.) */
    tg_tensor *outs[TG_MAX_OP_OUTPUTS] = {0};
    for (int j = 0; j < n_out; j++) {
        tg_tensor *o = out[j];
        outs[j] = tg__make_view(o, o->dtype, o->ndim, o->shape, o->strides, o->offset);
        if (!outs[j]) {
            for (int k = 0; k < j; k++) tg_release(outs[k]);
            return TG_ERR_MEMORY;
        }
    }
    fw_in_rule++;
    tg_status st = def->jvp(&call, in, outs, tan, out_tan);
    for (int j = 0; j < n_out && !st; j++) {
        if (!out_tan[j] || !tg__differentiable_dtype(out[j]->dtype)) continue;
        tg_tensor *t = fit_tangent(out_tan[j], out[j]);
        if (!t) { st = tg_last_error_code(); break; }
        out[j]->tangent = tg_retain(t);
    }
    fw_in_rule--;
    for (int j = 0; j < n_out; j++) tg_release(outs[j]);
    return st;
}

tg_status tg_jvp(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *primals, tg_tensor *const *tangents,
                 int n_out, tg_tensor **outs, tg_tensor **out_tangents) {
    if (!fn || n_in < 0 || n_out < 1 || (n_in && (!primals || !tangents)) || !outs || !out_tangents)
        return tg__error(TG_ERR_ARG, "tg_jvp: bad arguments (fn, counts or arrays missing)");
    if (n_in > TG_MAX_OP_INPUTS || n_out > TG_MAX_OP_OUTPUTS)
        return tg__error(TG_ERR_ARG, "tg_jvp: too many inputs or outputs");
    if (fw_depth) return tg__error(TG_ERR_UNSUPPORTED, "tg_jvp: nested forward mode is not supported");
    for (int j = 0; j < n_out; j++) outs[j] = out_tangents[j] = NULL;
    tg_tensor *alias[TG_MAX_OP_INPUTS] = {0}, *res[TG_MAX_OP_OUTPUTS] = {0};
    tg_status st = TG_OK;
    tg_scope_begin();
    for (int i = 0; i < n_in && !st; i++) {
        tg_tensor *p = primals[i], *t = tangents[i];
        if (!p || !t) { st = tg__error(TG_ERR_ARG, "tg_jvp: primal or tangent %d is NULL", i); break; }
        if (t->ndim != p->ndim || memcmp(t->shape, p->shape, (size_t)p->ndim * sizeof(int64_t))) {
            char a[160], b[160];
            st = tg__error(TG_ERR_SHAPE, "tg_jvp: tangent %d has shape %s, its primal %s", i,
                           tg__fmt_shape(a, sizeof a, t->ndim, t->shape), tg__fmt_shape(b, sizeof b, p->ndim, p->shape));
            break;
        }
        /* The function sees an alias of the primal carrying the tangent, so
         * the caller's tensor is left untouched. */
        alias[i] = tg__make_view(p, p->dtype, p->ndim, p->shape, p->strides, p->offset);
        if (!alias[i]) { st = TG_ERR_MEMORY; break; }
        alias[i]->grad_fn = p->grad_fn;
        if (p->grad_fn) tg__node_retain(p->grad_fn);
        alias[i]->flags = p->flags;
        tg_tensor *ft = fit_tangent(t, p);
        if (!ft) { st = tg_last_error_code(); break; }
        alias[i]->tangent = tg_retain(ft);
    }
    if (!st) {
        fw_depth++;
        st = fn(ctx, alias, res);
        fw_depth--;
        for (int j = 0; j < n_out && !st; j++)
            if (!res[j]) st = tg__error(TG_ERR_ARG, "tg_jvp: the function left output %d NULL (%s)", j, tg_last_error());
        for (int j = 0; j < n_out && !st; j++) {
            tg_tensor *o = res[j];
            outs[j] = tg_retain(o);
            out_tangents[j] = o->tangent ? tg_retain(o->tangent) : NULL;
            if (!out_tangents[j]) {      /* an output that does not depend on the inputs */
                out_tangents[j] = tg_zeros_like(o);
                if (out_tangents[j]) tg_retain(out_tangents[j]);
            }
            if (!out_tangents[j]) st = tg_last_error_code();
        }
    }
    for (int i = 0; i < n_in; i++) tg_release(alias[i]);
    tg_scope_end();
    for (int j = 0; j < n_out; j++) {
        if (st) {
            tg_release(outs[j]); tg_release(out_tangents[j]);
            outs[j] = out_tangents[j] = NULL;
            continue;
        }
        /* Results carry no tangent fields out of tg_jvp. */
        tg_release(outs[j]->tangent);
        outs[j]->tangent = NULL;
        tg__handout(outs[j]);
        tg__handout(out_tangents[j]);
    }
    return st;
}
