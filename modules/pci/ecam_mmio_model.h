// bus_access.Mmio for the bus driver's host tests, published as the nucleus's: window 0 is
// an ECAM region over a PciModel (bus << 20 | device << 15 | function << 12 | register),
// when the test grants it; otherwise map answers ENODEV, as the nucleus does on a machine
// without an MCFG. Handles are checked like the nucleus's: only the mapped window, inside
// its length, at the access's natural alignment.
#pragma once

#include <stdint.h>

#include "module_harness.h"
#include "pci_model.h"
#include "umka/kabi/bus_access.hpp"

namespace umka::pci::testing {

class EcamMmioModel {
public:
    static constexpr uint64_t kWindowHandle = 0xEC0000001ull;
    static constexpr uint64_t kLength = 256ull << 20;

    explicit EcamMmioModel(PciModel& model) : model_(model) {
        vtable_.vtable_size = sizeof(vtable_);
        vtable_.version = 1;
        vtable_.map = &map;
        vtable_.read = &read;
        vtable_.write = &write;
        vtable_.unmap = &unmap;
    }
    Status publish(harness::ModuleHarness& harness) {
        return harness.provide("bus_access", "Mmio", &vtable_, this);
    }
    void grant(bool granted) { granted_ = granted; }
    uint64_t accesses() const { return accesses_; }

private:
    static int32_t map(void* context, uint8_t index, kabi::bus_access::MmioWindow* window,
                       uint64_t* length) {
        auto* self = static_cast<EcamMmioModel*>(context);
        if (!self->granted_ || index != 0) return UMKA_KABI_ENODEV;
        *window = kabi::bus_access::MmioWindow{kWindowHandle};
        *length = kLength;
        return UMKA_KABI_OK;
    }
    static int32_t check(kabi::bus_access::MmioWindow window, uint64_t offset,
                         kabi::bus_access::AccessWidth width) {
        uint64_t bytes = uint64_t(width);
        if (window.value != kWindowHandle) return UMKA_KABI_EINVAL;
        if (bytes != 4 || offset % bytes != 0) return UMKA_KABI_EINVAL;  // the driver uses dwords
        if (offset + bytes > kLength) return UMKA_KABI_ERANGE;
        return UMKA_KABI_OK;
    }
    static Address address_of(uint64_t offset) {
        return Address{0, uint8_t(offset >> 20), uint8_t((offset >> 15) & 31),
                       uint8_t((offset >> 12) & 7)};
    }
    static int32_t read(void* context, kabi::bus_access::MmioWindow window, uint64_t offset,
                        kabi::bus_access::AccessWidth width, uint64_t* value) {
        auto* self = static_cast<EcamMmioModel*>(context);
        if (int32_t refused = check(window, offset, width); refused != UMKA_KABI_OK) return refused;
        ++self->accesses_;
        // Registers past the 256-byte header read as zero (no extended capabilities).
        *value = (offset & 0xFFF) < 256
                     ? self->model_.read32(address_of(offset), uint16_t(offset & 0xFF))
                     : 0;
        return UMKA_KABI_OK;
    }
    static int32_t write(void* context, kabi::bus_access::MmioWindow window, uint64_t offset,
                         kabi::bus_access::AccessWidth width, uint64_t value) {
        auto* self = static_cast<EcamMmioModel*>(context);
        if (int32_t refused = check(window, offset, width); refused != UMKA_KABI_OK) return refused;
        ++self->accesses_;
        if ((offset & 0xFFF) < 256) {
            self->model_.write32(address_of(offset), uint16_t(offset & 0xFF), uint32_t(value));
        }
        return UMKA_KABI_OK;
    }
    static int32_t unmap(void*, kabi::bus_access::MmioWindow window) {
        return window.value == kWindowHandle ? UMKA_KABI_OK : UMKA_KABI_EINVAL;
    }

    PciModel& model_;
    kabi::bus_access::MmioVtable vtable_{};
    bool granted_ = false;
    uint64_t accesses_ = 0;
};

}  // namespace umka::pci::testing
