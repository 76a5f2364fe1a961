/* Copies whose source is permuted against the destination (tg_contiguous
 * of a transpose, einsum's operand arrangements): the plain iterator walks
 * the destination's inner axis, reading the source one element per cache
 * line. Here the copy goes in square tiles over that axis and the source's
 * unit-stride axis, so every line read or written is used whole while it is
 * in L1. */
#include "tensor/copy_tiled.h"
#include "tensor/iter.h"

#include <stdint.h>

#define TILE 32          /* 32 x 32 elements: 8 KiB for 8-byte types, in L1 twice over */
#define MIN_SIDE 8       /* shorter planes gain nothing from tiles */

typedef struct { uint64_t lo, hi; } elem16;

/* One strip of tiles: rows [j0, j1) of the (j, i) plane, every i. */
#define STRIP_FN(name, T)                                                                         \
    static void name(const char *s, char *d, int64_t j0, int64_t j1, int64_t ni, int64_t sj,       \
                     int64_t si, int64_t dj, int64_t di) {                                        \
        for (int64_t i0 = 0; i0 < ni; i0 += TILE) {                                               \
            int64_t i1 = i0 + TILE < ni ? i0 + TILE : ni;                                         \
            for (int64_t j = j0; j < j1; j++) {                                                   \
                const char *sr = s + j * sj;                                                      \
                char *dr = d + j * dj;                                                            \
                for (int64_t i = i0; i < i1; i++) *(T *)(dr + i * di) = *(const T *)(sr + i * si); \
            }                                                                                     \
        }                                                                                         \
    }
STRIP_FN(strip_1, uint8_t)
STRIP_FN(strip_2, uint16_t)
STRIP_FN(strip_4, uint32_t)
STRIP_FN(strip_8, uint64_t)
STRIP_FN(strip_16, elem16)

typedef void (*strip_fn)(const char *, char *, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);

bool tg__copy_tiled(tg_tensor *dst, tg_tensor *src) {
    if (dst->dtype != src->dtype) return false;
    int64_t es = tg__esize(dst->dtype);
    strip_fn strip = es == 1 ? strip_1 : es == 2 ? strip_2 : es == 4 ? strip_4 : es == 8 ? strip_8
                   : es == 16 ? strip_16 : NULL;
    if (!strip) return false;
    tg_iter it;
    tg_tensor *ops[2] = {dst, src};
    tg_iter_init(&it, dst->ndim, dst->shape, 2, ops);
    int n = it.ndim, ax_i = n - 1, ax_j = -1;
    if (n < 2 || it.numel < TILE * TILE) return false;
    /* the destination streams along i; the source does not, but along j */
    if (it.steps[0][ax_i] != es || it.steps[1][ax_i] == es) return false;
    for (int a = 0; a < ax_i; a++)
        if (it.steps[1][a] == es) ax_j = a;
    if (ax_j < 0 || it.shape[ax_i] < MIN_SIDE || it.shape[ax_j] < MIN_SIDE) return false;

    /* work items: (every index of the other axes) x (strips of TILE rows of j) */
    int64_t nj = it.shape[ax_j], ni = it.shape[ax_i], strips = (nj + TILE - 1) / TILE;
    int64_t outer = it.numel / (nj * ni), items = outer * strips;
    int64_t sj = it.steps[1][ax_j], si = it.steps[1][ax_i], dj = it.steps[0][ax_j], di = es;
    TG_PARALLEL_FOR(it.numel >= TG_PARALLEL_GRAIN && tg__num_threads() > 1,
    for (int64_t w = 0; w < items; w++) {
        int64_t rest = w / strips, j0 = (w % strips) * TILE, j1 = j0 + TILE < nj ? j0 + TILE : nj;
        const char *s = it.base[1];
        char *d = it.base[0];
        for (int a = ax_i - 1; a >= 0; a--) {       /* rest: row-major index over the other axes */
            if (a == ax_j) continue;
            int64_t k = rest % it.shape[a];
            rest /= it.shape[a];
            s += k * it.steps[1][a];
            d += k * it.steps[0][a];
        }
        strip(s, d, j0, j1, ni, sj, si, dj, di);
    });
    return true;
}
