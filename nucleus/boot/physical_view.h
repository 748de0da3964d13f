// Read access to physical memory during boot, before the nucleus has its own page tables.
// In the kernel it is the boot identity map; in host tests it is a byte buffer standing in
// for RAM, so firmware-structure parsers run unchanged on both.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka {

struct PhysicalView {
    // Returns a pointer to `length` readable bytes at `physical`, or nullptr if that range
    // is not accessible.
    const void* (*map)(void* context, uint64_t physical, size_t length) = nullptr;
    void* context = nullptr;

    template <typename T>
    const T* as(uint64_t physical, size_t length = sizeof(T)) const {
        return static_cast<const T*>(map(context, physical, length));
    }
};

}  // namespace umka
