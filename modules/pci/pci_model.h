// A configuration-space model for the host tests and the fuzzer: functions with 256-byte
// headers, BARs that answer the sizing protocol (writable bits per a mask, the flag bits
// read-only), a command register that can be written, everything else read-only. An
// absent function reads as all ones. It also records a BAR write made while the
// function still decoded memory or I/O (sizing must turn decoding off first).
#pragma once

#include <cstring>
#include <map>
#include <tuple>

#include "pci_config.h"

namespace umka::pci::testing {

struct ModelFunction {
    uint8_t config[256] = {};
    uint32_t bar_writable[6] = {};  // the address bits a BAR implements (0: unimplemented)

    void put8(uint16_t offset, uint8_t value) { config[offset] = value; }
    void put16(uint16_t offset, uint16_t value) { std::memcpy(&config[offset], &value, 2); }
    void put32(uint16_t offset, uint32_t value) { std::memcpy(&config[offset], &value, 4); }
    uint32_t get32(uint16_t offset) const {
        uint32_t value;
        std::memcpy(&value, &config[offset], 4);
        return value;
    }
};

class PciModel final : public ConfigAccess {
public:
    ModelFunction& add(uint8_t bus, uint8_t device, uint8_t function, uint16_t vendor,
                       uint16_t device_id, uint8_t class_code, uint8_t subclass,
                       uint8_t header_type = 0) {
        ModelFunction& model = functions_[key(Address{0, bus, device, function})];
        model.put16(0x00, vendor);
        model.put16(0x02, device_id);
        model.put8(0x0A, subclass);
        model.put8(0x0B, class_code);
        model.put8(0x0E, header_type);
        return model;
    }

    // A memory BAR of `size` bytes at `base` (64-bit BARs take two slots).
    static void memory_bar(ModelFunction& function, uint8_t index, uint64_t base, uint64_t size,
                           bool bits64, bool prefetchable) {
        uint32_t flags = (bits64 ? 4u : 0u) | (prefetchable ? 8u : 0u);
        function.put32(uint16_t(0x10 + 4 * index), uint32_t(base) | flags);
        function.bar_writable[index] = uint32_t(~(size - 1)) & ~0xFu;
        if (bits64 && index + 1 < 6) {  // a 64-bit BAR in slot 5 has no high half (a bad device)
            function.put32(uint16_t(0x14 + 4 * index), uint32_t(base >> 32));
            function.bar_writable[index + 1] = uint32_t(~(size - 1) >> 32);
        }
    }
    static void io_bar(ModelFunction& function, uint8_t index, uint16_t base, uint16_t size) {
        function.put32(uint16_t(0x10 + 4 * index), uint32_t(base) | 1u);
        function.bar_writable[index] = uint32_t(uint16_t(~(size - 1))) & ~3u;
    }
    // Appends a capability at `offset` (the list is kept in the order of calls).
    static void capability(ModelFunction& function, uint8_t offset, uint8_t id, const uint8_t* body,
                           size_t body_length) {
        function.put16(0x06, uint16_t(function.config[0x06] | (1u << 4)));
        uint8_t* link = &function.config[0x34];
        while (*link != 0) link = &function.config[*link + 1];
        *link = offset;
        function.config[offset] = id;
        function.config[offset + 1] = 0;
        std::memcpy(&function.config[offset + 2], body, body_length);
    }

    uint32_t read32(Address address, uint16_t offset) override {
        auto found = functions_.find(key(address));
        if (found == functions_.end()) return 0xFFFFFFFFu;
        ++reads_;
        return found->second.get32(offset);
    }

    void write32(Address address, uint16_t offset, uint32_t value) override {
        auto found = functions_.find(key(address));
        if (found == functions_.end()) return;
        ModelFunction& function = found->second;
        if (offset == 0x04) {
            function.put16(0x04, uint16_t(value));
            return;
        }
        // An MSI capability (64-bit, as QEMU's edu has it): Message Control's enable (0) and
        // Multiple Message Enable (6:4) are writable; address, upper address and data are.
        // (bounded: tests build looping lists on purpose)
        uint16_t at = function.config[0x34];
        for (uint32_t hops = 0; hops < 48 && at >= 0x40 && at < 0xF0;
             ++hops, at = function.config[at + 1]) {
            if (function.config[at] != 0x05 || offset < at || offset >= at + 16) continue;
            if (offset == at) {
                uint16_t control = uint16_t(function.get32(offset) >> 16);
                function.put16(uint16_t(offset + 2),
                               uint16_t((control & ~0x0071u) | ((value >> 16) & 0x0071u)));
            } else {
                function.put32(offset, value);
            }
            return;
        }
        // Message Control of an MSI-X capability: enable (15) and function mask (14) are
        // writable, the table size is not.
        if (offset >= 0x40 && offset < 0x100 && function.config[offset] == 0x11) {
            uint16_t control = uint16_t(function.get32(offset) >> 16);
            function.put16(uint16_t(offset + 2),
                           uint16_t((control & 0x3FFFu) | ((value >> 16) & 0xC000u)));
            return;
        }
        uint8_t layout = function.config[0x0E] & 0x7F;
        int bars = layout == 0 ? 6 : layout == 1 ? 2 : 0;
        if (offset >= 0x10 && offset < 0x10 + 4 * bars) {
            int index = (offset - 0x10) / 4;
            if ((function.config[0x04] & 3u) != 0) ++bar_writes_while_decoding_;
            uint32_t writable = function.bar_writable[index];
            uint32_t current = function.get32(offset);
            function.put32(offset, (current & ~writable) | (value & writable));
        }
    }

    ModelFunction& at(uint8_t bus, uint8_t device, uint8_t function) {
        return functions_.at(key(Address{0, bus, device, function}));
    }
    int bar_writes_while_decoding() const { return bar_writes_while_decoding_; }
    uint64_t reads() const { return reads_; }

private:
    static std::tuple<uint16_t, uint8_t, uint8_t, uint8_t> key(Address address) {
        return {address.segment, address.bus, address.device, address.function};
    }
    std::map<std::tuple<uint16_t, uint8_t, uint8_t, uint8_t>, ModelFunction> functions_;
    int bar_writes_while_decoding_ = 0;
    uint64_t reads_ = 0;
};

}  // namespace umka::pci::testing
