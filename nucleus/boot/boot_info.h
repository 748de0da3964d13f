// The arch-neutral description of the machine handed to the nucleus. Every boot path
// (Multiboot1, UEFI, later DTB) fills one of these inside arch/; nothing past arch/ knows
// which path booted.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka {

enum class MemoryRegionKind : uint32_t {
    Usable = 0,           // free RAM
    Reserved = 1,         // firmware, MMIO, anything we must not touch
    AcpiReclaimable = 2,  // ACPI tables; usable once parsed (we keep them)
    AcpiNvs = 3,          // firmware storage that survives sleep
    Bad = 4,              // defective RAM
    Nucleus = 5,          // the loaded nucleus image
    Bundle = 6,           // the boot bundle (module archive)
};

const char* memory_region_kind_name(MemoryRegionKind kind);

struct MemoryRegion {
    uint64_t base = 0;
    uint64_t length = 0;
    MemoryRegionKind kind = MemoryRegionKind::Reserved;

    uint64_t end() const { return base + length; }
};

// Capacity of the boot-time region table. Firmware maps on QEMU have 5-120 entries; a
// longer map is truncated with a message naming how many entries were dropped.
inline constexpr size_t kBootMemoryRegionCapacity = 256;
inline constexpr size_t kBootCommandLineCapacity = 256;

struct BootInfo {
    MemoryRegion regions[kBootMemoryRegionCapacity];
    uint32_t region_count = 0;
    uint32_t regions_dropped = 0;  // entries beyond capacity

    // Physical address of the ACPI RSDP; 0 when firmware gave none.
    uint64_t acpi_rsdp_physical = 0;

    // Physical location of the boot bundle; size 0 when none was loaded.
    uint64_t bundle_physical = 0;
    uint64_t bundle_size = 0;

    char command_line[kBootCommandLineCapacity] = {};

    // Name of the boot protocol, for the timeline only ("multiboot1", "uefi").
    const char* boot_protocol = "";

    // Appends a region; returns false (and counts it as dropped) when full.
    bool add_region(uint64_t base, uint64_t length, MemoryRegionKind kind) {
        if (length == 0) return true;
        if (region_count == kBootMemoryRegionCapacity) {
            ++regions_dropped;
            return false;
        }
        regions[region_count++] = MemoryRegion{base, length, kind};
        return true;
    }
};

}  // namespace umka
