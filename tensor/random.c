/* Random numbers from Philox 4x32-10 (Salmon et al., SC'11), counter based:
 * element streams depend only on (seed, offset), never on threads or device.
 *
 * Stream layout (the GPU kernels must follow it exactly):
 *   block j of a draw is philox(counter = offset + j, key = seed), 4 x u32;
 *   f32 uniform: 4 per block, u * 2^-24 from the top 24 bits of each lane;
 *   f64 uniform: 2 per block from lanes (0,1) and (2,3), 53 bits;
 *   normals: Box-Muller on consecutive uniform pairs of the same block;
 *   integers: 64 bits from lanes (0,1) and (2,3), scaled by multiply-high.
 * Complex draws are real draws of twice the length, interleaved.
 *
 * The factories create on the thread's default device. On a Vulkan device
 * the real draws and tg_randint run there (gpu/random.c, the same layout);
 * complex dtypes, and f64 where the device lacks shaderFloat64, draw here
 * and upload. Either way the offset advances by the same blocks.
 * tg_randperm stays on the CPU (its shuffle is sequential). */
#include "gpu/gpu.h"
#include "tensor/ops/elementwise.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local uint64_t rng_seed = 0x853c49e6748fea9bull, rng_offset;

void tg_manual_seed(uint64_t seed) { rng_seed = seed; rng_offset = 0; }
void tg_rng_get_state(uint64_t *seed, uint64_t *offset) {
    if (seed) *seed = rng_seed;
    if (offset) *offset = rng_offset;
}
void tg_rng_set_state(uint64_t seed, uint64_t offset) { rng_seed = seed; rng_offset = offset; }

/* The full Philox 4x32-10 block function (checked against Random123's
 * known-answer vectors in tests/test_random.c). */
void tg__philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0; c1 = (uint32_t)p1; c2 = n2; c3 = (uint32_t)p0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

static inline void philox(uint64_t ctr, uint64_t key, uint32_t out[4]) {
    const uint32_t c[4] = {(uint32_t)ctr, (uint32_t)(ctr >> 32), 0, 0}, k[2] = {(uint32_t)key, (uint32_t)(key >> 32)};
    tg__philox4x32_10(c, k, out);
}

enum dist { UNIFORM, NORMAL };

static inline double u53(uint32_t a, uint32_t b) {
    return (double)(((uint64_t)(a >> 5) << 26) | (b >> 6)) * 0x1.0p-53;
}

/* Fill n reals of dtype (f32 or f64) at p, using blocks from rng_offset. */
static void fill_real(tg_dtype dtype, enum dist d, double a, double b, int64_t n, void *p) {
    uint64_t seed = rng_seed, base = rng_offset;
    int per = dtype == TG_F32 ? 4 : 2;
    int64_t blocks = (n + per - 1) / per;
    TG_PARALLEL_FOR(n > TG_PARALLEL_GRAIN,
    for (int64_t j = 0; j < blocks; j++) {
        uint32_t r[4];
        philox(base + (uint64_t)j, seed, r);
        double u[4];
        if (dtype == TG_F32) for (int k = 0; k < 4; k++) u[k] = (double)(r[k] >> 8) * 0x1.0p-24;
        else { u[0] = u53(r[0], r[1]); u[1] = u53(r[2], r[3]); }
        double v[4];
        if (d == UNIFORM) {
            for (int k = 0; k < per; k++) v[k] = a + (b - a) * u[k];
        } else {
            for (int k = 0; k < per; k += 2) {
                double rad = sqrt(-2.0 * log(1.0 - u[k])), th = 2.0 * M_PI * u[k + 1];
                v[k] = a + b * rad * cos(th);
                v[k + 1] = a + b * rad * sin(th);
            }
        }
        for (int k = 0; k < per && j * per + k < n; k++) {
            if (dtype == TG_F32) ((float *)p)[j * per + k] = (float)v[k];
            else ((double *)p)[j * per + k] = v[k];
        }
    });
    rng_offset += (uint64_t)blocks;
}

/* t (fresh, CPU, not handed out) on the thread's default device, handed out. */
static tg_tensor *to_default_device(tg_tensor *t) {
    tg_device dev = tg__default_device();
    if (!t || dev.kind == TG_CPU) return tg__handout(t);
    tg_tensor *y = tg__vk_transfer(t, dev);
    tg_release(t);
    return tg__handout(y);
}

/* host: on the CPU whatever the default device (kernels that read the draw). */
static tg_tensor *draw_on(const char *op, tg_dtype dtype, int ndim, const int64_t *shape, enum dist d,
                          double a, double b, bool host) {
    if (tg__check_shape(op, dtype, ndim, shape)) return NULL;
    if (!tg_dtype_is_floating(dtype) && !tg_dtype_is_complex(dtype))
        return tg__error(TG_ERR_DTYPE, "%s: needs a float or complex dtype, got %s", op, tg_dtype_name(dtype)), NULL;
    if (dtype == TG_F16 || dtype == TG_BF16)
        return tg__error(TG_ERR_DTYPE, "%s: %s is a storage type; draw f32 and cast", op, tg_dtype_name(dtype)), NULL;
    if (!(b >= 0) && d == NORMAL) return tg__error(TG_ERR_ARG, "%s: std %g is negative", op, b), NULL;
    int64_t n = tg__numel(ndim, shape);
    tg_device dev = host ? (tg_device){TG_CPU, 0} : tg__default_device();
    if (dev.kind == TG_VULKAN && tg__vk_random_can(dev.index, dtype, n)) {
        tg_tensor *t = tg__vk_alloc(dev.index, dtype, ndim, shape);
        if (!t) return NULL;
        if (tg__vk_random_fill(t, d, a, b, rng_seed, rng_offset)) { tg_release(t); return NULL; }
        rng_offset += (uint64_t)((n + (dtype == TG_F32 ? 3 : 1)) / (dtype == TG_F32 ? 4 : 2));
        return tg__handout(t);
    }
    tg_tensor *t = tg__alloc(dtype, ndim, shape);
    if (!t) return NULL;
    bool cplx = tg_dtype_is_complex(dtype);
    /* A complex normal has variance std^2 split between its two parts. */
    if (cplx && d == NORMAL) b *= M_SQRT1_2;
    fill_real(tg_real_dtype(dtype), d, cplx && d == NORMAL ? 0 : a, b, cplx ? 2 * n : n, tg__ptr(t));
    if (cplx && d == NORMAL && a != 0) {     /* the mean is real: shift the real parts */
        for (int64_t i = 0; i < n; i++) {
            if (dtype == TG_C64) ((float *)tg__ptr(t))[2 * i] += (float)a;
            else ((double *)tg__ptr(t))[2 * i] += a;
        }
    }
    return host ? tg__handout(t) : to_default_device(t);
}

static tg_tensor *draw(const char *op, tg_dtype dtype, int ndim, const int64_t *shape, enum dist d, double a,
                       double b) {
    return draw_on(op, dtype, ndim, shape, d, a, b, false);
}

tg_tensor *tg__rand_host(tg_dtype dtype, int ndim, const int64_t *shape) {
    return draw_on("tg_rand", dtype, ndim, shape, UNIFORM, 0, 1, true);
}

tg_tensor *tg_rand(tg_dtype dtype, int ndim, const int64_t *shape) {
    return draw("tg_rand", dtype, ndim, shape, UNIFORM, 0, 1);
}
tg_tensor *tg_randn(tg_dtype dtype, int ndim, const int64_t *shape) {
    return draw("tg_randn", dtype, ndim, shape, NORMAL, 0, 1);
}
tg_tensor *tg_uniform(tg_dtype dtype, int ndim, const int64_t *shape, double lo, double hi) {
    if (!(lo <= hi)) return tg__error(TG_ERR_ARG, "tg_uniform: lo %g exceeds hi %g", lo, hi), NULL;
    return draw("tg_uniform", dtype, ndim, shape, UNIFORM, lo, hi);
}
tg_tensor *tg_normal(tg_dtype dtype, int ndim, const int64_t *shape, double mean, double std) {
    return draw("tg_normal", dtype, ndim, shape, NORMAL, mean, std);
}

/* n uniform 64-bit values in [0, range) for each slot, from the stream. */
static void fill_u64_below(int64_t n, const uint64_t *range, uint64_t *out) {
    uint64_t seed = rng_seed, base = rng_offset;
    int64_t blocks = (n + 1) / 2;
    for (int64_t j = 0; j < blocks; j++) {
        uint32_t r[4];
        philox(base + (uint64_t)j, seed, r);
        for (int k = 0; k < 2 && 2 * j + k < n; k++) {
            uint64_t u = (uint64_t)r[2 * k] << 32 | r[2 * k + 1];
            out[2 * j + k] = (uint64_t)((__extension__(unsigned __int128)u * range[2 * j + k]) >> 64);
        }
    }
    rng_offset += (uint64_t)blocks;
}

tg_tensor *tg_randint(tg_dtype dtype, int ndim, const int64_t *shape, int64_t lo, int64_t hi) {
    if (tg__check_shape("tg_randint", dtype, ndim, shape)) return NULL;
    if (dtype != TG_I32 && dtype != TG_I64)
        return tg__error(TG_ERR_DTYPE, "tg_randint: needs i32 or i64, got %s", tg_dtype_name(dtype)), NULL;
    if (lo >= hi) return tg__error(TG_ERR_ARG, "tg_randint: empty range [%lld, %lld)", (long long)lo, (long long)hi), NULL;
    if (dtype == TG_I32 && (lo < INT32_MIN || hi - 1 > INT32_MAX))
        return tg__error(TG_ERR_ARG, "tg_randint: range does not fit i32"), NULL;
    int64_t n = tg__numel(ndim, shape);
    uint64_t width = (uint64_t)hi - (uint64_t)lo;
    tg_device dev = tg__default_device();
    if (dev.kind == TG_VULKAN && tg__vk_random_can(dev.index, dtype, n)) {
        tg_tensor *t = tg__vk_alloc(dev.index, dtype, ndim, shape);
        if (!t) return NULL;
        if (tg__vk_randint_fill(t, lo, width, rng_seed, rng_offset)) { tg_release(t); return NULL; }
        rng_offset += (uint64_t)((n + 1) / 2);
        return tg__handout(t);
    }
    tg_tensor *t = tg__alloc(dtype, ndim, shape);
    uint64_t *u = calloc((size_t)(n ? n : 1) * 2, sizeof *u);
    if (!t || !u) { tg_release(t); free(u); return tg__error(TG_ERR_MEMORY, "tg_randint: out of memory"), NULL; }
    uint64_t *range = u + n;
    for (int64_t i = 0; i < n; i++) range[i] = width;
    fill_u64_below(n, range, u);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = (int64_t)((uint64_t)lo + u[i]);
        if (dtype == TG_I32) ((int32_t *)tg__ptr(t))[i] = (int32_t)v;
        else ((int64_t *)tg__ptr(t))[i] = v;
    }
    free(u);
    return to_default_device(t);
}

tg_tensor *tg_randperm(int64_t n) {
    if (n < 0) return tg__error(TG_ERR_ARG, "tg_randperm: n %lld is negative", (long long)n), NULL;
    int64_t shape[1] = {n};
    if (tg__check_shape("tg_randperm", TG_I64, 1, shape)) return NULL;
    tg_tensor *t = tg__alloc(TG_I64, 1, shape);
    uint64_t *u = calloc((size_t)(n ? n : 1) * 2, sizeof *u);
    if (!t || !u) { tg_release(t); free(u); return tg__error(TG_ERR_MEMORY, "tg_randperm: out of memory"), NULL; }
    int64_t *p = (int64_t *)tg__ptr(t);
    uint64_t *range = u + n;
    for (int64_t i = 0; i < n; i++) { p[i] = i; range[i] = (uint64_t)(n - i); }
    fill_u64_below(n, range, u);
    /* Fisher-Yates from the front: slot i swaps with i + u[i]. */
    for (int64_t i = 0; i < n; i++) {
        int64_t j = i + (int64_t)u[i], tmp = p[i];
        p[i] = p[j];
        p[j] = tmp;
    }
    free(u);
    return tg__handout(t);
}
