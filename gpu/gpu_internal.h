/* The Vulkan backend's private interface (DESIGN.md section 7).
 *
 * gpu/device.c   loader (volk), instance, devices, the recording context
 *                (one command buffer per device, submitted in batches)
 * gpu/memory.c   the sub-allocator over large VkDeviceMemory blocks,
 *                device storage, uploads and downloads
 * gpu/elementwise.c  pipelines and the kernel-table entries ([TG_VULKAN])
 *
 * The core sees only gpu/gpu.h. */
#ifndef TG_GPU_INTERNAL_H
#define TG_GPU_INTERNAL_H

#include "tensor/registry.h"

#include "gpu/gpu.h"

#ifdef TG_HAVE_VULKAN
#include <pthread.h>
#include <volk.h>

/* The SPIR-V modules built from gpu/shaders/ (generated gpu_spv.c). */
typedef struct tg__spv_module {
    const char *name;
    const uint32_t *code;
    size_t size;
} tg__spv_module;
extern const tg__spv_module tg__spv_modules[];

/* ---- memory ------------------------------------------------------------ */
/* Every block gets a slot of the reserved, inaccessible address range; a
 * Vulkan storage's data pointer is slot base + byte offset. Such a pointer
 * is never dereferenced by the library (a stray CPU read faults at once
 * instead of reading garbage); it tells a kernel the block and offset, and
 * keeps tg_shares_memory exact. */
#define TG_VK_SLOT_BITS 31                      /* 2 GiB of addresses per block */
#define TG_VK_MAX_BLOCKS 2048

typedef struct vk_range { size_t off, size; } vk_range;

typedef struct vk_block {
    struct tg_vkdev *dev;
    int slot;                       /* index into the global slot table */
    VkDeviceMemory mem;
    VkBuffer buf;
    char *map;                      /* persistent mapping when host-visible */
    size_t size, used;
    bool dedicated;                 /* one tensor larger than the block size */
    bool host;                      /* in host-visible memory (tg__vk_alloc_readable) */
    vk_range *free;                 /* sorted, coalesced free ranges */
    int n_free, cap_free;
} vk_block;

/* A host-visible buffer for transfers to and from device-local memory. */
typedef struct vk_staging {
    VkBuffer buf;
    VkDeviceMemory mem;
    void *map;
} vk_staging;

/* ---- devices ------------------------------------------------------------ */
enum { VK_PIPE_MAX = 512, VK_PIPE_SLOTS = 2 * VK_PIPE_MAX };

/* One batch of recorded work: its command pool and buffer, and the value of
 * the device's timeline semaphore its submission signals (0: not pending). */
#define TG_VK_FRAMES 3
#define TG_VK_BATCH_DISPATCHES 256      /* a batch is submitted when it holds this many */
typedef struct vk_frame {
    VkCommandPool pool;
    VkCommandBuffer cmd;
    uint64_t value;
} vk_frame;

typedef struct tg_vkdev {
    int index;
    VkPhysicalDevice phys;
    VkPhysicalDeviceProperties props;
    char label[300];                /* "vulkan:0 (name)" */
    bool f64, int8;                 /* shaderFloat64; 8-bit storage + shaderInt8 */
    bool coop16;                    /* NV cooperative matrices 16x8x16, f16 -> f32, 32 lanes */
    bool ready, failed;             /* logical device created / creation failed */
    uint32_t qfam;
    VkDevice dev;
    VkQueue queue;
    VkSemaphore timeline;           /* signalled by every submission, in order */
    uint64_t submitted, completed;  /* the last value signalled / known reached */
    PFN_vkWaitSemaphores wait_semaphores;   /* core 1.2 or the KHR extension's */
    pthread_mutex_t lock;           /* queue, recording, allocator */
    /* memory */
    uint32_t mem_type;              /* tensors' memory type */
    bool host_visible;              /* tensors' memory is mapped: no staging */
    uint32_t staging_type;          /* host-visible, coherent */
    uint32_t param_type;            /* kernel parameters: device-local and host-visible
                                     * where the device has such a type, else staging_type */
    VkDeviceSize heap_size, heap_used;
    size_t block_size, max_buffer;
    vk_block *blocks[TG_VK_MAX_BLOCKS];
    int n_blocks;
    /* recording: a ring of batches; the host records into frames[cur] while
     * the GPU runs the ones submitted before it */
    vk_frame frames[TG_VK_FRAMES];
    int cur;
    VkCommandBuffer cmd;            /* where the lock holder records: frames[cur].cmd or a capture's */
    bool recording;
    int n_dispatch;
    VkBuffer pbuf;                  /* kernel parameters: one arena per frame */
    VkDeviceMemory pmem;
    char *pmap;
    size_t pused, psize;            /* in the current frame's arena; its size */
    VkDescriptorSetLayout dsl;
    VkPipelineLayout playout;
    VkPipeline pipes[VK_PIPE_MAX];
    VkPipelineCache pcache;         /* persistent across processes (gpu/pipeline_cache.c) */
    bool pc_on;                     /* a cache file path is known */
    char pc_path[1024];
    tg_vk_pcache_stats pc;
    tg_vk_queue_stats stats;
    vk_staging stage;               /* the kept staging buffer (gpu/memory.c) */
    size_t stage_size;
    char pipe_names[VK_PIPE_MAX][48];   /* a module's name, or a generated kernel's key */
    int n_pipes;
    int16_t pipe_index[VK_PIPE_SLOTS];  /* name hash -> pipes[] index + 1, 0 empty */
    int bound;                      /* pipes[] index bound in the current batch, -1 none */
    struct vk_profile *prof;        /* kernel timings (gpu/profile.c), NULL when off */
    struct tg_vk_capture *captures; /* open captures, at most one per thread (gpu/capture.c) */
} tg_vkdev;

/* Device index -> device, its logical device created on first use; NULL
 * with an error recorded (op names the caller). */
tg_vkdev *tg__vk_dev(int index, const char *op);
/* Debug output on stderr only when TANGENT_DEBUG is set. */
void tg__vk_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *tg__vk_result_name(VkResult r);
/* The memory type for kernel parameters among those allowed (a bit per
 * type): param_type, else the first host-visible, coherent type;
 * UINT32_MAX when none is allowed. */
uint32_t tg__vk_param_memory_type(const tg_vkdev *d, uint32_t allowed);

/* Under dev->lock: */
/* Recording open for the calling thread: d->cmd is its capture's command
 * buffer when it has one open on d, else the batch's. */
tg_status tg__vk_begin(tg_vkdev *d);
/* The batch open and d->cmd its command buffer, whatever the caller's captures. */
tg_status tg__vk_begin_batch(tg_vkdev *d);
/* Submit the batch being recorded and wait until every submitted batch has
 * run: after it the host may read or write any device memory. */
tg_status tg__vk_flush(tg_vkdev *d);
/* Record one dispatch: params (<= 256 bytes), up to 5 data buffers
 * (bindings 1..5; binding 0 is the parameter slice). */
#define TG_VK_PARAM_BYTES 256
#define TG_VK_PARAM_BYTES_MAX 1024    /* generated kernels' larger blocks */
#define TG_VK_BINDINGS 6
tg_status tg__vk_dispatch(tg_vkdev *d, const char *pipe, const void *params, size_t nbytes, int nbuf,
                          const VkBuffer *bufs, uint32_t gx, uint32_t gy, uint32_t gz);
/* The same for a module made at run time (gpu/fused.c): its pipeline is
 * created on first use and kept under name (at most 47 characters). */
tg_status tg__vk_dispatch_spirv(tg_vkdev *d, const char *name, const uint32_t *code, size_t size, const void *params,
                                size_t nbytes, int nbuf, const VkBuffer *bufs, uint32_t gx, uint32_t gy, uint32_t gz);
/* Record a whole-block barrier after a transfer command. */
void tg__vk_barrier(tg_vkdev *d);
/* Submit the batch being recorded without waiting (nothing when none is). */
tg_status tg__vk_submit(tg_vkdev *d);

/* The captures' hooks (gpu/capture.c), under dev->lock. Each acts for the
 * calling thread's open capture on d (mine: it, or NULL), and does nothing
 * (NULL, false) when the thread has none:
 *   params places a dispatch's parameter slice in c's memory (false: no room);
 *   taint makes it not replayable for good (random draws, a wait for the queue);
 *   detach closes c (any thread's) and records it into the batch
 *     (replayable false: cut short), then gives back its deferred ranges;
 *   reuse gives a held buffer of exactly size bytes that the run let go of
 *     (a new reference), or NULL; hold keeps s for the capture;
 *   defer keeps a freed range out of the allocator until the capture closes. */
struct tg_vk_capture *tg__vk_capture_mine(tg_vkdev *d);
VkCommandBuffer tg__vk_capture_cmd(const struct tg_vk_capture *c);
bool tg__vk_capture_params(struct tg_vk_capture *c, size_t slice, VkBuffer *buf, size_t *off, char **map);
void tg__vk_capture_taint(tg_vkdev *d);
tg_status tg__vk_capture_detach(tg_vkdev *d, struct tg_vk_capture *c, bool replayable);
tg_storage *tg__vk_capture_reuse(tg_vkdev *d, size_t size);
void tg__vk_capture_hold(tg_vkdev *d, tg_storage *s);
bool tg__vk_capture_defer(tg_vkdev *d, vk_block *b, size_t off, size_t size);

/* The pipeline cache (gpu/pipeline_cache.c), under dev->lock: open loads
 * the file (after the logical device exists), save writes it atomically. */
void tg__vk_pcache_open(tg_vkdev *d);
void tg__vk_pcache_save(tg_vkdev *d);
/* The cache directory, made if missing ($TANGENT_CACHE_DIR, else
 * $XDG_CACHE_HOME/tangent, else ~/.cache/tangent); false when caching is
 * off (TANGENT_CACHE_DIR="") or the directory cannot be made. */
bool tg__vk_cache_dir(char *buf, size_t n);
/* Writes head then body to path through a temporary file and a rename, so
 * readers never see half a file; false on any failure (nothing left). */
bool tg__vk_write_atomic(const char *path, const void *head, size_t nhead, const void *body, size_t nbody);
/* SPIR-V for GLSL text src, from memory, the disk cache or shaderc
 * (gpu/spirv_cache.c); key gets its content key (32 hex digits). The
 * words live until exit. NULL when shaderc is missing or fails. */
const uint32_t *tg__vk_spirv_get(const char *src, size_t *size, char key[33]);

/* Kernel timings (gpu/profile.c), on when TANGENT_VK_PROFILE is set and the
 * queue has timestamps: open at device creation sets d->prof; under
 * dev->lock: begin resets the current frame's queries, before/after bracket
 * a dispatch of pipes[pipe], collect adds a finished frame's times. At exit
 * a table per kernel goes to stderr. */
void tg__vk_profile_open(tg_vkdev *d);
void tg__vk_profile_close(tg_vkdev *d);
void tg__vk_profile_begin(tg_vkdev *d);
void tg__vk_profile_before(tg_vkdev *d);
void tg__vk_profile_after(tg_vkdev *d, int pipe, uint32_t gx, uint32_t gy, uint32_t gz);
void tg__vk_profile_collect(tg_vkdev *d, int frame);

/* Memory (gpu/memory.c), under dev->lock unless said otherwise. */
typedef struct vk_loc {
    vk_block *block;
    size_t byte_off;                /* of the tensor's first element */
} vk_loc;
/* Where t's first element lives (t on a Vulkan device). */
vk_loc tg__vk_locate(const tg_tensor *t);
/* tg__vk_alloc in host-visible memory where the device's tensor memory is
 * not mapped (gpu/memory.c; tg__vk_readable_copy). */
tg_tensor *tg__vk_alloc_readable(int dev, tg_dtype dtype, int ndim, const int64_t *shape);
void tg__vk_memory_release_all(tg_vkdev *d);
/* Bytes [off, off + size) of b free again (a dedicated block left idle may
 * be given back to the driver). */
void tg__vk_range_give(tg_vkdev *d, vk_block *b, size_t off, size_t size);
#endif

#endif
