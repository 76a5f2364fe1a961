/* Vulkan devices: the loader found at run time (volk), one instance, the
 * devices with a compute queue, and the recording context of each device.
 *
 * Execution model: eager ops are recorded into the command buffer of the
 * device's current batch (a barrier after every dispatch, so the queue runs
 * them in order). A full batch (dispatches or parameter arena) is submitted
 * without waiting and recording goes on in the next of TG_VK_FRAMES frames,
 * so the host records while the GPU runs. Each submission signals the next
 * value of the device's timeline semaphore; a frame is reused once the
 * timeline has reached its value. When the host needs device memory (a
 * read, an upload, tg_synchronize) the batch is submitted and the timeline
 * waited for up to the last value. One mutex per device guards the queue,
 * the recording and the allocator. A captured run records into a command
 * buffer of its own, one per thread (gpu/capture.c). */
#ifdef TG_HAVE_VULKAN
#include "gpu/gpu_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEVICES 16
#define PARAM_ARENA ((size_t)1 << 20)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static VkInstance instance;
static tg_vkdev devices[MAX_DEVICES];
static int n_devices;
static const char *init_failure = "";       /* why there are no devices */

void tg__vk_debug(const char *fmt, ...) {
    static int on = -1;
    if (on < 0) on = getenv("TANGENT_DEBUG") && *getenv("TANGENT_DEBUG") ? 1 : 0;
    if (!on) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tangent vulkan: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

const char *tg__vk_result_name(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    default: return "VkResult error";
    }
}

static bool has_extension(VkPhysicalDevice p, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(p, NULL, &n, NULL) != VK_SUCCESS || n == 0) return false;
    VkExtensionProperties *e = malloc(n * sizeof *e);
    if (!e) return false;
    bool found = false;
    if (vkEnumerateDeviceExtensionProperties(p, NULL, &n, e) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(e[i].extensionName, name) == 0;
    free(e);
    return found;
}

/* Timeline semaphores: core in Vulkan 1.2, an extension before. */
static bool timeline_offered(VkPhysicalDevice p, uint32_t api) {
    if (api < VK_API_VERSION_1_2 && !has_extension(p, VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME)) return false;
    VkPhysicalDeviceTimelineSemaphoreFeatures tf = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &tf};
    vkGetPhysicalDeviceFeatures2(p, &f2);
    return tf.timelineSemaphore;
}

static void init_devices(void) {
    if (getenv("TANGENT_NO_VULKAN")) { init_failure = "TANGENT_NO_VULKAN is set"; return; }
    VkResult r = volkInitialize();
    if (r != VK_SUCCESS) {
        init_failure = "no Vulkan loader (libvulkan.so.1) was found";
        tg__vk_debug("%s", init_failure);
        return;
    }
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "tangent",
                             .pEngineName = "tangent", .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    r = vkCreateInstance(&ici, NULL, &instance);
    if (r != VK_SUCCESS) {
        init_failure = "vkCreateInstance failed (no Vulkan driver?)";
        tg__vk_debug("%s: %s", init_failure, tg__vk_result_name(r));
        instance = VK_NULL_HANDLE;
        return;
    }
    volkLoadInstance(instance);
    uint32_t n = 0;
    r = vkEnumeratePhysicalDevices(instance, &n, NULL);
    if (r != VK_SUCCESS || n == 0) {
        init_failure = "the Vulkan loader reports no devices";
        tg__vk_debug("%s", init_failure);
        return;
    }
    VkPhysicalDevice *phys = malloc(n * sizeof *phys);
    if (!phys) return;
    if (vkEnumeratePhysicalDevices(instance, &n, phys) != VK_SUCCESS) n = 0;
    for (uint32_t i = 0; i < n && n_devices < MAX_DEVICES; i++) {
        VkPhysicalDeviceProperties props;
        vkGetPhysicalDeviceProperties(phys[i], &props);
        uint32_t nq = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(phys[i], &nq, NULL);
        VkQueueFamilyProperties qf[64];
        if (nq > 64) nq = 64;
        vkGetPhysicalDeviceQueueFamilyProperties(phys[i], &nq, qf);
        int fam = -1;
        /* a compute queue, preferring one without graphics (async compute) */
        for (uint32_t q = 0; q < nq; q++)
            if ((qf[q].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[q].queueFlags & VK_QUEUE_GRAPHICS_BIT)) { fam = (int)q; break; }
        for (uint32_t q = 0; q < nq && fam < 0; q++)
            if (qf[q].queueFlags & VK_QUEUE_COMPUTE_BIT) fam = (int)q;
        if (fam < 0) { tg__vk_debug("skipping %s: no compute queue", props.deviceName); continue; }
        if (props.apiVersion < VK_API_VERSION_1_1) { tg__vk_debug("skipping %s: Vulkan < 1.1", props.deviceName); continue; }
        if (!has_extension(phys[i], VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME)) {
            tg__vk_debug("skipping %s: no VK_KHR_push_descriptor", props.deviceName);
            continue;
        }
        if (!timeline_offered(phys[i], props.apiVersion)) {
            tg__vk_debug("skipping %s: no timeline semaphores (Vulkan 1.2 or VK_KHR_timeline_semaphore)",
                         props.deviceName);
            continue;
        }
        tg_vkdev *d = &devices[n_devices];
        memset(d, 0, sizeof *d);
        d->index = n_devices;
        d->phys = phys[i];
        d->props = props;
        d->qfam = (uint32_t)fam;
        pthread_mutex_init(&d->lock, NULL);
        snprintf(d->label, sizeof d->label, "vulkan:%d (%s)", n_devices, props.deviceName);
        tg__vk_debug("device %s", d->label);
        n_devices++;
    }
    free(phys);
}

int tg__vk_device_count(void) {
    pthread_once(&init_once, init_devices);
    return n_devices;
}

const char *tg__vk_device_name(int dev) {
    if (dev < 0 || dev >= tg__vk_device_count()) return "vulkan:?";
    return devices[dev].label;
}

/* Memory types: tensors in the largest device-local heap; mapped directly
 * when a host-visible, coherent type lives there (lavapipe, ReBAR), staged
 * otherwise. TANGENT_VK_STAGING=1 forces staging (to test that path). */
static bool pick_memory(tg_vkdev *d) {
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(d->phys, &mp);
    int heap = -1;
    for (uint32_t h = 0; h < mp.memoryHeapCount; h++)
        if ((mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            (heap < 0 || mp.memoryHeaps[h].size > mp.memoryHeaps[heap].size)) heap = (int)h;
    if (heap < 0) heap = 0;
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int direct = -1, local = -1, staging = -1, bar = -1;
    for (uint32_t t = 0; t < mp.memoryTypeCount; t++) {
        VkMemoryPropertyFlags f = mp.memoryTypes[t].propertyFlags;
        if ((int)mp.memoryTypes[t].heapIndex == heap && (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)) {
            if ((f & hv) == hv && direct < 0) direct = (int)t;
            if (local < 0) local = (int)t;
        }
        if ((f & hv) == hv && staging < 0) staging = (int)t;
        if ((f & hv) == hv && (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && bar < 0) bar = (int)t;
    }
    if (local < 0 || staging < 0) return false;
    const char *force = getenv("TANGENT_VK_STAGING");
    bool staged = force && *force && *force != '0';
    bool use_direct = direct >= 0 && !staged;
    d->mem_type = (uint32_t)(use_direct ? direct : local);
    d->host_visible = use_direct;
    d->staging_type = (uint32_t)staging;
    /* Every dispatch reads its parameter block first. In host memory (a
     * discrete GPU's staging type) that read crosses the bus once per
     * kernel; in the device-local window of the BAR (any discrete GPU has
     * one, ReBAR or not) it stays on the card. The host only writes there. */
    d->param_type = (uint32_t)(bar >= 0 && !staged ? bar : staging);
    d->heap_size = mp.memoryHeaps[heap].size;
    return true;
}

uint32_t tg__vk_param_memory_type(const tg_vkdev *d, uint32_t allowed) {
    if (allowed & (1u << d->param_type)) return d->param_type;
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(d->phys, &mp);
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t t = 0; t < mp.memoryTypeCount; t++)
        if ((allowed & (1u << t)) && (mp.memoryTypes[t].propertyFlags & hv) == hv) return t;
    return UINT32_MAX;
}

/* The cooperative-matrix shape gpu/shaders/matmul_coop.comp is written for:
 * 16x8x16, f16 A and B, f32 C and D, subgroup scope, on 32-lane subgroups
 * (NVIDIA's VK_NV_cooperative_matrix). TANGENT_VK_COOP=0 turns it off. */
static bool coop16_offered(VkPhysicalDevice p) {
    const char *e = getenv("TANGENT_VK_COOP");
    if ((e && !strcmp(e, "0")) || !has_extension(p, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME) ||
        !vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)
        return false;
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cf = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &cf};
    vkGetPhysicalDeviceFeatures2(p, &f2);
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
    vkGetPhysicalDeviceProperties2(p, &p2);
    if (!cf.cooperativeMatrix || sg.subgroupSize != 32 || !(sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT)) return false;
    uint32_t n = 0;
    if (vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(p, &n, NULL) != VK_SUCCESS || n == 0) return false;
    VkCooperativeMatrixPropertiesNV *props = calloc(n, sizeof *props);
    if (!props) return false;
    for (uint32_t i = 0; i < n; i++) props[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
    bool found = false;
    if (vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(p, &n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) {
            const VkCooperativeMatrixPropertiesNV *c = &props[i];
            found = c->MSize == 16 && c->NSize == 8 && c->KSize == 16 && c->AType == VK_COMPONENT_TYPE_FLOAT16_NV &&
                    c->BType == VK_COMPONENT_TYPE_FLOAT16_NV && c->CType == VK_COMPONENT_TYPE_FLOAT32_NV &&
                    c->DType == VK_COMPONENT_TYPE_FLOAT32_NV && c->scope == VK_SCOPE_SUBGROUP_NV;
        }
    free(props);
    return found;
}

static tg_status create_device(tg_vkdev *d) {
    VkPhysicalDeviceFeatures f;
    vkGetPhysicalDeviceFeatures(d->phys, &f);
    VkPhysicalDeviceShaderFloat16Int8FeaturesKHR f16i8 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR};
    VkPhysicalDevice8BitStorageFeaturesKHR s8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES_KHR,
                                                  .pNext = &f16i8};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s8};
    bool ext8 = has_extension(d->phys, VK_KHR_8BIT_STORAGE_EXTENSION_NAME) &&
                has_extension(d->phys, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
    if (ext8) vkGetPhysicalDeviceFeatures2(d->phys, &f2);
    d->f64 = f.shaderFloat64;
    d->int8 = ext8 && s8.storageBuffer8BitAccess && f16i8.shaderInt8;
    d->coop16 = ext8 && f16i8.shaderFloat16 && coop16_offered(d->phys);
    if (!pick_memory(d)) return tg__error(TG_ERR_DEVICE, "%s: no usable memory type", d->label);

    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = d->qfam,
                                   .queueCount = 1, .pQueuePriorities = &prio};
    VkPhysicalDeviceFeatures enable = {.shaderFloat64 = d->f64, .shaderInt64 = f.shaderInt64};
    VkPhysicalDeviceTimelineSemaphoreFeatures etl = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES, .timelineSemaphore = VK_TRUE};
    VkPhysicalDeviceCooperativeMatrixFeaturesNV ecoop = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV, .pNext = &etl,
        .cooperativeMatrix = VK_TRUE};
    VkPhysicalDeviceShaderFloat16Int8FeaturesKHR e16i8 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR, .pNext = d->coop16 ? (void *)&ecoop : &etl,
        .shaderFloat16 = d->coop16, .shaderInt8 = d->int8};
    VkPhysicalDevice8BitStorageFeaturesKHR e8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES_KHR,
                                                  .pNext = &e16i8, .storageBuffer8BitAccess = d->int8};
    const char *exts[7] = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
    uint32_t n_ext = 1;
    bool core12 = d->props.apiVersion >= VK_API_VERSION_1_2;
    if (!core12) exts[n_ext++] = VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME;
    if (d->int8 || d->coop16) {
        exts[n_ext++] = VK_KHR_8BIT_STORAGE_EXTENSION_NAME;
        exts[n_ext++] = VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME;
    }
    if (d->coop16) exts[n_ext++] = VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME;
    /* creation feedback tells whether a pipeline came from the cache */
    bool feedback = has_extension(d->phys, VK_EXT_PIPELINE_CREATION_FEEDBACK_EXTENSION_NAME);
    if (feedback) exts[n_ext++] = VK_EXT_PIPELINE_CREATION_FEEDBACK_EXTENSION_NAME;
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = d->int8 || d->coop16 ? (void *)&e8 : &etl,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = n_ext, .ppEnabledExtensionNames = exts,
                              .pEnabledFeatures = &enable};
    VkResult r = vkCreateDevice(d->phys, &dci, NULL, &d->dev);
    if (r != VK_SUCCESS)
        return tg__error(TG_ERR_DEVICE, "%s: vkCreateDevice failed (%s)", d->label, tg__vk_result_name(r));
    vkGetDeviceQueue(d->dev, d->qfam, 0, &d->queue);
    d->wait_semaphores = core12 ? vkWaitSemaphores : vkWaitSemaphoresKHR;
    VkSemaphoreTypeCreateInfo sti = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                     .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
    VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &sti};
    if (!d->wait_semaphores || vkCreateSemaphore(d->dev, &sci, NULL, &d->timeline) != VK_SUCCESS)
        return tg__error(TG_ERR_DEVICE, "%s: cannot create a timeline semaphore", d->label);

    /* Blocks: 64 MiB, or less where one buffer cannot be that large
     * (lavapipe: 128 MiB); larger tensors get a block of their own. */
    d->max_buffer = d->props.limits.maxStorageBufferRange;
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vkGetPhysicalDeviceProperties2(d->phys, &p2);
    if (m3.maxMemoryAllocationSize && m3.maxMemoryAllocationSize < d->max_buffer)
        d->max_buffer = (size_t)m3.maxMemoryAllocationSize;
    if (d->max_buffer > ((size_t)1 << TG_VK_SLOT_BITS)) d->max_buffer = (size_t)1 << TG_VK_SLOT_BITS;
    /* element offsets are 32-bit ints in the shaders: 2^31 elements of 1 byte */
    if (d->max_buffer > ((size_t)1 << 31) - 256) d->max_buffer = ((size_t)1 << 31) - 256;
    d->block_size = (size_t)64 << 20;
    /* large heaps: bigger blocks, so TG_VK_MAX_BLOCKS slots cover the heap */
    if (d->heap_size / 1024 > d->block_size) d->block_size = (size_t)(d->heap_size / 1024 + 255) & ~(size_t)255;
    if (d->block_size > d->max_buffer) d->block_size = d->max_buffer & ~(size_t)255;

    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT, .queueFamilyIndex = d->qfam};
    for (int i = 0; i < TG_VK_FRAMES; i++) {
        vk_frame *fr = &d->frames[i];
        if (vkCreateCommandPool(d->dev, &pci, NULL, &fr->pool) != VK_SUCCESS)
            return tg__error(TG_ERR_DEVICE, "%s: cannot create a command pool", d->label);
        VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                           .commandPool = fr->pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                           .commandBufferCount = 1};
        if (vkAllocateCommandBuffers(d->dev, &cai, &fr->cmd) != VK_SUCCESS)
            return tg__error(TG_ERR_DEVICE, "%s: cannot allocate a command buffer", d->label);
    }
    d->cur = 0;
    d->cmd = d->frames[0].cmd;

    /* parameter arena: host-visible, coherent (device-local where it can be) */
    d->psize = PARAM_ARENA;
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = d->psize * TG_VK_FRAMES,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    if (vkCreateBuffer(d->dev, &bci, NULL, &d->pbuf) != VK_SUCCESS)
        return tg__error(TG_ERR_DEVICE, "%s: cannot create the parameter buffer", d->label);
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d->dev, d->pbuf, &req);
    uint32_t pt = tg__vk_param_memory_type(d, req.memoryTypeBits);
    if (pt == UINT32_MAX) return tg__error(TG_ERR_DEVICE, "%s: no host-visible memory", d->label);
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                .memoryTypeIndex = pt};
    void *map = NULL;
    if (vkAllocateMemory(d->dev, &mai, NULL, &d->pmem) != VK_SUCCESS ||
        vkBindBufferMemory(d->dev, d->pbuf, d->pmem, 0) != VK_SUCCESS ||
        vkMapMemory(d->dev, d->pmem, 0, VK_WHOLE_SIZE, 0, &map) != VK_SUCCESS)
        return tg__error(TG_ERR_DEVICE, "%s: cannot allocate the parameter buffer", d->label);
    d->pmap = map;

    VkDescriptorSetLayoutBinding b[TG_VK_BINDINGS];
    for (uint32_t i = 0; i < TG_VK_BINDINGS; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding = i, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                              .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dl = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                          .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
                                          .bindingCount = TG_VK_BINDINGS, .pBindings = b};
    if (vkCreateDescriptorSetLayout(d->dev, &dl, NULL, &d->dsl) != VK_SUCCESS)
        return tg__error(TG_ERR_DEVICE, "%s: cannot create the descriptor set layout", d->label);
    VkPipelineLayoutCreateInfo pl = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1,
                                     .pSetLayouts = &d->dsl};
    if (vkCreatePipelineLayout(d->dev, &pl, NULL, &d->playout) != VK_SUCCESS)
        return tg__error(TG_ERR_DEVICE, "%s: cannot create the pipeline layout", d->label);
    tg__vk_pcache_open(d);
    d->pc.feedback = feedback;
    tg__vk_profile_open(d);
    tg__vk_debug("%s ready: f64 %d, 8-bit %d, coop f16 %d, %s memory, heap %llu MiB, blocks %zu MiB, max buffer %zu MiB",
                 d->label, d->f64, d->int8, d->coop16, d->host_visible ? "mapped" : "staged",
                 (unsigned long long)(d->heap_size >> 20), d->block_size >> 20, d->max_buffer >> 20);
    return TG_OK;
}

/* Waits until the timeline has reached value (the submission that signals
 * it has run, and every one before it on the queue). */
static VkResult timeline_wait(tg_vkdev *d, uint64_t value, uint64_t timeout_ns) {
    if (value <= d->completed) return VK_SUCCESS;
    VkSemaphoreWaitInfo wi = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO, .semaphoreCount = 1,
                              .pSemaphores = &d->timeline, .pValues = &value};
    VkResult r = d->wait_semaphores(d->dev, &wi, timeout_ns);
    if (r == VK_SUCCESS) d->completed = value;
    return r;
}

static void destroy_device(tg_vkdev *d) {
    if (!d->dev) return;
    vkDeviceWaitIdle(d->dev);
    for (int i = 0; i < d->n_pipes; i++) vkDestroyPipeline(d->dev, d->pipes[i], NULL);
    tg__vk_profile_close(d);
    if (d->pcache) vkDestroyPipelineCache(d->dev, d->pcache, NULL);
    if (d->playout) vkDestroyPipelineLayout(d->dev, d->playout, NULL);
    if (d->dsl) vkDestroyDescriptorSetLayout(d->dev, d->dsl, NULL);
    if (d->pbuf) vkDestroyBuffer(d->dev, d->pbuf, NULL);
    if (d->pmem) vkFreeMemory(d->dev, d->pmem, NULL);
    for (int f = 0; f < TG_VK_FRAMES; f++)
        if (d->frames[f].pool) vkDestroyCommandPool(d->dev, d->frames[f].pool, NULL);
    if (d->timeline) vkDestroySemaphore(d->dev, d->timeline, NULL);
    tg__vk_memory_release_all(d);
    vkDestroyDevice(d->dev, NULL);
    d->dev = VK_NULL_HANDLE;
}

/* Nothing is torn down at exit: the driver's objects stay reachable from
 * devices[] (so leak checkers do not report them), and destroying them from
 * an exit handler is not safe: llvmpipe's LLVM has destructors of its own,
 * some registered after ours, which run first.
 *
 * Work still queued at exit is waited for, though. lavapipe runs submitted
 * batches on a thread of its own and compiles a pipeline's machine code there
 * on its first dispatch; a process that exits meanwhile destroys LLVM's
 * statics under that thread, which then aborts ("LLVM ERROR: out of memory").
 * The handler is registered once the first device exists, so it runs before
 * the destructors the driver registered while loading, and on llvmpipe again
 * once the device's first dispatch has run (first_jit): LLVM registers one
 * more destructor when lavapipe's thread builds its first JIT (the GDB
 * registration listener that every later JIT's teardown calls into, a double
 * free once destroyed).
 * It only waits on the timeline semaphore (no LLVM), skips a device whose
 * lock another thread holds, and gives up after a few seconds rather than
 * hang the exit. */
static void drain_at_exit(void) {
    for (int i = 0; i < n_devices; i++) {
        tg_vkdev *d = &devices[i];
        if (!__atomic_load_n(&d->ready, __ATOMIC_ACQUIRE) || pthread_mutex_trylock(&d->lock)) continue;
        VkResult r = timeline_wait(d, d->submitted, 5000000000ull);
        if (r != VK_SUCCESS)
            tg__vk_debug("%s: queued work still running at exit (%s); exiting without it", d->label,
                         tg__vk_result_name(r));
        pthread_mutex_unlock(&d->lock);
    }
}

static void register_drain(void) { atexit(drain_at_exit); }
static pthread_once_t drain_once = PTHREAD_ONCE_INIT, drain_after_jit_once = PTHREAD_ONCE_INIT;

/* lavapipe builds LLVM's JIT on its queue thread at the first dispatch.
 * Built while the process exits (a program that returns from main with its
 * first kernels queued), that thread hung in about one exit in ten under
 * load (tests/programs/gpu_exit_in_flight.c, "first"; 0 in 40 once a
 * kernel had run before). So on llvmpipe the device's first dispatch is
 * made here and waited for, once: a 1-element add. Then the exit handler is
 * registered again, after LLVM's destructor (drain_at_exit). Errors are left
 * as they were. */
static void first_jit(tg_vkdev *d, int index) {
    tg__stashed_error older;
    tg__error_stash(&older);
    tg_scope_begin();
    tg_tensor *one = tg_scalar(TG_F32, 1.0);
    tg_tensor *g = one ? tg_to_device(one, (tg_device){TG_VULKAN, index}) : NULL;
    if (g && tg_add(g, g)) {
        pthread_mutex_lock(&d->lock);
        if (tg__vk_flush(d) == TG_OK) pthread_once(&drain_after_jit_once, register_drain);
        pthread_mutex_unlock(&d->lock);
    }
    tg_scope_end();
    tg_clear_error();
    tg__error_unstash(&older);
}

tg_vkdev *tg__vk_dev(int index, const char *op) {
    int n = tg__vk_device_count();
    if (index < 0 || index >= n) {
        if (n == 0)
            tg__error(TG_ERR_DEVICE, "%s: no Vulkan device vulkan:%d (%s)", op, index, init_failure);
        else
            tg__error(TG_ERR_DEVICE, "%s: no Vulkan device vulkan:%d (this machine has %d: vulkan:0..vulkan:%d)",
                      op, index, n, n - 1);
        return NULL;
    }
    tg_vkdev *d = &devices[index];
    if (__atomic_load_n(&d->ready, __ATOMIC_ACQUIRE)) return d;
    bool created = false;
    pthread_mutex_lock(&d->lock);
    if (!d->ready && !d->failed) {
        if (create_device(d) == TG_OK) {
            pthread_once(&drain_once, register_drain);
            __atomic_store_n(&d->ready, true, __ATOMIC_RELEASE);
            created = true;
        }
        else { destroy_device(d); d->failed = true; }
    } else if (d->failed) {
        tg__error(TG_ERR_DEVICE, "%s: %s could not be initialised (run with TANGENT_DEBUG=1 for details)", op,
                  d->label);
    }
    pthread_mutex_unlock(&d->lock);
    if (created && strstr(d->props.deviceName, "llvmpipe")) first_jit(d, index);
    return d->ready ? d : NULL;
}

/* ---- recording --------------------------------------------------------- */
/* Waits for frame f's submission, then makes the frame recordable again. */
static VkResult frame_retire(tg_vkdev *d, vk_frame *f) {
    if (!f->value) return VK_SUCCESS;
    VkResult r = timeline_wait(d, f->value, UINT64_MAX);
    if (r == VK_SUCCESS && d->prof) tg__vk_profile_collect(d, (int)(f - d->frames));
    vkResetCommandPool(d->dev, f->pool, 0);
    f->value = 0;
    return r;
}

tg_status tg__vk_begin_batch(tg_vkdev *d) {
    VkCommandBuffer cmd = d->frames[d->cur].cmd;
    if (d->recording) {
        if (d->cmd != cmd) { d->cmd = cmd; d->bound = -1; }    /* back from a capture's buffer */
        return TG_OK;
    }
    VkResult r = frame_retire(d, &d->frames[d->cur]);     /* its parameter arena is free again too */
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    if (r == VK_SUCCESS) r = vkBeginCommandBuffer(cmd, &bi);
    if (r != VK_SUCCESS) return tg__error(TG_ERR_DEVICE, "%s: starting a batch: %s", d->label, tg__vk_result_name(r));
    d->cmd = cmd;
    if (d->prof) tg__vk_profile_begin(d);
    d->bound = -1;
    d->recording = true;
    d->n_dispatch = 0;
    d->pused = 0;
    return TG_OK;
}

tg_status tg__vk_begin(tg_vkdev *d) {
    tg_vk_capture *c = d->captures ? tg__vk_capture_mine(d) : NULL;
    if (!c) return tg__vk_begin_batch(d);
    VkCommandBuffer cmd = tg__vk_capture_cmd(c);
    if (d->cmd != cmd) { d->cmd = cmd; d->bound = -1; }
    return TG_OK;
}

/* Submits the batch being recorded without waiting for it, and moves on to
 * the next frame. Every batch ends with the barrier of its last command, so
 * the next batch's work is ordered after it on the one queue. */
tg_status tg__vk_submit(tg_vkdev *d) {
    tg_vk_capture *c = d->captures ? tg__vk_capture_mine(d) : NULL;
    if (c) {
        /* the owner waiting for the queue cuts its captured run in two: not
         * replayable (other threads' captures are not in the batch) */
        tg__vk_capture_taint(d);
        tg_status st = tg__vk_capture_detach(d, c, false);
        if (st) return st;
    }
    if (!d->recording) return TG_OK;
    d->recording = false;
    vk_frame *f = &d->frames[d->cur];
    VkResult r = vkEndCommandBuffer(f->cmd);
    uint64_t value = d->submitted + 1;
    if (r == VK_SUCCESS) {
        VkTimelineSemaphoreSubmitInfo ti = {.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                            .signalSemaphoreValueCount = 1, .pSignalSemaphoreValues = &value};
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .pNext = &ti, .commandBufferCount = 1,
                           .pCommandBuffers = &f->cmd, .signalSemaphoreCount = 1, .pSignalSemaphores = &d->timeline};
        r = vkQueueSubmit(d->queue, 1, &si, VK_NULL_HANDLE);
    }
    if (r == VK_SUCCESS) {
        f->value = d->submitted = value;
        d->stats.submits++;
    } else {
        vkResetCommandPool(d->dev, f->pool, 0);
    }
    d->cur = (d->cur + 1) % TG_VK_FRAMES;
    d->cmd = d->frames[d->cur].cmd;
    d->pused = 0;
    d->n_dispatch = 0;
    if (r != VK_SUCCESS)
        return tg__error(TG_ERR_DEVICE, "%s: submitting queued work failed (%s)", d->label, tg__vk_result_name(r));
    return TG_OK;
}

tg_status tg__vk_flush(tg_vkdev *d) {
    tg_status st = tg__vk_submit(d);
    /* the queue runs in order: the last value covers every frame */
    VkResult w = timeline_wait(d, d->submitted, UINT64_MAX);
    if (w != VK_SUCCESS && !st)
        st = tg__error(TG_ERR_DEVICE, "%s: waiting for queued work failed (%s)", d->label, tg__vk_result_name(w));
    for (int i = 0; i < TG_VK_FRAMES; i++) {
        VkResult r = frame_retire(d, &d->frames[i]);
        if (r != VK_SUCCESS && !st)
            st = tg__error(TG_ERR_DEVICE, "%s: waiting for queued work failed (%s)", d->label, tg__vk_result_name(r));
    }
    return st;
}

void tg__vk_barrier(tg_vkdev *d) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                           VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(d->cmd, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* Pipelines by name: an open-addressing table of pipes[] indices + 1, so the
 * lookup on every dispatch costs one hash instead of a scan of ~150 names. */
static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u;           /* FNV-1a */
    while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

/* The index of the pipeline named name in pipes[], -1 when there is none. */
static int find_pipeline(const tg_vkdev *d, const char *name) {
    for (uint32_t h = name_hash(name);; h++) {
        int i = d->pipe_index[h % VK_PIPE_SLOTS] - 1;
        if (i < 0 || strcmp(d->pipe_names[i], name) == 0) return i;
    }
}

static void index_pipeline(tg_vkdev *d, int i) {
    uint32_t h = name_hash(d->pipe_names[i]);
    while (d->pipe_index[h % VK_PIPE_SLOTS]) h++;
    d->pipe_index[h % VK_PIPE_SLOTS] = (int16_t)(i + 1);
}

/* Creates (through the persistent cache) and keeps the pipeline of one
 * SPIR-V module under name; its index, -1 on failure (error recorded). */
static int create_pipeline(tg_vkdev *d, const char *name, const uint32_t *code, size_t size, int spec) {
    if (d->n_pipes == VK_PIPE_MAX || strlen(name) >= sizeof d->pipe_names[0]) {
        tg__error(TG_ERR_UNSUPPORTED, "%s: no room for compute shader %s", d->label, name);
        return -1;
    }
    VkShaderModuleCreateInfo smi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = size,
                                    .pCode = code};
    VkShaderModule sm;
    VkResult r = vkCreateShaderModule(d->dev, &smi, NULL, &sm);
    if (r != VK_SUCCESS) {
        tg__error(TG_ERR_DEVICE, "%s: shader %s: %s", d->label, name, tg__vk_result_name(r));
        return -1;
    }
    int32_t spec_value = spec;
    VkSpecializationMapEntry entry = {.constantID = 0, .offset = 0, .size = sizeof spec_value};
    VkSpecializationInfo si = {.mapEntryCount = 1, .pMapEntries = &entry, .dataSize = sizeof spec_value,
                               .pData = &spec_value};
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = sm, .pName = "main", .pSpecializationInfo = spec >= 0 ? &si : NULL},
        .layout = d->playout};
    VkPipelineCreationFeedbackEXT fb = {0};
    VkPipelineCreationFeedbackCreateInfoEXT fbi = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CREATION_FEEDBACK_CREATE_INFO_EXT,
                                                   .pPipelineCreationFeedback = &fb};
    if (d->pc.feedback) ci.pNext = &fbi;
    VkPipeline p = VK_NULL_HANDLE;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = vkCreateComputePipelines(d->dev, d->pcache, 1, &ci, NULL, &p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    vkDestroyShaderModule(d->dev, sm, NULL);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
    d->pc.create_ms += ms;
    tg__vk_debug("pipeline %s: %.1f ms", name, ms);
    if (r == VK_SUCCESS) {
        d->pc.pipelines++;
        if ((fb.flags & VK_PIPELINE_CREATION_FEEDBACK_VALID_BIT_EXT) &&
            (fb.flags & VK_PIPELINE_CREATION_FEEDBACK_APPLICATION_PIPELINE_CACHE_HIT_BIT_EXT))
            d->pc.cache_hits++;
        else
            tg__vk_pcache_save(d);      /* a new pipeline: the file gains it for the next process */
    }
    if (r != VK_SUCCESS) {
        tg__error(TG_ERR_DEVICE, "%s: pipeline %s: %s", d->label, name, tg__vk_result_name(r));
        return -1;
    }
    snprintf(d->pipe_names[d->n_pipes], sizeof d->pipe_names[0], "%s", name);
    d->pipes[d->n_pipes] = p;
    index_pipeline(d, d->n_pipes);
    return d->n_pipes++;
}

/* The pipeline of an embedded module (gpu/shaders/<family>.variants);
 * "<module>#<n>" is that module with specialization constant 0 set to n. */
static int pipeline(tg_vkdev *d, const char *name) {
    int i = find_pipeline(d, name);
    if (i >= 0) return i;
    const char *hash = strchr(name, '#');
    size_t len = hash ? (size_t)(hash - name) : strlen(name);
    const tg__spv_module *m = tg__spv_modules;
    while (m->name && (strlen(m->name) != len || strncmp(m->name, name, len) != 0)) m++;
    if (!m->name) {
        tg__error(TG_ERR_UNSUPPORTED, "%s: no compute shader %s", d->label, name);
        return -1;
    }
    return create_pipeline(d, name, m->code, m->size, hash ? atoi(hash + 1) : -1);
}

/* Records a dispatch of pipeline p; params take a slice of the arena in
 * whole TG_VK_PARAM_BYTES units (the offset alignment every device meets). */
static tg_status record(tg_vkdev *d, int pi, const void *params, size_t nbytes, int nbuf, const VkBuffer *bufs,
                        uint32_t gx, uint32_t gy, uint32_t gz) {
    size_t slice = nbytes <= TG_VK_PARAM_BYTES ? TG_VK_PARAM_BYTES
                                               : (nbytes + TG_VK_PARAM_BYTES - 1) / TG_VK_PARAM_BYTES * TG_VK_PARAM_BYTES;
    if (slice > TG_VK_PARAM_BYTES_MAX) return tg__error(TG_ERR_ARG, "%s: %zu bytes of kernel parameters", d->label, nbytes);
    tg_status st = tg__vk_begin(d);
    if (st) return st;
    /* a captured run's parameters go into its own memory, with no batch limit */
    VkBuffer pbuf = d->pbuf;
    size_t off = 0;
    char *pdst = NULL;
    tg_vk_capture *c = d->captures ? tg__vk_capture_mine(d) : NULL;
    if (c && !tg__vk_capture_params(c, slice, &pbuf, &off, &pdst)) {
        /* no memory for it: the run goes on uncaptured */
        if ((st = tg__vk_capture_detach(d, c, false))) return st;
        pbuf = d->pbuf;
        c = NULL;
    }
    if (!c) {
        if (d->n_dispatch >= TG_VK_BATCH_DISPATCHES || d->pused + slice > d->psize) {
            if ((st = tg__vk_submit(d)) || (st = tg__vk_begin(d))) return st;
        }
        off = (size_t)d->cur * d->psize + d->pused;
        pdst = d->pmap + off;
        d->pused += slice;
    }
    memset(pdst, 0, slice);
    memcpy(pdst, params, nbytes < slice ? nbytes : slice);
    VkDescriptorBufferInfo info[TG_VK_BINDINGS] = {{pbuf, off, slice}};
    for (int i = 1; i < TG_VK_BINDINGS; i++) info[i] = (VkDescriptorBufferInfo){bufs[i - 1 < nbuf ? i - 1 : 0], 0, VK_WHOLE_SIZE};
    VkWriteDescriptorSet w[TG_VK_BINDINGS];
    for (uint32_t i = 0; i < TG_VK_BINDINGS; i++)
        w[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstBinding = i,
                                      .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                      .pBufferInfo = &info[i]};
    if (d->bound != pi) {           /* a chain of one op binds its pipeline once */
        vkCmdBindPipeline(d->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, d->pipes[pi]);
        d->bound = pi;
    }
    vkCmdPushDescriptorSetKHR(d->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, d->playout, 0, TG_VK_BINDINGS, w);
    if (d->prof) tg__vk_profile_before(d);
    vkCmdDispatch(d->cmd, gx, gy, gz);
    if (d->prof) tg__vk_profile_after(d, pi, gx, gy, gz);
    tg__vk_barrier(d);
    d->n_dispatch++;
    d->stats.dispatches++;
    return TG_OK;
}

tg_status tg__vk_dispatch(tg_vkdev *d, const char *pipe, const void *params, size_t nbytes, int nbuf,
                          const VkBuffer *bufs, uint32_t gx, uint32_t gy, uint32_t gz) {
    int pi = pipeline(d, pipe);
    if (pi < 0) return tg_last_error_code();
    return record(d, pi, params, nbytes, nbuf, bufs, gx, gy, gz);
}

tg_status tg__vk_dispatch_spirv(tg_vkdev *d, const char *name, const uint32_t *code, size_t size, const void *params,
                                size_t nbytes, int nbuf, const VkBuffer *bufs, uint32_t gx, uint32_t gy, uint32_t gz) {
    int pi = find_pipeline(d, name);
    if (pi < 0 && (pi = create_pipeline(d, name, code, size, -1)) < 0) return tg_last_error_code();
    return record(d, pi, params, nbytes, nbuf, bufs, gx, gy, gz);
}

int tg__vk_queue_stats(int dev, tg_vk_queue_stats *out) {
    tg_vkdev *d = tg__vk_dev(dev, "tg__vk_queue_stats");
    if (!d) return -1;
    pthread_mutex_lock(&d->lock);
    *out = d->stats;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

tg_status tg__vk_synchronize(void) {
    tg_status st = TG_OK;
    int n = tg__vk_device_count();
    for (int i = 0; i < n; i++) {
        tg_vkdev *d = &devices[i];
        if (!__atomic_load_n(&d->ready, __ATOMIC_ACQUIRE)) continue;
        pthread_mutex_lock(&d->lock);
        tg_status s = tg__vk_flush(d);
        pthread_mutex_unlock(&d->lock);
        if (s && !st) st = s;
    }
    return st;
}
#else
/* ISO C forbids an empty translation unit (TANGENT_VULKAN=OFF). */
typedef int tg__vk_unused_device;
#endif
