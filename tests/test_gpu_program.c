/* Compiled programs on a Vulkan device (issue: one submission per run): a
 * program traced once runs on device inputs of two batch sizes, equals the
 * same program on the CPU, records its whole run into one batch (no queue
 * submission until the host reads), and its gradient program runs there
 * too. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "support/check.h"
#include "gpu/gpu.h"
#include "support/gpu.h"

/* loss(x, w, b) = sum(relu(x w + b) * 0.5) / 3 + sum(w^2): matmul, broadcast,
 * a fusible elementwise chain, weak scalars and reductions. */
static tg_status mlp_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *h = tg_relu(tg_add(tg_matmul(in[0], in[1]), in[2]));
    tg_tensor *a = tg_div_scalar(tg_sum(tg_mul_scalar(h, 0.5), 0, NULL, false), 3.0);
    out[0] = tg_add(a, tg_sum(tg_square(in[1]), 0, NULL, false));
    return out[0] ? TG_OK : tg_last_error_code();
}

static tg_tensor *seq(int64_t r, int64_t c, double scale) {
    double *v = malloc((size_t)(r * c) * sizeof *v);
    for (int64_t i = 0; i < r * c; i++) v[i] = scale * sin(0.7 * (double)i + 0.3);
    tg_tensor *t = tg_from_data(TG_F64, 2, (int64_t[]){r, c}, v);
    free(v);
    tg_tensor *f = tg_cast(t, TG_F32);
    tg_release(t);
    return f;
}

static const tg_spec specs[3] = {{TG_F32, "N, 8"}, {TG_F32, "8, 4"}, {TG_F32, "4"}};

TestSuite(gpu_program, .init = tg_clear_error);

Test(gpu_program, one_submission_per_run_and_same_values_as_cpu) {
    need_gpu();
    tg_graph *g = tg_trace(mlp_loss, NULL, 3, specs, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 2, (int[]){1, 2});
    cr_assert(vg, "%s", tg_last_error());
    tg_program *p = tg_compile(vg, NULL);
    cr_assert(p, "%s", tg_last_error());
    tg_tensor *b1row = seq(1, 4, 0.1), *b1 = tg_reshape(b1row, 1, (int64_t[]){4});
    for (int64_t n = 3; n <= 5; n += 2) {
        tg_scope_begin();
        tg_tensor *hin[3] = {seq(n, 8, 1.0), seq(8, 4, 0.5), b1};
        tg_tensor *din[3];
        for (int i = 0; i < 3; i++) din[i] = tg_to_device(hin[i], VK0);
        tg_tensor *hout[3], *dout[3];
        cr_assert_eq(tg_run(p, hin, hout), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_synchronize(), TG_OK);
        tg_vk_queue_stats s0, s1, s2;
        cr_assert_eq(tg__vk_queue_stats(0, &s0), 0);
        cr_assert_eq(tg_run(p, din, dout), TG_OK, "N=%lld on the GPU: %s", (long long)n, tg_last_error());
        cr_assert_eq(tg__vk_queue_stats(0, &s1), 0);
        cr_expect_eq(s1.submits - s0.submits, 0, "tg_run submitted %llu times before any read",
                     (unsigned long long)(s1.submits - s0.submits));
        cr_expect_gt(s1.dispatches - s0.dispatches, 5, "the run recorded %llu dispatches",
                     (unsigned long long)(s1.dispatches - s0.dispatches));
        for (int j = 0; j < 3; j++) {
            cr_expect_eq(tg_device_of(dout[j]).kind, TG_VULKAN, "output %d left the device", j);
            tg_tensor *back = tg_to_device(dout[j], CPU);
            check_close(back, hout[j], 1e-5, 1e-6, "program output on the GPU vs the CPU");
            tg_release(back);
        }
        cr_assert_eq(tg__vk_queue_stats(0, &s2), 0);
        cr_expect_eq(s2.submits - s1.submits, 1, "reading the outputs took %llu submissions",
                     (unsigned long long)(s2.submits - s1.submits));
        for (int j = 0; j < 3; j++) { tg_release(hout[j]); tg_release(dout[j]); }
        for (int i = 0; i < 3; i++) tg_release(din[i]);
        tg_release(hin[0]);
        tg_release(hin[1]);
        tg_scope_end();
    }
    int64_t compiles, bindings;
    tg_program_stats(p, &compiles, &bindings);
    cr_expect_eq(bindings, 2, "N=3 and N=5 on both devices are two bindings");
    tg_release(b1);
    tg_release(b1row);
    tg_program_free(p);
    tg_graph_free(vg);
    tg_graph_free(g);
}

/* mean over a symbolic axis: the divisor is a size node of the binding,
 * made on the CPU and moved to the inputs' device */
static tg_status row_mean(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_mean(tg_square(in[0]), 1, (int[]){0}, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu_program, symbolic_sizes_on_device) {
    need_gpu();
    tg_graph *g = tg_trace(row_mean, NULL, 1, (tg_spec[]){{TG_F32, "N, 3"}}, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert(p, "%s", tg_last_error());
    for (int64_t n = 2; n <= 7; n += 5) {
        tg_scope_begin();
        tg_tensor *x = seq(n, 3, 1.0), *gx = tg_to_device(x, VK0), *h, *d;
        cr_assert_eq(tg_run(p, &x, &h), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_run(p, &gx, &d), TG_OK, "N=%lld on the GPU: %s", (long long)n, tg_last_error());
        cr_expect_eq(tg_device_of(d).kind, TG_VULKAN);
        tg_tensor *back = tg_to_device(d, CPU);
        check_close(back, h, 1e-6, 1e-7, "mean over a symbolic axis on the GPU");
        tg_release(back); tg_release(h); tg_release(d); tg_release(gx); tg_release(x);
        tg_scope_end();
    }
    tg_program_free(p);
    tg_graph_free(g);
}

/* x + c with c a 20000-element constant of the trace (80 KB: an upload of
 * that size would submit and wait): the first device run moves c to the
 * device, later runs reuse that copy and upload nothing. */
#define CONST_N 20000
static tg_status add_table(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    out[0] = tg_add(in[0], (tg_tensor *)ctx);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu_program, constants_stay_on_the_device) {
    need_gpu();
    tg_tensor *c = seq(1, CONST_N, 2.0), *x = seq(1, CONST_N, 1.0);
    tg_graph *g = tg_trace(add_table, c, 1, (tg_spec[]){{TG_F32, "1, 20000"}}, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert(p, "%s", tg_last_error());
    tg_tensor *gx = tg_to_device(x, VK0), *want = tg_add(x, c);
    for (int run = 0; run < 3; run++) {
        tg_vk_queue_stats s0, s1;
        cr_assert_eq(tg_synchronize(), TG_OK);
        cr_assert_eq(tg__vk_queue_stats(0, &s0), 0);
        tg_tensor *d = NULL;
        cr_assert_eq(tg_run(p, &gx, &d), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg__vk_queue_stats(0, &s1), 0);
        cr_expect_eq(s1.uploads - s0.uploads, run == 0, "run %d uploaded %llu times", run,
                     (unsigned long long)(s1.uploads - s0.uploads));
        if (run > 0)
            cr_expect_eq(s1.submits - s0.submits, 0, "run %d submitted %llu times", run,
                         (unsigned long long)(s1.submits - s0.submits));
        tg_tensor *back = tg_to_device(d, CPU);
        check_close(back, want, 0, 0, "x + c on the GPU");
        tg_release(back);
        tg_release(d);
    }
    tg_program_free(p);
    tg_graph_free(g);
    tg_release(want); tg_release(gx); tg_release(x); tg_release(c);
}
