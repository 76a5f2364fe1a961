/* Kernel timings on the device: with TANGENT_VK_PROFILE set, every dispatch
 * is bracketed by two timestamps in a query pool of its frame; when the
 * frame's timeline value is reached the intervals are added up per pipeline, and
 * at exit a table (kernel, calls, total, mean, share) goes to stderr. Each
 * dispatch is followed by a full barrier, so an interval is that kernel's
 * time alone. Meant for finding where a program's GPU time goes; it costs
 * two timestamp writes per dispatch. */
#ifdef TG_HAVE_VULKAN
#include "gpu/gpu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { QUERIES = 2 * TG_VK_BATCH_DISPATCHES, SHAPES = 4096 };

/* A kernel on one grid: kernels of the same name on different sizes are
 * told apart in the table. */
typedef struct shape_row {
    int pipe;
    uint32_t grid[3];
    double ns;
    uint64_t calls;
} shape_row;

typedef struct vk_profile {
    VkQueryPool pool[TG_VK_FRAMES];
    int n_queries[TG_VK_FRAMES];        /* written in the frame's batch */
    int16_t pipe[TG_VK_FRAMES][TG_VK_BATCH_DISPATCHES];
    uint32_t grid[TG_VK_FRAMES][TG_VK_BATCH_DISPATCHES][3];
    double period_ns;                   /* per timestamp tick */
    uint64_t mask;                      /* valid timestamp bits */
    double ns[VK_PIPE_MAX];
    uint64_t calls[VK_PIPE_MAX];
    shape_row shapes[SHAPES];           /* the first SHAPES (kernel, grid) pairs seen */
    int n_shapes;
} vk_profile;

static tg_vkdev *profiled[16];
static int n_profiled;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct row { const char *name; double ns; uint64_t calls; } row;
static int by_time(const void *a, const void *b) {
    double x = ((const row *)a)->ns, y = ((const row *)b)->ns;
    return x < y ? 1 : x > y ? -1 : 0;
}
static int shape_by_time(const void *a, const void *b) {
    double x = ((const shape_row *)a)->ns, y = ((const shape_row *)b)->ns;
    return x < y ? 1 : x > y ? -1 : 0;
}
enum { SHAPE_LINES = 30 };

/* The table of each profiled device. Reads counters only: no driver call
 * (see gpu/device.c on exit handlers). */
static void report(void) {
    pthread_mutex_lock(&report_lock);
    for (int k = 0; k < n_profiled; k++) {
        tg_vkdev *d = profiled[k];
        vk_profile *pr = d->prof;
        row rows[VK_PIPE_MAX];
        int n = 0;
        double total = 0;
        for (int i = 0; i < d->n_pipes; i++)
            if (pr->calls[i]) {
                rows[n++] = (row){d->pipe_names[i], pr->ns[i], pr->calls[i]};
                total += pr->ns[i];
            }
        qsort(rows, (size_t)n, sizeof *rows, by_time);
        fprintf(stderr, "tangent vulkan profile, %s: %.3f ms in kernels\n", d->label, total * 1e-6);
        fprintf(stderr, "  %-48s %10s %12s %10s %7s\n", "kernel", "calls", "total ms", "mean us", "share");
        for (int i = 0; i < n; i++)
            fprintf(stderr, "  %-48s %10llu %12.3f %10.2f %6.1f%%\n", rows[i].name, (unsigned long long)rows[i].calls,
                    rows[i].ns * 1e-6, rows[i].ns * 1e-3 / (double)rows[i].calls, 100.0 * rows[i].ns / (total > 0 ? total : 1));
        qsort(pr->shapes, (size_t)pr->n_shapes, sizeof *pr->shapes, shape_by_time);
        fprintf(stderr, "  by grid (workgroups x, y, z), the %d largest:\n", SHAPE_LINES);
        for (int i = 0; i < pr->n_shapes && i < SHAPE_LINES; i++) {
            const shape_row *h = &pr->shapes[i];
            char name[96];
            snprintf(name, sizeof name, "%s [%u,%u,%u]", d->pipe_names[h->pipe], h->grid[0], h->grid[1], h->grid[2]);
            fprintf(stderr, "  %-48s %10llu %12.3f %10.2f %6.1f%%\n", name, (unsigned long long)h->calls, h->ns * 1e-6,
                    h->ns * 1e-3 / (double)h->calls, 100.0 * h->ns / (total > 0 ? total : 1));
        }
    }
    pthread_mutex_unlock(&report_lock);
}

void tg__vk_profile_open(tg_vkdev *d) {
    const char *e = getenv("TANGENT_VK_PROFILE");
    if (!e || !*e || !strcmp(e, "0")) return;
    uint32_t nfam = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &nfam, NULL);
    VkQueueFamilyProperties *fam = calloc(nfam ? nfam : 1, sizeof *fam);
    if (!fam) return;
    vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &nfam, fam);
    uint32_t bits = d->qfam < nfam ? fam[d->qfam].timestampValidBits : 0;
    free(fam);
    if (bits == 0 || d->props.limits.timestampPeriod <= 0) {
        tg__vk_debug("%s: no timestamps on the compute queue; TANGENT_VK_PROFILE ignored", d->label);
        return;
    }
    vk_profile *pr = calloc(1, sizeof *pr);
    if (!pr) return;
    pr->period_ns = d->props.limits.timestampPeriod;
    pr->mask = bits >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << bits) - 1;
    VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                .queryCount = QUERIES};
    for (int f = 0; f < TG_VK_FRAMES; f++)
        if (vkCreateQueryPool(d->dev, &qi, NULL, &pr->pool[f]) != VK_SUCCESS) {
            for (int g = 0; g < f; g++) vkDestroyQueryPool(d->dev, pr->pool[g], NULL);
            free(pr);
            return;
        }
    d->prof = pr;
    pthread_mutex_lock(&report_lock);
    if (n_profiled < (int)(sizeof profiled / sizeof profiled[0])) profiled[n_profiled++] = d;
    if (n_profiled == 1) atexit(report);
    pthread_mutex_unlock(&report_lock);
}

void tg__vk_profile_close(tg_vkdev *d) {
    if (!d->prof) return;
    for (int f = 0; f < TG_VK_FRAMES; f++) vkDestroyQueryPool(d->dev, d->prof->pool[f], NULL);
    pthread_mutex_lock(&report_lock);
    for (int k = 0; k < n_profiled; k++)
        if (profiled[k] == d) profiled[k] = profiled[--n_profiled];
    pthread_mutex_unlock(&report_lock);
    free(d->prof);
    d->prof = NULL;
}

void tg__vk_profile_begin(tg_vkdev *d) {
    vkCmdResetQueryPool(d->cmd, d->prof->pool[d->cur], 0, QUERIES);
    d->prof->n_queries[d->cur] = 0;
}

void tg__vk_profile_before(tg_vkdev *d) {
    vk_profile *pr = d->prof;
    int q = pr->n_queries[d->cur];
    vkCmdWriteTimestamp(d->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, pr->pool[d->cur], (uint32_t)q);
}

void tg__vk_profile_after(tg_vkdev *d, int pipe, uint32_t gx, uint32_t gy, uint32_t gz) {
    vk_profile *pr = d->prof;
    int q = pr->n_queries[d->cur];
    vkCmdWriteTimestamp(d->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pr->pool[d->cur], (uint32_t)q + 1);
    pr->pipe[d->cur][q / 2] = (int16_t)pipe;
    pr->grid[d->cur][q / 2][0] = gx;
    pr->grid[d->cur][q / 2][1] = gy;
    pr->grid[d->cur][q / 2][2] = gz;
    pr->n_queries[d->cur] = q + 2;
}

void tg__vk_profile_collect(tg_vkdev *d, int frame) {
    vk_profile *pr = d->prof;
    int n = pr->n_queries[frame];
    pr->n_queries[frame] = 0;
    if (n == 0) return;
    uint64_t ts[QUERIES];
    if (vkGetQueryPoolResults(d->dev, pr->pool[frame], 0, (uint32_t)n, sizeof ts, ts, sizeof ts[0],
                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) != VK_SUCCESS)
        return;
    pthread_mutex_lock(&report_lock);
    for (int i = 0; i < n; i += 2) {
        double dt = (double)((ts[i + 1] - ts[i]) & pr->mask) * pr->period_ns;
        int pipe = pr->pipe[frame][i / 2];
        const uint32_t *grid = pr->grid[frame][i / 2];
        pr->ns[pipe] += dt;
        pr->calls[pipe]++;
        int k = 0;
        while (k < pr->n_shapes && (pr->shapes[k].pipe != pipe || memcmp(pr->shapes[k].grid, grid, sizeof pr->shapes[k].grid)))
            k++;
        if (k == pr->n_shapes && k < SHAPES) pr->shapes[pr->n_shapes++] = (shape_row){.pipe = pipe, .grid = {grid[0], grid[1], grid[2]}};
        if (k < pr->n_shapes) {
            pr->shapes[k].ns += dt;
            pr->shapes[k].calls++;
        }
    }
    pthread_mutex_unlock(&report_lock);
}

int tg__vk_profile_stats(int dev, const char *kernel, uint64_t *calls, double *ns) {
    tg_vkdev *d = tg__vk_dev(dev, "tg__vk_profile_stats");
    if (!d) return -1;
    pthread_mutex_lock(&d->lock);
    int rc = d->prof ? 0 : -1;
    *calls = 0;
    *ns = 0;
    pthread_mutex_lock(&report_lock);
    for (int i = 0; d->prof && i < d->n_pipes; i++)
        if (!strcmp(d->pipe_names[i], kernel)) {
            *calls = d->prof->calls[i];
            *ns = d->prof->ns[i];
        }
    pthread_mutex_unlock(&report_lock);
    pthread_mutex_unlock(&d->lock);
    return rc;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_profile;
#endif
