// Elementwise unary ops on one float dtype T.
// op: 0 neg, 1 abs, 2 exp, 3 log, 4 sqrt, 5 relu, 6 sigmoid, 7 tanh, 8 square,
// 9 sign, 10 reciprocal, 11 expm1, 12 log1p, 13 log2, 14 log10, 15 rsqrt,
// 16 floor, 17 ceil, 18 round (half to even), 19 trunc, 20 silu, 21 softplus.
// GLSL's exp/log/tanh are 32-bit only, so the f64 build has its own; the
// f32 build avoids GLSL log's absolute (not relative) error near 1 with a
// series there, so log1p/log2/log10 keep their relative accuracy.
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(std430, binding = 2) readonly buffer A { T a[]; };

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

void main() {
    int op = p[2];
    TG_FOR_EACH(i) {
        T x = a[tg_offset(i, 1)], r;
        switch (op) {
        case 0: r = -x; break;
        case 1: r = abs(x); break;
        case 2: r = f_exp(x); break;
        case 3: r = f_log(x); break;
        case 4: r = sqrt(x); break;
        case 5: r = x < T(0) ? T(0) : x; break;
        case 6: r = T(1) / (T(1) + f_exp(-x)); break;
        case 7: r = f_tanh(x); break;
        case 8: r = x * x; break;
        case 9: r = x != x ? x : T((x > T(0) ? 1 : 0) - (x < T(0) ? 1 : 0)); break;
        case 10: r = T(1) / x; break;
        case 11: r = f_expm1(x); break;
        case 12: r = f_log1p(x); break;
        case 13: r = f_log(x) * LOG2E; break;
        case 14: r = f_log(x) * LOG10E; break;
        case 15: r = T(1) / sqrt(x); break;
        case 16: r = floor(x); break;
        case 17: r = ceil(x); break;
        case 18: r = roundEven(x); break;
        case 19: r = trunc(x); break;
        case 20: r = x / (T(1) + f_exp(-x)); break;
        default: r = max(x, T(0)) + f_log1p(f_exp(-abs(x))); break;
        }
        o[tg_offset(i, 0)] = r;
    }
}
