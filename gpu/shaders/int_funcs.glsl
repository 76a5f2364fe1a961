// Integer elementwise op formulas, overloaded on int (i32) and uvec2 (i64
// as its (low, high) 32-bit words, two's complement, so no shaderInt64 is
// needed; the layout icast.comp reads and writes): u_<op>(x) for unary,
// b_<op>(x, y) for binary ops and c_<op>(x, y) for comparisons, named
// after the op as in elementwise_funcs.glsl. Arithmetic wraps around as
// the CPU's (tensor/ops/unary.c, binary.c): it is done on uint, where
// SPIR-V defines the wrap.
#ifndef TG_INT_FUNCS
#define TG_INT_FUNCS
int u_neg(int x) { return int(0u - uint(x)); }
int u_abs(int x) { return x < 0 ? u_neg(x) : x; }   // abs(INT_MIN) = INT_MIN
int u_relu(int x) { return max(x, 0); }
int u_square(int x) { return int(uint(x) * uint(x)); }
int u_sign(int x) { return (x > 0 ? 1 : 0) - (x < 0 ? 1 : 0); }
int b_add(int x, int y) { return int(uint(x) + uint(y)); }
int b_sub(int x, int y) { return int(uint(x) - uint(y)); }
int b_mul(int x, int y) { return int(uint(x) * uint(y)); }
int b_maximum(int x, int y) { return max(x, y); }
int b_minimum(int x, int y) { return min(x, y); }
bool c_eq(int x, int y) { return x == y; }
bool c_ne(int x, int y) { return x != y; }
bool c_lt(int x, int y) { return x < y; }
bool c_le(int x, int y) { return x <= y; }
bool c_gt(int x, int y) { return x > y; }
bool c_ge(int x, int y) { return x >= y; }

// Python's %, as the CPU's iremd (tensor/ops/binary.c): C's truncated
// remainder (the dividend's sign) moved to the divisor's sign; x % 0 and
// x % -1 are 0. GLSL leaves % of negative operands undefined: it is done
// on the magnitudes.
int b_remainder(int x, int y) {
    if (y == 0 || y == -1) return 0;
    uint ax = x < 0 ? 0u - uint(x) : uint(x), ay = y < 0 ? 0u - uint(y) : uint(y);
    int r = int(ax % ay);
    if (x < 0) r = -r;
    return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
}

// i64: carries and borrows between the words; the product's low 64 bits
// are lo*lo (64 bits) plus the cross terms' low words in the high word.
bool c_lt(uvec2 x, uvec2 y) { return x.y != y.y ? int(x.y) < int(y.y) : x.x < y.x; }
bool c_eq(uvec2 x, uvec2 y) { return x == y; }
bool c_ne(uvec2 x, uvec2 y) { return x != y; }
bool c_le(uvec2 x, uvec2 y) { return !c_lt(y, x); }
bool c_gt(uvec2 x, uvec2 y) { return c_lt(y, x); }
bool c_ge(uvec2 x, uvec2 y) { return !c_lt(x, y); }
uvec2 b_add(uvec2 x, uvec2 y) {
    uint carry, lo = uaddCarry(x.x, y.x, carry);
    return uvec2(lo, x.y + y.y + carry);
}
uvec2 b_sub(uvec2 x, uvec2 y) {
    uint borrow, lo = usubBorrow(x.x, y.x, borrow);
    return uvec2(lo, x.y - y.y - borrow);
}
uvec2 b_mul(uvec2 x, uvec2 y) {
    uint hi, lo;
    umulExtended(x.x, y.x, hi, lo);
    return uvec2(lo, hi + x.x * y.y + x.y * y.x);
}
uvec2 b_maximum(uvec2 x, uvec2 y) { return c_lt(x, y) ? y : x; }
uvec2 b_minimum(uvec2 x, uvec2 y) { return c_lt(y, x) ? y : x; }
uvec2 u_neg(uvec2 x) { return b_sub(uvec2(0u), x); }
// unsigned 64-bit a mod b (b != 0): 32-bit % when both fit, else
// restoring long division, one bit of a per step (r < b <= 2^63 keeps
// 2 r + 1 within 64 bits)
bool u64_lt(uvec2 x, uvec2 y) { return x.y != y.y ? x.y < y.y : x.x < y.x; }
uvec2 u64_mod(uvec2 a, uvec2 b) {
    if (a.y == 0u && b.y == 0u) return uvec2(a.x % b.x, 0u);
    uvec2 r = uvec2(0u);
    for (int i = 63; i >= 0; i--) {
        uint bit = (i >= 32 ? a.y >> uint(i - 32) : a.x >> uint(i)) & 1u;
        r = uvec2((r.x << 1) | bit, (r.y << 1) | (r.x >> 31));
        if (!u64_lt(r, b)) r = b_sub(r, b);
    }
    return r;
}
uvec2 b_remainder(uvec2 x, uvec2 y) {
    if ((y.x | y.y) == 0u || (y.x & y.y) == 0xffffffffu) return uvec2(0u);
    bool xn = int(x.y) < 0, yn = int(y.y) < 0;
    uvec2 q = u64_mod(xn ? u_neg(x) : x, yn ? u_neg(y) : y);
    if ((q.x | q.y) == 0u) return q;
    uvec2 r = xn ? u_neg(q) : q;
    return xn != yn ? b_add(r, y) : r;
}
uvec2 u_abs(uvec2 x) { return int(x.y) < 0 ? u_neg(x) : x; }
uvec2 u_relu(uvec2 x) { return int(x.y) < 0 ? uvec2(0u) : x; }
uvec2 u_square(uvec2 x) { return b_mul(x, x); }
uvec2 u_sign(uvec2 x) { return int(x.y) < 0 ? uvec2(0xffffffffu) : uvec2((x.x | x.y) != 0u ? 1u : 0u, 0u); }
#endif
