/* User ops (tg_op_register) and custom derivatives (tg_custom_call): thin
 * trampolines from the public callback types onto tg_op_def. */
#include "autodiff/node.h"
#include "tangent/op.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_USER_IO 16

typedef struct user_op {
    tg_op_def def;
    tg_op_spec spec;
    char name[64];
} user_op;

static tg_status user_infer(const tg_op_call *c, tg_meta *out) {
    const user_op *u = c->def->impl;
    tg_dtype dt[MAX_USER_IO], odt[MAX_USER_IO];
    int nd[MAX_USER_IO], ond[MAX_USER_IO];
    const int64_t *sh[MAX_USER_IO];
    int64_t osh[MAX_USER_IO][TG_MAX_DIMS];
    for (int i = 0; i < c->n_in; i++) { dt[i] = c->in[i].dtype; nd[i] = c->in[i].ndim; sh[i] = c->in[i].shape; }
    for (int j = 0; j < u->spec.n_out; j++) { odt[j] = TG_F32; ond[j] = 0; }
    tg_status st = u->spec.infer(u->spec.user, c->n_in, dt, nd, sh, odt, ond, osh);
    if (st) {
        if (tg_last_error_code() == TG_OK) tg__op_error(c, st, "the op's infer rejected its inputs");
        return st;
    }
    for (int j = 0; j < u->spec.n_out; j++) {
        out[j].dtype = odt[j];
        out[j].ndim = ond[j];
        memcpy(out[j].shape, osh[j], sizeof osh[j]);
        char name[96];
        snprintf(name, sizeof name, "tg_op_apply(%s)", u->name);
        if (tg__check_shape(name, odt[j], ond[j], osh[j])) return tg_last_error_code();
    }
    return TG_OK;
}

static tg_status user_cpu(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    const user_op *u = c->def->impl;
    tg_status st = u->spec.cpu(u->spec.user, in, out);
    if (st && tg_last_error_code() == TG_OK) tg__op_error(c, st, "the op's CPU kernel failed");
    return st;
}

static tg_status user_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                          tg_tensor **ic) {
    const user_op *u = c->def->impl;
    if (!u->spec.vjp) return tg__error(TG_ERR_AUTOGRAD, "tg_backward: op '%s' has no VJP rule", u->name);
    return u->spec.vjp(u->spec.user, in, out, g, ic);
}

static tg_status user_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    const user_op *u = c->def->impl;
    if (!u->spec.jvp) return tg__error(TG_ERR_AUTOGRAD, "tg_jvp: op '%s' has no JVP rule", u->name);
    return u->spec.jvp(u->spec.user, in, out, t, ot);
}

static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;

tg_status tg_op_register(const tg_op_spec *spec) {
    if (!spec || !spec->name || !spec->infer || !spec->cpu)
        return tg__error(TG_ERR_ARG, "tg_op_register: spec, name, infer and cpu are required");
    if (strlen(spec->name) >= 64 || !spec->name[0])
        return tg__error(TG_ERR_ARG, "tg_op_register: name must have 1 to 63 characters");
    if (spec->n_in < 1 || spec->n_in > MAX_USER_IO || spec->n_out < 1 || spec->n_out > MAX_USER_IO)
        return tg__error(TG_ERR_ARG, "tg_op_register: %s: n_in and n_out must be in [1, %d]", spec->name, MAX_USER_IO);
    pthread_mutex_lock(&register_lock);
    tg_status st = TG_OK;
    if (tg__op_lookup(spec->name)) {
        st = tg__error(TG_ERR_ARG, "tg_op_register: an op named '%s' already exists", spec->name);
    } else {
        user_op *u = calloc(1, sizeof *u);      /* lives as long as the process, as the registry */
        if (!u) st = tg__error(TG_ERR_MEMORY, "tg_op_register: out of memory");
        else {
            u->spec = *spec;
            strcpy(u->name, spec->name);
            u->spec.name = u->name;
            u->def = (tg_op_def){.name = u->name, .n_in = spec->n_in, .n_out = spec->n_out, .infer = user_infer,
                                 .kernel = {[TG_CPU] = user_cpu}, .vjp = user_vjp, .jvp = user_jvp, .impl = u};
            if (!tg__op_register_builtin(&u->def)) {
                free(u);
                st = tg__error(TG_ERR_MEMORY, "tg_op_register: the registry is full");
            }
        }
    }
    pthread_mutex_unlock(&register_lock);
    return st;
}

tg_status tg_op_apply(const char *name, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out) {
    if (!name || !out) return tg__error(TG_ERR_ARG, "tg_op_apply: name and out are required");
    const tg_op_def *def = tg__op_lookup(name);
    if (!def) return tg__error(TG_ERR_ARG, "tg_op_apply: no op named '%s' is registered", name);
    if ((def->n_in >= 0 && n_in != def->n_in) || (def->n_out >= 0 && n_out != def->n_out))
        return tg__error(TG_ERR_ARG, "tg_op_apply: '%s' takes %d inputs and %d outputs, not %d and %d", name,
                         def->n_in, def->n_out, n_in, n_out);
    return tg__apply(def, n_in, in, NULL, n_out, out);
}

tg_status tg_op_fail(tg_status code, const char *message) {
    return tg__error(code, "%s", message ? message : "custom op failed");
}

/* ---- custom derivatives of composite functions ----------------------------- */
/* attrs.i[0] holds the tg_custom_fn pointer, i[1] the output count. */
static const tg_custom_fn *custom_of(const tg_op_call *c) { return (const tg_custom_fn *)(intptr_t)c->attrs->i[0]; }

static tg_status custom_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    const tg_custom_fn *f = custom_of(c);
    tg_tensor *res[MAX_USER_IO] = {0};
    tg_no_grad_begin();
    tg_scope_begin();
    tg_status st = f->forward(f->user, in, res);
    for (int j = 0; j < f->n_out && !st; j++) {
        if (!res[j]) { st = tg__error(TG_ERR_ARG, "tg_custom_call: forward left output %d NULL", j); break; }
        /* a fresh header: the result must not alias the function's history */
        out[j] = tg__make_view(res[j], res[j]->dtype, res[j]->ndim, res[j]->shape, res[j]->strides, res[j]->offset);
        if (!out[j]) st = TG_ERR_MEMORY;
    }
    tg_scope_end();
    tg_no_grad_end();
    if (st) for (int j = 0; j < f->n_out; j++) { tg_release(out[j]); out[j] = NULL; }
    return st;
}
static tg_status custom_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                            tg_tensor **ic) {
    const tg_custom_fn *f = custom_of(c);
    return f->vjp(f->user, in, out, g, ic);
}
static tg_status custom_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                            tg_tensor **ot) {
    const tg_custom_fn *f = custom_of(c);
    if (!f->jvp) return tg__error(TG_ERR_AUTOGRAD, "tg_jvp: this tg_custom_fn has no JVP rule");
    return f->jvp(f->user, in, out, t, ot);
}
const tg_op_def tg_op_custom_call = {.name = "custom_call", .n_in = -1, .n_out = -1, .flags = TG_OP_MAKES_OUTPUTS,
                                     .kernel = {[TG_CPU] = custom_kernel}, .vjp = custom_vjp, .jvp = custom_jvp};
TG_REGISTER_OPS(custom, &tg_op_custom_call)

tg_status tg_custom_call(const tg_custom_fn *f, tg_tensor *const *in, tg_tensor **out) {
    if (!f || !f->forward || !f->vjp || !in || !out)
        return tg__error(TG_ERR_ARG, "tg_custom_call: f, f->forward, f->vjp, in and out are required");
    if (f->n_in < 1 || f->n_in > MAX_USER_IO || f->n_out < 1 || f->n_out > MAX_USER_IO)
        return tg__error(TG_ERR_ARG, "tg_custom_call: n_in and n_out must be in [1, %d]", MAX_USER_IO);
    tg_attrs a = {.n_int = 2, .i = {(int64_t)(intptr_t)f, f->n_out}};
    return tg__apply(&tg_op_custom_call, f->n_in, in, &a, f->n_out, out);
}
