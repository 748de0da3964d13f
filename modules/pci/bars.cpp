// BAR sizing (PCI 3.0 §6.2.5.1): write all ones, read the mask back, restore. Decoding is
// turned off around it, so a half-written BAR never claims addresses on the bus.
#include "function_probe.h"

namespace umka::pci {
namespace {

constexpr uint32_t kBarIo = 1u << 0;
constexpr uint32_t kBarTypeShift = 1;
constexpr uint32_t kBarTypeMask = 3u;
constexpr uint32_t kBarType64 = 2u;
constexpr uint32_t kBarTypeReserved = 3u;
constexpr uint32_t kBarPrefetchable = 1u << 3;

uint32_t probe(ConfigAccess& access, Address address, uint16_t offset, uint32_t original) {
    access.write32(address, offset, 0xFFFFFFFFu);
    uint32_t mask = access.read32(address, offset);
    access.write32(address, offset, original);
    return mask;
}

bool is_power_of_two(uint64_t value) {
    return value != 0 && (value & (value - 1)) == 0;
}

}  // namespace

void size_bars(ConfigAccess& access, Function& function) {
    function.bar_count = function.header_layout == kHeaderGeneral  ? 6
                         : function.header_layout == kHeaderBridge ? 2
                                                                   : 0;
    if (function.bar_count == 0) return;
    const Address address = function.address;
    uint16_t command = access.read16(address, kCommand);
    // The status half is written as zeros: its bits are write-one-to-clear.
    access.write32(address, kCommand, command & ~uint32_t(kCommandIo | kCommandMemory));
    for (uint8_t index = 0; index < function.bar_count; ++index) {
        uint16_t offset = uint16_t(kFirstBar + 4 * index);
        uint32_t original = access.read32(address, offset);
        uint32_t mask = probe(access, address, offset, original);
        Bar& bar = function.bars[index];
        if (mask == 0 || mask == 0xFFFFFFFFu) continue;  // unimplemented (or gone)
        if ((original & kBarIo) != 0) {
            // I/O space is 16 bits on x86-64 hosts: unimplemented high bits read as zero.
            uint32_t implemented = (mask & 0xFFFF0000u) != 0 ? mask : (mask | 0xFFFF0000u);
            uint32_t size = ~(implemented & ~3u) + 1;
            bar = Bar{original & ~3u, size, BarKind::Io, false};
            if (!is_power_of_two(size))
                note_problem(function, Problem::BarMaskNotContiguous, index);
            continue;
        }
        uint32_t type = (original >> kBarTypeShift) & kBarTypeMask;
        bool prefetchable = (original & kBarPrefetchable) != 0;
        if (type == kBarTypeReserved) {
            note_problem(function, Problem::BarReservedType, index);
            continue;
        }
        if (type != kBarType64) {
            uint32_t size = ~(mask & ~0xFu) + 1;
            bar = Bar{original & ~0xFu, size, BarKind::Memory32, prefetchable};
            if (!is_power_of_two(size))
                note_problem(function, Problem::BarMaskNotContiguous, index);
            continue;
        }
        if (index + 1 >= function.bar_count) {
            note_problem(function, Problem::Bar64InLastSlot, index);
            continue;
        }
        uint32_t original_high = access.read32(address, uint16_t(offset + 4));
        uint32_t mask_high = probe(access, address, uint16_t(offset + 4), original_high);
        uint64_t mask64 = (uint64_t(mask_high) << 32) | (mask & ~0xFu);
        uint64_t size = ~mask64 + 1;
        bar = Bar{(uint64_t(original_high) << 32) | (original & ~0xFu), size, BarKind::Memory64,
                  prefetchable};
        if (!is_power_of_two(size)) note_problem(function, Problem::BarMaskNotContiguous, index);
        ++index;  // the high half is this BAR's; the slot stays Absent
    }
    access.write32(address, kCommand, command);
}

}  // namespace umka::pci
