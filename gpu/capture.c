/* Captured runs: a compiled program's dispatches recorded once into a
 * command buffer of their own and replayed while the binding is unchanged
 * (docs/gpu.md, "Replayed runs").
 *
 * While a capture is open on a device, the work its owner thread records
 * (dispatches, barriers, small uploads) goes into the capture's secondary
 * command buffer instead of the batch, kernel parameters into the capture's
 * own host-visible chunks, and every device buffer the owner allocates is
 * held by the capture, so the addresses baked into the commands stay valid
 * and no one else is handed that memory. A buffer the run has let go of (only
 * the capture holds it) is handed again to a later allocation of the same
 * size in the same run, as the allocator would have done. Closing the
 * capture records it into the current batch (this run executes it); a replay
 * records it into the batch again (autodiff/replay.c puts the copies of a
 * run's inputs and outputs around it).
 *
 * Captures are per thread: several threads may each have one open on a
 * device, and work other threads record meanwhile goes into the batch as
 * usual. A closed capture's commands run after everything the batch held
 * when it closed. That order is safe because a run's tensors are its own
 * until it returns, and device memory the owner frees during the capture
 * is given back to the allocator only when the capture closes (deferred),
 * so no other thread's earlier-running work can be handed it.
 *
 * A capture cannot be replayed (closed with ok false) when the run waited for
 * the queue (a host read or a large upload: the recording is cut in two) or
 * drew random numbers (a replay would repeat them). */
#ifdef TG_HAVE_VULKAN
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu_internal.h"

/* Parameter memory in chunks of this size (a CNN training step: ~1 chunk). */
#define PCHUNK ((size_t)256 << 10)

typedef struct pchunk {
    VkBuffer buf;
    VkDeviceMemory mem;
    char *map;
} pchunk;

typedef struct deferred_range {
    vk_block *block;
    size_t off, size;
} deferred_range;

struct tg_vk_capture {
    tg_vkdev *dev;
    struct tg_vk_capture *next;     /* in dev->captures while open */
    pthread_t owner;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    bool ok, permanent;             /* permanent: a cause a later capture would meet again */
    pchunk *chunks;
    int n_chunks;
    size_t used;                    /* in the last chunk */
    tg_storage **held;
    int n_held, cap_held;
    uint64_t dispatches;
    deferred_range *deferred;       /* freed by the owner while open */
    int n_deferred, cap_deferred;
};

static void chunk_free(tg_vkdev *d, pchunk *c) {
    if (c->map) vkUnmapMemory(d->dev, c->mem);
    if (c->buf) vkDestroyBuffer(d->dev, c->buf, NULL);
    if (c->mem) vkFreeMemory(d->dev, c->mem, NULL);
}

static bool chunk_new(tg_vkdev *d, pchunk *c) {
    memset(c, 0, sizeof *c);
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = PCHUNK,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    if (vkCreateBuffer(d->dev, &bci, NULL, &c->buf) != VK_SUCCESS) return false;
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d->dev, c->buf, &req);
    /* device-local where it can be: every replay reads these blocks */
    uint32_t t = tg__vk_param_memory_type(d, req.memoryTypeBits);
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                .memoryTypeIndex = t};
    void *map = NULL;
    bool ok = t != UINT32_MAX && vkAllocateMemory(d->dev, &mai, NULL, &c->mem) == VK_SUCCESS &&
              vkBindBufferMemory(d->dev, c->buf, c->mem, 0) == VK_SUCCESS &&
              vkMapMemory(d->dev, c->mem, 0, VK_WHOLE_SIZE, 0, &map) == VK_SUCCESS;
    c->map = map;
    if (!ok) { chunk_free(d, c); memset(c, 0, sizeof *c); }
    return ok;
}

/* ---- hooks of the recording context (under dev->lock) ----------------------- */
tg_vk_capture *tg__vk_capture_mine(tg_vkdev *d) {
    pthread_t self = pthread_self();
    for (tg_vk_capture *c = d->captures; c; c = c->next)
        if (pthread_equal(c->owner, self)) return c;
    return NULL;
}

VkCommandBuffer tg__vk_capture_cmd(const tg_vk_capture *c) { return c->cmd; }

bool tg__vk_capture_params(tg_vk_capture *c, size_t slice, VkBuffer *buf, size_t *off, char **map) {
    if (slice > PCHUNK) return false;
    if (c->n_chunks == 0 || c->used + slice > PCHUNK) {
        pchunk *grown = realloc(c->chunks, (size_t)(c->n_chunks + 1) * sizeof *grown);
        if (!grown) return false;
        c->chunks = grown;
        if (!chunk_new(c->dev, &c->chunks[c->n_chunks])) return false;
        c->n_chunks++;
        c->used = 0;
    }
    pchunk *k = &c->chunks[c->n_chunks - 1];
    *buf = k->buf;
    *off = c->used;
    *map = k->map + c->used;
    c->used += slice;
    c->dispatches++;
    return true;
}

void tg__vk_capture_taint(tg_vkdev *d) {
    tg_vk_capture *c = d->captures ? tg__vk_capture_mine(d) : NULL;
    if (c) { c->ok = false; c->permanent = true; }
}

static bool is_open(const tg_vkdev *d, const tg_vk_capture *c) {
    for (const tg_vk_capture *k = d->captures; k; k = k->next)
        if (k == c) return true;
    return false;
}

tg_status tg__vk_capture_detach(tg_vkdev *d, tg_vk_capture *c, bool replayable) {
    tg_vk_capture **link = &d->captures;
    while (*link && *link != c) link = &(*link)->next;
    if (!*link) return TG_OK;
    *link = c->next;
    c->next = NULL;
    if (!replayable) c->ok = false;
    VkResult r = vkEndCommandBuffer(c->cmd);
    tg_status st = r == VK_SUCCESS ? tg__vk_begin_batch(d) : TG_OK;
    if (r != VK_SUCCESS) {
        c->ok = false;
        st = tg__error(TG_ERR_DEVICE, "%s: ending a captured run failed (%s)", d->label, tg__vk_result_name(r));
    } else if (!st) {
        vkCmdExecuteCommands(d->cmd, 1, &c->cmd);
        tg__vk_barrier(d);
        d->bound = -1;
        d->n_dispatch += (int)c->dispatches;
    } else {
        c->ok = false;
    }
    /* the run's commands are in the batch now: work recorded from here on
     * runs after them, so the memory it freed may be handed out again */
    for (int i = 0; i < c->n_deferred; i++)
        tg__vk_range_give(d, c->deferred[i].block, c->deferred[i].off, c->deferred[i].size);
    c->n_deferred = 0;
    return st;
}

tg_storage *tg__vk_capture_reuse(tg_vkdev *d, size_t size) {
    tg_vk_capture *c = d->captures ? tg__vk_capture_mine(d) : NULL;
    if (!c) return NULL;
    for (int i = c->n_held - 1; i >= 0; i--) {
        tg_storage *s = c->held[i];
        if (s->capacity == size && __atomic_load_n(&s->refcount, __ATOMIC_ACQUIRE) == 1) {
            tg__storage_retain(s);
            return s;
        }
    }
    return NULL;
}

void tg__vk_capture_hold(tg_vkdev *d, tg_storage *s) {
    tg_vk_capture *c = d->captures ? tg__vk_capture_mine(d) : NULL;
    if (!c || !c->ok) return;
    if (c->n_held == c->cap_held) {
        int cap = c->cap_held ? 2 * c->cap_held : 64;
        tg_storage **grown = realloc(c->held, (size_t)cap * sizeof *grown);
        if (!grown) { c->ok = false; return; }     /* not held: not replayable */
        c->held = grown;
        c->cap_held = cap;
    }
    tg__storage_retain(s);
    c->held[c->n_held++] = s;
}

bool tg__vk_capture_defer(tg_vkdev *d, vk_block *b, size_t off, size_t size) {
    tg_vk_capture *c = d->captures ? tg__vk_capture_mine(d) : NULL;
    if (!c) return false;
    if (c->n_deferred == c->cap_deferred) {
        int cap = c->cap_deferred ? 2 * c->cap_deferred : 16;
        deferred_range *grown = realloc(c->deferred, (size_t)cap * sizeof *grown);
        if (!grown) return false;
        c->deferred = grown;
        c->cap_deferred = cap;
    }
    c->deferred[c->n_deferred++] = (deferred_range){b, off, size};
    return true;
}

/* ---- the core's side -------------------------------------------------------------- */
tg_vk_capture *tg__vk_capture_begin(int dev) {
    tg_vkdev *d = tg__vk_dev(dev, "tg_run");
    if (!d) return NULL;
    tg_vk_capture *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->dev = d;
    c->owner = pthread_self();
    c->ok = true;
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = d->qfam};
    pthread_mutex_lock(&d->lock);
    tg_status st = d->prof || tg__vk_capture_mine(d) ? TG_ERR_UNSUPPORTED : TG_OK;
    if (!st && vkCreateCommandPool(d->dev, &pci, NULL, &c->pool) != VK_SUCCESS) st = TG_ERR_DEVICE;
    if (!st) {
        VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                           .commandPool = c->pool, .level = VK_COMMAND_BUFFER_LEVEL_SECONDARY,
                                           .commandBufferCount = 1};
        VkCommandBufferInheritanceInfo inh = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO};
        /* simultaneous use: replays in consecutive batches may be in flight together */
        VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                       .flags = VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT, .pInheritanceInfo = &inh};
        if (vkAllocateCommandBuffers(d->dev, &cai, &c->cmd) != VK_SUCCESS || vkBeginCommandBuffer(c->cmd, &bi) != VK_SUCCESS)
            st = TG_ERR_DEVICE;
    }
    if (!st) {
        c->next = d->captures;
        d->captures = c;
    }
    pthread_mutex_unlock(&d->lock);
    if (st) {
        if (c->pool) vkDestroyCommandPool(d->dev, c->pool, NULL);
        free(c);
        return NULL;
    }
    return c;
}

tg_status tg__vk_capture_end(tg_vk_capture *c, bool *replayable) {
    tg_vkdev *d = c->dev;
    pthread_mutex_lock(&d->lock);
    tg_status st = tg__vk_capture_detach(d, c, true);
    pthread_mutex_unlock(&d->lock);
    *replayable = c->ok && !st;
    return st;
}

tg_status tg__vk_submit_batch(int dev) {
    tg_vkdev *d = tg__vk_dev(dev, "tg_run");
    if (!d) return tg_last_error_code();
    pthread_mutex_lock(&d->lock);
    tg_status st = tg__vk_submit(d);
    pthread_mutex_unlock(&d->lock);
    return st;
}

bool tg__vk_capture_permanent(const tg_vk_capture *c) { return c->permanent; }

uint64_t tg__vk_capture_dispatches(const tg_vk_capture *c) { return c->dispatches; }

tg_status tg__vk_capture_replay(tg_vk_capture *c) {
    tg_vkdev *d = c->dev;
    pthread_mutex_lock(&d->lock);
    /* into the batch: a command buffer runs inside primary ones only, so a
     * replay from within the thread's own capture ends that capture */
    tg_vk_capture *mine = d->captures ? tg__vk_capture_mine(d) : NULL;
    tg_status st = mine ? tg__vk_capture_detach(d, mine, false) : TG_OK;
    if (!st) st = tg__vk_begin_batch(d);
    if (!st) {
        vkCmdExecuteCommands(d->cmd, 1, &c->cmd);
        tg__vk_barrier(d);
        d->bound = -1;
        d->n_dispatch += (int)c->dispatches;
        d->stats.replays++;
    }
    pthread_mutex_unlock(&d->lock);
    return st;
}

void tg__vk_capture_free(tg_vk_capture *c) {
    if (!c) return;
    tg_vkdev *d = c->dev;
    pthread_mutex_lock(&d->lock);
    if (is_open(d, c)) tg__vk_capture_detach(d, c, false);
    tg__vk_flush(d);                    /* batches that execute it or use its memory */
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < c->n_chunks; i++) chunk_free(d, &c->chunks[i]);
    if (c->pool) vkDestroyCommandPool(d->dev, c->pool, NULL);
    for (int i = 0; i < c->n_held; i++) tg__storage_release(c->held[i]);
    free(c->held);
    free(c->chunks);
    free(c->deferred);
    free(c);
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_capture;
#endif
