/* Start-up code for secondary CPUs. Copied to physical 0x8000 (SIPI vector 0x08) by the
 * boot CPU, which fills in the parameter block at its end before each start-up IPI.
 * Real mode -> protected mode -> long mode on the static boot page tables, then a jump to
 * ap_entry64 in the higher half, which switches to the nucleus's tables. */

#define TRAMPOLINE_BASE 0x8000
#define AT(label) (TRAMPOLINE_BASE + ((label) - ap_trampoline_start))

    .section .ap_trampoline, "a"
    .code16
    .global ap_trampoline_start
ap_trampoline_start:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl AT(ap_gdt_pointer)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $AT(ap_protected_mode)

    .code32
ap_protected_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $(1 << 5), %eax              /* PAE */
    mov %eax, %cr4
    mov AT(ap_parameter_boot_table), %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or AT(ap_parameter_efer_bits), %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax            /* PG | WP | PE */
    mov %eax, %cr0
    ljmp $0x18, $AT(ap_long_mode)

    .code64
ap_long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    movabs AT(ap_parameter_entry), %rax
    jmp *%rax

    .align 16
ap_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF        /* 0x08: 32-bit code */
    .quad 0x00CF92000000FFFF        /* 0x10: data */
    .quad 0x00AF9A000000FFFF        /* 0x18: 64-bit code */
ap_gdt_end:
ap_gdt_pointer:
    .word ap_gdt_end - ap_gdt - 1
    .long AT(ap_gdt)

    .align 8
    .global ap_trampoline_parameters
ap_trampoline_parameters:
ap_parameter_boot_table:  .long 0   /* +0  physical boot PML4 (below 4 GiB) */
ap_parameter_efer_bits:   .long 0   /* +4  LME | NXE as the boot CPU has them */
ap_parameter_entry:       .quad 0   /* +8  ap_entry64 (virtual) */
ap_parameter_stack:       .quad 0   /* +16 stack top (virtual) */
ap_parameter_cpu:         .quad 0   /* +24 Cpu* */
ap_parameter_kernel_table:.quad 0   /* +32 the nucleus's root table (physical) */
    .global ap_trampoline_end
ap_trampoline_end:

    .section .text
    .code64
    .global ap_entry64
/* Still on the boot tables: read the parameters through the identity map, then switch. */
ap_entry64:
    mov AT(ap_parameter_stack), %rsp
    mov AT(ap_parameter_cpu), %rdi
    mov AT(ap_parameter_kernel_table), %rax
    mov %rax, %cr3
    xor %ebp, %ebp
    call arch_secondary_cpu_entry
1:  cli
    hlt
    jmp 1b
