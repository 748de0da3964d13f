/* arch_guarded_call(context, function, argument): see arch/recovery.h. The context keeps
 * rbx, rbp, r12-r15, the return address, the stack pointer after return, and rflags;
 * resume_from_fault (recovery.cpp) loads them into a trap frame so that the iretq of the
 * trap returns from this function with rax = 1. */
    .section .text
    .code64
    .global arch_guarded_call
    .type arch_guarded_call, @function
arch_guarded_call:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    mov (%rsp), %rax
    mov %rax, 48(%rdi)
    lea 8(%rsp), %rax
    mov %rax, 56(%rdi)
    pushfq
    pop %rax
    mov %rax, 64(%rdi)
    /* A frame of our own keeps the chain walkable and the stack 16-byte aligned. */
    push %rbp
    mov %rsp, %rbp
    mov %rdx, %rdi
    call *%rsi
    pop %rbp
    xor %eax, %eax
    ret
    .size arch_guarded_call, . - arch_guarded_call
    .section .note.GNU-stack, "", @progbits
