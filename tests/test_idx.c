/* tg_load_idx (nn/idx.c): IDX files built here byte by byte (plain and
 * gzip via zlib), every corruption case, and the real Fashion-MNIST test set
 * against facts computed by NumPy (oracles/gen_safetensors.py ->
 * oracles/data/idx_fashion_mnist.json). */
#define _POSIX_C_SOURCE 200809L
#include "support/check.h"
#include "support/tmpdir.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>


/* ---- helpers ------------------------------------------------------------ */
static void cleanup(void) { tmp_cleanup(); }

/* the temporary directory goes away even when a test fails */
TestSuite(idx, .init = tg_clear_error, .fini = cleanup);

/* bytes of an IDX file: header for (type, ndim, dims) followed by data */
typedef struct {
    unsigned char b[4096];
    size_t n;
} bytes;

static void put_u8(bytes *o, unsigned v) { o->b[o->n++] = (unsigned char)v; }
static void put_be(bytes *o, uint64_t v, int width) {
    for (int i = width - 1; i >= 0; i--) put_u8(o, (unsigned)(v >> (8 * i)) & 0xff);
}
static void header(bytes *o, int type, int ndim, const uint32_t *dims) {
    o->n = 0;
    put_u8(o, 0);
    put_u8(o, 0);
    put_u8(o, (unsigned)type);
    put_u8(o, (unsigned)ndim);
    for (int i = 0; i < ndim; i++) put_be(o, dims[i], 4);
}

static void write_plain(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert(fwrite(p, 1, n, f) == n);
    fclose(f);
}
static void write_gz(const char *path, const void *p, size_t n) {
    gzFile g = gzopen(path, "wb");
    cr_assert(g);
    cr_assert(gzwrite(g, p, (unsigned)n) == (int)n);
    cr_assert(gzclose(g) == Z_OK);
}
static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *s = malloc((size_t)n + 1);
    cr_assert(s && fread(s, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return s;
}

/* tg_load_idx(path) fails with TG_ERR_IO and a message holding each of the
 * given fragments (NULL-terminated) and the path. */
static void expect_io_error(const char *path, const char *what, ...) {
    tg_tensor *t = tg_load_idx(path);
    cr_assert(t == NULL, "%s: loaded a corrupt file", what);
    const char *msg = tg_last_error();
    cr_assert(strstr(msg, "tg_load_idx") && strstr(msg, path), "%s: message '%s' names neither function nor path",
              what, msg);
    va_list ap;
    va_start(ap, what);
    for (const char *frag; (frag = va_arg(ap, const char *));)
        cr_assert(strstr(msg, frag), "%s: message '%s' lacks '%s'", what, msg, frag);
    va_end(ap);
    check_error(t, TG_ERR_IO, what);
}

static void check_shape(const tg_tensor *t, tg_dtype dt, int ndim, const int64_t *shape) {
    cr_assert(t, "load failed: %s", tg_last_error());
    cr_assert_eq(tg_dtype_of(t), dt, "dtype %s, expected %s", tg_dtype_name(tg_dtype_of(t)), tg_dtype_name(dt));
    cr_assert_eq(tg_ndim(t), ndim);
    for (int i = 0; i < ndim; i++) cr_assert_eq(tg_shape(t)[i], shape[i], "size %d", i);
    cr_assert(tg_is_contiguous(t));
}

/* ---- every type, plain and gzip ------------------------------------------ */
Test(idx, every_type_plain_and_gzip) {
    uint32_t dims[2] = {2, 3};
    int64_t shape[2] = {2, 3};
    for (int gz = 0; gz < 2; gz++) {
        bytes o;
        const char *p = tmp_path(gz ? "t.idx.gz" : "t.idx");
        void (*wr)(const char *, const void *, size_t) = gz ? write_gz : write_plain;

        /* 0x08 unsigned bytes -> i32 */
        static const unsigned ub[6] = {0, 1, 127, 128, 200, 255};
        header(&o, 0x08, 2, dims);
        for (int i = 0; i < 6; i++) put_u8(&o, ub[i]);
        wr(p, o.b, o.n);
        tg_tensor *t = tg_load_idx(p);
        check_shape(t, TG_I32, 2, shape);
        for (int i = 0; i < 6; i++) cr_assert_eq(((const int32_t *)tg_data(t))[i], (int32_t)ub[i], "ubyte %d", i);
        tg_release(t);

        /* 0x09 signed bytes -> i32 */
        static const int sb[6] = {-128, -1, 0, 1, 100, 127};
        header(&o, 0x09, 2, dims);
        for (int i = 0; i < 6; i++) put_u8(&o, (unsigned)(sb[i] & 0xff));
        wr(p, o.b, o.n);
        t = tg_load_idx(p);
        check_shape(t, TG_I32, 2, shape);
        for (int i = 0; i < 6; i++) cr_assert_eq(((const int32_t *)tg_data(t))[i], sb[i], "byte %d", i);
        tg_release(t);

        /* 0x0B big-endian shorts -> i32 */
        static const int sh[6] = {-32768, -2, 0, 258, 1000, 32767};
        header(&o, 0x0B, 2, dims);
        for (int i = 0; i < 6; i++) put_be(&o, (uint16_t)(int16_t)sh[i], 2);
        wr(p, o.b, o.n);
        t = tg_load_idx(p);
        check_shape(t, TG_I32, 2, shape);
        for (int i = 0; i < 6; i++) cr_assert_eq(((const int32_t *)tg_data(t))[i], sh[i], "short %d", i);
        tg_release(t);

        /* 0x0C big-endian ints -> i32 */
        static const int32_t in[6] = {INT32_MIN, -70000, 0, 0x01020304, 65536, INT32_MAX};
        header(&o, 0x0C, 2, dims);
        for (int i = 0; i < 6; i++) put_be(&o, (uint32_t)in[i], 4);
        wr(p, o.b, o.n);
        t = tg_load_idx(p);
        check_shape(t, TG_I32, 2, shape);
        for (int i = 0; i < 6; i++) cr_assert_eq(((const int32_t *)tg_data(t))[i], in[i], "int %d", i);
        tg_release(t);

        /* 0x0D big-endian floats -> f32 */
        static const float fl[6] = {-1.5f, 0.0f, 3.25e10f, 1e-40f /* subnormal */, -INFINITY, 0.1f};
        header(&o, 0x0D, 2, dims);
        for (int i = 0; i < 6; i++) {
            uint32_t u;
            memcpy(&u, &fl[i], 4);
            put_be(&o, u, 4);
        }
        wr(p, o.b, o.n);
        t = tg_load_idx(p);
        check_shape(t, TG_F32, 2, shape);
        cr_assert(memcmp(tg_data(t), fl, sizeof fl) == 0, "float values differ");
        tg_release(t);

        /* 0x0E big-endian doubles -> f64, 3-d */
        uint32_t d3[3] = {1, 2, 2};
        int64_t s3[3] = {1, 2, 2};
        static const double db[4] = {3.141592653589793, -2.718281828459045, 1e300, -0.0};
        header(&o, 0x0E, 3, d3);
        for (int i = 0; i < 4; i++) {
            uint64_t u;
            memcpy(&u, &db[i], 8);
            put_be(&o, u, 8);
        }
        wr(p, o.b, o.n);
        t = tg_load_idx(p);
        check_shape(t, TG_F64, 3, s3);
        cr_assert(memcmp(tg_data(t), db, sizeof db) == 0, "double values differ");
        tg_release(t);
    }
    cleanup();
}

Test(idx, larger_than_one_read_chunk) {
    /* 3 MB of shorts spans several 1 MiB read chunks */
    uint32_t dims[1] = {1572864};
    int64_t shape[1] = {1572864};
    size_t n = dims[0];
    unsigned char *buf = malloc(8 + 2 * n);
    bytes o;
    header(&o, 0x0B, 1, dims);
    memcpy(buf, o.b, o.n);
    for (size_t i = 0; i < n; i++) {
        uint16_t v = (uint16_t)(int16_t)((int64_t)(i * 7919 % 65536) - 32768);
        buf[8 + 2 * i] = (unsigned char)(v >> 8);
        buf[8 + 2 * i + 1] = (unsigned char)v;
    }
    for (int gz = 0; gz < 2; gz++) {
        const char *p = tmp_path(gz ? "big.gz" : "big");
        (gz ? write_gz : write_plain)(p, buf, 8 + 2 * n);
        tg_tensor *t = tg_load_idx(p);
        check_shape(t, TG_I32, 1, shape);
        const int32_t *v = tg_data(t);
        for (size_t i = 0; i < n; i++)
            if (v[i] != (int32_t)(i * 7919 % 65536) - 32768) cr_assert_fail("element %zu is %d", i, v[i]);
        tg_release(t);
    }
    free(buf);
    cleanup();
}

Test(idx, empty_tensor_and_scope_ownership) {
    uint32_t dims[2] = {0, 5};
    int64_t shape[2] = {0, 5};
    bytes o;
    header(&o, 0x08, 2, dims);
    const char *p = tmp_path("empty.idx");
    write_plain(p, o.b, o.n);
    tg_scope_begin();
    tg_tensor *t = tg_load_idx(p);    /* owned by the scope */
    check_shape(t, TG_I32, 2, shape);
    cr_assert_eq(tg_numel(t), 0);
    tg_scope_end();
    cleanup();
}

/* ---- corruption ------------------------------------------------------------ */
Test(idx, bad_headers) {
    uint32_t dims[2] = {2, 2};
    bytes o;
    const char *p = tmp_path("bad.idx");
    char path[512];
    snprintf(path, sizeof path, "%s", p);

    header(&o, 0x08, 2, dims);
    for (int i = 0; i < 4; i++) put_u8(&o, 1);
    o.b[0] = 0x1f;   /* bad magic */
    write_plain(path, o.b, o.n);
    expect_io_error(path, "bad magic", "bad magic", "0x1f", NULL);
    o.b[0] = 0;
    o.b[1] = 0x08;
    write_plain(path, o.b, o.n);
    expect_io_error(path, "bad magic byte 1", "bad magic", NULL);
    o.b[1] = 0;

    o.b[2] = 0x0A;   /* not a type code */
    write_plain(path, o.b, o.n);
    expect_io_error(path, "bad type", "type code 0x0a", NULL);
    o.b[2] = 0x08;

    o.b[3] = 0;      /* no dimensions */
    write_plain(path, o.b, o.n);
    expect_io_error(path, "0 dims", "0 dimensions", NULL);
    o.b[3] = 17;     /* too many */
    write_plain(path, o.b, o.n);
    expect_io_error(path, "17 dims", "17 dimensions", NULL);
    o.b[3] = 2;

    /* truncated in the magic number, and in the sizes */
    write_plain(path, o.b, 3);
    expect_io_error(path, "3-byte file", "truncated header", "got 3", NULL);
    write_plain(path, o.b, 0);
    expect_io_error(path, "empty file", "truncated header", "got 0", NULL);
    write_plain(path, o.b, 9);
    expect_io_error(path, "truncated sizes", "truncated header", "8 size bytes", "got 5", NULL);
    write_gz(path, o.b, 9);
    expect_io_error(path, "truncated sizes gzip", "truncated header", "got 5", NULL);

    /* sizes whose product overflows, and a huge claim in a tiny file */
    uint32_t big[4] = {65536, 65536, 65536, 65536};
    header(&o, 0x0E, 4, big);
    write_plain(path, o.b, o.n);
    expect_io_error(path, "overflowing sizes", "corrupt header", "(65536, 65536, 65536, 65536) overflow", NULL);
    uint32_t huge[2] = {100000, 100000};   /* 10^10 bytes claimed */
    header(&o, 0x08, 2, huge);
    write_plain(path, o.b, o.n);
    expect_io_error(path, "huge plain", "truncated data", "needs 10000000000 data bytes", "holds 0", NULL);
    write_gz(path, o.b, o.n);
    expect_io_error(path, "huge gzip", "truncated data", "can decompress to at most", NULL);
    cleanup();
}

Test(idx, truncated_and_trailing_data) {
    uint32_t dims[2] = {3, 4};
    bytes o;
    header(&o, 0x0C, 2, dims);     /* 48 data bytes */
    for (int i = 0; i < 12; i++) put_be(&o, (uint32_t)i, 4);
    const char *p = tmp_path("d.idx");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    for (int gz = 0; gz < 2; gz++) {
        void (*wr)(const char *, const void *, size_t) = gz ? write_gz : write_plain;
        wr(path, o.b, o.n - 5);
        expect_io_error(path, gz ? "truncated gzip data" : "truncated data", "truncated data", "needs 48 data bytes",
                        gz ? "got 43" : "holds 43", NULL);
        wr(path, o.b, o.n - 48);
        expect_io_error(path, "no data at all", "truncated data", "needs 48", NULL);
        unsigned char more[200];
        memcpy(more, o.b, o.n);
        memset(more + o.n, 0xab, 7);
        wr(path, more, o.n + 7);
        expect_io_error(path, gz ? "trailing gzip" : "trailing", "7 bytes after the 48 data bytes", NULL);
        wr(path, more, o.n + 1);
        expect_io_error(path, "one trailing byte", "1 bytes after", NULL);
    }
    /* the plain file in full still loads */
    write_plain(path, o.b, o.n);
    tg_tensor *t = tg_load_idx(path);
    cr_assert(t, "%s", tg_last_error());
    cr_assert_eq(((const int32_t *)tg_data(t))[11], 11);
    tg_release(t);
    cleanup();
}

Test(idx, corrupt_gzip_streams) {
    uint32_t dims[1] = {1000};
    bytes o;
    header(&o, 0x08, 1, dims);
    for (int i = 0; i < 1000; i++) put_u8(&o, (unsigned)(i * 37 % 251));
    const char *p = tmp_path("c.gz");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    write_gz(path, o.b, o.n);
    size_t len;
    unsigned char *gz = slurp(path, &len);
    tg_tensor *ok = tg_load_idx(path);
    cr_assert(ok, "%s", tg_last_error());
    tg_release(ok);

    /* the CRC-32 of the trailer */
    gz[len - 8] ^= 0x01;
    write_plain(path, gz, len);
    expect_io_error(path, "bad CRC", "corrupt gzip stream", "incorrect data check", NULL);
    gz[len - 8] ^= 0x01;
    /* the length field of the trailer */
    gz[len - 2] ^= 0x10;
    write_plain(path, gz, len);
    expect_io_error(path, "bad ISIZE", "corrupt gzip stream", "incorrect length check", NULL);
    gz[len - 2] ^= 0x10;
    /* garbage inside the deflate stream */
    unsigned char *bad = malloc(len);
    memcpy(bad, gz, len);
    for (size_t i = 12; i < 40 && i < len - 8; i++) bad[i] = 0xff;
    write_plain(path, bad, len);
    tg_tensor *t = tg_load_idx(path);
    cr_assert_null(t, "a gzip file with a garbled deflate stream loaded");
    cr_assert(strstr(tg_last_error(), path), "%s", tg_last_error());
    check_error(t, TG_ERR_IO, "garbled deflate");
    /* the compressed file cut short, before and after the data end */
    write_plain(path, gz, len / 2);
    expect_io_error(path, "gzip cut in half", "truncated data", NULL);
    write_plain(path, gz, len - 4);
    t = tg_load_idx(path);
    check_error(t, TG_ERR_IO, "gzip without its length field");
    free(bad);
    free(gz);
    cleanup();
}

Test(idx, missing_file_directory_and_null) {
    tg_tensor *t = tg_load_idx("/nonexistent/dir/train.idx");
    cr_assert(strstr(tg_last_error(), "No such file"), "%s", tg_last_error());
    check_error(t, TG_ERR_IO, "missing file");
    t = tg_load_idx("/tmp");
    check_error(t, TG_ERR_IO, "directory");
    t = tg_load_idx(NULL);
    check_error(t, TG_ERR_ARG, "NULL path");
}

/* ---- Fashion-MNIST ---------------------------------------------------------- */
static cJSON *load_json(const char *path) {
    size_t n;
    unsigned char *s = slurp(path, &n);
    s[n] = 0;
    cJSON *j = cJSON_Parse((const char *)s);
    free(s);
    cr_assert(j, "cannot parse %s", path);
    return j;
}

static int64_t jint(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    cr_assert(cJSON_IsNumber(v), "no number '%s'", key);
    return (int64_t)v->valuedouble;
}

static void check_fmnist_file(const cJSON *facts, const char *dir, const char *name, int64_t wmod) {
    const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(facts, "files"), name);
    cr_assert(f, "no facts for %s", name);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tg_tensor *t = tg_load_idx(path);
    cr_assert(t, "%s: %s", name, tg_last_error());
    const cJSON *shp = cJSON_GetObjectItem(f, "shape");
    int nd = cJSON_GetArraySize(shp);
    int64_t shape[3];
    for (int i = 0; i < nd; i++) shape[i] = (int64_t)cJSON_GetArrayItem(shp, i)->valuedouble;
    check_shape(t, TG_I32, nd, shape);
    const int32_t *v = tg_data(t);
    int64_t n = tg_numel(t), sum = 0, wsum = 0, zeros = 0, mn = INT64_MAX, mx = INT64_MIN;
    for (int64_t i = 0; i < n; i++) {
        sum += v[i];
        wsum += (int64_t)v[i] * (i % wmod);
        zeros += v[i] == 0;
        if (v[i] < mn) mn = v[i];
        if (v[i] > mx) mx = v[i];
    }
    cr_assert_eq(sum, jint(f, "sum"), "%s: sum %lld", name, (long long)sum);
    cr_assert_eq(wsum, jint(f, "weighted_sum"), "%s: weighted sum %lld", name, (long long)wsum);
    cr_assert_eq(mn, jint(f, "min"), "%s: min", name);
    cr_assert_eq(mx, jint(f, "max"), "%s: max", name);
    const cJSON *first = cJSON_GetObjectItem(f, "first");
    for (int i = 0; i < cJSON_GetArraySize(first); i++)
        cr_assert_eq(v[i], (int32_t)cJSON_GetArrayItem(first, i)->valuedouble, "%s: element %d", name, i);
    if (nd == 3) {
        cr_assert_eq(zeros, jint(f, "zeros"), "%s: zero pixels", name);
        const cJSON *sums = cJSON_GetObjectItem(f, "image_sums");
        for (const cJSON *c = sums->child; c; c = c->next) {
            int64_t img = strtoll(c->string, NULL, 10), s = 0;
            for (int64_t k = 0; k < 28 * 28; k++) s += v[img * 784 + k];
            cr_assert_eq(s, (int64_t)c->valuedouble, "%s: image %lld sum", name, (long long)img);
        }
        const cJSON *row = cJSON_GetObjectItem(f, "image0_row14");
        for (int k = 0; k < 28; k++)
            cr_assert_eq(v[14 * 28 + k], (int32_t)cJSON_GetArrayItem(row, k)->valuedouble, "image 0 row 14 col %d", k);
    } else {
        const cJSON *h = cJSON_GetObjectItem(f, "histogram");
        int64_t hist[10] = {0};
        for (int64_t i = 0; i < n; i++) {
            cr_assert(v[i] >= 0 && v[i] < 10, "label %d out of range", v[i]);
            hist[v[i]]++;
        }
        for (int c = 0; c < 10; c++)
            cr_assert_eq(hist[c], (int64_t)cJSON_GetArrayItem(h, c)->valuedouble, "%s: class %d count", name, c);
    }
    tg_release(t);
}

Test(idx, fashion_mnist_against_numpy) {
    cJSON *facts = load_json(TG_ORACLE_DIR "/idx_fashion_mnist.json");
    const char *dir = cJSON_GetObjectItem(facts, "dir")->valuestring;
    struct stat st;
    if (stat(dir, &st) != 0) {
        cJSON_Delete(facts);
        cr_skip_test("%s is not installed (Debian package dataset-fashion-mnist)", dir);
    }
    int64_t wmod = jint(facts, "weight_mod");
    check_fmnist_file(facts, dir, "t10k-images-idx3-ubyte.gz", wmod);
    check_fmnist_file(facts, dir, "t10k-labels-idx1-ubyte.gz", wmod);
    check_fmnist_file(facts, dir, "train-labels-idx1-ubyte.gz", wmod);
    cJSON_Delete(facts);
}
