/* Einsum suite: the real-workload instances of
 * ../shared/bench-data/einsum-instances (matrix chains, MPS inner products,
 * MERA, batched matmuls, language-model likelihood networks) through
 * tg_einsum_ints (each distinct character of the format string is one
 * integer label, as ANCHORS.md says), along the instance's stored opt_flops
 * path ("tangent") and along Tangent's own path ("tangent-ownpath", chosen
 * once with tg_einsum_ints_path, strategy random-greedy unless --strategy
 * says otherwise; the search time goes to stderr and is not in the timing). Inputs and NumPy f64 references come
 * from bench/baseline_einsum.py --data DIR (run it first); on the instances
 * with a reference (output under 1e6 elements) both results are compared
 * with it and a mismatch makes the exit status 1. Output: DESIGN.md section
 * 9's JSON lines; own-path vs stored-path FLOPs (opt_einsum's model) on
 * stderr.
 * Instances whose every step along the stored path is a product of two
 * f64 matrices, or of two batches of them with the batch label first, and
 * which do at least DIRECT_MIN_FLOP of it (bin_matmul_*,
 * bin_batched_matmul_*, str_matrix_chain_*; not nary_matmul_chain_64,
 * whose 64 x 64 products leave overhead a large share) also get the direct
 * BLAS anchor ("cblas"): the same steps as cblas_dgemm calls, each into a
 * buffer allocated for it, no copies. ANCHORS.md: where BLAS does nearly
 * all the work, the goal is the direct calls' time, not the published
 * ratio (bench/report.py). Its result is checked against the NumPy
 * reference too.
 *
 *   bench_einsum --data DIR [--threads N] [--instances DIR] [--filter SUBSTRING]
 *                [--strategy S] [--paths-only]
 * --strategy: the own path's strategy (tg_einsum_path's names; default
 * random-greedy, auto's bigger search);
 * --paths-only: paths, costs and checks, no timing. */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <tangent/tangent.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

#ifndef BENCH_EINSUM_INSTANCES
#define BENCH_EINSUM_INSTANCES "../shared/bench-data/einsum-instances"
#endif

#define MAX_OPS 512
#define REL_TOL 1e-8   /* max |result - reference| / max |reference| */
#define DIRECT_MIN_FLOP 1e7   /* 10 MFLOP: a call's microseconds of overhead under a few percent */

typedef struct {
    int n;
    tg_tensor *ops[MAX_OPS];
    int *labels[MAX_OPS];
    int n_labels[MAX_OPS];
    int out[64], n_out;
    int (*stored)[2];
    int (*own)[2];
} job;

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    if (buf) buf[n] = 0;
    fclose(f);
    return buf;
}

/* Next UTF-8 code point of *p (advanced); -1 at a malformed byte. */
static int next_cp(const unsigned char **p) {
    const unsigned char *s = *p;
    int cp, n;
    if (s[0] < 0x80) { cp = s[0]; n = 1; }
    else if ((s[0] & 0xe0) == 0xc0) { cp = s[0] & 0x1f; n = 2; }
    else if ((s[0] & 0xf0) == 0xe0) { cp = s[0] & 0x0f; n = 3; }
    else if ((s[0] & 0xf8) == 0xf0) { cp = s[0] & 0x07; n = 4; }
    else return -1;
    for (int k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80) return -1;
        cp = cp << 6 | (s[k] & 0x3f);
    }
    *p = s + n;
    return cp;
}

/* Integer label of code point cp (first-appearance order). */
static int label_of(int *map, int *n_map, int cp) {
    for (int k = 0; k < *n_map; k++)
        if (map[k] == cp) return k;
    map[*n_map] = cp;
    return (*n_map)++;
}

static bool parse_format(const char *fmt, job *j) {
    static int map[4096];
    int n_map = 0, cur[64], nc = 0;
    bool in_out = false;
    j->n = 0;
    const unsigned char *p = (const unsigned char *)fmt;
    for (;;) {
        if (*p == ',' || *p == 0 || (*p == '-' && p[1] == '>')) {
            if (in_out) {
                memcpy(j->out, cur, sizeof(int) * (size_t)nc);
                j->n_out = nc;
            } else {
                if (j->n >= MAX_OPS) return false;
                j->labels[j->n] = malloc(sizeof(int) * (size_t)(nc ? nc : 1));
                memcpy(j->labels[j->n], cur, sizeof(int) * (size_t)nc);
                j->n_labels[j->n++] = nc;
            }
            nc = 0;
            if (*p == 0) break;
            if (*p == '-') { in_out = true; p += 2; }
            else p++;
            continue;
        }
        int cp = next_cp(&p);
        if (cp < 0 || nc >= 64 || n_map >= 4096) return false;
        cur[nc++] = label_of(map, &n_map, cp);
    }
    return in_out;
}

static void run_with(job *j, int (*path)[2]) {
    tg_einsum_opts o = {NULL, 0, (const int (*)[2])path};
    tg_tensor *y = tg_einsum_ints_opt(j->n, j->ops, (const int *const *)j->labels, j->n_labels, j->out, j->n_out, &o);
    if (!y) { fprintf(stderr, "bench_einsum: %s\n", tg_last_error()); exit(1); }
    tg_release(y);
}

/* max |y - ref| / max |ref|, or -1 when shapes differ. */
static double rel_err(tg_tensor *y, tg_tensor *ref) {
    int64_t n = tg_numel(ref);
    if (tg_numel(y) != n) return -1;
    tg_tensor *yc = tg_contiguous(y);
    const double *a = tg_data(yc), *b = tg_data(ref);
    double num = 0, den = 0;
    for (int64_t k = 0; k < n; k++) {
        num = fmax(num, fabs(a[k] - b[k]));
        den = fmax(den, fabs(b[k]));
    }
    tg_release(yc);
    return den > 0 ? num / den : num;
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- the direct BLAS anchor ------------------------------------------------------ */
/* A matrix (or a batch of them, batch label first) of the direct plan:
 * row-major, labels lab[0..nd). */
typedef struct {
    int nd, lab[3];
    int64_t dim[3];
    int src;                /* the operand it is (>= 0), or -1: a step's result */
} dmat;

/* One step: C[b] = op(A[b]) op(B[b]) (row-major), M x N from K. */
typedef struct {
    int a, b;               /* indices into the plan's matrices */
    bool ta, tb, batched;
    int64_t batch, M, N, K;
} dstep;

typedef struct {
    int n_mat, n_step;
    dmat mat[2 * MAX_OPS];
    dstep step[MAX_OPS];
    int result;             /* the matrix holding the final result */
    double flop;            /* 2 M N K summed over the steps and batches */
} dplan;

static bool has_label(const dmat *m, int l) {
    for (int i = 0; i < m->nd; i++) if (m->lab[i] == l) return true;
    return false;
}

/* Whether label l is read after this step: by the output or a live operand
 * other than x and y. */
static bool needed(const job *j, const dplan *p, const int *live, int n_live, int x, int y, int l) {
    for (int i = 0; i < j->n_out; i++) if (j->out[i] == l) return true;
    for (int i = 0; i < n_live; i++)
        if (i != x && i != y && has_label(&p->mat[live[i]], l)) return true;
    return false;
}

/* The plan of the stored path as GEMMs, false when a step is not one (a
 * label contracted in one operand only, an outer product, several batch or
 * contracted labels, a batch label not first). */
static bool direct_plan(const job *j, dplan *p) {
    int live[MAX_OPS], n_live = j->n;
    p->n_mat = p->n_step = 0;
    p->flop = 0;
    for (int i = 0; i < j->n; i++) {
        tg_tensor *t = j->ops[i];
        if (tg_dtype_of(t) != TG_F64 || tg_ndim(t) < 2 || tg_ndim(t) > 3 || !tg_is_contiguous(t) || j->n_labels[i] != tg_ndim(t))
            return false;
        dmat *m = &p->mat[p->n_mat];
        m->nd = tg_ndim(t);
        m->src = i;
        for (int d = 0; d < m->nd; d++) { m->lab[d] = j->labels[i][d]; m->dim[d] = tg_shape(t)[d]; }
        live[i] = p->n_mat++;
    }
    for (int s = 0; s + 1 < j->n; s++) {
        int x = j->stored[s][0], y = j->stored[s][1];
        if (x > y) { int t = x; x = y; y = t; }
        if (x == y || y >= n_live) return false;
        const dmat *A = &p->mat[live[x]], *B = &p->mat[live[y]];
        if (A->nd != B->nd) return false;
        bool batched = A->nd == 3;
        int off = batched ? 1 : 0;
        if (batched && (A->lab[0] != B->lab[0] || A->dim[0] != B->dim[0] ||
                        !needed(j, p, live, n_live, x, y, A->lab[0])))
            return false;
        /* one contracted label (in both, read by nobody else), one free label in each */
        int ka = -1, kb = -1;
        for (int u = off; u < A->nd; u++)
            for (int v = off; v < B->nd; v++)
                if (A->lab[u] == B->lab[v]) {
                    if (ka >= 0 || needed(j, p, live, n_live, x, y, A->lab[u])) return false;
                    ka = u;
                    kb = v;
                }
        if (ka < 0) return false;
        int ma = off + (ka == off ? 1 : 0), nb = off + (kb == off ? 1 : 0);
        if (n_live == 2 && j->n_out == A->nd && j->out[off] == B->lab[nb]) {
            /* the last step, the output wanting (B's free label, A's): C^T = B^T A^T */
            const dmat *t = A; A = B; B = t;
            int u = ka; ka = kb; kb = u;
            u = ma; ma = nb; nb = u;
            u = x; x = y; y = u;
        }
        if (A->dim[ka] != B->dim[kb] || !needed(j, p, live, n_live, x, y, A->lab[ma]) ||
            !needed(j, p, live, n_live, x, y, B->lab[nb]))
            return false;
        dstep *st = &p->step[p->n_step++];
        *st = (dstep){.a = live[x], .b = live[y], .ta = ka == off, .tb = kb != off, .batched = batched,
                      .batch = batched ? A->dim[0] : 1, .M = A->dim[ma], .N = B->dim[nb], .K = A->dim[ka]};
        p->flop += 2.0 * (double)st->batch * (double)st->M * (double)st->N * (double)st->K;
        dmat *C = &p->mat[p->n_mat];
        *C = (dmat){.nd = A->nd, .src = -1};
        if (batched) { C->lab[0] = A->lab[0]; C->dim[0] = A->dim[0]; }
        C->lab[off] = A->lab[ma];
        C->dim[off] = st->M;
        C->lab[off + 1] = B->lab[nb];
        C->dim[off + 1] = st->N;
        /* opt_einsum's path: the pair leaves the list, the result goes last */
        int hi = x > y ? x : y, lo = x > y ? y : x;
        for (int i = hi; i + 1 < n_live; i++) live[i] = live[i + 1];
        n_live--;
        for (int i = lo; i + 1 < n_live; i++) live[i] = live[i + 1];
        live[n_live - 1] = p->n_mat++;
    }
    if (n_live != 1) return false;
    p->result = live[0];
    /* the result's labels in the output's order (a final transpose is not a GEMM) */
    const dmat *R = &p->mat[p->result];
    if (R->nd != j->n_out) return false;
    for (int i = 0; i < R->nd; i++) if (R->lab[i] != j->out[i]) return false;
    return p->n_step > 0 && p->flop >= DIRECT_MIN_FLOP;
}

/* Runs the plan; returns the result (malloc'ed, row-major), the
 * intermediates freed. */
static double *direct_run(const job *j, const dplan *p) {
    double *buf[2 * MAX_OPS] = {0};
    for (int s = 0; s < p->n_step; s++) {
        const dstep *st = &p->step[s];
        const double *a = p->mat[st->a].src >= 0 ? tg_data(j->ops[p->mat[st->a].src]) : buf[st->a];
        const double *b = p->mat[st->b].src >= 0 ? tg_data(j->ops[p->mat[st->b].src]) : buf[st->b];
        int c = p->n_mat - p->n_step + s;      /* results are numbered after the operands, in step order */
        double *out = malloc((size_t)(st->batch * st->M * st->N) * sizeof *out);
        if (!out) { fprintf(stderr, "bench_einsum: out of memory\n"); exit(1); }
        int64_t lda = st->ta ? st->M : st->K, ldb = st->tb ? st->K : st->N;
        for (int64_t q = 0; q < st->batch; q++)
            cblas_dgemm(CblasRowMajor, st->ta ? CblasTrans : CblasNoTrans, st->tb ? CblasTrans : CblasNoTrans,
                        (int)st->M, (int)st->N, (int)st->K, 1.0, a + q * st->M * st->K, (int)lda,
                        b + q * st->K * st->N, (int)ldb, 0.0, out + q * st->M * st->N, (int)st->N);
        buf[c] = out;
        if (p->mat[st->a].src < 0) { free(buf[st->a]); buf[st->a] = NULL; }
        if (p->mat[st->b].src < 0) { free(buf[st->b]); buf[st->b] = NULL; }
    }
    return buf[p->result];
}

typedef struct {
    job *j;
    dplan *plan;
} direct_job;

static void run_stored3(void *p) { run_with(((direct_job *)p)->j, ((direct_job *)p)->j->stored); }
static void run_own3(void *p) { run_with(((direct_job *)p)->j, ((direct_job *)p)->j->own); }
static void run_direct(void *p) { free(direct_run(((direct_job *)p)->j, ((direct_job *)p)->plan)); }

int main(int argc, char **argv) {
    int threads = 1;
    const char *filter = NULL, *data = NULL, *dir = BENCH_EINSUM_INSTANCES, *strategy = "random-greedy";
    bool paths_only = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--instances") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--strategy") && i + 1 < argc) strategy = argv[++i];
        else if (!strcmp(argv[i], "--paths-only")) paths_only = true;
        else data = NULL, i = argc;
    }
    if (!data) {
        fprintf(stderr, "usage: bench_einsum --data DIR [--threads N] [--instances DIR] [--filter SUBSTRING]\n"
                        "                    [--strategy S] [--paths-only]\n"
                        "  DIR: written by bench/baseline_einsum.py --data DIR\n");
        return 2;
    }
    tg_set_num_threads(threads);
    DIR *d = opendir(dir);
    if (!d) { fprintf(stderr, "bench_einsum: cannot open %s\n", dir); return 2; }
    char *names[256];
    int nn = 0;
    for (struct dirent *e; (e = readdir(d)) && nn < 256;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".json")) {
            names[nn] = malloc(len + 1);
            memcpy(names[nn++], e->d_name, len + 1);
        }
    }
    closedir(d);
    qsort(names, (size_t)nn, sizeof *names, name_cmp);
    int bad = 0;
    char path[4096];
    for (int f = 0; f < nn; f++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        char *text = read_file(path);
        cJSON *root = text ? cJSON_Parse(text) : NULL;
        free(text);
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format_string");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "name");
        const cJSON *paths = cJSON_GetObjectItemCaseSensitive(root, "paths");
        const cJSON *pf = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(paths, "opt_flops"), "path");
        if (!cJSON_IsString(fmt) || !cJSON_IsString(nm) || !cJSON_IsArray(pf)) { cJSON_Delete(root); continue; }
        const char *name = nm->valuestring;
        if (filter && !strstr(name, filter)) { cJSON_Delete(root); continue; }
        job j = {0};
        if (!parse_format(fmt->valuestring, &j)) {
            fprintf(stderr, "%s: cannot parse the format string, skipped\n", name);
            bad = 1;
            goto next;
        }
        j.stored = malloc(sizeof *j.stored * (size_t)j.n);
        j.own = malloc(sizeof *j.own * (size_t)j.n);
        int k = 0;
        for (const cJSON *st = pf->child; st && k + 1 < j.n; st = st->next, k++) {
            j.stored[k][0] = cJSON_GetArrayItem(st, 0)->valueint;
            j.stored[k][1] = cJSON_GetArrayItem(st, 1)->valueint;
        }
        bool ok = k + 1 == j.n || j.n == 1;
        for (int i = 0; ok && i < j.n; i++) {
            snprintf(path, sizeof path, "%s/%s/in%d.npy", data, name, i);
            j.ops[i] = tg_load_npy(path);
            ok = j.ops[i] != NULL;
        }
        if (!ok) {
            fprintf(stderr, "%s: no data (run bench/baseline_einsum.py --data %s first): %s\n", name, data,
                    tg_last_error());
            tg_clear_error();
            bad = 1;
            goto next;
        }
        /* Paths and their costs (opt_einsum's model). */
        double f_st = 0, l_st = 0, f_own = 0, l_own = 0;
        tg_einsum_opts given = {NULL, 0, (const int (*)[2])j.stored};
        if (tg_einsum_ints_path(j.n, j.ops, (const int *const *)j.labels, j.n_labels, j.out, j.n_out, &given, NULL,
                                &f_st, &l_st)) {
            fprintf(stderr, "%s: stored path: %s\n", name, tg_last_error());
            tg_clear_error();
            bad = 1;
            goto next;
        }
        double t0 = bench_now_ns();
        tg_einsum_opts search = {strategy, 0, NULL};
        if (tg_einsum_ints_path(j.n, j.ops, (const int *const *)j.labels, j.n_labels, j.out, j.n_out, &search, j.own,
                                &f_own, &l_own)) {
            fprintf(stderr, "%s: own path: %s\n", name, tg_last_error());
            tg_clear_error();
            bad = 1;
            goto next;
        }
        double search_ms = (bench_now_ns() - t0) / 1e6;
        fprintf(stderr, "%s: %d operands; FLOPs (opt_einsum model) stored 10^%.4f, own 10^%.4f (own/stored %.4f, "
                "search %.1f ms); largest intermediate stored 2^%.2f, own 2^%.2f\n", name, j.n, log10(f_st),
                log10(f_own), f_own / f_st, search_ms, log2(l_st), log2(l_own));
        if (paths_only) goto next;
        /* Check against the NumPy f64 reference where there is one. */
        snprintf(path, sizeof path, "%s/%s/ref.npy", data, name);
        FILE *rf = fopen(path, "rb");
        bool has_ref = rf != NULL;
        if (rf) {
            fclose(rf);
            tg_tensor *ref = tg_load_npy(path);
            for (int w = 0; w < 2 && ref; w++) {
                tg_einsum_opts o = {NULL, 0, (const int (*)[2])(w ? j.own : j.stored)};
                tg_tensor *y = tg_einsum_ints_opt(j.n, j.ops, (const int *const *)j.labels, j.n_labels, j.out,
                                                  j.n_out, &o);
                double e = y ? rel_err(y, ref) : -1;
                bool good = y && e >= 0 && e <= REL_TOL;
                fprintf(stderr, "  %s path vs NumPy f64: %s (max rel err %.2e)%s%s\n", w ? "own" : "stored",
                        good ? "ok" : "MISMATCH", e, y ? "" : " ", y ? "" : tg_last_error());
                if (!good) bad = 1;
                tg_clear_error();
                tg_release(y);
            }
            tg_release(ref);
        }
        {
            /* A run that fails (e.g. an output past TG_MAX_DIMS) is
             * reported, not timed. */
            tg_einsum_opts o = {NULL, 0, (const int (*)[2])j.stored};
            tg_tensor *y = tg_einsum_ints_opt(j.n, j.ops, (const int *const *)j.labels, j.n_labels, j.out, j.n_out, &o);
            if (!y) {
                fprintf(stderr, "  cannot run: %s\n", tg_last_error());
                tg_clear_error();
                goto next;
            }
            tg_release(y);
        }
        /* the direct BLAS anchor, where the stored path is all GEMMs */
        dplan *plan = malloc(sizeof *plan);
        bool direct = plan && direct_plan(&j, plan);
        if (direct && has_ref) {
            snprintf(path, sizeof path, "%s/%s/ref.npy", data, name);
            tg_tensor *ref = tg_load_npy(path);
            double *y = direct_run(&j, plan);
            double num = 0, den = 0;
            const double *r = ref ? tg_data(ref) : NULL;
            for (int64_t e = 0; r && e < tg_numel(ref); e++) {
                num = fmax(num, fabs(y[e] - r[e]));
                den = fmax(den, fabs(r[e]));
            }
            bool good = r && num <= REL_TOL * den;
            fprintf(stderr, "  direct BLAS steps vs NumPy f64: %s (max rel err %.2e)\n", good ? "ok" : "MISMATCH",
                    den > 0 ? num / den : num);
            if (!good) bad = 1;
            free(y);
            tg_release(ref);
        }
        bench_fn fns[3] = {run_stored3, run_own3, run_direct};
        direct_job dj = {&j, plan};
        double med[3];
        int ns;
        bench_measure(direct ? 3 : 2, fns, &dj, med, &ns);
        free(plan);
        const char *impl[3] = {"tangent", "tangent-ownpath", "cblas"};
        for (int w = 0; w < (direct ? 3 : 2); w++)
            printf("{\"suite\": \"einsum\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ns\": %.1f}\n",
                   name, impl[w], threads, med[w]);
        fflush(stdout);
        fprintf(stderr, "  stored path %.3f ms, own path %.3f ms (%d samples)\n", med[0] / 1e6, med[1] / 1e6, ns);
    next:
        for (int i = 0; i < j.n; i++) { tg_release(j.ops[i]); free(j.labels[i]); }
        free(j.stored);
        free(j.own);
        cJSON_Delete(root);
    }
    for (int f = 0; f < nn; f++) free(names[f]);
    return bad;
}
