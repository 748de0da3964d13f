// bus_access.Irq: MSI-X and MSI vectors for the devices the device registry bound to the
// calling module, and the ISA IRQ its boot-manifest line grants (`irq=N`: Legacy, routed
// through the I/O APIC per the MADT's overrides). PCI INTx is ENODEV with the reason in the
// log. For MSI-X and MSI `vector_index` names the device and the table entry: bits 15..11
// the ordinal of the bound device (as in device_registry.Devices.bound), bits 10..0 the
// MSI-X table entry. The nucleus writes the entry (address and data aiming a vector of the
// device range of one CPU, CPUs taken in turn) through its own uncached mapping and
// delivers each interrupt to the caller's bus_access.IrqHandler on a nucleus thread
// (nucleus/interrupts/device_interrupts.h), the entry masked until the handler returns.
// The driver turns MSI-X on in the function's configuration space through its bus driver.
//
// Without an IOMMU's interrupt remapping a device (or a driver writing the table through a
// BAR window it maps) can raise any vector: the binding counts and masks, it cannot stop
// that.
#include <arch/interrupts.h>
#include <arch/memory.h>

#include "nucleus/interrupts/device_interrupts.h"
#include "nucleus/interrupts/legacy_routing.h"
#include "nucleus/lib/log.h"
#include "nucleus/mm/frame_allocator.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/published/owned_frames.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/system.h"
#include "umka/kabi/bus_access.hpp"

namespace umka::loader {
namespace {

namespace bus = umka::kabi::bus_access;

constexpr uint32_t kEntryBits = 11;

Status refuse(const ModuleRecord* caller, uint16_t vector_index, const char* reason, Errno error) {
    log("irq: %s asked for device %u entry %u: %s\n", caller != nullptr ? caller->file : "?",
        unsigned(vector_index >> kEntryBits), unsigned(vector_index & ((1u << kEntryBits) - 1)),
        reason);
    return error;
}

// Online CPUs in turn, so several devices' interrupts spread.
Cpu& next_cpu() {
    static constinit std::atomic<uint32_t> turn{0};
    CpuTable& cpus = cpu_table();
    for (uint32_t attempt = 0; attempt < cpus.count(); ++attempt) {
        Cpu& cpu = cpus[turn.fetch_add(1, std::memory_order_relaxed) % cpus.count()];
        if (cpu.state.load(std::memory_order_acquire) == CpuState::Online) return cpu;
    }
    return cpus[0];
}

uint32_t owner_of(const ModuleRecord* caller) {
    return caller != nullptr ? caller->owner : 0;
}

// The caller's IrqHandler slot, or nullptr.
UmkaServiceSlot* handler_of(const ModuleRecord& caller) {
    Result<UmkaServiceSlot*> handler = module_system().registry().find(
        "bus_access", "IrqHandler", caller.image.manifest_view.name());
    return handler.is_error() ? nullptr : handler.value();
}

// A binding of `source` on a vector of the next CPU (left masked); refused with the log line
// when none is free.
struct Placed {
    uint64_t handle;
    uint8_t vector;
    Cpu* cpu;
};
Result<Placed> place(ModuleRecord& caller, uint16_t vector_index, UmkaServiceSlot* handler,
                     uint64_t cookie, const interrupts::MaskedSource& source) {
    Cpu& cpu = next_cpu();
    Result<interrupts::BoundVector> bound = interrupts::bind(
        interrupts::BindingRequest{caller.owner, caller.file, handler, cookie, source, cpu.index});
    if (bound.is_error()) {
        return refuse(&caller, vector_index, "no vector or binding is free", Errno::NoSpace)
            .error();
    }
    return Placed{bound.value().handle, bound.value().vector, &cpu};
}

// MSI-X table entry `vector_index` (device ordinal << 11 | entry) of a device bound to the
// caller, written to aim a fresh vector at the next CPU.
Status attach_msix(ModuleRecord& caller, uint16_t vector_index, uint64_t cookie,
                   UmkaServiceSlot* handler, bus::IrqBinding* binding) {
    uint32_t ordinal = vector_index >> kEntryBits;
    uint32_t entry_index = vector_index & ((1u << kEntryBits) - 1);
    Result<uint64_t> entry = device_msix_entry(caller, ordinal, entry_index);
    if (entry.is_error()) {
        return refuse(&caller, vector_index,
                      "no such MSI-X entry on a device bound to it (device_registry)",
                      Errno::NoDevice);
    }
    uint64_t physical = entry.value();
    uint64_t page = physical & ~(kFrameSize - 1);
    if (arch::map_physical(page, kFrameSize, arch::DeviceAccess::ReadWriteUncached).is_error()) {
        return refuse(&caller, vector_index, "its table page could not be mapped", Errno::NoSpace);
    }
    auto* table_entry = static_cast<volatile uint32_t*>(arch::physical_to_virtual(physical));
    Placed placed = TRY(place(caller, vector_index, handler, cookie,
                              {interrupts::SourceKind::MsixEntry, &table_entry[3], 0}));
    arch::MsiMessage message = arch::msi_message(placed.cpu->hardware_id, placed.vector);
    table_entry[0] = uint32_t(message.address);
    table_entry[1] = uint32_t(message.address >> 32);
    table_entry[2] = message.data;
    (void)interrupts::unmask(placed.handle, caller.owner);
    log("irq: %s device %u entry %u: MSI-X vector %u on cpu %u\n", caller.file, ordinal,
        entry_index, unsigned(placed.vector), placed.cpu->index);
    binding->value = placed.handle;
    return Status::ok();
}

// The MSI capability of the `ordinal`-th device bound to the caller (vector_index >> 11; one
// vector): a vector on the next CPU. The message is the driver's to hand to its bus driver
// (Irq.message, PciBus.program_msi): configuration space is the bus driver's, not the
// nucleus's. Without per-vector masking the nucleus cannot mask it (SourceKind::Msi).
Status attach_msi(ModuleRecord& caller, uint16_t vector_index, uint64_t cookie,
                  UmkaServiceSlot* handler, bus::IrqBinding* binding) {
    uint32_t ordinal = vector_index >> kEntryBits;
    if (device_has_msi(caller, ordinal).is_error()) {
        return refuse(&caller, vector_index,
                      "no device bound to it (device_registry) has an MSI capability",
                      Errno::NoDevice);
    }
    Placed placed = TRY(
        place(caller, vector_index, handler, cookie, {interrupts::SourceKind::Msi, nullptr, 0}));
    log("irq: %s device %u: MSI vector %u on cpu %u\n", caller.file, ordinal,
        unsigned(placed.vector), placed.cpu->index);
    binding->value = placed.handle;
    return Status::ok();
}

// The ISA IRQ the boot manifest granted the caller (`irq=N`), on the interrupt line and with
// the polarity and trigger the MADT's overrides give it.
Status attach_legacy(ModuleRecord& caller, uint16_t vector_index, uint64_t cookie,
                     UmkaServiceSlot* handler, bus::IrqBinding* binding) {
    if (caller.legacy_irq == bundle::kNoIsaIrq) {
        return refuse(&caller, vector_index, "no ISA IRQ is granted to it (irq= on its line)",
                      Errno::NoDevice);
    }
    struct Overrides {
        acpi::InterruptOverride entries[interrupts::kIsaIrqCount];
        size_t count;
    } overrides{};
    acpi::for_each_interrupt_override(
        arch::kernel_physical_view(), system_description().acpi,
        [](void* context, const acpi::InterruptOverride& entry) {
            auto& found = *static_cast<Overrides*>(context);
            if (found.count < interrupts::kIsaIrqCount) found.entries[found.count++] = entry;
        },
        &overrides);
    interrupts::LegacyRoute route =
        interrupts::route_isa_irq(caller.legacy_irq, overrides.entries, overrides.count);
    bool level = route.trigger == arch::LineTrigger::Level;
    interrupts::SourceKind kind =
        level ? interrupts::SourceKind::LevelLine : interrupts::SourceKind::EdgeLine;
    Placed placed = TRY(place(caller, vector_index, handler, cookie, {kind, nullptr, route.line}));
    if (arch::route_interrupt_line(route.line, placed.vector, placed.cpu->hardware_id,
                                   route.polarity, route.trigger)
            .is_error()) {
        (void)interrupts::unbind(placed.handle, caller.owner);
        return refuse(&caller, vector_index, "no interrupt controller has its line",
                      Errno::NoDevice);
    }
    (void)interrupts::unmask(placed.handle, caller.owner);
    log("irq: %s ISA IRQ %u: line %u (%s, %s) vector %u on cpu %u\n", caller.file,
        unsigned(caller.legacy_irq), route.line, level ? "level" : "edge",
        route.polarity == arch::LinePolarity::ActiveLow ? "active low" : "active high",
        unsigned(placed.vector), placed.cpu->index);
    binding->value = placed.handle;
    return Status::ok();
}

struct IrqService {
    [[gnu::always_inline]] static inline Status attach(void*, bus::IrqKind kind,
                                                       uint16_t vector_index, uint64_t cookie,
                                                       bus::IrqBinding* binding) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || binding == nullptr) return Errno::NoDevice;
        UmkaServiceSlot* handler = handler_of(*caller);
        if (handler == nullptr) {
            return refuse(caller, vector_index, "it provides no bus_access.IrqHandler",
                          Errno::NoDevice);
        }
        kabi::bus_access::IrqHandlerRef version_check;
        if (kabi::bind_service(handler, &version_check).is_error()) {
            return refuse(caller, vector_index,
                          "its bus_access.IrqHandler is older than version 2 (handle_interrupt)",
                          Errno::NoDevice);
        }
        switch (kind) {
        case bus::IrqKind::MsiX:
            return attach_msix(*caller, vector_index, cookie, handler, binding);
        case bus::IrqKind::Legacy:
            return attach_legacy(*caller, vector_index, cookie, handler, binding);
        case bus::IrqKind::Msi:
            return attach_msi(*caller, vector_index, cookie, handler, binding);
        }
        return refuse(caller, vector_index, "an unknown interrupt kind", Errno::NoDevice);
    }

    [[gnu::always_inline]] static inline Status message(void*, bus::IrqBinding binding,
                                                        uint64_t* address, uint32_t* data) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (address == nullptr || data == nullptr) return Errno::InvalidArgument;
        interrupts::BindingTarget target = TRY(interrupts::target(binding.value, owner_of(caller)));
        if (target.kind != interrupts::SourceKind::Msi) return Errno::InvalidArgument;
        arch::MsiMessage message =
            arch::msi_message(cpu_table()[target.cpu].hardware_id, target.vector);
        *address = message.address;
        *data = message.data;
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status detach(void*, bus::IrqBinding binding) {
        return interrupts::unbind(binding.value,
                                  owner_of(calling_module(__builtin_return_address(0))));
    }
    [[gnu::always_inline]] static inline Status mask(void*, bus::IrqBinding binding) {
        return interrupts::mask(binding.value,
                                owner_of(calling_module(__builtin_return_address(0))));
    }
    [[gnu::always_inline]] static inline Status unmask(void*, bus::IrqBinding binding) {
        return interrupts::unmask(binding.value,
                                  owner_of(calling_module(__builtin_return_address(0))));
    }
};

constexpr bus::IrqVtable kIrqVtable = bus::make_irq_vtable<IrqService>();

}  // namespace

Status publish_irq(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, "bus_access", "Irq",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kIrqVtable),
                          kIrqVtable.version, diagnostic);
}

}  // namespace umka::loader
