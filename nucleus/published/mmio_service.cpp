// bus_access.Mmio: device registers mapped uncached for the module they were granted to.
// Two kinds of grant: a module whose boot-manifest line says `ecam` (the PCI bus driver)
// may map window i = ECAM region i of the ACPI MCFG table; any other module maps the memory
// BARs of the devices the device registry bound to it (device_registry.cpp: window 6k + i
// is BAR i of its k-th device).
//
// A window is a capability of the calling module (kind MmioWindow, one per window and
// module: a second map is EBUSY), found from the return address, so a module cannot act
// for another. Every access is checked against the handle (live, owned, this kind), the
// window's length and the access's natural alignment; a page is mapped (uncached) when it
// is first touched. A window that would cover RAM is never granted. A refused map says why
// in the log.
#include <arch/memory.h>

#include "nucleus/lib/log.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/mm/frame_allocator.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/published/owned_frames.h"
#include "nucleus/system.h"
#include "umka/kabi/bus_access.hpp"

namespace umka::loader {
namespace {

namespace bus = umka::kabi::bus_access;

constexpr modules::CapabilityKind kWindow = modules::CapabilityKind::MmioWindow;

// A granted window overlapping memory the nucleus or a module uses would let the driver
// write it through an uncached alias.
bool overlaps_memory(uint64_t base, uint64_t length) {
    for (const MemoryRegion& region : system_description().memory_map) {
        if (region.kind == MemoryRegionKind::Reserved) continue;
        if (base < region.end() && region.base < base + length) return true;
    }
    return false;
}

bool holds_window(const ModuleRecord& caller, uint64_t physical) {
    struct Search {
        uint64_t physical;
        bool found;
    } search{physical, false};
    module_system().capabilities().for_each_owned(
        caller.owner,
        [](void* context, modules::CapabilityHandle, const modules::CapabilityInfo& info) {
            auto& search = *static_cast<Search*>(context);
            if (info.kind == kWindow &&
                static_cast<const FrameRun*>(info.object)->physical == search.physical) {
                search.found = true;
            }
        },
        &search);
    return search.found;
}

Status refuse(const ModuleRecord* caller, uint8_t index, const char* reason, Errno error) {
    log("mmio: %s asked for window %u: %s\n", caller != nullptr ? caller->file : "?",
        unsigned(index), reason);
    return error;
}

bool valid_width(bus::AccessWidth width, uint64_t offset) {
    uint64_t bytes = uint64_t(width);
    return (bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8) && offset % bytes == 0;
}

// Pages are mapped on first touch, not at map(): an ECAM window is 256 MiB (65,536 pages,
// 10 ms of boot under TCG to map whole), of which a bus walk touches a few dozen.
Result<volatile uint8_t*> register_at(bus::MmioWindow window, uint64_t offset,
                                      bus::AccessWidth width, const ModuleRecord* caller) {
    FrameRun run = TRY(owned_frames(window.value, kWindow, caller));
    if (!valid_width(width, offset)) return Errno::InvalidArgument;
    if (offset > run.length || uint64_t(width) > run.length - offset) return Errno::OutOfRange;
    uint64_t physical = run.physical + offset;
    auto* at = static_cast<volatile uint8_t*>(arch::physical_to_virtual(physical));
    if (!arch::is_mapped(reinterpret_cast<uint64_t>(at))) {
        // Not present is never cached by the TLB, so other CPUs see the page at once.
        uint64_t page = physical & ~(kFrameSize - 1);
        if (arch::map_physical(page, kFrameSize, arch::DeviceAccess::ReadWriteUncached)
                .is_error()) {
            return Errno::OutOfMemory;
        }
    }
    return at;
}

// A BAR of a device bound to the caller (checked against RAM when it was published).
Status map_device_window(ModuleRecord& caller, uint8_t index, bus::MmioWindow* window,
                         uint64_t* length) {
    Result<DeviceWindow> granted = device_window(caller, index);
    if (granted.is_error()) {
        return refuse(&caller, index,
                      granted.error() == Errno::NoDevice
                          ? "that BAR of its device is not a memory BAR"
                          : "no device bound to it has that window (device_registry)",
                      granted.error());
    }
    DeviceWindow bar = granted.release_value();
    RecursiveSpinLockGuard guard(capability_writer_lock());
    if (holds_window(caller, bar.base)) {
        return refuse(&caller, index, "already mapped by this module", Errno::Busy);
    }
    window->value = TRY(grant_view(&caller, kWindow, bar.base, bar.length));
    *length = bar.length;
    return Status::ok();
}

struct MmioService {
    [[gnu::always_inline]] static inline Status map(void*, uint8_t index, bus::MmioWindow* window,
                                                    uint64_t* length) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || window == nullptr || length == nullptr) {
            return Errno::InvalidArgument;
        }
        if (caller->configuration_space != bundle::ConfigurationSpace::Ecam) {
            return map_device_window(*caller, index, window, length);
        }
        const acpi::EcamRegions& ecam = system_description().ecam;
        if (index >= ecam.count) {
            return refuse(caller, index, "the MCFG describes no such configuration space",
                          Errno::NoDevice);
        }
        const acpi::EcamRegion& region = ecam.regions[index];
        // The window is indexed bus << 20 from bus 0 of segment 0 (modules/pci/ecam_config.h).
        if (region.segment != 0 || region.first_bus != 0) {
            return refuse(caller, index, "its MCFG region is not segment 0 from bus 0",
                          Errno::NoDevice);
        }
        uint64_t base = region.bus_base(region.first_bus);
        uint64_t bytes = region.length();
        if (overlaps_memory(base, bytes)) {
            return refuse(caller, index, "it overlaps RAM in the memory map", Errno::NotPermitted);
        }
        RecursiveSpinLockGuard guard(capability_writer_lock());
        if (holds_window(*caller, base)) {
            return refuse(caller, index, "already mapped by this module", Errno::Busy);
        }
        window->value = TRY(grant_view(caller, kWindow, base, bytes));
        *length = bytes;
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status read(void*, bus::MmioWindow window, uint64_t offset,
                                                     bus::AccessWidth width, uint64_t* value) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (value == nullptr) return Errno::InvalidArgument;
        volatile uint8_t* at = TRY(register_at(window, offset, width, caller));
        switch (width) {
        case bus::AccessWidth::Byte:
            *value = *at;
            break;
        case bus::AccessWidth::Word:
            *value = *reinterpret_cast<volatile uint16_t*>(at);
            break;
        case bus::AccessWidth::Dword:
            *value = *reinterpret_cast<volatile uint32_t*>(at);
            break;
        default:
            *value = *reinterpret_cast<volatile uint64_t*>(at);
            break;
        }
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status write(void*, bus::MmioWindow window,
                                                      uint64_t offset, bus::AccessWidth width,
                                                      uint64_t value) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        volatile uint8_t* at = TRY(register_at(window, offset, width, caller));
        switch (width) {
        case bus::AccessWidth::Byte:
            *at = uint8_t(value);
            break;
        case bus::AccessWidth::Word:
            *reinterpret_cast<volatile uint16_t*>(at) = uint16_t(value);
            break;
        case bus::AccessWidth::Dword:
            *reinterpret_cast<volatile uint32_t*>(at) = uint32_t(value);
            break;
        default:
            *reinterpret_cast<volatile uint64_t*>(at) = value;
            break;
        }
        return Status::ok();
    }

    // The capability goes; the page-table entries stay (the direct map's device pages are
    // shared and idempotent), but no handle reaches them any more.
    [[gnu::always_inline]] static inline Status unmap(void*, bus::MmioWindow window) {
        return release_frames(window.value, kWindow, calling_module(__builtin_return_address(0)));
    }
};

constexpr bus::MmioVtable kMmioVtable = bus::make_mmio_vtable<MmioService>();

}  // namespace

Status publish_mmio(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, "bus_access", "Mmio",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kMmioVtable),
                          kMmioVtable.version, diagnostic);
}

}  // namespace umka::loader
