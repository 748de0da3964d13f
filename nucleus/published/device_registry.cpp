// device_registry.Devices: the bus driver publishes what it enumerated; the nucleus binds
// each device to the first loaded module whose own manifest matches it (its IDL `matches pci
// vendor V device D;` or `matches pci class C subclass S;`) and from then on grants that
// module, and only it, the device's memory BARs as bus_access.Mmio windows (mmio_service.cpp
// asks device_window()). What a driver drives is the driver's declaration, signed with it;
// the registry only applies it.
//
// Binding happens when a device is published: boot binds every module before it starts any,
// in dependency order, so a driver (which requires its bus) is loaded when its bus driver's
// start publishes, and its own start finds its devices bound. A live swap moves a driver's
// devices to its replacement (transfer_device_bindings).
//
// Window numbering is per driver: the k-th device bound to a module has its BAR i at window
// 6k + i. A BAR is checked once, at publish: it must not wrap or overlap RAM.
#include "umka/kabi/device_registry.hpp"

#include "nucleus/lib/log.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/published/owned_frames.h"
#include "nucleus/system.h"
#include "umka/name_copy.h"

namespace umka::loader {
namespace {

namespace registry = umka::kabi::device_registry;
namespace pcibus = umka::kabi::pci_bus;

constexpr uint32_t kMaximumDevices = 64;
constexpr uint32_t kBarsPerDevice = 6;
constexpr uint32_t kUnbound = 0xFFFFFFFFu;

struct Entry {
    registry::DeviceDescription description;
    uint32_t owner;  // the bound module's capability owner; 0 while unbound
};

struct Table {
    SpinLock lock{LockLevel::DeviceRegistry};
    Entry entries[kMaximumDevices]{};
    uint32_t count = 0;  // entries[0, count) are published; never shrinks
};

constinit Table devices_table;

Table& table() {
    return devices_table;
}

bool is_memory(const pcibus::BarInfo& bar) {
    return (bar.kind == pcibus::BarKind::Memory32 || bar.kind == pcibus::BarKind::Memory64) &&
           bar.length != 0;
}

bool bar_overlaps_memory(const pcibus::BarInfo& bar) {
    for (const MemoryRegion& region : system_description().memory_map) {
        if (region.kind == MemoryRegionKind::Reserved) continue;
        if (bar.base < region.end() && region.base < bar.base + bar.length) return true;
    }
    return false;
}

const ModuleRecord* matching_driver(const pcibus::PciDeviceInfo& info) {
    ModuleSystem& system = module_system();
    for (size_t index = 0; index < system.record_count(); ++index) {
        const ModuleRecord& record = system.record(index);
        if (record.state != ModuleState::Loaded || !record.image_loaded) continue;
        const modules::ManifestView& manifest = record.image.manifest_view;
        for (size_t index = 0; index < manifest.match_count(); ++index) {
            if (manifest.match(index).fits(info.vendor_id, info.device_id, info.class_code,
                                           info.subclass)) {
                return &record;
            }
        }
    }
    return nullptr;
}

uint32_t bound_count(const Table& devices, uint32_t owner) {
    uint32_t count = 0;
    for (uint32_t index = 0; index < devices.count; ++index) {
        if (devices.entries[index].owner == owner) ++count;
    }
    return count;
}

// The caller's identity as the registry knows it: its own owner id, or during a swap's
// window the predecessor's whose devices it is inheriting.
bool bound_to(const Entry& entry, const ModuleRecord& caller) {
    return entry.owner != 0 &&
           (entry.owner == caller.owner || entry.owner == caller.inherited_owner);
}

// The offset of capability `id` in a published configuration space, 0 when it has none
// (the walk bounded like the bus driver's).
uint32_t find_capability(const uint8_t (&config)[256], uint8_t id) {
    if ((config[0x06] & 0x10) == 0) return 0;
    uint32_t at = config[0x34] & 0xFCu;
    for (uint32_t visited = 0; at >= 0x40 && at + 8 <= 256 && visited < 48; ++visited) {
        if (config[at] == id) return at;
        at = config[at + 1] & 0xFCu;
    }
    return 0;
}

// The `ordinal`-th device bound to `caller`, under the lock; nullptr when none.
const Entry* bound_device(const Table& devices, const ModuleRecord& caller, uint32_t ordinal) {
    for (uint32_t index = 0; index < devices.count; ++index) {
        const Entry& bound = devices.entries[index];
        if (!bound_to(bound, caller)) continue;
        if (ordinal-- == 0) return &bound;
    }
    return nullptr;
}

Status refuse(const ModuleRecord* caller, const registry::DeviceDescription& device,
              const char* reason, Errno error) {
    const pcibus::PciAddress& where = device.info.address;
    log("devices: %s published %02x:%02x.%x: %s\n", caller != nullptr ? caller->file : "?",
        unsigned(where.bus), unsigned(where.device), unsigned(where.function), reason);
    return error;
}

struct DevicesService {
    [[gnu::always_inline]] static inline Status publish(void*,
                                                        const registry::DeviceDescription* device) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || device == nullptr) return Errno::InvalidArgument;
        if (caller->configuration_space != bundle::ConfigurationSpace::Ecam) {
            return refuse(caller, *device, "only a bus driver (`ecam`) publishes devices",
                          Errno::NotPermitted);
        }
        for (const pcibus::BarInfo& bar : device->bars) {
            if (!is_memory(bar)) continue;
            if (bar.base + bar.length < bar.base || bar_overlaps_memory(bar)) {
                return refuse(caller, *device, "a memory BAR wraps or overlaps RAM",
                              Errno::InvalidArgument);
            }
        }
        Table& devices = table();
        SpinLockGuard guard(devices.lock);
        for (uint32_t index = 0; index < devices.count; ++index) {
            const pcibus::PciAddress& other = devices.entries[index].description.info.address;
            const pcibus::PciAddress& where = device->info.address;
            if (other.segment == where.segment && other.bus == where.bus &&
                other.device == where.device && other.function == where.function) {
                return Errno::Exists;
            }
        }
        if (devices.count == kMaximumDevices) {
            return refuse(caller, *device, "the registry holds 64 devices", Errno::NoSpace);
        }
        Entry& entry = devices.entries[devices.count];
        entry.description = *device;
        entry.description.first_window = kUnbound;
        for (uint8_t& byte : entry.description.driver) byte = 0;
        entry.owner = 0;
        if (const ModuleRecord* driver = matching_driver(device->info); driver != nullptr) {
            entry.description.first_window = bound_count(devices, driver->owner) * kBarsPerDevice;
            entry.owner = driver->owner;
            (void)copy_name(reinterpret_cast<char*>(entry.description.driver),
                            sizeof entry.description.driver, driver->file);
        }
        ++devices.count;
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status bound(void*, uint32_t index,
                                                      registry::DeviceDescription* device) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || device == nullptr) return Errno::InvalidArgument;
        Table& devices = table();
        SpinLockGuard guard(devices.lock);
        const Entry* bound = bound_device(devices, *caller, index);
        if (bound == nullptr) return Errno::NotFound;
        *device = bound->description;
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status describe(void*, uint32_t index,
                                                         registry::DeviceDescription* device) {
        if (device == nullptr) return Errno::InvalidArgument;
        Table& devices = table();
        SpinLockGuard guard(devices.lock);
        if (index >= devices.count) return Errno::NotFound;
        *device = devices.entries[index].description;
        return Status::ok();
    }
};

constexpr registry::DevicesVtable kDevicesVtable = registry::make_devices_vtable<DevicesService>();

}  // namespace

Result<DeviceWindow> device_window(const ModuleRecord& caller, uint8_t window) {
    Table& devices = table();
    SpinLockGuard guard(devices.lock);
    const Entry* bound = bound_device(devices, caller, window / kBarsPerDevice);
    if (bound == nullptr) return Errno::NotPermitted;
    const pcibus::BarInfo& bar = bound->description.bars[window % kBarsPerDevice];
    if (!is_memory(bar)) return Errno::NoDevice;
    return DeviceWindow{bar.base, bar.length};
}

Status device_has_msi(const ModuleRecord& caller, uint32_t ordinal) {
    Table& devices = table();
    SpinLockGuard guard(devices.lock);
    const Entry* bound = bound_device(devices, caller, ordinal);
    if (bound == nullptr || find_capability(bound->description.config, 0x05) == 0) {
        return Errno::NoDevice;
    }
    return Status::ok();
}

Result<uint64_t> device_msix_entry(const ModuleRecord& caller, uint32_t ordinal, uint32_t entry) {
    Table& devices = table();
    SpinLockGuard guard(devices.lock);
    const Entry* bound = bound_device(devices, caller, ordinal);
    if (bound == nullptr) return Errno::NoDevice;
    // The MSI-X capability (id 0x11): Message Control's table size, then the table's BAR
    // (BIR) and offset.
    const uint8_t* config = bound->description.config;
    uint32_t at = find_capability(bound->description.config, 0x11);
    if (at == 0) return Errno::NoDevice;
    uint32_t table_size = ((config[at + 2] | config[at + 3] << 8) & 0x7FFu) + 1;
    uint32_t location = uint32_t(config[at + 4]) | uint32_t(config[at + 5]) << 8 |
                        uint32_t(config[at + 6]) << 16 | uint32_t(config[at + 7]) << 24;
    if (entry >= table_size || (location & 7u) > 5) return Errno::NoDevice;
    const pcibus::BarInfo& bar = bound->description.bars[location & 7u];
    uint64_t offset = (location & ~7u) + uint64_t(entry) * 16;
    if (!is_memory(bar) || offset + 16 > bar.length) return Errno::NoDevice;
    return bar.base + offset;
}

size_t transfer_device_bindings(uint32_t from_owner, uint32_t to_owner) {
    Table& devices = table();
    SpinLockGuard guard(devices.lock);
    size_t moved = 0;
    for (uint32_t index = 0; index < devices.count; ++index) {
        if (devices.entries[index].owner != from_owner) continue;
        devices.entries[index].owner = to_owner;
        ++moved;
    }
    return moved;
}

Status publish_devices(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, "device_registry", "Devices",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kDevicesVtable),
                          kDevicesVtable.version, diagnostic);
}

}  // namespace umka::loader
