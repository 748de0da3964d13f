// Configuration mechanism #1 in front of a PciModel, as a harness::PortDevice for the bus
// driver's host tests: the 8-port window at 0xCF8 (offset 0 CONFIG_ADDRESS, a dword;
// offsets 4-7 CONFIG_DATA, any width within the selected dword).
#pragma once

#include <string>

#include "host_port_io.h"
#include "pci_model.h"

namespace umka::pci::testing {

class ConfigPortsModel final : public harness::PortDevice {
public:
    static constexpr uint16_t kWindow = 8;

    explicit ConfigPortsModel(PciModel& model) : model_(model) {}

    std::string refuse_width(kabi::bus_access::AccessWidth) const override { return {}; }

    uint32_t read(uint16_t offset, kabi::bus_access::AccessWidth width) override {
        if (offset < 4) return offset == 0 ? address_ : 0xFFFFFFFFu;
        Address address;
        if (!selected(address)) return 0xFFFFFFFFu;
        uint32_t dword = model_.read32(address, register_offset());
        return (dword >> (8 * (offset - 4))) & mask(width);
    }

    void write(uint16_t offset, kabi::bus_access::AccessWidth width, uint32_t value) override {
        if (offset == 0 && width == kabi::bus_access::AccessWidth::Dword) {
            address_ = value;
            return;
        }
        Address address;
        if (offset < 4 || !selected(address)) return;
        uint32_t shift = 8 * (offset - 4);
        uint32_t dword = model_.read32(address, register_offset());
        dword = (dword & ~(mask(width) << shift)) | ((value & mask(width)) << shift);
        model_.write32(address, register_offset(), dword);
        ++data_writes_;
    }

    uint64_t data_writes() const { return data_writes_; }

private:
    static uint32_t mask(kabi::bus_access::AccessWidth width) {
        unsigned bytes = unsigned(width);
        return bytes >= 4 ? 0xFFFFFFFFu : (1u << (8 * bytes)) - 1;
    }
    bool selected(Address& address) const {
        if ((address_ & (1u << 31)) == 0) return false;
        address = Address{0, uint8_t(address_ >> 16), uint8_t((address_ >> 11) & 31),
                          uint8_t((address_ >> 8) & 7)};
        return true;
    }
    uint16_t register_offset() const { return uint16_t(address_ & 0xFC); }

    PciModel& model_;
    uint32_t address_ = 0;
    uint64_t data_writes_ = 0;
};

}  // namespace umka::pci::testing
