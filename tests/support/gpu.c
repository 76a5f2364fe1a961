/* Shared by the GPU test programs (support/gpu.h). */
#define _POSIX_C_SOURCE 200809L
#include "support/gpu.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
/* Mesa's lavapipe (22.3, Debian 12) leaves 96 bytes in 2 blocks allocated at
 * device creation unreachable at exit, whatever the program does (a minimal
 * create-use-release program shows the same). This suppresses leaks whose
 * allocation stack goes through the driver library only; every leak of
 * Tangent's own allocations is still reported. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libvulkan_lvp.so\n"; }
#endif

void need_gpu(void) {
    if (tg_device_count(TG_VULKAN) == 0) {
        fprintf(stderr, "no Vulkan device (no loader, no driver or VK_ICD_FILENAMES unset): GPU test skipped\n");
        cr_skip_test("no Vulkan device: install mesa-vulkan-drivers (lavapipe) to run the GPU tests");
    }
}

bool gpu_has_f64(void) {
    double v = 1.0;
    tg_tensor *h = tg_from_data(TG_F64, 0, NULL, &v);
    tg_tensor *g = h ? tg_to_device(h, VK0) : NULL;
    tg_tensor *r = g ? tg_neg(g) : NULL;
    bool ok = r != NULL;
    tg_release(r);
    tg_release(g);
    tg_release(h);
    tg_clear_error();
    return ok;
}

int gpu_n_dtypes(void) { return gpu_has_f64() ? 2 : 1; }

double lcg_uniform(uint64_t *state) {
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (double)(*state >> 11) / 9007199254740992.0;
}

void expect_same_bits(tg_tensor *got, tg_tensor *want, const char *what) {
    cr_assert(got && want, "%s: %s", what, tg_last_error());
    int64_t n = tg_numel(want);
    tg_dtype d = tg_dtype_of(want);
    cr_assert_eq(tg_numel(got), n, "%s: sizes", what);
    cr_assert_eq(tg_dtype_of(got), d, "%s: dtype", what);
    size_t es = tg_dtype_size(d);
    unsigned char *g = malloc((size_t)n * es + 1), *w = malloc((size_t)n * es + 1);
    tg_scope_begin();   /* owns the host copies */
    tg_tensor *hg = tg_to_device(got, CPU), *hw = tg_to_device(want, CPU);
    cr_assert(g && w && hg && hw, "%s: %s", what, tg_last_error());
    cr_assert_eq(tg_copy_to(hg, g, (size_t)n * es), TG_OK, "%s", tg_last_error());
    cr_assert_eq(tg_copy_to(hw, w, (size_t)n * es), TG_OK, "%s", tg_last_error());
    int64_t i = 0;
    while (i < n && memcmp(g + i * (int64_t)es, w + i * (int64_t)es, es) == 0) i++;
    cr_expect_eq(i, n, "%s: element %lld differs", what, (long long)i);
    tg_scope_end();
    free(g);
    free(w);
}

tg_tensor *gpu(tg_tensor *t) {
    tg_tensor *g = tg_to_device(t, VK0);
    cr_assert_not_null(g, "tg_to_device: %s", tg_last_error());
    return g;
}

void gpu_run_child(const char *dir, int (*body)(int fd), void *out, size_t n) {
    int p[2];
    cr_assert(pipe(p) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (dir) setenv("TANGENT_CACHE_DIR", dir, 1);
        _exit(body(p[1]));
    }
    close(p[1]);
    memset(out, 0, n);
    ssize_t got = read(p[0], out, n);
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status), "the child crashed");
    if (WEXITSTATUS(status) == GPU_CHILD_SKIP) cr_skip_test("no Vulkan device: install mesa-vulkan-drivers (lavapipe)");
    cr_assert_eq(WEXITSTATUS(status), 0, "the child computed wrong values or failed");
    cr_assert_eq(got, (ssize_t)n);
}
