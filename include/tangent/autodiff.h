/* Automatic differentiation: eager (tape) and traced (graphs, transforms,
 * compiled programs). DESIGN.md sections 4 and 5. */
#ifndef TANGENT_AUTODIFF_H
#define TANGENT_AUTODIFF_H

#include "tangent/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- eager ------------------------------------------------------------ */
typedef struct tg_backward_opts {           /* zero-initialised (or NULL) means defaults */
    tg_tensor *seed;                        /* cotangent of y; required when y is not a scalar */
    bool retain_graph, create_graph;
} tg_backward_opts;
tg_status  tg_set_requires_grad(tg_tensor *t, bool on);
bool       tg_requires_grad(const tg_tensor *t);
tg_status  tg_backward(tg_tensor *y, const tg_backward_opts *opts);
tg_tensor *tg_grad(const tg_tensor *t);     /* borrowed; NULL when no gradient */
tg_status  tg_zero_grad(tg_tensor *t);       /* drop t's accumulated gradient */
void       tg_no_grad_begin(void);
void       tg_no_grad_end(void);
bool       tg_grad_enabled(void);

/* ---- traced ----------------------------------------------------------- */
typedef struct tg_graph tg_graph;
typedef struct tg_program tg_program;
typedef struct { tg_dtype dtype; const char *shape; } tg_spec;  /* shape: "N, 28, 28" */
typedef tg_status (*tg_trace_fn)(void *ctx, tg_tensor *const *in, tg_tensor **out);
tg_status   tg_jvp(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *primals, tg_tensor *const *tangents,
                   int n_out, tg_tensor **outs, tg_tensor **out_tangents);  /* eager forward mode */
tg_graph   *tg_trace(tg_trace_fn fn, void *ctx, int n_in, const tg_spec *specs, int n_out);
tg_graph   *tg_graph_grad(const tg_graph *g, int n_argnums, const int *argnums);
     /* inputs as g; outputs: d out[0] / d in[argnums[i]] (out[0] must be a scalar) */
tg_graph   *tg_graph_value_and_grad(const tg_graph *g, int n_argnums, const int *argnums);
     /* outputs: out[0], then the gradients as tg_graph_grad */
tg_graph   *tg_graph_vjp(const tg_graph *g);
     /* inputs: g's inputs, then one cotangent per output; outputs: g's outputs, then one cotangent per input */
tg_graph   *tg_graph_jvp(const tg_graph *g);
     /* inputs: g's inputs, then one tangent per input; outputs: g's outputs, then one tangent per output */
typedef struct tg_compile_opts {    /* zero-initialised means defaults */
    int reserved;
} tg_compile_opts;
tg_program *tg_compile(const tg_graph *g, const tg_compile_opts *opts);
tg_status   tg_run(const tg_program *p, tg_tensor *const *in, tg_tensor **out); /* out[i] are new references */
void        tg_graph_free(tg_graph *g);
void        tg_program_free(tg_program *p);

#ifdef __cplusplus
}
#endif
#include "tangent/location.h"
#endif
