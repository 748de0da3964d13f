/* Entry points of the nucleus and the page tables that get it to the higher half.
 *  multiboot_entry32: Multiboot1 (QEMU -kernel), 32-bit protected mode, EAX=magic, EBX=info.
 *  uefi_entry64:      the gnu-efi loader, 64-bit mode, RDI = UmkaUefiHandoff (physical).
 * Both load the static boot page tables (identity map of the low 4 GiB and the kernel
 * window at -2 GiB), load the boot GDT and jump to higher_half_entry, which calls
 * arch_boot_main(protocol, info) on the boot stack. */

#define MULTIBOOT_MAGIC 0x1BADB002
#define MULTIBOOT_FLAGS 0x00010003  /* page-align modules, memory info, address fields */
#define BOOT_PROTOCOL_MULTIBOOT 1
#define BOOT_PROTOCOL_UEFI 2
#define KERNEL_VMA 0xFFFFFFFF80000000

    .section .multiboot_header, "a"
    .align 4
multiboot_header:
    .long MULTIBOOT_MAGIC
    .long MULTIBOOT_FLAGS
    .long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)
    /* a.out kludge: QEMU refuses ELF64 without these; the image is a flat binary. */
    .long multiboot_header
    .long __nucleus_physical_start
    .long __nucleus_load_end_physical
    .long __nucleus_physical_end
    .long multiboot_entry32

    .section .boot.text, "ax"
    .code32
    .global multiboot_entry32
multiboot_entry32:
    cli
    cld
    mov %eax, %edi                  /* magic, checked by arch_boot_main */
    mov %ebx, %esi                  /* Multiboot information (physical) */

    mov %cr4, %eax
    or $(1 << 5), %eax              /* PAE */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3

    /* EFER: long mode, plus no-execute when the CPU has it. */
    mov %edi, %ebp
    mov $0x80000001, %eax
    cpuid
    mov $(1 << 8), %ebx             /* LME */
    test $(1 << 20), %edx
    jz 1f
    or $(1 << 11), %ebx             /* NXE */
1:  mov $0xC0000080, %ecx
    rdmsr
    or %ebx, %eax
    wrmsr
    mov %ebp, %edi

    mov %cr0, %eax
    and $0x9FFFFFFF, %eax           /* clear CD and NW: caches on, whatever the loader left */
    or $0x80010001, %eax            /* PG | WP | PE */
    mov %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $long_mode_from_multiboot

    .code64
long_mode_from_multiboot:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %edi, %edi                  /* upper halves are undefined after the switch */
    mov %esi, %esi
    mov %rsi, %rsi
    mov %rdi, %rdx                  /* magic */
    mov $BOOT_PROTOCOL_MULTIBOOT, %edi
    movabs $higher_half_entry, %rax
    jmp *%rax

    .global uefi_entry64
uefi_entry64:
    cli
    cld
    mov %rdi, %rsi                  /* handoff */
    xor %edx, %edx
    /* No-execute in EFER if supported (firmware may have set it already). */
    mov $0x80000001, %eax
    cpuid
    test $(1 << 20), %edx
    jz 1f
    mov $0xC0000080, %ecx
    rdmsr
    or $(1 << 11), %eax
    wrmsr
1:  mov %cr0, %rax
    and $0xFFFFFFFF9FFFFFFF, %rax   /* clear CD and NW */
    or $(1 << 16), %rax             /* WP */
    mov %rax, %cr0
    mov $boot_pml4, %eax
    mov %rax, %cr3
    lgdt boot_gdt_pointer
    pushq $0x08
    lea reload_cs(%rip), %rax
    pushq %rax
    lretq
reload_cs:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    xor %edx, %edx
    mov $BOOT_PROTOCOL_UEFI, %edi
    movabs $higher_half_entry, %rax
    jmp *%rax

    .section .boot.data, "aw"
    .align 16
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF        /* 0x10: data */
boot_gdt_end:
    .global boot_gdt_pointer
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    /* Static boot page tables: 2 MiB pages identity-mapping 0-4 GiB, and the kernel
     * window 0xFFFFFFFF80000000 -> physical 0-2 GiB. Replaced by the nucleus's own W^X
     * tables early in bring-up; APs pass through them when they start. */
    .align 4096
    .global boot_pml4
boot_pml4:
    .quad boot_pdpt_low + 0x3
    .fill 510, 8, 0
    .quad boot_pdpt_high + 0x3
boot_pdpt_low:
    .quad boot_pd + 0x0000 + 0x3
    .quad boot_pd + 0x1000 + 0x3
    .quad boot_pd + 0x2000 + 0x3
    .quad boot_pd + 0x3000 + 0x3
    .fill 508, 8, 0
boot_pdpt_high:
    .fill 510, 8, 0
    .quad boot_pd + 0x0000 + 0x3
    .quad boot_pd + 0x1000 + 0x3
boot_pd:
    .set boot_page, 0
    .rept 2048
    .quad boot_page + 0x83
    .set boot_page, boot_page + 0x200000
    .endr

    .section .text.entry, "ax"
    .code64
    /* edi = protocol, rsi = info pointer (physical), rdx = Multiboot magic */
higher_half_entry:
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp                  /* terminates the frame-pointer chain */
    call arch_boot_main
1:  cli
    hlt
    jmp 1b

    .section .bss
    /* Whole pages: they are mapped without the nucleus data's protection key
       (address_space.cpp), since the console task runs module code on this stack. */
    .align 4096
    .globl boot_stack, boot_stack_top   /* the scheduler scans the console task's stack */
boot_stack:
    .skip 65536
boot_stack_top:
