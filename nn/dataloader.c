/* tg_dataloader: mini-batches of (x, y) along axis 0.
 *
 * A loader yields the sequence  B_0 ... B_{k-1} END  B_0' ... END  ...  where
 * k = ceil(N / batch): each batch is a fresh C-contiguous copy of the rows
 * perm[pos .. pos + batch) of x and y (the last one smaller), END is the
 * "false" that closes an epoch. Rows are gathered with memcpy from a
 * contiguous CPU copy of x and y (a reference when they already are
 * contiguous), so batches never carry autograd history.
 *
 * Shuffling: epoch e uses the permutation that tg_randperm(N) gives as the
 * (e + 1)-th draw after tg_manual_seed(seed). It is drawn from the library's
 * Philox stream under the loader's own (seed, offset), installed with
 * tg_rng_set_state around the draw and the thread's previous state put back,
 * so the global stream of the caller is never disturbed (the state is
 * thread-local, and the loader keeps its own offset between epochs).
 *
 * Prefetch: a worker pthread runs the same producer one item ahead through
 * a one-slot queue (mutex + condition variable): while the caller holds
 * batch k the worker makes batch k + 1, so the sequence is identical with
 * and without prefetch. Thread safety of the handoff: the worker only
 * allocates (tg__alloc draws from its own thread-local caches), copies
 * bytes, and draws the permutation inside its own scope; tensor and storage
 * refcounts are atomic (tensor/memory.c), so a tensor made by the worker can
 * be released by the caller (its block then joins the caller's cache). The
 * mutex orders the worker's writes before the caller's reads. Errors in the
 * worker (out of memory) are recorded in the worker's thread-local error
 * state, copied into the item and raised again in the caller's thread. The
 * batches are handed to the caller's innermost scope in tg_dataloader_next,
 * on the caller's thread. tg_dataloader_free asks the worker to stop, wakes
 * it and joins it. */
#include "tensor/ops/elementwise.h"
#include "tangent/nn.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { ITEM_NONE, ITEM_BATCH, ITEM_END, ITEM_ERROR } item_kind;

typedef struct {
    item_kind kind;
    tg_tensor *x, *y;
    tg_status code;
    char msg[1024];
} item;

struct tg_dataloader {
    tg_tensor *x, *y;           /* contiguous CPU tensors, owned */
    int64_t n, batch;
    size_t xrow, yrow;          /* bytes per row */
    bool shuffle;
    uint64_t seed, rng_offset;  /* the loader's private Philox stream */
    int64_t *perm;              /* this epoch's order (NULL without shuffle) */
    int64_t pos;                /* next row of the epoch; -1: no epoch begun */
    bool failed;                /* an error item was produced: stop */

    bool prefetch;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    item slot;                  /* ITEM_NONE when empty */
};

static void item_clear(item *it) {
    tg_release(it->x);
    tg_release(it->y);
    it->x = it->y = NULL;
    it->kind = ITEM_NONE;
}

static void item_error(item *it) {
    it->kind = ITEM_ERROR;
    it->code = tg_last_error_code() ? tg_last_error_code() : TG_ERR_MEMORY;
    snprintf(it->msg, sizeof it->msg, "%s", *tg_last_error() ? tg_last_error() : "tg_dataloader_next: failed");
    tg_clear_error();
}

/* The next epoch's permutation from the loader's own stream. */
static tg_status draw_perm(tg_dataloader *dl) {
    uint64_t seed0, off0;
    tg_rng_get_state(&seed0, &off0);
    tg_rng_set_state(dl->seed, dl->rng_offset);
    tg_scope_begin();
    tg_tensor *p = tg_randperm(dl->n);
    if (p && dl->n > 0) memcpy(dl->perm, tg__ptr(p), (size_t)dl->n * sizeof(int64_t));
    tg_scope_end();
    tg_rng_get_state(NULL, &dl->rng_offset);
    tg_rng_set_state(seed0, off0);
    return p ? TG_OK : tg_last_error_code();
}

static tg_tensor *gather(const tg_tensor *src, size_t row, const int64_t *perm, int64_t pos, int64_t b) {
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, src->shape, sizeof shape);
    shape[0] = b;
    tg_tensor *t = tg__alloc(src->dtype, src->ndim, shape);
    if (!t || row == 0) return t;
    char *dst = tg__ptr(t);
    const char *base = tg__ptr(src);
    if (!perm) {
        memcpy(dst, base + (size_t)pos * row, (size_t)b * row);
    } else {
        for (int64_t i = 0; i < b; i++) memcpy(dst + (size_t)i * row, base + (size_t)perm[pos + i] * row, row);
    }
    return t;
}

/* The next item of the sequence; runs on the caller's thread or the worker. */
static void produce_item(tg_dataloader *dl, item *it) {
    memset(it, 0, sizeof *it);
    if (dl->failed) {
        it->kind = ITEM_ERROR;
        it->code = TG_ERR_ARG;
        snprintf(it->msg, sizeof it->msg, "tg_dataloader_next: the loader failed earlier and cannot go on");
        return;
    }
    if (dl->pos < 0) {                 /* a new epoch */
        if (dl->shuffle && draw_perm(dl) != TG_OK) {
            dl->failed = true;
            item_error(it);
            return;
        }
        dl->pos = 0;
    }
    if (dl->pos >= dl->n) {            /* the epoch is over */
        dl->pos = -1;
        it->kind = ITEM_END;
        return;
    }
    int64_t b = dl->n - dl->pos < dl->batch ? dl->n - dl->pos : dl->batch;
    it->x = gather(dl->x, dl->xrow, dl->perm, dl->pos, b);
    it->y = it->x ? gather(dl->y, dl->yrow, dl->perm, dl->pos, b) : NULL;
    if (!it->x || !it->y) {
        tg_release(it->x);
        it->x = NULL;
        dl->failed = true;
        item_error(it);
        return;
    }
    dl->pos += b;
    it->kind = ITEM_BATCH;
}

/* On the caller's thread an error pending from before is set aside, so an
 * item's error is its own and the older one is still there afterwards. */
static void produce(tg_dataloader *dl, item *it) {
    tg__stashed_error older;
    tg__error_stash(&older);
    produce_item(dl, it);
    tg__error_unstash(&older);
}

static void *worker(void *arg) {
    tg_dataloader *dl = arg;
    for (;;) {
        pthread_mutex_lock(&dl->mu);
        while (dl->slot.kind != ITEM_NONE && !dl->stop) pthread_cond_wait(&dl->cv, &dl->mu);
        bool stop = dl->stop;
        pthread_mutex_unlock(&dl->mu);
        if (stop) break;
        item it;
        produce(dl, &it);              /* outside the lock: the caller trains meanwhile */
        pthread_mutex_lock(&dl->mu);
        if (dl->stop) {
            pthread_mutex_unlock(&dl->mu);
            item_clear(&it);
            break;
        }
        dl->slot = it;
        pthread_cond_broadcast(&dl->cv);
        pthread_mutex_unlock(&dl->mu);
    }
    return NULL;
}

/* A contiguous CPU tensor with t's values: a reference to t when it is one. */
static tg_tensor *own_contiguous(tg_tensor *t) {
    if (tg__is_contiguous(t)) return tg_retain(t);
    tg_tensor *c = tg__alloc(t->dtype, t->ndim, t->shape);
    if (c) tg__copy_into(c, t);
    return c;
}

static tg_status check_input(const char *name, const tg_tensor *t) {
    if (!t) return tg__error(TG_ERR_ARG, "tg_dataloader_new: %s is NULL", name);
    if (tg__is_tracer(t))
        return tg__error(TG_ERR_ARG, "tg_dataloader_new: %s is a tracer; a loader needs concrete data", name);
    if (t->storage->device.kind != TG_CPU)
        return tg__error(TG_ERR_DEVICE, "tg_dataloader_new: %s is not on the CPU", name);
    if (t->ndim < 1) return tg__error(TG_ERR_SHAPE, "tg_dataloader_new: %s is 0-d; it needs an axis 0 to batch", name);
    return TG_OK;
}

void tg_dataloader_free(tg_dataloader *dl) {
    if (!dl) return;
    if (dl->prefetch) {
        pthread_mutex_lock(&dl->mu);
        dl->stop = true;
        pthread_cond_broadcast(&dl->cv);
        pthread_mutex_unlock(&dl->mu);
        pthread_join(dl->thread, NULL);
        pthread_cond_destroy(&dl->cv);
        pthread_mutex_destroy(&dl->mu);
    }
    item_clear(&dl->slot);
    tg_release(dl->x);
    tg_release(dl->y);
    free(dl->perm);
    free(dl);
}

tg_dataloader *tg_dataloader_new(tg_tensor *x, tg_tensor *y, int64_t batch, bool shuffle, uint64_t seed,
                                 bool prefetch) {
    if (check_input("x", x) || check_input("y", y)) return NULL;
    if (x->shape[0] != y->shape[0]) {
        char a[160], b[160];
        tg__error(TG_ERR_SHAPE, "tg_dataloader_new: x %s and y %s differ in their first dimension (%lld vs %lld)",
                  tg__fmt_meta(a, sizeof a, x->dtype, x->ndim, x->shape),
                  tg__fmt_meta(b, sizeof b, y->dtype, y->ndim, y->shape), (long long)x->shape[0],
                  (long long)y->shape[0]);
        return NULL;
    }
    if (batch <= 0) {
        tg__error(TG_ERR_ARG, "tg_dataloader_new: batch size %lld must be positive", (long long)batch);
        return NULL;
    }
    tg_dataloader *dl = calloc(1, sizeof *dl);
    if (!dl) return tg__error(TG_ERR_MEMORY, "tg_dataloader_new: out of memory"), NULL;
    dl->n = x->shape[0];
    dl->batch = batch;
    dl->shuffle = shuffle;
    dl->seed = seed;
    dl->pos = -1;
    dl->x = own_contiguous(x);
    dl->y = dl->x ? own_contiguous(y) : NULL;
    if (shuffle && dl->n > 0 && !(dl->perm = malloc((size_t)dl->n * sizeof(int64_t)))) {
        tg__error(TG_ERR_MEMORY, "tg_dataloader_new: out of memory for a permutation of %lld rows",
                  (long long)dl->n);
        tg_dataloader_free(dl);
        return NULL;
    }
    if (!dl->x || !dl->y) {
        tg_dataloader_free(dl);
        return NULL;
    }
    dl->xrow = dl->n ? (size_t)(tg__numel(x->ndim, x->shape) / dl->n) * (size_t)tg__esize(x->dtype) : 0;
    dl->yrow = dl->n ? (size_t)(tg__numel(y->ndim, y->shape) / dl->n) * (size_t)tg__esize(y->dtype) : 0;
    if (prefetch) {
        if (pthread_mutex_init(&dl->mu, NULL) != 0) {
            tg_dataloader_free(dl);
            return tg__error(TG_ERR_MEMORY, "tg_dataloader_new: cannot create a mutex"), NULL;
        }
        if (pthread_cond_init(&dl->cv, NULL) != 0) {
            pthread_mutex_destroy(&dl->mu);
            tg_dataloader_free(dl);
            return tg__error(TG_ERR_MEMORY, "tg_dataloader_new: cannot create a condition variable"), NULL;
        }
        int e = pthread_create(&dl->thread, NULL, worker, dl);
        if (e != 0) {
            pthread_cond_destroy(&dl->cv);
            pthread_mutex_destroy(&dl->mu);
            tg_dataloader_free(dl);
            return tg__error(TG_ERR_MEMORY, "tg_dataloader_new: cannot start the prefetch thread: %s",
                             strerror(e)), NULL;
        }
        dl->prefetch = true;
    }
    return dl;
}

bool tg_dataloader_next(tg_dataloader *dl, tg_tensor **x, tg_tensor **y) {
    if (!dl || !x || !y) {
        tg__error(TG_ERR_ARG, "tg_dataloader_next: %s is NULL", !dl ? "the loader" : !x ? "x" : "y");
        return false;
    }
    item it;
    if (dl->prefetch) {
        pthread_mutex_lock(&dl->mu);
        while (dl->slot.kind == ITEM_NONE) pthread_cond_wait(&dl->cv, &dl->mu);
        it = dl->slot;
        dl->slot.kind = ITEM_NONE;
        dl->slot.x = dl->slot.y = NULL;
        pthread_cond_broadcast(&dl->cv);
        pthread_mutex_unlock(&dl->mu);
    } else {
        produce(dl, &it);
    }
    if (it.kind == ITEM_ERROR) {
        tg__error(it.code, "%s", it.msg);
        return false;
    }
    if (it.kind != ITEM_BATCH) return false;
    /* tg__handout releases what the scope cannot take (out of memory) */
    tg_tensor *bx = tg__handout(it.x);
    if (!bx) {
        tg_release(it.y);
        return false;
    }
    tg_tensor *by = tg__handout(it.y);
    if (!by) return false;    /* bx already belongs to the scope */
    *x = bx;
    *y = by;
    return true;
}

int64_t tg_dataloader_batches(const tg_dataloader *dl) {
    if (!dl) return tg__error(TG_ERR_ARG, "tg_dataloader_batches: the loader is NULL"), -1;
    return (dl->n + dl->batch - 1) / dl->batch;
}
