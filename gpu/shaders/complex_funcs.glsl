// Complex elementwise op formulas on CT (vec2 for c64, dvec2 for c128 with
// TG_F64: (real, imaginary), the layout of C's complex types), named
// after the ops as in elementwise_funcs.glsl (u_<op>, b_<op>) and
// overloaded on CT; the elementary functions are built on that file's real
// ones (its own f64 exp, log, sin, cos and atan: GLSL's are 32-bit only).
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
#ifdef TG_F64
bool sign_bit(T x) { return (unpackDouble2x32(x).y >> 31) != 0u; }
double c_inf() { return packDouble2x32(uvec2(0u, 0x7ff00000u)); }
const double C_BIG = 1e300LF;               // sqrt scales parts above this
#else
bool sign_bit(T x) { return (floatBitsToUint(x) >> 31) != 0u; }
float c_inf() { return uintBitsToFloat(0x7f800000u); }
const float C_BIG = 1e36;
#endif
CT u_neg(CT x) { return -x; }
CT u_conj(CT x) { return CT(x.x, -x.y); }
CT b_add(CT x, CT y) { return x + y; }
CT b_sub(CT x, CT y) { return x - y; }
CT b_mul(CT x, CT y) { return CT(x.x * y.x - x.y * y.y, x.x * y.y + x.y * y.x); }
// Smith's division: the ratio of the divisor's parts, not their squares,
// so no overflow or underflow where the quotient is representable; a zero
// divisor gives C's infinities (Annex G, as the CPU)
CT b_div(CT x, CT y) {
    if (y.x == T(0) && y.y == T(0) && !(isnan(x.x) && isnan(x.y))) {
        // C's division by a complex zero: copysign(inf, y.x) times each part
        // (inf times a zero part is NaN; spelled out, as drivers may fold it to 0)
        T inf = sign_bit(y.x) ? -c_inf() : c_inf();
        return CT(x.x == T(0) ? f_nan() : inf * x.x, x.y == T(0) ? f_nan() : inf * x.y);
    }
    if (abs(y.x) >= abs(y.y)) {
        T r = y.y / y.x, den = y.x + y.y * r;
        return CT((x.x + x.y * r) / den, (x.y - x.x * r) / den);
    }
    T r = y.x / y.y, den = y.x * r + y.y;
    return CT((x.x * r + x.y) / den, (x.y * r - x.x) / den);
}
// atan2(y, x) as C's: the quadrant from the signs, zeros included
T r_atan2(T y, T x) {
    if (isnan(x) || isnan(y)) return x + y;
    T ax = abs(x), ay = abs(y), a;
    if (ax == T(0) && ay == T(0)) a = T(0);
    else if (isinf(ax) && isinf(ay)) a = PIO4;
    else if (ax >= ay) a = atan_pos(ay / ax);
    else a = (PIO2_HI - atan_pos(ax / ay)) + PIO2_LO;
    if (sign_bit(x)) a = (T(2) * PIO2_HI - a) + T(2) * PIO2_LO;
    return sign_bit(y) ? -a : a;
}
// e^x (cos y + i sin y); a zero imaginary part stays (e^x of a real)
CT u_exp(CT z) {
    T e = exp_acc(z.x);
    if (z.y == T(0)) return CT(e, z.y);
    return CT(e * u_cos(z.y), e * u_sin(z.y));
}
// log|z| + i arg z; near |z| = 1, log|z| = log1p(|z|^2 - 1) / 2 with
// |z|^2 - 1 = (m - 1)(m + 1) + n^2 (m, n the larger and smaller part)
CT u_log(CT z) {
    T ax = abs(z.x), ay = abs(z.y), m = max(ax, ay), n = min(ax, ay), re;
    if (m > T(0.5) && m < T(2)) re = T(0.5) * f_log1p((m - T(1)) * (m + T(1)) + n * n);
    else re = f_log(r_abs(z));
    return CT(re, r_atan2(z.y, z.x));
}
// the principal root: t = sqrt((|x| + |z|) / 2), then (t, y / 2t) for
// x >= 0 and (|y| / 2t, +-t) for x < 0; huge parts are scaled by 1/4 first
CT u_sqrt(CT z) {
    T x = z.x, y = z.y;
    if (x == T(0) && y == T(0)) return CT(T(0), y);
    if (isinf(y)) return CT(abs(y), y);
    bool big = max(abs(x), abs(y)) > C_BIG;
    CT w = big ? z * T(0.25) : z;
    T t = sqrt((abs(w.x) + r_abs(w)) * T(0.5));
    CT r = w.x >= T(0) ? CT(t, w.y / (T(2) * t)) : CT(abs(w.y) / (T(2) * t), sign_bit(w.y) ? -t : t);
    return big ? r * T(2) : r;
}
CT u_square(CT z) { return CT((z.x - z.y) * (z.x + z.y), T(2) * z.x * z.y); }
#endif
