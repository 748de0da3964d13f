// The interfaces the nucleus itself provides to modules (kernel_services.Log, .Clock,
// .ModuleMemory and .Threads, service_directory.Directory, evolution.EvolutionControl,
// nucleus_mechanism.Rings and .HeapCalls here; introspection.* in introspection/; bus
// access in arch/), published in the service registry before any module is bound.
#pragma once

#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/service_registry.h"

namespace umka::loader {

struct ModuleRecord;

// Publishes a vtable the nucleus provides under package.name.
Status publish_vtable(modules::ServiceRegistry& registry, const char* package, const char* name,
                      const umka_kabi_vtable_header* vtable, uint32_t version,
                      modules::Diagnostic& diagnostic);

// kernel_services.ModuleMemory (module_memory_service.cpp).
Status publish_module_memory(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

// bus_access.Dma (dma_service.cpp) and bus_access.Mmio (mmio_service.cpp). What a module
// holds through them moves with a swap: transfer_module_regions (owned_frames.h).
Status publish_dma(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

Status publish_mmio(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

// device_registry.Devices (device_registry.cpp). A device's memory BAR as the Mmio window
// `window` of the module it is bound to: EPERM when no device bound to `caller` has that
// window, ENODEV when its BAR is not memory.
struct DeviceWindow {
    uint64_t base;
    uint64_t length;
};
Status publish_devices(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);
// boot_files.BootFiles (boot_files_service.cpp): the bundle's root/ tree, read-only.
Status publish_boot_files(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);
Result<DeviceWindow> device_window(const ModuleRecord& caller, uint8_t window);
// The physical address of MSI-X table entry `entry` of the `ordinal`-th device bound to
// `caller`, from the device's published capability list. ENODEV: no such device, no MSI-X,
// or no such entry inside its BAR.
Result<uint64_t> device_msix_entry(const ModuleRecord& caller, uint32_t ordinal, uint32_t entry);
// OK when the `ordinal`-th device bound to `caller` has an MSI capability; ENODEV otherwise.
Status device_has_msi(const ModuleRecord& caller, uint32_t ordinal);
// bus_access.Irq (irq_service.cpp): MSI-X vectors of bound devices.
Status publish_irq(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);
// Live swap: the devices bound to `from_owner` are bound to `to_owner`. Returns how many.
size_t transfer_device_bindings(uint32_t from_owner, uint32_t to_owner);

// kernel_services.Threads (threads_service.cpp).
Status publish_threads(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);
// Live swap: the wait queues `from_owner` created become `to_owner`'s, under the same
// handles (its state names them). Returns how many.
size_t transfer_wait_queues(uint32_t from_owner, uint32_t to_owner);

// Every page of [address, address + length) is mapped. A module passes addresses the
// nucleus then reads; an unmapped one is EFAULT rather than a page fault in the nucleus.
bool module_range_readable(uint64_t address, uint64_t length);

// service_directory.Directory (service_directory.cpp).
Status publish_service_directory(modules::ServiceRegistry& registry,
                                 modules::Diagnostic& diagnostic);

// nucleus_mechanism.Rings (rings_service.cpp) and .HeapCalls (heap_calls_service.cpp).
Status publish_rings(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);
Status publish_heap_calls(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

Status publish_nucleus_services(modules::ServiceRegistry& registry,
                                modules::Diagnostic& diagnostic);

}  // namespace umka::loader

namespace umka::arch {

// Bus access (bus_access.PortIo on x86-64), resolving each call's range handle to the
// ports the boot manifest granted the calling module.
Status publish_bus_services(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

}  // namespace umka::arch
