/* dtypes and NumPy's promotion lattice (NEP 50: no value-based casting). */
#include "tensor/tensor_impl.h"

static const char *const dtype_names[TG_NUM_DTYPES] = {"bool", "i32", "i64", "f32", "f64",
                                                       "c64", "c128", "f16", "bf16"};
static const size_t dtype_sizes[TG_NUM_DTYPES] = {1, 4, 8, 4, 8, 8, 16, 2, 2};

static bool valid(tg_dtype d) { return (unsigned)d < TG_NUM_DTYPES; }

const char *tg_dtype_name(tg_dtype d) { return valid(d) ? dtype_names[d] : "?"; }
size_t tg_dtype_size(tg_dtype d) { return valid(d) ? dtype_sizes[d] : 0; }
bool tg_dtype_is_complex(tg_dtype d) { return d == TG_C64 || d == TG_C128; }
bool tg_dtype_is_floating(tg_dtype d) {
    return d == TG_F32 || d == TG_F64 || d == TG_F16 || d == TG_BF16;
}
bool tg_dtype_is_integer(tg_dtype d) { return d == TG_I32 || d == TG_I64; }

tg_dtype tg_real_dtype(tg_dtype d) {
    return d == TG_C64 ? TG_F32 : d == TG_C128 ? TG_F64 : d;
}
tg_dtype tg_complex_dtype(tg_dtype d) {
    switch (d) {
    case TG_C64: case TG_F32: case TG_F16: case TG_BF16: return TG_C64;
    default: return TG_C128;
    }
}

/* Kind rank: bool < integer < floating < complex; within a kind, by size.
 * f16 and bf16 promote to f32 with each other (as PyTorch does). */
static int kind_of(tg_dtype d) {
    if (d == TG_BOOL) return 0;
    if (tg_dtype_is_integer(d)) return 1;
    if (tg_dtype_is_floating(d)) return 2;
    return 3;
}

tg_dtype tg_promote_types(tg_dtype a, tg_dtype b) {
    if (a == b) return a;
    int ka = kind_of(a), kb = kind_of(b);
    if (ka < kb) { tg_dtype t = a; a = b; b = t; int k = ka; ka = kb; kb = k; }
    /* now a has the higher (or equal) kind */
    if (ka == 1) return kb == 0 ? a : TG_I64;        /* bool keeps the int; i32 with i64 */
    if (ka == 2) {
        if (kb == 2) {
            if (a == TG_F64 || b == TG_F64) return TG_F64;
            if (a == TG_F32 || b == TG_F32) return TG_F32;
            return TG_F32;                             /* f16 with bf16 */
        }
        /* float with int/bool: NumPy gives f64 for i32/i64, keeps a for bool */
        if (kb == 1) return a == TG_F32 || a == TG_F16 || a == TG_BF16 ? TG_F64 : a;
        return a;
    }
    if (ka == 3) {
        if (kb == 3) return TG_C128;                  /* c64 with c128 */
        if (a == TG_C128) return TG_C128;
        /* c64 with f64 or ints gives c128; with f32/f16/bool stays c64 */
        if (b == TG_F64 || kb == 1) return TG_C128;
        return TG_C64;
    }
    return a;
}
