// Memory-map helpers for diagnostics: when the nucleus's fixed physical range is taken,
// the error must say by what, or nobody can tell whether to move the nucleus or the
// firmware configuration.
#include "loader.h"

const CHAR16* memory_type_name(uint32_t type) {
    static const CHAR16* const names[] = {
        L"EfiReservedMemoryType",
        L"EfiLoaderCode",
        L"EfiLoaderData",
        L"EfiBootServicesCode",
        L"EfiBootServicesData",
        L"EfiRuntimeServicesCode",
        L"EfiRuntimeServicesData",
        L"EfiConventionalMemory",
        L"EfiUnusableMemory",
        L"EfiACPIReclaimMemory",
        L"EfiACPIMemoryNVS",
        L"EfiMemoryMappedIO",
        L"EfiMemoryMappedIOPortSpace",
        L"EfiPalCode",
        L"EfiPersistentMemory",
        L"EfiUnacceptedMemoryType",
    };
    if (type < sizeof(names) / sizeof(names[0])) return names[type];
    return L"(OEM/OS-defined or unknown type)";
}

void memory_map_report_owners(uint64_t start, uint64_t end) {
    UINTN map_size = 0;
    UINTN map_key = 0;
    UINTN descriptor_size = 0;
    UINT32 descriptor_version = 0;
    EFI_STATUS status = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, NULL, &map_key,
                                          &descriptor_size, &descriptor_version);
    if (status != EFI_BUFFER_TOO_SMALL) {
        Print(L"umka-uefi:   (cannot read the memory map to name the owner: %r)\n", status);
        return;
    }
    // The pool allocation below can itself add descriptors.
    map_size += 8 * descriptor_size;
    uint8_t* map = NULL;
    status = uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData, map_size, (void**)&map);
    if (EFI_ERROR(status)) {
        Print(L"umka-uefi:   (cannot allocate %ld bytes for the memory map: %r)\n",
              (uint64_t)map_size, status);
        return;
    }
    status = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, (EFI_MEMORY_DESCRIPTOR*)map,
                               &map_key, &descriptor_size, &descriptor_version);
    if (EFI_ERROR(status)) {
        Print(L"umka-uefi:   (cannot read the memory map to name the owner: %r)\n", status);
        uefi_call_wrapper(BS->FreePool, 1, map);
        return;
    }

    unsigned reported = 0;
    for (UINTN offset = 0; offset + descriptor_size <= map_size; offset += descriptor_size) {
        const EFI_MEMORY_DESCRIPTOR* descriptor = (const EFI_MEMORY_DESCRIPTOR*)(map + offset);
        uint64_t descriptor_start = descriptor->PhysicalStart;
        uint64_t descriptor_end = descriptor_start + descriptor->NumberOfPages * LOADER_PAGE_SIZE;
        if (descriptor_end <= start || descriptor_start >= end) continue;
        if (descriptor->Type == EfiConventionalMemory) continue;
        Print(L"umka-uefi:   [0x%lx, 0x%lx) is owned by %s\n", descriptor_start, descriptor_end,
              memory_type_name(descriptor->Type));
        ++reported;
    }
    if (reported == 0) {
        Print(
            L"umka-uefi:   no firmware memory-map entry covers [0x%lx, 0x%lx) as anything but "
            L"free RAM; the range may lie outside installed memory\n",
            start, end);
    }
    uefi_call_wrapper(BS->FreePool, 1, map);
}
