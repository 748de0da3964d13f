// Kernel thread contexts: what the nucleus's scheduler needs from the architecture.
#pragma once

#include <stdint.h>

namespace umka::arch {

// Saves the current context (its stack pointer into *save_stack_pointer) and resumes the
// one whose stack pointer is `next_stack_pointer`. Interrupts must be off, and they stay
// off in the resumed context: the flags are not switched (each side restores its own
// interrupt state when it leaves the scheduler).
extern "C" void arch_switch_stacks(uint64_t* save_stack_pointer, uint64_t next_stack_pointer);

// Lays out a new thread's first frame on the stack ending at `stack_top`: the thread
// starts in `start(argument)` with interrupts off. Returns its initial stack pointer.
uint64_t prepare_thread_stack(uint64_t stack_top, void (*start)(uint64_t argument), uint64_t argument);

// The top of the boot CPU's boot stack if `stack_pointer` lies on it, else 0: the console
// task runs there, and a scan of its stack (live evolution) needs both ends.
uint64_t boot_stack_top_containing(uint64_t stack_pointer);

// Every code address a context may return to or resume at, for deciding whether it can
// still run some code (live evolution): the frame-pointer chain's return addresses from
// `frame_pointer` up, and at each interrupt frame on the way the interrupted instruction,
// its general registers and the words a function entry or exit keeps its return address in. `visit` returns
// true to stop early. Broken when the chain leaves [stack_low, stack_top) before its end,
// so the caller cannot trust the walk.
enum class StackWalk : unsigned char { Complete, Stopped, Broken };
StackWalk walk_code_addresses(uint64_t frame_pointer, uint64_t stack_low, uint64_t stack_top,
                              bool (*visit)(void* context, uint64_t address), void* context);
// A context saved by arch_switch_stacks: its frame pointer, and where it resumes.
uint64_t saved_frame_pointer(uint64_t saved_stack_pointer);
uint64_t saved_resume_address(uint64_t saved_stack_pointer);

// Wakes `hardware_id`'s CPU if it is halted, so it re-runs its scheduler.
void send_reschedule_interrupt(uint32_t hardware_id);

}  // namespace umka::arch
