/* User-defined ops and custom derivative rules (DESIGN.md section 2).
 *
 * A registered op joins the same registry as the built-in ones: it runs
 * through the same dispatcher, records on the tape, propagates tangents in
 * tg_jvp and composes with every transform. Its rules are written with the
 * public ops, so they are differentiable in turn (higher order works). */
#ifndef TANGENT_OP_H
#define TANGENT_OP_H

#include "tangent/autodiff.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reverse and forward rules. in_cot[i] / out_tan[j] may be left NULL (zero);
 * tan[i] is NULL for an input without a tangent. Results are new
 * references following the ownership rule (scope-owned inside a scope). */
typedef tg_status (*tg_vjp_rule)(void *user, tg_tensor *const *in, tg_tensor *const *out,
                                  tg_tensor *const *out_cot, tg_tensor **in_cot);
typedef tg_status (*tg_jvp_rule)(void *user, tg_tensor *const *in, tg_tensor *const *out,
                                  tg_tensor *const *in_tan, tg_tensor **out_tan);

typedef struct tg_op_spec {
    const char *name;            /* unique; copied */
    int n_in, n_out;             /* 1..16 each */
    /* Output dtypes and shapes from the inputs'. Validates, returns a status
     * (TG_ERR_SHAPE, TG_ERR_DTYPE ...) and may record a message with
     * tg_op_fail. */
    tg_status (*infer)(void *user, int n_in, const tg_dtype *in_dtype, const int *in_ndim,
                       const int64_t *const *in_shape, tg_dtype *out_dtype, int *out_ndim,
                       int64_t (*out_shape)[TG_MAX_DIMS]);
    /* CPU kernel: fills the preallocated, contiguous outputs. */
    tg_status (*cpu)(void *user, tg_tensor *const *in, tg_tensor *const *out);
    tg_vjp_rule vjp;             /* may be NULL: not differentiable in reverse mode */
    tg_jvp_rule jvp;             /* may be NULL: not differentiable in forward mode */
    void *user;                  /* passed to every callback; must outlive the op */
} tg_op_spec;

tg_status tg_op_register(const tg_op_spec *spec);   /* TG_ERR_ARG for a duplicate name */
tg_status tg_op_apply(const char *name, int n_in, tg_tensor *const *in, int n_out, tg_tensor **out);
/* Records an error from inside a callback (infer, cpu, rules); returns code. */
tg_status tg_op_fail(tg_status code, const char *message);

/* A composite function with a custom derivative (jax.custom_vjp): forward
 * runs without recording; the results get one tape node whose rules are
 * vjp/jvp. The struct must outlive every result computed through it. */
typedef struct tg_custom_fn {
    tg_trace_fn forward;
    tg_vjp_rule vjp;
    tg_jvp_rule jvp;             /* may be NULL */
    void *user;                  /* forward's ctx and the rules' user */
    int n_in, n_out;
} tg_custom_fn;
tg_status tg_custom_call(const tg_custom_fn *f, tg_tensor *const *in, tg_tensor **out);

#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_OP_H
#include "tangent/location.h"
#endif
