/* Symbolic sizes (DESIGN.md section 5): integer polynomials over named
 * symbols, in a normal form, plus floor division for strided windows.
 *
 * A size is an int64_t either way: a plain size is itself, a symbolic one is
 * a handle in a reserved range (tg_is_symbolic). Equal expressions get the
 * same handle (they are interned), so equality of sizes is equality of the
 * int64_t values. An expression that works out to a constant is the plain
 * constant: tg_size_sub(tg_size_add(N, 2), N) == 2. Symbols stand for sizes
 * >= 1. Handles are process-wide and stay valid for the process's lifetime.
 *
 * This is the groundwork of traced mode: tracer tensors will report such
 * sizes from tg_shape/tg_dim, and shape arguments will accept them. */
#ifndef TANGENT_SIZES_H
#define TANGENT_SIZES_H

#include "tangent/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_SYM_BASE ((int64_t)1 << 62)

bool    tg_is_symbolic(int64_t size);
/* The symbol called name ([A-Za-z_][A-Za-z0-9_]*, up to 31 characters). */
int64_t tg_size_symbol(const char *name);
/* Arithmetic on plain or symbolic sizes; -1 and an error on overflow or an
 * expression past the normal form's limits (16 terms, degree 8). */
int64_t tg_size_add(int64_t a, int64_t b);
int64_t tg_size_sub(int64_t a, int64_t b);
int64_t tg_size_mul(int64_t a, int64_t b);
/* floor(a / b), b > 0. Exact when b divides every term of a (N*C / C == N,
 * (2*N + 4) / 2 == N + 2); otherwise a floor-division atom, as in a strided
 * window (H - K) / S + 1. */
int64_t tg_size_floordiv(int64_t a, int64_t b);
/* Text of a size ("2*N*C + 1", "(H - 3) // 2"); returns the length it needs
 * (as snprintf), or -1 for an unknown handle. */
int     tg_size_format(int64_t size, char *buf, size_t n);
/* Value of a size with the named symbols bound; -1 and an error when a
 * symbol it uses is unbound or the value leaves int64. */
int64_t tg_size_eval(int64_t size, int n, const char *const *names, const int64_t *values);
/* Parses a spec shape such as "N, 28, 28" (names, numbers, empty for 0-d);
 * -1 and TG_ERR_ARG naming the bad part otherwise. Returns the rank. */
int     tg_size_parse_shape(const char *spec, int64_t *shape);

#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_SIZES_H
#include "tangent/location.h"
#endif
