#include "nucleus/crypto/edwards25519.h"

namespace umka::crypto {
namespace {

// sqrt(-1) = 2^((p-1)/4) mod p
constexpr FieldElement kSquareRootMinusOne =
    field_from_hex("2b8324804fc1df0b2b4d00993dfbd7a72f431806ad2fe478c4ee1b274a0ea0b0");

// Window widths of the non-adjacent forms. A width-w form has odd digits in
// (-2^(w-1), 2^(w-1)) with at least w - 1 zeros after each nonzero one, so about 256/(w+1)
// additions from a table of 2^(w-2) odd multiples. The base point's table is constant data,
// so it can be large (64 entries, 10 KiB of .rodata); the key's is built per call (8 entries:
// 1 doubling and 7 additions, 1280 bytes of stack), where a wider window would cost more
// to build than it saves.
constexpr int kBaseWindow = 8;
constexpr int kPointWindow = 5;
constexpr int kBaseMultiples = 1 << (kBaseWindow - 2);
constexpr int kPointMultiples = 1 << (kPointWindow - 2);

// sum + digit * point for an odd digit, table[k] = (2k + 1) point.
constexpr CompletedPoint add_digit(const CompletedPoint& sum, const CachedPoint* table, int digit) {
    AddSign sign = digit > 0 ? AddSign::Plus : AddSign::Minus;
    int magnitude = digit > 0 ? digit : -digit;
    return edwards_add(edwards_to_extended(sum), table[magnitude / 2], sign);
}

constexpr CachedPoint cached_from_completed(const CompletedPoint& point) {
    return edwards_to_cached(edwards_to_extended(point));
}

// table[k] = (2k + 1) point, in cached form. The running multiple is kept in completed
// form, (X : Z) and (Y : Z) for point itself, so each step is one add_digit call.
template <int Count>
[[gnu::noinline]] constexpr void odd_multiples(CachedPoint (&table)[Count],
                                               const EdwardsPoint& point) {
    CachedPoint twice = cached_from_completed(edwards_double(edwards_to_projective(point)));
    CompletedPoint multiple = {point.x, point.y, point.z, point.z};
    table[0] = edwards_to_cached(point);
    for (int index = 1; index < Count; ++index) {
        multiple = add_digit(multiple, &twice, 1);
        table[index] = cached_from_completed(multiple);
    }
}

struct BaseMultiples {
    CachedPoint point[kBaseMultiples];
};

consteval BaseMultiples make_base_multiples() {
    BaseMultiples multiples{};
    odd_multiples(multiples.point, kBasePoint);
    return multiples;
}

// Computed by the compiler: constant data, so no verification (the first one at boot
// included) pays for building it.
constexpr BaseMultiples kBaseTable = make_base_multiples();

// The width-`Width` non-adjacent form of a scalar below 2^253: scalar = sum(digit[i] 2^i).
// Scanning upwards, an odd window value v at bit i becomes digit v (v < 2^(Width-1)) or
// v - 2^Width with a carry of 1 into bit i + Width; the scan then skips the window. Below
// 2^253 the last window with a carry ends under bit 256, so no carry is lost.
template <int Width>
[[gnu::noinline]] void non_adjacent_form(int8_t digits[256], const uint8_t scalar[32]) {
    uint64_t word[5] = {};
    for (int index = 0; index < 32; ++index) {
        word[index / 8] |= uint64_t(scalar[index]) << (8 * (index % 8));
    }
    constexpr uint64_t kWidth = uint64_t(1) << Width;
    constexpr uint64_t kMask = kWidth - 1;
    for (int index = 0; index < 256; ++index) digits[index] = 0;
    uint64_t carry = 0;
    int position = 0;
    while (position < 256) {
        int word_index = position / 64;
        int bit = position % 64;
        uint64_t bits = word[word_index] >> bit;
        if (bit > 64 - Width) bits |= word[word_index + 1] << (64 - bit);
        uint64_t window = carry + (bits & kMask);
        if ((window & 1) == 0) {
            ++position;
            continue;
        }
        if (window < kWidth / 2) {
            carry = 0;
            digits[position] = int8_t(window);
        } else {
            carry = 1;
            digits[position] = int8_t(int(window) - int(kWidth));
        }
        position += Width;
    }
}

}  // namespace

const char* point_decoding_text(PointDecoding result) {
    switch (result) {
    case PointDecoding::Ok:
        return "valid point";
    case PointDecoding::NonCanonical:
        return "y coordinate is not below the field prime (non-canonical encoding)";
    case PointDecoding::NotOnCurve:
        return "no curve point has this y coordinate";
    case PointDecoding::NegativeZero:
        return "x is zero but the sign bit is set (non-canonical encoding)";
    }
    return "unknown point decoding result";
}

PointDecoding edwards_decode(EdwardsPoint& point, const uint8_t encoding[32]) {
    FieldElement y = field_from_bytes(encoding);
    bool x_negative = (encoding[31] & 0x80) != 0;

    // Step 1: y must be below p. Re-encoding gives the canonical bytes; any difference in
    // the 255 value bits means the input was y + p.
    uint8_t canonical[32];
    field_to_bytes(canonical, y);
    for (int index = 0; index < 32; ++index) {
        uint8_t given = index == 31 ? uint8_t(encoding[31] & 0x7f) : encoding[index];
        if (canonical[index] != given) return PointDecoding::NonCanonical;
    }

    // Step 2-3: x^2 = u / v with u = y^2 - 1, v = d y^2 + 1. The candidate root
    // x = u v^3 (u v^7)^((p-5)/8) avoids an inversion; it is right up to a factor sqrt(-1).
    FieldElement y_squared = field_square(y);
    FieldElement u = field_subtract(y_squared, kFieldOne);
    FieldElement v = field_add(field_multiply(kCurveD, y_squared), kFieldOne);
    FieldElement v_cubed = field_multiply(field_square(v), v);
    FieldElement v_seventh = field_multiply(field_square(v_cubed), v);
    FieldElement x = field_multiply(field_multiply(u, v_cubed),
                                    field_power_p_minus_5_over_8(field_multiply(u, v_seventh)));
    FieldElement v_x_squared = field_multiply(v, field_square(x));
    if (!field_equal(v_x_squared, u)) {
        if (!field_equal(v_x_squared, field_negate(u))) return PointDecoding::NotOnCurve;
        x = field_multiply(x, kSquareRootMinusOne);
    }

    // Step 4: pick the root with the requested sign.
    if (field_is_zero(x) && x_negative) return PointDecoding::NegativeZero;
    if (field_is_negative(x) != x_negative) x = field_negate(x);

    point.x = x;
    point.y = y;
    point.z = kFieldOne;
    point.t = field_multiply(x, y);
    return PointDecoding::Ok;
}

void edwards_encode(uint8_t encoding[32], const ProjectivePoint& point) {
    FieldElement z_inverse = field_invert(point.z);
    FieldElement x = field_multiply(point.x, z_inverse);
    FieldElement y = field_multiply(point.y, z_inverse);
    field_to_bytes(encoding, y);
    if (field_is_negative(x)) encoding[31] |= 0x80;
}

EdwardsPoint edwards_negate(const EdwardsPoint& point) {
    return EdwardsPoint{field_negate(point.x), point.y, point.z, field_negate(point.t)};
}

bool edwards_has_small_order(const EdwardsPoint& point) {
    // [8]P is the identity exactly for the small-order points. The curve's points with
    // x = 0 are the identity (y = 1) and the point of order 2 (y = -1), and [8]P is never
    // the latter (there is no point of order 16), so testing x suffices.
    ProjectivePoint multiple = edwards_to_projective(point);
    for (int doubling = 0; doubling < 3; ++doubling) {
        multiple = edwards_to_projective(edwards_double(multiple));
    }
    return field_is_zero(multiple.x);
}

ProjectivePoint edwards_double_scalar_multiply(const uint8_t base_scalar[32],
                                               const EdwardsPoint& point,
                                               const uint8_t point_scalar[32]) {
    int8_t base_digits[256];
    int8_t point_digits[256];
    non_adjacent_form<kBaseWindow>(base_digits, base_scalar);
    non_adjacent_form<kPointWindow>(point_digits, point_scalar);
    CachedPoint point_table[kPointMultiples];
    odd_multiples(point_table, point);

    int top = 255;
    while (top >= 0 && base_digits[top] == 0 && point_digits[top] == 0) --top;
    // Straus-Shamir: both scalars share one chain of doublings. Each step doubles in
    // projective form and converts to extended form only when an addition follows.
    ProjectivePoint result = {kFieldZero, kFieldOne, kFieldOne};
    for (int bit = top; bit >= 0; --bit) {
        CompletedPoint step = edwards_double(result);
        if (point_digits[bit] != 0) step = add_digit(step, point_table, point_digits[bit]);
        if (base_digits[bit] != 0) step = add_digit(step, kBaseTable.point, base_digits[bit]);
        result = edwards_to_projective(step);
    }
    return result;
}

}  // namespace umka::crypto
