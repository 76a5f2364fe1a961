/* Vulkan batched matmul: a register-tiled kernel (gpu/shaders/matmul_tiled.comp,
 * several tile shapes) and the generic 16x16 shared-memory kernel
 * (gpu/shaders/matmul.comp). Both take any strides; the tiled one reads
 * vec4s along an operand's unit-stride axis when it is 4-aligned.
 *
 * TANGENT_VK_MATMUL=generic|big|big16|wide|small (read once) forces a kernel
 * where the dtype has that variant and the device's shared memory holds it;
 * unset (or "auto") the size decides. tg__vk_matmul_force() overrides it
 * inside the process (tests, benchmarks). */
#include "tensor/registry.h"

const char *tg__vk_matmul_force(const char *variant);
const char *tg__vk_matmul_last(void);
/* Products computed with split-K in this process (tests). */
long tg__vk_matmul_splits(void);
/* Products computed on cooperative matrices (f16) in this process, and
 * whether device dev has them (tests, benchmarks). */
long tg__vk_matmul_coop_count(void);
bool tg__vk_matmul_has_coop(int dev);

#ifdef TG_HAVE_VULKAN
#include "gpu/kernel_util.h"
#include "tensor/ops/elementwise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tiled variants (gpu/shaders/matmul_tiled.variants repeats these). */
typedef struct mm_variant {
    const char *name;               /* pipeline matmul_<name>_<f32|f64> */
    tg_dtype dtype;
    int bm, bn, bk, pad, tm, tn;
} mm_variant;
static const mm_variant VARIANTS[] = {
    {"big", TG_F32, 128, 128, 8, 1, 8, 8},
    {"big16", TG_F32, 128, 128, 16, 0, 8, 8},
    {"wide", TG_F32, 128, 256, 8, 1, 16, 8},
    {"small", TG_F32, 64, 64, 16, 1, 4, 4},
    {"big", TG_F64, 64, 64, 8, 1, 8, 8},
    {"small", TG_F64, 32, 32, 16, 1, 4, 4},
};
enum { N_VARIANTS = sizeof VARIANTS / sizeof VARIANTS[0] };

static size_t shared_bytes(const mm_variant *v) {
    return (size_t)2 * (size_t)v->bk * (size_t)(v->bm / 4 + v->pad + v->bn / 4 + v->pad) * 4 * tg__esize(v->dtype);
}

static const mm_variant *find_variant(const char *name, tg_dtype t) {
    for (int i = 0; i < N_VARIANTS; i++)
        if (VARIANTS[i].dtype == t && strcmp(VARIANTS[i].name, name) == 0) return &VARIANTS[i];
    return NULL;
}

/* The forced choice: tg__vk_matmul_force's, else TANGENT_VK_MATMUL's. */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static char env_choice[32];
static char force_choice[32];
static int forced;                   /* force_choice is set */
static pthread_mutex_t force_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char last_pipe[48];   /* the pipeline of this thread's last matmul */

static void read_env(void) {
    const char *e = getenv("TANGENT_VK_MATMUL");
    if (!e || !*e || strcmp(e, "auto") == 0) return;
    bool known = strcmp(e, "generic") == 0 || strncmp(e, "coop", 4) == 0;   /* coop names: checked in pick_coop */
    for (int i = 0; i < N_VARIANTS && !known; i++) known = strcmp(VARIANTS[i].name, e) == 0;
    if (!known) {
        tg__vk_debug("TANGENT_VK_MATMUL=%s: not generic, auto or a variant of matmul_tiled.variants; ignored", e);
        return;
    }
    snprintf(env_choice, sizeof env_choice, "%s", e);
    tg__vk_debug("TANGENT_VK_MATMUL=%s", e);
}

/* The forced choice copied to buf ("" when none). */
static void choice(char *buf, size_t n) {
    pthread_once(&env_once, read_env);
    pthread_mutex_lock(&force_lock);
    snprintf(buf, n, "%s", forced ? force_choice : env_choice);
    pthread_mutex_unlock(&force_lock);
}

const char *tg__vk_matmul_force(const char *variant) {
    static char prev[32];
    pthread_mutex_lock(&force_lock);
    snprintf(prev, sizeof prev, "%s", forced ? force_choice : "");
    forced = variant != NULL;
    snprintf(force_choice, sizeof force_choice, "%s", variant ? variant : "");
    pthread_mutex_unlock(&force_lock);
    return prev;
}

const char *tg__vk_matmul_last(void) { return last_pipe; }

/* TANGENT_VK_SPLITK=0 turns split-K off (read once). */
static int split_env = -1;
static bool split_off(void) {
    if (__atomic_load_n(&split_env, __ATOMIC_RELAXED) < 0) {
        const char *e = getenv("TANGENT_VK_SPLITK");
        __atomic_store_n(&split_env, e && !strcmp(e, "0") ? 1 : 0, __ATOMIC_RELAXED);
    }
    return split_env == 1;
}

/* The share of v's tiles covering an M x N product that is real output. */
static double used_share(const mm_variant *v, int64_t M, int64_t N) {
    int64_t pm = (M + v->bm - 1) / v->bm * v->bm, pn = (N + v->bn - 1) / v->bn * v->bn;
    return (double)(M * N) / (double)(pm * pn);
}

/* The tiled variant for this product, NULL for the generic kernel. */
static const mm_variant *pick(const tg_vkdev *d, tg_dtype t, int64_t M, int64_t N, int64_t batches) {
    char want[32];
    choice(want, sizeof want);
    size_t limit = d->props.limits.maxComputeSharedMemorySize;
    if (strcmp(want, "generic") == 0) return NULL;
    const mm_variant *v = *want ? find_variant(want, t) : NULL;
    if (v && shared_bytes(v) <= limit) return v;
    /* auto: vectors and thin products on the generic kernel; else the big
     * tile when there are enough of them to fill the device (H100, f32:
     * small best at 1024, 25 TFLOP/s; wide from 2048, 39-40; 128 tiles of
     * 128x128 is the switch) and it wastes little more of its tile than the
     * small one does (a conv's 64-row products on the wide 128 x 256 tile
     * computed as many padding rows as real ones) */
    if (M < 32 || N < 32) return NULL;
    const mm_variant *big = find_variant(t == TG_F32 ? "wide" : "big", t), *small = find_variant("small", t);
    int64_t tiles = ((M + 127) / 128) * ((N + 127) / 128) * batches;
    v = tiles >= 128 && used_share(big, M, N) >= 0.9 * used_share(small, M, N) ? big : small;
    if (shared_bytes(v) > limit) v = small;
    return shared_bytes(v) <= limit ? v : NULL;
}

/* Stride conditions of an operand read along its unit-stride axis: mode bit 1
 * when the fast axis is the outer one (A's rows m / B's depth k), bit 0 when
 * vec4 loads along it are aligned. inner/outer: strides along k / m for A,
 * n / k for B. */
static int32_t operand_mode(int64_t inner, int64_t outer, int64_t base, const int32_t *bstrides, int nb) {
    bool outer_fast = inner != 1 && outer == 1;
    int64_t other = outer_fast ? inner : outer;
    bool vec = (outer_fast ? outer : inner) == 1 && other % 4 == 0 && base % 4 == 0;
    for (int i = 0; vec && i < nb; i++) vec = bstrides[i] % 4 == 0;
    return (outer_fast ? 2 : 0) | (vec ? 1 : 0);
}

/* Split-K for a product with few outputs and a long depth (the weight
 * gradients of a convolution: (Cout x N*H*W) times its transpose): one
 * workgroup per output tile would loop over all of K while most of the
 * device idles. The depth is cut into S chunks (S a divisor of K, so the
 * chunks are strided views of A and B, no copies) computed as a batch of S
 * products, then summed over the batch by the reduction kernel. Returns
 * 0 when the product is not worth splitting (caller computes it whole). */
extern const tg_op_def tg_op_sum;

static long splits;

static int64_t split_count(int64_t M, int64_t N, int64_t K) {
    int64_t tiles = ((M + 63) / 64) * ((N + 63) / 64), mn = M > N ? M : N;
    /* fewer 64x64 tiles than an H100 has multiprocessors and a depth of at
     * least twice the larger side: the CNN's fc1 (250 x 3136 @ 3136 x 1024,
     * 64 tiles) as much as a weight gradient's (64 x 800 @ 10388 deep) */
    if (K < 1024 || K < 2 * mn || tiles >= 128) return 0;
    /* about 1024 workgroups in all: several per multiprocessor on a large
     * GPU (H100: 256 left conv1's weight gradient at 56 of its 132) */
    int64_t want = 1024 / tiles, best = 0;
    if (want > 256) want = 256;
    for (int64_t s = 2; s <= want; s++)
        if (K % s == 0 && K / s >= 128) best = s;
    return best >= 4 ? best : 0;
}

static tg_status matmul_split_k(const tg_op_call *c, tg_tensor *a, tg_tensor *b, tg_tensor *y, int64_t S, bool *done) {
    int64_t M = a->shape[0], K = a->shape[1], N = b->shape[1], Kc = K / S;
    int64_t as[3] = {S, M, Kc}, ast[3] = {Kc * a->strides[1], a->strides[0], a->strides[1]};
    int64_t bs[3] = {S, Kc, N}, bst[3] = {Kc * b->strides[0], b->strides[0], b->strides[1]};
    int64_t ts[3] = {S, M, N};
    tg_tensor *a3 = tg__make_view(a, a->dtype, 3, as, ast, a->offset);
    tg_tensor *b3 = tg__make_view(b, b->dtype, 3, bs, bst, b->offset);
    tg_tensor *part = tg__vk_alloc(y->storage->device.index, y->dtype, 3, ts);
    tg_status st = a3 && b3 && part ? TG_OK : TG_ERR_MEMORY;
    if (!st) {
        tg_tensor *ops[2] = {a3, b3};
        st = tg__vk_matmul_kernel(c, ops, &part);
    }
    if (!st) {
        tg_attrs at = {.n_int = 3, .i = {0, 1, 0}};     /* keepdim 0, one axis: 0 */
        tg_meta m;
        tg__metas_of(1, &part, &m);
        tg_op_call rc = {&tg_op_sum, &at, 1, &m, NULL};
        st = tg__vk_reduce_kernel(&rc, &part, &y);
    }
    tg_release(a3);
    tg_release(b3);
    tg_release(part);                    /* safe: later work is ordered after this batch's reads */
    *done = st == TG_OK;
    if (*done) __atomic_add_fetch(&splits, 1, __ATOMIC_RELAXED);
    return st;
}
long tg__vk_matmul_splits(void) { return __atomic_load_n(&splits, __ATOMIC_RELAXED); }

/* ---- complex products ------------------------------------------------------------ */
static const tg_op_def vk_internal_sub = {.name = "sub", .n_in = 2, .n_out = 1};
static const tg_op_def vk_internal_add = {.name = "add", .n_in = 2, .n_out = 1};

/* y = fn(a, b) for a kernel-table entry fn, called as op def. */
static tg_status call2(const tg_op_def *def, tg_kernel_fn fn, tg_tensor *a, tg_tensor *b, tg_tensor *y) {
    tg_tensor *in[2] = {a, b};
    tg_meta metas[2];
    tg__metas_of(2, in, metas);
    tg_op_call rc = {def, NULL, 2, metas, NULL};
    return fn(&rc, in, &y);
}

/* (ar + i ai)(br + i bi) from four real products on the parts' strided
 * views, into contiguous temporaries, then y's parts in two elementwise
 * passes: re = ar br - ai bi, im = ar bi + ai br (the CPU's complex GEMM
 * sums the same terms, in another order). */
static tg_status complex_matmul(const tg_op_call *c, tg_vkdev *d, tg_tensor *const *in, tg_tensor *y) {
    tg_dtype t = y->dtype, rt = tg_real_dtype(t);
    if (!tg__vk_float_ok(d, rt)) return tg__vk_unsupported(c, in[0], "dtype %s", tg_dtype_name(t));
    if (in[0]->dtype != t || in[1]->dtype != t)
        return tg__vk_unsupported(c, in[0], "%s", "a real operand with a complex one");
    int dev = y->storage->device.index;
    tg_tensor *ar = tg__complex_part(in[0], 0), *ai = tg__complex_part(in[0], 1), *br = tg__complex_part(in[1], 0);
    tg_tensor *bi = tg__complex_part(in[1], 1), *yr = tg__complex_part(y, 0), *yi = tg__complex_part(y, 1), *tmp[4] = {NULL};
    tg_status st = ar && ai && br && bi && yr && yi ? TG_OK : TG_ERR_MEMORY;
    for (int k = 0; k < 4 && !st; k++)
        if (!(tmp[k] = tg__vk_alloc(dev, rt, y->ndim, y->shape))) st = tg_last_error_code();
    if (!st) st = call2(c->def, tg__vk_matmul_kernel, ar, br, tmp[0]);
    if (!st) st = call2(c->def, tg__vk_matmul_kernel, ai, bi, tmp[1]);
    if (!st) st = call2(c->def, tg__vk_matmul_kernel, ar, bi, tmp[2]);
    if (!st) st = call2(c->def, tg__vk_matmul_kernel, ai, br, tmp[3]);
    if (!st) st = call2(&vk_internal_sub, tg__vk_binary_kernel, tmp[0], tmp[1], yr);
    if (!st) st = call2(&vk_internal_add, tg__vk_binary_kernel, tmp[2], tmp[3], yi);
    tg_tensor *all[] = {ar, ai, br, bi, yr, yi, tmp[0], tmp[1], tmp[2], tmp[3]};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) tg_release(all[k]);
    return st;
}

/* The sizes and strides of a product y = a b in the kernels' parameter
 * layout (matmul.comp: p[0..4], p[8..29]); p[5..7] (bases) are filled by
 * fill_bases. False when they do not fit the kernels (more than 6 batch
 * axes, 65535 batches or 2^31 elements). */
typedef struct mm_dims { int64_t M, N, K, ars, acs, brs, bcs, batches; int nb; } mm_dims;

static bool product_params(const tg_tensor *a, const tg_tensor *b, const tg_tensor *y, int32_t *p, mm_dims *m) {
    m->M = 1; m->N = 1;
    if (a->ndim == 1) { m->K = a->shape[0]; m->ars = 0; m->acs = a->strides[0]; }
    else { m->M = a->shape[a->ndim - 2]; m->K = a->shape[a->ndim - 1]; m->ars = a->strides[a->ndim - 2]; m->acs = a->strides[a->ndim - 1]; }
    if (b->ndim == 1) { m->brs = b->strides[0]; m->bcs = 0; }
    else { m->N = b->shape[b->ndim - 1]; m->brs = b->strides[b->ndim - 2]; m->bcs = b->strides[b->ndim - 1]; }
    int nb = m->nb = y->ndim - (a->ndim > 1) - (b->ndim > 1);
    int nba = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0;
    m->batches = tg__numel(nb, y->shape);
    int64_t M = m->M, N = m->N;
    bool ok = nb <= 6 && m->batches <= TG_VK_MAX_GROUPS && M <= 16 * (int64_t)TG_VK_MAX_GROUPS && N <= 16 * (int64_t)TG_VK_MAX_GROUPS &&
              tg__vk_fits32(M) && tg__vk_fits32(N) && tg__vk_fits32(m->K) && tg__vk_fits32(m->ars) &&
              tg__vk_fits32(m->acs) && tg__vk_fits32(m->brs) && tg__vk_fits32(m->bcs) && tg__vk_fits32(M * N * m->batches);
    for (int i = 0; ok && i < nb; i++) {
        int ia = i - (nb - nba), ib = i - (nb - nbb);
        int64_t sa = ia >= 0 && a->shape[ia] != 1 ? a->strides[ia] : 0;
        int64_t sb = ib >= 0 && b->shape[ib] != 1 ? b->strides[ib] : 0;
        ok = tg__vk_fits32(sa) && tg__vk_fits32(sb);
        p[12 + i] = (int32_t)y->shape[i];
        p[18 + i] = (int32_t)sa;
        p[24 + i] = (int32_t)sb;
    }
    p[0] = (int32_t)M; p[1] = (int32_t)N; p[2] = (int32_t)m->K; p[3] = (int32_t)m->batches; p[4] = nb;
    p[8] = (int32_t)m->ars; p[9] = (int32_t)m->acs; p[10] = (int32_t)m->brs; p[11] = (int32_t)m->bcs;
    return ok;
}

/* p[5..7]: the element offsets of a, b and y in their buffers; bufs: y, a, b. */
static void fill_bases(const tg_tensor *a, const tg_tensor *b, const tg_tensor *y, int32_t *p, VkBuffer *bufs) {
    vk_loc la = tg__vk_locate(a), lb = tg__vk_locate(b), lc = tg__vk_locate(y);
    size_t es = (size_t)tg__esize(y->dtype);
    p[5] = (int32_t)(la.byte_off / es);
    p[6] = (int32_t)(lb.byte_off / es);
    p[7] = (int32_t)(lc.byte_off / es);
    bufs[0] = lc.block->buf; bufs[1] = la.block->buf; bufs[2] = lb.block->buf;
}

/* ---- f16 and bf16 products ------------------------------------------------------- */
/* Products computed on cooperative matrices in this process (tests). */
static long coop_products;
long tg__vk_matmul_coop_count(void) { return __atomic_load_n(&coop_products, __ATOMIC_RELAXED); }
bool tg__vk_matmul_has_coop(int dev) {
    tg_vkdev *d = tg__vk_dev(dev, "matmul");
    return d && d->coop16;
}

/* The coop kernel's tile shapes (gpu/shaders/matmul_coop.variants repeats
 * them): wm x wn subgroups of fm x fn 16x8 accumulators, bk deep, db: two
 * shared buffers. TANGENT_VK_MATMUL=<name> forces one as for the f32 ones. */
typedef struct coop_variant { const char *name; int wm, wn, fm, fn, bk, db; } coop_variant;
static const coop_variant COOP[] = {
    {"coop", 2, 2, 4, 8, 32, 1},    {"coop_k64", 2, 2, 4, 8, 64, 0}, {"coop_w8", 2, 4, 4, 8, 32, 0},
    {"coop_t8", 4, 2, 4, 8, 32, 0}, {"coop_s8", 2, 4, 4, 4, 32, 1},  {"coop_m2", 2, 2, 2, 8, 32, 1},
};
enum { N_COOP = sizeof COOP / sizeof COOP[0] };

static size_t coop_shared(const coop_variant *v) {
    int bm = v->wm * v->fm * 16, bn = v->wn * v->fn * 8;
    int sa = bm * (v->bk / 8 + 1), sa2 = v->bk * (bm / 8 + 1), sb = v->bk * (bn / 8 + 1), sb2 = bn * (v->bk / 8 + 1);
    return (size_t)(v->db + 1) * (size_t)((sa > sa2 ? sa : sa2) + (sb > sb2 ? sb : sb2)) * 16 + (size_t)v->wm * v->wn * 512;
}

static const coop_variant *pick_coop(const tg_vkdev *d) {
    char want[32];
    choice(want, sizeof want);
    size_t limit = d->props.limits.maxComputeSharedMemorySize;
    for (int i = 0; i < N_COOP; i++)
        if (!strcmp(COOP[i].name, want) && coop_shared(&COOP[i]) <= limit) return &COOP[i];
    return coop_shared(&COOP[0]) <= limit ? &COOP[0] : NULL;
}

/* An operand the coop kernel reads: one axis of unit stride whose size is a
 * multiple of 8 (whole uvec4s), the other strides and the base multiples of
 * 8. rows x cols with strides rs, cs; sets *colmajor when rows are the fast axis. */
static bool coop_operand(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int32_t base, const int32_t *bstrides, int nb,
                         int32_t *colmajor) {
    bool ok;
    if (cs == 1 && cols % 8 == 0 && (rows == 1 || rs % 8 == 0)) { ok = true; *colmajor = 0; }
    else if (rs == 1 && rows % 8 == 0 && (cols == 1 || cs % 8 == 0)) { ok = true; *colmajor = 1; }
    else ok = false;
    for (int i = 0; ok && i < nb; i++) ok = bstrides[i] % 8 == 0;
    return ok && base % 8 == 0;
}

/* y = a b on cooperative matrices when both are f16 and the layouts allow
 * (coop_operand; y contiguous with N and its base even); *done false
 * otherwise, and nothing is recorded. */
static tg_status coop_matmul(const tg_op_call *c, tg_vkdev *d, tg_tensor *a, tg_tensor *b, tg_tensor *y, bool *done) {
    *done = false;
    int32_t p[64] = {0};
    mm_dims m;
    if (a->dtype != TG_F16 || b->dtype != TG_F16 || !tg__is_contiguous(y) || !product_params(a, b, y, p, &m)) return TG_OK;
    if (m.M < 16 || m.N < 16 || m.K < 16 || m.N % 2) return TG_OK;
    const coop_variant *v = pick_coop(d);
    if (!v) return TG_OK;
    VkBuffer bufs[3];
    fill_bases(a, b, y, p, bufs);
    if (p[7] % 2 || !coop_operand(m.M, m.K, m.ars, m.acs, p[5], p + 18, m.nb, &p[30]) ||
        !coop_operand(m.K, m.N, m.brs, m.bcs, p[6], p + 24, m.nb, &p[31]))
        return TG_OK;
    int64_t bm = v->wm * v->fm * 16, bn = v->wn * v->fn * 8;
    char pipe[32];
    snprintf(pipe, sizeof pipe, "matmul_%s_f16", v->name);
    tg_status st = tg__vk_record(d, pipe, p, 3, bufs, (uint32_t)((m.N + bn - 1) / bn), (uint32_t)((m.M + bm - 1) / bm),
                                 (uint32_t)m.batches);
    (void)c;
    if (!st) {
        *done = true;
        __atomic_add_fetch(&coop_products, 1, __ATOMIC_RELAXED);
        snprintf(last_pipe, sizeof last_pipe, "%s", pipe);
    }
    return st;
}

/* f16/bf16 results: f16 operands on cooperative matrices where the device
 * has them; otherwise (and for bf16) the f32 kernel on f32 copies of the
 * operands, rounded into y (f32 accumulation either way, as the CPU). */
static tg_status half_matmul(const tg_op_call *c, tg_vkdev *d, tg_tensor *const *in, tg_tensor *y) {
    tg_dtype t = y->dtype;
    tg_tensor *a = tg__vk_cast_to(c, in[0], t), *b = a ? tg__vk_cast_to(c, in[1], t) : NULL;
    tg_status st = b ? TG_OK : tg_last_error_code();
    bool done = false;
    if (!st && t == TG_F16 && d->coop16 && tg__numel(y->ndim, y->shape) > 0) st = coop_matmul(c, d, a, b, y, &done);
    tg_release(a);
    tg_release(b);
    if (st || done) return st;
    tg_tensor *a32 = tg__vk_cast_to(c, in[0], TG_F32), *b32 = a32 ? tg__vk_cast_to(c, in[1], TG_F32) : NULL;
    tg_tensor *y32 = b32 ? tg__vk_alloc(y->storage->device.index, TG_F32, y->ndim, y->shape) : NULL;
    st = y32 ? call2(c->def, tg__vk_matmul_kernel, a32, b32, y32) : tg_last_error_code();
    if (!st) st = tg__vk_convert_into(c, y, y32);
    tg_release(a32);
    tg_release(b32);
    tg_release(y32);
    return st;
}

tg_status tg__vk_matmul_kernel(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out) {
    return tg__vk_matmul_ep(c, in, out, NULL);
}

/* ---- products whose epilogue ends with another activation ---------------------- */
/* gpu/shaders/matmul.comp, matmul_tiled.comp and elementwise_funcs.glsl as
 * text (CMakeLists.txt). A compiled program's matmul -> add -> act group
 * (act not relu) runs one kernel: the product's text built at run time with
 * the variant's defines, EPILOGUE and EP_ACT = u_<act>, the formulas put
 * at the text's TG_FORMULAS line; its SPIR-V cached by content
 * (gpu/spirv_cache.c). The activation is the op's own formula, so the
 * result is bitwise that of the product's kernel followed by the op's. */
extern const char tg__glsl_elementwise_funcs[], tg__glsl_matmul[], tg__glsl_matmul_tiled[];

typedef struct { char name[48]; const uint32_t *code; size_t size; } act_kernel;

/* The kernel for variant v (NULL: the generic one), dtype t and activation
 * act; false when the formulas have no u_<act> or the compiler is missing. */
static bool act_build(const mm_variant *v, tg_dtype t, const char *act, act_kernel *k) {
    char sig[64];
    snprintf(sig, sizeof sig, "T u_%s(", act);
    const char *text = v ? tg__glsl_matmul_tiled : tg__glsl_matmul;
    const char *mark = strstr(text, "// TG_FORMULAS");
    if (!strstr(tg__glsl_elementwise_funcs, sig) || !mark) return false;
    const char *after = strchr(mark, '\n');
    char defs[256];
    if (v)
        snprintf(defs, sizeof defs, "#define V %s\n#define BM %d\n#define BN %d\n#define BK %d\n#define TM %d\n#define TN %d\n"
                 "#define PAD %d\n", t == TG_F64 ? "dvec4" : "vec4", v->bm, v->bn, v->bk, v->tm, v->tn, v->pad);
    else
        defs[0] = 0;
    size_t n = strlen(text) + strlen(tg__glsl_elementwise_funcs) + 512;
    char *src = malloc(n);
    if (!src) return false;
    snprintf(src, n, "%.*s#define T %s\n%s#define EPILOGUE\n#define EP_ACT u_%s\n%s\n%s", (int)(mark - text), text,
             t == TG_F64 ? "double\n#define TG_F64" : "float", defs, act, tg__glsl_elementwise_funcs,
             after ? after + 1 : "");
    char key[33];
    tg__stashed_error older;            /* no kernel: the plain one runs */
    tg__error_stash(&older);
    k->code = tg__vk_spirv_get(src, &k->size, key);
    free(src);
    if (!k->code) tg_clear_error();
    tg__error_unstash(&older);
    if (!k->code) return false;
    snprintf(k->name, sizeof k->name, "mm-%s", key);
    return true;
}

/* p[40..45] and the fourth buffer for ep; false when it does not fit (the
 * product is then stored plain). */
static bool fill_epilogue(const tg_vk_epilogue *ep, const tg_tensor *y, int32_t *p, VkBuffer *bufs) {
    bufs[3] = bufs[0];
    if (!ep || (!ep->bias && !ep->relu && !ep->act)) return false;
    if (ep->bias) {
        const tg_tensor *b = ep->bias;
        if (b->dtype != y->dtype || b->storage->device.kind != TG_VULKAN || b->storage->device.index != y->storage->device.index ||
            !tg__vk_fits32(ep->rs) || !tg__vk_fits32(ep->cs) || !tg__vk_fits32(ep->bs) || !tg__vk_fits32(ep->bmod))
            return false;
        vk_loc lb = tg__vk_locate(b);
        p[41] = (int32_t)(lb.byte_off / (size_t)tg__esize(b->dtype));
        p[42] = (int32_t)ep->rs;
        p[43] = (int32_t)ep->cs;
        p[44] = (int32_t)ep->bs;
        p[45] = ep->bmod > 0 ? (int32_t)ep->bmod : 0;
        bufs[3] = lb.block->buf;
    }
    p[40] = (ep->bias ? 1 : 0) | (ep->relu ? 2 : 0);
    return true;
}

tg_status tg__vk_matmul_ep(const tg_op_call *c, tg_tensor *const *in, tg_tensor **out, tg_vk_epilogue *ep) {
    if (ep) ep->applied = ep->act_applied = false;
    tg_tensor *y = out[0];
    tg_vkdev *d = tg__vk_dev_of(y);
    if (!d) return tg_last_error_code();
    tg_dtype t = y->dtype;
    if (tg_dtype_is_complex(t)) return complex_matmul(c, d, in, y);
    if (t == TG_F16 || t == TG_BF16) return half_matmul(c, d, in, y);
    if (!tg__vk_float_ok(d, t)) return tg__vk_unsupported(c, in[0], "dtype %s", tg_dtype_name(t));
    tg_tensor *a = tg__vk_cast_to(c, in[0], t), *b = a ? tg__vk_cast_to(c, in[1], t) : NULL;
    tg_status st = a && b ? TG_OK : tg_last_error_code();
    int32_t p[64] = {0};
    mm_dims m;
    if (!st && !product_params(a, b, y, p, &m))
        st = tg__vk_unsupported(c, in[0], "%s (more than 6 batch axes, 65535 batches or 2^31 elements)", "these sizes");
    if (!st) {
        int64_t M = m.M, N = m.N, K = m.K;
        /* split-K takes matrices: leading axes of size 1 (one batch, as a
         * convolution with one group passes) are dropped by views */
        int64_t S = m.batches == 1 && a->ndim >= 2 && b->ndim >= 2 && !split_off() ? split_count(M, N, K) : 0;
        bool split_done = false;
        if (S) {
            tg_tensor *a2 = tg__make_view(a, a->dtype, 2, a->shape + a->ndim - 2, a->strides + a->ndim - 2, a->offset);
            tg_tensor *b2 = tg__make_view(b, b->dtype, 2, b->shape + b->ndim - 2, b->strides + b->ndim - 2, b->offset);
            tg_tensor *y2 = tg__make_view(y, y->dtype, 2, y->shape + y->ndim - 2, y->strides + y->ndim - 2, y->offset);
            st = a2 && b2 && y2 ? matmul_split_k(c, a2, b2, y2, S, &split_done) : TG_ERR_MEMORY;
            tg_release(a2);
            tg_release(b2);
            tg_release(y2);
        }
        if (!st && !split_done && M * N * m.batches > 0) {
            VkBuffer bufs[4];
            fill_bases(a, b, y, p, bufs);
            bool with_ep = fill_epilogue(ep, y, p, bufs);
            const mm_variant *v = pick(d, t, M, N, m.batches);
            /* the wide tile's epilogue build ran 20x slower than the plain one
             * on the H100 (4096^3: 69.9 against 3.7 ms; its 128 accumulators
             * leave no registers): there the epilogue is a separate pass (a
             * switch to big would change the product's rounding against the
             * unfused chain) */
            if (with_ep && v && v->bn > 128) {
                with_ep = false;
                p[40] = 0;
            }
            /* an activation after the bias and relu: the generated build of
             * the same kernel, else the caller runs it after the product */
            act_kernel ak;
            bool act = with_ep && ep->act && act_build(v, t, ep->act, &ak);
            if (with_ep && ep->act && !act && !ep->bias && !ep->relu) {
                with_ep = false;
                p[40] = 0;
            }
            char pipe[48];
            uint32_t gx, gy;
            if (v) {
                p[30] = operand_mode(m.acs, m.ars, p[5], p + 18, m.nb);
                p[31] = operand_mode(m.bcs, m.brs, p[6], p + 24, m.nb);
                p[32] = N % 4 == 0 && p[7] % 4 == 0;
                snprintf(pipe, sizeof pipe, "matmul_%s%s_%s", v->name, with_ep ? "_ep" : "", tg__vk_sfx(t));
                gx = (uint32_t)((N + v->bn - 1) / v->bn);
                gy = (uint32_t)((M + v->bm - 1) / v->bm);
            } else {
                snprintf(pipe, sizeof pipe, "matmul_%s%s", with_ep ? "ep_" : "", tg__vk_sfx(t));
                gx = (uint32_t)((N + 15) / 16);
                gy = (uint32_t)((M + 15) / 16);
            }
            if (act) {
                pthread_mutex_lock(&d->lock);
                st = tg__vk_dispatch_spirv(d, ak.name, ak.code, ak.size, p, 64 * sizeof *p, 4, bufs, gx, gy,
                                           (uint32_t)m.batches);
                pthread_mutex_unlock(&d->lock);
                if (!st) snprintf(pipe, sizeof pipe, "%s", ak.name);
            } else {
                st = tg__vk_record(d, pipe, p, with_ep ? 4 : 3, bufs, gx, gy, (uint32_t)m.batches);
            }
            if (!st) snprintf(last_pipe, sizeof last_pipe, "%s", pipe);
            if (!st && with_ep) ep->applied = true;
            if (!st && act) ep->act_applied = true;
        }
    }
    tg_release(a);
    tg_release(b);
    return st;
}
#else
/* Without the backend there is nothing to force. */
const char *tg__vk_matmul_force(const char *variant) { (void)variant; return ""; }
const char *tg__vk_matmul_last(void) { return ""; }
long tg__vk_matmul_splits(void) { return 0; }
long tg__vk_matmul_coop_count(void) { return 0; }
bool tg__vk_matmul_has_coop(int dev) { (void)dev; return false; }
#endif
