// Elementwise complex ops (gpu/shaders/complex_funcs.glsl), NumPy
// broadcasting through strides. Binary op codes are binary.comp's (0 add,
// 1 sub, 2 mul, 3 div); with UNARY one input and op 0 neg, 1 conj, 2 exp,
// 3 log, 4 sqrt, 5 square, 6 reciprocal, 7 log2, 8 log10, 9 rsqrt; with
// UNARY and TO_REAL a real result: op 0 abs, 1 angle. The dense path goes one
// element at a time (elements are already 8 or 16 bytes).
#version 450
#extension GL_GOOGLE_include_directive : require
#define TG_NO_VEC4
layout(local_size_x = 256) in;
#include "common.glsl"
#include "elementwise_funcs.glsl"
#include "complex_funcs.glsl"
#ifdef TO_REAL
layout(std430, binding = 1) writeonly buffer O { T o[]; };
#else
layout(std430, binding = 1) writeonly buffer O { CT o[]; };
#endif
layout(std430, binding = 2) readonly buffer A { CT a[]; };
#ifndef UNARY
layout(std430, binding = 3) readonly buffer B { CT b[]; };
#endif

#if defined(UNARY) && defined(TO_REAL)
T apply(int op, CT x) { return op == 0 ? r_abs(x) : r_atan2(x.y, x.x); }
#elif defined(UNARY)
CT apply(int op, CT x) {
    switch (op) {
    case 0: return u_neg(x);
    case 1: return u_conj(x);
    case 2: return u_exp(x);
    case 3: return u_log(x);
    case 4: return u_sqrt(x);
    case 5: return u_square(x);
    case 6: return b_div(CT(T(1), T(0)), x);
    case 7: return u_log(x) * LOG2E;
    case 8: return u_log(x) * LOG10E;
    default: return b_div(CT(T(1), T(0)), u_sqrt(x));
    }
}
#else
CT apply(int op, CT x, CT y) {
    switch (op) {
    case 0: return b_add(x, y);
    case 1: return b_sub(x, y);
    case 2: return b_mul(x, y);
    default: return b_div(x, y);
    }
}
#endif

// The op as a specialization constant ("cunary_c64#<op>", gpu/elementwise.c):
// the driver compiles that op's code only (NVIDIA's compiler spends seconds
// on a module holding every f64 function), else the parameter p[2].
layout(constant_id = 0) const int TG_OP = -1;

void main() {
    int op = TG_OP >= 0 ? TG_OP : p[2];
#ifdef UNARY
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = apply(op, a[tg_offset(i, 1)]);
        return;
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = apply(op, a[tg_dense(i, 1)]);
#else
    if (p[3] == 0) {
        TG_FOR_EACH(i) o[tg_offset(i, 0)] = apply(op, a[tg_offset(i, 1)], b[tg_offset(i, 2)]);
        return;
    }
    TG_FOR_EACH_DENSE(i) o[tg_dense(i, 0)] = apply(op, a[tg_dense(i, 1)], b[tg_dense(i, 2)]);
#endif
}
