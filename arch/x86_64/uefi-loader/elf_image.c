// Validating nucleus.elf and placing its PT_LOAD segments at their physical addresses.
//
// Segments are read from the file straight into their final pages: a whole-file
// buffer from the pool could land inside the nucleus's own physical range and make
// AllocateAddress fail for a reason that has nothing to do with the firmware. The file
// comes from a FAT volume anyone can write, so every offset and size is checked
// against the file length with overflow-safe arithmetic before it is used.
#include "loader.h"

#define ELF_CLASS_64 2
#define ELF_DATA_LITTLE_ENDIAN 1
#define ELF_VERSION_CURRENT 1
#define ELF_TYPE_EXECUTABLE 2
#define ELF_MACHINE_X86_64 62
#define ELF_SEGMENT_LOAD 1

_Static_assert(sizeof(ElfHeader) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(ElfProgramHeader) == 56, "ELF64 program header is 56 bytes");

static const CHAR16 nucleus_path[] = L"\\nucleus.elf";

// True when [offset, offset + length) fits in a file of `size` bytes.
static BOOLEAN range_in_file(uint64_t offset, uint64_t length, uint64_t size) {
    return offset <= size && length <= size - offset;
}

static EFI_STATUS validate_header(const ElfHeader* header, uint64_t file_size) {
    const uint8_t* identification = header->identification;
    if (identification[0] != 0x7f || identification[1] != 'E' || identification[2] != 'L' ||
        identification[3] != 'F') {
        Print(
            L"umka-uefi: error: nucleus.elf does not start with the ELF magic "
            L"(got %02x %02x %02x %02x, expected 7f 45 4c 46)\n",
            identification[0], identification[1], identification[2], identification[3]);
        return EFI_LOAD_ERROR;
    }
    if (identification[4] != ELF_CLASS_64) {
        Print(
            L"umka-uefi: error: nucleus.elf has ELF class %d, expected 2 (ELF64); "
            L"a 32-bit nucleus cannot be entered from 64-bit UEFI\n",
            identification[4]);
        return EFI_LOAD_ERROR;
    }
    if (identification[5] != ELF_DATA_LITTLE_ENDIAN) {
        Print(
            L"umka-uefi: error: nucleus.elf has ELF data encoding %d, expected 1 "
            L"(little-endian)\n",
            identification[5]);
        return EFI_LOAD_ERROR;
    }
    if (identification[6] != ELF_VERSION_CURRENT || header->version != ELF_VERSION_CURRENT) {
        Print(
            L"umka-uefi: error: nucleus.elf has ELF version %d (ident) / %d (e_version), "
            L"expected 1\n",
            identification[6], header->version);
        return EFI_LOAD_ERROR;
    }
    if (header->type != ELF_TYPE_EXECUTABLE) {
        Print(
            L"umka-uefi: error: nucleus.elf has e_type %d, expected 2 (ET_EXEC); the loader "
            L"does not relocate, so the nucleus must be linked at fixed addresses\n",
            header->type);
        return EFI_LOAD_ERROR;
    }
    if (header->machine != ELF_MACHINE_X86_64) {
        Print(L"umka-uefi: error: nucleus.elf has e_machine %d, expected 62 (x86-64)\n",
              header->machine);
        return EFI_LOAD_ERROR;
    }
    if (header->program_header_size != sizeof(ElfProgramHeader)) {
        Print(L"umka-uefi: error: nucleus.elf has e_phentsize %d, expected 56\n",
              header->program_header_size);
        return EFI_LOAD_ERROR;
    }
    if (header->program_header_count == 0) {
        Print(L"umka-uefi: error: nucleus.elf has no program headers (e_phnum is 0)\n");
        return EFI_LOAD_ERROR;
    }
    if (header->program_header_count > ELF_MAX_PROGRAM_HEADERS) {
        Print(
            L"umka-uefi: error: nucleus.elf has %d program headers; the loader holds at most "
            L"%d\n",
            header->program_header_count, ELF_MAX_PROGRAM_HEADERS);
        return EFI_LOAD_ERROR;
    }
    uint64_t table_size = (uint64_t)header->program_header_count * sizeof(ElfProgramHeader);
    if (!range_in_file(header->program_header_offset, table_size, file_size)) {
        Print(
            L"umka-uefi: error: nucleus.elf's program header table (e_phoff 0x%lx, %d "
            L"entries) runs past the end of the %ld-byte file\n",
            header->program_header_offset, header->program_header_count, file_size);
        return EFI_LOAD_ERROR;
    }
    return EFI_SUCCESS;
}

static EFI_STATUS validate_segments(const NucleusImage* image) {
    unsigned load_count = 0;
    uint64_t previous_end = 0;
    BOOLEAN entry_is_loaded = FALSE;
    for (unsigned index = 0; index < image->header.program_header_count; ++index) {
        const ElfProgramHeader* segment = &image->program_headers[index];
        if (segment->type != ELF_SEGMENT_LOAD || segment->memory_size == 0) continue;
        if (segment->file_size > segment->memory_size) {
            Print(
                L"umka-uefi: error: nucleus.elf program header %d: p_filesz 0x%lx exceeds "
                L"p_memsz 0x%lx\n",
                index, segment->file_size, segment->memory_size);
            return EFI_LOAD_ERROR;
        }
        if (!range_in_file(segment->offset, segment->file_size, image->file_size)) {
            Print(
                L"umka-uefi: error: nucleus.elf program header %d: file bytes "
                L"[0x%lx, +0x%lx) run past the end of the %ld-byte file\n",
                index, segment->offset, segment->file_size, image->file_size);
            return EFI_LOAD_ERROR;
        }
        uint64_t start = segment->physical_address;
        // The page-rounded end must also fit, since whole pages get allocated.
        if (start > UINT64_MAX - segment->memory_size ||
            start + segment->memory_size > UINT64_MAX - LOADER_PAGE_SIZE) {
            Print(
                L"umka-uefi: error: nucleus.elf program header %d: p_paddr 0x%lx + p_memsz "
                L"0x%lx overflows the physical address space\n",
                index, start, segment->memory_size);
            return EFI_LOAD_ERROR;
        }
        uint64_t end = start + segment->memory_size;
        // Ascending, disjoint segments let the loader allocate each page exactly once.
        if (load_count > 0 && start < previous_end) {
            Print(
                L"umka-uefi: error: nucleus.elf program header %d: physical range "
                L"[0x%lx, 0x%lx) overlaps or precedes the previous PT_LOAD ending at 0x%lx; "
                L"segments must be in ascending, disjoint p_paddr order\n",
                index, start, end, previous_end);
            return EFI_LOAD_ERROR;
        }
        if (image->header.entry >= start && image->header.entry < end) entry_is_loaded = TRUE;
        previous_end = end;
        ++load_count;
    }
    if (load_count == 0) {
        Print(L"umka-uefi: error: nucleus.elf has no non-empty PT_LOAD segment\n");
        return EFI_LOAD_ERROR;
    }
    if (!entry_is_loaded) {
        Print(
            L"umka-uefi: error: nucleus.elf's entry point e_entry 0x%lx is not inside any "
            L"PT_LOAD's physical range [p_paddr, p_paddr + p_memsz); the loader jumps to "
            L"e_entry with memory identity-mapped, so it must be a physical address\n",
            image->header.entry);
        return EFI_LOAD_ERROR;
    }
    return EFI_SUCCESS;
}

EFI_STATUS elf_read_headers(EFI_FILE_HANDLE file, uint64_t file_size, NucleusImage* image) {
    image->file_size = file_size;
    if (file_size < sizeof(ElfHeader)) {
        Print(
            L"umka-uefi: error: nucleus.elf is %ld bytes, too small for an ELF64 header "
            L"(64 bytes)\n",
            file_size);
        return EFI_LOAD_ERROR;
    }
    EFI_STATUS status = esp_read_at(file, nucleus_path, 0, &image->header, sizeof(ElfHeader));
    if (EFI_ERROR(status)) return status;
    status = validate_header(&image->header, file_size);
    if (EFI_ERROR(status)) return status;
    status =
        esp_read_at(file, nucleus_path, image->header.program_header_offset, image->program_headers,
                    (uint64_t)image->header.program_header_count * sizeof(ElfProgramHeader));
    if (EFI_ERROR(status)) return status;
    return validate_segments(image);
}

EFI_STATUS elf_load_segments(EFI_FILE_HANDLE file, const NucleusImage* image) {
    uint64_t allocated_end = 0;
    for (unsigned index = 0; index < image->header.program_header_count; ++index) {
        const ElfProgramHeader* segment = &image->program_headers[index];
        if (segment->type != ELF_SEGMENT_LOAD || segment->memory_size == 0) continue;

        uint64_t start = segment->physical_address;
        uint64_t end = start + segment->memory_size;
        uint64_t page_start = start & ~(LOADER_PAGE_SIZE - 1);
        uint64_t page_end = (end + LOADER_PAGE_SIZE - 1) & ~(LOADER_PAGE_SIZE - 1);
        // Two segments may share a page (.text's tail and .data's head); that page was
        // already allocated for the previous segment.
        if (page_start < allocated_end) page_start = allocated_end;
        if (page_start < page_end) {
            EFI_PHYSICAL_ADDRESS address = page_start;
            UINTN pages = (UINTN)((page_end - page_start) / LOADER_PAGE_SIZE);
            EFI_STATUS status = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress,
                                                  EfiLoaderData, pages, &address);
            if (EFI_ERROR(status)) {
                Print(
                    L"umka-uefi: error: cannot allocate physical [0x%lx, 0x%lx) for "
                    L"nucleus.elf program header %d: %r\n",
                    page_start, page_end, index, status);
                memory_map_report_owners(page_start, page_end);
                return status;
            }
            allocated_end = page_end;
        }

        uint8_t* destination = (uint8_t*)(UINTN)start;
        EFI_STATUS status =
            esp_read_at(file, nucleus_path, segment->offset, destination, segment->file_size);
        if (EFI_ERROR(status)) return status;
        ZeroMem(destination + segment->file_size, segment->memory_size - segment->file_size);
        Print(
            L"umka-uefi: nucleus segment %d at physical [0x%lx, 0x%lx), 0x%lx bytes from "
            L"file\n",
            index, start, end, segment->file_size);
    }
    return EFI_SUCCESS;
}
