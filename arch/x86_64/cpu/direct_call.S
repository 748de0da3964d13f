/* The guarded direct call's way in and out (arch/direct_call.h). Slot K of a guarded vtable
 * is umka_direct_entry_K: it puts K in eax and joins umka_direct_common, which keeps the six
 * argument registers and the caller's first six stack argument words in a DirectCallFrame
 * on its own stack and calls umka_direct_dispatch(frame); what that returns (rax) is the
 * method's result. umka_direct_invoke(function, frame) calls the provider's method with
 * the frame's words again. Both keep a frame-pointer frame, so the containment's frame walk
 * sees the chain, and the stack 16-byte aligned at every call. */
    .section .text
    .code64

    .macro DIRECT_ENTRY index
    .global umka_direct_entry_\index
    .type umka_direct_entry_\index, @function
umka_direct_entry_\index:
    movl $\index, %eax
    jmp umka_direct_common
    .size umka_direct_entry_\index, . - umka_direct_entry_\index
    .endm

    .macro DIRECT_ADDRESS index
    .quad umka_direct_entry_\index
    .endm

    /* %index evaluates the counter only under .altmacro. */
    .altmacro
    .set index, 0
    .rept 64
    DIRECT_ENTRY %index
    .set index, index + 1
    .endr
    .noaltmacro

/* Frame (112 bytes, 16-byte multiple): registers[6] at 0, stack[6] at 48, method at 96. */
    .global umka_direct_common
    .type umka_direct_common, @function
umka_direct_common:
    push %rbp
    mov %rsp, %rbp
    sub $112, %rsp
    mov %rdi, 0(%rsp)
    mov %rsi, 8(%rsp)
    mov %rdx, 16(%rsp)
    mov %rcx, 24(%rsp)
    mov %r8, 32(%rsp)
    mov %r9, 40(%rsp)
    /* The caller's stack arguments begin above our return address. A method with fewer
     * reads words of the caller's own frame here, never used. */
    .set word, 0
    .rept 6
    mov 16 + word * 8(%rbp), %r10
    mov %r10, 48 + word * 8(%rsp)
    .set word, word + 1
    .endr
    mov %rax, 96(%rsp)
    movq $0, 104(%rsp)
    mov %rsp, %rdi
    call umka_direct_dispatch
    leave
    ret
    .size umka_direct_common, . - umka_direct_common

    .global umka_direct_invoke
    .type umka_direct_invoke, @function
umka_direct_invoke:
    push %rbp
    mov %rsp, %rbp
    sub $48, %rsp
    mov %rdi, %r11
    mov %rsi, %r10
    .set word, 0
    .rept 6
    mov 48 + word * 8(%r10), %rax
    mov %rax, word * 8(%rsp)
    .set word, word + 1
    .endr
    mov 0(%r10), %rdi
    mov 8(%r10), %rsi
    mov 16(%r10), %rdx
    mov 24(%r10), %rcx
    mov 32(%r10), %r8
    mov 40(%r10), %r9
    call *%r11
    leave
    ret
    .size umka_direct_invoke, . - umka_direct_invoke

    /* Addresses: relocated at load time in a position-independent host test. */
#if defined(__PIC__)
    .section .data.rel.ro, "aw"
#else
    .section .rodata
#endif
    .balign 8
    .global umka_direct_entries
umka_direct_entries:
    .altmacro
    .set index, 0
    .rept 64
    DIRECT_ADDRESS %index
    .set index, index + 1
    .endr
    .noaltmacro
    .size umka_direct_entries, . - umka_direct_entries

    .section .note.GNU-stack, "", @progbits
