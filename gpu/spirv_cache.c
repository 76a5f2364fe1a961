/* Kernels generated at run time (gpu/fused.c) are GLSL text; this file
 * turns the text into SPIR-V and keeps the result (docs/gpu.md, "Kernel
 * cache"):
 *
 *   in memory   key -> SPIR-V, for the life of the process;
 *   on disk     $TANGENT_CACHE_DIR/spirv-<key>.spv, so a second process
 *               that compiles the same program compiles no shader;
 *   compiler    glslang, through the plugin libtangent_glslang.so
 *               (gpu/plugin/glslang_plugin.c) loaded with dlopen on first
 *               need, so libtangent has no link-time dependency on it or
 *               on C++; without it no kernel is generated and fused
 *               groups run op by op.
 *
 * The key is a 128-bit hash of the source text and the compile settings
 * (two independent 64-bit FNV-1a lanes): equal text, equal key; the file
 * also stores the key and a CRC-32, so a truncated, corrupted, renamed or
 * foreign file is ignored (and replaced by the next write), never loaded.
 * Files are written to a temporary name and renamed. */
#ifdef TG_HAVE_VULKAN
#include "gpu/gpu_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>


#define SPV_MAGIC "TGSV"
#define SPV_VERSION 1u
#define SPV_HEADER 32            /* magic, version, words, crc, key (16) */
/* part of the key: a change of settings or generator makes new keys */
#define SPV_SETTINGS "glslang-12|vulkan1.1|spv1.3|tangent-fused-1"
#define PLUGIN "libtangent_glslang.so"

typedef struct spv_entry {
    char key[33];
    uint32_t *code;
    size_t size;                  /* bytes */
    struct spv_entry *next;
} spv_entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static spv_entry *entries;
static tg_vk_shader_stats stats;

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}
static void make_key(const char *src, char key[33]) {
    uint64_t a = fnv1a(fnv1a(0xcbf29ce484222325ull, SPV_SETTINGS), src);
    uint64_t b = fnv1a(fnv1a(0x84222325cbf29ce4ull ^ 0x9e3779b97f4a7c15ull, src), SPV_SETTINGS);
    snprintf(key, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

static bool spv_path(const char *key, char *buf, size_t n) {
    char dir[900];
    if (!tg__vk_cache_dir(dir, sizeof dir)) return false;
    int w = snprintf(buf, n, "%s/spirv-%s.spv", dir, key);
    return w > 0 && (size_t)w < n;
}

/* The file's SPIR-V when every check passes (malloc'd), else NULL; a file
 * that exists but fails a check counts as rejected. */
static uint32_t *read_valid(const char *path, const char *key, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char hd[SPV_HEADER];
    uint32_t *code = NULL;
    const char *why = NULL;
    size_t n = 0;
    if (fread(hd, 1, SPV_HEADER, f) != SPV_HEADER) why = "shorter than its header";
    else if (memcmp(hd, SPV_MAGIC, 4)) why = "not a Tangent SPIR-V file";
    else if (get32(hd + 4) != SPV_VERSION) why = "another format version";
    else if (memcmp(hd + 16, key, 16) != 0) why = "another kernel's key";
    else if ((n = (size_t)get32(hd + 8) * 4) < 20 || n > (64u << 20)) why = "a size out of range";
    else if (!(code = malloc(n))) why = "too large to read";
    else if (fread(code, 1, n, f) != n) why = "truncated";
    else if (fgetc(f) != EOF) why = "longer than its header says";
    else if ((uint32_t)crc32(0L, (const Bytef *)code, (uInt)n) != get32(hd + 12)) why = "corrupted (checksum mismatch)";
    else if (code[0] != 0x07230203u) why = "not SPIR-V";
    fclose(f);
    if (why) {
        free(code);
        stats.disk_rejected++;
        tg__vk_debug("kernel cache %s ignored: %s", path, why);
        return NULL;
    }
    *size = n;
    return code;
}

static void write_file(const char *path, const char *key, const uint32_t *code, size_t size) {
    unsigned char hd[SPV_HEADER] = {0};
    memcpy(hd, SPV_MAGIC, 4);
    put32(hd + 4, SPV_VERSION);
    put32(hd + 8, (uint32_t)(size / 4));
    put32(hd + 12, (uint32_t)crc32(0L, (const Bytef *)code, (uInt)size));
    memcpy(hd + 16, key, 16);
    if (tg__vk_write_atomic(path, hd, sizeof hd, code, size)) stats.disk_writes++;
    else tg__vk_debug("kernel cache: cannot write %s", path);
}

/* ---- the compiler plugin, loaded at run time ----------------------------------- */
typedef int (*compile_fn)(const char *src, uint32_t **words, size_t *nwords, char *log, size_t nlog);

/* The plugin: $TANGENT_GLSLANG_PLUGIN, else next to libtangent, else the
 * install and build directories, else the loader's search path. */
static compile_fn load_plugin(void) {
    static bool tried;
    static compile_fn fn;
    if (tried) return fn;
    tried = true;
    char cand[4][1100];
    int n = 0;
    const char *env = getenv("TANGENT_GLSLANG_PLUGIN");
    if (env && *env) snprintf(cand[n++], sizeof cand[0], "%s", env);
    Dl_info info;
    if (dladdr(&stats, &info) && info.dli_fname) {     /* where this library (or program) is */
        const char *slash = strrchr(info.dli_fname, '/');
        if (slash) snprintf(cand[n++], sizeof cand[0], "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname, PLUGIN);
    }
#ifdef TG_PLUGIN_DIRS
    static const char *const dirs[] = {TG_PLUGIN_DIRS};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs && n < 4; i++) snprintf(cand[n++], sizeof cand[0], "%s/%s", dirs[i], PLUGIN);
#endif
    void *h = NULL;
    for (int i = 0; i < n && !h; i++) h = dlopen(cand[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen(PLUGIN, RTLD_NOW | RTLD_LOCAL);
    stats.compiler = -1;
    if (!h) {
        tg__vk_debug("no %s (%s): fused groups run op by op on devices", PLUGIN, dlerror());
        return NULL;
    }
    /* POSIX: a void * from dlsym converts to a function pointer */
    *(void **)&fn = dlsym(h, "tg_glslang_compile");
    if (!fn) tg__vk_debug("%s has no tg_glslang_compile", PLUGIN);
    else stats.compiler = 1;
    return fn;             /* kept loaded for the life of the process */
}

static uint32_t *compile(const char *src, size_t *size) {
    compile_fn fn = load_plugin();
    if (!fn) return NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t *code = NULL;
    size_t words = 0;
    char log[2048] = "";
    int rc = fn(src, &code, &words, log, sizeof log);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    stats.compile_ms += (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
    if (rc != 0 || words < 5) {
        /* the generator's output should always compile: a bug, reported */
        free(code);
        stats.failures++;
        tg__vk_debug("generated kernel does not compile: %s", log);
        return NULL;
    }
    stats.compiles++;
    *size = words * 4;
    return code;
}

const uint32_t *tg__vk_spirv_get(const char *src, size_t *size, char key[33]) {
    make_key(src, key);
    pthread_mutex_lock(&lock);
    spv_entry *e = entries;
    while (e && strcmp(e->key, key) != 0) e = e->next;
    if (e) {
        stats.memory_hits++;
    } else {
        char path[1024];
        bool disk = spv_path(key, path, sizeof path);
        size_t n = 0;
        uint32_t *code = disk ? read_valid(path, key, &n) : NULL;
        if (code) stats.disk_hits++;
        else if ((code = compile(src, &n)) && disk) write_file(path, key, code, n);
        if (code && (e = malloc(sizeof *e))) {
            snprintf(e->key, sizeof e->key, "%s", key);
            e->code = code;
            e->size = n;
            e->next = entries;
            entries = e;
        } else {
            free(code);
        }
    }
    pthread_mutex_unlock(&lock);
    if (!e) return NULL;
    *size = e->size;
    return e->code;
}

void tg__vk_shader_stats(tg_vk_shader_stats *out) {
    pthread_mutex_lock(&lock);
    *out = stats;
    pthread_mutex_unlock(&lock);
}

__attribute__((destructor)) static void spirv_cache_free(void) {
    pthread_mutex_lock(&lock);
    while (entries) {
        spv_entry *n = entries->next;
        free(entries->code);
        free(entries);
        entries = n;
    }
    pthread_mutex_unlock(&lock);
}
#else
#include "gpu/gpu.h"
#include <string.h>
void tg__vk_shader_stats(tg_vk_shader_stats *out) { memset(out, 0, sizeof *out); }
#endif
