// f32 -> f16 bits, rounded to nearest even on the bits (the CPU's
// conversion, tensor/ops/cast.c), for shaders that write f16 elements.
uint f32_to_f16_bits(uint x) {
    uint sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u);
    if (ax >= 0x477ff000u) return sign | 0x7c00u;          // overflow to inf
    if (ax < 0x38800000u) {                                // subnormal or zero
        if (ax < 0x33000000u) return sign;
        uint m = (ax & 0x7fffffu) | 0x800000u, shift = 126u - (ax >> 23);
        uint h = m >> shift, rem = m & ((1u << shift) - 1u), mid = 1u << (shift - 1u);
        if (rem > mid || (rem == mid && (h & 1u) != 0u)) h++;
        return sign | h;
    }
    uint r = ax - 0x38000000u;                             // rebias the exponent
    uint h = r >> 13, rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) h++;
    return sign | h;
}
