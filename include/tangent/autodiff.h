/* Automatic differentiation: eager (tape) and traced (graphs, transforms,
 * compiled programs). DESIGN.md sections 4 and 5. */
#ifndef TANGENT_AUTODIFF_H
#define TANGENT_AUTODIFF_H

#include <stdio.h>

#include "tangent/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A differentiable function: reads in[], stores its results in out[]. */
typedef tg_status (*tg_trace_fn)(void *ctx, tg_tensor *const *in, tg_tensor **out);

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

/* ---- functional (no state on leaves) ----------------------------------- */
/* Cotangent of each input for cotangents of fn's outputs (one reverse pass).
 * outs may be NULL; grads[i] are zeros for inputs the outputs do not depend
 * on. When a primal or cotangent itself requires grad (and grad mode is on),
 * the results carry history, so tg_vjp nests: grad of grad, and so on. */
tg_status  tg_vjp(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *primals, int n_out,
                  tg_tensor *const *cotangents, tg_tensor **outs, tg_tensor **grads);
/* Gradient of a function with one scalar output (fn runs once, recorded); value may be NULL. */
tg_status  tg_grad_fn(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *primals, tg_tensor **value,
                      tg_tensor **grads);

/* ---- checks ---------------------------------------------------------------- */
typedef struct tg_gradcheck_opts {      /* zero-initialised (or NULL): PyTorch's gradcheck defaults */
    double eps;                         /* 1e-6 */
    double atol, rtol;                  /* 1e-5, 1e-3 */
    uint64_t seed;                      /* for the dot-product test's random vectors */
    bool skip_jvp;                      /* an op without forward-mode rules */
} tg_gradcheck_opts;
/* Compares reverse mode (every row of the Jacobian) and forward mode (every
 * column) with central finite differences in f64/c128 (inputs are copied to
 * those dtypes), and checks <u, J v> = <J^H u, v> for random u, v. Complex
 * numbers are seen as pairs of reals. TG_ERR_NUMERIC with the worst element
 * in the message on a mismatch. */
tg_status  tg_gradcheck(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *inputs, int n_out,
                        const tg_gradcheck_opts *opts);
/* tg_gradcheck of x -> VJP(fn)(x, u) for a random cotangent u: checks the
 * second derivatives. */
tg_status  tg_gradgradcheck(tg_trace_fn fn, void *ctx, int n_in, tg_tensor *const *inputs, int n_out,
                            const tg_gradcheck_opts *opts);

/* ---- traced ----------------------------------------------------------- */
typedef struct tg_graph tg_graph;
typedef struct tg_program tg_program;
typedef struct { tg_dtype dtype; const char *shape; } tg_spec;  /* shape: "N, 28, 28" */
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
    bool no_passes;                 /* skip DCE, CSE, constant folding and simplification */
    bool no_fusion;                 /* run elementwise chains op by op (docs/autodiff.md, "Fusion") */
    bool cpu_only;                  /* generate no GPU kernels (docs/gpu.md, "Fused kernels") */
    bool no_replay;                 /* on a GPU, record every run anew (docs/gpu.md, "Replayed runs") */
} tg_compile_opts;
tg_program *tg_compile(const tg_graph *g, const tg_compile_opts *opts);
tg_status   tg_run(const tg_program *p, tg_tensor *const *in, tg_tensor **out); /* out[i] are new references */
void        tg_graph_free(tg_graph *g);
void        tg_program_free(tg_program *p);
/* Saving and loading (DESIGN.md section 5): a versioned little-endian file
 * with the graph, its symbolic sizes and its constants (embedded), user ops
 * referred to by name (register them before loading) and a CRC32. A corrupt,
 * truncated or newer file is rejected with TG_ERR_IO naming what is wrong
 * (TG_ERR_ARG for an op that is not registered); never a crash. Programs
 * holding tg_custom_call nodes (function pointers) cannot be saved. */
tg_status   tg_program_save(const tg_program *p, const char *path);
tg_program *tg_program_load(const char *path);
/* In memory: *buf is allocated with malloc (the caller frees it). */
tg_status   tg_program_save_buffer(const tg_program *p, void **buf, size_t *len);
tg_program *tg_program_load_buffer(const void *buf, size_t len);
/* Text of a graph: one node per line with its symbolic output shapes and the
 * file:line that called the op; tg_graph_to_dot writes Graphviz DOT. */
tg_status   tg_graph_print(const tg_graph *g, FILE *f);
tg_status   tg_graph_to_dot(const tg_graph *g, FILE *f);
int         tg_graph_num_nodes(const tg_graph *g);
/* A copy of g after dead-code elimination, common-subexpression elimination,
 * constant folding and algebraic simplification (x*1, x+0, permute of
 * permute, reshape chains), and with linear-algebra nodes that keep extra
 * outputs for derivatives (solve's factors, eigvalsh's and svdvals'
 * vectors) narrowed back where no derivative reads them; tg_compile runs
 * the same passes. */
tg_graph   *tg_graph_optimize(const tg_graph *g);
/* Compiles in this process so far, and the distinct symbol bindings p has
 * run with (a new batch size is a new binding, never a new compile). */
void        tg_program_stats(const tg_program *p, int64_t *total_compiles, int64_t *distinct_bindings);

#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_AUTODIFF_H
#include "tangent/location.h"
#endif
