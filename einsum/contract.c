/* Einsum execution by composing differentiable public ops (diagonal, sum,
 * expand, permute, reshape, matmul, mul), so eager and forward-mode
 * autodiff, higher order and tracing with symbolic sizes need no rule of
 * their own. Public entry points: tg_einsum, tg_einsum_ints. */
#include <stdlib.h>
#include <string.h>

#include "einsum/einsum_impl.h"
#include "tensor/tensor_impl.h"
#include "tangent/sizes.h"

typedef struct {
    tg_tensor *t;
    int nl;
    int lab[TG_MAX_DIMS];
} ein_op;

#define BIT_SET(s, i) ((s)[(i) >> 6] |= (uint64_t)1 << ((i) & 63))
#define BIT_HAS(s, i) (((s)[(i) >> 6] >> ((i) & 63)) & 1)

/* Removes repeated labels (diagonals), sums labels found nowhere else and
 * not in the output, broadcasts size-1 axes to the label's size. */
static tg_status prepare(const tg_ein_spec *s, int i, tg_tensor *x, ein_op *o) {
    o->t = x;
    o->nl = s->rank[i];
    memcpy(o->lab, s->lab[i], sizeof o->lab);
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
        bool used = false;
        for (int j = 0; j < s->n_out && !used; j++) used = s->out[j] == l;
        for (int j = 0; j < s->n && !used; j++)
            if (j != i)
                for (int q = 0; q < s->rank[j] && !used; q++) used = s->lab[j][q] == l;
        if (used) o->lab[k++] = l;
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

static int64_t prod_dims(tg_tensor *t, const int *axes, int n) {
    int64_t p = 1;
    for (int k = 0; k < n; k++) p = tg_size_mul(p, tg_dim(t, axes[k]));
    return p;
}

static int index_of(const int *lab, int n, int l) {
    for (int k = 0; k < n; k++)
        if (lab[k] == l) return k;
    return -1;
}

/* r = a (x) b keeping the labels in keep: GEMM for contracted labels,
 * broadcasting multiply otherwise. */
static tg_status pair(const ein_op *a, const ein_op *b, const uint64_t *keep, ein_op *r) {
    int bat[TG_MAX_DIMS], fa[TG_MAX_DIMS], fb[TG_MAX_DIMS], con[TG_MAX_DIMS];
    int nbat = 0, nfa = 0, nfb = 0, ncon = 0;
    ein_op A = *a;
    /* A label of a alone that nobody keeps is summed first (defensive). */
    int sum_axes[TG_MAX_DIMS], ns = 0, k = 0;
    for (int p = 0; p < A.nl; p++) {
        if (index_of(b->lab, b->nl, A.lab[p]) < 0 && !BIT_HAS(keep, A.lab[p])) sum_axes[ns++] = p;
        else A.lab[k++] = A.lab[p];
    }
    if (ns) {
        A.t = tg_sum(A.t, ns, sum_axes, false);
        if (!A.t) return tg_last_error_code();
        A.nl = k;
    }
    ein_op B = *b;
    ns = k = 0;
    for (int p = 0; p < B.nl; p++) {
        if (index_of(A.lab, A.nl, B.lab[p]) < 0 && !BIT_HAS(keep, B.lab[p])) sum_axes[ns++] = p;
        else B.lab[k++] = B.lab[p];
    }
    if (ns) {
        B.t = tg_sum(B.t, ns, sum_axes, false);
        if (!B.t) return tg_last_error_code();
        B.nl = k;
    }
    for (int p = 0; p < A.nl; p++) {
        int l = A.lab[p];
        if (index_of(B.lab, B.nl, l) < 0) fa[nfa++] = l;
        else if (BIT_HAS(keep, l)) bat[nbat++] = l;
        else con[ncon++] = l;
    }
    for (int p = 0; p < B.nl; p++)
        if (index_of(A.lab, A.nl, B.lab[p]) < 0) fb[nfb++] = B.lab[p];
    if (nbat + nfa + nfb > TG_MAX_DIMS)
        return tg__error(TG_ERR_SHAPE, "einsum: an intermediate would have %d dimensions (at most %d)",
                         nbat + nfa + nfb, TG_MAX_DIMS);
    int pa[TG_MAX_DIMS], pb[TG_MAX_DIMS], n = 0, m = 0;
    r->nl = 0;
    for (int q = 0; q < nbat; q++) r->lab[r->nl++] = bat[q];
    for (int q = 0; q < nfa; q++) r->lab[r->nl++] = fa[q];
    for (int q = 0; q < nfb; q++) r->lab[r->nl++] = fb[q];
    for (int q = 0; q < nbat; q++) { pa[n++] = index_of(A.lab, A.nl, bat[q]); pb[m++] = index_of(B.lab, B.nl, bat[q]); }
    for (int q = 0; q < nfa; q++) pa[n++] = index_of(A.lab, A.nl, fa[q]);
    if (ncon == 0) {
        /* Outer product / elementwise: (bat, fa, 1..) * (bat, 1.., fb). */
        for (int q = 0; q < nfb; q++) pb[m++] = index_of(B.lab, B.nl, fb[q]);
        tg_tensor *ta = tg_permute(A.t, pa), *tb = tg_permute(B.t, pb);
        if (!ta || !tb) return tg_last_error_code();
        int64_t sa[TG_MAX_DIMS], sb[TG_MAX_DIMS];
        int ra = 0, rb = 0;
        for (int q = 0; q < nbat; q++) { sa[ra++] = tg_dim(ta, q); sb[rb++] = tg_dim(tb, q); }
        for (int q = 0; q < nfa; q++) { sa[ra++] = tg_dim(ta, nbat + q); sb[rb++] = 1; }
        for (int q = 0; q < nfb; q++) { sa[ra++] = 1; sb[rb++] = tg_dim(tb, nbat + q); }
        if (ra != nbat + nfa) ta = tg_reshape(ta, ra, sa);
        if (rb != nbat + nfb) tb = tg_reshape(tb, rb, sb);
        r->t = tg_mul(ta, tb);
        return r->t ? TG_OK : tg_last_error_code();
    }
    for (int q = 0; q < ncon; q++) { pa[n++] = index_of(A.lab, A.nl, con[q]); pb[m++] = index_of(B.lab, B.nl, con[q]); }
    for (int q = 0; q < nfb; q++) pb[m++] = index_of(B.lab, B.nl, fb[q]);
    tg_tensor *ta = tg_permute(A.t, pa), *tb = tg_permute(B.t, pb);
    if (!ta || !tb) return tg_last_error_code();
    int ia[TG_MAX_DIMS];
    for (int q = 0; q < TG_MAX_DIMS; q++) ia[q] = q;
    int64_t out_shape[TG_MAX_DIMS];
    int ro = 0;
    for (int q = 0; q < nbat + nfa; q++) out_shape[ro++] = tg_dim(ta, q);
    for (int q = 0; q < nfb; q++) out_shape[ro++] = tg_dim(tb, nbat + ncon + q);
    int64_t s3a[3] = {prod_dims(ta, ia, nbat), prod_dims(ta, ia + nbat, nfa), prod_dims(ta, ia + nbat + nfa, ncon)};
    int64_t s3b[3] = {s3a[0], s3a[2], prod_dims(tb, ia + nbat + ncon, nfb)};
    ta = tg_reshape(ta, 3, s3a);
    tb = tg_reshape(tb, 3, s3b);
    tg_tensor *mm = tg_matmul(ta, tb);
    if (!mm) return tg_last_error_code();
    r->t = tg_reshape(mm, ro, out_shape);
    return r->t ? TG_OK : tg_last_error_code();
}

void tg__ein_sets_of(const tg_ein_spec *s, tg_ein_sets *out) {
    memset(out, 0, sizeof *out);
    out->n = s->n;
    int owners[TG_EIN_MAX_LABELS] = {0};
    for (int i = 0; i < s->n; i++) {
        uint64_t seen[2] = {0, 0};
        for (int a = 0; a < s->rank[i]; a++)
            if (!BIT_HAS(seen, s->lab[i][a])) { BIT_SET(seen, s->lab[i][a]); owners[s->lab[i][a]]++; }
    }
    for (int j = 0; j < s->n_out; j++) BIT_SET(out->out, s->out[j]);
    for (int i = 0; i < s->n; i++)
        for (int a = 0; a < s->rank[i]; a++) {
            int l = s->lab[i][a];
            if (owners[l] > 1 || BIT_HAS(out->out, l)) BIT_SET(out->set[i], l);
        }
    for (int l = 0; l < s->n_labels; l++)
        out->size[l] = tg_is_symbolic(s->size[l]) ? 8.0 : (double)s->size[l];
}

tg_tensor *tg__ein_contract(const tg_ein_spec *s, tg_tensor *const *ops, const int (*path)[2]) {
    int auto_path[TG_EIN_MAX_OPS][2];
    tg_ein_sets sets;
    tg__ein_sets_of(s, &sets);
    if (!path && s->n > 1) {
        double largest;
        tg__ein_path(&sets, TG_EIN_AUTO, auto_path, &largest);
        path = (const int (*)[2])auto_path;
    }
    tg_scope_begin();
    ein_op list[TG_EIN_MAX_OPS];
    int cnt = s->n;
    tg_tensor *res = NULL;
    for (int i = 0; i < s->n; i++)
        if (prepare(s, i, ops[i], &list[i])) goto done;
    for (int step = 0; step + 1 < s->n; step++) {
        int x = path[step][0], y = path[step][1];
        uint64_t keep[2] = {sets.out[0], sets.out[1]};
        for (int j = 0; j < cnt; j++)
            if (j != x && j != y)
                for (int q = 0; q < list[j].nl; q++) BIT_SET(keep, list[j].lab[q]);
        ein_op r;
        if (pair(&list[x], &list[y], keep, &r)) goto done;
        int k = 0;
        for (int j = 0; j < cnt; j++)
            if (j != x && j != y) list[k++] = list[j];
        list[k++] = r;
        cnt = k;
    }
    {
        ein_op *f = &list[0];
        int perm[TG_MAX_DIMS];
        for (int j = 0; j < s->n_out; j++) perm[j] = index_of(f->lab, f->nl, s->out[j]);
        res = tg_permute(f->t, perm);
        if (res) tg_keep(res);
    }
done:
    tg_scope_end();
    return res;
}

/* The operand list of both entry points: 1..TG_EIN_MAX_OPS tensors, none
 * NULL (arrays_ok: the caller's other arrays are non-NULL). */
static bool check_operands(int n, tg_tensor *const *operands, bool arrays_ok) {
    if (n < 1 || n > TG_EIN_MAX_OPS || !operands || !arrays_ok) {
        tg__error(TG_ERR_ARG, "einsum: operand count %d out of range 1..%d%s", n, TG_EIN_MAX_OPS,
                  arrays_ok ? "" : " (or NULL arrays)");
        return false;
    }
    for (int i = 0; i < n; i++)
        if (!operands[i]) { tg__error(TG_ERR_ARG, "einsum: operand %d is NULL", i); return false; }
    return true;
}

tg_tensor *tg_einsum(const char *subscripts, int n, tg_tensor *const *operands) {
    if (!check_operands(n, operands, true)) return NULL;
    tg_ein_term *t = malloc(sizeof(tg_ein_term) * (size_t)(n + 1));
    tg_ein_spec *s = malloc(sizeof *s);
    tg_tensor *res = NULL;
    bool has_out;
    if (!t || !s) tg__error(TG_ERR_MEMORY, "einsum: out of memory");
    else if (!tg__ein_parse(subscripts, n, t, &t[n], &has_out) &&
        !tg__ein_build(n, operands, t, &t[n], has_out, false, s))
        res = tg__ein_contract(s, operands, NULL);
    free(t);
    free(s);
    return res;
}

tg_tensor *tg_einsum_ints(int n, tg_tensor *const *operands, const int *const *labels, const int *n_labels,
                          const int *out_labels, int n_out) {
    if (!check_operands(n, operands, labels && n_labels)) return NULL;
    tg_ein_term *t = malloc(sizeof(tg_ein_term) * (size_t)(n + 1));
    tg_ein_spec *s = malloc(sizeof *s);
    tg_tensor *res = NULL;
    if (!t || !s) { tg__error(TG_ERR_MEMORY, "einsum: out of memory"); goto out; }
    for (int i = 0; i <= n; i++) {
        int cnt = i < n ? n_labels[i] : (n_out < 0 ? 0 : n_out);
        const int *src = i < n ? labels[i] : out_labels;
        if (cnt < 0 || cnt > TG_EIN_MAX_LABELS || (cnt > 0 && !src)) {
            tg__error(TG_ERR_ARG, "einsum: bad label list for %s %d", i < n ? "operand" : "the output", i < n ? i : 0);
            goto out;
        }
        t[i].n = cnt;
        for (int k = 0; k < cnt; k++) {
            if (src[k] < 0) {
                tg__error(TG_ERR_ARG, "einsum: negative label %d in %s", src[k], i < n ? "an operand" : "the output");
                goto out;
            }
            t[i].lab[k] = src[k];
        }
    }
    if (!tg__ein_build(n, operands, t, &t[n], n_out >= 0, true, s)) res = tg__ein_contract(s, operands, NULL);
out:
    free(t);
    free(s);
    return res;
}
