/* A program that returns from main while vulkan:0 still has queued kernels
 * it has never run, so lavapipe is building their machine code on its own
 * thread while the exit handlers run. test_gpu's exit_with_new_kernels_queued
 * starts it (with and without "first") with TANGENT_DEBUG=1 and expects
 * exit status 0 (77: no Vulkan device) and no "still running at exit" line:
 * the handler that waits for queued work (gpu/device.c, drain_at_exit) must
 * run before LLVM's exit-time destructors, or lavapipe's thread stalls or
 * aborts under them. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <tangent/tangent.h>

/* Queues a few kernels on x's dtype that this process has not run (each
 * one's machine code is built when it first runs: a few would do, and
 * more make the exit slow under load, where the handler's wait gives up
 * after 5 s). */
static void queue_new_kernels(tg_tensor *x) {
    tg_tensor *acc = tg_sub(tg_tanh(tg_exp(tg_neg(x))), x);
    int64_t square[2] = {64, 64};
    tg_tensor *m = tg_reshape(acc, 2, square);
    tg_cumsum(tg_matmul(m, m), 1);
}

/* With the argument "first": the kernels queued are the program's first,
 * never waited for (on llvmpipe the library made and waited for the
 * device's first dispatch when it created the device). */
int main(int argc, char **argv) {
    bool first = argc > 1 && !strcmp(argv[1], "first");
    const tg_device vk = {TG_VULKAN, 0};
    tg_tensor *x = tg_arange(TG_F32, 0.5, 4096.5, 1.0);
    tg_tensor *g = x ? tg_to_device(x, vk) : NULL;
    if (!g) {
        fprintf(stderr, "no Vulkan device: %s\n", tg_last_error());
        tg_release(x);
        return 77;
    }
    /* one kernel of the program's own run to the end before the others */
    if (!first) {
        tg_release(tg_neg(g));
        if (tg_synchronize() != TG_OK) return 1;
    }

    tg_scope_begin();
    queue_new_kernels(g);
    for (int i = 0; i < 300; i++) tg_add(g, g);     /* fills a batch: it is submitted, not waited for */
    tg_scope_end();     /* releases the results; their kernels stay queued */
    int ok = tg_last_error()[0] == 0;
    if (!ok) fprintf(stderr, "%s\n", tg_last_error());
    tg_release(g);
    tg_release(x);
    return ok ? 0 : 1;
}
