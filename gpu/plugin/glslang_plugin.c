/* libtangent_glslang: the run-time GLSL compiler of the Vulkan backend, a
 * plugin that libtangent loads with dlopen when it first generates a
 * kernel (gpu/spirv_cache.c). It wraps glslang's C interface, linked in
 * statically from Debian's glslang-dev and spirv-tools, so glslang's C++
 * runtime never becomes a dependency of libtangent itself. (Debian 12's
 * libshaderc1 cannot be used: it carries its own copy of glslang's SPIR-V
 * back end built against another glslang, and crashes on any shader.) */
#include <glslang/Include/glslang_c_interface.h>
#include <glslang/Public/resource_limits_c.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int tg_glslang_compile(const char *src, uint32_t **words, size_t *nwords, char *log, size_t nlog);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init(void) { glslang_initialize_process(); }

/* A compute shader's SPIR-V for Vulkan 1.1 into *words (malloc'd). 0 on
 * success; otherwise glslang's message in log. */
int tg_glslang_compile(const char *src, uint32_t **words, size_t *nwords, char *log, size_t nlog) {
    pthread_once(&once, init);
    *words = NULL;
    *nwords = 0;
    glslang_input_t in = {.language = GLSLANG_SOURCE_GLSL, .stage = GLSLANG_STAGE_COMPUTE,
                          .client = GLSLANG_CLIENT_VULKAN, .client_version = GLSLANG_TARGET_VULKAN_1_1,
                          .target_language = GLSLANG_TARGET_SPV, .target_language_version = GLSLANG_TARGET_SPV_1_3,
                          .code = src, .default_version = 450, .default_profile = GLSLANG_NO_PROFILE,
                          .messages = GLSLANG_MSG_DEFAULT_BIT, .resource = glslang_default_resource()};
    glslang_shader_t *sh = glslang_shader_create(&in);
    if (!sh) { snprintf(log, nlog, "glslang: no shader object"); return 1; }
    int rc = 1;
    glslang_program_t *prog = NULL;
    if (!glslang_shader_preprocess(sh, &in) || !glslang_shader_parse(sh, &in)) {
        snprintf(log, nlog, "%s", glslang_shader_get_info_log(sh));
    } else if (!(prog = glslang_program_create())) {
        snprintf(log, nlog, "glslang: no program object");
    } else {
        glslang_program_add_shader(prog, sh);
        if (!glslang_program_link(prog, GLSLANG_MSG_SPV_RULES_BIT | GLSLANG_MSG_VULKAN_RULES_BIT)) {
            snprintf(log, nlog, "%s", glslang_program_get_info_log(prog));
        } else {
            glslang_program_SPIRV_generate(prog, GLSLANG_STAGE_COMPUTE);
            size_t n = glslang_program_SPIRV_get_size(prog);
            if (n > 0 && (*words = malloc(n * sizeof **words))) {
                glslang_program_SPIRV_get(prog, *words);
                *nwords = n;
                rc = 0;
            } else {
                snprintf(log, nlog, "glslang: no SPIR-V");
            }
        }
        glslang_program_delete(prog);
    }
    glslang_shader_delete(sh);
    return rc;
}
