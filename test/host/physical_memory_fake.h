// A sparse stand-in for physical memory: byte ranges at physical addresses, read through
// the same PhysicalView the nucleus uses on real hardware.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "nucleus/boot/physical_view.h"

namespace umka::testing {

class FakePhysicalMemory {
public:
    void place(uint64_t physical, const void* bytes, size_t length) {
        auto& chunk = chunks_[physical];
        chunk.assign(static_cast<const uint8_t*>(bytes),
                     static_cast<const uint8_t*>(bytes) + length);
    }
    template <typename T>
    void place(uint64_t physical, const T& value) {
        place(physical, &value, sizeof(T));
    }

    uint8_t* writable(uint64_t physical, size_t length) {
        return const_cast<uint8_t*>(static_cast<const uint8_t*>(map(physical, length)));
    }

    const void* map(uint64_t physical, size_t length) const {
        auto after = chunks_.upper_bound(physical);
        if (after == chunks_.begin()) return nullptr;
        auto chunk = std::prev(after);
        uint64_t offset = physical - chunk->first;
        if (offset + length > chunk->second.size()) return nullptr;
        return chunk->second.data() + offset;
    }

    PhysicalView view() const {
        return PhysicalView{[](void* context, uint64_t physical, size_t length) {
                                return static_cast<const FakePhysicalMemory*>(context)->map(
                                    physical, length);
                            },
                            const_cast<FakePhysicalMemory*>(this)};
    }

private:
    std::map<uint64_t, std::vector<uint8_t>> chunks_;
};

}  // namespace umka::testing
