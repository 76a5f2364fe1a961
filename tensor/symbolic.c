/* Symbolic sizes: polynomials with int64 coefficients over atoms (named
 * symbols and floor-division atoms), kept in a normal form (terms sorted by
 * monomial, like terms combined, zero terms dropped) and interned, so that
 * equal expressions are equal handles. See include/tangent/sizes.h. */
#include "tensor/tensor_impl.h"
#include "tangent/sizes.h"
#include "tensor/symbolic_io.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TERMS 16
#define MAX_FACTORS 6
#define MAX_DEGREE 8
#define MAX_NAME 32

typedef struct { int atom, exp; } factor;
typedef struct { int64_t coef; int nf; factor f[MAX_FACTORS]; } term;
typedef struct { int nt; term t[MAX_TERMS]; } poly;

typedef struct {
    bool is_div;                  /* floor(num / den) */
    char name[MAX_NAME];
    int64_t num, den;             /* sizes (plain or handles) */
} atom;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atom *atoms;
static int n_atoms, cap_atoms;
static poly *exprs;
static int n_exprs, cap_exprs;

bool tg_is_symbolic(int64_t size) { return size >= TG_SYM_BASE && size - TG_SYM_BASE < n_exprs; }

/* ---- normal form ------------------------------------------------------------ */
static int cmp_monomial(const term *a, const term *b) {
    for (int i = 0; i < a->nf && i < b->nf; i++) {
        if (a->f[i].atom != b->f[i].atom) return a->f[i].atom < b->f[i].atom ? -1 : 1;
        if (a->f[i].exp != b->f[i].exp) return a->f[i].exp < b->f[i].exp ? -1 : 1;
    }
    return a->nf - b->nf;
}

static int cmp_term(const void *x, const void *y) {
    const term *a = x, *b = y;
    /* higher degree first reads naturally: 2*N*C + N + 1 */
    int da = 0, db = 0;
    for (int i = 0; i < a->nf; i++) da += a->f[i].exp;
    for (int i = 0; i < b->nf; i++) db += b->f[i].exp;
    if (da != db) return db - da;
    return cmp_monomial(a, b);
}

/* Sorts terms, merges like ones, drops zeros. false on overflow. */
static bool normalize(poly *p) {
    qsort(p->t, (size_t)p->nt, sizeof(term), cmp_term);
    int w = 0;
    for (int r = 0; r < p->nt; r++) {
        if (w > 0 && cmp_monomial(&p->t[w - 1], &p->t[r]) == 0) {
            if (__builtin_add_overflow(p->t[w - 1].coef, p->t[r].coef, &p->t[w - 1].coef)) return false;
        } else {
            p->t[w++] = p->t[r];
        }
        if (w > 0 && p->t[w - 1].coef == 0 && (r + 1 == p->nt || cmp_monomial(&p->t[w - 1], &p->t[r + 1]) != 0)) w--;
    }
    p->nt = w;
    return true;
}

static bool is_constant(const poly *p, int64_t *value) {
    if (p->nt == 0) { *value = 0; return true; }
    if (p->nt == 1 && p->t[0].nf == 0) { *value = p->t[0].coef; return true; }
    return false;
}

/* ---- tables (callers hold the lock) -------------------------------------------- */
/* Terms compare by their meaning: coefficient and the first nf factors.
 * (Factor slots past nf and struct padding hold whatever the arithmetic's
 * stack arrays held; a memcmp over them made equal expressions intern
 * twice, nondeterministically, so equal sizes compared unequal.) */
static bool same_terms(const poly *a, const poly *b) {
    if (a->nt != b->nt) return false;
    for (int i = 0; i < a->nt; i++) {
        const term *x = &a->t[i], *y = &b->t[i];
        if (x->coef != y->coef || x->nf != y->nf) return false;
        for (int k = 0; k < x->nf; k++)
            if (x->f[k].atom != y->f[k].atom || x->f[k].exp != y->f[k].exp) return false;
    }
    return true;
}

static int64_t intern(const poly *p) {
    int64_t v;
    if (is_constant(p, &v)) return v;
    for (int i = 0; i < n_exprs; i++)
        if (same_terms(&exprs[i], p)) return TG_SYM_BASE + i;
    if (n_exprs == cap_exprs) {
        int cap = cap_exprs ? 2 * cap_exprs : 64;
        poly *e = realloc(exprs, (size_t)cap * sizeof *e);
        if (!e) return tg__error(TG_ERR_MEMORY, "symbolic sizes: out of memory"), -1;
        exprs = e;
        cap_exprs = cap;
    }
    poly *slot = &exprs[n_exprs];
    memset(slot, 0, sizeof *slot);        /* stored canonically: unused slots zero */
    slot->nt = p->nt;
    for (int i = 0; i < p->nt; i++) {
        slot->t[i].coef = p->t[i].coef;
        slot->t[i].nf = p->t[i].nf;
        for (int k = 0; k < p->t[i].nf; k++) slot->t[i].f[k] = p->t[i].f[k];
    }
    return TG_SYM_BASE + n_exprs++;
}

static int add_atom(const atom *a) {
    for (int i = 0; i < n_atoms; i++) {
        const atom *b = &atoms[i];
        if (a->is_div == b->is_div &&
            (a->is_div ? a->num == b->num && a->den == b->den : strcmp(a->name, b->name) == 0))
            return i;
    }
    if (n_atoms == cap_atoms) {
        int cap = cap_atoms ? 2 * cap_atoms : 32;
        atom *na = realloc(atoms, (size_t)cap * sizeof *na);
        if (!na) return -1;
        atoms = na;
        cap_atoms = cap;
    }
    atoms[n_atoms] = *a;
    return n_atoms++;
}

static bool to_poly(int64_t v, poly *p) {
    memset(p, 0, sizeof *p);
    if (v >= TG_SYM_BASE) {
        if (v - TG_SYM_BASE >= n_exprs) return false;
        *p = exprs[v - TG_SYM_BASE];
        return true;
    }
    if (v != 0) { p->nt = 1; p->t[0].coef = v; }
    return true;
}

static int64_t atom_size(int id) {
    poly p = {.nt = 1};
    p.t[0] = (term){.coef = 1, .nf = 1, .f = {{id, 1}}};
    return intern(&p);
}

/* ---- arithmetic ----------------------------------------------------------------- */
static bool poly_add(const poly *a, const poly *b, int64_t sign, poly *out) {
    if (a->nt + b->nt > 2 * MAX_TERMS) return false;
    term all[2 * MAX_TERMS];
    int n = 0;
    for (int i = 0; i < a->nt; i++) all[n++] = a->t[i];
    for (int i = 0; i < b->nt; i++) {
        all[n] = b->t[i];
        if (__builtin_mul_overflow(all[n].coef, sign, &all[n].coef)) return false;
        n++;
    }
    /* normalise in a scratch big enough, then check the limit */
    qsort(all, (size_t)n, sizeof(term), cmp_term);
    poly r = {0};
    for (int i = 0; i < n; i++) {
        if (r.nt > 0 && cmp_monomial(&r.t[r.nt - 1], &all[i]) == 0) {
            if (__builtin_add_overflow(r.t[r.nt - 1].coef, all[i].coef, &r.t[r.nt - 1].coef)) return false;
        } else {
            if (r.nt > 0 && r.t[r.nt - 1].coef == 0) r.nt--;
            if (r.nt == MAX_TERMS) return false;
            r.t[r.nt++] = all[i];
        }
    }
    if (r.nt > 0 && r.t[r.nt - 1].coef == 0) r.nt--;
    *out = r;
    return true;
}

static bool term_mul(const term *a, const term *b, term *out) {
    term r = {0};
    if (__builtin_mul_overflow(a->coef, b->coef, &r.coef)) return false;
    int i = 0, j = 0;
    while (i < a->nf || j < b->nf) {
        factor f;
        if (j >= b->nf || (i < a->nf && a->f[i].atom < b->f[j].atom)) f = a->f[i++];
        else if (i >= a->nf || b->f[j].atom < a->f[i].atom) f = b->f[j++];
        else { f = a->f[i]; f.exp += b->f[j].exp; i++; j++; }
        if (r.nf == MAX_FACTORS) return false;
        r.f[r.nf++] = f;
    }
    int degree = 0;
    for (int k = 0; k < r.nf; k++) degree += r.f[k].exp;
    if (degree > MAX_DEGREE) return false;
    *out = r;
    return true;
}

static bool poly_mul(const poly *a, const poly *b, poly *out) {
    poly r = {0};
    for (int i = 0; i < a->nt; i++) {
        for (int j = 0; j < b->nt; j++) {
            term t;
            if (!term_mul(&a->t[i], &b->t[j], &t)) return false;
            poly one = {.nt = 1}, sum;
            one.t[0] = t;
            if (!poly_add(&r, &one, 1, &sum)) return false;
            r = sum;
        }
    }
    *out = r;
    return true;
}

/* a / d exactly, when the single term d divides every term of a. */
static bool poly_div_exact(const poly *a, const term *d, poly *out) {
    if (d->coef == 0) return false;
    poly r = *a;
    for (int i = 0; i < r.nt; i++) {
        term *t = &r.t[i];
        if (t->coef % d->coef) return false;
        t->coef /= d->coef;
        for (int k = 0; k < d->nf; k++) {
            int at = -1;
            for (int q = 0; q < t->nf; q++) if (t->f[q].atom == d->f[k].atom) at = q;
            if (at < 0 || t->f[at].exp < d->f[k].exp) return false;
            t->f[at].exp -= d->f[k].exp;
            if (t->f[at].exp == 0) {
                memmove(&t->f[at], &t->f[at + 1], (size_t)(t->nf - at - 1) * sizeof(factor));
                t->nf--;
                t->f[t->nf] = (factor){0, 0};     /* unused slots stay zero: interning compares bytes */
            }
        }
    }
    if (!normalize(&r)) return false;
    *out = r;
    return true;
}

typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV } size_op;

static int64_t combine(size_op op, int64_t a, int64_t b, const char *name) {
    if (a < 0 || b < 0 || (a >= TG_SYM_BASE && !tg_is_symbolic(a)) || (b >= TG_SYM_BASE && !tg_is_symbolic(b)))
        return tg__error(TG_ERR_ARG, "%s: %lld and %lld are not sizes", name, (long long)a, (long long)b), -1;
    if (a < TG_SYM_BASE && b < TG_SYM_BASE) {        /* plain sizes: plain arithmetic */
        int64_t r = 0;
        bool bad = false;
        switch (op) {
        case OP_ADD: bad = __builtin_add_overflow(a, b, &r); break;
        case OP_SUB: r = a - b;
                     if (r < 0) return tg__error(TG_ERR_SHAPE, "%s: %lld - %lld is a negative size", name,
                                                 (long long)a, (long long)b), -1;
                     break;
        case OP_MUL: bad = __builtin_mul_overflow(a, b, &r); break;
        case OP_DIV: if (b == 0) return tg__error(TG_ERR_ARG, "%s: division by zero", name), -1;
                     r = a / b; break;
        }
        if (bad || r >= TG_SYM_BASE) return tg__error(TG_ERR_SHAPE, "%s: size overflows", name), -1;
        return r;
    }
    pthread_mutex_lock(&lock);
    poly pa, pb, r;
    int64_t out = -1;
    bool ok = to_poly(a, &pa) && to_poly(b, &pb);
    if (ok) {
        switch (op) {
        case OP_ADD: ok = poly_add(&pa, &pb, 1, &r); break;
        case OP_SUB: ok = poly_add(&pa, &pb, -1, &r); break;
        case OP_MUL: ok = poly_mul(&pa, &pb, &r); break;
        case OP_DIV: {
            int64_t c;
            if (is_constant(&pb, &c) && c == 0) { ok = false; break; }
            if (pb.nt == 1 && poly_div_exact(&pa, &pb.t[0], &r)) break;
            atom at = {.is_div = true, .num = a, .den = b};
            int id = add_atom(&at);
            out = id < 0 ? -1 : atom_size(id);
            pthread_mutex_unlock(&lock);
            if (out < 0) tg__error(TG_ERR_MEMORY, "%s: out of memory", name);
            return out;
        }
        }
    }
    if (ok) out = intern(&r);
    pthread_mutex_unlock(&lock);
    if (!ok) return tg__error(TG_ERR_UNSUPPORTED, "%s: the expression overflows or leaves the normal form's limits "
                              "(%d terms, degree %d)", name, MAX_TERMS, MAX_DEGREE), -1;
    return out;
}

int64_t tg_size_add(int64_t a, int64_t b) { return combine(OP_ADD, a, b, "tg_size_add"); }
int64_t tg_size_sub(int64_t a, int64_t b) { return combine(OP_SUB, a, b, "tg_size_sub"); }
int64_t tg_size_mul(int64_t a, int64_t b) { return combine(OP_MUL, a, b, "tg_size_mul"); }
int64_t tg_size_floordiv(int64_t a, int64_t b) {
    if (b == 0) return tg__error(TG_ERR_ARG, "tg_size_floordiv: division by zero"), -1;
    return combine(OP_DIV, a, b, "tg_size_floordiv");
}

int64_t tg_size_symbol(const char *name) {
    size_t n = name ? strlen(name) : 0;
    bool ok = n > 0 && n < MAX_NAME && (isalpha((unsigned char)name[0]) || name[0] == '_');
    for (size_t i = 1; ok && i < n; i++) ok = isalnum((unsigned char)name[i]) || name[i] == '_';
    if (!ok) return tg__error(TG_ERR_ARG, "tg_size_symbol: '%s' is not a symbol name", name ? name : "(null)"), -1;
    atom a = {.is_div = false};
    strcpy(a.name, name);
    pthread_mutex_lock(&lock);
    int id = add_atom(&a);
    int64_t h = id < 0 ? -1 : atom_size(id);
    pthread_mutex_unlock(&lock);
    if (h < 0) tg__error(TG_ERR_MEMORY, "tg_size_symbol: out of memory");
    return h;
}

/* ---- evaluation and text -------------------------------------------------------------- */
typedef struct { int n; const char *const *names; const int64_t *values; } binding;

static bool eval_size(int64_t v, const binding *b, int64_t *out, char *missing);

static bool eval_atom(int id, const binding *b, int64_t *out, char *missing) {
    const atom *a = &atoms[id];
    if (a->is_div) {
        int64_t n, d;
        if (!eval_size(a->num, b, &n, missing) || !eval_size(a->den, b, &d, missing)) return false;
        if (d <= 0) return false;
        *out = n >= 0 ? n / d : -((-n + d - 1) / d);
        return true;
    }
    for (int i = 0; i < b->n; i++)
        if (b->names[i] && strcmp(b->names[i], a->name) == 0) { *out = b->values[i]; return true; }
    snprintf(missing, MAX_NAME, "%s", a->name);
    return false;
}

static bool eval_size(int64_t v, const binding *b, int64_t *out, char *missing) {
    if (v < TG_SYM_BASE) { *out = v; return true; }
    const poly *p = &exprs[v - TG_SYM_BASE];
    int64_t sum = 0;
    for (int i = 0; i < p->nt; i++) {
        int64_t t = p->t[i].coef;
        for (int k = 0; k < p->t[i].nf; k++) {
            int64_t x;
            if (!eval_atom(p->t[i].f[k].atom, b, &x, missing)) return false;
            for (int e = 0; e < p->t[i].f[k].exp; e++)
                if (__builtin_mul_overflow(t, x, &t)) return false;
        }
        if (__builtin_add_overflow(sum, t, &sum)) return false;
    }
    *out = sum;
    return true;
}

int64_t tg_size_eval(int64_t size, int n, const char *const *names, const int64_t *values) {
    if (n < 0 || (n > 0 && (!names || !values))) return tg__error(TG_ERR_ARG, "tg_size_eval: bad binding"), -1;
    if (size >= TG_SYM_BASE && !tg_is_symbolic(size))
        return tg__error(TG_ERR_ARG, "tg_size_eval: %lld is not a size", (long long)size), -1;
    binding b = {n, names, values};
    char missing[MAX_NAME] = "";
    int64_t out;
    pthread_mutex_lock(&lock);
    bool ok = eval_size(size, &b, &out, missing);
    pthread_mutex_unlock(&lock);
    if (!ok) {
        if (missing[0]) return tg__error(TG_ERR_ARG, "tg_size_eval: symbol %s is not bound", missing), -1;
        return tg__error(TG_ERR_SHAPE, "tg_size_eval: the value overflows or divides by a non-positive size"), -1;
    }
    return out;
}

static int format_size(int64_t v, char *buf, size_t n);

static int format_atom(int id, char *buf, size_t n) {
    const atom *a = &atoms[id];
    if (!a->is_div) return snprintf(buf, n, "%s", a->name);
    char num[120], den[120];          /* fits the callers' 300-byte buffers */
    format_size(a->num, num, sizeof num);
    format_size(a->den, den, sizeof den);
    bool pn = a->num >= TG_SYM_BASE && exprs[a->num - TG_SYM_BASE].nt > 1;
    bool pd = a->den >= TG_SYM_BASE;
    return snprintf(buf, n, "%s%s%s // %s%s%s", pn ? "(" : "", num, pn ? ")" : "", pd ? "(" : "", den, pd ? ")" : "");
}

static int format_size(int64_t v, char *buf, size_t n) {
    if (v < TG_SYM_BASE) return snprintf(buf, n, "%lld", (long long)v);
    const poly *p = &exprs[v - TG_SYM_BASE];
    char out[512];
    size_t k = 0;
    for (int i = 0; i < p->nt && k < sizeof out; i++) {
        const term *t = &p->t[i];
        int64_t c = t->coef;
        if (i > 0) k += (size_t)snprintf(out + k, sizeof out - k, c < 0 ? " - " : " + ");
        else if (c < 0) k += (size_t)snprintf(out + k, sizeof out - k, "-");
        int64_t mag = c < 0 ? -c : c;
        bool first = true;
        if (mag != 1 || t->nf == 0) { k += (size_t)snprintf(out + k, sizeof out - k, "%lld", (long long)mag); first = false; }
        for (int q = 0; q < t->nf && k < sizeof out; q++)
            for (int e = 0; e < t->f[q].exp && k < sizeof out; e++) {
                if (!first) k += (size_t)snprintf(out + k, sizeof out - k, "*");
                first = false;
                char at[300];
                format_atom(t->f[q].atom, at, sizeof at);
                k += (size_t)snprintf(out + k, sizeof out - k, "%s", at);
            }
    }
    return snprintf(buf, n, "%s", out);
}

int tg_size_format(int64_t size, char *buf, size_t n) {
    if (size >= TG_SYM_BASE && !tg_is_symbolic(size)) return -1;
    pthread_mutex_lock(&lock);
    int r = format_size(size, buf, n);
    pthread_mutex_unlock(&lock);
    return r;
}

int tg_size_parse_shape(const char *spec, int64_t *shape) {
    if (!spec || !shape) return tg__error(TG_ERR_ARG, "tg_size_parse_shape: spec and shape are required"), -1;
    const char *p = spec;
    int n = 0;
    while (isspace((unsigned char)*p)) p++;
    if (!*p) return 0;
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        const char *start = p;
        if (n == TG_MAX_DIMS)
            return tg__error(TG_ERR_SHAPE, "tg_size_parse_shape: \"%s\" has more than %d sizes", spec, TG_MAX_DIMS), -1;
        if (isdigit((unsigned char)*p)) {
            int64_t v = 0;
            while (isdigit((unsigned char)*p)) {
                if (v > (INT64_MAX / 16 - 9) / 10)
                    return tg__error(TG_ERR_SHAPE, "tg_size_parse_shape: size too large in \"%s\"", spec), -1;
                v = v * 10 + (*p++ - '0');
            }
            shape[n++] = v;
        } else if (isalpha((unsigned char)*p) || *p == '_') {
            char name[MAX_NAME];
            size_t len = 0;
            while (isalnum((unsigned char)*p) || *p == '_') {
                if (len + 1 >= sizeof name)
                    return tg__error(TG_ERR_ARG, "tg_size_parse_shape: name too long in \"%s\"", spec), -1;
                name[len++] = *p++;
            }
            name[len] = 0;
            int64_t h = tg_size_symbol(name);
            if (h < 0) return -1;
            shape[n++] = h;
        } else {
            if (!*start)
                return tg__error(TG_ERR_ARG, "tg_size_parse_shape: a size is missing at the end of \"%s\"", spec), -1;
            return tg__error(TG_ERR_ARG, "tg_size_parse_shape: unexpected '%c' at position %d of \"%s\"", *start,
                             (int)(start - spec), spec), -1;
        }
        while (isspace((unsigned char)*p)) p++;
        if (!*p) return n;
        if (*p != ',')
            return tg__error(TG_ERR_ARG, "tg_size_parse_shape: expected ',' at position %d of \"%s\"",
                             (int)(p - spec), spec), -1;
        p++;
    }
}

/* ---- read access for saved programs (tensor/symbolic_io.h) ---------------------------- */

_Static_assert(TG__SYM_MAX_TERMS == MAX_TERMS && TG__SYM_MAX_FACTORS == MAX_FACTORS &&
               TG__SYM_MAX_DEGREE == MAX_DEGREE && TG__SYM_MAX_NAME == MAX_NAME, "symbolic_io.h limits");

int tg__size_terms(int64_t h, tg__sym_term *out) {
    pthread_mutex_lock(&lock);
    int nt = -1;
    if (h >= TG_SYM_BASE && h - TG_SYM_BASE < n_exprs) {
        const poly *p = &exprs[h - TG_SYM_BASE];
        nt = p->nt;
        for (int i = 0; i < nt; i++) {
            out[i].coef = p->t[i].coef;
            out[i].nf = p->t[i].nf;
            for (int k = 0; k < p->t[i].nf; k++) {
                out[i].atom[k] = p->t[i].f[k].atom;
                out[i].exp[k] = p->t[i].f[k].exp;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return nt;
}

bool tg__size_atom(int id, bool *is_div, char name[TG__SYM_MAX_NAME], int64_t *num, int64_t *den) {
    pthread_mutex_lock(&lock);
    bool ok = id >= 0 && id < n_atoms;
    if (ok) {
        const atom *a = &atoms[id];
        *is_div = a->is_div;
        memcpy(name, a->name, MAX_NAME);
        *num = a->num;
        *den = a->den;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}
