// Runs of nucleus frames a module holds through a capability: kernel_services.ModuleMemory's
// regions and bus_access.Dma's buffers. The capability's kind says which interface may act
// on it, its owner which module; only the owner (or, during a swap, its replacement through
// ModuleRecord::inherited_owner) reaches the run. The frames stay nucleus-owned and are
// reached through the direct map (read-write, never executable).
//
// Every change holds the capability table's writer lock (module_system.h); the frame
// allocator's lock is taken inside it.
#pragma once

#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/module/capability_table.h"

namespace umka::loader {

struct FrameRun {
    uint64_t physical;  // 0 when the record is free
    uint64_t length;    // bytes handed out (the block is 2^order frames)
    uint32_t flags;     // the interface's own flags, kept for describe()
    uint8_t order;      // kNotOwnedOrder: a view of memory the module does not own
    uint8_t reserved[3];
};
inline constexpr uint8_t kNotOwnedOrder = 0xFF;

enum class FramePlacement : uint8_t { Anywhere, Below4g };
enum class FrameFill : uint8_t { AsFound, Zeroed };

// A capability and the run it names, as granted (the run copied under the lock: the
// caller's other threads may release the handle at once).
struct GrantedRun {
    uint64_t handle;
    FrameRun run;
};

// 2^order contiguous frames covering `length` bytes (at most 2^kMaxOrder frames), as a
// capability of `kind` owned by `caller`. EINVAL: no caller, length 0 or too large; ENOMEM.
Result<GrantedRun> grant_frames(const ModuleRecord* caller, modules::CapabilityKind kind,
                                uint64_t length, FramePlacement placement, FrameFill fill,
                                uint32_t flags);
// A capability of `kind` for memory the caller may use but does not own (never freed).
Result<uint64_t> grant_view(const ModuleRecord* caller, modules::CapabilityKind kind,
                            uint64_t physical, uint64_t length);
// A copy of the run behind `handle` if it is a live capability of `kind` that `caller`
// holds; EINVAL otherwise. Lock-free: the record is copied, then the capability checked
// again, so a release racing the lookup (which revokes before the record is cleared and
// reused) is seen as EINVAL, never as another module's memory.
Result<FrameRun> owned_frames(uint64_t handle, modules::CapabilityKind kind,
                              const ModuleRecord* caller);
// Revokes the capability and frees the frames (a view's memory stays).
Status release_frames(uint64_t handle, modules::CapabilityKind kind, const ModuleRecord* caller);

// The calling module, found from the return address into its image (the provider's thunk
// inlines the caller's frame): a module cannot act on another module's behalf.
[[gnu::always_inline]] inline ModuleRecord* calling_module(void* return_address) {
    return module_system().record_containing(return_address);
}

// Live swap: the runs module instance `from_owner` holds (memory regions, DMA buffers,
// Mmio windows) now belong to `to_owner`, its replacement, so they stay valid and are
// freed through it; views of the old instance's state regions stay behind (that memory
// goes with the old instance). Runs after the pause, under the capability writer lock;
// until it has, the replacement's ModuleRecord::inherited_owner lets it use them. Returns
// how many moved.
size_t transfer_module_regions(uint32_t from_owner, uint32_t to_owner);

// Frees every run module instance `owner` still holds, of every kind, and revokes the
// capabilities (a replacement abandoned by a failed swap). Returns how many.
size_t release_module_regions(uint32_t owner);

}  // namespace umka::loader
