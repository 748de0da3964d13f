// Resuming a contained fault at its guarded call (arch/recovery.h, guarded_call.S).
#include <arch/recovery.h>

#include "arch/x86_64/cpu/traps.h"

namespace umka::arch {

void resume_from_fault(TrapFrame& frame, const RecoveryContext& context) {
    frame.rbx = context.preserved[0];
    frame.rbp = context.preserved[1];
    frame.r12 = context.preserved[2];
    frame.r13 = context.preserved[3];
    frame.r14 = context.preserved[4];
    frame.r15 = context.preserved[5];
    frame.rip = context.return_address;
    frame.rsp = context.stack;
    frame.rflags = context.flags;
    frame.rax = 1;
    frame.cs = kKernelCodeSelector;
    frame.ss = kKernelDataSelector;
}

bool walk_frames_to(uint64_t frame_pointer, uint64_t stack_low, uint64_t boundary,
                    bool (*visit)(void*, uint64_t), void* context) {
    // A stack overflow's recursion fills the stack: 16 KiB holds no more than 1024 frames.
    constexpr int kMaximumFrames = 1024;
    uint64_t frame = frame_pointer;
    for (int count = 0; count < kMaximumFrames; ++count) {
        if (frame >= boundary) return true;
        // The saved frame pointer and return address must both lie in the abandoned part.
        if (frame < stack_low || (frame & 7) != 0 || frame + 16 > boundary) return false;
        const uint64_t* words = reinterpret_cast<const uint64_t*>(frame);
        if (!visit(context, words[1])) return false;
        if (words[0] <= frame) return false;  // the chain must move up the stack
        frame = words[0];
    }
    return false;
}

}  // namespace umka::arch
