/* Reading programs back: every byte checked before anything is built
 * (program_format.h). */
#include "autodiff/program_format.h"

/* ======================================================================== */
/* reading                                                                   */
/* ======================================================================== */
typedef struct {
    const unsigned char *p;
    size_t n, at;
    const char *what;             /* the part being read, for truncation messages */
    bool bad;
} rbuf;

typedef struct {
    const char *src;              /* the path, or "buffer" */
    char msg[512];
    tg_status code;
} lctx;

static void fail(lctx *c, tg_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(lctx *c, tg_status code, const char *fmt, ...) {
    if (c->code) return;                           /* the first problem is the one reported */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    c->code = code;
}

static bool take(rbuf *r, lctx *c, size_t n, const unsigned char **out) {
    if (r->bad) return false;
    if (n > r->n - r->at) {
        fail(c, TG_ERR_IO, "truncated or corrupt: %s needs %zu bytes, %zu are left", r->what, n, r->n - r->at);
        r->bad = true;
        return false;
    }
    *out = r->p + r->at;
    r->at += n;
    return true;
}
static uint64_t get_le(rbuf *r, lctx *c, int bytes) {
    const unsigned char *b;
    if (!take(r, c, (size_t)bytes, &b)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}
static unsigned get_u8(rbuf *r, lctx *c) { return (unsigned)get_le(r, c, 1); }
static unsigned get_u16(rbuf *r, lctx *c) { return (unsigned)get_le(r, c, 2); }
static uint32_t get_u32(rbuf *r, lctx *c) { return (uint32_t)get_le(r, c, 4); }
static uint64_t get_u64(rbuf *r, lctx *c) { return get_le(r, c, 8); }

/* A count of items of at least min_bytes each: checked against what is left
 * before anything is allocated for them. */
static bool get_count(rbuf *r, lctx *c, size_t min_bytes, uint32_t limit, uint32_t *out) {
    uint32_t n = get_u32(r, c);
    if (r->bad) return false;
    if (n > limit || (size_t)n > (r->n - r->at) / (min_bytes ? min_bytes : 1)) {
        fail(c, TG_ERR_IO, "corrupt: %s claims %u items, more than %s", r->what, n,
             n > limit ? "the format allows" : "the bytes left can hold");
        r->bad = true;
        return false;
    }
    *out = n;
    return true;
}

/* ---- parsed, not yet built ---------------------------------------------------- */
typedef struct { uint8_t tag; int64_t v; } sref;

typedef struct {
    uint8_t kind;
    char name[TG__SYM_MAX_NAME];
    sref num, den;
    int nt;
    int64_t coef[TG__SYM_MAX_TERMS];
    int nf[TG__SYM_MAX_TERMS];
    uint32_t fac[TG__SYM_MAX_TERMS][TG__SYM_MAX_FACTORS];
    int exp[TG__SYM_MAX_TERMS][TG__SYM_MAX_FACTORS];
} sym_entry;

typedef struct {
    uint8_t dtype, ndim;
    sref shape[TG_MAX_DIMS];
} pvalue;

typedef struct {
    uint32_t value, flags;
    uint64_t bytes;
    const unsigned char *data;
} pconst;

typedef struct {
    const tg_op_def *def;
    int n_in, n_out, n_int, n_real;
    sref ints[TG_MAX_ATTR_INTS];
    double reals[TG_MAX_ATTR_REALS];
    bool has_str;
    char *str;
    int *ids;                     /* n_in inputs, then n_out outputs */
} pnode;

typedef struct {
    uint32_t n_sym, n_values, n_consts, n_nodes, n_in, n_out;
    sym_entry *sym;
    pvalue *values;
    pconst *consts;
    pnode *nodes;
    int *inputs, *outputs;
    uint32_t version;             /* the file's format version */
} parsed;

static void parsed_free(parsed *f) {
    if (f->nodes)
        for (uint32_t k = 0; k < f->n_nodes; k++) {
            free(f->nodes[k].str);
            free(f->nodes[k].ids);
        }
    free(f->sym);
    free(f->values);
    free(f->consts);
    free(f->nodes);
    free(f->inputs);
    free(f->outputs);
}

static bool valid_name(const char *s, size_t n) {
    if (n == 0 || n >= TG__SYM_MAX_NAME) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
        if (!alpha && !(i > 0 && ch >= '0' && ch <= '9')) return false;
    }
    return true;
}

/* A size in the file: plain in [lo, TG_SYM_BASE), or a polynomial entry < limit. */
static bool get_size(rbuf *r, lctx *c, const parsed *f, uint32_t limit, int64_t lo, sref *out, const char *what) {
    out->tag = (uint8_t)get_u8(r, c);
    out->v = (int64_t)get_u64(r, c);
    if (r->bad) return false;
    if (out->tag == SIZE_PLAIN) {
        if (out->v < lo || out->v >= TG_SYM_BASE) {
            fail(c, TG_ERR_IO, "corrupt: %s is %lld, out of range", what, (long long)out->v);
            return false;
        }
        return true;
    }
    if (out->tag != SIZE_EXPR || out->v < 0 || out->v >= (int64_t)limit || f->sym[out->v].kind != SYM_POLY) {
        fail(c, TG_ERR_IO, "corrupt: %s refers to symbolic entry %lld (tag %u), not an earlier expression", what,
             (long long)out->v, out->tag);
        return false;
    }
    return true;
}

static bool parse_syms(rbuf *r, lctx *c, parsed *f) {
    if (!get_count(r, c, 2, MAX_SYM_ENTRIES, &f->n_sym)) return false;
    f->sym = calloc(f->n_sym ? f->n_sym : 1, sizeof *f->sym);
    if (!f->sym) { fail(c, TG_ERR_MEMORY, "out of memory"); return false; }
    for (uint32_t e = 0; e < f->n_sym; e++) {
        sym_entry *s = &f->sym[e];
        s->kind = (uint8_t)get_u8(r, c);
        if (r->bad) return false;
        if (s->kind == SYM_NAME) {
            unsigned len = get_u8(r, c);
            const unsigned char *b;
            if (!take(r, c, len, &b)) return false;
            if (!valid_name((const char *)b, len)) {
                fail(c, TG_ERR_IO, "corrupt: symbolic entry %u is not a valid symbol name", e);
                return false;
            }
            memcpy(s->name, b, len);
            s->name[len] = 0;
        } else if (s->kind == SYM_DIV) {
            char what[64];
            snprintf(what, sizeof what, "the numerator of symbolic entry %u", e);
            if (!get_size(r, c, f, e, 0, &s->num, what)) return false;
            snprintf(what, sizeof what, "the denominator of symbolic entry %u", e);
            if (!get_size(r, c, f, e, 1, &s->den, what)) return false;
        } else if (s->kind == SYM_POLY) {
            s->nt = (int)get_u8(r, c);
            if (r->bad) return false;
            if (s->nt < 1 || s->nt > TG__SYM_MAX_TERMS) {
                fail(c, TG_ERR_IO, "corrupt: symbolic entry %u has %d terms", e, s->nt);
                return false;
            }
            for (int i = 0; i < s->nt; i++) {
                s->coef[i] = (int64_t)get_u64(r, c);
                s->nf[i] = (int)get_u8(r, c);
                if (r->bad) return false;
                if (s->coef[i] == INT64_MIN || s->coef[i] == 0 || s->nf[i] > TG__SYM_MAX_FACTORS) {
                    fail(c, TG_ERR_IO, "corrupt: term %d of symbolic entry %u", i, e);
                    return false;
                }
                int degree = 0;
                for (int k = 0; k < s->nf[i]; k++) {
                    s->fac[i][k] = get_u32(r, c);
                    s->exp[i][k] = (int)get_u8(r, c);
                    if (r->bad) return false;
                    degree += s->exp[i][k];
                    if (s->fac[i][k] >= e || f->sym[s->fac[i][k]].kind == SYM_POLY || s->exp[i][k] < 1 ||
                        degree > TG__SYM_MAX_DEGREE) {
                        fail(c, TG_ERR_IO, "corrupt: factor %d of term %d of symbolic entry %u", k, i, e);
                        return false;
                    }
                }
            }
        } else {
            fail(c, TG_ERR_IO, "corrupt: symbolic entry %u has unknown kind %u", e, s->kind);
            return false;
        }
    }
    return true;
}

static bool parse_values(rbuf *r, lctx *c, parsed *f) {
    if (!get_count(r, c, 2, 1u << 24, &f->n_values)) return false;
    f->values = calloc(f->n_values ? f->n_values : 1, sizeof *f->values);
    if (!f->values) { fail(c, TG_ERR_MEMORY, "out of memory"); return false; }
    for (uint32_t v = 0; v < f->n_values; v++) {
        pvalue *pv = &f->values[v];
        pv->dtype = (uint8_t)get_u8(r, c);
        pv->ndim = (uint8_t)get_u8(r, c);
        if (r->bad) return false;
        if (pv->dtype >= TG_NUM_DTYPES) { fail(c, TG_ERR_IO, "corrupt: value %u has dtype %u", v, pv->dtype); return false; }
        if (pv->ndim > TG_MAX_DIMS) {
            fail(c, TG_ERR_IO, "corrupt: value %u has rank %u (at most %d)", v, pv->ndim, TG_MAX_DIMS);
            return false;
        }
        for (int d = 0; d < pv->ndim; d++) {
            char what[64];
            snprintf(what, sizeof what, "size %d of value %u", d, v);
            if (!get_size(r, c, f, f->n_sym, 0, &pv->shape[d], what)) return false;
        }
    }
    return true;
}

static bool parse_consts(rbuf *r, lctx *c, parsed *f) {
    if (!get_count(r, c, 16, f->n_values, &f->n_consts)) return false;
    f->consts = calloc(f->n_consts ? f->n_consts : 1, sizeof *f->consts);
    if (!f->consts) { fail(c, TG_ERR_MEMORY, "out of memory"); return false; }
    for (uint32_t k = 0; k < f->n_consts; k++) {
        pconst *pc = &f->consts[k];
        pc->value = get_u32(r, c);
        pc->flags = get_u32(r, c);
        pc->bytes = get_u64(r, c);
        if (r->bad) return false;
        if (pc->value >= f->n_values) { fail(c, TG_ERR_IO, "corrupt: constant %u is value %u of %u", k, pc->value, f->n_values); return false; }
        if (pc->flags & ~WEAK_FLAG) { fail(c, TG_ERR_IO, "corrupt: constant %u has unknown flags 0x%x", k, pc->flags); return false; }
        const pvalue *pv = &f->values[pc->value];
        uint64_t bytes = (uint64_t)tg__esize((tg_dtype)pv->dtype);
        for (int d = 0; d < pv->ndim; d++) {
            if (pv->shape[d].tag != SIZE_PLAIN) {
                fail(c, TG_ERR_IO, "corrupt: constant %u (value %u) has a symbolic size", k, pc->value);
                return false;
            }
            if (pv->shape[d].v && bytes > UINT64_MAX / (uint64_t)pv->shape[d].v) bytes = UINT64_MAX;
            else bytes *= (uint64_t)pv->shape[d].v;
        }
        if (bytes != pc->bytes) {
            fail(c, TG_ERR_IO, "corrupt: constant %u has %llu bytes, its shape needs %llu", k,
                 (unsigned long long)pc->bytes, (unsigned long long)bytes);
            return false;
        }
        if (!take(r, c, (size_t)pc->bytes, &pc->data)) return false;
    }
    return true;
}

/* Format 1 was written when tensors had at most 8 axes: view_scatter's
 * attributes held the base shape in 8 slots, then the dtype (i[9]), then the
 * view's own attributes. Format 2 gives the shape TG_MAX_DIMS slots
 * (tensor/ops/views.c); widen the old layout in place. */
static bool widen_view_scatter(lctx *c, const parsed *f, const char *op, uint32_t k, pnode *nd) {
    enum { OLD_SLOTS = 8, OLD_ATTRS = OLD_SLOTS + 2, GROW = TG_MAX_DIMS - OLD_SLOTS };
    if (f->version >= 2 || strcmp(op, "view_scatter") != 0) return true;
    if (nd->n_int < OLD_ATTRS || nd->n_int + GROW > TG_MAX_ATTR_INTS) {
        fail(c, TG_ERR_IO, "corrupt: node %u (%s) has %d ints", k, op, nd->n_int);
        return false;
    }
    memmove(&nd->ints[OLD_SLOTS + 1 + GROW], &nd->ints[OLD_SLOTS + 1],
            (size_t)(nd->n_int - OLD_SLOTS - 1) * sizeof nd->ints[0]);
    for (int q = OLD_SLOTS + 1; q < OLD_SLOTS + 1 + GROW; q++) nd->ints[q] = (sref){0};
    nd->n_int += GROW;
    return true;
}

static bool parse_nodes(rbuf *r, lctx *c, parsed *f) {
    if (!get_count(r, c, 8, 1u << 24, &f->n_nodes)) return false;
    f->nodes = calloc(f->n_nodes ? f->n_nodes : 1, sizeof *f->nodes);
    if (!f->nodes) { fail(c, TG_ERR_MEMORY, "out of memory"); return false; }
    for (uint32_t k = 0; k < f->n_nodes; k++) {
        pnode *nd = &f->nodes[k];
        unsigned nl = get_u16(r, c);
        const unsigned char *name;
        if (!take(r, c, nl, &name)) return false;
        char op[64];
        if (nl == 0 || nl >= sizeof op || memchr(name, 0, nl)) {
            fail(c, TG_ERR_IO, "corrupt: node %u has an op name of %u bytes", k, nl);
            return false;
        }
        memcpy(op, name, nl);
        op[nl] = 0;
        nd->n_in = (int)get_u8(r, c);
        nd->n_out = (int)get_u8(r, c);
        nd->n_int = (int)get_u8(r, c);
        nd->n_real = (int)get_u8(r, c);
        if (r->bad) return false;
        if (nd->n_in > TG_MAX_OP_INPUTS || nd->n_out < 1 || nd->n_out > TG_MAX_OP_OUTPUTS ||
            nd->n_int > TG_MAX_ATTR_INTS || nd->n_real > TG_MAX_ATTR_REALS) {
            fail(c, TG_ERR_IO, "corrupt: node %u (%s) has %d inputs, %d outputs, %d ints, %d reals", k, op, nd->n_in,
                 nd->n_out, nd->n_int, nd->n_real);
            return false;
        }
        for (int q = 0; q < nd->n_int; q++) {
            char what[128];
            snprintf(what, sizeof what, "attribute %d of node %u (%s)", q, k, op);
            if (!get_size(r, c, f, f->n_sym, INT64_MIN, &nd->ints[q], what)) return false;
        }
        if (!widen_view_scatter(c, f, op, k, nd)) return false;
        for (int q = 0; q < nd->n_real; q++) {
            uint64_t u = get_u64(r, c);
            memcpy(&nd->reals[q], &u, 8);
        }
        unsigned has = get_u8(r, c);
        if (r->bad) return false;
        if (has > 1) { fail(c, TG_ERR_IO, "corrupt: node %u (%s): string flag %u", k, op, has); return false; }
        nd->has_str = has;
        if (has) {
            uint32_t sl = get_u32(r, c);
            const unsigned char *b;
            if (r->bad) return false;
            if (sl > MAX_ATTR_STR) { fail(c, TG_ERR_IO, "corrupt: node %u (%s): string of %u bytes", k, op, sl); return false; }
            if (!take(r, c, sl, &b)) return false;
            if (memchr(b, 0, sl)) { fail(c, TG_ERR_IO, "corrupt: node %u (%s): string holds a NUL byte", k, op); return false; }
            nd->str = malloc((size_t)sl + 1);
            if (!nd->str) { fail(c, TG_ERR_MEMORY, "out of memory"); return false; }
            memcpy(nd->str, b, sl);
            nd->str[sl] = 0;
        }
        nd->ids = malloc((size_t)(nd->n_in + nd->n_out) * sizeof(int));
        if (!nd->ids) { fail(c, TG_ERR_MEMORY, "out of memory"); return false; }
        for (int i = 0; i < nd->n_in + nd->n_out; i++) {
            uint32_t v = get_u32(r, c);
            if (r->bad) return false;
            if (v >= f->n_values) {
                fail(c, TG_ERR_IO, "corrupt: node %u (%s) %s %d is value %u of %u", k, op,
                     i < nd->n_in ? "input" : "output", i < nd->n_in ? i : i - nd->n_in, v, f->n_values);
                return false;
            }
            nd->ids[i] = (int)v;
        }
        /* the op: by name, registered in this process */
        nd->def = tg__op_lookup(op);
        if (!nd->def) {
            fail(c, TG_ERR_ARG, "node %u: op '%s' is not registered: register it with tg_op_register before loading",
                 k, op);
            return false;
        }
        if (strcmp(op, "custom_call") == 0 || (!nd->def->infer && !(nd->n_in == 1 && nd->n_out == 1))) {
            fail(c, TG_ERR_IO, "node %u: op '%s' cannot be loaded from a file", k, op);
            return false;
        }
        if ((nd->def->n_in >= 0 && nd->n_in != nd->def->n_in) || (nd->def->n_out >= 0 && nd->n_out != nd->def->n_out)) {
            fail(c, TG_ERR_IO, "corrupt: node %u: op '%s' takes %d inputs and %d outputs, the file gives %d and %d", k,
                 op, nd->def->n_in, nd->def->n_out, nd->n_in, nd->n_out);
            return false;
        }
    }
    return true;
}

static bool parse_io(rbuf *r, lctx *c, parsed *f) {
    if (!get_count(r, c, 4, TG_MAX_OP_INPUTS, &f->n_in)) return false;
    f->inputs = malloc((f->n_in + 1) * sizeof(int));
    if (!f->inputs) { fail(c, TG_ERR_MEMORY, "out of memory"); return false; }
    for (uint32_t i = 0; i < f->n_in; i++) f->inputs[i] = (int)get_u32(r, c);
    r->what = "the outputs";
    if (!get_count(r, c, 4, TG_MAX_OP_OUTPUTS, &f->n_out)) return false;
    f->outputs = malloc((f->n_out + 1) * sizeof(int));
    if (!f->outputs) { fail(c, TG_ERR_MEMORY, "out of memory"); return false; }
    for (uint32_t j = 0; j < f->n_out; j++) f->outputs[j] = (int)get_u32(r, c);
    if (r->bad) return false;
    if (f->n_out < 1) { fail(c, TG_ERR_IO, "corrupt: the program has no outputs"); return false; }
    for (uint32_t i = 0; i < f->n_in + f->n_out; i++) {
        int v = i < f->n_in ? f->inputs[i] : f->outputs[i - f->n_in];
        if (v < 0 || (uint32_t)v >= f->n_values) {
            fail(c, TG_ERR_IO, "corrupt: program %s %u is value %d of %u", i < f->n_in ? "input" : "output",
                 i < f->n_in ? i : i - f->n_in, v, f->n_values);
            return false;
        }
    }
    return true;
}

/* Every value defined at most once (input, constant or node output), read
 * only after its definition, outputs defined. */
static bool check_graph(lctx *c, const parsed *f) {
    unsigned char *def = calloc(f->n_values ? f->n_values : 1, 1);
    if (!def) { fail(c, TG_ERR_MEMORY, "out of memory"); return false; }
    bool ok = true;
    for (uint32_t i = 0; i < f->n_in && ok; i++) {
        if (def[f->inputs[i]]) { fail(c, TG_ERR_IO, "corrupt: value %d is input twice", f->inputs[i]); ok = false; }
        def[f->inputs[i]] = 1;
    }
    for (uint32_t k = 0; k < f->n_consts && ok; k++) {
        uint32_t v = f->consts[k].value;
        if (def[v]) { fail(c, TG_ERR_IO, "corrupt: value %u is defined twice (constant %u)", v, k); ok = false; }
        def[v] = 1;
    }
    for (uint32_t k = 0; k < f->n_nodes && ok; k++) {
        const pnode *nd = &f->nodes[k];
        for (int i = 0; i < nd->n_in && ok; i++)
            if (!def[nd->ids[i]]) {
                fail(c, TG_ERR_IO, "corrupt: node %u (%s) reads value %d before it is defined", k, nd->def->name,
                     nd->ids[i]);
                ok = false;
            }
        for (int j = 0; j < nd->n_out && ok; j++) {
            int v = nd->ids[nd->n_in + j];
            if (def[v]) {
                fail(c, TG_ERR_IO, "corrupt: node %u (%s) redefines value %d", k, nd->def->name, v);
                ok = false;
            }
            def[v] = 1;
        }
    }
    for (uint32_t j = 0; j < f->n_out && ok; j++)
        if (!def[f->outputs[j]]) {
            fail(c, TG_ERR_IO, "corrupt: program output %u is value %d, which nothing defines", j, f->outputs[j]);
            ok = false;
        }
    /* A value nothing defines and nothing reads is allowed: the compile
     * passes leave the values of removed nodes behind. */
    free(def);
    return ok;
}

/* ---- building -------------------------------------------------------------------- */
static int64_t sref_value(const sref *s, const int64_t *symval) {
    return s->tag == SIZE_PLAIN ? s->v : symval[s->v];
}

/* The sizes of the file, re-interned in this process. */
static bool build_syms(lctx *c, const parsed *f, int64_t *val) {
    for (uint32_t e = 0; e < f->n_sym; e++) {
        const sym_entry *s = &f->sym[e];
        int64_t h = -1;
        if (s->kind == SYM_NAME) {
            h = tg_size_symbol(s->name);
        } else if (s->kind == SYM_DIV) {
            h = tg_size_floordiv(sref_value(&s->num, val), sref_value(&s->den, val));
        } else {
            /* positive terms first, then the negative ones: sizes stay sizes */
            int64_t sum = 0;
            for (int pass = 0; pass < 2 && sum >= 0; pass++)
                for (int i = 0; i < s->nt && sum >= 0; i++) {
                    if ((s->coef[i] < 0) != (pass == 1)) continue;
                    int64_t t = s->coef[i] < 0 ? -s->coef[i] : s->coef[i];
                    for (int k = 0; k < s->nf[i] && t >= 0; k++)
                        for (int x = 0; x < s->exp[i][k] && t >= 0; x++) t = tg_size_mul(t, val[s->fac[i][k]]);
                    sum = t < 0 ? -1 : pass == 0 ? tg_size_add(sum, t) : tg_size_sub(sum, t);
                }
            h = sum;
        }
        if (h < 0) {
            const char *why = tg_last_error();
            fail(c, TG_ERR_IO, "corrupt: symbolic entry %u cannot be rebuilt: %s", e, why[0] ? why : "invalid");
            return false;
        }
        val[e] = h;
    }
    return true;
}

/* Each node's shape inference on the rebuilt shapes agrees with the file. */
static bool check_inference_nodes(lctx *c, const tg_graph *g);
static bool check_inference(lctx *c, const tg_graph *g) {
    /* the inference re-records the graph's bind-time constraints */
    tg__constraint_sink_push((tg_graph *)g);
    bool ok = check_inference_nodes(c, g);
    tg__constraint_sink_pop();
    return ok;
}

static bool check_inference_nodes(lctx *c, const tg_graph *g) {
    for (int k = 0; k < g->n_nodes; k++) {
        const tg_gnode *nd = &g->nodes[k];
        tg_meta in[TG_MAX_OP_INPUTS], out[TG_MAX_OP_OUTPUTS];
        for (int i = 0; i < nd->n_in; i++) {
            const tg_value *v = &g->values[nd->in[i]];
            in[i].dtype = v->dtype;
            in[i].ndim = v->ndim;
            in[i].weak = v->const_index >= 0 && (g->consts[v->const_index]->flags & TG_TFLAG_WEAK);
            memcpy(in[i].shape, v->shape, sizeof v->shape);
        }
        memset(out, 0, (size_t)nd->n_out * sizeof *out);
        tg_op_call call = {nd->def, &nd->attrs, nd->n_in, in, NULL};
        tg_status st;
        if (nd->def->infer) {
            st = nd->def->infer(&call, out);
        } else {
            out[0] = in[0];
            st = TG_OK;
        }
        if (st) {
            fail(c, TG_ERR_IO, "corrupt: node %d (%s) does not check: %s", k, nd->def->name, tg_last_error());
            return false;
        }
        for (int j = 0; j < nd->n_out; j++) {
            const tg_value *v = &g->values[nd->out[j]];
            bool same = out[j].dtype == v->dtype && out[j].ndim == v->ndim;
            for (int d = 0; same && d < v->ndim; d++) same = out[j].shape[d] == v->shape[d];
            if (!same) {
                char want[200], got[200];
                tg__fmt_meta(got, sizeof got, v->dtype, v->ndim, v->shape);
                tg__fmt_meta(want, sizeof want, out[j].dtype, out[j].ndim, out[j].shape);
                fail(c, TG_ERR_IO, "corrupt: node %d (%s) output %d is %s in the file, the op gives %s", k,
                     nd->def->name, j, got, want);
                return false;
            }
        }
    }
    return true;
}

static tg_graph *build_graph(lctx *c, const parsed *f, const int64_t *symval) {
    tg_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->values = calloc(f->n_values ? f->n_values : 1, sizeof(tg_value));
    g->nodes = calloc(f->n_nodes ? f->n_nodes : 1, sizeof(tg_gnode));
    g->consts = calloc(f->n_consts ? f->n_consts : 1, sizeof(tg_tensor *));
    g->inputs = malloc((f->n_in + f->n_out + 1) * sizeof(int));
    if (!g->values || !g->nodes || !g->consts || !g->inputs) goto oom;
    g->cap_values = g->n_values = (int)f->n_values;
    g->cap_nodes = (int)f->n_nodes;
    g->cap_consts = (int)f->n_consts;
    g->n_in = (int)f->n_in;
    g->n_out = (int)f->n_out;
    g->outputs = g->inputs + g->n_in;
    memcpy(g->inputs, f->inputs, f->n_in * sizeof(int));
    memcpy(g->outputs, f->outputs, f->n_out * sizeof(int));
    for (uint32_t v = 0; v < f->n_values; v++) {
        tg_value *val = &g->values[v];
        val->dtype = (tg_dtype)f->values[v].dtype;
        val->ndim = f->values[v].ndim;
        for (int d = 0; d < val->ndim; d++) val->shape[d] = sref_value(&f->values[v].shape[d], symval);
        val->producer = -1;
        val->const_index = -1;
    }
    for (uint32_t k = 0; k < f->n_consts; k++) {
        const pconst *pc = &f->consts[k];
        tg_value *val = &g->values[pc->value];
        tg_tensor *t = tg__alloc(val->dtype, val->ndim, val->shape);
        if (!t) goto oom;
        if (pc->bytes) memcpy(tg__ptr(t), pc->data, (size_t)pc->bytes);
        if (pc->flags & WEAK_FLAG) t->flags |= TG_TFLAG_WEAK;
        g->consts[g->n_consts++] = t;
        val->const_index = (int)k;
    }
    for (uint32_t k = 0; k < f->n_nodes; k++) {
        const pnode *p = &f->nodes[k];
        tg_gnode *nd = &g->nodes[k];
        nd->def = p->def;
        nd->n_in = p->n_in;
        nd->n_out = p->n_out;
        nd->attrs.n_int = p->n_int;
        nd->attrs.n_real = p->n_real;
        for (int q = 0; q < p->n_int; q++) nd->attrs.i[q] = sref_value(&p->ints[q], symval);
        for (int q = 0; q < p->n_real; q++) nd->attrs.d[q] = p->reals[q];
        nd->in = malloc((size_t)(p->n_in + p->n_out + 1) * sizeof(int));
        g->n_nodes = (int)k + 1;
        if (!nd->in) goto oom;
        if (p->has_str) {
            nd->attr_str = strdup(p->str);
            if (!nd->attr_str) goto oom;
            nd->attrs.str = nd->attr_str;
        }
        memcpy(nd->in, p->ids, (size_t)(p->n_in + p->n_out) * sizeof(int));
        nd->out = nd->in + p->n_in;
        for (int j = 0; j < p->n_out; j++) g->values[nd->out[j]].producer = (int)k;
    }
    return g;
oom:
    fail(c, TG_ERR_MEMORY, "out of memory");
    tg_graph_free(g);
    return NULL;
}

static tg_program *load(lctx *c, const unsigned char *p, size_t n) {
    rbuf r = {p, n, 0, "the header", false};
    parsed f = {0};
    int64_t *symval = NULL;
    tg_graph *g = NULL;
    tg_program *prog = NULL;
    const unsigned char *magic;
    if (!take(&r, c, 8, &magic)) goto done;
    if (memcmp(magic, MAGIC, 8) != 0) { fail(c, TG_ERR_IO, "not a Tangent program (bad magic)"); goto done; }
    uint32_t version = get_u32(&r, c);
    uint32_t flags = get_u32(&r, c);
    uint64_t body = get_u64(&r, c);
    if (r.bad) goto done;
    if (version > FORMAT_VERSION) {
        fail(c, TG_ERR_IO, "file format version %u is newer than this library's %u", version, FORMAT_VERSION);
        goto done;
    }
    if (version == 0) { fail(c, TG_ERR_IO, "corrupt: file format version 0"); goto done; }
    f.version = version;
    if (flags != 0) { fail(c, TG_ERR_IO, "corrupt: unknown header flags 0x%x", flags); goto done; }
    if (body > n - HEADER_BYTES || n - HEADER_BYTES - body < 4) {
        fail(c, TG_ERR_IO, "truncated: the header announces %llu bytes of body and a 4-byte CRC, %zu bytes follow",
             (unsigned long long)body, n - HEADER_BYTES);
        goto done;
    }
    if (n - HEADER_BYTES - body > 4) {
        fail(c, TG_ERR_IO, "corrupt: %zu unexpected bytes after the CRC", (size_t)(n - HEADER_BYTES - body - 4));
        goto done;
    }
    size_t end = HEADER_BYTES + (size_t)body;
    uint32_t stored = (uint32_t)p[end] | (uint32_t)p[end + 1] << 8 | (uint32_t)p[end + 2] << 16 |
                      (uint32_t)p[end + 3] << 24;
    uint32_t crc = (uint32_t)crc32(0L, p, (uInt)end);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION   /* the fuzzer explores past the CRC */
    if (crc != stored) {
        fail(c, TG_ERR_IO, "corrupt: CRC mismatch (file says %08x, contents give %08x)", stored, crc);
        goto done;
    }
#else
    (void)crc;
    (void)stored;
#endif
    r.n = end;
    bool (*const parse[5])(rbuf *, lctx *, parsed *) = {parse_syms, parse_values, parse_consts, parse_nodes, parse_io};
    for (int k = 0; k < 5; k++) {
        char what[40];
        snprintf(what, sizeof what, "the %s section header", section_tags[k]);
        r.what = what;
        const unsigned char *tag;
        if (!take(&r, c, 4, &tag)) goto done;
        uint64_t len = get_u64(&r, c);
        if (r.bad) goto done;
        if (memcmp(tag, section_tags[k], 4) != 0) {
            fail(c, TG_ERR_IO, "corrupt: section %d should be %s", k, section_tags[k]);
            goto done;
        }
        if (len > r.n - r.at) {
            fail(c, TG_ERR_IO, "corrupt: section %s claims %llu bytes, %zu are left", section_tags[k],
                 (unsigned long long)len, r.n - r.at);
            goto done;
        }
        char swhat[40];
        snprintf(swhat, sizeof swhat, "section %s", section_tags[k]);
        rbuf s = {r.p + r.at, (size_t)len, 0, swhat, false};
        if (!parse[k](&s, c, &f)) goto done;
        if (s.at != s.n) {
            fail(c, TG_ERR_IO, "corrupt: section %s has %zu bytes left over", section_tags[k], s.n - s.at);
            goto done;
        }
        r.at += (size_t)len;
    }
    if (r.at != r.n) { fail(c, TG_ERR_IO, "corrupt: %zu bytes after the last section", r.n - r.at); goto done; }
    if (!check_graph(c, &f)) goto done;

    /* valid: build */
    symval = malloc((f.n_sym ? f.n_sym : 1) * sizeof *symval);
    if (!symval) { fail(c, TG_ERR_MEMORY, "out of memory"); goto done; }
    if (!build_syms(c, &f, symval)) goto done;
    if (!(g = build_graph(c, &f, symval))) goto done;
    if (!check_inference(c, g)) goto done;
    prog = tg_compile(g, NULL);
    if (!prog) fail(c, tg_last_error_code() ? tg_last_error_code() : TG_ERR_MEMORY, "%s", tg_last_error());
done:
    tg_graph_free(g);
    free(symval);
    parsed_free(&f);
    return prog;
}

/* Loads with any error pending from before the call set aside, so the
 * checks (inference, rebuilding) see only their own. Their messages are
 * folded into ours; the older error, if any, stays the first one. */
static tg_program *load_keeping_errors(lctx *c, const unsigned char *buf, size_t len) {
    tg__stashed_error older;
    tg__error_stash(&older);
    tg_program *p = load(c, buf, len);
    tg_clear_error();
    if (!p) {
        if (c->code == TG_OK) fail(c, TG_ERR_IO, "failed");
        tg__error(c->code, "tg_program_load: %s: %s", c->src, c->msg);
    }
    tg__error_unstash(&older);
    return p;
}

tg_program *tg_program_load_buffer(const void *buf, size_t len) {
    lctx c = {.src = "buffer"};
    if (!buf && len) return tg__error(TG_ERR_ARG, "tg_program_load_buffer: buf is NULL"), NULL;
    return load_keeping_errors(&c, buf, len);
}

tg_program *tg_program_load(const char *path) {
    if (!path) return tg__error(TG_ERR_ARG, "tg_program_load: path is NULL"), NULL;
    lctx c = {.src = path};
    FILE *f = fopen(path, "rb");
    if (!f) return tg__error(TG_ERR_IO, "tg_program_load: cannot open '%s': %s", path, strerror(errno)), NULL;
    unsigned char *data = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            unsigned char *q = realloc(data, cap);
            if (!q) { ok = false; break; }
            data = q;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    bool read_error = ferror(f) != 0;
    fclose(f);
    if (!ok || read_error) {
        free(data);
        if (!ok) return tg__error(TG_ERR_MEMORY, "tg_program_load: '%s': out of memory", path), NULL;
        return tg__error(TG_ERR_IO, "tg_program_load: cannot read '%s'", path), NULL;
    }
    tg_program *p = load_keeping_errors(&c, data, n);
    free(data);
    return p;
}
