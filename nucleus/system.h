// What bring-up discovered about the machine, for the console and later services.
// Written once during bring-up on the boot CPU; read-only afterwards.
#pragma once

#include <arch/interrupts.h>
#include <stdint.h>

#include "nucleus/acpi/acpi_tables.h"
#include "nucleus/acpi/mcfg.h"
#include "nucleus/boot/boot_info.h"
#include "nucleus/boot/memory_map.h"

namespace umka {

struct SystemDescription {
    const char* boot_protocol = "";
    MemoryMap memory_map;
    uint64_t reserved_frames_at_boot = 0;  // frames in RAM regions the allocator does not own
    acpi::Summary acpi;
    acpi::EcamRegions ecam;  // PCI configuration space (from the MCFG; none on `pc`)
    uint64_t acpi_rsdp = 0;
    arch::ClockCalibration clocks{};
    uint64_t bundle_physical = 0;
    uint64_t bundle_size = 0;
    uint32_t bundle_entries = 0;
    char command_line[kBootCommandLineCapacity] = {};
};

const SystemDescription& system_description();

// The bring-up sequence, entered from arch once BootInfo is filled in.
[[noreturn]] void nucleus_main(const BootInfo& boot_info);

// Optional hook for test builds: runs after bring-up, before the console starts. The
// regular nucleus links an empty one (nucleus/boot/test_hook_default.cpp).
void boot_test_hook();

}  // namespace umka
