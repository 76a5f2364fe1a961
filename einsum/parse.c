/* Einsum subscripts: NumPy's grammar ("ij,jk->ik", implicit output, "..."),
 * checked against the operands (ranks, label sizes with size-1 broadcast). */
#include <stdio.h>
#include <string.h>

#include "einsum/einsum_impl.h"
#include "tensor/tensor_impl.h"
#include "tangent/sizes.h"

static bool is_label(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* One term from p up to a ',' / "->" / end; advances *pp. */
static tg_status parse_term(const char **pp, tg_ein_term *t, int idx) {
    char what[32];   /* "operand 2" or "the output" */
    if (idx >= 0) snprintf(what, sizeof what, "operand %d", idx);
    else snprintf(what, sizeof what, "the output");
    const char *p = *pp;
    t->n = 0;
    bool ell = false;
    while (*p && *p != ',' && !(p[0] == '-' && p[1] == '>')) {
        if (*p == ' ') { p++; continue; }
        if (*p == '.') {
            if (strncmp(p, "...", 3) != 0)
                return tg__error(TG_ERR_ARG, "einsum: malformed \"...\" in %s (a '.' must be part of \"...\")", what);
            if (ell) return tg__error(TG_ERR_ARG, "einsum: more than one \"...\" in %s", what);
            ell = true;
            if (t->n >= TG_EIN_MAX_LABELS) return tg__error(TG_ERR_ARG, "einsum: too many labels in %s", what);
            t->lab[t->n++] = TG_EIN_ELL;
            p += 3;
            continue;
        }
        if (!is_label(*p)) {
            if (*p == '-' || *p == '>')
                return tg__error(TG_ERR_ARG, "einsum: malformed \"->\" in the subscripts");
            return tg__error(TG_ERR_ARG, "einsum: invalid character '%c' (0x%02x) in %s: labels are a-z and A-Z",
                             (*p >= 32 && *p < 127) ? *p : '?', (unsigned char)*p, what);
        }
        if (t->n >= TG_EIN_MAX_LABELS) return tg__error(TG_ERR_ARG, "einsum: too many labels in %s", what);
        t->lab[t->n++] = (unsigned char)*p;
        p++;
    }
    *pp = p;
    return TG_OK;
}

tg_status tg__ein_parse(const char *sub, int n, tg_ein_term *terms, tg_ein_term *out, bool *has_out) {
    if (!sub) return tg__error(TG_ERR_ARG, "einsum: subscripts is NULL");
    const char *arrow = strstr(sub, "->");
    if (arrow && strstr(arrow + 2, "->")) return tg__error(TG_ERR_ARG, "einsum: more than one \"->\" in \"%s\"", sub);
    int count = 1;
    for (const char *q = sub; *q && (!arrow || q < arrow); q++) count += *q == ',';
    if (count != n)
        return tg__error(TG_ERR_ARG, "einsum: \"%s\" has %d operand term%s but %d operand%s were given", sub, count,
                         count == 1 ? "" : "s", n, n == 1 ? "" : "s");
    const char *p = sub;
    for (int i = 0; i < n; i++) {
        tg_status st = parse_term(&p, &terms[i], i);
        if (st) return st;
        if (i + 1 < n) {
            if (*p != ',') return tg__error(TG_ERR_ARG, "einsum: malformed subscripts \"%s\"", sub);
            p++;
        }
    }
    *has_out = false;
    out->n = 0;
    if (p[0] == '-' && p[1] == '>') {
        p += 2;
        *has_out = true;
        tg_status st = parse_term(&p, out, -1);
        if (st) return st;
        if (*p == ',') return tg__error(TG_ERR_ARG, "einsum: ',' in the output of \"%s\"", sub);
    }
    if (*p) return tg__error(TG_ERR_ARG, "einsum: malformed subscripts \"%s\"", sub);
    return TG_OK;
}

const char *tg__ein_label_name(const tg_ein_spec *s, int id, char *buf, size_t n) {
    if (id < s->n_ell || s->name[id] < 0) snprintf(buf, n, "...");
    else if (s->int_labels) snprintf(buf, n, "%d", s->name[id]);
    else snprintf(buf, n, "%c", (char)s->name[id]);
    return buf;
}

static int find_name(const tg_ein_spec *s, int name) {
    for (int k = s->n_ell; k < s->n_labels; k++)
        if (s->name[k] == name) return k;
    return -1;
}

/* Size of label id seen as sz in operand i: equal, or either 1 (broadcast). */
static tg_status merge_size(tg_ein_spec *s, int id, int64_t sz, int i, int64_t *first_op) {
    int64_t cur = s->size[id];
    if (cur < 0 || cur == 1) {
        if (cur < 0 || sz != 1) { s->size[id] = sz; first_op[id] = i; }
        return TG_OK;
    }
    if (sz == 1 || sz == cur) return TG_OK;
    char nb[32], a[64], b[64];
    tg__ein_label_name(s, id, nb, sizeof nb);
    tg__fmt_size(a, sizeof a, cur);
    tg__fmt_size(b, sizeof b, sz);
    return tg__error(TG_ERR_SHAPE, "einsum: label %s has size %s in operand %lld and %s in operand %d", nb, a,
                     (long long)first_op[id], b, i);
}

tg_status tg__ein_build(int n, tg_tensor *const *ops, const tg_ein_term *terms, const tg_ein_term *out,
                        bool has_out, bool int_labels, tg_ein_spec *s) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->int_labels = int_labels;
    if (n < 1) return tg__error(TG_ERR_ARG, "einsum: needs at least one operand");
    if (n > TG_EIN_MAX_OPS) return tg__error(TG_ERR_ARG, "einsum: at most %d operands (got %d)", TG_EIN_MAX_OPS, n);
    /* Ellipsis ranks. */
    int ell_rank[TG_EIN_MAX_OPS];
    int n_ell = 0;
    for (int i = 0; i < n; i++) {
        if (!ops[i]) return tg__error(TG_ERR_ARG, "einsum: operand %d is NULL", i);
        if (tg_dtype_of(ops[i]) == TG_BOOL)
            return tg__error(TG_ERR_DTYPE, "einsum: operand %d is bool, not supported yet (cast it to an integer or "
                             "floating dtype)", i);
        int nd = tg_ndim(ops[i]), named = 0;
        bool ell = false;
        for (int k = 0; k < terms[i].n; k++) {
            if (terms[i].lab[k] == TG_EIN_ELL) ell = true;
            else named++;
        }
        if (ell ? named > nd : named != nd)
            return tg__error(TG_ERR_SHAPE, "einsum: operand %d has %d dimension%s but its term has %d label%s%s", i, nd,
                             nd == 1 ? "" : "s", named, named == 1 ? "" : "s", ell ? " and \"...\"" : "");
        ell_rank[i] = ell ? nd - named : 0;
        if (ell_rank[i] > n_ell) n_ell = ell_rank[i];
    }
    s->n_ell = n_ell;
    s->n_labels = n_ell;
    int64_t first_op[TG_EIN_MAX_LABELS];
    for (int k = 0; k < TG_EIN_MAX_LABELS; k++) { s->size[k] = -1; s->name[k] = -1; }
    for (int i = 0; i < n; i++) {
        const int64_t *sh = tg_shape(ops[i]);
        int ax = 0;
        for (int k = 0; k < terms[i].n; k++) {
            int l = terms[i].lab[k];
            if (l == TG_EIN_ELL) {
                for (int e = 0; e < ell_rank[i]; e++, ax++) {
                    int id = n_ell - ell_rank[i] + e;
                    s->lab[i][ax] = id;
                    tg_status st = merge_size(s, id, sh[ax], i, first_op);
                    if (st) return st;
                }
                continue;
            }
            if (l < 0) return tg__error(TG_ERR_ARG, "einsum: negative label %d in operand %d", l, i);
            int id = find_name(s, l);
            if (id < 0) {
                if (s->n_labels >= TG_EIN_MAX_LABELS)
                    return tg__error(TG_ERR_ARG, "einsum: more than %d distinct labels", TG_EIN_MAX_LABELS);
                id = s->n_labels++;
                s->name[id] = l;
            }
            /* A label repeated within one operand is a diagonal: equal sizes. */
            for (int q = 0; q < ax; q++)
                if (s->lab[i][q] == id && sh[q] != sh[ax]) {
                    char nb[32], a[64], b[64];
                    return tg__error(TG_ERR_SHAPE, "einsum: label %s repeated in operand %d with sizes %s and %s",
                                     tg__ein_label_name(s, id, nb, sizeof nb), i, tg__fmt_size(a, sizeof a, sh[q]),
                                     tg__fmt_size(b, sizeof b, sh[ax]));
                }
            s->lab[i][ax] = id;
            tg_status st = merge_size(s, id, sh[ax], i, first_op);
            if (st) return st;
            ax++;
        }
        s->rank[i] = ax;
    }
    /* Output. */
    int count[TG_EIN_MAX_LABELS] = {0};
    for (int i = 0; i < n; i++)
        for (int a = 0; a < s->rank[i]; a++) count[s->lab[i][a]]++;
    s->n_out = 0;
    if (has_out) {
        bool seen[TG_EIN_MAX_LABELS] = {false}, ell = false;
        for (int k = 0; k < out->n; k++) ell |= out->lab[k] == TG_EIN_ELL;
        if (n_ell > 0 && !ell)
            return tg__error(TG_ERR_ARG, "einsum: the operands have %d broadcast (\"...\") dimension%s but the "
                             "output has no \"...\"", n_ell, n_ell == 1 ? "" : "s");
        for (int k = 0; k < out->n; k++) {
            int l = out->lab[k];
            if (l == TG_EIN_ELL) {
                if (s->n_out + n_ell > TG_MAX_DIMS) goto too_many;
                for (int e = 0; e < n_ell; e++) s->out[s->n_out++] = e;
                continue;
            }
            char nb[32];
            int id = l >= 0 ? find_name(s, l) : -1;
            if (id < 0) {
                if (int_labels) return tg__error(TG_ERR_ARG, "einsum: output label %d appears in no operand", l);
                return tg__error(TG_ERR_ARG, "einsum: output label %c appears in no operand", (char)l);
            }
            if (seen[id])
                return tg__error(TG_ERR_ARG, "einsum: output label %s appears more than once in the output",
                                 tg__ein_label_name(s, id, nb, sizeof nb));
            seen[id] = true;
            if (s->n_out >= TG_MAX_DIMS) goto too_many;
            s->out[s->n_out++] = id;
        }
    } else {
        for (int e = 0; e < n_ell; e++) s->out[s->n_out++] = e;
        /* Labels seen once, in alphabetical (character / integer) order. */
        int once[TG_EIN_MAX_LABELS], m = 0;
        for (int id = n_ell; id < s->n_labels; id++)
            if (count[id] == 1) {
                int j = m++;
                while (j > 0 && s->name[once[j - 1]] > s->name[id]) { once[j] = once[j - 1]; j--; }
                once[j] = id;
            }
        for (int k = 0; k < m; k++) {
            if (s->n_out >= TG_MAX_DIMS) goto too_many;
            s->out[s->n_out++] = once[k];
        }
    }
    return TG_OK;
too_many:
    return tg__error(TG_ERR_SHAPE, "einsum: the output would have more than %d dimensions", TG_MAX_DIMS);
}
