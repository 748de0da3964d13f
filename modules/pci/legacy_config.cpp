#include "legacy_config.h"

namespace umka::pci {
namespace {

namespace bus = kabi::bus_access;

constexpr uint16_t kConfigAddress = 0;  // offsets in the granted window (0xCF8 + 8)
constexpr uint16_t kConfigData = 4;
constexpr uint32_t kEnable = 1u << 31;
constexpr uint32_t kAllOnes = 0xFFFFFFFFu;

}  // namespace

void LegacyConfigAccess::acquire() {
    while (__atomic_exchange_n(&lock_, 1u, __ATOMIC_ACQUIRE) != 0) __builtin_ia32_pause();
}

void LegacyConfigAccess::release() {
    __atomic_store_n(&lock_, 0u, __ATOMIC_RELEASE);
}

void LegacyConfigAccess::note(kabi::Status status) {
    if (status.is_error() && first_error_ == 0) first_error_ = status.code();
}

bool LegacyConfigAccess::select(Address address, uint16_t offset) {
    // The mechanism addresses segment 0 only, and 256 bytes per function.
    if (address.segment != 0 || offset > 0xFC || address.device >= kDevicesPerBus ||
        address.function >= kFunctionsPerDevice) {
        return false;
    }
    uint32_t selector = kEnable | uint32_t(address.bus) << 16 | uint32_t(address.device) << 11 |
                        uint32_t(address.function) << 8 | (offset & 0xFCu);
    kabi::Status status = port_io_.write(range_, kConfigAddress, bus::AccessWidth::Dword, selector);
    note(status);
    return status.is_ok();
}

uint32_t LegacyConfigAccess::read32(Address address, uint16_t offset) {
    acquire();
    uint32_t value = kAllOnes;
    if (select(address, offset)) {
        kabi::Status status = port_io_.read(range_, kConfigData, bus::AccessWidth::Dword, &value);
        note(status);
        if (status.is_error()) value = kAllOnes;
    }
    release();
    return value;
}

void LegacyConfigAccess::write32(Address address, uint16_t offset, uint32_t value) {
    acquire();
    if (select(address, offset)) {
        note(port_io_.write(range_, kConfigData, bus::AccessWidth::Dword, value));
    }
    release();
}

}  // namespace umka::pci
