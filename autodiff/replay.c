/* Replayed runs of a compiled program on a Vulkan device (docs/gpu.md,
 * "Replayed runs"). The first run of a binding on a device is captured
 * (gpu/capture.c): it reads its inputs from buffers of the recording (copies
 * of the caller's, made first) and the recording keeps every buffer the run
 * used. A later run of the same binding on that device copies its inputs
 * into those buffers, records the captured commands again and copies the
 * outputs into new tensors, in one submission: no op is dispatched from the
 * host. Outputs are always copies, so a replay never writes a tensor the
 * caller holds. At most MAX_RECORDINGS bindings are kept (the least recently
 * run is dropped first). Runs of one program share its recordings; the lock
 * makes each replay's copies and commands one unit in the queue. */
#include "autodiff/replay.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"

#define MAX_RECORDINGS 4
#define MAX_SYMBOLS 32

typedef struct recording {
    bool used;
    int64_t vals[MAX_SYMBOLS];
    tg_device dev;
    tg_vk_capture *cap;
    tg_tensor **inb, **outb, **keep;      /* inputs' buffers, captured outputs, held constants */
    int n_keep;
    uint64_t last;                        /* tick of its last run */
} recording;

struct tg_replay_set {
    pthread_mutex_t lock;
    int n_in, n_out, n_sym;
    bool off;                             /* a capture met a cause every capture would meet */
    recording rec[MAX_RECORDINGS];
    uint64_t tick;
};

struct tg_replay_capture {
    tg_device dev;
    tg_vk_capture *cap;
    tg_tensor **inb;
};

static void release_all(tg_tensor **t, int n) {
    for (int i = 0; t && i < n; i++) tg_release(t[i]);
    free(t);
}

static void drop(tg_replay_set *s, recording *r) {
    if (!r->used) return;
    tg__vk_capture_free(r->cap);
    release_all(r->inb, s->n_in);
    release_all(r->outb, s->n_out);
    release_all(r->keep, r->n_keep);
    memset(r, 0, sizeof *r);
}

tg_replay_set *tg__replay_new(int n_in, int n_out, int n_sym) {
    tg_replay_set *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->n_in = n_in;
    s->n_out = n_out;
    s->n_sym = n_sym < MAX_SYMBOLS ? n_sym : MAX_SYMBOLS;
    return s;
}

void tg__replay_free(tg_replay_set *s) {
    if (!s) return;
    for (int k = 0; k < MAX_RECORDINGS; k++) drop(s, &s->rec[k]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Every input on dev (a Vulkan device). */
static bool inputs_on(const tg_replay_set *s, tg_device dev, tg_tensor *const *in) {
    if (dev.kind != TG_VULKAN) return false;
    for (int i = 0; i < s->n_in; i++) {
        tg_device d = in[i]->storage->device;
        if (d.kind != dev.kind || d.index != dev.index) return false;
    }
    return true;
}

/* src[i]: in[i] itself when contiguous, else a contiguous copy (new references). */
static bool contiguous_inputs(int n, tg_tensor *const *in, tg_tensor **src) {
    bool ok = true;
    for (int i = 0; i < n; i++) {
        src[i] = !ok ? NULL : tg__is_contiguous(in[i]) ? tg_retain(in[i]) : tg__vk_contiguous(in[i]);
        ok = ok && src[i];
    }
    return ok;
}

static recording *find(tg_replay_set *s, tg_device dev, const int64_t *vals) {
    for (int k = 0; k < MAX_RECORDINGS; k++) {
        recording *r = &s->rec[k];
        if (r->used && r->dev.index == dev.index && memcmp(r->vals, vals, (size_t)s->n_sym * sizeof *vals) == 0)
            return r;
    }
    return NULL;
}

bool tg__replay_run(tg_replay_set *s, tg_device dev, const int64_t *vals, tg_tensor *const *in, tg_tensor **out,
                    tg_status *st) {
    if (!s || !inputs_on(s, dev, in)) return false;
    pthread_mutex_lock(&s->lock);
    recording *r = s->off ? NULL : find(s, dev, vals);
    if (!r) {
        pthread_mutex_unlock(&s->lock);
        return false;
    }
    r->last = ++s->tick;
    tg_tensor **src = calloc((size_t)s->n_in + 1, sizeof *src);
    tg_tensor **from = calloc((size_t)s->n_out + 1, sizeof *from), **to = calloc((size_t)s->n_out + 1, sizeof *to);
    if (!src || !from || !to) *st = tg__error(TG_ERR_MEMORY, "tg_run: out of memory");
    else *st = contiguous_inputs(s->n_in, in, src) ? TG_OK : tg_last_error_code();
    int m = 0;
    for (int j = 0; j < s->n_out && !*st; j++) {
        tg_tensor *o = r->outb[j];
        if (o->storage->device.kind != TG_VULKAN) { out[j] = tg_retain(o); continue; }
        out[j] = tg__vk_alloc(dev.index, o->dtype, o->ndim, o->shape);
        if (!out[j]) { *st = tg_last_error_code(); break; }
        from[m] = o;
        to[m++] = out[j];
    }
    if (!*st) *st = tg__vk_capture_replay(r->cap, s->n_in, r->inb, src, m, to, from);
    if (*st)
        for (int j = 0; j < s->n_out; j++) { tg_release(out[j]); out[j] = NULL; }
    pthread_mutex_unlock(&s->lock);
    release_all(src, s->n_in);
    free(from);
    free(to);
    return true;
}

tg_replay_capture *tg__replay_begin(tg_replay_set *s, tg_device dev, tg_tensor *const *in, tg_tensor **use) {
    if (!s || !inputs_on(s, dev, in)) return NULL;
    pthread_mutex_lock(&s->lock);
    bool off = s->off;
    pthread_mutex_unlock(&s->lock);
    if (off) return NULL;
    tg_replay_capture *c = calloc(1, sizeof *c);
    tg_tensor **src = calloc((size_t)s->n_in + 1, sizeof *src);
    if (c) c->inb = calloc((size_t)s->n_in + 1, sizeof *c->inb);
    bool ok = c && src && c->inb && contiguous_inputs(s->n_in, in, src);
    for (int i = 0; i < s->n_in && ok; i++)
        ok = (c->inb[i] = tg__vk_alloc(dev.index, in[i]->dtype, in[i]->ndim, in[i]->shape)) != NULL;
    if (ok) c->cap = tg__vk_capture_begin(dev.index, s->n_in, c->inb, src);
    release_all(src, s->n_in);
    if (!ok || !c->cap) {
        tg_clear_error();               /* not captured: the run goes on as usual */
        if (c) release_all(c->inb, s->n_in);
        free(c);
        return NULL;
    }
    c->dev = dev;
    for (int i = 0; i < s->n_in; i++) use[i] = c->inb[i];
    return c;
}

tg_status tg__replay_end(tg_replay_set *s, tg_replay_capture *c, const int64_t *vals, int n_keep,
                         tg_tensor *const *keep, tg_tensor **out, tg_status run_st) {
    tg_status st = run_st;
    /* outputs the copies can read directly: contiguous (made so inside the recording) */
    for (int j = 0; j < s->n_out && !st; j++) {
        tg_tensor *o = out[j];
        if (o->storage->device.kind != TG_VULKAN || tg__is_contiguous(o)) continue;
        if (!(out[j] = tg__vk_contiguous(o))) st = tg_last_error_code();
        tg_release(o);
    }
    bool replayable = false;
    tg_status end = tg__vk_capture_end(c->cap, &replayable);
    if (!st) st = end;
    recording r = {.used = true, .dev = c->dev, .cap = c->cap, .inb = c->inb, .n_keep = n_keep};
    if (!st && replayable) {
        r.outb = calloc((size_t)s->n_out + 1, sizeof *r.outb);
        r.keep = calloc((size_t)n_keep + 1, sizeof *r.keep);
        replayable = r.outb && r.keep;
    }
    /* the caller gets copies; the recording keeps what its commands wrote */
    tg_tensor **from = NULL, **to = NULL;
    int m = 0;
    if (!st && replayable) {
        from = calloc((size_t)s->n_out + 1, sizeof *from);
        to = calloc((size_t)s->n_out + 1, sizeof *to);
        replayable = from && to;
        for (int j = 0; j < s->n_out && replayable; j++) {
            tg_tensor *o = out[j];
            if (o->storage->device.kind != TG_VULKAN) continue;
            replayable = (to[m] = tg__vk_alloc(c->dev.index, o->dtype, o->ndim, o->shape)) != NULL;
            if (replayable) from[m++] = o;
        }
        if (!replayable) {
            for (int k = 0; k < m; k++) tg_release(to[k]);
            m = 0;
            tg_clear_error();
        }
    }
    tg_status sub = tg__vk_copy_submit(c->dev.index, m, to, from);
    if (!st) st = sub;
    if (!st && replayable) {
        for (int j = 0, k = 0; j < s->n_out; j++) {
            r.outb[j] = out[j];
            out[j] = out[j]->storage->device.kind == TG_VULKAN ? to[k++] : tg_retain(out[j]);
        }
        for (int q = 0; q < n_keep; q++) r.keep[q] = tg_retain(keep[q]);
        memcpy(r.vals, vals, (size_t)s->n_sym * sizeof *vals);
        pthread_mutex_lock(&s->lock);
        recording *slot = find(s, c->dev, vals);        /* another thread's capture of it: ours goes */
        if (!slot) {
            slot = &s->rec[0];
            for (int k = 1; k < MAX_RECORDINGS; k++)
                if (!s->rec[k].used || (slot->used && s->rec[k].last < slot->last)) slot = &s->rec[k];
        }
        drop(s, slot);
        r.last = ++s->tick;
        *slot = r;
        pthread_mutex_unlock(&s->lock);
    } else {
        for (int k = 0; k < m; k++) tg_release(to[k]);
        if (!replayable && tg__vk_capture_permanent(c->cap)) {
            pthread_mutex_lock(&s->lock);
            s->off = true;
            pthread_mutex_unlock(&s->lock);
        }
        free(r.outb);
        free(r.keep);
        tg__vk_capture_free(c->cap);
        release_all(c->inb, s->n_in);
    }
    free(from);
    free(to);
    free(c);
    return st;
}
