/* safetensors files (Hugging Face's format, github.com/huggingface/safetensors).
 *
 * Layout: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON (an object
 * mapping each tensor name to {"dtype", "shape", "data_offsets": [begin,
 * end]}, plus an optional "__metadata__" object of strings; writers pad it
 * with spaces so that the data start 8-byte aligned), then the data buffer:
 * each tensor's bytes, C order, little-endian, at [begin, end) of the buffer.
 *
 * Writing: the tensors in the order given, back to back, any strides (a
 * non-contiguous tensor goes through a C-order copy); dtypes BOOL, I32, I64,
 * F16, BF16, F32, F64, and complex as the non-standard dtypes "C64" (pairs
 * of F32) and "C128" (pairs of F64), which only Tangent reads. The file is
 * written under a temporary name in the same directory, flushed to disk and
 * renamed over path, so a reader never sees a partial file.
 *
 * Reading validates everything before allocating: the header length against
 * the file size (and a 100 MB cap, as the reference implementation), the
 * JSON (an object; only spaces after it), each entry (dtype known, shape of
 * at most TG_MAX_DIMS non-negative integers, two integer offsets with begin
 * <= end <= buffer size, end - begin = numel * dtype size), and the buffer
 * as a whole (no overlapping ranges, no holes, nothing after the last one:
 * the reference implementation's rules). U8, I8 and I16 load widened to
 * i32 (Tangent has no narrow integers); U16/U32/U64 and the F8 types are
 * refused (TG_ERR_IO naming the dtype). Tensors come back in the order of
 * the header's entries. */
#include "tensor/ops/elementwise.h"
#include "tangent/io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER 100000000ull          /* the reference implementation's limit */
#define ST_MAX_INT ((double)((uint64_t)1 << 53))

static bool host_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static void byte_swap(char *p, size_t nitems, size_t width) {
    for (size_t i = 0; i < nitems; i++, p += width)
        for (size_t a = 0, b = width - 1; a < b; a++, b--) {
            char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* ---- dtypes --------------------------------------------------------------- */
typedef struct {
    const char *name;
    tg_dtype dtype;      /* what it loads as */
    int size;            /* bytes per element in the file */
    int swap;            /* byte-swap width (0: none) */
    bool is_signed;      /* for the widened integers */
} st_type;

static const st_type st_types[] = {
    {"BOOL", TG_BOOL, 1, 0, false}, {"U8", TG_I32, 1, 0, false},  {"I8", TG_I32, 1, 0, true},
    {"I16", TG_I32, 2, 2, true},    {"I32", TG_I32, 4, 4, true},  {"I64", TG_I64, 8, 8, true},
    {"F16", TG_F16, 2, 2, false},   {"BF16", TG_BF16, 2, 2, false}, {"F32", TG_F32, 4, 4, false},
    {"F64", TG_F64, 8, 8, false},   {"C64", TG_C64, 8, 4, false}, {"C128", TG_C128, 16, 8, false},
};

static const st_type *type_named(const char *s) {
    for (size_t i = 0; i < sizeof st_types / sizeof st_types[0]; i++)
        if (!strcmp(st_types[i].name, s)) return &st_types[i];
    return NULL;
}

static const char *name_of(tg_dtype d) {
    switch (d) {
    case TG_BOOL: return "BOOL";
    case TG_I32: return "I32";
    case TG_I64: return "I64";
    case TG_F16: return "F16";
    case TG_BF16: return "BF16";
    case TG_F32: return "F32";
    case TG_F64: return "F64";
    case TG_C64: return "C64";
    case TG_C128: return "C128";
    default: return NULL;
    }
}

/* ---- dictionary ------------------------------------------------------------ */
void tg_tensor_dict_free(tg_tensor_dict *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        if (d->tensors) tg_release(d->tensors[i]);
        if (d->names) free(d->names[i]);
    }
    free(d->tensors);
    free(d->names);
    d->n = 0;
    d->names = NULL;
    d->tensors = NULL;
}

/* ---- reading -------------------------------------------------------------- */
typedef struct {
    const char *name;
    const st_type *type;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    uint64_t begin, end;
} entry;

static int by_range(const void *a, const void *b) {
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static bool json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= ST_MAX_INT) || d != (double)(uint64_t)d) return false;
    *out = (uint64_t)d;
    return true;
}

#define BAD(...) (tg__error(TG_ERR_IO, __VA_ARGS__), TG_ERR_IO)

/* Parses entry e from the JSON value v; checks its own consistency and the
 * buffer bound. */
static tg_status parse_entry(const char *path, const cJSON *v, uint64_t buffer, entry *e) {
    const char *nm = e->name;
    if (!cJSON_IsObject(v))
        return BAD("tg_load_safetensors: '%s': malformed header: entry '%s' is not an object", path, nm);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(v, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(v, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(v, "data_offsets");
    if (!dt || !sh || !of)
        return BAD("tg_load_safetensors: '%s': malformed header: entry '%s' has no '%s'", path, nm,
                   !dt ? "dtype" : !sh ? "shape" : "data_offsets");
    if (!cJSON_IsString(dt))
        return BAD("tg_load_safetensors: '%s': malformed header: 'dtype' of '%s' is not a string", path, nm);
    e->type = type_named(dt->valuestring);
    if (!e->type)
        return BAD("tg_load_safetensors: '%s': tensor '%s' has dtype '%.40s', which Tangent cannot load (it "
                   "reads BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64, C64, C128)", path, nm, dt->valuestring);
    if (!cJSON_IsArray(sh))
        return BAD("tg_load_safetensors: '%s': malformed header: 'shape' of '%s' is not an array", path, nm);
    int nd = cJSON_GetArraySize(sh);
    if (nd > TG_MAX_DIMS)
        return BAD("tg_load_safetensors: '%s': tensor '%s' has %d dimensions (at most %d)", path, nm, nd, TG_MAX_DIMS);
    e->ndim = nd;
    uint64_t numel = 1;
    bool overflow = false;
    for (int i = 0; i < nd; i++) {
        uint64_t s;
        if (!json_uint(cJSON_GetArrayItem(sh, i), &s))
            return BAD("tg_load_safetensors: '%s': malformed header: 'shape' of '%s' holds something other than a "
                       "non-negative integer", path, nm);
        e->shape[i] = (int64_t)s;
        if (s && numel > UINT64_MAX / 16 / s) overflow = true;
        else numel *= s;
    }
    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || !json_uint(cJSON_GetArrayItem(of, 0), &e->begin) ||
        !json_uint(cJSON_GetArrayItem(of, 1), &e->end))
        return BAD("tg_load_safetensors: '%s': malformed header: 'data_offsets' of '%s' is not a pair of non-negative "
                   "integers", path, nm);
    if (e->begin > e->end)
        return BAD("tg_load_safetensors: '%s': tensor '%s': data_offsets [%llu, %llu] end before they begin", path, nm,
                   (unsigned long long)e->begin, (unsigned long long)e->end);
    char buf[200];
    /* a size that overflows cannot match any range in a file */
    if (overflow || (uint64_t)numel * (uint64_t)e->type->size != e->end - e->begin)
        return BAD("tg_load_safetensors: '%s': tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, but shape %s of "
                   "%s needs %s%llu", path, nm, (unsigned long long)e->begin, (unsigned long long)e->end,
                   (unsigned long long)(e->end - e->begin), tg__fmt_shape(buf, sizeof buf, nd, e->shape),
                   e->type->name, overflow ? "more than " : "",
                   overflow ? (unsigned long long)UINT64_MAX : (unsigned long long)(numel * (uint64_t)e->type->size));
    if (e->end > buffer)
        return BAD("tg_load_safetensors: '%s': truncated: tensor '%s' has data_offsets [%llu, %llu], but the data "
                   "buffer holds %llu bytes", path, nm, (unsigned long long)e->begin, (unsigned long long)e->end,
                   (unsigned long long)buffer);
    /* the tensor is no larger than 4 times the file (widened bytes): no size check can fail */
    return TG_OK;
}

static tg_status check_metadata(const char *path, const cJSON *v) {
    if (!cJSON_IsObject(v))
        return BAD("tg_load_safetensors: '%s': malformed header: '__metadata__' is not an object", path);
    for (const cJSON *c = v->child; c; c = c->next)
        if (!cJSON_IsString(c))
            return BAD("tg_load_safetensors: '%s': malformed header: '__metadata__' value '%s' is not a string", path,
                       c->string);
    return TG_OK;
}

/* Reads e's bytes from f (at data + begin) into a new tensor. */
static tg_tensor *read_entry(FILE *f, const char *path, off_t data, const entry *e) {
    tg_tensor *t = tg__alloc(e->type->dtype, e->ndim, e->shape);
    if (!t) return NULL;
    uint64_t nbytes = e->end - e->begin;
    if (nbytes == 0) return t;
    bool widen = e->type->size != (int)tg__esize(e->type->dtype);
    char *dst = tg__ptr(t);
    /* widened types read into the tensor's tail, then spread out front to back */
    char *raw = widen ? dst + (size_t)tg__numel(e->ndim, e->shape) * 4 - nbytes : dst;
    if (fseeko(f, data + (off_t)e->begin, SEEK_SET) != 0 || fread(raw, 1, (size_t)nbytes, f) != (size_t)nbytes) {
        int er = errno;
        tg_release(t);
        tg__error(TG_ERR_IO, "tg_load_safetensors: '%s': cannot read the data of '%s': %s", path, e->name,
                  er ? strerror(er) : "unexpected end of file");
        return NULL;
    }
    if (e->type->swap > 1 && !host_little_endian())
        byte_swap(raw, (size_t)nbytes / (size_t)e->type->swap, (size_t)e->type->swap);
    size_t n = (size_t)tg__numel(e->ndim, e->shape);
    if (widen) {
        int32_t *o = (int32_t *)dst;
        /* raw sits at the end of the buffer: element i is read before slot i is written */
        if (e->type->size == 1) {
            const unsigned char *r = (const unsigned char *)raw;
            for (size_t i = 0; i < n; i++) o[i] = e->type->is_signed ? (int32_t)(int8_t)r[i] : (int32_t)r[i];
        } else {
            for (size_t i = 0; i < n; i++) {
                int16_t v;
                memcpy(&v, raw + 2 * i, 2);
                o[i] = v;
            }
        }
    }
    if (e->type->dtype == TG_BOOL)
        for (size_t i = 0; i < n; i++) dst[i] = dst[i] != 0;
    return t;
}

static tg_status load(FILE *f, const char *path, tg_tensor_dict *out) {
    struct stat st;
    if (fstat(fileno(f), &st) != 0) return BAD("tg_load_safetensors: '%s': cannot stat: %s", path, strerror(errno));
    uint64_t fsize = (uint64_t)st.st_size;
    unsigned char pre[8];
    if (fsize < 8 || fread(pre, 1, 8, f) != 8)
        return BAD("tg_load_safetensors: '%s': truncated: %llu bytes, too short for the 8-byte header length", path,
                   (unsigned long long)fsize);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | pre[i];
    if (hlen > fsize - 8)
        return BAD("tg_load_safetensors: '%s': header length %llu runs past the end of the file (%llu bytes)", path,
                   (unsigned long long)hlen, (unsigned long long)fsize);
    if (hlen > ST_MAX_HEADER)
        return BAD("tg_load_safetensors: '%s': header of %llu bytes is too long (at most %llu)", path,
                   (unsigned long long)hlen, ST_MAX_HEADER);
    char *text = malloc((size_t)hlen + 1);
    if (!text) return tg__error(TG_ERR_MEMORY, "tg_load_safetensors: out of memory");
    if (fread(text, 1, (size_t)hlen, f) != (size_t)hlen) {
        free(text);
        return BAD("tg_load_safetensors: '%s': cannot read the header: %s", path,
                   errno ? strerror(errno) : "end of file");
    }
    text[hlen] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)hlen, &end, false);
    if (!root) {
        size_t at = end && end >= text && end <= text + hlen ? (size_t)(end - text) : 0;
        free(text);
        return BAD("tg_load_safetensors: '%s': malformed header: invalid JSON near byte %zu of %llu", path, at,
                   (unsigned long long)hlen);
    }
    tg_status rc = TG_OK;
    entry *es = NULL, **order = NULL;
    for (const char *p = end; p && p < text + hlen; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            rc = BAD("tg_load_safetensors: '%s': malformed header: text after the JSON object at byte %zu", path,
                     (size_t)(p - text));
            goto done;
        }
    if (!cJSON_IsObject(root)) {
        rc = BAD("tg_load_safetensors: '%s': malformed header: the JSON is not an object", path);
        goto done;
    }
    int count = 0;
    for (const cJSON *c = root->child; c; c = c->next) count++;
    es = calloc((size_t)(count ? count : 1), sizeof *es);
    order = calloc((size_t)(count ? count : 1), sizeof *order);
    if (!es || !order) {
        rc = tg__error(TG_ERR_MEMORY, "tg_load_safetensors: out of memory");
        goto done;
    }
    uint64_t buffer = fsize - 8 - hlen;
    int n = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (!strcmp(c->string, "__metadata__")) {
            if ((rc = check_metadata(path, c))) goto done;
            continue;
        }
        for (int i = 0; i < n; i++)
            if (!strcmp(es[i].name, c->string)) {
                rc = BAD("tg_load_safetensors: '%s': malformed header: tensor name '%s' appears twice", path,
                         c->string);
                goto done;
            }
        es[n].name = c->string;
        if ((rc = parse_entry(path, c, buffer, &es[n]))) goto done;
        order[n] = &es[n];
        n++;
    }
    /* The ranges must tile the buffer exactly. */
    qsort(order, (size_t)n, sizeof *order, by_range);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        const entry *e = order[i];
        if (e->begin < at) {
            const entry *prev = order[i - 1];
            rc = BAD("tg_load_safetensors: '%s': tensors '%s' [%llu, %llu] and '%s' [%llu, %llu] overlap", path,
                     prev->name, (unsigned long long)prev->begin, (unsigned long long)prev->end, e->name,
                     (unsigned long long)e->begin, (unsigned long long)e->end);
            goto done;
        }
        if (e->begin > at) {
            rc = BAD("tg_load_safetensors: '%s': bytes [%llu, %llu) of the data buffer belong to no tensor (the format "
                     "forbids holes)", path, (unsigned long long)at, (unsigned long long)e->begin);
            goto done;
        }
        at = e->end;
    }
    if (at != buffer) {
        rc = BAD("tg_load_safetensors: '%s': %llu bytes after the last tensor's data (the buffer holds %llu, the "
                 "tensors cover %llu)", path, (unsigned long long)(buffer - at), (unsigned long long)buffer,
                 (unsigned long long)at);
        goto done;
    }
    out->names = calloc((size_t)(n ? n : 1), sizeof *out->names);
    out->tensors = calloc((size_t)(n ? n : 1), sizeof *out->tensors);
    if (!out->names || !out->tensors) {
        rc = tg__error(TG_ERR_MEMORY, "tg_load_safetensors: out of memory");
        goto done;
    }
    off_t data = (off_t)(8 + hlen);
    for (int i = 0; i < n; i++) {
        out->names[i] = strdup(es[i].name);
        if (!out->names[i]) {
            rc = tg__error(TG_ERR_MEMORY, "tg_load_safetensors: out of memory");
            goto done;
        }
        out->n = i + 1;
        errno = 0;
        out->tensors[i] = read_entry(f, path, data, &es[i]);
        if (!out->tensors[i]) {
            rc = tg_last_error_code() ? tg_last_error_code() : TG_ERR_IO;
            goto done;
        }
    }
done:
    free(order);
    free(es);
    cJSON_Delete(root);
    free(text);
    return rc;
}

tg_status tg_load_safetensors(const char *path, tg_tensor_dict *out) {
    if (!out) return tg__error(TG_ERR_ARG, "tg_load_safetensors: out is NULL");
    out->n = 0;
    out->names = NULL;
    out->tensors = NULL;
    if (!path) return tg__error(TG_ERR_ARG, "tg_load_safetensors: path is NULL");
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return tg__error(TG_ERR_IO, "tg_load_safetensors: cannot open '%s': %s", path, strerror(errno));
    errno = 0;
    tg_status rc = load(f, path, out);
    fclose(f);
    if (rc) tg_tensor_dict_free(out);
    return rc;
}

/* ---- writing -------------------------------------------------------------- */
typedef struct {
    char *s;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) { b->oom = true; return; }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}
static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static void put_json_string(sbuf *b, const char *s) {
    puts_(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') { esc[0] = '\\'; esc[1] = (char)*p; put(b, esc, 2); }
        else if (*p < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", *p); puts_(b, esc); }
        else put(b, (const char *)p, 1);
    }
    puts_(b, "\"");
}

/* Names must be valid UTF-8 (JSON text). */
static bool valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int k = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 && *p >= 0xC2 ? 1 : (*p & 0xF0) == 0xE0 ? 2
              : (*p & 0xF8) == 0xF0 && *p <= 0xF4 ? 3 : -1;
        if (k < 0) return false;
        uint32_t cp = k == 0 ? *p : *p & (0x3F >> k);
        p++;
        for (int i = 0; i < k; i++, p++) {
            if ((*p & 0xC0) != 0x80) return false;
            cp = cp << 6 | (*p & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
    }
    return true;
}

static tg_status check_save_args(const char *path, int n, const char *const *names, tg_tensor *const *tensors) {
    if (!path) return tg__error(TG_ERR_ARG, "tg_save_safetensors: path is NULL");
    if (n < 0) return tg__error(TG_ERR_ARG, "tg_save_safetensors: n = %d is negative", n);
    if (n > 0 && (!names || !tensors))
        return tg__error(TG_ERR_ARG, "tg_save_safetensors: %s is NULL", !names ? "names" : "tensors");
    for (int i = 0; i < n; i++) {
        const char *nm = names[i];
        if (!nm || !*nm) return tg__error(TG_ERR_ARG, "tg_save_safetensors: names[%d] is %s", i, nm ? "empty" : "NULL");
        if (!strcmp(nm, "__metadata__"))
            return tg__error(TG_ERR_ARG, "tg_save_safetensors: names[%d] '__metadata__' is reserved by the format", i);
        if (!valid_utf8(nm)) return tg__error(TG_ERR_ARG, "tg_save_safetensors: names[%d] is not valid UTF-8", i);
        for (int j = 0; j < i; j++)
            if (!strcmp(names[j], nm))
                return tg__error(TG_ERR_ARG, "tg_save_safetensors: names[%d] and names[%d] are both '%s'", j, i, nm);
        const tg_tensor *t = tensors[i];
        if (!t) return tg__error(TG_ERR_ARG, "tg_save_safetensors: tensors[%d] ('%s') is NULL", i, nm);
        if (tg__is_tracer(t))
            return tg__error(TG_ERR_ARG, "tg_save_safetensors: tensors[%d] ('%s') is a tracer, not data", i, nm);
        if (t->storage->device.kind != TG_CPU)
            return tg__error(TG_ERR_DEVICE, "tg_save_safetensors: tensors[%d] ('%s') is not on the CPU; use "
                             "tg_to_device first", i, nm);
        if (!name_of(t->dtype))
            return tg__error(TG_ERR_DTYPE, "tg_save_safetensors: tensors[%d] has invalid dtype %d", i, (int)t->dtype);
    }
    return TG_OK;
}

static tg_status write_tensor(FILE *f, tg_tensor *t) {
    int64_t n = tg__numel(t->ndim, t->shape);
    if (n == 0) return TG_OK;
    size_t nbytes = (size_t)n * (size_t)tg__esize(t->dtype);
    bool swap = !host_little_endian() && tg__esize(t->dtype) > 1;
    tg_tensor *c = NULL;
    if (!tg__is_contiguous(t) || swap) {
        c = tg__alloc(t->dtype, t->ndim, t->shape);
        if (!c) return tg_last_error_code();
        tg__copy_into(c, t);
        if (swap) {
            size_t w = (size_t)tg__esize(tg_real_dtype(t->dtype));
            byte_swap(tg__ptr(c), nbytes / w, w);
        }
    }
    bool ok = fwrite(tg__ptr(c ? c : t), 1, nbytes, f) == nbytes;
    tg_release(c);
    return ok ? TG_OK : TG_ERR_IO;
}

tg_status tg_save_safetensors(const char *path, int n, const char *const *names, tg_tensor *const *tensors) {
    tg_status rc = check_save_args(path, n, names, tensors);
    if (rc) return rc;
    /* The header, in the order given; the data follow back to back. */
    sbuf h = {0};
    puts_(&h, "{");
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        const tg_tensor *t = tensors[i];
        uint64_t nb = (uint64_t)tg__numel(t->ndim, t->shape) * (uint64_t)tg__esize(t->dtype);
        char num[64];
        if (i) puts_(&h, ",");
        put_json_string(&h, names[i]);
        puts_(&h, ":{\"dtype\":\"");
        puts_(&h, name_of(t->dtype));
        puts_(&h, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            snprintf(num, sizeof num, d ? ",%lld" : "%lld", (long long)t->shape[d]);
            puts_(&h, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)at,
                 (unsigned long long)(at + nb));
        puts_(&h, num);
        at += nb;
    }
    puts_(&h, "}");
    while (!h.oom && (8 + h.n) % 8) puts_(&h, " ");
    if (h.oom) {
        free(h.s);
        return tg__error(TG_ERR_MEMORY, "tg_save_safetensors: out of memory");
    }

    /* A fresh temporary beside path, renamed over it once complete. */
    static int counter;
    size_t plen = strlen(path) + 64;
    char *tmp = malloc(plen);
    if (!tmp) {
        free(h.s);
        return tg__error(TG_ERR_MEMORY, "tg_save_safetensors: out of memory");
    }
    snprintf(tmp, plen, "%s.tmp-%ld-%d", path, (long)getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    errno = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        rc = tg__error(TG_ERR_IO, "tg_save_safetensors: cannot create '%s': %s", tmp, strerror(e));
        free(tmp);
        free(h.s);
        return rc;
    }
    unsigned char pre[8];
    uint64_t hlen = h.n;
    for (int i = 0; i < 8; i++) pre[i] = (unsigned char)(hlen >> (8 * i));
    errno = 0;
    bool ok = fwrite(pre, 1, 8, f) == 8 && fwrite(h.s, 1, h.n, f) == h.n;
    free(h.s);
    for (int i = 0; ok && i < n; i++) {
        rc = write_tensor(f, tensors[i]);
        if (rc == TG_ERR_MEMORY) {
            fclose(f);
            unlink(tmp);
            free(tmp);
            return rc;
        }
        ok = rc == TG_OK;
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    ok = fclose(f) == 0 && ok;
    if (!e) e = errno;
    if (ok && rename(tmp, path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return tg__error(TG_ERR_IO, "tg_save_safetensors: cannot write '%s': %s", path,
                         e ? strerror(e) : "write failed");
    }
    free(tmp);
    return TG_OK;
}
