#include "ecam_config.h"

namespace umka::pci {

namespace bus = kabi::bus_access;

bool EcamConfigAccess::locate(Address address, uint16_t offset, uint64_t* at) const {
    if (address.segment != 0 || address.device >= kDevicesPerBus ||
        address.function >= kFunctionsPerDevice || offset > 0xFFC) {
        return false;
    }
    uint64_t position = uint64_t(address.bus) << 20 | uint64_t(address.device) << 15 |
                        uint64_t(address.function) << 12 | (offset & 0xFFCu);
    if (position + 4 > length_) return false;
    *at = position;
    return true;
}

void EcamConfigAccess::note(kabi::Status status) {
    if (status.is_error() && first_error_ == 0) first_error_ = status.code();
}

uint32_t EcamConfigAccess::read32(Address address, uint16_t offset) {
    uint64_t at = 0;
    if (!locate(address, offset, &at)) return 0xFFFFFFFFu;
    uint64_t value = 0xFFFFFFFFu;
    kabi::Status status = mmio_.read(window_, at, bus::AccessWidth::Dword, &value);
    note(status);
    return status.is_ok() ? uint32_t(value) : 0xFFFFFFFFu;
}

void EcamConfigAccess::write32(Address address, uint16_t offset, uint32_t value) {
    uint64_t at = 0;
    if (locate(address, offset, &at))
        note(mmio_.write(window_, at, bus::AccessWidth::Dword, value));
}

}  // namespace umka::pci
