// The contract between the gnu-efi loader (BOOTX64.EFI) and the nucleus.
//
// The loader loads nucleus.elf's PT_LOAD segments at their p_paddr, zeroes their bss
// tails, reads bundle.cpio into loader-allocated pages, gets the final memory map,
// calls ExitBootServices and calls the ELF entry point (e_entry, a physical address)
// as `void entry(const struct UmkaUefiHandoff*)` under the System V ABI: RDI = physical
// address of the handoff, a return address pushed on a 16-byte-aligned stack, DF clear.
// Everything the handoff points to is below 4 GiB and stays untouched until the nucleus
// has copied it into BootInfo. The structure is plain C so the loader (C, gnu-efi) and
// the nucleus (C++) share this one header.
//
// CPU state at entry is what the firmware left: 64-bit long mode, interrupts off, the
// firmware's GDT and IDT, and firmware page tables identity-mapping RAM and MMIO (OVMF
// maps at least the low 4 GiB 1:1). RSP is on the loader's stack. The GDT, IDT, page
// tables and stack all live in EfiBootServices* memory, which the memory map lets the
// nucleus reuse: it must load its own before handing out any Usable frame.
//
// The nucleus image, the bundle, this handoff and the memory-map buffer are
// EfiLoaderData, i.e. Usable in BootInfo terms; the nucleus reserves the image and
// bundle ranges itself (it knows both) and drops the handoff once BootInfo is filled.
// docs/uefi-boot.md has the details.
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
