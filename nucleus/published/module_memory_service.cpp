// kernel_services.ModuleMemory: nucleus memory for a module's own bookkeeping (a heap's
// slabs, a driver's buffers). Each region is a capability of the calling module, so only
// its owner can describe or release it, and unloading the module revokes them all. Regions
// are runs of nucleus frames reached through the direct map (read-write, never executable);
// the memory stays nucleus-owned, so it survives a swap of the module that uses it.
#include <arch/memory.h>

#include "nucleus/loader/module_system.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/published/owned_frames.h"
#include "umka/kabi/kernel_services.hpp"

namespace umka::loader {
namespace {

namespace services = umka::kabi::kernel_services;

constexpr modules::CapabilityKind kRegion = modules::CapabilityKind::MemoryRegion;

struct ModuleMemoryService {
    [[gnu::always_inline]] static inline Status allocate(void*, uint64_t length,
                                                         services::MemoryFlags flags,
                                                         services::MemoryRegion* region) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        FramePlacement placement = uint32_t(flags & services::MemoryFlags::Below4g) != 0
                                       ? FramePlacement::Below4g
                                       : FramePlacement::Anywhere;
        FrameFill fill = uint32_t(flags & services::MemoryFlags::Zeroed) != 0 ? FrameFill::Zeroed
                                                                              : FrameFill::AsFound;
        region->value =
            TRY(grant_frames(caller, kRegion, length, placement, fill, uint32_t(flags))).handle;
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status release(void*, services::MemoryRegion region) {
        return release_frames(region.value, kRegion, calling_module(__builtin_return_address(0)));
    }

    [[gnu::always_inline]] static inline Status describe(void*, services::MemoryRegion region,
                                                         services::RegionInfo* info) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        FrameRun record = TRY(owned_frames(region.value, kRegion, caller));
        *info = services::RegionInfo{};
        info->address = reinterpret_cast<uint64_t>(arch::physical_to_virtual(record.physical));
        info->length = record.length;
        info->flags = services::MemoryFlags(record.flags);
        return Status::ok();
    }

    // The module's first state region (also in its binding) as a region handle, so code
    // that only has this interface can reach it. The region is not the module's to free.
    [[gnu::always_inline]] static inline Status state_region(void*, services::MemoryRegion* region,
                                                             uint32_t* version) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || caller->binding == nullptr) return Errno::InvalidArgument;
        if (caller->binding->binding.state_count == 0) return Errno::NotFound;
        const UmkaStateRegion& state = caller->binding->states[0];
        region->value =
            TRY(grant_view(caller, kRegion, arch::direct_map_to_physical(state.base), state.size));
        *version = state.schema_version;
        return Status::ok();
    }
};

constexpr services::ModuleMemoryVtable kModuleMemoryVtable =
    services::make_module_memory_vtable<ModuleMemoryService>();

}  // namespace

Status publish_module_memory(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, "kernel_services", "ModuleMemory",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kModuleMemoryVtable),
                          kModuleMemoryVtable.version, diagnostic);
}

}  // namespace umka::loader
