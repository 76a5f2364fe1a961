/* Einsum subscripts: NumPy's grammar ("ij,jk->ik", implicit output, "..."),
 * checked against the operands (ranks, label sizes with size-1 broadcast). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einsum/einsum_impl.h"
#include "tensor/tensor_impl.h"
#include "tangent/sizes.h"

static bool is_label(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* One UTF-8 code point at p (a lead byte >= 0x80): its value, or -1 for a
 * malformed sequence (bad lead or continuation byte, overlong form,
 * surrogate, past U+10FFFF). *len gets the bytes used. */
static int utf8_decode(const unsigned char *p, int *len) {
    int n, cp;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) { n = 2; cp = p[0] & 0x1f; }
    else if (p[0] >= 0xe0 && p[0] <= 0xef) { n = 3; cp = p[0] & 0x0f; }
    else if (p[0] >= 0xf0 && p[0] <= 0xf4) { n = 4; cp = p[0] & 0x07; }
    else return -1;
    for (int k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80) return -1;   /* also stops at the terminating NUL */
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *len = n;
    return cp;
}

static int utf8_encode(int cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xc0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12); out[1] = (char)(0x80 | (cp >> 6 & 0x3f)); out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18); out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f)); out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

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
        if ((unsigned char)*p >= 0x80) {
            int len = 0, cp = utf8_decode((const unsigned char *)p, &len);
            if (cp < 0)
                return tg__error(TG_ERR_ARG, "einsum: malformed UTF-8 (byte 0x%02x) in %s", (unsigned char)*p, what);
            if (t->n >= TG_EIN_MAX_LABELS) return tg__error(TG_ERR_ARG, "einsum: too many labels in %s", what);
            t->lab[t->n++] = cp;
            p += len;
            continue;
        }
        if (!is_label(*p)) {
            if (*p == '-' || *p == '>')
                return tg__error(TG_ERR_ARG, "einsum: malformed \"->\" in the subscripts");
            return tg__error(TG_ERR_ARG, "einsum: invalid character '%c' (0x%02x) in %s: labels are a-z, A-Z and non-ASCII characters",
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
    else {
        char u[5];
        int k = utf8_encode(s->name[id], u);
        u[k] = 0;
        snprintf(buf, n, "%s", u);
    }
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
            {
                char u[5];
                int len = l >= 0 ? utf8_encode(l, u) : 0;
                u[len] = 0;
                return tg__error(TG_ERR_ARG, "einsum: output label %s appears in no operand", u);
            }
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

/* The operand list of both entry forms: 1..TG_EIN_MAX_OPS tensors, none
 * NULL (arrays_ok: the caller's other arrays are non-NULL). */
static tg_status check_operands(int n, tg_tensor *const *operands, bool arrays_ok) {
    if (n < 1 || n > TG_EIN_MAX_OPS || !operands || !arrays_ok)
        return tg__error(TG_ERR_ARG, "einsum: operand count %d out of range 1..%d%s", n, TG_EIN_MAX_OPS,
                         arrays_ok ? "" : " (or NULL arrays)");
    for (int i = 0; i < n; i++)
        if (!operands[i]) return tg__error(TG_ERR_ARG, "einsum: operand %d is NULL", i);
    return TG_OK;
}

tg_status tg__ein_spec_str(const char *subscripts, int n, tg_tensor *const *ops, tg_ein_spec *s) {
    tg_status st = check_operands(n, ops, true);
    if (st) return st;
    tg_ein_term *t = malloc(sizeof(tg_ein_term) * (size_t)(n + 1));
    if (!t) return tg__error(TG_ERR_MEMORY, "einsum: out of memory");
    bool has_out;
    st = tg__ein_parse(subscripts, n, t, &t[n], &has_out);
    if (!st) st = tg__ein_build(n, ops, t, &t[n], has_out, false, s);
    free(t);
    return st;
}

tg_status tg__ein_spec_ints(int n, tg_tensor *const *ops, const int *const *labels, const int *n_labels,
                            const int *out_labels, int n_out, tg_ein_spec *s) {
    tg_status st = check_operands(n, ops, labels && n_labels);
    if (st) return st;
    tg_ein_term *t = malloc(sizeof(tg_ein_term) * (size_t)(n + 1));
    if (!t) return tg__error(TG_ERR_MEMORY, "einsum: out of memory");
    for (int i = 0; i <= n && !st; i++) {
        int cnt = i < n ? n_labels[i] : (n_out < 0 ? 0 : n_out);
        const int *src = i < n ? labels[i] : out_labels;
        if (cnt < 0 || cnt > TG_EIN_MAX_LABELS || (cnt > 0 && !src)) {
            st = tg__error(TG_ERR_ARG, "einsum: bad label list for %s %d", i < n ? "operand" : "the output",
                           i < n ? i : 0);
            break;
        }
        t[i].n = cnt;
        for (int k = 0; k < cnt && !st; k++) {
            if (src[k] < 0)
                st = tg__error(TG_ERR_ARG, "einsum: negative label %d in %s", src[k],
                               i < n ? "an operand" : "the output");
            else t[i].lab[k] = src[k];
        }
    }
    if (!st) st = tg__ein_build(n, ops, t, &t[n], n_out >= 0, true, s);
    free(t);
    return st;
}
