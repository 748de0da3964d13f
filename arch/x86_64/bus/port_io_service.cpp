// bus_access.PortIo for modules: a module names its port window by the capability of its
// PortIo binding (UmkaRequiredService.capability); the nucleus maps that capability to the
// module that owns it and to the ports the boot manifest granted that module
// (`ports=BASE+COUNT`). Offsets are relative to the window.
#include "arch/x86_64/cpu/x86.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/published/nucleus_services.h"
#include "umka/kabi/bus_access.hpp"

namespace umka::arch {
namespace {

namespace bus = umka::kabi::bus_access;

// The declared errors of PortIo are ERANGE and EINVAL: a malformed, stale or foreign
// handle is EINVAL; an access outside the window is ERANGE.
Result<uint16_t> port_for(bus::PortRange range, uint16_t offset, bus::AccessWidth width) {
    unsigned bytes = unsigned(width);
    if (bytes != 1 && bytes != 2 && bytes != 4) return Errno::InvalidArgument;
    modules::CapabilityInfo info{};
    modules::CapabilityCheck check = loader::module_system().capabilities().check(
        modules::CapabilityHandle{range.value}, modules::Rights::Call, &info);
    if (check != modules::CapabilityCheck::Valid ||
        info.kind != modules::CapabilityKind::ServiceBinding) {
        return Errno::InvalidArgument;
    }
    // The handle must be the caller's PortIo binding itself, not any other of its bindings.
    const modules::ServiceEntry* entry = loader::module_system().registry().entry_of(
        static_cast<const UmkaServiceSlot*>(info.object));
    if (entry == nullptr || __builtin_strcmp(entry->package, "bus_access") != 0 ||
        __builtin_strcmp(entry->name, "PortIo") != 0) {
        return Errno::InvalidArgument;
    }
    loader::ModuleRecord* owner = loader::module_system().record_of_owner(info.owner);
    if (owner == nullptr || owner->port_count == 0) return Errno::InvalidArgument;
    if (uint32_t(offset) + bytes > owner->port_count) return Errno::OutOfRange;
    return uint16_t(owner->port_base + offset);
}

struct PortIoService {
    static Status read(void*, bus::PortRange range, uint16_t offset, bus::AccessWidth width,
                       uint32_t* value) {
        uint16_t port = TRY(port_for(range, offset, width));
        switch (width) {
        case bus::AccessWidth::Byte: *value = x86::inb(port); break;
        case bus::AccessWidth::Word: *value = x86::inw(port); break;
        default: *value = x86::inl(port); break;
        }
        return Status::ok();
    }
    static Status write(void*, bus::PortRange range, uint16_t offset, bus::AccessWidth width,
                        uint32_t value) {
        uint16_t port = TRY(port_for(range, offset, width));
        switch (width) {
        case bus::AccessWidth::Byte: x86::outb(port, uint8_t(value)); break;
        case bus::AccessWidth::Word: x86::outw(port, uint16_t(value)); break;
        default: x86::outl(port, value); break;
        }
        return Status::ok();
    }
};

constexpr bus::PortIoVtable kPortIoVtable = bus::make_port_io_vtable<PortIoService>();

}  // namespace

Status publish_bus_services(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    modules::ServiceProvider provider{modules::kNucleusProviderName,
                                      reinterpret_cast<const umka_kabi_vtable_header*>(&kPortIoVtable),
                                      nullptr, kPortIoVtable.version};
    return registry.publish("bus_access", "PortIo", provider, diagnostic).status();
}

}  // namespace umka::arch
