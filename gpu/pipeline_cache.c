/* The persistent pipeline cache (docs/gpu.md "Kernel cache").
 *
 * A driver turns SPIR-V into machine code when a pipeline is created; on a
 * discrete GPU that costs milliseconds per pipeline, hundreds for a
 * program's worth. The driver's VkPipelineCache data is kept on disk, one
 * file per device model and driver build:
 *
 *   $TANGENT_CACHE_DIR (default $XDG_CACHE_HOME/tangent, else ~/.cache/tangent)
 *     vk-pipelines-<vendor>-<device>-<pipelineCacheUUID>.bin
 *
 * File: a 32-byte header of ours ("TGPC", format version, payload bytes,
 * CRC-32 of the payload, the driver version) then the driver's cache data.
 * A file that is truncated, corrupted, of another format version, or whose
 * Vulkan header names another device is ignored (and replaced by the next
 * save): it is never handed to the driver, which need not validate it.
 * Saves write a temporary file and rename it, so processes sharing the
 * directory never read half a file. TANGENT_CACHE_DIR="" turns it off. */
#ifdef TG_HAVE_VULKAN
#include "gpu/gpu_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define PC_MAGIC "TGPC"
#define PC_VERSION 1u
#define PC_HEADER 32

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* mkdir -p for the cache directory; false when it cannot be made. */
static bool make_dirs(char *path) {
    for (char *s = path + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        bool ok = mkdir(path, 0755) == 0 || errno == EEXIST;
        *s = '/';
        if (!ok) return false;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

bool tg__vk_cache_dir(char *dir, size_t n) {
    const char *e = getenv("TANGENT_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    int w;
    if (e) {
        if (!*e) return false;
        w = snprintf(dir, n, "%s", e);
    } else if (x && *x) {
        w = snprintf(dir, n, "%s/tangent", x);
    } else if (h && *h) {
        w = snprintf(dir, n, "%s/.cache/tangent", h);
    } else {
        return false;
    }
    if (w <= 0 || (size_t)w >= n) return false;
    if (!make_dirs(dir)) {
        tg__vk_debug("kernel cache: cannot create %s (%s); not caching", dir, strerror(errno));
        return false;
    }
    return true;
}

bool tg__vk_write_atomic(const char *path, const void *head, size_t nhead, const void *body, size_t nbody) {
    char tmp[1200];
    static unsigned serial;
    int w = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(),
                     __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED));
    if (w <= 0 || (size_t)w >= sizeof tmp) return false;
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(head, 1, nhead, f) == nhead && (nbody == 0 || fwrite(body, 1, nbody, f) == nbody);
    if (f && fclose(f) != 0) ok = false;
    if (ok && rename(tmp, path) == 0) return true;
    remove(tmp);
    return false;
}

/* The cache file's path for d into buf; false when caching is off. */
static bool cache_path(const tg_vkdev *d, char *buf, size_t n) {
    char dir[900];
    if (!tg__vk_cache_dir(dir, sizeof dir)) return false;
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) snprintf(uuid + 2 * i, 3, "%02x", d->props.pipelineCacheUUID[i]);
    int w = snprintf(buf, n, "%s/vk-pipelines-%04x-%04x-%s.bin", dir, d->props.vendorID, d->props.deviceID, uuid);
    return w > 0 && (size_t)w < n;
}

/* The file's payload when every check passes (malloc'd, *size set), else
 * NULL with why in d->pc.rejected. */
static void *read_valid(tg_vkdev *d, const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;                       /* no cache yet: not a rejection */
    unsigned char hd[PC_HEADER];
    void *data = NULL;
    const char *why = NULL;
    if (fread(hd, 1, PC_HEADER, f) != PC_HEADER) why = "shorter than its header";
    else if (memcmp(hd, PC_MAGIC, 4)) why = "not a Tangent pipeline cache";
    else if (get32(hd + 4) != PC_VERSION) why = "another format version";
    else if (get32(hd + 16) != d->props.driverVersion) why = "written by another driver version";
    else {
        uint64_t n = (uint64_t)get32(hd + 8) | (uint64_t)get32(hd + 12) << 32;
        if (n < 16 + VK_UUID_SIZE || n > (1u << 30)) why = "a payload size out of range";
        else if (!(data = malloc((size_t)n))) why = "too large to read";
        else if (fread(data, 1, (size_t)n, f) != (size_t)n) why = "truncated";
        else if (fgetc(f) != EOF) why = "longer than its header says";
        else if ((uint32_t)crc32(0L, data, (uInt)n) != get32(hd + 20)) why = "corrupted (checksum mismatch)";
        else {
            /* the driver's own header: its length, version 1, this device */
            const unsigned char *v = data;
            if (get32(v) < 16 + VK_UUID_SIZE || get32(v + 4) != VK_PIPELINE_CACHE_HEADER_VERSION_ONE ||
                get32(v + 8) != d->props.vendorID || get32(v + 12) != d->props.deviceID ||
                memcmp(v + 16, d->props.pipelineCacheUUID, VK_UUID_SIZE))
                why = "for another device or driver";
            else *size = (size_t)n;
        }
    }
    fclose(f);
    if (why) {
        free(data);
        snprintf(d->pc.rejected, sizeof d->pc.rejected, "%s", why);
        d->pc.loaded = -1;
        tg__vk_debug("pipeline cache %s ignored: %s", path, why);
        return NULL;
    }
    return data;
}

void tg__vk_pcache_open(tg_vkdev *d) {
    memset(&d->pc, 0, sizeof d->pc);
    d->pcache = VK_NULL_HANDLE;
    d->pc_on = cache_path(d, d->pc_path, sizeof d->pc_path);
    size_t n = 0;
    void *data = d->pc_on ? read_valid(d, d->pc_path, &n) : NULL;
    VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, .initialDataSize = n,
                                    .pInitialData = data};
    if (vkCreatePipelineCache(d->dev, &ci, NULL, &d->pcache) != VK_SUCCESS) {
        d->pcache = VK_NULL_HANDLE;
        if (data) {             /* the driver refused the data: start empty */
            ci.initialDataSize = 0;
            ci.pInitialData = NULL;
            if (vkCreatePipelineCache(d->dev, &ci, NULL, &d->pcache) != VK_SUCCESS) d->pcache = VK_NULL_HANDLE;
            d->pc.loaded = -1;
            snprintf(d->pc.rejected, sizeof d->pc.rejected, "refused by the driver");
        }
    } else if (data) {
        d->pc.loaded = 1;
        d->pc.bytes_loaded = n;
        tg__vk_debug("pipeline cache %s: %zu bytes loaded", d->pc_path, n);
    }
    free(data);
}

void tg__vk_pcache_save(tg_vkdev *d) {
    if (!d->pc_on || !d->pcache) return;
    size_t n = 0;
    if (vkGetPipelineCacheData(d->dev, d->pcache, &n, NULL) != VK_SUCCESS || n == 0 || n > (1u << 30)) return;
    unsigned char *buf = malloc(PC_HEADER + n);
    if (!buf) return;
    if (vkGetPipelineCacheData(d->dev, d->pcache, &n, buf + PC_HEADER) != VK_SUCCESS) { free(buf); return; }
    memset(buf, 0, PC_HEADER);
    memcpy(buf, PC_MAGIC, 4);
    put32(buf + 4, PC_VERSION);
    put32(buf + 8, (uint32_t)n);
    put32(buf + 12, (uint32_t)((uint64_t)n >> 32));
    put32(buf + 16, d->props.driverVersion);
    put32(buf + 20, (uint32_t)crc32(0L, buf + PC_HEADER, (uInt)n));
    if (tg__vk_write_atomic(d->pc_path, buf, PC_HEADER + n, NULL, 0)) {
        d->pc.saves++;
        tg__vk_debug("pipeline cache: %zu bytes written", n);
    }
    else tg__vk_debug("pipeline cache: cannot write %s", d->pc_path);
    free(buf);
}

int tg__vk_pipeline_cache_stats(int dev, tg_vk_pcache_stats *out) {
    tg_vkdev *d = tg__vk_dev(dev, "tg__vk_pipeline_cache_stats");
    if (!d) return -1;
    pthread_mutex_lock(&d->lock);
    *out = d->pc;
    pthread_mutex_unlock(&d->lock);
    return 0;
}
#else
#include "gpu/gpu.h"
int tg__vk_pipeline_cache_stats(int dev, tg_vk_pcache_stats *out) {
    (void)dev;
    (void)out;
    return -1;
}
#endif
