/* Linear algebra benchmark (f64): Tangent's linalg ops against direct
 * LAPACKE calls on the same data in one process (bench/timing.h), plus
 * Tangent's reverse (VJP) and forward (JVP) derivatives of a sum of the
 * outputs. NumPy/SciPy and PyTorch run the same cases in
 * bench/baseline.py --suite linalg. Output: DESIGN.md section 9's JSON lines.
 *
 *   bench_linalg [--threads N] [--filter SUBSTRING]
 *
 * Cases (bench/README.md has the table):
 *   batched_<op>_<n>x<n>_b<B>    op on a (B, n, n) batch; solve has one right-hand side
 *   <op>_<n>                     one n x n matrix (solve: rhs 1; solve_64_rhs16/64)
 *   grad_sum_<op>_{vjp,jvp}_<n>  derivative of a scalar sum of the op's outputs:
 *                                solve sum(X); eigh sum(w) + sum(V); qr sum(Q) + sum(R);
 *                                lu sum(L) + sum(U); svd_s sum(S). vjp: forward + reverse
 *                                pass from scratch (tg_vjp); jvp: forward with one
 *                                tangent direction (tg_jvp). These rows also time
 *                                the traced form ("tangent-traced"): the loss traced
 *                                once, tg_graph_value_and_grad or tg_graph_jvp of it
 *                                compiled outside the timing, then tg_run.
 * The direct call ("lapacke" rows) copies the input (LAPACK overwrites it)
 * and calls the column-major LAPACKE driver: gesv, syevd ('V', lower),
 * geqrf + orgqr, gesdd ('S'), getrf; a batch is a loop of those calls. On
 * grad rows it is the decomposition the derivative needs (svd_s: gesdd 'S',
 * the vectors included), without the derivative's own products. */
#include <tangent/tangent.h>
#include <lapacke.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

typedef enum { OP_SOLVE, OP_EIGH, OP_QR, OP_SVD, OP_LU, OP_SVD_S } op_kind;
typedef enum { MODE_PRIMAL, MODE_VJP, MODE_JVP } mode_kind;
static const char *const op_name[] = {"solve", "eigh", "qr", "svd", "lu", "svd_s"};

typedef struct {
    op_kind op;
    mode_kind mode;
    int n, batch, rhs;       /* batch 0: a single matrix (no batch axis) */
    char name[64];
    tg_tensor *a, *b;        /* inputs; a symmetric for eigh */
    tg_tensor *da, *db;      /* tangents (jvp) */
    double *work_a, *work_b; /* direct call's copies */
    double *out, *out2;
    lapack_int *ipiv;
    tg_program *prog;        /* the traced derivative (grad rows) */
} job;

static void die(const char *what) {
    fprintf(stderr, "bench_linalg: %s failed: %s\n", what, tg_last_error());
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "bench_linalg: out of memory\n"); exit(1); }
    return p;
}

/* ---- Tangent ------------------------------------------------------------- */
/* The op's outputs, summed to one scalar (the loss of the grad_sum cases). */
static tg_status loss_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    const job *j = ctx;
    tg_tensor *l = NULL, *x = NULL, *y = NULL;
    switch (j->op) {
    case OP_SOLVE: l = tg_sum(tg_linalg_solve(in[0], in[1]), 0, NULL, false); break;
    case OP_EIGH:
        if (tg_linalg_eigh(in[0], &x, &y) == TG_OK) l = tg_add(tg_sum(x, 0, NULL, false), tg_sum(y, 0, NULL, false));
        break;
    case OP_QR:
        if (tg_linalg_qr(in[0], false, &x, &y) == TG_OK) l = tg_add(tg_sum(x, 0, NULL, false), tg_sum(y, 0, NULL, false));
        break;
    case OP_LU:
        if (tg_linalg_lu(in[0], NULL, &x, &y) == TG_OK) l = tg_add(tg_sum(x, 0, NULL, false), tg_sum(y, 0, NULL, false));
        break;
    default: l = tg_sum(tg_linalg_svdvals(in[0]), 0, NULL, false); break;
    }
    out[0] = l;
    return l ? TG_OK : tg_last_error_code();
}

static void run_tangent(void *p) {
    job *j = p;
    tg_scope_begin();
    tg_tensor *x = NULL, *y = NULL, *z = NULL;
    tg_status st = TG_OK;
    if (j->mode == MODE_PRIMAL) {
        switch (j->op) {
        case OP_SOLVE: x = tg_linalg_solve(j->a, j->b); st = x ? TG_OK : tg_last_error_code(); break;
        case OP_EIGH: st = tg_linalg_eigh(j->a, &x, &y); break;
        case OP_QR: st = tg_linalg_qr(j->a, false, &x, &y); break;
        case OP_SVD: st = tg_linalg_svd(j->a, false, &x, &y, &z); break;
        case OP_LU: st = tg_linalg_lu_factor(j->a, &x, &y); break;
        case OP_SVD_S: x = tg_linalg_svdvals(j->a); st = x ? TG_OK : tg_last_error_code(); break;
        }
    } else {
        int n_in = j->op == OP_SOLVE ? 2 : 1;
        tg_tensor *in[2] = {j->a, j->b}, *grads[2] = {NULL, NULL}, *val = NULL, *tan = NULL;
        if (j->mode == MODE_VJP) {
            st = tg_grad_fn(loss_fn, j, n_in, in, &val, grads);
        } else {
            tg_tensor *dir[2] = {j->da, j->db};
            st = tg_jvp(loss_fn, j, n_in, in, dir, 1, &val, &tan);
        }
    }
    if (st != TG_OK) die(j->name);
    tg_scope_end();
}

/* The compiled gradient (value and grad) or JVP program of loss_fn at the
 * job's shapes. */
static void compile_traced(job *j) {
    int n_in = j->op == OP_SOLVE ? 2 : 1;
    char shapes[2][64];
    tg_spec specs[2];
    tg_tensor *in[2] = {j->a, j->b};
    for (int i = 0; i < n_in; i++) {
        int len = 0;
        for (int d = 0; d < tg_ndim(in[i]); d++)
            len += snprintf(shapes[i] + len, sizeof shapes[i] - (size_t)len, "%s%lld", d ? ", " : "",
                            (long long)tg_dim(in[i], d));
        specs[i] = (tg_spec){TG_F64, shapes[i]};
    }
    tg_graph *g = tg_trace(loss_fn, j, n_in, specs, 1);
    if (!g) die("tracing");
    tg_graph *d = j->mode == MODE_VJP ? tg_graph_value_and_grad(g, n_in, (int[]){0, 1}) : tg_graph_jvp(g);
    if (!d) die("the derivative graph");
    j->prog = tg_compile(d, NULL);
    if (!j->prog) die("compiling");
    tg_graph_free(d);
    tg_graph_free(g);
}

static void run_traced(void *p) {
    job *j = p;
    tg_tensor *in[4] = {j->a, j->b, j->da, j->db}, *out[3] = {NULL, NULL, NULL};
    if (j->op != OP_SOLVE) in[1] = j->da;          /* jvp inputs: primals, then tangents */
    if (tg_run(j->prog, in, out) != TG_OK) die(j->name);
    for (int i = 0; i < 3; i++) tg_release(out[i]);
}

/* ---- direct LAPACKE -------------------------------------------------------- */
static void run_lapacke(void *p) {
    job *j = p;
    int n = j->n, nb = j->batch ? j->batch : 1;
    size_t nn = (size_t)n * (size_t)n;
    const double *a = tg_data(j->a);
    const double *b = j->b ? tg_data(j->b) : NULL;
    for (int t = 0; t < nb; t++) {
        memcpy(j->work_a, a + t * nn, nn * sizeof(double));
        lapack_int info = 0;
        switch (j->op) {
        case OP_SOLVE:
            memcpy(j->work_b, b + (size_t)t * (size_t)n * (size_t)j->rhs, (size_t)n * (size_t)j->rhs * sizeof(double));
            info = LAPACKE_dgesv(LAPACK_COL_MAJOR, n, j->rhs, j->work_a, n, j->ipiv, j->work_b, n);
            break;
        case OP_EIGH: info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', n, j->work_a, n, j->out); break;
        case OP_QR:
            info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, n, n, j->work_a, n, j->out);
            if (!info) info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, n, n, n, j->work_a, n, j->out);
            break;
        case OP_SVD:
        case OP_SVD_S:    /* grad rows: the derivative needs the vectors */
            info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', n, n, j->work_a, n, j->out, j->out2, n, j->work_b, n);
            break;
        default: info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, n, n, j->work_a, n, j->ipiv); break;
        }
        if (info != 0) { fprintf(stderr, "bench_linalg: LAPACKE info %d in %s\n", (int)info, j->name); exit(1); }
    }
}

/* ---- cases ----------------------------------------------------------------- */
static int n_jobs;
static job jobs[128];

static void add(op_kind op, mode_kind mode, int n, int batch, int rhs) {
    job *j = &jobs[n_jobs++];
    *j = (job){.op = op, .mode = mode, .n = n, .batch = batch, .rhs = rhs};
    if (mode != MODE_PRIMAL)
        snprintf(j->name, sizeof j->name, "grad_sum_%s%s_%s_%d", batch ? "batched_" : "", op_name[op],
                 mode == MODE_VJP ? "vjp" : "jvp", n);
    else if (batch)
        snprintf(j->name, sizeof j->name, "batched_%s_%dx%d_b%d", op_name[op], n, n, batch);
    else if (op == OP_SOLVE && rhs != 1)
        snprintf(j->name, sizeof j->name, "solve_%d_rhs%d", n, rhs);
    else
        snprintf(j->name, sizeof j->name, "%s_%d", op_name[op], n);
    if (mode != MODE_PRIMAL && batch) {   /* grad_sum_batched_solve_vjp_4x4_b16 */
        size_t len = strlen(j->name);
        snprintf(j->name + len, sizeof j->name - len, "x%d_b%d", n, batch);
    }
}

static void make_cases(void) {
    static const op_kind batched[] = {OP_SOLVE, OP_EIGH, OP_QR, OP_SVD};
    for (int k = 0; k < 4; k++)
        for (int n = 2; n <= 4; n += 2)
            for (int b = 16; b <= 64; b *= 4) add(batched[k], MODE_PRIMAL, n, b, 1);
    for (int n = 2; n <= 4; n += 2)
        for (int b = 16; b <= 64; b *= 4) add(OP_SOLVE, MODE_VJP, n, b, 1);
    static const int small[] = {2, 4, 8, 64, 256, 1024};
    for (int k = 0; k < 4; k++)
        for (int s = 0; s < 6; s++) add(batched[k], MODE_PRIMAL, small[s], 0, 1);
    add(OP_SOLVE, MODE_PRIMAL, 64, 0, 16);
    add(OP_SOLVE, MODE_PRIMAL, 64, 0, 64);
    add(OP_LU, MODE_PRIMAL, 256, 0, 1);
    add(OP_LU, MODE_PRIMAL, 1024, 0, 1);
    static const op_kind graded[] = {OP_SOLVE, OP_EIGH, OP_QR, OP_LU, OP_SVD_S};
    static const int gsizes[] = {2, 4, 8, 256, 512};
    for (int k = 0; k < 5; k++)
        for (int s = 0; s < 5; s++)
            for (int m = MODE_VJP; m <= MODE_JVP; m++) add(graded[k], (mode_kind)m, gsizes[s], 0, 1);
}

/* Inputs: a = randn (symmetrised for eigh) + n I for solve/lu (well
 * conditioned); b = randn (n, rhs). The same seeds in baseline.py do not give
 * the same numbers (different generators): timing does not depend on them. */
static void make_inputs(job *j, uint64_t seed) {
    int64_t n = j->n, shape[3], bshape[3];
    int nd = 0;
    if (j->batch) shape[nd++] = j->batch;
    shape[nd] = n;
    shape[nd + 1] = n;
    nd += 2;
    tg_manual_seed(seed);
    tg_tensor *r = tg_randn(TG_F64, nd, shape);
    if (!r) die("randn");
    if (j->op == OP_EIGH) r = tg_add(r, tg_mT(r));
    if (j->op == OP_SOLVE || j->op == OP_LU) r = tg_add(r, tg_mul_scalar(tg_eye(TG_F64, n, -1), (double)n));
    j->a = tg_contiguous(r);
    if (!j->a) die("inputs");
    tg_keep(j->a);
    if (j->op == OP_SOLVE) {
        memcpy(bshape, shape, sizeof shape);
        bshape[nd - 1] = j->rhs;
        j->b = tg_randn(TG_F64, nd, bshape);
        tg_keep(j->b);
    }
    if (j->mode == MODE_JVP) {
        j->da = tg_randn(TG_F64, nd, shape);
        if (j->op == OP_EIGH) j->da = tg_add(j->da, tg_mT(j->da));
        tg_keep(j->da);
        if (j->b) { j->db = tg_randn(TG_F64, nd, bshape); tg_keep(j->db); }
    }
    size_t nn = (size_t)n * (size_t)n;
    j->work_a = xmalloc(nn * sizeof(double));
    j->work_b = xmalloc(nn * sizeof(double) + (size_t)n * (size_t)j->rhs * sizeof(double));
    j->out = xmalloc((size_t)n * sizeof(double));
    j->out2 = xmalloc(nn * sizeof(double));
    j->ipiv = xmalloc((size_t)n * sizeof(lapack_int));
}

static void free_job(job *j) {
    tg_release(j->a);
    tg_release(j->b);
    tg_release(j->da);
    tg_release(j->db);
    free(j->work_a);
    free(j->work_b);
    free(j->out);
    free(j->out2);
    free(j->ipiv);
    tg_program_free(j->prog);
}

int main(int argc, char **argv) {
    int threads = 1;
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else {
            fprintf(stderr, "usage: bench_linalg [--threads N] [--filter SUBSTRING]\n");
            return 2;
        }
    }
    tg_set_num_threads(threads);
    make_cases();
    for (int k = 0; k < n_jobs; k++) {
        job *j = &jobs[k];
        if (filter && !strstr(j->name, filter)) continue;
        tg_scope_begin();
        make_inputs(j, (uint64_t)k + 1);
        tg_scope_end();
        /* grad rows: Tangent, its traced program, and the decomposition their
         * derivative needs as one direct call (a floor on this LAPACK) */
        bool traced = j->mode != MODE_PRIMAL, direct = traced || j->op != OP_SVD_S;
        if (traced) compile_traced(j);
        bench_fn fns[3] = {run_tangent, run_lapacke, run_traced};
        double med[3];
        int samples, nfn = traced ? 3 : direct ? 2 : 1;
        bench_measure(nfn, fns, j, med, &samples);
        const char *impl[3] = {"tangent", "lapacke", "tangent-traced"};
        for (int q = 0; q < nfn; q++) {
            printf("{\"suite\": \"linalg\", \"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ns\": %.1f}\n",
                   j->name, impl[q], threads, med[q]);
            fprintf(stderr, "  %-34s %-8s %dT %14.1f ns (%d samples)\n", j->name, impl[q], threads, med[q], samples);
        }
        fflush(stdout);
        free_job(j);
    }
    return 0;
}
