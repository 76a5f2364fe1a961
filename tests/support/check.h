/* Assertion helpers shared by the test programs. Each fails the current
 * Criterion test with a message naming the worst element. */
#ifndef TG_TEST_CHECK_H
#define TG_TEST_CHECK_H

#include <criterion/criterion.h>
#include <tangent/tangent.h>

/* Tolerances per dtype (DESIGN.md section 8): f32/c64 rtol 1e-5 atol 1e-6,
 * f64/c128 rtol 1e-12 atol 1e-13 (elementwise); ints and bools exact. */
void tol_for(tg_dtype d, double *rtol, double *atol);

/* got and want: same shape, same dtype (unless want_dtype_any), values
 * within |g - w| <= atol + rtol |w|; NaN matches NaN, inf matches inf. */
void check_close(const tg_tensor *got, const tg_tensor *want, double rtol, double atol, const char *what);
/* As check_close with tol_for(want's dtype). */
void check_close_default(const tg_tensor *got, const tg_tensor *want, const char *what);
/* got holds exactly these f64 values (converted), in row-major order. */
void check_values_f64(const tg_tensor *got, int64_t n, const double *want, double tol, const char *what);
/* The call returned NULL / a status and recorded exactly this error code;
 * clears the error afterwards. */
void check_error(const void *result, tg_status want, const char *what);
void check_status(tg_status got, tg_status want, const char *what);

/* Whether a and b (CPU tensors) have one shape and dtype and the same bytes. */
bool bitwise_equal(tg_tensor *a, tg_tensor *b);
/* tg_graph_print (dot: tg_graph_to_dot) of g as a string; the caller frees. */
char *graph_text(const tg_graph *g, bool dot);

#endif
