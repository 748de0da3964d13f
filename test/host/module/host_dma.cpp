// The host bus_access.Dma of module tests (host_dma.h).
#include "host_dma.h"

#include <stdlib.h>
#include <string.h>

namespace umka::harness {
namespace {

namespace bus = kabi::bus_access;

HostDma& dma_of(void* context) {
    return *static_cast<HostDma*>(context);
}

struct Dma {
    static kabi::Status allocate(void* context, uint64_t length, bus::DmaDirection,
                                 bus::DmaBuffer* buffer, bus::DmaMapping* mapping) {
        HostDma& dma = dma_of(context);
        uint64_t handle = dma.allocate(length);
        if (handle == 0) return UMKA_KABI_ENOMEM;
        buffer->value = handle;
        mapping->cpu_address = uint64_t(uintptr_t(dma.allocation(handle).memory));
        mapping->device_address = umka_kabi_dma_addr{mapping->cpu_address};
        mapping->length = length;
        return kabi::Status::ok();
    }
    // Memory stays until the HostDma goes: a late device write then lands in live memory,
    // and the sanitizers see any module use after its own release as ordinary memory use.
    static kabi::Status release(void* context, bus::DmaBuffer buffer) {
        if (buffer.value == 0 || buffer.value > dma_of(context).count()) return UMKA_KABI_EINVAL;
        return kabi::Status::ok();
    }
    static kabi::Status sync(void* context, bus::DmaBuffer buffer, uint64_t offset, uint64_t length,
                             bus::DmaDirection) {
        HostDma& dma = dma_of(context);
        if (buffer.value == 0 || buffer.value > dma.count()) return UMKA_KABI_EINVAL;
        if (offset + length > dma.allocation(buffer.value).length) return UMKA_KABI_ERANGE;
        return kabi::Status::ok();
    }
};

constexpr bus::DmaVtable kDma = bus::make_dma_vtable<Dma>();

}  // namespace

HostDma::~HostDma() {
    for (Allocation& allocation : allocations_) free(allocation.memory);
}

const bus::DmaVtable* HostDma::vtable() {
    return &kDma;
}

uint64_t HostDma::allocate(uint64_t length) {
    uint64_t rounded = (length + 4095) & ~uint64_t(4095);
    if (rounded == 0) rounded = 4096;
    auto* memory = static_cast<uint8_t*>(aligned_alloc(4096, rounded));
    if (memory == nullptr) return 0;
    memset(memory, 0, rounded);
    std::lock_guard<std::mutex> lock(mutex_);
    allocations_.push_back(Allocation{memory, length});
    return allocations_.size();
}

HostDma::Allocation HostDma::allocation(uint64_t handle) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (handle == 0 || handle > allocations_.size()) return Allocation{nullptr, 0};
    return allocations_[handle - 1];
}

size_t HostDma::count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return allocations_.size();
}

bool HostDma::holds(uint64_t buffer, uint64_t offset, uint64_t address, uint64_t length) const {
    Allocation allocation = this->allocation(buffer);
    if (allocation.memory == nullptr) return false;
    return address == uint64_t(uintptr_t(allocation.memory)) + offset &&
           offset + length <= allocation.length;
}

}  // namespace umka::harness
