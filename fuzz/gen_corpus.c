/* Writes the seed corpus of fuzz_program_load: a few saved programs and
 * truncated variants. Run from the project root:
 *   ./build/fuzz/fuzz_gen_corpus fuzz/corpus/program_load */
#include <tangent/tangent.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static tg_status f_sizes(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    (void)ctx;
    int64_t n = tg_dim(in[0], 0);
    tg_tensor *flat = tg_reshape(in[0], 1, (int64_t[]){tg_size_mul(n, 4)});
    tg_tensor *half = tg_full(TG_F64, 1, (int64_t[]){tg_size_floordiv(tg_size_add(n, 1), 2)}, 2.0);
    out[0] = tg_mul(half, tg_sum(flat, 0, NULL, false));
    out[1] = tg_mul_scalar(flat, 0.5);
    return out[0] && out[1] ? TG_OK : tg_last_error_code();
}

static int write_file(const char *dir, const char *name, const void *buf, size_t len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len) { fprintf(stderr, "cannot write %s\n", path); if (f) fclose(f); return 1; }
    return fclose(f) != 0;
}

static int emit(const char *dir, const char *name, tg_graph *g) {
    if (!g) { fprintf(stderr, "%s: %s\n", name, tg_last_error()); return 1; }
    tg_program *p = tg_compile(g, NULL);
    void *buf = NULL;
    size_t len = 0;
    int bad = !p || tg_program_save_buffer(p, &buf, &len) != TG_OK;
    if (bad) { fprintf(stderr, "%s: %s\n", name, tg_last_error()); return 1; }
    char fname[256];
    snprintf(fname, sizeof fname, "%s.tgp", name);
    bad |= write_file(dir, fname, buf, len);
    size_t cuts[] = {len / 3, len / 2, len - 5};
    for (int k = 0; k < 3; k++) {
        snprintf(fname, sizeof fname, "%s_cut%zu.tgp", name, cuts[k]);
        bad |= write_file(dir, fname, buf, cuts[k]);
    }
    free(buf);
    tg_program_free(p);
    tg_graph_free(g);
    return bad;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); return 2; }
    tg_scope_begin();
    tg_manual_seed(5);
    mlp m = {tg_randn(TG_F32, 2, (int64_t[]){4, 3}), tg_randn(TG_F32, 1, (int64_t[]){3})};
    int bad = emit(argv[1], "layer", tg_trace(f_layer, &m, 1, (tg_spec[]){{TG_F32, "N, 4"}}, 1));
    tg_graph *g = tg_trace(f_loss, NULL, 2, (tg_spec[]){{TG_F64, "N, 4"}, {TG_F64, "4, 3"}}, 1);
    bad |= emit(argv[1], "value_and_grad", g ? tg_graph_value_and_grad(g, 0, NULL) : NULL);
    tg_graph_free(g);
    bad |= emit(argv[1], "sizes", tg_trace(f_sizes, NULL, 1, (tg_spec[]){{TG_F64, "N, 4"}}, 2));
    tg_scope_end();
    return bad;
}
