/* The label orders of one pairwise contraction (DESIGN.md section 6:
 * permute only what must be permuted).
 *
 * r = a (x) b runs as one batched GEMM: X read as (bat, f1, con), Y as
 * (bat, con, f2), r = (bat, f1, f2) row-major, where (X, Y) is (a, b) or
 * (b, a). An operand is read without a copy when each of its three groups
 * is one stride run (a view merges it into one axis) and its matrix part
 * has a unit stride (BLAS reads it, maybe transposed); otherwise it is
 * copied whole. The order of the labels inside each group and which
 * operand goes first are free, so the choice minimises the elements
 * copied: this step's two operands, plus the result at the step that reads
 * it next when the operand it meets there exists already (its label order
 * is then known). An MPS site shows why the last term matters: E(x, y)
 * A(p, x, f) must copy A, and only the result order (f, p, y) lets the next
 * step read both it and B(p, y, e) as they are. */
#include <string.h>

#include "einsum/einsum_impl.h"
#include "tensor/ops/blas_view.h"
#include "tensor/tensor_impl.h"
#include "tangent/sizes.h"

/* Element stride of each of o's labels (row-major for a flat o); false when
 * they are not known (a tracer, a symbolic size). */
static bool label_strides(const tg_ein_spec *s, const ein_op *o, int64_t *st) {
    if (tg__is_tracer(o->t)) return false;
    for (int k = 0; k < o->nl; k++)
        if (tg_is_symbolic(s->size[o->lab[k]])) return false;
    if (o->flat) {
        int64_t run = 1;
        for (int k = o->nl - 1; k >= 0; k--) { st[k] = run; run *= s->size[o->lab[k]]; }
    } else {
        for (int k = 0; k < o->nl; k++) st[k] = o->t->strides[k];
    }
    return true;
}

/* A group as one axis of a view of o: its size and stride, or false when
 * its labels (size-1 ones aside) do not merge. */
static bool merged(const tg_ein_spec *s, const ein_op *o, const int64_t *st, const int *g, int n, int64_t *size,
                   int64_t *stride) {
    *size = 1;
    *stride = 0;
    int64_t next = -1;                       /* the stride the next label must have */
    for (int k = n - 1; k >= 0; k--) {
        int64_t z = s->size[g[k]];
        if (z == 1) continue;
        int64_t t = st[ein_index_of(o->lab, o->nl, g[k])];
        if (next >= 0 && t != next) return false;
        if (next < 0) *stride = t;
        next = t * z;
        *size *= z;
    }
    return true;
}

/* Elements copied to read o as (bat, rows, cols) groups. */
static int64_t copy_cost(const tg_ein_spec *s, const ein_op *o, const int64_t *st, const int *bat, int nbat,
                         const int *rows, int nr, const int *cols, int nc) {
    int64_t bz, bs, rz, rs, cz, cs;
    if (merged(s, o, st, bat, nbat, &bz, &bs) && merged(s, o, st, rows, nr, &rz, &rs) &&
        merged(s, o, st, cols, nc, &cz, &cs) && tg__blas_layout(rz, cz, rs, cs).ok)
        return 0;
    return ein_labels_size(s, o->lab, o->nl);
}

/* Whether the labels g (size-1 ones aside) sit next to each other in lab,
 * in this order. */
static bool one_run(const tg_ein_spec *s, const int *lab, int nl, const int *g, int n) {
    int last = -1;
    for (int k = 0; k < n; k++) {
        if (s->size[g[k]] == 1) continue;
        int p = ein_index_of(lab, nl, g[k]);
        if (last >= 0) {
            int q = last + 1;
            while (q < p && s->size[lab[q]] == 1) q++;
            if (q != p) return false;
        }
        last = p;
    }
    return true;
}

/* Elements the result (labels r) costs at the step that reads it next,
 * against partner: nothing when the labels it shares with partner (in
 * partner's order) and the others (in r's order) are each one run. */
static int64_t next_cost(const tg_ein_spec *s, const int *r, int nr, const ein_op *partner) {
    if (!partner) return 0;
    int h[TG_EIN_MAX_RANK], o[TG_EIN_MAX_RANK], nh = 0, no = 0;
    for (int k = 0; k < partner->nl; k++)
        if (ein_index_of(r, nr, partner->lab[k]) >= 0) h[nh++] = partner->lab[k];
    for (int k = 0; k < nr; k++)
        if (ein_index_of(partner->lab, partner->nl, r[k]) < 0) o[no++] = r[k];
    if (one_run(s, r, nr, h, nh) && one_run(s, r, nr, o, no)) return 0;
    return ein_labels_size(s, r, nr);
}

/* g's labels ordered as src lists them. */
static void order_as(int *g, int n, const int *src, int nsrc) {
    int k = 0;
    for (int q = 0; q < nsrc; q++)
        if (ein_index_of(g, n, src[q]) >= 0) {
            /* move src[q] to slot k, keeping the rest's order */
            int p = ein_index_of(g, n, src[q]);
            int l = g[p];
            memmove(g + k + 1, g + k, sizeof(int) * (size_t)(p - k));
            g[k++] = l;
        }
}

/* g reordered so that its labels shared with the partner come last
 * (tail true) or first, in the partner's order. */
static void toward(int *g, int n, const ein_op *partner, bool tail) {
    int in[TG_EIN_MAX_RANK], out[TG_EIN_MAX_RANK], ni = 0, no = 0;
    for (int k = 0; k < partner->nl; k++)
        if (ein_index_of(g, n, partner->lab[k]) >= 0) in[ni++] = partner->lab[k];
    for (int k = 0; k < n; k++)
        if (ein_index_of(partner->lab, partner->nl, g[k]) < 0) out[no++] = g[k];
    memcpy(tail ? g : g + ni, out, sizeof(int) * (size_t)no);
    memcpy(tail ? g + no : g, in, sizeof(int) * (size_t)ni);
}

/* n labels from src to dst (src may be NULL when n is 0). */
static void put(int *dst, const int *src, int n) {
    if (n > 0) memcpy(dst, src, sizeof(int) * (size_t)n);
}

/* A group's order variants: [0] as given, [1] another; n_var 1 or 2. */
typedef struct {
    int n, n_var;
    int v[2][TG_EIN_MAX_RANK];
} variants;

static void variants_of(variants *g, const int *given, int n) {
    g->n = n;
    g->n_var = 1;
    put(g->v[0], given, n);
    put(g->v[1], given, n);
}
static void keep_if_new(variants *g) {
    if (memcmp(g->v[0], g->v[1], sizeof(int) * (size_t)g->n)) g->n_var = 2;
}

void tg__ein_layout(const tg_ein_spec *s, const ein_op *a, const ein_op *b, const ein_op *lead, const ein_op *partner,
                    tg_ein_layout *out) {
    int nbat = out->nbat, ncon = out->ncon;
    int64_t sta[TG_EIN_MAX_RANK], stb[TG_EIN_MAX_RANK];
    if (!label_strides(s, a, sta) || !label_strides(s, b, stb)) return;
    /* the variants, built from the default in *out before it is rewritten:
     * shared labels in the other operand's order; a free group with the
     * labels it shares with the partner moved next to the other group (to
     * the end of the first group, the start of the second) */
    const ein_op *other = lead == a ? b : a;
    variants vb, vc, first[2], second[2];      /* first/second: [0] a's free labels, [1] b's */
    variants_of(&vb, out->bat, nbat);
    order_as(vb.v[1], nbat, other->lab, other->nl);
    keep_if_new(&vb);
    variants_of(&vc, out->con, ncon);
    order_as(vc.v[1], ncon, other->lab, other->nl);
    keep_if_new(&vc);
    for (int w = 0; w < 2; w++) {
        variants_of(&first[w], w ? out->f2 : out->f1, w ? out->n2 : out->n1);
        variants_of(&second[w], w ? out->f2 : out->f1, w ? out->n2 : out->n1);
        if (!partner) continue;
        toward(first[w].v[1], first[w].n, partner, true);
        keep_if_new(&first[w]);
        toward(second[w].v[1], second[w].n, partner, false);
        keep_if_new(&second[w]);
    }
    /* cheapest changes first (ties keep the earlier): the operands swapped,
     * then the shared labels reordered, then the free groups */
    int64_t best = -1;
    for (int i2 = 0; i2 < 2; i2++)
        for (int i1 = 0; i1 < 2; i1++)
            for (int ib = 0; ib < vb.n_var; ib++)
                for (int ic = 0; ic < vc.n_var; ic++)
                    for (int swap = 0; swap < 2; swap++) {
                        const variants *g1 = &first[swap], *g2 = &second[!swap];
                        if (i1 >= g1->n_var || i2 >= g2->n_var) continue;
                        const ein_op *X = swap ? b : a, *Y = swap ? a : b;
                        const int64_t *sx = swap ? stb : sta, *sy = swap ? sta : stb;
                        const int *cb = vb.v[ib], *cc = vc.v[ic], *c1 = g1->v[i1], *c2 = g2->v[i2];
                        int r[TG_EIN_MAX_RANK], nr = 0;
                        for (int k = 0; k < nbat; k++) r[nr++] = cb[k];
                        for (int k = 0; k < g1->n; k++) r[nr++] = c1[k];
                        for (int k = 0; k < g2->n; k++) r[nr++] = c2[k];
                        int64_t cost = copy_cost(s, X, sx, cb, nbat, c1, g1->n, cc, ncon) +
                                       copy_cost(s, Y, sy, cb, nbat, cc, ncon, c2, g2->n) +
                                       next_cost(s, r, nr, partner);
                        if (best >= 0 && cost >= best) continue;
                        best = cost;
                        out->swap = swap;
                        out->n1 = g1->n;
                        out->n2 = g2->n;
                        put(out->bat, cb, nbat);
                        put(out->con, cc, ncon);
                        put(out->f1, c1, g1->n);
                        put(out->f2, c2, g2->n);
                        if (cost == 0) return;
                    }
}
