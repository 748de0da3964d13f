#include "arch/x86_64/boot/multiboot_boot_info.h"

namespace umka::arch {
namespace {

MemoryRegionKind kind_from_multiboot_type(uint32_t type) {
    switch (type) {
    case 1:
        return MemoryRegionKind::Usable;
    case 3:
        return MemoryRegionKind::AcpiReclaimable;
    case 4:
        return MemoryRegionKind::AcpiNvs;
    case 5:
        return MemoryRegionKind::Bad;
    default:
        return MemoryRegionKind::Reserved;
    }
}

void copy_command_line(const PhysicalView& memory, uint64_t physical, BootInfo& out) {
    size_t length = 0;
    while (length + 1 < kBootCommandLineCapacity) {
        const char* character = memory.as<char>(physical + length, 1);
        if (character == nullptr || *character == '\0') break;
        out.command_line[length++] = *character;
    }
    out.command_line[length] = '\0';
}

bool rsdp_checksum_ok(const uint8_t* bytes) {
    uint8_t sum = 0;
    for (int index = 0; index < 20; ++index) sum = static_cast<uint8_t>(sum + bytes[index]);
    return sum == 0;
}

uint64_t scan_for_rsdp(const PhysicalView& memory, uint64_t start, uint64_t length) {
    for (uint64_t address = start; address + 20 <= start + length; address += 16) {
        const uint8_t* bytes = memory.as<uint8_t>(address, 20);
        if (bytes == nullptr) return 0;
        static constexpr char kSignature[8] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
        bool match = true;
        for (int index = 0; index < 8; ++index) match &= bytes[index] == uint8_t(kSignature[index]);
        if (match && rsdp_checksum_ok(bytes)) return address;
    }
    return 0;
}

}  // namespace

Status boot_info_from_multiboot(const PhysicalView& memory, uint64_t info_physical, BootInfo& out,
                                const char** reason) {
    out.boot_protocol = "multiboot1";
    const MultibootInfo* info = memory.as<MultibootInfo>(info_physical);
    if (info == nullptr) {
        *reason = "multiboot: information structure is not readable";
        return Errno::BadAddress;
    }
    if ((info->flags & kMultibootFlagMemoryMap) == 0 || info->mmap_length == 0) {
        // Without a map, fall back to the two sizes the loader must give: low memory below
        // 640 KiB and upper memory from 1 MiB. Anything else stays undescribed.
        if ((info->flags & kMultibootFlagMemory) == 0) {
            *reason = "multiboot: neither a memory map nor memory sizes were given";
            return Errno::NoData;
        }
        out.add_region(0, uint64_t(info->mem_lower) * 1024, MemoryRegionKind::Usable);
        out.add_region(0x100000, uint64_t(info->mem_upper) * 1024, MemoryRegionKind::Usable);
    } else {
        uint64_t offset = 0;
        while (offset + sizeof(MultibootMemoryMapEntry) <= info->mmap_length) {
            const MultibootMemoryMapEntry* entry =
                memory.as<MultibootMemoryMapEntry>(info->mmap_addr + offset);
            if (entry == nullptr) {
                *reason = "multiboot: memory map is not readable";
                return Errno::BadAddress;
            }
            if (entry->size < 20) {
                *reason = "multiboot: memory map entry shorter than 20 bytes";
                return Errno::InvalidArgument;
            }
            out.add_region(entry->base_addr, entry->length, kind_from_multiboot_type(entry->type));
            offset += uint64_t(entry->size) + 4;
        }
    }

    if ((info->flags & kMultibootFlagCommandLine) != 0 && info->cmdline != 0) {
        copy_command_line(memory, info->cmdline, out);
    }
    if ((info->flags & kMultibootFlagModules) != 0 && info->mods_count > 0) {
        const MultibootModule* module = memory.as<MultibootModule>(info->mods_addr);
        if (module == nullptr) {
            *reason = "multiboot: module list is not readable";
            return Errno::BadAddress;
        }
        if (module->mod_end < module->mod_start) {
            *reason = "multiboot: bundle module ends before it starts";
            return Errno::InvalidArgument;
        }
        out.bundle_physical = module->mod_start;
        out.bundle_size = module->mod_end - module->mod_start;
    }
    return Status::ok();
}

uint64_t find_rsdp_in_bios_area(const PhysicalView& memory) {
    // The EBDA segment is stored at 0x40E in the BIOS data area.
    const uint16_t* ebda_segment = memory.as<uint16_t>(0x40E);
    if (ebda_segment != nullptr && *ebda_segment != 0) {
        uint64_t found = scan_for_rsdp(memory, uint64_t(*ebda_segment) << 4, 1024);
        if (found != 0) return found;
    }
    return scan_for_rsdp(memory, 0xE0000, 0x20000);
}

}  // namespace umka::arch
