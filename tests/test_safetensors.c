/* safetensors (tensor/io_safetensors.c): round trips of every dtype (strided
 * inputs included), the reference file written by oracles/gen_safetensors.py
 * (values in oracles/data/safetensors.json), and malformed files built here
 * at run time: each is TG_ERR_IO with a message, never a crash. */
#define _POSIX_C_SOURCE 200809L
#include "support/check.h"
#include "support/tmpdir.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* ---- helpers ------------------------------------------------------------ */
static int files_in_tmpdir(void) {
    DIR *d = opendir(tmp_dir());
    cr_assert(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void cleanup(void) { tmp_cleanup(); }

/* the temporary directory goes away even when a test fails */
TestSuite(safetensors, .init = tg_clear_error, .fini = cleanup);

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *s = malloc((size_t)n + 1);
    cr_assert(s && fread(s, 1, (size_t)n, f) == (size_t)n);
    s[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return s;
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert(n == 0 || fwrite(p, 1, n, f) == n);
    fclose(f);
}

/* A file: u64 length (hlen, or strlen(json) when hlen is UINT64_MAX), the
 * JSON text, then dlen data bytes (0, 1, 2, ...). */
static void write_st(const char *path, uint64_t hlen, const char *json, size_t dlen) {
    size_t jl = strlen(json);
    unsigned char *buf = malloc(8 + jl + dlen + 1);
    if (hlen == UINT64_MAX) hlen = jl;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, json, jl);
    for (size_t i = 0; i < dlen; i++) buf[8 + jl + i] = (unsigned char)i;
    write_bytes(path, buf, 8 + jl + dlen);
    free(buf);
}

/* Loading path fails with TG_ERR_IO, leaves the dict empty, and the
 * message holds the path and every fragment given (NULL-terminated). */
static void expect_bad(const char *path, const char *what, ...) {
    tg_tensor_dict d = {.n = 7, .names = (char **)1, .tensors = (tg_tensor **)1};   /* garbage in */
    tg_status st = tg_load_safetensors(path, &d);
    cr_assert_eq(st, TG_ERR_IO, "%s: status %s (%s)", what, tg_status_name(st), tg_last_error());
    cr_assert(d.n == 0 && d.names == NULL && d.tensors == NULL, "%s: the dict is not empty", what);
    const char *msg = tg_last_error();
    cr_assert(strstr(msg, "tg_load_safetensors") && strstr(msg, path), "%s: message '%s'", what, msg);
    va_list ap;
    va_start(ap, what);
    for (const char *frag; (frag = va_arg(ap, const char *));)
        cr_assert(strstr(msg, frag), "%s: message '%s' lacks '%s'", what, msg, frag);
    va_end(ap);
    check_status(st, TG_ERR_IO, what);
}

static void expect_same(const tg_tensor *got, const tg_tensor *want, const char *what) {
    cr_assert(got, "%s: missing", what);
    cr_assert_eq(tg_dtype_of(got), tg_dtype_of(want), "%s: dtype %s vs %s", what, tg_dtype_name(tg_dtype_of(got)),
                 tg_dtype_name(tg_dtype_of(want)));
    cr_assert_eq(tg_ndim(got), tg_ndim(want), "%s: rank", what);
    for (int i = 0; i < tg_ndim(got); i++) cr_assert_eq(tg_shape(got)[i], tg_shape(want)[i], "%s: size %d", what, i);
    cr_assert(tg_is_contiguous(got), "%s: not contiguous", what);
    size_t n = (size_t)tg_numel(want) * tg_dtype_size(tg_dtype_of(want));
    void *w = malloc(n ? n : 1);
    cr_assert_eq(tg_copy_to(want, w, n), TG_OK);
    cr_assert(n == 0 || memcmp(tg_data(got), w, n) == 0, "%s: bytes differ", what);
    free(w);
}

/* ---- round trips ------------------------------------------------------------ */
Test(safetensors, round_trip_every_dtype_and_strides) {
    tg_manual_seed(5);
    tg_tensor *f64 = tg_randn(TG_F64, 2, (int64_t[]){3, 4});
    tg_tensor *f32 = tg_randn(TG_F32, 3, (int64_t[]){2, 3, 4});
    tg_tensor *c64 = tg_randn(TG_C64, 2, (int64_t[]){4, 3});
    tg_tensor *c128 = tg_randn(TG_C128, 1, (int64_t[]){5});
    tg_tensor *i32 = tg_randint(TG_I32, 2, (int64_t[]){4, 5}, INT32_MIN, INT32_MAX);
    tg_tensor *i64 = tg_randint(TG_I64, 1, (int64_t[]){6}, INT64_MIN, INT64_MAX);
    tg_tensor *f16 = tg_cast(f32, TG_F16);
    tg_tensor *bf16 = tg_cast(f64, TG_BF16);
    tg_tensor *half = tg_full(TG_F64, 2, (int64_t[]){3, 4}, 0.0);
    tg_tensor *b = tg_gt(f64, half);
    tg_tensor *scalar = tg_scalar(TG_F64, -2.5);
    tg_tensor *empty = tg_zeros(TG_F32, 3, (int64_t[]){2, 0, 3});
    /* strided: a transpose, a stepped slice, a permuted complex, a broadcast */
    tg_tensor *ft = tg_transpose(f64, 0, 1);
    tg_tensor *fs = tg_slice(f32, 2, 0, 4, 3);        /* (2, 3, 2), step 3 along the last axis */
    tg_tensor *ct = tg_mT(c64);
    tg_tensor *bt = tg_transpose(b, 0, 1);
    tg_tensor *nine = tg_scalar(TG_I64, 9);
    tg_tensor *ex = tg_expand(nine, 2, (int64_t[]){2, 3});
    tg_tensor *t[] = {f64, f32, c64, c128, i32, i64, f16, bf16, b, scalar, empty, ft, fs, ct, bt, ex};
    const char *names[] = {"f64", "f32", "c64", "c128", "i32", "i64", "f16", "bf16", "bool", "scalar",
                           "empty", "f64.T", "f32[:, :, ::3]", "c64.mT", "bool.T", "expanded \"i64\"\n"};
    int n = (int)(sizeof t / sizeof t[0]);
    for (int i = 0; i < n; i++) cr_assert(t[i], "input %d: %s", i, tg_last_error());
    cr_assert(!tg_is_contiguous(ft) && !tg_is_contiguous(fs) && !tg_is_contiguous(ct) && !tg_is_contiguous(ex));

    const char *path = tmp_path("all.safetensors");
    cr_assert_eq(tg_save_safetensors(path, n, names, t), TG_OK, "%s", tg_last_error());
    cr_assert_eq(files_in_tmpdir(), 1, "a temporary file was left behind");

    /* the layout: header length, JSON padded to 8 bytes, the data back to back */
    size_t len;
    unsigned char *raw = slurp(path, &len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | raw[i];
    cr_assert_eq((8 + hlen) % 8, 0, "data not 8-byte aligned");
    cr_assert_eq(raw[8], '{');
    uint64_t data_bytes = 0;
    for (int i = 0; i < n; i++) data_bytes += (uint64_t)tg_numel(t[i]) * tg_dtype_size(tg_dtype_of(t[i]));
    cr_assert_eq(len, 8 + hlen + data_bytes);
    cJSON *h = cJSON_ParseWithLength((const char *)raw + 8, hlen);
    cr_assert(h, "the header is not JSON");
    static const char *st_names[] = {"F64", "F32", "C64", "C128", "I32", "I64", "F16", "BF16", "BOOL", "F64",
                                     "F32", "F64", "F32", "C64", "BOOL", "I64"};
    int k = 0;
    for (const cJSON *c = h->child; c; c = c->next, k++) {
        cr_assert_str_eq(c->string, names[k]);
        cr_assert_str_eq(cJSON_GetObjectItem(c, "dtype")->valuestring, st_names[k]);
    }
    cr_assert_eq(k, n);
    cJSON_Delete(h);
    free(raw);

    tg_tensor_dict d;
    cr_assert_eq(tg_load_safetensors(path, &d), TG_OK, "%s", tg_last_error());
    cr_assert_eq(d.n, n);
    for (int i = 0; i < n; i++) {
        cr_assert_str_eq(d.names[i], names[i]);
        expect_same(d.tensors[i], t[i], names[i]);
    }
    tg_tensor_dict_free(&d);
    cr_assert(d.n == 0 && d.names == NULL && d.tensors == NULL);
    tg_tensor_dict_free(&d);      /* twice is harmless */
    tg_tensor_dict_free(NULL);

    /* saving over an existing file replaces it atomically; n = 0 is valid */
    cr_assert_eq(tg_save_safetensors(path, 1, names + 9, t + 9), TG_OK);
    cr_assert_eq(tg_load_safetensors(path, &d), TG_OK, "%s", tg_last_error());
    cr_assert(d.n == 1 && !strcmp(d.names[0], "scalar") && tg_item_f64(d.tensors[0]) == -2.5);
    tg_tensor_dict_free(&d);
    cr_assert_eq(tg_save_safetensors(path, 0, NULL, NULL), TG_OK);
    cr_assert_eq(tg_load_safetensors(path, &d), TG_OK, "%s", tg_last_error());
    cr_assert_eq(d.n, 0);
    tg_tensor_dict_free(&d);
    cr_assert_eq(files_in_tmpdir(), 1);

    for (int i = 0; i < n; i++) tg_release(t[i]);
    tg_release(nine);
    tg_release(half);
    tg_clear_error();
    cleanup();
}

Test(safetensors, loaded_tensors_belong_to_the_dict) {
    tg_tensor *a = tg_arange(TG_F32, 0, 6, 1);
    const char *nm = "a";
    const char *path = tmp_path("a.safetensors");
    cr_assert_eq(tg_save_safetensors(path, 1, &nm, &a), TG_OK);
    tg_tensor_dict d;
    tg_scope_begin();
    cr_assert_eq(tg_load_safetensors(path, &d), TG_OK);
    tg_scope_end();                          /* must not release the dict's tensors */
    cr_assert_eq(((const float *)tg_data(d.tensors[0]))[5], 5.0f);
    tg_tensor_dict_free(&d);
    tg_release(a);
    cleanup();
}

/* ---- the file written by Python ------------------------------------------- */
static double jreal(const cJSON *v) {
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    if (cJSON_IsNumber(v)) return v->valuedouble;
    if (!strcmp(v->valuestring, "nan")) return NAN;
    if (!strcmp(v->valuestring, "inf")) return INFINITY;
    if (!strcmp(v->valuestring, "-inf")) return -INFINITY;
    return strtod(v->valuestring, NULL);
}

Test(safetensors, reads_the_python_reference_file) {
    size_t len;
    unsigned char *txt = slurp(TG_ORACLE_DIR "/safetensors.json", &len);
    cJSON *j = cJSON_Parse((const char *)txt);
    free(txt);
    cr_assert(j);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", TG_ORACLE_DIR, cJSON_GetObjectItem(j, "file")->valuestring);
    tg_tensor_dict d;
    cr_assert_eq(tg_load_safetensors(path, &d), TG_OK, "%s", tg_last_error());
    const cJSON *order = cJSON_GetObjectItem(j, "order"), *tensors = cJSON_GetObjectItem(j, "tensors");
    cr_assert_eq(d.n, cJSON_GetArraySize(order));
    for (int i = 0; i < d.n; i++) {
        const char *name = cJSON_GetArrayItem(order, i)->valuestring;
        cr_assert_str_eq(d.names[i], name, "entry %d", i);
        const cJSON *e = cJSON_GetObjectItem(tensors, name);
        const tg_tensor *t = d.tensors[i];
        const char *dt = cJSON_GetObjectItem(e, "dtype")->valuestring;
        cr_assert_str_eq(tg_dtype_name(tg_dtype_of(t)), dt, "%s (%s)", name,
                         cJSON_GetObjectItem(e, "st_dtype")->valuestring);
        const cJSON *shp = cJSON_GetObjectItem(e, "shape"), *vals = cJSON_GetObjectItem(e, "values");
        cr_assert_eq(tg_ndim(t), cJSON_GetArraySize(shp), "%s: rank", name);
        for (int a = 0; a < tg_ndim(t); a++)
            cr_assert_eq(tg_shape(t)[a], (int64_t)cJSON_GetArrayItem(shp, a)->valuedouble, "%s: size %d", name, a);
        int64_t n = tg_numel(t);
        cr_assert_eq(n, cJSON_GetArraySize(vals), "%s: numel", name);
        tg_dtype td = tg_dtype_of(t);
        if (td == TG_I64 || td == TG_I32 || td == TG_BOOL) {
            for (int64_t k = 0; k < n; k++) {
                const cJSON *v = cJSON_GetArrayItem(vals, (int)k);
                int64_t want = cJSON_IsString(v) ? strtoll(v->valuestring, NULL, 10) : (int64_t)jreal(v);
                int64_t got = td == TG_I64 ? ((const int64_t *)tg_data(t))[k]
                            : td == TG_I32 ? ((const int32_t *)tg_data(t))[k] : ((const uint8_t *)tg_data(t))[k];
                cr_assert_eq(got, want, "%s[%lld] = %lld, expected %lld", name, (long long)k, (long long)got,
                             (long long)want);
            }
        } else {
            /* floats, exactly (f16 / bf16 through their f64 values) */
            tg_tensor *w = tg_cast((tg_tensor *)t, TG_F64);
            const double *g = tg_data(w);
            for (int64_t k = 0; k < n; k++) {
                double want = jreal(cJSON_GetArrayItem(vals, (int)k));
                cr_assert((isnan(want) && isnan(g[k])) || g[k] == want, "%s[%lld] = %.17g, expected %.17g", name,
                          (long long)k, g[k], want);
            }
            tg_release(w);
        }
    }
    tg_tensor_dict_free(&d);
    cJSON_Delete(j);
}

/* ---- malformed files --------------------------------------------------------- */
#define ENTRY(name, dt, shape, b, e) \
    "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

Test(safetensors, malformed_files) {
    char p[512];
    snprintf(p, sizeof p, "%s", tmp_path("bad.safetensors"));

    write_bytes(p, "\x10\0\0", 3);
    expect_bad(p, "3-byte file", "too short", NULL);
    write_bytes(p, "", 0);
    expect_bad(p, "empty file", "too short", NULL);
    write_st(p, 1000, "{}", 0);
    expect_bad(p, "header length past the end", "header length 1000 runs past the end", NULL);
    write_st(p, UINT64_MAX - 1, "{}", 0);
    expect_bad(p, "header length 2^64 - 2", "runs past the end", NULL);
    write_st(p, UINT64_MAX, "", 0);
    expect_bad(p, "empty header", "invalid JSON", NULL);
    write_st(p, UINT64_MAX, "{\"a\":{\"dtype\":\"F32\",", 8);
    expect_bad(p, "cut JSON", "invalid JSON", NULL);
    write_st(p, UINT64_MAX, "{\"a\" 1}", 0);
    expect_bad(p, "bad JSON", "invalid JSON", NULL);
    write_st(p, UINT64_MAX, "[1, 2]  ", 0);
    expect_bad(p, "JSON array", "not an object", NULL);
    write_st(p, UINT64_MAX, "{} x", 0);
    expect_bad(p, "text after the JSON", "text after", NULL);
    write_st(p, UINT64_MAX, "{\"a\": 3}", 0);
    expect_bad(p, "entry not an object", "'a' is not an object", NULL);
    write_st(p, UINT64_MAX, "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    expect_bad(p, "no dtype", "has no 'dtype'", NULL);
    write_st(p, UINT64_MAX, "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8);
    expect_bad(p, "no shape", "has no 'shape'", NULL);
    write_st(p, UINT64_MAX, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8);
    expect_bad(p, "no offsets", "has no 'data_offsets'", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "U32", "[2]", 0, 8) "}", 8);
    expect_bad(p, "U32", "dtype 'U32'", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F8_E4M3", "[8]", 0, 8) "}", 8);
    expect_bad(p, "F8", "dtype 'F8_E4M3'", NULL);
    write_st(p, UINT64_MAX, "{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    expect_bad(p, "numeric dtype", "not a string", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[-2]", 0, 8) "}", 8);
    expect_bad(p, "negative size", "non-negative integer", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[2.5]", 0, 8) "}", 8);
    expect_bad(p, "fractional size", "non-negative integer", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "2", 0, 8) "}", 8);
    expect_bad(p, "shape not an array", "not an array", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2]", 0, 8) "}", 8);
    expect_bad(p, "17 dims", "17 dimensions", NULL);
    write_st(p, UINT64_MAX, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8);
    expect_bad(p, "one offset", "not a pair", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[2]", 8, 0) "}", 8);
    expect_bad(p, "begin after end", "end before they begin", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[3]", 0, 8) "}", 8);
    expect_bad(p, "wrong size", "hold 8 bytes", "shape (3,) of F32 needs 12", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "I16", "[3]", 0, 8) "}", 8);
    expect_bad(p, "wrong I16 size", "needs 6", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F64", "[4294967296,4294967296,4294967296]", 0, 8) "}", 8);
    expect_bad(p, "overflowing size", "needs more than", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[4]", 0, 16) "}", 12);
    expect_bad(p, "truncated data", "truncated", "data_offsets [0, 16]", "holds 12 bytes", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("b", "F32", "[2]", 4, 12) "}", 12);
    expect_bad(p, "overlap", "'a' [0, 8] and 'b' [4, 12] overlap", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("b", "F32", "[2]", 0, 8) "}", 8);
    expect_bad(p, "same range", "overlap", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("b", "F32", "[1]", 12, 16) "}", 16);
    expect_bad(p, "hole", "[8, 12) of the data buffer belong to no tensor", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[2]", 4, 12) "}", 12);
    expect_bad(p, "hole at the start", "[0, 4)", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[2]", 0, 8) "}", 11);
    expect_bad(p, "trailing bytes", "3 bytes after the last tensor", NULL);
    write_st(p, UINT64_MAX, "{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("a", "F32", "[2]", 8, 16) "}", 16);
    expect_bad(p, "repeated name", "'a' appears twice", NULL);
    write_st(p, UINT64_MAX, "{\"__metadata__\":[1]," ENTRY("a", "F32", "[2]", 0, 8) "}", 8);
    expect_bad(p, "metadata not an object", "'__metadata__' is not an object", NULL);
    write_st(p, UINT64_MAX, "{\"__metadata__\":{\"k\":1}," ENTRY("a", "F32", "[2]", 0, 8) "}", 8);
    expect_bad(p, "metadata value", "'k' is not a string", NULL);

    /* valid edge cases built by hand load: padding, metadata, empty tensors, 0-d */
    write_st(p, UINT64_MAX, "{\"__metadata__\":{\"k\":\"v\"}," ENTRY("e", "F32", "[0,4]", 0, 0) ","
             ENTRY("s", "U8", "[]", 0, 1) "," ENTRY("b", "BOOL", "[3]", 1, 4) ","
             ENTRY("h", "I16", "[2]", 4, 8) "}        ", 8);
    tg_tensor_dict d;
    cr_assert_eq(tg_load_safetensors(p, &d), TG_OK, "%s", tg_last_error());
    cr_assert_eq(d.n, 3 + 1);
    cr_assert_str_eq(d.names[0], "e");
    cr_assert_eq(tg_numel(d.tensors[0]), 0);
    cr_assert(tg_ndim(d.tensors[1]) == 0 && tg_item_i64(d.tensors[1]) == 0);
    const uint8_t *bv = tg_data(d.tensors[2]);      /* bytes 1, 2, 3 are normalised to true */
    cr_assert(bv[0] == 1 && bv[1] == 1 && bv[2] == 1);
    const int32_t *hv = tg_data(d.tensors[3]);      /* bytes 4 5, 6 7 little-endian */
    cr_assert(hv[0] == 0x0504 && hv[1] == 0x0706, "%x %x", hv[0], hv[1]);
    tg_tensor_dict_free(&d);

    /* missing file, NULL arguments */
    tg_status st = tg_load_safetensors("/nonexistent/x.safetensors", &d);
    cr_assert(strstr(tg_last_error(), "No such file"));
    check_status(st, TG_ERR_IO, "missing file");
    check_status(tg_load_safetensors(NULL, &d), TG_ERR_ARG, "NULL path");
    check_status(tg_load_safetensors(p, NULL), TG_ERR_ARG, "NULL dict");
    cleanup();
}

/* Every truncation and every single-byte change of a valid file: an error or
 * a load, never a crash (ASan / UBSan builds check the "never"). */
Test(safetensors, truncations_and_byte_flips_never_crash) {
    tg_tensor *a = tg_arange(TG_F64, 0, 5, 1), *b = tg_ones(TG_I32, 2, (int64_t[]){2, 2});
    tg_tensor *ts[] = {a, b};
    const char *names[] = {"alpha", "beta"};
    char src[512], p[512];
    snprintf(src, sizeof src, "%s", tmp_path("good.safetensors"));
    snprintf(p, sizeof p, "%s", tmp_path("mut.safetensors"));
    cr_assert_eq(tg_save_safetensors(src, 2, names, ts), TG_OK);
    size_t len;
    unsigned char *raw = slurp(src, &len);
    tg_tensor_dict d;
    for (size_t cut = 0; cut < len; cut++) {
        write_bytes(p, raw, cut);
        cr_assert_eq(tg_load_safetensors(p, &d), TG_ERR_IO, "a file cut to %zu of %zu bytes loaded", cut, len);
        cr_assert_eq(d.n, 0);
        tg_clear_error();
    }
    int loaded = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            raw[i] ^= (unsigned char)(1u << bit);
            write_bytes(p, raw, len);
            tg_status st = tg_load_safetensors(p, &d);
            cr_assert(st == TG_OK || st == TG_ERR_IO, "byte %zu: status %s", i, tg_status_name(st));
            if (st == TG_OK) loaded++;
            else cr_assert(d.n == 0 && tg_last_error()[0]);
            tg_tensor_dict_free(&d);
            tg_clear_error();
            raw[i] ^= (unsigned char)(1u << bit);
        }
    }
    cr_assert(loaded > 0, "data bytes flipped should still load");
    free(raw);
    tg_release(a);
    tg_release(b);
    cleanup();
}

Test(safetensors, save_errors) {
    tg_tensor *a = tg_zeros(TG_F32, 1, (int64_t[]){3});
    tg_tensor *two[] = {a, a};
    const char *p = tmp_path("s.safetensors");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    const char *one = "a";
    check_status(tg_save_safetensors(NULL, 1, &one, &a), TG_ERR_ARG, "NULL path");
    check_status(tg_save_safetensors(path, -1, &one, &a), TG_ERR_ARG, "n < 0");
    check_status(tg_save_safetensors(path, 1, NULL, &a), TG_ERR_ARG, "NULL names");
    check_status(tg_save_safetensors(path, 1, &one, NULL), TG_ERR_ARG, "NULL tensors");
    const char *dup[] = {"w", "w"};
    tg_status st = tg_save_safetensors(path, 2, dup, two);
    cr_assert(strstr(tg_last_error(), "'w'"), "%s", tg_last_error());
    check_status(st, TG_ERR_ARG, "duplicate names");
    const char *empty[] = {"w", ""};
    check_status(tg_save_safetensors(path, 2, empty, two), TG_ERR_ARG, "empty name");
    const char *null_name[] = {"w", NULL};
    check_status(tg_save_safetensors(path, 2, null_name, two), TG_ERR_ARG, "NULL name");
    const char *meta = "__metadata__";
    check_status(tg_save_safetensors(path, 1, &meta, &a), TG_ERR_ARG, "reserved name");
    const char *bad_utf8 = "w\xff";
    check_status(tg_save_safetensors(path, 1, &bad_utf8, &a), TG_ERR_ARG, "invalid UTF-8");
    tg_tensor *none[] = {a, NULL};
    const char *ab[] = {"a", "b"};
    check_status(tg_save_safetensors(path, 2, ab, none), TG_ERR_ARG, "NULL tensor");
    cr_assert_eq(files_in_tmpdir(), 0, "a failed save left a file");
    /* an unwritable place */
    st = tg_save_safetensors("/nonexistent/dir/w.safetensors", 1, &one, &a);
    cr_assert(strstr(tg_last_error(), "/nonexistent/dir/w.safetensors"), "%s", tg_last_error());
    check_status(st, TG_ERR_IO, "missing directory");
    tg_release(a);
    cleanup();
}
