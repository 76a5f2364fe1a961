/* What the GPU test programs (tests/test_gpu*.c) share: the devices, the
 * skip when there is none, the f64 probe and a seeded uniform generator.
 * Linking this also brings the LeakSanitizer suppression of lavapipe's
 * own device-creation leak (tests/lsan.supp says the same for ctest), so a
 * GPU test program run by hand under ASan reports only Tangent's leaks. */
#ifndef TG_TEST_GPU_H
#define TG_TEST_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include <tangent/tangent.h>

static const tg_device CPU = {TG_CPU, 0};
static const tg_device VK0 = {TG_VULKAN, 0};

/* Skips the calling test, with a message on stderr, when there is no
 * Vulkan device (no loader, no driver, or VK_ICD_FILENAMES unset). */
void need_gpu(void);
/* Whether vulkan:0 runs f64 kernels (shaderFloat64): asks with a tiny op. */
bool gpu_has_f64(void);
/* The float dtypes vulkan:0 takes: 1 (f32) or 2 (f32, f64). */
int gpu_n_dtypes(void);
/* t copied to vulkan:0 (a new reference); a failure fails the test. */
tg_tensor *gpu(tg_tensor *t);
/* Expects got and want (on any device) to hold the same bytes, naming the
 * first element that differs; NULL, or another size or dtype, fails. */
void expect_same_bits(tg_tensor *got, tg_tensor *want, const char *what);
/* Runs body(fd) in a forked child, as a new program would run, with
 * TANGENT_CACHE_DIR=dir (NULL: left as it is). The child writes n bytes of
 * what it saw to fd and returns 0, GPU_CHILD_SKIP when there is no
 * device, or 1 on a wrong value or error. Fills out; skips the calling test
 * on GPU_CHILD_SKIP and fails it on a crash, a failure or a short report. */
#define GPU_CHILD_SKIP 77
void gpu_run_child(const char *dir, int (*body)(int fd), void *out, size_t n);
/* Uniform in [0, 1) from a 64-bit LCG; each test program keeps its own
 * state (and seed), so its inputs do not depend on the others. */
double lcg_uniform(uint64_t *state);

#endif
