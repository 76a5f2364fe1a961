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
    precise double t = 1.0LF;
    for (int k = 17; k >= 2; k--) t = 1.0LF + r * t / double(k);
    precise double e = r * t;
    return e;
}
double f_exp(double x) {
    if (x != x) return x;
    if (x > 709.782712893384LF) return 1.0LF / 0.0LF;
    if (x < -745.2LF) return 0.0LF;
    double k = roundEven(x * INV_LN2);
    precise double r = (x - k * LN2_HI) - k * LN2_LO;
    precise double m = 1.0LF + expm1_small(r);
    return ldexp(m, int(k));
}
double f_expm1(double x) { return abs(x) <= 0.34657359LF ? expm1_small(x) : f_exp(x) - 1.0LF; }
double f_log(double x) {
    if (x != x || x < 0.0LF) return 0.0LF / 0.0LF;
    if (x == 0.0LF) return -1.0LF / 0.0LF;
    if (x > 1.7976931348623157e308LF) return x;
    int e;
    double m = frexp(x, e);
    if (m < 0.70710678118654752LF) { m *= 2.0LF; e -= 1; }
    precise double s = (m - 1.0LF) / (m + 1.0LF), z = s * s, t = 0.0LF;
    for (int k = 10; k >= 1; k--) t = z * (1.0LF / double(2 * k + 1) + t);
    precise double lm = 2.0LF * s + 2.0LF * s * t;
    precise double l = double(e) * LN2_HI + (lm + double(e) * LN2_LO);
    return l;
}
double f_log1p(double x) {
    // Goldberg's trick: exact where 1 + x rounds (precise: u - 1 must not
    // be simplified to x)
    precise double u = 1.0LF + x;
    if (u == 1.0LF || u > 1.7976931348623157e308LF) return x;    // tiny x, or +inf
    precise double d = u - 1.0LF;
    return f_log(u) * (x / d);
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
    precise float t = 1.0;
    for (int k = 10; k >= 2; k--) t = 1.0 + x * t / float(k);
    precise float e = x * t;
    return e;
}
// log(1 + x) for |x| < 1/32 by its series (error below 2^-30 relative)
float log1p_small(float x) {
    precise float t = 0.0;
    for (int k = 8; k >= 1; k--) t = 1.0 / float(k) - x * t;
    precise float l = x * t;
    return l;
}
// log x = e ln2 + 2 atanh(s), s = (m - 1) / (m + 1), m = x 2^-e in
// [0.707, 1.414]: GLSL's log has an absolute error bound (NVIDIA's was
// 2e-6 relative at log(1.045)), this a few ulps
float log_series(float x) {
    if (x != x || x < 0.0) return uintBitsToFloat(0x7fc00000u);
    if (x == 0.0) return uintBitsToFloat(0xff800000u);
    if (isinf(x)) return x;
    int e;
    float m = frexp(x, e);
    if (m < 0.70710678) { m *= 2.0; e -= 1; }
    const float ln2_hi = 0.693145752, ln2_lo = 1.42860677e-06;   // e ln2_hi exact
    precise float s = (m - 1.0) / (m + 1.0), z = s * s, t = 0.0;
    for (int k = 5; k >= 1; k--) t = z * (1.0 / float(2 * k + 1) + t);
    precise float l = float(e) * ln2_hi + ((2.0 * s + 2.0 * s * t) + float(e) * ln2_lo);
    return l;
}
// Goldberg's trick above the series' range: exact where 1 + x rounds
float f_log1p(float x) {
    if (abs(x) < 0.03125) return log1p_small(x);
    precise float u = 1.0 + x;
    if (u > 3.40282347e38) return u;   // +inf (-inf: log_series gives NaN)
    precise float d = u - 1.0, r = log_series(u) * (x / d);
    return r;
}
float f_log(float x) { return abs(x - 1.0) < 0.03125 ? log1p_small(x - 1.0) : log_series(x); }
float f_tanh(float x) { return abs(x) > 10.0 ? sign(x) : tanh(x); }
#endif


// ---- trigonometric, hyperbolic and error functions ---------------------------
// GLSL's sin/cos/asin/... are 32-bit only, with an absolute required
// precision (2^-11 for sin), so both builds have their own: reduction by
// pi/2 split in parts (Cody-Waite; each k * part is exact for |k| < 2^20 in
// f64, 2^16 in f32, so sin/cos/tan keep their accuracy for |x| up to about
// 1.6e6 and 1e5), then Taylor polynomials on |r| <= pi/4. Coefficients are
// the exact series terms, rounded (generated with mpmath). erfc(z) is
// t exp(-z^2 + P(t)), t = 2 / (2 + z), with P a Chebyshev series fitted to
// the exact function on t in [0, 1] (all z >= 0), so it keeps its relative
// accuracy down to underflow; erf below 0.5 is its Taylor series.
#ifdef TG_F64
const double PIO2_1 = 1.5707963267341256LF, PIO2_2 = 6.077100506303966e-11LF, PIO2_3 = 2.0222662487959506e-21LF;
const double TWO_OVER_PI = 0.6366197723675814LF, PIO4 = 0.7853981633974483LF, TAN_PI8 = 0.41421356237309503LF;
const double PIO2_HI = 1.5707963267948966LF, PIO2_LO = 6.123233995736766e-17LF, SQRT1_2 = 0.7071067811865476LF, LN2 = 0.6931471805599453LF;
const double SIN_C[10] = double[](1.0LF, -0.16666666666666666LF, 0.008333333333333333LF, -0.0001984126984126984LF, 2.7557319223985893e-06LF, -2.505210838544172e-08LF, 1.6059043836821613e-10LF, -7.647163731819816e-13LF, 2.8114572543455206e-15LF, -8.22063524662433e-18LF);
const double COS_C[11] = double[](1.0LF, -0.5LF, 0.041666666666666664LF, -0.001388888888888889LF, 2.48015873015873e-05LF, -2.755731922398589e-07LF, 2.08767569878681e-09LF, -1.1470745597729725e-11LF, 4.779477332387385e-14LF, -1.5619206968586225e-16LF, 4.110317623312165e-19LF);
const double ATAN_C[13] = double[](1.0LF, -0.3333333333333333LF, 0.2LF, -0.14285714285714285LF, 0.1111111111111111LF, -0.09090909090909091LF, 0.07692307692307693LF, -0.06666666666666667LF, 0.058823529411764705LF, -0.05263157894736842LF, 0.047619047619047616LF, -0.043478260869565216LF, 0.04LF);
const double ERF_C[20] = double[](1.1283791670955126LF, -0.37612638903183754LF, 0.11283791670955126LF, -0.026866170645131252LF, 0.005223977625442188LF, -0.0008548327023450853LF, 0.00012055332981789664LF, -1.492565035840625e-05LF, 1.6462114365889248e-06LF, -1.6365844691234924e-07LF, 1.4807192815879218e-08LF, -1.2290555301717928e-09LF, 9.422759064650411e-11LF, -6.7113668551641105e-12LF, 4.4632242632864775e-13LF, -2.7835162072109215e-14LF, 1.6342614095367152e-15LF, -9.063970842808673e-17LF, 4.763348040515068e-18LF, -2.3784598852774293e-19LF);
const double ERFC_CH[29] = double[](-0.6513268598908547LF, 0.6419697923564902LF, 0.019476473204185836LF, -0.009561514786808632LF, -0.0009465953444820369LF, 0.00036683949785276145LF, 4.252332480690777e-05LF, -2.0278578112534242e-05LF, -1.6242900046470256e-06LF, 1.3036558355805232e-06LF, 1.5626441722066142e-08LF, -8.523809591492654e-08LF, 6.5290544390988515e-09LF, 5.059343495551469e-09LF, -9.91364156493033e-10LF, -2.273651222931836e-10LF, 9.646791102015527e-11LF, 2.3940380830391146e-12LF, -6.886027526497553e-12LF, 8.944879273090725e-13LF, 3.130921399342958e-13LF, -1.1270822361367252e-13LF, 3.810905255189232e-16LF, 7.106097613609237e-15LF, -1.5230282014571043e-15LF, -9.457494571291233e-17LF, 1.210237189224279e-16LF, -2.816663087747177e-17LF, 5.003005559445902e-20LF);
const double TRIG_TINY = 3.7252902984619140625e-09LF;   // 2^-28: sin, tan, asinh, atanh(x) = x
const double HYP_BIG = 268435456.0LF;                      // 2^28: asinh, acosh = log(2x)
const double EXP_OVER = 709.782712893384LF;                // exp overflows above
const double EXP_UNDER = -745.2LF;                          // and underflows to 0 below
const double ERFC_ZERO = 27.3LF;                           // erfc underflows to 0 above
double f_nan() { return packDouble2x32(uvec2(0u, 0x7ff80000u)); }
// e^y = m 2^k, m in [0.7, 1.42], for y whose 2^k may be subnormal
double exp_parts(double y, out int k) {
    double kf = roundEven(y * INV_LN2);
    precise double r = (y - kf * LN2_HI) - kf * LN2_LO;
    k = int(kf);
    precise double m = 1.0LF + expm1_small(r);
    return m;
}
// m 2^k; ldexp may flush below 2^-1022, a multiplication may not
double scale2(double m, int k) { return k < -1000 ? ldexp(m, k + 64) * 5.42101086242752217e-20LF : ldexp(m, k); }
// x = k pi/2 + r, |r| <= pi/4; q = k mod 4
double reduce_pio2(double x, out int q) {
    double k = roundEven(x * TWO_OVER_PI);
    precise double r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
    q = int(k - 4.0LF * floor(k * 0.25LF));
    return r;
}
// z (< 28) rounded to 24 bits: zh * zh is exact
double split_hi(double z) { return double(float(z)); }
#else
const float PIO2_1 = 1.5703125, PIO2_2 = 0.000482559204, PIO2_3 = 1.2665987e-06, PIO2_4 = 9.92093629e-10;
const float TWO_OVER_PI = 0.636619747, PIO4 = 0.785398185, TAN_PI8 = 0.414213568;
const float PIO2_HI = 1.57079637, PIO2_LO = -4.37113883e-08, SQRT1_2 = 0.707106769, LN2 = 0.693147182;
const float LN2_HI = 0.693145752, LN2_LO = 1.42860677e-06, INV_LN2 = 1.44269502;
const float SIN_C[5] = float[](1.0, -0.166666672, 0.00833333377, -0.000198412701, 2.75573188e-06);
const float COS_C[6] = float[](1.0, -0.5, 0.0416666679, -0.00138888892, 2.48015876e-05, -2.755732e-07);
const float ATAN_C[6] = float[](1.0, -0.333333343, 0.200000003, -0.142857149, 0.111111112, -0.0909090936);
const float ERF_C[8] = float[](1.12837923, -0.376126379, 0.112837918, -0.0268661715, 0.00522397785, -0.000854832702, 0.000120553326, -1.49256502e-05);
const float ERFC_CH[15] = float[](-0.651326835, 0.6419698, 0.0194764733, -0.00956151448, -0.000946595334, 0.000366839493, 4.25233266e-05, -2.02785777e-05, -1.62429001e-06, 1.30365584e-06, 1.56264424e-08, -8.52380992e-08, 6.52905463e-09, 5.05934361e-09, -9.91364102e-10);
const float EXP_C[8] = float[](1.0, 1.0, 0.5, 0.166666672, 0.0416666679, 0.00833333377, 0.00138888892, 0.000198412701);
const float TRIG_TINY = 0.000244140625;   // 2^-12
const float HYP_BIG = 4096.0;              // 2^12
const float EXP_OVER = 88.7228394;
const float EXP_UNDER = -103.98;
const float ERFC_ZERO = 10.1;
float f_nan() { return uintBitsToFloat(0x7fc00000u); }
// GLSL's exp may be off by 3 + 2|x| ulps: erfc needs better
float exp_parts(float y, out int k) {
    float kf = roundEven(y * INV_LN2);
    precise float r = (y - kf * LN2_HI) - kf * LN2_LO;
    k = int(kf);
    precise float t = EXP_C[EXP_C.length() - 1];
    for (int i = EXP_C.length() - 2; i >= 0; i--) t = EXP_C[i] + r * t;
    return t;
}
float scale2(float m, int k) { return k < -120 ? ldexp(m, k + 32) * 2.32830644e-10 : ldexp(m, k); }
float reduce_pio2(float x, out int q) {
    float k = roundEven(x * TWO_OVER_PI);
    precise float r = (((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3) - k * PIO2_4;
    q = int(k - 4.0 * floor(k * 0.25));
    return r;
}
// z (< 16) cut to 12 bits: zh * zh is exact
float split_hi(float z) { return floor(z * 256.0) / 256.0; }
#endif

T k_sin(T r) {
    precise T z = r * r, t = SIN_C[SIN_C.length() - 1];
    for (int i = SIN_C.length() - 2; i >= 0; i--) t = SIN_C[i] + z * t;
    precise T v = r * t;
    return v;
}
T k_cos(T r) {
    precise T z = r * r, t = COS_C[COS_C.length() - 1];
    for (int i = COS_C.length() - 2; i >= 0; i--) t = COS_C[i] + z * t;
    return t;
}
// atan on [0, inf]: 1/a above 1, atan(a) = pi/4 + atan((a - 1) / (a + 1))
// above tan(pi/8), then one halving atan(a) = 2 atan(a / (1 + sqrt(1 + a^2)))
// leaves |a| <= tan(pi/16), where the series converges fast.
T atan_pos(T a) {
    bool inv = a > T(1);
    if (inv) a = T(1) / a;
    T base = T(0);
    if (a > TAN_PI8) { a = (a - T(1)) / (a + T(1)); base = PIO4; }
    precise T a2 = T(1) + a * a;
    a = a / (T(1) + sqrt(a2));
    precise T z = a * a, t = ATAN_C[ATAN_C.length() - 1];
    for (int i = ATAN_C.length() - 2; i >= 0; i--) t = ATAN_C[i] + z * t;
    precise T r = base + T(2) * (a * t);
    return inv ? (PIO2_HI - r) + PIO2_LO : r;
}
// e^y within a few ulps (f32: GLSL's exp may be off by 3 + 2|y| ulps)
T exp_acc(T y) {
    if (y != y) return y;
    if (y > EXP_OVER) return T(1) / T(0);
    if (y < EXP_UNDER) return T(0);
    int k;
    T m = exp_parts(y, k);
    return scale2(m, k);
}
T expm1_acc(T x) { return abs(x) <= T(0.34657359) ? f_expm1(x) : exp_acc(x) - T(1); }
// erfc(z) for z >= 0 (see above); z^2 is split so that no rounding of it
// reaches the exponential
T erfc_pos(T z) {
    if (z > ERFC_ZERO) return T(0);
    precise T t = T(2) / (T(2) + z), u2 = T(4) * t - T(2);
    precise T b1 = T(0), b2 = T(0);   // Clenshaw on u = 2t - 1
    for (int j = ERFC_CH.length() - 1; j > 0; j--) {
        precise T b = u2 * b1 - b2 + ERFC_CH[j];
        b2 = b1;
        b1 = b;
    }
    precise T p = T(0.5) * u2 * b1 - b2 + ERFC_CH[0];
    T zh = split_hi(z);
    precise T lo = p - (z - zh) * (z + zh);
    int k;
    T m = exp_parts(-zh * zh, k);
    return scale2(t * m * exp_acc(lo), k);
}
T erf_small(T x) {
    precise T z = x * x, t = ERF_C[ERF_C.length() - 1];
    for (int i = ERF_C.length() - 2; i >= 0; i--) t = ERF_C[i] + z * t;
    precise T v = x * t;
    return v;
}


T u_neg(T x) { return -x; }
T u_abs(T x) { return abs(x); }
T u_exp(T x) { return f_exp(x); }
T u_log(T x) { return f_log(x); }
T u_sqrt(T x) { return sqrt(x); }
T u_relu(T x) { return x < T(0) ? T(0) : x; }
T u_sigmoid(T x) { return T(1) / (T(1) + f_exp(-x)); }
T u_tanh(T x) { return f_tanh(x); }
T u_square(T x) { precise T r = x * x; return r; }
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
T u_sin(T x) {
    if (isinf(x)) return f_nan();
    if (abs(x) < TRIG_TINY) return x;   // keeps -0
    int q;
    T r = reduce_pio2(x, q), v = (q & 1) == 0 ? k_sin(r) : k_cos(r);
    return q >= 2 ? -v : v;
}
T u_cos(T x) {
    if (isinf(x)) return f_nan();
    int q;
    T r = reduce_pio2(x, q), v = (q & 1) == 0 ? k_cos(r) : k_sin(r);
    return q == 1 || q == 2 ? -v : v;
}
T u_tan(T x) {
    if (isinf(x)) return f_nan();
    if (abs(x) < TRIG_TINY) return x;
    int q;
    T r = reduce_pio2(x, q), s = k_sin(r), c = k_cos(r);
    return (q & 1) == 0 ? s / c : -c / s;
}
T u_atan(T x) {
    if (x != x || x == T(0)) return x;
    T r = atan_pos(abs(x));
    return x < T(0) ? -r : r;
}
// (1 - x)(1 + x): no cancellation near |x| = 1; NaN outside [-1, 1]
T u_asin(T x) { return abs(x) == T(1) ? x * PIO2_HI : u_atan(x / sqrt((T(1) - x) * (T(1) + x))); }
T u_acos(T x) { return x == T(-1) ? T(2) * PIO2_HI : T(2) * u_atan(sqrt((T(1) - x) / (T(1) + x))); }
T u_sinh(T x) {
    T a = abs(x), r;
    if (a < TRIG_TINY) return x;
    if (a < T(22)) {
        T t = expm1_acc(a);   // no cancellation for small x
        precise T s = a < T(1) ? T(0.5) * (T(2) * t - t * t / (t + T(1))) : T(0.5) * (t + t / (t + T(1)));
        r = s;
    } else if (a < EXP_OVER) {
        r = T(0.5) * exp_acc(a);
    } else {   // e^a overflows before e^a / 2 does
        T h = exp_acc(T(0.5) * a);
        precise T hh = T(0.5) * h, v = hh * h;   // in this order: h * h overflows
        r = v;
    }
    return x < T(0) ? -r : r;
}
T u_cosh(T x) {
    T a = abs(x);
    if (a < T(0.34657359)) {
        T t = expm1_acc(a);
        return T(1) + t * t / (T(2) * (T(1) + t));
    }
    if (a < T(22)) {
        T e = exp_acc(a);
        precise T c = T(0.5) * e + T(0.5) / e;
        return c;
    }
    if (a < EXP_OVER) return T(0.5) * exp_acc(a);
    T h = exp_acc(T(0.5) * a);
    precise T hh = T(0.5) * h, v = hh * h;   // in this order: h * h overflows
    return v;
}
T u_asinh(T x) {
    T a = abs(x), r;
    if (a < TRIG_TINY || x != x) return x;
    precise T a2 = a * a + T(1), w = a > T(2) ? T(2) * a + T(1) / (sqrt(a2) + a) : a + a * a / (T(1) + sqrt(a2));
    if (a > HYP_BIG) r = f_log(a) + LN2;
    else if (a > T(2)) r = f_log(w);
    else r = f_log1p(w);
    return x < T(0) ? -r : r;
}
T u_acosh(T x) {
    if (x != x) return x;
    if (x < T(1)) return f_nan();
    if (x > HYP_BIG) return f_log(x) + LN2;
    precise T x2 = x * x - T(1), w = T(2) * x - T(1) / (x + sqrt(x2));
    if (x > T(2)) return f_log(w);
    precise T t = x - T(1), u = T(2) * t + t * t, v = t + sqrt(u);
    return f_log1p(v);
}
T u_atanh(T x) {
    T a = abs(x);
    if (a < TRIG_TINY || x != x) return x;
    T r = T(0.5) * f_log1p(T(2) * a / (T(1) - a));
    return x < T(0) ? -r : r;
}
T u_erf(T x) {
    T a = abs(x);
    if (a < T(0.5)) return erf_small(x);
    T r = T(1) - erfc_pos(a);
    return x < T(0) ? -r : r;
}
T u_erfc(T x) {
    if (abs(x) < T(0.5)) return T(1) - erf_small(x);
    return x > T(0) ? erfc_pos(x) : T(2) - erfc_pos(-x);
}
// 0.5 x (1 + erf(x / sqrt 2)) written with erfc, which keeps the relative
// accuracy where 1 + erf cancels (large negative x)
T u_gelu(T x) { return T(0.5) * x * u_erfc(-x * SQRT1_2); }

// NaN-propagating maximum/minimum, as NumPy
// precise inside the functions: a `precise` variable that receives a call
// does not mark the callee's arithmetic, and once inlined NVIDIA's compiler
// contracted b_mul's product and b_add's sum into a fused multiply-add (a
// fused kernel then differed from the op-by-op kernels in the last bit).
T b_add(T x, T y) { precise T r = x + y; return r; }
T b_sub(T x, T y) { precise T r = x - y; return r; }
T b_mul(T x, T y) { precise T r = x * y; return r; }
T b_div(T x, T y) { return x / y; }
// x with the sign bit of s, on the bits (drivers may fold -0 to +0)
#ifdef TG_F64
T f_copysign(T x, T s) {
    uvec2 a = unpackDouble2x32(x), b = unpackDouble2x32(s);
    return packDouble2x32(uvec2(a.x, (a.y & 0x7fffffffu) | (b.y & 0x80000000u)));
}
#else
T f_copysign(T x, T s) { return uintBitsToFloat((floatBitsToUint(x) & 0x7fffffffu) | (floatBitsToUint(s) & 0x80000000u)); }
#endif
// C's fmod, exact: |x| loses |y| 2^k, the largest such not above it, until
// it is below |y|; each subtraction is exact (the two are within a factor
// of 2, Sterbenz), so the result is the CPU's bit for bit (normal numbers;
// a device that flushes subnormals flushes them here too). The loop runs
// once per binade between x and y.
T f_fmod(T x, T y) {
    if (isnan(x) || isnan(y) || isinf(x) || y == T(0)) return f_nan();
    T ax = abs(x), ay = abs(y);
    if (isinf(y) || ax < ay) return x;
    int ey, ex;
    frexp(ay, ey);
    while (ax >= ay) {
        frexp(ax, ex);
        T t = ldexp(ay, ex - ey);
        if (t > ax) t = ldexp(ay, ex - ey - 1);
        precise T left = ax - t;
        ax = left;
    }
    return f_copysign(ax, x);
}
// Python's %, as the CPU: fmod moved to the divisor's sign
T b_remainder(T x, T y) {
    T r = f_fmod(x, y);
    precise T moved = r + y;
    return (r != T(0) && ((r < T(0)) != (y < T(0)))) ? moved : r;
}
T b_maximum(T x, T y) { return (x != x || y != y) ? x + y : max(x, y); }
T b_minimum(T x, T y) { return (x != x || y != y) ? x + y : min(x, y); }
#endif
