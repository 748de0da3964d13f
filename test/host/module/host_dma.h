// bus_access.Dma for module tests: buffers from aligned_alloc, and a buffer's device address
// is its host address, so a device model (or a fake driver) reads and writes what the module
// put there without any translation.
#pragma once

#include <stdint.h>

#include <mutex>
#include <vector>

#include "umka/kabi/bus_access.hpp"

namespace umka::harness {

class HostDma {
public:
    struct Allocation {
        uint8_t* memory;
        uint64_t length;
    };

    HostDma() = default;
    ~HostDma();
    HostDma(const HostDma&) = delete;
    HostDma& operator=(const HostDma&) = delete;

    // The vtable to publish (harness.provide("bus_access", "Dma", dma.vtable(), &dma)).
    static const kabi::bus_access::DmaVtable* vtable();

    // What the module's allocate does, for a test's own buffers: handle i + 1 is allocation
    // i, the memory zeroed, 4096-aligned. 0 when out of memory.
    uint64_t allocate(uint64_t length);
    Allocation allocation(uint64_t handle) const;
    size_t count() const;
    // Whether [address, address + length) lies in `buffer` at `offset`.
    bool holds(uint64_t buffer, uint64_t offset, uint64_t address, uint64_t length) const;

private:
    mutable std::mutex mutex_;  // the module allocates from whichever thread it runs on
    std::vector<Allocation> allocations_;
};

}  // namespace umka::harness
