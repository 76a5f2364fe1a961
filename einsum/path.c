/* Contraction order: optimal (dynamic programming over subsets), greedy
 * (opt_einsum's memory-removed rule), auto; costs in opt_einsum's model.
 * Public: tg_einsum_path (a report like numpy.einsum_path). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einsum/einsum_impl.h"
#include "tensor/tensor_impl.h"

#define OPT_MAX 10   /* "optimal" up to this many operands (3^n splits) */
#define AUTO_OPT 6   /* "auto": optimal up to this many */

static double set_size(const tg_ein_sets *in, const uint64_t *s) {
    double p = 1;
    for (int w = 0; w < 2; w++)
        for (uint64_t b = s[w]; b; b &= b - 1) p *= in->size[w * 64 + __builtin_ctzll(b)];
    return p;
}

double tg__ein_pair_cost(const tg_ein_sets *in, const uint64_t *a, const uint64_t *b, const uint64_t *keep,
                         uint64_t *res) {
    uint64_t u[2] = {a[0] | b[0], a[1] | b[1]};
    res[0] = u[0] & keep[0];
    res[1] = u[1] & keep[1];
    bool inner = (u[0] & ~keep[0]) || (u[1] & ~keep[1]);
    return set_size(in, u) * (inner ? 2.0 : 1.0);
}

/* Labels needed by anything outside the operands in mask (other operands
 * or the output). */
static void needed_outside(const tg_ein_sets *in, unsigned long mask, uint64_t *keep) {
    keep[0] = in->out[0];
    keep[1] = in->out[1];
    for (int j = 0; j < in->n; j++)
        if (!(mask >> j & 1)) { keep[0] |= in->set[j][0]; keep[1] |= in->set[j][1]; }
}

/* Greedy: among pairs that share a label, the one whose result removes the
 * most memory (size(out) - size(a) - size(b)), ties by FLOPs; without
 * shared labels, the outer product of the two smallest. */
static double greedy(const tg_ein_sets *in, int (*path)[2], double *largest) {
    int n = in->n;
    uint64_t cur[TG_EIN_MAX_OPS][2];
    memcpy(cur, in->set, sizeof(uint64_t) * 2 * (size_t)n);
    double total = 0;
    *largest = 0;
    for (int step = 0; n > 1; step++) {
        int bx = -1, by = -1;
        double best = INFINITY, best_flops = INFINITY;
        for (int pass = 0; pass < 2 && bx < 0; pass++)
            for (int x = 0; x < n; x++)
                for (int y = x + 1; y < n; y++) {
                    bool shared = (cur[x][0] & cur[y][0]) || (cur[x][1] & cur[y][1]);
                    if (pass == 0 && !shared) continue;
                    uint64_t keep[2] = {in->out[0], in->out[1]}, res[2];
                    for (int j = 0; j < n; j++)
                        if (j != x && j != y) { keep[0] |= cur[j][0]; keep[1] |= cur[j][1]; }
                    double f = tg__ein_pair_cost(in, cur[x], cur[y], keep, res);
                    double c = pass == 0 ? set_size(in, res) - set_size(in, cur[x]) - set_size(in, cur[y])
                                         : set_size(in, res);
                    if (c < best || (c == best && f < best_flops)) { best = c; best_flops = f; bx = x; by = y; }
                }
        uint64_t keep[2] = {in->out[0], in->out[1]}, res[2];
        for (int j = 0; j < n; j++)
            if (j != bx && j != by) { keep[0] |= cur[j][0]; keep[1] |= cur[j][1]; }
        total += tg__ein_pair_cost(in, cur[bx], cur[by], keep, res);
        double rs = set_size(in, res);
        if (rs > *largest) *largest = rs;
        path[step][0] = bx;
        path[step][1] = by;
        int k = 0;
        for (int j = 0; j < n; j++)
            if (j != bx && j != by) { cur[k][0] = cur[j][0]; cur[k][1] = cur[j][1]; k++; }
        cur[k][0] = res[0];
        cur[k][1] = res[1];
        n = k + 1;
    }
    return total;
}

/* Post-order list of the DP tree's contractions. */
static void emit(const unsigned *split, unsigned s, unsigned (*steps)[2], int *ns) {
    if (!(s & (s - 1))) return;
    unsigned a = split[s], b = s & ~a;
    emit(split, a, steps, ns);
    emit(split, b, steps, ns);
    steps[*ns][0] = a;
    steps[*ns][1] = b;
    (*ns)++;
}

static double optimal(const tg_ein_sets *in, int (*path)[2], double *largest) {
    int n = in->n;
    unsigned full = (1u << n) - 1;
    double *cost = malloc(sizeof(double) * (full + 1));
    unsigned *split = malloc(sizeof(unsigned) * (full + 1));
    uint64_t (*sets)[2] = malloc(sizeof(uint64_t) * 2 * (full + 1));
    if (!cost || !split || !sets) {
        free(cost); free(split); free(sets);
        return greedy(in, path, largest);
    }
    for (unsigned s = 1; s <= full; s++) {
        uint64_t keep[2], u[2] = {0, 0};
        needed_outside(in, s, keep);
        for (int j = 0; j < n; j++)
            if (s >> j & 1) { u[0] |= in->set[j][0]; u[1] |= in->set[j][1]; }
        sets[s][0] = u[0] & keep[0];
        sets[s][1] = u[1] & keep[1];
        if (!(s & (s - 1))) { cost[s] = 0; split[s] = 0; continue; }
        cost[s] = INFINITY;
        unsigned low = s & -s;
        /* Submasks a containing the lowest operand: each split once. */
        for (unsigned a = (s - 1) & s; a; a = (a - 1) & s) {
            if (!(a & low)) continue;
            unsigned b = s & ~a;
            uint64_t res[2];
            double c = cost[a] + cost[b] + tg__ein_pair_cost(in, sets[a], sets[b], keep, res);
            if (c < cost[s]) { cost[s] = c; split[s] = a; }
        }
    }
    unsigned steps[TG_EIN_MAX_OPS][2];
    int ns = 0;
    emit(split, full, steps, &ns);
    unsigned pos[TG_EIN_MAX_OPS];
    int cnt = n;
    for (int j = 0; j < n; j++) pos[j] = 1u << j;
    *largest = 0;
    for (int k = 0; k < ns; k++) {
        int x = -1, y = -1;
        for (int j = 0; j < cnt; j++) {
            if (pos[j] == steps[k][0] || pos[j] == steps[k][1]) {
                if (x < 0) x = j;
                else y = j;
            }
        }
        path[k][0] = x;
        path[k][1] = y;
        unsigned m = pos[x] | pos[y];
        double rs = set_size(in, sets[m]);
        if (rs > *largest) *largest = rs;
        int q = 0;
        for (int j = 0; j < cnt; j++)
            if (j != x && j != y) pos[q++] = pos[j];
        pos[q++] = m;
        cnt = q;
    }
    double total = cost[full];
    free(cost); free(split); free(sets);
    return total;
}

double tg__ein_path(const tg_ein_sets *in, tg_ein_strategy strat, int (*path)[2], double *largest) {
    *largest = 0;
    if (in->n < 2) return 0;
    if (strat == TG_EIN_OPTIMAL || (strat == TG_EIN_AUTO && in->n <= AUTO_OPT)) return optimal(in, path, largest);
    return greedy(in, path, largest);
}

/* ---- report ---- */
typedef struct { char *buf; size_t len, cap; bool oom; } sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) return;
    if (b->len + (size_t)need + 1 > b->cap) {
        size_t cap = (b->cap + (size_t)need + 1) * 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) { b->oom = true; return; }
        b->buf = nb;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

static void sb_labels(sbuf *b, const tg_ein_spec *s, const uint64_t *set) {
    char nb[32];
    bool first = true;
    for (int l = 0; l < s->n_labels; l++)
        if ((set[l >> 6] >> (l & 63)) & 1) {
            sb_printf(b, "%s%s", s->int_labels && !first ? " " : "", tg__ein_label_name(s, l, nb, sizeof nb));
            first = false;
        }
}

tg_status tg_einsum_path(const char *subscripts, int n, tg_tensor *const *operands, const char *strategy,
                         char **report) {
    if (!report) return tg__error(TG_ERR_ARG, "einsum_path: report is NULL");
    *report = NULL;
    tg_ein_strategy strat;
    if (!strategy || !strcmp(strategy, "auto")) strat = TG_EIN_AUTO;
    else if (!strcmp(strategy, "optimal")) strat = TG_EIN_OPTIMAL;
    else if (!strcmp(strategy, "greedy")) strat = TG_EIN_GREEDY;
    else return tg__error(TG_ERR_ARG, "einsum_path: unknown strategy \"%s\" (optimal, greedy, auto)", strategy);
    if (n < 1 || n > TG_EIN_MAX_OPS || !operands)
        return tg__error(TG_ERR_ARG, "einsum_path: operand count %d out of range 1..%d", n, TG_EIN_MAX_OPS);
    if (strat == TG_EIN_OPTIMAL && n > OPT_MAX)
        return tg__error(TG_ERR_ARG, "einsum_path: \"optimal\" takes at most %d operands (got %d); use greedy",
                         OPT_MAX, n);
    for (int i = 0; i < n; i++)
        if (!operands[i]) return tg__error(TG_ERR_ARG, "einsum_path: operand %d is NULL", i);
    tg_ein_term *t = malloc(sizeof(tg_ein_term) * (size_t)(n + 1));
    tg_ein_spec *s = malloc(sizeof *s);
    tg_ein_sets *sets = malloc(sizeof *sets);
    tg_status st = TG_OK;
    bool has_out;
    if (!t || !s || !sets) st = tg__error(TG_ERR_MEMORY, "einsum_path: out of memory");
    if (!st) st = tg__ein_parse(subscripts, n, t, &t[n], &has_out);
    if (!st) st = tg__ein_build(n, operands, t, &t[n], has_out, false, s);
    if (st) goto out;
    tg__ein_sets_of(s, sets);
    int path[TG_EIN_MAX_OPS][2];
    double largest;
    double opt = tg__ein_path(sets, strat, path, &largest);
    /* Naive: one loop nest over every label (numpy.einsum_path). */
    double naive = 1;
    bool inner = false;
    uint64_t all[2] = {0, 0};
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
    sbuf b = {0};
    sb_printf(&b, "  Complete contraction:  %s\n", subscripts);
    sb_printf(&b, "              Strategy:  %s\n", strat == TG_EIN_GREEDY ? "greedy"
                                                  : strat == TG_EIN_OPTIMAL || n <= AUTO_OPT ? "optimal"
                                                                                              : "greedy");
    sb_printf(&b, "                  Path:  [");
    for (int k = 0; k + 1 < n; k++) sb_printf(&b, "%s(%d, %d)", k ? ", " : "", path[k][0], path[k][1]);
    sb_printf(&b, "]\n");
    sb_printf(&b, "      Naive FLOP count:  %.3e\n", naive);
    opt += 1;   /* numpy.einsum_path's convention (so reports compare) */
    sb_printf(&b, "  Optimized FLOP count:  %.3e\n", n < 2 ? naive : opt);
    sb_printf(&b, "   Theoretical speedup:  %.3f\n", n < 2 || opt <= 0 ? 1.0 : naive / opt);
    sb_printf(&b, "  Largest intermediate:  %.3e elements\n", largest);
    sb_printf(&b, "--------------------------------------------------------------\n");
    sb_printf(&b, "step  pair        FLOPs        result labels\n");
    uint64_t cur[TG_EIN_MAX_OPS][2];
    memcpy(cur, sets->set, sizeof(uint64_t) * 2 * (size_t)n);
    int cnt = n;
    for (int k = 0; k + 1 < n; k++) {
        int x = path[k][0], y = path[k][1];
        uint64_t keep[2] = {sets->out[0], sets->out[1]}, res[2];
        for (int j = 0; j < cnt; j++)
            if (j != x && j != y) { keep[0] |= cur[j][0]; keep[1] |= cur[j][1]; }
        double f = tg__ein_pair_cost(sets, cur[x], cur[y], keep, res);
        sb_printf(&b, "%4d  (%d, %d)%*s%.3e    ", k, x, y, x > 9 || y > 9 ? 4 : 6, "", f);
        sb_labels(&b, s, res);
        sb_printf(&b, "\n");
        int q = 0;
        for (int j = 0; j < cnt; j++)
            if (j != x && j != y) { cur[q][0] = cur[j][0]; cur[q][1] = cur[j][1]; q++; }
        cur[q][0] = res[0];
        cur[q][1] = res[1];
        cnt = q + 1;
    }
    if (b.oom) { free(b.buf); st = tg__error(TG_ERR_MEMORY, "einsum_path: out of memory"); goto out; }
    *report = b.buf;
out:
    free(t); free(s); free(sets);
    return st;
}
