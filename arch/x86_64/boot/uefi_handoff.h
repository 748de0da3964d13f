// The contract between the gnu-efi loader (BOOTX64.EFI) and the nucleus.
//
// The loader loads nucleus.elf's PT_LOAD segments at their p_paddr, zeroes their bss
// tails, reads bundle.cpio into loader-allocated pages, gets the final memory map,
// calls ExitBootServices and jumps to the ELF entry point (e_entry, a physical address)
// in 64-bit mode with interrupts off and RDI = physical address of a UefiHandoff.
// Everything the handoff points to is below 4 GiB and stays untouched until the nucleus
// has copied it into BootInfo. The structure is plain C so the loader (C, gnu-efi) and
// the nucleus (C++) share this one header.
#ifndef UMKA_ARCH_X86_64_UEFI_HANDOFF_H
#define UMKA_ARCH_X86_64_UEFI_HANDOFF_H

#include <stdint.h>

#define UMKA_UEFI_HANDOFF_MAGIC 0x554d4b4155454649ull /* "UMKAUEFI" */
#define UMKA_UEFI_HANDOFF_VERSION 1u

struct UmkaUefiHandoff {
    uint64_t magic;    /* UMKA_UEFI_HANDOFF_MAGIC */
    uint32_t version;  /* UMKA_UEFI_HANDOFF_VERSION */
    uint32_t reserved0;

    /* The memory map exactly as GetMemoryMap returned it (EFI_MEMORY_DESCRIPTORs). */
    uint64_t memory_map_physical;
    uint64_t memory_map_size;      /* bytes */
    uint64_t descriptor_size;      /* stride between descriptors, >= 40 */
    uint32_t descriptor_version;
    uint32_t reserved1;

    uint64_t acpi_rsdp_physical;   /* ACPI 2.0 table if present, else 1.0; 0 if none */

    uint64_t bundle_physical;      /* 0 and size 0 when \bundle.cpio was absent */
    uint64_t bundle_size;

    char command_line[256];        /* from \cmdline.txt, NUL-terminated, may be empty */
};

/* EFI_MEMORY_DESCRIPTOR as the UEFI specification lays it out (version 1). */
struct UmkaEfiMemoryDescriptor {
    uint32_t type;
    uint32_t padding;
    uint64_t physical_start;
    uint64_t virtual_start;
    uint64_t number_of_pages;  /* 4 KiB pages */
    uint64_t attribute;
};

#endif
