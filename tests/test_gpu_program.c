/* Compiled programs on a Vulkan device (issue: one submission per run): a
 * program traced once runs on device inputs of two batch sizes, equals the
 * same program on the CPU, submits its whole run once, and replays its
 * first run's recording while the binding is unchanged (docs/gpu.md,
 * "Replayed runs"); its gradient program runs there too. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
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

static tg_vk_queue_stats queue_stats(void) {
    tg_vk_queue_stats s;
    cr_assert_eq(tg__vk_queue_stats(0, &s), 0);
    return s;
}

/* Three runs per binding with new input values each time: the first is
 * captured, the next two replay it (only the copies in and out dispatched);
 * each run is one submission, its outputs equal the CPU's, and a replay
 * leaves the outputs of the run before it untouched. */
Test(gpu_program, one_submission_per_run_replayed_with_same_values_as_cpu) {
    need_gpu();
    tg_graph *g = tg_trace(mlp_loss, NULL, 3, specs, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 2, (int[]){1, 2});
    cr_assert(vg, "%s", tg_last_error());
    tg_program *p = tg_compile(vg, NULL);
    cr_assert(p, "%s", tg_last_error());
    tg_tensor *b1row = seq(1, 4, 0.1), *b1 = tg_reshape(b1row, 1, (int64_t[]){4});
    for (int64_t n = 3; n <= 5; n += 2) {
        tg_tensor *kept[3] = {NULL}, *kept_want[3] = {NULL};
        for (int run = 0; run < 3; run++) {
            tg_scope_begin();
            tg_tensor *hin[3] = {seq(n, 8, 1.0 + run), seq(8, 4, 0.5 - 0.2 * run), b1};
            tg_tensor *din[3];
            for (int i = 0; i < 3; i++) din[i] = tg_to_device(hin[i], VK0);
            tg_tensor *hout[3], *dout[3];
            cr_assert_eq(tg_run(p, hin, hout), TG_OK, "%s", tg_last_error());
            cr_assert_eq(tg_synchronize(), TG_OK);
            tg_vk_queue_stats s0 = queue_stats();
            cr_assert_eq(tg_run(p, din, dout), TG_OK, "N=%lld run %d on the GPU: %s", (long long)n, run, tg_last_error());
            tg_vk_queue_stats s1 = queue_stats();
            cr_expect_eq(s1.submits - s0.submits, 1, "run %d submitted %llu times", run,
                         (unsigned long long)(s1.submits - s0.submits));
            cr_expect_eq(s1.replays - s0.replays, run > 0, "run %d: %llu replays", run,
                         (unsigned long long)(s1.replays - s0.replays));
            /* a replay records only its copies: 3 inputs in, 3 outputs out */
            if (run == 0)
                cr_expect_gt(s1.dispatches - s0.dispatches, 12, "the captured run recorded %llu dispatches",
                             (unsigned long long)(s1.dispatches - s0.dispatches));
            else
                cr_expect_eq(s1.dispatches - s0.dispatches, 6, "replay %d recorded %llu dispatches", run,
                             (unsigned long long)(s1.dispatches - s0.dispatches));
            for (int j = 0; j < 3; j++) {
                cr_expect_eq(tg_device_of(dout[j]).kind, TG_VULKAN, "output %d left the device", j);
                tg_tensor *back = tg_to_device(dout[j], CPU);
                check_close(back, hout[j], 1e-5, 1e-6, "program output on the GPU vs the CPU");
                tg_release(back);
            }
            cr_expect_eq(queue_stats().submits - s1.submits, 0, "reading the outputs submitted again");
            if (run == 2)       /* run 1's outputs after run 2 replayed into the same recording */
                for (int j = 0; j < 3; j++) {
                    tg_tensor *back = tg_to_device(kept[j], CPU);
                    check_close(back, kept_want[j], 1e-5, 1e-6, "an earlier run's output after a replay");
                    tg_release(back);
                }
            for (int j = 0; j < 3; j++) {
                if (run == 1) { kept[j] = tg_keep(dout[j]); kept_want[j] = tg_keep(hout[j]); continue; }
                tg_release(hout[j]);
                tg_release(dout[j]);
            }
            for (int i = 0; i < 3; i++) tg_release(din[i]);
            tg_release(hin[0]);
            tg_release(hin[1]);
            tg_scope_end();
        }
        for (int j = 0; j < 3; j++) { tg_release(kept[j]); tg_release(kept_want[j]); }
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

/* loss of x^T (a strided view) and w: a replay copies inputs of any layout,
 * and outputs stay readable after the program is freed. */
Test(gpu_program, replays_take_strided_inputs_and_outputs_outlive_the_program) {
    need_gpu();
    tg_graph *g = tg_trace(mlp_loss, NULL, 3, specs, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert(p, "%s", tg_last_error());
    tg_tensor *brow = seq(1, 4, 0.3), *b = tg_reshape(brow, 1, (int64_t[]){4}), *w = seq(8, 4, 0.4);
    tg_release(brow);
    tg_tensor *dw = tg_to_device(w, VK0), *db = tg_to_device(b, VK0), *last = NULL, *want = NULL;
    tg_vk_queue_stats s0 = queue_stats();
    for (int run = 0; run < 3; run++) {
        tg_tensor *xt = seq(8, 6, 1.0 + 0.5 * run), *x = tg_transpose(xt, 0, 1);     /* (6, 8), strided */
        tg_tensor *dxt = tg_to_device(xt, VK0), *dx = tg_transpose(dxt, 0, 1);
        cr_assert(!tg_is_contiguous(dx));
        tg_release(want);
        tg_release(last);
        cr_assert_eq(tg_run(p, (tg_tensor *[]){x, w, b}, &want), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_run(p, (tg_tensor *[]){dx, dw, db}, &last), TG_OK, "%s", tg_last_error());
        tg_tensor *back = tg_to_device(last, CPU);
        check_close(back, want, 1e-5, 1e-6, "a strided input on the GPU");
        tg_release(back); tg_release(x); tg_release(xt); tg_release(dx); tg_release(dxt);
    }
    cr_expect_eq(queue_stats().replays - s0.replays, 2);
    tg_program_free(p);
    tg_tensor *back = tg_to_device(last, CPU);
    check_close(back, want, 1e-5, 1e-6, "an output after its program was freed");
    tg_release(back); tg_release(last); tg_release(want);
    tg_release(dw); tg_release(db); tg_release(w); tg_release(b);
    tg_graph_free(g);
}

/* A program that draws random numbers is never replayed (a replay would
 * repeat its draws); nor is one compiled with no_replay. */
static tg_status drop_half(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_nn_dropout(in[0], 0.5, true);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu_program, random_draws_and_no_replay_record_every_run) {
    need_gpu();
    tg_graph *g = tg_trace(drop_half, NULL, 1, (tg_spec[]){{TG_F32, "64"}}, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert(p, "%s", tg_last_error());
    tg_tensor *ones = tg_ones(TG_F32, 1, (int64_t[]){64}), *x = tg_to_device(ones, VK0), *prev = NULL;
    tg_release(ones);
    tg_vk_queue_stats s0 = queue_stats();
    for (int run = 0; run < 3; run++) {
        tg_tensor *y = NULL;
        cr_assert_eq(tg_run(p, &x, &y), TG_OK, "%s", tg_last_error());
        tg_tensor *h = tg_to_device(y, CPU);
        if (prev) {
            tg_tensor *eq = tg_eq(h, prev), *same = tg_all(eq, 0, NULL, false);
            cr_expect_eq(tg_item_i64(same), 0, "run %d drew the mask of the run before", run);
            tg_release(same);
            tg_release(eq);
        }
        tg_release(prev);
        prev = h;
        tg_release(y);
    }
    cr_expect_eq(queue_stats().replays - s0.replays, 0, "a dropout program was replayed");
    tg_release(prev);
    tg_program_free(p);
    tg_graph_free(g);

    g = tg_trace(mlp_loss, NULL, 3, specs, 1);
    p = tg_compile(g, &(tg_compile_opts){.no_replay = true});
    cr_assert(p, "%s", tg_last_error());
    tg_tensor *hx = seq(4, 8, 1.0), *hw = seq(8, 4, 0.5), *hb = seq(1, 4, 0.1), *hb1 = tg_reshape(hb, 1, (int64_t[]){4});
    tg_tensor *in[3] = {tg_to_device(hx, VK0), tg_to_device(hw, VK0), tg_to_device(hb1, VK0)};
    tg_release(hx); tg_release(hw); tg_release(hb); tg_release(hb1);
    for (int run = 0; run < 2; run++) {
        tg_vk_queue_stats a = queue_stats();
        tg_tensor *y = NULL;
        cr_assert_eq(tg_run(p, in, &y), TG_OK, "%s", tg_last_error());
        tg_vk_queue_stats b = queue_stats();
        cr_expect_gt(b.dispatches - a.dispatches, 3, "no_replay run %d recorded %llu dispatches", run,
                     (unsigned long long)(b.dispatches - a.dispatches));
        cr_expect_eq(b.replays - a.replays, 0);
        cr_expect_eq(b.submits - a.submits, 1);
        tg_release(y);
    }
    for (int i = 0; i < 3; i++) tg_release(in[i]);
    tg_release(x);
    tg_program_free(p);
    tg_graph_free(g);
}

/* Two threads run one program on the GPU at once, each with its own input
 * values: every run's outputs are that thread's. Each thread's first run is
 * captured (or runs plain when the other stored the binding meanwhile), so
 * every later run is a replay: replays share the program's recording,
 * serialised in the queue. */
typedef struct {
    tg_program *p;
    int id;
    tg_tensor *want[3];
    tg_tensor *din[3];
    int bad;
} worker;

static void *run_worker(void *arg) {
    worker *w = arg;
    for (int run = 0; run < 6; run++) {
        tg_tensor *out[3] = {NULL};
        if (tg_run(w->p, w->din, out) != TG_OK) { w->bad++; continue; }
        for (int j = 0; j < 3; j++) {
            tg_tensor *back = tg_to_device(out[j], CPU), *diff = back ? tg_sub(back, w->want[j]) : NULL;
            tg_tensor *a = diff ? tg_abs(diff) : NULL, *m = a ? tg_max(a, 0, NULL, false) : NULL;
            if (!m || tg_item_f64(m) > 1e-4) w->bad++;
            tg_release(m); tg_release(a); tg_release(diff); tg_release(back); tg_release(out[j]);
        }
    }
    return NULL;
}

Test(gpu_program, concurrent_runs_get_their_own_values) {
    need_gpu();
    tg_graph *g = tg_trace(mlp_loss, NULL, 3, specs, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 2, (int[]){1, 2});
    tg_program *p = vg ? tg_compile(vg, NULL) : NULL;
    cr_assert(p, "%s", tg_last_error());
    worker w[2];
    for (int k = 0; k < 2; k++) {
        w[k] = (worker){.p = p, .id = k};
        tg_tensor *brow = seq(1, 4, 0.1 + k), *b = tg_reshape(brow, 1, (int64_t[]){4});
        tg_tensor *hin[3] = {seq(6, 8, 1.0 + 2 * k), seq(8, 4, 0.5 - 0.3 * k), b};
        cr_assert_eq(tg_run(p, hin, w[k].want), TG_OK, "%s", tg_last_error());
        for (int i = 0; i < 3; i++) { w[k].din[i] = tg_to_device(hin[i], VK0); tg_release(hin[i]); }
        tg_release(brow);
    }
    tg_vk_queue_stats s0 = queue_stats();
    pthread_t th[2];
    for (int k = 0; k < 2; k++) pthread_create(&th[k], NULL, run_worker, &w[k]);
    for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
    uint64_t replays = queue_stats().replays - s0.replays;
    cr_expect_geq(replays, 10, "%llu of 12 concurrent runs replayed", (unsigned long long)replays);
    for (int k = 0; k < 2; k++) {
        cr_expect_eq(w[k].bad, 0, "thread %d: %d wrong or failed outputs", k, w[k].bad);
        for (int i = 0; i < 3; i++) { tg_release(w[k].din[i]); tg_release(w[k].want[i]); }
    }
    tg_program_free(p);
    tg_graph_free(vg);
    tg_graph_free(g);
}

/* Captures are per thread: thread A opens one, records neg(x) and lets go
 * of x (a device buffer made before the capture); meanwhile thread B
 * allocates a tensor of x's size, uploads into it, captures a product of its
 * own and reads it. Both captures close replayable, and A's closed capture
 * reads x's values, not B's: the range of x stays out of the allocator
 * until A's capture closes (docs/gpu.md, "Replayed runs"). */
enum { OVERLAP_N = 1 << 20 };       /* 4 MiB: a staged or mapped upload, not a recorded one */

typedef struct {
    pthread_barrier_t opened, done;
    bool a_ok, b_ok;
    double a_err, b_err;
    int a_fail, b_fail;
} overlap;

static tg_tensor *ramp(double scale) {
    float *v = malloc(OVERLAP_N * sizeof *v);
    for (int i = 0; i < OVERLAP_N; i++) v[i] = (float)(scale * ((i % 1000) - 500));
    tg_tensor *t = tg_from_data(TG_F32, 1, (int64_t[]){OVERLAP_N}, v);
    free(v);
    return t;
}

/* max |got - want| with got on the device (a host read: a flush) */
static double max_error(tg_tensor *got, tg_tensor *want) {
    tg_tensor *back = tg_to_device(got, CPU), *diff = back ? tg_sub(back, want) : NULL;
    tg_tensor *a = diff ? tg_abs(diff) : NULL, *m = a ? tg_max(a, 0, NULL, false) : NULL;
    double e = m ? tg_item_f64(m) : INFINITY;
    tg_release(m); tg_release(a); tg_release(diff); tg_release(back);
    return e;
}

static void *overlap_a(void *arg) {
    overlap *o = arg;
    tg_tensor *hx = ramp(1.0), *want = tg_neg(hx), *x = tg_to_device(hx, VK0);
    tg_vk_capture *c = x ? tg__vk_capture_begin(0) : NULL;
    tg_tensor *y = c ? tg_neg(x) : NULL;
    tg_release(x);                  /* its range is B's to take unless deferred */
    pthread_barrier_wait(&o->opened);
    pthread_barrier_wait(&o->done);
    o->a_fail = !c || !y || tg__vk_capture_end(c, &o->a_ok) != TG_OK;
    o->a_err = y ? max_error(y, want) : INFINITY;
    tg_release(y);
    tg__vk_capture_free(c);
    tg_release(want);
    tg_release(hx);
    return NULL;
}

static void *overlap_b(void *arg) {
    overlap *o = arg;
    pthread_barrier_wait(&o->opened);
    tg_tensor *hu = ramp(0.25), *want = tg_mul_scalar(hu, 3.0), *u = tg_to_device(hu, VK0);
    tg_vk_capture *c = u ? tg__vk_capture_begin(0) : NULL;
    tg_tensor *v = c ? tg_mul_scalar(u, 3.0) : NULL;
    o->b_fail = !c || !v || tg__vk_capture_end(c, &o->b_ok) != TG_OK;
    o->b_err = v ? max_error(v, want) : INFINITY;
    pthread_barrier_wait(&o->done);
    tg_release(v);
    tg__vk_capture_free(c);
    tg_release(u);
    tg_release(want);
    tg_release(hu);
    return NULL;
}

Test(gpu_program, captures_of_two_threads_overlap) {
    need_gpu();
    overlap o = {0};
    pthread_barrier_init(&o.opened, NULL, 2);
    pthread_barrier_init(&o.done, NULL, 2);
    pthread_t a, b;
    pthread_create(&a, NULL, overlap_a, &o);
    pthread_create(&b, NULL, overlap_b, &o);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    pthread_barrier_destroy(&o.opened);
    pthread_barrier_destroy(&o.done);
    cr_assert(!o.a_fail && !o.b_fail, "a capture failed: %s", tg_last_error());
    cr_expect(o.a_ok, "thread B's work cut thread A's capture short");
    cr_expect(o.b_ok, "thread B's capture was cut short");
    cr_expect_eq(o.a_err, 0.0, "A's captured neg(x) is off by %g (x's memory handed to B?)", o.a_err);
    cr_expect_eq(o.b_err, 0.0, "B's captured product is off by %g", o.b_err);
}

/* One kernel over 2^18 elements: a replay would copy 2 MiB for one dispatch
 * saved, so the binding is recorded anew on every run (autodiff/replay.c,
 * BYTES_PER_DISPATCH), with the right values. */
static tg_status negate(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_neg(in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(gpu_program, large_copies_for_few_dispatches_are_not_replayed) {
    need_gpu();
    tg_graph *g = tg_trace(negate, NULL, 1, (tg_spec[]){{TG_F32, "1, N"}}, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert(p, "%s", tg_last_error());
    tg_tensor *x = seq(1, 1 << 18, 1.0), *dx = tg_to_device(x, VK0), *want = tg_neg(x);
    tg_vk_queue_stats s0 = queue_stats();
    for (int run = 0; run < 3; run++) {
        tg_vk_queue_stats a = queue_stats();
        tg_tensor *y = NULL;
        cr_assert_eq(tg_run(p, &dx, &y), TG_OK, "%s", tg_last_error());
        cr_expect_eq(queue_stats().submits - a.submits, 1, "run %d", run);
        tg_tensor *back = tg_to_device(y, CPU);
        check_close(back, want, 0, 0, "-x on the GPU");
        tg_release(back);
        tg_release(y);
    }
    cr_expect_eq(queue_stats().replays - s0.replays, 0, "a 2 MiB copy for one dispatch was replayed");
    tg_program_free(p);
    tg_graph_free(g);
    tg_release(want); tg_release(dx); tg_release(x);
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
            cr_expect_eq(s1.submits - s0.submits, 1, "run %d submitted %llu times", run,
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

/* loss(A, B) = sum(solve(A, B)^2): a LAPACK op inside a compiled program. */
static tg_status solve_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_sum(tg_square(tg_linalg_solve(in[0], in[1])), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

/* The gradient program of a traced solve factors A once and solves with the
 * factors twice (docs/linalg.md); on device inputs both nodes run on the
 * host (gpu/host.c) and the program's outputs equal the CPU run's. */
Test(gpu_program, traced_solve_gradient_on_device_inputs) {
    need_gpu();
    tg_graph *g = tg_trace(solve_loss, NULL, 2, (tg_spec[]){{TG_F32, "N, N"}, {TG_F32, "N, 2"}}, 1);
    cr_assert(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 2, (int[]){0, 1});
    cr_assert(vg, "%s", tg_last_error());
    tg_program *p = tg_compile(vg, NULL);
    cr_assert(p, "%s", tg_last_error());
    for (int64_t n = 3; n <= 5; n += 2) {
        tg_scope_begin();
        tg_tensor *a = tg_add(seq(n, n, 0.5), tg_mul_scalar(tg_eye(TG_F32, n, -1), 3.0)), *b = seq(n, 2, 1.0);
        tg_tensor *hin[2] = {a, b}, *din[2] = {tg_to_device(a, VK0), tg_to_device(b, VK0)};
        tg_tensor *hout[3], *dout[3];
        cr_assert_eq(tg_run(p, hin, hout), TG_OK, "%s", tg_last_error());
        cr_assert_eq(tg_run(p, din, dout), TG_OK, "N=%lld on the GPU: %s", (long long)n, tg_last_error());
        for (int j = 0; j < 3; j++) {
            cr_expect_eq(tg_device_of(dout[j]).kind, TG_VULKAN, "output %d left the device", j);
            tg_tensor *back = tg_to_device(dout[j], CPU);
            check_close(back, hout[j], 1e-5, 1e-6, "solve's value and gradient on the GPU vs the CPU");
            tg_release(back);
            tg_release(hout[j]);
            tg_release(dout[j]);
        }
        tg_release(din[0]);
        tg_release(din[1]);
        tg_scope_end();
    }
    tg_program_free(p);
    tg_graph_free(vg);
    tg_graph_free(g);
}
