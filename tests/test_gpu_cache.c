/* The persistent pipeline cache (gpu/pipeline_cache.c, docs/gpu.md "Kernel
 * cache"). Each scenario runs in a child process, as a new program would:
 * the device (and so the cache) is set up once per process. The parent
 * never touches Vulkan; it prepares the cache directory between children. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <zlib.h>

#include "gpu/gpu.h"
#include "support/tmpdir.h"
#include "support/gpu.h"


/* What a child saw. */
typedef struct {
    int loaded;
    unsigned long long bytes, pipelines, hits, saves;
    int feedback;
    char rejected[96];
} seen;

/* Runs a few kernels on vulkan:0 (checking their values) and reports the
 * cache statistics through a pipe; exit 0, GPU_CHILD_SKIP without a
 * device, 1 on a wrong value or error. */
static int child_body(int fd) {
    if (tg_device_count(TG_VULKAN) == 0) return GPU_CHILD_SKIP;
    tg_device vk = {TG_VULKAN, 0};
    float v[6] = {1, 2, 3, 4, 5, 6};
    tg_tensor *h = tg_from_data(TG_F32, 2, (int64_t[]){2, 3}, v);
    tg_tensor *g = tg_to_device(h, vk);
    tg_tensor *n = tg_neg(g);
    tg_tensor *s = tg_add(n, g);
    tg_tensor *m = tg_matmul(g, tg_permute(g, (int[]){1, 0}));
    tg_tensor *t = tg_sum(m, 0, NULL, false);
    if (!t || tg_item_f64(t) != 1 * 14 + 2 * 32 + 77) return 1;         /* [[14,32],[32,77]] */
    if (!s || tg_item_f64(tg_sum(s, 0, NULL, false)) != 0) return 1;
    tg_vk_pcache_stats st;
    if (tg__vk_pipeline_cache_stats(0, &st)) return 1;
    seen o = {st.loaded, st.bytes_loaded, st.pipelines, st.cache_hits, st.saves, st.feedback, {0}};
    snprintf(o.rejected, sizeof o.rejected, "%s", st.rejected);
    return write(fd, &o, sizeof o) == (ssize_t)sizeof o ? 0 : 1;
}

/* Runs child_body in a fresh process with TANGENT_CACHE_DIR=dir (NULL:
 * unset) and collects what it saw. */
static seen run_child(const char *dir) {
    seen o;
    gpu_run_child(dir, child_body, &o, sizeof o);
    return o;
}

/* The one cache file in dir (path into buf); false when there is none. */
static bool cache_file(const char *dir, char *buf, size_t n) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls %s/vk-pipelines-*.bin 2>/dev/null", dir);
    FILE *f = popen(cmd, "r");
    if (!f) return false;
    bool ok = fgets(buf, (int)n, f) != NULL;
    pclose(f);
    if (ok) buf[strcspn(buf, "\n")] = 0;
    return ok;
}

static long file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static char *read_all(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    *n = file_size(path);
    char *b = malloc((size_t)*n);
    cr_assert(fread(b, 1, (size_t)*n, f) == (size_t)*n);
    fclose(f);
    return b;
}
static void write_all(const char *path, const void *b, long n) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert(fwrite(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
}

static const char *fresh_dir(const char *name) {
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s", tmp_path(name));
    mkdir(dir, 0755);
    return dir;
}

TestSuite(gpu_cache, .fini = (void (*)(void))tmp_cleanup);

Test(gpu_cache, second_process_loads_what_the_first_saved) {
    const char *dir = fresh_dir("warm");
    seen a = run_child(dir);
    cr_expect_eq(a.loaded, 0, "a fresh directory has no cache to load");
    cr_expect_geq(a.pipelines, 3, "neg, add, matmul, sum make pipelines");
    cr_expect_geq(a.saves, 1);
    char path[1100];
    cr_assert(cache_file(dir, path, sizeof path), "no cache file was written");
    long size = file_size(path);
    cr_expect_geq(size, 32 + 32, "our header + at least the driver's own header");
    seen b = run_child(dir);
    cr_expect_eq(b.loaded, 1, "the second process did not load the cache (%s)", b.rejected);
    cr_expect_eq((long)b.bytes, size - 32, "payload bytes loaded");
    cr_expect_eq(b.pipelines, a.pipelines);
    /* drivers that report creation feedback: every pipeline came from the cache */
    if (b.feedback && b.hits > 0) cr_expect_eq(b.hits, b.pipelines, "pipelines not found in the loaded cache");
    cr_log_info("pipeline cache: %ld bytes; feedback %d, hits %llu of %llu", size, b.feedback, b.hits, b.pipelines);
}

/* A damaged file is ignored, the kernels still run, and the next save
 * replaces it with a valid one. */
static void damaged(const char *name, void (*damage)(char *b, long *n)) {
    const char *dir = fresh_dir(name);
    run_child(dir);
    char path[1100];
    cr_assert(cache_file(dir, path, sizeof path));
    long n;
    char *b = read_all(path, &n);
    damage(b, &n);
    write_all(path, b, n);
    free(b);
    seen c = run_child(dir);
    cr_expect_eq(c.loaded, -1, "%s: a damaged cache was not rejected", name);
    cr_expect_neq(c.rejected[0], 0, "%s: no reason given", name);
    cr_log_info("%s: rejected: %s", name, c.rejected);
    seen d = run_child(dir);
    cr_expect_eq(d.loaded, 1, "%s: the damaged file was not replaced by a valid one (%s)", name, d.rejected);
}
static void truncate_half(char *b, long *n) { (void)b; *n = *n / 2; }
static void flip_payload(char *b, long *n) { b[*n - 1] ^= 0x5a; }
static void future_version(char *b, long *n) { (void)n; b[4] = 99; }
static void foreign_magic(char *b, long *n) { (void)n; memcpy(b, "NOPE", 4); }
static void header_only(char *b, long *n) { (void)b; *n = 20; }
static void empty(char *b, long *n) { (void)b; *n = 0; }
static void other_device(char *b, long *n) {
    /* the driver's header (after ours) names another vendor, with our
     * checksum recomputed so that only the device check can catch it */
    b[32 + 8] ^= 0x11;
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)b + 32, (uInt)(*n - 32));
    for (int i = 0; i < 4; i++) b[20 + i] = (char)(crc >> (8 * i));
}
Test(gpu_cache, truncated_file_is_ignored) { damaged("truncated", truncate_half); }
Test(gpu_cache, corrupted_payload_is_ignored) { damaged("corrupted", flip_payload); }
Test(gpu_cache, future_version_is_ignored) { damaged("future", future_version); }
Test(gpu_cache, foreign_file_is_ignored) { damaged("foreign", foreign_magic); }
Test(gpu_cache, header_only_file_is_ignored) { damaged("short", header_only); }
Test(gpu_cache, empty_file_is_ignored) { damaged("empty", empty); }
Test(gpu_cache, other_device_is_ignored) { damaged("device", other_device); }

Test(gpu_cache, empty_cache_dir_turns_caching_off) {
    const char *dir = fresh_dir("off");
    (void)dir;
    seen a = run_child("");
    cr_expect_eq(a.loaded, 0);
    cr_expect_eq(a.saves, 0, "TANGENT_CACHE_DIR= (empty) still wrote a cache");
}

/* Processes writing the same directory at once never leave half a file. */
Test(gpu_cache, concurrent_writers_leave_a_valid_file) {
    const char *dir = fresh_dir("race");
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = fork();
        cr_assert(pids[i] >= 0);
        if (pids[i] == 0) {
            setenv("TANGENT_CACHE_DIR", dir, 1);
            int fd = open("/dev/null", O_WRONLY);
            _exit(child_body(fd));
        }
    }
    for (int i = 0; i < 3; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        cr_assert(WIFEXITED(status));
        if (WEXITSTATUS(status) == GPU_CHILD_SKIP) cr_skip_test("no Vulkan device");
        cr_assert_eq(WEXITSTATUS(status), 0);
    }
    seen d = run_child(dir);
    cr_expect_eq(d.loaded, 1, "after concurrent writers the cache does not load (%s)", d.rejected);
}
