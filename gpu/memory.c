/* Device memory: a sub-allocator over large VkDeviceMemory blocks (one
 * VkBuffer each, bound whole to the kernels), first fit over sorted,
 * coalesced free ranges, freed ranges reused at once (work queued on the
 * device's one queue runs in recording order, and host writes wait for it);
 * tensors larger than a block get a block of their own, returned to the
 * driver when freed. Uploads and downloads map the memory where it is
 * host-visible (lavapipe, ReBAR) and go through a staging buffer otherwise.
 * Where it is not, tensors the host is about to read (a compiled program's
 * outputs) can be placed in blocks of host-visible memory instead
 * (tg__vk_alloc_readable): the GPU writes them there and reading them is a
 * memcpy, with no transfer to submit. */
#ifdef TG_HAVE_VULKAN
#include "gpu/gpu_internal.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ALIGN 256

/* ---- the reserved address range and its slots ---------------------------- */
static pthread_once_t va_once = PTHREAD_ONCE_INIT;
static char *va_base;
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static vk_block *slots[TG_VK_MAX_BLOCKS];

static void va_reserve(void) {
    size_t span = (size_t)TG_VK_MAX_BLOCKS << TG_VK_SLOT_BITS;
    void *p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    va_base = p == MAP_FAILED ? NULL : p;
    if (!va_base) tg__vk_debug("cannot reserve %zu bytes of address space", span);
}

static int slot_take(vk_block *b) {
    pthread_mutex_lock(&slot_lock);
    int s = -1;
    for (int i = 0; i < TG_VK_MAX_BLOCKS && s < 0; i++)
        if (!slots[i]) { slots[i] = b; s = i; }
    pthread_mutex_unlock(&slot_lock);
    return s;
}
static void slot_give(int s) {
    pthread_mutex_lock(&slot_lock);
    slots[s] = NULL;
    pthread_mutex_unlock(&slot_lock);
}

vk_loc tg__vk_locate(const tg_tensor *t) {
    size_t a = (size_t)(tg__ptr(t) - va_base);
    vk_loc l = {slots[a >> TG_VK_SLOT_BITS], a & (((size_t)1 << TG_VK_SLOT_BITS) - 1)};
    return l;
}

/* ---- blocks ---------------------------------------------------------------- */
static void block_destroy(vk_block *b) {
    tg_vkdev *d = b->dev;
    if (b->map) vkUnmapMemory(d->dev, b->mem);
    if (b->buf) vkDestroyBuffer(d->dev, b->buf, NULL);
    if (b->mem) {
        vkFreeMemory(d->dev, b->mem, NULL);
        if (!b->host) d->heap_used -= b->size;
    }
    if (b->slot >= 0) slot_give(b->slot);
    free(b->free);
    free(b);
}

static vk_block *block_new(tg_vkdev *d, size_t size, bool dedicated, size_t request, bool host) {
    char used[64], heap[64];
    snprintf(used, sizeof used, "%.1f MiB", (double)d->heap_used / 1048576.0);
    snprintf(heap, sizeof heap, "%.1f MiB", (double)d->heap_size / 1048576.0);
    if ((!host && d->heap_used + size > d->heap_size) || d->n_blocks == TG_VK_MAX_BLOCKS) {
        tg__error(TG_ERR_MEMORY, "out of device memory on %s: %zu bytes requested, %s of %s in use", d->label,
                  request, used, heap);
        return NULL;
    }
    vk_block *b = calloc(1, sizeof *b);
    if (!b) { tg__error(TG_ERR_MEMORY, "out of host memory for a device block"); return NULL; }
    b->dev = d;
    b->size = size;
    b->dedicated = dedicated;
    b->host = host;
    b->slot = slot_take(b);
    uint32_t type = host ? d->staging_type : d->mem_type;
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                       VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                              .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = b->slot < 0 ? VK_ERROR_TOO_MANY_OBJECTS : vkCreateBuffer(d->dev, &bci, NULL, &b->buf);
    VkMemoryRequirements req = {0};
    if (r == VK_SUCCESS) {
        vkGetBufferMemoryRequirements(d->dev, b->buf, &req);
        if (!(req.memoryTypeBits & (1u << type))) r = VK_ERROR_FEATURE_NOT_PRESENT;
    }
    if (r == VK_SUCCESS) {
        VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                    .memoryTypeIndex = type};
        r = vkAllocateMemory(d->dev, &mai, NULL, &b->mem);
        if (r == VK_SUCCESS && !host) d->heap_used += b->size;
    }
    if (r == VK_SUCCESS) r = vkBindBufferMemory(d->dev, b->buf, b->mem, 0);
    if (r == VK_SUCCESS && (host || d->host_visible)) {
        void *m = NULL;
        r = vkMapMemory(d->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &m);
        b->map = m;
    }
    b->free = malloc(4 * sizeof *b->free);
    if (r != VK_SUCCESS || !b->free) {
        block_destroy(b);
        tg__error(TG_ERR_MEMORY, "out of device memory on %s: a block of %zu bytes for a request of %zu bytes "
                  "failed (%s); %s of %s in use", d->label, size, request, tg__vk_result_name(r), used, heap);
        return NULL;
    }
    b->cap_free = 4;
    b->n_free = 1;
    b->free[0] = (vk_range){0, size};
    d->blocks[d->n_blocks++] = b;
    return b;
}

static bool range_take(vk_block *b, size_t size, size_t *off) {
    for (int i = 0; i < b->n_free; i++) {
        if (b->free[i].size < size) continue;
        *off = b->free[i].off;
        b->free[i].off += size;
        b->free[i].size -= size;
        if (b->free[i].size == 0) {
            memmove(&b->free[i], &b->free[i + 1], (size_t)(b->n_free - i - 1) * sizeof *b->free);
            b->n_free--;
        }
        b->used += size;
        return true;
    }
    return false;
}

static void range_give(vk_block *b, size_t off, size_t size) {
    int i = 0;
    while (i < b->n_free && b->free[i].off < off) i++;
    bool left = i > 0 && b->free[i - 1].off + b->free[i - 1].size == off;
    bool right = i < b->n_free && off + size == b->free[i].off;
    b->used -= size;
    if (left && right) {
        b->free[i - 1].size += size + b->free[i].size;
        memmove(&b->free[i], &b->free[i + 1], (size_t)(b->n_free - i - 1) * sizeof *b->free);
        b->n_free--;
    } else if (left) {
        b->free[i - 1].size += size;
    } else if (right) {
        b->free[i].off = off;
        b->free[i].size += size;
    } else {
        if (b->n_free == b->cap_free) {
            vk_range *n = realloc(b->free, (size_t)b->cap_free * 2 * sizeof *n);
            if (!n) return;            /* the range is lost, not corrupted */
            b->free = n;
            b->cap_free *= 2;
        }
        memmove(&b->free[i + 1], &b->free[i], (size_t)(b->n_free - i) * sizeof *b->free);
        b->free[i] = (vk_range){off, size};
        b->n_free++;
    }
}

static void block_remove(tg_vkdev *d, vk_block *b) {
    for (int i = 0; i < d->n_blocks; i++)
        if (d->blocks[i] == b) { d->blocks[i] = d->blocks[--d->n_blocks]; break; }
    block_destroy(b);
}

/* Unused dedicated blocks (of tensors larger than a block) are kept for
 * the next large tensor of about their size, up to a quarter of the heap,
 * so a loop over large tensors does not allocate device memory per call.
 * Frees them all, after the queued work that may still use them. */
static size_t idle_dedicated(const tg_vkdev *d) {
    size_t n = 0;
    for (int i = 0; i < d->n_blocks; i++)
        if (d->blocks[i]->dedicated && d->blocks[i]->used == 0) n += d->blocks[i]->size;
    return n;
}
static void release_idle_dedicated(tg_vkdev *d) {
    if (idle_dedicated(d) == 0) return;
    tg__vk_flush(d);
    for (int i = d->n_blocks - 1; i >= 0; i--)
        if (d->blocks[i]->dedicated && d->blocks[i]->used == 0) block_remove(d, d->blocks[i]);
}

static void staging_drop(tg_vkdev *d);
void tg__vk_memory_release_all(tg_vkdev *d) {
    staging_drop(d);
    while (d->n_blocks) block_remove(d, d->blocks[d->n_blocks - 1]);
}

/* ---- storage ---------------------------------------------------------------- */
typedef struct vk_storage {
    tg_storage s;                   /* first: the core frees this struct */
    tg_vkdev *dev;
    vk_block *block;
    size_t off, size;
} vk_storage;

static void vk_storage_free(void *data, void *ctx) {
    (void)data;
    vk_storage *v = ctx;
    tg_vkdev *d = v->dev;
    pthread_mutex_lock(&d->lock);
    /* after shutdown the blocks are gone already; during the owner's capture
     * the range waits for the capture to close (gpu/capture.c) */
    if (d->ready && !tg__vk_capture_defer(d, v->block, v->off, v->size)) tg__vk_range_give(d, v->block, v->off, v->size);
    pthread_mutex_unlock(&d->lock);
}

void tg__vk_range_give(tg_vkdev *d, vk_block *b, size_t off, size_t size) {
    range_give(b, off, size);
    if (b->dedicated && b->used == 0 && idle_dedicated(d) > d->heap_size / 4) {
        tg__vk_flush(d);            /* queued work may still use its buffer */
        block_remove(d, b);
    }
}

static tg_tensor *alloc_in(int dev, tg_dtype dtype, int ndim, const int64_t *shape, bool readable) {
    tg_vkdev *d = tg__vk_dev(dev, "tg_to_device");
    if (!d) return NULL;
    if (ndim > TG_VK_MAX_DIMS) {
        tg__error(TG_ERR_UNSUPPORTED, "%s holds tensors of at most %d axes, not %d", d->label, TG_VK_MAX_DIMS, ndim);
        return NULL;
    }
    pthread_once(&va_once, va_reserve);
    if (!va_base) { tg__error(TG_ERR_MEMORY, "%s: cannot reserve address space for device memory", d->label); return NULL; }
    size_t nbytes = (size_t)tg__numel(ndim, shape) * tg_dtype_size(dtype);
    if (nbytes > d->max_buffer) {
        tg__error(TG_ERR_MEMORY, "out of device memory on %s: a tensor of %zu bytes is larger than the largest "
                  "buffer the device allows (%zu bytes)", d->label, nbytes, d->max_buffer);
        return NULL;
    }
    size_t size = (nbytes + ALIGN - 1) / ALIGN * ALIGN;
    if (size == 0) size = ALIGN;
    vk_storage *v = calloc(1, sizeof *v);
    if (!v) { tg__error(TG_ERR_MEMORY, "out of host memory for a storage header"); return NULL; }
    bool host = readable && !d->host_visible;
    pthread_mutex_lock(&d->lock);
    /* a captured run (gpu/capture.c) reuses the buffers it has let go of */
    tg_storage *again = host ? NULL : tg__vk_capture_reuse(d, size);
    if (again) {
        pthread_mutex_unlock(&d->lock);
        free(v);
        again->nbytes = nbytes;
        return tg__tensor_new(dtype, ndim, shape, again);
    }
    vk_block *b = NULL;
    size_t off = 0;
    if (size <= d->block_size) {
        for (int i = 0; i < d->n_blocks && !b; i++)
            if (!d->blocks[i]->dedicated && d->blocks[i]->host == host && range_take(d->blocks[i], size, &off))
                b = d->blocks[i];
        if (!b && (b = block_new(d, d->block_size, false, nbytes, host)) != NULL) range_take(b, size, &off);
    } else {
        /* an idle dedicated block of this size to twice it, else a new one
         * (idle blocks are given back first when the heap would overflow) */
        for (int i = 0; i < d->n_blocks && !b; i++) {
            vk_block *k = d->blocks[i];
            if (k->dedicated && k->host == host && k->used == 0 && k->size >= size && k->size / 2 <= size &&
                range_take(k, size, &off))
                b = k;
        }
        if (!b && !host && d->heap_used + size > d->heap_size) release_idle_dedicated(d);
        if (!b && (b = block_new(d, size, true, nbytes, host)) != NULL) range_take(b, size, &off);
    }
    tg_storage *s = &v->s;
    if (b) {
        v->dev = d;
        v->block = b;
        v->off = off;
        v->size = size;
        s->refcount = 1;
        s->device = (tg_device){TG_VULKAN, dev};
        s->data = va_base + ((size_t)b->slot << TG_VK_SLOT_BITS) + off;
        s->nbytes = nbytes;
        s->capacity = size;
        s->deleter = vk_storage_free;
        s->deleter_ctx = v;
        s->external = true;         /* the core frees the header with free() */
        tg__vk_capture_hold(d, s);
    }
    pthread_mutex_unlock(&d->lock);
    if (!b) { free(v); return NULL; }
    return tg__tensor_new(dtype, ndim, shape, s);
}

tg_tensor *tg__vk_alloc(int dev, tg_dtype dtype, int ndim, const int64_t *shape) {
    return alloc_in(dev, dtype, ndim, shape, false);
}

tg_tensor *tg__vk_alloc_readable(int dev, tg_dtype dtype, int ndim, const int64_t *shape) {
    return alloc_in(dev, dtype, ndim, shape, true);
}

/* ---- transfers ---------------------------------------------------------------- */
typedef vk_staging staging;

static tg_status staging_alloc(tg_vkdev *d, size_t n, staging *st) {
    memset(st, 0, sizeof *st);
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = n ? n : 4,
                              .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                              .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = vkCreateBuffer(d->dev, &bci, NULL, &st->buf);
    VkMemoryRequirements req;
    if (r == VK_SUCCESS) {
        vkGetBufferMemoryRequirements(d->dev, st->buf, &req);
        VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                    .memoryTypeIndex = d->staging_type};
        r = vkAllocateMemory(d->dev, &mai, NULL, &st->mem);
    }
    if (r == VK_SUCCESS) r = vkBindBufferMemory(d->dev, st->buf, st->mem, 0);
    if (r == VK_SUCCESS) r = vkMapMemory(d->dev, st->mem, 0, VK_WHOLE_SIZE, 0, &st->map);
    if (r != VK_SUCCESS) {
        if (st->buf) vkDestroyBuffer(d->dev, st->buf, NULL);
        if (st->mem) vkFreeMemory(d->dev, st->mem, NULL);
        memset(st, 0, sizeof *st);
        return tg__error(TG_ERR_MEMORY, "%s: no staging buffer of %zu bytes (%s)", d->label, n, tg__vk_result_name(r));
    }
    return TG_OK;
}
static void staging_release(tg_vkdev *d, staging *st) {
    if (!st->buf) return;
    vkUnmapMemory(d->dev, st->mem);
    vkDestroyBuffer(d->dev, st->buf, NULL);
    vkFreeMemory(d->dev, st->mem, NULL);
    memset(st, 0, sizeof *st);
}

/* Transfers up to STAGE_KEEP bytes go through one staging buffer kept per
 * device (grown to the next power of two), so a training loop's batches and
 * its scalar reads allocate no device memory; larger ones get their own. */
#define STAGE_KEEP ((size_t)64 << 20)
static tg_status staging_new(tg_vkdev *d, size_t n, staging *st) {
    if (n > STAGE_KEEP) return staging_alloc(d, n, st);
    staging *keep = &d->stage;
    if (d->stage_size < n || !keep->buf) {
        size_t want = (size_t)1 << 20;
        while (want < n) want <<= 1;
        staging_release(d, keep);
        d->stage_size = 0;
        tg_status s = staging_alloc(d, want, keep);
        if (s) return s;
        d->stage_size = want;
    }
    *st = *keep;
    return TG_OK;
}
static void staging_free(tg_vkdev *d, staging *st) {
    if (st->buf != d->stage.buf) staging_release(d, st);
}

static void staging_drop(tg_vkdev *d) {
    staging_release(d, &d->stage);
    d->stage_size = 0;
}

/* Bytes [0, n) of contiguous Vulkan tensor t from/to host memory. */
static tg_status upload(tg_tensor *t, const void *src, size_t n) {
    vk_storage *v = t->storage->deleter_ctx;
    tg_vkdev *d = v->dev;
    vk_loc l = tg__vk_locate(t);
    pthread_mutex_lock(&d->lock);
    d->stats.uploads++;
    if (n > 0 && n <= 65536 && n % 4 == 0 && l.byte_off % 4 == 0) {
        /* Small uploads (scalars, parameters of ops) are recorded into the
         * command stream, ordered after the queued work that may still use
         * these bytes: no submission, so a compiled program's run stays one
         * batch. vkCmdUpdateBuffer copies src at record time. */
        tg_status st = tg__vk_begin(d);
        if (!st) {
            vkCmdUpdateBuffer(d->cmd, l.block->buf, l.byte_off, n, src);
            tg__vk_barrier(d);
            d->stats.updates++;
        }
        pthread_mutex_unlock(&d->lock);
        return st;
    }
    tg_status st = tg__vk_flush(d);     /* queued work may still use these bytes */
    if (!st && l.block->map) {
        memcpy(l.block->map + l.byte_off, src, n);
    } else if (!st) {
        staging sb;
        st = staging_new(d, n, &sb);
        if (!st) {
            memcpy(sb.map, src, n);
            st = tg__vk_begin(d);
            if (!st) {
                VkBufferCopy cp = {0, l.byte_off, n};
                vkCmdCopyBuffer(d->cmd, sb.buf, l.block->buf, 1, &cp);
                tg__vk_barrier(d);
                st = tg__vk_flush(d);
            }
            staging_free(d, &sb);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return st;
}

static tg_status download(const tg_tensor *t, void *dst, size_t n) {
    vk_storage *v = t->storage->deleter_ctx;
    tg_vkdev *d = v->dev;
    vk_loc l = tg__vk_locate(t);
    pthread_mutex_lock(&d->lock);
    /* The producer may still be queued. Mapped memory waits for it; a staged
     * read records its copy after it in the same batch (one submission),
     * except inside this thread's capture, which the wait closes first. */
    bool mapped = l.block->map != NULL;
    tg_status st = mapped || (d->captures && tg__vk_capture_mine(d)) ? tg__vk_flush(d) : TG_OK;
    if (!st && mapped) {
        memcpy(dst, l.block->map + l.byte_off, n);
    } else if (!st) {
        staging sb;
        st = staging_new(d, n, &sb);
        if (!st) {
            st = tg__vk_begin(d);
            if (!st) {
                VkBufferCopy cp = {l.byte_off, 0, n};
                tg__vk_barrier(d);          /* after the batch's writes */
                vkCmdCopyBuffer(d->cmd, l.block->buf, sb.buf, 1, &cp);
                st = tg__vk_flush(d);
            }
            if (!st) memcpy(dst, sb.map, n);
            staging_free(d, &sb);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return st;
}

tg_tensor *tg__vk_transfer(tg_tensor *x, tg_device dev) {
    size_t n = (size_t)tg__numel(x->ndim, x->shape) * tg_dtype_size(x->dtype);
    tg_device from = x->storage->device;
    if (from.kind == TG_VULKAN && dev.kind == TG_VULKAN) {     /* through the host */
        tg_tensor *h = tg__vk_transfer(x, (tg_device){TG_CPU, 0});
        tg_tensor *y = h ? tg__vk_transfer(h, dev) : NULL;
        tg_release(h);
        return y;
    }
    if (dev.kind == TG_VULKAN) {                                 /* CPU -> Vulkan */
        tg_tensor *y = tg__vk_alloc(dev.index, x->dtype, x->ndim, x->shape);
        if (!y) return NULL;
        tg_tensor *c = x;
        if (!tg__is_contiguous(x)) {
            c = tg__alloc(x->dtype, x->ndim, x->shape);
            if (!c) { tg_release(y); return NULL; }
            tg__copy_into(c, x);
        } else {
            tg_retain(c);
        }
        tg_status st = n ? upload(y, tg__ptr(c), n) : TG_OK;
        tg_release(c);
        if (st) { tg_release(y); return NULL; }
        return y;
    }
    /* Vulkan -> CPU */
    tg_tensor *c = tg__is_contiguous(x) ? tg_retain(x) : tg__vk_contiguous(x);
    if (!c) return NULL;
    tg_tensor *y = tg__alloc(x->dtype, x->ndim, x->shape);
    tg_status st = !y ? TG_ERR_MEMORY : n ? download(c, tg__ptr(y), n) : TG_OK;
    tg_release(c);
    if (st) { tg_release(y); return NULL; }
    return y;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_memory;
#endif
