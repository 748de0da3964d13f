// The virtio PCI capability walk (umka/virtio/pci_capabilities.h) over configuration space
// laid out as QEMU's virtio-blk-pci (disable-legacy=on) has it, and over hostile copies.
#include "umka/virtio/pci_capabilities.h"

#include <gtest/gtest.h>

#include <cstring>

namespace umka::virtio {
namespace {

class CapabilityWalk : public ::testing::Test {
protected:
    // As QEMU lays it out: MSI-X, then vendor capabilities common, ISR, device, notify
    // (multiplier 4) and PCI-cfg, the structures all in 64-bit BAR 4.
    void SetUp() override {
        config_[0x06] = 0x10;
        config_[0x34] = 0xB8;
        add(0xB8, 0x11, 0x40, 12);  // MSI-X
        vendor(0x40, 0x58, 1, 4, 0x0000, 0x1000);
        vendor(0x58, 0x70, 3, 4, 0x1000, 0x1000);
        vendor(0x70, 0x88, 4, 4, 0x2000, 0x1000);
        vendor(0x88, 0xA0, 2, 4, 0x3000, 0x1000, 20);
        put32(0x88 + 16, 4);
        vendor(0xA0, 0x00, 5, 0, 0, 0, 20);
        bars_[4] = 0x4000;
    }
    void add(uint32_t at, uint8_t id, uint8_t next, uint8_t length) {
        config_[at] = id;
        config_[at + 1] = next;
        config_[at + 2] = length;
    }
    void vendor(uint32_t at, uint8_t next, uint8_t type, uint8_t bar, uint32_t offset,
                uint32_t length, uint8_t cap_length = 16) {
        add(at, 0x09, next, cap_length);
        config_[at + 3] = type;
        config_[at + 4] = bar;
        put32(at + 8, offset);
        put32(at + 12, length);
    }
    void put32(uint32_t at, uint32_t value) { std::memcpy(&config_[at], &value, 4); }
    CapabilityProblem walk() { return find_structures(config_, bars_, &found_); }

    uint8_t config_[kConfigBytes]{};
    uint64_t bars_[6]{};
    StructureLocations found_;
};

TEST_F(CapabilityWalk, FindsQemusStructures) {
    ASSERT_EQ(walk(), CapabilityProblem::None);
    EXPECT_EQ(found_.common.bar, 4);
    EXPECT_EQ(found_.common.offset, 0x0000u);
    EXPECT_EQ(found_.isr.offset, 0x1000u);
    EXPECT_EQ(found_.device.offset, 0x2000u);
    EXPECT_EQ(found_.notify.offset, 0x3000u);
    EXPECT_EQ(found_.notify.length, 0x1000u);
    EXPECT_EQ(found_.notify_multiplier, 4u);
}

TEST_F(CapabilityWalk, TheFirstCapabilityOfATypeWins) {
    // A second common structure later in the list (at 0xD0) is ignored.
    config_[0xA0 + 1] = 0xD0;
    vendor(0xD0, 0x00, 1, 4, 0x3800, 0x100);
    ASSERT_EQ(walk(), CapabilityProblem::None);
    EXPECT_EQ(found_.common.offset, 0x0000u);
}

TEST_F(CapabilityWalk, RefusesWhatADeviceCouldLieAbout) {
    uint8_t original[kConfigBytes];
    std::memcpy(original, config_, sizeof config_);
    auto expect = [&](CapabilityProblem problem, const char* what) {
        EXPECT_EQ(walk(), problem) << what;
        std::memcpy(config_, original, sizeof config_);
        bars_[4] = 0x4000;
    };
    config_[0x06] = 0;
    expect(CapabilityProblem::NoCapabilityList, "status bit 4 clear");
    config_[0xA0 + 1] = 0x40;
    expect(CapabilityProblem::ListTooLong, "a loop");
    config_[0x34] = 0x10;
    expect(CapabilityProblem::PointerOutside, "a pointer into the header");
    config_[0xA0 + 1] = 0xFC;
    config_[0xFC] = 0x09;
    expect(CapabilityProblem::CapabilityTooShort, "a vendor capability running past 256 bytes");
    config_[0x40 + 2] = 8;
    expect(CapabilityProblem::CapabilityTooShort, "cap_len 8");
    config_[0x88 + 2] = 16;
    expect(CapabilityProblem::CapabilityTooShort, "a notify capability without its multiplier");
    config_[0x40 + 4] = 7;
    expect(CapabilityProblem::BadBar, "BAR 7");
    bars_[4] = 0;
    EXPECT_EQ(walk(), CapabilityProblem::BadBar) << "an I/O or absent BAR";
    bars_[4] = 0x4000;
    put32(0x40 + 12, 0xFFFFFFFFu);
    expect(CapabilityProblem::OutsideBar, "length past the BAR");
    put32(0x40 + 8, 0xFFFFF000u);
    expect(CapabilityProblem::OutsideBar, "offset + length wrapping 32 bits");
    config_[0x70 + 3] = 9;
    expect(CapabilityProblem::Missing, "no device structure");
}

}  // namespace
}  // namespace umka::virtio
