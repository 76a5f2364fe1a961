// Elementwise op formulas on one float dtype T (T=float, or T=double with
// TG_F64), shared by unary.comp, binary.comp and the fused kernels that
// gpu/fused.c generates at run time: one function per op, u_<op>(x) for
// unary and b_<op>(x, y) for binary ops, named after the op (its
// tg_op_def name), so a fused kernel computes exactly what the op's own
// kernel computes. GLSL's exp/log/tanh are 32-bit only, so the f64 build
// has its own; the f32 build avoids GLSL log's absolute (not relative)
// error near 1 with a series there, so log1p/log2/log10 keep their
// relative accuracy.
#ifndef TG_ELEMENTWISE_FUNCS
#define TG_ELEMENTWISE_FUNCS
#ifdef TG_F64
const double LN2_HI = 6.93147180369123816490e-01LF, LN2_LO = 1.90821492927058770002e-10LF;
const double INV_LN2 = 1.44269504088896338700e+00LF;
const double LOG2E = 1.44269504088896340736LF, LOG10E = 0.43429448190325182765LF;

// e^r - 1 for |r| <= ln2 / 2: Horner form of the Taylor series to r^17.
double expm1_small(double r) {
    double t = 1.0LF;
    for (int k = 17; k >= 2; k--) t = 1.0LF + r * t / double(k);
    return r * t;
}
double f_exp(double x) {
    if (x != x) return x;
    if (x > 709.782712893384LF) return 1.0LF / 0.0LF;
    if (x < -745.2LF) return 0.0LF;
    double k = roundEven(x * INV_LN2);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    return ldexp(1.0LF + expm1_small(r), int(k));
}
double f_expm1(double x) { return abs(x) <= 0.34657359LF ? expm1_small(x) : f_exp(x) - 1.0LF; }
double f_log(double x) {
    if (x != x || x < 0.0LF) return 0.0LF / 0.0LF;
    if (x == 0.0LF) return -1.0LF / 0.0LF;
    if (x > 1.7976931348623157e308LF) return x;
    int e;
    double m = frexp(x, e);
    if (m < 0.70710678118654752LF) { m *= 2.0LF; e -= 1; }
    double s = (m - 1.0LF) / (m + 1.0LF), z = s * s, t = 0.0LF;
    for (int k = 10; k >= 1; k--) t = z * (1.0LF / double(2 * k + 1) + t);
    double lm = 2.0LF * s + 2.0LF * s * t;
    return double(e) * LN2_HI + (lm + double(e) * LN2_LO);
}
double f_log1p(double x) {
    // Goldberg's trick: exact where 1 + x rounds
    double u = 1.0LF + x;
    if (u == 1.0LF || u > 1.7976931348623157e308LF) return x;    // tiny x, or +inf
    return f_log(u) * (x / (u - 1.0LF));
}
double f_tanh(double x) {
    if (x != x) return x;
    double ax = abs(x);
    if (ax > 22.0LF) return sign(x);
    double e = f_expm1(2.0LF * ax);
    return sign(x) * (e / (e + 2.0LF));
}
#else
const float LOG2E = 1.44269504, LOG10E = 0.434294482;
float f_exp(float x) { return exp(x); }
float f_expm1(float x) {
    if (abs(x) >= 0.34657359) return exp(x) - 1.0;
    float t = 1.0;
    for (int k = 10; k >= 2; k--) t = 1.0 + x * t / float(k);
    return x * t;
}
// log(1 + x) for |x| < 1/32 by its series (error below 2^-30 relative)
float log1p_small(float x) {
    float t = 0.0;
    for (int k = 8; k >= 1; k--) t = 1.0 / float(k) - x * t;
    return x * t;
}
float f_log1p(float x) { return abs(x) < 0.03125 ? log1p_small(x) : log(1.0 + x); }
float f_log(float x) { return abs(x - 1.0) < 0.03125 ? log1p_small(x - 1.0) : log(x); }
float f_tanh(float x) { return abs(x) > 10.0 ? sign(x) : tanh(x); }
#endif


T u_neg(T x) { return -x; }
T u_abs(T x) { return abs(x); }
T u_exp(T x) { return f_exp(x); }
T u_log(T x) { return f_log(x); }
T u_sqrt(T x) { return sqrt(x); }
T u_relu(T x) { return x < T(0) ? T(0) : x; }
T u_sigmoid(T x) { return T(1) / (T(1) + f_exp(-x)); }
T u_tanh(T x) { return f_tanh(x); }
T u_square(T x) { return x * x; }
T u_sign(T x) { return x != x ? x : T((x > T(0) ? 1 : 0) - (x < T(0) ? 1 : 0)); }
T u_reciprocal(T x) { return T(1) / x; }
T u_expm1(T x) { return f_expm1(x); }
T u_log1p(T x) { return f_log1p(x); }
T u_log2(T x) { return f_log(x) * LOG2E; }
T u_log10(T x) { return f_log(x) * LOG10E; }
T u_rsqrt(T x) { return T(1) / sqrt(x); }
T u_floor(T x) { return floor(x); }
T u_ceil(T x) { return ceil(x); }
T u_round(T x) { return roundEven(x); }
T u_trunc(T x) { return trunc(x); }
T u_silu(T x) { return x / (T(1) + f_exp(-x)); }
T u_softplus(T x) { return max(x, T(0)) + f_log1p(f_exp(-abs(x))); }

// NaN-propagating maximum/minimum, as NumPy
T b_add(T x, T y) { return x + y; }
T b_sub(T x, T y) { return x - y; }
T b_mul(T x, T y) { return x * y; }
T b_div(T x, T y) { return x / y; }
T b_maximum(T x, T y) { return (x != x || y != y) ? x + y : max(x, y); }
T b_minimum(T x, T y) { return (x != x || y != y) ? x + y : min(x, y); }
#endif
