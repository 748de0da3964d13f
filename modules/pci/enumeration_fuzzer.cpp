// libFuzzer over the enumeration: the input is the configuration space of up to eight
// functions (256 bytes each, then a byte of BAR-implemented masks per BAR), placed at
// buses 0..3 so that bridges (secondary bus bytes from the input) can chain and loop.
// Invariants: it terminates, writes at most its capacity, scans each bus at most once,
// and every BAR length it reports without a problem is a power of two.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "enumeration.h"
#include "pci_model.h"

using umka::pci::BarKind;
using umka::pci::BusRange;
using umka::pci::Enumeration;
using umka::pci::Function;
using umka::pci::Problem;
using umka::pci::testing::ModelFunction;
using umka::pci::testing::PciModel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr size_t kRecord = 256 + 6 + 1;
    PciModel model;
    for (size_t index = 0; index < 8 && size >= kRecord * (index + 1); ++index) {
        const uint8_t* record = data + kRecord * index;
        uint8_t place = record[256 + 6];
        ModelFunction& function =
            model.add(place & 3, (place >> 2) & 31, index % 8, 0x1AF4, 0x1042, 0, 0);
        std::memcpy(function.config, record, 256);
        for (int bar = 0; bar < 6; ++bar) {
            uint8_t shift = record[256 + bar] & 31;
            function.bar_writable[bar] = record[256 + bar] & 0x80 ? ~0u << shift : 0;
        }
    }
    constexpr uint32_t kCapacity = 8;
    Function functions[kCapacity];
    Enumeration result = umka::pci::enumerate(model, BusRange{}, functions, kCapacity);
    if (result.function_count > kCapacity || result.buses_scanned > 256) std::abort();
    for (uint32_t index = 0; index < result.function_count; ++index) {
        const Function& function = functions[index];
        if (function.problem != Problem::None) continue;
        for (const auto& bar : function.bars) {
            if (bar.kind == BarKind::Absent) continue;
            if (bar.length == 0 || (bar.length & (bar.length - 1)) != 0) std::abort();
        }
        if (function.virtio_count > umka::pci::kMaximumVirtioCapabilities) std::abort();
    }
    return 0;
}
