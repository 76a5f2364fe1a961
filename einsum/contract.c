/* Einsum execution by composing differentiable public ops (diagonal, sum,
 * expand, permute, reshape, matmul, mul), so eager and forward-mode
 * autodiff, higher order and tracing with symbolic sizes need no rule of
 * their own. Public entry points: tg_einsum, tg_einsum_ints. */
#include <stdlib.h>
#include <string.h>

#include "einsum/einsum_impl.h"
#include "tensor/tensor_impl.h"
#include "tangent/sizes.h"

#define BIT_SET(s, i) ((s)[(i) >> 6] |= (uint64_t)1 << ((i) & 63))
#define BIT_HAS(s, i) (((s)[(i) >> 6] >> ((i) & 63)) & 1)

/* Removes repeated labels (diagonals), sums labels found nowhere else and
 * not in the output (owners: operands holding each label), broadcasts
 * size-1 axes to the label's size. */
static tg_status prepare(const tg_ein_spec *s, const int *owners, const uint64_t *out_set, int i, tg_tensor *x,
                         ein_op *o) {
    o->t = x;
    o->nl = s->rank[i];
    o->flat = false;
    memcpy(o->lab, s->lab[i], sizeof(int) * (size_t)o->nl);
    for (;;) {
        int a = -1, b = -1;
        for (int p = 0; p < o->nl && a < 0; p++)
            for (int q = p + 1; q < o->nl; q++)
                if (o->lab[p] == o->lab[q]) { a = p; b = q; break; }
        if (a < 0) break;
        int l = o->lab[a];
        o->t = tg_diagonal(o->t, 0, a, b);
        if (!o->t) return tg_last_error_code();
        int k = 0;
        for (int p = 0; p < o->nl; p++)
            if (p != a && p != b) o->lab[k++] = o->lab[p];
        o->lab[k++] = l;
        o->nl = k;
    }
    int axes[TG_MAX_DIMS], na = 0, k = 0;
    for (int p = 0; p < o->nl; p++) {
        int l = o->lab[p];
        if (owners[l] > 1 || BIT_HAS(out_set, l)) o->lab[k++] = l;
        else axes[na++] = p;
    }
    if (na) {
        o->t = tg_sum(o->t, na, axes, false);
        if (!o->t) return tg_last_error_code();
        o->nl = k;
    }
    int64_t shape[TG_MAX_DIMS];
    bool need = false;
    for (int p = 0; p < o->nl; p++) {
        shape[p] = s->size[o->lab[p]];
        need |= tg_dim(o->t, p) != shape[p];
    }
    if (need) {
        o->t = tg_expand(o->t, o->nl, shape);
        if (!o->t) return tg_last_error_code();
    }
    return TG_OK;
}

/* Runs of T (a permutation of cur's nl labels) consecutive in cur: start
 * positions in cur and lengths, in T's order. Returns their number. */
static int runs_of(const int *cur, int nl, const int *T, int *rs, int *rl) {
    int nr = 0;
    for (int k = 0; k < nl;) {
        int p = ein_index_of(cur, nl, T[k]), len = 1;
        while (k + len < nl && ein_index_of(cur, nl, T[k + len]) == p + len) len++;
        rs[nr] = p;
        rl[nr] = len;
        nr++;
        k += len;
    }
    return nr;
}

/* One permutation of a contiguous tensor t whose labels are cur into the
 * order T, through at most TG_MAX_DIMS axis groups: a view. */
static tg_tensor *permute_runs(const tg_ein_spec *s, tg_tensor *t, const int *cur, int nl, const int *T) {
    int rs[TG_EIN_MAX_RANK], rl[TG_EIN_MAX_RANK];
    int nr = runs_of(cur, nl, T, rs, rl);
    /* Source order: runs sorted by position in cur. */
    int src[TG_MAX_DIMS], perm[TG_MAX_DIMS];
    for (int r = 0; r < nr; r++) {
        int j = r;
        while (j > 0 && rs[src[j - 1]] > rs[r]) { src[j] = src[j - 1]; j--; }
        src[j] = r;
    }
    int64_t shape[TG_MAX_DIMS];
    for (int q = 0; q < nr; q++) shape[q] = ein_labels_size(s, cur + rs[src[q]], rl[src[q]]);
    for (int q = 0; q < nr; q++) perm[src[q]] = q;   /* target axis r is source axis q */
    tg_tensor *v = tg_reshape(t, nr, shape);
    return v ? tg_permute(v, perm) : NULL;
}

/* o's tensor with its labels in the order T (a permutation of o's labels),
 * as a view whose axes are the runs of T that are consecutive in o. A
 * permutation of more than TG_MAX_DIMS runs (intermediates of many labels)
 * goes in passes: each brings the next target runs to the front, in place,
 * through at most TG_MAX_DIMS groups, and copies. */
static tg_tensor *arrange(const tg_ein_spec *s, const ein_op *o, const int *T) {
    if (!o->flat) {
        int perm[TG_MAX_DIMS];
        for (int k = 0; k < o->nl; k++) perm[k] = ein_index_of(o->lab, o->nl, T[k]);
        return tg_permute(o->t, perm);
    }
    if (o->nl == 0) return o->t;
    int cur[TG_EIN_MAX_RANK], rs[TG_EIN_MAX_RANK], rl[TG_EIN_MAX_RANK], mid[TG_EIN_MAX_RANK];
    int nl = o->nl;
    memcpy(cur, o->lab, sizeof(int) * (size_t)nl);
    tg_tensor *t = o->t;
    while (runs_of(cur, nl, T, rs, rl) > TG_MAX_DIMS) {
        /* Labels already in place at the front, then the longest prefix
         * of T that one pass can bring after them. */
        int done = 0;
        while (done < nl && cur[done] == T[done]) done++;
        int best = -1;
        for (int k = done + 1; k <= nl; k++) {
            memcpy(mid, T, sizeof(int) * (size_t)k);
            int q = k;
            for (int j = 0; j < nl; j++)
                if (ein_index_of(T, k, cur[j]) < 0) mid[q++] = cur[j];
            if (runs_of(cur, nl, mid, rs, rl) <= TG_MAX_DIMS) best = k;
            else break;
        }
        if (best < 0) { tg__error(TG_ERR_SHAPE, "einsum: cannot permute an intermediate"); return NULL; }
        memcpy(mid, T, sizeof(int) * (size_t)best);
        int q = best;
        for (int j = 0; j < nl; j++)
            if (ein_index_of(T, best, cur[j]) < 0) mid[q++] = cur[j];
        t = permute_runs(s, t, cur, nl, mid);
        if (t) t = tg_contiguous(t);
        if (!t) return NULL;
        memcpy(cur, mid, sizeof(int) * (size_t)nl);
    }
    return permute_runs(s, t, cur, nl, T);
}

/* Makes o one axis per label (for tg_sum over labels). */
static tg_status unflatten(const tg_ein_spec *s, ein_op *o) {
    if (!o->flat) return TG_OK;
    if (o->nl > TG_MAX_DIMS)
        return tg__error(TG_ERR_SHAPE, "einsum: an intermediate with %d labels would need a sum over some of them",
                         o->nl);
    int64_t shape[TG_MAX_DIMS];
    for (int k = 0; k < o->nl; k++) shape[k] = s->size[o->lab[k]];
    o->t = tg_reshape(o->t, o->nl, shape);
    o->flat = false;
    return o->t ? TG_OK : tg_last_error_code();
}

/* Sums the labels of A that B lacks and nobody keeps (defensive: prepare
 * already summed labels held by one operand). */
static tg_status sum_alone(const tg_ein_spec *s, ein_op *A, const ein_op *B, const uint64_t *keep) {
    int sum_axes[TG_MAX_DIMS], ns = 0;
    for (int p = 0; p < A->nl; p++)
        if (ein_index_of(B->lab, B->nl, A->lab[p]) < 0 && !BIT_HAS(keep, A->lab[p])) ns++;
    if (!ns) return TG_OK;
    tg_status st = unflatten(s, A);
    if (st) return st;
    ns = 0;
    int k = 0;
    for (int p = 0; p < A->nl; p++) {
        if (ein_index_of(B->lab, B->nl, A->lab[p]) < 0 && !BIT_HAS(keep, A->lab[p])) sum_axes[ns++] = p;
        else A->lab[k++] = A->lab[p];
    }
    A->t = tg_sum(A->t, ns, sum_axes, false);
    if (!A->t) return tg_last_error_code();
    A->nl = k;
    return TG_OK;
}

/* An outer product's free groups: b's before a's? When the output holds
 * both groups and b's label comes first there, yes: the product is then
 * already in the output's order (a contiguous result, no view to copy).
 * Else the larger group goes last, so the inner loop is the longer one. */
static bool outer_b_first(const tg_ein_spec *s, const int *fa, int nfa, const int *fb, int nfb, int64_t nM,
                          int64_t nN) {
    if (nfa == 0 || nfb == 0) return false;
    int pa = ein_index_of(s->out, s->n_out, fa[0]), pb = ein_index_of(s->out, s->n_out, fb[0]);
    if (pa >= 0 && pb >= 0) return pb < pa;
    return nN > nM;
}

/* r = a (x) b keeping the labels in keep: batched GEMM for contracted
 * labels, broadcasting multiply otherwise. The result is flat: (batch,
 * free of one, free of the other). The larger operand orders the shared
 * labels unless layout.c finds orders that copy less, partner (NULL: not
 * known yet) being the operand the result meets at its next step. */
static tg_status pair(const tg_ein_spec *s, const ein_op *a, const ein_op *b, const uint64_t *keep,
                      const ein_op *partner, ein_op *r) {
    ein_op A = *a, B = *b;
    tg_status st = sum_alone(s, &A, &B, keep);
    if (!st) st = sum_alone(s, &B, &A, keep);
    if (st) return st;
    bool b_leads = ein_labels_size(s, B.lab, B.nl) > ein_labels_size(s, A.lab, A.nl);
    const ein_op *L = b_leads ? &B : &A, *O = b_leads ? &A : &B;
    /* the default layout: bat and con in L's order, a first, each free
     * group in its operand's order */
    tg_ein_layout lay = {.swap = false};
    for (int p = 0; p < L->nl; p++) {
        int l = L->lab[p];
        if (ein_index_of(O->lab, O->nl, l) < 0) continue;
        if (BIT_HAS(keep, l)) lay.bat[lay.nbat++] = l;
        else lay.con[lay.ncon++] = l;
    }
    for (int p = 0; p < A.nl; p++)
        if (ein_index_of(B.lab, B.nl, A.lab[p]) < 0) lay.f1[lay.n1++] = A.lab[p];
    for (int p = 0; p < B.nl; p++)
        if (ein_index_of(A.lab, A.nl, B.lab[p]) < 0) lay.f2[lay.n2++] = B.lab[p];
    int nbat = lay.nbat, ncon = lay.ncon, nfa = lay.n1, nfb = lay.n2;
    const int *bat = lay.bat, *fa = lay.f1, *fb = lay.f2;
    if (nbat + nfa + nfb > TG_EIN_MAX_RANK)
        return tg__error(TG_ERR_SHAPE, "einsum: an intermediate would have %d labels (at most %d)",
                         nbat + nfa + nfb, TG_EIN_MAX_RANK);
    int ta_lab[TG_EIN_MAX_RANK], tb_lab[TG_EIN_MAX_RANK], n = 0, m = 0;
    r->nl = 0;
    r->flat = true;
    int64_t nB = ein_labels_size(s, bat, nbat);
    if (ncon == 0) {
        /* Outer product / elementwise: (bat, fa, 1) * (bat, 1, fb), or with
         * the free groups the other way round when b's come first. */
        int64_t nM = ein_labels_size(s, fa, nfa), nN = ein_labels_size(s, fb, nfb);
        bool b_first = outer_b_first(s, fa, nfa, fb, nfb, nM, nN);
        for (int q = 0; q < nbat; q++) { r->lab[r->nl++] = bat[q]; ta_lab[n++] = bat[q]; tb_lab[m++] = bat[q]; }
        for (int q = 0; q < nfa; q++) ta_lab[n++] = fa[q];
        for (int q = 0; q < nfb; q++) tb_lab[m++] = fb[q];
        for (int q = 0; q < nfa + nfb; q++) {
            bool from_b = b_first ? q < nfb : q >= nfa;
            r->lab[r->nl++] = from_b ? fb[b_first ? q : q - nfa] : fa[b_first ? q - nfb : q];
        }
        tg_tensor *ta = arrange(s, &A, ta_lab), *tb = arrange(s, &B, tb_lab);
        if (!ta || !tb) return tg_last_error_code();
        ta = tg_reshape(ta, 3, b_first ? (int64_t[]){nB, 1, nM} : (int64_t[]){nB, nM, 1});
        tb = tg_reshape(tb, 3, b_first ? (int64_t[]){nB, nN, 1} : (int64_t[]){nB, 1, nN});
        r->t = tg_mul(ta, tb);
        return r->t ? TG_OK : tg_last_error_code();
    }
    tg__ein_layout(s, &A, &B, L, partner, &lay);
    for (int q = 0; q < nbat; q++) { r->lab[r->nl++] = lay.bat[q]; ta_lab[n++] = lay.bat[q]; tb_lab[m++] = lay.bat[q]; }
    for (int q = 0; q < lay.n1; q++) { r->lab[r->nl++] = lay.f1[q]; ta_lab[n++] = lay.f1[q]; }
    for (int q = 0; q < lay.n2; q++) r->lab[r->nl++] = lay.f2[q];
    for (int q = 0; q < ncon; q++) { ta_lab[n++] = lay.con[q]; tb_lab[m++] = lay.con[q]; }
    for (int q = 0; q < lay.n2; q++) tb_lab[m++] = lay.f2[q];
    tg_tensor *ta = arrange(s, lay.swap ? &B : &A, ta_lab), *tb = arrange(s, lay.swap ? &A : &B, tb_lab);
    if (!ta || !tb) return tg_last_error_code();
    int64_t nK = ein_labels_size(s, lay.con, ncon), n1 = ein_labels_size(s, lay.f1, lay.n1), n2 = ein_labels_size(s, lay.f2, lay.n2);
    ta = tg_reshape(ta, 3, (int64_t[]){nB, n1, nK});
    tb = tg_reshape(tb, 3, (int64_t[]){nB, nK, n2});
    r->t = tg_matmul(ta, tb);
    return r->t ? TG_OK : tg_last_error_code();
}

void tg__ein_sets_of(const tg_ein_spec *s, tg_ein_sets *out) {
    out->n = s->n;
    out->nw = (s->n_labels + 63) / 64;
    if (out->nw < 1) out->nw = 1;
    memset(out->set, 0, sizeof(out->set[0]) * (size_t)s->n);
    memset(out->out, 0, sizeof out->out);
    int owners[TG_EIN_MAX_LABELS] = {0};
    for (int i = 0; i < s->n; i++) {
        uint64_t seen[TG_EIN_W] = {0};
        for (int a = 0; a < s->rank[i]; a++)
            if (!BIT_HAS(seen, s->lab[i][a])) { BIT_SET(seen, s->lab[i][a]); owners[s->lab[i][a]]++; }
    }
    for (int j = 0; j < s->n_out; j++) BIT_SET(out->out, s->out[j]);
    for (int i = 0; i < s->n; i++)
        for (int a = 0; a < s->rank[i]; a++) {
            int l = s->lab[i][a];
            if (owners[l] > 1 || BIT_HAS(out->out, l)) BIT_SET(out->set[i], l);
        }
    for (int l = 0; l < out->nw * 64; l++)
        out->size[l] = l >= s->n_labels ? 1.0 : tg_is_symbolic(s->size[l]) ? 8.0 : (double)s->size[l];
}

/* Operands are numbered 0..n-1, step k's result n + k. partner[k]: the
 * number of the operand step k's result meets at the step that reads it
 * (-1 for the last step). ids: scratch, left as 0..n-1 for the caller. */
static void next_partners(int n, const int (*path)[2], int *ids, int *partner) {
    int m = n;
    for (int i = 0; i < n; i++) { ids[i] = i; partner[i] = -1; }
    for (int step = 0; step + 1 < n; step++) {
        int x = ids[path[step][0]], y = ids[path[step][1]];
        if (x >= n) partner[x - n] = y;
        if (y >= n) partner[y - n] = x;
        int k = 0;
        for (int j = 0; j < m; j++)
            if (j != path[step][0] && j != path[step][1]) ids[k++] = ids[j];
        ids[k++] = n + step;
        m = k;
    }
    for (int i = 0; i < n; i++) ids[i] = i;
}

tg_tensor *tg__ein_contract(const tg_ein_spec *s, tg_tensor *const *ops, const int (*path)[2]) {
    tg_ein_sets *sets = malloc(sizeof *sets);
    int(*auto_path)[2] = malloc(sizeof *auto_path * (size_t)s->n);
    ein_op *list = malloc(sizeof *list * (size_t)s->n);
    int *owners = calloc(TG_EIN_MAX_LABELS, sizeof(int)), *cnt = calloc(TG_EIN_MAX_LABELS, sizeof(int));
    int *ids = malloc(sizeof(int) * (size_t)s->n), *partner = malloc(sizeof(int) * (size_t)s->n);
    tg_tensor *res = NULL;
    if (!sets || !auto_path || !list || !owners || !cnt || !ids || !partner) {
        tg__error(TG_ERR_MEMORY, "einsum: out of memory");
        goto out;
    }
    if (!path) {
        double f, lg;
        if (tg__ein_plan(s, NULL, sets, auto_path, &f, &lg)) goto out;
        path = (const int (*)[2])auto_path;
    } else {
        tg__ein_sets_of(s, sets);
    }
    for (int i = 0; i < s->n; i++) {
        uint64_t seen[TG_EIN_W] = {0};
        for (int a = 0; a < s->rank[i]; a++)
            if (!BIT_HAS(seen, s->lab[i][a])) { BIT_SET(seen, s->lab[i][a]); owners[s->lab[i][a]]++; }
    }
    next_partners(s->n, path, ids, partner);
    tg_scope_begin();
    int m = s->n;
    for (int i = 0; i < s->n; i++) {
        if (prepare(s, owners, sets->out, i, ops[i], &list[i])) goto done;
        for (int a = 0; a < list[i].nl; a++) cnt[list[i].lab[a]]++;
    }
    for (int step = 0; step + 1 < s->n; step++) {
        int x = path[step][0], y = path[step][1];
        /* keep: the output's labels and those of the other operands. */
        uint64_t keep[TG_EIN_W];
        memcpy(keep, sets->out, sizeof keep);
        for (int q = 0; q < list[x].nl; q++) {
            int l = list[x].lab[q], rest = cnt[l] - 1 - (ein_index_of(list[y].lab, list[y].nl, l) >= 0);
            if (rest > 0) BIT_SET(keep, l);
        }
        for (int q = 0; q < list[y].nl; q++) {
            int l = list[y].lab[q], rest = cnt[l] - 1 - (ein_index_of(list[x].lab, list[x].nl, l) >= 0);
            if (rest > 0) BIT_SET(keep, l);
        }
        /* the operand this result meets next, when it exists already */
        const ein_op *meets = NULL;
        for (int j = 0; j < m && partner[step] >= 0 && partner[step] < s->n + step; j++)
            if (ids[j] == partner[step]) meets = &list[j];
        ein_op r;
        if (pair(s, &list[x], &list[y], keep, meets, &r)) goto done;
        for (int q = 0; q < list[x].nl; q++) cnt[list[x].lab[q]]--;
        for (int q = 0; q < list[y].nl; q++) cnt[list[y].lab[q]]--;
        for (int q = 0; q < r.nl; q++) cnt[r.lab[q]]++;
        int k = 0;
        for (int j = 0; j < m; j++)
            if (j != x && j != y) {
                if (k != j) { list[k] = list[j]; ids[k] = ids[j]; }
                k++;
            }
        ids[k] = s->n + step;
        list[k++] = r;
        m = k;
    }
    {
        ein_op *f = &list[0];
        /* Labels of f missing from the output (only possible when f kept
         * one for nobody) were summed by pair; f holds exactly the output's. */
        tg_tensor *t;
        if (f->flat) {
            /* The contiguous result split into one axis per label (a view),
             * then permuted (a view): no copy for the output order. */
            int64_t own[TG_MAX_DIMS];
            int perm[TG_MAX_DIMS];
            for (int k = 0; k < f->nl; k++) own[k] = s->size[f->lab[k]];
            for (int j = 0; j < s->n_out; j++) perm[j] = ein_index_of(f->lab, f->nl, s->out[j]);
            t = tg_reshape(f->t, f->nl, own);
            if (t) t = tg_permute(t, perm);
        } else {
            t = arrange(s, f, s->out);
        }
        if (t) res = tg_keep(t);
    }
done:
    tg_scope_end();
out:
    free(sets); free(auto_path); free(list); free(owners); free(cnt); free(ids); free(partner);
    return res;
}

tg_tensor *tg_einsum_opt(const char *subscripts, int n, tg_tensor *const *operands, const tg_einsum_opts *opts) {
    tg_ein_spec *s = malloc(sizeof *s);
    int(*p)[2] = malloc(sizeof *p * (size_t)(n > 0 ? n : 1));
    tg_ein_sets *sets = malloc(sizeof *sets);
    tg_tensor *res = NULL;
    double f, lg;
    if (!s || !p || !sets) tg__error(TG_ERR_MEMORY, "einsum: out of memory");
    else if (!tg__ein_spec_str(subscripts, n, operands, s) && !tg__ein_plan(s, opts, sets, p, &f, &lg))
        res = tg__ein_contract(s, operands, (const int (*)[2])p);
    free(s); free(p); free(sets);
    return res;
}

tg_tensor *tg_einsum_ints_opt(int n, tg_tensor *const *operands, const int *const *labels, const int *n_labels,
                              const int *out_labels, int n_out, const tg_einsum_opts *opts) {
    tg_ein_spec *s = malloc(sizeof *s);
    int(*p)[2] = malloc(sizeof *p * (size_t)(n > 0 ? n : 1));
    tg_ein_sets *sets = malloc(sizeof *sets);
    tg_tensor *res = NULL;
    double f, lg;
    if (!s || !p || !sets) tg__error(TG_ERR_MEMORY, "einsum: out of memory");
    else if (!tg__ein_spec_ints(n, operands, labels, n_labels, out_labels, n_out, s) &&
             !tg__ein_plan(s, opts, sets, p, &f, &lg))
        res = tg__ein_contract(s, operands, (const int (*)[2])p);
    free(s); free(p); free(sets);
    return res;
}

tg_tensor *tg_einsum(const char *subscripts, int n, tg_tensor *const *operands) {
    return tg_einsum_opt(subscripts, n, operands, NULL);
}

tg_tensor *tg_einsum_ints(int n, tg_tensor *const *operands, const int *const *labels, const int *n_labels,
                          const int *out_labels, int n_out) {
    return tg_einsum_ints_opt(n, operands, labels, n_labels, out_labels, n_out, NULL);
}
