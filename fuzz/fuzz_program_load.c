/* libFuzzer target: tg_program_load_buffer on arbitrary bytes must fail with
 * an error or load, never crash, over-read or leak. A program that loads is
 * saved again and reloaded (the save path on whatever the loader accepted).
 * Built with clang-14 -fsanitize=fuzzer,address (fuzz/README.md), or with
 * replay_main.c into a plain program that replays the corpus under CTest. */
#include <tangent/tangent.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_program *p = tg_program_load_buffer(data, size);
    if (p) {
        void *buf = NULL;
        size_t len = 0;
        if (tg_program_save_buffer(p, &buf, &len) == TG_OK) {
            tg_program *q = tg_program_load_buffer(buf, len);
            if (!q) abort();                      /* what was saved must load */
            tg_program_free(q);
        }
        free(buf);
        tg_program_free(p);
    }
    tg_clear_error();
    return 0;
}
