// kernel_services.ModuleMemory for host tests of the kernel heap: each region is its own
// mmap (page aligned, unmapped on release so a use after release faults), tracked by
// handle. Thread-safe: the heap's CPUs are test threads. Tests can make it fail
// (ENOMEM after a number of allocations or past a byte budget) and refuse releases.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <map>
#include <mutex>

#include "umka/kabi/kernel_services.hpp"

namespace umka::heap_test {

namespace services = umka::kabi::kernel_services;

class HostModuleMemory {
public:
    HostModuleMemory();
    ~HostModuleMemory();
    HostModuleMemory(const HostModuleMemory&) = delete;
    HostModuleMemory& operator=(const HostModuleMemory&) = delete;

    const services::ModuleMemoryVtable* vtable() const { return &vtable_; }

    // Allocations after the next `count` successful ones fail with ENOMEM.
    void fail_after(uint64_t count);
    // A region that would take the live bytes past `bytes` fails with ENOMEM.
    void limit_live_bytes(uint64_t bytes);
    // Back to no failures.
    void allow_all();
    // release() answers EINVAL (and keeps the region) while set.
    void refuse_releases(bool refuse);

    size_t live_regions() const;
    uint64_t live_bytes() const;
    uint64_t allocations() const;   // successful allocate calls
    uint64_t failures() const;      // allocate calls answered ENOMEM by injection
    uint64_t bad_requests() const;  // calls with a bad handle or length
    // True when [address, address + length) lies inside one live region.
    bool owns(uint64_t address, uint64_t length) const;

    // The vtable's functions (make_module_memory_vtable names them); `context` is this.
    static umka::kabi::Status allocate(void* context, uint64_t length, services::MemoryFlags flags,
                                       services::MemoryRegion* region);
    static umka::kabi::Status release(void* context, services::MemoryRegion region);
    static umka::kabi::Status describe(void* context, services::MemoryRegion region,
                                       services::RegionInfo* info);
    static umka::kabi::Status state_region(void* context, services::MemoryRegion* region,
                                           uint32_t* version);

private:
    struct Region {
        void* address;
        uint64_t mapped;  // whole pages
        uint64_t length;  // as asked for (what describe reports)
        uint32_t flags;
    };

    services::ModuleMemoryVtable vtable_;
    mutable std::mutex mutex_;
    std::map<uint64_t, Region> regions_;
    uint64_t next_handle_ = 1;
    uint64_t live_bytes_ = 0;
    uint64_t allocations_ = 0;
    uint64_t failures_ = 0;
    uint64_t bad_requests_ = 0;
    uint64_t allowed_allocations_ = UINT64_MAX;
    uint64_t live_byte_limit_ = UINT64_MAX;
    bool refuse_releases_ = false;
};

}  // namespace umka::heap_test
