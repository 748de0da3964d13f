#include "host_port_io.h"

namespace umka::harness {

namespace bus = kabi::bus_access;

HostPortIo::HostPortIo(ModuleHarness& harness, PortDevice& device, uint16_t window_length)
    : harness_(harness), device_(device), window_length_(window_length) {
    vtable_.vtable_size = sizeof(vtable_);
    vtable_.version = 1;
    vtable_.read = &read;
    vtable_.write = &write;
}

Status HostPortIo::publish() {
    return harness_.provide("bus_access", "PortIo", &vtable_, this);
}

void HostPortIo::grant(const HostModule& module) {
    grant(module, window_length_);
}

void HostPortIo::grant(const HostModule& module, uint16_t length) {
    grant_owner(module.owner, length);
}

void HostPortIo::grant_owner(uint32_t owner, uint16_t length) {
    granted_owner_ = owner;
    granted_length_ = length;
}

int32_t HostPortIo::check(bus::PortRange range, uint16_t offset, bus::AccessWidth width) {
    ++accesses_;
    modules::CapabilityHandle handle{range.value};
    Result<modules::CapabilityInfo> info =
        harness_.capabilities().lookup(handle, modules::Rights::Call);
    if (info.is_error()) {
        last_refusal_ = "PortRange " + std::to_string(range.value) + " is not a live capability (" +
                        errno_name(info.error()) + ")";
        return UMKA_KABI_EINVAL;
    }
    Result<UmkaServiceSlot*> slot = harness_.registry().find("bus_access", "PortIo", nullptr);
    if (info.value().kind != modules::CapabilityKind::ServiceBinding || slot.is_error() ||
        info.value().object != slot.value()) {
        last_refusal_ = "PortRange " + std::to_string(range.value) +
                        " is a capability for something other than a bus_access.PortIo binding";
        return UMKA_KABI_EINVAL;
    }
    if (granted_owner_ == 0 || info.value().owner != granted_owner_) {
        last_refusal_ =
            "no ports are granted to module instance " + std::to_string(info.value().owner);
        return UMKA_KABI_EINVAL;
    }
    unsigned bytes = unsigned(width);
    if (bytes != 1 && bytes != 2 && bytes != 4) {
        last_refusal_ = "port access width " + std::to_string(bytes) + " (1, 2 or 4 bytes)";
        return UMKA_KABI_EINVAL;
    }
    if (std::string reason = device_.refuse_width(width); !reason.empty()) {
        last_refusal_ = reason;
        return UMKA_KABI_EINVAL;
    }
    if (uint32_t(offset) + bytes > granted_length_) {
        last_refusal_ = "offset " + std::to_string(offset) + " is outside the " +
                        std::to_string(granted_length_) + "-port range granted";
        return UMKA_KABI_ERANGE;
    }
    return UMKA_KABI_OK;
}

int32_t HostPortIo::read(void* context, bus::PortRange range, uint16_t offset,
                         bus::AccessWidth width, uint32_t* value) {
    auto* self = static_cast<HostPortIo*>(context);
    if (int32_t refused = self->check(range, offset, width); refused != UMKA_KABI_OK) {
        return refused;
    }
    *value = self->device_.read(offset, width);
    return UMKA_KABI_OK;
}

int32_t HostPortIo::write(void* context, bus::PortRange range, uint16_t offset,
                          bus::AccessWidth width, uint32_t value) {
    auto* self = static_cast<HostPortIo*>(context);
    if (int32_t refused = self->check(range, offset, width); refused != UMKA_KABI_OK) {
        return refused;
    }
    unsigned bits = 8 * unsigned(width);
    if (bits < 32 && (value >> bits) != 0) {
        self->last_refusal_ = std::to_string(unsigned(width)) + "-byte write of value " +
                              std::to_string(value) + " (wider than the access)";
        return UMKA_KABI_EINVAL;
    }
    self->device_.write(offset, width, value);
    return UMKA_KABI_OK;
}

}  // namespace umka::harness
