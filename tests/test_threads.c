/* Per-thread state (scopes, errors, grad mode, RNG) is thread-local: several
 * threads computing, differentiating and failing at once do not disturb
 * each other. */
#include "support/check.h"

#include <pthread.h>

typedef struct { int id; double grad_sum; int errors_seen; tg_status bad_code; } job;

static void *work(void *p) {
    job *j = p;
    tg_manual_seed((uint64_t)j->id);
    for (int step = 0; step < 300; step++) {
        tg_scope_begin();
        tg_tensor *w = tg_full(TG_F64, 2, (int64_t[]){3, 3}, (double)(j->id + 1));
        tg_set_requires_grad(w, true);
        tg_tensor *x = tg_ones(TG_F64, 2, (int64_t[]){2, 3});
        tg_tensor *loss = tg_sum(tg_square(tg_matmul(x, w)), 0, NULL, false);
        tg_backward(loss, NULL);
        /* d/dw sum((x w)^2) = 2 x^T (x w); every entry is 2 * 2 * 3 (id + 1) */
        j->grad_sum = tg_item_f64(tg_sum(tg_grad(w), 0, NULL, false));
        tg_zero_grad(w);
        if (j->id == 1) {            /* this thread fails on purpose */
            tg_add(x, tg_ones(TG_F64, 1, (int64_t[]){5}));
            j->bad_code = tg_last_error_code();
            j->errors_seen += tg_last_error_code() != TG_OK;
            tg_clear_error();
        } else {
            j->errors_seen += tg_last_error_code() != TG_OK;
        }
        tg_scope_end();
    }
    return NULL;
}

Test(threads, independent_work_on_four_threads) {
    pthread_t t[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){.id = i};
        cr_assert_eq(pthread_create(&t[i], NULL, work, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) {
        cr_assert_float_eq(jobs[i].grad_sum, 9 * 12.0 * (i + 1), 1e-9, "thread %d gradient", i);
        if (i == 1) {
            cr_assert_eq(jobs[i].errors_seen, 300);
            cr_assert_eq(jobs[i].bad_code, TG_ERR_SHAPE);
        } else {
            cr_assert_eq(jobs[i].errors_seen, 0, "thread %d saw another thread's error", i);
        }
    }
    cr_assert_eq(tg_last_error_code(), TG_OK);
}
