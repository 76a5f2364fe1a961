/* Scans along one axis: cumsum, cumprod.
 *
 * bool and i32 accumulate in i64 (NumPy's add/multiply.accumulate); floats
 * and complex keep their dtype and accumulate sequentially, as NumPy does,
 * so results match it bit for bit. Lines along the axis are independent and
 * split across threads; each line is one sequential loop. The VJP of
 * cumsum is a reversed cumsum (flip, cumsum, flip) of the cotangent.
 * Vulkan: gpu/scan.c (f32, f64, i32/i64 inputs). */
#include "gpu/gpu.h"
#include "tensor/ops/axis_lines.h"

#include <stdio.h>

enum scan_kind { SCAN_SUM, SCAN_PROD };

static tg_dtype scan_dtype(tg_dtype d) { return d == TG_BOOL || d == TG_I32 ? TG_I64 : d; }

static tg_status scan_infer(const tg_op_call *c, tg_meta *out) {
    const tg_meta *x = &c->in[0];
    if (x->dtype == TG_F16 || x->dtype == TG_BF16)
        return tg__op_error(c, TG_ERR_DTYPE, "%s is a storage type; cast to f32 first", tg_dtype_name(x->dtype));
    int axis;
    char name[32];
    snprintf(name, sizeof name, "tg_%s", c->def->name);
    if (tg__norm_axis0d(name, (int)c->attrs->i[0], x->ndim, &axis)) return TG_ERR_ARG;
    out->dtype = scan_dtype(x->dtype);
    tg__meta_copy_shape(out, x);
    return TG_OK;
}

/* One line: n elements at x (stride xs bytes) into o (stride os bytes). */
#define SCAN_LINE(name, T, STEP, ID)                                                     \
    static void name(const char *x, int64_t xs, char *o, int64_t os, int64_t n) {       \
        T acc = ID;                                                                      \
        for (int64_t i = 0; i < n; i++, x += xs, o += os) {                              \
            T v = *(const T *)x;                                                         \
            acc = (STEP);                                                                \
            *(T *)o = acc;                                                               \
        }                                                                                \
    }
/* Integer scans wrap (two's complement) without signed overflow. */
SCAN_LINE(cumsum_i64, int64_t, (int64_t)((uint64_t)acc + (uint64_t)v), 0)
SCAN_LINE(cumsum_f32, float, acc + v, 0.0f)
SCAN_LINE(cumsum_f64, double, acc + v, 0.0)
SCAN_LINE(cumsum_c64, tg_c64_t, acc + v, 0.0f)
SCAN_LINE(cumsum_c128, tg_c128_t, acc + v, 0.0)
SCAN_LINE(cumprod_i64, int64_t, (int64_t)((uint64_t)acc * (uint64_t)v), 1)
SCAN_LINE(cumprod_f32, float, acc * v, 1.0f)
SCAN_LINE(cumprod_f64, double, acc * v, 1.0)
SCAN_LINE(cumprod_c64, tg_c64_t, acc * v, 1.0f)
SCAN_LINE(cumprod_c128, tg_c128_t, acc * v, 1.0)

typedef void (*scan_line_fn)(const char *, int64_t, char *, int64_t, int64_t);
static const scan_line_fn scan_lines[2][TG_NUM_DTYPES] = {
    [SCAN_SUM] = {[TG_I64] = cumsum_i64, [TG_F32] = cumsum_f32, [TG_F64] = cumsum_f64, [TG_C64] = cumsum_c64,
                  [TG_C128] = cumsum_c128},
    [SCAN_PROD] = {[TG_I64] = cumprod_i64, [TG_F32] = cumprod_f32, [TG_F64] = cumprod_f64,
                   [TG_C64] = cumprod_c64, [TG_C128] = cumprod_c128},
};

static tg_status scan_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    int axis;
    tg__norm_axis0d("scan", (int)c->attrs->i[0], in[0]->ndim, &axis);
    tg_dtype cd = out[0]->dtype;
    scan_line_fn line = scan_lines[*(const int *)c->def->impl][cd];
    tg_tensor *xc = tg__cast_raw(in[0], cd);     /* keeps x's strides when no cast is needed */
    if (!xc) return tg_last_error_code();
    tg_tensor x = tg__as_1d(xc), o = tg__as_1d(out[0]);
    int64_t n = x.shape[axis], numel = tg__numel(x.ndim, x.shape);
    int64_t lines = n ? numel / n : 0;
    int64_t es = (int64_t)tg_dtype_size(cd);
    const char *xb = tg__ptr(&x);
    char *ob = tg__ptr(&o);
    TG_PARALLEL_FOR(numel > TG_PARALLEL_GRAIN,
    for (int64_t l = 0; l < lines; l++)
        line(xb + tg__line_offset(&x, axis, l) * es, x.strides[axis] * es, ob + tg__line_offset(&o, axis, l) * es,
             o.strides[axis] * es, n););
    tg_release(xc);
    return TG_OK;
}

/* ---- derivative rules ---------------------------------------------------------------- */
/* Sum of the cotangent from each position to the end: flip, cumsum, flip. */
static tg_tensor *reverse_cumsum(tg_tensor *g, int axis) {
    return tg_flip(tg_cumsum(tg_flip(g, 1, &axis), axis), 1, &axis);
}
static tg_status cumsum_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                            tg_tensor **ic) {
    (void)out;
    ic[0] = in[0]->ndim ? reverse_cumsum(g[0], (int)c->attrs->i[0]) : g[0];
    return TG_RULE_RESULT(ic[0]);
}
/* cumprod: d y_k / d x_i = y_k / x_i for k >= i. Inputs with zeros give
 * inf/NaN here (PyTorch takes a slower exact path for them). */
static tg_status cumprod_vjp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *g,
                             tg_tensor **ic) {
    if (in[0]->ndim == 0) { ic[0] = g[0]; return TG_OK; }
    ic[0] = tg_div(reverse_cumsum(tg_mul(g[0], tg_conj(out[0])), (int)c->attrs->i[0]), tg_conj(in[0]));
    return TG_RULE_RESULT(ic[0]);
}
static tg_status scan_jvp(const tg_op_call *c, tg_tensor *const *in, tg_tensor *const *out, tg_tensor *const *t,
                          tg_tensor **ot) {
    int axis = (int)c->attrs->i[0];
    if (c->def->name[3] == 's') ot[0] = tg_cumsum(t[0], axis);                       /* cumsum */
    else ot[0] = tg_mul(tg_cumsum(tg_div(t[0], in[0]), axis), out[0]);                /* cumprod */
    return TG_RULE_RESULT(ot[0]);
}

static const int scan_sum = SCAN_SUM, scan_prod = SCAN_PROD;
const tg_op_def tg_op_cumsum = {.name = "cumsum", .n_in = 1, .n_out = 1, .infer = scan_infer,
                                .kernel = {[TG_CPU] = scan_kernel, [TG_VULKAN] = TG_VK(tg__vk_scan_kernel)},
                                .vjp = cumsum_vjp, .jvp = scan_jvp, .impl = &scan_sum};
const tg_op_def tg_op_cumprod = {.name = "cumprod", .n_in = 1, .n_out = 1, .infer = scan_infer,
                                 .kernel = {[TG_CPU] = scan_kernel, [TG_VULKAN] = TG_VK(tg__vk_scan_kernel)},
                                 .vjp = cumprod_vjp, .jvp = scan_jvp, .impl = &scan_prod};

tg_tensor *tg_cumsum(tg_tensor *x, int axis) {
    tg_attrs a = {.n_int = 1, .i = {axis}};
    return tg__apply1(&tg_op_cumsum, 1, &x, &a);
}
tg_tensor *tg_cumprod(tg_tensor *x, int axis) {
    tg_attrs a = {.n_int = 1, .i = {axis}};
    return tg__apply1(&tg_op_cumprod, 1, &x, &a);
}

TG_REGISTER_OPS(scan, &tg_op_cumsum, &tg_op_cumprod)
