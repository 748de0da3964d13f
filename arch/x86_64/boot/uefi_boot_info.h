// Turning the UEFI loader's handoff (arch/x86_64/boot/uefi_handoff.h) into BootInfo.
//
// Pure and freestanding: the caller maps the handoff and its memory map and passes
// pointers, so the same code runs in the nucleus and in host tests.
#pragma once

#include <stdint.h>

#include "arch/x86_64/boot/uefi_handoff.h"
#include "nucleus/boot/boot_info.h"
#include "nucleus/lib/status.h"

namespace umka::arch {

// EFI_MEMORY_TYPE values (UEFI 2.10, section 7.2) the conversion distinguishes.
enum class EfiMemoryType : uint32_t {
    ReservedMemoryType = 0,
    LoaderCode = 1,
    LoaderData = 2,
    BootServicesCode = 3,
    BootServicesData = 4,
    RuntimeServicesCode = 5,
    RuntimeServicesData = 6,
    ConventionalMemory = 7,
    UnusableMemory = 8,
    AcpiReclaimMemory = 9,
    AcpiMemoryNvs = 10,
    MemoryMappedIo = 11,
    MemoryMappedIoPortSpace = 12,
    PalCode = 13,
    PersistentMemory = 14,
    UnacceptedMemory = 15,
};

// The smallest EFI_MEMORY_DESCRIPTOR (version 1); firmware may use a larger stride.
inline constexpr uint64_t kEfiMemoryDescriptorMinimumSize = 40;
inline constexpr uint64_t kEfiPageSize = 4096;

// How the nucleus may treat memory of one EFI type once boot services have exited.
// Loader and boot-services memory is free then; runtime-services memory, MMIO and
// unknown or OEM types stay Reserved because firmware or devices may still use them.
MemoryRegionKind uefi_memory_region_kind(uint32_t efi_memory_type);

// Fills `out` from the handoff and the memory map it describes (`memory_map` is the
// map's bytes, memory_map_size long, as the caller mapped handoff.memory_map_physical).
// Descriptors are read at handoff.descriptor_size strides; adjacent ranges of the same
// resulting kind are merged and the regions come out sorted by base. A map longer than
// BootInfo's capacity is not an error: add_region counts the dropped entries.
//
// Returns InvalidArgument (EINVAL) for a handoff that cannot be trusted (wrong magic or version, a
// descriptor size below 40 or not a multiple of 8, a map size that is zero or not a
// multiple of the descriptor size, a descriptor whose range wraps around, a bundle size
// without an address); `*reason`, when given, then names the problem in one line
// (a static string). `out` is written only on success.
Status boot_info_from_uefi(const UmkaUefiHandoff& handoff, const void* memory_map, BootInfo& out,
                           const char** reason = nullptr);

}  // namespace umka::arch
