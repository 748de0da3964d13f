// Kernel thread contexts: what the nucleus's scheduler needs from the architecture.
#pragma once

#include <stdint.h>

namespace umka::arch {

// Saves the current context (its stack pointer into *save_stack_pointer) and resumes the
// one whose stack pointer is `next_stack_pointer`. Interrupts must be off; the flags of
// each side are saved and restored with it.
extern "C" void arch_switch_stacks(uint64_t* save_stack_pointer, uint64_t next_stack_pointer);

// Lays out a new thread's first frame on the stack ending at `stack_top`: the thread
// starts in `start(argument)` with interrupts off. Returns its initial stack pointer.
uint64_t prepare_thread_stack(uint64_t stack_top, void (*start)(uint64_t argument), uint64_t argument);

// Wakes `hardware_id`'s CPU if it is halted, so it re-runs its scheduler.
void send_reschedule_interrupt(uint32_t hardware_id);

}  // namespace umka::arch
