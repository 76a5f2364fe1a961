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
T c_negate(T x) { uvec2 u = unpackDouble2x32(x); return packDouble2x32(uvec2(u.x, u.y ^ 0x80000000u)); }
T c_zero(bool neg) { return packDouble2x32(uvec2(0u, neg ? 0x80000000u : 0u)); }
T c_copysign(T m, T s) {
    uvec2 a = unpackDouble2x32(m), b = unpackDouble2x32(s);
    return packDouble2x32(uvec2(a.x, (a.y & 0x7fffffffu) | (b.y & 0x80000000u)));
}
bool c_nonfinite_bits(T x) { return (unpackDouble2x32(x).y & 0x7ff00000u) == 0x7ff00000u; }
bool c_neg_inf_bits(T x) { uvec2 u = unpackDouble2x32(x); return u.y == 0xfff00000u && u.x == 0u; }
const double C_BIG = 1e300LF;               // sqrt scales parts above this
#else
bool sign_bit(T x) { return (floatBitsToUint(x) >> 31) != 0u; }
float c_inf() { return uintBitsToFloat(0x7f800000u); }
T c_negate(T x) { return uintBitsToFloat(floatBitsToUint(x) ^ 0x80000000u); }
T c_zero(bool neg) { return uintBitsToFloat(neg ? 0x80000000u : 0u); }
T c_copysign(T m, T s) { return uintBitsToFloat((floatBitsToUint(m) & 0x7fffffffu) | (floatBitsToUint(s) & 0x80000000u)); }
bool c_nonfinite_bits(T x) { return (floatBitsToUint(x) & 0x7f800000u) == 0x7f800000u; }
bool c_neg_inf_bits(T x) { return floatBitsToUint(x) == 0xff800000u; }
const float C_BIG = 1e36;
#endif
bool c_finite(T x) { return !isinf(x) && !isnan(x); }
// Signs are set on the bits (c_negate, c_zero, c_copysign above): without
// Vulkan's SignedZeroInfNanPreserve float control a driver may treat -0 and
// +0 as one value, folding `c ? -0.0 : 0.0` to one constant and -x to
// 0 - x (NVIDIA's f32 did both, giving zero parts the other sign than C).
CT u_neg(CT x) { return CT(c_negate(x.x), c_negate(x.y)); }
CT u_conj(CT x) { return CT(x.x, c_negate(x.y)); }
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
        T inf = c_copysign(c_inf(), y.x);
        return CT(x.x == T(0) ? f_nan() : inf * x.x, x.y == T(0) ? f_nan() : inf * x.y);
    }
    // precise: a zero part of x must not let the driver fold 0 - a into -a
    // (a zero's sign)
    if (abs(y.x) >= abs(y.y)) {
        precise T r = y.y / y.x, den = y.x + y.y * r;
        precise T re = (x.x + x.y * r) / den, im = (x.y - x.x * r) / den;
        return CT(re, im);
    }
    precise T r = y.x / y.y, den = y.x * r + y.y;
    precise T re = (x.x * r + x.y) / den, im = (x.y * r - x.x) / den;
    return CT(re, im);
}
// 1 / y, C's real 1 over a complex (Smith's division of 1 + 0i): written
// out, as drivers fold 0 - r to -r (which gives -0 where C gives +0)
CT c_recip(CT y) {
    if (y.x == T(0) && y.y == T(0)) return b_div(CT(T(1), T(0)), y);
    // an infinite part beside an infinite or NaN one (Smith's gives NaN):
    // C's recovery, 0 (a c' + b d') + i 0 (b c' - a d') for 1 + 0i, with
    // c', d' the parts as +-1 where infinite, else +-0
    if ((isinf(y.x) && !c_finite(y.y)) || (isinf(y.y) && !c_finite(y.x))) {
        // only signs are left: worked out here, as drivers fold 0 * a to +0
        bool c1 = isinf(y.x), sc = sign_bit(y.x), sd = sign_bit(y.y);
        bool nr = c1 ? sc : sc && sd;          // sign of c' + 0 d'
        bool ni = isinf(y.y) ? !sd : sc && !sd; // sign of 0 c' - d'
        return CT(c_zero(nr), c_zero(ni));
    }
    if (abs(y.x) >= abs(y.y)) {
        precise T r = y.y / y.x, den = y.x + y.y * r;
        return CT(T(1) / den, (r == T(0) ? c_zero(false) : c_negate(r)) / den);
    }
    precise T r = y.x / y.y, den = y.x * r + y.y;
    return CT((r == T(0) ? c_zero(false) : r) / den, T(-1) / den);
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
    return sign_bit(y) ? c_negate(a) : a;
}
// e^x (cos y + i sin y); a zero imaginary part stays (e^x of a real)
// (C's cexp at infinities: +inf + i NaN and +-0 for an infinite or NaN y
// beside x = +inf and -inf, NaN + i NaN beside any other x)
CT u_exp(CT z) {
    T e = exp_acc(z.x);
    if (z.y == T(0)) return CT(e, z.y);
    if (isinf(z.y) || isnan(z.y)) {
        if (isinf(z.x)) return z.x > T(0) ? CT(c_inf(), f_nan()) : CT(T(0), c_copysign(T(0), z.y));
        return CT(f_nan(), f_nan());
    }
    return CT(e * u_cos(z.y), e * u_sin(z.y));
}
// log|z| + i arg z; near |z| = 1, log|z| = log1p(|z|^2 - 1) / 2 with
// |z|^2 - 1 = (m - 1)(m + 1) + n^2 (m, n the larger and smaller part)
CT u_log(CT z) {
    T ax = abs(z.x), ay = abs(z.y), m = max(ax, ay), n = min(ax, ay), re;
    if (isinf(ax) || isinf(ay)) re = c_inf();           // beside a NaN too (C's clog)
    else if (isnan(ax) || isnan(ay)) re = f_nan();
    else if (m > T(0.5) && m < T(2)) re = T(0.5) * f_log1p((m - T(1)) * (m + T(1)) + n * n);
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
    CT r = w.x >= T(0) ? CT(t, w.y / (T(2) * t)) : CT(abs(w.y) / (T(2) * t), sign_bit(w.y) ? c_negate(t) : t);
    return big ? r * T(2) : r;
}
CT u_square(CT z) { return CT((z.x - z.y) * (z.x + z.y), T(2) * z.x * z.y); }

// ---- trigonometric and hyperbolic functions ---------------------------------
// The formulas and the special values (infinities, NaN, signed zeros) of
// glibc's csinh, ccosh, ctanh and catanh, which the CPU calls; sin, cos,
// tan and atan are the hyperbolic ones of iz (C99 G.6: csin(z) =
// -i csinh(iz), ...). asinh, asin, acos and acosh are Kahan's formulas
// ("Branch cuts for complex elementary functions", 1987) from the square
// roots of 1 +- z (or z +- 1), which get the signed zeros on the branch
// cuts right and need no scaling; their infinities and NaN are glibc's.
#ifdef TG_F64
const double C_EPS = 2.220446049250313e-16LF;      // DBL_EPSILON
const double C_SPLIT = 134217729.0LF;             // 2^27 + 1: Veltkamp's split
const double TANH_BIG = 354.0LF;                  // glibc's ctanh: (DBL_MAX_EXP - 1) ln 2 / 2
#else
const float C_EPS = 1.1920929e-07;
const float C_SPLIT = 4097.0;
const float TANH_BIG = 44.0;
#endif
CT c_mul_i(CT z) { return CT(c_negate(z.y), z.x); }   // i z
CT c_div_i(CT z) { return CT(z.y, c_negate(z.x)); }   // -i z
// c e^a / 2 for a >= 0 and |c| <= 1: e^a is split in two halves where it
// would overflow on its own; a zero c stays (with its sign)
T exp_half_mul(T c, T a) {
    if (c == T(0)) return c;
    if (a < EXP_OVER) return c * (T(0.5) * exp_acc(a));
    T h = exp_acc(T(0.5) * a);
    return ((T(0.5) * c) * h) * h;
}
// sinh(x) cos(y) + i cosh(x) sin(y) (f) or cosh(x) cos(y) + i sinh(x) sin(y)
// for finite x, y; beyond |x| = 22 both are e^|x| / 2 (to rounding)
CT sinh_cosh_fin(T x, T y, bool cosh_) {
    T s = u_sin(y), c = u_cos(y), a = abs(x);
    if (a < T(22)) return cosh_ ? CT(u_cosh(x) * c, u_sinh(x) * s) : CT(u_sinh(x) * c, u_cosh(x) * s);
    T sg = x < T(0) ? T(-1) : T(1);
    return cosh_ ? CT(exp_half_mul(c, a), sg * exp_half_mul(s, a)) : CT(sg * exp_half_mul(c, a), exp_half_mul(s, a));
}
CT u_sinh(CT z) {
    T x = z.x, y = z.y;
    if (c_finite(x) && c_finite(y)) return sinh_cosh_fin(x, y, false);
    if (c_finite(x)) return x == T(0) ? CT(x, f_nan()) : CT(f_nan(), f_nan());
    if (isinf(x)) {
        T inf = c_inf(), sg = x < T(0) ? T(-1) : T(1);
        if (c_finite(y) && y != T(0)) return CT(sg * c_copysign(inf, u_cos(y)), c_copysign(inf, u_sin(y)));
        if (y == T(0)) return CT(x, y);
        return CT(inf, f_nan());
    }
    return CT(f_nan(), y == T(0) ? y : f_nan());
}
CT u_cosh(CT z) {
    T x = z.x, y = z.y;
    if (c_finite(x) && c_finite(y)) return sinh_cosh_fin(x, y, true);
    if (c_finite(x)) return CT(f_nan(), x == T(0) ? c_zero(false) : f_nan());
    if (isinf(x)) {
        T inf = c_inf(), sg = x < T(0) ? T(-1) : T(1);
        if (c_finite(y) && y != T(0)) return CT(c_copysign(inf, u_cos(y)), sg * c_copysign(inf, u_sin(y)));
        if (y == T(0)) return CT(inf, sg * y);
        return CT(inf, f_nan());
    }
    return CT(f_nan(), y == T(0) ? y : f_nan());
}
// glibc's ctanh: beyond TANH_BIG, +-1 + 4 i sin y cos y e^(-2|x|); else
// sinh x cosh x / d + i sin y cos y / d, d = sinh^2 x + cos^2 y
CT u_tanh(CT z) {
    T x = z.x, y = z.y;
    if (!c_finite(x) || !c_finite(y)) {
        if (isinf(x)) {
            T im = c_finite(y) && abs(y) > T(1) ? u_sin(y) * u_cos(y) : y;
            return CT(x < T(0) ? T(-1) : T(1), c_zero(sign_bit(im)));
        }
        if (y == T(0)) return CT(x, y);
        return CT(x == T(0) ? x : f_nan(), f_nan());       // C2x: tanh(+-0 + i inf) = +-0 + i NaN
    }
    T s = u_sin(y), c = u_cos(y);
    if (abs(x) > TANH_BIG) return CT(x < T(0) ? T(-1) : T(1), T(4) * s * c * exp_acc(T(-2) * abs(x)));
    T sh = u_sinh(x), ch = u_cosh(x);
    T den = abs(sh) > abs(c) * C_EPS ? sh * sh + c * c : c * c;
    return CT(sh * ch / den, s * c / den);
}
// glibc's csin gives NaN + i inf (+inf) for an infinite y beside an infinite or NaN x
CT u_sin(CT z) { return isinf(z.y) && !c_finite(z.x) ? CT(f_nan(), c_inf()) : c_div_i(u_sinh(c_mul_i(z))); }
CT u_cos(CT z) { return u_cosh(c_mul_i(z)); }
CT u_tan(CT z) { return c_div_i(u_tanh(c_mul_i(z))); }

// a^2 = hi + lo exactly (Veltkamp's split; precise: no contraction)
void sq2(T a, out T hi, out T lo) {
    precise T h = a * a, c = C_SPLIT * a, ah = c - (c - a), al = a - ah;
    precise T l = ((ah * ah - h) + T(2) * ah * al) + al * al;
    hi = h;
    lo = l;
}
// x^2 + y^2 - 1 for 1 > x >= 0.75, x >= y >= 0, without the cancellation
// (x^2's high part minus 1 is exact)
T x2y2m1(T x, T y) {
    T xh, xl, yh, yl;
    sq2(x, xh, xl);
    sq2(y, yh, yl);
    precise T r = ((xh - T(1)) + yh) + (xl + yl);
    return r;
}
// glibc's catanh: real part log(|1 + z|^2 / |1 - z|^2) / 4 (log1p of
// 4x / |1 - z|^2 when the ratio is above 1/2), imaginary part
// atan2(2y, 1 - x^2 - y^2) / 2
CT u_atanh(CT z) {
    T x = z.x, y = z.y, hpi = PIO2_HI;
    if (!c_finite(x) || !c_finite(y)) {
        if (isinf(y)) return CT(c_copysign(T(0), x), c_copysign(hpi, y));
        if (isinf(x) || x == T(0)) return CT(c_copysign(T(0), x), isnan(y) ? f_nan() : c_copysign(hpi, y));
        return CT(f_nan(), f_nan());
    }
    if (x == T(0) && y == T(0)) return z;
    T ax = abs(x), ay = abs(y), re, im;
    if (ax >= T(16) / C_EPS || ay >= T(16) / C_EPS) {
        im = c_copysign(hpi, y);
        if (ay <= T(1)) re = T(1) / x;
        else if (ax <= T(1)) re = x / y / y;
        else {
            T h = r_abs(CT(T(0.5) * x, T(0.5) * y));
            re = x / h / h / T(4);
        }
        return CT(re, im);
    }
    if (ax == T(1) && ay < C_EPS * C_EPS) {
        re = c_copysign(T(0.5), x) * (LN2 - f_log(ay));
    } else {
        T i2 = ay >= C_EPS * C_EPS ? y * y : T(0);
        T num = T(1) + x, den = T(1) - x;
        num = i2 + num * num;
        den = i2 + den * den;
        T f = num / den;
        re = f < T(0.5) ? T(0.25) * f_log(f) : T(0.25) * f_log1p(T(4) * x / den);
    }
    T m = max(ax, ay), n = min(ax, ay), d;
    if (n < T(0.5) * C_EPS) {
        d = (T(1) - m) * (T(1) + m);
        if (d == T(0)) d = c_zero(false);        // +0
    } else if (m >= T(1)) {
        d = (T(1) - m) * (T(1) + m) - n * n;
    } else if (m >= T(0.75) || n >= T(0.5)) {
        d = c_negate(x2y2m1(m, n));
    } else {
        d = (T(1) - m) * (T(1) + m) - n * n;
    }
    return CT(re, T(0.5) * r_atan2(T(2) * y, d));
}
CT u_atan(CT z) { return c_div_i(u_atanh(c_mul_i(z))); }
// Kahan: asinh z = asinh(Im(conj(s1) s2)) + i atan2(y, Re(s1 s2)),
// s1 = sqrt(1 - iz), s2 = sqrt(1 + iz) (1 - w spelled part by part, as C's
// real minus complex, so a zero's sign carries)
CT u_asinh(CT z) {
    T x = z.x, y = z.y;
    if (!c_finite(x) || !c_finite(y)) {
        if (isinf(y)) return CT(c_copysign(c_inf(), x), isnan(x) ? f_nan() : c_copysign(isinf(x) ? PIO4 : PIO2_HI, y));
        if (!c_finite(x)) return CT(x, (isinf(x) && !isnan(y)) || (isnan(x) && y == T(0)) ? c_copysign(T(0), y) : f_nan());
        return CT(f_nan(), f_nan());
    }
    if (x == T(0) && y == T(0)) return z;
    CT s1 = u_sqrt(CT(T(1) + y, c_negate(x))), s2 = u_sqrt(CT(T(1) - y, x));
    return CT(u_asinh(s1.x * s2.y - s1.y * s2.x), r_atan2(y, s1.x * s2.x - s1.y * s2.y));
}
CT u_asin(CT z) {
    if (isnan(z.x) || isnan(z.y)) {
        if (z.x == T(0)) return z;
        if (isinf(z.x) || isinf(z.y)) return CT(f_nan(), c_copysign(c_inf(), z.y));
        return CT(f_nan(), f_nan());
    }
    return c_div_i(u_asinh(c_mul_i(z)));
}
// Kahan: acos z = 2 atan2(Re sqrt(1 - z), Re sqrt(1 + z))
//               + i asinh(Im(conj(sqrt(1 + z)) sqrt(1 - z)));
// infinities and NaN as glibc: pi/2 - asin z
CT u_acos(CT z) {
    T x = z.x, y = z.y;
    if (!c_finite(x) || !c_finite(y) || (x == T(0) && y == T(0))) {
        CT w = u_asin(z);
        T re = PIO2_HI - w.x;
        return CT(re == T(0) ? c_zero(false) : re, c_negate(w.y));
    }
    CT a = u_sqrt(CT(T(1) + x, y)), b = u_sqrt(CT(T(1) - x, c_negate(y)));
    return CT(T(2) * r_atan2(b.x, a.x), u_asinh(a.x * b.y - a.y * b.x));
}
// Kahan: acosh z = asinh(Re(conj(sqrt(z - 1)) sqrt(z + 1)))
//                + 2 i atan2(Im sqrt(z - 1), Re sqrt(z + 1))
CT u_acosh(CT z) {
    T x = z.x, y = z.y;
    if (!c_finite(x) || !c_finite(y)) {
        if (isinf(y)) {
            T a = isinf(x) ? (x < T(0) ? T(3) * PIO4 : PIO4) : PIO2_HI;
            return CT(c_inf(), isnan(x) ? f_nan() : c_copysign(a, y));
        }
        if (isinf(x)) return CT(c_inf(), isnan(y) ? f_nan() : c_copysign(x < T(0) ? T(2) * PIO2_HI : T(0), y));
        return CT(f_nan(), x == T(0) ? PIO2_HI : f_nan());   // acosh(+-0 + i NaN) = NaN + i pi/2
    }
    if (x == T(0) && y == T(0)) return CT(T(0), c_copysign(PIO2_HI, y));
    CT a = u_sqrt(CT(x - T(1), y)), b = u_sqrt(CT(x + T(1), y));
    return CT(u_asinh(a.x * b.x + a.y * b.y), T(2) * r_atan2(a.y, b.x));
}
// the CPU's: cexp(z) - 1, clog(1 + z) (the real 1 on the real part only),
// 1 / (1 + cexp(-z)) and z / |z| (0 at 0)
CT u_expm1(CT z) { CT e = u_exp(z); return CT(e.x - T(1), e.y); }
CT u_log1p(CT z) { return u_log(CT(T(1) + z.x, z.y)); }
// At z = -inf + i(inf or NaN), C's 1 / (1 + e^-z) is 1 / (inf + i NaN) =
// 0 + 0i. Those inputs are recognised on the bits: NVIDIA's f32 code gave
// 0 - 0i through the general path (its float controls let it assume no
// infinities or NaNs, so tests of them may be folded).
CT u_sigmoid(CT z) {
    if (c_neg_inf_bits(z.x) && c_nonfinite_bits(z.y)) return CT(c_zero(false), c_zero(false));
    CT e = u_exp(u_neg(z));
    return c_recip(CT(T(1) + e.x, e.y));
}
CT u_sign(CT z) { T r = r_abs(z); return r == T(0) ? CT(T(0)) : z / r; }
#endif
