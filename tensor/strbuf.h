/* A growing text buffer for text the library writes: einsum path reports
 * (einsum/path_report.c) and generated GPU kernels (gpu/fused.c). */
#ifndef TG_STRBUF_H
#define TG_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tg_strbuf {
    char *s;                      /* NUL-terminated once anything is written; free() it */
    size_t len, cap;
    bool bad;                     /* out of memory or an encoding error: later writes do nothing */
} tg_strbuf;

/* Appends printf-formatted text. */
void tg__strbuf_printf(tg_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
