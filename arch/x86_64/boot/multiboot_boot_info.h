// Multiboot1 (the protocol QEMU's -kernel speaks) to BootInfo. Pure: reads firmware
// structures through a PhysicalView so host tests can feed captured bytes.
#pragma once

#include <stdint.h>

#include "nucleus/boot/boot_info.h"
#include "nucleus/boot/physical_view.h"
#include "nucleus/lib/status.h"

namespace umka::arch {

inline constexpr uint32_t kMultibootBootloaderMagic = 0x2BADB002;

// Layout from the Multiboot 0.6.96 specification, section 3.3.
struct [[gnu::packed]] MultibootInfo {
    uint32_t flags;
    uint32_t mem_lower;
    uint32_t mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
};

struct [[gnu::packed]] MultibootMemoryMapEntry {
    uint32_t size;  // of the rest of the entry; the next one starts size + 4 bytes on
    uint64_t base_addr;
    uint64_t length;
    uint32_t type;
};

struct [[gnu::packed]] MultibootModule {
    uint32_t mod_start;
    uint32_t mod_end;
    uint32_t string;
    uint32_t reserved;
};

inline constexpr uint32_t kMultibootFlagMemory = 1u << 0;
inline constexpr uint32_t kMultibootFlagCommandLine = 1u << 2;
inline constexpr uint32_t kMultibootFlagModules = 1u << 3;
inline constexpr uint32_t kMultibootFlagMemoryMap = 1u << 6;

// Fills `out` from the Multiboot information at `info_physical`. The first module, if
// any, is the bundle. The RSDP is not part of Multiboot1; the caller finds it separately.
// On error `*reason` names the problem.
Status boot_info_from_multiboot(const PhysicalView& memory, uint64_t info_physical, BootInfo& out,
                                const char** reason);

// Scans the BIOS areas (first KiB of the EBDA, then 0xE0000-0xFFFFF) for the ACPI RSDP
// signature with a valid checksum. Returns its physical address or 0.
uint64_t find_rsdp_in_bios_area(const PhysicalView& memory);

}  // namespace umka::arch
