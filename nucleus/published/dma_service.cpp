// bus_access.Dma: physically contiguous buffers a driver shares with its device. Each is a
// capability of the calling module (kind DmaBuffer: ModuleMemory cannot release it, nor
// Dma a memory region), zeroed before it is handed out (a device never sees what the
// frames held before), always below 4 GiB, and freed when the module releases it or when
// a replacement is abandoned by a failed swap. A swap carries a driver's buffers to its
// replacement, which the device may still be writing into. Not yet freed: what a module
// allocated in its entry before it refused to bind (the bind's rollback only revokes the
// capabilities; docs/devices.md).
//
// There is no IOMMU yet: the device address is the physical address, and a device can
// reach all of memory (docs/devices.md). sync() is the architecture's DMA barrier
// (arch::dma_barrier_*; on a cache-coherent bus an ordering fence, not a flush).
#include <arch/cpu.h>
#include <arch/memory.h>

#include "nucleus/lib/spinlock.h"
#include "nucleus/mm/frame_allocator.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/published/owned_frames.h"
#include "umka/kabi/bus_access.hpp"

namespace umka::loader {
namespace {

namespace bus = umka::kabi::bus_access;

constexpr modules::CapabilityKind kBuffer = modules::CapabilityKind::DmaBuffer;
constexpr uint8_t kKnownDirections =
    uint8_t(bus::DmaDirection::ToDevice | bus::DmaDirection::FromDevice);

// Flags kept with the run: the direction, and that it was asked below 4 GiB.
constexpr uint32_t kBelow4g = 1u << 8;

// Per module: memory below 4 GiB is scarce and shared by every driver, and each buffer is a
// capability-table entry, so one driver must not take them all.
constexpr uint32_t kMaximumBuffersPerModule = 256;
constexpr uint64_t kMaximumBytesPerModule = 64ull << 20;

struct Holdings {
    uint32_t buffers;
    uint64_t bytes;
};

Holdings holdings_of(uint32_t owner) {
    capability_writer_lock().assert_held();
    Holdings holdings{0, 0};
    module_system().capabilities().for_each_owned(
        owner,
        [](void* context, modules::CapabilityHandle, const modules::CapabilityInfo& info) {
            if (info.kind != kBuffer) return;
            auto& holdings = *static_cast<Holdings*>(context);
            ++holdings.buffers;
            holdings.bytes += static_cast<const FrameRun*>(info.object)->length;
        },
        &holdings);
    return holdings;
}

bool valid_direction(bus::DmaDirection direction) {
    uint8_t bits = uint8_t(direction);
    return bits != 0 && (bits & ~kKnownDirections) == 0;
}

struct DmaService {
    // DmaDirection has no room for a placement flag in version 1: every buffer comes from
    // below 4 GiB, which every device can address (legacy virtio queues need it too).
    [[gnu::always_inline]] static inline Status allocate(void*, uint64_t length,
                                                         bus::DmaDirection direction,
                                                         bus::DmaBuffer* buffer,
                                                         bus::DmaMapping* mapping) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || buffer == nullptr || mapping == nullptr ||
            !valid_direction(direction)) {
            return Errno::InvalidArgument;
        }
        // Larger than one run can be (2^kMaxOrder frames): a bad request, not a full quota.
        if (length == 0 || length > (kFrameSize << FrameAllocator::kMaxOrder)) {
            return Errno::InvalidArgument;
        }
        // Held across the grant (the lock is recursive), so two threads of one module cannot
        // both pass the limit's check.
        RecursiveSpinLockGuard guard(capability_writer_lock());
        Holdings holdings = holdings_of(caller->owner);
        if (holdings.buffers >= kMaximumBuffersPerModule ||
            length > kMaximumBytesPerModule - holdings.bytes) {
            return Errno::OutOfMemory;
        }
        GrantedRun granted = TRY(grant_frames(caller, kBuffer, length, FramePlacement::Below4g,
                                              FrameFill::Zeroed, uint32_t(direction) | kBelow4g));
        buffer->value = granted.handle;
        mapping->cpu_address =
            reinterpret_cast<uint64_t>(arch::physical_to_virtual(granted.run.physical));
        mapping->device_address = umka_kabi_dma_addr{granted.run.physical};
        mapping->length = granted.run.length;
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status release(void*, bus::DmaBuffer buffer) {
        return release_frames(buffer.value, kBuffer, calling_module(__builtin_return_address(0)));
    }

    [[gnu::always_inline]] static inline Status sync(void*, bus::DmaBuffer buffer, uint64_t offset,
                                                     uint64_t length, bus::DmaDirection direction) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        FrameRun run = TRY(owned_frames(buffer.value, kBuffer, caller));
        if (!valid_direction(direction)) return Errno::InvalidArgument;
        if (offset > run.length || length > run.length - offset) return Errno::OutOfRange;
        if (uint32_t(direction & bus::DmaDirection::ToDevice) != 0) arch::dma_barrier_to_device();
        if (uint32_t(direction & bus::DmaDirection::FromDevice) != 0) {
            arch::dma_barrier_from_device();
        }
        return Status::ok();
    }
};

constexpr bus::DmaVtable kDmaVtable = bus::make_dma_vtable<DmaService>();

}  // namespace

Status publish_dma(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, "bus_access", "Dma",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kDmaVtable),
                          kDmaVtable.version, diagnostic);
}

}  // namespace umka::loader
