// Enumeration of one PCI segment: every function reachable from the segment's first bus
// through PCI-to-PCI bridges, its identity, its BARs sized, and the capabilities a driver
// needs (MSI, MSI-X, the virtio vendor capabilities). Pure over ConfigAccess, so the
// bus driver module and the host tests (config-space models) run the same code.
//
// Config space is device-controlled input: every pointer and size read from it is checked
// (a capability list that loops or points into the header, a BAR whose mask is not a
// power of two, an MSI-X table or virtio structure outside its BAR), the problem recorded
// on the function, and the walk goes on. Every count has a limit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pci_config.h"

namespace umka::pci {

inline constexpr uint8_t kMaximumBars = 6;
inline constexpr uint8_t kMaximumVirtioCapabilities = 8;
// A capability list is at most (256 - 64) / 4 entries long; more means it loops.
inline constexpr uint32_t kMaximumCapabilities = 48;

enum class BarKind : uint8_t { Absent = 0, Memory32 = 1, Memory64 = 2, Io = 3 };

struct Bar {
    uint64_t base = 0;
    uint64_t length = 0;
    BarKind kind = BarKind::Absent;
    bool prefetchable = false;
};

struct Msi {
    uint8_t offset = 0;  // 0: the function has none
    uint8_t vectors = 0;
    bool address64 = false;
    bool per_vector_mask = false;
};

struct Msix {
    uint8_t offset = 0;  // 0: the function has none
    uint16_t table_size = 0;
    uint8_t table_bar = 0;
    uint32_t table_offset = 0;
    uint8_t pending_bar = 0;
    uint32_t pending_offset = 0;
};

// virtio 1.x §4.1.4: where one configuration structure lives.
enum class VirtioStructure : uint8_t {
    Common = 1,
    Notify = 2,
    Isr = 3,
    Device = 4,
    PciConfigAccess = 5,
};

struct VirtioCapability {
    uint8_t offset = 0;
    VirtioStructure structure = VirtioStructure::Common;
    uint8_t bar = 0;
    uint32_t bar_offset = 0;
    uint32_t length = 0;
    uint32_t notify_multiplier = 0;  // Notify only
};

// The first problem found on a function (more are counted, not kept).
enum class Problem : uint8_t {
    None = 0,
    CapabilityPointerInHeader,  // a pointer below 0x40
    CapabilityLoop,             // more than kMaximumCapabilities entries
    BarMaskNotContiguous,       // the size read back is not a power of two
    Bar64InLastSlot,            // a 64-bit BAR with no register left for its high half
    BarReservedType,            // memory BAR type 3
    MsixTableOutsideBar,        // table or pending bits past the end of their BAR
    VirtioCapabilityTooShort,   // cap_len below the 16 bytes of virtio_pci_cap
    VirtioStructureOutsideBar,  // offset + length past the end of its BAR
    TooManyVirtioCapabilities,
    CapabilityPastConfigEnd,  // a structure running past the 256 bytes of config space
};

const char* problem_name(Problem problem);

struct Function {
    Address address{};
    uint16_t vendor_id = 0;
    uint16_t device_id = 0;
    uint16_t subsystem_vendor_id = 0;
    uint16_t subsystem_id = 0;
    uint8_t class_code = 0;
    uint8_t subclass = 0;
    uint8_t prog_if = 0;
    uint8_t revision = 0;
    uint8_t header_layout = 0;  // kHeaderGeneral, kHeaderBridge, ...
    uint8_t interrupt_pin = 0;  // 0 none, 1..4 INTA..INTD
    uint8_t interrupt_line = 0;
    uint8_t secondary_bus = 0;  // bridges only
    Bar bars[kMaximumBars]{};
    uint8_t bar_count = 0;  // registers the header layout has (6, 2 or 0)
    Msi msi{};
    Msix msix{};
    VirtioCapability virtio[kMaximumVirtioCapabilities]{};
    uint8_t virtio_count = 0;
    Problem problem = Problem::None;
    uint8_t problem_detail = 0;  // the BAR index or capability offset it concerns
    uint8_t problem_count = 0;
};

struct BusRange {
    uint16_t segment = 0;
    uint8_t first_bus = 0;
    uint8_t last_bus = 255;
};

struct Enumeration {
    uint32_t function_count = 0;  // records written
    uint32_t dropped = 0;         // functions found past the caller's capacity
    uint32_t buses_scanned = 0;
    // Bridges whose secondary bus is outside the range or was already scanned (a loop or
    // a misconfigured bridge); their subtree is not walked twice.
    uint32_t bridges_refused = 0;
};

// Takes each function as the walk finds it, so a caller keeps only what it needs (the bus
// driver module writes its state's records; no array of Functions on its stack).
class FunctionSink {
public:
    // false: no room; the walk counts the function in `dropped` and goes on.
    virtual bool accept(const Function& function) = 0;

protected:
    ~FunctionSink() = default;
};

// Walks the segment from range.first_bus. Sizing a BAR writes it (decoding is off for the
// function meanwhile; the command register and every BAR are restored).
Enumeration enumerate(ConfigAccess& access, const BusRange& range, FunctionSink& sink);
// The same into functions[0, capacity).
Enumeration enumerate(ConfigAccess& access, const BusRange& range, Function* functions,
                      uint32_t capacity);

}  // namespace umka::pci
