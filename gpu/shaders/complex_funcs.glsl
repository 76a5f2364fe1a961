// Complex elementwise op formulas on CT (vec2 for c64, dvec2 for c128 with
// TG_F64: (real, imaginary), the layout of C's complex types), named
// after the ops as in elementwise_funcs.glsl (u_<op>, b_<op>) and
// overloaded on CT.
#ifndef TG_COMPLEX_FUNCS
#define TG_COMPLEX_FUNCS
#ifdef TG_F64
#define CT dvec2
#else
#define CT vec2
#endif
// |z| without overflow or underflow in the squares (the CPU's cabs, hypot):
// the larger part times sqrt(1 + q^2), q the ratio of the parts; an
// infinite part gives +inf even beside a NaN, as hypot
T r_abs(CT z) {
    T a = abs(z.x), b = abs(z.y);
    if (isinf(a)) return a;             // +inf: a and b are magnitudes
    if (isinf(b)) return b;
    if (isnan(a) || isnan(b)) return a + b;
    T m = max(a, b), n = min(a, b);
    if (m == T(0)) return T(0);
    T q = n / m;
    return m * sqrt(T(1) + q * q);
}
CT u_neg(CT x) { return -x; }
CT u_conj(CT x) { return CT(x.x, -x.y); }
CT b_add(CT x, CT y) { return x + y; }
CT b_sub(CT x, CT y) { return x - y; }
CT b_mul(CT x, CT y) { return CT(x.x * y.x - x.y * y.y, x.x * y.y + x.y * y.x); }
// Smith's division: the ratio of the divisor's parts, not their squares,
// so no overflow or underflow where the quotient is representable
CT b_div(CT x, CT y) {
    if (abs(y.x) >= abs(y.y)) {
        T r = y.y / y.x, den = y.x + y.y * r;
        return CT((x.x + x.y * r) / den, (x.y - x.x * r) / den);
    }
    T r = y.x / y.y, den = y.x * r + y.y;
    return CT((x.x * r + x.y) / den, (x.y * r - x.x) / den);
}
#endif
