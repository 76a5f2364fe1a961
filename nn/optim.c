/* Optimisers: SGD with momentum and weight decay (torch.optim.SGD with
 * dampening 0, nesterov off) and Adam (torch.optim.Adam, amsgrad off, no
 * weight decay), updating f32/f64 parameters in place.
 *
 * Updates run on the raw data in one fused pass per parameter, in the
 * parameter's dtype and in PyTorch's order of operations:
 *   SGD   d = g (+ wd p);  v = d on the first step, else mu v + d (mu != 0);
 *         p -= lr v (or lr d without momentum)
 *   Adam  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g g;  t += 1;
 *         p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Nothing is recorded on the tape (raw writes, not ops); each write bumps
 * the parameter's version counter, so a graph that saved the old value
 * refuses to backpropagate through it, as in PyTorch. State (momentum,
 * moments, step counts) belongs to the optimiser, per parameter; a
 * parameter skipped on a step (no gradient) keeps its state and count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "tangent/autodiff.h"
#include "tangent/nn.h"
#include "tensor/ops/elementwise.h"

enum { OPT_SGD, OPT_ADAM };

struct tg_optimizer {
    int kind, n;
    double lr, a, b, eps, wd;     /* SGD: a = momentum; Adam: a = beta1, b = beta2 */
    tg_tensor **params;           /* references held by the optimiser */
    tg_tensor **s1, **s2;         /* momentum / first moment, second moment (contiguous, lazily made) */
    int64_t *steps;               /* per parameter */
};

void tg_optim_free(tg_optimizer *o) {
    if (!o) return;
    for (int i = 0; i < o->n; i++) {
        if (o->params) tg_release(o->params[i]);
        if (o->s1) tg_release(o->s1[i]);
        if (o->s2) tg_release(o->s2[i]);
    }
    free(o->params);
    free(o->s1);
    free(o->s2);
    free(o->steps);
    free(o);
}

static tg_optimizer *make(const char *fn, int kind, int n, tg_tensor *const *params) {
    if (n < 1 || !params) return tg__error(TG_ERR_ARG, "%s: needs n >= 1 parameters (got %d%s)", fn, n,
                                           params ? "" : ", params NULL"), NULL;
    for (int i = 0; i < n; i++) {
        if (!params[i]) return tg__error(TG_ERR_ARG, "%s: parameter %d is NULL", fn, i), NULL;
        if (params[i]->dtype != TG_F32 && params[i]->dtype != TG_F64)
            return tg__error(TG_ERR_DTYPE, "%s: parameter %d is %s; f32 or f64 parameters only", fn, i,
                             tg_dtype_name(params[i]->dtype)), NULL;
        if (tg__is_tracer(params[i]))
            return tg__error(TG_ERR_ARG, "%s: parameter %d is a tracer, not a concrete tensor", fn, i), NULL;
        for (int j = 0; j < i; j++)
            if (params[j] == params[i])
                return tg__error(TG_ERR_ARG, "%s: parameter %d repeats parameter %d", fn, i, j), NULL;
    }
    tg_optimizer *o = calloc(1, sizeof *o);
    if (!o) return tg__error(TG_ERR_MEMORY, "%s: out of memory", fn), NULL;
    o->kind = kind;
    o->params = calloc((size_t)n, sizeof *o->params);
    o->s1 = calloc((size_t)n, sizeof *o->s1);
    o->s2 = calloc((size_t)n, sizeof *o->s2);
    o->steps = calloc((size_t)n, sizeof *o->steps);
    if (!o->params || !o->s1 || !o->s2 || !o->steps) {
        tg_optim_free(o);
        return tg__error(TG_ERR_MEMORY, "%s: out of memory", fn), NULL;
    }
    o->n = n;
    for (int i = 0; i < n; i++) o->params[i] = tg_retain(params[i]);
    return o;
}

tg_optimizer *tg_optim_sgd(int n, tg_tensor *const *params, double lr, double momentum, double weight_decay) {
    if (!(lr >= 0) || !(momentum >= 0) || !(weight_decay >= 0) || isinf(lr) || isinf(momentum) || isinf(weight_decay))
        return tg__error(TG_ERR_ARG, "tg_optim_sgd: lr %g, momentum %g and weight_decay %g must be finite and >= 0",
                         lr, momentum, weight_decay), NULL;
    tg_optimizer *o = make("tg_optim_sgd", OPT_SGD, n, params);
    if (o) { o->lr = lr; o->a = momentum; o->wd = weight_decay; }
    return o;
}

tg_optimizer *tg_optim_adam(int n, tg_tensor *const *params, double lr, double beta1, double beta2, double eps) {
    if (!(lr >= 0) || isinf(lr) || !(eps >= 0) || isinf(eps) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
        return tg__error(TG_ERR_ARG,
                         "tg_optim_adam: needs finite lr %g >= 0 and eps %g >= 0, beta1 %g and beta2 %g in [0, 1)",
                         lr, eps, beta1, beta2), NULL;
    tg_optimizer *o = make("tg_optim_adam", OPT_ADAM, n, params);
    if (o) { o->lr = lr; o->a = beta1; o->b = beta2; o->eps = eps; }
    return o;
}

/* ---- fused update loops (T: the parameter's dtype, scalars rounded to it as PyTorch does) ---- */
#define SGD_LOOP(name, T)                                                                             \
    static void name(T *p, const T *g, T *v, int64_t n, T lr, T mu, T wd, bool first) {               \
        TG_PARALLEL_FOR(n > TG_PARALLEL_GRAIN,                                                        \
        for (int64_t i = 0; i < n; i++) {                                                             \
            T d = g[i];                                                                               \
            if (wd != 0) d = d + wd * p[i];                                                           \
            if (v) { d = first ? d : v[i] * mu + d; v[i] = d; }                                       \
            p[i] = p[i] + (-lr) * d;                                                                  \
        });                                                                                           \
    }
SGD_LOOP(sgd_f32, float)
SGD_LOOP(sgd_f64, double)

#define ADAM_LOOP(name, T, SQRT)                                                                      \
    static void name(T *p, const T *g, T *m, T *v, int64_t n, T b1, T b2, T step, T bc2s, T eps) {    \
        TG_PARALLEL_FOR(n > TG_PARALLEL_GRAIN,                                                        \
        for (int64_t i = 0; i < n; i++) {                                                             \
            T gi = g[i];                                                                              \
            m[i] = m[i] * b1 + (1 - b1) * gi;                                                         \
            v[i] = v[i] * b2 + (1 - b2) * (gi * gi);                                                  \
            T denom = SQRT(v[i]) / bc2s + eps;                                                        \
            p[i] = p[i] + (-step) * (m[i] / denom);                                                   \
        });                                                                                           \
    }
ADAM_LOOP(adam_f32, float, sqrtf)
ADAM_LOOP(adam_f64, double, sqrt)

static tg_tensor *zeros_state(const tg_tensor *p) {
    tg_tensor *s = tg__alloc(p->dtype, p->ndim, p->shape);
    if (s) memset(tg__ptr(s), 0, (size_t)(tg__numel(p->ndim, p->shape) * tg__esize(p->dtype)));
    return s;
}

/* A contiguous tensor of dtype d holding t (t retained when it is one). */
static tg_tensor *contig(tg_tensor *t, tg_dtype d) {
    if (t->dtype == d && tg__is_contiguous(t)) return tg_retain(t);
    tg_tensor *c = tg__alloc(d, t->ndim, t->shape);
    if (c) tg__copy_into(c, t);
    return c;
}

/* x rounded to the parameter's dtype: the device update uses the scalars
 * the CPU loops compute in T. */
static double in_dtype(tg_dtype d, double x) { return d == TG_F32 ? (double)(float)x : x; }

/* The same update on a device parameter, written with public ops in the
 * CPU loops' order of operations (so GPU and CPU agree to rounding), under
 * no-grad; optimizer state lives on the parameter's device. */
static tg_status update_on_device(tg_optimizer *o, int i, tg_tensor *grad) {
    tg_tensor *prm = o->params[i];
    tg_dtype d = prm->dtype;
    bool first = o->steps[i] == 0;
    tg_no_grad_begin();
    tg_scope_begin();
    /* SGD keeps g as its momentum buffer: a copy; Adam only reads it */
    tg_tensor *g = o->kind == OPT_SGD || grad->dtype != d ? tg_cast(grad, d) : grad;
    tg_status st = TG_OK;
    if (o->kind == OPT_SGD) {
        tg_tensor *dir = o->wd != 0 ? tg_add(g, tg_mul_scalar(prm, in_dtype(d, o->wd))) : g;
        if (o->a != 0) {
            dir = first || !o->s1[i] ? dir : tg_add(tg_mul_scalar(o->s1[i], in_dtype(d, o->a)), dir);
            if (dir) {
                tg_release(o->s1[i]);
                o->s1[i] = tg__scope_take(tg_contiguous(dir));
            }
        }
        st = dir ? tg_add_(prm, tg_mul_scalar(dir, -in_dtype(d, o->lr))) : tg_last_error_code();
    } else {
        double t = (double)(o->steps[i] + 1);
        double bc1 = 1 - pow(o->a, t), bc2 = 1 - pow(o->b, t);
        double b1 = in_dtype(d, o->a), b2 = in_dtype(d, o->b);
        double step = in_dtype(d, o->lr / bc1), bc2s = in_dtype(d, sqrt(bc2));
        /* one kernel for the whole update where the device takes it: the
         * state starts at zero (0 b1 + g (1 - b1) is the first step's m) */
        for (int k = 0; k < 2 && !st; k++) {
            tg_tensor **s = k ? &o->s2[i] : &o->s1[i];
            if (*s) continue;
            /* both references out of the scope: tg_to_device returns z itself
             * when the thread's default device is the parameter's */
            tg_tensor *z = tg__scope_take(tg_zeros(d, prm->ndim, prm->shape));
            *s = z ? tg__scope_take(tg_to_device(z, prm->storage->device)) : NULL;
            tg_release(z);
            if (!*s) st = tg_last_error_code();
        }
        tg_tensor *gc = st ? NULL : tg_contiguous(g);
        bool done = false;
        if (gc) {
            double sc[7] = {b1, in_dtype(d, 1 - b1), b2, in_dtype(d, 1 - b2), bc2s, in_dtype(d, o->eps), -step};
            st = tg__vk_adam_step(prm, gc, o->s1[i], o->s2[i], sc, &done);
        } else if (!st) {
            st = tg_last_error_code();
        }
        if (!st && !done) {     /* the same update with public ops (the state exists by now) */
            tg_tensor *m = tg_add(tg_mul_scalar(o->s1[i], b1), tg_mul_scalar(g, in_dtype(d, 1 - b1)));
            tg_tensor *v = tg_add(tg_mul_scalar(o->s2[i], b2), tg_mul_scalar(tg_mul(g, g), in_dtype(d, 1 - b2)));
            tg_tensor *denom = tg_add_scalar(tg_div_scalar(tg_sqrt(v), bc2s), in_dtype(d, o->eps));
            tg_tensor *upd = tg_mul_scalar(tg_div(m, denom), -step);
            if (upd) {
                tg_release(o->s1[i]);
                tg_release(o->s2[i]);
                o->s1[i] = tg__scope_take(m);
                o->s2[i] = tg__scope_take(v);
                st = tg_add_(prm, upd);
            } else {
                st = tg_last_error_code();
            }
        }
    }
    tg_scope_end();
    tg_no_grad_end();
    if (!st) o->steps[i]++;
    return st;
}

static tg_status update(tg_optimizer *o, int i, tg_tensor *grad) {
    tg_tensor *prm = o->params[i];
    if (prm->storage->device.kind != TG_CPU) return update_on_device(o, i, grad);
    tg_dtype d = prm->dtype;
    int64_t n = tg__numel(prm->ndim, prm->shape);
    tg_tensor *g = contig(grad, d);
    /* a non-contiguous parameter (a view) is updated on a copy, then written back */
    tg_tensor *pc = g ? contig(prm, d) : NULL;
    if (!g || !pc) { tg_release(g); return tg_last_error_code(); }
    tg_status st = TG_OK;
    bool first = o->steps[i] == 0;
    if (o->kind == OPT_SGD) {
        if (o->a != 0 && !o->s1[i] && !(o->s1[i] = zeros_state(prm))) st = tg_last_error_code();
        if (!st) {
            void *v = o->a != 0 ? tg__ptr(o->s1[i]) : NULL;
            if (d == TG_F32)
                sgd_f32((float *)tg__ptr(pc), (const float *)tg__ptr(g), v, n, (float)o->lr, (float)o->a, (float)o->wd,
                        first);
            else sgd_f64((double *)tg__ptr(pc), (const double *)tg__ptr(g), v, n, o->lr, o->a, o->wd, first);
        }
    } else {
        if (!o->s1[i] && !(o->s1[i] = zeros_state(prm))) st = tg_last_error_code();
        if (!st && !o->s2[i] && !(o->s2[i] = zeros_state(prm))) st = tg_last_error_code();
        if (!st) {
            double t = (double)(o->steps[i] + 1);
            double bc1 = 1 - pow(o->a, t), bc2 = 1 - pow(o->b, t);
            double step = o->lr / bc1, bc2s = sqrt(bc2);
            if (d == TG_F32)
                adam_f32((float *)tg__ptr(pc), (const float *)tg__ptr(g), (float *)tg__ptr(o->s1[i]),
                         (float *)tg__ptr(o->s2[i]), n, (float)o->a, (float)o->b, (float)step, (float)bc2s,
                         (float)o->eps);
            else
                adam_f64((double *)tg__ptr(pc), (const double *)tg__ptr(g), (double *)tg__ptr(o->s1[i]),
                         (double *)tg__ptr(o->s2[i]), n, o->a, o->b, step, bc2s, o->eps);
        }
    }
    if (!st) {
        if (pc != prm) tg__copy_into(prm, pc);
        tg__bump_version(prm);
        o->steps[i]++;
    }
    tg_release(g);
    tg_release(pc);
    return st;
}

tg_status tg_optim_step(tg_optimizer *o, tg_tensor *const *grads) {
    if (!o) return tg__error(TG_ERR_ARG, "tg_optim_step: optimizer is NULL");
    /* every gradient is checked before any parameter changes */
    for (int i = 0; i < o->n; i++) {
        tg_tensor *g = grads ? grads[i] : tg_grad(o->params[i]);
        if (!g) continue;
        const tg_tensor *p = o->params[i];
        char sg[160], sp[160];
        if (tg__is_tracer(g))
            return tg__error(TG_ERR_ARG, "tg_optim_step: gradient %d is a tracer, not a concrete tensor", i);
        tg_device gd = g->storage->device, pd = p->storage->device;
        if (gd.kind != pd.kind || gd.index != pd.index)
            return tg__error(TG_ERR_DEVICE, "tg_optim_step: gradient %d is on another device than parameter %d", i, i);
        if (!tg_dtype_is_floating(g->dtype) || g->dtype == TG_F16 || g->dtype == TG_BF16)
            return tg__error(TG_ERR_DTYPE, "tg_optim_step: gradient %d is %s; f32 or f64 expected", i,
                             tg_dtype_name(g->dtype));
        bool same = g->ndim == p->ndim;
        for (int k = 0; same && k < p->ndim; k++) same = g->shape[k] == p->shape[k];
        if (!same)
            return tg__error(TG_ERR_SHAPE, "tg_optim_step: gradient %d has shape %s but parameter %d has %s", i,
                             tg__fmt_shape(sg, sizeof sg, g->ndim, g->shape), i,
                             tg__fmt_shape(sp, sizeof sp, p->ndim, p->shape));
    }
    for (int i = 0; i < o->n; i++) {
        tg_tensor *g = grads ? grads[i] : tg_grad(o->params[i]);
        if (!g) continue;
        tg_status st = update(o, i, g);
        if (st) return st;
    }
    return TG_OK;
}

tg_status tg_optim_zero_grad(tg_optimizer *o) {
    if (!o) return tg__error(TG_ERR_ARG, "tg_optim_zero_grad: optimizer is NULL");
    for (int i = 0; i < o->n; i++) {
        tg_status st = tg_zero_grad(o->params[i]);
        if (st) return st;
    }
    return TG_OK;
}
