/* Kernel thread context switch. Only callee-saved registers are saved: the switch is a
 * function call for the compiler, so everything else is already dead or saved by the
 * caller. RFLAGS is not saved either: every switch runs with interrupts off and the
 * direction flag clear (the System V ABI at a call), and the nucleus sets no other flag
 * that must outlive a call, so both sides' flags already agree; a popfq would also cost
 * a serialising flags write per switch. An interrupted thread is switched from inside its
 * interrupt handler; its full trap frame stays on its own stack below this one.
 *
 * void arch_switch_stacks(uint64_t* save_stack_pointer, uint64_t next_stack_pointer) */
    .section .text
    .code64
    .global arch_switch_stacks
arch_switch_stacks:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

/* First instructions of a new thread: arch_prepare_stack leaves the entry's argument in
 * r12 and the nucleus's thread-start function in r13, with interrupts off. */
    .global arch_thread_start
arch_thread_start:
    mov %r12, %rdi
    xor %ebp, %ebp              /* ends the frame-pointer chain for backtraces */
    call *%r13
1:  cli
    hlt
    jmp 1b
