#include "arch/x86_64/boot/uefi_boot_info.h"

#include <stddef.h>

namespace umka::arch {

// The loader is C compiled by another toolchain setup; pin the layout both sides read.
static_assert(sizeof(UmkaUefiHandoff) == 328);
static_assert(offsetof(UmkaUefiHandoff, memory_map_physical) == 16);
static_assert(offsetof(UmkaUefiHandoff, descriptor_size) == 32);
static_assert(offsetof(UmkaUefiHandoff, acpi_rsdp_physical) == 48);
static_assert(offsetof(UmkaUefiHandoff, bundle_size) == 64);
static_assert(offsetof(UmkaUefiHandoff, command_line) == 72);
static_assert(sizeof(UmkaEfiMemoryDescriptor) == kEfiMemoryDescriptorMinimumSize);

namespace {

Status reject(const char** reason, const char* why) {
    if (reason != nullptr) *reason = why;
    return Errno::InvalidArgument;
}

// The map comes from firmware through a pointer of unknown alignment; copying each
// descriptor out avoids misaligned loads and only reads the version-1 fields.
UmkaEfiMemoryDescriptor read_descriptor(const uint8_t* map, uint64_t offset) {
    UmkaEfiMemoryDescriptor descriptor;
    __builtin_memcpy(&descriptor, map + offset, sizeof(descriptor));
    return descriptor;
}

bool range_wraps(const UmkaEfiMemoryDescriptor& descriptor) {
    return descriptor.number_of_pages > (UINT64_MAX - descriptor.physical_start) / kEfiPageSize;
}

// Appends a range, extending the previous region instead when it ends exactly where
// this one starts and has the same kind.
void append_merged(BootInfo& out, uint64_t base, uint64_t length, MemoryRegionKind kind) {
    if (out.region_count > 0) {
        MemoryRegion& last = out.regions[out.region_count - 1];
        if (last.kind == kind && last.end() == base) {
            last.length += length;
            return;
        }
    }
    out.add_region(base, length, kind);
}

// UEFI does not promise a sorted map (OVMF's is); an out-of-order map is sorted and
// merged again so consumers can rely on ascending, maximally merged regions.
void sort_and_merge(BootInfo& out) {
    for (uint32_t index = 1; index < out.region_count; ++index) {
        MemoryRegion moving = out.regions[index];
        uint32_t position = index;
        while (position > 0 && out.regions[position - 1].base > moving.base) {
            out.regions[position] = out.regions[position - 1];
            --position;
        }
        out.regions[position] = moving;
    }
    uint32_t kept = 0;
    for (uint32_t index = 0; index < out.region_count; ++index) {
        const MemoryRegion& region = out.regions[index];
        if (kept > 0) {
            MemoryRegion& last = out.regions[kept - 1];
            if (last.kind == region.kind && last.end() == region.base) {
                last.length += region.length;
                continue;
            }
        }
        out.regions[kept++] = region;
    }
    out.region_count = kept;
}

}  // namespace

MemoryRegionKind uefi_memory_region_kind(uint32_t efi_memory_type) {
    switch (static_cast<EfiMemoryType>(efi_memory_type)) {
    case EfiMemoryType::ConventionalMemory:
    case EfiMemoryType::BootServicesCode:
    case EfiMemoryType::BootServicesData:
    case EfiMemoryType::LoaderCode:
    case EfiMemoryType::LoaderData:
        return MemoryRegionKind::Usable;
    case EfiMemoryType::AcpiReclaimMemory:
        return MemoryRegionKind::AcpiReclaimable;
    case EfiMemoryType::AcpiMemoryNvs:
        return MemoryRegionKind::AcpiNvs;
    case EfiMemoryType::UnusableMemory:
        return MemoryRegionKind::Bad;
    case EfiMemoryType::ReservedMemoryType:
    case EfiMemoryType::RuntimeServicesCode:
    case EfiMemoryType::RuntimeServicesData:
    case EfiMemoryType::MemoryMappedIo:
    case EfiMemoryType::MemoryMappedIoPortSpace:
    case EfiMemoryType::PalCode:
    case EfiMemoryType::PersistentMemory:
    case EfiMemoryType::UnacceptedMemory:
        return MemoryRegionKind::Reserved;
    }
    // OEM (0x70000000+) and OS-loader (0x80000000+) types, and types newer than this
    // code: touching them could corrupt something we do not understand.
    return MemoryRegionKind::Reserved;
}

Status boot_info_from_uefi(const UmkaUefiHandoff& handoff, const void* memory_map, BootInfo& out,
                           const char** reason) {
    if (handoff.magic != UMKA_UEFI_HANDOFF_MAGIC) {
        return reject(reason, "UEFI handoff magic is wrong (not written by BOOTX64.EFI?)");
    }
    if (handoff.version != UMKA_UEFI_HANDOFF_VERSION) {
        return reject(reason, "UEFI handoff version differs from the nucleus's");
    }
    const uint64_t stride = handoff.descriptor_size;
    if (stride < kEfiMemoryDescriptorMinimumSize) {
        return reject(reason, "UEFI memory descriptor size is below 40 bytes");
    }
    if (stride % 8 != 0) {
        return reject(reason, "UEFI memory descriptor size is not a multiple of 8");
    }
    if (handoff.memory_map_size == 0) return reject(reason, "UEFI memory map is empty");
    if (handoff.memory_map_size % stride != 0) {
        return reject(reason, "UEFI memory map size is not a multiple of the descriptor size");
    }
    if (memory_map == nullptr) return reject(reason, "UEFI memory map pointer is null");
    if (handoff.bundle_size != 0 && handoff.bundle_physical == 0) {
        return reject(reason, "UEFI handoff gives a bundle size but no bundle address");
    }
    if (handoff.bundle_physical > UINT64_MAX - handoff.bundle_size) {
        return reject(reason, "UEFI handoff bundle range wraps around the address space");
    }

    const auto* map = static_cast<const uint8_t*>(memory_map);
    // Checked before `out` is touched so a bad map leaves the caller's BootInfo intact.
    for (uint64_t offset = 0; offset < handoff.memory_map_size; offset += stride) {
        if (range_wraps(read_descriptor(map, offset))) {
            return reject(reason, "UEFI memory descriptor range wraps around the address space");
        }
    }

    out.region_count = 0;
    out.regions_dropped = 0;
    bool sorted = true;
    bool have_previous = false;
    uint64_t previous_base = 0;
    for (uint64_t offset = 0; offset < handoff.memory_map_size; offset += stride) {
        const UmkaEfiMemoryDescriptor descriptor = read_descriptor(map, offset);
        if (descriptor.number_of_pages == 0) continue;
        if (have_previous && descriptor.physical_start < previous_base) sorted = false;
        have_previous = true;
        previous_base = descriptor.physical_start;
        append_merged(out, descriptor.physical_start, descriptor.number_of_pages * kEfiPageSize,
                      uefi_memory_region_kind(descriptor.type));
    }
    if (!sorted) sort_and_merge(out);

    out.acpi_rsdp_physical = handoff.acpi_rsdp_physical;
    out.bundle_physical = handoff.bundle_physical;
    out.bundle_size = handoff.bundle_size;

    // The handoff's buffer is NUL-terminated by the loader, but the copy is bounded by
    // both buffers anyway: the nucleus must not trust that.
    constexpr size_t source_capacity = sizeof(handoff.command_line);
    constexpr size_t copy_limit = source_capacity < kBootCommandLineCapacity - 1
                                      ? source_capacity
                                      : kBootCommandLineCapacity - 1;
    size_t length = 0;
    while (length < copy_limit && handoff.command_line[length] != '\0') {
        out.command_line[length] = handoff.command_line[length];
        ++length;
    }
    out.command_line[length] = '\0';

    out.boot_protocol = "uefi";
    return Status::ok();
}

}  // namespace umka::arch
