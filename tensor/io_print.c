/* NumPy-style printing: tg_format, tg_fprint, tg_print.
 *
 * The value text follows NumPy's str(array) with the default print options
 * (numpy/core/arrayprint.py: precision 8, floatmode 'maxprec', threshold
 * 1000, edgeitems 3, linewidth 75), re-implemented here:
 *  - one format per tensor, computed from the elements shown (the edge items
 *    when summarised), so columns align;
 *  - ints right-aligned to the widest; bools " True"/"False";
 *  - floats: positional unless a non-zero |x| is >= 1e8 or < 1e-4 or the
 *    ratio of the largest to the smallest non-zero |x| is > 1000; then
 *    scientific. Each value takes the fewest fractional digits (at most 8)
 *    that read back to the same value in its own dtype (f16, bf16, f32 or
 *    f64), found by trying printf precisions 0..8 and parsing back, which
 *    gives NumPy's digits for ordinary values. Positional values are padded
 *    with spaces to common integer and fraction widths ("[1.  2.5 3. ]");
 *    scientific ones share one mantissa precision and exponent width;
 *  - complex: real and imaginary parts formatted as two float columns, the
 *    imaginary one with a sign, then 'j' ("1.+2.j");
 *  - rows wrap at 75 columns; "..." replaces the middle of each axis longer
 *    than 6 once numel > 1000.
 * A 0-d tensor prints as NumPy prints its scalar (see scalar_text). The
 * digits come from printf's correctly rounded output, so a value whose
 * shortest digits tie in the last place could in principle differ from
 * NumPy's Dragon4; a comparison with 400 random arrays found none. */
#include "tensor/ops/elementwise.h"
#include "tangent/io.h"
#include "gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_WIDTH 75
#define THRESHOLD 1000
#define EDGE 3
#define MAX_PREC 8

/* ---- growable string -------------------------------------------------- */
typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) { b->oom = true; return; }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}
static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_spaces(sbuf *b, int n) {
    static const char sp[] = "                                ";
    while (n > 0) {
        int k = n < 32 ? n : 32;
        sb_putn(b, sp, (size_t)k);
        n -= k;
    }
}

/* ---- float digits ----------------------------------------------------- */

/* Nearest value with `bits` significant bits and smallest normal exponent
 * emin (of the form 2^emin), overflowing to inf past maxv: f16 and bf16. */
static double round_bits(double v, int bits, int emin, double maxv) {
    if (v == 0 || !isfinite(v)) return v;
    int e;
    frexp(v, &e);                                  /* |v| in [2^(e-1), 2^e) */
    int qe = (e - 1 < emin ? emin : e - 1) - (bits - 1);
    double r = ldexp(nearbyint(ldexp(v, -qe)), qe);
    return fabs(r) > maxv ? copysign(INFINITY, v) : r;
}

/* Does text s read back as x in dtype d? */
static bool reads_back(const char *s, double x, tg_dtype d) {
    switch (d) {
    case TG_F16: return round_bits(strtod(s, NULL), 11, -14, 65504.0) == x;
    case TG_BF16: return round_bits(strtod(s, NULL), 8, -126, 3.3895313892515355e38) == x;
    case TG_F32: return (double)strtof(s, NULL) == x;
    default: return strtod(s, NULL) == x;
    }
}

/* Shortest positional text of finite x with at most maxfrac fractional
 * digits, always with a '.', trailing zeros trimmed. The integer part is
 * exact, as NumPy prints array elements (f32 72243088 -> "72243088.");
 * with zero_fill, digits past the shortest unique ones are zeros instead,
 * as NumPy prints scalars ("72243090."). */
static void positional(char *buf, size_t n, double x, tg_dtype d, bool plus, int maxfrac, bool zero_fill) {
    if (zero_fill) {
        char sci[64];
        int p;
        for (p = 0; p < 16; p++) {                /* 17 digits always read back */
            snprintf(sci, sizeof sci, "%.*e", p, x);
            if (reads_back(sci, x, d)) break;
        }
        if (p == 16) snprintf(sci, sizeof sci, "%.16e", x);
        int e10 = atoi(strchr(sci, 'e') + 1);
        if (p <= e10 && e10 < 40) {               /* all shortest digits are before the point */
            size_t k = 0;
            if (signbit(x)) buf[k++] = '-';
            else if (plus) buf[k++] = '+';
            for (const char *c = sci; *c != 'e'; c++)
                if (*c >= '0' && *c <= '9') buf[k++] = *c;
            for (int i = p; i < e10; i++) buf[k++] = '0';
            buf[k++] = '.';
            buf[k] = '\0';
            return;
        }
    }
    const char *fmt = plus ? "%+#.*f" : "%#.*f";
    for (int q = 0; q <= maxfrac; q++) {
        snprintf(buf, n, fmt, q, x);
        if (reads_back(buf, x, d)) return;
    }
    char *z = buf + strlen(buf);                  /* rounded: trim zeros */
    while (z[-1] == '0') z--;
    *z = '\0';
}

/* Shortest text of finite x with at most MAX_PREC fractional digits (of the
 * mantissa when sci), always with a '.', trailing zeros trimmed. */
static void shortest(char *buf, size_t n, double x, tg_dtype d, bool sci, bool plus) {
    if (!sci) {
        positional(buf, n, x, d, plus, MAX_PREC, false);
        return;
    }
    for (int p = 0; p <= MAX_PREC; p++) {
        snprintf(buf, n, plus ? "%+#.*e" : "%#.*e", p, x);
        if (reads_back(buf, x, d)) return;
    }
    /* Rounded to MAX_PREC digits: trim trailing zeros of the fraction. */
    char *dot = strchr(buf, '.'), *e = strchr(buf, 'e');
    char *z = e;
    while (z > dot + 1 && z[-1] == '0') z--;
    memmove(z, e, strlen(e) + 1);
}

typedef struct {
    tg_dtype d;               /* precision of the values */
    bool plus;                /* sign '+' (imaginary parts) */
    bool exp;
    int pad_left, pad_right, precision, exp_size;
    /* statistics of the shown values */
    bool any_finite, any_nonzero, any_nonfinite, neg_inf;
    double max_abs, min_abs;
} ffmt;

static void ff_stat(ffmt *f, double x) {
    if (!isfinite(x)) {
        f->any_nonfinite = true;
        if (isinf(x) && x < 0) f->neg_inf = true;
        return;
    }
    f->any_finite = true;
    if (x == 0) return;
    double a = fabs(x);
    if (!f->any_nonzero || a > f->max_abs) f->max_abs = a;
    if (!f->any_nonzero || a < f->min_abs) f->min_abs = a;
    f->any_nonzero = true;
}

static void ff_decide(ffmt *f) {
    f->exp = f->any_nonzero && (f->max_abs >= 1e8 || f->min_abs < 1e-4 || f->max_abs / f->min_abs > 1000.0);
    f->exp_size = -1;
}

/* Second statistics pass: widths from each finite value's shortest text. */
static void ff_width(ffmt *f, double x) {
    if (!isfinite(x)) return;
    char buf[64];
    shortest(buf, sizeof buf, x, f->d, f->exp, f->plus);
    int ilen = (int)(strchr(buf, '.') - buf);
    if (f->exp) {
        char *e = strchr(buf, 'e');
        int frac = (int)(e - buf) - ilen - 1, ed = (int)strlen(e + 2);
        if (frac > f->precision) f->precision = frac;
        if (ed > f->exp_size) f->exp_size = ed;
        if (ilen > f->pad_left) f->pad_left = ilen;
    } else {
        int frac = (int)strlen(buf) - ilen - 1;
        if (ilen > f->pad_left) f->pad_left = ilen;
        if (frac > f->pad_right) f->pad_right = frac;
    }
}

static void ff_finish(ffmt *f) {
    if (f->exp) f->pad_right = f->exp_size + 2 + f->precision;
    if (f->any_nonfinite) {
        int offset = f->pad_right + 1, inflen = 3 + (f->plus || f->neg_inf);
        if (3 - offset > f->pad_left) f->pad_left = 3 - offset;
        if (inflen - offset > f->pad_left) f->pad_left = inflen - offset;
    }
}

static void ff_emit(const ffmt *f, sbuf *b, double x) {
    char buf[96];
    if (!isfinite(x)) {
        const char *s = isnan(x) ? (f->plus ? "+nan" : "nan") : x < 0 ? "-inf" : f->plus ? "+inf" : "inf";
        sb_spaces(b, f->pad_left + f->pad_right + 1 - (int)strlen(s));
        sb_puts(b, s);
        return;
    }
    if (f->exp) {
        snprintf(buf, sizeof buf, f->plus ? "%+#.*e" : "%#.*e", f->precision, x);
        char *e = strchr(buf, 'e');
        int ilen = (int)(strchr(buf, '.') - buf), ed = (int)strlen(e + 2);
        sb_spaces(b, f->pad_left - ilen);
        sb_putn(b, buf, (size_t)(e - buf) + 2);           /* mantissa, 'e', sign */
        for (int i = ed; i < f->exp_size; i++) sb_putn(b, "0", 1);
        sb_puts(b, e + 2);
        return;
    }
    shortest(buf, sizeof buf, x, f->d, false, f->plus);
    int ilen = (int)(strchr(buf, '.') - buf), frac = (int)strlen(buf) - ilen - 1;
    sb_spaces(b, f->pad_left - ilen);
    sb_puts(b, buf);
    sb_spaces(b, f->pad_right - frac);
}

/* ---- the printer ------------------------------------------------------ */
typedef struct {
    const tg_tensor *t;
    const char *base;
    int64_t es;
    bool summary;
    int int_width;
    ffmt re, im;
    sbuf out;
} printer;

typedef struct { int64_t i; double re, im; bool b; } value;

/* IEEE binary16 bits to double (exact). */
static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

static value read_value(const printer *P, int64_t off) {
    const char *p = P->base + off * P->es;
    value v = {0, 0, 0, false};
    switch (P->t->dtype) {
    case TG_BOOL: v.b = *(const uint8_t *)p != 0; break;
    case TG_I32: v.i = *(const int32_t *)p; break;
    case TG_I64: v.i = *(const int64_t *)p; break;
    case TG_F32: v.re = *(const float *)p; break;
    case TG_F64: v.re = *(const double *)p; break;
    case TG_C64: v.re = ((const float *)p)[0]; v.im = ((const float *)p)[1]; break;
    case TG_C128: v.re = ((const double *)p)[0]; v.im = ((const double *)p)[1]; break;
    case TG_F16: v.re = half_to_double(*(const uint16_t *)p); break;
    case TG_BF16: {
        uint32_t bits = (uint32_t)*(const uint16_t *)p << 16;
        float f;
        memcpy(&f, &bits, sizeof f);
        v.re = f;
        break;
    }
    }
    return v;
}

/* Which pass visit() runs: statistics, widths, or nothing (layout). */
enum { PASS_STAT, PASS_WIDTH };

static void account(printer *P, int64_t off, int pass) {
    value v = read_value(P, off);
    tg_dtype d = P->t->dtype;
    if (d == TG_BOOL) return;
    if (d == TG_I32 || d == TG_I64) {
        char buf[32];
        int w = snprintf(buf, sizeof buf, "%lld", (long long)v.i);
        if (w > P->int_width) P->int_width = w;
        return;
    }
    if (pass == PASS_STAT) {
        ff_stat(&P->re, v.re);
        if (tg_dtype_is_complex(d)) ff_stat(&P->im, v.im);
    } else {
        ff_width(&P->re, v.re);
        if (tg_dtype_is_complex(d)) ff_width(&P->im, v.im);
    }
}

/* Visits the shown elements (edge items of summarised axes). */
static void visit(printer *P, int axis, int64_t off, int pass) {
    const tg_tensor *t = P->t;
    if (axis == t->ndim) { account(P, off, pass); return; }
    int64_t n = t->shape[axis];
    bool cut = P->summary && n > 2 * EDGE;
    for (int64_t i = 0; i < n; i++) {
        if (cut && i == EDGE) i = n - EDGE;
        visit(P, axis + 1, off + i * t->strides[axis], pass);
    }
}

/* One element's text (no separators). */
static void emit_value(printer *P, int64_t off, sbuf *b) {
    value v = read_value(P, off);
    switch (P->t->dtype) {
    case TG_BOOL:
        sb_puts(b, v.b ? (P->t->ndim ? " True" : "True") : "False");
        return;
    case TG_I32: case TG_I64: {
        char buf[32];
        snprintf(buf, sizeof buf, "%*lld", P->int_width, (long long)v.i);
        sb_puts(b, buf);
        return;
    }
    default: break;
    }
    ff_emit(&P->re, b, v.re);
    if (!tg_dtype_is_complex(P->t->dtype)) return;
    sbuf im = {0};
    ff_emit(&P->im, &im, v.im);
    if (im.oom) { b->oom = true; free(im.s); return; }
    size_t sp = im.len;                      /* 'j' goes before the padding */
    while (sp > 0 && im.s[sp - 1] == ' ') sp--;
    sb_putn(b, im.s, sp);
    sb_putn(b, "j", 1);
    sb_putn(b, im.s + sp, im.len - sp);
    free(im.s);
}

/* NumPy's _extendLine: wrap before word if the line would pass width. */
static void extend_line(printer *P, int *linelen, const char *word, size_t wlen, int width, int hang) {
    sbuf *o = &P->out;
    if (*linelen + (int)wlen > width && *linelen > hang) {
        while (o->len > 0 && o->s[o->len - 1] == ' ') o->len--;
        if (o->s) o->s[o->len] = '\0';
        sb_putn(o, "\n", 1);
        sb_spaces(o, hang);
        *linelen = hang;
    }
    sb_putn(o, word, wlen);
    *linelen += (int)wlen;
}

/* NumPy's _formatArray recurser: hang is the hanging indent, width the
 * line width left at this depth. */
static void layout(printer *P, int axis, int64_t off, int hang, int width) {
    const tg_tensor *t = P->t;
    int64_t n = t->shape[axis], stride = t->strides[axis];
    bool cut = P->summary && n > 2 * EDGE;
    int left = t->ndim - axis;
    sb_putn(&P->out, "[", 1);
    if (left == 1) {
        int linelen = hang, elem_width = width - 1;
        sbuf word = {0};
        for (int64_t i = 0; i < n; i++) {
            if (cut && i == EDGE) {
                extend_line(P, &linelen, "...", 3, elem_width, hang);
                sb_putn(&P->out, " ", 1);
                linelen++;
                i = n - EDGE;
            }
            word.len = 0;
            emit_value(P, off + i * stride, &word);
            if (word.oom) { P->out.oom = true; break; }
            extend_line(P, &linelen, word.s, word.len, elem_width, hang);
            if (i + 1 < n) { sb_putn(&P->out, " ", 1); linelen++; }
        }
        free(word.s);
    } else {
        for (int64_t i = 0; i < n; i++) {
            if (i > 0) sb_spaces(&P->out, hang);
            if (cut && i == EDGE) {
                sb_puts(&P->out, "...");
                for (int k = 0; k < left - 1; k++) sb_putn(&P->out, "\n", 1);
                sb_spaces(&P->out, hang);
                i = n - EDGE;
            }
            layout(P, axis + 1, off + i * stride, hang + 1, width - 1);
            if (i + 1 < n)
                for (int k = 0; k < left - 1; k++) sb_putn(&P->out, "\n", 1);
        }
    }
    sb_putn(&P->out, "]", 1);
}

/* A 0-d float or complex prints as NumPy prints the scalar (Python's repr
 * rules): shortest digits, positional for 1e-4 <= |x| < 1e16 (and 0) with
 * ".0" for integral values, else scientific ("1e+16"); complex "(1+2j)", or
 * "2j" when the real part is +0. */
static void scalar_text(char *buf, size_t n, double x, tg_dtype d, bool plus, bool complex_part) {
    if (!isfinite(x)) {
        snprintf(buf, n, "%s%s", isnan(x) ? (plus ? "+" : "") : x < 0 ? "-" : plus ? "+" : "",
                 isnan(x) ? "nan" : "inf");
        return;
    }
    double a = fabs(x);
    if (a != 0 && (a < 1e-4 || a >= 1e16)) {
        for (int p = 0; p <= 16; p++) {
            snprintf(buf, n, plus ? "%+.*e" : "%.*e", p, x);
            if (reads_back(buf, x, d)) break;
        }
        return;
    }
    positional(buf, n, x, d, plus, 40, true);
    size_t k = strlen(buf);
    if (buf[k - 1] == '.') {                       /* "1.0", or "1" in complex */
        if (complex_part) buf[k - 1] = '\0';
        else strcat(buf, "0");
    }
}

static void emit_scalar(printer *P) {
    value v = read_value(P, 0);
    char re[80], im[80];
    if (!tg_dtype_is_complex(P->t->dtype)) {
        scalar_text(re, sizeof re, v.re, P->re.d, false, false);
        sb_puts(&P->out, re);
        return;
    }
    scalar_text(im, sizeof im, v.im, P->re.d, false, true);
    if (v.re == 0 && !signbit(v.re)) {
        sb_puts(&P->out, im);
        sb_puts(&P->out, "j");
        return;
    }
    scalar_text(re, sizeof re, v.re, P->re.d, false, true);
    scalar_text(im, sizeof im, v.im, P->re.d, true, true);
    sb_puts(&P->out, "(");
    sb_puts(&P->out, re);
    sb_puts(&P->out, im);
    sb_puts(&P->out, "j)");
}

static void init_ffmt(ffmt *f, tg_dtype d, bool plus) {
    memset(f, 0, sizeof *f);
    f->d = d;
    f->plus = plus;
}

static void format_values(printer *P) {
    const tg_tensor *t = P->t;
    int64_t n = tg__numel(t->ndim, t->shape);
    if (n == 0) { sb_puts(&P->out, "[]"); return; }
    P->summary = n > THRESHOLD;
    tg_dtype prec = t->dtype == TG_C64 ? TG_F32 : t->dtype == TG_C128 ? TG_F64 : t->dtype;
    init_ffmt(&P->re, prec, false);
    init_ffmt(&P->im, prec, true);
    visit(P, 0, 0, PASS_STAT);
    ff_decide(&P->re);
    ff_decide(&P->im);
    visit(P, 0, 0, PASS_WIDTH);
    ff_finish(&P->re);
    ff_finish(&P->im);
    if (t->ndim == 0) {
        if (tg_dtype_is_floating(t->dtype) || tg_dtype_is_complex(t->dtype)) emit_scalar(P);
        else emit_value(P, 0, &P->out);
        return;
    }
    layout(P, 0, 0, 1, LINE_WIDTH);
}

static tg_status format_impl(const tg_tensor *t, char **res) {
    *res = NULL;
    if (!t) return tg__error(TG_ERR_ARG, "tg_format: tensor is NULL");
    if ((unsigned)t->dtype >= TG_NUM_DTYPES)
        return tg__error(TG_ERR_DTYPE, "tg_format: invalid dtype %d", (int)t->dtype);
    if (t->storage->device.kind != TG_CPU && !tg__is_tracer(t)) {
        /* a device tensor prints its values copied to the host (waits for them) */
        tg_tensor *h = tg__vk_transfer((tg_tensor *)t, (tg_device){TG_CPU, 0});
        if (!h) return tg_last_error_code();
        tg_status st = format_impl(h, res);
        tg_release(h);
        if (st == TG_OK && *res) {
            char *dev = strstr(*res, "device=cpu)");
            const char *name = tg__vk_device_name(t->storage->device.index);
            size_t at = dev ? (size_t)(dev - *res) + 7 : 0, nn = strlen(name);
            char *r = dev ? realloc(*res, at + nn + 2) : NULL;
            if (r) {
                memcpy(r + at, name, nn);
                memcpy(r + at + nn, ")", 2);
                *res = r;
            }
        }
        return st;
    }
    printer P;
    memset(&P, 0, sizeof P);
    P.t = t;
    P.es = (int64_t)tg_dtype_size(t->dtype);
    P.base = tg__numel(t->ndim, t->shape) ? tg__ptr(t) : NULL;
    format_values(&P);
    char shape[200], head[300];
    snprintf(head, sizeof head, "\ntensor(shape=%s, dtype=%s, device=cpu)",
             tg__fmt_shape(shape, sizeof shape, t->ndim, t->shape), tg_dtype_name(t->dtype));
    sb_puts(&P.out, head);
    if (P.out.oom) {
        free(P.out.s);
        return tg__error(TG_ERR_MEMORY, "tg_format: out of memory");
    }
    *res = P.out.s;
    return TG_OK;
}

char *tg_format(const tg_tensor *t) {
    char *s;
    format_impl(t, &s);
    return s;
}

tg_status tg_fprint(FILE *f, const tg_tensor *t) {
    if (!f) return tg__error(TG_ERR_ARG, "tg_fprint: FILE is NULL");
    char *s;
    tg_status st = format_impl(t, &s);
    if (st) return st;
    int rc = fprintf(f, "%s\n", s);
    free(s);
    if (rc < 0) return tg__error(TG_ERR_IO, "tg_fprint: write failed");
    return TG_OK;
}

tg_status tg_print(const tg_tensor *t) { return tg_fprint(stdout, t); }
