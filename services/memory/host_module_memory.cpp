#include "host_module_memory.h"

#include <sys/mman.h>

#include <cstring>

namespace umka::heap_test {
namespace {

constexpr uint64_t kPageSize = 4096;
// Handles look nothing like addresses or small integers, so a heap that mixed them up
// would be caught by describe/release refusing them.
constexpr uint64_t kHandleBase = 0x4D454D0000000000;  // "MEM"
// What memory not asked to be zeroed holds, so a heap relying on zeroes it did not ask
// for reads garbage.
constexpr int kGarbage = 0xA5;

}  // namespace

HostModuleMemory::HostModuleMemory() {
    vtable_ = services::make_module_memory_vtable<HostModuleMemory>();
}

HostModuleMemory::~HostModuleMemory() {
    for (auto& [handle, region] : regions_) munmap(region.address, region.mapped);
}

void HostModuleMemory::fail_after(uint64_t count) {
    std::lock_guard lock(mutex_);
    allowed_allocations_ = allocations_ + count;
}

void HostModuleMemory::limit_live_bytes(uint64_t bytes) {
    std::lock_guard lock(mutex_);
    live_byte_limit_ = bytes;
}

void HostModuleMemory::allow_all() {
    std::lock_guard lock(mutex_);
    allowed_allocations_ = UINT64_MAX;
    live_byte_limit_ = UINT64_MAX;
}

void HostModuleMemory::refuse_releases(bool refuse) {
    std::lock_guard lock(mutex_);
    refuse_releases_ = refuse;
}

size_t HostModuleMemory::live_regions() const {
    std::lock_guard lock(mutex_);
    return regions_.size();
}

uint64_t HostModuleMemory::live_bytes() const {
    std::lock_guard lock(mutex_);
    return live_bytes_;
}

uint64_t HostModuleMemory::allocations() const {
    std::lock_guard lock(mutex_);
    return allocations_;
}

uint64_t HostModuleMemory::failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
}

uint64_t HostModuleMemory::bad_requests() const {
    std::lock_guard lock(mutex_);
    return bad_requests_;
}

bool HostModuleMemory::owns(uint64_t address, uint64_t length) const {
    std::lock_guard lock(mutex_);
    for (const auto& [handle, region] : regions_) {
        uint64_t start = reinterpret_cast<uint64_t>(region.address);
        if (address >= start && address + length <= start + region.mapped) return true;
    }
    return false;
}

umka::kabi::Status HostModuleMemory::allocate(void* context, uint64_t length,
                                              services::MemoryFlags flags,
                                              services::MemoryRegion* region) {
    auto* self = static_cast<HostModuleMemory*>(context);
    std::lock_guard lock(self->mutex_);
    *region = services::MemoryRegion{};
    if (length == 0 || length > (uint64_t(1) << 40)) {
        ++self->bad_requests_;
        return UMKA_KABI_EINVAL;
    }
    uint64_t mapped = (length + kPageSize - 1) & ~(kPageSize - 1);
    if (self->allocations_ >= self->allowed_allocations_ ||
        self->live_bytes_ + mapped > self->live_byte_limit_) {
        ++self->failures_;
        return UMKA_KABI_ENOMEM;
    }
    void* memory =
        mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return UMKA_KABI_ENOMEM;
    if (uint32_t(flags & services::MemoryFlags::Zeroed) == 0) std::memset(memory, kGarbage, mapped);
    uint64_t handle = kHandleBase + self->next_handle_++;
    self->regions_[handle] = Region{memory, mapped, length, uint32_t(flags)};
    self->live_bytes_ += mapped;
    ++self->allocations_;
    region->value = handle;
    return umka::kabi::Status::ok();
}

umka::kabi::Status HostModuleMemory::release(void* context, services::MemoryRegion region) {
    auto* self = static_cast<HostModuleMemory*>(context);
    std::lock_guard lock(self->mutex_);
    auto found = self->regions_.find(region.value);
    if (found == self->regions_.end()) {
        ++self->bad_requests_;
        return UMKA_KABI_EINVAL;
    }
    if (self->refuse_releases_) return UMKA_KABI_EINVAL;
    munmap(found->second.address, found->second.mapped);
    self->live_bytes_ -= found->second.mapped;
    self->regions_.erase(found);
    return umka::kabi::Status::ok();
}

umka::kabi::Status HostModuleMemory::describe(void* context, services::MemoryRegion region,
                                              services::RegionInfo* info) {
    auto* self = static_cast<HostModuleMemory*>(context);
    std::lock_guard lock(self->mutex_);
    auto found = self->regions_.find(region.value);
    if (found == self->regions_.end()) {
        ++self->bad_requests_;
        return UMKA_KABI_EINVAL;
    }
    *info = services::RegionInfo{};
    info->address = reinterpret_cast<uint64_t>(found->second.address);
    info->length = found->second.length;
    info->flags = services::MemoryFlags(found->second.flags);
    return umka::kabi::Status::ok();
}

// The heap reaches its state through its binding; a host region handle for it would be
// a view the test never needs, so this answers as a nucleus without one does.
umka::kabi::Status HostModuleMemory::state_region(void*, services::MemoryRegion* region,
                                                  uint32_t* version) {
    *region = services::MemoryRegion{};
    *version = 0;
    return UMKA_KABI_ENOENT;
}

}  // namespace umka::heap_test
