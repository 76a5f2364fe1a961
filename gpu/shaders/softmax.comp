// Row-wise softmax / log_softmax / cross-entropy of one float dtype T, one
// workgroup per row (a line along the op's axis, any strides):
// m = max (NaN-propagating), s = sum exp(x - m) (shared-memory trees), then
//   mode 0 softmax:      o = exp(x - m) / s
//   mode 1 log_softmax:  o = x - m - log(s)
//   mode 2 cross-entropy: o[row] = m + log(s) - x[label[row]]
// Parameters:
//   p[0] rows  p[1] n (line length)  p[2] mode  p[3] nk (row axes)
//   p[4] out stride along the line   p[5] in base  p[6] out base
//   p[7] in stride along the line
//   p[8 + d] row-axis sizes  p[16 + d] their input strides
//   p[24 + d] their output strides
//   p[40] label base (elements)  p[41] label stride  p[42] 1: int64 labels
#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Params { int p[]; };
layout(std430, binding = 1) writeonly buffer O { T o[]; };
layout(std430, binding = 2) readonly buffer A { T a[]; };
layout(std430, binding = 3) readonly buffer L { int lab[]; };
shared T red[256];

#ifdef TG_F64
// GLSL's exp and log are 32-bit only: double versions by range reduction.
const double LN2_HI = 6.93147180369123816490e-01LF, LN2_LO = 1.90821492927058770002e-10LF;
double f_exp(double x) {
    if (isnan(x)) return x;
    if (x > 709.782712893384LF) return 1.0LF / 0.0LF;
    if (x < -745.2LF) return 0.0LF;
    double k = roundEven(x * 1.44269504088896338700LF);
    double r = (x - k * LN2_HI) - k * LN2_LO;           // |r| <= ln2 / 2
    double t = 1.0LF;
    for (int j = 18; j >= 1; j--) t = 1.0LF + r * t / double(j);
    return ldexp(t, int(k));
}
double f_log(double x) {
    if (isnan(x) || x < 0.0LF) return 0.0LF / 0.0LF;
    if (x == 0.0LF) return -1.0LF / 0.0LF;
    if (x > 1.7976931348623157e308LF) return x;
    int e;
    double m = frexp(x, e);
    if (m < 0.70710678118654752LF) { m *= 2.0LF; e -= 1; }
    // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172
    double s = (m - 1.0LF) / (m + 1.0LF), z = s * s, t = 0.0LF;
    for (int j = 11; j >= 1; j--) t = z * (1.0LF / double(2 * j + 1) + t);
    return double(e) * LN2_HI + (2.0LF * s + 2.0LF * s * t + double(e) * LN2_LO);
}
#define NEG_INF (-1.0LF / 0.0LF)
#else
float f_exp(float x) { return exp(x); }
float f_log(float x) { return log(x); }
#define NEG_INF uintBitsToFloat(0xff800000u)
#endif

int offset_of(uint i, int nd, int sizes, int strides) {
    int o = 0;
    for (int d = nd - 1; d >= 0; d--) {
        uint s = uint(p[sizes + d]);
        o += int(i % s) * p[strides + d];
        i /= s;
    }
    return o;
}

void main() {
    uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (row >= uint(p[0])) return;     /* uniform across the workgroup */
    uint lid = gl_LocalInvocationID.x, n = uint(p[1]);
    int mode = p[2], xs = p[7], os = p[4];
    int xb = p[5] + offset_of(row, p[3], 8, 16);
    int ob = p[6] + offset_of(row, p[3], 8, 24);
    T m = NEG_INF;
    for (uint k = lid; k < n; k += 256u) {
        T v = a[xb + int(k) * xs];
        m = (v > m || isnan(v)) ? v : m;
    }
    red[lid] = m;
    barrier();
    for (uint w = 128u; w > 0u; w >>= 1) {
        if (lid < w) { T v = red[lid + w], u = red[lid]; red[lid] = (v > u || isnan(v)) ? v : u; }
        barrier();
    }
    m = red[0];
    barrier();
    T s = T(0);
    for (uint k = lid; k < n; k += 256u) s += f_exp(a[xb + int(k) * xs] - m);
    red[lid] = s;
    barrier();
    for (uint w = 128u; w > 0u; w >>= 1) {
        if (lid < w) red[lid] += red[lid + w];
        barrier();
    }
    s = red[0];
    if (mode == 2) {
        if (lid == 0u) {
            int li = p[40] + int(row) * p[41];
            int c = p[42] != 0 ? lab[2 * li] : lab[li];
            o[ob] = m + f_log(s) - a[xb + c * xs];
        }
        return;
    }
    T ls = f_log(s);
    for (uint k = lid; k < n; k += 256u) {
        T v = a[xb + int(k) * xs] - m;
        o[ob + int(k) * os] = mode == 0 ? f_exp(v) / s : v - ls;
    }
}
