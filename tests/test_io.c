/* .npy reading/writing and NumPy-style printing, against oracles written by
 * NumPy (oracles/gen_npy.py: oracles/data/npy/, oracles/data/print.json). */
#define _POSIX_C_SOURCE 200809L
#include "support/check.h"
#include "support/tmpdir.h"

#include <cjson/cJSON.h>
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_DIR TG_ORACLE_DIR "/npy"

TestSuite(io, .init = tg_clear_error);

/* ---- helpers ------------------------------------------------------------ */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert(s && fread(s, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
    s[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return s;
}

static cJSON *load_json(const char *path) {
    char *s = slurp(path, NULL);
    cJSON *j = cJSON_Parse(s);
    free(s);
    cr_assert(j != NULL, "cannot parse %s", path);
    return j;
}

static double json_real(const cJSON *v) {
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? 1 : 0;
    if (cJSON_IsNumber(v)) return v->valuedouble;
    cr_assert(cJSON_IsString(v), "unexpected JSON value");
    if (!strcmp(v->valuestring, "nan")) return NAN;
    if (!strcmp(v->valuestring, "inf")) return INFINITY;
    if (!strcmp(v->valuestring, "-inf")) return -INFINITY;
    return strtod(v->valuestring, NULL);
}

static int64_t json_int(const cJSON *v) {
    if (cJSON_IsString(v)) return strtoll(v->valuestring, NULL, 10);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return (int64_t)v->valuedouble;
}

static tg_dtype dtype_named(const char *name) {
    for (int d = 0; d < TG_NUM_DTYPES; d++)
        if (!strcmp(tg_dtype_name((tg_dtype)d), name)) return (tg_dtype)d;
    cr_assert_fail("unknown dtype %s", name);
    return TG_F64;
}

/* A tensor of the given dtype/shape from JSON values: exact for every dtype
 * (ints through i64, floats through f64/c128 then cast). */
static tg_tensor *tensor_from_json(const cJSON *c) {
    tg_dtype dt = dtype_named(cJSON_GetObjectItem(c, "dtype")->valuestring);
    const cJSON *shp = cJSON_GetObjectItem(c, "shape"), *vals = cJSON_GetObjectItem(c, "values");
    int ndim = cJSON_GetArraySize(shp);
    int64_t shape[TG_MAX_DIMS];
    for (int i = 0; i < ndim; i++) shape[i] = json_int(cJSON_GetArrayItem(shp, i));
    int n = cJSON_GetArraySize(vals);
    bool cplx = tg_dtype_is_complex(dt), integral = dt == TG_BOOL || tg_dtype_is_integer(dt);
    size_t es = cplx ? 16 : 8;
    char *buf = malloc((size_t)(n ? n : 1) * es);
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(vals, i);
        if (cplx) {
            double re = json_real(cJSON_GetArrayItem(v, 0)), im = json_real(cJSON_GetArrayItem(v, 1));
            memcpy(buf + 16 * i, &re, 8);
            memcpy(buf + 16 * i + 8, &im, 8);
        } else if (integral) {
            int64_t x = json_int(v);
            memcpy(buf + 8 * i, &x, 8);
        } else {
            double x = json_real(v);
            memcpy(buf + 8 * i, &x, 8);
        }
    }
    tg_tensor *w = tg_from_data(cplx ? TG_C128 : integral ? TG_I64 : TG_F64, ndim, shape, buf);
    free(buf);
    cr_assert(w != NULL, "from_data: %s", tg_last_error());
    tg_tensor *t = tg_cast(w, dt);
    tg_release(w);
    cr_assert(t != NULL, "cast: %s", tg_last_error());
    return t;
}

/* Bit-faithful comparison: ints through i64, the rest through c128 (NaN
 * matches NaN, signed zeros compared too). */
static void check_identical(const tg_tensor *got, const tg_tensor *want, const char *what) {
    cr_assert(got != NULL, "%s: NULL (%s)", what, tg_last_error());
    cr_assert_eq(tg_dtype_of(got), tg_dtype_of(want), "%s: dtype %s, expected %s", what,
                 tg_dtype_name(tg_dtype_of(got)), tg_dtype_name(tg_dtype_of(want)));
    cr_assert_eq(tg_ndim(got), tg_ndim(want), "%s: rank %d, expected %d", what, tg_ndim(got), tg_ndim(want));
    for (int i = 0; i < tg_ndim(got); i++)
        cr_assert_eq(tg_shape(got)[i], tg_shape(want)[i], "%s: axis %d size %lld, expected %lld", what, i,
                     (long long)tg_shape(got)[i], (long long)tg_shape(want)[i]);
    int64_t n = tg_numel(got);
    bool integral = tg_dtype_of(got) == TG_BOOL || tg_dtype_is_integer(tg_dtype_of(got));
    tg_tensor *g = tg_cast((tg_tensor *)got, integral ? TG_I64 : TG_C128);
    tg_tensor *w = tg_cast((tg_tensor *)want, integral ? TG_I64 : TG_C128);
    size_t bytes = (size_t)n * (integral ? 8 : 16);
    char *gb = malloc(bytes + 1), *wb = malloc(bytes + 1);
    cr_assert(tg_copy_to(g, gb, bytes) == TG_OK && tg_copy_to(w, wb, bytes) == TG_OK);
    for (int64_t i = 0; i < n; i++) {
        if (integral) {
            int64_t a, b;
            memcpy(&a, gb + 8 * i, 8);
            memcpy(&b, wb + 8 * i, 8);
            cr_assert_eq(a, b, "%s: element %lld is %lld, expected %lld", what, (long long)i, (long long)a,
                         (long long)b);
        } else {
            for (int k = 0; k < 2; k++) {
                double a, b;
                memcpy(&a, gb + 16 * i + 8 * k, 8);
                memcpy(&b, wb + 16 * i + 8 * k, 8);
                bool same = (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
                cr_assert(same, "%s: element %lld part %d is %.17g, expected %.17g", what, (long long)i, k, a, b);
            }
        }
    }
    free(gb);
    free(wb);
    if (tg_scope_depth() == 0) {
        tg_release(g);
        tg_release(w);
    }
}


/* ---- loading ------------------------------------------------------------- */
Test(io, load_valid_files) {
    cJSON *j = load_json(NPY_DIR "/expected.json");
    const cJSON *valid = cJSON_GetObjectItem(j, "valid"), *c;
    int count = 0;
    cJSON_ArrayForEach(c, valid) {
        char path[512];
        snprintf(path, sizeof path, NPY_DIR "/%s", c->string);
        tg_tensor *got = tg_load_npy(path);
        cr_assert(got != NULL, "%s: %s", c->string, tg_last_error());
        cr_assert(tg_is_contiguous(got), "%s: loaded tensor is not contiguous", c->string);
        tg_tensor *want = tensor_from_json(c);
        check_identical(got, want, c->string);
        tg_release(got);
        tg_release(want);
        count++;
    }
    cJSON_Delete(j);
    cr_assert_geq(count, 30, "only %d valid files", count);
    cr_assert_eq(tg_last_error_code(), TG_OK, "stray error: %s", tg_last_error());
}

Test(io, load_bad_files) {
    cJSON *j = load_json(NPY_DIR "/expected.json");
    const cJSON *bad = cJSON_GetObjectItem(j, "bad"), *c;
    int count = 0;
    cJSON_ArrayForEach(c, bad) {
        char path[512], what[600];
        snprintf(path, sizeof path, NPY_DIR "/%s", c->string);
        snprintf(what, sizeof what, "bad file %s", c->string);
        tg_status want = TG_OK;
        for (int s = 0; s <= TG_ERR_UNSUPPORTED; s++)
            if (!strcmp(tg_status_name((tg_status)s), c->valuestring)) want = (tg_status)s;
        cr_assert_neq(want, TG_OK, "unknown status %s", c->valuestring);
        tg_tensor *t = tg_load_npy(path);
        cr_assert(t == NULL, "%s: loaded", what);
        cr_assert(strstr(tg_last_error(), c->string) != NULL, "%s: message does not name the file: %s", what,
                  tg_last_error());
        check_error(t, want, what);
        count++;
    }
    cJSON_Delete(j);
    cr_assert_geq(count, 25, "only %d bad files", count);
}

static void expect_message(const char *file, const char *needle, tg_status code) {
    char path[512];
    snprintf(path, sizeof path, NPY_DIR "/%s", file);
    tg_tensor *t = tg_load_npy(path);
    cr_assert(t == NULL);
    cr_assert(strstr(tg_last_error(), needle) != NULL, "%s: message lacks '%s': %s", file, needle, tg_last_error());
    check_error(t, code, file);
}

Test(io, error_messages_name_the_problem) {
    expect_message("string_dtype.npy", "'<U3'", TG_ERR_IO);
    expect_message("object_dtype.npy", "'|O'", TG_ERR_IO);
    expect_message("structured_dtype.npy", "[('a', '<i4')", TG_ERR_IO);
    expect_message("uint8_dtype.npy", "'|u1'", TG_ERR_IO);
    expect_message("truncated_data.npy", "truncated: shape (2, 3) of f64 needs 48 data bytes", TG_ERR_IO);
    expect_message("bad_magic.npy", "magic", TG_ERR_IO);
    expect_message("missing_shape.npy", "'shape'", TG_ERR_IO);
    expect_message("seventeen_dims.npy", "dimensions", TG_ERR_SHAPE);
}

/* Every prefix of a valid file is an error (the data are always short);
 * every single-byte change to the header loads or fails cleanly. Under the
 * sanitizer build this shows no over-read and no leak. */
Test(io, truncations_and_header_corruptions) {
    const char *files[] = {"f8.npy", "c16_fortran.npy", "f8_v2.npy", "bool_scalar.npy"};
    const unsigned char subst[] = {0, 0xff, '(', ')', ',', '9', '-', ' ', '\'', '{', '}', 'T', 0x7f};
    char path[128];
    snprintf(path, sizeof path, "%s/fuzz.npy", tmp_dir());
    int loaded = 0, failed = 0;
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        char src[512];
        snprintf(src, sizeof src, NPY_DIR "/%s", files[fi]);
        size_t len;
        char *bytes = slurp(src, &len);
        for (size_t cut = 0; cut < len; cut++) {
            FILE *f = fopen(path, "wb");
            cr_assert(f && fwrite(bytes, 1, cut, f) == cut);
            fclose(f);
            tg_tensor *t = tg_load_npy(path);
            cr_assert(t == NULL, "%s cut at %zu bytes loaded", files[fi], cut);
            cr_assert_neq(tg_last_error_code(), TG_OK);
            tg_clear_error();
        }
        size_t header_end = len < 140 ? len : 140;    /* prefix, header and some data */
        for (size_t pos = 0; pos < header_end; pos++) {
            for (size_t k = 0; k < sizeof subst; k++) {
                char saved = bytes[pos];
                bytes[pos] = (char)subst[k];
                FILE *f = fopen(path, "wb");
                cr_assert(f && fwrite(bytes, 1, len, f) == len);
                fclose(f);
                bytes[pos] = saved;
                tg_tensor *t = tg_load_npy(path);
                if (t) {
                    loaded++;
                    char *s = tg_format(t);
                    cr_assert(s != NULL);
                    free(s);
                    tg_release(t);
                } else {
                    failed++;
                    cr_assert_neq(tg_last_error_code(), TG_OK);
                }
                tg_clear_error();
            }
        }
        free(bytes);
    }
    cr_assert(failed > 0 && loaded > 0, "loaded %d, failed %d", loaded, failed);
    cr_assert(tmp_cleanup(), "cannot remove the temporary directory");
}

Test(io, load_missing_file_and_null) {
    const char *path = "/nonexistent_dir_tangent/none.npy";
    tg_tensor *t = tg_load_npy(path);
    cr_assert(strstr(tg_last_error(), path) != NULL, "message: %s", tg_last_error());
    cr_assert(strstr(tg_last_error(), "No such file") != NULL, "message: %s", tg_last_error());
    check_error(t, TG_ERR_IO, "missing file");
    check_error(tg_load_npy(NULL), TG_ERR_ARG, "NULL path");
    check_error(tg_load_npy("/tmp"), TG_ERR_IO, "a directory");
}

/* ---- saving -------------------------------------------------------------- */
Test(io, save_load_round_trip_all_files) {
    cJSON *j = load_json(NPY_DIR "/expected.json");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "valid")) {
        char src[512], dst[512];
        snprintf(src, sizeof src, NPY_DIR "/%s", c->string);
        snprintf(dst, sizeof dst, "%s/%s", tmp_dir(), c->string);
        tg_tensor *a = tg_load_npy(src);
        cr_assert(a != NULL, "%s: %s", c->string, tg_last_error());
        check_status(tg_save_npy(a, dst), TG_OK, c->string);
        /* Version 1.0 header, data aligned to 64 bytes. */
        size_t len;
        char *bytes = slurp(dst, &len);
        cr_assert(len >= 10 && !memcmp(bytes, "\x93NUMPY\x01\x00", 8), "%s: bad prefix", c->string);
        size_t hlen = (unsigned char)bytes[8] | (size_t)(unsigned char)bytes[9] << 8;
        cr_assert_eq((10 + hlen) % 64, 0, "%s: data not aligned", c->string);
        cr_assert_eq(bytes[10 + hlen - 1], '\n');
        cr_assert_eq(len, 10 + hlen + (size_t)tg_numel(a) * tg_dtype_size(tg_dtype_of(a)));
        free(bytes);
        tg_tensor *b = tg_load_npy(dst);
        check_identical(b, a, c->string);
        tg_release(a);
        tg_release(b);
    }
    cJSON_Delete(j);
    cr_assert(tmp_cleanup(), "cannot remove the temporary directory");
}

Test(io, save_non_contiguous) {
    tg_scope_begin();
    int64_t shape[3] = {2, 3, 4};
    tg_tensor *x = tg_reshape(tg_arange(TG_F32, 0, 24, 1), 3, shape);
    int perm[3] = {2, 0, 1};
    tg_tensor *v = tg_slice(tg_permute(x, perm), 2, TG_NONE, TG_NONE, -2);   /* (4, 2, 2), negative stride */
    tg_tensor *e = tg_expand(tg_slice(x, 1, 1, 2, 1), 3, (int64_t[]){2, 5, 4}); /* zero stride */
    tg_tensor *z = tg_imag(tg_full_complex(TG_C128, 2, (int64_t[]){2, 2}, 1, -3));
    cr_assert(v && e && z, "%s", tg_last_error());
    cr_assert(!tg_is_contiguous(v) && !tg_is_contiguous(e) && !tg_is_contiguous(z));
    tg_tensor *list[3] = {v, e, z};
    for (int i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/nc%d.npy", tmp_dir(), i);
        check_status(tg_save_npy(list[i], path), TG_OK, "save non-contiguous");
        tg_tensor *back = tg_load_npy(path);
        check_identical(back, list[i], path);
    }
    tg_scope_end();
    cr_assert(tmp_cleanup(), "cannot remove the temporary directory");
}

Test(io, save_errors) {
    tg_tensor *t = tg_ones(TG_BF16, 1, (int64_t[]){3});
    check_status(tg_save_npy(t, "/tmp/never_written_bf16.npy"), TG_ERR_UNSUPPORTED, "bf16");
    cr_assert(access("/tmp/never_written_bf16.npy", F_OK) != 0, "bf16 file was created");
    tg_tensor *f = tg_ones(TG_F32, 1, (int64_t[]){3});
    check_status(tg_save_npy(NULL, "/tmp/x.npy"), TG_ERR_ARG, "NULL tensor");
    check_status(tg_save_npy(f, NULL), TG_ERR_ARG, "NULL path");
    tg_status st = tg_save_npy(f, "/nonexistent_dir_tangent/x.npy");
    cr_assert(strstr(tg_last_error(), "/nonexistent_dir_tangent/x.npy") != NULL, "%s", tg_last_error());
    cr_assert(strstr(tg_last_error(), "No such file") != NULL, "%s", tg_last_error());
    check_status(st, TG_ERR_IO, "unwritable path");
    tg_release(t);
    tg_release(f);
}

/* Tangent writes, NumPy reads: values and dtypes must agree. */
Test(io, numpy_reads_what_tangent_writes) {
    if (system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        printf("note: /usr/bin/python3 has no numpy; skipping the NumPy read-back check\n");
        return;
    }
    tg_scope_begin();
    char path[256];
    /* f32 (2, 3) written from a transposed view; values i + 10 j. */
    tg_tensor *a = tg_reshape(tg_arange(TG_F32, 0, 6, 1), 2, (int64_t[]){3, 2});
    tg_tensor *at = tg_mT(tg_mul_scalar(a, 0.5));
    snprintf(path, sizeof path, "%s/f32.npy", tmp_dir());
    check_status(tg_save_npy(at, path), TG_OK, "save f32");
    tg_tensor *c = tg_full_complex(TG_C128, 1, (int64_t[]){2}, 1.5, -2);
    snprintf(path, sizeof path, "%s/c128.npy", tmp_dir());
    check_status(tg_save_npy(c, path), TG_OK, "save c128");
    tg_tensor *b = tg_gt_scalar(tg_arange(TG_I64, 0, 4, 1), 1.5);
    snprintf(path, sizeof path, "%s/bool.npy", tmp_dir());
    check_status(tg_save_npy(b, path), TG_OK, "save bool");
    tg_tensor *h = tg_full(TG_F16, 2, (int64_t[]){1, 2}, 0.1);
    snprintf(path, sizeof path, "%s/f16.npy", tmp_dir());
    check_status(tg_save_npy(h, path), TG_OK, "save f16");
    tg_tensor *s = tg_scalar(TG_I64, -7);
    snprintf(path, sizeof path, "%s/i64.npy", tmp_dir());
    check_status(tg_save_npy(s, path), TG_OK, "save i64 0-d");
    tg_tensor *e = tg_zeros(TG_I32, 2, (int64_t[]){0, 3});
    snprintf(path, sizeof path, "%s/empty.npy", tmp_dir());
    check_status(tg_save_npy(e, path), TG_OK, "save empty");

    char script[256], cmd[600];
    snprintf(script, sizeof script, "%s/check.py", tmp_dir());
    FILE *f = fopen(script, "w");
    cr_assert(f != NULL);
    fprintf(f, "import numpy as np, sys\n"
               "d = sys.argv[1]\n"
               "a = np.load(d + '/f32.npy')\n"
               "assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)\n"
               "assert (a == np.arange(6, dtype=np.float32).reshape(3, 2).T * 0.5).all(), a\n"
               "c = np.load(d + '/c128.npy')\n"
               "assert c.dtype == np.complex128 and (c == 1.5 - 2j).all() and c.shape == (2,)\n"
               "b = np.load(d + '/bool.npy')\n"
               "assert b.dtype == np.bool_ and b.tolist() == [False, False, True, True], b\n"
               "h = np.load(d + '/f16.npy')\n"
               "assert h.dtype == np.float16 and h.shape == (1, 2) and (h == np.float16(0.1)).all(), h\n"
               "s = np.load(d + '/i64.npy')\n"
               "assert s.dtype == np.int64 and s.shape == () and s == -7, s\n"
               "e = np.load(d + '/empty.npy')\n"
               "assert e.dtype == np.int32 and e.shape == (0, 3), e\n"
               "print('numpy agrees')\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", script, tmp_dir());
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "NumPy disagrees with the files Tangent wrote (rc %d)", rc);
    tg_scope_end();
    cr_assert(tmp_cleanup(), "cannot remove the temporary directory");
}

/* ---- printing ------------------------------------------------------------ */
/* tg_format's text split into values and the header line (the last line). */
static void split_format(const tg_tensor *t, char **values, char **header) {
    char *s = tg_format(t);
    cr_assert(s != NULL, "tg_format: %s", tg_last_error());
    char *nl = strrchr(s, '\n');
    cr_assert(nl != NULL, "no header line in %s", s);
    *nl = '\0';
    *values = s;
    *header = nl + 1;
}

Test(io, print_matches_numpy_str) {
    cJSON *j = load_json(TG_ORACLE_DIR "/print.json");
    const cJSON *c;
    int count = 0;
    cJSON_ArrayForEach(c, j) {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        const char *want = cJSON_GetObjectItem(c, "str")->valuestring;
        tg_tensor *t = tensor_from_json(c);
        char *values, *header, shape[128], head[256];
        split_format(t, &values, &header);
        cr_assert_str_eq(values, want, "case %s:\n-- got --\n%s\n-- NumPy --\n%s", name, values, want);
        size_t k = 0;
        k += (size_t)snprintf(shape + k, sizeof shape - k, "(");
        for (int i = 0; i < tg_ndim(t); i++)
            k += (size_t)snprintf(shape + k, sizeof shape - k, i ? ", %lld" : "%lld", (long long)tg_shape(t)[i]);
        snprintf(shape + k, sizeof shape - k, tg_ndim(t) == 1 ? ",)" : ")");
        snprintf(head, sizeof head, "tensor(shape=%s, dtype=%s, device=cpu)", shape, tg_dtype_name(tg_dtype_of(t)));
        cr_assert_str_eq(header, head, "case %s", name);
        free(values);
        tg_release(t);
        count++;
    }
    cJSON_Delete(j);
    cr_assert_geq(count, 30);
}

Test(io, print_header_and_small_cases) {
    tg_scope_begin();
    char *v, *h;
    split_format(tg_scalar(TG_F64, 2.0), &v, &h);
    cr_assert_str_eq(v, "2.0");
    cr_assert_str_eq(h, "tensor(shape=(), dtype=f64, device=cpu)");
    free(v);
    split_format(tg_scalar(TG_BOOL, 1), &v, &h);
    cr_assert_str_eq(v, "True");
    free(v);
    split_format(tg_zeros(TG_C64, 2, (int64_t[]){2, 0}), &v, &h);
    cr_assert_str_eq(v, "[]");
    cr_assert_str_eq(h, "tensor(shape=(2, 0), dtype=c64, device=cpu)");
    free(v);
    split_format(tg_full(TG_BF16, 1, (int64_t[]){2}, 1.5), &v, &h);
    cr_assert_str_eq(v, "[1.5 1.5]");
    cr_assert_str_eq(h, "tensor(shape=(2,), dtype=bf16, device=cpu)");
    free(v);
    tg_scope_end();
}

Test(io, print_non_contiguous_matches_copy) {
    tg_scope_begin();
    tg_tensor *x = tg_reshape(tg_div_scalar(tg_arange(TG_F64, 0, 60, 1), 7), 3, (int64_t[]){3, 4, 5});
    tg_tensor *views[3] = {
        tg_permute(x, (int[]){2, 0, 1}),
        tg_slice(x, 2, TG_NONE, TG_NONE, -2),
        tg_expand(tg_select(x, 1, 2), 3, (int64_t[]){2, 3, 5}),
    };
    for (int i = 0; i < 3; i++) {
        cr_assert(views[i] && !tg_is_contiguous(views[i]), "%s", tg_last_error());
        char *a = tg_format(views[i]), *b = tg_format(tg_copy(views[i]));
        cr_assert(a && b);
        cr_assert_str_eq(a, b, "view %d", i);
        free(a);
        free(b);
    }
    tg_scope_end();
}

Test(io, print_summarises_past_threshold) {
    tg_scope_begin();
    char *a = tg_format(tg_arange(TG_I64, 0, 1000, 1));
    char *b = tg_format(tg_arange(TG_I64, 0, 1001, 1));
    cr_assert(a && b);
    cr_assert(strstr(a, "...") == NULL, "1000 elements are printed in full");
    cr_assert(strstr(a, " 500 ") != NULL);
    cr_assert(strncmp(b, "[   0    1    2 ...  998  999 1000]\n", 36) == 0, "%s", b);
    free(a);
    free(b);
    /* A long axis next to short ones: only the long one is cut. */
    char *c = tg_format(tg_zeros(TG_F32, 3, (int64_t[]){2, 2, 300}));
    cr_assert(c);
    cr_assert_str_eq(c, "[[[0. 0. 0. ... 0. 0. 0.]\n  [0. 0. 0. ... 0. 0. 0.]]\n\n"
                        " [[0. 0. 0. ... 0. 0. 0.]\n  [0. 0. 0. ... 0. 0. 0.]]]\n"
                        "tensor(shape=(2, 2, 300), dtype=f32, device=cpu)");
    free(c);
    tg_scope_end();
}

Test(io, print_to_file_and_null_arguments) {
    tg_tensor *t = tg_from_data(TG_I32, 1, (int64_t[]){3}, (int32_t[]){1, -2, 30});
    FILE *f = tmpfile();
    cr_assert(f != NULL);
    check_status(tg_fprint(f, t), TG_OK, "fprint");
    rewind(f);
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    cr_assert_str_eq(buf, "[ 1 -2 30]\ntensor(shape=(3,), dtype=i32, device=cpu)\n", "got %zu bytes: %s", n, buf);
    check_error(tg_format(NULL), TG_ERR_ARG, "format NULL");
    check_status(tg_fprint(NULL, t), TG_ERR_ARG, "fprint NULL FILE");
    check_status(tg_fprint(stdout, NULL), TG_ERR_ARG, "fprint NULL tensor");
    check_status(tg_print(NULL), TG_ERR_ARG, "print NULL");
    check_status(tg_print(t), TG_OK, "print");
    tg_release(t);
}
