/* Writing programs to the versioned file format (program_format.h). */
#include "autodiff/program_format.h"

/* ======================================================================== */
/* writing                                                                   */
/* ======================================================================== */
typedef struct {
    unsigned char *p;
    size_t n, cap;
    bool oom;
} wbuf;

static void put(wbuf *w, const void *src, size_t n) {
    if (w->oom) return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->n + n) cap *= 2;
        unsigned char *q = realloc(w->p, cap);
        if (!q) { w->oom = true; return; }
        w->p = q;
        w->cap = cap;
    }
    if (n) memcpy(w->p + w->n, src, n);
    w->n += n;
}
static void put_le(wbuf *w, uint64_t v, int bytes) {
    unsigned char b[8];
    for (int i = 0; i < bytes; i++) b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, (size_t)bytes);
}
static void put_u8(wbuf *w, unsigned v) { put_le(w, v, 1); }
static void put_u16(wbuf *w, unsigned v) { put_le(w, v, 2); }
static void put_u32(wbuf *w, uint32_t v) { put_le(w, v, 4); }
static void put_u64(wbuf *w, uint64_t v) { put_le(w, v, 8); }
static void put_f64(wbuf *w, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    put_u64(w, u);
}
static void patch_u64(wbuf *w, size_t at, uint64_t v) {
    if (w->oom) return;
    for (int i = 0; i < 8; i++) w->p[at + (size_t)i] = (unsigned char)(v >> (8 * i));
}

/* Symbolic sizes of the program, as a table of entries in dependency order. */
typedef struct {
    wbuf *w;
    int n;                        /* entries written */
    int64_t *expr;                /* handle of each entry that is a polynomial, else -1 */
    int *atom;                    /* process atom id of each entry that is an atom, else -1 */
    int cap;
    const char *err;
} symtab;

static int sym_new(symtab *s, int64_t expr, int atom) {
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 32;
        int64_t *e = realloc(s->expr, (size_t)cap * sizeof *e);
        if (e) s->expr = e;
        int *a = realloc(s->atom, (size_t)cap * sizeof *a);
        if (a) s->atom = a;
        if (!e || !a) { s->err = "out of memory"; return -1; }
        s->cap = cap;
    }
    s->expr[s->n] = expr;
    s->atom[s->n] = atom;
    return s->n++;
}

static int sym_expr(symtab *s, int64_t h, int depth);

/* Writes a size: plain, or a reference to the entry of its polynomial. */
static bool sym_size_ref(symtab *s, int64_t v, wbuf *out, int depth) {
    if (v < TG_SYM_BASE) {
        put_u8(out, SIZE_PLAIN);
        put_u64(out, (uint64_t)v);
        return true;
    }
    int id = sym_expr(s, v, depth);
    if (id < 0) return false;
    put_u8(out, SIZE_EXPR);
    put_u64(out, (uint64_t)id);
    return true;
}

static int sym_atom(symtab *s, int atom, int depth) {
    for (int i = 0; i < s->n; i++) if (s->atom[i] == atom) return i;
    bool is_div;
    char name[TG__SYM_MAX_NAME];
    int64_t num, den;
    if (!tg__size_atom(atom, &is_div, name, &num, &den)) { s->err = "an unknown symbolic atom"; return -1; }
    if (!is_div) {
        size_t len = strnlen(name, TG__SYM_MAX_NAME);
        put_u8(s->w, SYM_NAME);
        put_u8(s->w, (unsigned)len);
        put(s->w, name, len);
        return sym_new(s, -1, atom);
    }
    /* the operands first: they are earlier entries */
    wbuf tmp = {0};
    bool ok = sym_size_ref(s, num, &tmp, depth + 1) && sym_size_ref(s, den, &tmp, depth + 1);
    if (tmp.oom) { s->err = "out of memory"; ok = false; }
    if (ok) {
        put_u8(s->w, SYM_DIV);
        put(s->w, tmp.p, tmp.n);
    }
    free(tmp.p);
    return ok ? sym_new(s, -1, atom) : -1;
}

static int sym_expr(symtab *s, int64_t h, int depth) {
    for (int i = 0; i < s->n; i++) if (s->expr[i] == h) return i;
    if (depth > 64) { s->err = "floor divisions nested too deeply"; return -1; }
    tg__sym_term t[TG__SYM_MAX_TERMS];
    int nt = tg__size_terms(h, t);
    if (nt < 0) { s->err = "an unknown symbolic size"; return -1; }
    int ids[TG__SYM_MAX_TERMS][TG__SYM_MAX_FACTORS];
    for (int i = 0; i < nt; i++)
        for (int k = 0; k < t[i].nf; k++)
            if ((ids[i][k] = sym_atom(s, t[i].atom[k], depth)) < 0) return -1;
    put_u8(s->w, SYM_POLY);
    put_u8(s->w, (unsigned)nt);
    for (int i = 0; i < nt; i++) {
        put_u64(s->w, (uint64_t)t[i].coef);
        put_u8(s->w, (unsigned)t[i].nf);
        for (int k = 0; k < t[i].nf; k++) {
            put_u32(s->w, (uint32_t)ids[i][k]);
            put_u8(s->w, (unsigned)t[i].exp[k]);
        }
    }
    return sym_new(s, h, -1);
}

static size_t begin_section(wbuf *w, int k) {
    put(w, section_tags[k], 4);
    size_t at = w->n;
    put_u64(w, 0);
    return at;
}
static void end_section(wbuf *w, size_t at) { patch_u64(w, at, (uint64_t)(w->n - at - 8)); }

static tg_status save_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static tg_status save_error(const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tg__error(TG_ERR_ARG, "tg_program_save: %s", msg);
}

tg_status tg_program_save_buffer(const tg_program *p, void **buf, size_t *len) {
    if (!p || !buf || !len) return tg__error(TG_ERR_ARG, "tg_program_save: program, buf and len are required");
    *buf = NULL;
    *len = 0;
    const tg_graph *g = tg__program_graph(p);
    /* what cannot be written, before writing anything */
    for (int k = 0; k < g->n_nodes; k++) {
        const tg_gnode *nd = &g->nodes[k];
        if (strcmp(nd->def->name, "custom_call") == 0)
            return save_error("node %d is a tg_custom_call, which holds function pointers: it cannot be saved", k);
        size_t nl = strlen(nd->def->name);
        if (nl == 0 || nl > 0xffff || !tg__op_lookup(nd->def->name))
            return save_error("node %d: op '%s' cannot be found by its name", k, nd->def->name);
        if (nd->n_in > 255 || nd->n_out > 255 || nd->attrs.n_int > TG_MAX_ATTR_INTS || nd->attrs.n_real > TG_MAX_ATTR_REALS)
            return save_error("node %d (%s) has too many operands or attributes", k, nd->def->name);
        for (int q = 0; q < nd->attrs.n_int; q++)
            if (nd->attrs.i[q] >= TG_SYM_BASE && !tg_is_symbolic(nd->attrs.i[q]))
                return save_error("node %d (%s): attribute %d is neither a size nor a symbolic size", k,
                                  nd->def->name, q);
        if (nd->attrs.str && strlen(nd->attrs.str) > MAX_ATTR_STR)
            return save_error("node %d (%s): string attribute too long", k, nd->def->name);
    }
    for (int c = 0; c < g->n_consts; c++)
        if (!tg__is_contiguous(g->consts[c]) || tg__is_tracer(g->consts[c]))
            return save_error("constant %d is not a contiguous tensor", c);

    wbuf w = {0};
    symtab s = {.w = &w};
    put(&w, MAGIC, 8);
    put_u32(&w, FORMAT_VERSION);
    put_u32(&w, 0);
    put_u64(&w, 0);                                    /* body length, patched */

    /* sizes used by the values and attributes, written as they are met;
     * the sections that refer to them are built aside */
    wbuf vals = {0}, nodes = {0};
    size_t at = begin_section(&w, 0);
    size_t count_at = w.n;
    put_u32(&w, 0);                                    /* entry count, patched below */
    put_u32(&vals, (uint32_t)g->n_values);
    for (int v = 0; v < g->n_values && !s.err; v++) {
        const tg_value *val = &g->values[v];
        put_u8(&vals, (unsigned)val->dtype);
        put_u8(&vals, (unsigned)val->ndim);
        for (int d = 0; d < val->ndim && !s.err; d++) sym_size_ref(&s, val->shape[d], &vals, 0);
    }
    put_u32(&nodes, (uint32_t)g->n_nodes);
    for (int k = 0; k < g->n_nodes && !s.err; k++) {
        const tg_gnode *nd = &g->nodes[k];
        size_t nl = strlen(nd->def->name);
        put_u16(&nodes, (unsigned)nl);
        put(&nodes, nd->def->name, nl);
        put_u8(&nodes, (unsigned)nd->n_in);
        put_u8(&nodes, (unsigned)nd->n_out);
        put_u8(&nodes, (unsigned)nd->attrs.n_int);
        put_u8(&nodes, (unsigned)nd->attrs.n_real);
        for (int q = 0; q < nd->attrs.n_int && !s.err; q++) sym_size_ref(&s, nd->attrs.i[q], &nodes, 0);
        for (int q = 0; q < nd->attrs.n_real; q++) put_f64(&nodes, nd->attrs.d[q]);
        put_u8(&nodes, nd->attrs.str != NULL);
        if (nd->attrs.str) {
            size_t sl = strlen(nd->attrs.str);
            put_u32(&nodes, (uint32_t)sl);
            put(&nodes, nd->attrs.str, sl);
        }
        for (int i = 0; i < nd->n_in; i++) put_u32(&nodes, (uint32_t)nd->in[i]);
        for (int j = 0; j < nd->n_out; j++) put_u32(&nodes, (uint32_t)nd->out[j]);
    }
    if (!w.oom) {
        uint32_t n = (uint32_t)s.n;
        for (int i = 0; i < 4; i++) w.p[count_at + (size_t)i] = (unsigned char)(n >> (8 * i));
    }
    end_section(&w, at);
    at = begin_section(&w, 1);
    put(&w, vals.p, vals.n);
    end_section(&w, at);
    at = begin_section(&w, 2);
    put_u32(&w, (uint32_t)g->n_consts);
    for (int c = 0; c < g->n_consts; c++) {
        int v = 0;
        while (v < g->n_values && g->values[v].const_index != c) v++;
        const tg_tensor *t = g->consts[c];
        size_t bytes = (size_t)tg__numel(t->ndim, t->shape) * (size_t)tg__esize(t->dtype);
        put_u32(&w, (uint32_t)v);
        put_u32(&w, t->flags & TG_TFLAG_WEAK ? WEAK_FLAG : 0u);
        put_u64(&w, bytes);
        put(&w, tg__ptr(t), bytes);
    }
    end_section(&w, at);
    at = begin_section(&w, 3);
    put(&w, nodes.p, nodes.n);
    end_section(&w, at);
    at = begin_section(&w, 4);
    put_u32(&w, (uint32_t)g->n_in);
    for (int i = 0; i < g->n_in; i++) put_u32(&w, (uint32_t)g->inputs[i]);
    put_u32(&w, (uint32_t)g->n_out);
    for (int j = 0; j < g->n_out; j++) put_u32(&w, (uint32_t)g->outputs[j]);
    end_section(&w, at);
    patch_u64(&w, 16, (uint64_t)(w.n - HEADER_BYTES));
    bool oom = w.oom || vals.oom || nodes.oom;
    if (!oom) put_u32(&w, (uint32_t)crc32(0L, w.p, (uInt)w.n));
    oom = oom || w.oom;
    free(vals.p);
    free(nodes.p);
    free(s.expr);
    free(s.atom);
    if (s.err || oom) {
        free(w.p);
        if (s.err && strcmp(s.err, "out of memory") != 0) return save_error("%s", s.err);
        return tg__error(TG_ERR_MEMORY, "tg_program_save: out of memory");
    }
    *buf = w.p;
    *len = w.n;
    return TG_OK;
}

tg_status tg_program_save(const tg_program *p, const char *path) {
    if (!path) return tg__error(TG_ERR_ARG, "tg_program_save: path is required");
    void *buf;
    size_t len;
    tg_status st = tg_program_save_buffer(p, &buf, &len);
    if (st) return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        st = tg__error(TG_ERR_IO, "tg_program_save: cannot open '%s': %s", path, strerror(errno));
        free(buf);
        return st;
    }
    bool ok = fwrite(buf, 1, len, f) == len;
    int saved_errno = errno;
    ok = (fclose(f) == 0) && ok;
    free(buf);
    if (!ok) return tg__error(TG_ERR_IO, "tg_program_save: cannot write '%s': %s", path, strerror(saved_errno));
    return TG_OK;
}

