/* Public path functions: tg_einsum_path (a report like numpy.einsum_path),
 * tg_einsum_path_opt and tg_einsum_ints_path (the path, its cost and its
 * largest intermediate), and the planning step shared with execution. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einsum/einsum_impl.h"
#include "tensor/strbuf.h"
#include "tensor/tensor_impl.h"

#define AUTO_OPT 6   /* as path.c: "auto" is optimal up to this many operands */

tg_status tg__ein_plan(const tg_ein_spec *s, const tg_einsum_opts *opts, tg_ein_sets *sets, int (*path)[2],
                       double *flops, double *largest) {
    tg__ein_sets_of(s, sets);
    *flops = 0;
    *largest = 0;
    tg_ein_strategy strat;
    tg_status st = tg__ein_strategy(opts ? opts->strategy : NULL, &strat);
    if (st) return st;
    if (opts && opts->path) {
        st = tg__ein_check_path(s->n, opts->path, path);
        if (st) return st;
        if (s->n > 1 && !tg__ein_path_cost(sets, (const int (*)[2])path, flops, largest))
            return tg__error(TG_ERR_MEMORY, "einsum: out of memory");
        return TG_OK;
    }
    if (strat == TG_EIN_OPTIMAL && s->n > 10)
        return tg__error(TG_ERR_ARG, "einsum_path: \"optimal\" takes at most 10 operands (got %d); use greedy or "
                         "random-greedy", s->n);
    double limit = opts ? opts->memory_limit : 0;
    if (limit < 0) {
        /* NumPy's default: the largest operand or the output. */
        limit = 1;
        uint64_t o[TG_EIN_W] = {0};
        for (int j = 0; j < s->n_out; j++) o[s->out[j] >> 6] |= (uint64_t)1 << (s->out[j] & 63);
        limit = tg__ein_set_size(sets, o);
        for (int i = 0; i < s->n; i++) {
            double p = 1;
            for (int a = 0; a < s->rank[i]; a++) p *= sets->size[s->lab[i][a]];
            if (p > limit) limit = p;
        }
    }
    if (s->n > 1) *flops = tg__ein_path(sets, strat, limit, path, largest);
    return TG_OK;
}

/* ---- report ---- */
static void sb_labels(tg_strbuf *b, const tg_ein_spec *s, const uint64_t *set) {
    char nb[32];
    bool first = true;
    for (int l = 0; l < s->n_labels; l++)
        if ((set[l >> 6] >> (l & 63)) & 1) {
            tg__strbuf_printf(b, "%s%s", s->int_labels && !first ? " " : "", tg__ein_label_name(s, l, nb, sizeof nb));
            first = false;
        }
}

static tg_status make_report(const char *subscripts, const tg_ein_spec *s, const tg_ein_sets *sets,
                             const char *strat_name, const int (*path)[2], double opt, double largest,
                             char **report) {
    int n = s->n, nw = sets->nw;
    /* Naive: one loop nest over every label (numpy.einsum_path). */
    double naive = 1;
    bool inner = false;
    uint64_t all[TG_EIN_W] = {0};
    for (int i = 0; i < n; i++)
        for (int a = 0; a < s->rank[i]; a++) all[s->lab[i][a] >> 6] |= (uint64_t)1 << (s->lab[i][a] & 63);
    for (int l = 0; l < s->n_labels; l++)
        if ((all[l >> 6] >> (l & 63)) & 1) {
            naive *= sets->size[l];
            bool in_out = false;
            for (int j = 0; j < s->n_out; j++) in_out |= s->out[j] == l;
            inner |= !in_out;
        }
    naive *= (n > 1 ? n - 1 : 1) + (inner ? 1 : 0);
    double out_size = 1;
    for (int j = 0; j < s->n_out; j++) out_size *= sets->size[s->out[j]];
    if (n < 2) largest = out_size;
    tg_strbuf b = {0};
    tg__strbuf_printf(&b, "  Complete contraction:  %s\n", subscripts ? subscripts : "(integer labels)");
    tg__strbuf_printf(&b, "              Strategy:  %s\n", strat_name);
    tg__strbuf_printf(&b, "                  Path:  [");
    for (int k = 0; k + 1 < n; k++) tg__strbuf_printf(&b, "%s(%d, %d)", k ? ", " : "", path[k][0], path[k][1]);
    tg__strbuf_printf(&b, "]\n");
    tg__strbuf_printf(&b, "      Naive FLOP count:  %.3e\n", naive);
    opt += 1;   /* numpy.einsum_path's convention (so reports compare) */
    tg__strbuf_printf(&b, "  Optimized FLOP count:  %.3e\n", n < 2 ? naive : opt);
    tg__strbuf_printf(&b, "   Theoretical speedup:  %.3f\n", n < 2 || opt <= 0 ? 1.0 : naive / opt);
    tg__strbuf_printf(&b, "  Largest intermediate:  %.3e elements\n", largest);
    tg__strbuf_printf(&b, "--------------------------------------------------------------\n");
    tg__strbuf_printf(&b, "step  pair        FLOPs        result labels\n");
    uint64_t(*cur)[TG_EIN_W] = malloc(sizeof *cur * (size_t)n);
    if (!cur) { free(b.s); return tg__error(TG_ERR_MEMORY, "einsum_path: out of memory"); }
    for (int j = 0; j < n; j++) memcpy(cur[j], sets->set[j], sizeof cur[0]);
    int cnt = n;
    for (int k = 0; k + 1 < n; k++) {
        int x = path[k][0], y = path[k][1];
        uint64_t keep[TG_EIN_W], res[TG_EIN_W];
        memcpy(keep, sets->out, sizeof keep);
        for (int j = 0; j < cnt; j++)
            if (j != x && j != y)
                for (int w = 0; w < nw; w++) keep[w] |= cur[j][w];
        double f = tg__ein_pair_cost(sets, cur[x], cur[y], keep, res);
        tg__strbuf_printf(&b, "%4d  (%d, %d)%*s%.3e    ", k, x, y, x > 9 || y > 9 ? 4 : 6, "", f);
        sb_labels(&b, s, res);
        tg__strbuf_printf(&b, "\n");
        int q = 0;
        for (int j = 0; j < cnt; j++)
            if (j != x && j != y) { if (q != j) memcpy(cur[q], cur[j], sizeof cur[0]); q++; }
        memcpy(cur[q], res, sizeof res);
        cnt = q + 1;
    }
    free(cur);
    if (b.bad) { free(b.s); return tg__error(TG_ERR_MEMORY, "einsum_path: out of memory"); }
    *report = b.s;
    return TG_OK;
}

static const char *strategy_name(const tg_einsum_opts *opts, int n) {
    if (opts && opts->path) return "user path";
    const char *st = opts ? opts->strategy : NULL;
    if (!st || !strcmp(st, "auto")) return n <= AUTO_OPT ? "optimal" : "random-greedy";
    return st;
}

/* Shared tail of the public path functions. */
static tg_status path_out(const char *subscripts, const tg_ein_spec *s, const tg_einsum_opts *opts,
                          int (*path)[2], double *flops, double *largest, char **report) {
    tg_ein_sets *sets = malloc(sizeof *sets);
    int(*p)[2] = malloc(sizeof *p * (size_t)s->n);
    double f = 0, lg = 0;
    tg_status st = sets && p ? TG_OK : tg__error(TG_ERR_MEMORY, "einsum_path: out of memory");
    if (!st) st = tg__ein_plan(s, opts, sets, p, &f, &lg);
    if (!st && report) st = make_report(subscripts, s, sets, strategy_name(opts, s->n), (const int (*)[2])p, f, lg,
                                        report);
    if (!st) {
        if (path) memcpy(path, p, sizeof *p * (size_t)(s->n - 1));
        if (flops) *flops = f;
        if (largest) *largest = s->n < 2 ? 0 : lg;
    }
    free(sets);
    free(p);
    return st;
}

tg_status tg_einsum_path_opt(const char *subscripts, int n, tg_tensor *const *operands, const tg_einsum_opts *opts,
                             int (*path)[2], double *flops, double *largest, char **report) {
    if (report) *report = NULL;
    tg_ein_spec *s = malloc(sizeof *s);
    if (!s) return tg__error(TG_ERR_MEMORY, "einsum_path: out of memory");
    tg_status st = tg__ein_spec_str(subscripts, n, operands, s);
    if (!st) st = path_out(subscripts, s, opts, path, flops, largest, report);
    free(s);
    return st;
}

tg_status tg_einsum_ints_path(int n, tg_tensor *const *operands, const int *const *labels, const int *n_labels,
                              const int *out_labels, int n_out, const tg_einsum_opts *opts, int (*path)[2],
                              double *flops, double *largest) {
    tg_ein_spec *s = malloc(sizeof *s);
    if (!s) return tg__error(TG_ERR_MEMORY, "einsum_path: out of memory");
    tg_status st = tg__ein_spec_ints(n, operands, labels, n_labels, out_labels, n_out, s);
    if (!st) st = path_out(NULL, s, opts, path, flops, largest, NULL);
    free(s);
    return st;
}

tg_status tg_einsum_path(const char *subscripts, int n, tg_tensor *const *operands, const char *strategy,
                         char **report) {
    if (!report) return tg__error(TG_ERR_ARG, "einsum_path: report is NULL");
    *report = NULL;
    tg_ein_strategy strat;
    tg_status st = tg__ein_strategy(strategy, &strat);
    if (st) return st;
    tg_einsum_opts o = {strategy, 0, NULL};
    return tg_einsum_path_opt(subscripts, n, operands, &o, NULL, NULL, NULL, report);
}
