// Shared declarations of the UmkaOS UEFI loader (BOOTX64.EFI, gnu-efi, C).
//
// Every message starts with "umka-uefi: " so test logs can tell loader output apart
// from firmware and nucleus output on the shared serial line. Messages end in a bare
// "\n": gnu-efi's Print already expands it to CR LF for the console.
#ifndef UMKA_UEFI_LOADER_H
#define UMKA_UEFI_LOADER_H

#include <efi.h>
#include <efilib.h>
#include <stdint.h>

#include "arch/x86_64/boot/uefi_handoff.h"

#define LOADER_PAGE_SIZE 4096ull
#define LOADER_BELOW_4GIB 0xffffffffull

// Pages needed to hold `bytes`, rounding up.
static inline UINTN loader_pages_for(uint64_t bytes) {
    return (UINTN)((bytes + LOADER_PAGE_SIZE - 1) / LOADER_PAGE_SIZE);
}

// ---- esp_file.c: files on the volume BOOTX64.EFI was loaded from ----

// Opens the root directory of the volume this image was loaded from.
EFI_STATUS esp_open_root(EFI_HANDLE image, EFI_FILE_HANDLE* root);

// Opens `path` (e.g. L"\\nucleus.elf") read-only and reports its size. Returns
// EFI_NOT_FOUND without printing when the file is absent so callers decide whether
// that is fatal; any other failure is printed here.
EFI_STATUS esp_open_file(EFI_FILE_HANDLE root, const CHAR16* path, EFI_FILE_HANDLE* file,
                         uint64_t* size);

// Reads exactly `size` bytes starting at byte `offset` of `file` into `buffer`; `path`
// only names the file in error messages.
EFI_STATUS esp_read_at(EFI_FILE_HANDLE file, const CHAR16* path, uint64_t offset, void* buffer,
                       uint64_t size);

// ---- elf_image.c: validating and placing nucleus.elf ----

// ELF64 structures as the System V gABI defines them; gnu-efi ships no <elf.h> and the
// host's would pull in glibc headers.
typedef struct {
    uint8_t identification[16];
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t program_header_offset;
    uint64_t section_header_offset;
    uint32_t flags;
    uint16_t header_size;
    uint16_t program_header_size;
    uint16_t program_header_count;
    uint16_t section_header_size;
    uint16_t section_header_count;
    uint16_t section_name_index;
} ElfHeader;

typedef struct {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t virtual_address;
    uint64_t physical_address;
    uint64_t file_size;
    uint64_t memory_size;
    uint64_t alignment;
} ElfProgramHeader;

// Enough for any sane kernel (ours has a handful); a fixed table lives in the loader
// image instead of pool memory that could overlap the nucleus's physical range.
#define ELF_MAX_PROGRAM_HEADERS 64

typedef struct {
    ElfHeader header;
    ElfProgramHeader program_headers[ELF_MAX_PROGRAM_HEADERS];
    uint64_t file_size;
} NucleusImage;

// Reads nucleus.elf's ELF and program headers and checks that it is an x86-64 ELF64
// ET_EXEC whose headers and PT_LOAD segments lie inside the file, whose segments are
// ascending and disjoint, and whose entry point is inside a loaded segment. Prints
// what is wrong and returns EFI_LOAD_ERROR on the first problem.
EFI_STATUS elf_read_headers(EFI_FILE_HANDLE file, uint64_t file_size, NucleusImage* image);

// Allocates every PT_LOAD's physical pages (EfiLoaderData at p_paddr), reads its file
// bytes into them and zeroes its tail. Must follow a successful elf_read_headers.
EFI_STATUS elf_load_segments(EFI_FILE_HANDLE file, const NucleusImage* image);

// ---- memory_map.c: memory map helpers ----

// Name of an EFI_MEMORY_TYPE for messages ("EfiBootServicesData", ...).
const CHAR16* memory_type_name(uint32_t type);

// Prints every memory-map descriptor that overlaps [start, end) and is not free RAM,
// to explain why AllocatePages(AllocateAddress) failed there.
void memory_map_report_owners(uint64_t start, uint64_t end);

// ---- serial.c: COM1 output once boot services are gone ----

// Writes ASCII text to COM1 (port 0x3f8), which OVMF has already initialised. Used
// only after ExitBootServices, when ConOut may no longer be called.
void serial_write(const char* text);
void serial_write_hex(uint64_t value);
void serial_write_decimal(uint64_t value);

#endif
