#define _GNU_SOURCE   /* memmem */
/* Saved programs (DESIGN.md section 5): a program saved and loaded runs
 * bitwise like the original on new sizes; a truncated, corrupt, newer or
 * incomplete file is rejected with an error naming the problem, never a
 * crash. */
#include "support/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

TestSuite(program_io, .init = tg_clear_error);

typedef struct { tg_tensor *w, *b; } mlp;

static tg_status f_layer(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    mlp *m = ctx;
    out[0] = tg_sum(tg_relu(tg_add(tg_matmul(in[0], m->w), m->b)), 1, (int[]){-1}, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

static tg_status f_loss(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_mean(tg_square(tg_tanh(tg_matmul(in[0], in[1]))), 0, NULL, false);
    return out[0] ? TG_OK : tg_last_error_code();
}

/* a polynomial size (N*4) and a floor-division atom ((N + 1) // 2) */
static tg_status f_sizes(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    int64_t n = tg_dim(in[0], 0);
    tg_tensor *flat = tg_reshape(in[0], 1, (int64_t[]){tg_size_mul(n, 4)});
    tg_tensor *half = tg_full(TG_F64, 1, (int64_t[]){tg_size_floordiv(tg_size_add(n, 1), 2)}, 2.0);
    out[0] = tg_mul(half, tg_sum(flat, 0, NULL, false));
    out[1] = tg_mul_scalar(flat, 0.5);
    return out[0] && out[1] ? TG_OK : tg_last_error_code();
}

/* the MLP-like layer of test_trace.c, with its weights as constants */
static tg_program *layer_program(mlp *m) {
    tg_manual_seed(5);
    m->w = tg_randn(TG_F32, 2, (int64_t[]){4, 3});
    m->b = tg_randn(TG_F32, 1, (int64_t[]){3});
    tg_graph *g = tg_trace(f_layer, m, 1, (tg_spec[]){{TG_F32, "N, 4"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    cr_assert_not_null(p, "%s", tg_last_error());
    tg_graph_free(g);
    return p;
}

static void save(const tg_program *p, unsigned char **buf, size_t *len) {
    void *b = NULL;
    check_status(tg_program_save_buffer(p, &b, len), TG_OK, "save");
    *buf = b;
}

static void fix_crc(unsigned char *b, size_t len) {
    uint32_t c = (uint32_t)crc32(0L, b, (uInt)(len - 4));
    for (int i = 0; i < 4; i++) b[len - 4 + (size_t)i] = (unsigned char)(c >> (8 * i));
}

static tg_program *load_ok(const void *buf, size_t len) {
    tg_program *q = tg_program_load_buffer(buf, len);
    cr_assert_not_null(q, "load: %s", tg_last_error());
    return q;
}

static void expect_load_error(const void *buf, size_t len, tg_status code, const char *needle, const char *what) {
    tg_program *q = tg_program_load_buffer(buf, len);
    if (q) tg_program_free(q);
    cr_assert_null(q, "%s: loaded", what);
    cr_assert_eq(tg_last_error_code(), code, "%s: %s", what, tg_last_error());
    cr_assert(strstr(tg_last_error(), "tg_program_load"), "%s: %s", what, tg_last_error());
    if (needle) cr_assert(strstr(tg_last_error(), needle), "%s: want '%s' in: %s", what, needle, tg_last_error());
    tg_clear_error();
}

Test(program_io, layer_saved_and_loaded_runs_bitwise_equal_on_two_batch_sizes) {
    tg_scope_begin();
    mlp m;
    tg_program *p = layer_program(&m);
    unsigned char *buf;
    size_t len;
    save(p, &buf, &len);
    cr_assert(len > 24 && memcmp(buf, "TANGENTP", 8) == 0);
    tg_program *q = load_ok(buf, len);
    for (int64_t n = 2; n <= 5; n += 3) {
        tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){n, 4}), *a, *b;
        check_status(tg_run(p, &x, &a), TG_OK, "run original");
        check_status(tg_run(q, &x, &b), TG_OK, "run loaded");
        check_close(b, a, 0, 0, "loaded equals original bitwise");
    }
    int64_t bindings;
    tg_program_stats(q, NULL, &bindings);
    cr_assert_eq(bindings, 2, "a loaded program binds new sizes without recompiling");
    /* saving the loaded program gives the same bytes */
    unsigned char *again;
    size_t len2;
    save(q, &again, &len2);
    cr_assert(len2 == len && memcmp(again, buf, len) == 0, "save(load(file)) == file");
    free(again);
    free(buf);
    tg_program_free(q);
    tg_program_free(p);
    tg_scope_end();
}

Test(program_io, value_and_grad_program_round_trips_through_a_file) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_loss, NULL, 2, (tg_spec[]){{TG_F64, "N, 4"}, {TG_F64, "4, 3"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_graph *vg = tg_graph_value_and_grad(g, 0, NULL);
    cr_assert_not_null(vg, "%s", tg_last_error());
    tg_program *p = tg_compile(vg, NULL);
    char path[] = "/tmp/tangent_program_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    check_status(tg_program_save(p, path), TG_OK, "save to file");
    tg_program *q = tg_program_load(path);
    cr_assert_not_null(q, "%s", tg_last_error());
    unlink(path);
    tg_manual_seed(9);
    tg_tensor *w = tg_randn(TG_F64, 2, (int64_t[]){4, 3});
    for (int64_t n = 2; n <= 5; n += 3) {
        tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){n, 4}), *a[3], *b[3];
        check_status(tg_run(p, (tg_tensor *[]){x, w}, a), TG_OK, "run original");
        check_status(tg_run(q, (tg_tensor *[]){x, w}, b), TG_OK, "run loaded");
        for (int k = 0; k < 3; k++) check_close(b[k], a[k], 0, 0, "loaded equals original bitwise");
    }
    tg_program_free(q);
    tg_program_free(p);
    tg_graph_free(vg);
    tg_graph_free(g);
    tg_scope_end();
}

Test(program_io, symbolic_expressions_and_floor_division_survive) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_sizes, NULL, 1, (tg_spec[]){{TG_F64, "N, 4"}}, 2);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    unsigned char *buf;
    size_t len;
    save(p, &buf, &len);
    tg_program *q = load_ok(buf, len);
    for (int64_t n = 1; n <= 6; n += 5) {
        tg_tensor *x = tg_randn(TG_F64, 2, (int64_t[]){n, 4}), *a[2], *b[2];
        check_status(tg_run(p, &x, a), TG_OK, "run original");
        check_status(tg_run(q, &x, b), TG_OK, "run loaded");
        cr_assert_eq(tg_dim(b[0], 0), (n + 1) / 2);
        cr_assert_eq(tg_dim(b[1], 0), 4 * n);
        for (int k = 0; k < 2; k++) check_close(b[k], a[k], 0, 0, "loaded equals original bitwise");
    }
    free(buf);
    tg_program_free(q);
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

Test(program_io, every_truncation_fails_cleanly) {
    tg_scope_begin();
    mlp m;
    tg_program *p = layer_program(&m);
    unsigned char *buf;
    size_t len;
    save(p, &buf, &len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *copy = malloc(n ? n : 1);      /* exact size: ASan sees any over-read */
        memcpy(copy, buf, n);
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu of %zu bytes", n, len);
        expect_load_error(copy, n, TG_ERR_IO, NULL, what);
        free(copy);
    }
    /* and one byte too many */
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    expect_load_error(longer, len + 1, TG_ERR_IO, "after the CRC", "one byte appended");
    free(longer);
    free(buf);
    tg_program_free(p);
    tg_scope_end();
}

Test(program_io, single_byte_corruptions_are_caught) {
    tg_scope_begin();
    mlp m;
    tg_program *p = layer_program(&m);
    unsigned char *buf;
    size_t len;
    save(p, &buf, &len);
    unsigned char *copy = malloc(len);
    for (size_t at = 0; at < len; at++) {
        for (int flip = 1; flip <= 0x80; flip <<= 3) {
            memcpy(copy, buf, len);
            copy[at] ^= (unsigned char)flip;
            char what[64];
            snprintf(what, sizeof what, "byte %zu ^ 0x%02x", at, flip);
            expect_load_error(copy, len, TG_ERR_IO, NULL, what);
        }
    }
    /* a CRC mismatch says so */
    memcpy(copy, buf, len);
    copy[len / 2] ^= 1;
    expect_load_error(copy, len, TG_ERR_IO, "CRC mismatch", "middle byte");
    free(copy);
    free(buf);
    tg_program_free(p);
    tg_scope_end();
}

/* Corruptions behind a valid CRC (a crafted file): every one loads or fails
 * with an error, and what loads runs or fails with an error. */
Test(program_io, corruptions_with_a_fixed_crc_never_crash) {
    tg_scope_begin();
    mlp m;
    tg_program *p = layer_program(&m);
    unsigned char *buf;
    size_t len;
    save(p, &buf, &len);
    unsigned char *copy = malloc(len);
    tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){3, 4});
    int loaded = 0, rejected = 0;
    for (size_t at = 0; at + 4 < len; at++) {
        for (int v = 0; v < 3; v++) {
            memcpy(copy, buf, len);
            unsigned char nb = v == 0 ? (unsigned char)(copy[at] ^ 1) : v == 1 ? 0xff : 0x00;
            if (nb == copy[at]) continue;
            copy[at] = nb;
            fix_crc(copy, len);
            tg_program *q = tg_program_load_buffer(copy, len);
            if (!q) {
                tg_status code = tg_last_error_code();
                cr_assert(code == TG_ERR_IO || code == TG_ERR_ARG, "byte %zu: %s", at, tg_last_error());
                rejected++;
            } else {
                loaded++;
                tg_tensor *y = NULL;
                tg_status st = tg_run(q, &x, &y);
                cr_assert(st == TG_OK || tg_last_error()[0], "byte %zu: a failed run names its error", at);
                tg_program_free(q);
            }
            tg_clear_error();
        }
    }
    cr_assert(rejected > loaded, "most corruptions are rejected (%d rejected, %d loaded)", rejected, loaded);
    free(copy);
    free(buf);
    tg_program_free(p);
    tg_scope_end();
}

Test(program_io, a_newer_format_version_is_a_clear_error) {
    tg_scope_begin();
    mlp m;
    tg_program *p = layer_program(&m);
    unsigned char *buf;
    size_t len;
    save(p, &buf, &len);
    cr_assert_eq(buf[8], 2, "format version 2");
    buf[8] = 7;
    fix_crc(buf, len);
    expect_load_error(buf, len, TG_ERR_IO, "file format version 7 is newer than this library's 2", "version 7");
    memcpy(buf, "TANGENTX", 8);
    expect_load_error(buf, len, TG_ERR_IO, "bad magic", "magic");
    free(buf);
    tg_program_free(p);
    tg_scope_end();
}

static tg_status scale_infer(void *u, int n_in, const tg_dtype *dt, const int *nd, const int64_t *const *sh,
                             tg_dtype *odt, int *ond, int64_t (*osh)[TG_MAX_DIMS]) {
    (void)u; (void)n_in;
    if (dt[0] != TG_F64) return tg_op_fail(TG_ERR_DTYPE, "test_io_twice: f64 only");
    odt[0] = TG_F64;
    ond[0] = nd[0];
    memcpy(osh[0], sh[0], (size_t)nd[0] * sizeof(int64_t));
    return TG_OK;
}
static tg_status scale_cpu(void *u, tg_tensor *const *in, tg_tensor *const *out) {
    (void)u;
    tg_tensor *x = tg_contiguous(in[0]);
    const double *a = tg_data(x);
    double *b = tg_data_mut(out[0]);
    for (int64_t i = 0; i < tg_numel(x); i++) b[i] = 2 * a[i];
    if (tg_scope_depth() == 0) tg_release(x);
    return TG_OK;
}
static tg_status f_user_op(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    tg_tensor *t = NULL;
    tg_status st = tg_op_apply("test_io_twice", 1, in, 1, &t);
    if (st) return st;
    out[0] = tg_exp(t);
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(program_io, user_ops_are_saved_by_name_and_unknown_names_are_rejected) {
    tg_scope_begin();
    tg_op_spec spec = {"test_io_twice", 1, 1, scale_infer, scale_cpu, NULL, NULL, NULL};
    check_status(tg_op_register(&spec), TG_OK, "register");
    tg_graph *g = tg_trace(f_user_op, NULL, 1, (tg_spec[]){{TG_F64, "N"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    unsigned char *buf;
    size_t len;
    save(p, &buf, &len);
    tg_program *q = load_ok(buf, len);
    tg_tensor *x = tg_from_data(TG_F64, 1, (int64_t[]){3}, (double[]){0, 0.5, 1}), *y;
    check_status(tg_run(q, &x, &y), TG_OK, "run loaded");
    check_values_f64(y, 3, (double[]){1, exp(1.0), exp(2.0)}, 1e-15, "exp(2x)");
    tg_program_free(q);
    /* the same file naming an op nobody registered */
    unsigned char *at = memmem(buf, len, "test_io_twice", 13);
    cr_assert_not_null(at);
    memcpy(at, "test_io_thrice" + 1, 13);           /* "est_io_thrice": same length, unknown */
    fix_crc(buf, len);
    expect_load_error(buf, len, TG_ERR_ARG,
                      "op 'est_io_thrice' is not registered: register it with tg_op_register before loading",
                      "unknown op");
    free(buf);
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

static tg_status f_scaled(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    out[0] = tg_mul_scalar(in[0], 0.5);          /* a weak scalar constant */
    return out[0] ? TG_OK : tg_last_error_code();
}

Test(program_io, weak_scalar_constants_keep_their_promotion) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_scaled, NULL, 1, (tg_spec[]){{TG_F32, "N"}}, 1);
    cr_assert_not_null(g, "%s", tg_last_error());
    tg_program *p = tg_compile(g, NULL);
    tg_tensor *x = tg_from_data(TG_F32, 1, (int64_t[]){2}, (float[]){1, 3}), *a, *b, *e;
    check_status(tg_run(p, &x, &a), TG_OK, "run original");
    check_status(f_scaled(NULL, &x, &e), TG_OK, "eager");
    check_close(a, e, 0, 0, "compiled equals eager (f32: the scalar is weak)");
    unsigned char *buf;
    size_t len;
    save(p, &buf, &len);
    tg_program *q = load_ok(buf, len);
    check_status(tg_run(q, &x, &b), TG_OK, "run loaded");
    check_close(b, a, 0, 0, "same dtype and values");
    free(buf);
    tg_program_free(q);
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

/* Files written by format version 1 keep loading (the fuzz seed corpus). */
Test(program_io, committed_version_1_files_still_load) {
    tg_scope_begin();
    const char *names[] = {"layer.tgp", "value_and_grad.tgp", "sizes.tgp"};
    for (int k = 0; k < 3; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/../../fuzz/corpus/program_load/%s", TG_ORACLE_DIR, names[k]);
        tg_program *p = tg_program_load(path);
        cr_assert_not_null(p, "%s: %s", names[k], tg_last_error());
        tg_program_free(p);
    }
    tg_tensor *x = tg_ones(TG_F64, 2, (int64_t[]){3, 4}), *y[2];
    char path[1024];
    snprintf(path, sizeof path, "%s/../../fuzz/corpus/program_load/sizes.tgp", TG_ORACLE_DIR);
    tg_program *p = tg_program_load(path);
    check_status(tg_run(p, &x, y), TG_OK, "run");
    check_values_f64(y[0], 2, (double[]){24, 24}, 0, "2 * sum over (N + 1) // 2 = 2 entries");
    tg_program_free(p);
    tg_scope_end();
}

/* A format 1 file whose gradient holds view_scatter nodes, written by the
 * library of 8 axes (f(x) = sum(x[:, 1:3]^2) + sum(x[:, ::2]), value and
 * gradient): the loader widens their attributes, and the gradient is
 * 2x on columns 1-2 plus 1 on columns 0 and 2. */
Test(program_io, version_1_view_scatter_attributes_are_widened) {
    tg_scope_begin();
    char path[1024];
    snprintf(path, sizeof path, "%s/../../fuzz/corpus/program_load/view_scatter_v1.tgp", TG_ORACLE_DIR);
    tg_program *p = tg_program_load(path);
    cr_assert_not_null(p, "%s", tg_last_error());
    double xs[12], want[12], value = 0;
    for (int i = 0; i < 12; i++) {
        int col = i % 4;
        xs[i] = 0.5 * i - 2;
        want[i] = (col == 1 || col == 2 ? 2 * xs[i] : 0) + (col % 2 == 0 ? 1 : 0);
        value += (col == 1 || col == 2 ? xs[i] * xs[i] : 0) + (col % 2 == 0 ? xs[i] : 0);
    }
    tg_tensor *x = tg_from_data(TG_F64, 2, (int64_t[]){3, 4}, xs), *y[2];
    check_status(tg_run(p, &x, y), TG_OK, "run");
    check_values_f64(y[0], 1, &value, 1e-12, "value");
    check_values_f64(y[1], 12, want, 1e-12, "gradient");
    tg_program_free(p);
    tg_scope_end();
}

Test(program_io, missing_file_and_bad_arguments) {
    cr_assert_null(tg_program_load("/nonexistent/dir/program.tgp"));
    cr_assert_eq(tg_last_error_code(), TG_ERR_IO);
    cr_assert(strstr(tg_last_error(), "cannot open '/nonexistent/dir/program.tgp'"), "%s", tg_last_error());
    tg_clear_error();
    expect_load_error("", 0, TG_ERR_IO, "truncated", "empty buffer");
    expect_load_error("TANGENTP", 8, TG_ERR_IO, "truncated", "magic only");
    cr_assert_null(tg_program_load(NULL));
    check_status(tg_last_error_code(), TG_ERR_ARG, "NULL path");
    void *b;
    size_t n;
    check_status(tg_program_save_buffer(NULL, &b, &n), TG_ERR_ARG, "NULL program");
    tg_scope_begin();
    mlp m;
    tg_program *p = layer_program(&m);
    check_status(tg_program_save(p, "/nonexistent/dir/program.tgp"), TG_ERR_IO, "unwritable path");
    tg_program_free(p);
    tg_scope_end();
}

static tg_status custom_fwd(void *u, tg_tensor *const *in, tg_tensor **out) {
    (void)u;
    out[0] = tg_sin(in[0]);
    return out[0] ? TG_OK : tg_last_error_code();
}
static tg_status custom_vjp(void *u, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                            tg_tensor **ic) {
    (void)u; (void)out;
    ic[0] = tg_mul(g[0], tg_cos(in[0]));
    return ic[0] ? TG_OK : tg_last_error_code();
}
static const tg_custom_fn custom_sin = {custom_fwd, custom_vjp, NULL, NULL, 1, 1};
static tg_status f_custom(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    return tg_custom_call(&custom_sin, in, out);
}

Test(program_io, custom_calls_cannot_be_saved) {
    tg_scope_begin();
    tg_graph *g = tg_trace(f_custom, NULL, 1, (tg_spec[]){{TG_F64, "N"}}, 1);
    if (!g) {                                      /* not traceable yet: nothing to save */
        tg_clear_error();
        tg_scope_end();
        return;
    }
    tg_program *p = tg_compile(g, NULL);
    void *b = NULL;
    size_t n;
    check_status(tg_program_save_buffer(p, &b, &n), TG_ERR_ARG, "custom_call");
    cr_assert_null(b);
    tg_program_free(p);
    tg_graph_free(g);
    tg_scope_end();
}

/* An error the caller has not read yet is neither lost nor mistaken for a
 * failure of the load: a good program loads and runs, a corrupt one is
 * rejected, and the older error stays the first one either way. */
Test(program_io, loads_keep_an_older_error) {
    tg_scope_begin();
    mlp m;
    tg_program *p = layer_program(&m);
    unsigned char *buf;
    size_t len;
    save(p, &buf, &len);
    cr_assert_null(tg_reshape(m.w, 1, (int64_t[]){5}), "the older error");
    tg_program *q = tg_program_load_buffer(buf, len);
    cr_assert_not_null(q, "a good program under an older error: %s", tg_last_error());
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE, "%s", tg_last_error());
    cr_expect(strstr(tg_last_error(), "reshape"), "the older message: %s", tg_last_error());
    tg_clear_error();
    tg_tensor *x = tg_randn(TG_F32, 2, (int64_t[]){3, 4}), *y, *want;
    check_status(tg_run(q, &x, &y), TG_OK, "run the loaded program");
    check_status(tg_run(p, &x, &want), TG_OK, "run the original");
    check_close(y, want, 0, 0, "loaded equals original bitwise");
    cr_assert_null(tg_reshape(m.w, 1, (int64_t[]){5}), "the older error again");
    cr_expect_null(tg_program_load_buffer(buf, len / 2), "a truncated program loaded");
    cr_expect_eq(tg_last_error_code(), TG_ERR_SHAPE, "%s", tg_last_error());
    cr_expect(strstr(tg_last_error(), "reshape"), "the older message: %s", tg_last_error());
    tg_clear_error();
    free(buf);
    tg_program_free(q);
    tg_program_free(p);
    tg_scope_end();
}
