// The MCFG table (PCI Firmware Specification 3.0, §4.1.2): where each PCI segment's
// memory-mapped configuration space (ECAM) lives. Firmware input: every entry is checked
// and a bad one refused (counted), never mapped.
#pragma once

#include <stdint.h>

#include "nucleus/acpi/acpi_tables.h"

namespace umka::acpi {

struct EcamRegion {
    uint64_t base = 0;  // the address of bus 0's configuration space, even if first_bus > 0
    uint16_t segment = 0;
    uint8_t first_bus = 0;
    uint8_t last_bus = 0;

    // 1 MiB per bus: 32 devices x 8 functions x 4 KiB.
    uint64_t bus_base(uint8_t bus) const { return base + (uint64_t(bus) << 20); }
    uint64_t length() const { return (uint64_t(last_bus) - first_bus + 1) << 20; }
};

inline constexpr uint32_t kMaximumEcamRegions = 8;

struct EcamRegions {
    EcamRegion regions[kMaximumEcamRegions]{};
    uint32_t count = 0;
    uint32_t refused = 0;  // entries that were malformed, overlapping or past the limit
};

// Reads the MCFG at summary.mcfg_physical (none: count 0, Ok). `*warning` names the first
// refused entry's problem (or stays null).
Status read_mcfg(const PhysicalView& memory, const Summary& summary, EcamRegions& regions,
                 const char** warning);

}  // namespace umka::acpi
