/* Thread-local error state: the first error since tg_clear_error() wins. */
#include "tensor/tensor_impl.h"
#include "tangent/sizes.h"

#include <stdio.h>
#include <string.h>

static _Thread_local tg_status err_code = TG_OK;
static _Thread_local char err_msg[1024];
static _Thread_local const char *loc_file;
static _Thread_local int loc_line;

const char *tg_last_error(void) { return err_code == TG_OK ? "" : err_msg; }
tg_status tg_last_error_code(void) { return err_code; }
void tg_clear_error(void) { err_code = TG_OK; err_msg[0] = 0; }

void tg__error_stash(tg__stashed_error *s) {
    _Static_assert(sizeof s->msg == sizeof err_msg, "a stash holds a whole message");
    s->code = err_code;
    if (err_code == TG_OK) return;          /* the common case: nothing to keep */
    memcpy(s->msg, err_msg, sizeof err_msg);
    tg_clear_error();
}
void tg__error_unstash(const tg__stashed_error *s) {
    if (s->code == TG_OK) return;
    err_code = s->code;
    memcpy(err_msg, s->msg, sizeof err_msg);
}

void tg__set_location(const char *file, int line) { loc_file = file; loc_line = line; }
void tg__clear_location(void) { loc_file = NULL; loc_line = 0; }
void tg__get_location(const char **file, int *line) { *file = loc_file; *line = loc_line; }

tg_status tg__verror(tg_status code, const char *fmt, va_list ap) {
    if (err_code != TG_OK) return code;   /* keep the first */
    err_code = code;
    int n = vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof err_msg && loc_file)
        snprintf(err_msg + n, sizeof err_msg - (size_t)n, " (at %s:%d)", loc_file, loc_line);
    return code;
}

tg_status tg__error(tg_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tg__verror(code, fmt, ap);
    va_end(ap);
    return code;
}

const char *tg_status_name(tg_status s) {
    static const char *names[] = {"TG_OK", "TG_ERR_ARG", "TG_ERR_SHAPE", "TG_ERR_DTYPE",
                                  "TG_ERR_DEVICE", "TG_ERR_MEMORY", "TG_ERR_NUMERIC",
                                  "TG_ERR_AUTOGRAD", "TG_ERR_IO", "TG_ERR_UNSUPPORTED"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "TG_ERR_?";
}

const char *tg__fmt_shape(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < ndim && k < n; i++) {
        char d[128];
        if (shape[i] >= TG_SYM_BASE_INTERNAL) tg_size_format(shape[i], d, sizeof d);
        else snprintf(d, sizeof d, "%lld", (long long)shape[i]);
        k += (size_t)snprintf(buf + k, n - k, i ? ", %s" : "%s", d);
    }
    if (k < n) k += (size_t)snprintf(buf + k, n - k, ndim == 1 ? ",)" : ")");
    return buf;
}

const char *tg__fmt_size(char *buf, size_t n, int64_t size) {
    if (size >= TG_SYM_BASE_INTERNAL) tg_size_format(size, buf, n);
    else snprintf(buf, n, "%lld", (long long)size);
    return buf;
}

const char *tg__fmt_meta(char *buf, size_t n, tg_dtype dtype, int ndim, const int64_t *shape) {
    tg__fmt_shape(buf, n, ndim, shape);
    size_t k = strlen(buf);
    if (k < n) snprintf(buf + k, n - k, " %s", tg_dtype_name(dtype));
    return buf;
}
