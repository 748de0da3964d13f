/* Interrupt and exception entry points. Each pushes (error code, vector) so every
 * trap reaches arch_trap_dispatch with the same TrapFrame layout (see traps.h). */

    .section .text
    .code64

.macro TRAP_ENTRY_WITHOUT_ERROR vector
trap_entry_\vector:
    pushq $0
    pushq $\vector
    jmp trap_common
.endm

.macro TRAP_ENTRY_WITH_ERROR vector
trap_entry_\vector:
    pushq $\vector
    jmp trap_common
.endm

/* Vectors that push an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
.irp vector, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
    TRAP_ENTRY_WITHOUT_ERROR \vector
.endr
.irp vector, 8,10,11,12,13,14,17,21,29,30
    TRAP_ENTRY_WITH_ERROR \vector
.endr
/* Device and inter-processor vectors the nucleus uses; 64-127 are modules' device
   interrupts (arch/interrupts.h: kFirstDeviceVector). */
.irp vector, 32,240,241,242,255
    TRAP_ENTRY_WITHOUT_ERROR \vector
.endr
.irp vector, 64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127
    TRAP_ENTRY_WITHOUT_ERROR \vector
.endr

trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    call arch_trap_dispatch
    /* Stack walks (stack_walk.cpp) recognise a trap frame by this return address. */
    .global arch_trap_return
arch_trap_return:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

    .section .rodata
    .align 8
    .global trap_entry_vectors
    .global trap_entry_addresses
    .global trap_entry_count
/* Parallel tables: which vector each entry point serves, and where it is. */
trap_entry_vectors:
.irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,240,241,242,255,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127
    .quad \vector
.endr
trap_entry_addresses:
.irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,240,241,242,255,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127
    .quad trap_entry_\vector
.endr
trap_entry_count:
    .quad 101
