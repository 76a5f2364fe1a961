/* Contraction order search, costs in opt_einsum's model (a pairwise step
 * costs the product of the sizes of every label involved, times 2 when it
 * sums a label away):
 * - optimal: dynamic programming over subsets of operands (3^n splits);
 * - greedy: opt_einsum's rule (the pair whose result removes the most
 *   memory), with candidates found through the labels they share, so
 *   hundreds of operands cost milliseconds;
 * - random-greedy: many greedy runs whose choices are Boltzmann-sampled
 *   among the best candidates under a randomised cost (cotengra's and
 *   opt_einsum's RandomGreedy), fixed seed, the RG_KEEP cheapest kept; then
 *   subtree reconfiguration: every subtree, opened three ways into up to
 *   RECONF_K parts, is replaced by its optimal order when that is cheaper.
 * The public report lives in path_report.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "einsum/einsum_impl.h"
#include "tensor/tensor_impl.h"

#define OPT_MAX 10       /* "optimal" up to this many operands (3^n splits) */
#define AUTO_OPT 6       /* "auto": optimal up to this many */
#define RG_TRIALS 64     /* random-greedy trials ("random-greedy") */
#define RG_TRIALS_AUTO 16
#define RG_BRANCH 8      /* candidates a Boltzmann choice is drawn from */
#define RG_KEEP 8        /* cheapest trials reconfigured */
#define RECONF_K 10      /* parts of a reconfigured subtree (DP over 3^K), "random-greedy" */
#define RECONF_K_AUTO 8
#define RECONF_PASSES 6

double tg__ein_set_size(const tg_ein_sets *in, const uint64_t *s) {
    double p = 1;
    for (int w = 0; w < in->nw; w++)
        for (uint64_t b = s[w]; b; b &= b - 1) p *= in->size[w * 64 + __builtin_ctzll(b)];
    return p;
}

double tg__ein_pair_cost(const tg_ein_sets *in, const uint64_t *a, const uint64_t *b, const uint64_t *keep,
                         uint64_t *res) {
    uint64_t u[TG_EIN_W] = {0};
    bool inner = false;
    for (int w = 0; w < in->nw; w++) {
        u[w] = a[w] | b[w];
        res[w] = u[w] & keep[w];
        inner |= (u[w] & ~keep[w]) != 0;
    }
    return tg__ein_set_size(in, u) * (inner ? 2.0 : 1.0);
}

/* ---- random numbers (splitmix64: fixed seed, reproducible paths) ---- */
typedef struct { uint64_t s; } ein_rng;

static uint64_t rng_next(ein_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double rng_unif(ein_rng *r) { return (double)(rng_next(r) >> 11) * 0x1p-53; }
static double rng_gauss(ein_rng *r) {
    double u = rng_unif(r), v = rng_unif(r);
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* ---- greedy ---- */
typedef struct {
    double c, flops, size;
    int x, y;
} ein_cand;

typedef struct {
    double alpha, temp;   /* cost = size(res) - alpha (size(a) + size(b)); temp 0: deterministic */
    ein_rng *rng;
} greedy_params;

/* Result set of contracting x and y given cnt[l], the number of current
 * operands holding l. */
static void pair_result(const tg_ein_sets *in, const uint64_t *a, const uint64_t *b, const int *cnt, uint64_t *res,
                        double *flops) {
    bool inner = false;
    double all = 1;
    for (int w = 0; w < in->nw; w++) {
        uint64_t u = a[w] | b[w], both = a[w] & b[w], r = 0;
        for (uint64_t bits = u; bits; bits &= bits - 1) {
            int k = __builtin_ctzll(bits), l = w * 64 + k;
            all *= in->size[l];
            int rest = cnt[l] - 1 - (int)((both >> k) & 1);
            if (rest > 0 || ((in->out[w] >> k) & 1)) r |= (uint64_t)1 << k;
            else inner = true;
        }
        res[w] = r;
    }
    *flops = all * (inner ? 2.0 : 1.0);
}

static void cand_insert(ein_cand *best, int *nb, int cap, ein_cand c) {
    if (*nb == cap && (c.c > best[cap - 1].c || (c.c == best[cap - 1].c && c.flops >= best[cap - 1].flops))) return;
    int j = *nb < cap ? (*nb)++ : cap - 1;
    while (j > 0 && (best[j - 1].c > c.c || (best[j - 1].c == c.c && best[j - 1].flops > c.flops))) {
        best[j] = best[j - 1];
        j--;
    }
    best[j] = c;
}

/* One greedy run; NAN when out of memory. */
static double greedy_run(const tg_ein_sets *in, double limit, const greedy_params *gp, int (*path)[2],
                         double *largest) {
    int n = in->n, nw = in->nw, nl = nw * 64;
    uint64_t *cur = malloc(sizeof(uint64_t) * (size_t)n * (size_t)nw);
    double *csize = malloc(sizeof(double) * (size_t)n);
    int *cnt = calloc((size_t)nl, sizeof(int));
    int *off = malloc(sizeof(int) * (size_t)(nl + 1)), *fill = malloc(sizeof(int) * (size_t)nl), *hold = NULL;
    size_t hold_cap = 0;
    double total = NAN;
    if (!cur || !csize || !cnt || !off || !fill) goto out;
    for (int j = 0; j < n; j++) {
        memcpy(cur + (size_t)j * nw, in->set[j], sizeof(uint64_t) * (size_t)nw);
        csize[j] = tg__ein_set_size(in, in->set[j]);
        for (int w = 0; w < nw; w++)
            for (uint64_t b = in->set[j][w]; b; b &= b - 1) cnt[w * 64 + __builtin_ctzll(b)]++;
    }
    total = 0;
    *largest = 0;
    int m = n;
    uint64_t res[TG_EIN_W], bres[TG_EIN_W];
    for (int step = 0; m > 1; step++) {
        /* Operands holding each label (labels held by 2 or more). */
        off[0] = 0;
        for (int l = 0; l < nl; l++) off[l + 1] = off[l] + (cnt[l] >= 2 ? cnt[l] : 0);
        if ((size_t)off[nl] > hold_cap) {
            hold_cap = (size_t)off[nl] * 2;
            int *nh = realloc(hold, sizeof(int) * hold_cap);
            if (!nh) { total = NAN; goto out; }
            hold = nh;
        }
        memset(fill, 0, sizeof(int) * (size_t)nl);
        for (int j = 0; j < m; j++)
            for (int w = 0; w < nw; w++)
                for (uint64_t b = cur[(size_t)j * nw + w]; b; b &= b - 1) {
                    int l = w * 64 + __builtin_ctzll(b);
                    if (cnt[l] >= 2) hold[off[l] + fill[l]++] = j;
                }
        ein_cand best[RG_BRANCH];
        int nb = 0, cap = gp->temp > 0 ? RG_BRANCH : 1;
        ein_cand over = {INFINITY, INFINITY, INFINITY, -1, -1};   /* smallest result past the limit */
        for (int l = 0; l < nl; l++)
            for (int p = off[l]; p < off[l + 1]; p++)
                for (int q = p + 1; q < off[l + 1]; q++) {
                    int x = hold[p], y = hold[q];
                    const uint64_t *a = cur + (size_t)x * nw, *b = cur + (size_t)y * nw;
                    /* Each pair once: from its lowest shared label. */
                    int low = -1;
                    for (int w = 0; w < nw && low < 0; w++)
                        if (a[w] & b[w]) low = w * 64 + __builtin_ctzll(a[w] & b[w]);
                    if (low != l) continue;
                    ein_cand c = {0, 0, 0, x, y};
                    pair_result(in, a, b, cnt, res, &c.flops);
                    c.size = tg__ein_set_size(in, res);
                    double sz = gp->rng ? c.size * (1 + 0.01 * rng_gauss(gp->rng)) : c.size;
                    c.c = sz - gp->alpha * (csize[x] + csize[y]);
                    if (limit > 0 && c.size > limit) {
                        if (c.size < over.size) over = c;
                        continue;
                    }
                    cand_insert(best, &nb, cap, c);
                }
        ein_cand pick = {INFINITY, 0, INFINITY, 0, 1};
        if (nb == 0 && over.x >= 0) pick = over;
        else if (nb == 0) {
            /* Nothing shares a label: the outer product with the smallest result. */
            pick.size = INFINITY;
            for (int x = 0; x < m; x++)
                for (int y = x + 1; y < m; y++)
                    if (csize[x] * csize[y] < pick.size) {
                        pick.size = csize[x] * csize[y];
                        pick.x = x;
                        pick.y = y;
                    }
        } else if (nb == 1 || !(gp->temp > 0)) pick = best[0];
        else {
            double t = gp->temp * fmax(1.0, fabs(best[0].c)), w[RG_BRANCH], sum = 0;
            for (int k = 0; k < nb; k++) sum += w[k] = exp(-(best[k].c - best[0].c) / t);
            double u = rng_unif(gp->rng) * sum;
            int k = 0;
            while (k + 1 < nb && (u -= w[k]) > 0) k++;
            pick = best[k];
        }
        int x = pick.x, y = pick.y;
        const uint64_t *a = cur + (size_t)x * nw, *b = cur + (size_t)y * nw;
        double f;
        pair_result(in, a, b, cnt, bres, &f);
        total += f;
        double rs = tg__ein_set_size(in, bres);
        if (rs > *largest) *largest = rs;
        for (int w = 0; w < nw; w++) {
            for (uint64_t bb = a[w]; bb; bb &= bb - 1) cnt[w * 64 + __builtin_ctzll(bb)]--;
            for (uint64_t bb = b[w]; bb; bb &= bb - 1) cnt[w * 64 + __builtin_ctzll(bb)]--;
            for (uint64_t bb = bres[w]; bb; bb &= bb - 1) cnt[w * 64 + __builtin_ctzll(bb)]++;
        }
        path[step][0] = x;
        path[step][1] = y;
        int k = 0;
        for (int j = 0; j < m; j++)
            if (j != x && j != y) {
                if (k != j) {
                    memcpy(cur + (size_t)k * nw, cur + (size_t)j * nw, sizeof(uint64_t) * (size_t)nw);
                    csize[k] = csize[j];
                }
                k++;
            }
        memcpy(cur + (size_t)k * nw, bres, sizeof(uint64_t) * (size_t)nw);
        csize[k] = rs;
        m = k + 1;
    }
out:
    free(cur); free(csize); free(cnt); free(off); free(fill); free(hold);
    return total;
}

/* ---- optimal (dynamic programming over subsets) ---- */
static void emit(const unsigned *split, unsigned s, unsigned (*steps)[2], int *ns) {
    if (!(s & (s - 1))) return;
    unsigned a = split[s], b = s & ~a;
    emit(split, a, steps, ns);
    emit(split, b, steps, ns);
    steps[*ns][0] = a;
    steps[*ns][1] = b;
    (*ns)++;
}

/* NAN when out of memory or when no order keeps under the limit. */
static double optimal(const tg_ein_sets *in, double limit, int (*path)[2], double *largest) {
    int n = in->n, nw = in->nw;
    unsigned full = (1u << n) - 1;
    double *cost = calloc(full + 1, sizeof(double)), *sz = malloc(sizeof(double) * (full + 1));
    unsigned *split = malloc(sizeof(unsigned) * (full + 1));
    uint64_t *sets = malloc(sizeof(uint64_t) * (size_t)nw * (full + 1));
    if (!cost || !sz || !split || !sets) {
        free(cost); free(sz); free(split); free(sets);
        return NAN;
    }
    for (unsigned s = 1; s <= full; s++) {
        uint64_t keep[TG_EIN_W], u[TG_EIN_W];
        for (int w = 0; w < nw; w++) { keep[w] = in->out[w]; u[w] = 0; }
        for (int j = 0; j < n; j++)
            for (int w = 0; w < nw; w++) {
                if (s >> j & 1) u[w] |= in->set[j][w];
                else keep[w] |= in->set[j][w];
            }
        uint64_t *ss = sets + (size_t)s * nw;
        for (int w = 0; w < nw; w++) ss[w] = u[w] & keep[w];
        sz[s] = tg__ein_set_size(in, ss);
        if (!(s & (s - 1))) { cost[s] = 0; split[s] = 0; continue; }
        cost[s] = INFINITY;
        split[s] = 0;
        if (limit > 0 && s != full && sz[s] > limit) continue;
        unsigned low = s & -s;
        /* Submasks a containing the lowest operand: each split once. */
        for (unsigned a = (s - 1) & s; a; a = (a - 1) & s) {
            if (!(a & low)) continue;
            unsigned b = s & ~a;
            if (cost[a] == INFINITY || cost[b] == INFINITY) continue;
            /* tg__ein_pair_cost, from a's size: the labels of (a, b), times
             * 2 when one of them is summed */
            const uint64_t *sa = sets + (size_t)a * nw, *sb = sets + (size_t)b * nw;
            double pc = sz[a];
            bool inner = false;
            for (int w = 0; w < nw; w++) {
                for (uint64_t x = sb[w] & ~sa[w]; x; x &= x - 1) pc *= in->size[w * 64 + __builtin_ctzll(x)];
                inner |= ((sa[w] | sb[w]) & ~keep[w]) != 0;
            }
            double c = cost[a] + cost[b] + (inner ? 2.0 : 1.0) * pc;
            if (c < cost[s]) { cost[s] = c; split[s] = a; }
        }
    }
    double total = cost[full];
    if (total == INFINITY) {
        free(cost); free(sz); free(split); free(sets);
        return NAN;
    }
    unsigned steps[16][2];
    int ns = 0;
    emit(split, full, steps, &ns);
    unsigned pos[16];
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
        double rs = sz[m];
        if (rs > *largest) *largest = rs;
        int q = 0;
        for (int j = 0; j < cnt; j++)
            if (j != x && j != y) pos[q++] = pos[j];
        pos[q++] = m;
        cnt = q;
    }
    free(cost); free(sz); free(split); free(sets);
    return total;
}

bool tg__ein_path_cost(const tg_ein_sets *in, const int (*path)[2], double *flops, double *largest) {
    int n = in->n, nw = in->nw;
    uint64_t(*cur)[TG_EIN_W] = malloc(sizeof *cur * (size_t)n);
    int *cnt = calloc((size_t)nw * 64, sizeof(int));
    bool ok = cur && cnt;
    *flops = 0;
    *largest = 0;
    for (int j = 0; ok && j < n; j++) {
        memcpy(cur[j], in->set[j], sizeof(uint64_t) * (size_t)nw);
        for (int w = 0; w < nw; w++)
            for (uint64_t b = in->set[j][w]; b; b &= b - 1) cnt[w * 64 + __builtin_ctzll(b)]++;
    }
    for (int step = 0, m = n; ok && m > 1; step++, m--) {
        int x = path[step][0], y = path[step][1];
        if (x > y) { int t = x; x = y; y = t; }
        if (x < 0 || y >= m || x == y) { ok = false; break; }
        uint64_t res[TG_EIN_W];
        double f;
        pair_result(in, cur[x], cur[y], cnt, res, &f);
        *flops += f;
        double rs = tg__ein_set_size(in, res);
        if (rs > *largest) *largest = rs;
        for (int w = 0; w < nw; w++) {
            for (uint64_t bb = cur[x][w]; bb; bb &= bb - 1) cnt[w * 64 + __builtin_ctzll(bb)]--;
            for (uint64_t bb = cur[y][w]; bb; bb &= bb - 1) cnt[w * 64 + __builtin_ctzll(bb)]--;
            for (uint64_t bb = res[w]; bb; bb &= bb - 1) cnt[w * 64 + __builtin_ctzll(bb)]++;
        }
        int k = 0;
        for (int j = 0; j < m; j++)
            if (j != x && j != y) { if (k != j) memcpy(cur[k], cur[j], sizeof cur[0]); k++; }
        memcpy(cur[k], res, sizeof res);
    }
    free(cur);
    free(cnt);
    return ok;
}

/* ---- contraction trees and subtree reconfiguration ---- */
typedef struct {
    int n;              /* leaves 0..n-1, internal nodes n..2n-2, root 2n-2 */
    int (*ch)[2];       /* children of internal node n + k */
    int *parent;
    uint64_t (*set)[TG_EIN_W];   /* result labels of every node */
    double *cost;       /* pair cost of internal nodes */
} ein_tree;

static int tree_node_of(const ein_tree *t, int v) { return v - t->n; }

static bool tree_alloc(ein_tree *t, int n) {
    t->n = n;
    t->ch = malloc(sizeof *t->ch * (size_t)(n > 1 ? n - 1 : 1));
    t->parent = malloc(sizeof(int) * (size_t)(2 * n));
    t->set = malloc(sizeof *t->set * (size_t)(2 * n));
    t->cost = malloc(sizeof(double) * (size_t)(2 * n));
    return t->ch && t->parent && t->set && t->cost;
}

static void tree_free(ein_tree *t) { free(t->ch); free(t->parent); free(t->set); free(t->cost); }

static bool tree_from_path(ein_tree *t, const int (*path)[2]) {
    int n = t->n, *list = malloc(sizeof(int) * (size_t)n);
    if (!list) return false;
    for (int j = 0; j < n; j++) list[j] = j;
    int m = n;
    for (int k = 0; k + 1 < n; k++) {
        int x = path[k][0], y = path[k][1];
        t->ch[k][0] = list[x];
        t->ch[k][1] = list[y];
        int q = 0;
        for (int j = 0; j < m; j++)
            if (j != x && j != y) list[q++] = list[j];
        list[q++] = n + k;
        m = q;
    }
    free(list);
    return true;
}

/* Label sets and costs of every node from the leaves' sets: a node keeps
 * the labels of its leaves that the output or a leaf outside it holds.
 * Leaves outside a node are the prefix and suffix of the DFS leaf order. */
static bool tree_update(ein_tree *t, const tg_ein_sets *in) {
    int n = t->n, nw = in->nw, root = 2 * n - 2;
    int *order = malloc(sizeof(int) * (size_t)n), *lo = malloc(sizeof(int) * (size_t)(2 * n)),
        *hi = malloc(sizeof(int) * (size_t)(2 * n)), *stack = malloc(sizeof(int) * (size_t)(4 * n));
    uint64_t(*pre)[TG_EIN_W] = malloc(sizeof *pre * (size_t)(n + 1));
    uint64_t(*suf)[TG_EIN_W] = malloc(sizeof *suf * (size_t)(n + 1));
    bool ok = order && lo && hi && stack && pre && suf;
    if (ok) {
        /* Iterative post-order: leaf ranges. */
        int sp = 0, nleaf = 0;
        stack[sp++] = root;
        stack[sp++] = 0;
        while (sp) {
            int state = stack[--sp], v = stack[--sp];
            if (v < n) { order[nleaf] = v; lo[v] = nleaf; hi[v] = ++nleaf; continue; }
            const int *c = t->ch[tree_node_of(t, v)];
            if (state == 0) {
                stack[sp++] = v; stack[sp++] = 1;
                stack[sp++] = c[1]; stack[sp++] = 0;
                stack[sp++] = c[0]; stack[sp++] = 0;
            } else {
                lo[v] = lo[c[0]] < lo[c[1]] ? lo[c[0]] : lo[c[1]];
                hi[v] = hi[c[0]] > hi[c[1]] ? hi[c[0]] : hi[c[1]];
                t->parent[c[0]] = t->parent[c[1]] = v;
            }
        }
        t->parent[root] = -1;
        memset(pre[0], 0, sizeof pre[0]);
        memset(suf[n], 0, sizeof suf[0]);
        for (int j = 0; j < n; j++)
            for (int w = 0; w < nw; w++) pre[j + 1][w] = pre[j][w] | in->set[order[j]][w];
        for (int j = n - 1; j >= 0; j--)
            for (int w = 0; w < nw; w++) suf[j][w] = suf[j + 1][w] | in->set[order[j]][w];
        for (int j = 0; j < n; j++) { memcpy(t->set[j], in->set[j], sizeof t->set[0]); t->cost[j] = 0; }
        /* Internal node ids grow along the path, children first. */
        for (int v = n; v <= root; v++) {
            const int *c = t->ch[tree_node_of(t, v)];
            uint64_t keep[TG_EIN_W];
            for (int w = 0; w < nw; w++) keep[w] = in->out[w] | pre[lo[v]][w] | suf[hi[v]][w];
            t->cost[v] = tg__ein_pair_cost(in, t->set[c[0]], t->set[c[1]], keep, t->set[v]);
        }
    }
    free(order); free(lo); free(hi); free(stack); free(pre); free(suf);
    return ok;
}

/* Node ids must stay topologically ordered (children before parents) for
 * tree_update: renumber after a change. */
static bool tree_renumber(ein_tree *t) {
    int n = t->n, root = 2 * n - 2, nid = n;
    int *map = malloc(sizeof(int) * (size_t)(2 * n)), *stack = malloc(sizeof(int) * (size_t)(4 * n));
    int(*ch)[2] = malloc(sizeof *ch * (size_t)(n - 1));
    bool ok = map && stack && ch;
    if (ok) {
        for (int j = 0; j < n; j++) map[j] = j;
        int sp = 0;
        stack[sp++] = root;
        stack[sp++] = 0;
        while (sp) {
            int state = stack[--sp], v = stack[--sp];
            if (v < n) continue;
            const int *c = t->ch[tree_node_of(t, v)];
            if (state == 0) {
                stack[sp++] = v; stack[sp++] = 1;
                stack[sp++] = c[1]; stack[sp++] = 0;
                stack[sp++] = c[0]; stack[sp++] = 0;
            } else {
                map[v] = nid++;
            }
        }
        for (int v = n; v <= root; v++) {
            ch[map[v] - n][0] = map[t->ch[v - n][0]];
            ch[map[v] - n][1] = map[t->ch[v - n][1]];
        }
        memcpy(t->ch, ch, sizeof *ch * (size_t)(n - 1));
    }
    free(map); free(stack); free(ch);
    return ok;
}

/* The parts already tried at a node (as sorted inner-node lists): another
 * way of opening it that lands on the same parts is skipped. */
typedef struct {
    int n;
    int len[3], inner[3][RECONF_K];
} reconf_tried;

static bool tried_before(reconf_tried *tr, const int *inner, int ni) {
    int s[RECONF_K];
    memcpy(s, inner, sizeof(int) * (size_t)ni);
    for (int i = 1; i < ni; i++)
        for (int j = i; j > 0 && s[j - 1] > s[j]; j--) { int x = s[j]; s[j] = s[j - 1]; s[j - 1] = x; }
    for (int q = 0; q < tr->n; q++)
        if (tr->len[q] == ni && !memcmp(tr->inner[q], s, sizeof(int) * (size_t)ni)) return true;
    if (tr->n < 3) {
        tr->len[tr->n] = ni;
        memcpy(tr->inner[tr->n++], s, sizeof(int) * (size_t)ni);
    }
    return false;
}

/* Tries to improve the subtree at v: NAN on failure, else the gain. The
 * subtree is opened into up to kmax parts, each time at the part with the
 * costliest step (how 0), the largest result (1) or the one nearest to v
 * (2). The last two find orders the first misses: a cheap subtree with a
 * large result absorbed early into a costly one (a MERA's last steps). */
static double reconf_node(ein_tree *t, const tg_ein_sets *in, tg_ein_sets *sub, double limit, int kmax, int v,
                          int how, reconf_tried *tr) {
    int front[RECONF_K], depth[RECONF_K], nf = 0, inner[RECONF_K], ni = 0;
    const int *c = t->ch[tree_node_of(t, v)];
    front[nf] = c[0];
    depth[nf++] = 1;
    front[nf] = c[1];
    depth[nf++] = 1;
    inner[ni++] = v;
    while (nf < kmax) {
        int pick = -1;
        double best = 0;
        for (int k = 0; k < nf; k++) {
            if (front[k] < t->n) continue;
            double key = how == 0 ? t->cost[front[k]] : how == 1 ? tg__ein_set_size(in, t->set[front[k]]) : -depth[k];
            if (pick < 0 || key > best) { pick = k; best = key; }
        }
        if (pick < 0) break;
        int u = front[pick];
        inner[ni++] = u;
        front[pick] = t->ch[tree_node_of(t, u)][0];
        depth[pick]++;
        front[nf] = t->ch[tree_node_of(t, u)][1];
        depth[nf++] = depth[pick];
    }
    if (nf < 3 || tried_before(tr, inner, ni)) return 0;
    double old = 0;
    for (int k = 0; k < ni; k++) old += t->cost[inner[k]];
    sub->n = nf;
    for (int k = 0; k < nf; k++) memcpy(sub->set[k], t->set[front[k]], sizeof sub->set[0]);
    memcpy(sub->out, t->set[v], sizeof sub->out);
    int p[RECONF_K][2];
    double largest;
    double neu = optimal(sub, limit, p, &largest);
    if (isnan(neu) || !(neu < old * (1 - 1e-9))) return 0;
    /* Rebuild: the last step becomes v, the others reuse inner[1..]. */
    int list[RECONF_K], m = nf;
    memcpy(list, front, sizeof(int) * (size_t)nf);
    for (int k = 0; k + 1 < nf; k++) {
        int id = k + 2 == nf ? v : inner[k + 1];
        int x = p[k][0], y = p[k][1];
        t->ch[tree_node_of(t, id)][0] = list[x];
        t->ch[tree_node_of(t, id)][1] = list[y];
        int q = 0;
        for (int j = 0; j < m; j++)
            if (j != x && j != y) list[q++] = list[j];
        list[q++] = id;
        m = q;
    }
    return old - neu;
}

static bool reconfigure(ein_tree *t, const tg_ein_sets *in, double limit, int kmax) {
    tg_ein_sets *sub = malloc(sizeof *sub);
    if (!sub) return false;
    sub->nw = in->nw;
    memcpy(sub->size, in->size, sizeof sub->size);
    bool ok = tree_update(t, in);
    for (int pass = 0; ok && pass < RECONF_PASSES; pass++) {
        bool improved = false;
        for (int v = t->n; ok && v <= 2 * t->n - 2; v++) {
            reconf_tried tr = {0};
            for (int how = 0; ok && how < 3; how++) {
                double gain = reconf_node(t, in, sub, limit, kmax, v, how, &tr);
                if (gain > 0) {
                    improved = true;
                    tr.n = 0;
                    ok = tree_renumber(t) && tree_update(t, in);
                }
            }
        }
        if (!improved) break;
    }
    free(sub);
    return ok;
}

/* Path (opt_einsum's convention) of a tree: children before parents. */
static bool tree_to_path(const ein_tree *t, int (*path)[2]) {
    int n = t->n, *list = malloc(sizeof(int) * (size_t)n);
    if (!list) return false;
    for (int j = 0; j < n; j++) list[j] = j;
    int m = n;
    for (int v = n; v <= 2 * n - 2; v++) {
        const int *c = t->ch[v - n];
        int x = -1, y = -1;
        for (int j = 0; j < m; j++)
            if (list[j] == c[0] || list[j] == c[1]) { if (x < 0) x = j; else y = j; }
        path[v - n][0] = x;
        path[v - n][1] = y;
        int q = 0;
        for (int j = 0; j < m; j++)
            if (j != x && j != y) list[q++] = list[j];
        list[q++] = v;
        m = q;
    }
    free(list);
    return true;
}

/* Subtree reconfiguration of path (in place when it gets cheaper): its cost
 * and largest intermediate in *f, *lg. */
static void reconf_path(const tg_ein_sets *in, double limit, int kmax, int (*path)[2], double *f, double *lg) {
    int n = in->n;
    ein_tree t = {0};
    if (n < 3) return;
    int(*rp)[2] = malloc(sizeof *rp * (size_t)(n - 1));
    if (rp && tree_alloc(&t, n) && tree_from_path(&t, (const int (*)[2])path) && reconfigure(&t, in, limit, kmax) &&
        tree_to_path(&t, rp)) {
        double f2, lg2;
        if (tg__ein_path_cost(in, (const int (*)[2])rp, &f2, &lg2) && f2 < *f &&
            (limit <= 0 || lg2 <= fmax(limit, *lg))) {
            memcpy(path, rp, sizeof *rp * (size_t)(n - 1));
            *f = f2;
            *lg = lg2;
        }
    }
    tree_free(&t);
    free(rp);
}

/* Greedy trials (the first deterministic, the others randomised); the
 * RG_KEEP cheapest are reconfigured and the cheapest result kept. */
static double random_greedy(const tg_ein_sets *in, double limit, int trials, int kmax, int (*path)[2],
                            double *largest) {
    int n = in->n;
    size_t psz = sizeof(int[2]) * (size_t)(n - 1);
    int(*tp)[2] = malloc(psz);
    int(*keep)[2] = malloc(psz * RG_KEEP);
    double kf[RG_KEEP], kl[RG_KEEP];
    int nk = 0;
    if (!tp || !keep) { free(tp); free(keep); return NAN; }
    ein_rng rng = {0x5eed7a9e47ull};
    for (int k = 0; k < trials; k++) {
        greedy_params gp = {1.0, 0.0, NULL};
        if (k > 0) {
            gp.alpha = 2 * rng_unif(&rng);
            gp.temp = exp(log(1e-3) * rng_unif(&rng));   /* log-uniform in [1e-3, 1] */
            gp.rng = &rng;
        }
        double lg, f = greedy_run(in, limit, &gp, tp, &lg);
        if (isnan(f)) continue;
        bool dup = false;
        for (int q = 0; q < nk; q++) dup |= kf[q] == f;
        if (dup || (nk == RG_KEEP && f >= kf[nk - 1])) continue;
        int j = nk < RG_KEEP ? nk++ : RG_KEEP - 1;
        while (j > 0 && kf[j - 1] > f) {
            kf[j] = kf[j - 1];
            kl[j] = kl[j - 1];
            memcpy(keep + (size_t)j * (n - 1), keep + (size_t)(j - 1) * (n - 1), psz);
            j--;
        }
        kf[j] = f;
        kl[j] = lg;
        memcpy(keep + (size_t)j * (n - 1), tp, psz);
    }
    double best = INFINITY;
    for (int q = 0; q < nk; q++) {
        int(*p)[2] = keep + (size_t)q * (n - 1);
        reconf_path(in, limit, kmax, p, &kf[q], &kl[q]);
        if (kf[q] < best) {
            best = kf[q];
            *largest = kl[q];
            memcpy(path, p, psz);
        }
    }
    free(tp);
    free(keep);
    return nk ? best : NAN;
}

double tg__ein_path(const tg_ein_sets *in, tg_ein_strategy strat, double limit, int (*path)[2], double *largest) {
    *largest = 0;
    if (in->n < 2) return 0;
    double f = NAN;
    if (strat == TG_EIN_OPTIMAL || (strat == TG_EIN_AUTO && in->n <= AUTO_OPT)) {
        if (in->n <= OPT_MAX) f = optimal(in, limit, path, largest);
    } else if (strat == TG_EIN_RANDOM || strat == TG_EIN_AUTO) {
        bool a = strat == TG_EIN_AUTO;
        f = random_greedy(in, limit, a ? RG_TRIALS_AUTO : RG_TRIALS, a ? RECONF_K_AUTO : RECONF_K, path, largest);
    }
    if (isnan(f)) {
        /* Plain greedy: also the fallback of the others (memory, or no
         * order under the limit). */
        greedy_params gp = {1.0, 0.0, NULL};
        f = greedy_run(in, limit, &gp, path, largest);
        if (isnan(f)) f = greedy_run(in, 0, &gp, path, largest);
    }
    return f;
}

tg_status tg__ein_strategy(const char *name, tg_ein_strategy *st) {
    if (!name || !strcmp(name, "auto")) *st = TG_EIN_AUTO;
    else if (!strcmp(name, "optimal")) *st = TG_EIN_OPTIMAL;
    else if (!strcmp(name, "greedy")) *st = TG_EIN_GREEDY;
    else if (!strcmp(name, "random-greedy")) *st = TG_EIN_RANDOM;
    else
        return tg__error(TG_ERR_ARG, "einsum_path: unknown strategy \"%s\" (optimal, greedy, random-greedy, auto)",
                         name);
    return TG_OK;
}

tg_status tg__ein_check_path(int n, const int (*path)[2], int (*out)[2]) {
    for (int k = 0, m = n; k + 1 < n; k++, m--) {
        int x = path[k][0], y = path[k][1];
        if (x > y) { int t = x; x = y; y = t; }
        if (x < 0 || y >= m || x == y)
            return tg__error(TG_ERR_ARG, "einsum: path step %d is (%d, %d): needs two different positions in 0..%d",
                             k, path[k][0], path[k][1], m - 1);
        out[k][0] = x;
        out[k][1] = y;
    }
    return TG_OK;
}
