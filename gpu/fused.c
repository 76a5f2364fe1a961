/* Fused kernels for compiled programs on a Vulkan device (docs/gpu.md,
 * "Fused kernels").
 *
 * tg_compile marks runs of elementwise nodes as fusion groups
 * (autodiff/fusion.c). For each group this file writes one GLSL compute
 * shader at compile time: one invocation per output element computes the
 * whole chain in registers, reading the group's inputs once and writing
 * only the values read after the group (or returned). The text is turned
 * into SPIR-V through the kernel cache (gpu/spirv_cache.c); the pipeline is
 * made on first use on a device (gpu/device.c).
 *
 * Sizes and strides are kernel parameters, never part of the text, so one
 * kernel serves every binding of the program's symbols: a new batch size
 * never compiles anything. Parameter block (32-bit ints, binding 0):
 *   p[0] n   p[1] ndim   p[2] 1 when every operand is dense in the output's
 *   layout (no broadcast, no strides: offsets are base + i)   p[3] 1 when
 *   also every base is a multiple of 4 (vec4 loads and stores; the chain
 *   itself still runs element by element, so results do not change)
 *   p[4] 0, xor-ed into the scalar literals so no driver folds them
 *   p[8 + d] output shape
 *   p[16 + 10 j] element offset of operand j, p[17 + 10 j] its binding
 *   (1..5), p[18 + 10 j + d] its stride along axis d (0 when broadcast);
 *   operands are the outputs, then the inputs.
 * Data bindings 1..5 are whole memory blocks (several operands may share
 * one), so a run whose operands span more than 5 blocks runs op by op.
 *
 * Each node's formula is the function its own kernel calls
 * (gpu/shaders/elementwise_funcs.glsl: u_<op>, b_<op>), and every
 * intermediate is `precise` (no contraction into fused multiply-adds), so
 * the fused kernel computes exactly what the op-by-op kernels compute. */
#include "gpu/gpu.h"

#ifdef TG_HAVE_VULKAN
#include "autodiff/graph.h"
#include "gpu/kernel_util.h"
#include "tensor/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPERANDS 24            /* (TG_VK_PARAM_BYTES_MAX / 4 - 16) / 10 */
/* A reduction kernel's own parameters, after reduce.comp's p[0..63]: p[64]
 * the chain's ndim, p[65 + d] its shape; per input q at P_RED_OP + 12 q:
 * element offset, binding, 1 when dense in the chain's layout, strides. */
#define P_RED_EXT 64
#define P_RED_OP 80
#define P_RED_STRIDE 12
#define MAX_RED_INPUTS ((TG_VK_PARAM_BYTES_MAX / 4 - P_RED_OP) / P_RED_STRIDE)
#define P_RED_ZERO 79              /* always 0 (reduce.comp's p[4] is not) */
#define P_HEAD 16
#define P_OPERAND 10

/* gpu/shaders/elementwise_funcs.glsl and reduce.comp, embedded by CMakeLists.txt */
extern const char tg__glsl_elementwise_funcs[], tg__glsl_reduce[];

struct tg_fused_kernel {
    tg_dtype t;                    /* the one float dtype of the group's buffers */
    int n_out, n_in;
    int out_value[MAX_OPERANDS];   /* values written (read after the group) */
    int in_value[MAX_OPERANDS];    /* values read from buffers */
    char *src;                     /* the GLSL text */
    const uint32_t *code;          /* its SPIR-V (owned by the kernel cache) */
    size_t size;
    char name[48];                 /* "fused-<key>": the pipeline's name */
    int reduce_op;                 /* -1: elementwise; 0 sum 1 prod 2 max 3 min: the group's reduction runs in it */
    int ndim_in;                   /* the reduction's input axes (the chain's shape) */
    bool mask[TG_MAX_DIMS];        /* the axes it reduces */
    int zero;                      /* the parameter that is always 0 (literals are xor-ed with it) */
};

/* ---- text ---------------------------------------------------------------------- */
static const char *const arith[] = {"add", "sub", "mul", "div", "maximum", "minimum"};
static const char *const cmp_names[] = {"eq", "ne", "lt", "le", "gt", "ge"};
static const char *const cmp_ops[] = {"==", "!=", "<", "<=", ">", ">="};

/* Whether elementwise_funcs.glsl defines "T <prefix><op>(": the op's formula. */
static bool has_formula(const char *prefix, const char *op) {
    char sig[80];
    snprintf(sig, sizeof sig, "T %s%s(", prefix, op);
    return strstr(tg__glsl_elementwise_funcs, sig) != NULL;
}

static bool is_weak_scalar(const tg_graph *g, int v) {
    const tg_value *x = &g->values[v];
    if (x->const_index < 0) return false;
    const tg_tensor *c = g->consts[x->const_index];
    return (c->flags & TG_TFLAG_WEAK) && c->storage->device.kind == TG_CPU && tg__numel(c->ndim, c->shape) == 1;
}

/* A weak scalar converted to t, as exact GLSL (its bits), xor-ed with
 * p[zero] (always 0). */
static bool literal(const tg_graph *g, int v, tg_dtype t, int zero, char *buf, size_t n) {
    const tg_tensor *c = g->consts[g->values[v].const_index];
    const void *p = tg__ptr(c);
    double x;
    switch (c->dtype) {
    case TG_F64: memcpy(&x, p, 8); break;
    case TG_F32: { float f; memcpy(&f, p, 4); x = f; break; }
    case TG_I64: {
        int64_t i;
        memcpy(&i, p, 8);
        if (i > ((int64_t)1 << 53) || i < -((int64_t)1 << 53)) return false;   /* not exact in a double */
        x = (double)i;
        break;
    }
    case TG_I32: { int32_t i; memcpy(&i, p, 4); x = i; break; }
    default: return false;
    }
    /* ^ p[zero] (always 0): a value the driver cannot see, as the op's own
     * kernel gets the scalar as a parameter; a constant let NVIDIA's f64
     * code divide by 3 differently from a division by a runtime 3 */
    if (t == TG_F32) {
        float f = (float)x;
        uint32_t u;
        memcpy(&u, &f, 4);
        snprintf(buf, n, "uintBitsToFloat(0x%08xu ^ uint(p[%d]))", u, zero);
    } else {
        uint64_t u;
        memcpy(&u, &x, 8);
        snprintf(buf, n, "packDouble2x32(uvec2(0x%08xu ^ uint(p[%d]), 0x%08xu))", (uint32_t)u, zero,
                 (uint32_t)(u >> 32));
    }
    return true;
}

/* The expression of input i of node j: an earlier node's value, a literal,
 * or an input operand (added to f). want: the dtype the formula needs. */
static bool arg(tg_fused_kernel *f, const tg_graph *g, int k, int e, int j, int i, tg_dtype want, char *buf,
                size_t n) {
    int v = g->nodes[j].in[i], p = g->values[v].producer;
    if (p >= k && p <= e) {
        if (g->values[v].dtype != want) return false;
        snprintf(buf, n, "v%d", p - k);
        return true;
    }
    if (is_weak_scalar(g, v)) return want == f->t && literal(g, v, f->t, f->zero, buf, n);
    if (g->values[v].dtype != want || want != f->t) return false;
    int q = 0;
    while (q < f->n_in && f->in_value[q] != v) q++;
    if (q == f->n_in) {
        if (f->n_out + f->n_in == MAX_OPERANDS) return false;
        f->in_value[f->n_in++] = v;
    }
    snprintf(buf, n, "x%d", q);
    return true;
}

static int index_of(const char *name, const char *const *names, int n) {
    for (int i = 0; i < n; i++) if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

/* The statement computing node j into v<j - k>; false for an op or dtype
 * the generator does not cover. */
static bool node_code(tg_fused_kernel *f, const tg_graph *g, int k, int e, int j, tg_strbuf *body) {
    const tg_gnode *nd = &g->nodes[j];
    const char *op = nd->def->name;
    tg_dtype od = g->values[nd->out[0]].dtype, t = f->t;
    char a[96], b[96], c[96];
    int q;
    if (nd->n_out != 1) return false;
    if (nd->n_in == 1 && strcmp(op, "cast") != 0 && strcmp(op, "logical_not") != 0) {
        if (od != t || !has_formula("u_", op) || !arg(f, g, k, e, j, 0, t, a, sizeof a)) return false;
        tg__strbuf_printf(body, "        precise T v%d = u_%s(%s);\n", j - k, op, a);
        return true;
    }
    if (nd->n_in == 2 && (q = index_of(op, arith, 6)) >= 0) {
        if (od != t || !has_formula("b_", op) || !arg(f, g, k, e, j, 0, t, a, sizeof a) ||
            !arg(f, g, k, e, j, 1, t, b, sizeof b))
            return false;
        tg__strbuf_printf(body, "        precise T v%d = b_%s(%s, %s);\n", j - k, op, a, b);
        return true;
    }
    if (nd->n_in == 2 && (q = index_of(op, cmp_names, 6)) >= 0) {
        if (od != TG_BOOL || !arg(f, g, k, e, j, 0, t, a, sizeof a) || !arg(f, g, k, e, j, 1, t, b, sizeof b))
            return false;
        tg__strbuf_printf(body, "        bool v%d = %s %s %s;\n", j - k, a, cmp_ops[q], b);
        return true;
    }
    if (nd->n_in == 3 && strcmp(op, "where") == 0) {
        if (od != t || !arg(f, g, k, e, j, 0, TG_BOOL, c, sizeof c) || !arg(f, g, k, e, j, 1, t, a, sizeof a) ||
            !arg(f, g, k, e, j, 2, t, b, sizeof b))
            return false;
        tg__strbuf_printf(body, "        precise T v%d = %s ? %s : %s;\n", j - k, c, a, b);
        return true;
    }
    if (nd->n_in == 1 && strcmp(op, "logical_not") == 0) {
        if (od != TG_BOOL || !arg(f, g, k, e, j, 0, TG_BOOL, a, sizeof a)) return false;
        tg__strbuf_printf(body, "        bool v%d = !%s;\n", j - k, a);
        return true;
    }
    if (nd->n_in == 1 && strcmp(op, "cast") == 0) {
        tg_dtype id = g->values[nd->in[0]].dtype;
        if (id == t && od == TG_BOOL) {          /* as the CPU: NaN is true */
            if (!arg(f, g, k, e, j, 0, t, a, sizeof a)) return false;
            tg__strbuf_printf(body, "        bool v%d = %s != T(0);\n", j - k, a);
        } else if (id == TG_BOOL && od == t) {
            if (!arg(f, g, k, e, j, 0, TG_BOOL, a, sizeof a)) return false;
            tg__strbuf_printf(body, "        precise T v%d = %s ? T(1) : T(0);\n", j - k, a);
        } else if (id == t && od == t) {
            if (!arg(f, g, k, e, j, 0, t, a, sizeof a)) return false;
            tg__strbuf_printf(body, "        precise T v%d = %s;\n", j - k, a);
        } else {
            return false;
        }
        return true;
    }
    return false;
}

/* The statements of nodes k..e into body; the values read after the group
 * (escapes) become f's outputs. */
static bool chain_body(tg_fused_kernel *f, const tg_graph *g, int k, int e, const bool *escapes, tg_strbuf *body) {
    bool ok = true;
    for (int j = k; j <= e && ok; j++) {
        ok = node_code(f, g, k, e, j, body);
        if (!ok)
            tg__vk_debug("fusion group at node %d: no kernel (node %d, %s, is outside what the generator covers)", k,
                         j, g->nodes[j].def->name);
        int v = g->nodes[j].out[0];
        if (ok && escapes[v]) {
            if (g->values[v].dtype != f->t || f->n_out + f->n_in == MAX_OPERANDS) ok = false;
            else f->out_value[f->n_out++] = v;
        }
    }
    return ok && !body->bad && f->n_out > 0;
}

/* What both kinds of kernel start with: T, the parameter block, the data
 * bindings, the formulas, ld(b, o) and chain(inputs..., out outputs...). */
static void prelude(tg_strbuf *s, const tg_fused_kernel *f, const tg_graph *g, int k, const char *body) {
    tg__strbuf_printf(s, f->t == TG_F64 ? "#define T double\n#define V dvec4\n#define TG_F64\n" : "#define T float\n#define V vec4\n");
    tg__strbuf_printf(s, "layout(std430, binding = 0) readonly buffer Params { int p[]; };\n");
    for (int i = 1; i < TG_VK_BINDINGS; i++) tg__strbuf_printf(s, "layout(std430, binding = %d) buffer D%d { T d%d[]; };\n", i, i, i);
    tg__strbuf_printf(s, "%s\n", tg__glsl_elementwise_funcs);
    tg__strbuf_printf(s, "T ld(int b, int o) {\n");
    for (int i = 1; i < TG_VK_BINDINGS - 1; i++) tg__strbuf_printf(s, "    if (b == %d) return d%d[o];\n", i, i);
    tg__strbuf_printf(s, "    return d%d[o];\n}\n", TG_VK_BINDINGS - 1);
    tg__strbuf_printf(s, "void chain(");
    for (int q = 0; q < f->n_in; q++) tg__strbuf_printf(s, "%sT x%d", q ? ", " : "", q);
    for (int q = 0; q < f->n_out; q++) tg__strbuf_printf(s, "%sout T r%d", q || f->n_in ? ", " : "", q);
    tg__strbuf_printf(s, ") {\n%s", body);
    for (int q = 0; q < f->n_out; q++) tg__strbuf_printf(s, "        r%d = v%d;\n", q, g->values[f->out_value[q]].producer - k);
    tg__strbuf_printf(s, "}\n");
}

static char *generate(tg_fused_kernel *f, const tg_graph *g, int k, int e, const bool *escapes) {
    tg_strbuf body = {0}, s = {0};
    if (!chain_body(f, g, k, e, escapes, &body)) { free(body.s); return NULL; }
    int nops = f->n_out + f->n_in;
    tg__strbuf_printf(&s, "#version 450\n// generated by Tangent (gpu/fused.c): %d nodes\n", e - k + 1);
    tg__strbuf_printf(&s, "layout(local_size_x = %d) in;\n", TG_VK_LOCAL);
    prelude(&s, f, g, k, body.s);
    /* loads and stores through the operand's binding, one element or four */
    for (int i = 1; i < TG_VK_BINDINGS; i++) tg__strbuf_printf(&s, "layout(std430, binding = %d) buffer Q%d { V q%d[]; };\n", i, i, i);
    const char *tn[2] = {"T", "V"}, *an[2] = {"d", "q"}, *fn[2] = {"", "4"};
    for (int w = 0; w < 2; w++) {
        if (w) {   /* ld (scalar) is the prelude's */
            tg__strbuf_printf(&s, "%s ld%s(int b, int o) {\n", tn[w], fn[w]);
            for (int i = 1; i < TG_VK_BINDINGS - 1; i++) tg__strbuf_printf(&s, "    if (b == %d) return %s%d[o];\n", i, an[w], i);
            tg__strbuf_printf(&s, "    return %s%d[o];\n}\n", an[w], TG_VK_BINDINGS - 1);
        }
        tg__strbuf_printf(&s, "void st%s(int b, int o, %s v) {\n", fn[w], tn[w]);
        for (int i = 1; i < TG_VK_BINDINGS - 1; i++)
            tg__strbuf_printf(&s, "    %sif (b == %d) %s%d[o] = v;\n", i > 1 ? "else " : "", i, an[w], i);
        tg__strbuf_printf(&s, "    else %s%d[o] = v;\n}\n", an[w], TG_VK_BINDINGS - 1);
    }
    /* the call of chain on operands named <prefix><q> into <prefix2><q> */
    tg_strbuf call = {0}, call4 = {0};
    tg__strbuf_printf(&call, "chain(");
    tg__strbuf_printf(&call4, "chain(");
    for (int q = 0; q < f->n_in; q++) { tg__strbuf_printf(&call, "%sx%d", q ? ", " : "", q); tg__strbuf_printf(&call4, "%sX%d[c]", q ? ", " : "", q); }
    for (int q = 0; q < f->n_out; q++) {
        tg__strbuf_printf(&call, "%sr%d", q || f->n_in ? ", " : "", q);
        tg__strbuf_printf(&call4, "%sr%d", q || f->n_in ? ", " : "", q);
    }
    tg__strbuf_printf(&call, ");");
    tg__strbuf_printf(&call4, ");");
    tg__strbuf_printf(&s, "void main() {\n    uint n = uint(p[0]);\n    int nd = p[1];\n    bool dense = p[2] != 0, quad = p[3] != 0;\n");
    tg__strbuf_printf(&s, "    uint step = gl_NumWorkGroups.x * %du, start = 0u;\n", TG_VK_LOCAL);
    /* dense and every base a multiple of 4: four elements per load */
    tg__strbuf_printf(&s, "    if (quad) {\n        uint n4 = n / 4u;\n");
    tg__strbuf_printf(&s, "        for (uint i = gl_GlobalInvocationID.x; i < n4; i += step) {\n");
    for (int q = 0; q < f->n_in; q++) {
        int j = f->n_out + q;
        tg__strbuf_printf(&s, "            V X%d = ld4(p[%d], p[%d] / 4 + int(i));\n", q, P_HEAD + P_OPERAND * j + 1, P_HEAD + P_OPERAND * j);
    }
    for (int q = 0; q < f->n_out; q++) tg__strbuf_printf(&s, "            V R%d;\n", q);
    tg__strbuf_printf(&s, "            for (int c = 0; c < 4; c++) {\n");
    if (f->n_out) {
        tg__strbuf_printf(&s, "                T ");
        for (int q = 0; q < f->n_out; q++) tg__strbuf_printf(&s, "%sr%d", q ? ", " : "", q);
        tg__strbuf_printf(&s, ";\n");
    }
    tg__strbuf_printf(&s, "                %s\n", call4.s ? call4.s : "");
    for (int q = 0; q < f->n_out; q++) tg__strbuf_printf(&s, "                R%d[c] = r%d;\n", q, q);
    tg__strbuf_printf(&s, "            }\n");
    for (int q = 0; q < f->n_out; q++)
        tg__strbuf_printf(&s, "            st4(p[%d], p[%d] / 4 + int(i), R%d);\n", P_HEAD + P_OPERAND * q + 1, P_HEAD + P_OPERAND * q, q);
    tg__strbuf_printf(&s, "        }\n        start = n4 * 4u;\n    }\n");
    tg__strbuf_printf(&s, "    for (uint i = start + gl_GlobalInvocationID.x; i < n; i += step) {\n");
    for (int j = 0; j < nops; j++) tg__strbuf_printf(&s, "        int o%d = p[%d];\n", j, P_HEAD + P_OPERAND * j);
    tg__strbuf_printf(&s, "        if (dense) {\n");
    for (int j = 0; j < nops; j++) tg__strbuf_printf(&s, "            o%d += int(i);\n", j);
    tg__strbuf_printf(&s, "        } else {\n            uint r = i;\n            for (int d = nd - 1; d >= 0; d--) {\n");
    tg__strbuf_printf(&s, "                uint sz = uint(p[8 + d]);\n                int c = int(r %% sz);\n                r /= sz;\n");
    for (int j = 0; j < nops; j++) tg__strbuf_printf(&s, "                o%d += c * p[%d + d];\n", j, P_HEAD + P_OPERAND * j + 2);
    tg__strbuf_printf(&s, "            }\n        }\n");
    for (int q = 0; q < f->n_in; q++)
        tg__strbuf_printf(&s, "        T x%d = ld(p[%d], o%d);\n", q, P_HEAD + P_OPERAND * (f->n_out + q) + 1, f->n_out + q);
    if (f->n_out) {
        tg__strbuf_printf(&s, "        T ");
        for (int q = 0; q < f->n_out; q++) tg__strbuf_printf(&s, "%sr%d", q ? ", " : "", q);
        tg__strbuf_printf(&s, ";\n");
    }
    tg__strbuf_printf(&s, "        %s\n", call.s ? call.s : "");
    for (int q = 0; q < f->n_out; q++) tg__strbuf_printf(&s, "        st(p[%d], o%d, r%d);\n", P_HEAD + P_OPERAND * q + 1, q, q);
    tg__strbuf_printf(&s, "    }\n}\n");
    if (call.bad || call4.bad) s.bad = true;
    free(call.s);
    free(call4.s);
    free(body.s);
    if (s.bad) { free(s.s); return NULL; }
    return s.s;
}

tg_fused_kernel *tg__fused_build(const struct tg_graph *g, int k, int e, const bool *escapes) {
    tg_dtype t = g->values[g->nodes[e].out[0]].dtype;
    for (int j = k; j <= e && (t != TG_F32 && t != TG_F64); j++) t = g->values[g->nodes[j].out[0]].dtype;
    if (t != TG_F32 && t != TG_F64) return NULL;
    tg_fused_kernel *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->t = t;
    f->reduce_op = -1;
    f->zero = 4;
    f->src = generate(f, g, k, e, escapes);
    char key[33];
    if (f->src) f->code = tg__vk_spirv_get(f->src, &f->size, key);
    if (!f->code) { tg__fused_free(f); return NULL; }
    snprintf(f->name, sizeof f->name, "fused-%s", key);
    return f;
}

/* ---- a group that ends in a reduction ----------------------------------------- */
/* The kernel text: the chain's prelude, elem(o) (the chain at element o of
 * its dense output; a broadcast or strided input at its own offset of that
 * element), then reduce.comp read through elem (its #version line
 * dropped: it must come first, and comes first here). */
static char *generate_reduce(tg_fused_kernel *f, const tg_graph *g, int k, int e, const bool *escapes) {
    tg_strbuf body = {0}, s = {0};
    bool ok = chain_body(f, g, k, e - 1, escapes, &body) && f->n_out == 1 &&
              f->out_value[0] == g->nodes[e].in[0] && f->n_in <= MAX_RED_INPUTS;
    const char *red = strstr(tg__glsl_reduce, "#version 450\n");
    if (!ok || !red) { free(body.s); return NULL; }
    tg__strbuf_printf(&s, "#version 450\n// generated by Tangent (gpu/fused.c): %d nodes and a %s\n", e - k,
                      g->nodes[e].def->name);
    prelude(&s, f, g, k, body.s);
    tg__strbuf_printf(&s, "int at(int o, int s) {\n    int r = 0;\n    uint i = uint(o);\n");
    tg__strbuf_printf(&s, "    for (int d = p[%d] - 1; d >= 0; d--) {\n", P_RED_EXT);
    tg__strbuf_printf(&s, "        uint sz = uint(p[%d + d]);\n        r += int(i %% sz) * p[s + d];\n", P_RED_EXT + 1);
    tg__strbuf_printf(&s, "        i /= sz;\n    }\n    return r;\n}\n");
    tg__strbuf_printf(&s, "T elem(int o) {\n");
    for (int q = 0; q < f->n_in; q++) {
        int b = P_RED_OP + P_RED_STRIDE * q;
        tg__strbuf_printf(&s, "    T x%d = ld(p[%d], p[%d] + (p[%d] != 0 ? o : at(o, %d)));\n", q, b + 1, b, b + 2, b + 3);
    }
    tg__strbuf_printf(&s, "    T r0;\n    chain(");
    for (int q = 0; q < f->n_in; q++) tg__strbuf_printf(&s, "x%d, ", q);
    tg__strbuf_printf(&s, "r0);\n    return r0;\n}\n#define FUSED_LOAD\n");
    tg__strbuf_printf(&s, "%.*s%s", (int)(red - tg__glsl_reduce), tg__glsl_reduce, red + strlen("#version 450\n"));
    free(body.s);
    if (s.bad) { free(s.s); return NULL; }
    return s.s;
}

tg_fused_kernel *tg__fused_build_reduce(const struct tg_graph *g, int k, int e, const bool *escapes) {
    static const char *const ops[] = {"sum", "prod", "max", "min"};
    const tg_gnode *r = &g->nodes[e];
    int op = index_of(r->def->name, ops, 4);
    if (op < 0 || e <= k || r->n_in != 1 || r->n_out != 1) return NULL;
    const tg_value *x = &g->values[r->in[0]];
    tg_dtype t = x->dtype;
    if ((t != TG_F32 && t != TG_F64) || g->values[r->out[0]].dtype != t || r->attrs.n_int < 2) return NULL;
    /* the reduced axes (the op's attributes: i[1] their count, -1 all; i[2..] them) */
    int64_t na = r->attrs.i[1];
    int ax[TG_MAX_DIMS];
    if (na > r->attrs.n_int - 2 || na > TG_MAX_DIMS) return NULL;
    for (int64_t q = 0; q < na; q++) ax[q] = (int)r->attrs.i[2 + q];
    /* only the reduction's input may leave the chain (into the reduction) */
    for (int j = k; j < e; j++)
        if (escapes[g->nodes[j].out[0]]) return NULL;
    bool *only = calloc((size_t)g->n_values, sizeof *only);
    tg_fused_kernel *f = only ? calloc(1, sizeof *f) : NULL;
    if (!f) { free(only); return NULL; }
    only[r->in[0]] = true;
    f->t = t;
    f->reduce_op = op;
    f->zero = P_RED_ZERO;
    f->ndim_in = x->ndim;
    tg__stashed_error older;            /* bad axes: no fused kernel, and an older error kept */
    tg__error_stash(&older);
    if (tg__axes_mask("tg_compile", na < 0 ? 0 : (int)na, na < 0 ? NULL : ax, x->ndim, f->mask)) tg_clear_error();
    else f->src = generate_reduce(f, g, k, e, only);
    tg__error_unstash(&older);
    free(only);
    char key[33];
    if (f->src) f->code = tg__vk_spirv_get(f->src, &f->size, key);
    if (!f->code) { tg__fused_free(f); return NULL; }
    snprintf(f->name, sizeof f->name, "fused-%s", key);
    return f;
}

tg_status tg__fused_run_reduce(const tg_fused_kernel *f, tg_tensor **val, int ndim, const int64_t *shape,
                               int out_ndim, const int64_t *out_shape, tg_tensor **out, bool *ran) {
    *ran = false;
    *out = NULL;
    tg_tensor *first = f->n_in ? val[f->in_value[0]] : NULL;
    if (!first || first->storage->device.kind != TG_VULKAN || ndim != f->ndim_in) return TG_OK;
    int dev = first->storage->device.index;
    if (ndim > TG_VK_MAX_DIMS) return TG_OK;
    int64_t dense[TG_MAX_DIMS];
    tg__contiguous_strides(ndim, shape, dense);
    int32_t ext[P_RED_OP - P_RED_EXT + P_RED_STRIDE * MAX_RED_INPUTS] = {0};
    ext[0] = ndim;
    for (int d = 0; d < ndim; d++) {
        if (!tg__vk_fits32(shape[d])) return TG_OK;
        ext[1 + d] = (int32_t)shape[d];
    }
    VkBuffer bufs[TG_VK_BINDINGS - 2];
    int nbuf = 0;
    for (int q = 0; q < f->n_in; q++) {
        tg_tensor *x = val[f->in_value[q]];
        if (!x || x->storage->device.kind != TG_VULKAN || x->storage->device.index != dev) return TG_OK;
        int32_t *op = ext + P_RED_OP - P_RED_EXT + P_RED_STRIDE * q;
        int64_t str[TG_MAX_DIMS];
        tg__broadcast_strides(x, ndim, shape, str);
        op[2] = 1;
        for (int d = 0; d < ndim; d++) {
            if (!tg__vk_fits32(str[d])) return TG_OK;
            op[3 + d] = (int32_t)str[d];
            if (shape[d] != 1 && str[d] != dense[d]) op[2] = 0;
        }
        vk_loc l = tg__vk_locate(x);
        int b = 0;
        while (b < nbuf && bufs[b] != l.block->buf) b++;
        if (b == nbuf) {
            if (nbuf == TG_VK_BINDINGS - 2) return TG_OK;     /* binding 1 is the output's */
            bufs[nbuf++] = l.block->buf;
        }
        int64_t off = (int64_t)(l.byte_off / (size_t)tg__esize(x->dtype));
        if (!tg__vk_fits32(off)) return TG_OK;
        op[0] = (int32_t)off;
        op[1] = b + 2;
    }
    tg_vkdev *d = tg__vk_dev(dev, "tg_run");
    if (!d) return tg_last_error_code();
    if (!tg__vk_float_ok(d, f->t)) return TG_OK;
    tg_tensor *y = tg__vk_alloc(dev, f->t, out_ndim, out_shape);
    if (!y) return tg_last_error_code();
    tg_vk_generated k = {f->name, f->code, f->size, ext, P_RED_OP - P_RED_EXT + P_RED_STRIDE * f->n_in, nbuf, bufs};
    tg_status st = tg__vk_reduce_generated(d, f->reduce_op, ndim, shape, f->mask, y, &k, ran);
    if (st || !*ran) {
        tg_release(y);
        return st;
    }
    *out = y;
    return TG_OK;
}

void tg__fused_free(tg_fused_kernel *f) {
    if (!f) return;
    free(f->src);
    free(f);
}

const char *tg__fused_source(const tg_fused_kernel *f) { return f ? f->src : NULL; }

/* ---- run ------------------------------------------------------------------------ */
tg_status tg__fused_run(const tg_fused_kernel *f, tg_tensor **val, int ndim, const int64_t *shape, bool *ran) {
    *ran = false;
    tg_tensor *first = f->n_in ? val[f->in_value[0]] : NULL;
    if (!first || first->storage->device.kind != TG_VULKAN) return TG_OK;
    int dev = first->storage->device.index;
    for (int q = 0; q < f->n_in; q++) {
        tg_tensor *x = val[f->in_value[q]];
        if (!x || x->storage->device.kind != TG_VULKAN || x->storage->device.index != dev) return TG_OK;
    }
    tg_vkdev *d = tg__vk_dev(dev, "tg_run");
    if (!d) return tg_last_error_code();
    int64_t n = tg__numel(ndim, shape);
    if (!tg__vk_float_ok(d, f->t) || !tg__vk_fits32(n)) return TG_OK;
    tg_tensor *outs[MAX_OPERANDS] = {NULL};
    tg_status st = TG_OK;
    for (int q = 0; q < f->n_out && !st; q++)
        if (!(outs[q] = tg__vk_alloc(dev, f->t, ndim, shape))) st = tg_last_error_code();
    int32_t p[TG_VK_PARAM_BYTES_MAX / 4] = {0};
    VkBuffer bufs[TG_VK_BINDINGS - 1];
    int nbuf = 0;
    bool fits = true, flat = true, aligned = true;
    int64_t dense[TG_MAX_DIMS];
    tg__contiguous_strides(ndim, shape, dense);
    for (int j = 0; j < f->n_out + f->n_in && !st && fits; j++) {
        tg_tensor *x = j < f->n_out ? outs[j] : val[f->in_value[j - f->n_out]];
        vk_loc l = tg__vk_locate(x);
        int b = 0;
        while (b < nbuf && bufs[b] != l.block->buf) b++;
        if (b == nbuf) {
            if (nbuf == TG_VK_BINDINGS - 1) { fits = false; break; }
            bufs[nbuf++] = l.block->buf;
        }
        int64_t off = (int64_t)(l.byte_off / (size_t)tg__esize(x->dtype)), str[TG_MAX_DIMS];
        tg__broadcast_strides(x, ndim, shape, str);
        fits = tg__vk_fits32(off);
        aligned = aligned && off % 4 == 0;
        p[P_HEAD + P_OPERAND * j] = (int32_t)off;
        p[P_HEAD + P_OPERAND * j + 1] = b + 1;
        for (int dd = 0; dd < ndim && fits; dd++) {
            fits = tg__vk_fits32(str[dd]);
            p[P_HEAD + P_OPERAND * j + 2 + dd] = (int32_t)str[dd];
            if (shape[dd] != 1 && str[dd] != dense[dd]) flat = false;
        }
    }
    if (!st && fits && n > 0) {
        p[0] = (int32_t)n;
        p[1] = ndim;
        p[2] = flat;
        p[3] = flat && aligned;       /* four elements per load */
        for (int dd = 0; dd < ndim; dd++) p[8 + dd] = (int32_t)shape[dd];
        size_t nbytes = (size_t)(P_HEAD + P_OPERAND * (f->n_out + f->n_in)) * sizeof(int32_t);
        pthread_mutex_lock(&d->lock);
        st = tg__vk_dispatch_spirv(d, f->name, f->code, f->size, p, nbytes, nbuf, bufs, tg__vk_groups_for(n), 1, 1);
        pthread_mutex_unlock(&d->lock);
    }
    if (st || !fits) {
        for (int q = 0; q < f->n_out; q++) tg_release(outs[q]);
        return st;                 /* !fits: not run, op by op instead */
    }
    for (int q = 0; q < f->n_out; q++) val[f->out_value[q]] = outs[q];
    *ran = true;
    return TG_OK;
}
#else
tg_fused_kernel *tg__fused_build(const struct tg_graph *g, int k, int e, const bool *escapes) {
    (void)g; (void)k; (void)e; (void)escapes;
    return NULL;
}
void tg__fused_free(tg_fused_kernel *f) { (void)f; }
const char *tg__fused_source(const tg_fused_kernel *f) { (void)f; return NULL; }
tg_fused_kernel *tg__fused_build_reduce(const struct tg_graph *g, int k, int e, const bool *escapes) {
    (void)g; (void)k; (void)e; (void)escapes;
    return NULL;
}
tg_status tg__fused_run_reduce(const tg_fused_kernel *f, tg_tensor **val, int ndim, const int64_t *shape,
                               int out_ndim, const int64_t *out_shape, tg_tensor **out, bool *ran) {
    (void)f; (void)val; (void)ndim; (void)shape; (void)out_ndim; (void)out_shape;
    *out = NULL;
    *ran = false;
    return TG_OK;
}
tg_status tg__fused_run(const tg_fused_kernel *f, tg_tensor **val, int ndim, const int64_t *shape, bool *ran) {
    (void)f; (void)val; (void)ndim; (void)shape;
    *ran = false;
    return TG_OK;
}
#endif
