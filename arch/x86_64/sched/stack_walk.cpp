// Frame-pointer walks over kernel stacks (nucleus and modules are built with
// -fno-omit-frame-pointer). A frame is [saved rbp][return address]; the chain ends at a
// zero rbp (arch_thread_start and the boot entry clear it).
#include <arch/context.h>

#include "arch/x86_64/cpu/traps.h"

extern "C" char arch_trap_return[];

namespace umka::arch {
namespace {

// arch_switch_stacks pushes rbp, rbx and r12-r15 below its return address.
constexpr uint64_t kSavedRbpSlot = 5;
constexpr uint64_t kSavedReturnSlot = 6;
constexpr int kMaximumFrames = 4096;

uint64_t word_at(uint64_t address) {
    return *reinterpret_cast<const volatile uint64_t*>(address);
}

bool inside(uint64_t address, uint64_t low, uint64_t top) {
    return address >= low && address + 8 <= top;
}

}  // namespace

uint64_t saved_frame_pointer(uint64_t saved_stack_pointer) {
    return word_at(saved_stack_pointer + kSavedRbpSlot * 8);
}

uint64_t saved_resume_address(uint64_t saved_stack_pointer) {
    return word_at(saved_stack_pointer + kSavedReturnSlot * 8);
}

StackWalk walk_code_addresses(uint64_t frame_pointer, uint64_t stack_low, uint64_t stack_top,
                              bool (*visit)(void*, uint64_t), void* context) {
    uint64_t frame = frame_pointer;
    for (int count = 0; count < kMaximumFrames; ++count) {
        if (frame == 0) return StackWalk::Complete;
        if (!inside(frame, stack_low, stack_top) || !inside(frame + 8, stack_low, stack_top)) {
            return StackWalk::Broken;
        }
        uint64_t return_address = word_at(frame + 8);
        if (visit(context, return_address)) return StackWalk::Stopped;
        if (return_address == reinterpret_cast<uint64_t>(arch_trap_return)) {
            // arch_trap_dispatch's frame sits right below the trap frame.
            uint64_t trap = frame + 16;
            if (!inside(trap, stack_low, stack_top) ||
                !inside(trap + sizeof(TrapFrame) - 8, stack_low, stack_top)) {
                return StackWalk::Broken;
            }
            const auto& interrupted = *reinterpret_cast<const TrapFrame*>(trap);
            if (visit(context, interrupted.rip)) return StackWalk::Stopped;
            // A context preempted between loading a service record and calling through it
            // holds the vtable or the target only in a register.
            const uint64_t registers[] = {
                interrupted.rax, interrupted.rbx, interrupted.rcx, interrupted.rdx, interrupted.rsi,
                interrupted.rdi, interrupted.r8,  interrupted.r9,  interrupted.r10, interrupted.r11,
                interrupted.r12, interrupted.r13, interrupted.r14, interrupted.r15};
            for (uint64_t value : registers) {
                if (visit(context, value)) return StackWalk::Stopped;
            }
            // Interrupted in a prologue or epilogue, the return address is at rsp or rsp+8
            // rather than in the chain.
            for (uint64_t slot = 0; slot < 2; ++slot) {
                uint64_t address = interrupted.rsp + slot * 8;
                if (inside(address, stack_low, stack_top) && visit(context, word_at(address))) {
                    return StackWalk::Stopped;
                }
            }
        }
        uint64_t next = word_at(frame);
        if (next != 0 && next <= frame) return StackWalk::Broken;
        frame = next;
    }
    return StackWalk::Broken;
}

}  // namespace umka::arch
