/* NumPy .npy files: reading versions 1.0-3.0 (C and Fortran order, either
 * byte order) and writing version 1.0 (2.0 when the header needs it).
 *
 * Format (numpy/lib/format.py): the magic "\x93NUMPY", a major and minor
 * version byte, the header length (little-endian u16 for 1.0, u32 for 2.0 and
 * 3.0), then the header: a Python dict literal with the keys 'descr',
 * 'fortran_order' and 'shape', padded with spaces and ended by '\n'. The
 * data follow. Every length read from the file is checked against the file
 * size before it is used, so a corrupt file gives an error, never an
 * over-read or a huge allocation. */
#include "tensor/ops/elementwise.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAX_HEADER (1 << 20)   /* NumPy itself refuses more than 10000 bytes by default */

static bool host_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* ---- header dict parser ------------------------------------------------- */

typedef struct {
    const char *p, *end;
    const char *path;
} cursor;

typedef struct {
    char descr[64];        /* the descr string, or a copy of the raw value text */
    bool descr_is_string;
    bool fortran;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    bool have_descr, have_fortran, have_shape;
} npy_header;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static tg_status malformed(const cursor *c, const char *what) {
    return tg__error(TG_ERR_IO, "tg_load_npy: '%s': malformed header: %s", c->path, what);
}

/* A Python string literal in single or double quotes (no escapes). */
static tg_status parse_string(cursor *c, char *out, size_t n) {
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return malformed(c, "expected a string");
    char q = *c->p++;
    size_t k = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\n') return malformed(c, "unsupported character in a string");
        if (k + 1 < n) out[k++] = *c->p;
        else return malformed(c, "string too long");
        c->p++;
    }
    if (c->p >= c->end) return malformed(c, "unterminated string");
    c->p++;
    out[k] = '\0';
    return TG_OK;
}

static bool match_word(cursor *c, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return false;
    c->p += n;
    return true;
}

/* A tuple of non-negative integers: "()", "(3,)", "(2, 3)", "(2, 3,)". */
static tg_status parse_shape(cursor *c, npy_header *h) {
    if (c->p >= c->end || *c->p != '(') return malformed(c, "'shape' is not a tuple");
    c->p++;
    h->ndim = 0;
    for (;;) {
        skip_ws(c);
        if (c->p < c->end && *c->p == ')') { c->p++; break; }
        bool neg = false;
        if (c->p < c->end && *c->p == '-') { neg = true; c->p++; }
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') return malformed(c, "'shape' holds a non-integer");
        int64_t v = 0;
        bool overflow = false;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            int d = *c->p++ - '0';
            if (v > (INT64_MAX - d) / 10) overflow = true;
            else v = v * 10 + d;
        }
        if (c->p < c->end && *c->p == 'L') c->p++;   /* Python 2 long */
        if (neg && (v != 0 || overflow))
            return tg__error(TG_ERR_SHAPE, "tg_load_npy: '%s': negative size in 'shape'", c->path);
        if (overflow)
            return tg__error(TG_ERR_SHAPE, "tg_load_npy: '%s': a size in 'shape' overflows int64", c->path);
        if (h->ndim == TG_MAX_DIMS)
            return tg__error(TG_ERR_SHAPE, "tg_load_npy: '%s': more than %d dimensions", c->path, TG_MAX_DIMS);
        h->shape[h->ndim++] = v;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') { c->p++; continue; }
        if (c->p < c->end && *c->p == ')') {
            if (h->ndim == 1) return malformed(c, "'shape' (n) is not a tuple; write (n,)");
            c->p++;
            break;
        }
        return malformed(c, "bad 'shape' tuple");
    }
    return TG_OK;
}

/* Copies the raw text of an unsupported descr value (a list for structured
 * dtypes) for the error message, stopping at the matching bracket. */
static void raw_value(cursor *c, char *out, size_t n) {
    int depth = 0;
    size_t k = 0;
    while (c->p < c->end) {
        char ch = *c->p;
        if (ch == '[' || ch == '(' || ch == '{') depth++;
        if (ch == ']' || ch == ')' || ch == '}') depth--;
        if (depth < 0 || (depth == 0 && ch == ',')) break;
        if (k + 1 < n) out[k++] = ch;
        c->p++;
        if (depth == 0) break;
    }
    if (k + 1 >= n && n > 4) memcpy(out + n - 4, "...", 4), k = n - 1;
    out[k] = '\0';
}

static tg_status parse_header(cursor *c, npy_header *h) {
    tg_status st;
    skip_ws(c);
    if (c->p >= c->end || *c->p != '{') return malformed(c, "not a dict");
    c->p++;
    for (;;) {
        skip_ws(c);
        if (c->p < c->end && *c->p == '}') { c->p++; break; }
        char key[32];
        if ((st = parse_string(c, key, sizeof key))) return st;
        skip_ws(c);
        if (c->p >= c->end || *c->p != ':') return malformed(c, "expected ':' after a key");
        c->p++;
        skip_ws(c);
        if (!strcmp(key, "descr")) {
            if (h->have_descr) return malformed(c, "repeated key 'descr'");
            h->have_descr = true;
            if (c->p < c->end && (*c->p == '\'' || *c->p == '"')) {
                if ((st = parse_string(c, h->descr, sizeof h->descr))) return st;
                h->descr_is_string = true;
            } else {
                raw_value(c, h->descr, sizeof h->descr);
                /* A structured dtype: reported once the dict has parsed. */
                if (c->p > c->end || h->descr[0] == '\0') return malformed(c, "bad 'descr'");
            }
        } else if (!strcmp(key, "fortran_order")) {
            if (h->have_fortran) return malformed(c, "repeated key 'fortran_order'");
            h->have_fortran = true;
            if (match_word(c, "True")) h->fortran = true;
            else if (match_word(c, "False")) h->fortran = false;
            else return malformed(c, "'fortran_order' is not True or False");
        } else if (!strcmp(key, "shape")) {
            if (h->have_shape) return malformed(c, "repeated key 'shape'");
            h->have_shape = true;
            if ((st = parse_shape(c, h))) return st;
        } else {
            return tg__error(TG_ERR_IO, "tg_load_npy: '%s': malformed header: unknown key '%s'", c->path, key);
        }
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') { c->p++; continue; }
        if (c->p < c->end && *c->p == '}') { c->p++; break; }
        return malformed(c, "expected ',' or '}'");
    }
    skip_ws(c);
    if (c->p != c->end) return malformed(c, "text after the dict");
    if (!h->have_descr || !h->have_fortran || !h->have_shape)
        return tg__error(TG_ERR_IO, "tg_load_npy: '%s': malformed header: missing key '%s'", c->path,
                         !h->have_descr ? "descr" : !h->have_fortran ? "fortran_order" : "shape");
    return TG_OK;
}

/* descr -> dtype and whether the data need a byte swap. */
static tg_status parse_descr(const char *path, const npy_header *h, tg_dtype *dtype, bool *swap) {
    static const struct { const char *code; tg_dtype dt; } table[] = {
        {"b1", TG_BOOL}, {"i4", TG_I32}, {"i8", TG_I64}, {"f4", TG_F32}, {"f8", TG_F64},
        {"c8", TG_C64}, {"c16", TG_C128}, {"f2", TG_F16},
    };
    const char *d = h->descr;
    if (h->descr_is_string && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
            if (strcmp(d + 1, table[i].code)) continue;
            bool one_byte = table[i].dt == TG_BOOL;
            if (d[0] == '|' && !one_byte) break;       /* '|' is only for 1-byte types */
            bool little = d[0] == '<' || (d[0] == '=' && host_little_endian());
            *dtype = table[i].dt;
            *swap = !one_byte && d[0] != '=' && (little != host_little_endian());
            return TG_OK;
        }
    }
    return tg__error(TG_ERR_IO, "tg_load_npy: '%s': unsupported dtype descr %s%s%s (Tangent reads "
                     "b1, i4, i8, f2, f4, f8, c8, c16 in either byte order)", path,
                     h->descr_is_string ? "'" : "", d, h->descr_is_string ? "'" : "");
}

static void byte_swap(char *p, size_t nitems, size_t width) {
    for (size_t i = 0; i < nitems; i++, p += width)
        for (size_t a = 0, b = width - 1; a < b; a++, b--) {
            char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* ---- reading -------------------------------------------------------------- */

static tg_status io_error(const char *op, const char *path, const char *what) {
    int e = errno;
    return tg__error(TG_ERR_IO, "%s: '%s': %s: %s", op, path, what, e ? strerror(e) : "unexpected end of file");
}

static tg_tensor *load(FILE *f, const char *path) {
    /* The file size bounds every length in the header. */
    if (fseek(f, 0, SEEK_END) != 0) return io_error("tg_load_npy", path, "cannot seek"), NULL;
    long fsize = ftell(f);
    if (fsize < 0 || fseek(f, 0, SEEK_SET) != 0) return io_error("tg_load_npy", path, "cannot seek"), NULL;

    unsigned char pre[12];
    if (fsize < 10 || fread(pre, 1, 10, f) != 10)
        return tg__error(TG_ERR_IO, "tg_load_npy: '%s': file too short for a .npy prefix (%ld bytes)", path,
                         fsize), NULL;
    if (memcmp(pre, NPY_MAGIC, 6) != 0)
        return tg__error(TG_ERR_IO, "tg_load_npy: '%s': not a .npy file (bad magic)", path), NULL;
    int major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return tg__error(TG_ERR_IO, "tg_load_npy: '%s': unsupported .npy version %d.%d", path, major, minor), NULL;
    uint64_t hlen;
    long prefix = major == 1 ? 10 : 12;
    if (major == 1) {
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
    } else {
        if (fsize < 12 || fread(pre + 10, 1, 2, f) != 2)
            return tg__error(TG_ERR_IO, "tg_load_npy: '%s': truncated header length", path), NULL;
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
    }
    if (hlen > (uint64_t)(fsize - prefix))
        return tg__error(TG_ERR_IO, "tg_load_npy: '%s': header length %llu runs past the end of the file "
                         "(%ld bytes)", path, (unsigned long long)hlen, fsize), NULL;
    if (hlen > NPY_MAX_HEADER)
        return tg__error(TG_ERR_IO, "tg_load_npy: '%s': header of %llu bytes is too long", path,
                         (unsigned long long)hlen), NULL;
    char *text = malloc(hlen ? hlen : 1);
    if (!text) return tg__error(TG_ERR_MEMORY, "tg_load_npy: out of memory"), NULL;
    if (fread(text, 1, hlen, f) != hlen) {
        free(text);
        return io_error("tg_load_npy", path, "cannot read the header"), NULL;
    }
    npy_header h;
    memset(&h, 0, sizeof h);
    cursor c = {text, text + hlen, path};
    tg_status st = parse_header(&c, &h);
    free(text);
    if (st) return NULL;

    tg_dtype dtype = TG_F64;
    bool swap = false;
    if (parse_descr(path, &h, &dtype, &swap)) return NULL;
    char what[300];
    snprintf(what, sizeof what, "tg_load_npy: '%s'", path);
    if (tg__check_shape(what, dtype, h.ndim, h.shape)) return NULL;

    int64_t n = tg__numel(h.ndim, h.shape);
    size_t es = tg_dtype_size(dtype);
    uint64_t nbytes = (uint64_t)n * es;
    uint64_t avail = (uint64_t)(fsize - prefix) - hlen;
    if (nbytes > avail)
        return tg__error(TG_ERR_IO, "tg_load_npy: '%s': truncated: shape %s of %s needs %llu data bytes, the "
                         "file has %llu", path, tg__fmt_shape(what, sizeof what, h.ndim, h.shape),
                         tg_dtype_name(dtype), (unsigned long long)nbytes, (unsigned long long)avail), NULL;

    /* Fortran order: the data are the C-order tensor of the reversed shape;
     * its transpose is the logical tensor, copied out in C order. */
    int64_t rshape[TG_MAX_DIMS];
    for (int i = 0; i < h.ndim; i++) rshape[i] = h.fortran ? h.shape[h.ndim - 1 - i] : h.shape[i];
    tg_tensor *raw = tg__alloc(dtype, h.ndim, rshape);
    if (!raw) return NULL;
    char *p = tg__ptr(raw);
    if (n > 0 && fread(p, 1, (size_t)nbytes, f) != (size_t)nbytes) {
        tg_release(raw);
        return io_error("tg_load_npy", path, "cannot read the data"), NULL;
    }
    if (swap) {
        size_t width = tg_dtype_is_complex(dtype) ? es / 2 : es;
        byte_swap(p, (size_t)nbytes / width, width);
    }
    if (dtype == TG_BOOL)
        for (int64_t i = 0; i < n; i++) p[i] = p[i] != 0;
    if (!h.fortran || h.ndim < 2 || n == 0) {
        if (h.fortran) memcpy(raw->shape, h.shape, sizeof h.shape);   /* rank <= 1 or empty: same bytes */
        tg__contiguous_strides(raw->ndim, raw->shape, raw->strides);
        return tg__handout(raw);
    }
    int64_t tstrides[TG_MAX_DIMS];
    for (int i = 0; i < h.ndim; i++) tstrides[i] = raw->strides[h.ndim - 1 - i];
    tg_tensor *view = tg__make_view(raw, dtype, h.ndim, h.shape, tstrides, 0);
    tg_tensor *out = view ? tg__alloc(dtype, h.ndim, h.shape) : NULL;
    if (out) tg__copy_into(out, view);
    tg_release(view);
    tg_release(raw);
    return tg__handout(out);
}

tg_tensor *tg_load_npy(const char *path) {
    if (!path) return tg__error(TG_ERR_ARG, "tg_load_npy: path is NULL"), NULL;
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return tg__error(TG_ERR_IO, "tg_load_npy: cannot open '%s': %s", path, strerror(errno)), NULL;
    errno = 0;
    tg_tensor *t = load(f, path);
    fclose(f);
    return t;
}

/* ---- writing -------------------------------------------------------------- */

static const char *descr_of(tg_dtype d) {
    bool le = host_little_endian();
    switch (d) {
    case TG_BOOL: return "|b1";
    case TG_I32: return le ? "<i4" : ">i4";
    case TG_I64: return le ? "<i8" : ">i8";
    case TG_F32: return le ? "<f4" : ">f4";
    case TG_F64: return le ? "<f8" : ">f8";
    case TG_C64: return le ? "<c8" : ">c8";
    case TG_C128: return le ? "<c16" : ">c16";
    case TG_F16: return le ? "<f2" : ">f2";
    default: return NULL;
    }
}

/* The prefix and padded header for t; returns its length (0 on overflow). */
static size_t build_header(const tg_tensor *t, char *buf, size_t cap) {
    char dict[512], shape[256];
    size_t k = 0;
    k += (size_t)snprintf(shape + k, sizeof shape - k, "(");
    for (int i = 0; i < t->ndim; i++)
        k += (size_t)snprintf(shape + k, sizeof shape - k, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    snprintf(shape + k, sizeof shape - k, t->ndim == 1 ? ",)" : ")");
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      descr_of(t->dtype), shape);
    if (dl < 0 || (size_t)dl >= sizeof dict) return 0;
    /* Version 1.0 unless the header needs more than 65535 bytes; the total
     * length is padded to a multiple of 64 (NumPy aligns the data so). */
    int major = 1;
    size_t prefix = 10, total = prefix + (size_t)dl + 1;
    total += (64 - total % 64) % 64;
    if (total - prefix > 65535) {
        major = 2;
        prefix = 12;
        total = prefix + (size_t)dl + 1;
        total += (64 - total % 64) % 64;
    }
    if (total > cap) return 0;
    size_t hlen = total - prefix;
    memcpy(buf, NPY_MAGIC, 6);
    buf[6] = (char)major;
    buf[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++) buf[8 + i] = (char)((hlen >> (8 * i)) & 0xff);
    memcpy(buf + prefix, dict, (size_t)dl);
    memset(buf + prefix + dl, ' ', total - prefix - (size_t)dl - 1);
    buf[total - 1] = '\n';
    return total;
}

tg_status tg_save_npy(const tg_tensor *t, const char *path) {
    if (!t) return tg__error(TG_ERR_ARG, "tg_save_npy: tensor is NULL");
    if (!path) return tg__error(TG_ERR_ARG, "tg_save_npy: path is NULL");
    if (t->dtype == TG_BF16)
        return tg__error(TG_ERR_UNSUPPORTED, "tg_save_npy: NumPy has no bf16 dtype; cast to f32 first "
                         "(writing '%s')", path);
    if (!descr_of(t->dtype)) return tg__error(TG_ERR_DTYPE, "tg_save_npy: invalid dtype %d", (int)t->dtype);
    if (t->storage->device.kind != TG_CPU)
        return tg__error(TG_ERR_DEVICE, "tg_save_npy: tensor is not on the CPU; use tg_to_device first");
    char header[1024];
    size_t hl = build_header(t, header, sizeof header);
    if (!hl) return tg__error(TG_ERR_SHAPE, "tg_save_npy: header too long");

    /* A non-contiguous tensor is written through a contiguous copy. */
    tg_tensor *c = NULL;
    const char *data = NULL;
    int64_t n = tg__numel(t->ndim, t->shape);
    if (n > 0) {
        if (tg__is_contiguous(t)) {
            data = tg__ptr(t);
        } else {
            c = tg__alloc(t->dtype, t->ndim, t->shape);
            if (!c) return tg_last_error_code();
            tg__copy_into(c, (tg_tensor *)t);
            data = tg__ptr(c);
        }
    }
    size_t nbytes = (size_t)n * tg_dtype_size(t->dtype);
    errno = 0;
    FILE *f = fopen(path, "wb");
    if (!f) {
        tg_release(c);
        return tg__error(TG_ERR_IO, "tg_save_npy: cannot open '%s' for writing: %s", path, strerror(errno));
    }
    bool ok = fwrite(header, 1, hl, f) == hl && (nbytes == 0 || fwrite(data, 1, nbytes, f) == nbytes);
    int e = errno;
    ok = (fclose(f) == 0) && ok;
    if (!e) e = errno;
    tg_release(c);
    if (!ok) {
        remove(path);
        return tg__error(TG_ERR_IO, "tg_save_npy: cannot write '%s': %s", path, e ? strerror(e) : "write failed");
    }
    return TG_OK;
}
