/* The replay-overhead case shared by bench_autodiff (CPU) and bench_gpu
 * (Vulkan): a chain of BENCH_CHAIN dependent 1-element adds, timed eager
 * and as a compiled program; per-node figures divide by BENCH_CHAIN. */
#ifndef BENCH_CHAIN_H
#define BENCH_CHAIN_H

#include <tangent/tangent.h>

#define BENCH_CHAIN 100

typedef struct {
    tg_tensor *a, *b;               /* (1,) operands on the device timed */
    tg_program *p;                  /* bench_chain_compile's program */
} bench_chain;

/* out[0] = in[0] + in[1] + ... + in[1] (BENCH_CHAIN adds, distinct nodes:
 * nothing for the compiler to merge). */
tg_status bench_chain_fn(void *ctx, tg_tensor *const *in, tg_tensor **out);
/* Traces the chain for (1,) f32 operands and compiles it without passes
 * or fusion (every add stays a node to replay) into c->p. */
tg_status bench_chain_compile(bench_chain *c);
/* bench_fn bodies: one eager chain / one tg_run of c->p; a failure is
 * reported on stderr and exits the program (no figure for a broken run). */
void bench_chain_eager(void *c);
void bench_chain_compiled(void *c);

#endif
