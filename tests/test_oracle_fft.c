/* The fft module against oracles/data/fft.json (oracles/gen_fft.py: numpy.fft
 * values, torch.fft VJPs). attrs: "n" (null: TG_NONE), "axis", "norm"
 * (null: NULL), "axes" (null: all / the last len(s)), "s" (null: NULL),
 * "d", "dtype". */
#include <criterion/criterion.h>

#include "support/oracle.h"

static const char *norm_of(const oracle_case *c) { return oracle_attr_str(c, "norm", NULL); }
static int64_t n_of(const oracle_case *c) { return oracle_attr_int(c, "n", TG_NONE); }
static int axis_of(const oracle_case *c) { return (int)oracle_attr_int(c, "axis", -1); }

/* axes and sizes of an n-d case: returns naxes; *axes / *sizes NULL when absent. */
static int nd_args(const oracle_case *c, int *abuf, int64_t *sbuf, const int **axes, const int64_t **sizes) {
    int64_t v[TG_MAX_DIMS];
    int na = oracle_attr_ints(c, "axes", v, TG_MAX_DIMS);
    int ns = oracle_attr_ints(c, "s", sbuf, TG_MAX_DIMS);
    for (int i = 0; i < na; i++) abuf[i] = (int)v[i];
    *axes = na >= 0 ? abuf : NULL;
    *sizes = ns >= 0 ? sbuf : NULL;
    return na >= 0 ? na : (ns >= 0 ? ns : 0);
}

#define ONE(op)                                                                                          \
    ORACLE_ADAPTER(op, tg_fft_##op(in[0], n_of(c), axis_of(c), norm_of(c)))
ONE(fft) ONE(ifft) ONE(rfft) ONE(irfft) ONE(hfft) ONE(ihfft)

#define ND(op)                                                                                           \
    static tg_status run_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,          \
                              tg_tensor **out) {                                                        \
        int abuf[TG_MAX_DIMS];                                                                          \
        int64_t sbuf[TG_MAX_DIMS];                                                                      \
        const int *axes;                                                                                \
        const int64_t *sizes;                                                                           \
        int n = nd_args(c, abuf, sbuf, &axes, &sizes);                                                  \
        ORACLE_RETURN(tg_fft_##op(in[0], n, axes, sizes, norm_of(c)));                                  \
    }
ND(fftn) ND(ifftn) ND(rfftn) ND(irfftn)

#define TWO(op)                                                                                          \
    static tg_status run_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,          \
                              tg_tensor **out) {                                                        \
        int64_t sbuf[2];                                                                                \
        int ns = oracle_attr_ints(c, "s", sbuf, 2);                                                     \
        ORACLE_RETURN(tg_fft_##op(in[0], ns >= 0 ? sbuf : NULL, norm_of(c)));                           \
    }
TWO(fft2) TWO(ifft2) TWO(rfft2) TWO(irfft2)

#define SHIFT(op)                                                                                        \
    static tg_status run_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,          \
                              tg_tensor **out) {                                                        \
        int64_t v[TG_MAX_DIMS];                                                                         \
        int abuf[TG_MAX_DIMS];                                                                          \
        int na = oracle_attr_ints(c, "axes", v, TG_MAX_DIMS);                                           \
        for (int i = 0; i < na; i++) abuf[i] = (int)v[i];                                               \
        ORACLE_RETURN(tg_fft_##op(in[0], na >= 0 ? na : 0, na >= 0 ? abuf : NULL));                     \
    }
SHIFT(fftshift) SHIFT(ifftshift)

ORACLE_ADAPTER(fftfreq, tg_fft_fftfreq(oracle_attr_int(c, "n", 1), oracle_attr_f64(c, "d", 1.0),
                                       oracle_attr_dtype(c, "dtype", TG_F64)))
ORACLE_ADAPTER(rfftfreq, tg_fft_rfftfreq(oracle_attr_int(c, "n", 1), oracle_attr_f64(c, "d", 1.0),
                                         oracle_attr_dtype(c, "dtype", TG_F64)))

/* ---- VJPs: inputs (primal, cotangent), output the primal's cotangent ---- */
typedef struct { const oracle_case *c; oracle_fn fwd; } vjp_ctx;
static tg_status vjp_fn(void *ctx, tg_tensor *const *in, tg_tensor **out) {
    vjp_ctx *v = ctx;
    return v->fwd(v->c, 1, in, 1, out);
}
static tg_status run_vjp(const oracle_case *c, tg_tensor *const *in, tg_tensor **out, oracle_fn fwd) {
    vjp_ctx v = {c, fwd};
    return tg_vjp(vjp_fn, &v, 1, &in[0], 1, &in[1], NULL, &out[0]);
}
#define VJP(op)                                                                                          \
    static tg_status run_vjp_##op(const oracle_case *c, int n_in, tg_tensor *const *in, int n_out,      \
                                  tg_tensor **out) {                                                    \
        return run_vjp(c, in, out, run_##op);                                                           \
    }
VJP(fft) VJP(ifft) VJP(rfft) VJP(irfft) VJP(fftn) VJP(rfftn) VJP(irfftn)

static const oracle_entry table[] = {
    ORACLE_ENTRY(fft), ORACLE_ENTRY(ifft), ORACLE_ENTRY(rfft), ORACLE_ENTRY(irfft), ORACLE_ENTRY(hfft),
    ORACLE_ENTRY(ihfft), ORACLE_ENTRY(fftn), ORACLE_ENTRY(ifftn), ORACLE_ENTRY(rfftn), ORACLE_ENTRY(irfftn),
    ORACLE_ENTRY(fft2), ORACLE_ENTRY(ifft2), ORACLE_ENTRY(rfft2), ORACLE_ENTRY(irfft2),
    ORACLE_ENTRY(fftshift), ORACLE_ENTRY(ifftshift), ORACLE_ENTRY(fftfreq), ORACLE_ENTRY(rfftfreq),
    {"vjp:fft", run_vjp_fft}, {"vjp:ifft", run_vjp_ifft}, {"vjp:rfft", run_vjp_rfft},
    {"vjp:irfft", run_vjp_irfft}, {"vjp:fftn", run_vjp_fftn}, {"vjp:rfftn", run_vjp_rfftn},
    {"vjp:irfftn", run_vjp_irfftn},
};

TestSuite(oracle_fft, .init = tg_clear_error);

Test(oracle_fft, all_ops) { check_oracle_file("fft.json", table, sizeof table / sizeof *table); }
