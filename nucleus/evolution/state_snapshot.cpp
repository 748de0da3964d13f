#include "nucleus/evolution/state_snapshot.h"

namespace umka::evolution {

bool same_bytes(const void* left, const void* right, uint64_t length) {
    const auto* a = static_cast<const uint8_t*>(left);
    const auto* b = static_cast<const uint8_t*>(right);
    uint64_t words = length / sizeof(uint64_t);
    uint64_t difference = 0;
    // Four words per step, one test per step: the loop stays short under emulation too.
    uint64_t index = 0;
    for (; index + 4 <= words; index += 4) {
        uint64_t x[4], y[4];
        __builtin_memcpy(x, a + index * 8, sizeof x);
        __builtin_memcpy(y, b + index * 8, sizeof y);
        if (((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) != 0) return false;
    }
    for (; index < words; ++index) {
        uint64_t x, y;
        __builtin_memcpy(&x, a + index * 8, sizeof x);
        __builtin_memcpy(&y, b + index * 8, sizeof y);
        difference |= x ^ y;
    }
    for (uint64_t byte = words * sizeof(uint64_t); byte < length; ++byte)
        difference |= uint64_t(a[byte] ^ b[byte]);
    return difference == 0;
}

void take_snapshots(const StateSource* live, size_t count, void* const* snapshots,
                    StateSource* copies) {
    for (size_t index = 0; index < count; ++index) {
        __builtin_memcpy(snapshots[index], live[index].base, live[index].size);
        copies[index] = StateSource{live[index].name, live[index].schema_version, snapshots[index],
                                    live[index].size};
    }
}

bool snapshots_current(const StateSource* live, const StateSource* copies, size_t count) {
    for (size_t index = 0; index < count; ++index) {
        if (live[index].size != copies[index].size ||
            live[index].schema_version != copies[index].schema_version ||
            !same_bytes(live[index].base, copies[index].base, live[index].size)) {
            return false;
        }
    }
    return true;
}

}  // namespace umka::evolution
