/* Replayed runs of a compiled program on a Vulkan device (docs/gpu.md,
 * "Replayed runs"). The first run of a binding on a device is captured
 * (gpu/capture.c): it reads its inputs from buffers of the recording (copies
 * of the caller's, made first) and the recording keeps every buffer the run
 * used. A later run of the same binding on that device copies its inputs
 * into those buffers, records the captured commands again and copies the
 * outputs into new tensors, in one submission: no node is dispatched from
 * the host. Outputs are always copies, so a replay never writes a tensor the
 * caller holds. The copies are work a plain run does not do: a binding is
 * replayed only when they move at most BYTES_PER_DISPATCH per dispatch the
 * recording saves (a fused chain over large tensors, a few dispatches, is
 * cheaper recorded anew; a training step of hundreds of small kernels is
 * not). At most MAX_RECORDINGS bindings are kept (the least recently run is
 * dropped first). Runs of one program share its recordings; the lock makes
 * each replay's copies and commands one unit in the queue. */
#include "autodiff/replay.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"

#define MAX_RECORDINGS 4
#define MAX_SYMBOLS 32
/* Copy traffic a replay may add per dispatch it saves: recording a dispatch
 * costs the host 1-4 us (docs/gpu.md), copying 256 KiB well under that on
 * a discrete GPU. */
#define BYTES_PER_DISPATCH ((size_t)256 << 10)

typedef struct recording {
    bool used;
    bool plain;                           /* not worth replaying: runs are recorded anew */
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

static size_t bytes_of(const tg_tensor *t) { return (size_t)tg__numel(t->ndim, t->shape) * tg_dtype_size(t->dtype); }

static recording *find(tg_replay_set *s, tg_device dev, const int64_t *vals) {
    for (int k = 0; k < MAX_RECORDINGS; k++) {
        recording *r = &s->rec[k];
        if (r->used && r->dev.index == dev.index && memcmp(r->vals, vals, (size_t)s->n_sym * sizeof *vals) == 0)
            return r;
    }
    return NULL;
}

/* The slot for binding vals: its own, else a free one, else the least recently run (dropped). */
static recording *slot_for(tg_replay_set *s, tg_device dev, const int64_t *vals) {
    recording *slot = find(s, dev, vals);
    if (!slot) {
        slot = &s->rec[0];
        for (int k = 1; k < MAX_RECORDINGS; k++)
            if (!s->rec[k].used || (slot->used && s->rec[k].last < slot->last)) slot = &s->rec[k];
    }
    drop(s, slot);
    return slot;
}

/* out[j]: new contiguous copies of src[j] (device tensors; others shared). */
static tg_status copy_out(int n, tg_tensor *const *src, tg_tensor **out) {
    for (int j = 0; j < n; j++) {
        /* where the device's memory is not mapped, the copies go to host
         * memory, so reading a run's outputs submits no transfer */
        out[j] = src[j]->storage->device.kind == TG_VULKAN ? tg__vk_readable_copy(src[j]) : tg_retain(src[j]);
        if (!out[j]) {
            for (int k = 0; k < j; k++) { tg_release(out[k]); out[k] = NULL; }
            return tg_last_error_code();
        }
    }
    return TG_OK;
}

bool tg__replay_run(tg_replay_set *s, tg_device dev, const int64_t *vals, tg_tensor *const *in, tg_tensor **out,
                    tg_status *st) {
    if (!s || !inputs_on(s, dev, in)) return false;
    pthread_mutex_lock(&s->lock);
    recording *r = s->off ? NULL : find(s, dev, vals);
    if (!r || r->plain) {
        pthread_mutex_unlock(&s->lock);
        return false;
    }
    r->last = ++s->tick;
    *st = TG_OK;
    for (int i = 0; i < s->n_in && !*st; i++) *st = tg__vk_copy_into(r->inb[i], in[i]);
    if (!*st) *st = tg__vk_capture_replay(r->cap);
    if (!*st) *st = copy_out(s->n_out, r->outb, out);
    tg_status sub = tg__vk_submit_batch(dev.index);
    if (!*st && sub) {
        *st = sub;
        for (int j = 0; j < s->n_out; j++) { tg_release(out[j]); out[j] = NULL; }
    }
    pthread_mutex_unlock(&s->lock);
    return true;
}

tg_replay_capture *tg__replay_begin(tg_replay_set *s, tg_device dev, const int64_t *vals, tg_tensor *const *in,
                                    tg_tensor **use) {
    if (!s || !inputs_on(s, dev, in)) return NULL;
    pthread_mutex_lock(&s->lock);
    bool no = s->off || find(s, dev, vals);      /* a binding found here is one not worth replaying */
    pthread_mutex_unlock(&s->lock);
    if (no) return NULL;
    tg__stashed_error older;
    tg__error_stash(&older);
    tg_replay_capture *c = calloc(1, sizeof *c);
    if (c) c->inb = calloc((size_t)s->n_in + 1, sizeof *c->inb);
    bool ok = c && c->inb;
    for (int i = 0; i < s->n_in && ok; i++)
        ok = (c->inb[i] = tg__vk_alloc(dev.index, in[i]->dtype, in[i]->ndim, in[i]->shape)) != NULL &&
             tg__vk_copy_into(c->inb[i], in[i]) == TG_OK;
    if (ok) c->cap = tg__vk_capture_begin(dev.index);
    if (!ok || !c->cap) {
        tg_clear_error();               /* not captured: the run goes on as usual */
        tg__error_unstash(&older);
        if (c) release_all(c->inb, s->n_in);
        free(c);
        return NULL;
    }
    tg__error_unstash(&older);
    c->dev = dev;
    for (int i = 0; i < s->n_in; i++) use[i] = c->inb[i];
    return c;
}

tg_status tg__replay_end(tg_replay_set *s, tg_replay_capture *c, const int64_t *vals, int n_keep,
                         tg_tensor *const *keep, tg_tensor **out, tg_status run_st) {
    bool replayable = false;
    tg_status st = tg__vk_capture_end(c->cap, &replayable);
    if (!st) st = run_st;
    bool permanent = !replayable && tg__vk_capture_permanent(c->cap);
    size_t copied = 0;
    for (int i = 0; i < s->n_in; i++) copied += bytes_of(c->inb[i]);
    for (int j = 0; j < s->n_out && !st; j++) copied += bytes_of(out[j]);
    bool worth = copied <= tg__vk_capture_dispatches(c->cap) * BYTES_PER_DISPATCH;
    recording r = {.used = true, .dev = c->dev};
    memcpy(r.vals, vals, (size_t)s->n_sym * sizeof *vals);
    bool kept = false;
    if (!st && replayable && worth) {
        /* the caller gets copies; the recording keeps what its commands wrote */
        tg__stashed_error older;
        tg__error_stash(&older);
        tg_tensor **copies = calloc((size_t)s->n_out + 1, sizeof *copies);
        r.outb = calloc((size_t)s->n_out + 1, sizeof *r.outb);
        r.keep = calloc((size_t)n_keep + 1, sizeof *r.keep);
        if (copies && r.outb && r.keep && copy_out(s->n_out, out, copies) == TG_OK) {
            for (int j = 0; j < s->n_out; j++) { r.outb[j] = out[j]; out[j] = copies[j]; }
            for (int q = 0; q < n_keep; q++) r.keep[q] = tg_retain(keep[q]);
            r.n_keep = n_keep;
            r.cap = c->cap;
            r.inb = c->inb;
            kept = true;
        } else {
            free(r.outb);
            free(r.keep);
            r.outb = r.keep = NULL;
            tg_clear_error();           /* not kept: the run's own outputs stand */
        }
        tg__error_unstash(&older);
        free(copies);
    }
    if (!kept) {
        tg__vk_capture_free(c->cap);
        release_all(c->inb, s->n_in);
        r.plain = true;                 /* only stored when the run was whole but not worth replaying */
    }
    pthread_mutex_lock(&s->lock);
    if (permanent) {
        s->off = true;
    } else if (!st && (kept || (replayable && !worth))) {
        recording *slot = slot_for(s, c->dev, vals);
        r.last = ++s->tick;
        *slot = r;
    }
    pthread_mutex_unlock(&s->lock);
    tg_status sub = tg__vk_submit_batch(c->dev.index);
    if (!st) st = sub;
    free(c);
    return st;
}
