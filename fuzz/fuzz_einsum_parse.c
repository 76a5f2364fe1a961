/* libFuzzer target: the einsum subscript parser and everything behind it
 * (spec building, path search, contraction) on arbitrary subscripts must
 * fail with an error or succeed, never crash, over-read or leak.
 *
 * Input: byte 0 is a flag byte, the rest the subscripts (up to the first NUL).
 * Flags: bits 0-1 pick the strategy (auto, greedy, optimal, random-greedy),
 * bits 2-3 the rank of each "..." (0-3), bit 4 gives one operand too many,
 * bits 5-7 a seed for label sizes. Operands are f64 ones whose ranks follow
 * the terms (one axis per label code point, "..." as the flag says) and
 * whose sizes follow the labels (1-3, equal for one label), so most inputs
 * that parse also contract. Invariant: when tg_einsum succeeds,
 * tg_einsum_path with the same strategy succeeds too (both parse and check
 * the same way), and the result has the output's rank.
 * Built with clang-14 -fsanitize=fuzzer,address (fuzz/README.md), or with
 * replay_main.c into a plain program that replays the corpus under CTest. */
#include <tangent/tangent.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPS 8
#define MAX_LEN 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > MAX_LEN) return 0;
    uint8_t flags = data[0];
    char sub[MAX_LEN + 1];
    size_t len = 0;
    while (1 + len < size && data[1 + len]) { sub[len] = (char)data[1 + len]; len++; }
    sub[len] = 0;
    static const char *const strategies[4] = {"auto", "greedy", "optimal", "random-greedy"};
    const char *strategy = strategies[flags & 3];
    int ell = (flags >> 2) & 3, seed = flags >> 5;
    /* Ranks and sizes of the operands from the terms before "->". */
    int n = 0, rank[MAX_OPS + 1] = {0};
    int64_t shape[MAX_OPS + 1][TG_MAX_DIMS];
    const char *arrow = strstr(sub, "->");
    size_t end = arrow ? (size_t)(arrow - sub) : len;
    bool too_many = false;
    for (size_t k = 0; k <= end; k++) {
        if (k == end || sub[k] == ',') {
            if (++n > MAX_OPS) { too_many = true; break; }
            continue;
        }
        unsigned char c = (unsigned char)sub[k];
        if (c == ' ' || (c >= 0x80 && c < 0xc0)) continue;   /* spaces, UTF-8 continuation bytes */
        if (c == '.') {
            if (k + 2 < end && sub[k + 1] == '.' && sub[k + 2] == '.') {
                for (int e = 0; e < ell && rank[n] < TG_MAX_DIMS; e++) shape[n][rank[n]++] = 2;
                k += 2;
            }
            continue;
        }
        if (rank[n] < TG_MAX_DIMS) shape[n][rank[n]++] = (c * 7 + seed) % 3 + 1;
    }
    if (too_many) return 0;
    if (flags & 16) n++;   /* a count that does not match the terms */
    if (n > MAX_OPS) n = MAX_OPS;
    tg_tensor *ops[MAX_OPS + 1];
    for (int i = 0; i < n; i++) ops[i] = tg_ones(TG_F64, rank[i], shape[i]);
    tg_tensor *r = tg_einsum(sub, n, ops);
    char *report = NULL;
    tg_clear_error();
    tg_status st = tg_einsum_path(sub, n, ops, strategy, &report);
    if (r && st != TG_OK && !(flags & 3)) abort();   /* auto: the path tg_einsum took must be reportable */
    if (r && tg_ndim(r) > TG_MAX_DIMS) abort();
    free(report);
    if (r && n <= 6) {
        /* the options entry point agrees with the plain one */
        tg_einsum_opts o = {strategy, (flags & 8) ? -1 : 0, NULL};
        tg_tensor *r2 = tg_einsum_opt(sub, n, ops, &o);
        if (!r2 && strcmp(strategy, "optimal") != 0) abort();
        if (r2 && tg_numel(r2) != tg_numel(r)) abort();
        tg_release(r2);
    }
    tg_release(r);
    for (int i = 0; i < n; i++) tg_release(ops[i]);
    tg_clear_error();
    return 0;
}
