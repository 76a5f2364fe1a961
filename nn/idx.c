/* tg_load_idx: IDX files (the MNIST / Fashion-MNIST format), plain or
 * gzip-compressed.
 *
 * Format (LeCun's MNIST page): two zero bytes, a type byte (0x08 unsigned
 * byte, 0x09 signed byte, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64), a byte
 * giving the number of dimensions d, then d big-endian u32 sizes, then the
 * elements in C order, big-endian. Bytes and shorts are widened to i32.
 *
 * The file is read through zlib's gzopen/gzread, which reads a plain file
 * as it is and decompresses a gzip one (its CRC and length are checked when
 * the stream ends, so a corrupt stream is an error). The data must end
 * exactly where the header says: a short file and trailing bytes are both
 * TG_ERR_IO. Before anything is allocated, the size the header claims is
 * checked against the file on disk (for gzip, against deflate's largest
 * possible expansion), so a corrupt header cannot cause a huge allocation.
 * The data are read in chunks and converted on the fly. */
#include "tensor/tensor_impl.h"
#include "tangent/nn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_CHUNK ((size_t)1 << 20)
/* deflate never expands data by more than 1032:1 (zlib FAQ) */
#define DEFLATE_MAX_RATIO 1032u

static const char *type_name(int code) {
    switch (code) {
    case 0x08: return "ubyte";
    case 0x09: return "byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return NULL;
    }
}
static size_t type_size(int code) {
    return code == 0x08 || code == 0x09 ? 1 : code == 0x0B ? 2 : code == 0x0E ? 8 : 4;
}
static tg_dtype type_dtype(int code) { return code == 0x0D ? TG_F32 : code == 0x0E ? TG_F64 : TG_I32; }

/* Records the stream's read error: a system error, or zlib's complaint about
 * a corrupt gzip stream (zlib prefixes its message with the path: dropped). */
static void read_error(gzFile f, const char *path, const char *stage) {
    int zerr = Z_OK;
    const char *msg = gzerror(f, &zerr);
    if (zerr == Z_ERRNO) {
        tg__error(TG_ERR_IO, "tg_load_idx: '%s': cannot read %s: %s", path, stage, strerror(errno));
        return;
    }
    size_t pl = strlen(path);
    if (msg && !strncmp(msg, path, pl) && !strncmp(msg + pl, ": ", 2)) msg += pl + 2;
    tg__error(TG_ERR_IO, "tg_load_idx: '%s': corrupt gzip stream while reading %s: %s", path, stage,
              msg && *msg ? msg : "zlib error");
}

/* zlib's complaint after a short read, or NULL if there is none. */
static const char *gz_problem(gzFile f, const char *path) {
    int zerr = Z_OK;
    const char *msg = gzerror(f, &zerr);
    if (zerr == Z_OK) return NULL;
    if (zerr == Z_ERRNO) return strerror(errno);
    size_t pl = strlen(path);
    if (msg && !strncmp(msg, path, pl) && !strncmp(msg + pl, ": ", 2)) msg += pl + 2;
    return msg && *msg ? msg : "zlib error";
}

/* Reads up to n bytes; returns the count (< n at the end of the stream), or
 * -1 on a read or decompression error. */
static int64_t read_full(gzFile f, unsigned char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        size_t want = n - got > IDX_CHUNK ? IDX_CHUNK : n - got;
        int r = gzread(f, buf + got, (unsigned)want);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (int64_t)got;
}

static void convert(int code, const unsigned char *src, size_t count, char *dst) {
    switch (code) {
    case 0x08:
        for (size_t i = 0; i < count; i++) ((int32_t *)dst)[i] = src[i];
        break;
    case 0x09:
        for (size_t i = 0; i < count; i++) ((int32_t *)dst)[i] = (int8_t)src[i];
        break;
    case 0x0B:
        for (size_t i = 0; i < count; i++)
            ((int32_t *)dst)[i] = (int16_t)(uint16_t)((unsigned)src[2 * i] << 8 | src[2 * i + 1]);
        break;
    case 0x0C:
    case 0x0D:
        for (size_t i = 0; i < count; i++) {
            const unsigned char *p = src + 4 * i;
            uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            memcpy(dst + 4 * i, &v, 4);
        }
        break;
    default: /* 0x0E */
        for (size_t i = 0; i < count; i++) {
            const unsigned char *p = src + 8 * i;
            uint64_t v = 0;
            for (int k = 0; k < 8; k++) v = v << 8 | p[k];
            memcpy(dst + 8 * i, &v, 8);
        }
        break;
    }
}

static tg_tensor *load(gzFile f, const char *path, uint64_t disk_bytes) {
    unsigned char head[4 + 4 * TG_MAX_DIMS];
    int64_t got = read_full(f, head, 4);
    if (got < 0) {
        read_error(f, path, "the header");
        return NULL;
    }
    if (got < 4) {
        tg__error(TG_ERR_IO, "tg_load_idx: '%s': truncated header: expected 4 bytes of magic number, got %lld",
                  path, (long long)got);
        return NULL;
    }
    if (head[0] != 0 || head[1] != 0) {
        tg__error(TG_ERR_IO, "tg_load_idx: '%s': not an IDX file: bad magic number (first bytes 0x%02x 0x%02x, "
                  "expected 0x00 0x00)", path, head[0], head[1]);
        return NULL;
    }
    int code = head[2], ndim = head[3];
    if (!type_name(code)) {
        tg__error(TG_ERR_IO, "tg_load_idx: '%s': unknown IDX type code 0x%02x (known: 0x08 ubyte, 0x09 byte, "
                  "0x0B short, 0x0C int, 0x0D float, 0x0E double)", path, code);
        return NULL;
    }
    if (ndim < 1 || ndim > TG_MAX_DIMS) {
        tg__error(TG_ERR_IO, "tg_load_idx: '%s': %d dimensions in the header (1 to %d supported)", path, ndim,
                  TG_MAX_DIMS);
        return NULL;
    }
    got = read_full(f, head + 4, 4 * (size_t)ndim);
    if (got < 0) {
        read_error(f, path, "the header");
        return NULL;
    }
    if (got < 4 * ndim) {
        tg__error(TG_ERR_IO, "tg_load_idx: '%s': truncated header: %d dimensions need %d size bytes, got %lld",
                  path, ndim, 4 * ndim, (long long)got);
        return NULL;
    }
    int64_t shape[TG_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        const unsigned char *p = head + 4 + 4 * i;
        shape[i] = (int64_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    }
    char buf[320];
    tg_dtype dtype = type_dtype(code);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        if (__builtin_mul_overflow(n, shape[i], &n) || n > INT64_MAX / 16) {
            tg__error(TG_ERR_IO, "tg_load_idx: '%s': corrupt header: sizes %s overflow", path,
                      tg__fmt_shape(buf, sizeof buf, ndim, shape));
            return NULL;
        }
    size_t es = type_size(code);
    /* numel * 16 fits int64, so these cannot overflow */
    uint64_t nbytes = (uint64_t)n * es, header = 4 + 4 * (uint64_t)ndim;
    bool plain = gzdirect(f) != 0;
    uint64_t most = plain ? (disk_bytes > header ? disk_bytes - header : 0)
                          : disk_bytes * DEFLATE_MAX_RATIO + 1024;
    if (nbytes > most) {
        tg__error(TG_ERR_IO, "tg_load_idx: '%s': truncated data: shape %s of %s needs %llu data bytes, but the %s "
                  "file %s %llu bytes after the header", path, tg__fmt_shape(buf, sizeof buf, ndim, shape),
                  type_name(code),
                  (unsigned long long)nbytes, plain ? "plain" : "gzip",
                  plain ? "holds" : "can decompress to at most", (unsigned long long)most);
        return NULL;
    }

    tg_tensor *t = tg__alloc(dtype, ndim, shape);
    if (!t) return NULL;
    unsigned char *chunk = nbytes ? malloc(IDX_CHUNK < nbytes ? IDX_CHUNK : (size_t)nbytes) : NULL;
    if (nbytes && !chunk) {
        tg_release(t);
        tg__error(TG_ERR_MEMORY, "tg_load_idx: out of memory");
        return NULL;
    }
    char *dst = tg__ptr(t);
    uint64_t done = 0;
    while (done < nbytes) {
        size_t want = nbytes - done > IDX_CHUNK ? IDX_CHUNK : (size_t)(nbytes - done);
        got = read_full(f, chunk, want);
        if (got < 0) {
            read_error(f, path, "the data");
            goto fail;
        }
        convert(code, chunk, (size_t)got / es, dst + done / es * (size_t)tg__esize(dtype));
        done += (uint64_t)got;
        if ((size_t)got < want) {
            const char *why = gz_problem(f, path);
            tg__error(TG_ERR_IO, "tg_load_idx: '%s': truncated data: shape %s of %s needs %llu data bytes, got "
                      "%llu%s%s", path, tg__fmt_shape(buf, sizeof buf, ndim, shape), type_name(code),
                      (unsigned long long)nbytes, (unsigned long long)done, why ? ": " : "", why ? why : "");
            goto fail;
        }
    }
    /* Nothing may follow the data; reading on also makes zlib check the
     * gzip trailer (CRC-32 and length). */
    unsigned char extra[64];
    got = read_full(f, extra, sizeof extra);
    if (got < 0) {
        read_error(f, path, "the end of the data");
        goto fail;
    }
    const char *why = got == 0 ? gz_problem(f, path) : NULL;
    if (why) {   /* a truncated gzip trailer is not fatal to gzread, only flagged */
        tg__error(TG_ERR_IO, "tg_load_idx: '%s': corrupt gzip stream after the data: %s", path, why);
        goto fail;
    }
    if (got > 0) {
        uint64_t more = (uint64_t)got;
        int r;
        while ((r = gzread(f, extra, sizeof extra)) > 0) more += (uint64_t)r;
        tg__error(TG_ERR_IO, "tg_load_idx: '%s': %s%llu bytes after the %llu data bytes of shape %s", path,
                  r < 0 ? "at least " : "", (unsigned long long)more, (unsigned long long)nbytes,
                  tg__fmt_shape(buf, sizeof buf, ndim, shape));
        goto fail;
    }
    free(chunk);
    return t;
fail:
    free(chunk);
    tg_release(t);
    return NULL;
}

tg_tensor *tg_load_idx(const char *path) {
    if (!path) return tg__error(TG_ERR_ARG, "tg_load_idx: path is NULL"), NULL;
    struct stat st;
    errno = 0;
    if (stat(path, &st) != 0)
        return tg__error(TG_ERR_IO, "tg_load_idx: cannot open '%s': %s", path, strerror(errno)), NULL;
    if (S_ISDIR(st.st_mode))
        return tg__error(TG_ERR_IO, "tg_load_idx: cannot open '%s': it is a directory", path), NULL;
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return tg__error(TG_ERR_IO, "tg_load_idx: cannot open '%s': %s", path,
                         errno ? strerror(errno) : "out of memory"), NULL;
    gzbuffer(f, 1 << 17);
    tg_tensor *t = load(f, path, (uint64_t)st.st_size);
    gzclose(f);
    return tg__handout(t);
}
